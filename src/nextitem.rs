//! Session-based next-item recommendation, the pipeline behind `cartseq nextitem`: read a training and
//! a test log into sessions, apply the evaluation protocol, fit baselines and recurrent networks on the
//! training sessions, rank all items for every next click of the test sessions and report Recall@k and
//! MRR@k; export session embeddings and training curves of the last network.
//!
//! Protocol (Hidasi et al. 2016; Ludewig & Jannach 2018): a session's clicks are ordered by time; test
//! items never seen in training are removed, then test sessions with fewer than two clicks are dropped;
//! every click after the first is predicted from the clicks before it. Ties count against the model.
//! With [`TestSet::LastDays`], sessions whose first day is after `max day − N` are the test set and
//! those before it train (SR-GNN's Diginetica split; sessions on the boundary day are dropped), after
//! removing items with fewer than the minimum item support of clicks (default 5 for Diginetica, as
//! SR-GNN does; 1 otherwise).
//!
//! Cost: reading is one pass over both files; memory is the event logs plus, per model, its parameters
//! (`items × (embed + hidden)` for the networks, `items × 100` for iknn, the training sessions for
//! sknn); evaluation scores all items per prediction (`predictions × items`), in parallel over chunks of
//! sessions. Results are identical for a given seed and any number of threads.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;
use cartseq_data::presets::read_events;
use cartseq_data::{Dictionary, EventLog, GroupBy, KeyIndex, OnError, Preset, PresetConfig};
use cartseq_mining::rules::steps::{step_rules, StepRuleParams};
use cartseq_models::nextitem::{
    evaluate_sessions, fit_stacker, paired_difference, protocol_sessions, tune_weights, Combiner,
    Gru4RecParams, Hybrid, HybridFit, Interval, ItemKnn, MarkovChain, Metric, MostPopular,
    NetTrainer, NextItemModel, SasRecParams, SavedNextItem, SequentialRules, SessionKnn,
    SessionNetParams, SessionOutcomes, SrGnnParams, SrParams, Stan, StanParams, TrainedNet,
    VSessionKnn, VsknnParams, STACK_DEPTH,
};
use cartseq_models::nn::{CellKind, EpochRecord};
use cartseq_models::Sequences;
use serde::Serialize;

use crate::charts;
use crate::output::{csv_text_cell, AtomicFile};

/// A next-item model: a baseline or a GRU4Rec-style network with the given cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// Most popular items.
    Pop,
    /// First-order transitions.
    Markov,
    /// Item-kNN of the last click (100 neighbours, shrinkage 20).
    Iknn,
    /// Session-kNN (100 neighbours from 500 sampled sessions).
    Sknn,
    /// V-SKNN, recency- and position-weighted session-kNN (Ludewig & Jannach 2018).
    Vsknn,
    /// STAN, sequence- and time-aware neighbourhood (Garg et al. 2019).
    Stan,
    /// VSTAN, STAN with V-SKNN's IDF and sequence weighting (Ludewig et al. 2021).
    Vstan,
    /// SR, step-window sequential rules of the last click (Kamehkhosh et al. 2017).
    Sr,
    /// A recurrent network (`rnn`, `lstm`, `gru`).
    Network(CellKind),
    /// SR-GNN: gated graph network over the session graph, attention readout.
    SrGnn,
    /// SASRec: causal self-attention over the session.
    SasRec,
}

cartseq_data::named_enum!(ModelKind, "a next-item model", [
    "pop" => ModelKind::Pop,
    "markov" => ModelKind::Markov,
    "iknn" => ModelKind::Iknn,
    "sknn" => ModelKind::Sknn,
    "vsknn" => ModelKind::Vsknn,
    "stan" => ModelKind::Stan,
    "vstan" => ModelKind::Vstan,
    "sr" => ModelKind::Sr,
    "rnn" => ModelKind::Network(CellKind::Rnn),
    "lstm" => ModelKind::Network(CellKind::Lstm),
    "gru" => ModelKind::Network(CellKind::Gru),
    "srgnn" => ModelKind::SrGnn,
    "sasrec" => ModelKind::SasRec,
]);

/// Where the test sessions come from.
#[derive(Clone, Debug)]
pub enum TestSet {
    /// A separate log (same format as the training log).
    File(PathBuf),
    /// The sessions of the training log's last N days (SR-GNN's date split).
    LastDays(u32),
}

/// The logs and how sessions are made from them.
#[derive(Clone, Debug)]
pub struct DataSpec {
    /// Training log.
    pub train: PathBuf,
    /// Test sessions.
    pub test: TestSet,
    /// Format of both logs.
    pub preset: Preset,
    /// Items with fewer clicks are dropped before training (`None`: 5 for Diginetica, else 1).
    pub min_item_support: Option<u64>,
}

/// One session: its key (session id as written) and its items in click order.
struct Session {
    key: String,
    start: i64,
    items: Vec<u32>,
    /// Time of each click (milliseconds).
    times: Vec<i64>,
}

