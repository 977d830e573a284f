//! SR, sequential rules (Kamehkhosh, Jannach & Ludewig, TempRec@RecSys 2017; session-rec
//! `baselines/sr.py`): the next click after a prefix is scored by the rules a → b of the prefix's
//! last click a. The rules come from the mining crate's step-window miner
//! (`cartseq_mining::rules::steps`): the weight of a → b sums `1 / d` over every click of b that
//! follows a click of a by `d ≤ steps` clicks, and only the `keep` strongest rules per antecedent are
//! kept. Published defaults (session-rec's `SequentialRules`): steps = 10, weight `1 / d` ("div"),
//! pruning to 20 rules per item.
//!
//! The models crate does not depend on the mining crate; the `cartseq` library mines the rules and
//! hands them to [`SequentialRules::from_mined`] (every rule, which it prunes itself) or
//! [`SequentialRules::from_rules`] (rules already pruned).
//!
//! Scores: a consequent of the last click gets `δ + (1 − δ) · confidence / max confidence of that
//! click's rules` (δ = 10⁻⁴), every other item its popularity below δ — the ranking of session-rec,
//! which divides by the maximum, with ties among the items without a rule broken by popularity.
//! Cost: one rule list per prediction; memory: at most `keep` rules per item.
//!
//! **Online learning** ([`OnlineRules`], `cartseq serve --learn-online`) needs what pruning threw
//! away: a model built by [`SequentialRules::from_mined`] also keeps every rule's unpruned weight, the
//! occurrence count of every antecedent and the click count of every item (12 bytes per rule and 16
//! per item in memory, about 30 bytes per rule in the JSON file). Files without them (written before
//! they were recorded) load and score, but cannot learn online.
use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::last_click::{self, check_rows_distinct};
use super::neighbours::{fallback_scores, EVIDENCE_FLOOR};
use super::vsknn::Decay;
use super::{best_first, count_click, keep_best, scaled_popularity};
use crate::{ModelError, Sequences};

/// Hyper-parameters of SR, with session-rec's names and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SrParams {
    /// Largest distance in clicks between a rule's antecedent and consequent (default 10).
    pub steps: usize,
    /// Weight of a distance `d` (default `div`, `1 / d`).
    pub weighting: Decay,
    /// Rules kept per antecedent, the strongest (default 20).
    pub pruning: usize,
}

impl Default for SrParams {
    fn default() -> Self {
        SrParams {
            steps: 10,
            weighting: Decay::Div,
            pruning: 20,
        }
    }
}

impl SrParams {
    /// Checks the parameters: steps and pruning ≥ 1.
    pub fn check(&self) -> Result<(), ModelError> {
        if self.steps == 0 {
            return Err(ModelError::invalid("steps", self.steps, "at least 1"));
        }
        if self.pruning == 0 {
            return Err(ModelError::invalid(
                "pruning",
                self.pruning,
                "at least 1 rule per item",
            ));
        }
        Ok(())
    }
}

/// A fitted SR model: the rules of every item as compressed rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequentialRules {
    /// Row starts (items + 1).
    start: Vec<usize>,
    /// Consequents.
    item: Vec<u32>,
    /// Output score of each rule (already on the output scale).
    score: Vec<f32>,
    /// Popularity fallback.
    fallback: Vec<f32>,
    /// What online learning starts from (absent in files written before it was recorded, and for
    /// rules given already pruned).
    #[serde(default)]
    learn: Option<RuleWeights>,
}

/// Every rule before pruning, with the counts behind confidences and the fallback: the state
/// [`OnlineRules`] continues from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct RuleWeights {
    params: SrParams,
    /// Row starts of the rules by antecedent (items + 1).
    start: Vec<usize>,
    /// Consequents.
    item: Vec<u32>,
    /// Unpruned weight `Σ weight(d)` of every rule.
    weight: Vec<f64>,
    /// Clicks of each item followed by at least one click (the confidence denominator).
    occurrences: Vec<u64>,
    /// Clicks of each item (the popularity fallback).
    counts: Vec<u64>,
}

