//! Embedding lookup: a token id selects one row of a `vocab × dim` table.
//!
//! Forward costs `tokens × dim` copies; backward scatter-adds the output gradient into the rows used.

use ndarray::Array2;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::param::{sl, sl_mut, Param, Real};

/// A `vocab × dim` embedding table.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(bound = "")]
pub struct Embedding<T: Real> {
    /// The table (one row per token).
    pub table: Param<T>,
}

impl<T: Real> Embedding<T> {
    /// A table with entries uniform in `±0.1`, drawn from `rng`.
    pub fn new(vocab: usize, dim: usize, rng: &mut ChaCha8Rng) -> Self {
        let mut table = Param::uniform(vocab, dim, 0.1, rng);
        table.decay = true;
        Embedding { table }
    }

    /// Number of tokens.
    pub fn vocab(&self) -> usize {
        self.table.value.nrows()
    }

    /// Width of a row.
    pub fn dim(&self) -> usize {
        self.table.value.ncols()
    }

    /// Rows of `tokens` (each `< vocab`), shape `tokens × dim`.
    pub fn forward(&self, tokens: &[u32]) -> Array2<T> {
        Self::gather(&self.table.value, tokens)
    }

    /// Adds `dout` (`tokens × dim`) into the gradient rows of `tokens`.
    pub fn backward(&mut self, tokens: &[u32], dout: &Array2<T>) {
        Self::scatter_add(&mut self.table.grad, tokens, dout);
    }

    /// Rows `tokens` of any standard-layout `table` (used for tied input/output embeddings).
    pub fn gather(table: &Array2<T>, tokens: &[u32]) -> Array2<T> {
        let d = table.ncols();
        let mut out = Array2::zeros((tokens.len(), d));
        let src = sl(table);
        let dst = sl_mut(&mut out);
        for (i, &tok) in tokens.iter().enumerate() {
            let k = tok as usize * d;
            dst[i * d..(i + 1) * d].copy_from_slice(&src[k..k + d]);
        }
        out
    }

    /// Adds row `i` of `dout` into row `tokens[i]` of `grad`.
    pub fn scatter_add(grad: &mut Array2<T>, tokens: &[u32], dout: &Array2<T>) {
        let d = grad.ncols();
        let g = sl_mut(grad);
        let src = sl(dout);
        for (i, &tok) in tokens.iter().enumerate() {
            let k = tok as usize * d;
            for (a, &b) in g[k..k + d].iter_mut().zip(&src[i * d..(i + 1) * d]) {
                *a += b;
            }
        }
    }

    /// The trainable parameters.
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        vec![&mut self.table]
    }
}
