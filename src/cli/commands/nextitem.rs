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
//! click), `sknn` (session-kNN), `vsknn` (V-SKNN), `stan`, `vstan`, `sr` (sequential rules),
//! `rnn`/`lstm`/`gru` (GRU4Rec-style network, session-parallel minibatches, full or sampled
//! softmax), `srgnn` (SR-GNN, gated graph network over each session prefix's graph), `sasrec`
//! (SASRec, causal self-attention), and hybrids of any of them: `hybrid:gru+sr+vstan` (weighted, weights tuned on the
//! latest `--hybrid-valid-fraction` of the training sessions) or `stack:sr+vstan` (a logistic
//! regression on the members' scores). Several models may be given, comma-separated. Every figure
//! comes with a 95 % bootstrap interval over test sessions (`--bootstrap` replicates), and every
//! model is compared with the best of the table by a paired bootstrap.
//! The network flags shared by all networks (`--epochs`, `--hidden`, `--lr`, `--batch`,
//! `--dropout`, …) default per model to its paper's settings. The baselines' flags (`--vsknn-k`,
//! `--stan-k`, `--lambda-spw`, `--sr-steps`, …) carry session-rec's parameter names and published
//! defaults; they are validated before any data is read.
//! Results are identical for a given seed and any `--threads`.

