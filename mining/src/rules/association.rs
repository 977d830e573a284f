//! Association rules X ⇒ Y from frequent itemsets (Agrawal & Srikant 1994, "ap-genrules").
//!
//! For every frequent itemset Z of two or more items and every split Z = X ∪ Y (X, Y non-empty,
//! disjoint), the rule X ⇒ Y is kept when sup(Z) / sup(X) ≥ min confidence. Consequents grow level by
//! level and a consequent is only extended if its rule passed, which is exact because the confidence
//! of X ⇒ Y can only drop when items move from X to Y. The supports of X and Y are looked up among the
//! frequent itemsets (every subset of a frequent itemset is frequent).
//!
//! This is the rule set SPMF's `FPGrowth_association_rules_with_lift` produces (with min lift 0), with
//! identical confidence and lift values.
//!
//! Cost: one hash lookup per candidate rule; memory is a hash index over the itemsets plus the rules.
//! Parallelism: itemsets are processed independently with rayon; the result is sorted.

use hashbrown::HashMap;
use rayon::prelude::*;

use cartseq_data::ItemId;

use super::{Rule, RuleBudget, RuleError, RuleKind, RuleParams, RuleSet};
use crate::itemsets::apriori::apriori_join;
use crate::itemsets::FrequentItemsets;

/// Validated parameters of association-rule generation.
pub type AssociationParams = RuleParams<()>;

impl AssociationParams {
    /// Rules with confidence at least `min_confidence` (in [0, 1]); at most 10,000,000 rules.
    pub fn new(min_confidence: f64) -> Result<Self, RuleError> {
        Self::checked(min_confidence, ())
    }
}

/// Generates every association rule of `itemsets` that passes `params`, sorted by lift.
pub fn association_rules(
    itemsets: &FrequentItemsets,
    params: &AssociationParams,
) -> Result<RuleSet, RuleError> {
    let index: HashMap<&[ItemId], u32> = itemsets.iter().collect();
    let n = itemsets.transactions();
    let budget = RuleBudget::new(params.max_rules);
    let per_set: Vec<Vec<Rule>> = (0..itemsets.len())
        .into_par_iter()
        .map(|k| {
            let (z, sup) = itemsets.get(k);
            budget.tick();
            if z.len() < 2 || budget.exceeded() {
                return Vec::new();
            }
            let rules = rules_of(z, sup, &index, params, n);
            budget.add(rules.len());
            rules
        })
        .collect();
    budget.finish(RuleKind::Association, per_set, n, itemsets.min_support())
}

/// All rules from one itemset `z` (ascending) with support `sup`.
fn rules_of(
    z: &[ItemId],
    sup: u32,
    index: &HashMap<&[ItemId], u32>,
    p: &AssociationParams,
    n: usize,
) -> Vec<Rule> {
    let mut out = Vec::new();
    let max_cons = p.filter.max_consequent.unwrap_or(usize::MAX);
    // Consequents of the current level (each ascending, as positions into z), flat.
    let mut level: Vec<u32> = Vec::new();
    let mut m = 1usize;
    let mut ante: Vec<ItemId> = Vec::with_capacity(z.len());
    let mut cons: Vec<ItemId> = Vec::with_capacity(z.len());
    let mut try_rule = |pos: &[u32], out: &mut Vec<Rule>| -> bool {
        ante.clear();
        cons.clear();
        let mut j = 0;
        for (i, &it) in z.iter().enumerate() {
            if j < pos.len() && pos[j] as usize == i {
                cons.push(it);
                j += 1;
            } else {
                ante.push(it);
            }
        }
        let (Some(&sa), Some(&sc)) = (index.get(&ante[..]), index.get(&cons[..])) else {
            return false;
        };
        let r = Rule::of_itemsets(ante.clone(), cons.clone(), sup, sa, sc);
        if r.confidence() < p.min_confidence {
            return false;
        }
        if p.filter.keep(&r, n) {
            out.push(r);
        }
        true
    };
    for i in 0..z.len() as u32 {
        if try_rule(&[i], &mut out) {
            level.push(i);
        }
    }
    while !level.is_empty() && m + 1 < z.len() && m < max_cons {
        // Join consequents sharing their first m−1 positions.
        let mut next: Vec<u32> = Vec::new();
        apriori_join(&level, m, |cand| {
            if try_rule(cand, &mut out) {
                next.extend_from_slice(cand);
            }
        });
        level = next;
        m += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::itemsets::fixtures::frequent;
    use crate::itemsets::Transactions;

    #[test]
    fn small_example() {
        let tx = Transactions::from_lists([
            vec![1, 2, 3],
            vec![1, 2],
            vec![1, 3],
            vec![2, 3],
            vec![1, 2, 3],
        ]);
        let fi = frequent(&tx, 2);
        let rs = association_rules(&fi, &AssociationParams::new(0.0).unwrap()).unwrap();
        // 3 pairs × 2 directions + 1 triple × 6 splits.
        assert_eq!(rs.len(), 12);
        let r = rs
            .rules
            .iter()
            .find(|r| r.antecedent == vec![vec![ItemId(1), ItemId(2)]])
            .unwrap();
        assert_eq!(
            (r.support, r.antecedent_support, r.consequent_support),
            (2, 3, 4)
        );
    }
}
