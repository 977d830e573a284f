//! Sequence classifier: embedding → RNN/LSTM/GRU stack, SR-GNN graph encoder or SASRec transformer
//! ([`EncoderKind`]) → dense softmax (or sigmoid for two classes), trained with minibatch
//! backpropagation (through time for the recurrent stack).
//!
//! Reads `Dataset::seqs` (one token sequence per row) and the labels; honours sample weights in the
//! loss. Minibatches are buckets of sequences of similar length (the training rows sorted by length,
//! cut into batches, batch order shuffled every epoch), so padding costs nothing. Sequences longer than
//! `max_len` keep their last `max_len` tokens. Tokens at or beyond the training vocabulary map to one
//! shared out-of-vocabulary row. Early stopping watches the loss on a seeded validation split and
//! restores the best epoch's weights.
//!
//! Cost per epoch: `O(tokens × (embed + hidden) × gates × hidden)` multiply-adds per layer; memory
//! `O(batch tokens × gates × hidden)` per layer for the backward pass, plus the parameters three
//! times over for Adam.

use std::io::Read;
use std::time::Instant;

use ndarray::Array2;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::dense::{sigmoid_bce, softmax_ce_owned, softmax_rows};
use super::encoder::EncoderKind;
use super::network::check_widths;
use super::network::SeqNet;
use super::optim::{
    check_optimizer, check_regularisation, check_steps, Decay, DecayStep, LrSchedule, Momentum,
    Optimizer, OptimizerKind,
};
use super::param::sigmoid;
use super::recurrent::CellKind;
use super::transformer::Pool;
use crate::fitted::{corrupt, Fitted, FittedModel, Input, Signature};
use crate::params::{setter, KeyVisitor};
use crate::persist::{body_to, read_envelope};
use crate::spec::{About, LearnerParams};
use crate::{Dataset, ModelError};

/// The seed of a sequence classifier whose seed was not set.
pub const DEFAULT_SEED: u64 = 42;

/// Hyper-parameters of a [`SeqClassifier`] (unchecked; [`SeqClassifierParams::check`] validates).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SeqClassifierParams {
    /// Recurrent cell (read only by the recurrent encoder).
    pub cell: CellKind,
    /// What reads the embedded sequence: the recurrent stack of `cell` and `hidden`, SR-GNN's graph
    /// encoder or SASRec's transformer (absent from the files of recurrent models).
    #[serde(default, skip_serializing_if = "EncoderKind::is_recurrent")]
    pub encoder: EncoderKind,
    /// Embedding width (also the width of a graph or attention encoder).
    pub embed_dim: usize,
    /// Hidden width of each recurrent layer, bottom first (e.g. `[128, 64]`; empty for the other
    /// encoders).
    pub hidden: Vec<usize>,
    /// Dropout on inputs, between layers and before the head.
    pub dropout: f64,
    /// Maximum number of epochs.
    pub epochs: usize,
    /// Sequences per minibatch.
    pub batch_size: usize,
    /// Base learning rate.
    pub lr: f64,
    /// Update rule.
    pub optimizer: OptimizerKind,
    /// Learning-rate schedule over epochs.
    pub schedule: LrSchedule,
    /// L2 weight decay on weights (not biases).
    pub weight_decay: f64,
    /// Global gradient-norm clipping (0 = off).
    pub clip_norm: f64,
    /// Fraction of rows held out for early stopping (0 = no validation, train all epochs).
    pub valid_fraction: f64,
    /// Epochs without validation improvement before stopping.
    pub patience: usize,
    /// Longest sequence fed to the network (the last tokens are kept).
    pub max_len: usize,
    /// Seed of initialisation, split, batch order and dropout (`None` = [`DEFAULT_SEED`]; a fitted
    /// model records the seed it used).
    pub seed: Option<u64>,
}

