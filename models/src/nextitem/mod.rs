//! # Next-item (session-based) recommendation: baselines, a GRU4Rec-style network, evaluation
//!
//! Given the items a session has clicked so far, rank all items for the next click. Sessions are
//! [`Sequences`] of dense item ids `0..n_items` (the training items); a test session is first cut to
//! its items seen in training, and sessions left with fewer than two clicks are dropped.
//!
//! * [`baselines`]: most-popular, first-order Markov chain, item-kNN (cosine on session
//!   co-occurrence) and session-kNN (Ludewig & Jannach 2018, "Evaluation of session-based
//!   recommendation algorithms").
//! * [`gru4rec`]: embedding → GRU/LSTM/RNN stack → scores over all items, trained with
//!   session-parallel minibatches and full or sampled softmax (Hidasi et al. 2016, 2018).
//! * [`evaluate`]: the usual protocol — predict every next click of every test session from its
//!   prefix, Recall@k (hit rate) and MRR@k. Ties are counted against the model: the target's rank is
//!   1 + the number of *other* items scoring at least as high, so a model cannot gain from ties.
//!
//! Evaluation cost: one score vector over all items per prediction, `O(predictions × n_items)` time,
//! parallel over chunks of sessions (results are summed in chunk order, so they do not depend on the
//! thread count).

pub mod baselines;
pub mod bootstrap;
pub mod gru4rec;
pub mod hybrid;
mod neighbours;
pub mod sr;
pub mod stan;
pub mod vsknn;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Sequences;

pub use baselines::{ItemKnn, LastItemModel, MarkovChain, MostPopular, SessionKnn};
pub use bootstrap::{paired_difference, Interval, Metric, SessionOutcomes};
pub use gru4rec::{Gru4Rec, Gru4RecModel, Gru4RecParams, NextItemLoss};
pub use hybrid::{fit_stacker, tune_weights, Combiner, Hybrid, HybridFit, STACK_DEPTH};
pub use sr::SequentialRules;
pub use stan::{Stan, StanParams};
pub use vsknn::{Decay, VSessionKnn, VsknnParams};

/// Receives `(session row, position, scores of every item)` for each scored prefix.
pub type ScoreSink<'a> = &'a mut dyn FnMut(usize, usize, &[f32]);

/// A model that scores every item as the next click after each prefix of a session.
pub trait NextItemModel: Sync {
    /// Short name for tables (`pop`, `markov`, `iknn`, `sknn`, `gru`, …).
    fn name(&self) -> String;

    /// Number of items scored (ids `0..n_items`).
    fn n_items(&self) -> usize;

    /// For every session `r` in `rows` of `sessions` and every position `t` but the last, calls
    /// `sink(r, t, scores)` with the scores of all items after seeing clicks `0..=t`. Higher is better.
    fn score_prefixes(&self, sessions: &Sequences, rows: &[usize], sink: ScoreSink<'_>);

    /// [`NextItemModel::score_prefixes`] of `q.rows` with the time of every click (`q.times`), for
    /// models that weigh neighbours by recency (STAN, VSTAN). The default ignores the times.
    fn score_timed(&self, q: &Prefixes<'_>, sink: ScoreSink<'_>) {
        self.score_prefixes(q.sessions, q.rows, sink);
    }
}

/// The prefixes to score: every prefix of the sessions `rows` of `sessions`, with the time of every
/// click in seconds (aligned with `sessions.tokens`) when the log has times.
#[derive(Clone, Copy, Debug)]
pub struct Prefixes<'a> {
    /// The sessions.
    pub sessions: &'a Sequences,
    /// Click times in seconds, aligned with `sessions.tokens`.
    pub times: Option<&'a [f64]>,
    /// The rows to score.
    pub rows: &'a [usize],
}

impl<'a> Prefixes<'a> {
    /// The prefixes of `rows` without click times.
    pub fn untimed(sessions: &'a Sequences, rows: &'a [usize]) -> Self {
        Prefixes {
            sessions,
            times: None,
            rows,
        }
    }
}

