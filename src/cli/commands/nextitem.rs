//! `cartseq nextitem` — session-based next-item recommendation: train baselines and recurrent
//! networks on training sessions, rank all items for every next click of the test sessions, print
//! Recall@k and MRR@k side by side.
//!
//! ```text
//! cartseq nextitem --train TRAIN --test TEST --preset yoochoose --model pop,markov,iknn,sknn,gru
//! cartseq nextitem --train data/samples/diginetica_sample.csv --preset diginetica --split-last-days 7 --model gru
//! ```
//!
//! Protocol (Hidasi et al. 2016; Ludewig & Jannach 2018): a session's clicks are ordered by time; test
//! items never seen in training are removed, then test sessions with fewer than two clicks are dropped;
//! every click after the first is predicted from the clicks before it. Ties count against the model.
//! With `--split-last-days N` (no `--test`), sessions whose first day is after `max day − N` are the
//! test set and those before it train (SR-GNN's Diginetica split; sessions on the boundary day are
//! dropped), after removing items with fewer than `--min-item-support` clicks (default 5 for
//! diginetica, as SR-GNN does; 1 otherwise).
//!
//! Models: `pop` (most popular), `markov` (first-order transitions), `iknn` (item-kNN of the last
//! click), `sknn` (session-kNN), `rnn`/`lstm`/`gru` (GRU4Rec-style network, session-parallel
//! minibatches, full or sampled softmax). Several models may be given, comma-separated.
//!
//! Cost: reading is one pass over both files; memory is the event logs plus, per model, its
//! parameters (`items × (embed + hidden)` for the networks, `items × 100` for iknn, the training
//! sessions for sknn); evaluation scores all items per prediction (`predictions × items`), in
//! parallel over chunks of sessions. Results are identical for a given seed and any `--threads`.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use cartseq_data::presets::read_events;
use cartseq_data::{Dictionary, EventLog, OnError, Preset, PresetConfig};
use cartseq_models::nextitem::{
    evaluate, protocol_sessions, Gru4RecModel, Gru4RecParams, ItemKnn, MarkovChain, MostPopular,
    NextItemLoss, NextItemMetrics, NextItemModel, SessionKnn,
};
use cartseq_models::nn::{CellKind, EpochRecord, LrSchedule, OptimizerKind};
use cartseq_models::Sequences;
use serde::Serialize;

use crate::cli::Global;
use cartseq::output::{spreadsheet_safe, AtomicFile};