impl SeqClassifierParams {
    /// Defaults: embedding 32, one layer of 64, dropout 0.1, 10 epochs, batch 64, Adam 1e-3, clip 5,
    /// 10 % validation with patience 3, sequences truncated to 200 tokens, seed 42.
    pub fn new(cell: CellKind) -> Self {
        SeqClassifierParams {
            cell,
            encoder: EncoderKind::Recurrent,
            embed_dim: 32,
            hidden: vec![64],
            dropout: 0.1,
            epochs: 10,
            batch_size: 64,
            lr: 1e-3,
            optimizer: OptimizerKind::adam(),
            schedule: LrSchedule::Constant,
            weight_decay: 0.0,
            clip_norm: 5.0,
            valid_fraction: 0.1,
            patience: 3,
            max_len: 200,
            seed: None,
        }
    }

    /// SR-GNN as a classifier (`srgnn`): the paper's encoder (width 100, one propagation step, L2
    /// 1e-5, batch 100, Adam 1e-3 decayed ×0.1 every 3 epochs; no dropout), the classifier's other
    /// defaults (10 epochs, clip 5, 10 % validation with patience 3) and sequences cut to their last
    /// 50 tokens.
    pub fn srgnn() -> Self {
        SeqClassifierParams {
            encoder: EncoderKind::Graph { steps: 1 },
            embed_dim: 100,
            hidden: Vec::new(),
            dropout: 0.0,
            batch_size: 100,
            schedule: LrSchedule::Step {
                every: 3,
                gamma: 0.1,
            },
            weight_decay: 1e-5,
            max_len: 50,
            ..Self::new(CellKind::Gru)
        }
    }

    /// SASRec as a classifier (`sasrec`): the paper's encoder (width 50, 2 blocks, 1 head, 50
    /// positions, Adam 1e-3, batch 128) with dropout 0.2 (the paper's rate for dense data), the
    /// last position's state as the sequence vector, and the classifier's other defaults.
    pub fn sasrec() -> Self {
        SeqClassifierParams {
            encoder: EncoderKind::Attention {
                blocks: 2,
                heads: 1,
                pool: Pool::Last,
            },
            embed_dim: 50,
            hidden: Vec::new(),
            dropout: 0.2,
            batch_size: 128,
            max_len: 50,
            ..Self::new(CellKind::Gru)
        }
    }

    /// The model's name: the cell's (`lstm`, `gru`, `rnn`) or the encoder's (`srgnn`, `sasrec`).
    pub fn name(&self) -> &'static str {
        match self.encoder {
            EncoderKind::Recurrent => self.cell.name(),
            EncoderKind::Graph { .. } => "srgnn",
            EncoderKind::Attention { .. } => "sasrec",
        }
    }

    /// Sets the embedding width.
    pub fn embed_dim(mut self, v: usize) -> Self {
        self.embed_dim = v;
        self
    }
    /// Sets the recurrent widths, bottom first.
    pub fn hidden(mut self, v: Vec<usize>) -> Self {
        self.hidden = v;
        self
    }
    /// Sets the dropout rate.
    pub fn dropout(mut self, v: f64) -> Self {
        self.dropout = v;
        self
    }
    /// Sets the maximum number of epochs.
    pub fn epochs(mut self, v: usize) -> Self {
        self.epochs = v;
        self
    }
    /// Sets the minibatch size.
    pub fn batch_size(mut self, v: usize) -> Self {
        self.batch_size = v;
        self
    }
    /// Sets the base learning rate.
    pub fn lr(mut self, v: f64) -> Self {
        self.lr = v;
        self
    }
    /// Sets the update rule.
    pub fn optimizer(mut self, v: OptimizerKind) -> Self {
        self.optimizer = v;
        self
    }
    /// Sets the learning-rate schedule.
    pub fn schedule(mut self, v: LrSchedule) -> Self {
        self.schedule = v;
        self
    }
    /// Sets the L2 weight decay.
    pub fn weight_decay(mut self, v: f64) -> Self {
        self.weight_decay = v;
        self
    }
    /// Sets the gradient-norm limit (0 = off).
    pub fn clip_norm(mut self, v: f64) -> Self {
        self.clip_norm = v;
        self
    }
    /// Sets the validation fraction (0 = none).
    pub fn valid_fraction(mut self, v: f64) -> Self {
        self.valid_fraction = v;
        self
    }
    /// Sets the early-stopping patience.
    pub fn patience(mut self, v: usize) -> Self {
        self.patience = v;
        self
    }
    /// Sets the truncation length.
    pub fn max_len(mut self, v: usize) -> Self {
        self.max_len = v;
        self
    }
    setter!(/// Sets the seed.
        seed: Some(u64));

    /// Validates every parameter once.
    pub fn check(self) -> Result<SeqClassifier, ModelError> {
        if self.encoder.is_recurrent() {
            check_widths(self.embed_dim, &self.hidden)?;
        } else {
            check_widths(self.embed_dim, &[1])?;
            self.encoder.check(self.embed_dim)?;
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(ModelError::invalid("dropout", self.dropout, "in [0, 1)"));
        }
        check_steps(self.epochs, self.batch_size, self.lr)?;
        check_optimizer(self.optimizer, self.schedule)?;
        check_regularisation(self.weight_decay, self.clip_norm)?;
        if !(0.0..0.9).contains(&self.valid_fraction) {
            return Err(ModelError::invalid(
                "valid_fraction",
                self.valid_fraction,
                "in [0, 0.9)",
            ));
        }
        if self.max_len == 0 {
            return Err(ModelError::invalid("max_len", self.max_len, "at least 1"));
        }
        Ok(SeqClassifier { params: self })
    }
}

