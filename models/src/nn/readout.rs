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

use ndarray::{s, Array2, Axis};
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

/// What [`AttentionReadout::backward`] needs, the batch layout included.
#[derive(Clone, Debug)]
pub struct ReadoutCache<T: Real> {
    /// The session of every click row.
    session: Vec<usize>,
    /// The row of every session's last click.
    last_rows: Vec<usize>,
    h: Array2<T>,
    last: Array2<T>,
    gate: Array2<T>,
    alpha: Vec<T>,
    concat: Array2<T>,
}

/// The session of every row of sessions of `lengths` stacked row after row, and the row of every
/// session's last click.
fn stacked_layout(lengths: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let mut session = Vec::new();
    let mut last_rows = Vec::with_capacity(lengths.len());
    for (s, &n) in lengths.iter().enumerate() {
        session.resize(session.len() + n, s);
        last_rows.push(session.len() - 1);
    }
    (session, last_rows)
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
        let (session, last_rows) = stacked_layout(lengths);
        let last = h.select(Axis(0), &last_rows);
        let q1 = self.last.forward(&last);
        // Every click's pre-activation gets its session's `W₁ s_last + b₁`.
        let mut gate = self.each.forward(h);
        gate += &q1.select(Axis(0), &session);
        gate.mapv_inplace(sigmoid);
        let alpha: Vec<T> = matmul(&gate, &self.q.value).iter().copied().collect();
        let mut concat = Array2::zeros((last_rows.len(), 2 * d));
        for ((x, &a), &s) in h.rows().into_iter().zip(&alpha).zip(&session) {
            concat.slice_mut(s![s, ..d]).scaled_add(a, &x);
        }
        concat.slice_mut(s![.., d..]).assign(&last);
        let out = self.hybrid.forward(&concat);
        (
            out,
            ReadoutCache {
                session,
                last_rows,
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
    pub fn backward(&mut self, cache: &ReadoutCache<T>, dy: &Array2<T>) -> Array2<T> {
        let h = &cache.h;
        let d = h.ncols();
        let dconcat = self.hybrid.backward(&cache.concat, dy);
        let dglobal = dconcat.slice(s![.., ..d]);
        let mut dlast = dconcat.slice(s![.., d..]).to_owned();
        // dα_t = ds_global · h_t; dh_t = α_t ds_global.
        let mut dh = Array2::zeros(h.dim());
        let mut dalpha = Array2::zeros((h.nrows(), 1));
        for (t, &s) in cache.session.iter().enumerate() {
            let dg = dglobal.row(s);
            dalpha[[t, 0]] = dg
                .iter()
                .zip(h.row(t))
                .map(|(&a, &b)| a * b)
                .fold(T::zero(), |a, b| a + b);
            dh.row_mut(t).scaled_add(cache.alpha[t], &dg);
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
        let mut dq1 = Array2::zeros((cache.last_rows.len(), d));
        for (dp, &s) in dpre.rows().into_iter().zip(&cache.session) {
            let mut r = dq1.row_mut(s);
            r += &dp;
        }
        dh += &self.each.backward(h, &dpre);
        dlast += &self.last.backward(&cache.last, &dq1);
        for (s, &row) in cache.last_rows.iter().enumerate() {
            let mut r = dh.row_mut(row);
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
