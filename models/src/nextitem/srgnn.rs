//! SR-GNN (Wu, Tang, Zhu, Wang, Xie & Tan, "Session-based recommendation with graph neural
//! networks", AAAI 2019): each session prefix becomes a graph over its distinct items, a gated GNN
//! ([`Ggnn`]) propagates item states along the edges, a soft-attention readout
//! ([`AttentionReadout`]) mixes the click states with the last click into the session vector `s_h`,
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

use ndarray::{Array2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::nextitem::{
    check_training_sessions, prefix_examples, EpochPlan, NextItemModel, ScoreSink, SessionNet,
    TrainedNet,
};
use crate::nn::dense::softmax_ce;
use crate::nn::ggnn::GgnnCache;
use crate::nn::optim::{check_optimizer, check_regularisation, check_steps};
use crate::nn::param::{par_matmul, par_matmul_nt, par_matmul_tn};
use crate::nn::readout::ReadoutCache;
use crate::nn::{
    AttentionReadout, Embedding, EpochRecord, Ggnn, LrSchedule, Optimizer, OptimizerKind, Param,
    Real, SessionGraphs,
};
use crate::{ModelError, Sequences};

/// Hyper-parameters (unchecked; [`SrGnnParams::check`] validates).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SrGnnParams {
    /// Item embedding and node state width `d`.
    pub dim: usize,
    /// Propagation steps of the gated GNN.
    pub steps: usize,
    /// Prefixes (graphs) per minibatch.
    pub batch_size: usize,
    /// Maximum epochs.
    pub epochs: usize,
    /// Base learning rate.
    pub lr: f64,
    /// Learning-rate schedule.
    pub schedule: LrSchedule,
    /// L2 weight decay (every parameter, as PyTorch's Adam `weight_decay`).
    pub weight_decay: f64,
    /// Epochs without validation Recall@20 improvement before stopping (with a validation set).
    pub patience: usize,
    /// Seed of initialisation and example order.
    pub seed: u64,
}

impl Default for SrGnnParams {
    /// The paper's settings: d = 100, one step, batch 100, Adam 1e-3 ×0.1 every 3 epochs, L2 1e-5;
    /// 4 epochs (the rate is 1e-5 from the 7th epoch on, and 4 epochs keep a run on the Yoochoose
    /// sample within a minute on 2 cores), patience 2, seed 42.
    fn default() -> Self {
        SrGnnParams {
            dim: 100,
            steps: 1,
            batch_size: 100,
            epochs: 4,
            lr: 1e-3,
            schedule: LrSchedule::Step {
                every: 3,
                gamma: 0.1,
            },
            weight_decay: 1e-5,
            patience: 2,
            seed: 42,
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
        check_steps(self.epochs, self.batch_size, self.lr)?;
        check_optimizer(OptimizerKind::adam(), self.schedule)?;
        check_regularisation(self.weight_decay, 0.0)?;
        Ok(SrGnn { params: self })
    }
}

/// Validated parameters: call [`SrGnn::fit`].
#[derive(Clone, Debug, PartialEq)]
pub struct SrGnn {
    params: SrGnnParams,
}

/// The SR-GNN network: item table, gated GNN and readout (generic so gradient checks run in `f64`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(bound = "")]
pub struct SrGnnNet<T: Real> {
    /// Item embeddings (`items × d`), both the graph's input and the output item vectors.
    pub items: Param<T>,
    /// Gated GNN.
    pub ggnn: Ggnn<T>,
    /// Attention readout with the hybrid projection.
    pub readout: AttentionReadout<T>,
}

/// A forward pass of [`SrGnnNet`] kept for its backward pass.
pub struct SrGnnCache<T: Real> {
    graphs: SessionGraphs,
    ggnn: GgnnCache<T>,
    readout: ReadoutCache<T>,
    lengths: Vec<usize>,
    nodes: usize,
}

impl<T: Real> SrGnnNet<T> {
    /// A network for `n_items` items, width `dim`, `steps` propagation steps; every weight uniform in
    /// `±1/√dim`.
    pub fn new(n_items: usize, dim: usize, steps: usize, rng: &mut ChaCha8Rng) -> Self {
        let a = 1.0 / (dim.max(1) as f64).sqrt();
        let items = Param::uniform(n_items, dim, a, rng);
        let ggnn = Ggnn::new(dim, steps, rng);
        let readout = AttentionReadout::new(dim, rng);
        SrGnnNet {
            items,
            ggnn,
            readout,
        }
    }

    /// The session vectors `s_h` of `sessions` (each non-empty), `sessions × d`.
    pub fn sessions_forward(&self, sessions: &[&[u32]]) -> (Array2<T>, SrGnnCache<T>) {
        let graphs = SessionGraphs::new(sessions);
        let h0 = Embedding::gather(&self.items.value, &graphs.items);
        let (h, ggnn) = self.ggnn.forward(&graphs, h0);
        let clicks = h.select(Axis(0), &graphs.alias);
        let lengths = graphs.lengths();
        let (s, readout) = self.readout.forward(&clicks, &lengths);
        let nodes = graphs.nodes();
        (
            s,
            SrGnnCache {
                graphs,
                ggnn,
                readout,
                lengths,
                nodes,
            },
        )
    }

