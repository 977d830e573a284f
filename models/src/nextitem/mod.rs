//! # Next-item (session-based) recommendation: baselines, a GRU4Rec-style network, evaluation
//!
//! Given the items a session has clicked so far, rank all items for the next click. Sessions are
//! [`Sequences`] of dense item ids `0..n_items` (the training items); a test session is first cut to
//! its items seen in training, and sessions left with fewer than two clicks are dropped.
//!
//! * [`baselines`]: most-popular, first-order Markov chain, item-kNN (cosine on session
//!   co-occurrence) and session-kNN (Ludewig & Jannach 2018, "Evaluation of session-based
//!   recommendation algorithms").
//! * [`gru4rec`]: embedding → GRU/LSTM/RNN stack → scores over all items, trained with
//!   session-parallel minibatches and full or sampled softmax (Hidasi et al. 2016, 2018).
//! * [`evaluate`]: the usual protocol — predict every next click of every test session from its
//!   prefix, Recall@k (hit rate) and MRR@k. Ties are counted against the model: the target's rank is
//!   1 + the number of *other* items scoring at least as high, so a model cannot gain from ties.
//!
//! Evaluation cost: one score vector over all items per prediction, `O(predictions × n_items)` time,
//! parallel over chunks of sessions (results are summed in chunk order, so they do not depend on the
//! thread count).

pub mod baselines;
pub mod bootstrap;
pub mod gru4rec;
pub mod hybrid;
mod last_click;
mod neighbours;
pub mod online;
pub mod quantized;
pub mod sasrec;
pub mod saved;
pub mod sr;
pub mod srgnn;
pub mod stan;
pub mod vsknn;

use std::cmp::Ordering;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{ModelError, Sequences};

pub use baselines::{ItemKnn, LastItemModel, MarkovChain, MostPopular, SessionKnn};
pub use bootstrap::{paired_difference, Interval, Metric, SessionOutcomes};
pub use gru4rec::{Gru4Rec, Gru4RecModel, Gru4RecParams, NextItemLoss};
pub use hybrid::{fit_stacker, tune_weights, Combiner, Hybrid, HybridFit, STACK_DEPTH};
pub use online::{OnlineCounts, OnlineKind, OnlineModel};
pub use quantized::{CompressOptions, QuantizedGru4Rec};
pub use sasrec::{SasRec, SasRecModel, SasRecNet, SasRecParams};
pub use saved::{ItemVocab, NextItemFile, SavedNextItem};
pub use sr::{OnlineRules, SequentialRules, SrParams};
pub use srgnn::{SrGnn, SrGnnModel, SrGnnNet, SrGnnParams};
pub use stan::{Stan, StanParams};
pub use vsknn::{Decay, VSessionKnn, VsknnParams};

/// Receives `(session row, position, scores of every item)` for each scored prefix.
pub type ScoreSink<'a> = &'a mut dyn FnMut(usize, usize, &[f32]);

/// A model that scores every item as the next click after each prefix of a session.
pub trait NextItemModel: Sync {
    /// Short name for tables (`pop`, `markov`, `iknn`, `sknn`, `gru`, …).
    fn name(&self) -> String;

    /// Number of items scored (ids `0..n_items`).
    fn n_items(&self) -> usize;

    /// For every session `r` in `rows` of `sessions` and every position `t` but the last, calls
    /// `sink(r, t, scores)` with the scores of all items after seeing clicks `0..=t`. Higher is better.
    fn score_prefixes(&self, sessions: &Sequences, rows: &[usize], sink: ScoreSink<'_>);

    /// [`NextItemModel::score_prefixes`] of `q.rows` with the time of every click (`q.times`), for
    /// models that weigh neighbours by recency (STAN, VSTAN). The default ignores the times.
    fn score_timed(&self, q: &Prefixes<'_>, sink: ScoreSink<'_>) {
        self.score_prefixes(q.sessions, q.rows, sink);
    }

    /// The scores of every item as the next click after `clicks` (item ids `< n_items`, at least one
    /// click), written into `scores` (resized to `n_items`). What serving calls for one session.
    ///
    /// The default runs the batch path, [`NextItemModel::score_prefixes`], on the one session with a
    /// placeholder click appended, so it gives exactly the scores `evaluate` ranks for that prefix;
    /// a model may override it with a cheaper path that computes the same scores.
    fn score_session(&self, clicks: &[u32], scores: &mut Vec<f32>) {
        scores.clear();
        if clicks.is_empty() {
            scores.resize(self.n_items(), 0.0);
            return;
        }
        let mut tokens = clicks.to_vec();
        tokens.push(clicks[clicks.len() - 1]);
        let seqs = Sequences {
            offsets: vec![0, tokens.len()],
            tokens,
            vocab: self.n_items(),
        };
        let last = clicks.len() - 1;
        self.score_prefixes(&seqs, &[0], &mut |_, t, s| {
            if t == last {
                scores.extend_from_slice(s);
            }
        });
    }
}

/// The prefixes to score: every prefix of the sessions `rows` of `sessions`, with the time of every
/// click in seconds (aligned with `sessions.tokens`) when the log has times.
#[derive(Clone, Copy, Debug)]
pub struct Prefixes<'a> {
    /// The sessions.
    pub sessions: &'a Sequences,
    /// Click times in seconds, aligned with `sessions.tokens`.
    pub times: Option<&'a [f64]>,
    /// The rows to score.
    pub rows: &'a [usize],
}

