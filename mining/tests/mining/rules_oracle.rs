//! Property tests: every rule kind against a brute-force oracle on random small databases.
//!
//! * association rules — all splits of all brute-force frequent itemsets, every measure recomputed from
//!   direct counts with the textbook formulas;
//! * sequential rules (RuleGrowth semantics, with and without a window) — every pair of disjoint
//!   itemsets over the universe, occurrence checked by the definition (some split point / some window);
//! * pattern rules — PrefixSpan's patterns turned into rules, against rules built from patterns and
//!   supports counted by direct subsequence tests;
//! * "A then B" rules — from a complete or a top-k pattern set, against every item pair counted
//!   directly, in the documented order (confidence, support, A, B).

use std::collections::BTreeMap;

use cartseq_data::sequence_db::from_nested;
use cartseq_data::ItemId;
use cartseq_mining::itemsets::{FpGrowth, ItemsetMiner, ItemsetParams, MinSupport, Transactions};
use cartseq_mining::rules::association::{association_rules, AssociationParams};
use cartseq_mining::rules::pattern::{pattern_rules, then_rules, PatternRef, PatternRuleParams};
use cartseq_mining::rules::sequential::{sequential_rules, SequentialParams};
use cartseq_mining::rules::{Rule, RuleSet};
use cartseq_mining::{CollectSink, Miner, PrefixSpan};
use proptest::prelude::*;

use crate::support::proptest_cases;

type Key = (Vec<Vec<u32>>, Vec<Vec<u32>>);
type Counts = (u32, u32, u32);

fn keyed(rs: &RuleSet) -> BTreeMap<Key, Counts> {
    rs.rules
        .iter()
        .map(|r: &Rule| {
            let side =
                |s: &Vec<Vec<ItemId>>| s.iter().map(|x| x.iter().map(|i| i.0).collect()).collect();
            (
                (side(&r.antecedent), side(&r.consequent)),
                (r.support, r.antecedent_support, r.consequent_support),
            )
        })
        .collect()
}

fn subsets(u: u32) -> Vec<Vec<u32>> {
    (1u32..(1 << u))
        .map(|m| (0..u).filter(|i| m & (1 << i) != 0).collect())
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a.is_infinite() && b.is_infinite()) || (a - b).abs() <= 1e-12 * (1.0 + b.abs())
}

fn baskets() -> impl Strategy<Value = (u32, Vec<Vec<u32>>)> {
    (2u32..=7).prop_flat_map(|u| {
        (
            Just(u),
            prop::collection::vec(prop::collection::vec(0..u, 1..=u as usize), 1..25),
        )
    })
}

fn sequences() -> impl Strategy<Value = (u32, Vec<Vec<Vec<u32>>>)> {
    (2u32..=5).prop_flat_map(|u| {
        (
            Just(u),
            prop::collection::vec(
                prop::collection::vec(prop::collection::vec(0..u, 1..=2), 1..7),
                1..14,
            ),
        )
    })
}

/// Sequence as sorted, de-duplicated itemsets.
fn norm(s: &[Vec<u32>]) -> Vec<Vec<u32>> {
    s.iter()
        .map(|x| {
            let mut v = x.clone();
            v.sort_unstable();
            v.dedup();
            v
        })
        .collect()
}

fn holds_in(set: &[u32], seq_part: &[Vec<u32>]) -> bool {
    set.iter().all(|i| seq_part.iter().any(|s| s.contains(i)))
}

/// Some split k: X within s[..k], Y within s[k..]; with a window, inside s[a..a+w).
fn rule_occurs(s: &[Vec<u32>], x: &[u32], y: &[u32], w: Option<usize>) -> bool {
    let len = s.len();
    let w = w.unwrap_or(len);
    for a in 0..len {
        let end = (a + w).min(len);
        for k in a + 1..end {
            if holds_in(x, &s[a..k]) && holds_in(y, &s[k..end]) {
                return true;
            }
        }
    }
    false
}

