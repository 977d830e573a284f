//! `cartseq leaderboard INPUT --preset P --task T [--models a,b,…] [--json] [--out-dir DIR]` — builds the
//! task exactly as `cartseq task` does, fits every baseline on the same train rows, evaluates each on the
//! same test rows and prints one table (ROC-AUC, PR-AUC, F1, accuracy, log loss, fit and predict time).
//! SVG charts go to `--out-dir`: `roc.svg` and `pr.svg` (binary tasks) and one bar chart per metric
//! (`bars_roc_auc.svg`, `bars_pr_auc.svg`, `bars_f1.svg`).
//!
//! Models run one after another (each may use every core); the order and seeds are fixed, so the table is
//! the same on every run apart from the timings. Memory: the event log, the feature matrix and one model
//! at a time.

use std::path::PathBuf;

use anyhow::Context;
use cartseq::ablation;
use cartseq::charts;
use cartseq::experiment::{fit_and_score, splits, ModelRun};
use cartseq::tasks::format_time;
use cartseq_models::metrics::MetricReport;
use cartseq_models::ModelSpec;

use crate::cli::args::model::{
    is_known, is_sequence_model, params_for, per_model_params, unknown_model, EnsembleArgs,
};
use crate::cli::args::task::TaskArgs;
use crate::cli::Global;

/// Models tried by default, in table order (unknown names are skipped).
pub const DEFAULT_MODELS: &[&str] = &[
    "prior", "gnb", "logreg", "dt", "rf", "ada", "svm", "gbdt", "lstm", "gru", "rnn",
];

/// Arguments of `leaderboard`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The log and the task.
    #[command(flatten)]
    pub task: TaskArgs,
    /// Models to compare (comma-separated; default: every baseline plus lstm, gru, rnn when available).
    #[arg(long, value_delimiter = ',', value_name = "M,M,..")]
    pub models: Option<Vec<String>>,
    /// A parameter of one model, `MODEL:key=value` (repeatable), e.g. `rf:n_trees=200`.
    #[arg(long = "param", value_name = "M:K=V")]
    pub params: Vec<String>,
    /// Print the table as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Folder for the SVG charts (created if missing).
    #[arg(long, default_value = "leaderboard", value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Ensemble options (models `stack`, `vote`, `vote-hard`, `bag`).
    #[command(flatten)]
    pub ensemble: EnsembleArgs,
    /// Also fit every model without the pattern features and report the ROC-AUC/F1 differences with
    /// paired-bootstrap 95% intervals (needs --pattern-features K and a binary task).
    #[arg(long)]
    pub ablate_patterns: bool,
    /// Bootstrap replicates of --ablate-patterns.
    #[arg(long, default_value_t = cartseq::ablation::DEFAULT_BOOTSTRAP, value_name = "N")]
    pub bootstrap: usize,
}

/// Runs `leaderboard`.
pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let names: Vec<String> = match &args.models {
        Some(m) => m.clone(),
        None => DEFAULT_MODELS
            .iter()
            .filter(|m| ModelSpec::info(m).is_some())
            .map(|m| (*m).to_owned())
            .collect(),
    };
    if let Some(n) = names.iter().find(|n| !is_known(n)) {
        return Err(unknown_model(n));
    }
    let per_model = per_model_params(&args.params)?;
    cartseq::output::check_folder(&args.out_dir)?;
    let seed = args.task.seed;
    let want_seq = names
        .iter()
        .any(|n| is_sequence_model(n) || args.ensemble.needs_seq(n));
    let setup = args.task.setup(want_seq)?;
    let built = setup.prepare(global.quiet)?.built;
    let n_classes = built.class_names.len();
    let sp = splits(&built.table, n_classes)?;
    let mut runs: Vec<ModelRun> = Vec::new();
    let mut probas: Vec<(String, ndarray::Array2<f64>)> = Vec::new();
    for name in &names {
        if !global.quiet {
            eprintln!("fitting {name} …");
        }
        let c = args
            .ensemble
            .candidate(name, &params_for(&per_model, name), seed)?;
        let mut run = fit_and_score(c, &sp.train, &sp.test);
        if let Some(p) = run.proba.take() {
            probas.push((name.clone(), p));
        }
        // One fitted model in memory at a time: the table and charts need only its scores.
        run.model = None;
        runs.push(run);
    }
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    let title = format!(
        "{} (test cutoff {})",
        args.task.task.name(),
        format_time(built.test_cutoff)
    );
    let metrics: Vec<(&str, Option<&MetricReport>)> = runs
        .iter()
        .map(|r| (r.name.as_str(), r.metrics.as_ref()))
        .collect();
    let plots = charts::leaderboard_charts(
        &args.out_dir,
        &title,
        &metrics,
        &probas,
        &sp.test.y.to_vec(),
    )?;
    let ablation = if args.ablate_patterns {
        let with: Vec<(String, Vec<f64>)> = probas
            .iter()
            .filter(|(_, p)| p.ncols() == 2)
            .map(|(n, p)| (n.clone(), p.column(1).to_vec()))
            .collect();
        let make = |name: &str| args.ensemble.learner_for(&per_model, name, seed);
        Some(ablation::ablate(&with, &make, &sp, args.bootstrap, seed)?)
    } else {
        None
    };
    if args.json {
        let v = serde_json::json!({
            "ablation": ablation,
            "task": args.task.task.name(),
            "test_cutoff": format_time(built.test_cutoff),
            "classes": built.class_names,
            "rows": { "train": sp.train.nrows(), "valid": sp.valid.nrows(), "test": sp.test.nrows() },
            "features": built.table.feature_names.len(),
            "models": runs,
            "plots": plots,
            "warnings": sp.warnings(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", table(&runs));
        for w in sp.warnings() {
            println!("warning: {w}");
        }
        if let Some(rows) = &ablation {
            println!(
                "\nablation: with − without pattern features (paired bootstrap, {} replicates)",
                args.bootstrap
            );
            print!("{}", ablation::table(rows));
        }
        if !global.quiet {
            eprintln!("charts: {}", plots.join(", "));
        }
    }
    Ok(())
}

/// The text table.
pub fn table(runs: &[ModelRun]) -> String {
    let mut s = format!(
        "{:<8} {:>8} {:>8} {:>7} {:>8} {:>8} {:>9} {:>10}\n",
        "model", "roc_auc", "pr_auc", "f1", "accuracy", "log_loss", "fit_s", "predict_s"
    );
    let opt = |v: Option<f64>| v.map_or("n/a".to_owned(), |a| format!("{a:.4}"));
    for e in runs {
        match &e.metrics {
            Some(m) => s.push_str(&format!(
                "{:<8} {:>8} {:>8} {:>7.4} {:>8.4} {:>8.4} {:>9.3} {:>10.3}\n",
                e.name,
                opt(m.roc_auc),
                opt(m.pr_auc),
                m.f1,
                m.accuracy,
                m.log_loss,
                e.fit_seconds,
                e.predict_seconds
            )),
            None => s.push_str(&format!(
                "{:<8} failed: {}\n",
                e.name,
                e.error.as_deref().unwrap_or("")
            )),
        }
    }
    s
}