impl<'a> Prefixes<'a> {
    /// The prefixes of `rows` without click times.
    pub fn untimed(sessions: &'a Sequences, rows: &'a [usize]) -> Self {
        Prefixes {
            sessions,
            times: None,
            rows,
        }
    }
}

/// Maps the session rows a sink receives to their slot in `rows` (a lookup that remembers the last
/// row, since models report the prefixes of one session together).
pub(crate) struct SlotOf<'a> {
    rows: &'a [usize],
    last: usize,
    slot: usize,
}

impl<'a> SlotOf<'a> {
    pub(crate) fn new(rows: &'a [usize]) -> Self {
        SlotOf {
            rows,
            last: usize::MAX,
            slot: 0,
        }
    }

    /// The position of row `r` in `rows`.
    pub(crate) fn of(&mut self, r: usize) -> usize {
        if r != self.last {
            self.slot = self.rows.iter().position(|&x| x == r).unwrap_or(self.slot);
            self.last = r;
        }
        self.slot
    }
}

/// A borrowed model is a model (hybrids of models owned elsewhere). Borrowed as a trait object: the
/// last-click models get their implementation from `last_click::LastClickModel`, and a blanket
/// implementation for every `&T` would overlap with that one.
impl NextItemModel for &dyn NextItemModel {
    fn name(&self) -> String {
        (**self).name()
    }
    fn n_items(&self) -> usize {
        (**self).n_items()
    }
    fn score_prefixes(&self, sessions: &Sequences, rows: &[usize], sink: ScoreSink<'_>) {
        (**self).score_prefixes(sessions, rows, sink);
    }
    fn score_timed(&self, q: &Prefixes<'_>, sink: ScoreSink<'_>) {
        (**self).score_timed(q, sink);
    }
    fn score_session(&self, clicks: &[u32], scores: &mut Vec<f32>) {
        (**self).score_session(clicks, scores);
    }
}

/// A score ranked by IEEE 754 total order (`total_cmp`): every value, NaN included, has one place, so
/// an order built on it with an id tie-break is strict and its top `k` never depend on the algorithm.
pub(crate) trait Score: Copy {
    /// `f32::total_cmp` / `f64::total_cmp`.
    fn total_cmp(&self, other: &Self) -> Ordering;
}

impl Score for f32 {
    #[inline]
    fn total_cmp(&self, other: &Self) -> Ordering {
        f32::total_cmp(self, other)
    }
}

impl Score for f64 {
    #[inline]
    fn total_cmp(&self, other: &Self) -> Ordering {
        f64::total_cmp(self, other)
    }
}

/// The ranking of every item list: `(id, score)` with the higher score (by `total_cmp`) first, ties
/// to the lower id.
#[inline]
pub(crate) fn best_first<S: Score>(a: (u32, S), b: (u32, S)) -> Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

/// Keeps the `k` first elements of `v` under `order` (best first), sorted; all of them, sorted, when
/// there are at most `k`. A selection, then a sort of the kept: `O(n + k log k)`, in place. With a
/// strict order (every tie broken, e.g. by an id) the result is exactly a full sort's first `k`.
pub(crate) fn keep_best<T>(v: &mut Vec<T>, k: usize, order: impl Fn(&T, &T) -> Ordering) {
    if v.len() > k {
        v.select_nth_unstable_by(k, &order);
        v.truncate(k);
    }
    v.sort_unstable_by(order);
}

