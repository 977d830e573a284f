//! Session encoders of the sequence classifier ([`super::SeqNet`]) besides its recurrent stack: the
//! graph encoder of SR-GNN ([`GraphEncoder`]) and the causal transformer of SASRec ([`Transformer`]),
//! each turning a token sequence into one vector for the classification head.
//!
//! The encoders are the very layers the next-item SR-GNN and SASRec train with (one home: the graph
//! path is [`GraphEncoder::forward`], the transformer path [`Transformer::encode`]); here their token
//! rows come from the classifier's embedding table (with its out-of-vocabulary row). An empty
//! sequence has no graph and no positions: its vector is zero, so the head sees only its bias, as the
//! recurrent stack's zero state gives.
//!
//! Cost per batch: SR-GNN `nodes × d × 8d` plus the readout's `(clicks + rows) × d × d`; the
//! transformer `blocks × (clicks × d × 6d + Σ n² × d)`; about three times that with the backward pass.

use ndarray::Array2;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::attention::check_heads;
use super::ggnn::{GraphEncoder, GraphEncoderCache};
use super::param::{Param, Real};
use super::transformer::{DropMode, Encoded, Pool, Transformer};
use crate::ModelError;

/// Which encoder a sequence classifier reads its sequences with (the typed part of its parameters
/// that differs between `lstm`/`gru`/`rnn`, `srgnn` and `sasrec`).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EncoderKind {
    /// The recurrent stack of the classifier's `cell` and `hidden` widths.
    #[default]
    Recurrent,
    /// SR-GNN: session graph, gated GNN of `steps` propagation steps, attention readout.
    Graph {
        /// Propagation steps.
        steps: usize,
    },
    /// SASRec: positional embeddings and `blocks` causal self-attention blocks of `heads` heads,
    /// pooled by `pool`.
    Attention {
        /// Self-attention blocks.
        blocks: usize,
        /// Heads per block (divides the embedding width).
        heads: usize,
        /// Which state(s) make the sequence's vector.
        pool: Pool,
    },
}

impl EncoderKind {
    /// Whether it is the recurrent stack (then absent from files, which stay as they were).
    pub fn is_recurrent(&self) -> bool {
        *self == EncoderKind::Recurrent
    }

    /// Validates its settings for embedding width `dim`.
    pub fn check(&self, dim: usize) -> Result<(), ModelError> {
        match *self {
            EncoderKind::Recurrent => Ok(()),
            EncoderKind::Graph { steps } if steps == 0 => {
                Err(ModelError::invalid("steps", steps, "at least 1"))
            }
            EncoderKind::Graph { .. } => Ok(()),
            EncoderKind::Attention { blocks, .. } if blocks == 0 => {
                Err(ModelError::invalid("blocks", blocks, "at least 1"))
            }
            EncoderKind::Attention { heads, .. } => {
                check_heads(heads, dim, "at least 1 and a divisor of embed_dim")
            }
        }
    }
}

/// A graph or attention encoder with its weights.
// The variants' headers differ in size (a GRU cell's against a transformer's); there is one encoder per
// network and every weight already lives on the heap, so boxing buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(bound = "", rename_all = "kebab-case")]
pub enum SessionEncoder<T: Real> {
    /// SR-GNN's graph encoder.
    Graph(GraphEncoder<T>),
    /// A causal transformer and its pooling.
    Attention {
        /// Positional embeddings, blocks, final norm.
        transformer: Transformer<T>,
        /// Which state(s) make the sequence's vector.
        pool: Pool,
    },
}

/// What [`SessionEncoder::backward`] needs.
#[derive(Clone, Debug)]
pub struct EncoderCache<T: Real> {
    /// Rows of the batch with at least one token (the others got zeros).
    kept: Vec<usize>,
    inner: InnerCache<T>,
}

// One cache per minibatch, its arrays on the heap: boxing the larger header buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum InnerCache<T: Real> {
    Graph(GraphEncoderCache<T>),
    Attention(Encoded<T>),
    Nothing,
}

