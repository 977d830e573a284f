//! SR, sequential rules (Kamehkhosh, Jannach & Ludewig, TempRec@RecSys 2017; session-rec
//! `baselines/sr.py`): the next click after a prefix is scored by the rules a → b of the prefix's
//! last click a. The rules come from the mining crate's step-window miner
//! (`cartseq_mining::rules::steps`): the weight of a → b sums `1 / d` over every click of b that
//! follows a click of a by `d ≤ steps` clicks, and only the `keep` strongest rules per antecedent are
//! kept. Published defaults (session-rec's `SequentialRules`): steps = 10, weight `1 / d` ("div"),
//! pruning to 20 rules per item.
//!
//! The models crate does not depend on the mining crate; the `cartseq` library mines the rules and
//! hands them to [`SequentialRules::from_rules`].
//!
//! Scores: a consequent of the last click gets `δ + (1 − δ) · confidence / max confidence of that
//! click's rules` (δ = 10⁻⁴), every other item its popularity below δ — the ranking of session-rec,
//! which divides by the maximum, with ties among the items without a rule broken by popularity.
//! Cost: one rule list per prediction; memory: at most `keep` rules per item.

use serde::{Deserialize, Serialize};

use super::neighbours::{fallback_scores, EVIDENCE_FLOOR};
use super::vsknn::Decay;
use super::{NextItemModel, ScoreSink};
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
}

impl SequentialRules {
    /// Builds the model from each antecedent's `(consequent, confidence)` rules (`rules.len()` =
    /// items of `train`, consequents below it), with the popularity fallback of `train`.
    pub fn from_rules(train: &Sequences, rules: &[Vec<(u32, f64)>]) -> Result<Self, ModelError> {
        let n = train.vocab;
        if rules.len() != n {
            return Err(ModelError::Data(format!(
                "sr: rules for {} antecedents, but {n} items",
                rules.len()
            )));
        }
        let mut m = SequentialRules {
            start: vec![0],
            item: Vec::new(),
            score: Vec::new(),
            fallback: fallback_scores(train),
        };
        for row in rules {
            let max = row.iter().map(|r| r.1).fold(0.0f64, f64::max);
            for &(b, c) in row {
                if b as usize >= n {
                    return Err(ModelError::Data(format!(
                        "sr: consequent {b} is not an item (fewer than {n})"
                    )));
                }
                if c > 0.0 && max > 0.0 {
                    m.item.push(b);
                    m.score
                        .push(EVIDENCE_FLOOR + (1.0 - EVIDENCE_FLOOR) * (c / max) as f32);
                }
            }
            m.start.push(m.item.len());
        }
        Ok(m)
    }

    /// Number of rules kept.
    pub fn n_rules(&self) -> usize {
        self.item.len()
    }

    /// Checks a loaded model: one row per item, monotone row starts, consequents below the item
    /// count and a score per rule.
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
        Ok(())
    }
}

impl NextItemModel for SequentialRules {
    fn name(&self) -> String {
        "sr".into()
    }
    fn n_items(&self) -> usize {
        self.fallback.len()
    }
    fn score_prefixes(&self, sessions: &Sequences, rows: &[usize], sink: ScoreSink<'_>) {
        let mut scores = self.fallback.clone();
        for &r in rows {
            let s = sessions.row(r);
            for (t, &last) in s.iter().enumerate().take(s.len().saturating_sub(1)) {
                let range = match self.start.get(last as usize + 1) {
                    Some(&end) => self.start[last as usize]..end,
                    None => 0..0,
                };
                for k in range.clone() {
                    scores[self.item[k] as usize] = self.score[k];
                }
                sink(r, t, &scores);
                for k in range {
                    let j = self.item[k] as usize;
                    scores[j] = self.fallback[j];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
