//! Recurrent layers — Elman RNN, LSTM, GRU — over packed variable-length batches, with
//! backpropagation through time written by hand.
//!
//! Cost per layer and batch: one `tokens × input × gates·hidden` product for the input projections,
//! one `running × hidden × gates·hidden` product per time step for the recurrence, the same again
//! backwards plus the weight-gradient products; memory holds the input, the activated gates and the
//! hidden (and LSTM cell) states of every packed row for the backward pass.
//! Sources: Elman (1990); Hochreiter & Schmidhuber (1997), Gers et al. (2000) for the forget gate;
//! Cho et al. (2014) for the GRU (reset-after form, see the module docs of [`crate::nn`]).

use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Axis};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::packed::Packed;
use super::param::{block_width, matmul, par_gemm, sigmoid, sl, sl_mut, Param, Real};

/// Sequences per task of the recurrence (forward and backward through time). Fixed, so the split
/// depends on the batch alone, never on the thread count; every row is computed exactly as in one
/// sequential loop, so nothing does.
pub const SEQ_ROWS: usize = 32;

/// Which recurrent cell a layer uses.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum CellKind {
    /// Elman RNN with tanh.
    Rnn,
    /// Long short-term memory.
    Lstm,
    /// Gated recurrent unit.
    Gru,
}

impl CellKind {
    /// Gate blocks per hidden unit (1, 4, 3).
    pub fn gates(self) -> usize {
        match self {
            CellKind::Rnn => 1,
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
        }
    }
}

cartseq_data::named_enum!(CellKind, "a recurrent cell", [
    "rnn" => CellKind::Rnn,
    "lstm" => CellKind::Lstm,
    "gru" => CellKind::Gru,
]);

/// One recurrent layer: input weights `W` (`input × gates·hidden`), recurrent weights `U`
/// (`hidden × gates·hidden`), bias `b`, and for the GRU the recurrent bias `b_hn` of the candidate.
/// Gate blocks are laid out `[i, f, g, o]` (LSTM) and `[r, z, n]` (GRU).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(bound = "")]
pub struct Recurrent<T: Real> {
    /// Cell type.
    pub kind: CellKind,
    /// Input weights.
    pub w: Param<T>,
    /// Recurrent weights.
    pub u: Param<T>,
    /// Input bias.
    pub b: Param<T>,
    /// GRU recurrent candidate bias (`1 × hidden`; `1 × 0` for other cells).
    pub bhn: Param<T>,
}

/// What the backward pass needs from a forward pass; `h` holds the outputs.
#[derive(Clone, Debug)]
pub struct RecurrentCache<T: Real> {
    /// The packed input (`tokens × input`).
    pub x: Array2<T>,
    /// Activated gates (`tokens × gates·hidden`).
    pub gates: Array2<T>,
    /// LSTM cell states or GRU recurrent candidate pre-activations (`tokens × hidden`).
    pub extra: Array2<T>,
    /// Hidden states, the layer's output (`tokens × hidden`).
    pub h: Array2<T>,
    /// LSTM: `tanh` of the cell states, kept for the backward pass (`tokens × hidden`; empty for
    /// other cells).
    pub tanh_c: Array2<T>,
    /// Initial hidden state (`batch × hidden`).
    pub h0: Array2<T>,
    /// Initial LSTM cell state (`batch × hidden`; empty for other cells).
    pub c0: Array2<T>,
}

/// One row block's parts of the packed matrices a forward pass writes (one slice per time step,
/// see [`Packed::split_rows`]).
struct StepParts<'p, 'a, T> {
    gates: &'p mut [&'a mut [T]],
    h: &'p mut [&'a mut [T]],
    extra: &'p mut [&'a mut [T]],
    tanh_c: &'p mut [&'a mut [T]],
}

impl<T: Real> RecurrentCache<T> {
    /// Hidden (and LSTM cell) state after the last step of each sequence (the initial state for an
    /// empty sequence), each `batch × hidden`.
    pub fn last_states(&self, packed: &Packed) -> (Array2<T>, Option<Array2<T>>) {
        let mut h = self.h0.clone();
        let mut c = (!self.c0.is_empty()).then(|| self.c0.clone());
        for r in 0..packed.batch() {
            if let Some(row) = packed.last_row(r) {
                h.row_mut(r).assign(&self.h.row(row));
                if let Some(c) = c.as_mut() {
                    c.row_mut(r).assign(&self.extra.row(row));
                }
            }
        }
        (h, c)
    }
}