/// Groups a log into sessions (by session column, else by user), clicks ordered by time (stable),
/// sessions ordered by start time then first appearance.
fn sessions_of(log: &EventLog, dict: &Dictionary) -> anyhow::Result<Vec<Session>> {
    let (by, names) = match log.session {
        Some(_) => (GroupBy::Session, &dict.sessions),
        None => (GroupBy::User, &dict.users),
    };
    let idx = KeyIndex::new(log, by)?;
    let mut keyed: Vec<(i64, u32, Session)> = (0..idx.n_keys())
        .filter_map(|k| {
            let events = idx.events(k);
            let first = *events.iter().min()?;
            let session = Session {
                key: names.name(k as u32).into_owned(),
                start: log.time[events[0] as usize].0,
                items: events.iter().map(|&e| log.item[e as usize].0).collect(),
                times: events.iter().map(|&e| log.time[e as usize].0).collect(),
            };
            Some((session.start, first, session))
        })
        .collect();
    keyed.sort_by_key(|x| (x.0, x.1));
    Ok(keyed.into_iter().map(|x| x.2).collect())
}

fn read_sessions(
    path: &Path,
    preset: Preset,
    dict: &mut Dictionary,
) -> anyhow::Result<Vec<Session>> {
    let (log, _) = read_events(path, &PresetConfig::new(preset), OnError::Fail, dict)?;
    sessions_of(&log, dict)
}

/// Splits sessions by the day they start: before `max day − days` train, after it test; the
/// boundary day is dropped.
fn split_last_days(sessions: Vec<Session>, days: u32) -> (Vec<Session>, Vec<Session>) {
    const DAY: i64 = 86_400_000;
    let max_day = sessions
        .iter()
        .map(|s| s.start.div_euclid(DAY))
        .max()
        .unwrap_or(0);
    let split = max_day - i64::from(days);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for s in sessions {
        let d = s.start.div_euclid(DAY);
        if d < split {
            train.push(s);
        } else if d > split {
            test.push(s);
        }
    }
    (train, test)
}

/// Training and test sessions after the protocol: training items as dense ids (`0..items`, in order
/// of first appearance), test sessions with unknown items removed and fewer than two clicks dropped.
pub struct Sessions {
    /// Training sessions (dense item ids).
    pub train: Sequences,
    /// Session key of every training session.
    pub train_keys: Vec<String>,
    /// Evaluated test sessions.
    pub test: Sequences,
    /// Session key of every evaluated test session.
    pub test_keys: Vec<String>,
    /// Distinct training items.
    pub n_items: usize,
    /// Item name of every dense id (what a saved model maps its ids back to).
    pub item_names: Vec<String>,
    /// Training clicks.
    pub train_clicks: usize,
    /// Test sessions read (before the protocol).
    pub test_sessions_read: usize,
    /// Time of every training click in seconds, aligned with `train.tokens` (recency-aware models).
    pub train_times: Vec<f64>,
    /// Time of every evaluated test click in seconds, aligned with `test.tokens`.
    pub test_times: Vec<f64>,
}

impl Sessions {
    /// Reads the logs and applies the protocol.
    pub fn load(spec: &DataSpec) -> anyhow::Result<Sessions> {
        let mut dict = Dictionary::new();
        let mut train_s = read_sessions(&spec.train, spec.preset, &mut dict)?;
        let mut test_s = match &spec.test {
            TestSet::File(t) => read_sessions(t, spec.preset, &mut dict)?,
            TestSet::LastDays(days) => {
                let (train, test) = split_last_days(std::mem::take(&mut train_s), *days);
                train_s = train;
                test
            }
        };
        let min_support = spec
            .min_item_support
            .unwrap_or(if spec.preset == Preset::Diginetica {
                5
            } else {
                1
            });
        if min_support > 1 {
            // Item support counts the test sessions only when they come from the same log.
            let same_log = matches!(spec.test, TestSet::LastDays(_));
            let mut count: HashMap<u32, u64> = HashMap::new();
            let test_part = if same_log { &test_s[..] } else { &[] };
            for s in train_s.iter().chain(test_part) {
                for &i in &s.items {
                    *count.entry(i).or_default() += 1;
                }
            }
            for s in train_s.iter_mut().chain(test_s.iter_mut()) {
                let keep: Vec<bool> = s
                    .items
                    .iter()
                    .map(|i| count.get(i).copied().unwrap_or(0) >= min_support)
                    .collect();
                let mut k = keep.iter();
                s.items.retain(|_| *k.next().unwrap_or(&false));
                let mut k = keep.iter();
                s.times.retain(|_| *k.next().unwrap_or(&false));
            }
        }
        // Single-click training sessions carry no transition; they are kept (popularity counts them)
        // but the networks skip them.
        train_s.retain(|s| !s.items.is_empty());
        let mut dense: HashMap<u32, u32> = HashMap::new();
        let mut train = Sequences::empty(0);
        let mut train_times = Vec::new();
        for s in &train_s {
            train_times.extend(s.times.iter().map(|&t| t as f64 / 1000.0));
            train.push_row(s.items.iter().map(|&i| {
                let n = dense.len() as u32;
                *dense.entry(i).or_insert(n)
            }));
        }
        train.vocab = dense.len();
        if train.vocab == 0 {
            bail!(
                "{}: no training clicks (after the split and item filter)",
                spec.train.display()
            );
        }
        let test_raw: Vec<Vec<Option<u32>>> = test_s
            .iter()
            .map(|s| s.items.iter().map(|i| dense.get(i).copied()).collect())
            .collect();
        let (test, kept) = protocol_sessions(&test_raw, dense.len(), 2);
        // The same clicks protocol_sessions keeps: known items of the kept sessions.
        let mut test_times = Vec::with_capacity(test.tokens.len());
        for &i in &kept {
            test_times.extend(
                test_raw[i]
                    .iter()
                    .zip(&test_s[i].times)
                    .filter(|(item, _)| item.is_some())
                    .map(|(_, &t)| t as f64 / 1000.0),
            );
        }
        debug_assert_eq!(test_times.len(), test.tokens.len());
        if test.is_empty() {
            bail!("no test session has two or more clicks on items seen in training");
        }
        let mut test_keys: Vec<Option<String>> = test_s.into_iter().map(|s| Some(s.key)).collect();
        let mut item_names = vec![String::new(); dense.len()];
        for (&item, &id) in &dense {
            item_names[id as usize] = dict.products.name(item).into_owned();
        }
        Ok(Sessions {
            item_names,
            train_clicks: train.tokens.len(),
            train,
            train_keys: train_s.into_iter().map(|s| s.key).collect(),
            test,
            test_sessions_read: test_keys.len(),
            test_keys: kept.iter().filter_map(|&i| test_keys[i].take()).collect(),
            n_items: dense.len(),
            train_times,
            test_times,
        })
    }
}