/// Whether pattern p is a subsequence of s.
fn contains(s: &[Vec<u32>], p: &[Vec<u32>]) -> bool {
    let mut j = 0;
    for set in p {
        while j < s.len() && !set.iter().all(|i| s[j].contains(i)) {
            j += 1;
        }
        if j == s.len() {
            return false;
        }
        j += 1;
    }
    true
}

proptest! {
    #![proptest_config(proptest_cases(250))]

    #[test]
    fn association_rules_equal_oracle((u, raw) in baskets(), minsup in 1u32..5, conf_pct in 0u32..=100) {
        let minconf = f64::from(conf_pct) / 100.0;
        let tx = Transactions::from_lists(raw.iter());
        let txs: Vec<Vec<u32>> = tx.iter().map(|t| t.to_vec()).collect();
        let n = txs.len();
        let sup = |s: &[u32]| txs.iter().filter(|t| s.iter().all(|i| t.contains(i))).count() as u32;
        let mut want: BTreeMap<Key, Counts> = BTreeMap::new();
        for z in subsets(u) {
            let sz = sup(&z);
            if z.len() < 2 || sz < minsup {
                continue;
            }
            for m in 1u32..(1 << z.len()) - 1 {
                let y: Vec<u32> = z.iter().enumerate().filter(|(k, _)| m & (1 << k) != 0).map(|(_, &i)| i).collect();
                let x: Vec<u32> = z.iter().enumerate().filter(|(k, _)| m & (1 << k) == 0).map(|(_, &i)| i).collect();
                let (sx, sy) = (sup(&x), sup(&y));
                if f64::from(sz) / f64::from(sx) >= minconf {
                    want.insert((vec![x], vec![y]), (sz, sx, sy));
                }
            }
        }
        let fi = FpGrowth::new(ItemsetParams::new(MinSupport::Count(minsup))).unwrap().mine(&tx).unwrap();
        let rs = association_rules(&fi, &AssociationParams::new(minconf).unwrap()).unwrap();
        prop_assert_eq!(keyed(&rs), want);
        for r in &rs.rules {
            let m = r.measures(n);
            let nf = n as f64;
            let (s, a, c) = (f64::from(r.support) / nf, f64::from(r.antecedent_support) / nf, f64::from(r.consequent_support) / nf);
            let conf = s / a;
            prop_assert!(close(m.support, s));
            prop_assert!(close(m.confidence, conf));
            prop_assert!(close(m.lift, conf / c));
            prop_assert!(close(m.leverage, s - a * c));
            let conv = if r.support == r.antecedent_support { f64::INFINITY } else { (1.0 - c) / (1.0 - conf) };
            prop_assert!(close(m.conviction, conv));
        }
    }

    #[test]
    fn sequential_rules_equal_oracle((u, raw) in sequences(), minsup in 1u32..4, conf_pct in 0u32..=100, w in 0usize..5) {
        let minconf = f64::from(conf_pct) / 100.0;
        let window = if w < 2 { None } else { Some(w) };
        let seqs: Vec<Vec<Vec<u32>>> = raw.iter().map(|s| norm(s)).collect();
        let db = from_nested(&seqs);
        let count = |f: &dyn Fn(&[Vec<u32>]) -> bool| seqs.iter().filter(|s| f(s)).count() as u32;
        let mut want: BTreeMap<Key, Counts> = BTreeMap::new();
        let all = subsets(u);
        for x in &all {
            for y in &all {
                if x.iter().any(|i| y.contains(i)) {
                    continue;
                }
                let s = count(&|q| rule_occurs(q, x, y, window));
                if s < minsup || s == 0 {
                    continue;
                }
                let sx = count(&|q| holds_in(x, q));
                let sy = count(&|q| holds_in(y, q));
                if f64::from(s) / f64::from(sx) >= minconf {
                    want.insert((vec![x.clone()], vec![y.clone()]), (s, sx, sy));
                }
            }
        }
        let mut p = SequentialParams::new(MinSupport::Count(minsup), minconf).unwrap();
        if let Some(w) = window {
            p = p.window(w).unwrap();
        }
        let rs = sequential_rules(&db, &p).unwrap();
        prop_assert_eq!(keyed(&rs), want);
    }

    #[test]
    fn pattern_rules_equal_oracle((_u, raw) in sequences(), minsup in 1u32..4, conf_pct in 0u32..=100) {
        let minconf = f64::from(conf_pct) / 100.0;
        let seqs: Vec<Vec<Vec<u32>>> = raw.iter().map(|s| norm(s)).collect();
        let db = from_nested(&seqs);
        let miner = PrefixSpan::params().min_count(minsup).max_len(4).check().unwrap();
        let mut sink = CollectSink::new();
        miner.mine(&db, &mut sink).unwrap();
        let pats = sink.into_sorted();
        let refs: Vec<PatternRef<'_>> = pats.iter().map(|p| (p.itemsets().collect(), p.support)).collect();
        let rs = pattern_rules(&refs, db.len(), minsup, &PatternRuleParams::new(minconf).unwrap()).unwrap();
        let sup = |p: &[Vec<u32>]| seqs.iter().filter(|s| contains(s, p)).count() as u32;
        let mut want: BTreeMap<Key, Counts> = BTreeMap::new();
        for p in &pats {
            let sets: Vec<Vec<u32>> = p.itemsets().map(|s| s.iter().map(|i| i.0).collect()).collect();
            prop_assert_eq!(sup(&sets), p.support);
            for cut in 1..sets.len() {
                let (x, y) = sets.split_at(cut);
                let (sx, sy) = (sup(x), sup(y));
                if f64::from(p.support) / f64::from(sx) >= minconf {
                    want.insert((x.to_vec(), y.to_vec()), (p.support, sx, sy));
                }
            }
        }
        prop_assert_eq!(keyed(&rs), want);
    }

    #[test]
    fn then_rules_equal_brute_force(
        (u, raw) in sequences(),
        minsup in 1u32..4,
        top_k in prop::option::of(1usize..10),
    ) {
        let seqs: Vec<Vec<Vec<u32>>> = raw.iter().map(|s| norm(s)).collect();
        let db = from_nested(&seqs);
        let mut params = PrefixSpan::params().min_count(minsup).max_len(3);
        if let Some(k) = top_k {
            params = params.top_k(k);
        }
        let mut sink = CollectSink::new();
        let stats = params.check().unwrap().mine(&db, &mut sink).unwrap();
        let pats = sink.into_sorted();
        let rs = then_rules(&pats, db.len(), stats.min_count).unwrap();
        // Every pair (a, b), a possibly equal to b, with its support counted by definition.
        let sup = |p: &[Vec<u32>]| seqs.iter().filter(|s| contains(s, p)).count() as u32;
        let mut want: Vec<(u32, u32, u32, u32, u32)> = Vec::new();
        for a in 0..u {
            for b in 0..u {
                let s = sup(&[vec![a], vec![b]]);
                if s >= stats.min_count {
                    want.push((a, b, s, sup(&[vec![a]]), sup(&[vec![b]])));
                }
            }
        }
        let conf = |w: &(u32, u32, u32, u32, u32)| f64::from(w.2) / f64::from(w.3);
        want.sort_by(|x, y| {
            conf(y).total_cmp(&conf(x)).then(y.2.cmp(&x.2)).then((x.0, x.1).cmp(&(y.0, y.1)))
        });
        let got: Vec<(u32, u32, u32, u32, u32)> = rs
            .rules
            .iter()
            .map(|r| {
                (
                    r.antecedent[0][0].0,
                    r.consequent[0][0].0,
                    r.support,
                    r.antecedent_support,
                    r.consequent_support,
                )
            })
            .collect();
        prop_assert_eq!(&got, &want);
        let n = db.len() as f64;
        for (r, w) in rs.rules.iter().zip(&want) {
            prop_assert_eq!(r.antecedent.len(), 1);
            prop_assert_eq!(r.consequent.len(), 1);
            let m = r.measures(db.len());
            prop_assert_eq!(m.confidence, conf(w));
            let lift = f64::from(w.2) * n / (f64::from(w.3) * f64::from(w.4));
            prop_assert!(close(m.lift, lift), "lift {} vs {}", m.lift, lift);
        }
    }
}
