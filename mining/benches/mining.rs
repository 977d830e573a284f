//! Criterion micro-benches: PrefixSpan's pseudo-projection and SPADE's id-list joins, on a seeded
//! synthetic click database (Zipf-like item popularity, 20,000 sequences); the bitmap kernel (`Spam`)
//! against SPADE on a seeded dense database (30 items, 2,000 sequences of 40–120 itemsets); PrefixSpan on
//! the SIGN sample at 20 % (the bitmap kernel, chosen automatically since issue 16) against SPADE;
//! and PrefixSpan's position index on click data with a few long sessions
//! (the direct rank tables of long sequences).

#![allow(clippy::unwrap_used)]
#![allow(missing_docs)] // criterion_group! generates an undocumented public function

use std::path::Path;

use cartseq_data::input::{open_input, LineReader};
use cartseq_data::sequence_db::from_nested;
use cartseq_data::{OnError, SequenceDb};
use cartseq_mining::spade::{IdList, Joiner};
use cartseq_mining::{Algorithm, CollectSink, MinSupport, Miner, Options, Params, Spam};
use criterion::{criterion_group, criterion_main, Criterion};

/// A seeded xorshift64 generator (the benches' databases are the same on every run).
fn xorshift(mut s: u64) -> impl FnMut() -> u64 {
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    }
}

fn synthetic(n: usize, seed: u64) -> SequenceDb {
    let mut next = xorshift(seed);
    let seqs: Vec<Vec<Vec<u32>>> = (0..n)
        .map(|_| {
            let len = 1 + (next() % 12) as usize;
            (0..len)
                .map(|_| {
                    // Skewed popularity: the square of a uniform draw.
                    let u = next() % 1000;
                    vec![(u * u / 2000) as u32]
                })
                .collect()
        })
        .collect();
    from_nested(&seqs)
}

/// Long sequences over 30 items of Zipf-like popularity (the `zipf30` shape of benches/gen_dense.py,
/// smaller).
fn dense(n: usize, seed: u64) -> SequenceDb {
    let mut next = xorshift(seed);
    let weights: Vec<f64> = (1..=30).map(|i| 1.0 / i as f64).collect();
    let total: f64 = weights.iter().sum();
    let seqs: Vec<Vec<Vec<u32>>> = (0..n)
        .map(|_| {
            let len = 40 + (next() % 81) as usize;
            (0..len)
                .map(|_| {
                    let mut u = (next() % 1_000_000) as f64 / 1e6 * total;
                    let mut k = 0;
                    while k < 29 && u >= weights[k] {
                        u -= weights[k];
                        k += 1;
                    }
                    vec![k as u32]
                })
                .collect()
        })
        .collect();
    from_nested(&seqs)
}

fn bench_dense(c: &mut Criterion) {
    let db = dense(2_000, 7);
    let opts = Options {
        min_support: MinSupport::Count(1_300),
        ..Options::default()
    };
    let spam: Spam = Params::from_options(opts.clone()).check().unwrap();
    let spade = Algorithm::Spade.miner(opts).unwrap();
    let miners: [(&str, &dyn Miner); 2] = [("bitmap kernel", &spam), ("spade joins", &*spade)];
    for (name, m) in miners {
        c.bench_function(
            &format!("dense: {name} (2k seqs of 40-120, 30 items, min 1300)"),
            |b| b.iter(|| mine_count(m, &db)),
        );
    }
}

/// Mines `db` with `m` into memory, returning the number of patterns.
fn mine_count(m: &dyn Miner, db: &SequenceDb) -> usize {
    let mut s = CollectSink::new();
    m.mine(db, &mut s).unwrap();
    s.patterns.len()
}

/// SIGN (730 sequences of 18–94 single-item itemsets, 267 items) at 20 %: 9,718 patterns. PrefixSpan
/// takes the bitmap kernel there by itself (4.3 bitmap words per item occurrence).
fn bench_sign(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/samples/SIGN.txt");
    let input = open_input(&path).unwrap();
    let db = cartseq_data::spmf::read_spmf(&mut LineReader::from_input(input), OnError::Fail)
        .unwrap()
        .db;
    let opts = Options {
        min_support: MinSupport::parse("0.2").unwrap(),
        ..Options::default()
    };
    for (name, algo) in [
        ("prefixspan (bitmap kernel)", Algorithm::PrefixSpan),
        ("spade joins", Algorithm::Spade),
    ] {
        let m = algo.miner(opts.clone()).unwrap();
        c.bench_function(&format!("SIGN 20%: {name}"), |b| {
            b.iter(|| mine_count(&*m, &db))
        });
    }
}

/// Click data where 1 % of the sessions are 60–250 clicks long over 300 items: deep patterns
/// supported by the long sessions, found through the position index.
fn bench_long_sessions(c: &mut Criterion) {
    let mut rng = xorshift(0x5851_f42d_4c95_7f2d);
    let mut next = move |m: u64| rng() % m;
    let seqs: Vec<Vec<Vec<u32>>> = (0..20_000)
        .map(|i| {
            let len = if i % 100 == 0 {
                60 + next(190)
            } else {
                1 + next(6)
            };
            (0..len)
                .map(|_| vec![(next(300) * next(300) / 300) as u32])
                .collect()
        })
        .collect();
    let db = from_nested(&seqs);
    let opts = Options {
        min_support: MinSupport::Count(100),
        ..Options::default()
    };
    let m = Algorithm::PrefixSpan.miner(opts).unwrap();
    c.bench_function(
        "prefixspan position index (20k seqs, 1% of 60-250 clicks, min 100)",
        |b| b.iter(|| mine_count(&*m, &db)),
    );
}

fn bench(c: &mut Criterion) {
    let db = synthetic(20_000, 42);
    for (name, algo) in [
        ("prefixspan projection", Algorithm::PrefixSpan),
        ("spade joins", Algorithm::Spade),
    ] {
        let opts = Options {
            min_support: MinSupport::Count(100),
            ..Options::default()
        };
        let m = algo.miner(opts).unwrap();
        c.bench_function(&format!("{name} (20k seqs, min 100)"), |b| {
            b.iter(|| mine_count(&*m, &db))
        });
    }
    let a: Vec<(u32, u32)> = (0..50_000u32).map(|i| (i / 3, i % 3 * 2)).collect();
    let bb: Vec<(u32, u32)> = (0..50_000u32).map(|i| (i / 2, i % 2 * 3)).collect();
    let (la, lb) = (IdList::from_pairs(&a), IdList::from_pairs(&bb));
    let j = Joiner::unconstrained(1);
    c.bench_function("id-list temporal join (17k x 25k sequences)", |b| {
        b.iter(|| j.s_join(&la, &lb).map(|l| l.support()))
    });
    c.bench_function("id-list equality join (17k x 25k sequences)", |b| {
        b.iter(|| j.i_join(&la, &lb).map(|l| l.support()))
    });
}

criterion_group!(benches, bench, bench_dense, bench_sign, bench_long_sessions);
criterion_main!(benches);