/// The `keep` strongest rules of one antecedent clicked `occurrences` times with a successor — weight
/// descending, then consequent, rules of weight ≤ 0 left out, as the miner prunes — with their
/// confidence `weight / occurrences`, into `out`.
fn strongest(
    rules: impl Iterator<Item = (u32, f64)>,
    keep: usize,
    occurrences: u64,
    out: &mut Vec<(u32, f64)>,
) {
    out.clear();
    if occurrences == 0 {
        return;
    }
    out.extend(rules.filter(|r| r.1 > 0.0));
    keep_best(out, keep, |x, y| best_first(*x, *y));
    let n = occurrences as f64;
    for r in out.iter_mut() {
        r.1 /= n;
    }
}

/// The output score of each `(consequent, confidence)` rule of one antecedent (see the module docs).
fn rescale(rules: &[(u32, f64)], mut put: impl FnMut(u32, f32)) {
    let max = rules.iter().map(|r| r.1).fold(0.0f64, f64::max);
    for &(b, c) in rules {
        if c > 0.0 && max > 0.0 {
            put(
                b,
                EVIDENCE_FLOOR + (1.0 - EVIDENCE_FLOOR) * (c / max) as f32,
            );
        }
    }
}

impl SequentialRules {
    /// Builds the model from each antecedent's `(consequent, confidence)` rules (`rules.len()` =
    /// items of `train`, consequents below it), with the popularity fallback of `train`. Such a
    /// model cannot learn online (its rules are already pruned).
    pub fn from_rules(train: &Sequences, rules: &[Vec<(u32, f64)>]) -> Result<Self, ModelError> {
        let n = train.vocab;
        check_rows(rules.len(), rules.iter().flatten().map(|r| r.0), n)?;
        let mut m = SequentialRules {
            start: vec![0],
            item: Vec::new(),
            score: Vec::new(),
            fallback: fallback_scores(train),
            learn: None,
        };
        for row in rules {
            m.push_row(row);
        }
        Ok(m)
    }

    /// Builds the model from every rule the miner found: `weights[a]` holds each `(consequent,
    /// Σ weight(d))` of antecedent `a` unpruned, `occurrences[a]` its clicks followed by a click.
    /// Prunes to `params.pruning` rules per antecedent as the miner does, and keeps the unpruned
    /// weights so that the model can learn online — unless some distance weighs below 0 (`linear`
    /// beyond 10 steps), where the rules left out by their negative sum could not be continued.
    pub fn from_mined(
        train: &Sequences,
        params: &SrParams,
        weights: &[Vec<(u32, f64)>],
        occurrences: Vec<u64>,
    ) -> Result<Self, ModelError> {
        params.check()?;
        let n = train.vocab;
        check_rows(weights.len(), weights.iter().flatten().map(|r| r.0), n)?;
        if occurrences.len() != n {
            return Err(ModelError::Data(format!(
                "sr: {} occurrence counts, but {n} items",
                occurrences.len()
            )));
        }
        let counts = super::item_counts(train);
        let mut m = SequentialRules {
            start: vec![0],
            item: Vec::new(),
            score: Vec::new(),
            fallback: scaled_popularity(&counts, EVIDENCE_FLOOR),
            learn: None,
        };
        let mut row = Vec::new();
        for (rules, &occ) in weights.iter().zip(&occurrences) {
            strongest(rules.iter().copied(), params.pruning, occ, &mut row);
            m.push_row(&row);
        }
        if (1..=params.steps).all(|d| params.weighting.step(d) >= 0.0) {
            let mut start = vec![0];
            start.extend(weights.iter().scan(0, |end, r| {
                *end += r.len();
                Some(*end)
            }));
            m.learn = Some(RuleWeights {
                params: params.clone(),
                start,
                item: weights.iter().flatten().map(|r| r.0).collect(),
                weight: weights.iter().flatten().map(|r| r.1).collect(),
                occurrences,
                counts,
            });
        }
        Ok(m)
    }

