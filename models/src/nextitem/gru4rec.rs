//! GRU4Rec-style next-item network (Hidasi et al. 2016, "Session-based recommendations with recurrent
//! neural networks"; Hidasi & Karatzoglou 2018, "Recurrent neural networks with top-k gains"):
//! item embedding → GRU (or LSTM/RNN) stack → scores `h · Oᵀ + b` over all items.
//!
//! Training uses **session-parallel minibatches**: `batch_size` sessions run side by side; each step
//! feeds every running session's current click and asks for its next one; a finished session is
//! replaced by the next one and its hidden state reset to zero. As in GRU4Rec, the hidden state is
//! carried between steps but not differentiated through (one-step truncated BPTT), so a step costs
//! one layer-step forward and backward. The loss is cross-entropy over either the **full softmax**
//! (all items) or a **sampled softmax** whose negatives are the other targets of the minibatch
//! (in-batch negatives) plus `n_sample` items drawn from the popularity distribution `pop^alpha`,
//! shared by the minibatch.
//!
//! Cost per step: `batch × (embed + hidden) × gates·hidden` for the recurrent layers plus
//! `batch × hidden × candidates` for the output (candidates = all items, or `batch + n_sample`),
//! three times over for forward and backward; parameters are updated densely (Adam or SGD).
//! Memory: the parameters (`items × (embed + hidden)` dominate) four times over with Adam.

use std::io::{Read, Write};

use ndarray::{s, Array2, Axis};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::nextitem::{item_counts, NextItemModel, ScoreSink};
use crate::nn::dense::softmax_ce_owned;
use crate::nn::network::check_widths;
use crate::nn::optim::{check_optimizer, check_regularisation, check_steps};
use crate::nn::param::{matmul, par_gemm};
use crate::nn::{
    CellKind, Dropout, Embedding, EpochRecord, LrSchedule, Optimizer, OptimizerKind, Packed, Param,
    Recurrent,
};
use crate::{ModelError, Sequences};

/// Output loss of the next-item network.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub enum NextItemLoss {
    /// Cross-entropy over all items.
    Full,
    /// Cross-entropy over the minibatch's targets plus `n_sample` popularity-sampled items.
    Sampled {
        /// Extra negatives per step.
        n_sample: usize,
        /// Popularity exponent of the sampling distribution (0 = uniform, 1 = popularity).
        alpha: f64,
    },
}

/// Hyper-parameters (unchecked; [`Gru4RecParams::check`] validates).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Gru4RecParams {
    /// Recurrent cell.
    pub cell: CellKind,
    /// Item embedding width.
    pub embed_dim: usize,
    /// Recurrent widths, bottom first.
    pub hidden: Vec<usize>,
    /// Dropout on the item embeddings.
    pub dropout_embed: f64,
    /// Dropout on recurrent outputs (between layers and before the output).
    pub dropout_hidden: f64,
    /// Output loss.
    pub loss: NextItemLoss,
    /// Parallel sessions per minibatch.
    pub batch_size: usize,
    /// Maximum epochs.
    pub epochs: usize,
    /// Base learning rate.
    pub lr: f64,
    /// Update rule.
    pub optimizer: OptimizerKind,
    /// Learning-rate schedule.
    pub schedule: LrSchedule,
    /// L2 weight decay.
    pub weight_decay: f64,
    /// Global gradient-norm clipping (0 = off).
    pub clip_norm: f64,
    /// Epochs without validation Recall@20 improvement before stopping (with a validation set).
    pub patience: usize,
    /// Shuffle the session order every epoch (otherwise file order).
    pub shuffle: bool,
    /// Seed of initialisation, session order, sampling and dropout.
    pub seed: u64,
    /// Tie the input item embeddings to the output item vectors ("constrained embedding" of
    /// GRU4Rec; needs `embed_dim` = the top hidden width): fewer parameters, better on small data.
    #[serde(default)]
    pub tie_embedding: bool,
}