impl<T: Real> Recurrent<T> {
    /// A layer with weights uniform in `±1/√hidden` (the PyTorch default), zero biases except the
    /// LSTM forget gate (1).
    pub fn new(kind: CellKind, input: usize, hidden: usize, rng: &mut ChaCha8Rng) -> Self {
        let g = kind.gates() * hidden;
        let a = 1.0 / (hidden as f64).sqrt();
        let w = Param::uniform(input, g, a, rng);
        let u = Param::uniform(hidden, g, a, rng);
        let mut b = Param::zeros(1, g, false);
        if kind == CellKind::Lstm {
            b.value.slice_mut(s![.., hidden..2 * hidden]).fill(T::one());
        }
        let bhn = Param::zeros(1, if kind == CellKind::Gru { hidden } else { 0 }, false);
        Recurrent { kind, w, u, b, bhn }
    }

    /// Input width.
    pub fn input(&self) -> usize {
        self.w.value.nrows()
    }

    /// Hidden width.
    pub fn hidden(&self) -> usize {
        self.u.value.nrows()
    }

    /// The trainable parameters.
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        let mut v = vec![&mut self.w, &mut self.u, &mut self.b];
        if self.kind == CellKind::Gru {
            v.push(&mut self.bhn);
        }
        v
    }

    /// Runs the layer over a packed input (`packed.total() × input`), from initial states `h0`, `c0`
    /// (`batch × hidden`, zeros when `None`).
    ///
    /// The input projection is one parallel product; the recurrence then runs per block of
    /// [`SEQ_ROWS`] sequences, each block on its own task through all time steps (a sequence's state
    /// depends only on its own past), so there is no synchronisation per step.
    pub fn forward(
        &self,
        x: Array2<T>,
        packed: &Packed,
        h0: Option<&Array2<T>>,
        c0: Option<&Array2<T>>,
    ) -> RecurrentCache<T> {
        let hd = self.hidden();
        let total = packed.total();
        let bsz = packed.batch();
        debug_assert_eq!(x.nrows(), total);
        let mut gates = matmul(&x, &self.w.value);
        gates += &self.b.value;
        let h0 = h0.cloned().unwrap_or_else(|| Array2::zeros((bsz, hd)));
        let c0 = match self.kind {
            CellKind::Lstm => c0.cloned().unwrap_or_else(|| Array2::zeros((bsz, hd))),
            _ => Array2::zeros((0, 0)),
        };
        let mut h = Array2::zeros((total, hd));
        let (mut extra, ew) = match self.kind {
            CellKind::Rnn => (Array2::zeros((0, 0)), 0),
            _ => (Array2::zeros((total, hd)), hd),
        };
        let (mut tanh_c, tw) = match self.kind {
            CellKind::Lstm => (Array2::zeros((total, hd)), hd),
            _ => (Array2::zeros((0, 0)), 0),
        };
        let gh = self.kind.gates() * hd;
        let g_parts = packed.split_rows(sl_mut(&mut gates), gh, SEQ_ROWS);
        let h_parts = packed.split_rows(sl_mut(&mut h), hd, SEQ_ROWS);
        let e_parts = packed.split_rows(sl_mut(&mut extra), ew, SEQ_ROWS);
        let t_parts = packed.split_rows(sl_mut(&mut tanh_c), tw, SEQ_ROWS);
        g_parts
            .into_par_iter()
            .zip(h_parts)
            .zip(e_parts)
            .zip(t_parts)
            .enumerate()
            .for_each(|(b, (((mut g, mut hs), mut es), mut ts))| {
                let first = b * SEQ_ROWS;
                let mut parts = StepParts {
                    gates: &mut g,
                    h: &mut hs,
                    extra: &mut es,
                    tanh_c: &mut ts,
                };
                self.forward_rows(first, &h0, &c0, &mut parts);
            });
        RecurrentCache {
            x,
            gates,
            extra,
            h,
            tanh_c,
            h0,
            c0,
        }
    }

    /// The recurrence of the sequences `first ..` owning the `parts` of the packed outputs.
    fn forward_rows(
        &self,
        first: usize,
        h0: &Array2<T>,
        c0: &Array2<T>,
        parts: &mut StepParts<'_, '_, T>,
    ) {
        let StepParts {
            gates: g,
            h: hs,
            extra: es,
            tanh_c: ts,
        } = parts;
        let hd = self.hidden();
        let gh = self.kind.gates() * hd;
        let bhn = self.bhn.value.as_slice().unwrap_or(&[]);
        let mut hu = vec![T::zero(); SEQ_ROWS * gh];
        for t in 0..hs.len() {
            let n = hs[t].len() / hd;
            if n == 0 {
                break;
            }
            let (h_before, h_rest) = hs.split_at_mut(t);
            let h_cur = &mut *h_rest[0];
            let hprev: &[T] = if t == 0 {
                &sl(h0)[first * hd..(first + n) * hd]
            } else {
                &h_before[t - 1][..n * hd]
            };
            {
                let hp = ArrayView2::from_shape((n, hd), hprev).expect("rows × hidden");
                let mut hu_t =
                    ArrayViewMut2::from_shape((n, gh), &mut hu[..n * gh]).expect("rows × gates");
                general_mat_mul(T::one(), &hp, &self.u.value, T::zero(), &mut hu_t);
            }
            let hu_s = &hu[..n * gh];
            let g_s = &mut *g[t];
            match self.kind {
                CellKind::Rnn => {
                    for i in 0..n * hd {
                        let v = (g_s[i] + hu_s[i]).tanh();
                        g_s[i] = v;
                        h_cur[i] = v;
                    }
                }
                CellKind::Lstm => {
                    let (c_before, c_rest) = es.split_at_mut(t);
                    let c_cur = &mut *c_rest[0];
                    let t_cur = &mut *ts[t];
                    let cprev: &[T] = if t == 0 {
                        &sl(c0)[first * hd..(first + n) * hd]
                    } else {
                        &c_before[t - 1][..n * hd]
                    };
                    for r in 0..n {
                        let gr = &mut g_s[r * gh..(r + 1) * gh];
                        let ur = &hu_s[r * gh..(r + 1) * gh];
                        for j in 0..hd {
                            let ig = sigmoid(gr[j] + ur[j]);
                            let fg = sigmoid(gr[hd + j] + ur[hd + j]);
                            let gg = (gr[2 * hd + j] + ur[2 * hd + j]).tanh();
                            let og = sigmoid(gr[3 * hd + j] + ur[3 * hd + j]);
                            gr[j] = ig;
                            gr[hd + j] = fg;
                            gr[2 * hd + j] = gg;
                            gr[3 * hd + j] = og;
                            let c = fg * cprev[r * hd + j] + ig * gg;
                            let tc = c.tanh();
                            c_cur[r * hd + j] = c;
                            t_cur[r * hd + j] = tc;
                            h_cur[r * hd + j] = og * tc;
                        }
                    }
                }
                CellKind::Gru => {
                    let e_cur = &mut *es[t];
                    for r in 0..n {
                        let gr = &mut g_s[r * gh..(r + 1) * gh];
                        let ur = &hu_s[r * gh..(r + 1) * gh];
                        for j in 0..hd {
                            let rg = sigmoid(gr[j] + ur[j]);
                            let zg = sigmoid(gr[hd + j] + ur[hd + j]);
                            let hn = ur[2 * hd + j] + bhn[j];
                            let ng = (gr[2 * hd + j] + rg * hn).tanh();
                            gr[j] = rg;
                            gr[hd + j] = zg;
                            gr[2 * hd + j] = ng;
                            e_cur[r * hd + j] = hn;
                            h_cur[r * hd + j] = (T::one() - zg) * ng + zg * hprev[r * hd + j];
                        }
                    }
                }
            }
        }
    }

    /// Backpropagates `dh_out` (gradient of the loss with respect to every output row,
    /// `tokens × hidden`) through time. Accumulates parameter gradients and returns the gradients
    /// with respect to the input (`tokens × input`), `h0` and (LSTM) `c0`.
    ///
    /// Like the forward pass, the time loop runs per block of [`SEQ_ROWS`] sequences; the reductions
    /// over sequences and steps (`dU`, the GRU's `b_hn`) come after it, in the same order as a
    /// sequential loop (`dU` cut by columns), so every bit is independent of the thread count.
    pub fn backward(
        &mut self,
        cache: &RecurrentCache<T>,
        packed: &Packed,
        dh_out: &Array2<T>,
    ) -> (Array2<T>, Array2<T>, Option<Array2<T>>) {
        let hd = self.hidden();
        let gh = self.kind.gates() * hd;
        let total = packed.total();
        let bsz = packed.batch();
        let one = T::one();
        let gru = self.kind == CellKind::Gru;
        let lstm = self.kind == CellKind::Lstm;
        let mut dg = Array2::<T>::zeros((total, gh));
        // GRU: the gradients of the recurrent pre-activations differ from `dg` in the candidate block.
        let mut dgh = Array2::<T>::zeros(if gru { (total, gh) } else { (0, 0) });
        let dg_parts = packed.split_rows(sl_mut(&mut dg), gh, SEQ_ROWS);
        let dgh_parts = packed.split_rows(sl_mut(&mut dgh), if gru { gh } else { 0 }, SEQ_ROWS);
        let this = &*self;
        let carries: Vec<(Array2<T>, Array2<T>)> = dg_parts
            .into_par_iter()
            .zip(dgh_parts)
            .enumerate()
            .map(|(b, (mut dgs, mut dghs))| {
                this.backward_rows(cache, packed, dh_out, b * SEQ_ROWS, &mut dgs, &mut dghs)
            })
            .collect();
        let mut carry_h = Array2::<T>::zeros((bsz, hd));
        let mut carry_c = Array2::<T>::zeros(if lstm { (bsz, hd) } else { (0, 0) });
        for (b, (ch, cc)) in carries.iter().enumerate() {
            let r = b * SEQ_ROWS;
            carry_h.slice_mut(s![r..r + ch.nrows(), ..]).assign(ch);
            if lstm {
                carry_c.slice_mut(s![r..r + cc.nrows(), ..]).assign(cc);
            }
        }
        if gru {
            // b_hn's gradient: candidate-block recurrent gradients, steps backwards, rows in order.
            let mut dbhn = vec![T::zero(); hd];
            let d = sl(&dgh);
            for t in (0..packed.steps()).rev() {
                let o = packed.offsets[t];
                for r in 0..packed.batch_sizes[t] {
                    let row = &d[(o + r) * gh + 2 * hd..(o + r + 1) * gh];
                    for (a, &v) in dbhn.iter_mut().zip(row) {
                        *a += v;
                    }
                }
            }
            for (a, &d) in sl_mut(&mut self.bhn.grad).iter_mut().zip(&dbhn) {
                *a += d;
            }
        }
        // dU = Σ_t h_{t−1}ᵀ · dG_t, steps backwards, each column block on its own task.
        let dgu = if gru { &dgh } else { &dg };
        let width = block_width(gh, total.saturating_mul(hd).saturating_mul(gh));
        self.u
            .grad
            .axis_chunks_iter_mut(Axis(1), width)
            .into_par_iter()
            .enumerate()
            .for_each(|(i, mut du)| {
                let c = i * width;
                for t in (0..packed.steps()).rev() {
                    let n = packed.batch_sizes[t];
                    let o = packed.offsets[t];
                    let hprev = if t == 0 {
                        cache.h0.slice(s![..n, ..])
                    } else {
                        let po = packed.offsets[t - 1];
                        cache.h.slice(s![po..po + n, ..])
                    };
                    let dgu_t = dgu.slice(s![o..o + n, c..c + du.ncols()]);
                    general_mat_mul(one, &hprev.t(), &dgu_t, one, &mut du);
                }
            });
        par_gemm(cache.x.t(), dg.view(), one, self.w.grad.view_mut());
        self.b.grad += &dg.sum_axis(Axis(0)).insert_axis(Axis(0));
        let dx = matmul(&dg, &self.w.value.t());
        let dc0 = lstm.then_some(carry_c);
        (dx, carry_h, dc0)
    }

    /// The time loop of the backward pass for the sequences `first ..`, writing their parts `dgs`
    /// of the gate gradients and (GRU) `dghs` of the recurrent pre-activation gradients. Returns the
    /// gradients with respect to their initial hidden and (LSTM) cell states.
    fn backward_rows(
        &self,
        cache: &RecurrentCache<T>,
        packed: &Packed,
        dh_out: &Array2<T>,
        first: usize,
        dgs: &mut [&mut [T]],
        dghs: &mut [&mut [T]],
    ) -> (Array2<T>, Array2<T>) {
        let hd = self.hidden();
        let gh = self.kind.gates() * hd;
        let one = T::one();
        let rows = packed.batch().saturating_sub(first).min(SEQ_ROWS);
        let mut carry_h = Array2::<T>::zeros((rows, hd));
        let mut carry_c = Array2::<T>::zeros(if self.kind == CellKind::Lstm {
            (rows, hd)
        } else {
            (0, 0)
        });
        let mut direct = Array2::<T>::zeros((rows, hd));
        let g_all = sl(&cache.gates);
        let h_all = sl(&cache.h);
        let dout = sl(dh_out);
        for t in (0..packed.steps()).rev() {
            let n = dgs[t].len() / gh;
            if n == 0 {
                continue;
            }
            let o = packed.offsets[t] + first;
            let po = if t == 0 {
                first
            } else {
                packed.offsets[t - 1] + first
            };
            let hprev: &[T] = if t == 0 {
                &sl(&cache.h0)[first * hd..(first + n) * hd]
            } else {
                &h_all[po * hd..(po + n) * hd]
            };
            let g_s = &g_all[o * gh..(o + n) * gh];
            let dg_s = &mut *dgs[t];
            let ch = sl(&carry_h);
            let dir = sl_mut(&mut direct);
            match self.kind {
                CellKind::Rnn => {
                    for i in 0..n * hd {
                        let v = g_s[i];
                        let dh = dout[o * hd + i] + ch[i];
                        dg_s[i] = dh * (one - v * v);
                    }
                }
                CellKind::Lstm => {
                    let c_all = sl(&cache.extra);
                    let tc_all = sl(&cache.tanh_c);
                    let cprev: &[T] = if t == 0 {
                        &sl(&cache.c0)[first * hd..(first + n) * hd]
                    } else {
                        &c_all[po * hd..(po + n) * hd]
                    };
                    let cc = sl_mut(&mut carry_c);
                    for r in 0..n {
                        let gr = &g_s[r * gh..(r + 1) * gh];
                        let dgr = &mut dg_s[r * gh..(r + 1) * gh];
                        for j in 0..hd {
                            let k = r * hd + j;
                            let (ig, fg, gg, og) =
                                (gr[j], gr[hd + j], gr[2 * hd + j], gr[3 * hd + j]);
                            let tc = tc_all[(o + r) * hd + j];
                            let dh = dout[(o + r) * hd + j] + ch[k];
                            let dc = cc[k] + dh * og * (one - tc * tc);
                            dgr[j] = dc * gg * ig * (one - ig);
                            dgr[hd + j] = dc * cprev[k] * fg * (one - fg);
                            dgr[2 * hd + j] = dc * ig * (one - gg * gg);
                            dgr[3 * hd + j] = dh * tc * og * (one - og);
                            cc[k] = dc * fg;
                        }
                    }
                }
                CellKind::Gru => {
                    let e_all = sl(&cache.extra);
                    let dgh_s = &mut *dghs[t];
                    for r in 0..n {
                        let gr = &g_s[r * gh..(r + 1) * gh];
                        let dgr = &mut dg_s[r * gh..(r + 1) * gh];
                        let dhr = &mut dgh_s[r * gh..(r + 1) * gh];
                        for j in 0..hd {
                            let k = r * hd + j;
                            let (rg, zg, ng) = (gr[j], gr[hd + j], gr[2 * hd + j]);
                            let hn = e_all[(o + r) * hd + j];
                            let dh = dout[(o + r) * hd + j] + ch[k];
                            let dan = dh * (one - zg) * (one - ng * ng);
                            let dar = dan * hn * rg * (one - rg);
                            let daz = dh * (hprev[k] - ng) * zg * (one - zg);
                            dgr[j] = dar;
                            dgr[hd + j] = daz;
                            dgr[2 * hd + j] = dan;
                            dhr[j] = dar;
                            dhr[hd + j] = daz;
                            dhr[2 * hd + j] = dan * rg;
                            dir[k] = dh * zg;
                        }
                    }
                }
            }
            let dgh_t = if self.kind == CellKind::Gru {
                ArrayView2::from_shape((n, gh), &*dghs[t])
            } else {
                ArrayView2::from_shape((n, gh), &*dgs[t])
            }
            .expect("rows × gates");
            let mut ch_t = carry_h.slice_mut(s![..n, ..]);
            let beta = if self.kind == CellKind::Gru {
                ch_t.assign(&direct.slice(s![..n, ..]));
                one
            } else {
                T::zero()
            };
            general_mat_mul(one, &dgh_t, &self.u.value.t(), beta, &mut ch_t);
        }
        (carry_h, carry_c)
    }
}
