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
pub mod gru4rec;
pub mod online;
pub mod quantized;
pub mod saved;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Sequences;

pub use baselines::{ItemKnn, LastItemModel, MarkovChain, MostPopular, SessionKnn};
pub use gru4rec::{Gru4Rec, Gru4RecModel, Gru4RecParams, NextItemLoss};
pub use online::{OnlineCounts, OnlineKind};
pub use quantized::{CompressOptions, QuantizedGru4Rec};
pub use saved::{ItemVocab, NextItemFile, SavedNextItem};

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

    /// The scores of every item as the next click after `clicks` (item ids `< n_items`, at least one
    /// click), written into `scores` (resized to `n_items`). What serving calls for one session.
    ///
    /// The default runs the batch path, [`NextItemModel::score_prefixes`], on the one session with a
    /// placeholder click appended, so it gives exactly the scores `evaluate` ranks for that prefix;
    /// a model may override it with a cheaper path that computes the same scores.
    fn score_session(&self, clicks: &[u32], scores: &mut Vec<f32>) {
        scores.clear();
        if clicks.is_empty() {
            scores.resize(self.n_items(), 0.0);
            return;
        }
        let mut tokens = clicks.to_vec();
        tokens.push(clicks[clicks.len() - 1]);
        let seqs = Sequences {
            offsets: vec![0, tokens.len()],
            tokens,
            vocab: self.n_items(),
        };
        let last = clicks.len() - 1;
        self.score_prefixes(&seqs, &[0], &mut |_, t, s| {
            if t == last {
                scores.extend_from_slice(s);
            }
        });
    }
}

/// The `k` best items of `scores` as `(item, score)`, best first, skipping the items of `exclude`
/// (sorted ascending) and NaN scores; ties go to the lower item id, so the order is deterministic.
/// Cost: one pass with a bounded heap, `O(n log k)`.
pub fn top_k(scores: &[f32], k: usize, exclude: &[u32]) -> Vec<(u32, f32)> {
    use std::cmp::Ordering;
    use std::collections::BinaryHeap;
    /// Heap entry ordered so that the heap's top is the worst kept item.
    #[derive(PartialEq)]
    struct Entry(f32, u32);
    impl Eq for Entry {}
    impl Ord for Entry {
        fn cmp(&self, o: &Self) -> Ordering {
            // Better = higher score, then lower id; the max-heap keeps the worst on top.
            o.0.total_cmp(&self.0).then(self.1.cmp(&o.1))
        }
    }
    impl PartialOrd for Entry {
        fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
            Some(self.cmp(o))
        }
    }
    if k == 0 {
        return Vec::new();
    }
    let mut heap: BinaryHeap<Entry> = BinaryHeap::with_capacity(k + 1);
    for (i, &s) in scores.iter().enumerate() {
        if s.is_nan() || exclude.binary_search(&(i as u32)).is_ok() {
            continue;
        }
        let e = Entry(s, i as u32);
        if heap.len() < k {
            heap.push(e);
        } else if let Some(worst) = heap.peek() {
            if e < *worst {
                heap.pop();
                heap.push(e);
            }
        }
    }
    let mut v: Vec<(u32, f32)> = heap.into_iter().map(|e| (e.1, e.0)).collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v
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

/// Sums per chunk: hits and reciprocal ranks per cut-off, predictions.
struct Acc {
    hits: Vec<u64>,
    rr: Vec<f64>,
    n: u64,
}

/// Evaluates `model` on `test` (already restricted to training items, sessions of ≥ 2 clicks) at the
/// cut-offs `ks`.
pub fn evaluate(model: &dyn NextItemModel, test: &Sequences, ks: &[usize]) -> NextItemMetrics {
    let mut ks = ks.to_vec();
    ks.sort_unstable();
    ks.dedup();
    let rows: Vec<usize> = (0..test.len())
        .filter(|&r| test.row(r).len() >= 2)
        .collect();
    let chunks: Vec<&[usize]> = rows.chunks(256).collect();
    let accs: Vec<Acc> = chunks
        .par_iter()
        .map(|chunk| {
            let mut acc = Acc {
                hits: vec![0; ks.len()],
                rr: vec![0.0; ks.len()],
                n: 0,
            };
            model.score_prefixes(test, chunk, &mut |r, t, scores| {
                let target = test.row(r)[t + 1] as usize;
                let rank = rank_of(scores, target);
                acc.n += 1;
                for (i, &k) in ks.iter().enumerate() {
                    if rank <= k {
                        acc.hits[i] += 1;
                        acc.rr[i] += 1.0 / rank as f64;
                    }
                }
            });
            acc
        })
        .collect();
    let mut total = Acc {
        hits: vec![0; ks.len()],
        rr: vec![0.0; ks.len()],
        n: 0,
    };
    for a in &accs {
        total.n += a.n;
        for i in 0..ks.len() {
            total.hits[i] += a.hits[i];
            total.rr[i] += a.rr[i];
        }
    }
    let n = total.n.max(1) as f64;
    NextItemMetrics {
        recall: total.hits.iter().map(|&h| h as f64 / n).collect(),
        mrr: total.rr.iter().map(|&r| r / n).collect(),
        ks,
        predictions: total.n,
        sessions: rows.len(),
    }
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
    fn top_k_orders_by_score_then_id_and_excludes() {
        let s = [0.5, 0.9, 0.5, f32::NAN, 0.7, 0.9];
        assert_eq!(top_k(&s, 3, &[]), vec![(1, 0.9), (5, 0.9), (4, 0.7)]);
        assert_eq!(top_k(&s, 3, &[1, 4]), vec![(5, 0.9), (0, 0.5), (2, 0.5)]);
        assert_eq!(top_k(&s, 10, &[]).len(), 5);
        assert!(top_k(&s, 0, &[]).is_empty());
        // Same as a full sort on random scores.
        let r: Vec<f32> = (0..500u32).map(|i| ((i * 7919) % 101) as f32).collect();
        let mut all: Vec<(u32, f32)> = r.iter().enumerate().map(|(i, &v)| (i as u32, v)).collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(37);
        assert_eq!(top_k(&r, 37, &[]), all);
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
