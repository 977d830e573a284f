//! Per-session outcomes of a next-item evaluation, bootstrap intervals of Recall@k and MRR@k, and the
//! paired bootstrap of the difference between two models.
//!
//! The unit of resampling is the test session, not the prediction: the clicks of one session are
//! not independent, so resampling predictions would give intervals that are too narrow. A replicate
//! draws `n` sessions with replacement and recomputes the metric as a ratio over the drawn sessions
//! (Σ hits / Σ predictions), exactly as the point estimate is computed. The paired version draws the
//! *same* sessions for both models in every replicate, so what varies between sessions (some are
//! easy for every model) cancels out of the difference (Efron & Tibshirani 1993, ch. 6; the paired
//! test of Smucker, Allan & Carterette, CIKM 2007). Intervals are the 2.5 % and 97.5 % percentiles of
//! the replicates (1000 by default), drawn from a ChaCha8 generator with the given seed, so they are
//! reproducible: [`crate::bootstrap`], the one percentile bootstrap of cartseq.
//!
//! Cost: `O(replicates × sessions × cut-offs)` time, no allocation per replicate beyond one index.

use serde::{Deserialize, Serialize};

use super::NextItemMetrics;
use crate::bootstrap::Replicates;

/// Hits and reciprocal ranks of every evaluated session, at every cut-off.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SessionOutcomes {
    /// Cut-offs, ascending.
    pub ks: Vec<usize>,
    /// Predictions per session.
    pub predictions: Vec<u32>,
    /// Hits per session and cut-off, `sessions × ks` row-major.
    pub hits: Vec<u32>,
    /// Sum of reciprocal ranks (0 beyond the cut-off) per session and cut-off, row-major.
    pub rr: Vec<f64>,
}

/// Which metric an interval is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Metric {
    /// Recall (hit rate) at the cut-off.
    Recall,
    /// Mean reciprocal rank at the cut-off.
    Mrr,
}

/// A point estimate with its 95 % bootstrap interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// The value on the evaluated sessions.
    pub estimate: f64,
    /// 2.5 % percentile of the replicates.
    pub lo: f64,
    /// 97.5 % percentile of the replicates.
    pub hi: f64,
}

impl Interval {
    /// Whether the interval excludes 0 (for a difference: significant at the 5 % level).
    pub fn excludes_zero(&self) -> bool {
        self.lo > 0.0 || self.hi < 0.0
    }
}

impl SessionOutcomes {
    /// Room for `sessions` sessions at the cut-offs `ks` (ascending).
    pub fn new(ks: &[usize], sessions: usize) -> Self {
        SessionOutcomes {
            ks: ks.to_vec(),
            predictions: vec![0; sessions],
            hits: vec![0; sessions * ks.len()],
            rr: vec![0.0; sessions * ks.len()],
        }
    }

    /// Number of sessions.
    pub fn len(&self) -> usize {
        self.predictions.len()
    }

    /// Whether there are no sessions.
    pub fn is_empty(&self) -> bool {
        self.predictions.is_empty()
    }

    /// Records one prediction of session `slot` whose target ranked `rank` (1-based).
    pub fn record(&mut self, slot: usize, rank: usize) {
        self.predictions[slot] += 1;
        let nk = self.ks.len();
        for (i, &k) in self.ks.iter().enumerate() {
            if rank <= k {
                self.hits[slot * nk + i] += 1;
                self.rr[slot * nk + i] += 1.0 / rank as f64;
            }
        }
    }

    /// The parts one after another (chunk order, so the result does not depend on threads).
    pub fn concat(ks: &[usize], parts: Vec<SessionOutcomes>) -> Self {
        let mut all = SessionOutcomes::new(ks, 0);
        for p in parts {
            all.predictions.extend(p.predictions);
            all.hits.extend(p.hits);
            all.rr.extend(p.rr);
        }
        all
    }

    /// Recall@k and MRR@k over all sessions (sums in session order).
    pub fn metrics(&self) -> NextItemMetrics {
        let nk = self.ks.len();
        let n: u64 = self.predictions.iter().map(|&p| u64::from(p)).sum();
        let mut hits = vec![0u64; nk];
        let mut rr = vec![0.0; nk];
        for s in 0..self.len() {
            for i in 0..nk {
                hits[i] += u64::from(self.hits[s * nk + i]);
                rr[i] += self.rr[s * nk + i];
            }
        }
        let d = n.max(1) as f64;
        NextItemMetrics {
            ks: self.ks.clone(),
            recall: hits.iter().map(|&h| h as f64 / d).collect(),
            mrr: rr.iter().map(|&r| r / d).collect(),
            predictions: n,
            sessions: self.len(),
        }
    }

    /// The metric's value on the sessions `draw` (with repeats), at cut-off index `ki`.
    fn value_on(&self, draw: &[usize], ki: usize, metric: Metric) -> f64 {
        let nk = self.ks.len();
        let (mut num, mut den) = (0.0, 0u64);
        for &s in draw {
            den += u64::from(self.predictions[s]);
            num += match metric {
                Metric::Recall => f64::from(self.hits[s * nk + ki]),
                Metric::Mrr => self.rr[s * nk + ki],
            };
        }
        num / den.max(1) as f64
    }