use crate::cli::args::{heading, named};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::bail;
use cartseq::nextitem::{
    curve_svg, fit_and_evaluate, write_embeddings, BaselineConfig, DataSpec, EvalConfig,
    ModelChoice, ModelKind, NetworkConfig, NextItemRun, Progress, Report, Sessions, TestSet,
};
use cartseq::output::write_file;
use cartseq_data::Preset;
use cartseq_models::nextitem::{
    Decay, Gru4RecParams, NetTraining, NextItemFile, NextItemLoss, SasRecParams, SrGnnParams,
    SrParams, StanParams, VsknnParams,
};
use cartseq_models::nn::{CellKind, LrSchedule, OptimizerKind};
use cartseq_models::ModelError;

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
    #[arg(long, short = 'p', value_parser = named::<Preset>(), default_value = "yoochoose")]
    pub preset: Preset,
    /// Without --test: sessions of the last N days are the test set (SR-GNN's split).
    #[arg(long, value_name = "N")]
    pub split_last_days: Option<u32>,
    /// Drop items with fewer clicks than this before training (default 5 for diginetica, else 1).
    #[arg(long, value_name = "N")]
    pub min_item_support: Option<u64>,
    /// Models, comma-separated: pop, markov, iknn, sknn, vsknn, stan, vstan, sr, rnn, lstm, gru,
    /// srgnn, sasrec, and hybrids hybrid:a+b+… (weighted) or stack:a+b+… (logistic regression on
    /// their scores).
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
    /// Bootstrap replicates over test sessions for the 95 % intervals (0 = none; seeded by --seed).
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Latest fraction of the training sessions on which hybrids tune their weights, in (0, 0.5).
    #[arg(long, default_value_t = 0.1)]
    pub hybrid_valid_fraction: f64,

    /// vsknn: neighbours that vote (session-rec `k`).
    #[arg(long, value_name = "K", default_value_t = VsknnParams::default().k, help_heading = heading::BASELINES)]
    pub vsknn_k: usize,
    /// vsknn: most recent candidate sessions sharing an item with the prefix (`sample_size`).
    #[arg(long, value_name = "N", default_value_t = VsknnParams::default().sample, help_heading = heading::BASELINES)]
    pub vsknn_sample_size: usize,
    /// vsknn: similarity of the prefix and a neighbour, vec (position-weighted overlap) or cosine.
    #[arg(long, value_name = "vec|cosine", default_value = "vec", help_heading = heading::BASELINES)]
    pub vsknn_similarity: String,
    /// vsknn: position weight of the prefix clicks (`weighting`): same, div, linear, log or
    /// quadratic.
    #[arg(long, value_name = "DECAY", value_parser = named::<Decay>(), default_value_t = VsknnParams::default().weighting, help_heading = heading::BASELINES)]
    pub vsknn_weighting: Decay,
    /// vsknn: decay of a neighbour's vote by the step of the latest shared item
    /// (`weighting_score`): same, div, linear, log or quadratic.
    #[arg(long, value_name = "DECAY", value_parser = named::<Decay>(), default_value_t = VsknnParams::default().weighting_score, help_heading = heading::BASELINES)]
    pub vsknn_weighting_score: Decay,
    /// vsknn: IDF weight λ_idf of the voted items (`idf_weighting`; 0 = off).
    #[arg(long, value_name = "λ", default_value_t = VsknnParams::default().idf_weighting, help_heading = heading::BASELINES)]
    pub vsknn_idf_weighting: f64,
    /// stan and vstan: neighbours that vote (`k`).
    #[arg(long, value_name = "K", default_value_t = StanParams::stan().k, help_heading = heading::BASELINES)]
    pub stan_k: usize,
    /// stan and vstan: most recent candidate sessions (`sample_size`).
    #[arg(long, value_name = "N", default_value_t = StanParams::stan().sample, help_heading = heading::BASELINES)]
    pub stan_sample_size: usize,
    /// stan and vstan: λ1, position decay of the prefix clicks (`lambda_spw`, in clicks).
    #[arg(long, value_name = "λ1", default_value_t = StanParams::stan().lambda_spw, help_heading = heading::BASELINES)]
    pub lambda_spw: f64,
    /// stan and vstan: λ2, recency decay of a neighbour session (`lambda_snh`, in days).
    #[arg(long, value_name = "λ2", default_value_t = StanParams::stan().lambda_snh, help_heading = heading::BASELINES)]
    pub lambda_snh: f64,
    /// stan and vstan: λ3, decay of a neighbour's items by their distance from the shared item
    /// (`lambda_inh`, in clicks).
    #[arg(long, value_name = "λ3", default_value_t = StanParams::stan().lambda_inh, help_heading = heading::BASELINES)]
    pub lambda_inh: f64,
    /// vstan: position decay of the prefix clicks in the prediction (`lambda_ipw`, in clicks).
    #[arg(long, value_name = "λ", default_value_t = vstan_extras().0, help_heading = heading::BASELINES)]
    pub lambda_ipw: f64,
    /// vstan: IDF weight of the voted items (`lambda_idf`; 0 = off).
    #[arg(long, value_name = "λ", default_value_t = vstan_extras().1, help_heading = heading::BASELINES)]
    pub lambda_idf: f64,
    /// vstan: similarity of the prefix and a neighbour, cosine or vec.
    #[arg(long, value_name = "cosine|vec", default_value = "cosine", help_heading = heading::BASELINES)]
    pub vstan_similarity: String,
    /// sr: largest distance in clicks between a rule's two items (`steps`).
    #[arg(long, value_name = "N", default_value_t = SrParams::default().steps, help_heading = heading::BASELINES)]
    pub sr_steps: usize,
    /// sr: weight of a distance d (`weighting`): same, div (1/d), linear, log or quadratic.
    #[arg(long, value_name = "DECAY", value_parser = named::<Decay>(), default_value_t = SrParams::default().weighting, help_heading = heading::BASELINES)]
    pub sr_weighting: Decay,
    /// sr: strongest rules kept per item (`pruning`).
    #[arg(long, value_name = "N", default_value_t = SrParams::default().pruning, help_heading = heading::BASELINES)]
    pub sr_pruning: usize,

    /// Hidden units per recurrent layer; the width d of srgnn and sasrec [default: 100; sasrec 50].
    #[arg(long, help_heading = heading::NETWORK)]
    pub hidden: Option<usize>,
    /// Recurrent layers; sasrec's self-attention blocks [default: 1; sasrec 2].
    #[arg(long, help_heading = heading::NETWORK)]
    pub layers: Option<usize>,
    /// Item embedding width (default: the hidden width).
    #[arg(long, help_heading = heading::NETWORK)]
    pub embed: Option<usize>,
    /// Separate input and output item embeddings (by default they are tied when the embedding width
    /// equals the hidden width, GRU4Rec's "constrained embedding").
    #[arg(long, help_heading = heading::NETWORK)]
    pub no_tie: bool,
    /// Training epochs, fewer with early stopping [default: 10; srgnn 4; sasrec 20].
    #[arg(long, help_heading = heading::NETWORK)]
    pub epochs: Option<usize>,
    /// Learning rate [default: 2e-3; srgnn and sasrec 1e-3].
    #[arg(long, help_heading = heading::NETWORK)]
    pub lr: Option<f64>,
    /// Learning-rate decay, per epoch or per --lr-step epochs (1 = constant) [default: 1; srgnn 0.1].
    #[arg(long, help_heading = heading::NETWORK)]
    pub lr_decay: Option<f64>,
    /// Epochs between learning-rate decays (0 = every epoch) [default: 0; srgnn 3].
    #[arg(long, help_heading = heading::NETWORK)]
    pub lr_step: Option<usize>,
    /// Optimiser: adam or sgd.
    #[arg(long, default_value = "adam", help_heading = heading::NETWORK)]
    pub optimizer: String,
    /// SGD momentum.
    #[arg(long, default_value_t = 0.9, help_heading = heading::NETWORK)]
    pub momentum: f64,
    /// Minibatch: parallel sessions (gru), prefixes (srgnn), sessions (sasrec)
    /// [default: 32; srgnn 100; sasrec 128].
    #[arg(long, help_heading = heading::NETWORK)]
    pub batch: Option<usize>,
    /// Dropout on the recurrent outputs; sasrec's dropout on embeddings and sub-layers
    /// [default: 0.5].
    #[arg(long, help_heading = heading::NETWORK)]
    pub dropout: Option<f64>,
    /// Dropout on the item embeddings.
    #[arg(long, default_value_t = 0.0, help_heading = heading::NETWORK)]
    pub dropout_embed: f64,
    /// Output loss: full (softmax over all items) or sampled (in-batch + popularity negatives).
    #[arg(long, default_value = "full", help_heading = heading::NETWORK)]
    pub loss: String,
    /// Extra popularity-sampled negatives per minibatch (sampled loss).
    #[arg(long, default_value_t = 2048, help_heading = heading::NETWORK)]
    pub n_sample: usize,
    /// Popularity exponent of negative sampling (sampled loss).
    #[arg(long, default_value_t = 0.75, help_heading = heading::NETWORK)]
    pub sample_alpha: f64,
    /// L2 weight decay [default: 0; srgnn 1e-5].
    #[arg(long, help_heading = heading::NETWORK)]
    pub weight_decay: Option<f64>,
    /// srgnn: propagation steps of the gated graph network.
    #[arg(long, default_value_t = 1, help_heading = heading::NETWORK)]
    pub gnn_steps: usize,
    /// sasrec: attention heads (must divide --hidden).
    #[arg(long, default_value_t = 1, help_heading = heading::NETWORK)]
    pub heads: usize,
    /// sasrec: longest input sequence (earlier clicks are cut).
    #[arg(long, default_value_t = 50, help_heading = heading::NETWORK)]
    pub max_len: usize,
    /// Global gradient-norm clipping (0 = off).
    #[arg(long, default_value_t = 5.0, help_heading = heading::NETWORK)]
    pub clip: f64,
    /// Hold out the latest fraction of training sessions for early stopping on Recall@20.
    #[arg(long, default_value_t = 0.0, help_heading = heading::NETWORK)]
    pub valid_fraction: f64,
    /// Epochs without validation improvement before stopping.
    #[arg(long, default_value_t = 2, help_heading = heading::NETWORK)]
    pub patience: usize,
    /// Seed (initialisation, order, sampling, dropout).
    #[arg(long, default_value_t = 42, help_heading = heading::NETWORK)]
    pub seed: u64,

    /// Print the results as JSON instead of a table.
    #[arg(long, help_heading = heading::OUTPUT)]
    pub json: bool,
    /// Write session embeddings (final hidden state or session vector of the last network) as CSV.
    #[arg(long, value_name = "OUT.csv", help_heading = heading::OUTPUT)]
    pub embeddings: Option<PathBuf>,
    /// Write the training curve (loss and validation Recall@20 per epoch) of the last network as SVG.
    #[arg(long, value_name = "OUT.svg", help_heading = heading::OUTPUT)]
    pub curve: Option<PathBuf>,
    /// Save the last model of --model (any kind, a hybrid with its members) with its item names as
    /// a versioned JSON model file, for `cartseq serve` and `cartseq compress` (networks).
    #[arg(long, value_name = "OUT.json", help_heading = heading::OUTPUT)]
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

