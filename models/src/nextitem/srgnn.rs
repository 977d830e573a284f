//! SR-GNN (Wu, Tang, Zhu, Wang, Xie & Tan, "Session-based recommendation with graph neural
//! networks", AAAI 2019): each session prefix becomes a graph over its distinct items, a gated GNN
//! ([`crate::nn::Ggnn`]) propagates item states along the edges, a soft-attention readout
//! ([`crate::nn::AttentionReadout`]) mixes the click states with the last click into the session vector `s_h`,
//! and every item `i` scores `s_hᵀ vᵢ` against the same item embeddings that fed the graph (tied
//! weights); the loss is cross-entropy over all items.
//!
//! Training follows the paper and its reference code: every prefix of every training session
//! predicts its next click, examples shuffled each epoch and cut into batches of graphs (default
//! 100), Adam with learning rate 1e-3 decayed ×0.1 every 3 epochs, L2 1e-5, embedding width 100, one
//! propagation step; every weight starts uniform in `±1/√d`.
//!
//! Cost per batch of `B` prefixes with `V` nodes and `C` clicks in all: `V × d × 8d` for the GNN,
//! `(C + B) × d × d + B × 2d × d` for the readout and `B × d × items` for the scores, about three
//! times that with the backward pass. Memory: the item table (`items × d`) four times over with Adam,
//! plus `B × items` scores.

use ndarray::Array2;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::nextitem::{
    prefix_examples, NetTrainer, NetTraining, ScoreSink, SessionNet, SessionNetParams, TrainedNet,
};
use crate::nn::dense::tied_softmax_ce;
use crate::nn::ggnn::{GraphEncoder, GraphEncoderCache};
use crate::nn::param::matmul;
use crate::nn::{LrSchedule, Optimizer, OptimizerKind, Param, Real};
use crate::{ModelError, Sequences};

/// Hyper-parameters (unchecked; [`SrGnnParams::check`] validates).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SrGnnParams {
    /// Item embedding and node state width `d`.
    pub dim: usize,
    /// Propagation steps of the gated GNN.
    pub steps: usize,
    /// Minibatch (prefixes, i.e. graphs), epochs, schedule, L2, patience and seed.
    #[serde(flatten)]
    pub training: NetTraining,
}

impl Default for SrGnnParams {
    /// The paper's settings: d = 100, one step, batch 100, Adam 1e-3 ×0.1 every 3 epochs, L2 1e-5;
    /// 4 epochs (the rate is 1e-5 from the 7th epoch on, and 4 epochs keep a run on the Yoochoose
    /// sample within a minute on 2 cores), patience 2, seed 42.
    fn default() -> Self {
        SrGnnParams {
            dim: 100,
            steps: 1,
            training: NetTraining {
                schedule: LrSchedule::Step {
                    every: 3,
                    gamma: 0.1,
                },
                weight_decay: 1e-5,
                ..NetTraining::adam(100, 4)
            },
        }
    }
}

impl SrGnnParams {
    /// Validates every parameter once.
    pub fn check(self) -> Result<SrGnn, ModelError> {
        if self.dim == 0 {
            return Err(ModelError::invalid("dim", self.dim, "at least 1"));
        }
        if self.steps == 0 {
            return Err(ModelError::invalid("steps", self.steps, "at least 1"));
        }
        NetTrainer::checked(self)
    }
}

/// Validated parameters: call [`NetTrainer::fit`].
pub type SrGnn = NetTrainer<SrGnnParams>;

/// The SR-GNN network: item table and graph encoder (generic so gradient checks run in `f64`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(bound = "")]
pub struct SrGnnNet<T: Real> {
    /// Item embeddings (`items × d`), both the graph's input and the output item vectors.
    pub items: Param<T>,
    /// Gated GNN and attention readout (stored as the fields `ggnn` and `readout`).
    #[serde(flatten)]
    pub encoder: GraphEncoder<T>,
}

impl<T: Real> SrGnnNet<T> {
    /// A network for `n_items` items, width `dim`, `steps` propagation steps; every weight uniform in
    /// `±1/√dim`.
    pub fn new(n_items: usize, dim: usize, steps: usize, rng: &mut ChaCha8Rng) -> Self {
        let a = 1.0 / (dim.max(1) as f64).sqrt();
        let items = Param::uniform(n_items, dim, a, rng);
        let encoder = GraphEncoder::new(dim, steps, rng);
        SrGnnNet { items, encoder }
    }