/// Maps the session rows a sink receives to their slot in `rows` (a lookup that remembers the last
/// row, since models report the prefixes of one session together).
pub(crate) struct SlotOf<'a> {
    rows: &'a [usize],
    last: usize,
    slot: usize,
}

impl<'a> SlotOf<'a> {
    pub(crate) fn new(rows: &'a [usize]) -> Self {
        SlotOf {
            rows,
            last: usize::MAX,
            slot: 0,
        }
    }

    /// The position of row `r` in `rows`.
    pub(crate) fn of(&mut self, r: usize) -> usize {
        if r != self.last {
            self.slot = self.rows.iter().position(|&x| x == r).unwrap_or(self.slot);
            self.last = r;
        }
        self.slot
    }
}

/// A borrowed model is a model (hybrids of models owned elsewhere).
impl<T: NextItemModel + ?Sized> NextItemModel for &T {
    fn name(&self) -> String {
        (**self).name()
    }
    fn n_items(&self) -> usize {
        (**self).n_items()
    }
    fn score_prefixes(&self, sessions: &Sequences, rows: &[usize], sink: ScoreSink<'_>) {
        (**self).score_prefixes(sessions, rows, sink);
    }
    fn score_timed(&self, q: &Prefixes<'_>, sink: ScoreSink<'_>) {
        (**self).score_timed(q, sink);
    }
}

/// Recall@k and MRR@k over all predictions.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct NextItemMetrics {
    /// Cut-offs, ascending.
    pub ks: Vec<usize>,
    /// Recall (hit rate) at each cut-off.
    pub recall: Vec<f64>,
    /// Mean reciprocal rank at each cut-off (0 beyond the cut-off).
    pub mrr: Vec<f64>,
    /// Number of predictions (next clicks evaluated).
    pub predictions: u64,
    /// Number of test sessions evaluated.
    pub sessions: usize,
}

impl NextItemMetrics {
    /// Recall at cut-off `k`, when `k` was evaluated.
    pub fn recall_at(&self, k: usize) -> Option<f64> {
        self.ks.iter().position(|&x| x == k).map(|i| self.recall[i])
    }

    /// MRR at cut-off `k`, when `k` was evaluated.
    pub fn mrr_at(&self, k: usize) -> Option<f64> {
        self.ks.iter().position(|&x| x == k).map(|i| self.mrr[i])
    }
}

/// 1-based rank of `target`, counting every other item with a score at least as high (pessimistic
/// ties). A NaN score counts as the lowest.
#[inline]
pub fn rank_of(scores: &[f32], target: usize) -> usize {
    let s = scores[target];
    if s.is_nan() {
        return scores.len();
    }
    let mut above = 0;
    for (j, &v) in scores.iter().enumerate() {
        if v >= s && j != target {
            above += 1;
        }
    }
    above + 1
}

/// Evaluates `model` on `test` (already restricted to training items, sessions of ≥ 2 clicks) at the
/// cut-offs `ks`.
pub fn evaluate(model: &dyn NextItemModel, test: &Sequences, ks: &[usize]) -> NextItemMetrics {
    evaluate_sessions(model, test, None, ks).0
}

/// [`evaluate`] with click times (seconds, aligned with `test.tokens`) for time-aware models, also
/// returning every evaluated session's hits and reciprocal ranks (for bootstrap intervals and paired
/// comparisons over sessions).
pub fn evaluate_sessions(
    model: &dyn NextItemModel,
    test: &Sequences,
    times: Option<&[f64]>,
    ks: &[usize],
) -> (NextItemMetrics, SessionOutcomes) {
    let mut ks = ks.to_vec();
    ks.sort_unstable();
    ks.dedup();
    let rows: Vec<usize> = (0..test.len())
        .filter(|&r| test.row(r).len() >= 2)
        .collect();
    let chunks: Vec<&[usize]> = rows.chunks(256).collect();
    let parts: Vec<SessionOutcomes> = chunks
        .par_iter()
        .map(|chunk| {
            let mut out = SessionOutcomes::new(&ks, chunk.len());
            let mut slots = SlotOf::new(chunk);
            let q = Prefixes {
                sessions: test,
                times,
                rows: chunk,
            };
            model.score_timed(&q, &mut |r, t, scores| {
                let target = test.row(r)[t + 1] as usize;
                out.record(slots.of(r), rank_of(scores, target));
            });
            out
        })
        .collect();
    let outcomes = SessionOutcomes::concat(&ks, parts);
    (outcomes.metrics(), outcomes)
}

