//! Online updates of next-item models (`cartseq serve --learn-online`): popularity and the
//! first-order Markov chain keep their counts and add every click as it arrives; session-kNN adds each
//! live session to its neighbour index (new sessions after the training ones, in order of their first
//! click), so the scores are always those a batch fit on the training sessions plus the clicks seen
//! since would give. [`OnlineModel`] is the one type a server holds.
//!
//! SKNN memory is bounded: at most `max_sessions` live sessions are learnt (later new sessions are
//! not, and say so by `click` returning `false`), each costing its distinct items twice (both index
//! directions) plus its key.
//!
//! State: one click count per item and, for the Markov chain, one count per distinct transition
//! `a → b` (a hash map per item), `O(items + distinct transitions)` memory; an update is `O(1)`, a
//! scoring `O(items)` (the popularity tie-breaker depends on the largest count, so it is recomputed).
//! The item vocabulary is the loaded model's: clicks on unknown items are not learnt (the server counts
//! them), as the batch protocol drops them.

use std::collections::HashMap;

use crate::nextitem::baselines::markov_base;
use crate::nextitem::{LastItemModel, NextItemModel, SavedNextItem, ScoreSink, SessionKnn};
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

/// SKNN learning live sessions (see the module docs).
#[derive(Clone, Debug)]
pub struct OnlineSknn {
    model: SessionKnn,
    /// Index of every live session learnt.
    sessions: HashMap<String, u32>,
    max_sessions: usize,
    clicks: u64,
}

impl OnlineSknn {
    /// Starts from a saved SKNN with its click counts; `None` otherwise.
    pub fn from_saved(m: &SavedNextItem, max_sessions: usize) -> Option<Self> {
        match m {
            SavedNextItem::Sknn(m) if m.has_counts() => Some(OnlineSknn {
                model: m.clone(),
                sessions: HashMap::new(),
                max_sessions,
                clicks: 0,
            }),
            _ => None,
        }
    }

    /// Learns a click on `item` in live session `session`; `false` when the item is unknown or the
    /// session is new and `max_sessions` are already learnt.
    pub fn click(&mut self, session: &str, item: u32) -> bool {
        let s = match self.sessions.get(session) {
            Some(&s) => s as usize,
            None => {
                if self.sessions.len() >= self.max_sessions || item as usize >= self.model.n_items()
                {
                    return false;
                }
                let s = self.model.n_sessions();
                self.sessions.insert(session.to_owned(), s as u32);
                s
            }
        };
        let ok = self.model.learn(s, item);
        self.clicks += u64::from(ok);
        ok
    }
}

/// Every model that learns online, as the server holds it.
#[derive(Clone, Debug)]
pub enum OnlineModel {
    /// Popularity or Markov counts.
    Counts(OnlineCounts),
    /// Session-kNN index.
    Sknn(OnlineSknn),
}

impl OnlineModel {
    /// Starts from a saved `pop`, `markov` or `sknn` model (SKNN learning at most `max_sessions`
    /// live sessions); `None` for other kinds or files without their counts.
    pub fn from_saved(m: &SavedNextItem, max_sessions: usize) -> Option<Self> {
        OnlineCounts::from_saved(m)
            .map(OnlineModel::Counts)
            .or_else(|| OnlineSknn::from_saved(m, max_sessions).map(OnlineModel::Sknn))
    }

    /// Learns a click on `item` in `session`, whose previous known click was `prev`.
    pub fn click(&mut self, session: &str, prev: Option<u32>, item: u32) -> bool {
        match self {
            OnlineModel::Counts(c) => c.click(prev, item),
            OnlineModel::Sknn(k) => k.click(session, item),
        }
    }

    /// Clicks learnt since the model was loaded.
    pub fn clicks_learnt(&self) -> u64 {
        match self {
            OnlineModel::Counts(c) => c.clicks_learnt(),
            OnlineModel::Sknn(k) => k.clicks,
        }
    }

    fn model(&self) -> &dyn NextItemModel {
        match self {
            OnlineModel::Counts(c) => c,
            OnlineModel::Sknn(k) => &k.model,
        }
    }
}

impl NextItemModel for OnlineModel {
    fn name(&self) -> String {
        self.model().name()
    }
    fn n_items(&self) -> usize {
        self.model().n_items()
    }
    fn score_prefixes(&self, sessions: &Sequences, rows: &[usize], sink: ScoreSink<'_>) {
        self.model().score_prefixes(sessions, rows, sink)
    }
    fn score_session(&self, clicks: &[u32], scores: &mut Vec<f32>) {
        self.model().score_session(clicks, scores)
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

    /// SKNN after live sessions equals a batch fit on the training sessions followed by the live
    /// ones (in order of their first click), interleaved clicks included; the session cap holds.
    #[test]
    fn online_sknn_equals_a_batch_fit_on_the_same_sessions() {
        let a: Vec<&[u32]> = vec![&[0, 1, 2], &[2, 3], &[1, 1, 4, 0], &[5, 2]];
        let b: Vec<&[u32]> = vec![&[4, 3, 3, 5], &[0, 2, 1, 2], &[5]];
        let all: Vec<&[u32]> = a.iter().chain(&b).copied().collect();
        let saved = SavedNextItem::Sknn(SessionKnn::fit(&seqs(&a, 6), 3, 10));
        let mut online = OnlineModel::from_saved(&saved, 10).expect("sknn learns");
        // Interleave the live sessions' clicks: s0 c0, s1 c0, s0 c1, … (first clicks in order).
        let longest = b.iter().map(|s| s.len()).max().unwrap_or(0);
        for t in 0..longest {
            for (k, s) in b.iter().enumerate() {
                if let Some(&i) = s.get(t) {
                    assert!(online.click(&format!("s{k}"), None, i));
                }
            }
        }
        assert_eq!(online.clicks_learnt(), 9);
        let batch = SessionKnn::fit(&seqs(&all, 6), 3, 10);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for prefix in [&[0u32][..], &[1, 2], &[4, 3], &[3], &[5], &[2, 1, 0]] {
            online.score_session(prefix, &mut x);
            batch.score_session(prefix, &mut y);
            assert_eq!(x, y, "after {prefix:?}");
        }
        let OnlineModel::Sknn(k) = &online else {
            panic!("sknn");
        };
        assert_eq!(k.model, batch);
        // Bounded: a one-session cap learns one live session only.
        let mut capped = OnlineModel::from_saved(&saved, 1).expect("sknn");
        assert!(capped.click("x", None, 1));
        assert!(capped.click("x", None, 2));
        assert!(!capped.click("y", None, 1));
        assert!(!capped.click("x", None, 99));
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
