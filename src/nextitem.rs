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
use std::time::Instant;

use anyhow::bail;
use cartseq_data::presets::read_events;
use cartseq_data::{Dictionary, EventLog, GroupBy, KeyIndex, OnError, Preset, PresetConfig};
use cartseq_models::nextitem::{
    evaluate, protocol_sessions, Gru4RecModel, Gru4RecParams, ItemKnn, MarkovChain, MostPopular,
    NextItemModel, SasRecModel, SasRecParams, SessionKnn, SrGnnModel, SrGnnParams,
};
use cartseq_models::nn::{CellKind, EpochRecord};
use cartseq_models::Sequences;
use serde::Serialize;

use crate::charts;
use crate::output::{spreadsheet_safe, AtomicFile};

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
    /// A recurrent network (`rnn`, `lstm`, `gru`).
    Network(CellKind),
    /// SR-GNN: gated graph network over the session graph, attention readout.
    SrGnn,
    /// SASRec: causal self-attention over the session.
    SasRec,
}

impl ModelKind {
    /// Every accepted name, in documentation order.
    pub const NAMES: &'static [&'static str] = &[
        "pop", "markov", "iknn", "sknn", "rnn", "lstm", "gru", "srgnn", "sasrec",
    ];

    /// The model of a name (`None` for an unknown name).
    pub fn parse(name: &str) -> Option<ModelKind> {
        match name {
            "pop" => Some(ModelKind::Pop),
            "markov" => Some(ModelKind::Markov),
            "iknn" => Some(ModelKind::Iknn),
            "sknn" => Some(ModelKind::Sknn),
            "srgnn" => Some(ModelKind::SrGnn),
            "sasrec" => Some(ModelKind::SasRec),
            cell => CellKind::parse(cell).map(ModelKind::Network),
        }
    }

    /// The model's name.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Pop => "pop",
            ModelKind::Markov => "markov",
            ModelKind::Iknn => "iknn",
            ModelKind::Sknn => "sknn",
            ModelKind::Network(cell) => cell.name(),
            ModelKind::SrGnn => "srgnn",
            ModelKind::SasRec => "sasrec",
        }
    }
}

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
    /// Training clicks.
    pub train_clicks: usize,
    /// Test sessions read (before the protocol).
    pub test_sessions_read: usize,
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
                s.items
                    .retain(|i| count.get(i).copied().unwrap_or(0) >= min_support);
            }
        }
        // Single-click training sessions carry no transition; they are kept (popularity counts them)
        // but the networks skip them.
        train_s.retain(|s| !s.items.is_empty());
        let mut dense: HashMap<u32, u32> = HashMap::new();
        let mut train = Sequences {
            tokens: Vec::new(),
            offsets: vec![0],
            vocab: 0,
        };
        for s in &train_s {
            for &i in &s.items {
                let n = dense.len() as u32;
                train.tokens.push(*dense.entry(i).or_insert(n));
            }
            train.offsets.push(train.tokens.len());
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
        if test.is_empty() {
            bail!("no test session has two or more clicks on items seen in training");
        }
        let mut test_keys: Vec<Option<String>> = test_s.into_iter().map(|s| Some(s.key)).collect();
        Ok(Sessions {
            train_clicks: train.tokens.len(),
            train,
            train_keys: train_s.into_iter().map(|s| s.key).collect(),
            test,
            test_sessions_read: test_keys.len(),
            test_keys: kept.iter().filter_map(|&i| test_keys[i].take()).collect(),
            n_items: dense.len(),
        })
    }
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

/// A fitted network: what `--embeddings`, `--curve` and `--save-model` work on.
#[derive(Clone, Debug)]
pub enum FittedNetwork {
    /// GRU4Rec-style recurrent network.
    Recurrent(Box<Gru4RecModel>),
    /// SR-GNN.
    SrGnn(Box<SrGnnModel>),
    /// SASRec.
    SasRec(Box<SasRecModel>),
}

/// A learner's `fit` waiting for its progress callback.
type PendingFit<'a> = Box<
    dyn FnOnce(&mut dyn FnMut(&EpochRecord)) -> Result<FittedNetwork, cartseq_models::ModelError>
        + 'a,
>;

impl FittedNetwork {
    /// The model as a next-item scorer.
    pub fn model(&self) -> &dyn NextItemModel {
        match self {
            FittedNetwork::Recurrent(m) => m.as_ref(),
            FittedNetwork::SrGnn(m) => m.as_ref(),
            FittedNetwork::SasRec(m) => m.as_ref(),
        }
    }

    /// Per-epoch training history.
    pub fn history(&self) -> &[EpochRecord] {
        match self {
            FittedNetwork::Recurrent(m) => &m.history,
            FittedNetwork::SrGnn(m) => &m.history,
            FittedNetwork::SasRec(m) => &m.history,
        }
    }