/// Validated hyper-parameters: call [`SeqClassifier::fit`].
#[derive(Clone, Debug, PartialEq)]
pub struct SeqClassifier {
    params: SeqClassifierParams,
}

/// One line of the training history.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Learning rate used.
    pub lr: f64,
    /// Mean training loss over the epoch's minibatches.
    pub train_loss: f64,
    /// Loss on the validation split, when there is one.
    pub valid_loss: Option<f64>,
    /// Task metric on the validation split (accuracy for classifiers, Recall@20 for next-item).
    pub valid_metric: Option<f64>,
    /// Wall-clock seconds of the epoch (the only non-deterministic field).
    pub seconds: f64,
}

/// A fitted sequence classifier.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SeqClassifierModel {
    /// The parameters it was trained with.
    pub params: SeqClassifierParams,
    /// Number of classes.
    pub n_classes: usize,
    /// Training vocabulary size (token ids at or above it share the out-of-vocabulary row).
    pub vocab: usize,
    /// Weights.
    pub net: SeqNet<f32>,
    /// Per-epoch history (saved without the wall-clock seconds, so a model file is byte-identical
    /// for the same data, parameters and seed).
    #[serde(serialize_with = "history_without_time")]
    pub history: Vec<EpochRecord>,
    /// Epoch whose weights were kept (1-based).
    pub best_epoch: usize,
}

fn history_without_time<S: serde::Serializer>(h: &[EpochRecord], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(h.len()))?;
    for r in h {
        seq.serialize_element(&EpochRecord {
            seconds: 0.0,
            ..r.clone()
        })?;
    }
    seq.end()
}

/// A batch of rows prepared for the network: sequences sorted longest first and the row order.
struct Batch {
    rows: Vec<usize>,
}

fn clip_seq(s: &[u32], max_len: usize) -> &[u32] {
    &s[s.len().saturating_sub(max_len)..]
}

/// Rows sorted by (length descending), cut into batches; ties keep the order of `rows`.
fn buckets(rows: &[usize], lens: &[usize], batch: usize) -> Vec<Batch> {
    let mut sorted = rows.to_vec();
    sorted.sort_by_key(|&r| std::cmp::Reverse(lens[r]));
    sorted
        .chunks(batch)
        .map(|c| Batch { rows: c.to_vec() })
        .collect()
}

impl SeqClassifier {
    /// The validated parameters.
    pub fn params(&self) -> &SeqClassifierParams {
        &self.params
    }

    /// Fits on `ds` (which must carry `seqs`).
    pub fn fit(&self, ds: &Dataset) -> Result<SeqClassifierModel, ModelError> {
        self.fit_with(ds, &mut |_| {})
    }

