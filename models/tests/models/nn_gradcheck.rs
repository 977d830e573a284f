//! Finite-difference gradient checks (f64, central differences) for every layer and head of
//! `cartseq_models::nn`: embedding, Elman RNN, LSTM, GRU (ragged batches, initial states), dense,
//! softmax cross-entropy, sigmoid cross-entropy, and whole stacked networks with dropout.

use cartseq_models::nn::{
    sigmoid_bce, softmax_ce, CellKind, Dense, Embedding, Packed, Param, Recurrent, SeqNet,
};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const H: f64 = 1e-6;
const TOL: f64 = 1e-5;

pub(crate) fn rand_mat(r: usize, c: usize, rng: &mut ChaCha8Rng) -> Array2<f64> {
    Array2::from_shape_simple_fn((r, c), || rng.gen_range(-1.0..1.0))
}

/// Compares the analytic gradients with central differences of `loss`, entry by entry, for every
/// array returned by `arrays` (the same order as `analytic`).
pub(crate) fn check<M: Clone>(
    name: &str,
    m: &M,
    loss: impl Fn(&M) -> f64,
    analytic: &[Array2<f64>],
    arrays: impl Fn(&mut M) -> Vec<&mut Array2<f64>>,
) {
    let mut probe = m.clone();
    let n = arrays(&mut probe).len();
    assert_eq!(n, analytic.len(), "{name}: gradient list length");
    let mut worst = 0.0f64;
    let mut checked = 0;
    for (k, grad) in analytic.iter().enumerate() {
        let shape = arrays(&mut probe)[k].dim();
        assert_eq!(shape, grad.dim(), "{name}: gradient {k} shape");
        for i in 0..shape.0 {
            for j in 0..shape.1 {
                let orig = arrays(&mut probe)[k][[i, j]];
                arrays(&mut probe)[k][[i, j]] = orig + H;
                let lp = loss(&probe);
                arrays(&mut probe)[k][[i, j]] = orig - H;
                let lm = loss(&probe);
                arrays(&mut probe)[k][[i, j]] = orig;
                let num = (lp - lm) / (2.0 * H);
                let ana = grad[[i, j]];
                let err = (num - ana).abs() / num.abs().max(ana.abs()).max(1e-3);
                assert!(err < TOL, "{name}: array {k} entry ({i},{j}): analytic {ana} vs numeric {num} (rel {err:e})");
                worst = worst.max(err);
                checked += 1;
            }
        }
    }
    assert!(checked > 0, "{name}: nothing checked");
    eprintln!("{name}: {checked} entries, worst relative error {worst:e}");
}

/// Checks every parameter gradient of a whole network `net`: `accumulate` runs its forward and
/// backward passes on a copy with zeroed gradients, and the gradients it leaves in `params` (a fixed
/// order) are compared with central differences of `loss`.
pub(crate) fn params_check<N: Clone>(
    name: &str,
    net: &N,
    params: impl Fn(&mut N) -> Vec<&mut Param<f64>>,
    loss: impl Fn(&N) -> f64,
    accumulate: impl FnOnce(&mut N),
) {
    let mut n2 = net.clone();
    for p in params(&mut n2) {
        p.zero_grad();
    }
    accumulate(&mut n2);
    let analytic: Vec<Array2<f64>> = params(&mut n2)
        .into_iter()
        .map(|p| p.grad.clone())
        .collect();
    check(name, net, loss, &analytic, |n| {
        params(n).into_iter().map(|p| &mut p.value).collect()
    });
}

/// Checks the parameter gradients of `layer` and the gradient of its input `x` for the loss
/// `Σ forward(x) ⊙ r`, `r` drawn from `rng` in the output's shape: `forward` returns the output and
/// what `backward` needs, `backward` accumulates the parameter gradients for the output gradient and
/// returns the input's. `params` lists the parameters in a fixed order.
pub(crate) fn layer_check<L: Clone, C>(
    name: &str,
    layer: L,
    x: Array2<f64>,
    rng: &mut ChaCha8Rng,
    params: impl Fn(&mut L) -> Vec<&mut Param<f64>>,
    forward: impl Fn(&L, &Array2<f64>) -> (Array2<f64>, C),
    backward: impl Fn(&mut L, &C, &Array2<f64>) -> Array2<f64>,
) {
    let (y, _) = forward(&layer, &x);
    let r = rand_mat(y.nrows(), y.ncols(), rng);
    let case = (layer, x);
    let loss = |(l, x): &(L, Array2<f64>)| (&forward(l, x).0 * &r).sum();
    let (mut l2, x2) = case.clone();
    for p in params(&mut l2) {
        p.zero_grad();
    }
    let (_, cache) = forward(&l2, &x2);
    let dx = backward(&mut l2, &cache, &r);
    let mut analytic: Vec<Array2<f64>> = params(&mut l2)
        .into_iter()
        .map(|p| p.grad.clone())
        .collect();
    analytic.push(dx);
    check(name, &case, loss, &analytic, |(l, x)| {
        let mut v: Vec<&mut Array2<f64>> = params(l).into_iter().map(|p| &mut p.value).collect();
        v.push(x);
        v
    });
}

