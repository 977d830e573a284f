//! SR-GNN's session readout (Wu et al., AAAI 2019, eq. 6–7): soft attention over the session's click
//! states, combined with the last click's state.
//!
//! For session `b` with click states `h₁ … hₙ` (the node state of each click, repeats included) and
//! `s_last = hₙ`:
//!
//! ```text
//! αₜ       = qᵀ σ(W₁ s_last + b₁ + W₂ hₜ + b₂)
//! s_global = Σₜ αₜ hₜ
//! s_h      = W₃ [s_global; s_last] + b₃
//! ```
//!
//! Sessions are stacked (`clicks × d`, `lengths` per session). Cost: `(clicks + sessions) × d × d`
//! for `W₁`, `W₂` plus `sessions × 2d × d` for `W₃`, about three times that backwards.

use ndarray::{Array2, Axis};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::dense::Dense;
use super::param::{matmul, sigmoid, sl, sl_mut, Param, Real};

/// The attention readout with its hybrid projection.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(bound = "")]
pub struct AttentionReadout<T: Real> {
    /// `W₁`, `b₁` applied to the last click's state.
    pub last: Dense<T>,
    /// `W₂`, `b₂` applied to every click's state.
    pub each: Dense<T>,
    /// `q` (`d × 1`, no bias).
    pub q: Param<T>,
    /// `W₃`, `b₃`: `[s_global; s_last]` (`2d`) → `d`.
    pub hybrid: Dense<T>,
}

/// What [`AttentionReadout::backward`] needs.
#[derive(Clone, Debug)]
pub struct ReadoutCache<T: Real> {
    h: Array2<T>,
    last: Array2<T>,
    gate: Array2<T>,
    alpha: Vec<T>,
    concat: Array2<T>,
}

impl<T: Real> AttentionReadout<T> {
    /// Every weight and bias uniform in `±1/√d` (SR-GNN's initialisation).
    pub fn new(dim: usize, rng: &mut ChaCha8Rng) -> Self {
        let a = 1.0 / (dim.max(1) as f64).sqrt();
        let last = Dense::uniform(dim, dim, a, rng);
        let each = Dense::uniform(dim, dim, a, rng);
        let q = Param::uniform(dim, 1, a, rng);
        let hybrid = Dense::uniform(2 * dim, dim, a, rng);
        AttentionReadout {
            last,
            each,
            q,
            hybrid,
        }
    }

    /// Session representations (`sessions × d`) of the click states `h` (`Σ lengths × d`; every
    /// length ≥ 1).
    pub fn forward(&self, h: &Array2<T>, lengths: &[usize]) -> (Array2<T>, ReadoutCache<T>) {
        let d = h.ncols();
        let b = lengths.len();
        let mut last_rows = Vec::with_capacity(b);
        let mut end = 0;
        for &n in lengths {
            end += n;
            last_rows.push(end - 1);
        }
        let last = h.select(Axis(0), &last_rows);
        let q1 = self.last.forward(&last);
        let mut gate = self.each.forward(h);
        {
            let g = sl_mut(&mut gate);
            let q1s = sl(&q1);
            let mut row = 0;
            for (s, &n) in lengths.iter().enumerate() {
                for _ in 0..n {
                    for (v, &a) in g[row * d..(row + 1) * d]
                        .iter_mut()
                        .zip(&q1s[s * d..(s + 1) * d])
                    {
                        *v = sigmoid(*v + a);
                    }
                    row += 1;
                }
            }
        }
        let alpha: Vec<T> = matmul(&gate, &self.q.value).iter().copied().collect();
        let mut concat = Array2::zeros((b, 2 * d));
        {
            let c = sl_mut(&mut concat);
            let hs = sl(h);
            let mut row = 0;
            for (s, &n) in lengths.iter().enumerate() {
                let dst = &mut c[s * 2 * d..(s + 1) * 2 * d];
                for _ in 0..n {
                    for (v, &x) in dst[..d].iter_mut().zip(&hs[row * d..(row + 1) * d]) {
                        *v += alpha[row] * x;
                    }
                    row += 1;
                }
                dst[d..].copy_from_slice(&hs[(row - 1) * d..row * d]);
            }
        }
        let out = self.hybrid.forward(&concat);
        (
            out,
            ReadoutCache {
                h: h.clone(),
                last,
                gate,
                alpha,
                concat,
            },
        )
    }

    /// Accumulates parameter gradients for the output gradient `dy` (`sessions × d`); returns the
    /// gradient of the click states.
    pub fn backward(
        &mut self,
        cache: &ReadoutCache<T>,
        lengths: &[usize],
        dy: &Array2<T>,
    ) -> Array2<T> {
        let h = &cache.h;
        let d = h.ncols();
        let dconcat = self.hybrid.backward(&cache.concat, dy);
        let dc = sl(&dconcat);
        let hs = sl(h);
        let mut dh = Array2::zeros(h.dim());
        // dα_t = ds_global · h_t; dh_t += α_t ds_global; dlast from the concat.
        let mut dalpha = Array2::zeros((h.nrows(), 1));
        let mut dlast = Array2::zeros((lengths.len(), d));
        {
            let dhs = sl_mut(&mut dh);
            let da = sl_mut(&mut dalpha);
            let dl = sl_mut(&mut dlast);
            let mut row = 0;
            for (s, &n) in lengths.iter().enumerate() {
                let dg = &dc[s * 2 * d..s * 2 * d + d];
                dl[s * d..(s + 1) * d].copy_from_slice(&dc[s * 2 * d + d..(s + 1) * 2 * d]);
                for _ in 0..n {
                    let x = &hs[row * d..(row + 1) * d];
                    da[row] = dg
                        .iter()
                        .zip(x)
                        .map(|(&a, &b)| a * b)
                        .fold(T::zero(), |a, b| a + b);
                    for (v, &g) in dhs[row * d..(row + 1) * d].iter_mut().zip(dg) {
                        *v += cache.alpha[row] * g;
                    }
                    row += 1;
                }
            }
        }
        // α = gate · q.
        ndarray::linalg::general_mat_mul(
            T::one(),
            &cache.gate.t(),
            &dalpha,
            T::one(),
            &mut self.q.grad,
        );
        let mut dpre = matmul(&dalpha, &self.q.value.t());
        for (g, &z) in sl_mut(&mut dpre).iter_mut().zip(sl(&cache.gate)) {
            *g *= z * (T::one() - z);
        }
        // The pre-activation is each(h_t) + last(s_last) of its session.
        let mut dq1 = Array2::zeros((lengths.len(), d));
        {
            let q1 = sl_mut(&mut dq1);
            let dp = sl(&dpre);
            let mut row = 0;
            for (s, &n) in lengths.iter().enumerate() {
                for _ in 0..n {
                    for (a, &b) in q1[s * d..(s + 1) * d]
                        .iter_mut()
                        .zip(&dp[row * d..(row + 1) * d])
                    {
                        *a += b;
                    }
                    row += 1;
                }
            }
        }
        dh += &self.each.backward(h, &dpre);
        dlast += &self.last.backward(&cache.last, &dq1);
        let mut end = 0;
        for (s, &n) in lengths.iter().enumerate() {
            end += n;
            let mut r = dh.row_mut(end - 1);
            r += &dlast.row(s);
        }
        dh
    }

    /// The trainable parameters.
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        let mut v = self.last.params_mut();
        v.extend(self.each.params_mut());
        v.push(&mut self.q);
        v.extend(self.hybrid.params_mut());
        v
    }
}
