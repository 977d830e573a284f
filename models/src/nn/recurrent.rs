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
use ndarray::{s, Array2, Axis};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::packed::Packed;
use super::param::{matmul, sigmoid, sl, sl_mut, Param, Real};

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

    /// `rnn`, `lstm` or `gru`.
    pub fn name(self) -> &'static str {
        match self {
            CellKind::Rnn => "rnn",
            CellKind::Lstm => "lstm",
            CellKind::Gru => "gru",
        }
    }

    /// Parses `rnn`, `lstm` or `gru`.
    pub fn parse(s: &str) -> Option<CellKind> {
        match s {
            "rnn" => Some(CellKind::Rnn),
            "lstm" => Some(CellKind::Lstm),
            "gru" => Some(CellKind::Gru),
            _ => None,
        }
    }
}

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
    /// Initial hidden state (`batch × hidden`).
    pub h0: Array2<T>,
    /// Initial LSTM cell state (`batch × hidden`; empty for other cells).
    pub c0: Array2<T>,
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
    pub fn forward(
        &self,
        x: Array2<T>,
        packed: &Packed,
        h0: Option<&Array2<T>>,
        c0: Option<&Array2<T>>,
    ) -> RecurrentCache<T> {
        let hd = self.hidden();
        let gh = self.kind.gates() * hd;
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
        let mut extra = match self.kind {
            CellKind::Rnn => Array2::zeros((0, 0)),
            _ => Array2::zeros((total, hd)),
        };
        let mut hu = Array2::<T>::zeros((bsz, gh));
        let bhn = self.bhn.value.as_slice().unwrap_or(&[]);
        for t in 0..packed.steps() {
            let n = packed.batch_sizes[t];
            let o = packed.offsets[t];
            let po = if t == 0 { 0 } else { packed.offsets[t - 1] };
            {
                let hprev = if t == 0 {
                    h0.slice(s![..n, ..])
                } else {
                    h.slice(s![po..po + n, ..])
                };
                let mut hu_t = hu.slice_mut(s![..n, ..]);
                general_mat_mul(T::one(), &hprev, &self.u.value, T::zero(), &mut hu_t);
            }
            let hu_s = &sl(&hu)[..n * gh];
            let g_s = &mut sl_mut(&mut gates)[o * gh..(o + n) * gh];
            let (h_before, h_cur) = sl_mut(&mut h).split_at_mut(o * hd);
            let h_cur = &mut h_cur[..n * hd];
            let hprev: &[T] = if t == 0 {
                &sl(&h0)[..n * hd]
            } else {
                &h_before[po * hd..(po + n) * hd]
            };
            match self.kind {
                CellKind::Rnn => {
                    for i in 0..n * hd {
                        let v = (g_s[i] + hu_s[i]).tanh();
                        g_s[i] = v;
                        h_cur[i] = v;
                    }
                }
                CellKind::Lstm => {
                    let (c_before, c_cur) = sl_mut(&mut extra).split_at_mut(o * hd);
                    let cprev: &[T] = if t == 0 {
                        &sl(&c0)[..n * hd]
                    } else {
                        &c_before[po * hd..(po + n) * hd]
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
                            c_cur[r * hd + j] = c;
                            h_cur[r * hd + j] = og * c.tanh();
                        }
                    }
                }
                CellKind::Gru => {
                    let e_cur = &mut sl_mut(&mut extra)[o * hd..(o + n) * hd];
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
        RecurrentCache {
            x,
            gates,
            extra,
            h,
            h0,
            c0,
        }
    }

    /// Back-propagates `dh_out` (gradient of the loss with respect to every output row,
    /// `tokens × hidden`) through time. Accumulates parameter gradients and returns the gradients
    /// with respect to the input (`tokens × input`), `h0` and (LSTM) `c0`.
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
        let mut dg = Array2::<T>::zeros((total, gh));
        let mut dgh = Array2::<T>::zeros(if self.kind == CellKind::Gru {
            (bsz, gh)
        } else {
            (0, 0)
        });
        let mut carry_h = Array2::<T>::zeros((bsz, hd));
        let mut carry_c = Array2::<T>::zeros(if self.kind == CellKind::Lstm {
            (bsz, hd)
        } else {
            (0, 0)
        });
        let mut direct = Array2::<T>::zeros((bsz, hd));
        let mut dbhn = vec![T::zero(); if self.kind == CellKind::Gru { hd } else { 0 }];
        let g_all = sl(&cache.gates);
        let h_all = sl(&cache.h);
        let dout = sl(dh_out);
        for t in (0..packed.steps()).rev() {
            let n = packed.batch_sizes[t];
            let o = packed.offsets[t];
            let po = if t == 0 { 0 } else { packed.offsets[t - 1] };
            let hprev: &[T] = if t == 0 {
                &sl(&cache.h0)[..n * hd]
            } else {
                &h_all[po * hd..(po + n) * hd]
            };
            let g_s = &g_all[o * gh..(o + n) * gh];
            let dg_s = &mut sl_mut(&mut dg)[o * gh..(o + n) * gh];
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
                    let cprev: &[T] = if t == 0 {
                        &sl(&cache.c0)[..n * hd]
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
                            let c = c_all[(o + r) * hd + j];
                            let tc = c.tanh();
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
                    let dgh_s = sl_mut(&mut dgh);
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
                            let dhn = dan * rg;
                            dgr[j] = dar;
                            dgr[hd + j] = daz;
                            dgr[2 * hd + j] = dan;
                            dhr[j] = dar;
                            dhr[hd + j] = daz;
                            dhr[2 * hd + j] = dhn;
                            dbhn[j] += dhn;
                            dir[k] = dh * zg;
                        }
                    }
                }
            }
            let hprev_v = if t == 0 {
                cache.h0.slice(s![..n, ..])
            } else {
                cache.h.slice(s![po..po + n, ..])
            };
            let dgh_t = if self.kind == CellKind::Gru {
                dgh.slice(s![..n, ..])
            } else {
                dg.slice(s![o..o + n, ..])
            };
            general_mat_mul(one, &hprev_v.t(), &dgh_t, one, &mut self.u.grad);
            let mut ch_t = carry_h.slice_mut(s![..n, ..]);
            let beta = if self.kind == CellKind::Gru {
                ch_t.assign(&direct.slice(s![..n, ..]));
                one
            } else {
                T::zero()
            };
            general_mat_mul(one, &dgh_t, &self.u.value.t(), beta, &mut ch_t);
        }
        general_mat_mul(one, &cache.x.t(), &dg, one, &mut self.w.grad);
        self.b.grad += &dg.sum_axis(Axis(0)).insert_axis(Axis(0));
        if self.kind == CellKind::Gru {
            for (a, &d) in sl_mut(&mut self.bhn.grad).iter_mut().zip(&dbhn) {
                *a += d;
            }
        }
        let dx = matmul(&dg, &self.w.value.t());
        let dc0 = (self.kind == CellKind::Lstm).then_some(carry_c);
        (dx, carry_h, dc0)
    }
}
