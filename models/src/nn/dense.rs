//! Fully connected layer and the loss heads: softmax + cross-entropy, sigmoid + binary cross-entropy.
//!
//! Dense costs one `rows × in × out` product forward and two backward. The heads cost `rows × classes`
//! and are numerically stable (max-shifted log-sum-exp; `log(1+e^x)` in its stable form).

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, Axis};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::param::{matmul, sigmoid, sl, sl_mut, Param, Real};

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
        general_mat_mul(T::one(), &x.t(), dy, T::one(), &mut self.w.grad);
        self.b.grad += &dy.sum_axis(Axis(0)).insert_axis(Axis(0));
        matmul(dy, &self.w.value.t())
    }

    /// The trainable parameters.
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        vec![&mut self.w, &mut self.b]
    }
}

/// Softmax of each row in place.
pub fn softmax_rows<T: Real>(z: &mut Array2<T>) {
    let c = z.ncols();
    if c == 0 {
        return;
    }
    for row in sl_mut(z).chunks_mut(c) {
        let m = row.iter().copied().fold(T::neg_infinity(), T::max);
        let mut s = T::zero();
        for v in row.iter_mut() {
            *v = (*v - m).exp();
            s += *v;
        }
        for v in row.iter_mut() {
            *v /= s;
        }
    }
}

/// Softmax cross-entropy: weighted mean of `−log softmax(logits)[target]` and its gradient with
/// respect to the logits. `weights` default to 1; the mean divides by their sum.
pub fn softmax_ce<T: Real>(
    logits: &Array2<T>,
    targets: &[usize],
    weights: Option<&[T]>,
) -> (f64, Array2<T>) {
    let mut p = logits.clone();
    softmax_rows(&mut p);
    let c = p.ncols();
    let wsum: f64 = weights.map_or(targets.len() as f64, |w| w.iter().map(|v| v.f64()).sum());
    let inv = if wsum > 0.0 { 1.0 / wsum } else { 0.0 };
    let mut loss = 0.0;
    for (i, (row, &y)) in sl_mut(&mut p).chunks_mut(c).zip(targets).enumerate() {
        let w = weights.map_or(1.0, |w| w[i].f64());
        loss -= w * row[y].f64().max(1e-300).ln();
        row[y] -= T::one();
        let k = T::of(w * inv);
        for v in row.iter_mut() {
            *v *= k;
        }
    }
    (loss * inv, p)
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
