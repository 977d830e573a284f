//! Causal multi-head self-attention (Vaswani et al. 2017) over a batch of variable-length sequences,
//! as used by SASRec (Kang & McAuley 2018).
//!
//! The sequences are stacked row after row (`tokens × dim`, no padding); `lengths` says where each
//! begins. One fused product projects every token to queries, keys and values
//! (`[Q K V] = X W_in + b_in`); per sequence and head, `P = softmax(Q_h K_hᵀ / √d_h)` with the upper
//! triangle masked (a token attends to itself and earlier tokens only), `O_h = P V_h`; the heads are
//! concatenated and projected, `Y = O W_out + b_out` (PyTorch's `MultiheadAttention` layout).
//!
//! Cost: `tokens × dim × 4·dim` for the projections plus `Σ n² × dim` for the attention itself, three
//! times over for forward and backward; the cache holds `Q K V`, the attention weights and `O`.

use ndarray::{s, Array2, ArrayView2};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::dense::{softmax_rows, Dense};
use super::param::{matmul, sl, sl_mut, Param, Real};

/// Causal self-attention with `heads` heads of width `dim / heads`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(bound = "")]
pub struct SelfAttention<T: Real> {
    /// Fused input projection `dim → 3·dim` (queries, keys, values).
    pub qkv: Dense<T>,
    /// Output projection `dim → dim`.
    pub out: Dense<T>,
    /// Number of heads (divides `dim`).
    pub heads: usize,
}

/// What [`SelfAttention::backward`] needs from a forward pass, the batch layout included (so the
/// backward pass cannot be given another one).
#[derive(Clone, Debug)]
pub struct AttentionCache<T: Real> {
    /// `(first row, length)` of every sequence.
    starts: Vec<(usize, usize)>,
    x: Array2<T>,
    qkv: Array2<T>,
    /// Attention weights per sequence and head (`n × n`, sequence-major).
    probs: Vec<Array2<T>>,
    o: Array2<T>,
}

/// `(first row, length)` of each sequence of `lengths` stacked row after row.
fn sequence_starts(lengths: &[usize]) -> Vec<(usize, usize)> {
    let mut start = 0;
    lengths
        .iter()
        .map(|&n| {
            start += n;
            (start - n, n)
        })
        .collect()
}

/// Checks a head count for width `dim`: at least 1 and a divisor of `dim` (`expected` says so in
/// the caller's words).
pub(crate) fn check_heads(
    heads: usize,
    dim: usize,
    expected: &'static str,
) -> Result<(), crate::ModelError> {
    if heads == 0 || dim % heads != 0 {
        return Err(crate::ModelError::invalid("heads", heads, expected));
    }
    Ok(())
}

impl<T: Real> SelfAttention<T> {
    /// PyTorch's `nn.MultiheadAttention` initialisation: a Glorot-uniform `d × 3d` input projection,
    /// an output projection uniform in `±1/√d`, zero biases. `heads` must divide `dim` (checked by the
    /// callers' parameter validation).
    pub fn new(dim: usize, heads: usize, rng: &mut ChaCha8Rng) -> Self {
        let qkv = Dense::new(dim, 3 * dim, rng);
        let mut out = Dense::uniform(dim, dim, 1.0 / (dim.max(1) as f64).sqrt(), rng);
        out.b.value.fill(T::zero());
        SelfAttention {
            qkv,
            out,
            heads: heads.max(1),
        }
    }

    /// Model width.
    pub fn dim(&self) -> usize {
        self.out.output()
    }

