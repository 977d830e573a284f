//! The two tree kernels of issue 16: the forest's prediction walk (compact nodes on binned rows, many
//! rows per tree) and the GBDT's histogram building (row by row over packed bins, a fixed sum order),
//! on seeded synthetic data of the feature table's shape (26 features, a non-linear label).
//!
//! ```text
//! cargo bench -p cartseq-models --bench tree_kernels
//! ```

#![allow(missing_docs)] // criterion_group! generates an undocumented public function

use std::hint::black_box;

use cartseq_models::forest::RandomForest;
use cartseq_models::gbdt::Gbdt;
use cartseq_models::{Classifier, Dataset, WithShared};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn data(n: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((n, 26), |(_, j)| {
        let v: f64 = rng.gen_range(0.0..1.0);
        if j % 3 == 0 {
            (v * 12.0).floor() // count-like columns with few values
        } else {
            v
        }
    });
    let y: Array1<usize> = x
        .rows()
        .into_iter()
        .map(|r| {
            usize::from(r[0] * 0.1 + r[1] * r[2] + 0.3 * r[4] + rng.gen_range(-0.3..0.3) > 0.8)
        })
        .collect();
    Dataset::new(x, y, 2).expect("valid synthetic data")
}

fn bench(c: &mut Criterion) {
    let train = data(20_000, 1);
    let test = data(20_000, 2);
    let mut g = c.benchmark_group("tree_kernels");
    g.sample_size(10);

    let forest = RandomForest::params()
        .n_trees(20)
        .seed(1)
        .fit(&train)
        .expect("forest fits");
    g.throughput(Throughput::Elements((test.nrows() * 20) as u64));
    g.bench_function("forest_predict/20k_rows_x_20_full_trees", |b| {
        b.iter(|| black_box(forest.predict_proba(&test).expect("predicts")))
    });

    // 10 rounds of 31 leaves: the histograms are most of a round's time.
    let p = Gbdt::params().n_estimators(10).early_stopping(Some(false));
    g.throughput(Throughput::Elements((train.nrows() * 26 * 10) as u64));
    g.bench_function("gbdt_histograms/20k_rows_x_26_features_x_10_rounds", |b| {
        b.iter(|| black_box(p.fit(&train).expect("fits")))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