#[test]
fn embedding_gradient() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let emb: Embedding<f64> = Embedding::new(5, 3, &mut rng);
    let tokens = vec![0u32, 3, 3, 4, 1];
    let r = rand_mat(tokens.len(), 3, &mut rng);
    let loss = |e: &Embedding<f64>| (&e.forward(&tokens) * &r).sum();
    let mut e2 = emb.clone();
    e2.table.zero_grad();
    e2.backward(&tokens, &r);
    check("embedding", &emb, loss, &[e2.table.grad.clone()], |e| {
        vec![&mut e.table.value]
    });
}

#[test]
fn dense_gradient() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let dense = Dense::new(4, 3, &mut rng);
    let x = rand_mat(5, 4, &mut rng);
    layer_check(
        "dense",
        dense,
        x,
        &mut rng,
        Dense::params_mut,
        |d, x| (d.forward(x), x.clone()),
        |d, x, dy| d.backward(x, dy),
    );
}

/// A loss head: mean loss and its gradient for logits, targets and optional row weights.
type Head = fn(&Array2<f64>, &[usize], Option<&[f64]>) -> (f64, Array2<f64>);

/// Checks the logit gradient of `head` unweighted and with the row weights `w`.
fn head_check(name: &str, head: Head, z: &Array2<f64>, targets: &[usize], w: &[f64]) {
    for weights in [None, Some(w)] {
        let (_, g) = head(z, targets, weights);
        check(name, z, |z| head(z, targets, weights).0, &[g], |z| vec![z]);
    }
}

#[test]
fn softmax_head_gradient() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let z = rand_mat(4, 5, &mut rng) * 3.0;
    let w = [1.0, 0.5, 2.0, 0.0];
    head_check("softmax_ce", softmax_ce, &z, &[0, 4, 2, 2], &w);
}

#[test]
fn sigmoid_head_gradient() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let z = rand_mat(6, 1, &mut rng) * 4.0;
    let w = [1.0, 0.5, 2.0, 1.0, 0.0, 3.0];
    head_check("sigmoid_bce", sigmoid_bce, &z, &[0, 1, 1, 0, 1, 0], &w);
}

#[derive(Clone)]
struct RecCase {
    layer: Recurrent<f64>,
    x: Array2<f64>,
    h0: Array2<f64>,
    c0: Array2<f64>,
}

/// A ragged batch (with an empty sequence) of a few sequences, or of more than two row blocks of
/// the parallel recurrence (`SEQ_ROWS` sequences each), lengths changing across block boundaries.
fn ragged_lengths(many: bool) -> Vec<usize> {
    if !many {
        return vec![4, 3, 3, 1, 0];
    }
    let n = 2 * cartseq_models::nn::recurrent::SEQ_ROWS + 5;
    (0..n).map(|i| 4 - (5 * i / n).min(4)).collect()
}

