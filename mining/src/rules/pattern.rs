//! Pattern rules: X ⇒ Y where the concatenation X·Y is a frequent sequential pattern ("X then Y"), split
//! between two of its itemsets.
//!
//! confidence = sup(X·Y) / sup(X); lift = confidence / (sup(Y) / n), where sup counts the sequences
//! containing a pattern as a subsequence. Every prefix X and suffix Y of a frequent pattern is itself
//! frequent (a subsequence is contained wherever the pattern is), so their supports are looked up in
//! the mined patterns — any of PrefixSpan, SPADE or GSP gives the same rules. A side missing from the
//! given patterns (possible only when the patterns were truncated, e.g. by a length limit on a side
//! that cannot be, or a top-k cut) drops the rule rather than inventing a support.
//!
//! [`then_rules`] is the special case the report shows: A ⇒ B for every two-item pattern ⟨(A)(B)⟩
//! ("A then B"), ordered by confidence, then support.
//!
//! Cost: one hash lookup per split point of every pattern; memory is a hash index over the patterns.

use hashbrown::HashMap;
use rayon::prelude::*;

use cartseq_data::ItemId;

use super::{check_confidence, Rule, RuleError, RuleFilter, RuleKind, RuleSet, RuleSort};
use crate::pattern::Pattern;

/// A mined sequential pattern handed to [`pattern_rules`]: its itemsets and support count.
pub type PatternRef<'a> = (Vec<&'a [ItemId]>, u32);

/// Validated parameters of pattern-rule generation.
#[derive(Clone, Debug, PartialEq)]
pub struct PatternRuleParams {
    min_confidence: f64,
    filter: RuleFilter,
}

impl PatternRuleParams {
    /// Rules with confidence at least `min_confidence` (in [0, 1]).
    pub fn new(min_confidence: f64) -> Result<Self, RuleError> {
        check_confidence(min_confidence)?;
        Ok(PatternRuleParams {
            min_confidence,
            filter: RuleFilter::default(),
        })
    }

    /// Filters on sizes, items and lift.
    pub fn filter(mut self, f: RuleFilter) -> Self {
        self.filter = f;
        self
    }
}

/// The [`PatternRef`]s of mined patterns (what [`pattern_rules`] reads).
pub fn pattern_refs<'a>(patterns: impl IntoIterator<Item = &'a Pattern>) -> Vec<PatternRef<'a>> {
    patterns
        .into_iter()
        .map(|p| (p.itemsets().collect(), p.support))
        .collect()
}

const SEP: u32 = u32::MAX;

fn key(sets: &[&[ItemId]]) -> Vec<u32> {
    let mut k = Vec::new();
    for (i, s) in sets.iter().enumerate() {
        if i > 0 {
            k.push(SEP);
        }
        k.extend(s.iter().map(|x| x.0));
    }
    k
}

/// Every rule X ⇒ Y from the `patterns` (each X·Y), mined over `n` sequences with absolute minimum
/// support `min_support`, sorted by lift.
pub fn pattern_rules(
    patterns: &[PatternRef<'_>],
    n: usize,
    min_support: u32,
    params: &PatternRuleParams,
) -> Result<RuleSet, RuleError> {
    let index: HashMap<Vec<u32>, u32> = patterns.iter().map(|(p, s)| (key(p), *s)).collect();
    let rules: Vec<Vec<Rule>> = patterns
        .par_iter()
        .map(|(p, sup)| {
            let mut out = Vec::new();
            for cut in 1..p.len() {
                let (x, y) = p.split_at(cut);
                let (Some(&sx), Some(&sy)) = (index.get(&key(x)), index.get(&key(y))) else {
                    continue;
                };
                let r = Rule {
                    antecedent: x.iter().map(|s| s.to_vec()).collect(),
                    consequent: y.iter().map(|s| s.to_vec()).collect(),
                    support: *sup,
                    antecedent_support: sx,
                    consequent_support: sy,
                };
                if r.confidence() >= params.min_confidence && params.filter.keep(&r, n) {
                    out.push(r);
                }
            }
            out
        })
        .collect();
    Ok(RuleSet::sorted_by_lift(
        RuleKind::Pattern,
        rules,
        n,
        min_support,
    ))
}

/// The "A then B" rules of mined `patterns` (over `n` sequences, absolute minimum support
/// `min_support`): A ⇒ B for every pattern ⟨(A)(B)⟩ of two single-item itemsets, with A's and B's
/// supports taken from the one-item patterns (a rule whose side is missing, possible only in a truncated
/// pattern set, is dropped). Sorted by confidence descending, then support descending, then A, then B
/// ([`RuleSort::ConfidenceSupport`]), so the order is total and the same for every miner.
///
/// For the whole answer pass every frequent pattern of at most two items; a top-k set (ties included,
/// as [`crate::Miner::mine`] gives it) also works, since a pattern's items are at least as frequent as
/// the pattern.
pub fn then_rules(patterns: &[Pattern], n: usize, min_support: u32) -> Result<RuleSet, RuleError> {
    let short = pattern_refs(patterns.iter().filter(|p| p.num_items() <= 2));
    let params = PatternRuleParams::new(0.0)?.filter(RuleFilter {
        max_antecedent: Some(1),
        max_consequent: Some(1),
        ..RuleFilter::default()
    });
    let mut set = pattern_rules(&short, n, min_support, &params)?;
    set.sort(RuleSort::ConfidenceSupport);
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_between_itemsets() {
        let a = [ItemId(1)];
        let bc = [ItemId(2), ItemId(3)];
        let pats: Vec<PatternRef<'_>> = vec![
            (vec![&a[..]], 4),
            (vec![&bc[..]], 3),
            (vec![&a[..], &bc[..]], 2),
        ];
        let rs = pattern_rules(&pats, 5, 2, &PatternRuleParams::new(0.0).unwrap()).unwrap();
        assert_eq!(rs.len(), 1);
        let r = &rs.rules[0];
        assert_eq!(
            (r.support, r.antecedent_support, r.consequent_support),
            (2, 4, 3)
        );
        assert_eq!(r.confidence(), 0.5);
    }
}
