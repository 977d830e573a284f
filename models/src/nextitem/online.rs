//! Online updates of the count-based next-item models (`cartseq serve --learn-online`): popularity and
//! the first-order Markov chain keep their counts and add every click as it arrives, so the scores are
//! always those a batch fit on the training sessions plus the clicks seen since would give.
//!
//! State: one click count per item and, for the Markov chain, one count per distinct transition
//! `a → b` (a hash map per item), `O(items + distinct transitions)` memory; an update is `O(1)`, a
//! scoring `O(items)` (the popularity tie-breaker depends on the largest count, so it is recomputed).
//! The item vocabulary is the loaded model's: clicks on unknown items are not learnt (the server counts
//! them), as the batch protocol drops them.

use std::collections::HashMap;

use crate::nextitem::baselines::markov_base;
use crate::nextitem::{LastItemModel, NextItemModel, SavedNextItem, ScoreSink};
use crate::Sequences;

/// Which count model is learnt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnlineKind {
    /// Most popular items.
    Pop,
    /// First-order Markov chain.
    Markov,
}

/// Counts updated click by click (see the module docs).
#[derive(Clone, Debug)]
pub struct OnlineCounts {
    kind: OnlineKind,
    counts: Vec<u64>,
    next: Vec<HashMap<u32, u64>>,
    clicks: u64,
}

impl OnlineCounts {
    /// Starts from a saved `pop` or `markov` model; `None` for models that cannot learn online (or a
    /// file written without its counts).
    pub fn from_saved(m: &SavedNextItem) -> Option<Self> {
        let (kind, model) = match m {
            SavedNextItem::Pop(m) => (OnlineKind::Pop, m),
            SavedNextItem::Markov(m) => (OnlineKind::Markov, m),
            _ => return None,
        };
        Self::from_last_item(kind, model)
    }

    fn from_last_item(kind: OnlineKind, m: &LastItemModel) -> Option<Self> {
        let (counts, rows) = m.parts();
        if counts.len() != m.n_items() {
            return None;
        }
        let next = rows
            .map(|(items, w)| {
                items
                    .iter()
                    .zip(w)
                    .map(|(&j, &c)| (j, c as u64))
                    .collect::<HashMap<u32, u64>>()
            })
            .collect();
        Some(OnlineCounts {
            kind,
            counts: counts.to_vec(),
            next,
            clicks: 0,
        })
    }

    /// Learns a click on `item` whose previous click in the same session was `prev` (ids below
    /// the item count; others are ignored and `false` is returned).
    pub fn click(&mut self, prev: Option<u32>, item: u32) -> bool {
        let n = self.counts.len();
        if item as usize >= n {
            return false;
        }
        self.counts[item as usize] += 1;
        self.clicks += 1;
        if self.kind == OnlineKind::Markov {
            if let Some(p) = prev.filter(|&p| (p as usize) < n) {
                *self.next[p as usize].entry(item).or_default() += 1;
            }
        }
        true
    }

    /// Clicks learnt since the model was loaded.
    pub fn clicks_learnt(&self) -> u64 {
        self.clicks
    }

    /// Click count of every item (training plus learnt).
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The scores after a session whose last click is `last`.
    fn scores_after(&self, last: u32, scores: &mut Vec<f32>) {
        scores.clear();
        match self.kind {
            OnlineKind::Pop => scores.extend(self.counts.iter().map(|&c| c as f32)),
            OnlineKind::Markov => {
                scores.extend(markov_base(&self.counts));
                if let Some(row) = self.next.get(last as usize) {
                    for (&j, &c) in row {
                        scores[j as usize] += c as f32;
                    }
                }
            }
        }
    }
}

impl NextItemModel for OnlineCounts {
    fn name(&self) -> String {
        match self.kind {
            OnlineKind::Pop => "pop",
            OnlineKind::Markov => "markov",
        }
        .into()
    }

    fn n_items(&self) -> usize {
        self.counts.len()
    }

    fn score_prefixes(&self, sessions: &Sequences, rows: &[usize], sink: ScoreSink<'_>) {
        let mut scores = Vec::new();
        for &r in rows {
            let s = sessions.row(r);
            for (t, &last) in s.iter().enumerate().take(s.len().saturating_sub(1)) {
                self.scores_after(last, &mut scores);
                sink(r, t, &scores);
            }
        }
    }

    fn score_session(&self, clicks: &[u32], scores: &mut Vec<f32>) {
        match clicks.last() {
            Some(&last) => self.scores_after(last, scores),
            None => {
                scores.clear();
                scores.resize(self.counts.len(), 0.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nextitem::{MarkovChain, MostPopular};

    fn seqs(rows: &[&[u32]], vocab: usize) -> Sequences {
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

    /// Online counts after the sessions of `b` equal a batch fit on `a` then `b`, for every prefix.
    #[test]
    fn online_counts_equal_a_batch_fit_on_the_same_events() {
        let a: Vec<&[u32]> = vec![&[0, 1, 2], &[2, 3], &[1, 1, 4, 0]];
        let b: Vec<&[u32]> = vec![&[4, 3, 3], &[0, 2, 1, 2], &[5]];
        let all: Vec<&[u32]> = a.iter().chain(&b).copied().collect();
        for kind in [OnlineKind::Pop, OnlineKind::Markov] {
            let fit = |rows: &[&[u32]]| match kind {
                OnlineKind::Pop => SavedNextItem::Pop(MostPopular::fit(&seqs(rows, 6))),
                OnlineKind::Markov => SavedNextItem::Markov(MarkovChain::fit(&seqs(rows, 6))),
            };
            let mut online = OnlineCounts::from_saved(&fit(&a)).expect("count model");
            for s in &b {
                let mut prev = None;
                for &i in s.iter() {
                    assert!(online.click(prev, i));
                    prev = Some(i);
                }
            }
            assert!(!online.click(None, 99));
            assert_eq!(online.clicks_learnt(), 8);
            let batch = fit(&all);
            let (mut x, mut y) = (Vec::new(), Vec::new());
            for prefix in [&[0u32][..], &[1, 2], &[4], &[3], &[5], &[2, 1]] {
                online.score_session(prefix, &mut x);
                batch.as_model().score_session(prefix, &mut y);
                assert_eq!(x, y, "{kind:?} after {prefix:?}");
            }
        }
    }

    #[test]
    fn item_knn_does_not_learn_online() {
        let m = SavedNextItem::Iknn(crate::nextitem::ItemKnn::fit(
            &seqs(&[&[0, 1]], 2),
            10,
            20.0,
        ));
        assert!(OnlineCounts::from_saved(&m).is_none());
    }
}