    fn k_index(&self, k: usize) -> Option<usize> {
        self.ks.iter().position(|&x| x == k)
    }

    /// The metric at cut-off `k` with its 95 % bootstrap interval over sessions (`None` when `k` was
    /// not evaluated).
    pub fn interval(
        &self,
        k: usize,
        metric: Metric,
        replicates: usize,
        seed: u64,
    ) -> Option<Interval> {
        let ki = self.k_index(k)?;
        let all: Vec<usize> = (0..self.len()).collect();
        let estimate = self.value_on(&all, ki, metric);
        Some(interval_of(
            estimate,
            self.len(),
            replicates,
            seed,
            |draw| self.value_on(draw, ki, metric),
        ))
    }
}

/// The metric on every session with the 95 % interval of `stat` over `replicates` session draws.
fn interval_of(
    estimate: f64,
    n: usize,
    replicates: usize,
    seed: u64,
    mut stat: impl FnMut(&[usize]) -> f64,
) -> Interval {
    let (lo, hi) = Replicates::draw(n, replicates, seed, |d| Some(stat(d))).interval95();
    Interval { estimate, lo, hi }
}

/// The paired bootstrap interval of `metric@k(a) − metric@k(b)` over the same test sessions (`None`
/// when the outcomes are not of the same sessions or `k` was not evaluated in both).
pub fn paired_difference(
    a: &SessionOutcomes,
    b: &SessionOutcomes,
    k: usize,
    metric: Metric,
    replicates: usize,
    seed: u64,
) -> Option<Interval> {
    if a.len() != b.len() || a.predictions != b.predictions {
        return None;
    }
    let (ka, kb) = (a.k_index(k)?, b.k_index(k)?);
    let all: Vec<usize> = (0..a.len()).collect();
    let estimate = a.value_on(&all, ka, metric) - b.value_on(&all, kb, metric);
    Some(interval_of(estimate, a.len(), replicates, seed, |d| {
        a.value_on(d, ka, metric) - b.value_on(d, kb, metric)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(ranks: &[&[usize]]) -> SessionOutcomes {
        let mut o = SessionOutcomes::new(&[1, 20], ranks.len());
        for (s, rs) in ranks.iter().enumerate() {
            for &r in *rs {
                o.record(s, r);
            }
        }
        o
    }

    #[test]
    fn metrics_are_ratios_over_predictions() {
        // Session 0: ranks 1 and 4; session 1: rank 30 (a miss at both cut-offs).
        let o = outcomes(&[&[1, 4], &[30]]);
        let m = o.metrics();
        assert_eq!(m.predictions, 3);
        assert_eq!(m.recall, vec![1.0 / 3.0, 2.0 / 3.0]);
        assert!((m.mrr[1] - (1.0 + 0.25) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn interval_brackets_the_estimate_and_is_reproducible() {
        let ranks: Vec<Vec<usize>> = (0..200)
            .map(|i| vec![1 + i % 37, 1 + (i * 7) % 29])
            .collect();
        let refs: Vec<&[usize]> = ranks.iter().map(|r| r.as_slice()).collect();
        let o = outcomes(&refs);
        let a = o.interval(20, Metric::Recall, 500, 7).expect("k");
        let b = o.interval(20, Metric::Recall, 500, 7).expect("k");
        assert_eq!(a, b);
        assert!(
            a.lo <= a.estimate && a.estimate <= a.hi && a.lo < a.hi,
            "{a:?}"
        );
        assert!(o.interval(5, Metric::Recall, 10, 7).is_none());
    }

    #[test]
    fn paired_difference_of_a_model_with_itself_is_exactly_zero() {
        let o = outcomes(&[&[1, 4], &[30], &[2, 2, 50]]);
        let d = paired_difference(&o, &o, 20, Metric::Mrr, 300, 1).expect("same sessions");
        assert_eq!((d.estimate, d.lo, d.hi), (0.0, 0.0, 0.0));
        assert!(!d.excludes_zero());
    }

    #[test]
    fn paired_difference_detects_a_uniform_improvement() {
        // b always ranks the target 2nd, a always 1st: MRR@20 differs by 0.5 in every replicate.
        let a = outcomes(&[&[1, 1], &[1], &[1, 1, 1]]);
        let b = outcomes(&[&[2, 2], &[2], &[2, 2, 2]]);
        let d = paired_difference(&a, &b, 20, Metric::Mrr, 200, 3).expect("same");
        assert!((d.lo - 0.5).abs() < 1e-12 && (d.hi - 0.5).abs() < 1e-12);
        assert!(d.excludes_zero());
        let other = outcomes(&[&[1], &[1]]);
        assert!(paired_difference(&a, &other, 20, Metric::Mrr, 10, 3).is_none());
    }
}