    /// Appends the rules of the next antecedent.
    fn push_row(&mut self, rules: &[(u32, f64)]) {
        rescale(rules, |b, s| {
            self.item.push(b);
            self.score.push(s);
        });
        self.start.push(self.item.len());
    }

    /// Number of rules kept.
    pub fn n_rules(&self) -> usize {
        self.item.len()
    }

    /// Whether the model carries what online learning needs.
    pub fn can_learn(&self) -> bool {
        self.learn.is_some()
    }

    /// Checks a loaded model: one row per item, monotone row starts, consequents below the item
    /// count, each at most once per row, and a score per rule.
    pub(crate) fn check_loaded(&self) -> Result<(), String> {
        let n = self.fallback.len();
        if !super::valid_row_starts(&self.start, n, self.item.len()) {
            return Err(format!("rule rows do not match {n} items"));
        }
        if self.score.len() != self.item.len() {
            return Err(format!(
                "{} scores for {} rules",
                self.score.len(),
                self.item.len()
            ));
        }
        if let Some(&bad) = self.item.iter().find(|&&b| b as usize >= n) {
            return Err(format!("consequent {bad} is not below the item count {n}"));
        }
        check_rows_distinct(&self.start, &self.item, n)?;
        if let Some(w) = &self.learn {
            w.params.check().map_err(|e| e.to_string())?;
            if !super::valid_row_starts(&w.start, n, w.item.len()) || w.weight.len() != w.item.len()
            {
                return Err(format!("unpruned rule rows do not match {n} items"));
            }
            if w.occurrences.len() != n || w.counts.len() != n {
                return Err(format!(
                    "{} occurrence and {} click counts for {n} items",
                    w.occurrences.len(),
                    w.counts.len()
                ));
            }
            if let Some(&bad) = w.item.iter().find(|&&b| b as usize >= n) {
                return Err(format!(
                    "unpruned consequent {bad} is not below the item count {n}"
                ));
            }
        }
        Ok(())
    }
}

/// Checks `rows` rule rows against `n` items and every consequent below `n`.
fn check_rows(
    rows: usize,
    mut consequents: impl Iterator<Item = u32>,
    n: usize,
) -> Result<(), ModelError> {
    if rows != n {
        return Err(ModelError::Data(format!(
            "sr: rules for {rows} antecedents, but {n} items"
        )));
    }
    match consequents.find(|&b| b as usize >= n) {
        Some(b) => Err(ModelError::Data(format!(
            "sr: consequent {b} is not an item (fewer than {n})"
        ))),
        None => Ok(()),
    }
}

/// SR learning from live sessions (`cartseq serve --learn-online`): every click adds its rule
/// terms — `weight(d)` to each rule a → b from the `steps` clicks before it — to the unpruned
/// weights, and a prediction prunes the last click's rules when it is made, so its scores are those
/// of a batch fit (mining and pruning) on the training sessions plus the clicks learnt.
///
/// **Bit for bit.** The miner sums each rule's terms session by session, and inside a session by
/// the antecedent's position, then the consequent's; clicks arrive by the consequent's position,
/// and float sums depend on their order. So the session being learnt (the one whose first click came
/// last) is tracked: for each rule with a term from its last `steps` clicks the sum without them is
/// kept, and the rule's weight is recomputed from it in the miner's order at every click; a click
/// completes the terms of the click `steps` back, which then join the kept sum. When sessions arrive
/// one after another (each session's clicks before the next session's first), the model equals a
/// batch fit exactly (tested). A click of an earlier session after a later one started (interleaved
/// sessions) ends the tracking: from then on terms are added as they come, in arrival order, which
/// can differ from the batch sums in the last bits (the rules and counts are the same).
///
/// Cost: a click `O(steps²)` plus a hash update per rule term; a prediction `O(rules of the last
/// click + items)`. Memory: the unpruned rules in a hash map per antecedent (about 30 bytes per
/// rule), at most `steps` new rules per click, and the tracked session's `steps` clicks and
/// `steps · (steps + 1)` kept sums.
#[derive(Clone, Debug)]
pub struct OnlineRules {
    params: SrParams,
    /// Unpruned weight of every rule, by antecedent.
    weights: Vec<HashMap<u32, f64>>,
    occurrences: Vec<u64>,
    counts: Vec<u64>,
    fallback: Vec<f32>,
    tracked: Option<Tracked>,
}