/// Builds [`Sequences`] from sessions of optional item ids, applying the test protocol: unknown items
/// (`None`) are removed and sessions left with fewer than `min_len` clicks are dropped. Returns the
/// sequences and, for each kept session, its index in the input.
pub fn protocol_sessions(
    sessions: &[Vec<Option<u32>>],
    n_items: usize,
    min_len: usize,
) -> (Sequences, Vec<usize>) {
    let mut seqs = Sequences {
        tokens: Vec::new(),
        offsets: vec![0],
        vocab: n_items,
    };
    let mut kept = Vec::new();
    for (i, s) in sessions.iter().enumerate() {
        let start = seqs.tokens.len();
        seqs.tokens.extend(
            s.iter()
                .flatten()
                .copied()
                .filter(|&x| (x as usize) < n_items),
        );
        if seqs.tokens.len() - start >= min_len {
            seqs.offsets.push(seqs.tokens.len());
            kept.push(i);
        } else {
            seqs.tokens.truncate(start);
        }
    }
    (seqs, kept)
}

/// Click count of every item in `train`.
pub fn item_counts(train: &Sequences) -> Vec<u64> {
    let mut c = vec![0u64; train.vocab];
    for &t in &train.tokens {
        c[t as usize] += 1;
    }
    c
}

/// Small fixtures of the unit tests of the next-item models.
#[cfg(test)]
pub(crate) mod testing {
    use super::{NextItemModel, Prefixes};
    use crate::Sequences;

    /// Sequences of the given rows over `vocab` items.
    pub(crate) fn seqs(rows: &[&[u32]], vocab: usize) -> Sequences {
        let mut s = Sequences {
            tokens: Vec::new(),
            offsets: vec![0],
            vocab,
        };
        for r in rows {
            s.tokens.extend_from_slice(r);
            s.offsets.push(s.tokens.len());
        }
        s
    }

    /// The scores `model` gives after the whole `prefix` (`times`: of the prefix clicks and one
    /// more).
    pub(crate) fn scores_after(
        model: &dyn NextItemModel,
        prefix: &[u32],
        times: Option<&[f64]>,
    ) -> Vec<f32> {
        let mut q = prefix.to_vec();
        q.push(0);
        let test = seqs(&[&q], model.n_items());
        let mut out = Vec::new();
        let p = Prefixes {
            sessions: &test,
            times,
            rows: &[0],
        };
        model.score_timed(&p, &mut |_, t, s| {
            if t + 1 == prefix.len() {
                out = s.to_vec();
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_are_pessimistic_on_ties() {
        assert_eq!(rank_of(&[0.5, 0.9, 0.1], 0), 2);
        assert_eq!(rank_of(&[0.5, 0.5, 0.5], 1), 3);
        assert_eq!(rank_of(&[1.0, 0.0], 0), 1);
        assert_eq!(rank_of(&[f32::NAN, 0.0], 0), 2);
    }

    #[test]
    fn protocol_drops_unknown_items_and_short_sessions() {
        let s = vec![
            vec![Some(0), None, Some(1)],
            vec![Some(2), None],
            vec![None, Some(3), Some(9)],
        ];
        let (q, kept) = protocol_sessions(&s, 5, 2);
        assert_eq!(kept, vec![0]);
        assert_eq!(q.row(0), &[0, 1]);
    }
}
