//! Fully connected layer and the loss heads: softmax + cross-entropy (also of scores against a tied
//! item table), sigmoid + binary cross-entropy.
//!
//! Dense costs one `rows × in × out` product forward and two backward. The heads cost `rows × classes`
//! and are numerically stable (max-shifted log-sum-exp; `log(1+e^x)` in its stable form).

use ndarray::{Array2, Axis};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::param::{matmul, par_gemm, sigmoid, sl, sl_mut, Param, Real};
use crate::proba::softmax_row;

/// `y = x W + b` with `W` of shape `in × out`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(bound = "")]
pub struct Dense<T: Real> {
    /// Weights (`in × out`).
    pub w: Param<T>,
    /// Bias (`1 × out`).
    pub b: Param<T>,
}

impl<T: Real> Dense<T> {
    /// Glorot-uniform weights, zero bias.
    pub fn new(input: usize, output: usize, rng: &mut ChaCha8Rng) -> Self {
        let a = (6.0 / (input + output) as f64).sqrt();
        Dense {
            w: Param::uniform(input, output, a, rng),
            b: Param::zeros(1, output, false),
        }
    }

    /// Weights and bias uniform in `±a` (PyTorch's `nn.Linear` initialisation with `a = 1/√in`;
    /// SR-GNN uses `1/√d` everywhere).
    pub fn uniform(input: usize, output: usize, a: f64, rng: &mut ChaCha8Rng) -> Self {
        let w = Param::uniform(input, output, a, rng);
        let b = Param::uniform(1, output, a, rng);
        Dense { w, b }
    }

    /// Input width.
    pub fn input(&self) -> usize {
        self.w.value.nrows()
    }

    /// Output width.
    pub fn output(&self) -> usize {
        self.w.value.ncols()
    }

    /// `x W + b`.
    pub fn forward(&self, x: &Array2<T>) -> Array2<T> {
        let mut y = matmul(x, &self.w.value);
        y += &self.b.value;
        y
    }

    /// Accumulates parameter gradients for input `x` and output gradient `dy`; returns `dx`.
    pub fn backward(&mut self, x: &Array2<T>, dy: &Array2<T>) -> Array2<T> {
        par_gemm(x.t(), dy.view(), T::one(), self.w.grad.view_mut());
        self.b.grad += &dy.sum_axis(Axis(0)).insert_axis(Axis(0));
        matmul(dy, &self.w.value.t())
    }

    /// The trainable parameters.
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        vec![&mut self.w, &mut self.b]
    }
}

/// Rows per task of the row-wise heads: fixed, so the work split never depends on the thread count
/// (and each row is computed alone, so nothing else could either).
const HEAD_ROWS: usize = 8;

/// Values below which a row-wise head stays on the calling thread (e.g. one attention matrix).
const HEAD_PARALLEL_MIN: usize = 1 << 14;

/// Rows per task for a `rows × cols` matrix: [`HEAD_ROWS`], or all of them when it is small.
fn head_rows(rows: usize, cols: usize) -> usize {
    if rows.saturating_mul(cols) < HEAD_PARALLEL_MIN {
        rows.max(1)
    } else {
        HEAD_ROWS
    }
}

/// Softmax of each row in place (rows in parallel).
pub fn softmax_rows<T: Real>(z: &mut Array2<T>) {
    let c = z.ncols();
    if c == 0 {
        return;
    }
    let per_task = head_rows(z.nrows(), c);
    sl_mut(z)
        .par_chunks_mut(c * per_task)
        .for_each(|rows| rows.chunks_mut(c).for_each(softmax_row));
}

/// Softmax cross-entropy: weighted mean of `−log softmax(logits)[target]` and its gradient with
/// respect to the logits. `weights` default to 1; the mean divides by their sum. Rows run in
/// parallel; their losses are summed afterwards in row order.
pub fn softmax_ce<T: Real>(
    logits: &Array2<T>,
    targets: &[usize],
    weights: Option<&[T]>,
) -> (f64, Array2<T>) {
    softmax_ce_owned(logits.clone(), targets, weights)
}

/// [`softmax_ce`] that turns `logits` into the gradient in place, for callers that no longer need
/// the logits: a training batch then allocates one `rows × classes` matrix instead of two, which
/// keeps the allocator from returning and re-faulting that memory on every batch.
pub fn softmax_ce_owned<T: Real>(
    logits: Array2<T>,
    targets: &[usize],
    weights: Option<&[T]>,
) -> (f64, Array2<T>) {
    let mut p = logits;
    let c = p.ncols();
    let wsum: f64 = weights.map_or(targets.len() as f64, |w| w.iter().map(|v| v.f64()).sum());
    let inv = if wsum > 0.0 { 1.0 / wsum } else { 0.0 };
    let mut terms = vec![0.0f64; targets.len()];
    if c > 0 {
        let per_task = head_rows(targets.len(), c);
        sl_mut(&mut p)
            .par_chunks_mut(c * per_task)
            .zip(terms.par_chunks_mut(per_task))
            .enumerate()
            .for_each(|(chunk, (rows, terms))| {
                for (r, (row, term)) in rows.chunks_mut(c).zip(terms).enumerate() {
                    let i = chunk * per_task + r;
                    let y = targets[i];
                    softmax_row(row);
                    let w = weights.map_or(1.0, |w| w[i].f64());
                    *term = w * row[y].f64().max(1e-300).ln();
                    row[y] -= T::one();
                    let k = T::of(w * inv);
                    for v in row.iter_mut() {
                        *v *= k;
                    }
                }
            });
    }
    let mut loss = 0.0;
    for t in &terms {
        loss -= t;
    }
    (loss * inv, p)
}

/// [`softmax_ce`] of the scores `states · itemsᵀ` against an item table that is also the network's
/// input (tied weights: SR-GNN, SASRec): adds the scores' share of the table's gradient and returns
/// the mean loss and the gradient with respect to `states`, whose backward pass adds the input's
/// share. Cost: three `rows × d × items` products.
pub fn tied_softmax_ce<T: Real>(
    items: &mut Param<T>,
    states: &Array2<T>,
    targets: &[usize],
) -> (f64, Array2<T>) {
    let logits = matmul(states, &items.value.t());
    let (loss, dlogits) = softmax_ce_owned(logits, targets, None);
    items.grad += &matmul(&dlogits.t(), states);
    (loss, matmul(&dlogits, &items.value))
}

/// Sigmoid binary cross-entropy on a single-column logit matrix; `targets` are 0 or 1. Returns the
/// weighted mean loss and the gradient with respect to the logits.
pub fn sigmoid_bce<T: Real>(
    logits: &Array2<T>,
    targets: &[usize],
    weights: Option<&[T]>,
) -> (f64, Array2<T>) {
    let z = sl(logits);
    let wsum: f64 = weights.map_or(targets.len() as f64, |w| w.iter().map(|v| v.f64()).sum());
    let inv = if wsum > 0.0 { 1.0 / wsum } else { 0.0 };
    let mut grad = Array2::zeros(logits.dim());
    let g = sl_mut(&mut grad);
    let mut loss = 0.0;
    for i in 0..targets.len() {
        let w = weights.map_or(1.0, |w| w[i].f64());
        let x = z[i].f64();
        let y = if targets[i] == 1 { 1.0 } else { 0.0 };
        // log(1 + e^x) − y x, stable.
        loss += w * (x.max(0.0) + (-x.abs()).exp().ln_1p() - y * x);
        g[i] = T::of(w * inv) * (sigmoid(z[i]) - T::of(y));
    }
    (loss * inv, grad)
}