/// The sessions of a log in a saved model's item ids, after the test protocol (items the model does
/// not know removed, sessions left with fewer than two clicks dropped): what a saved model is evaluated
/// on (`cartseq compress --test`).
pub fn sessions_for_model(
    path: &Path,
    preset: Preset,
    items: &cartseq_models::nextitem::ItemVocab,
) -> anyhow::Result<Sequences> {
    let mut dict = Dictionary::new();
    let sessions = read_sessions(path, preset, &mut dict)?;
    let raw: Vec<Vec<Option<u32>>> = sessions
        .iter()
        .map(|s| {
            s.items
                .iter()
                .map(|&i| items.id(&dict.products.name(i)))
                .collect()
        })
        .collect();
    let (test, _) = protocol_sessions(&raw, items.len(), 2);
    if test.is_empty() {
        bail!(
            "{}: no session has two or more clicks on items the model knows",
            path.display()
        );
    }
    Ok(test)
}

/// How networks are trained.
#[derive(Clone, Debug)]
pub struct NetworkConfig {
    /// Hyper-parameters; the cell is set from each [`ModelKind::Network`].
    pub params: Gru4RecParams,
    /// SR-GNN's hyper-parameters.
    pub srgnn: SrGnnParams,
    /// SASRec's hyper-parameters.
    pub sasrec: SasRecParams,
    /// The latest fraction of training sessions held out for early stopping on Recall@20, in
    /// `[0, 0.5)`.
    pub valid_fraction: f64,
}

/// What happens while a network trains, for a progress display.
#[derive(Clone, Copy, Debug)]
pub enum Progress<'a> {
    /// A network starts training for at most `epochs` epochs.
    Started {
        /// Its model name (`gru`, `srgnn`, …).
        model: &'static str,
        /// Maximum epochs.
        epochs: usize,
    },
    /// An epoch ended.
    Epoch(&'a EpochRecord),
    /// The network finished training.
    Finished,
}

/// A fitted network (GRU4Rec-style, SR-GNN or SASRec), held once in its saved form: the same
/// `Arc` is the model's row, hybrid member, `--save-model` body and this handle for embeddings and
/// the training curve.
#[derive(Clone)]
pub struct FittedNetwork(Arc<SavedNextItem>);

/// A learner's `fit` waiting for its progress callback.
type PendingFit<'a> = Box<
    dyn FnOnce(&mut dyn FnMut(&EpochRecord)) -> Result<SavedNextItem, cartseq_models::ModelError>
        + 'a,
>;

impl FittedNetwork {
    /// The handle of a saved model when it is a network.
    pub fn of(m: &Arc<SavedNextItem>) -> Option<Self> {
        m.is_network().then(|| FittedNetwork(m.clone()))
    }

    /// The model as a next-item scorer.
    pub fn model(&self) -> &dyn NextItemModel {
        self.0.as_model()
    }

    /// Per-epoch training history.
    pub fn history(&self) -> &[EpochRecord] {
        match &*self.0 {
            SavedNextItem::Rnn(m) | SavedNextItem::Lstm(m) | SavedNextItem::Gru(m) => &m.history,
            SavedNextItem::SrGnn(m) => &m.history,
            SavedNextItem::SasRec(m) => &m.history,
            _ => &[],
        }
    }

    /// The session embedding of every session of `sessions` (no columns for a model that is not a
    /// network, which [`FittedNetwork::of`] never holds).
    pub fn session_embeddings(&self, sessions: &Sequences) -> ndarray::Array2<f32> {
        match &*self.0 {
            SavedNextItem::Rnn(m) | SavedNextItem::Lstm(m) | SavedNextItem::Gru(m) => {
                m.session_embeddings(sessions)
            }
            SavedNextItem::SrGnn(m) => m.session_embeddings(sessions),
            SavedNextItem::SasRec(m) => m.session_embeddings(sessions),
            _ => ndarray::Array2::zeros((sessions.len(), 0)),
        }
    }
}