    /// Fits on `ds`, calling `progress` after every epoch.
    pub fn fit_with(
        &self,
        ds: &Dataset,
        progress: &mut dyn FnMut(&EpochRecord),
    ) -> Result<SeqClassifierModel, ModelError> {
        let p = &self.params;
        let seqs = ds.seqs.as_ref().ok_or_else(|| {
            ModelError::Data("a sequence model needs token sequences (dataset has none)".into())
        })?;
        if seqs.len() != ds.nrows() {
            return Err(ModelError::Data(format!(
                "{} sequences for {} rows",
                seqs.len(),
                ds.nrows()
            )));
        }
        if ds.nrows() == 0 {
            return Err(ModelError::Data("no rows to train on".into()));
        }
        if ds.n_classes < 2 {
            return Err(ModelError::Data(format!(
                "need at least 2 classes, got {}",
                ds.n_classes
            )));
        }
        let vocab = seqs.vocab;
        let seed = p.seed.unwrap_or(DEFAULT_SEED);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let outputs = if ds.n_classes == 2 { 1 } else { ds.n_classes };
        let mut net: SeqNet<f32> = if p.encoder.is_recurrent() {
            SeqNet::new(
                p.cell,
                vocab + 1,
                p.embed_dim,
                &p.hidden,
                outputs,
                p.dropout,
                &mut rng,
            )
        } else {
            SeqNet::with_encoder(
                p.encoder,
                vocab + 1,
                p.embed_dim,
                p.max_len,
                outputs,
                p.dropout,
                &mut rng,
            )
        };
        let lens: Vec<usize> = (0..ds.nrows())
            .map(|i| seqs.row(i).len().min(p.max_len))
            .collect();
        let mut all: Vec<usize> = (0..ds.nrows()).collect();
        all.shuffle(&mut rng);
        let n_valid = if p.valid_fraction > 0.0 && ds.nrows() >= 20 {
            ((ds.nrows() as f64 * p.valid_fraction).round() as usize).max(1)
        } else {
            0
        };
        let (valid, train) = all.split_at(n_valid);
        let mut batches = buckets(train, &lens, p.batch_size);
        let valid_batches = buckets(valid, &lens, 512);
        let mut opt = Optimizer::new(p.optimizer, p.weight_decay, p.clip_norm);
        let mut history = Vec::new();
        let mut best: Option<(f64, usize, SeqNet<f32>)> = None;
        let mut toks: Vec<Vec<u32>> = Vec::new();
        // Memory read every 16 batches and after every epoch (--max-memory).
        let guard = crate::memory::FitGuard::new("epochs", "hidden, embed_dim or batch_size", 16);
        for epoch in 0..p.epochs {
            let start = Instant::now();
            let lr = p.schedule.rate(p.lr, epoch);
            batches.shuffle(&mut rng);
            let (mut loss_sum, mut w_sum) = (0.0, 0.0);
            for b in &batches {
                guard.tick(epoch)?;
                batch_tokens(ds, &b.rows, vocab, p.max_len, &mut toks);
                let refs: Vec<&[u32]> = toks.iter().map(Vec::as_slice).collect();
                let targets: Vec<usize> = b.rows.iter().map(|&r| ds.y[r]).collect();
                let weights: Option<Vec<f32>> = ds
                    .weights
                    .as_ref()
                    .map(|_| b.rows.iter().map(|&r| ds.weight(r) as f32).collect());
                // The whole step runs on a pool thread, so its dozen parallel passes start from
                // there instead of each waking the pool from outside and waiting for it.
                let loss = rayon::scope(|_| {
                    net.zero_grad();
                    let (out, cache) = net.forward(&refs, Some(&mut rng));
                    let (loss, dout) = if outputs == 1 {
                        sigmoid_bce(&out, &targets, weights.as_deref())
                    } else {
                        softmax_ce_owned(out, &targets, weights.as_deref())
                    };
                    net.backward(&cache, &dout);
                    opt.step(&mut net.params_mut(), lr);
                    loss
                });
                let bw: f64 = weights.as_ref().map_or(b.rows.len() as f64, |w| {
                    w.iter().map(|&v| f64::from(v)).sum()
                });
                loss_sum += loss * bw;
                w_sum += bw;
            }
            guard.check(epoch + 1)?;
            let train_loss = if w_sum > 0.0 { loss_sum / w_sum } else { 0.0 };
            let (valid_loss, valid_metric) = if valid.is_empty() {
                (None, None)
            } else {
                let reader = Reader {
                    net: &net,
                    vocab,
                    max_len: p.max_len,
                    n_classes: ds.n_classes,
                };
                let (l, a) = reader.evaluate(ds, &valid_batches);
                (Some(l), Some(a))
            };
            let rec = EpochRecord {
                epoch: epoch + 1,
                lr,
                train_loss,
                valid_loss,
                valid_metric,
                seconds: start.elapsed().as_secs_f64(),
            };
            progress(&rec);
            history.push(rec);
            if let Some(vl) = valid_loss {
                let improved = best.as_ref().map_or(true, |(b, _, _)| vl < *b);
                if improved {
                    best = Some((vl, epoch + 1, net.clone()));
                } else if best
                    .as_ref()
                    .is_some_and(|(_, e, _)| epoch + 1 - e >= p.patience)
                {
                    break;
                }
            }
        }
        let best_epoch = match best {
            Some((_, e, b)) => {
                net = b;
                e
            }
            None => history.len(),
        };
        Ok(SeqClassifierModel {
            params: SeqClassifierParams {
                seed: Some(seed),
                ..p.clone()
            },
            n_classes: ds.n_classes,
            vocab,
            net,
            history,
            best_epoch,
        })
    }
}