/// The session learnt in the miner's order (see [`OnlineRules`]).
#[derive(Clone, Debug)]
struct Tracked {
    session: u32,
    /// Its last `steps` clicks, oldest first.
    window: VecDeque<u32>,
    /// `(a, b, sum)`: the weight of a → b without its terms from an antecedent in the window.
    base: Vec<(u32, u32, f64)>,
}

impl OnlineRules {
    /// Starts from a saved model; `None` when it cannot learn online.
    pub fn from_saved(m: &SequentialRules) -> Option<Self> {
        let w = m.learn.as_ref()?;
        let weights = w
            .start
            .windows(2)
            .map(|r| {
                w.item[r[0]..r[1]]
                    .iter()
                    .copied()
                    .zip(w.weight[r[0]..r[1]].iter().copied())
                    .collect()
            })
            .collect();
        Some(OnlineRules {
            params: w.params.clone(),
            weights,
            occurrences: w.occurrences.clone(),
            fallback: scaled_popularity(&w.counts, EVIDENCE_FLOOR),
            counts: w.counts.clone(),
            tracked: None,
        })
    }

    /// Clicks before a new one that its rules need.
    pub fn steps(&self) -> usize {
        self.params.steps
    }

    /// Learns a click on `item` in live session `session` (`new`: its first click learnt), whose
    /// known clicks before it are `recent` (oldest first; only the last `steps` are read, and only
    /// for a session that is not tracked). `false` (nothing learnt) for an unknown item.
    pub fn learn(&mut self, session: u32, new: bool, recent: &[u32], item: u32) -> bool {
        let i = item as usize;
        if i >= self.counts.len() {
            return false;
        }
        count_click(&mut self.counts, &mut self.fallback, i, EVIDENCE_FLOOR);
        if new {
            self.tracked = Some(Tracked {
                session,
                window: VecDeque::new(),
                base: Vec::new(),
            });
        }
        match self.tracked.take() {
            Some(mut t) if t.session == session => {
                self.learn_tracked(&mut t, item);
                self.tracked = Some(t);
            }
            _ => self.learn_untracked(recent, item),
        }
        true
    }

    /// A click `b` of the tracked session: the rules a → b of its window recomputed in the miner's
    /// order, then the terms of the click leaving the window folded into the kept sums.
    fn learn_tracked(&mut self, t: &mut Tracked, b: u32) {
        // The window and the new click, positions 0..=len.
        let clicks: Vec<u32> = t.window.iter().copied().chain([b]).collect();
        let len = clicks.len() - 1;
        if len > 0 {
            self.occurrences[clicks[len - 1] as usize] += 1;
        }
        let mut sums: Vec<(u32, f64)> = Vec::with_capacity(len);
        for &a in &clicks[..len] {
            if sums.iter().any(|x| x.0 == a) {
                continue;
            }
            let kept = match t.base.iter().find(|x| x.0 == a && x.1 == b) {
                Some(x) => x.2,
                None => {
                    let w = self.weights[a as usize].get(&b).copied().unwrap_or(0.0);
                    t.base.push((a, b, w));
                    w
                }
            };
            sums.push((a, kept));
        }
        for (p, &a) in clicks[..len].iter().enumerate() {
            if let Some(x) = sums.iter_mut().find(|x| x.0 == a) {
                for (q, &c) in clicks.iter().enumerate().skip(p + 1) {
                    if c == b {
                        x.1 += self.params.weighting.step(q - p);
                    }
                }
            }
        }
        for (a, w) in sums {
            self.weights[a as usize].insert(b, w);
        }
        if len == self.params.steps {
            let a0 = clicks[0];
            for (q, &c) in clicks.iter().enumerate().skip(1) {
                if let Some(x) = t.base.iter_mut().find(|x| x.0 == a0 && x.1 == c) {
                    x.2 += self.params.weighting.step(q);
                }
            }
            t.window.pop_front();
            if !t.window.contains(&a0) {
                t.base.retain(|x| x.0 != a0);
            }
        }
        t.window.push_back(b);
    }