    /// The session vectors `s_h` of `sessions` (each non-empty), `sessions × d`.
    pub fn sessions_forward(&self, sessions: &[&[u32]]) -> (Array2<T>, GraphEncoderCache<T>) {
        self.encoder.forward(&self.items.value, sessions)
    }

    /// Scores of every item (`sessions × items`) for the session vectors `s`.
    pub fn scores(&self, s: &Array2<T>) -> Array2<T> {
        matmul(s, &self.items.value.t())
    }

    /// Mean cross-entropy of predicting `targets[i]` after `sessions[i]`; accumulates every
    /// gradient (the caller zeros them first).
    pub fn loss(&mut self, sessions: &[&[u32]], targets: &[usize]) -> f64 {
        let (s, cache) = self.sessions_forward(sessions);
        let (loss, ds) = tied_softmax_ce(&mut self.items, &s, targets);
        self.encoder.backward(&cache, &ds, &mut self.items.grad);
        loss
    }

    /// The trainable parameters.
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        let mut v = vec![&mut self.items];
        v.extend(self.encoder.params_mut());
        v
    }
}

/// A trained SR-GNN.
pub type SrGnnModel = TrainedNet<SrGnnParams, SrGnnNet<f32>>;

impl SessionNet for SrGnnNet<f32> {
    const KIND: &'static str = "nextitem-srgnn";
    const NAME: &'static str = "srgnn";
    fn params_mut(&mut self) -> Vec<&mut Param<f32>> {
        SrGnnNet::params_mut(self)
    }
}

impl SessionNetParams for SrGnnParams {
    type Net = SrGnnNet<f32>;
    fn training(&self) -> &NetTraining {
        &self.training
    }
    fn optimizer(&self) -> Optimizer<f32> {
        Optimizer::new(OptimizerKind::adam(), self.training.weight_decay, 0.0)
    }
    fn build(&self, n_items: usize, rng: &mut ChaCha8Rng) -> SrGnnNet<f32> {
        SrGnnNet::new(n_items, self.dim, self.steps, rng)
    }
    /// Every prefix of every session, predicting its next click.
    fn examples(&self, train: &Sequences) -> Vec<(u32, u32)> {
        prefix_examples(train)
    }
    fn batch_loss(
        &self,
        net: &mut SrGnnNet<f32>,
        train: &Sequences,
        batch: &[(u32, u32)],
        _: &mut ChaCha8Rng,
    ) -> (f64, usize) {
        let sessions: Vec<&[u32]> = batch
            .iter()
            .map(|&(r, t)| &train.row(r as usize)[..t as usize])
            .collect();
        let targets: Vec<usize> = batch
            .iter()
            .map(|&(r, t)| train.row(r as usize)[t as usize] as usize)
            .collect();
        (net.loss(&sessions, &targets), batch.len())
    }
    /// Every prefix is its own graph; batches of 256 of them.
    fn score_prefixes(
        &self,
        net: &SrGnnNet<f32>,
        sessions: &Sequences,
        rows: &[usize],
        sink: ScoreSink<'_>,
    ) {
        let mut batch: Vec<(usize, usize)> = Vec::with_capacity(256);
        let mut flush = |batch: &mut Vec<(usize, usize)>| {
            if batch.is_empty() {
                return;
            }
            let seqs: Vec<&[u32]> = batch.iter().map(|&(r, t)| &sessions.row(r)[..=t]).collect();
            let (s, _) = net.sessions_forward(&seqs);
            let scores = net.scores(&s);
            for (i, &(r, t)) in batch.iter().enumerate() {
                let row = scores.row(i);
                sink(r, t, row.as_slice().unwrap_or(&[]));
            }
            batch.clear();
        };
        for &r in rows {
            for t in 0..sessions.row(r).len().saturating_sub(1) {
                batch.push((r, t));
                if batch.len() == 256 {
                    flush(&mut batch);
                }
            }
        }
        flush(&mut batch);
    }
}

impl SrGnnModel {
    /// The session vectors `s_h` of every session of `sessions` (`sessions × d`; zeros for a session
    /// with no known item). Item ids `≥ n_items` are skipped.
    pub fn session_embeddings(&self, sessions: &Sequences) -> Array2<f32> {
        self.per_session(sessions, self.params.dim, usize::MAX, |seqs| {
            self.net.sessions_forward(seqs).0
        })
    }
}
