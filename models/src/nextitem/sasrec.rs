//! SASRec (Kang & McAuley, "Self-attentive sequential recommendation", ICDM 2018): item embeddings
//! plus learned positional embeddings, a stack of causal self-attention blocks ([`Transformer`]) and
//! scores `Fₜ · vᵢ` against the same item embeddings (shared, as in the paper). Every position of a
//! training session predicts the next click, so one causal pass trains all prefixes at once.
//!
//! Loss: cross-entropy over all items at every position (the paper samples one negative per position
//! with a binary loss; the item vocabularies here are small enough for the full softmax, which is the
//! stronger and more common choice since, e.g., Klenitskiy & Vasilev, RecSys 2023). Sessions longer
//! than `max_len + 1` keep their last `max_len + 1` clicks for training; at prediction time a prefix
//! longer than `max_len` is cut to its last `max_len` clicks. Positions count from the first click
//! of the (cut) session.
//!
//! Defaults follow the paper: d = 50, 2 blocks, 1 head, dropout 0.5 (its value for sparse data),
//! max length 50, batch 128 sessions, Adam (0.9, 0.98) with learning rate 1e-3.
//!
//! Cost per batch of `B` sessions with `N` clicks: `blocks × (N × d × 6d + Σ n² × d)` for the
//! encoder and `N × d × items` for the scores, about three times that with the backward pass.

use ndarray::Array2;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::nextitem::{
    NetTrainer, NetTraining, ScoreSink, SessionNet, SessionNetParams, TrainedNet,
};
use crate::nn::attention::check_heads;
use crate::nn::dense::tied_softmax_ce;
use crate::nn::param::matmul;
use crate::nn::transformer::{Encoded, Pool};
use crate::nn::{DropMode, Optimizer, OptimizerKind, Param, Real, Transformer};
use crate::{ModelError, Sequences};

/// Hyper-parameters (unchecked; [`SasRecParams::check`] validates).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SasRecParams {
    /// Model width `d`.
    pub dim: usize,
    /// Self-attention blocks.
    pub blocks: usize,
    /// Attention heads (divides `dim`).
    pub heads: usize,
    /// Longest input sequence (positions).
    pub max_len: usize,
    /// Dropout on the embeddings and on every sub-layer output.
    pub dropout: f64,
    /// Minibatch (sessions), epochs, schedule, L2, patience and seed.
    #[serde(flatten)]
    pub training: NetTraining,
}

impl Default for SasRecParams {
    /// The paper's settings (d = 50, 2 blocks, 1 head, dropout 0.5, length 50, batch 128, Adam 1e-3)
    /// with 20 epochs, patience 2, seed 42.
    fn default() -> Self {
        SasRecParams {
            dim: 50,
            blocks: 2,
            heads: 1,
            max_len: 50,
            dropout: 0.5,
            training: NetTraining::adam(128, 20),
        }
    }
}

impl SasRecParams {
    /// Validates every parameter once.
    pub fn check(self) -> Result<SasRec, ModelError> {
        if self.dim == 0 {
            return Err(ModelError::invalid("dim", self.dim, "at least 1"));
        }
        check_heads(
            self.heads,
            self.dim,
            "at least 1 and a divisor of the width",
        )?;
        if self.max_len == 0 {
            return Err(ModelError::invalid("max_len", self.max_len, "at least 1"));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(ModelError::invalid("dropout", self.dropout, "in [0, 1)"));
        }
        NetTrainer::checked(self)
    }
}

/// Validated parameters: call [`NetTrainer::fit`].
pub type SasRec = NetTrainer<SasRecParams>;

/// The SASRec network: item table and encoder (generic so gradient checks run in `f64`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(bound = "")]
pub struct SasRecNet<T: Real> {
    /// Item embeddings (`items × d`), input and output.
    pub items: Param<T>,
    /// Positional embeddings, blocks, final norm.
    pub encoder: Transformer<T>,
}

impl<T: Real> SasRecNet<T> {
    /// A network for `n_items` items; item vectors uniform in `±1/√dim`.
    pub fn new(
        n_items: usize,
        dim: usize,
        blocks: usize,
        heads: usize,
        max_len: usize,
        rng: &mut ChaCha8Rng,
    ) -> Self {
        let items = Param::uniform(n_items, dim, 1.0 / (dim.max(1) as f64).sqrt(), rng);
        let encoder = Transformer::new(dim, blocks, heads, max_len, rng);
        SasRecNet { items, encoder }
    }

    /// The state after every click of the stacked `seqs` (each `≤ max_len` long), `clicks × d`.
    pub fn states(&self, seqs: &[&[u32]], drop: &mut DropMode<'_, T>) -> (Array2<T>, Encoded<T>) {
        self.encoder.encode(&self.items.value, seqs, drop)
    }