impl<T: Real> SessionEncoder<T> {
    /// The encoder of `kind` (none for the recurrent stack) for width `dim` and sequences of at most
    /// `max_len` tokens, initialised from `rng`.
    pub fn new(
        kind: EncoderKind,
        dim: usize,
        max_len: usize,
        rng: &mut ChaCha8Rng,
    ) -> Option<Self> {
        match kind {
            EncoderKind::Recurrent => None,
            EncoderKind::Graph { steps } => {
                Some(SessionEncoder::Graph(GraphEncoder::new(dim, steps, rng)))
            }
            EncoderKind::Attention {
                blocks,
                heads,
                pool,
            } => Some(SessionEncoder::Attention {
                transformer: Transformer::new(dim, blocks, heads, max_len, rng),
                pool,
            }),
        }
    }

    /// Whether it has the structure `kind` describes at width `dim` with `max_len` positions: valid
    /// settings, the same layers, every weight of the shape a fresh one has (a check of loaded files).
    /// The settings are compared first, so the fresh encoder is no larger than this one whatever a
    /// file says.
    pub fn fits(&self, kind: EncoderKind, dim: usize, max_len: usize) -> bool {
        let same_settings = kind.check(dim).is_ok()
            && match (self, kind) {
                (SessionEncoder::Graph(g), EncoderKind::Graph { steps }) => g.ggnn.steps == steps,
                (
                    SessionEncoder::Attention { transformer, pool },
                    EncoderKind::Attention {
                        blocks,
                        heads,
                        pool: p,
                    },
                ) => {
                    *pool == p
                        && transformer.max_len() == max_len
                        && transformer.blocks.len() == blocks
                        && transformer.blocks.iter().all(|b| b.attn.heads == heads)
                }
                _ => false,
            };
        if !same_settings {
            return false;
        }
        let mut rng = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
        let Some(mut fresh) = Self::new(kind, dim, max_len, &mut rng) else {
            return false;
        };
        let shapes = |e: &mut Self| -> Vec<(usize, usize)> {
            e.params_mut().iter().map(|p| p.value.dim()).collect()
        };
        shapes(&mut self.clone()) == shapes(&mut fresh)
    }

    /// One vector per sequence of `seqs` (`seqs × dim`; zeros for an empty sequence), token vectors
    /// from the rows of `table`. `drop` draws the transformer's dropout masks.
    pub fn forward(
        &self,
        table: &Array2<T>,
        seqs: &[&[u32]],
        drop: &mut DropMode<'_, T>,
    ) -> (Array2<T>, EncoderCache<T>) {
        let dim = table.ncols();
        let kept: Vec<usize> = (0..seqs.len()).filter(|&i| !seqs[i].is_empty()).collect();
        let mut out = Array2::zeros((seqs.len(), dim));
        if kept.is_empty() {
            let inner = InnerCache::Nothing;
            return (out, EncoderCache { kept, inner });
        }
        let some: Vec<&[u32]> = kept.iter().map(|&i| seqs[i]).collect();
        let (vectors, inner) = match self {
            SessionEncoder::Graph(g) => {
                let (v, c) = g.forward(table, &some);
                (v, InnerCache::Graph(c))
            }
            SessionEncoder::Attention { transformer, pool } => {
                let (f, enc) = transformer.encode(table, &some, drop);
                (pool.forward(&f, &enc), InnerCache::Attention(enc))
            }
        };
        for (row, &i) in kept.iter().enumerate() {
            out.row_mut(i).assign(&vectors.row(row));
        }
        (out, EncoderCache { kept, inner })
    }

    /// Accumulates every gradient for the gradient `dout` of the vectors (`seqs × dim`); the token
    /// rows' gradients go into `table_grad`.
    pub fn backward(
        &mut self,
        cache: &EncoderCache<T>,
        dout: &Array2<T>,
        table_grad: &mut Array2<T>,
    ) {
        let dv = dout.select(ndarray::Axis(0), &cache.kept);
        match (self, &cache.inner) {
            (SessionEncoder::Graph(g), InnerCache::Graph(c)) => g.backward(c, &dv, table_grad),
            (SessionEncoder::Attention { transformer, pool }, InnerCache::Attention(enc)) => {
                let df = pool.backward(&dv, enc);
                transformer.encode_backward(enc, &df, table_grad);
            }
            _ => {}
        }
    }

    /// The trainable parameters.
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        match self {
            SessionEncoder::Graph(g) => g.params_mut(),
            SessionEncoder::Attention { transformer, .. } => transformer.params_mut(),
        }
    }
}