/// Trains network `kind` on `train`, validating on its latest sessions when asked (the training file
/// is in time order).
fn train_network(
    config: &NetworkConfig,
    kind: ModelKind,
    train: &Sequences,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<SavedNextItem> {
    anyhow::ensure!(
        (0.0..0.5).contains(&config.valid_fraction),
        "the validation fraction must be in [0, 0.5), found {}",
        config.valid_fraction
    );
    let n = train.len();
    let n_valid = (n as f64 * config.valid_fraction).round() as usize;
    let part = |rows: std::ops::Range<usize>| {
        let mut s = train.select(&rows.collect::<Vec<_>>());
        s.vocab = train.vocab;
        s
    };
    let (fit_on, valid) = if n_valid > 0 {
        (part(0..n - n_valid), Some(part(n - n_valid..n)))
    } else {
        (train.clone(), None)
    };
    let valid = valid.as_ref();
    let (epochs, fit): (usize, PendingFit<'_>) = match kind {
        ModelKind::Network(cell) => {
            let mut params = config.params.clone();
            params.cell = cell;
            let learner = params.check()?;
            (
                config.params.epochs,
                Box::new(move |p: &mut dyn FnMut(&EpochRecord)| {
                    learner.fit(&fit_on, valid, p).map(SavedNextItem::network)
                }),
            )
        }
        ModelKind::SrGnn => session_net_fit(
            config.srgnn.clone().check()?,
            fit_on,
            valid,
            SavedNextItem::SrGnn,
        ),
        ModelKind::SasRec => session_net_fit(
            config.sasrec.clone().check()?,
            fit_on,
            valid,
            SavedNextItem::SasRec,
        ),
        other => bail!("{} is not a network", other.name()),
    };
    progress(Progress::Started {
        model: kind.name(),
        epochs,
    });
    let model = fit(&mut |r: &EpochRecord| progress(Progress::Epoch(r))).map_err(|e| match e {
        // The network's options are flags here (`--hidden`, `--embed`), not `--param` keys.
        cartseq_models::ModelError::Memory {
            param,
            value,
            need,
            limit,
        } => cartseq_models::ModelError::Memory {
            param: if param == "embed_dim" {
                "--embed".into()
            } else {
                format!("--{param}")
            },
            value,
            need,
            limit,
        },
        other => other,
    })?;
    progress(Progress::Finished);
    Ok(model)
}

/// The epochs and the pending fit of a session network (SR-GNN, SASRec: one [`NetTrainer`] each) on
/// `fit_on`, validated on `valid`; `save` wraps the trained network in its [`SavedNextItem`] variant.
fn session_net_fit<'a, P>(
    trainer: NetTrainer<P>,
    fit_on: Sequences,
    valid: Option<&'a Sequences>,
    save: fn(Box<TrainedNet<P, P::Net>>) -> SavedNextItem,
) -> (usize, PendingFit<'a>)
where
    P: SessionNetParams + 'a,
{
    let epochs = trainer.params().training().epochs;
    let fit = move |p: &mut dyn FnMut(&EpochRecord)| {
        trainer.fit(&fit_on, valid, p).map(|m| save(Box::new(m)))
    };
    (epochs, Box::new(fit))
}

/// A model asked for on the command line: one model, or a hybrid of several.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelChoice {
    /// One model.
    Single(ModelKind),
    /// `hybrid:a+b+…` (weights tuned on validation sessions) or `stack:a+b+…` (a logistic
    /// regression on the members' scores).
    Hybrid {
        /// Members, in the order given.
        members: Vec<ModelKind>,
        /// Stacking instead of the weighted sum.
        stacked: bool,
    },
}

impl ModelChoice {
    /// Parses `pop`, `hybrid:gru+sr+vstan`, `stack:sr+vstan`, … (`Err` names what is wrong).
    pub fn parse(name: &str) -> Result<ModelChoice, String> {
        let (stacked, rest) = match name.split_once(':') {
            None => {
                return ModelKind::from_name(name)
                    .map(ModelChoice::Single)
                    .ok_or_else(|| {
                        format!(
                            "unknown model {name:?} (expected {})",
                            ModelKind::NAMES.join(", ")
                        )
                    });
            }
            Some(("hybrid", rest)) => (false, rest),
            Some(("stack", rest)) => (true, rest),
            Some((kind, _)) => {
                return Err(format!(
                    "unknown combination {kind:?} in {name:?} (expected hybrid: or stack:)"
                ))
            }
        };
        let mut members = Vec::new();
        for m in rest.split('+') {
            let kind = ModelKind::from_name(m.trim()).ok_or_else(|| {
                format!(
                    "unknown member {:?} in {name:?} (expected {})",
                    m.trim(),
                    ModelKind::NAMES.join(", ")
                )
            })?;
            if members.contains(&kind) {
                return Err(format!("{name:?} names {} twice", kind.name()));
            }
            members.push(kind);
        }
        if members.len() < 2 {
            return Err(format!(
                "{name:?}: a hybrid needs at least two members, e.g. hybrid:sr+vstan"
            ));
        }
        Ok(ModelChoice::Hybrid { members, stacked })
    }

    /// The name in tables (`vstan`, `hybrid:sr+vstan`).
    pub fn name(&self) -> String {
        match self {
            ModelChoice::Single(k) => k.name().to_owned(),
            ModelChoice::Hybrid { members, stacked } => {
                let names: Vec<&str> = members.iter().map(|m| m.name()).collect();
                format!(
                    "{}:{}",
                    if *stacked { "stack" } else { "hybrid" },
                    names.join("+")
                )
            }
        }
    }
}

/// The baselines' parameters (session-rec's names; [`Default`] = the published defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct BaselineConfig {
    /// V-SKNN.
    pub vsknn: VsknnParams,
    /// STAN.
    pub stan: StanParams,
    /// VSTAN.
    pub vstan: StanParams,
    /// SR.
    pub sr: SrParams,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        BaselineConfig {
            vsknn: VsknnParams::default(),
            stan: StanParams::stan(),
            vstan: StanParams::vstan(),
            sr: SrParams::default(),
        }
    }
}