/// VSTAN's published `(λ_ipw, λ_idf)`.
fn vstan_extras() -> (f64, f64) {
    StanParams::vstan().vstan.unwrap_or((1.02, 5.0))
}

/// Whether `name`, given to `flag`, is the "vec" similarity (else cosine).
fn vec_similarity(flag: &str, name: &str) -> anyhow::Result<bool> {
    match name {
        "vec" => Ok(true),
        "cosine" => Ok(false),
        _ => bail!("{flag}: expected vec or cosine, found {name:?}"),
    }
}

/// The baselines' parameters of the flags, validated; an error names the flag.
fn baseline_config(args: &Args) -> anyhow::Result<BaselineConfig> {
    let vsknn = VsknnParams {
        k: args.vsknn_k,
        sample: args.vsknn_sample_size,
        weighting: args.vsknn_weighting,
        weighting_score: args.vsknn_weighting_score,
        idf_weighting: args.vsknn_idf_weighting,
        cosine: !vec_similarity("--vsknn-similarity", &args.vsknn_similarity)?,
    };
    let stan = StanParams {
        k: args.stan_k,
        sample: args.stan_sample_size,
        lambda_spw: args.lambda_spw,
        lambda_snh: args.lambda_snh,
        lambda_inh: args.lambda_inh,
        ..StanParams::stan()
    };
    let vstan = StanParams {
        vstan: Some((args.lambda_ipw, args.lambda_idf)),
        vec_similarity: vec_similarity("--vstan-similarity", &args.vstan_similarity)?,
        ..stan.clone()
    };
    let sr = SrParams {
        steps: args.sr_steps,
        weighting: args.sr_weighting,
        pruning: args.sr_pruning,
    };
    // The library names its parameters as session-rec does; the message names the flag.
    let flag = |model: &str, e: ModelError| match e {
        ModelError::InvalidParam {
            name,
            value,
            expected,
        } => {
            let flag = match (model, name) {
                ("vsknn", "sample") => "--vsknn-sample-size".to_string(),
                ("stan", "sample") => "--stan-sample-size".to_string(),
                ("vsknn" | "stan" | "sr", "k" | "steps" | "pruning" | "idf_weighting") => {
                    format!("--{model}-{}", name.replace('_', "-"))
                }
                _ => format!("--{}", name.replace('_', "-")),
            };
            anyhow::anyhow!("{flag}: expected {expected}, found {value}")
        }
        other => other.into(),
    };
    vsknn.check().map_err(|e| flag("vsknn", e))?;
    stan.check().map_err(|e| flag("stan", e))?;
    vstan.check().map_err(|e| flag("stan", e))?;
    sr.check().map_err(|e| flag("sr", e))?;
    Ok(BaselineConfig {
        vsknn,
        stan,
        vstan,
        sr,
    })
}

