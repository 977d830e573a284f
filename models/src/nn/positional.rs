//! Learned absolute positional embeddings (Gehring et al. 2017; SASRec, Kang & McAuley 2018): row `p`
//! of a `max_len × dim` table is added to the token at position `p` of its sequence, so a model with
//! order-blind layers (self-attention) knows where each token is.
//!
//! Forward costs one add per input entry; backward scatter-adds the output gradient into the rows used.

use ndarray::Array2;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::embedding::Embedding;
use super::param::{Param, Real};

/// A `max_len × dim` table of position vectors.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(bound = "")]
pub struct PositionalEmbedding<T: Real> {
    /// One row per position.
    pub table: Param<T>,
}

impl<T: Real> PositionalEmbedding<T> {
    /// Entries uniform in `±a`, drawn from `rng`.
    pub fn new(max_len: usize, dim: usize, a: f64, rng: &mut ChaCha8Rng) -> Self {
        PositionalEmbedding {
            table: Param::uniform(max_len, dim, a, rng),
        }
    }

    /// Number of positions.
    pub fn max_len(&self) -> usize {
        self.table.value.nrows()
    }

    /// Adds the vector of `positions[i]` (each `< max_len`) to row `i` of `x` in place.
    pub fn forward(&self, x: &mut Array2<T>, positions: &[u32]) {
        *x += &Embedding::gather(&self.table.value, positions);
    }

    /// Accumulates the table gradient for the output gradient `dy` (the input gradient is `dy` itself).
    pub fn backward(&mut self, positions: &[u32], dy: &Array2<T>) {
        Embedding::scatter_add(&mut self.table.grad, positions, dy);
    }

    /// The positions `0, 1, …, len − 1` of every segment of `lengths`, concatenated.
    pub fn positions(lengths: &[usize]) -> Vec<u32> {
        lengths.iter().flat_map(|&n| 0..n as u32).collect()
    }

    /// The trainable parameters.
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        vec![&mut self.table]
    }
}