    /// A click `b` of a session that is not tracked: its terms added in arrival order.
    fn learn_untracked(&mut self, recent: &[u32], b: u32) {
        let n = self.counts.len();
        let recent: Vec<u32> = recent
            .iter()
            .copied()
            .filter(|&a| (a as usize) < n)
            .collect();
        if let Some(&last) = recent.last() {
            self.occurrences[last as usize] += 1;
        }
        let window = &recent[recent.len().saturating_sub(self.params.steps)..];
        for (p, &a) in window.iter().enumerate() {
            let d = window.len() - p;
            *self.weights[a as usize].entry(b).or_insert(0.0) += self.params.weighting.step(d);
        }
    }
}

/// Online SR scores by the rules of the last click, pruned when it predicts.
impl last_click::LastClickModel for OnlineRules {
    fn name(&self) -> String {
        "sr".into()
    }

    fn n_items(&self) -> usize {
        self.counts.len()
    }

    fn scores_after(&self, last: u32, scores: &mut Vec<f32>) {
        scores.clear();
        scores.extend_from_slice(&self.fallback);
        let a = last as usize;
        let (Some(row), Some(&occ)) = (self.weights.get(a), self.occurrences.get(a)) else {
            return;
        };
        let mut rules = Vec::new();
        strongest(
            row.iter().map(|(&b, &w)| (b, w)),
            self.params.pruning,
            occ,
            &mut rules,
        );
        rescale(&rules, |b, s| scores[b as usize] = s);
    }
}

/// Fitted SR scores the popularity fallback with the last click's pruned rules on top.
impl last_click::OverlayModel for SequentialRules {
    fn name(&self) -> String {
        "sr".into()
    }

    fn base(&self) -> &[f32] {
        &self.fallback
    }

