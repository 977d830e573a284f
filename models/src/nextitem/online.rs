//! Online updates of next-item models (`cartseq serve --learn-online`): popularity and the
//! first-order Markov chain keep their counts and add every click as it arrives; session-kNN and
//! V-SKNN add each live session to their neighbour index (new sessions after the training ones, in
//! order of their first click); sequential rules add each click's rule terms to the unpruned rule
//! weights and prune when they predict. So the scores are always those a batch fit on the training
//! sessions plus the clicks seen since would give — bit for bit, except for SR when sessions
//! interleave (see [`OnlineRules`]). [`OnlineModel`] is the one type a server holds, and
//! [`OnlineModel::click`] the one way in for every kind: the session, its known clicks before this one
//! (the Markov chain reads the last, SR up to `steps`), the item and the click's time (V-SKNN's
//! recency of a session is the time of its last click).
//!
//! State and cost of each kind (`n` items; the item vocabulary is the loaded model's: clicks on
//! unknown items are not learnt — the server counts them — as the batch protocol drops them):
//!
//! * `pop`, `markov`: one click count per item and, for the Markov chain, one count per distinct
//!   transition `a → b` (a hash map per item), `O(n + distinct transitions)` memory; an update is
//!   `O(1)`, a scoring `O(n)` (the popularity tie-breaker depends on the largest count, so it is
//!   recomputed).
//! * `sknn`: each live session's distinct items twice (both index directions) plus its key.
//! * `vsknn`: the compressed index is built once; live sessions go to an overlay read with it
//!   (`neighbours::LiveSessions`): per session its distinct items twice (12 bytes each), 60 bytes of
//!   row headers, count and time, plus its key. An update is a binary search in the session's row
//!   plus `O(n)` for the popularity fallback's scale (and for the IDF weights of a new session when
//!   the model uses them); scoring is the batch path.
//! * `sr`: the unpruned rules in a hash map per antecedent (about 30 bytes per rule), at most
//!   `steps` new rules per click, and the key of each live session; an update is `O(steps²)` plus
//!   `O(n)` for the fallback's scale, a scoring `O(rules of the last click + n)`.
//!
//! Memory bound: the session-keeping kinds (`sknn`, `vsknn`, `sr`) learn at most `max_sessions` live
//! sessions; later new sessions are not learnt, and say so by `click` returning `false`.

use std::collections::HashMap;

use crate::nextitem::baselines::markov_base;
use crate::nextitem::last_click;
use crate::nextitem::sr::OnlineRules;
use crate::nextitem::{LastItemModel, NextItemModel, SavedNextItem, SessionKnn, VSessionKnn};

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
}

/// A model that keeps live sessions: their key → session number and the cap.
#[derive(Clone, Debug)]
struct SessionLearner {
    model: SessionModel,
    /// Number of every live session learnt, by key.
    keys: HashMap<String, u32>,
    max_sessions: usize,
}

/// The kinds that learn session by session.
#[derive(Clone, Debug)]
enum SessionModel {
    Sknn(SessionKnn),
    Vsknn(VSessionKnn),
    Sr(OnlineRules),
}

impl SessionLearner {
    /// Learns a click (see [`OnlineModel::click`]).
    fn click(&mut self, session: &str, recent: &[u32], item: u32, time: f64) -> bool {
        let (s, new) = match self.keys.get(session) {
            Some(&s) => (s, false),
            None if self.keys.len() >= self.max_sessions => return false,
            None => {
                // SKNN and V-SKNN number live sessions after the training ones, SR from 0.
                let next = match &self.model {
                    SessionModel::Sknn(m) => m.n_sessions(),
                    SessionModel::Vsknn(m) => m.n_sessions(),
                    SessionModel::Sr(_) => self.keys.len(),
                };
                let Ok(s) = u32::try_from(next) else {
                    return false;
                };
                (s, true)
            }
        };
        let learnt = match &mut self.model {
            SessionModel::Sknn(m) => m.learn(s as usize, item),
            SessionModel::Vsknn(m) => m.learn(s as usize, item, time),
            SessionModel::Sr(m) => m.learn(s, new, recent, item),
        };
        if learnt && new {
            self.keys.insert(session.to_owned(), s);
        }
        learnt
    }

    fn model(&self) -> &dyn NextItemModel {
        match &self.model {
            SessionModel::Sknn(m) => m,
            SessionModel::Vsknn(m) => m,
            SessionModel::Sr(m) => m,
        }
    }
}