/// Arguments of `cartseq nextitem`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Training log (sessions).
    #[arg(long, value_name = "FILE")]
    pub train: PathBuf,
    /// Test log. Omit it and give --split-last-days to split the training log by date.
    #[arg(long, value_name = "FILE")]
    pub test: Option<PathBuf>,
    /// Input format of both files (yoochoose, diginetica, taobao, retailrocket, generic, …).
    #[arg(long, short = 'p', default_value = "yoochoose")]
    pub preset: String,
    /// Without --test: sessions of the last N days are the test set (SR-GNN's split).
    #[arg(long, value_name = "N")]
    pub split_last_days: Option<u32>,
    /// Drop items with fewer clicks than this before training (default 5 for diginetica, else 1).
    #[arg(long, value_name = "N")]
    pub min_item_support: Option<u64>,
    /// Models, comma-separated: pop, markov, iknn, sknn, rnn, lstm, gru.
    #[arg(
        long,
        short = 'm',
        default_value = "pop,markov,iknn,sknn,gru",
        value_delimiter = ','
    )]
    pub model: Vec<String>,
    /// Cut-offs k of Recall@k and MRR@k.
    #[arg(long, default_value = "10,20", value_delimiter = ',')]
    pub k: Vec<usize>,

    /// Hidden units per recurrent layer.
    #[arg(long, default_value_t = 100, help_heading = "Network")]
    pub hidden: usize,
    /// Recurrent layers.
    #[arg(long, default_value_t = 1, help_heading = "Network")]
    pub layers: usize,
    /// Item embedding width (default: the hidden width).
    #[arg(long, help_heading = "Network")]
    pub embed: Option<usize>,
    /// Separate input and output item embeddings (by default they are tied when the embedding width
    /// equals the hidden width, GRU4Rec's "constrained embedding").
    #[arg(long, help_heading = "Network")]
    pub no_tie: bool,
    /// Training epochs (fewer with early stopping).
    #[arg(long, default_value_t = 10, help_heading = "Network")]
    pub epochs: usize,
    /// Learning rate.
    #[arg(long, default_value_t = 2e-3, help_heading = "Network")]
    pub lr: f64,
    /// Learning-rate decay per epoch (1 = constant).
    #[arg(long, default_value_t = 1.0, help_heading = "Network")]
    pub lr_decay: f64,
    /// Optimiser: adam or sgd.
    #[arg(long, default_value = "adam", help_heading = "Network")]
    pub optimizer: String,
    /// SGD momentum.
    #[arg(long, default_value_t = 0.9, help_heading = "Network")]
    pub momentum: f64,
    /// Parallel sessions per minibatch.
    #[arg(long, default_value_t = 32, help_heading = "Network")]
    pub batch: usize,
    /// Dropout on the recurrent outputs.
    #[arg(long, default_value_t = 0.5, help_heading = "Network")]
    pub dropout: f64,
    /// Dropout on the item embeddings.
    #[arg(long, default_value_t = 0.0, help_heading = "Network")]
    pub dropout_embed: f64,
    /// Output loss: full (softmax over all items) or sampled (in-batch + popularity negatives).
    #[arg(long, default_value = "full", help_heading = "Network")]
    pub loss: String,
    /// Extra popularity-sampled negatives per minibatch (sampled loss).
    #[arg(long, default_value_t = 2048, help_heading = "Network")]
    pub n_sample: usize,
    /// Popularity exponent of negative sampling (sampled loss).
    #[arg(long, default_value_t = 0.75, help_heading = "Network")]
    pub sample_alpha: f64,
    /// L2 weight decay.
    #[arg(long, default_value_t = 0.0, help_heading = "Network")]
    pub weight_decay: f64,
    /// Global gradient-norm clipping (0 = off).
    #[arg(long, default_value_t = 5.0, help_heading = "Network")]
    pub clip: f64,
    /// Hold out the latest fraction of training sessions for early stopping on Recall@20.
    #[arg(long, default_value_t = 0.0, help_heading = "Network")]
    pub valid_fraction: f64,
    /// Epochs without validation improvement before stopping.
    #[arg(long, default_value_t = 2, help_heading = "Network")]
    pub patience: usize,
    /// Seed (initialisation, order, sampling, dropout).
    #[arg(long, default_value_t = 42, help_heading = "Network")]
    pub seed: u64,

    /// Print the results as JSON instead of a table.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
    /// Write session embeddings (final hidden state of the last network) as CSV.
    #[arg(long, value_name = "OUT.csv", help_heading = "Output")]
    pub embeddings: Option<PathBuf>,
    /// Write the training curve (loss and validation Recall@20 per epoch) of the last network as SVG.
    #[arg(long, value_name = "OUT.svg", help_heading = "Output")]
    pub curve: Option<PathBuf>,
    /// Save the last network as a versioned JSON model file.
    #[arg(long, value_name = "OUT.json", help_heading = "Output")]
    pub save_model: Option<PathBuf>,
}

/// One session: its key (session id as written) and its items in click order.
struct Session {
    key: String,
    start: i64,
    items: Vec<u32>,
}