/// Fills `out` with the (truncated, vocabulary-clamped) token sequences of `rows`.
fn batch_tokens(
    ds: &Dataset,
    rows: &[usize],
    vocab: usize,
    max_len: usize,
    out: &mut Vec<Vec<u32>>,
) {
    out.clear();
    if let Some(seqs) = ds.seqs.as_ref() {
        for &r in rows {
            out.push(
                clip_seq(seqs.row(r), max_len)
                    .iter()
                    .map(|&t| (t as usize).min(vocab) as u32)
                    .collect(),
            );
        }
    }
}

/// A network with what reading a dataset's sequences takes: the training vocabulary (ids at or above
/// it share the out-of-vocabulary row), the truncation length and the number of classes.
struct Reader<'a> {
    net: &'a SeqNet<f32>,
    vocab: usize,
    max_len: usize,
    n_classes: usize,
}

impl Reader<'_> {
    /// Class probabilities for the rows of every batch, written at `row_of(row)`.
    fn probabilities(
        &self,
        ds: &Dataset,
        batches: &[Batch],
        out: &mut Array2<f64>,
        row_of: &dyn Fn(usize) -> usize,
    ) {
        let (net, vocab, max_len, n_classes) = (self.net, self.vocab, self.max_len, self.n_classes);
        let mut toks = Vec::new();
        for b in batches {
            batch_tokens(ds, &b.rows, vocab, max_len, &mut toks);
            let refs: Vec<&[u32]> = toks.iter().map(Vec::as_slice).collect();
            let (mut z, _) = net.forward(&refs, None);
            if n_classes == 2 {
                for (i, &r) in b.rows.iter().enumerate() {
                    let p1 = f64::from(sigmoid(z[[i, 0]]));
                    let o = row_of(r);
                    out[[o, 0]] = 1.0 - p1;
                    out[[o, 1]] = p1;
                }
            } else {
                softmax_rows(&mut z);
                for (i, &r) in b.rows.iter().enumerate() {
                    let o = row_of(r);
                    for c in 0..n_classes {
                        out[[o, c]] = f64::from(z[[i, c]]);
                    }
                }
            }
        }
    }

    /// Mean log-loss and accuracy on the rows of `batches`.
    fn evaluate(&self, ds: &Dataset, batches: &[Batch]) -> (f64, f64) {
        let rows: Vec<usize> = batches
            .iter()
            .flat_map(|b| b.rows.iter().copied())
            .collect();
        let mut pos = vec![0usize; ds.nrows()];
        for (i, &r) in rows.iter().enumerate() {
            pos[r] = i;
        }
        let mut p = Array2::zeros((rows.len(), self.n_classes));
        self.probabilities(ds, batches, &mut p, &|r| pos[r]);
        let (mut loss, mut correct, mut wsum) = (0.0, 0.0, 0.0);
        for (i, &r) in rows.iter().enumerate() {
            let w = ds.weight(r);
            let y = ds.y[r];
            loss -= w * p[[i, y]].max(1e-15).ln();
            let pred = crate::argmax_rows(&p.slice(ndarray::s![i..i + 1, ..]).to_owned())[0];
            if pred == y {
                correct += w;
            }
            wsum += w;
        }
        (
            loss / wsum.max(f64::MIN_POSITIVE),
            correct / wsum.max(f64::MIN_POSITIVE),
        )
    }
}