    /// Attends within each sequence of `lengths` (stacked rows of `x`, `Σ lengths × dim`).
    pub fn forward(&self, x: &Array2<T>, lengths: &[usize]) -> (Array2<T>, AttentionCache<T>) {
        let d = self.dim();
        let dh = d / self.heads;
        let scale = T::of(1.0 / (dh as f64).sqrt());
        let qkv = self.qkv.forward(x);
        let mut o = Array2::zeros((x.nrows(), d));
        let starts = sequence_starts(lengths);
        // Sequences are independent: attended in parallel, written back in order.
        let per_seq: Vec<Vec<(Array2<T>, Array2<T>)>> = starts
            .par_iter()
            .map(|&(start, n)| {
                (0..self.heads)
                    .map(|h| {
                        let (q, k, v) = Self::head(&qkv, start, n, h, dh, d);
                        let mut p = matmul(&q, &k.t());
                        for (i, row) in sl_mut(&mut p).chunks_mut(n.max(1)).enumerate().take(n) {
                            for (j, e) in row.iter_mut().enumerate() {
                                *e = if j <= i {
                                    *e * scale
                                } else {
                                    T::neg_infinity()
                                };
                            }
                        }
                        softmax_rows(&mut p);
                        let oh = matmul(&p, &v);
                        (p, oh)
                    })
                    .collect()
            })
            .collect();
        let mut probs = Vec::with_capacity(lengths.len() * self.heads);
        for (&(start, n), heads) in starts.iter().zip(per_seq) {
            for (h, (p, oh)) in heads.into_iter().enumerate() {
                o.slice_mut(s![start..start + n, h * dh..(h + 1) * dh])
                    .assign(&oh);
                probs.push(p);
            }
        }
        let y = self.out.forward(&o);
        (
            y,
            AttentionCache {
                starts,
                x: x.clone(),
                qkv,
                probs,
                o,
            },
        )
    }

    /// Queries, keys and values of head `h` of the sequence at rows `start..start + n`.
    fn head(
        qkv: &Array2<T>,
        start: usize,
        n: usize,
        h: usize,
        dh: usize,
        d: usize,
    ) -> (ArrayView2<'_, T>, ArrayView2<'_, T>, ArrayView2<'_, T>) {
        let rows = start..start + n;
        let c = h * dh;
        (
            qkv.slice(s![rows.clone(), c..c + dh]),
            qkv.slice(s![rows.clone(), d + c..d + c + dh]),
            qkv.slice(s![rows, 2 * d + c..2 * d + c + dh]),
        )
    }

    /// Accumulates parameter gradients for the output gradient `dy`; returns `dx`.
    pub fn backward(&mut self, cache: &AttentionCache<T>, dy: &Array2<T>) -> Array2<T> {
        let d = self.dim();
        let dh = d / self.heads;
        let scale = T::of(1.0 / (dh as f64).sqrt());
        let do_ = self.out.backward(&cache.o, dy);
        let mut dqkv = Array2::zeros(cache.qkv.dim());
        // Sequences are independent (no sum across them): in parallel, written back in order.
        let heads = self.heads;
        let per_seq: Vec<Vec<[Array2<T>; 3]>> = cache
            .starts
            .par_iter()
            .enumerate()
            .map(|(i, &(start, n))| {
                let mut out = Vec::with_capacity(heads);
                for h in 0..heads {
                    let Some(p) = cache.probs.get(i * heads + h) else {
                        break;
                    };
                    let (q, k, v) = Self::head(&cache.qkv, start, n, h, dh, d);
                    let doh = do_.slice(s![start..start + n, h * dh..(h + 1) * dh]);
                    // dV = Pᵀ dO, dP = dO Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale.
                    let dv = matmul(&p.t(), &doh);
                    let mut ds = matmul(&doh, &v.t());
                    for (dr, pr) in sl_mut(&mut ds)
                        .chunks_mut(n.max(1))
                        .zip(sl(p).chunks(n.max(1)))
                    {
                        let dot = dr
                            .iter()
                            .zip(pr)
                            .map(|(&a, &b)| a * b)
                            .fold(T::zero(), |a, b| a + b);
                        for (g, &pv) in dr.iter_mut().zip(pr) {
                            *g = pv * (*g - dot) * scale;
                        }
                    }
                    out.push([matmul(&ds, &k), matmul(&ds.t(), &q), dv]);
                }
                out
            })
            .collect();
        for (&(start, n), grads) in cache.starts.iter().zip(per_seq) {
            for (h, [dq, dk, dv]) in grads.into_iter().enumerate() {
                let c = h * dh;
                let rows = start..start + n;
                dqkv.slice_mut(s![rows.clone(), c..c + dh]).assign(&dq);
                dqkv.slice_mut(s![rows.clone(), d + c..d + c + dh])
                    .assign(&dk);
                dqkv.slice_mut(s![rows, 2 * d + c..2 * d + c + dh])
                    .assign(&dv);
            }
        }
        self.qkv.backward(&cache.x, &dqkv)
    }

    /// The trainable parameters.
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        let mut v = self.qkv.params_mut();
        v.extend(self.out.params_mut());
        v
    }
}