/// Whether `k` is a network (the flags of the Network heading apply).
fn is_network(k: &ModelKind) -> bool {
    matches!(
        k,
        ModelKind::Network(_) | ModelKind::SrGnn | ModelKind::SasRec
    )
}

/// The learning-rate schedule of `--lr-decay` and `--lr-step` over a model's defaults.
fn schedule(args: &Args, decay: f64, step: usize) -> LrSchedule {
    let gamma = args.lr_decay.unwrap_or(decay);
    match args.lr_step.unwrap_or(step) {
        _ if gamma >= 1.0 => LrSchedule::Constant,
        0 => LrSchedule::Exponential { gamma },
        every => LrSchedule::Step { every, gamma },
    }
}

/// SR-GNN's or SASRec's training settings: the flags over the model's defaults `d` (its decay and
/// decay step `decay`).
fn net_training(args: &Args, d: &NetTraining, decay: (f64, usize), patience: usize) -> NetTraining {
    NetTraining {
        batch_size: args.batch.unwrap_or(d.batch_size),
        epochs: args.epochs.unwrap_or(d.epochs),
        lr: args.lr.unwrap_or(d.lr),
        schedule: schedule(args, decay.0, decay.1),
        weight_decay: args.weight_decay.unwrap_or(d.weight_decay),
        patience,
        seed: args.seed,
    }
}