fn recurrent_check(kind: CellKind, many: bool) {
    let mut rng = ChaCha8Rng::seed_from_u64(5 + kind.gates() as u64);
    let (input, hidden) = (3, 4);
    let packed = Packed::new(&ragged_lengths(many));
    let mut layer = Recurrent::new(kind, input, hidden, &mut rng);
    // Non-trivial biases so every term of the gradient is exercised.
    layer.b.value = rand_mat(1, layer.b.value.ncols(), &mut rng) * 0.5;
    if kind == CellKind::Gru {
        layer.bhn.value = rand_mat(1, hidden, &mut rng) * 0.5;
    }
    let case = RecCase {
        layer,
        x: rand_mat(packed.total(), input, &mut rng),
        h0: rand_mat(packed.batch(), hidden, &mut rng) * 0.5,
        c0: rand_mat(packed.batch(), hidden, &mut rng) * 0.5,
    };
    let r = rand_mat(packed.total(), hidden, &mut rng);
    let s = rand_mat(packed.batch(), hidden, &mut rng);
    let lstm = kind == CellKind::Lstm;
    let loss = |c: &RecCase| {
        let cache = c
            .layer
            .forward(c.x.clone(), &packed, Some(&c.h0), lstm.then_some(&c.c0));
        let (last, _) = cache.last_states(&packed);
        (&cache.h * &r).sum() + (&last * &s).sum()
    };
    let mut c2 = case.clone();
    for p in c2.layer.params_mut() {
        p.zero_grad();
    }
    let cache = c2
        .layer
        .forward(c2.x.clone(), &packed, Some(&c2.h0), lstm.then_some(&c2.c0));
    let mut dh = r.clone();
    for b in 0..packed.batch() {
        if let Some(row) = packed.last_row(b) {
            let mut d = dh.row_mut(row);
            d += &s.row(b);
        }
    }
    let (dx, mut dh0, dc0) = c2.layer.backward(&cache, &packed, &dh);
    // The empty sequence's last state is h0 itself.
    for b in 0..packed.batch() {
        if packed.last_row(b).is_none() {
            let mut d = dh0.row_mut(b);
            d += &s.row(b);
        }
    }
    let mut analytic = vec![
        c2.layer.w.grad.clone(),
        c2.layer.u.grad.clone(),
        c2.layer.b.grad.clone(),
    ];
    if kind == CellKind::Gru {
        analytic.push(c2.layer.bhn.grad.clone());
    }
    analytic.push(dx);
    analytic.push(dh0);
    if lstm {
        analytic.push(dc0.expect("LSTM returns dc0"));
    }
    let name = format!("{} ({} sequences)", kind.name(), packed.batch());
    check(&name, &case, loss, &analytic, |c| {
        let mut v: Vec<&mut Array2<f64>> = vec![
            &mut c.layer.w.value,
            &mut c.layer.u.value,
            &mut c.layer.b.value,
        ];
        if kind == CellKind::Gru {
            v.push(&mut c.layer.bhn.value);
        }
        v.push(&mut c.x);
        v.push(&mut c.h0);
        if lstm {
            v.push(&mut c.c0);
        }
        v
    });
}

#[test]
fn rnn_gradient() {
    recurrent_check(CellKind::Rnn, false);
    recurrent_check(CellKind::Rnn, true);
}

#[test]
fn lstm_gradient() {
    recurrent_check(CellKind::Lstm, false);
    recurrent_check(CellKind::Lstm, true);
}

#[test]
fn gru_gradient() {
    recurrent_check(CellKind::Gru, false);
    recurrent_check(CellKind::Gru, true);
}

fn network_check(kind: CellKind, outputs: usize, dropout: f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(40 + outputs as u64);
    let net: SeqNet<f64> = SeqNet::new(kind, 7, 3, &[4, 3], outputs, dropout, &mut rng);
    let name = format!("{}-stack outputs={outputs} dropout={dropout}", kind.name());
    whole_network_check(&name, net, outputs);
}

/// Checks every parameter gradient of a whole sequence classifier `net` (7 tokens, `outputs` head
/// units, its own dropout) on sequences sorted longest first, one of them empty: the softmax (or,
/// with one output, sigmoid) loss of the head after the network's forward pass.
pub(crate) fn whole_network_check(name: &str, net: SeqNet<f64>, outputs: usize) {
    let seqs: Vec<Vec<u32>> = vec![
        vec![1, 2, 3, 6, 0],
        vec![4, 4, 5],
        vec![2, 1],
        vec![6],
        vec![],
    ];
    let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
    let targets: Vec<usize> = if outputs == 1 {
        vec![1, 0, 1, 1, 0]
    } else {
        vec![0, 2, 1, 2, 0]
    };
    let head = |z: &Array2<f64>| {
        if outputs == 1 {
            sigmoid_bce(z, &targets, None)
        } else {
            softmax_ce(z, &targets, None)
        }
    };
    // The same seed gives the same dropout masks in every evaluation.
    let loss = |n: &SeqNet<f64>| {
        let mut r = ChaCha8Rng::seed_from_u64(99);
        head(&n.forward(&refs, Some(&mut r)).0).0
    };
    params_check(name, &net, SeqNet::params_mut, loss, |n2| {
        let mut r = ChaCha8Rng::seed_from_u64(99);
        let (z, cache) = n2.forward(&refs, Some(&mut r));
        let (_, dz) = head(&z);
        n2.backward(&cache, &dz);
    });
}

#[test]
fn stacked_networks_gradient() {
    for kind in [CellKind::Rnn, CellKind::Lstm, CellKind::Gru] {
        network_check(kind, 3, 0.0);
        network_check(kind, 1, 0.3);
    }
}