/// Files of a GRU, an RNN, SR-GNN or SASRec say `gru`, `rnn`, `srgnn` or `sasrec`: read them with
/// [`SeqClassifierModel::load`] or [`crate::load_any`].
impl Fitted for SeqClassifierModel {
    const KIND: &'static str = "lstm";

    fn kind(&self) -> &'static str {
        self.params.name()
    }

    fn signature(&self) -> Signature {
        Signature::new(self.n_classes, Input::Sequences)
    }

    fn history(&self) -> Option<&[EpochRecord]> {
        Some(&self.history)
    }

    /// Token ids at or beyond the training vocabulary share the out-of-vocabulary row.
    fn proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
        let n = ds.nrows().max(ds.seqs.as_ref().map_or(0, |s| s.len()));
        let mut out = Array2::zeros((n, self.n_classes));
        let lens: Vec<usize> = (0..n)
            .map(|i| {
                ds.seqs
                    .as_ref()
                    .map_or(0, |s| s.row(i).len().min(self.params.max_len))
            })
            .collect();
        let rows: Vec<usize> = (0..n).collect();
        let batches = buckets(&rows, &lens, 512);
        let reader = Reader {
            net: &self.net,
            vocab: self.vocab,
            max_len: self.params.max_len,
            n_classes: self.n_classes,
        };
        reader.probabilities(ds, &batches, &mut out, &|r| r);
        // The network computes in f32; renormalise in f64 so every row sums to 1 like the other
        // models' probabilities (metrics such as log loss expect it).
        for mut row in out.rows_mut() {
            let t: f64 = row.sum();
            if t > 0.0 {
                row.mapv_inplace(|v| v / t);
            }
        }
        Ok(out)
    }

    fn check_loaded(&mut self) -> Result<(), ModelError> {
        let outputs = if self.n_classes == 2 {
            1
        } else {
            self.n_classes
        };
        let net = &self.net;
        let mut width = net.embedding.dim();
        let mut chained = match &net.encoder {
            None => self.params.encoder.is_recurrent(),
            Some(e) => {
                net.layers.is_empty() && e.fits(self.params.encoder, width, self.params.max_len)
            }
        };
        for l in &net.layers {
            chained &= l.kind == self.params.cell && l.input() == width;
            width = l.hidden();
        }
        if self.n_classes < 2
            || !chained
            || net.embedding.vocab() != self.vocab + 1
            || net.head.input() != width
            || net.head.output() != outputs
        {
            return Err(corrupt(
                self.params.name(),
                "the network's layer shapes do not fit together or the classes",
            ));
        }
        self.net.zero_grad();
        Ok(())
    }
}

