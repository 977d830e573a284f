//! `cartseq nextitem` — session-based next-item recommendation: train baselines and recurrent
//! networks on training sessions, rank all items for every next click of the test sessions, print
//! Recall@k and MRR@k side by side.
//!
//! ```text
//! cartseq nextitem --train TRAIN --test TEST --preset yoochoose --model pop,markov,iknn,sknn,gru
//! cartseq nextitem --train data/samples/diginetica_sample.csv --preset diginetica --split-last-days 7 --model gru
//! ```
//!
//! The protocol, the models and their costs are described in `cartseq::nextitem`, which does the work;
//! this file turns flags into its configuration, shows training progress and writes the results.
//! With `--split-last-days N` (no `--test`), sessions of the training log's last N days are the test
//! set (SR-GNN's Diginetica split), after removing items with fewer than `--min-item-support` clicks
//! (default 5 for diginetica, 1 otherwise).
//!
//! Models: `pop` (most popular), `markov` (first-order transitions), `iknn` (item-kNN of the last
//! click), `sknn` (session-kNN), `rnn`/`lstm`/`gru` (GRU4Rec-style network, session-parallel
//! minibatches, full or sampled softmax). Several models may be given, comma-separated.
//! Results are identical for a given seed and any `--threads`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::bail;
use cartseq::nextitem::{
    curve_svg, fit_and_evaluate, write_embeddings, DataSpec, Fitted, ModelKind, NetworkConfig,
    Progress, Report, Sessions, TestSet,
};
use cartseq::output::AtomicFile;
use cartseq_data::Preset;
use cartseq_models::nextitem::{Gru4RecParams, ItemVocab, NextItemFile, NextItemLoss};
use cartseq_models::nn::{CellKind, LrSchedule, OptimizerKind};

use crate::cli::Global;

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
    /// Save the last model of --model (any kind) with its item names as a versioned JSON model file,
    /// for `cartseq serve` and `cartseq compress`.
    #[arg(long, value_name = "OUT.json", help_heading = "Output")]
    pub save_model: Option<PathBuf>,
}

/// The test sessions flags ask for.
fn test_set(args: &Args) -> anyhow::Result<TestSet> {
    match (&args.test, args.split_last_days) {
        (Some(t), None) => Ok(TestSet::File(t.clone())),
        (None, Some(days)) => Ok(TestSet::LastDays(days)),
        (Some(_), Some(_)) => bail!("give either --test FILE or --split-last-days N, not both"),
        (None, None) => bail!("give --test FILE, or --split-last-days N to split --train by date"),
    }
}

/// The network settings of the flags (the cell is set per model).
fn network_config(args: &Args) -> anyhow::Result<NetworkConfig> {
    if args.layers == 0 {
        bail!("--layers must be at least 1");
    }
    let mut p = Gru4RecParams::new(CellKind::Gru);
    p.hidden = vec![args.hidden; args.layers];
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
    if !(0.0..0.5).contains(&args.valid_fraction) {
        bail!(
            "--valid-fraction must be in [0, 0.5), found {}",
            args.valid_fraction
        );
    }
    Ok(NetworkConfig {
        params: p,
        valid_fraction: args.valid_fraction,
    })
}

/// An epoch progress bar per network on a terminal (nothing when quiet or redirected).
fn progress_bar(quiet: bool) -> impl FnMut(Progress) {
    let show = !quiet && std::io::stderr().is_terminal();
    let mut bar: Option<indicatif::ProgressBar> = None;
    move |event| match event {
        Progress::Started { cell, epochs } if show => {
            let b = indicatif::ProgressBar::new(epochs as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix} [{bar:30}] epoch {pos}/{len} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b.set_prefix(cell.name().to_string());
            bar = Some(b);
        }
        Progress::Epoch(r) => {
            if let Some(b) = &bar {
                let v = r
                    .valid_metric
                    .map(|m| format!(" valid R@20 {m:.4}"))
                    .unwrap_or_default();
                b.set_message(format!("loss {:.4}{v} ({:.1}s)", r.train_loss, r.seconds));
                b.inc(1);
            }
        }
        Progress::Finished => {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
        }
        Progress::Started { .. } => {}
    }
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
        match ModelKind::parse(m.trim()) {
            Some(kind) => models.push(kind),
            None => bail!(
                "--model: unknown model {:?} (expected {})",
                m.trim(),
                ModelKind::NAMES.join(", ")
            ),
        }
    }
    let any_network = models.iter().any(|m| matches!(m, ModelKind::Network(_)));
    let network = if any_network {
        Some(network_config(&args)?)
    } else {
        None
    };
    let data = Sessions::load(&DataSpec {
        train: args.train.clone(),
        test: test_set(&args)?,
        preset,
        min_item_support: args.min_item_support,
    })?;
    let Fitted {
        report,
        last_net,
        last_model,
    } = fit_and_evaluate(
        &data,
        &models,
        &args.k,
        network.as_ref(),
        &mut progress_bar(g.quiet),
    )?;
    if let Some(net) = &last_net {
        if let Some(path) = &args.embeddings {
            write_embeddings(path, net, &data)?;
        }
        if let Some(path) = &args.curve {
            let svg = curve_svg(net)?;
            write_atomic(path, |f| Ok(f.write_all(svg.as_bytes())?))?;
        }
    } else if args.embeddings.is_some() || args.curve.is_some() {
        bail!("--embeddings and --curve need a network model (--model gru, lstm or rnn)");
    }
    if let (Some(path), Some(model)) = (&args.save_model, last_model) {
        let file = NextItemFile {
            model,
            items: ItemVocab::new(data.item_names.clone()),
        };
        write_atomic(path, |f| Ok(file.save(std::io::BufWriter::new(f))?))?;
    }
    print_report(&report, args.json)
}

/// Writes a file atomically with `write`.
fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut AtomicFile) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut f = AtomicFile::create(path)?;
    write(&mut f)?;
    f.commit()
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
