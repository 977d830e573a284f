//! `cartseq report INPUT --preset P --task T [task options] [--models M,M,..] -o report.html` — one
//! self-contained HTML file (inline CSS and SVG, no scripts, no network) with: data summary and action
//! funnel, the most frequent sequential patterns and "A then B" rules, the discriminative patterns
//! chosen as features, the leaderboard with ROC, precision–recall and calibration plots, feature
//! importances (pattern features marked), training curves of the neural models and the
//! with/without-patterns ablation with paired-bootstrap 95% intervals.
//!
//! The task is built exactly as `cartseq task` builds it; pattern features default to K = 10 here when
//! `--pattern-features` is not given. Cost: one leaderboard run (every model fitted twice for the
//! ablation) plus a top-k PrefixSpan run over all users' sequences; memory the event log, the feature
//! matrix and one model at a time.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use cartseq::ablation;
use cartseq::experiment::{fit_and_score, splits};
use cartseq::output::AtomicFile;
use cartseq::report::build::patterns_and_rules;
use cartseq::report::{render, DataSummary, ModelResult, ReportData};
use cartseq::tasks::{format_time, HOUR_MS};

use crate::cli::args::model::{
    is_known, is_sequence_model, params_for, per_model_params, unknown_model, EnsembleArgs,
};
use crate::cli::args::task::TaskArgs;
use crate::cli::Global;

/// Arguments of `report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The log and the task.
    #[command(flatten)]
    pub task: TaskArgs,
    /// Models of the leaderboard (model names, ensembles, lstm/gru/rnn).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "prior,logreg,rf,gbdt,stack,lstm",
        value_name = "M,M,.."
    )]
    pub models: Vec<String>,
    /// A parameter of one model, `MODEL:key=value` (repeatable), e.g. `rf:n_trees=200`.
    #[arg(long = "param", value_name = "M:K=V")]
    pub params: Vec<String>,
    /// Ensemble options.
    #[command(flatten)]
    pub ensemble: EnsembleArgs,
    /// Epochs of the neural models (a `--param lstm:epochs=N` wins).
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub epochs: usize,
    /// Bootstrap replicates of the ablation.
    #[arg(long, default_value_t = cartseq::ablation::DEFAULT_BOOTSTRAP, value_name = "N")]
    pub bootstrap: usize,
    /// Rows of the pattern and rule tables.
    #[arg(long, default_value_t = 15, value_name = "N")]
    pub top: usize,
    /// Add a "Segments" section: k-means (k 2..8 by silhouette) on the behaviour features at the test
    /// cutoff, a t-SNE map, and each segment's funnel, features, patterns and rules (see `segment`).
    #[arg(long)]
    pub segments: bool,
    /// Output HTML file (written atomically).
    #[arg(short, long)]
    pub output: PathBuf,
}

/// Runs `report`.
pub fn run(mut args: Args, global: &Global) -> anyhow::Result<()> {
    if let Some(n) = args.models.iter().find(|n| !is_known(n)) {
        return Err(unknown_model(n));
    }
    let mut per_model = per_model_params(&args.params)?;
    cartseq::output::check_writable(&args.output)?;
    for m in args.models.iter().filter(|m| is_sequence_model(m)) {
        if !params_for(&per_model, m)
            .iter()
            .any(|kv| kv.starts_with("epochs="))
        {
            per_model.push((m.clone(), format!("epochs={}", args.epochs)));
        }
    }
    if args.task.patterns.pattern_features == 0 {
        args.task.patterns.pattern_features = 10;
    }
    let quiet = global.quiet;
    let seed = args.task.seed;
    let with_seq = args
        .models
        .iter()
        .any(|m| is_sequence_model(m) || args.ensemble.needs_seq(m));
    let setup = args.task.setup(with_seq)?;
    let prepared = setup.prepare(quiet)?;
    let (built, log, dict) = (&prepared.built, &prepared.log, &prepared.dict);
    let spec = &setup.spec;
    let data = DataSummary::of(log, dict, &args.task.input.input.display().to_string());
    let (frequent, rules) =
        patterns_and_rules(log, dict, args.task.patterns.pattern_tokens, args.top)
            .context("mining the report's patterns")?;

    // Leaderboard.
    let n_classes = built.class_names.len();
    let sp = splits(&built.table, n_classes)?;
    let mut models = Vec::new();
    for name in &args.models {
        if !quiet {
            eprintln!("fitting {name} …");
        }
        let c = args
            .ensemble
            .candidate(name, &params_for(&per_model, name), seed)?;
        let run = fit_and_score(c, &sp.train, &sp.test);
        models.push(ModelResult::of(&run, &sp.train.feature_names));
    }
    let ablation = if n_classes == 2 {
        let with: Vec<(String, Vec<f64>)> = models
            .iter()
            .filter_map(|m| m.scores.clone().map(|s| (m.name.clone(), s)))
            .collect();
        let make = |name: &str| -> anyhow::Result<Box<dyn cartseq_models::Learner>> {
            if is_sequence_model(name) {
                anyhow::bail!("sequence models do not read the feature columns: unchanged by pattern features");
            }
            args.ensemble.learner_for(&per_model, name, seed)
        };
        if !quiet {
            eprintln!("ablation: refitting without pattern features …");
        }
        Some(ablation::ablate(&with, &make, &sp, args.bootstrap, seed)?)
    } else {
        None
    };
    let chosen = prepared.featurizer.patterns.clone();
    let segments = args.segments.then(|| {
        cartseq::segment::report_section(
            log,
            dict,
            &setup.input,
            built.test_cutoff,
            spec.horizon_ms,
            seed,
            7,
        )
    });
    let data = ReportData {
        title: format!("cartseq report — {} task", spec.kind.name()),
        task_lines: vec![
            format!(
                "test cutoff {}, horizon {} h, {} rows × {} features ({} pattern features), classes: {}",
                format_time(built.test_cutoff),
                spec.horizon_ms as f64 / HOUR_MS as f64,
                built.table.len(),
                built.table.feature_names.len(),
                3 * chosen.len(),
                built.class_names.join(", ")
            ),
            format!(
                "rows: train {}, valid {}, test {}",
                sp.train.nrows(),
                sp.valid.nrows(),
                sp.test.nrows()
            ),
        ],
        data,
        frequent,
        rules,
        chosen,
        class_names: built.class_names.clone(),
        y_test: sp.test.y.to_vec(),
        models,
        ablation,
        bootstrap: args.bootstrap,
        segments,
    };
    let html = render(&data);
    let mut out = AtomicFile::create(&args.output)?;
    out.write_all(html.as_bytes())
        .with_context(|| format!("writing {}", args.output.display()))?;
    out.flush()?;
    out.commit()?;
    if !quiet {
        eprintln!("report: {}", args.output.display());
    }
    Ok(())
}