impl LearnerParams for SeqClassifierParams {
    fn memory_estimate(&self, train: &Dataset) -> Option<crate::memory::Estimate> {
        let vocab = train.seqs.as_ref().map_or(1, |s| s.vocab.max(1)) as u64;
        // A graph or attention encoder of width d holds about as much per token and per weight as
        // a GRU layer of d over inputs of d (3 gates of d × 2d, states kept for the backward pass;
        // the attention's n² weights per block are below that for the default 50 positions).
        let (cell, hidden) = match self.encoder {
            EncoderKind::Recurrent => (self.cell, self.hidden.clone()),
            EncoderKind::Graph { steps } => (CellKind::Gru, vec![self.embed_dim; steps + 1]),
            EncoderKind::Attention { blocks, .. } => {
                (CellKind::Gru, vec![self.embed_dim; 2 * blocks])
            }
        };
        Some(crate::nn::memory_estimate(
            cell,
            vocab,
            self.embed_dim as u64,
            &hidden,
            train.n_classes.max(2) as u64,
            self.batch_size as u64,
            self.max_len as u64,
        ))
    }
    fn about(&self) -> About {
        let description = match (self.encoder, self.cell) {
            (EncoderKind::Graph { .. }, _) => {
                "embedding → SR-GNN session graph, gated GNN and attention readout → softmax \
                 (reads `seq`)"
            }
            (EncoderKind::Attention { .. }, _) => {
                "embedding → SASRec causal self-attention blocks, last or mean state → softmax \
                 (reads `seq`)"
            }
            (_, CellKind::Lstm) => {
                "embedding → LSTM layers → softmax over the token sequence (reads `seq`)"
            }
            (_, CellKind::Gru) => {
                "embedding → GRU layers → softmax over the token sequence (reads `seq`)"
            }
            (_, CellKind::Rnn) => {
                "embedding → Elman RNN layers → softmax over the token sequence (reads `seq`)"
            }
        };
        About::new(self.name(), &[], description)
    }
    fn visit_keys(&mut self, v: &mut dyn KeyVisitor) -> Result<(), ModelError> {
        v.key(&["embed_dim", "dim"], &mut self.embed_dim)?;
        match &mut self.encoder {
            EncoderKind::Recurrent => v.key(&["hidden"], &mut self.hidden)?,
            EncoderKind::Graph { steps } => v.key(&["steps"], steps)?,
            EncoderKind::Attention {
                blocks,
                heads,
                pool,
            } => {
                v.key(&["blocks"], blocks)?;
                v.key(&["heads"], heads)?;
                v.key(&["pool"], pool)?;
            }
        }
        v.key(&["dropout"], &mut self.dropout)?;
        v.key(&["epochs"], &mut self.epochs)?;
        v.key(&["batch_size"], &mut self.batch_size)?;
        v.key(&["lr"], &mut self.lr)?;
        v.key(&["optimizer"], &mut self.optimizer)?;
        v.key(&["momentum"], &mut Momentum(&mut self.optimizer))?;
        v.key(&["lr_decay"], &mut Decay(&mut self.schedule))?;
        v.key(&["lr_step"], &mut DecayStep(&mut self.schedule))?;
        v.key(&["weight_decay"], &mut self.weight_decay)?;
        v.key(&["clip_norm"], &mut self.clip_norm)?;
        v.key(&["valid_fraction"], &mut self.valid_fraction)?;
        v.key(&["patience"], &mut self.patience)?;
        v.key(&["max_len"], &mut self.max_len)?;
        v.seed(&mut self.seed, DEFAULT_SEED)
    }
    fn check(&self) -> Result<(), ModelError> {
        self.clone().check().map(|_| ())
    }
    fn fit_model(&self, ds: &Dataset, _: Option<&Dataset>) -> Result<FittedModel, ModelError> {
        self.clone().check()?.fit(ds).map(FittedModel::Seq)
    }
}

impl SeqClassifierModel {
    /// Reads a model file of any cell (`rnn`, `lstm`, `gru`; [`crate::Persist::save`] writes it), checking magic, version, kind and the
    /// network's shapes.
    pub fn load<R: Read>(r: R) -> Result<Self, ModelError> {
        let (kind, body) = read_envelope(r)?;
        Self::from_body(&kind, body)
    }

    /// The `kind`s of its files: one per cell and encoder.
    pub const KINDS: [&'static str; 5] = ["rnn", "lstm", "gru", "srgnn", "sasrec"];

    /// Reads the `model` body of a file of `kind` (one of [`SeqClassifierModel::KINDS`]), checking
    /// that the parameters name the same model and that the network's shapes fit them.
    pub fn from_body(kind: &str, body: serde_json::Value) -> Result<Self, ModelError> {
        if !Self::KINDS.contains(&kind) {
            return Err(ModelError::BadFile(format!(
                "holds a `{kind}` model, expected one of {}",
                Self::KINDS.join(", ")
            )));
        }
        let mut m: SeqClassifierModel = body_to(body, kind)?;
        if m.params.name() != kind {
            return Err(corrupt(
                kind,
                format!("its parameters describe a `{}` model", m.params.name()),
            ));
        }
        m.check_loaded()?;
        Ok(m)
    }
}