/// Groups a log into sessions (by session column, else by user), clicks ordered by time (stable),
/// sessions ordered by start time then first appearance.
fn sessions_of(log: &EventLog, dict: &Dictionary) -> Vec<Session> {
    let keys: Vec<u32> = match &log.session {
        Some(s) => s.iter().map(|k| k.0).collect(),
        None => log.user.iter().map(|k| k.0).collect(),
    };
    let by_session = log.session.is_some();
    let mut idx: Vec<usize> = (0..log.len()).collect();
    let mut first: HashMap<u32, usize> = HashMap::new();
    for (i, &k) in keys.iter().enumerate() {
        first.entry(k).or_insert(i);
    }
    idx.sort_by_key(|&i| (first[&keys[i]], log.time[i].0, i));
    let mut out: Vec<Session> = Vec::new();
    let mut cur: Option<u32> = None;
    for i in idx {
        if cur != Some(keys[i]) {
            cur = Some(keys[i]);
            let key = if by_session {
                dict.sessions.name(keys[i])
            } else {
                dict.users.name(keys[i])
            };
            out.push(Session {
                key: key.into_owned(),
                start: log.time[i].0,
                items: Vec::new(),
            });
        }
        if let Some(s) = out.last_mut() {
            s.items.push(log.item[i].0);
            s.start = s.start.min(log.time[i].0);
        }
    }
    let mut order: Vec<usize> = (0..out.len()).collect();
    order.sort_by_key(|&i| (out[i].start, i));
    let mut slots: Vec<Option<Session>> = out.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

fn read(path: &Path, preset: Preset, dict: &mut Dictionary) -> anyhow::Result<EventLog> {
    let (log, _) = read_events(path, &PresetConfig::new(preset), OnError::Fail, dict)?;
    Ok(log)
}

/// Training sessions as dense item ids (`0..n_items`, in order of first appearance) and the test
/// sessions with unknown items as `None`.
struct Prepared {
    train: Sequences,
    train_keys: Vec<String>,
    test_raw: Vec<Vec<Option<u32>>>,
    test_keys: Vec<String>,
    n_items: usize,
    train_clicks: usize,
    test_sessions_read: usize,
}

fn prepare(args: &Args, preset: Preset) -> anyhow::Result<Prepared> {
    let mut dict = Dictionary::new();
    let train_log = read(&args.train, preset, &mut dict)?;
    let mut train_s = sessions_of(&train_log, &dict);
    let mut test_s = match (&args.test, args.split_last_days) {
        (Some(t), None) => {
            let log = read(t, preset, &mut dict)?;
            sessions_of(&log, &dict)
        }
        (None, Some(days)) => {
            const DAY: i64 = 86_400_000;
            let max_day = train_s
                .iter()
                .map(|s| s.start.div_euclid(DAY))
                .max()
                .unwrap_or(0);
            let split = max_day - i64::from(days);
            let all = std::mem::take(&mut train_s);
            let mut test = Vec::new();
            for s in all {
                let d = s.start.div_euclid(DAY);
                if d < split {
                    train_s.push(s);
                } else if d > split {
                    test.push(s);
                }
            }
            test
        }
        (Some(_), Some(_)) => bail!("give either --test FILE or --split-last-days N, not both"),
        (None, None) => bail!("give --test FILE, or --split-last-days N to split --train by date"),
    };
    let min_support = args
        .min_item_support
        .unwrap_or(if preset == Preset::Diginetica { 5 } else { 1 });
    if min_support > 1 {
        let mut count: HashMap<u32, u64> = HashMap::new();
        let both = if args.test.is_none() {
            train_s.iter().chain(test_s.iter())
        } else {
            train_s.iter().chain([].iter())
        };
        for s in both {
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
            args.train.display()
        );
    }
    let test_raw = test_s
        .iter()
        .map(|s| s.items.iter().map(|i| dense.get(i).copied()).collect())
        .collect();
    Ok(Prepared {
        train_clicks: train.tokens.len(),
        train,
        train_keys: train_s.into_iter().map(|s| s.key).collect(),
        test_sessions_read: test_s.len(),
        test_keys: test_s.into_iter().map(|s| s.key).collect(),
        test_raw,
        n_items: dense.len(),
    })
}

/// One line of the results table.
#[derive(Serialize)]
struct Row {
    model: String,
    recall: Vec<(usize, f64)>,
    mrr: Vec<(usize, f64)>,
    predictions: u64,
    fit_seconds: f64,
    eval_seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    epochs: Option<Vec<EpochRecord>>,
}

#[derive(Serialize)]
struct Report {
    train_sessions: usize,
    train_clicks: usize,
    items: usize,
    test_sessions_read: usize,
    test_sessions_evaluated: usize,
    predictions: u64,
    results: Vec<Row>,
}

fn network_params(args: &Args, cell: CellKind) -> anyhow::Result<Gru4RecParams> {
    let mut p = Gru4RecParams::new(cell);
    p.hidden = vec![args.hidden; args.layers.max(1)];
    if args.layers == 0 {
        bail!("--layers must be at least 1");
    }
    p.embed_dim = args.embed.unwrap_or(args.hidden);
    p.tie_embedding = !args.no_tie && p.embed_dim == args.hidden;
    p.epochs = args.epochs;
    p.lr = args.lr;
    p.schedule = if args.lr_decay < 1.0 {
        LrSchedule::Exponential {
            gamma: args.lr_decay,
        }
    } else {
        LrSchedule::Constant
    };
    p.optimizer = match args.optimizer.as_str() {
        "adam" => OptimizerKind::adam(),
        "sgd" => OptimizerKind::Sgd {
            momentum: args.momentum,
        },
        o => bail!("--optimizer: expected adam or sgd, found {o:?}"),
    };
    p.batch_size = args.batch;
    p.dropout_hidden = args.dropout;
    p.dropout_embed = args.dropout_embed;
    p.loss = match args.loss.as_str() {
        "full" => NextItemLoss::Full,
        "sampled" => NextItemLoss::Sampled {
            n_sample: args.n_sample,
            alpha: args.sample_alpha,
        },
        o => bail!("--loss: expected full or sampled, found {o:?}"),
    };
    p.weight_decay = args.weight_decay;
    p.clip_norm = args.clip;
    p.patience = args.patience.max(1);
    p.seed = args.seed;
    Ok(p)
}

/// Trains a network with an epoch progress bar on a terminal.
fn train_network(
    args: &Args,
    g: &Global,
    cell: CellKind,
    train: &Sequences,
) -> anyhow::Result<Gru4RecModel> {
    let learner = network_params(args, cell)?.check()?;
    if !(0.0..0.5).contains(&args.valid_fraction) {
        bail!(
            "--valid-fraction must be in [0, 0.5), found {}",
            args.valid_fraction
        );
    }
    // The latest sessions validate (the training file is in time order).
    let n = train.len();
    let n_valid = (n as f64 * args.valid_fraction).round() as usize;
    let (fit_on, valid) = if n_valid > 0 {
        let cut = n - n_valid;
        let head: Vec<usize> = (0..cut).collect();
        let tail: Vec<usize> = (cut..n).collect();
        let mut v = train.select(&tail);
        v.vocab = train.vocab;
        let mut t = train.select(&head);
        t.vocab = train.vocab;
        (t, Some(v))
    } else {
        (train.clone(), None)
    };
    let bar = if !g.quiet && std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(args.epochs as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] epoch {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b.set_prefix(cell.name().to_string());
        Some(b)
    } else {
        None
    };
    let model = learner.fit(&fit_on, valid.as_ref(), &mut |r| {
        if let Some(b) = &bar {
            let v = r
                .valid_metric
                .map(|m| format!(" valid R@20 {m:.4}"))
                .unwrap_or_default();
            b.set_message(format!("loss {:.4}{v} ({:.1}s)", r.train_loss, r.seconds));
            b.inc(1);
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(model)
}

/// Runs `cartseq nextitem`.
pub fn run(args: Args, g: &Global) -> anyhow::Result<()> {
    let preset: Preset = args
        .preset
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--preset: {e}"))?;
    if args.k.is_empty() || args.k.contains(&0) {
        bail!("--k needs cut-offs of at least 1, e.g. --k 10,20");
    }
    let mut models = Vec::new();
    for m in &args.model {
        match m.trim() {
            "pop" | "markov" | "iknn" | "sknn" | "rnn" | "lstm" | "gru" => models.push(m.trim().to_string()),
            other => bail!("--model: unknown model {other:?} (expected pop, markov, iknn, sknn, rnn, lstm, gru)"),
        }
    }
    let data = prepare(&args, preset)?;
    let (test, kept) = protocol_sessions(&data.test_raw, data.n_items, 2);
    if test.is_empty() {
        bail!("no test session has two or more clicks on items seen in training");
    }
    let mut rows = Vec::new();
    let mut last_net: Option<Gru4RecModel> = None;
    for name in &models {
        let t0 = Instant::now();
        let (model, epochs): (Box<dyn NextItemModel>, _) = match name.as_str() {
            "pop" => (Box::new(MostPopular::fit(&data.train)), None),
            "markov" => (Box::new(MarkovChain::fit(&data.train)), None),
            "iknn" => (Box::new(ItemKnn::fit(&data.train, 100, 20.0)), None),
            "sknn" => (Box::new(SessionKnn::fit(&data.train, 100, 500)), None),
            cell => {
                let cell = CellKind::parse(cell).context("cell")?;
                let m = train_network(&args, g, cell, &data.train)?;
                let h = m.history.clone();
                last_net = Some(m.clone());
                (Box::new(m), Some(h))
            }
        };
        let fit_seconds = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let metrics: NextItemMetrics = evaluate(model.as_ref(), &test, &args.k);
        let eval_seconds = t1.elapsed().as_secs_f64();
        rows.push(Row {
            model: name.clone(),
            recall: metrics
                .ks
                .iter()
                .copied()
                .zip(metrics.recall.iter().copied())
                .collect(),
            mrr: metrics
                .ks
                .iter()
                .copied()
                .zip(metrics.mrr.iter().copied())
                .collect(),
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
        test_sessions_evaluated: test.len(),
        predictions: rows.first().map_or(0, |r| r.predictions),
        results: rows,
    };
    if let Some(net) = &last_net {
        if let Some(path) = &args.embeddings {
            write_embeddings(path, net, &data, &test, &kept)?;
        }
        if let Some(path) = &args.curve {
            let svg = curve_svg(
                &format!("{} training", net.params.cell.name()),
                &net.history,
            )?;
            let mut f = AtomicFile::create(path)?;
            f.write_all(svg.as_bytes())?;
            f.commit()?;
        }
        if let Some(path) = &args.save_model {
            let mut f = AtomicFile::create(path)?;
            net.save(&mut f)?;
            f.commit()?;
        }
    } else if args.embeddings.is_some() || args.curve.is_some() || args.save_model.is_some() {
        bail!("--embeddings, --curve and --save-model need a network model (--model gru, lstm or rnn)");
    }
    print_report(&report, args.json)
}

fn print_report(r: &Report, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, r)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "train: {} sessions, {} clicks, {} items; test: {} sessions read, {} evaluated, {} predictions",
        r.train_sessions, r.train_clicks, r.items, r.test_sessions_read, r.test_sessions_evaluated, r.predictions
    )?;
    let mut head = format!("{:<8}", "model");
    if let Some(first) = r.results.first() {
        for &(k, _) in &first.recall {
            head.push_str(&format!(
                " {:>10} {:>8}",
                format!("Recall@{k}"),
                format!("MRR@{k}")
            ));
        }
    }
    head.push_str(&format!(" {:>8} {:>8}", "fit s", "eval s"));
    writeln!(out, "{head}")?;
    for row in &r.results {
        let mut line = format!("{:<8}", row.model);
        for ((_, rc), (_, m)) in row.recall.iter().zip(&row.mrr) {
            line.push_str(&format!(" {rc:>10.4} {m:>8.4}"));
        }
        line.push_str(&format!(
            " {:>8.2} {:>8.2}",
            row.fit_seconds, row.eval_seconds
        ));
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// `split,session,e0,…` for every training session and every evaluated test session.
fn write_embeddings(
    path: &Path,
    net: &Gru4RecModel,
    data: &Prepared,
    test: &Sequences,
    kept: &[usize],
) -> anyhow::Result<()> {
    let mut f = AtomicFile::create(path)?;
    let h = net.hidden_size();
    let mut head = String::from("split,session");
    for j in 0..h {
        head.push_str(&format!(",e{j}"));
    }
    writeln!(f, "{head}")?;
    for (split, seqs, keys) in [
        (
            "train",
            &data.train,
            (0..data.train.len())
                .map(|i| &data.train_keys[i])
                .collect::<Vec<_>>(),
        ),
        (
            "test",
            test,
            kept.iter().map(|&i| &data.test_keys[i]).collect(),
        ),
    ] {
        let e = net.session_embeddings(seqs);
        for (r, key) in keys.iter().enumerate() {
            let cell = spreadsheet_safe(key);
            let needs_quote = cell.contains([',', '"', '\n']);
            if needs_quote {
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

/// Two panels: training loss per epoch, and validation Recall@20 when there is one.
fn curve_svg(title: &str, hist: &[EpochRecord]) -> anyhow::Result<String> {
    use plotters::prelude::*;
    let err = |e: &dyn std::fmt::Display| anyhow::anyhow!("drawing the curve: {e}");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 400)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let root = root
            .titled(title, ("sans-serif", 20))
            .map_err(|e| err(&e))?;
        let (left, right) = root.split_horizontally(450);
        let n = hist.len().max(1) as f64;
        #[allow(clippy::type_complexity)] // a two-row table of (name, points, panel)
        let series: [(&str, Vec<(f64, f64)>, &DrawingArea<_, _>); 2] = [
            (
                "train loss",
                hist.iter()
                    .map(|r| (r.epoch as f64, r.train_loss))
                    .collect(),
                &left,
            ),
            (
                "valid Recall@20",
                hist.iter()
                    .filter_map(|r| r.valid_metric.map(|m| (r.epoch as f64, m)))
                    .collect(),
                &right,
            ),
        ];
        for (i, (name, pts, area)) in series.into_iter().enumerate() {
            let (lo, hi) = pts
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                    (a.min(p.1), b.max(p.1))
                });
            let (lo, hi) = if pts.is_empty() {
                (0.0, 1.0)
            } else {
                (
                    lo - 0.05 * (hi - lo).max(1e-3),
                    hi + 0.05 * (hi - lo).max(1e-3),
                )
            };
            let mut chart = ChartBuilder::on(area)
                .margin(12)
                .x_label_area_size(35)
                .y_label_area_size(55)
                .caption(name, ("sans-serif", 16))
                .build_cartesian_2d(0.5..n + 0.5, lo..hi)
                .map_err(|e| err(&e))?;
            chart
                .configure_mesh()
                .x_desc("epoch")
                .y_desc(name)
                .draw()
                .map_err(|e| err(&e))?;
            let col = if i == 0 {
                RGBColor(31, 119, 180)
            } else {
                RGBColor(255, 127, 14)
            };
            chart
                .draw_series(LineSeries::new(
                    pts.clone(),
                    ShapeStyle::from(&col).stroke_width(2),
                ))
                .map_err(|e| err(&e))?;
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, col.filled())))
                .map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))?;
    }
    Ok(svg)
}