/// The `k` best items of `scores` as `(item, score)`, best first (`best_first`), skipping the items
/// of `exclude` (sorted ascending) and NaN scores; ties go to the lower item id, so the order is
/// deterministic. Cost: one pass with a bounded heap, `O(n log k)`, and no buffer of `n` — it runs once
/// per prediction, which is why it does not collect every item for `keep_best`.
pub fn top_k(scores: &[f32], k: usize, exclude: &[u32]) -> Vec<(u32, f32)> {
    use std::collections::BinaryHeap;
    /// Heap entry ordered so that the heap's top is the worst kept item.
    #[derive(PartialEq)]
    struct Entry(f32, u32);
    impl Eq for Entry {}
    impl Ord for Entry {
        fn cmp(&self, o: &Self) -> Ordering {
            // Better = earlier under `best_first`; the max-heap keeps the worst on top.
            best_first((self.1, self.0), (o.1, o.0))
        }
    }
    impl PartialOrd for Entry {
        fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
            Some(self.cmp(o))
        }
    }
    if k == 0 {
        return Vec::new();
    }
    let mut heap: BinaryHeap<Entry> = BinaryHeap::with_capacity(k + 1);
    for (i, &s) in scores.iter().enumerate() {
        if s.is_nan() || exclude.binary_search(&(i as u32)).is_ok() {
            continue;
        }
        let e = Entry(s, i as u32);
        if heap.len() < k {
            heap.push(e);
        } else if let Some(worst) = heap.peek() {
            if e < *worst {
                heap.pop();
                heap.push(e);
            }
        }
    }
    let mut v: Vec<(u32, f32)> = heap.into_iter().map(|e| (e.1, e.0)).collect();
    keep_best(&mut v, k, |a, b| best_first(*a, *b));
    v
}

/// Recall@k and MRR@k over all predictions.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct NextItemMetrics {
    /// Cut-offs, ascending.
    pub ks: Vec<usize>,
    /// Recall (hit rate) at each cut-off.
    pub recall: Vec<f64>,
    /// Mean reciprocal rank at each cut-off (0 beyond the cut-off).
    pub mrr: Vec<f64>,
    /// Number of predictions (next clicks evaluated).
    pub predictions: u64,
    /// Number of test sessions evaluated.
    pub sessions: usize,
}

impl NextItemMetrics {
    /// Recall at cut-off `k`, when `k` was evaluated.
    pub fn recall_at(&self, k: usize) -> Option<f64> {
        self.ks.iter().position(|&x| x == k).map(|i| self.recall[i])
    }

    /// MRR at cut-off `k`, when `k` was evaluated.
    pub fn mrr_at(&self, k: usize) -> Option<f64> {
        self.ks.iter().position(|&x| x == k).map(|i| self.mrr[i])
    }
}

/// 1-based rank of `target`, counting every other item with a score at least as high (pessimistic
/// ties). A NaN score counts as the lowest.
#[inline]
pub fn rank_of(scores: &[f32], target: usize) -> usize {
    let s = scores[target];
    if s.is_nan() {
        return scores.len();
    }
    let mut above = 0;
    for (j, &v) in scores.iter().enumerate() {
        if v >= s && j != target {
            above += 1;
        }
    }
    above + 1
}

/// Evaluates `model` on `test` (already restricted to training items, sessions of ≥ 2 clicks) at the
/// cut-offs `ks`.
pub fn evaluate(model: &dyn NextItemModel, test: &Sequences, ks: &[usize]) -> NextItemMetrics {
    evaluate_sessions(model, test, None, ks).0
}

/// [`evaluate`] with click times (seconds, aligned with `test.tokens`) for time-aware models, also
/// returning every evaluated session's hits and reciprocal ranks (for bootstrap intervals and paired
/// comparisons over sessions).
pub fn evaluate_sessions(
    model: &dyn NextItemModel,
    test: &Sequences,
    times: Option<&[f64]>,
    ks: &[usize],
) -> (NextItemMetrics, SessionOutcomes) {
    let mut ks = ks.to_vec();
    ks.sort_unstable();
    ks.dedup();
    let rows: Vec<usize> = (0..test.len())
        .filter(|&r| test.row(r).len() >= 2)
        .collect();
    let chunks: Vec<&[usize]> = rows.chunks(256).collect();
    let parts: Vec<SessionOutcomes> = chunks
        .par_iter()
        .map(|chunk| {
            let mut out = SessionOutcomes::new(&ks, chunk.len());
            let mut slots = SlotOf::new(chunk);
            let q = Prefixes {
                sessions: test,
                times,
                rows: chunk,
            };
            model.score_timed(&q, &mut |r, t, scores| {
                let target = test.row(r)[t + 1] as usize;
                out.record(slots.of(r), rank_of(scores, target));
            });
            out
        })
        .collect();
    let outcomes = SessionOutcomes::concat(&ks, parts);
    (outcomes.metrics(), outcomes)
}