/// How models are evaluated beyond the point estimates.
#[derive(Clone, Debug)]
pub struct EvalConfig {
    /// Cut-offs of Recall@k and MRR@k.
    pub ks: Vec<usize>,
    /// Bootstrap replicates over test sessions (0: no intervals).
    pub bootstrap: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
    /// The latest fraction of training sessions a hybrid tunes its weights on, in (0, 0.5).
    pub hybrid_valid_fraction: f64,
    /// The baselines' parameters.
    pub baselines: BaselineConfig,
}

/// One model's results.
#[derive(Debug, Serialize)]
pub struct ModelResult {
    /// Model name.
    pub model: String,
    /// `(k, Recall@k)` per cut-off.
    pub recall: Vec<(usize, f64)>,
    /// `(k, MRR@k)` per cut-off.
    pub mrr: Vec<(usize, f64)>,
    /// `(k, 95 % bootstrap interval)` of Recall@k over test sessions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recall_ci: Vec<(usize, Interval)>,
    /// `(k, 95 % bootstrap interval)` of MRR@k.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mrr_ci: Vec<(usize, Interval)>,
    /// Paired bootstrap differences to the best model of the table (by MRR@20, else the largest
    /// cut-off): `(k, this − best)` per cut-off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vs_best: Option<VersusBest>,
    /// Predictions evaluated.
    pub predictions: u64,
    /// Fit seconds.
    pub fit_seconds: f64,
    /// Evaluation seconds.
    pub eval_seconds: f64,
    /// Training history (networks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epochs: Option<Vec<EpochRecord>>,
    /// Tuning and comparison of a hybrid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hybrid: Option<HybridSummary>,
}

/// Paired differences of a model to the best one of the table.
#[derive(Debug, Serialize)]
pub struct VersusBest {
    /// The best model.
    pub best: String,
    /// `(k, Recall@k difference)` per cut-off.
    pub recall: Vec<(usize, Interval)>,
    /// `(k, MRR@k difference)` per cut-off.
    pub mrr: Vec<(usize, Interval)>,
}

/// How a hybrid was tuned and whether it beats its best member.
#[derive(Debug, Serialize)]
pub struct HybridSummary {
    /// Member names.
    pub members: Vec<String>,
    /// Weights chosen on the validation sessions (and the validation figures).
    pub tuning: HybridFit,
    /// Stacking coefficients (`ŝ` then `1/rank` per member) and intercept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stacking: Option<(Vec<f64>, f64)>,
    /// Validation sessions the weights were tuned on.
    pub valid_sessions: usize,
    /// The member with the best test MRR@20.
    pub best_member: String,
    /// Paired bootstrap interval of Recall@20(hybrid) − Recall@20(best member).
    pub recall20_difference: Option<Interval>,
    /// Paired bootstrap interval of MRR@20(hybrid) − MRR@20(best member).
    pub mrr20_difference: Option<Interval>,
}

/// Everything `cartseq nextitem` reports (its `--json` output).
#[derive(Debug, Serialize)]
pub struct Report {
    /// Training sessions.
    pub train_sessions: usize,
    /// Training clicks.
    pub train_clicks: usize,
    /// Distinct training items.
    pub items: usize,
    /// Test sessions read.
    pub test_sessions_read: usize,
    /// Test sessions evaluated (after the protocol).
    pub test_sessions_evaluated: usize,
    /// Predictions per model.
    pub predictions: u64,
    /// Bootstrap replicates of the intervals (0: none).
    pub bootstrap_replicates: usize,
    /// One entry per model, in the order asked.
    pub results: Vec<ModelResult>,
    /// Warnings about the metrics (too few predictions or test sessions).
    pub warnings: Vec<String>,
}

/// Fits a model on all training sessions (or returns the one already fitted), with its fit seconds.
type FitFull<'a> =
    dyn FnMut(ModelKind, &mut dyn FnMut(Progress)) -> anyhow::Result<(Shared, f64)> + 'a;

/// A fitted model, shared between its own row, hybrids and `--save-model`; every kind has a saved
/// form, so a model is held once, in that form.
type Shared = Arc<SavedNextItem>;

/// Training sessions with their click times (seconds, aligned with the tokens).
#[derive(Clone, Copy)]
struct Timed<'a> {
    seqs: &'a Sequences,
    times: &'a [f64],
}

/// The rows `range` of a time-ordered training set, with their times.
fn slice_sessions(train: Timed<'_>, range: std::ops::Range<usize>) -> (Sequences, Vec<f64>) {
    let (a, b) = (
        train.seqs.offsets[range.start],
        train.seqs.offsets[range.end],
    );
    let seqs = Sequences {
        tokens: train.seqs.tokens[a..b].to_vec(),
        offsets: train.seqs.offsets[range.start..=range.end]
            .iter()
            .map(|&o| o - a)
            .collect(),
        vocab: train.seqs.vocab,
    };
    (seqs, train.times[a..b].to_vec())
}

/// The models as plain references (hybrid members).
fn borrowed(models: &[Shared]) -> Vec<&dyn NextItemModel> {
    models
        .iter()
        .map(|m| m.as_ref() as &dyn NextItemModel)
        .collect()
}

