//! Discrimination measures for choosing which mined patterns become features, and top-k selection.
//!
//! Every measure scores one binary feature `X` ("the pattern occurs in the sequence") against the class
//! `Y` from the contingency table `n[x][c]` (sequences of class `c` with / without the pattern). Only the
//! **training** sequences may be counted — the caller passes their supports; the selection never looks at
//! validation or test rows.
//!
//! * **Information gain** `IG = H(Y) − P(X=1)·H(Y|X=1) − P(X=0)·H(Y|X=0)` in bits (Cheng et al.,
//!   "Discriminative frequent pattern analysis for effective classification", ICDE 2007). Symmetric in
//!   presence/absence; 0 for a pattern independent of the class.
//! * **Chi-square** — Pearson's statistic `Σ (observed − expected)² / expected` over the 2 × C table with
//!   expected counts from the margins (cells with expected 0 contribute 0). Grows with the sample size,
//!   so it prefers well-supported patterns among equally skewed ones.
//! * **Support difference** — `max_c |supp(P | Y = c) − supp(P | Y ≠ c)|` with relative supports (for two
//!   classes simply `|supp₁ − supp₀|`), the "emerging pattern" growth measured as a difference (Dong & Li,
//!   KDD 1999); cheap and easy to read, blind to class imbalance.
//!
//! Cost: `O(C)` per pattern; selection sorts the candidates, `O(K log K)`.

use std::cmp::Ordering;

/// The discrimination measure used to rank candidate patterns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Measure {
    /// Information gain (bits).
    #[default]
    InfoGain,
    /// Pearson chi-square statistic.
    ChiSquare,
    /// Largest one-vs-rest relative support difference.
    SupportDiff,
}

cartseq_data::named_enum!(Measure, "a discrimination measure", [
    "infogain" | "ig" => Measure::InfoGain,
    "chi2" | "chisquare" => Measure::ChiSquare,
    "supdiff" | "support-diff" => Measure::SupportDiff,
]);

impl Measure {
    /// Scores a pattern present in `with[c]` sequences of class `c`, among `class_sizes[c]` sequences.
    pub fn score(self, with: &[u64], class_sizes: &[u64]) -> f64 {
        match self {
            Measure::InfoGain => info_gain(with, class_sizes),
            Measure::ChiSquare => chi_square(with, class_sizes),
            Measure::SupportDiff => support_difference(with, class_sizes),
        }
    }
}

fn entropy(counts: impl Iterator<Item = f64> + Clone) -> f64 {
    let total: f64 = counts.clone().sum();
    if total <= 0.0 {
        return 0.0;
    }
    counts
        .filter(|&c| c > 0.0)
        .map(|c| {
            let p = c / total;
            -p * p.log2()
        })
        .sum()
}

/// Information gain (bits) of the binary feature "pattern occurs" about the class.
pub fn info_gain(with: &[u64], class_sizes: &[u64]) -> f64 {
    let n: f64 = class_sizes.iter().map(|&c| c as f64).sum();
    if n <= 0.0 {
        return 0.0;
    }
    let n1: f64 = with.iter().map(|&c| c as f64).sum();
    let n0 = n - n1;
    let h = entropy(class_sizes.iter().map(|&c| c as f64));
    let h1 = entropy(with.iter().map(|&c| c as f64));
    let h0 = entropy(
        class_sizes
            .iter()
            .zip(with)
            .map(|(&t, &w)| t.saturating_sub(w) as f64),
    );
    (h - n1 / n * h1 - n0 / n * h0).max(0.0)
}

/// Pearson chi-square statistic of the 2 × C table (occurs / not) × class.
pub fn chi_square(with: &[u64], class_sizes: &[u64]) -> f64 {
    let n: f64 = class_sizes.iter().map(|&c| c as f64).sum();
    if n <= 0.0 {
        return 0.0;
    }
    let n1: f64 = with.iter().map(|&c| c as f64).sum();
    let rows = [n1, n - n1];
    let mut chi = 0.0;
    for (c, &size) in class_sizes.iter().enumerate() {
        let w = with[c] as f64;
        let obs = [w, size as f64 - w];
        for r in 0..2 {
            let exp = rows[r] * size as f64 / n;
            if exp > 0.0 {
                chi += (obs[r] - exp).powi(2) / exp;
            }
        }
    }
    chi
}

/// Largest one-vs-rest difference of relative supports.
pub fn support_difference(with: &[u64], class_sizes: &[u64]) -> f64 {
    let tw: u64 = with.iter().sum();
    let tn: u64 = class_sizes.iter().sum();
    let mut best = 0.0f64;
    for (c, &size) in class_sizes.iter().enumerate() {
        let rest = tn - size;
        let a = if size > 0 {
            with[c] as f64 / size as f64
        } else {
            0.0
        };
        let b = if rest > 0 {
            (tw - with[c]) as f64 / rest as f64
        } else {
            0.0
        };
        best = best.max((a - b).abs());
    }
    best
}

/// Indices of the `k` best candidates by `scores` (descending), ties broken by the candidate index so
/// the choice is deterministic. `NaN` scores rank last.
pub fn top_k(scores: &[f64], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| {
        let (x, y) = (scores[a], scores[b]);
        match (x.is_nan(), y.is_nan()) {
            (true, true) => a.cmp(&b),
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ => y.partial_cmp(&x).unwrap_or(Ordering::Equal).then(a.cmp(&b)),
        }
    });
    idx.truncate(k);
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn independent_pattern_scores_zero() {
        // Present in half of each class.
        let (w, n) = ([10, 20], [20, 40]);
        assert!(info_gain(&w, &n).abs() < 1e-12);
        assert!(chi_square(&w, &n).abs() < 1e-12);
        assert!(support_difference(&w, &n).abs() < 1e-12);
    }

    #[test]
    fn perfect_pattern_scores_max() {
        // Present in every class-1 sequence and no class-0 one: IG = H(Y) = 1 bit, chi2 = n, supdiff = 1.
        let (w, n) = ([0, 50], [50, 50]);
        assert!((info_gain(&w, &n) - 1.0).abs() < 1e-12);
        assert!((chi_square(&w, &n) - 100.0).abs() < 1e-9);
        assert!((support_difference(&w, &n) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn chi_square_matches_hand_computation() {
        // Table: with = [10, 30], without = [40, 20]; n = 100, rows 40/60, cols 50/50.
        // expected with = 20, 20; without = 30, 30 → (100 + 100)/20 + (100 + 100)/30 = 16.666…
        let v = chi_square(&[10, 30], &[50, 50]);
        assert!((v - (10.0 + 20.0 / 3.0)).abs() < 1e-9, "{v}");
        let ig = info_gain(&[10, 30], &[50, 50]);
        // H(Y)=1; H(Y|X=1)=H(1/4,3/4)=0.811278; H(Y|X=0)=H(2/3,1/3)=0.918296
        let want = 1.0 - 0.4 * 0.811_278_124_459_132_8 - 0.6 * 0.918_295_834_054_489_6;
        assert!((ig - want).abs() < 1e-9, "{ig} {want}");
    }

    #[test]
    fn top_k_is_deterministic_with_ties() {
        assert_eq!(top_k(&[1.0, 3.0, f64::NAN, 3.0, 2.0], 3), vec![1, 3, 4]);
        assert_eq!(Measure::from_name("chi2"), Some(Measure::ChiSquare));
        assert_eq!(Measure::from_name("x"), None);
    }
}
