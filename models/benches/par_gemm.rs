//! Criterion bench of the parallel matrix product (`nn::param::par_gemm`) against one
//! single-threaded call (ndarray's `general_mat_mul`, matrixmultiply underneath), on 1 and 2
//! threads, for the products of one training step of the sequence classifier of
//! `benches/peers/run_nn.sh` (batch 64, embedding 64, hidden 100, 2,872 classes):
//!
//! ```text
//! cargo bench -p cartseq-models --bench par_gemm
//! ```
//! The bits are the same in every case (see `models/tests/models/nn_threads.rs`); only time differs.

#![allow(clippy::unwrap_used)]
#![allow(missing_docs)] // criterion_group! generates an undocumented public function

use cartseq_models::nn::param::par_gemm;
use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::linalg::general_mat_mul;
use ndarray::Array2;

fn mat(r: usize, c: usize, seed: usize) -> Array2<f32> {
    Array2::from_shape_fn((r, c), |(i, j)| {
        ((i * 31 + j * 17 + seed) % 97) as f32 / 97.0 - 0.5
    })
}

fn bench(c: &mut Criterion) {
    let pools: Vec<(usize, rayon::ThreadPool)> = [1, 2]
        .into_iter()
        .map(|t| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap();
            (t, pool)
        })
        .collect();
    // (name, m, k, n, b transposed): head forward, head dW, head dX, input projection, recurrence.
    let shapes = [
        ("head x·W (64×100·100×2872)", 64, 100, 2872, false),
        ("head xᵀ·dY (100×64·64×2872)", 100, 64, 2872, false),
        ("head dY·Wᵀ (64×2872·2872×100)", 64, 2872, 100, true),
        ("LSTM input x·W (215×64·64×400)", 215, 64, 400, false),
        ("LSTM step h·U (64×100·100×400)", 64, 100, 400, false),
    ];
    let mut g = c.benchmark_group("par_gemm");
    for (name, m, k, n, transposed) in shapes {
        let a = mat(m, k, 1);
        let b = if transposed {
            mat(n, k, 2)
        } else {
            mat(k, n, 2)
        };
        let bv = if transposed { b.t() } else { b.view() };
        let mut out = Array2::<f32>::zeros((m, n));
        g.bench_function(format!("{name}: one call"), |z| {
            z.iter(|| general_mat_mul(1.0, &a, &bv, 0.0, &mut out))
        });
        for (t, pool) in &pools {
            g.bench_function(format!("{name}: par_gemm, {t} threads"), |z| {
                z.iter(|| pool.install(|| par_gemm(a.view(), bv, 0.0, out.view_mut())))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
