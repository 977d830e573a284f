//! The percentile bootstrap behind every interval cartseq reports: the next-item intervals and paired
//! differences ([`crate::nextitem::bootstrap`]) and the paired differences of the pattern-feature
//! ablation (`cartseq leaderboard --ablate-patterns`, the report).
//!
//! A replicate draws `n` unit indices with replacement from a ChaCha8 generator seeded with the given
//! seed and recomputes the statistic on them; a paired statistic reads both models on the same draw.
//! The 95 % interval is the 2.5th and 97.5th percentile of the replicates, interpolated linearly
//! between the closest ranks as numpy's `percentile` does by default (Efron & Tibshirani 1993,
//! ch. 13), so an interval here and one computed by numpy from the same replicates agree.
//!
//! Cost: `replicates × n` draws plus the statistic's own cost; one index buffer of `n`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The statistic of every bootstrap replicate on which it is defined, ascending.
#[derive(Clone, Debug, PartialEq)]
pub struct Replicates {
    /// The defined values, sorted ascending.
    pub values: Vec<f64>,
    /// Replicates on which the statistic was undefined (e.g. a ROC-AUC of a one-class resample).
    pub skipped: usize,
}

impl Replicates {
    /// Draws `replicates` resamples of `0..n` with replacement (seeded) and keeps `stat` of each
    /// (`None`: undefined on that resample, counted in [`Self::skipped`]).
    pub fn draw(
        n: usize,
        replicates: usize,
        seed: u64,
        mut stat: impl FnMut(&[usize]) -> Option<f64>,
    ) -> Replicates {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut draw = vec![0usize; n];
        let (mut values, mut skipped) = (Vec::with_capacity(replicates), 0);
        for _ in 0..replicates {
            for d in draw.iter_mut() {
                *d = rng.gen_range(0..n);
            }
            match stat(&draw) {
                Some(v) => values.push(v),
                None => skipped += 1,
            }
        }
        values.sort_unstable_by(f64::total_cmp);
        Replicates { values, skipped }
    }

    /// The 95 % percentile interval `(2.5th, 97.5th percentile)`; NaN ends without replicates.
    pub fn interval95(&self) -> (f64, f64) {
        (quantile(&self.values, 0.025), quantile(&self.values, 0.975))
    }
}

/// The `q` quantile of ascending `sorted` values, interpolated linearly between the closest ranks
/// (numpy's default); NaN when there are none.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (h - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_as_numpy() {
        // numpy.percentile([1, 2, 3, 4], [2.5, 50, 97.5]) == [1.075, 2.5, 3.925]
        let v = [1.0, 2.0, 3.0, 4.0];
        for (q, want) in [
            (0.025, 1.075),
            (0.5, 2.5),
            (0.975, 3.925),
            (0.0, 1.0),
            (1.0, 4.0),
        ] {
            assert!((quantile(&v, q) - want).abs() < 1e-12, "q = {q}");
        }
        assert!(quantile(&[], 0.5).is_nan());
        assert_eq!(quantile(&[7.0], 0.975), 7.0);
    }

    #[test]
    fn draws_are_seeded_and_skips_are_counted() {
        let mean = |d: &[usize]| Some(d.iter().sum::<usize>() as f64 / d.len() as f64);
        let a = Replicates::draw(50, 200, 9, mean);
        assert_eq!(a, Replicates::draw(50, 200, 9, mean));
        assert_ne!(a, Replicates::draw(50, 200, 10, mean));
        assert!(a.values.windows(2).all(|w| w[0] <= w[1]));
        let (lo, hi) = a.interval95();
        assert!(
            lo < 24.5 && 24.5 < hi,
            "[{lo}, {hi}] should hold the mean index 24.5"
        );
        let odd = Replicates::draw(5, 100, 1, |d| (d[0] % 2 == 0).then_some(1.0));
        assert_eq!(odd.values.len() + odd.skipped, 100);
        assert!(odd.skipped > 0 && !odd.values.is_empty());
        let none = Replicates::draw(3, 0, 1, mean);
        assert!(none.interval95().0.is_nan() && none.skipped == 0);
    }
}