    /// Accumulates every gradient for the gradient `ds` of the session vectors.
    pub fn sessions_backward(&mut self, cache: &SrGnnCache<T>, ds: &Array2<T>) {
        let dclicks = self.readout.backward(&cache.readout, &cache.lengths, ds);
        let mut dh = Array2::zeros((cache.nodes, ds.ncols()));
        for (row, &node) in cache.graphs.alias.iter().enumerate() {
            let mut r = dh.row_mut(node);
            r += &dclicks.row(row);
        }
        let dh0 = self.ggnn.backward(&cache.graphs, &cache.ggnn, dh);
        Embedding::scatter_add(&mut self.items.grad, &cache.graphs.items, &dh0);
    }

    /// Scores of every item (`sessions × items`) for the session vectors `s`.
    pub fn scores(&self, s: &Array2<T>) -> Array2<T> {
        par_matmul_nt(s, &self.items.value)
    }

    /// Mean cross-entropy of predicting `targets[i]` after `sessions[i]`; accumulates every
    /// gradient (the caller zeros them first).
    pub fn loss(&mut self, sessions: &[&[u32]], targets: &[usize]) -> f64 {
        let (s, cache) = self.sessions_forward(sessions);
        let logits = self.scores(&s);
        let (loss, dlogits) = softmax_ce(&logits, targets, None);
        self.items.grad += &par_matmul_tn(&dlogits, &s);
        let ds = par_matmul(&dlogits, &self.items.value);
        self.sessions_backward(&cache, &ds);
        loss
    }

    /// The trainable parameters.
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        let mut v = vec![&mut self.items];
        v.extend(self.ggnn.params_mut());
        v.extend(self.readout.params_mut());
        v
    }
}

/// A trained SR-GNN.
pub type SrGnnModel = TrainedNet<SrGnnParams, SrGnnNet<f32>>;

impl SessionNet for SrGnnNet<f32> {
    const KIND: &'static str = "nextitem-srgnn";
    fn params_mut(&mut self) -> Vec<&mut Param<f32>> {
        SrGnnNet::params_mut(self)
    }
}

impl SrGnn {
    /// The validated parameters.
    pub fn params(&self) -> &SrGnnParams {
        &self.params
    }

    /// Trains on every prefix of `train` (item ids `< train.vocab`); with `valid`, stops early on its
    /// Recall@20 and keeps the best epoch. `progress` is called after every epoch.
    pub fn fit(
        &self,
        train: &Sequences,
        valid: Option<&Sequences>,
        progress: &mut dyn FnMut(&EpochRecord),
    ) -> Result<SrGnnModel, ModelError> {
        check_training_sessions(train)?;
        let p = &self.params;
        let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
        let net = SrGnnNet::new(train.vocab, p.dim, p.steps, &mut rng);
        let mut examples = prefix_examples(train);
        let mut opt = Optimizer::new(OptimizerKind::adam(), p.weight_decay, 0.0);
        let plan = EpochPlan {
            epochs: p.epochs,
            lr: p.lr,
            schedule: p.schedule,
            patience: p.patience,
            valid,
        };
        let train_epoch = |m: &mut SrGnnModel, lr| {
            examples.shuffle(&mut rng);
            let (mut sum, mut n) = (0.0, 0usize);
            for batch in examples.chunks(p.batch_size) {
                let sessions: Vec<&[u32]> = batch
                    .iter()
                    .map(|&(r, t)| &train.row(r as usize)[..t as usize])
                    .collect();
                let targets: Vec<usize> = batch
                    .iter()
                    .map(|&(r, t)| train.row(r as usize)[t as usize] as usize)
                    .collect();
                let mut params = m.net.params_mut();
                for q in params.iter_mut() {
                    q.zero_grad();
                }
                drop(params);
                sum += m.net.loss(&sessions, &targets) * batch.len() as f64;
                n += batch.len();
                opt.step(&mut m.net.params_mut(), lr);
            }
            sum / n.max(1) as f64
        };
        Ok(TrainedNet::train(
            p.clone(),
            train.vocab,
            net,
            &plan,
            progress,
            train_epoch,
        ))
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

impl NextItemModel for SrGnnModel {
    fn name(&self) -> String {
        "srgnn".into()
    }

    fn n_items(&self) -> usize {
        self.n_items
    }

    fn score_prefixes(&self, sessions: &Sequences, rows: &[usize], sink: ScoreSink<'_>) {
        // Every prefix is its own graph; batch about 256 of them.
        let mut batch: Vec<(usize, usize)> = Vec::with_capacity(256);
        let mut flush = |batch: &mut Vec<(usize, usize)>| {
            if batch.is_empty() {
                return;
            }
            let seqs: Vec<&[u32]> = batch.iter().map(|&(r, t)| &sessions.row(r)[..=t]).collect();
            let (s, _) = self.net.sessions_forward(&seqs);
            let scores = self.net.scores(&s);
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