/// The network settings of the flags (the cell is set per model); unset flags take each model's
/// defaults.
fn network_config(args: &Args) -> anyhow::Result<NetworkConfig> {
    if args.layers == Some(0) {
        bail!("--layers must be at least 1");
    }
    if args.hidden == Some(0) || args.embed == Some(0) {
        bail!("--hidden and --embed must be at least 1");
    }
    let hidden = args.hidden.unwrap_or(100);
    let mut p = Gru4RecParams::new(CellKind::Gru);
    p.hidden = vec![hidden; args.layers.unwrap_or(1)];
    p.embed_dim = args.embed.unwrap_or(hidden);
    p.tie_embedding = !args.no_tie && p.embed_dim == hidden;
    p.epochs = args.epochs.unwrap_or(p.epochs);
    p.lr = args.lr.unwrap_or(p.lr);
    p.schedule = schedule(args, 1.0, 0);
    p.optimizer = match args.optimizer.as_str() {
        "adam" => OptimizerKind::adam(),
        "sgd" => OptimizerKind::Sgd {
            momentum: args.momentum,
        },
        o => bail!("--optimizer: expected adam or sgd, found {o:?}"),
    };
    p.batch_size = args.batch.unwrap_or(p.batch_size);
    p.dropout_hidden = args.dropout.unwrap_or(p.dropout_hidden);
    p.dropout_embed = args.dropout_embed;
    p.loss = match args.loss.as_str() {
        "full" => NextItemLoss::Full,
        "sampled" => NextItemLoss::Sampled {
            n_sample: args.n_sample,
            alpha: args.sample_alpha,
        },
        o => bail!("--loss: expected full or sampled, found {o:?}"),
    };
    p.weight_decay = args.weight_decay.unwrap_or(0.0);
    p.clip_norm = args.clip;
    p.patience = args.patience.max(1);
    p.seed = args.seed;
    let d = SrGnnParams::default();
    let srgnn = SrGnnParams {
        dim: args.hidden.unwrap_or(d.dim),
        steps: args.gnn_steps,
        training: net_training(args, &d.training, (0.1, 3), p.patience),
    };
    let d = SasRecParams::default();
    let sasrec = SasRecParams {
        dim: args.hidden.unwrap_or(d.dim),
        blocks: args.layers.unwrap_or(d.blocks),
        heads: args.heads,
        max_len: args.max_len,
        dropout: args.dropout.unwrap_or(d.dropout),
        training: net_training(args, &d.training, (1.0, 0), p.patience),
    };
    if !(0.0..0.5).contains(&args.valid_fraction) {
        bail!(
            "--valid-fraction must be in [0, 0.5), found {}",
            args.valid_fraction
        );
    }
    Ok(NetworkConfig {
        params: p,
        srgnn,
        sasrec,
        valid_fraction: args.valid_fraction,
    })
}