    /// The session embedding of every session of `sessions`.
    pub fn session_embeddings(&self, sessions: &Sequences) -> ndarray::Array2<f32> {
        match self {
            FittedNetwork::Recurrent(m) => m.session_embeddings(sessions),
            FittedNetwork::SrGnn(m) => m.session_embeddings(sessions),
            FittedNetwork::SasRec(m) => m.session_embeddings(sessions),
        }
    }

    /// Writes the model as versioned JSON.
    pub fn save<W: Write>(&self, w: W) -> anyhow::Result<()> {
        match self {
            FittedNetwork::Recurrent(m) => m.save(w)?,
            FittedNetwork::SrGnn(m) => m.save(w)?,
            FittedNetwork::SasRec(m) => m.save(w)?,
        }
        Ok(())
    }
}

/// Trains network `kind` on `train`, validating on its latest sessions when asked (the training file
/// is in time order).
fn train_network(
    config: &NetworkConfig,
    kind: ModelKind,
    train: &Sequences,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<FittedNetwork> {
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
                    learner
                        .fit(&fit_on, valid, p)
                        .map(|m| FittedNetwork::Recurrent(Box::new(m)))
                }),
            )
        }
        ModelKind::SrGnn => {
            let learner = config.srgnn.clone().check()?;
            (
                config.srgnn.epochs,
                Box::new(move |p: &mut dyn FnMut(&EpochRecord)| {
                    learner
                        .fit(&fit_on, valid, p)
                        .map(|m| FittedNetwork::SrGnn(Box::new(m)))
                }),
            )
        }
        ModelKind::SasRec => {
            let learner = config.sasrec.clone().check()?;
            (
                config.sasrec.epochs,
                Box::new(move |p: &mut dyn FnMut(&EpochRecord)| {
                    learner
                        .fit(&fit_on, valid, p)
                        .map(|m| FittedNetwork::SasRec(Box::new(m)))
                }),
            )
        }
        other => bail!("{} is not a network", other.name()),
    };
    progress(Progress::Started {
        model: kind.name(),
        epochs,
    });
    let model = fit(&mut |r: &EpochRecord| progress(Progress::Epoch(r)))?;
    progress(Progress::Finished);
    Ok(model)
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
    /// Predictions evaluated.
    pub predictions: u64,
    /// Fit seconds.
    pub fit_seconds: f64,
    /// Evaluation seconds.
    pub eval_seconds: f64,
    /// Training history (networks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epochs: Option<Vec<EpochRecord>>,
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
    /// One entry per model, in the order asked.
    pub results: Vec<ModelResult>,
}

/// Fits every model on the training sessions (networks with `network`, which they need, reporting to
/// `progress`) and evaluates Recall@k and MRR@k at the cut-offs `ks` on the test sessions. Returns the
/// report and the last network fitted, if any.
pub fn fit_and_evaluate(
    data: &Sessions,
    models: &[ModelKind],
    ks: &[usize],
    network: Option<&NetworkConfig>,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<(Report, Option<FittedNetwork>)> {
    let mut results = Vec::new();
    let mut last_net: Option<FittedNetwork> = None;
    let train = &data.train;
    for &kind in models {
        let t0 = Instant::now();
        let (model, epochs): (Box<dyn NextItemModel>, _) = match kind {
            ModelKind::Pop => (Box::new(MostPopular::fit(train)), None),
            ModelKind::Markov => (Box::new(MarkovChain::fit(train)), None),
            ModelKind::Iknn => (Box::new(ItemKnn::fit(train, 100, 20.0)), None),
            ModelKind::Sknn => (Box::new(SessionKnn::fit(train, 100, 500)), None),
            ModelKind::Network(_) | ModelKind::SrGnn | ModelKind::SasRec => {
                let Some(config) = network else {
                    bail!("{}: a network model needs network settings", kind.name());
                };
                let m = train_network(config, kind, train, progress)?;
                let h = m.history().to_vec();
                last_net = Some(m.clone());
                (Box::new(m), Some(h))
            }
        };
        let fit_seconds = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let metrics = evaluate(model.as_ref(), &data.test, ks);
        let eval_seconds = t1.elapsed().as_secs_f64();
        let at = |v: &[f64]| metrics.ks.iter().copied().zip(v.iter().copied()).collect();
        results.push(ModelResult {
            model: kind.name().to_owned(),
            recall: at(&metrics.recall),
            mrr: at(&metrics.mrr),
            predictions: metrics.predictions,
            fit_seconds,
            eval_seconds,
            epochs,
        });
    }
    let report = Report {
        train_sessions: data.train.len(),
        train_clicks: data.train_clicks,
        items: data.n_items,
        test_sessions_read: data.test_sessions_read,
        test_sessions_evaluated: data.test.len(),
        predictions: results.first().map_or(0, |r| r.predictions),
        results,
    };
    Ok((report, last_net))
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
            let cell = spreadsheet_safe(key);
            if cell.contains([',', '"', '\n']) {
                write!(f, "{split},\"{}\"", cell.replace('"', "\"\""))?;
            } else {
                write!(f, "{split},{cell}")?;
            }
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
