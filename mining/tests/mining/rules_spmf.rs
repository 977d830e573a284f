//! Equality with SPMF's outputs in `../shared/reference/`: FP-Growth itemsets and association rules on
//! retail.txt, RuleGrowth on contextPrefixSpan, SIGN, BMS1 and kosarak10k — same lines, same numbers
//! (SPMF prints Java doubles; we print them the same way).
//!
//! Skips with a printed reason when `../shared` is absent, except under `CI=true`.

use cartseq_mining::itemsets::{Apriori, FpGrowth, ItemsetMiner, ItemsetParams, MinSupport};
use cartseq_mining::rules::association::{association_rules, AssociationParams};
use cartseq_mining::rules::format::{itemset_line, rule_line};
use cartseq_mining::rules::sequential::{sequential_rules, SequentialParams};
use cartseq_mining::rules::RuleSet;

use crate::support::{assert_same_lines, baskets, reference, shared, spmf_db};

/// The rules as SPMF prints them.
fn rule_lines(rs: &RuleSet) -> Vec<String> {
    rs.rules
        .iter()
        .map(|r| rule_line(rs.kind, r, rs.n))
        .collect()
}

#[test]
fn fpgrowth_and_apriori_itemsets_equal_spmf_on_retail() {
    let Some(sh) = shared() else { return };
    let tx = baskets(&sh.join("data/fimi_retail/retail.txt"));
    assert_eq!(tx.len(), 88_162);
    for (sup, file) in [
        ("0.01", "retail/fpgrowth-0.01.txt"),
        ("0.001", "retail/fpgrowth-0.001.txt"),
    ] {
        let want = reference(&sh, file);
        let p = ItemsetParams::new(MinSupport::parse(sup).unwrap());
        let fp = FpGrowth::new(p.clone()).unwrap().mine(&tx).unwrap();
        let mut got: Vec<String> = fp.iter().map(|(s, c)| itemset_line(s, c)).collect();
        assert_same_lines(&mut got, &want, &format!("FP-Growth {sup}"));
        let ap = Apriori::new(p).unwrap().mine(&tx).unwrap();
        assert_eq!(ap, fp, "Apriori = FP-Growth at {sup}");
    }
}

#[test]
fn association_rules_equal_spmf_on_retail() {
    let Some(sh) = shared() else { return };
    let tx = baskets(&sh.join("data/fimi_retail/retail.txt"));
    for (sup, conf, file) in [
        ("0.01", 0.3, "retail/assocrules-0.01-0.3.txt"),
        ("0.002", 0.5, "retail/assocrules-0.002-0.5.txt"),
    ] {
        let want = reference(&sh, file);
        let fi = FpGrowth::new(ItemsetParams::new(MinSupport::parse(sup).unwrap()))
            .unwrap()
            .mine(&tx)
            .unwrap();
        let rs = association_rules(&fi, &AssociationParams::new(conf).unwrap()).unwrap();
        let mut got = rule_lines(&rs);
        assert_same_lines(&mut got, &want, &format!("association rules {sup}/{conf}"));
    }
}

#[test]
fn rulegrowth_equals_spmf() {
    let Some(sh) = shared() else { return };
    for (data, sup, conf, file) in [
        (
            "spmf/contextPrefixSpan.txt",
            "0.5",
            0.6,
            "contextPrefixSpan/rulegrowth-0.5-0.6.txt",
        ),
        ("spmf/SIGN.txt", "0.4", 0.6, "SIGN/rulegrowth-0.4-0.6.txt"),
        (
            "spmf/BMS1_spmf.txt",
            "0.001",
            0.5,
            "BMS1/rulegrowth-0.001-0.5.txt",
        ),
        (
            "spmf/kosarak10k.txt",
            "0.005",
            0.5,
            "kosarak10k/rulegrowth-0.005-0.5.txt",
        ),
    ] {
        let want = reference(&sh, file);
        let db = spmf_db(&sh.join("data").join(data));
        let p = SequentialParams::new(MinSupport::parse(sup).unwrap(), conf).unwrap();
        let rs = sequential_rules(&db, &p).unwrap();
        let mut got = rule_lines(&rs);
        assert_same_lines(&mut got, &want, &format!("RuleGrowth {data}"));
    }
}
