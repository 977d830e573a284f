//! The sequence network: embedding → stacked recurrent layers → last hidden state → dense head, with
//! dropout on the embedded inputs, between layers and before the head. Instead of the recurrent
//! layers it can read the embedded tokens with a session encoder ([`SessionEncoder`]: SR-GNN's graph
//! encoder or a causal transformer), whose sequence vector then feeds the head (dropout before the
//! head as ever; the transformer also drops inside its blocks).
//!
//! Cost per batch: the sum of its layers' costs (see [`super::recurrent`]) plus `batch × hidden ×
//! outputs` for the head; memory is the per-layer caches of the packed batch.

use ndarray::Array2;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::dense::Dense;
use super::dropout::Dropout;
use super::embedding::Embedding;
use super::encoder::{EncoderCache, EncoderKind, SessionEncoder};
use super::packed::Packed;
use super::param::{Param, Real};
use super::recurrent::{CellKind, Recurrent, RecurrentCache};
use super::transformer::DropMode;

/// Embedding, recurrent stack and dense head.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(bound = "")]
pub struct SeqNet<T: Real> {
    /// Token embedding.
    pub embedding: Embedding<T>,
    /// Recurrent layers, bottom first.
    pub layers: Vec<Recurrent<T>>,
    /// Output layer on the last hidden state of the top layer.
    pub head: Dense<T>,
    /// Dropout rate on every layer input and before the head (training only).
    pub dropout: f64,
    /// The encoder read instead of the recurrent `layers` (then empty); absent from the files of
    /// recurrent networks, which stay as they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder: Option<SessionEncoder<T>>,
}

/// Everything a backward pass of [`SeqNet`] needs.
#[derive(Clone, Debug)]
pub struct NetCache<T: Real> {
    /// Layout of the batch.
    pub packed: Packed,
    tokens: Vec<u32>,
    drops: Vec<Dropout<T>>,
    caches: Vec<RecurrentCache<T>>,
    encoded: Option<EncoderCache<T>>,
    last: Array2<T>,
}

/// Checks the widths of a network: an embedding of at least 1 and one or more recurrent layers, each
/// at least 1 wide.
pub(crate) fn check_widths(embed_dim: usize, hidden: &[usize]) -> Result<(), crate::ModelError> {
    if embed_dim == 0 {
        return Err(crate::ModelError::invalid(
            "embed_dim",
            embed_dim,
            "at least 1",
        ));
    }
    if hidden.is_empty() || hidden.contains(&0) {
        return Err(crate::ModelError::invalid(
            "hidden",
            format!("{hidden:?}"),
            "one or more layer widths, each at least 1",
        ));
    }
    Ok(())
}

impl<T: Real> SeqNet<T> {
    /// A network with `vocab` tokens, embedding width `embed`, recurrent widths `hidden` (bottom
    /// first) and `outputs` head units, initialised from `rng`.
    pub fn new(
        cell: CellKind,
        vocab: usize,
        embed: usize,
        hidden: &[usize],
        outputs: usize,
        dropout: f64,
        rng: &mut ChaCha8Rng,
    ) -> Self {
        let embedding = Embedding::new(vocab, embed, rng);
        let mut layers = Vec::with_capacity(hidden.len());
        let mut input = embed;
        for &h in hidden {
            layers.push(Recurrent::new(cell, input, h, rng));
            input = h;
        }
        let head = Dense::new(input, outputs, rng);
        SeqNet {
            embedding,
            layers,
            head,
            dropout,
            encoder: None,
        }
    }

    /// A network whose `encoder` (see [`SessionEncoder::new`]; never the recurrent stack) reads
    /// sequences of at most `max_len` tokens embedded `embed` wide.
    pub fn with_encoder(
        encoder: EncoderKind,
        vocab: usize,
        embed: usize,
        max_len: usize,
        outputs: usize,
        dropout: f64,
        rng: &mut ChaCha8Rng,
    ) -> Self {
        let embedding = Embedding::new(vocab, embed, rng);
        let encoder = SessionEncoder::new(encoder, embed, max_len, rng);
        let head = Dense::new(embed, outputs, rng);
        SeqNet {
            embedding,
            layers: Vec::new(),
            head,
            dropout,
            encoder,
        }
    }

    /// Width of the top hidden state.
    pub fn top_hidden(&self) -> usize {
        self.layers
            .last()
            .map_or(self.embedding.dim(), |l| l.hidden())
    }