/// What an [`OnlineModel`] learns with.
#[derive(Clone, Debug)]
enum Learner {
    Counts(OnlineCounts),
    Sessions(Box<SessionLearner>),
}

/// Every model that learns online, as the server holds it (see the module docs).
#[derive(Clone, Debug)]
pub struct OnlineModel {
    learner: Learner,
    clicks: u64,
}

impl OnlineModel {
    /// Starts from a saved `pop`, `markov`, `sknn`, `vsknn` or `sr` model (the session-keeping kinds
    /// learning at most `max_sessions` live sessions); `None` for other kinds or files without what
    /// online learning needs (their counts, SR's unpruned rules).
    pub fn from_saved(m: &SavedNextItem, max_sessions: usize) -> Option<Self> {
        let model = match m {
            SavedNextItem::Sknn(m) if m.has_counts() => SessionModel::Sknn(m.clone()),
            SavedNextItem::Vsknn(m) if m.can_learn() => SessionModel::Vsknn(m.clone()),
            SavedNextItem::Sr(m) => SessionModel::Sr(OnlineRules::from_saved(m)?),
            _ => {
                return OnlineCounts::from_saved(m).map(|c| OnlineModel {
                    learner: Learner::Counts(c),
                    clicks: 0,
                })
            }
        };
        Some(OnlineModel {
            learner: Learner::Sessions(Box::new(SessionLearner {
                model,
                keys: HashMap::new(),
                max_sessions,
            })),
            clicks: 0,
        })
    }

    /// How many of a session's most recent known clicks [`OnlineModel::click`] reads (the Markov
    /// chain the last one, SR its `steps`, the others none).
    pub fn recent_clicks(&self) -> usize {
        match &self.learner {
            Learner::Counts(c) if c.kind == OnlineKind::Markov => 1,
            Learner::Sessions(l) => match &l.model {
                SessionModel::Sr(m) => m.steps(),
                _ => 0,
            },
            _ => 0,
        }
    }

    /// Learns a click on `item` at `time` (seconds since the epoch) in `session`, whose known clicks
    /// before it are `recent` (oldest first; at least the last [`OnlineModel::recent_clicks`]).
    /// `false` when nothing is learnt: an unknown item, or a new session beyond the cap.
    pub fn click(&mut self, session: &str, recent: &[u32], item: u32, time: f64) -> bool {
        let learnt = match &mut self.learner {
            Learner::Counts(c) => c.click(recent.last().copied(), item),
            Learner::Sessions(l) => l.click(session, recent, item, time),
        };
        self.clicks += u64::from(learnt);
        learnt
    }

    /// Clicks learnt since the model was loaded.
    pub fn clicks_learnt(&self) -> u64 {
        self.clicks
    }

    /// The model as it scores now (with every click learnt so far).
    pub fn model(&self) -> &dyn NextItemModel {
        match &self.learner {
            Learner::Counts(c) => c,
            Learner::Sessions(l) => l.model(),
        }
    }
}

