//! Property test: Apriori and FP-Growth against a brute-force oracle (every subset of the item universe
//! counted directly) on random small basket databases, with and without a length limit.

use cartseq_mining::itemsets::{
    Apriori, FpGrowth, ItemsetMiner, ItemsetParams, MinSupport, Transactions,
};
use proptest::prelude::*;

use crate::support::proptest_cases;

/// Every itemset over items 0..u with support ≥ minsup, as (items, support), sorted like the miners.
fn oracle(tx: &[Vec<u32>], u: u32, minsup: u32, max_len: usize) -> Vec<(Vec<u32>, u32)> {
    let mut out = Vec::new();
    for mask in 1u32..(1 << u) {
        let set: Vec<u32> = (0..u).filter(|i| mask & (1 << i) != 0).collect();
        if set.len() > max_len {
            continue;
        }
        let sup = tx
            .iter()
            .filter(|t| set.iter().all(|i| t.contains(i)))
            .count() as u32;
        if sup >= minsup {
            out.push((set, sup));
        }
    }
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

fn baskets() -> impl Strategy<Value = (u32, Vec<Vec<u32>>)> {
    (2u32..=9).prop_flat_map(|u| {
        (
            Just(u),
            prop::collection::vec(prop::collection::vec(0..u, 0..=u as usize), 1..30),
        )
    })
}

proptest! {
    #![proptest_config(proptest_cases(300))]

    #[test]
    fn miners_equal_oracle((u, raw) in baskets(), minsup in 1u32..6, max_len in 0usize..5) {
        let tx = Transactions::from_lists(raw.iter());
        let dedup: Vec<Vec<u32>> = (0..tx.len()).map(|t| tx.get(t).to_vec()).collect();
        let want = oracle(&dedup, u, minsup, if max_len == 0 { usize::MAX } else { max_len });
        let p = ItemsetParams::new(MinSupport::Count(minsup)).max_len(max_len);
        for (name, got) in [
            ("fpgrowth", FpGrowth::new(p.clone()).unwrap().mine(&tx).unwrap()),
            ("apriori", Apriori::new(p.clone()).unwrap().mine(&tx).unwrap()),
        ] {
            let got: Vec<(Vec<u32>, u32)> =
                got.iter().map(|(s, c)| (s.iter().map(|i| i.0).collect(), c)).collect();
            prop_assert_eq!(&got, &want, "{}", name);
        }
    }

    #[test]
    fn same_answer_for_any_thread_count((_u, raw) in baskets(), minsup in 1u32..4) {
        let tx = Transactions::from_lists(raw.iter());
        let p = ItemsetParams::new(MinSupport::Count(minsup));
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap()
            .install(|| FpGrowth::new(p.clone()).unwrap().mine(&tx).unwrap());
        let three = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap()
            .install(|| FpGrowth::new(p.clone()).unwrap().mine(&tx).unwrap());
        prop_assert_eq!(one, three);
    }
}
