//! Last-click models: the next-item models whose scores after a prefix depend on its last click
//! alone — most-popular, the Markov chain, item-kNN and sequential rules, batch
//! ([`super::LastItemModel`], [`super::SequentialRules`]) and online ([`super::OnlineCounts`],
//! [`super::OnlineRules`]).
//!
//! Such a model says how it scores one last click ([`LastClickModel::scores_after`]); how that
//! answers [`NextItemModel`] — every prefix of a batch of sessions, one live session — is written
//! here once, by the blanket implementation. A fitted model whose scores are a fixed vector with a
//! few entries replaced per last click says so instead ([`OverlayModel`]), and scores a prefix at the
//! cost of its replacements rather than of the item count.

use crate::nextitem::{NextItemModel, ScoreSink};
use crate::Sequences;

/// A model whose scores after a prefix are a function of the prefix's last click (see the module
/// docs). Every implementor is a [`NextItemModel`] of the same name and item count.
pub(crate) trait LastClickModel: Sync {
    /// [`NextItemModel::name`].
    fn name(&self) -> String;

    /// [`NextItemModel::n_items`].
    fn n_items(&self) -> usize;

    /// The scores of every item after a session whose last click is `last` (below
    /// [`LastClickModel::n_items`]), written into `scores` (cleared first).
    fn scores_after(&self, last: u32, scores: &mut Vec<f32>);

    /// [`NextItemModel::score_prefixes`]: [`LastClickModel::scores_after`] of the last click of every
    /// prefix of `rows`.
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
}

/// A last-click model answers for every prefix, and for a live session (zeros without a click) by
/// its last click, with no batch of one built.
impl<T: LastClickModel> NextItemModel for T {
    fn name(&self) -> String {
        LastClickModel::name(self)
    }

    fn n_items(&self) -> usize {
        LastClickModel::n_items(self)
    }

    fn score_prefixes(&self, sessions: &Sequences, rows: &[usize], sink: ScoreSink<'_>) {
        LastClickModel::score_prefixes(self, sessions, rows, sink);
    }

    fn score_session(&self, clicks: &[u32], scores: &mut Vec<f32>) {
        match clicks.last() {
            Some(&last) => self.scores_after(last, scores),
            None => {
                scores.clear();
                scores.resize(LastClickModel::n_items(self), 0.0);
            }
        }
    }
}

/// A fitted last-click model whose scores are `base` with a few entries replaced after each last
/// click: the Markov chain and item-kNN (the last click's list raises its items), sequential rules
/// (the last click's rules score their consequents).
pub(crate) trait OverlayModel: Sync {
    /// [`NextItemModel::name`].
    fn name(&self) -> String;

    /// The scores of every item before any replacement (its length is the item count).
    fn base(&self) -> &[f32];

    /// The `(item, score)` replacements after a last click `last`, each item at most once (which
    /// [`check_rows_distinct`] checks in a loaded file: a repeated item would keep its last score
    /// alone, silently).
    fn overlay(&self, last: u32) -> impl Iterator<Item = (u32, f32)> + Clone + '_;
}

/// An overlay model is a last-click model; it scores the prefixes of a batch on one score vector,
/// putting every replaced entry back to `base` once its prefix is scored, so a prefix costs its
/// replacements, not the item count.
impl<T: OverlayModel> LastClickModel for T {
    fn name(&self) -> String {
        OverlayModel::name(self)
    }

    fn n_items(&self) -> usize {
        self.base().len()
    }

    fn scores_after(&self, last: u32, scores: &mut Vec<f32>) {
        scores.clear();
        scores.extend_from_slice(self.base());
        for (j, score) in self.overlay(last) {
            scores[j as usize] = score;
        }
    }

    fn score_prefixes(&self, sessions: &Sequences, rows: &[usize], sink: ScoreSink<'_>) {
        let base = self.base();
        let mut scores = base.to_vec();
        for &r in rows {
            let s = sessions.row(r);
            for (t, &last) in s.iter().enumerate().take(s.len().saturating_sub(1)) {
                let replaced = self.overlay(last);
                for (j, score) in replaced.clone() {
                    scores[j as usize] = score;
                }
                sink(r, t, &scores);
                for (j, _) in replaced {
                    scores[j as usize] = base[j as usize];
                }
            }
        }
    }
}

/// Checks that no row of the compressed rows `start`/`item` (row starts already valid, item ids below
/// `n_items`) lists an item twice. An [`OverlayModel`] sets the score of each listed item, so a
/// repeated item would score with its last entry alone, silently; a batch fit never writes one, so a
/// loaded file with one is refused. Cost: `O(n_items + rows' length)`.
pub(crate) fn check_rows_distinct(
    start: &[usize],
    item: &[u32],
    n_items: usize,
) -> Result<(), String> {
    let mut last_row = vec![usize::MAX; n_items];
    for (r, w) in start.windows(2).enumerate() {
        for &j in &item[w[0]..w[1]] {
            if std::mem::replace(&mut last_row[j as usize], r) == r {
                return Err(format!("the list of item {r} holds item {j} twice"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::nextitem::testing::{scores_after, seqs};
    use crate::nextitem::{ItemKnn, MarkovChain, MostPopular, NextItemModel, SequentialRules};

    /// A live session scored by its last click alone gets exactly the scores the batch path gives its
    /// last prefix, for every overlay model and last click, and zeros without a click.
    #[test]
    fn a_live_session_scores_as_its_last_prefix_in_a_batch() {
        let train = seqs(&[&[0, 1, 2], &[2, 3, 1], &[1, 1, 4, 0], &[4, 2]], 5);
        let rules = vec![
            vec![(1, 2.0), (3, 0.5)],
            vec![],
            vec![(0, 1.0)],
            vec![],
            vec![(2, 3.0)],
        ];
        let models: Vec<Box<dyn NextItemModel>> = vec![
            Box::new(MostPopular::fit(&train)),
            Box::new(MarkovChain::fit(&train)),
            Box::new(ItemKnn::fit(&train, 2, 20.0)),
            Box::new(SequentialRules::from_rules(&train, &rules).expect("rules")),
        ];
        let mut live = Vec::new();
        for m in &models {
            for prefix in [&[0u32][..], &[3, 1], &[2, 4], &[1, 0, 2, 3]] {
                m.score_session(prefix, &mut live);
                assert_eq!(live, scores_after(m.as_ref(), prefix, None), "{}", m.name());
            }
            m.score_session(&[], &mut live);
            assert_eq!(live, vec![0.0; 5]);
        }
    }
}