/// Builds [`Sequences`] from sessions of optional item ids, applying the test protocol: unknown items
/// (`None`) are removed and sessions left with fewer than `min_len` clicks are dropped. Returns the
/// sequences and, for each kept session, its index in the input.
pub fn protocol_sessions(
    sessions: &[Vec<Option<u32>>],
    n_items: usize,
    min_len: usize,
) -> (Sequences, Vec<usize>) {
    let mut seqs = Sequences {
        tokens: Vec::new(),
        offsets: vec![0],
        vocab: n_items,
    };
    let mut kept = Vec::new();
    for (i, s) in sessions.iter().enumerate() {
        let start = seqs.tokens.len();
        seqs.tokens.extend(
            s.iter()
                .flatten()
                .copied()
                .filter(|&x| (x as usize) < n_items),
        );
        if seqs.tokens.len() - start >= min_len {
            seqs.offsets.push(seqs.tokens.len());
            kept.push(i);
        } else {
            seqs.tokens.truncate(start);
        }
    }
    (seqs, kept)
}

/// How `fit_epochs` runs: epochs, schedule and early stopping.
pub struct EpochPlan<'a> {
    /// Maximum epochs.
    pub epochs: usize,
    /// Base learning rate.
    pub lr: f64,
    /// Learning-rate schedule over epochs.
    pub schedule: crate::nn::LrSchedule,
    /// Epochs without validation improvement before stopping.
    pub patience: usize,
    /// Validation sessions (Recall@20 after every epoch), if any.
    pub valid: Option<&'a Sequences>,
}

/// The epoch loop the networks share: runs `epoch(model, lr)` (returns the mean training loss) for
/// up to `plan.epochs` epochs, reports each to `progress`, and with validation sessions evaluates
/// Recall@20 after every epoch, stops after `patience` epochs without improvement and returns the
/// best epoch's model. Returns the model, the history and the 1-based epoch kept.
pub(crate) fn fit_epochs<M: NextItemModel + Clone>(
    mut model: M,
    plan: &EpochPlan<'_>,
    progress: &mut dyn FnMut(&crate::nn::EpochRecord),
    mut epoch: impl FnMut(&mut M, f64) -> f64,
) -> (M, Vec<crate::nn::EpochRecord>, usize) {
    let mut history = Vec::new();
    let mut best: Option<(f64, usize, M)> = None;
    for e in 0..plan.epochs {
        let start = std::time::Instant::now();
        let lr = plan.schedule.rate(plan.lr, e);
        let train_loss = epoch(&mut model, lr);
        let metric = plan.valid.map(|v| evaluate(&model, v, &[20]).recall[0]);
        let rec = crate::nn::EpochRecord {
            epoch: e + 1,
            lr,
            train_loss,
            valid_loss: None,
            valid_metric: metric,
            seconds: start.elapsed().as_secs_f64(),
        };
        progress(&rec);
        history.push(rec);
        if let Some(r) = metric {
            if best.as_ref().map_or(true, |(b, _, _)| r > *b) {
                best = Some((r, e + 1, model.clone()));
            } else if best
                .as_ref()
                .is_some_and(|(_, be, _)| e + 1 - be >= plan.patience)
            {
                break;
            }
        }
    }
    match best {
        Some((_, e, b)) => (b, history, e),
        None => {
            let n = history.len();
            (model, history, n)
        }
    }
}

/// The weights of a session network as [`TrainedNet`] stores them.
pub trait SessionNet: Clone + Serialize + serde::de::DeserializeOwned + Sync {
    /// `kind` of its model files (`nextitem-srgnn`, …).
    const KIND: &'static str;
    /// Its name in tables ([`NextItemModel::name`]: `srgnn`, …).
    const NAME: &'static str;
    /// The trainable parameters.
    fn params_mut(&mut self) -> Vec<&mut crate::nn::Param<f32>>;
}