    /// Forward pass over sequences sorted longest first (token ids `< vocab`). With `rng`, dropout is
    /// applied (training); without, it is off. Returns the head's outputs (`batch × outputs`).
    pub fn forward(
        &self,
        seqs: &[&[u32]],
        mut rng: Option<&mut ChaCha8Rng>,
    ) -> (Array2<T>, NetCache<T>) {
        if let Some(enc) = &self.encoder {
            return self.encoder_forward(enc, seqs, rng);
        }
        let lengths: Vec<usize> = seqs.iter().map(|s| s.len()).collect();
        let packed = Packed::new(&lengths);
        let tokens = packed.pack_tokens(seqs);
        let mut x = self.embedding.forward(&tokens);
        let mut drops = Vec::with_capacity(self.layers.len() + 1);
        let mut caches = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            drops.push(self.drop(&mut x, rng.as_deref_mut()));
            let cache = layer.forward(x, &packed, None, None);
            x = cache.h.clone();
            caches.push(cache);
        }
        let mut last = match caches.last() {
            Some(c) => c.last_states(&packed).0,
            None => Array2::zeros((packed.batch(), self.top_hidden())),
        };
        drops.push(self.drop(&mut last, rng));
        let out = self.head.forward(&last);
        (
            out,
            NetCache {
                packed,
                tokens,
                drops,
                caches,
                encoded: None,
                last,
            },
        )
    }

    /// [`SeqNet::forward`] through a session encoder.
    fn encoder_forward(
        &self,
        enc: &SessionEncoder<T>,
        seqs: &[&[u32]],
        mut rng: Option<&mut ChaCha8Rng>,
    ) -> (Array2<T>, NetCache<T>) {
        let (mut last, cache) = {
            let mut drop = match rng.as_deref_mut() {
                Some(r) if self.dropout > 0.0 => DropMode::Random(self.dropout, r),
                _ => DropMode::Off,
            };
            enc.forward(&self.embedding.table.value, seqs, &mut drop)
        };
        let drops = vec![self.drop(&mut last, rng)];
        let out = self.head.forward(&last);
        let packed = Packed::new(&[]);
        (
            out,
            NetCache {
                packed,
                tokens: Vec::new(),
                drops,
                caches: Vec::new(),
                encoded: Some(cache),
                last,
            },
        )
    }

    fn drop(&self, x: &mut Array2<T>, rng: Option<&mut ChaCha8Rng>) -> Dropout<T> {
        match rng {
            Some(r) if self.dropout > 0.0 => Dropout::forward(x, self.dropout, r),
            _ => Dropout::default(),
        }
    }

    /// Backward pass from the gradient of the head's outputs; accumulates every parameter gradient.
    pub fn backward(&mut self, cache: &NetCache<T>, dout: &Array2<T>) {
        let mut dlast = self.head.backward(&cache.last, dout);
        if let Some(d) = cache.drops.last() {
            d.backward(&mut dlast);
        }
        if let (Some(enc), Some(c)) = (self.encoder.as_mut(), cache.encoded.as_ref()) {
            enc.backward(c, &dlast, &mut self.embedding.table.grad);
            return;
        }
        if self.layers.is_empty() {
            return;
        }
        let packed = &cache.packed;
        let mut dh = Array2::zeros((packed.total(), self.top_hidden()));
        for r in 0..packed.batch() {
            if let Some(row) = packed.last_row(r) {
                let mut dst = dh.row_mut(row);
                dst += &dlast.row(r);
            }
        }
        for l in (0..self.layers.len()).rev() {
            let (mut dx, _, _) = self.layers[l].backward(&cache.caches[l], packed, &dh);
            cache.drops[l].backward(&mut dx);
            dh = dx;
        }
        self.embedding.backward(&cache.tokens, &dh);
    }

    /// All trainable parameters in a fixed order.
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        let mut v = self.embedding.params_mut();
        for l in &mut self.layers {
            v.extend(l.params_mut());
        }
        if let Some(e) = &mut self.encoder {
            v.extend(e.params_mut());
        }
        v.extend(self.head.params_mut());
        v
    }

    /// Zeros every gradient.
    pub fn zero_grad(&mut self) {
        for p in self.params_mut() {
            p.zero_grad();
        }
    }
}