    fn overlay(&self, last: u32) -> impl Iterator<Item = (u32, f32)> + Clone + '_ {
        let rules = match self.start.get(last as usize + 1) {
            Some(&end) => self.start[last as usize]..end,
            None => 0..0,
        };
        rules.map(|k| (self.item[k], self.score[k]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nextitem::testing::seqs;
    use crate::nextitem::NextItemModel;
    use cartseq_mining::rules::steps::{step_rules, StepRule, StepRuleParams};

    /// The batch fit: the miner's unpruned rules of `rows`, pruned by the model (what the `cartseq`
    /// library's `fit_sr` does).
    fn batch(rows: &[&[u32]], n: usize, p: &SrParams) -> SequentialRules {
        let (weights, occurrences) = mined(rows, n, p, usize::MAX, |x| x.weight);
        SequentialRules::from_mined(&seqs(rows, n), p, &weights, occurrences).expect("sr")
    }

    /// The miner's rules of `rows` (at most `keep` per antecedent) as `(consequent, value(rule))`
    /// lists per antecedent, with the antecedents' occurrence counts.
    fn mined(
        rows: &[&[u32]],
        n: usize,
        p: &SrParams,
        keep: usize,
        value: impl Fn(&StepRule) -> f64,
    ) -> (Vec<Vec<(u32, f64)>>, Vec<u64>) {
        let params = StepRuleParams::new(p.steps, keep).expect("params");
        let m = step_rules(rows, n, params, |d| p.weighting.step(d)).expect("mined");
        let per_antecedent = m.rules.iter();
        let lists = per_antecedent.map(|r| r.iter().map(|x| (x.consequent, value(x))).collect());
        (lists.collect(), m.occurrences)
    }

    /// Random sessions over `n` items (many repeats: the float order of the sums matters).
    fn random_sessions(seed: u64, count: usize, n: u32) -> Vec<Vec<u32>> {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        (0..count)
            .map(|_| (0..1 + next() % 14).map(|_| next() % n).collect())
            .collect()
    }

    /// Every unpruned weight, occurrence and click count of `online` equals the batch state `b`
    /// (`exact`: bit for bit, else within 1e-12 relative), and so does every score.
    fn assert_same(online: &OnlineRules, b: &SequentialRules, exact: bool) {
        let w = b.learn.as_ref().expect("batch state");
        assert_eq!(online.occurrences, w.occurrences);
        assert_eq!(online.counts, w.counts);
        assert_eq!(online.fallback, b.fallback);
        for (a, r) in w.start.windows(2).enumerate() {
            let row = &online.weights[a];
            assert_eq!(row.values().filter(|&&x| x > 0.0).count(), r[1] - r[0]);
            for k in r[0]..r[1] {
                let got = row.get(&w.item[k]).copied().unwrap_or(f64::NAN);
                let want = w.weight[k];
                if exact {
                    assert_eq!(got.to_bits(), want.to_bits(), "{a} → {}", w.item[k]);
                } else {
                    assert!((got - want).abs() <= 1e-12 * want, "{a} → {}", w.item[k]);
                }
            }
        }
        if exact {
            let (mut x, mut y) = (Vec::new(), Vec::new());
            for last in 0..online.n_items() as u32 {
                online.score_session(&[last], &mut x);
                b.score_session(&[last], &mut y);
                assert_eq!(x, y, "after {last}");
            }
        }
    }

    /// Online SR after live sessions (each after the previous one) equals the batch fit on the
    /// training sessions followed by the live ones, bit for bit: weights, counts and every score,
    /// for each distance weighting, windows shorter and longer than the sessions, and pruning.
    #[test]
    fn online_sr_equals_a_batch_fit_on_the_same_sessions() {
        let train = random_sessions(7, 40, 7);
        let live = random_sessions(99, 60, 8);
        // Item 7 is clicked only live: it is not in the model's vocabulary.
        for weighting in [Decay::Div, Decay::Quadratic, Decay::Same, Decay::Log] {
            for (steps, pruning) in [(3, 2), (10, 20), (1, 1)] {
                let p = SrParams {
                    steps,
                    weighting,
                    pruning,
                };
                let rows: Vec<&[u32]> = train.iter().map(|r| r.as_slice()).collect();
                let start = batch(&rows, 7, &p);
                let mut online = OnlineRules::from_saved(&start).expect("learns");
                let known: Vec<Vec<u32>> = live
                    .iter()
                    .map(|s| s.iter().copied().filter(|&i| i < 7).collect())
                    .collect();
                for (s, clicks) in live.iter().enumerate() {
                    let mut recent = Vec::new();
                    for &i in clicks {
                        assert_eq!(online.learn(s as u32, recent.is_empty(), &recent, i), i < 7);
                        if i < 7 {
                            recent.push(i);
                        }
                    }
                }
                let rows: Vec<&[u32]> = train.iter().chain(&known).map(|r| r.as_slice()).collect();
                assert_same(&online, &batch(&rows, 7, &p), true);
            }
        }
    }

    /// Interleaved sessions: the same rules and counts, weights equal up to the order of float sums.
    #[test]
    fn interleaved_sessions_learn_the_same_rules() {
        let p = SrParams {
            steps: 4,
            ..SrParams::default()
        };
        let train = random_sessions(3, 20, 6);
        let live = random_sessions(5, 12, 6);
        let rows: Vec<&[u32]> = train.iter().map(|r| r.as_slice()).collect();
        let mut online = OnlineRules::from_saved(&batch(&rows, 6, &p)).expect("learns");
        let longest = live.iter().map(|s| s.len()).max().unwrap_or(0);
        for t in 0..longest {
            for (s, clicks) in live.iter().enumerate() {
                if let Some(&i) = clicks.get(t) {
                    assert!(online.learn(s as u32, t == 0, &clicks[..t], i));
                }
            }
        }
        let rows: Vec<&[u32]> = train.iter().chain(&live).map(|r| r.as_slice()).collect();
        assert_same(&online, &batch(&rows, 6, &p), false);
    }

    /// Pruning in the model gives the rules the miner prunes itself; a file without the unpruned
    /// state (older, or negative distance weights) loads but cannot learn.
    #[test]
    fn pruned_from_mined_equals_mined_pruned() {
        let sessions = random_sessions(11, 50, 9);
        let rows: Vec<&[u32]> = sessions.iter().map(|r| r.as_slice()).collect();
        let p = SrParams {
            steps: 5,
            weighting: Decay::Div,
            pruning: 3,
        };
        let (confidences, _) = mined(&rows, 9, &p, 3, |x| x.confidence);
        let old = SequentialRules::from_rules(&seqs(&rows, 9), &confidences).expect("sr");
        let new = batch(&rows, 9, &p);
        assert_eq!(
            (&old.start, &old.item, &old.score),
            (&new.start, &new.item, &new.score)
        );
        assert!(!old.can_learn() && new.can_learn());
        let mut json = serde_json::to_value(&new).expect("json");
        json.as_object_mut().expect("object").remove("learn");
        let older: SequentialRules = serde_json::from_value(json).expect("loads");
        assert!(older.check_loaded().is_ok() && OnlineRules::from_saved(&older).is_none());
        let linear = SrParams {
            steps: 12,
            weighting: Decay::Linear,
            pruning: 3,
        };
        assert!(!batch(&rows, 9, &linear).can_learn());
    }

    #[test]
    fn last_click_rules_rank_by_confidence_then_popularity() {
        // Items 0..4; item 3 is the most popular.
        let train = Sequences {
            tokens: vec![0, 1, 3, 3, 3, 2],
            offsets: vec![0, 2, 6],
            vocab: 4,
        };
        let rules = vec![vec![(1, 2.0), (2, 0.5)], vec![], vec![], vec![]];
        let m = SequentialRules::from_rules(&train, &rules).expect("rules");
        let test = Sequences {
            tokens: vec![1, 0, 2],
            offsets: vec![0, 3],
            vocab: 4,
        };
        let mut seen = Vec::new();
        m.score_prefixes(&test, &[0], &mut |_, t, s| seen.push((t, s.to_vec())));
        // After [1]: no rules, popularity only (3 first).
        let s = &seen[0].1;
        assert!(s[3] > s[0] && s.iter().all(|&v| v < 1e-4));
        // After [1, 0]: 1 (confidence 2, the max) → 1.0, 2 → δ + (1 − δ)/4, the rest below δ.
        let s = &seen[1].1;
        assert_eq!(s[1], 1.0);
        assert_eq!(s[2], 1e-4 + (1.0 - 1e-4) * 0.25);
        assert!(s[3] < 1e-4 && s[0] < s[3]);
        assert!(SequentialRules::from_rules(&train, &rules[..2]).is_err());
    }

    /// A loaded file whose rules of an item name a consequent twice is refused (scoring would keep
    /// the last rule alone).
    #[test]
    fn a_loaded_rule_row_with_a_repeated_consequent_is_refused() {
        let train = seqs(&[&[0, 1, 3], &[2, 3]], 4);
        let rules = vec![vec![(1, 2.0), (3, 0.5)], vec![], vec![], vec![]];
        let m = SequentialRules::from_rules(&train, &rules).expect("rules");
        assert_eq!(m.check_loaded(), Ok(()));
        let mut json = serde_json::to_value(&m).expect("json");
        assert_eq!((&json["item"][0], &json["item"][1]), (&1.into(), &3.into()));
        json["item"][1] = 1.into();
        let bad: SequentialRules = serde_json::from_value(json).expect("loads");
        let e = bad.check_loaded().expect_err("a repeated consequent");
        assert!(e.contains("item 0") && e.contains("item 1 twice"), "{e}");
    }
}