/// The training settings SR-GNN and SASRec share, read by [`NetTrainer::fit`] (written flat in their
/// parameters' JSON).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct NetTraining {
    /// Examples per minibatch (prefixes for SR-GNN, sessions for SASRec).
    pub batch_size: usize,
    /// Maximum epochs.
    pub epochs: usize,
    /// Base learning rate.
    pub lr: f64,
    /// Learning-rate schedule.
    pub schedule: crate::nn::LrSchedule,
    /// L2 weight decay (every parameter, as PyTorch's Adam `weight_decay`).
    pub weight_decay: f64,
    /// Epochs without validation Recall@20 improvement before stopping (with a validation set).
    pub patience: usize,
    /// Seed of initialisation, example order and dropout.
    pub seed: u64,
}

impl NetTraining {
    /// Adam at 1e-3, constant, no weight decay, patience 2, seed 42, with `batch_size` and `epochs`.
    pub fn adam(batch_size: usize, epochs: usize) -> Self {
        NetTraining {
            batch_size,
            epochs,
            lr: 1e-3,
            schedule: crate::nn::LrSchedule::Constant,
            weight_decay: 0.0,
            patience: 2,
            seed: 42,
        }
    }

    /// Validates the settings.
    pub fn check(&self) -> Result<(), ModelError> {
        use crate::nn::optim::{check_optimizer, check_regularisation, check_steps};
        check_steps(self.epochs, self.batch_size, self.lr)?;
        check_optimizer(crate::nn::OptimizerKind::adam(), self.schedule)?;
        check_regularisation(self.weight_decay, 0.0)
    }
}

/// What the parameters of a session network (SR-GNN, SASRec) give the one training loop they share,
/// [`NetTrainer::fit`] (how to build the network, its examples and the loss of a minibatch), and the
/// one [`NextItemModel`] of the trained network (how it scores prefixes).
pub trait SessionNetParams: Clone + Serialize + serde::de::DeserializeOwned + Sync {
    /// The network.
    type Net: SessionNet;
    /// Batch size, epochs, schedule, weight decay, patience and seed.
    fn training(&self) -> &NetTraining;
    /// The update rule (with the weight decay of [`SessionNetParams::training`]).
    fn optimizer(&self) -> crate::nn::Optimizer<f32>;
    /// A fresh network for `n_items` items.
    fn build(&self, n_items: usize, rng: &mut ChaCha8Rng) -> Self::Net;
    /// The training examples as `(session row, clicks)` pairs, shuffled every epoch.
    fn examples(&self, train: &Sequences) -> Vec<(u32, u32)>;
    /// Accumulates the gradients of one minibatch (zeroed before); returns its mean loss and its
    /// weight (the predictions it made).
    fn batch_loss(
        &self,
        net: &mut Self::Net,
        train: &Sequences,
        batch: &[(u32, u32)],
        rng: &mut ChaCha8Rng,
    ) -> (f64, usize);
    /// [`NextItemModel::score_prefixes`] of the trained network `net`.
    fn score_prefixes(
        &self,
        net: &Self::Net,
        sessions: &Sequences,
        rows: &[usize],
        sink: ScoreSink<'_>,
    );
}

/// Validated parameters of a session network: call [`NetTrainer::fit`].
#[derive(Clone, Debug, PartialEq)]
pub struct NetTrainer<P> {
    params: P,
}

impl<P: SessionNetParams> NetTrainer<P> {
    /// Wraps `params`, whose own fields the caller has checked, once their training settings
    /// ([`NetTraining::check`]) are valid too: the last step of every network's `check`.
    pub(crate) fn checked(params: P) -> Result<Self, ModelError> {
        params.training().check()?;
        Ok(NetTrainer { params })
    }

    /// The validated parameters.
    pub fn params(&self) -> &P {
        &self.params
    }