    /// Mean cross-entropy of predicting click `t + 1` from clicks `0..=t` at every position of every
    /// session of `seqs` (each 2 ..= `max_len + 1` long); accumulates every gradient (the caller
    /// zeros them first).
    pub fn loss(&mut self, seqs: &[&[u32]], drop: &mut DropMode<'_, T>) -> f64 {
        let inputs: Vec<&[u32]> = seqs.iter().map(|s| &s[..s.len() - 1]).collect();
        let targets: Vec<usize> = seqs
            .iter()
            .flat_map(|s| s[1..].iter().map(|&t| t as usize))
            .collect();
        let (f, enc) = self.states(&inputs, drop);
        let (loss, df) = tied_softmax_ce(&mut self.items, &f, &targets);
        self.encoder
            .encode_backward(&enc, &df, &mut self.items.grad);
        loss
    }

    /// The trainable parameters.
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        let mut v = vec![&mut self.items];
        v.extend(self.encoder.params_mut());
        v
    }
}

/// A trained SASRec.
pub type SasRecModel = TrainedNet<SasRecParams, SasRecNet<f32>>;

impl SessionNet for SasRecNet<f32> {
    const KIND: &'static str = "nextitem-sasrec";
    const NAME: &'static str = "sasrec";
    fn params_mut(&mut self) -> Vec<&mut Param<f32>> {
        SasRecNet::params_mut(self)
    }
}

impl SessionNetParams for SasRecParams {
    type Net = SasRecNet<f32>;
    fn training(&self) -> &NetTraining {
        &self.training
    }
    /// Adam with the paper's β₂ = 0.98.
    fn optimizer(&self) -> Optimizer<f32> {
        let adam = OptimizerKind::Adam {
            beta1: 0.9,
            beta2: 0.98,
            eps: 1e-8,
        };
        Optimizer::new(adam, self.training.weight_decay, 0.0)
    }
    fn build(&self, n_items: usize, rng: &mut ChaCha8Rng) -> SasRecNet<f32> {
        SasRecNet::new(
            n_items,
            self.dim,
            self.blocks,
            self.heads,
            self.max_len,
            rng,
        )
    }
    /// Every session of two or more clicks, whole (one causal pass trains all its positions).
    fn examples(&self, train: &Sequences) -> Vec<(u32, u32)> {
        (0..train.len())
            .filter(|&r| train.row(r).len() >= 2)
            .map(|r| (r as u32, train.row(r).len() as u32))
            .collect()
    }
    /// Sessions longer than `max_len + 1` keep their last `max_len + 1` clicks.
    fn batch_loss(
        &self,
        net: &mut SasRecNet<f32>,
        train: &Sequences,
        batch: &[(u32, u32)],
        rng: &mut ChaCha8Rng,
    ) -> (f64, usize) {
        let seqs: Vec<&[u32]> = batch
            .iter()
            .map(|&(r, _)| {
                let s = train.row(r as usize);
                &s[s.len().saturating_sub(self.max_len + 1)..]
            })
            .collect();
        let clicks: usize = seqs.iter().map(|s| s.len() - 1).sum();
        let loss = net.loss(&seqs, &mut DropMode::Random(self.dropout, rng));
        (loss, clicks)
    }
    /// Causal windows of at most `max_len` clicks, 128 per pass.
    fn score_prefixes(
        &self,
        net: &SasRecNet<f32>,
        sessions: &Sequences,
        rows: &[usize],
        sink: ScoreSink<'_>,
    ) {
        let l = self.max_len;
        // Windows: the first `max_len` clicks of a session give the predictions after each of them
        // in one causal pass; a later prefix is its own window of its last `max_len` clicks, of which
        // only the last state is used. Each window: (row, first click, clicks, first prediction).
        let mut windows: Vec<(usize, usize, usize, usize)> = Vec::new();
        for &r in rows {
            let n = sessions.row(r).len();
            if n < 2 {
                continue;
            }
            windows.push((r, 0, (n - 1).min(l), 0));
            for t in l..n - 1 {
                windows.push((r, t + 1 - l, l, l - 1));
            }
        }
        for chunk in windows.chunks(128) {
            let seqs: Vec<&[u32]> = chunk
                .iter()
                .map(|&(r, a, len, _)| &sessions.row(r)[a..a + len])
                .collect();
            let (f, _) = net.states(&seqs, &mut DropMode::Off);
            let scores = matmul(&f, &net.items.value.t());
            let mut start = 0;
            for &(r, a, len, first) in chunk {
                for i in first..len {
                    let row = scores.row(start + i);
                    sink(r, a + i, row.as_slice().unwrap_or(&[]));
                }
                start += len;
            }
        }
    }
}

impl SasRecModel {
    /// The state after the last click (at most `max_len` clicks back) of every session of
    /// `sessions` (`sessions × d`; zeros for a session with no known item). Item ids `≥ n_items`
    /// are skipped.
    pub fn session_embeddings(&self, sessions: &Sequences) -> Array2<f32> {
        self.per_session(sessions, self.params.dim, self.params.max_len, |seqs| {
            let (f, enc) = self.net.states(seqs, &mut DropMode::Off);
            Pool::Last.forward(&f, &enc)
        })
    }
}