impl Gru4RecParams {
    /// Defaults: GRU, embedding 100, one layer of 100, dropout 0 / 0.5, full softmax, batch 32,
    /// 10 epochs, Adam 2e-3, clip 5, patience 2, shuffled, seed 42.
    pub fn new(cell: CellKind) -> Self {
        Gru4RecParams {
            cell,
            embed_dim: 100,
            hidden: vec![100],
            dropout_embed: 0.0,
            dropout_hidden: 0.5,
            loss: NextItemLoss::Full,
            batch_size: 32,
            epochs: 10,
            lr: 2e-3,
            optimizer: OptimizerKind::adam(),
            schedule: LrSchedule::Constant,
            weight_decay: 0.0,
            clip_norm: 5.0,
            patience: 2,
            shuffle: true,
            seed: 42,
            tie_embedding: true,
        }
    }

    /// Validates every parameter once.
    pub fn check(self) -> Result<Gru4Rec, ModelError> {
        check_widths(self.embed_dim, &self.hidden)?;
        for (name, p) in [
            ("dropout_embed", self.dropout_embed),
            ("dropout_hidden", self.dropout_hidden),
        ] {
            if !(0.0..1.0).contains(&p) {
                return Err(ModelError::invalid(name, p, "in [0, 1)"));
            }
        }
        check_steps(self.epochs, self.batch_size, self.lr)?;
        check_optimizer(self.optimizer, self.schedule)?;
        check_regularisation(self.weight_decay, self.clip_norm)?;
        if let NextItemLoss::Sampled { alpha, .. } = self.loss {
            if !(0.0..=1.0).contains(&alpha) {
                return Err(ModelError::invalid("sample_alpha", alpha, "in [0, 1]"));
            }
        }
        if self.tie_embedding && self.hidden.last() != Some(&self.embed_dim) {
            return Err(ModelError::invalid(
                "embed_dim",
                self.embed_dim,
                "equal to the top hidden width when input and output embeddings are tied",
            ));
        }
        Ok(Gru4Rec { params: self })
    }
}

/// Validated parameters: call [`Gru4Rec::fit`].
#[derive(Clone, Debug, PartialEq)]
pub struct Gru4Rec {
    params: Gru4RecParams,
}

/// A trained next-item network.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Gru4RecModel {
    /// Training parameters.
    pub params: Gru4RecParams,
    /// Number of items (ids `0..n_items`).
    pub n_items: usize,
    /// Item input embeddings.
    pub embedding: Embedding<f32>,
    /// Recurrent stack.
    pub layers: Vec<Recurrent<f32>>,
    /// Item output vectors (`n_items × hidden`).
    pub out: Param<f32>,
    /// Item output biases (`1 × n_items`).
    pub bias: Param<f32>,
    /// Per-epoch history (`valid_metric` = Recall@20 on the validation sessions).
    pub history: Vec<EpochRecord>,
    /// Epoch whose weights were kept.
    pub best_epoch: usize,
}

/// Step-local forward state.
struct StepCache {
    drops: Vec<Dropout<f32>>,
    caches: Vec<crate::nn::RecurrentCache<f32>>,
    top: Array2<f32>,
}

impl Gru4Rec {
    /// The validated parameters.
    pub fn params(&self) -> &Gru4RecParams {
        &self.params
    }