/// The counts score by the last click: `pop` ignores it, `markov` raises the items that followed it.
impl last_click::LastClickModel for OnlineCounts {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nextitem::testing::seqs;
    use crate::nextitem::{MarkovChain, MostPopular, VsknnParams};

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
            let prefixes = [&[0u32][..], &[1, 2], &[4], &[3], &[5], &[2, 1]];
            assert_same_scores(&online, batch.as_model(), &prefixes, &format!("{kind:?}"));
        }
    }

    /// `online` scores every prefix exactly as `batch` does.
    fn assert_same_scores(
        online: &dyn NextItemModel,
        batch: &dyn NextItemModel,
        prefixes: &[&[u32]],
        what: &str,
    ) {
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for prefix in prefixes {
            online.score_session(prefix, &mut x);
            batch.score_session(prefix, &mut y);
            assert_eq!(x, y, "{what} after {prefix:?}");
        }
    }

    /// The session model an online model learns with (panics for count models).
    fn session_model(online: &OnlineModel) -> &SessionModel {
        match &online.learner {
            Learner::Sessions(l) => &l.model,
            Learner::Counts(_) => panic!("a count model, not a session model"),
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
                    assert!(online.click(&format!("s{k}"), &[], i, 0.0));
                }
            }
        }
        assert_eq!(online.clicks_learnt(), 9);
        let batch = SessionKnn::fit(&seqs(&all, 6), 3, 10);
        let prefixes = [&[0u32][..], &[1, 2], &[4, 3], &[3], &[5], &[2, 1, 0]];
        assert_same_scores(online.model(), &batch, &prefixes, "sknn");
        let SessionModel::Sknn(k) = session_model(&online) else {
            panic!("sknn");
        };
        assert_eq!(k, &batch);
        assert_capped(&saved);
    }

    /// Bounded: a one-session cap learns one live session only; unknown items are not learnt.
    fn assert_capped(saved: &SavedNextItem) {
        let mut capped = OnlineModel::from_saved(saved, 1).expect("learns");
        assert!(capped.click("x", &[], 1, 0.0));
        assert!(capped.click("x", &[1], 2, 1.0));
        assert!(!capped.click("y", &[], 1, 2.0));
        assert!(!capped.click("x", &[1, 2], 99, 3.0));
        assert_eq!(capped.clicks_learnt(), 2);
    }

    /// V-SKNN after live sessions equals a batch fit on the training sessions followed by the live
    /// ones (in order of their first click, last-click times included), interleaved clicks too:
    /// neighbours sampled by recency, IDF weights and the popularity fallback all follow the counts.
    #[test]
    fn online_vsknn_equals_a_batch_fit_on_the_same_sessions() {
        let a: Vec<&[u32]> = vec![&[0, 1, 2], &[2, 3], &[1, 1, 4, 0], &[5, 2], &[3, 3, 3]];
        let b: Vec<&[u32]> = vec![&[4, 3, 3, 5], &[0, 2, 1, 2], &[5], &[1, 0, 4]];
        let n = 6;
        // Training clicks at 10, 11, …; live clicks at 100 + 10 t + k (t-th click of session k).
        let a_times: Vec<f64> = (0..a.iter().map(|s| s.len()).sum::<usize>())
            .map(|t| 10.0 + t as f64)
            .collect();
        let mut b_times: Vec<f64> = Vec::new();
        for (k, s) in b.iter().enumerate() {
            b_times.extend((0..s.len()).map(|t| 100.0 + 10.0 * t as f64 + k as f64));
        }
        let all: Vec<&[u32]> = a.iter().chain(&b).copied().collect();
        let all_times: Vec<f64> = a_times.iter().chain(&b_times).copied().collect();
        for params in [
            VsknnParams {
                k: 2,
                sample: 3,
                ..VsknnParams::default()
            },
            VsknnParams {
                idf_weighting: 1.0,
                cosine: true,
                ..VsknnParams::default()
            },
        ] {
            let fit = |rows: &[&[u32]], times: &[f64]| {
                VSessionKnn::fit(&seqs(rows, n), Some(times), params.clone()).expect("params")
            };
            let saved = SavedNextItem::Vsknn(fit(&a, &a_times));
            let mut online = OnlineModel::from_saved(&saved, 10).expect("vsknn learns");
            let longest = b.iter().map(|s| s.len()).max().unwrap_or(0);
            for t in 0..longest {
                for (k, s) in b.iter().enumerate() {
                    if let Some(&i) = s.get(t) {
                        let time = 100.0 + 10.0 * t as f64 + k as f64;
                        assert!(online.click(&format!("s{k}"), &s[..t], i, time));
                    }
                }
            }
            let batch = fit(&all, &all_times);
            let prefixes = [
                &[0u32][..],
                &[1, 2],
                &[4, 3],
                &[3],
                &[5],
                &[2, 1, 0],
                &[3, 3],
            ];
            assert_same_scores(online.model(), &batch, &prefixes, &format!("{params:?}"));
            let SessionModel::Vsknn(v) = session_model(&online) else {
                panic!("vsknn");
            };
            assert_eq!(v.n_sessions(), all.len());
            assert_capped(&saved);
        }
    }

    /// Files written before the counts were recorded load but cannot learn online.
    #[test]
    fn files_without_counts_cannot_learn() {
        let train = seqs(&[&[0, 1], &[1, 2]], 3);
        let v = VSessionKnn::fit(&train, None, VsknnParams::default()).expect("params");
        let mut json = serde_json::to_value(SavedNextItem::Vsknn(v)).expect("json");
        json["model"]["index"]
            .as_object_mut()
            .expect("index")
            .remove("counts");
        let old: SavedNextItem = serde_json::from_value(json).expect("loads");
        assert!(OnlineModel::from_saved(&old, 10).is_none());
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
