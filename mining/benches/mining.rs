//! Criterion micro-benches: PrefixSpan's pseudo-projection and SPADE's id-list joins, on a seeded
//! synthetic click database (Zipf-like item popularity, 20,000 sequences); the bitmap kernel (`Spam`)
//! against SPADE on a seeded dense database (30 items, 2,000 sequences of 40–120 itemsets).

#![allow(clippy::unwrap_used)]
#![allow(missing_docs)] // criterion_group! generates an undocumented public function

use cartseq_data::sequence_db::from_nested;
use cartseq_data::SequenceDb;
use cartseq_mining::spade::{IdList, Joiner};
use cartseq_mining::{Algorithm, CollectSink, MinSupport, Miner, Options, Params, Spam};
use criterion::{criterion_group, criterion_main, Criterion};

/// Marsaglia's xorshift64 generator from `seed` (non-zero): the benches' seeded draws.
fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed;
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
            |b| {
                b.iter(|| {
                    let mut s = CollectSink::new();
                    m.mine(&db, &mut s).unwrap();
                    s.patterns.len()
                })
            },
        );
    }
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
            b.iter(|| {
                let mut s = CollectSink::new();
                m.mine(&db, &mut s).unwrap();
                s.patterns.len()
            })
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

criterion_group!(benches, bench, bench_dense);
criterion_main!(benches);