    /// Trains on `train` (item ids `< train.vocab`); with `valid`, stops early on its Recall@20 and
    /// keeps the best epoch. `progress` is called after every epoch.
    pub fn fit(
        &self,
        train: &Sequences,
        valid: Option<&Sequences>,
        progress: &mut dyn FnMut(&EpochRecord),
    ) -> Result<Gru4RecModel, ModelError> {
        crate::nextitem::check_training_sessions(train)?;
        let p = &self.params;
        let n_items = train.vocab;
        let sessions: Vec<usize> = (0..train.len())
            .filter(|&r| train.row(r).len() >= 2)
            .collect();
        // Session-parallel training keeps one step per session: max_len 1.
        crate::nn::memory_estimate(
            p.cell,
            if p.tie_embedding { 0 } else { n_items as u64 },
            p.embed_dim as u64,
            &p.hidden,
            n_items as u64,
            p.batch_size as u64,
            1,
        )
        .check()?;
        let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
        let embedding = Embedding::new(
            if p.tie_embedding { 0 } else { n_items },
            p.embed_dim,
            &mut rng,
        );
        let mut layers = Vec::new();
        let mut input = p.embed_dim;
        for &h in &p.hidden {
            layers.push(Recurrent::new(p.cell, input, h, &mut rng));
            input = h;
        }
        let a = 1.0 / (input as f64).sqrt();
        let out = Param::uniform(n_items, input, a, &mut rng);
        let bias = Param::zeros(1, n_items, false);
        let m = Gru4RecModel {
            params: p.clone(),
            n_items,
            embedding,
            layers,
            out,
            bias,
            history: Vec::new(),
            best_epoch: 0,
        };
        let sampler = match p.loss {
            NextItemLoss::Sampled { alpha, .. } => {
                let mut cum = Vec::with_capacity(n_items);
                let mut acc = 0.0;
                for c in item_counts(train) {
                    acc += (c as f64).powf(alpha);
                    cum.push(acc);
                }
                Some(cum)
            }
            NextItemLoss::Full => None,
        };
        let mut opt = Optimizer::new(p.optimizer, p.weight_decay, p.clip_norm);
        let mut order = sessions;
        let plan = crate::nextitem::EpochPlan {
            epochs: p.epochs,
            lr: p.lr,
            schedule: p.schedule,
            patience: p.patience,
            valid,
        };
        let (mut m, history, best_epoch) =
            crate::nextitem::fit_epochs(m, &plan, progress, |m, lr| {
                if p.shuffle {
                    order.shuffle(&mut rng);
                }
                m.train_epoch(train, &order, sampler.as_deref(), &mut opt, lr, &mut rng)
            });
        m.best_epoch = best_epoch;
        m.history = history;
        Ok(m)
    }
}

impl Gru4RecModel {
    fn params_mut(&mut self) -> Vec<&mut Param<f32>> {
        let mut v = self.embedding.params_mut();
        for l in &mut self.layers {
            v.extend(l.params_mut());
        }
        v.push(&mut self.out);
        v.push(&mut self.bias);
        v
    }

    /// Input embeddings of `tokens` (the output item vectors when tied).
    fn embed(&self, tokens: &[u32]) -> Array2<f32> {
        if self.params.tie_embedding {
            Embedding::gather(&self.out.value, tokens)
        } else {
            self.embedding.forward(tokens)
        }
    }

    /// Zeroes (and allocates) the gradients of a model read from a file.
    pub(crate) fn reset_grads(&mut self) {
        for p in self.params_mut() {
            p.zero_grad();
        }
    }

    /// Checks the shapes of a loaded model (embedding, layer chain, output and bias against the item
    /// count), so a corrupt file can never index out of bounds at scoring time.
    pub(crate) fn check_shapes(&self) -> Result<(), String> {
        let n = self.n_items;
        let dim = |p: &Param<f32>| p.value.dim();
        if self.layers.is_empty() {
            return Err("no recurrent layer".into());
        }
        let top = self.hidden_size();
        if dim(&self.out) != (n, top) || dim(&self.bias) != (1, n) {
            return Err(format!(
                "output {:?} and bias {:?} do not fit {n} items of width {top}",
                dim(&self.out),
                dim(&self.bias)
            ));
        }
        let mut input = if self.params.tie_embedding {
            top
        } else {
            if self.embedding.vocab() != n {
                return Err(format!(
                    "embedding has {} rows for {n} items",
                    self.embedding.vocab()
                ));
            }
            self.embedding.dim()
        };
        for (i, l) in self.layers.iter().enumerate() {
            let h = l.hidden();
            let g = l.kind.gates() * h;
            let bhn = if l.kind == CellKind::Gru { h } else { 0 };
            if l.kind != self.params.cell
                || dim(&l.w) != (input, g)
                || dim(&l.u) != (h, g)
                || dim(&l.b) != (1, g)
                || dim(&l.bhn) != (1, bhn)
            {
                return Err(format!("recurrent layer {i} has inconsistent shapes"));
            }
            input = h;
        }
        let standard = |p: &Param<f32>| p.value.is_standard_layout();
        if !standard(&self.out) || !standard(&self.embedding.table) {
            return Err("weights are not in row-major layout".into());
        }
        Ok(())
    }