    /// Trains on `train` (item ids `< train.vocab`): examples shuffled every epoch and cut into
    /// minibatches; with `valid`, stops early on its Recall@20 and keeps the best epoch. `progress` is
    /// called after every epoch.
    pub fn fit(
        &self,
        train: &Sequences,
        valid: Option<&Sequences>,
        progress: &mut dyn FnMut(&crate::nn::EpochRecord),
    ) -> Result<TrainedNet<P, P::Net>, ModelError> {
        check_training_sessions(train)?;
        let p = &self.params;
        let t = p.training();
        let mut rng = ChaCha8Rng::seed_from_u64(t.seed);
        let net = p.build(train.vocab, &mut rng);
        let mut examples = p.examples(train);
        let mut opt = p.optimizer();
        let plan = EpochPlan {
            epochs: t.epochs,
            lr: t.lr,
            schedule: t.schedule,
            patience: t.patience,
            valid,
        };
        let train_epoch = |m: &mut TrainedNet<P, P::Net>, lr| {
            examples.shuffle(&mut rng);
            let (mut sum, mut n) = (0.0, 0usize);
            for batch in examples.chunks(t.batch_size) {
                for q in m.net.params_mut() {
                    q.zero_grad();
                }
                let (loss, weight) = p.batch_loss(&mut m.net, train, batch, &mut rng);
                sum += loss * weight as f64;
                n += weight;
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

/// A trained session network (SR-GNN, SASRec): its parameters, item count, weights and history.
/// Every one is a [`NextItemModel`] named [`SessionNet::NAME`] that scores as
/// [`SessionNetParams::score_prefixes`] says.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TrainedNet<P, N> {
    /// Training parameters.
    pub params: P,
    /// Number of items (ids `0..n_items`).
    pub n_items: usize,
    /// The network.
    pub net: N,
    /// Per-epoch history (`valid_metric` = Recall@20 on the validation sessions).
    pub history: Vec<crate::nn::EpochRecord>,
    /// Epoch whose weights were kept.
    pub best_epoch: usize,
}

impl<P, N> TrainedNet<P, N>
where
    P: Clone + Serialize + serde::de::DeserializeOwned,
    N: SessionNet,
    Self: NextItemModel,
{
    /// Trains `net` with [`fit_epochs`] and records the history and the epoch kept.
    pub(crate) fn train(
        params: P,
        n_items: usize,
        net: N,
        plan: &EpochPlan<'_>,
        progress: &mut dyn FnMut(&crate::nn::EpochRecord),
        epoch: impl FnMut(&mut Self, f64) -> f64,
    ) -> Self {
        let model = TrainedNet {
            params,
            n_items,
            net,
            history: Vec::new(),
            best_epoch: 0,
        };
        let (mut m, history, best) = fit_epochs(model, plan, progress, epoch);
        m.history = history;
        m.best_epoch = best;
        m
    }

    /// Writes the model as versioned JSON (`kind` = [`SessionNet::KIND`]).
    pub fn save<W: std::io::Write>(&self, w: W) -> Result<(), ModelError> {
        crate::persist::write_envelope(w, N::KIND, self)
    }

    /// Checks a loaded network: finite weights, a positive item count; zeroes the gradients (not
    /// saved). Shapes are implied by the parameters; a server also runs a trial scoring, with panics
    /// caught, before it swaps a model in.
    pub fn check_loaded(&mut self) -> Result<(), String> {
        if self.n_items == 0 {
            return Err("the network has no items".into());
        }
        for p in self.net.params_mut() {
            if p.value.iter().any(|v| !v.is_finite()) {
                return Err("the network has non-finite weights".into());
            }
            p.zero_grad();
        }
        Ok(())
    }

    /// Reads a model written by [`TrainedNet::save`] (of the same network).
    pub fn load<R: std::io::Read>(r: R) -> Result<Self, ModelError> {
        let (kind, body) = crate::persist::read_envelope(r)?;
        if kind != N::KIND {
            return Err(ModelError::BadFile(format!(
                "holds a `{kind}` model, expected `{}`",
                N::KIND
            )));
        }
        let mut m: Self = serde_json::from_value(body)
            .map_err(|e| ModelError::BadFile(format!("corrupt `{kind}` model: {e}")))?;
        for p in m.net.params_mut() {
            p.zero_grad();
        }
        Ok(m)
    }

    /// One vector per session of `sessions` (`sessions × dim`; zeros for a session with no item
    /// below `n_items`): `vectors` maps a chunk of sessions (known items only, at most the last
    /// `keep_last` of them) to one row each.
    pub(crate) fn per_session(
        &self,
        sessions: &Sequences,
        dim: usize,
        keep_last: usize,
        vectors: impl Fn(&[&[u32]]) -> ndarray::Array2<f32>,
    ) -> ndarray::Array2<f32> {
        let n = sessions.len();
        let mut out = ndarray::Array2::zeros((n, dim));
        let rows: Vec<Vec<u32>> = (0..n)
            .map(|r| {
                let s: Vec<u32> = sessions
                    .row(r)
                    .iter()
                    .copied()
                    .filter(|&t| (t as usize) < self.n_items)
                    .collect();
                s[s.len().saturating_sub(keep_last)..].to_vec()
            })
            .collect();
        let kept: Vec<usize> = (0..n).filter(|&r| !rows[r].is_empty()).collect();
        for chunk in kept.chunks(512) {
            let seqs: Vec<&[u32]> = chunk.iter().map(|&r| rows[r].as_slice()).collect();
            let v = vectors(&seqs);
            for (i, &r) in chunk.iter().enumerate() {
                out.row_mut(r).assign(&v.row(i));
            }
        }
        out
    }
}

impl<P: SessionNetParams> NextItemModel for TrainedNet<P, P::Net> {
    fn name(&self) -> String {
        <P::Net as SessionNet>::NAME.into()
    }

    fn n_items(&self) -> usize {
        self.n_items
    }

    fn score_prefixes(&self, sessions: &Sequences, rows: &[usize], sink: ScoreSink<'_>) {
        self.params.score_prefixes(&self.net, sessions, rows, sink);
    }
}

/// The training examples of `train`: every `(session row, t)` with `1 ≤ t < len`, the prefix
/// `0..t` predicting click `t`, in row order.
pub(crate) fn prefix_examples(train: &Sequences) -> Vec<(u32, u32)> {
    let mut v = Vec::new();
    for r in 0..train.len() {
        for t in 1..train.row(r).len() {
            v.push((r as u32, t as u32));
        }
    }
    v
}

/// Checks that `train` has items and a transition, and that every id is below its vocabulary.
pub(crate) fn check_training_sessions(train: &Sequences) -> Result<(), ModelError> {
    let n_items = train.vocab;
    if n_items == 0 {
        return Err(ModelError::Data("no items to train on".into()));
    }
    if !(0..train.len()).any(|r| train.row(r).len() >= 2) {
        return Err(ModelError::Data(
            "no training session has two or more clicks".into(),
        ));
    }
    if let Some(bad) = train.tokens.iter().find(|&&t| t as usize >= n_items) {
        return Err(ModelError::Data(format!(
            "item id {bad} is not below the item count {n_items}"
        )));
    }
    Ok(())
}

/// Click count of every item in `train`.
pub fn item_counts(train: &Sequences) -> Vec<u64> {
    let mut c = vec![0u64; train.vocab];
    for &t in &train.tokens {
        c[t as usize] += 1;
    }
    c
}

/// `factor · count / (max count + 1)` of every item: the popularity tie-breakers and fallbacks of the
/// baselines (below `factor`, so they never outweigh a score difference of `factor`).
pub(crate) fn scaled_popularity(counts: &[u64], factor: f32) -> Vec<f32> {
    let max = counts.iter().copied().max().unwrap_or(0) as f64 + 1.0;
    counts
        .iter()
        .map(|&x| factor * (x as f64 / max) as f32)
        .collect()
}

/// Counts a click on item `i` and keeps `scaled` equal to [`scaled_popularity`]`(counts, factor)`,
/// as online learning must: one entry changes, or all of them when the largest count grew (the scale
/// moved). `O(items)` for the largest count.
pub(crate) fn count_click(counts: &mut [u64], scaled: &mut [f32], i: usize, factor: f32) {
    let old_max = counts.iter().copied().max().unwrap_or(0);
    counts[i] += 1;
    if counts[i] > old_max {
        scaled.copy_from_slice(&scaled_popularity(counts, factor));
    } else {
        scaled[i] = factor * (counts[i] as f64 / (old_max as f64 + 1.0)) as f32;
    }
}

/// Whether `starts` are valid row starts of a compressed table of `rows` rows over `len` entries
/// (begin at 0, end at `len`, never decrease): what a loaded model's CSR arrays must satisfy before
/// they are indexed.
pub(crate) fn valid_row_starts(starts: &[usize], rows: usize, len: usize) -> bool {
    starts.len() == rows + 1
        && starts.first() == Some(&0)
        && starts.last() == Some(&len)
        && starts.windows(2).all(|w| w[0] <= w[1])
}

/// Small fixtures of the unit tests of the next-item models.
#[cfg(test)]
pub(crate) mod testing {
    use super::{NextItemModel, Prefixes};
    use crate::Sequences;

    /// Sequences of the given rows over `vocab` items.
    pub(crate) fn seqs(rows: &[&[u32]], vocab: usize) -> Sequences {
        let mut s = Sequences::empty(vocab);
        for r in rows {
            s.push_row(r.iter().copied());
        }
        s
    }

    /// The scores `model` gives after the whole `prefix` (`times`: of the prefix clicks and one
    /// more).
    pub(crate) fn scores_after(
        model: &dyn NextItemModel,
        prefix: &[u32],
        times: Option<&[f64]>,
    ) -> Vec<f32> {
        let mut q = prefix.to_vec();
        q.push(0);
        let test = seqs(&[&q], model.n_items());
        let mut out = Vec::new();
        let p = Prefixes {
            sessions: &test,
            times,
            rows: &[0],
        };
        model.score_timed(&p, &mut |_, t, s| {
            if t + 1 == prefix.len() {
                out = s.to_vec();
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_are_pessimistic_on_ties() {
        assert_eq!(rank_of(&[0.5, 0.9, 0.1], 0), 2);
        assert_eq!(rank_of(&[0.5, 0.5, 0.5], 1), 3);
        assert_eq!(rank_of(&[1.0, 0.0], 0), 1);
        assert_eq!(rank_of(&[f32::NAN, 0.0], 0), 2);
    }

    #[test]
    fn keep_best_is_a_full_sort_truncated() {
        // NaN of both signs, both zeros, infinities and ties: the order is strict, so the selection
        // gives what a full sort and a truncation give, for every k.
        let vals = [
            0.5,
            -0.0,
            f64::NAN,
            0.0,
            0.5,
            -f64::NAN,
            f64::INFINITY,
            -1.0,
            0.5,
            f64::NEG_INFINITY,
        ];
        let items: Vec<(u32, f64)> = (0..200u32)
            .map(|i| (i, vals[(i as usize * 7) % 10]))
            .collect();
        let mut full = items.clone();
        full.sort_by(|a, b| best_first(*a, *b));
        assert!(full[0].0 == 6 && full[0].1.is_nan() && full[0].1.is_sign_positive());
        assert!(full[199].0 == 195 && full[199].1.is_nan() && full[199].1.is_sign_negative());
        for k in [0, 1, 3, 17, 199, 200, 500] {
            let mut v = items.clone();
            keep_best(&mut v, k, |a, b| best_first(*a, *b));
            let want = &full[..k.min(full.len())];
            assert_eq!(v.len(), want.len());
            assert!(v
                .iter()
                .zip(want)
                .all(|(a, b)| a.0 == b.0 && a.1.to_bits() == b.1.to_bits()));
        }
        // Ties go to the lower id, in f32 as in f64.
        assert_eq!(best_first((3, 1.0f32), (2, 1.0)), Ordering::Greater);
        assert_eq!(best_first((3, 2.0f32), (2, 1.0)), Ordering::Less);
        assert_eq!(best_first((1, 0.0f64), (2, -0.0)), Ordering::Less);
    }

    #[test]
    fn top_k_orders_by_score_then_id_and_excludes() {
        let s = [0.5, 0.9, 0.5, f32::NAN, 0.7, 0.9];
        assert_eq!(top_k(&s, 3, &[]), vec![(1, 0.9), (5, 0.9), (4, 0.7)]);
        assert_eq!(top_k(&s, 3, &[1, 4]), vec![(5, 0.9), (0, 0.5), (2, 0.5)]);
        assert_eq!(top_k(&s, 10, &[]).len(), 5);
        assert!(top_k(&s, 0, &[]).is_empty());
        // Same as a full sort on random scores.
        let r: Vec<f32> = (0..500u32).map(|i| ((i * 7919) % 101) as f32).collect();
        let mut all: Vec<(u32, f32)> = r.iter().enumerate().map(|(i, &v)| (i as u32, v)).collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(37);
        assert_eq!(top_k(&r, 37, &[]), all);
    }

    #[test]
    fn protocol_drops_unknown_items_and_short_sessions() {
        let s = vec![
            vec![Some(0), None, Some(1)],
            vec![Some(2), None],
            vec![None, Some(3), Some(9)],
        ];
        let (q, kept) = protocol_sessions(&s, 5, 2);
        assert_eq!(kept, vec![0]);
        assert_eq!(q.row(0), &[0, 1]);
    }
}
