//! Networks on every core, deterministically: the parallel matrix product gives the bits of one
//! single-threaded call for every shape, layout and thread count, and whole trainings (sequence
//! classifiers of every cell, GRU4Rec) save byte-identical models with 1, 2 and 3 threads. The
//! sizes are chosen so that the products are cut into several blocks and the recurrence into
//! several row blocks.

use cartseq_models::nextitem::{Gru4RecParams, NextItemLoss};
use cartseq_models::nn::param::par_gemm;
use cartseq_models::nn::recurrent::SEQ_ROWS;
use cartseq_models::nn::{CellKind, SeqClassifierParams};
use cartseq_models::{Classifier, Dataset, Persist, Sequences};
use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::nn_session_models::in_pool;
use crate::support::sequence_task;

fn rand_f32(r: usize, c: usize, rng: &mut ChaCha8Rng) -> Array2<f32> {
    Array2::from_shape_simple_fn((r, c), || rng.gen_range(-1.0..1.0))
}

/// Every shape the networks multiply (head, its two backward products, input projection,
/// recurrence) plus odd sizes, with `a` or `b` transposed, `β` 0 and 1, into a whole matrix and
/// into a column block of a wider one: bit for bit the one-call product, on 1 and 2 threads.
#[test]
fn parallel_product_has_the_bits_of_one_call() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let shapes = [
        (64, 100, 2872),
        (64, 2872, 100),
        (100, 64, 2872),
        (215, 64, 400),
        (64, 100, 300),
        (1, 100, 3000),
        (3000, 100, 1),
        (517, 33, 61),
        (7, 5, 3),
    ];
    for &(m, k, n) in &shapes {
        for transposed in [false, true] {
            let a = rand_f32(m, k, &mut rng);
            // Stored n × k and read through its transpose, or stored k × n.
            let b = if transposed {
                rand_f32(n, k, &mut rng)
            } else {
                rand_f32(k, n, &mut rng)
            };
            let c0 = rand_f32(m, n + 5, &mut rng);
            for beta in [0.0f32, 1.0] {
                let bv = if transposed { b.t() } else { b.view() };
                let mut want = c0.clone();
                general_mat_mul(1.0, &a, &bv, beta, &mut want.slice_mut(s![.., 2..2 + n]));
                for threads in [1, 2] {
                    let mut got = c0.clone();
                    in_pool(threads, || {
                        par_gemm(a.view(), bv, beta, got.slice_mut(s![.., 2..2 + n]))
                    });
                    let same = got
                        .iter()
                        .zip(&want)
                        .all(|(x, y)| x.to_bits() == y.to_bits());
                    assert!(
                        same,
                        "{m}×{k}·{k}×{n} (bᵀ {transposed}, β {beta}, {threads} threads)"
                    );
                }
            }
        }
    }
    // f64 (the gradient checks' precision) goes through the same cut.
    let a = Array2::from_shape_fn((90, 70), |(i, j)| ((i * 7 + j * 3) % 11) as f64 / 7.0 - 0.6);
    let b = Array2::from_shape_fn((70, 2000), |(i, j)| ((i * 5 + j) % 13) as f64 / 9.0 - 0.7);
    let mut want = Array2::zeros((90, 2000));
    general_mat_mul(1.0, &a, &b, 0.0, &mut want);
    let mut got = Array2::zeros((90, 2000));
    in_pool(2, || par_gemm(a.view(), b.view(), 0.0, got.view_mut()));
    assert!(got
        .iter()
        .zip(&want)
        .all(|(x, y)| x.to_bits() == y.to_bits()));
}

/// Random sequences of 1–6 tokens over 200 ids, 300 classes: the head (batch × hidden × classes)
/// is cut into several column blocks, a batch of 80 into three row blocks of the recurrence.
fn wide_task(n: usize) -> Dataset {
    sequence_task(n, 21, 200, 300, |rng| {
        let len = rng.gen_range(1..7);
        let tokens = (0..len).map(|_| rng.gen_range(0..200)).collect();
        (tokens, rng.gen_range(0..300))
    })
}

#[test]
fn classifier_training_is_identical_on_one_two_and_three_threads() {
    const { assert!(80 > 2 * SEQ_ROWS, "a batch spans three row blocks") };
    let ds = wide_task(400);
    for cell in [CellKind::Gru, CellKind::Lstm, CellKind::Rnn] {
        let fit = |threads| {
            in_pool(threads, || {
                let m = SeqClassifierParams::new(cell)
                    .embed_dim(16)
                    .hidden(vec![24, 20])
                    .batch_size(80)
                    .epochs(2)
                    .dropout(0.1)
                    .check()
                    .expect("valid")
                    .fit(&ds)
                    .expect("fits");
                let mut bytes = Vec::new();
                m.save(&mut bytes).expect("saves");
                (bytes, m.predict_proba(&ds).expect("predicts"))
            })
        };
        let one = fit(1);
        for threads in [2, 3] {
            let other = fit(threads);
            // Compared as booleans: a failure should not print megabytes of JSON.
            assert!(
                one.0 == other.0,
                "{cell:?}: weights differ, 1 vs {threads} threads"
            );
            assert!(
                one.1 == other.1,
                "{cell:?}: probabilities differ, 1 vs {threads} threads"
            );
        }
    }
}

/// Sessions of 2–8 clicks over 500 items: GRU4Rec's full softmax (batch × hidden × items) is cut
/// into several blocks.
fn wide_sessions(n: usize) -> Sequences {
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    let mut s = Sequences::empty(500);
    for _ in 0..n {
        let len = rng.gen_range(2..9);
        s.push_row((0..len).map(|_| rng.gen_range(0..500)));
    }
    s
}

#[test]
fn gru4rec_training_is_identical_on_one_and_two_threads() {
    let train = wide_sessions(300);
    for (cell, loss) in [
        (CellKind::Gru, NextItemLoss::Full),
        (CellKind::Lstm, NextItemLoss::Full),
    ] {
        let fit = |threads| {
            in_pool(threads, || {
                let mut p = Gru4RecParams::new(cell);
                p.embed_dim = 48;
                p.hidden = vec![48];
                p.epochs = 2;
                p.batch_size = 40;
                p.loss = loss;
                let mut m = p.check().expect("valid").fit(&train, None, &mut |_| {});
                let m = m.as_mut().expect("fits");
                // Wall-clock seconds are the only field allowed to differ.
                for e in &mut m.history {
                    e.seconds = 0.0;
                }
                let mut bytes = Vec::new();
                m.save(&mut bytes).expect("saves");
                bytes
            })
        };
        assert!(
            fit(1) == fit(2),
            "{cell:?}: GRU4Rec weights differ, 1 vs 2 threads"
        );
    }
}