/// Fits one model on `train`.
fn fit_single(
    kind: ModelKind,
    train: Timed<'_>,
    baselines: &BaselineConfig,
    network: Option<&NetworkConfig>,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<Shared> {
    let seqs = train.seqs;
    let times = Some(train.times);
    Ok(Arc::new(match kind {
        ModelKind::Pop => SavedNextItem::Pop(MostPopular::fit(seqs)),
        ModelKind::Markov => SavedNextItem::Markov(MarkovChain::fit(seqs)),
        ModelKind::Iknn => SavedNextItem::Iknn(ItemKnn::fit(seqs, 100, 20.0)),
        ModelKind::Sknn => SavedNextItem::Sknn(SessionKnn::fit(seqs, 100, 500)),
        ModelKind::Vsknn => {
            SavedNextItem::Vsknn(VSessionKnn::fit(seqs, times, baselines.vsknn.clone())?)
        }
        ModelKind::Stan => SavedNextItem::Stan(Stan::fit(seqs, times, baselines.stan.clone())?),
        ModelKind::Vstan => SavedNextItem::Vstan(Stan::fit(seqs, times, baselines.vstan.clone())?),
        ModelKind::Sr => SavedNextItem::Sr(fit_sr(seqs, &baselines.sr)?),
        ModelKind::Network(_) | ModelKind::SrGnn | ModelKind::SasRec => {
            let Some(config) = network else {
                bail!("{}: a network model needs network settings", kind.name());
            };
            train_network(config, kind, seqs, progress)?
        }
    }))
}

/// What [`fit_and_evaluate`] returns.
pub struct NextItemRun {
    /// The metrics of every model.
    pub report: Report,
    /// The last network fitted, if any (for embeddings and the training curve).
    pub last_net: Option<FittedNetwork>,
    /// The last model of the list (a hybrid too), in the saved form `cartseq serve` loads.
    pub last_model: Option<Shared>,
}

/// SR: rules within `p.steps` clicks weighted by `p.weighting`, the `p.pruning` strongest per item
/// (session-rec's defaults: 10 steps, `1 / d`, 20), mined by the mining crate's step-window miner.
/// The miner keeps every rule and the model prunes, keeping the unpruned weights that online
/// learning (`serve --learn-online`) continues from.
pub fn fit_sr(train: &Sequences, p: &SrParams) -> anyhow::Result<SequentialRules> {
    p.check()?;
    let rows: Vec<&[u32]> = (0..train.len()).map(|r| train.row(r)).collect();
    let params = StepRuleParams::new(p.steps, usize::MAX)?;
    let mined = step_rules(&rows, train.vocab, params, |d| p.weighting.step(d))?;
    let weights: Vec<Vec<(u32, f64)>> = mined
        .rules
        .iter()
        .map(|r| r.iter().map(|x| (x.consequent, x.weight)).collect())
        .collect();
    Ok(SequentialRules::from_mined(
        train,
        p,
        &weights,
        mined.occurrences,
    )?)
}

/// A model's evaluation: the row of the report and the per-session outcomes.
struct Evaluated {
    result: ModelResult,
    outcomes: SessionOutcomes,
}

/// Evaluates `model` on the test sessions with bootstrap intervals.
fn evaluate_model(
    name: String,
    model: &dyn NextItemModel,
    data: &Sessions,
    eval: &EvalConfig,
    fit_seconds: f64,
) -> Evaluated {
    let t1 = Instant::now();
    let (metrics, outcomes) =
        evaluate_sessions(model, &data.test, Some(&data.test_times), &eval.ks);
    let eval_seconds = t1.elapsed().as_secs_f64();
    let at = |v: &[f64]| metrics.ks.iter().copied().zip(v.iter().copied()).collect();
    let ci = |metric| {
        if eval.bootstrap == 0 {
            return Vec::new();
        }
        metrics
            .ks
            .iter()
            .filter_map(|&k| Some((k, outcomes.interval(k, metric, eval.bootstrap, eval.seed)?)))
            .collect()
    };
    Evaluated {
        result: ModelResult {
            model: name,
            recall: at(&metrics.recall),
            mrr: at(&metrics.mrr),
            recall_ci: ci(Metric::Recall),
            mrr_ci: ci(Metric::Mrr),
            vs_best: None,
            predictions: metrics.predictions,
            fit_seconds,
            eval_seconds,
            epochs: None,
            hybrid: None,
        },
        outcomes,
    }
}

/// Fitted models and their test outcomes, by kind, so that a model named alone and as a hybrid
/// member is fitted and evaluated once.
struct Fitted {
    models: Vec<(ModelKind, Shared, f64)>,
    outcomes: Vec<(ModelKind, SessionOutcomes, f64)>,
    /// The last hybrid of the list: its name, members and combiner (saved when it is the last
    /// model).
    last_hybrid: Option<(String, Vec<ModelKind>, Combiner)>,
}

impl Fitted {
    fn model(&self, kind: ModelKind) -> Option<(Shared, f64)> {
        self.models
            .iter()
            .find(|m| m.0 == kind)
            .map(|m| (m.1.clone(), m.2))
    }
}

/// The key `(MRR@20, Recall@20)` (or the largest cut-off) a model is ranked by.
fn rank_key(o: &SessionOutcomes) -> (f64, f64) {
    let m = o.metrics();
    let i =
        m.ks.iter()
            .position(|&k| k == 20)
            .unwrap_or(m.ks.len().saturating_sub(1));
    (
        m.mrr.get(i).copied().unwrap_or(0.0),
        m.recall.get(i).copied().unwrap_or(0.0),
    )
}

/// Fits every model on the training sessions (networks with `network`, which they need, reporting to
/// `progress`), evaluates Recall@k and MRR@k on the test sessions with bootstrap intervals, tunes
/// hybrids on the latest training sessions and compares each with its best member. Returns the report,
/// the last network fitted and the saved form of the last model fitted, if any.
pub fn fit_and_evaluate(
    data: &Sessions,
    models: &[ModelChoice],
    eval: &EvalConfig,
    network: Option<&NetworkConfig>,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<NextItemRun> {
    let mut results = Vec::new();
    let mut all_outcomes = Vec::new();
    let mut last_net: Option<FittedNetwork> = None;
    let train = Timed {
        seqs: &data.train,
        times: &data.train_times,
    };
    let mut fitted = Fitted {
        models: Vec::new(),
        outcomes: Vec::new(),
        last_hybrid: None,
    };
    let fit_full = |kind: ModelKind,
                    fitted: &mut Fitted,
                    last_net: &mut Option<FittedNetwork>,
                    progress: &mut dyn FnMut(Progress)|
     -> anyhow::Result<(Shared, f64)> {
        if let Some(m) = fitted.model(kind) {
            return Ok(m);
        }
        let t0 = Instant::now();
        let m = fit_single(kind, train, &eval.baselines, network, progress)?;
        let secs = t0.elapsed().as_secs_f64();
        if let Some(net) = FittedNetwork::of(&m) {
            *last_net = Some(net);
        }
        fitted.models.push((kind, m.clone(), secs));
        Ok((m, secs))
    };
    for choice in models {
        match choice {
            ModelChoice::Single(kind) => {
                let (model, fit_seconds) = fit_full(*kind, &mut fitted, &mut last_net, progress)?;
                let mut e = evaluate_model(
                    kind.name().to_owned(),
                    model.as_ref(),
                    data,
                    eval,
                    fit_seconds,
                );
                if let ModelKind::Network(_) = kind {
                    e.result.epochs = last_net.as_ref().map(|n| n.history().to_vec());
                }
                fitted
                    .outcomes
                    .push((*kind, e.outcomes.clone(), e.result.eval_seconds));
                all_outcomes.push(e.outcomes);
                results.push(e.result);
            }
            ModelChoice::Hybrid { members, stacked } => {
                let (e, summary, combiner) = fit_hybrid(
                    choice.name(),
                    members,
                    *stacked,
                    data,
                    eval,
                    network,
                    progress,
                    &mut |k, p| fit_full(k, &mut fitted, &mut last_net, p),
                )?;
                fitted.last_hybrid = Some((choice.name(), members.clone(), combiner));
                // Members' test outcomes (evaluated once even when they are also rows).
                let mut best: Option<(ModelKind, (f64, f64))> = None;
                for &k in members {
                    if !fitted.outcomes.iter().any(|o| o.0 == k) {
                        let (m, secs) = fitted
                            .model(k)
                            .ok_or_else(|| anyhow::anyhow!("member {} not fitted", k.name()))?;
                        let me = evaluate_model(k.name().to_owned(), m.as_ref(), data, eval, secs);
                        fitted
                            .outcomes
                            .push((k, me.outcomes, me.result.eval_seconds));
                    }
                    let o = fitted.outcomes.iter().find(|o| o.0 == k).map(|o| &o.1);
                    if let Some(o) = o {
                        let key = rank_key(o);
                        if best.map_or(true, |b| key > b.1) {
                            best = Some((k, key));
                        }
                    }
                }
                let mut e = e;
                if let Some((bk, _)) = best {
                    if let Some(bo) = fitted.outcomes.iter().find(|o| o.0 == bk).map(|o| &o.1) {
                        let mut summary = summary;
                        summary.best_member = bk.name().to_owned();
                        let d = |metric| {
                            paired_difference(
                                &e.outcomes,
                                bo,
                                20,
                                metric,
                                eval.bootstrap.max(1),
                                eval.seed,
                            )
                        };
                        summary.recall20_difference = d(Metric::Recall);
                        summary.mrr20_difference = d(Metric::Mrr);
                        e.result.hybrid = Some(summary);
                    }
                }
                all_outcomes.push(e.outcomes);
                results.push(e.result);
            }
        }
    }
    if eval.bootstrap > 0 && results.len() > 1 {
        let best = (0..results.len())
            .max_by(|&a, &b| {
                rank_key(&all_outcomes[a])
                    .partial_cmp(&rank_key(&all_outcomes[b]))
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(b.cmp(&a))
            })
            .unwrap_or(0);
        let best_name = results[best].model.clone();
        for i in 0..results.len() {
            if i == best {
                continue;
            }
            let diffs = |metric| -> Vec<(usize, Interval)> {
                eval.ks
                    .iter()
                    .filter_map(|&k| {
                        Some((
                            k,
                            paired_difference(
                                &all_outcomes[i],
                                &all_outcomes[best],
                                k,
                                metric,
                                eval.bootstrap,
                                eval.seed,
                            )?,
                        ))
                    })
                    .collect()
            };
            results[i].vs_best = Some(VersusBest {
                best: best_name.clone(),
                recall: diffs(Metric::Recall),
                mrr: diffs(Metric::Mrr),
            });
        }
    }
    let predictions = results.first().map_or(0, |r| r.predictions);
    let report = Report {
        train_sessions: data.train.len(),
        train_clicks: data.train_clicks,
        items: data.n_items,
        test_sessions_read: data.test_sessions_read,
        test_sessions_evaluated: data.test.len(),
        predictions,
        bootstrap_replicates: eval.bootstrap,
        results,
        warnings: cartseq_models::metrics::prediction_warnings(predictions, data.test.len()),
    };
    let last_model = match models.last() {
        Some(ModelChoice::Single(kind)) => fitted.model(*kind).map(|m| m.0),
        Some(ModelChoice::Hybrid { .. }) => match fitted.last_hybrid.take() {
            // The saved hybrid owns copies of its members (the members stay shared for their rows).
            Some((name, kinds, combiner)) => {
                let members = kinds
                    .iter()
                    .map(|&k| {
                        fitted
                            .model(k)
                            .map(|m| (*m.0).clone())
                            .ok_or_else(|| anyhow::anyhow!("member {} not fitted", k.name()))
                    })
                    .collect::<anyhow::Result<Vec<SavedNextItem>>>()?;
                Some(Arc::new(SavedNextItem::Hybrid(Hybrid::new(
                    name, members, combiner,
                )?)))
            }
            None => None,
        },
        None => None,
    };
    Ok(NextItemRun {
        report,
        last_net,
        last_model,
    })
}

/// Tunes a hybrid of `members` on the latest training sessions (members fitted on the rest), then
/// combines the members fitted on all training sessions (from `fit_full`) and evaluates it.
#[allow(clippy::too_many_arguments)]
fn fit_hybrid(
    name: String,
    members: &[ModelKind],
    stacked: bool,
    data: &Sessions,
    eval: &EvalConfig,
    network: Option<&NetworkConfig>,
    progress: &mut dyn FnMut(Progress),
    fit_full: &mut FitFull<'_>,
) -> anyhow::Result<(Evaluated, HybridSummary, Combiner)> {
    anyhow::ensure!(
        eval.hybrid_valid_fraction > 0.0 && eval.hybrid_valid_fraction < 0.5,
        "the hybrid validation fraction must be in (0, 0.5), found {}",
        eval.hybrid_valid_fraction
    );
    let t0 = Instant::now();
    let train = Timed {
        seqs: &data.train,
        times: &data.train_times,
    };
    let n = data.train.len();
    let n_valid = ((n as f64 * eval.hybrid_valid_fraction).round() as usize)
        .clamp(1, n.saturating_sub(1).max(1));
    let (fit_part, fit_times) = slice_sessions(train, 0..n - n_valid);
    let (valid, valid_times) = slice_sessions(train, n - n_valid..n);
    let part = Timed {
        seqs: &fit_part,
        times: &fit_times,
    };
    let mut part_models = Vec::new();
    for &k in members {
        part_models.push(fit_single(k, part, &eval.baselines, network, progress)?);
    }
    let part_refs = borrowed(&part_models);
    let tuning = tune_weights(&part_refs, &valid, Some(&valid_times))?;
    let combiner = if stacked {
        fit_stacker(
            &part_refs,
            &valid,
            Some(&valid_times),
            tuning.weights.clone(),
            STACK_DEPTH,
        )?
    } else {
        Combiner::Weighted {
            weights: tuning.weights.clone(),
        }
    };
    drop(part_refs);
    drop(part_models);
    let mut full = Vec::new();
    for &k in members {
        full.push(fit_full(k, progress)?.0);
    }
    let stacking = match &combiner {
        Combiner::Stacked {
            coef, intercept, ..
        } => Some((coef.clone(), *intercept)),
        Combiner::Weighted { .. } => None,
    };
    let hybrid = Hybrid::new(name.clone(), borrowed(&full), combiner.clone())?;
    let fit_seconds = t0.elapsed().as_secs_f64();
    let e = evaluate_model(name, &hybrid, data, eval, fit_seconds);
    let summary = HybridSummary {
        members: members.iter().map(|m| m.name().to_owned()).collect(),
        tuning,
        stacking,
        valid_sessions: n_valid,
        best_member: String::new(),
        recall20_difference: None,
        mrr20_difference: None,
    };
    Ok((e, summary, combiner))
}

impl NextItemModel for FittedNetwork {
    fn name(&self) -> String {
        self.model().name()
    }
    fn n_items(&self) -> usize {
        self.model().n_items()
    }
    fn score_prefixes(
        &self,
        sessions: &Sequences,
        rows: &[usize],
        sink: cartseq_models::nextitem::ScoreSink<'_>,
    ) {
        self.model().score_prefixes(sessions, rows, sink)
    }
}

/// Writes `split,session,e0,…` (the network's session embedding) for every training session and
/// every evaluated test session to `path`, atomically; keys are made spreadsheet-safe and quoted as CSV
/// needs.
pub fn write_embeddings(path: &Path, net: &FittedNetwork, data: &Sessions) -> anyhow::Result<()> {
    let mut f = AtomicFile::create(path)?;
    let h = net.session_embeddings(&data.test).ncols();
    let mut head = String::from("split,session");
    for j in 0..h {
        head.push_str(&format!(",e{j}"));
    }
    writeln!(f, "{head}")?;
    for (split, seqs, keys) in [
        ("train", &data.train, &data.train_keys),
        ("test", &data.test, &data.test_keys),
    ] {
        let e = net.session_embeddings(seqs);
        for (r, key) in keys.iter().enumerate() {
            write!(f, "{split},{}", csv_text_cell(key))?;
            for v in e.row(r) {
                write!(f, ",{v}")?;
            }
            writeln!(f)?;
        }
    }
    f.commit()
}

/// The network's training curve: training loss and validation Recall@20 per epoch, two panels.
pub fn curve_svg(net: &FittedNetwork) -> anyhow::Result<String> {
    charts::training_svg(
        (900, 400),
        &format!("{} training", net.model().name()),
        net.history(),
        Some("valid Recall@20"),
    )
}