    /// Width of the top hidden state (the session embedding).
    pub fn hidden_size(&self) -> usize {
        self.layers.last().map_or(0, |l| l.hidden())
    }

    /// One epoch of session-parallel minibatches over the sessions in `order`; returns the mean loss
    /// per predicted click.
    fn train_epoch(
        &mut self,
        train: &Sequences,
        order: &[usize],
        sampler: Option<&[f64]>,
        opt: &mut Optimizer<f32>,
        lr: f64,
        rng: &mut ChaCha8Rng,
    ) -> f64 {
        let bsz = self.params.batch_size.min(order.len());
        let widths: Vec<usize> = self.layers.iter().map(|l| l.hidden()).collect();
        let lstm = self.params.cell == CellKind::Lstm;
        // Each slot: (session row, position of the current click).
        let mut slots: Vec<(usize, usize)> = order[..bsz].iter().map(|&r| (r, 0)).collect();
        let mut next = bsz;
        let mut h: Vec<Array2<f32>> = widths.iter().map(|&w| Array2::zeros((bsz, w))).collect();
        let mut c: Vec<Array2<f32>> = widths
            .iter()
            .map(|&w| {
                if lstm {
                    Array2::zeros((bsz, w))
                } else {
                    Array2::zeros((0, 0))
                }
            })
            .collect();
        let (mut loss_sum, mut n_pred) = (0.0, 0usize);
        let mut inputs = Vec::with_capacity(bsz);
        let mut targets = Vec::with_capacity(bsz);
        while !slots.is_empty() {
            inputs.clear();
            targets.clear();
            for &(r, t) in &slots {
                let s = train.row(r);
                inputs.push(s[t]);
                targets.push(s[t + 1]);
            }
            let loss = self.train_step(&inputs, &targets, &mut h, &mut c, sampler, opt, lr, rng);
            loss_sum += loss * slots.len() as f64;
            n_pred += slots.len();
            // Advance; replace finished sessions, dropping slots when no session is left.
            let mut keep = Vec::with_capacity(slots.len());
            let mut reset = Vec::new();
            for (i, slot) in slots.iter_mut().enumerate() {
                slot.1 += 1;
                if slot.1 + 1 >= train.row(slot.0).len() {
                    if next < order.len() {
                        *slot = (order[next], 0);
                        next += 1;
                        reset.push(i);
                        keep.push(i);
                    }
                } else {
                    keep.push(i);
                }
            }
            for &i in &reset {
                for l in 0..h.len() {
                    h[l].row_mut(i).fill(0.0);
                    if lstm {
                        c[l].row_mut(i).fill(0.0);
                    }
                }
            }
            if keep.len() < slots.len() {
                slots = keep.iter().map(|&i| slots[i]).collect();
                for l in 0..h.len() {
                    h[l] = h[l].select(Axis(0), &keep);
                    if lstm {
                        c[l] = c[l].select(Axis(0), &keep);
                    }
                }
            }
        }
        if n_pred == 0 {
            0.0
        } else {
            loss_sum / n_pred as f64
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn train_step(
        &mut self,
        inputs: &[u32],
        targets: &[u32],
        h: &mut [Array2<f32>],
        c: &mut [Array2<f32>],
        sampler: Option<&[f64]>,
        opt: &mut Optimizer<f32>,
        lr: f64,
        rng: &mut ChaCha8Rng,
    ) -> f64 {
        for p in self.params_mut() {
            p.zero_grad();
        }
        let b = inputs.len();
        let packed = Packed::new(&vec![1; b]);
        let lstm = self.params.cell == CellKind::Lstm;
        // Forward.
        let mut x = self.embed(inputs);
        let mut drops = Vec::with_capacity(self.layers.len() + 1);
        drops.push(Dropout::forward(&mut x, self.params.dropout_embed, rng));
        let mut caches = Vec::with_capacity(self.layers.len());
        for (l, layer) in self.layers.iter().enumerate() {
            if l > 0 {
                drops.push(Dropout::forward(&mut x, self.params.dropout_hidden, rng));
            }
            let cache = layer.forward(x, &packed, Some(&h[l]), lstm.then_some(&c[l]));
            x = cache.h.clone();
            caches.push(cache);
        }
        drops.push(Dropout::forward(&mut x, self.params.dropout_hidden, rng));
        let mut st = StepCache {
            drops,
            caches,
            top: x,
        };
        // Output and loss.
        let tgt: Vec<usize> = targets.iter().map(|&t| t as usize).collect();
        let (loss, mut dtop) = match (self.params.loss, sampler) {
            (NextItemLoss::Sampled { n_sample, .. }, Some(cum)) => {
                let total = cum.last().copied().unwrap_or(0.0);
                let mut cand: Vec<usize> = tgt.clone();
                for _ in 0..n_sample {
                    let u = rng.gen::<f64>() * total;
                    cand.push(cum.partition_point(|&v| v <= u).min(self.n_items - 1));
                }
                let w = self.out.value.select(Axis(0), &cand);
                let mut logits = matmul(&st.top, &w.t());
                for (j, &i) in cand.iter().enumerate() {
                    let bj = self.bias.value[[0, i]];
                    logits.column_mut(j).mapv_inplace(|v| v + bj);
                }
                let labels: Vec<usize> = (0..b).collect();
                let (loss, dlog) = softmax_ce_owned(logits, &labels, None);
                let dw = matmul(&dlog.t(), &st.top);
                for (j, &i) in cand.iter().enumerate() {
                    let mut g = self.out.grad.row_mut(i);
                    g += &dw.row(j);
                    self.bias.grad[[0, i]] += dlog.column(j).sum();
                }
                (loss, matmul(&dlog, &w))
            }
            _ => {
                let mut logits = matmul(&st.top, &self.out.value.t());
                logits += &self.bias.value;
                let (loss, dlog) = softmax_ce_owned(logits, &tgt, None);
                par_gemm(dlog.t(), st.top.view(), 1.0, self.out.grad.view_mut());
                self.bias.grad += &dlog.sum_axis(Axis(0)).insert_axis(Axis(0));
                (loss, matmul(&dlog, &self.out.value))
            }
        };
        // Backward (one step: the carried state is treated as a constant, as in GRU4Rec).
        let nl = self.layers.len();
        st.drops[nl].backward(&mut dtop);
        let mut dh = dtop;
        for l in (0..nl).rev() {
            let (mut dx, _, _) = self.layers[l].backward(&st.caches[l], &packed, &dh);
            st.drops[l].backward(&mut dx);
            dh = dx;
        }
        if self.params.tie_embedding {
            Embedding::scatter_add(&mut self.out.grad, inputs, &dh);
        } else {
            self.embedding.backward(inputs, &dh);
        }
        opt.step(&mut self.params_mut(), lr);
        // Carry the states.
        for (l, cache) in st.caches.drain(..).enumerate() {
            if lstm {
                c[l] = cache.extra;
            }
            h[l] = cache.h;
        }
        st.top = Array2::zeros((0, 0));
        loss
    }

    /// Top-layer hidden states of every packed row of `seqs` (sorted longest first), no dropout.
    fn hidden_states(&self, seqs: &[&[u32]]) -> (Packed, Array2<f32>) {
        let lengths: Vec<usize> = seqs.iter().map(|s| s.len()).collect();
        let packed = Packed::new(&lengths);
        let tokens = packed.pack_tokens(seqs);
        let mut x = self.embed(&tokens);
        for layer in &self.layers {
            x = layer.forward(x, &packed, None, None).h;
        }
        (packed, x)
    }

    /// The session embedding (final top-layer hidden state) of every session of `sessions`
    /// (`sessions × hidden`; zeros for an empty session). Item ids `≥ n_items` are skipped.
    pub fn session_embeddings(&self, sessions: &Sequences) -> Array2<f32> {
        let n = sessions.len();
        let mut out = Array2::zeros((n, self.hidden_size()));
        let rows: Vec<Vec<u32>> = (0..n)
            .map(|r| {
                sessions
                    .row(r)
                    .iter()
                    .copied()
                    .filter(|&t| (t as usize) < self.n_items)
                    .collect()
            })
            .collect();
        let mut idx: Vec<usize> = (0..n).collect();
        idx.sort_by_key(|&r| std::cmp::Reverse(rows[r].len()));
        for chunk in idx.chunks(512) {
            let seqs: Vec<&[u32]> = chunk.iter().map(|&r| rows[r].as_slice()).collect();
            let (packed, hs) = self.hidden_states(&seqs);
            for (i, &r) in chunk.iter().enumerate() {
                if let Some(row) = packed.last_row(i) {
                    out.row_mut(r).assign(&hs.row(row));
                }
            }
        }
        out
    }

    /// Writes the model as versioned JSON (`kind` = `nextitem-<cell>`).
    pub fn save<W: Write>(&self, w: W) -> Result<(), ModelError> {
        crate::persist::write_envelope(w, &format!("nextitem-{}", self.params.cell.name()), self)
    }

    /// Reads a model written by [`Gru4RecModel::save`].
    pub fn load<R: Read>(r: R) -> Result<Self, ModelError> {
        let (kind, body) = crate::persist::read_envelope(r)?;
        if !kind.starts_with("nextitem-") {
            return Err(ModelError::BadFile(format!(
                "holds a `{kind}` model, expected a next-item network"
            )));
        }
        let mut m: Gru4RecModel = serde_json::from_value(body)
            .map_err(|e| ModelError::BadFile(format!("corrupt `{kind}` model: {e}")))?;
        for p in m.params_mut() {
            p.zero_grad();
        }
        Ok(m)
    }
}

impl NextItemModel for Gru4RecModel {
    fn name(&self) -> String {
        self.params.cell.name().to_string()
    }

    /// One session: its top hidden state after the last click, times the output vectors (the same
    /// products as the batch path, for one row).
    fn score_session(&self, clicks: &[u32], scores: &mut Vec<f32>) {
        scores.clear();
        if clicks.is_empty() {
            scores.resize(self.n_items, 0.0);
            return;
        }
        let (packed, hs) = self.hidden_states(&[clicks]);
        let Some(row) = packed.last_row(0) else {
            scores.resize(self.n_items, 0.0);
            return;
        };
        let mut out = matmul(&hs.slice(s![row..row + 1, ..]), &self.out.value.t());
        out += &self.bias.value;
        scores.extend(out.iter().copied());
    }

    fn n_items(&self) -> usize {
        self.n_items
    }

    fn score_prefixes(&self, sessions: &Sequences, rows: &[usize], sink: ScoreSink<'_>) {
        let mut idx: Vec<usize> = rows.to_vec();
        idx.sort_by_key(|&r| std::cmp::Reverse(sessions.row(r).len()));
        // Bound the score matrix to about 16M floats.
        let budget = (16usize << 20) / self.n_items.max(1);
        let mut start = 0;
        while start < idx.len() {
            let mut end = start;
            let mut tokens = 0;
            while end < idx.len()
                && (end == start || tokens + sessions.row(idx[end]).len() <= budget)
            {
                tokens += sessions.row(idx[end]).len();
                end += 1;
            }
            let chunk = &idx[start..end];
            let seqs: Vec<&[u32]> = chunk.iter().map(|&r| sessions.row(r)).collect();
            let (packed, hs) = self.hidden_states(&seqs);
            let mut scores = matmul(&hs, &self.out.value.t());
            scores += &self.bias.value;
            for (i, &r) in chunk.iter().enumerate() {
                for t in 0..seqs[i].len().saturating_sub(1) {
                    let row = scores.slice(s![packed.row(t, i), ..]);
                    sink(r, t, row.as_slice().unwrap_or(&[]));
                }
            }
            start = end;
        }
    }
}