/// An epoch progress bar per network on a terminal (nothing when quiet or redirected).
fn progress_bar(quiet: bool) -> impl FnMut(Progress) {
    let show = !quiet && std::io::stderr().is_terminal();
    let mut bar: Option<indicatif::ProgressBar> = None;
    move |event| match event {
        Progress::Started { model, epochs } if show => {
            let b = indicatif::ProgressBar::new(epochs as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix} [{bar:30}] epoch {pos}/{len} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b.set_prefix(model);
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
    cartseq::output::check_all_writable(
        [&args.embeddings, &args.curve, &args.save_model]
            .into_iter()
            .flatten()
            .map(PathBuf::as_path),
    )?;
    if args.k.is_empty() || args.k.contains(&0) {
        bail!("--k needs cut-offs of at least 1, e.g. --k 10,20");
    }
    let mut models = Vec::new();
    for m in &args.model {
        match ModelChoice::parse(m.trim()) {
            Ok(choice) => models.push(choice),
            Err(e) => bail!("--model: {e}"),
        }
    }
    if !(args.hybrid_valid_fraction > 0.0 && args.hybrid_valid_fraction < 0.5) {
        bail!(
            "--hybrid-valid-fraction must be in (0, 0.5), found {}",
            args.hybrid_valid_fraction
        );
    }
    let any_network = models.iter().any(|m| match m {
        ModelChoice::Single(k) => is_network(k),
        ModelChoice::Hybrid { members, .. } => members.iter().any(is_network),
    });
    let network = if any_network {
        Some(network_config(&args)?)
    } else {
        None
    };
    let baselines = baseline_config(&args)?;
    let data = Sessions::load(&DataSpec {
        train: args.train.clone(),
        test: test_set(&args)?,
        preset: args.preset,
        min_item_support: args.min_item_support,
    })?;
    let eval = EvalConfig {
        ks: args.k.clone(),
        bootstrap: args.bootstrap,
        seed: args.seed,
        hybrid_valid_fraction: args.hybrid_valid_fraction,
        baselines,
    };
    let NextItemRun {
        report,
        last_net,
        last_model,
    } = fit_and_evaluate(
        &data,
        &models,
        &eval,
        network.as_ref(),
        &mut progress_bar(g.quiet),
    )?;
    if let Some(net) = &last_net {
        if let Some(path) = &args.embeddings {
            write_embeddings(path, net, &data)?;
        }
        if let Some(path) = &args.curve {
            let svg = curve_svg(net)?;
            write_file(path, |f| Ok(f.write_all(svg.as_bytes())?))?;
        }
    } else if args.embeddings.is_some() || args.curve.is_some() {
        bail!("--embeddings and --curve need a network model (--model gru, lstm, rnn, srgnn or sasrec)");
    }
    if let Some(path) = &args.save_model {
        let Some(model) = last_model else {
            bail!("--save-model: no model was fitted");
        };
        write_file(path, |f| {
            Ok(NextItemFile::save_parts(
                &model,
                &data.item_names,
                std::io::BufWriter::new(f),
            )?)
        })?;
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
    for w in &r.warnings {
        writeln!(out, "warning: {w}")?;
    }
    let width = r
        .results
        .iter()
        .map(|x| x.model.len())
        .max()
        .unwrap_or(5)
        .max(8);
    let cell = if r.bootstrap_replicates > 0 { 24 } else { 10 };
    let mut head = format!("{:<width$}", "model");
    if let Some(first) = r.results.first() {
        for &(k, _) in &first.recall {
            head.push_str(&format!(
                " {:>cell$} {:>cell$}",
                format!("Recall@{k}"),
                format!("MRR@{k}")
            ));
        }
    }
    head.push_str(&format!(" {:>8} {:>8}", "fit s", "eval s"));
    writeln!(out, "{head}")?;
    let fmt = |v: f64, ci: Option<&cartseq_models::nextitem::Interval>| match ci {
        Some(c) => format!("{v:.4} [{:.4},{:.4}]", c.lo, c.hi),
        None => format!("{v:.4}"),
    };
    for row in &r.results {
        let mut line = format!("{:<width$}", row.model);
        for (i, ((k, rc), (_, m))) in row.recall.iter().zip(&row.mrr).enumerate() {
            let rci = row.recall_ci.get(i).filter(|c| c.0 == *k).map(|c| &c.1);
            let mci = row.mrr_ci.get(i).filter(|c| c.0 == *k).map(|c| &c.1);
            line.push_str(&format!(
                " {:>cell$} {:>cell$}",
                fmt(*rc, rci),
                fmt(*m, mci)
            ));
        }
        line.push_str(&format!(
            " {:>8.2} {:>8.2}",
            row.fit_seconds, row.eval_seconds
        ));
        writeln!(out, "{line}")?;
    }
    // Which differences to the best model are not significant (paired bootstrap, 95 %).
    for row in &r.results {
        let Some(v) = &row.vs_best else { continue };
        let ns: Vec<String> = v
            .recall
            .iter()
            .map(|(k, d)| (format!("Recall@{k}"), d))
            .chain(v.mrr.iter().map(|(k, d)| (format!("MRR@{k}"), d)))
            .filter(|(_, d)| !d.excludes_zero())
            .map(|(name, d)| format!("{name} {:+.4} [{:+.4},{:+.4}]", d.estimate, d.lo, d.hi))
            .collect();
        if !ns.is_empty() {
            writeln!(
                out,
                "not significantly different from {}: {} on {}",
                v.best,
                row.model,
                ns.join(", ")
            )?;
        }
    }
    for row in &r.results {
        let Some(h) = &row.hybrid else { continue };
        let weights: Vec<String> = h
            .members
            .iter()
            .zip(&h.tuning.weights)
            .map(|(m, w)| format!("{m} {w:.2}"))
            .collect();
        writeln!(
            out,
            "{}: weights {} (tuned on {} validation sessions: Recall@20 {:.4}, MRR@20 {:.4})",
            row.model,
            weights.join(", "),
            h.valid_sessions,
            h.tuning.valid_recall20,
            h.tuning.valid_mrr20
        )?;
        for (name, d) in [
            ("Recall@20", &h.recall20_difference),
            ("MRR@20", &h.mrr20_difference),
        ] {
            if let Some(d) = d {
                let verdict = if d.lo > 0.0 {
                    "better"
                } else if d.hi < 0.0 {
                    "worse"
                } else {
                    "not significantly different"
                };
                writeln!(
                    out,
                    "  vs best member {}: {name} {:+.4} [{:+.4},{:+.4}] ({verdict})",
                    h.best_member, d.estimate, d.lo, d.hi
                )?;
            }
        }
    }
    Ok(())
}
