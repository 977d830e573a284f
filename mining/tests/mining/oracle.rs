//! The one property test: PrefixSpan, SPADE, GSP and the bitmap kernel (`Spam`) agree with the
//! brute-force oracle (every sub-pattern of every sequence enumerated) on random small databases with
//! multi-item itemsets, repeated items and timestamps, under random constraints, closed/maximal/top-k
//! included. Closed, maximal and top-k are derived here from the oracle's frequent set by their plain
//! definitions (pairwise sub-pattern tests), independently of the driver's one-item-extension shortcut.

use cartseq_data::{ItemId, KeyId, SequenceDb, SequenceDbBuilder};
use cartseq_mining::bruteforce::BruteForce;
use cartseq_mining::{
    Algorithm, CollectSink, Condense, FrequentRun, Limit, MinSupport, Miner, Options, Pattern, Spam,
};
use proptest::prelude::*;

use crate::support::proptest_cases;

type RawDb = Vec<Vec<(Vec<u32>, i64)>>;

fn build(raw: &RawDb) -> SequenceDb {
    let mut b = SequenceDbBuilder::new(true);
    for (k, s) in raw.iter().enumerate() {
        let mut t = 0i64;
        for (set, dt) in s {
            t += dt;
            let items: Vec<ItemId> = set.iter().map(|&x| ItemId(x)).collect();
            b.push_itemset(&items, Some(t)).unwrap();
        }
        b.end_sequence(KeyId(k as u32)).unwrap();
    }
    b.build()
}

fn db_strategy() -> impl Strategy<Value = RawDb> {
    let itemset = (prop::collection::vec(0u32..5, 1..4), 0i64..4);
    let seq = prop::collection::vec(itemset, 1..6);
    prop::collection::vec(seq, 1..7)
}

fn options_strategy() -> impl Strategy<Value = Options> {
    (
        1u32..4,
        prop::option::of(1usize..5),
        prop::option::of(1usize..4),
        prop::option::of(1u32..4),
        prop::option::of(2u32..5),
        prop::option::of(0i64..6),
        prop::option::of(0i64..8),
        prop::option::of(0u32..5),
        0u8..6,
        prop::option::of(1usize..12),
        1usize..3,
    )
        .prop_map(
            |(
                min,
                max_items,
                max_sets,
                gap,
                span,
                gap_s,
                span_s,
                first,
                mode,
                top_k,
                min_items,
            )| {
                let mut o = Options {
                    min_support: MinSupport::Count(min),
                    max_items,
                    max_itemsets: max_sets,
                    first_item: first.filter(|_| mode % 3 == 0).map(ItemId),
                    min_items: if mode == 5 { min_items } else { 1 },
                    ..Options::default()
                };
                if let Some(m) = o.max_items {
                    o.max_items = Some(m.max(o.min_items));
                }
                match mode {
                    // Occurrence constraints.
                    0 | 1 => {
                        o.max_gap = Limit {
                            positions: gap,
                            time: gap_s.filter(|_| mode == 1),
                        };
                        o.max_span = Limit {
                            positions: span,
                            time: span_s.filter(|_| mode == 1),
                        };
                        o.top_k = top_k.filter(|_| mode == 1);
                    }
                    2 => {
                        o.condense = Condense::Closed;
                        o.top_k = top_k;
                    }
                    3 => o.condense = Condense::Maximal,
                    4 => o.top_k = top_k,
                    _ => {}
                }
                o
            },
        )
}

/// The expected answer, by definition.
fn expected(db: &SequenceDb, o: &Options) -> Vec<Pattern> {
    let floor = o.min_support.absolute(db.len());
    let inner = Options {
        min_items: 1,
        min_itemsets: 1,
        first_item: None,
        condense: Condense::All,
        top_k: None,
        ..o.clone()
    };
    let mut all = Vec::new();
    BruteForce::params()
        .check()
        .unwrap()
        .mine_frequent(FrequentRun {
            db,
            opts: &inner,
            min_count: floor,
            sink: &mut all,
        })
        .unwrap();
    let strict_super = |p: &Pattern, q: &Pattern| p != q && p.is_subpattern_of(q);
    let mut kept: Vec<Pattern> = match o.condense {
        Condense::All => all,
        Condense::Closed => all
            .iter()
            .filter(|p| {
                !all.iter()
                    .any(|q| q.support == p.support && strict_super(p, q))
            })
            .cloned()
            .collect(),
        Condense::Maximal => all
            .iter()
            .filter(|p| !all.iter().any(|q| strict_super(p, q)))
            .cloned()
            .collect(),
    };
    kept.retain(|p| {
        p.num_items() >= o.min_items
            && p.num_itemsets() >= o.min_itemsets
            && o.first_item.map_or(true, |f| p.itemset(0).contains(&f))
    });
    kept.sort_by(|a, b| a.cmp_support_desc(b));
    if let Some(k) = o.top_k {
        if let Some(t) = kept.get(k - 1).map(|p| p.support) {
            kept.retain(|p| p.support >= t);
        }
    }
    kept
}

fn run(algo: Algorithm, db: &SequenceDb, o: &Options) -> Vec<Pattern> {
    run_miner(&*algo.miner(o.clone()).unwrap(), db)
}

fn run_miner(m: &dyn Miner, db: &SequenceDb) -> Vec<Pattern> {
    let mut sink = CollectSink::new();
    m.mine(db, &mut sink).unwrap();
    sink.into_sorted()
}

proptest! {
    #![proptest_config(proptest_cases(1500))]

    #[test]
    fn every_miner_agrees_with_the_oracle(raw in db_strategy(), o in options_strategy()) {
        let db = build(&raw);
        let want = expected(&db, &o);
        for algo in Algorithm::ALL {
            let got = run(algo, &db, &o);
            prop_assert_eq!(&got, &want, "{:?} with {:?} on {:?}", algo, o, raw);
        }
        let spam: Spam = cartseq_mining::Params::from_options(o.clone()).check().unwrap();
        prop_assert_eq!(&run_miner(&spam, &db), &want, "Spam with {:?} on {:?}", o, raw);
    }
}

#[test]
fn output_is_identical_for_any_thread_count() {
    // A larger random database, mined in a 1-thread and a 4-thread pool.
    let mut state = 0x9e3779b97f4a7c15u64;
    let mut next = move |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    let mut raw: RawDb = Vec::new();
    for _ in 0..400 {
        let len = 1 + next(12) as usize;
        raw.push(
            (0..len)
                .map(|_| {
                    let k = 1 + next(3) as usize;
                    ((0..k).map(|_| next(40) as u32).collect(), next(100) as i64)
                })
                .collect(),
        );
    }
    let db = build(&raw);
    for algo in Algorithm::ALL.map(Some).into_iter().chain([None]) {
        for o in [
            Options {
                min_support: MinSupport::Count(6),
                ..Options::default()
            },
            Options {
                min_support: MinSupport::Count(4),
                max_gap: Limit::positions(2),
                ..Options::default()
            },
        ] {
            let mine = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                // `None`: the bitmap kernel.
                let m: Box<dyn Miner> = match algo {
                    Some(a) => a.miner(o.clone()).unwrap(),
                    None => Box::new(
                        cartseq_mining::Params::<Spam>::from_options(o.clone())
                            .check()
                            .unwrap(),
                    ),
                };
                pool.install(|| {
                    let mut v = Vec::new();
                    m.mine(&db, &mut v).unwrap();
                    v
                })
            };
            let one = mine(1);
            assert!(one.len() > 100, "{algo:?}: {}", one.len());
            assert_eq!(one, mine(4), "{algo:?}");
        }
    }
}
