//! `cartseq eval model.bin features.csv [--split test] [--json]` — metrics of a model from `cartseq train`
//! on the `test` rows (by default) of a feature CSV: accuracy, balanced accuracy, precision, recall, F1,
//! ROC-AUC, PR-AUC, log loss, Brier score and the confusion matrix.
//!
//! `--predictions OUT.csv` also writes every evaluated row's class probabilities with its id and label, so
//! a paired comparison with another tool on the same rows (e.g. a bootstrap of the AUC difference) is
//! possible.
//!
//! The CSV must have the model's feature columns in the same order, and when both the model and the CSV's
//! manifest record the fitted featurizer, the same one (same input, task options and pattern set; see
//! `TrainedModel::check_table`). Memory: the feature matrix plus the model.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use cartseq_models::metrics::{self, MetricReport};
use cartseq_models::Classifier;
use ndarray::Array2;

use cartseq::feature_table::{FeatureTable, Missing};
use cartseq::featurizer;
use cartseq::output::{csv_text_cell, AtomicFile};
use cartseq::tasks::table::dataset_owned;
use cartseq::tasks::Split;
use cartseq::trained::TrainedModel;

use crate::cli::args::named;
use crate::cli::Global;

/// Arguments of `eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Model file from `cartseq train`.
    pub model: PathBuf,
    /// Feature CSV from `cartseq task`.
    pub features: PathBuf,
    /// Rows to evaluate (train: a sanity check of over-fitting).
    #[arg(long, value_parser = named::<Split>(), default_value = "test")]
    split: Split,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Also write each evaluated row's probabilities as CSV (`<id column>,label,p_<class 0>,…`, written
    /// atomically), for paired comparisons with other tools on the same rows.
    #[arg(long, value_name = "OUT.csv")]
    pub predictions: Option<PathBuf>,
    /// Treat NaN/inf features as `minus-one` (the table's "does not exist"), `zero`, or `drop` the row
    /// (default: such a value is an error).
    #[arg(long, value_parser = named::<Missing>(), value_name = "HOW")]
    pub allow_missing: Option<Missing>,
}

/// Runs `eval`.
pub fn run(args: Args, _global: &Global) -> anyhow::Result<()> {
    if let Some(p) = &args.predictions {
        cartseq::output::check_writable(p)?;
    }
    let trained = TrainedModel::load(&args.model)?;
    let split = args.split;
    // Only the evaluated rows are kept in memory.
    let mut table = FeatureTable::read_csv_splits(&args.features, &[split])?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("internal: one split requested"))?;
    table.check_finite(&args.features, args.allow_missing)?;
    let h = &trained.header;
    let csv_featurizer = featurizer::read_beside(&args.features)?;
    trained.check_table(&table, &args.features, csv_featurizer.as_ref())?;
    if table.is_empty() {
        bail!("{}: no `{}` rows", args.features.display(), split.name());
    }
    // The ids are only needed for --predictions (`dataset_owned` consumes the table).
    let ids = args
        .predictions
        .is_some()
        .then(|| (table.id_column.clone(), table.ids.clone()));
    let ds = dataset_owned(table, h.n_classes, h.seq_vocab.as_ref())?;
    let t = Instant::now();
    let proba = trained
        .model
        .predict_proba(&ds)
        .with_context(|| format!("scoring {}", args.features.display()))?;
    let predict_s = t.elapsed().as_secs_f64();
    let Some(y) = ds.y.as_slice() else {
        bail!("no rows to evaluate");
    };
    let rep = metrics::report(y, proba.view());
    if let (Some(out), Some((id_column, ids))) = (&args.predictions, &ids) {
        write_predictions(out, id_column, ids, y, &proba)?;
    }
    if args.json {
        let v = serde_json::json!({
            "model": h.model,
            "params": h.params,
            "split": split.name(),
            "predict_seconds": predict_s,
            "metrics": rep,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", format_report(&h.model, split.name(), &rep));
    }
    Ok(())
}

/// Writes `<id column>,label,p_0,…,p_{k-1}` (ids spreadsheet-safe, probabilities shortest round-trip).
fn write_predictions(
    out: &Path,
    id_column: &str,
    ids: &[String],
    y: &[usize],
    proba: &Array2<f64>,
) -> anyhow::Result<()> {
    let mut f = AtomicFile::create(out)?;
    let classes: Vec<String> = (0..proba.ncols()).map(|c| format!("p_{c}")).collect();
    writeln!(
        f,
        "{},label,{}",
        csv_text_cell(id_column),
        classes.join(",")
    )?;
    for ((id, label), row) in ids.iter().zip(y).zip(proba.rows()) {
        write!(f, "{},{label}", csv_text_cell(id))?;
        for p in row {
            write!(f, ",{p}")?;
        }
        writeln!(f)?;
    }
    f.commit()
        .with_context(|| format!("writing {}", out.display()))
}

/// A plain-text metric report.
pub fn format_report(model: &str, split: &str, r: &MetricReport) -> String {
    let opt = |v: Option<f64>| v.map_or("n/a".to_owned(), |a| format!("{a:.4}"));
    let mut s = format!("model {model} on {} {split} rows\n", r.n);
    for (k, v) in [
        ("roc_auc", opt(r.roc_auc)),
        ("pr_auc", opt(r.pr_auc)),
        ("f1", format!("{:.4}", r.f1)),
        ("f1_macro", format!("{:.4}", r.f1_macro)),
        ("precision", format!("{:.4}", r.precision)),
        ("recall", format!("{:.4}", r.recall)),
        ("accuracy", format!("{:.4}", r.accuracy)),
        ("balanced_accuracy", format!("{:.4}", r.balanced_accuracy)),
        ("log_loss", format!("{:.4}", r.log_loss)),
        ("brier", format!("{:.4}", r.brier)),
    ] {
        s.push_str(&format!("{k:<18} {v}\n"));
    }
    s.push_str("confusion (rows = true class, columns = predicted):\n");
    for row in &r.confusion {
        let cells: Vec<String> = row.iter().map(|c| format!("{c:>8}")).collect();
        s.push_str(&format!("  {}\n", cells.join("")));
    }
    for w in &r.warnings {
        s.push_str(&format!("warning: {w}\n"));
    }
    s
}
