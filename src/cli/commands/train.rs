//! `cartseq train features.csv --model dt|rf|ada|svm|gbdt|logreg|nb|prior|lstm|gru|rnn|srgnn|sasrec [--param k=v …]
//! [--grid k=v1,v2 …] [--seed N] -o model.bin` — fits a model on the `train` rows of a feature CSV
//! written by `cartseq task`.
//!
//! `valid` rows are used only for tuning: with `--grid`, every combination of the listed values is fitted
//! on the train rows and the one with the best validation ROC-AUC (ties: lower log loss, then the earlier
//! combination) is kept; without `--grid` the validation metrics are just reported. `test` rows are never
//! read here. Sequence models (`lstm`, `gru`, `rnn`) read the CSV's `seq` column (export it with
//! `cartseq task … --seq`); their token vocabulary is the set of tokens on train rows, stored in the model.
//!
//! The model file (`cartseq::trained`) records the model name, parameters, feature names, classes,
//! token vocabulary and the table's fitted featurizer (from the CSV's manifest), so `eval` can refuse a
//! table built differently. Memory: the train and valid rows plus the model.

use std::path::PathBuf;

use anyhow::bail;
use cartseq::experiment::{better, fit_and_score, grid_points, with_grid_point, ModelRun};
use cartseq::feature_table::FeatureTable;
use cartseq::feature_table::Missing;
use cartseq::featurizer;
use cartseq::tasks::table::{dataset_owned, SeqVocab};
use cartseq::tasks::Split;
use cartseq::trained::{ModelHeader, TrainedModel, TRAINED_MAGIC, TRAINED_VERSION};
use cartseq_models::ModelSpec;

use crate::cli::args::model::{is_ensemble, is_sequence_model, unknown_model, EnsembleArgs};
use crate::cli::args::named;
use crate::cli::Global;

/// Arguments of `train`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Feature CSV from `cartseq task`.
    pub features: PathBuf,
    /// Model: prior, logreg, nb (gnb), bnb, dt, rf, ada, svm, linsvm, gbdt, lstm, gru, rnn, or an
    /// ensemble of them: stack, vote, vote-hard, bag (members from --base, --meta).
    #[arg(long)]
    pub model: String,
    /// A hyper-parameter `key=value` (repeatable); `cartseq train --model M --param help` lists them.
    #[arg(long = "param", value_name = "K=V")]
    pub params: Vec<String>,
    /// Tune on the valid rows: `key=v1,v2,…` (repeatable; the grid is the product).
    #[arg(long = "grid", value_name = "K=V1,V2")]
    pub grid: Vec<String>,
    /// Seed (passed to models that take one).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output model file (written atomically).
    #[arg(short, long)]
    #[arg(required_unless_present = "params")]
    pub output: Option<PathBuf>,
    /// Print the validation summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Ensemble options (models `stack`, `vote`, `vote-hard`, `bag`).
    #[command(flatten)]
    pub ensemble: EnsembleArgs,
    /// Treat NaN/inf features as `minus-one` (the table's "does not exist"), `zero`, or `drop` the row
    /// (default: such a value is an error).
    #[arg(long, value_parser = named::<Missing>(), value_name = "HOW")]
    pub allow_missing: Option<Missing>,
}

/// Runs `train`.
pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let ensemble = is_ensemble(&args.model);
    if ensemble {
        anyhow::ensure!(
            args.params.is_empty() && args.grid.is_empty(),
            "--param/--grid apply to single models; {} takes its members from --base {} and --meta {} with their defaults",
            args.model,
            args.ensemble.base.join(","),
            args.ensemble.meta
        );
    }
    if args.params.iter().any(|p| p == "help") {
        let ps = ModelSpec::info(&args.model)
            .ok_or_else(|| unknown_model(&args.model))?
            .params;
        println!("parameters of {} (defaults):", args.model);
        for p in ps {
            println!("  {p}");
        }
        return Ok(());
    }
    if ModelSpec::info(&args.model).is_none() && !ensemble {
        return Err(unknown_model(&args.model));
    }
    let Some(output) = args.output.clone() else {
        bail!("--output (-o) is required: the file the trained model is written to");
    };
    cartseq::output::check_writable(&output)?;
    let grid = grid_points(&args.grid)?;
    // Test rows are never read here.
    let mut parts = FeatureTable::read_csv_splits(&args.features, &[Split::Train, Split::Valid])?;
    let (mut valid_t, mut train_t) = match (parts.pop(), parts.pop()) {
        (Some(v), Some(t)) => (v, t),
        _ => bail!("internal: two splits requested"),
    };
    let classes = cartseq::feature_table::classes_beside(&args.features);
    for t in [&mut train_t, &mut valid_t] {
        t.check_finite(&args.features, args.allow_missing)?;
        t.check_labels(&args.features, classes.as_deref())?;
    }
    let fitted_featurizer = featurizer::read_beside(&args.features)?;
    let online_features = featurizer::read_param_beside(&args.features, "online_features")?;
    let seq_model = is_sequence_model(&args.model) || args.ensemble.needs_seq(&args.model);
    if seq_model && train_t.seqs.is_none() {
        bail!(
            "{}: no `seq` column; model {} reads token sequences: export with `cartseq task … --seq`",
            args.features.display(),
            args.model
        );
    }
    anyhow::ensure!(
        !train_t.is_empty(),
        "{}: no `train` rows",
        args.features.display()
    );
    let n_classes = match &classes {
        Some(c) => c.len().max(2),
        None => train_t.n_classes().max(valid_t.n_classes()),
    };
    let feature_names = train_t.feature_names.clone();
    let vocab = train_t
        .seqs
        .as_ref()
        .map(|s| SeqVocab::from_rows(s, &(0..train_t.len()).collect::<Vec<_>>()));
    let train = dataset_owned(train_t, n_classes, vocab.as_ref())?;
    let valid = dataset_owned(valid_t, n_classes, vocab.as_ref())?;
    let mut best: Option<ModelRun> = None;
    for point in grid {
        let params = with_grid_point(&args.params, &point);
        let c = args.ensemble.candidate(&args.model, &params, args.seed)?;
        let run = fit_and_score(c, &train, &valid);
        if let Some(e) = &run.error {
            bail!("fitting {}: {e}", args.model);
        }
        if !global.quiet && !args.grid.is_empty() {
            eprintln!(
                "  {}: valid ROC-AUC {}",
                run.params.join(" "),
                run.metrics
                    .as_ref()
                    .and_then(|r| r.roc_auc)
                    .map_or("n/a".into(), |a| format!("{a:.4}"))
            );
        }
        let replace = match (&best, &run.metrics) {
            (None, _) => true,
            (
                Some(ModelRun {
                    metrics: Some(b), ..
                }),
                Some(r),
            ) => better(r, b),
            _ => false,
        };
        if replace {
            best = Some(run);
        }
    }
    let Some(ModelRun {
        params,
        model: Some(model),
        metrics: rep,
        fit_seconds: fit_s,
        ..
    }) = best
    else {
        bail!("nothing was fitted");
    };
    // An optimiser that stopped at its iteration limit is worth knowing about (stored in the model
    // file as `converged`).
    let not_converged = match &model {
        cartseq_models::FittedModel::Logistic(m) if !m.converged => Some(m.n_iter),
        _ => None,
    };
    let trained = TrainedModel {
        header: ModelHeader {
            magic: TRAINED_MAGIC.into(),
            format_version: TRAINED_VERSION,
            model: args.model.clone(),
            params: params.clone(),
            feature_names,
            n_classes,
            seq_vocab: if seq_model { vocab } else { None },
            featurizer: fitted_featurizer,
            online: online_features,
        },
        model,
    };
    trained.save(&output)?;
    let mut warnings: Vec<String> = Vec::new();
    if let Some(y) = train.y.as_slice() {
        for w in cartseq_models::metrics::sample_warnings(y, n_classes) {
            warnings.push(format!("train split: {w}"));
        }
    }
    if let Some(r) = &rep {
        warnings.extend(r.warnings.iter().map(|w| format!("valid split: {w}")));
    }
    if args.json {
        let v = serde_json::json!({
            "model": args.model,
            "params": params,
            "train_rows": train.nrows(),
            "fit_seconds": fit_s,
            "converged": not_converged.is_none(),
            "valid": rep,
            "warnings": warnings,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if !global.quiet {
        let shown = if params.is_empty() {
            String::new()
        } else {
            format!(" ({})", params.join(" "))
        };
        eprintln!(
            "trained {} on {} rows in {fit_s:.3} s{shown}",
            args.model,
            train.nrows()
        );
        if let Some(n) = not_converged {
            eprintln!(
                "note: L-BFGS stopped at its limit of {n} iterations before the gradient tolerance; \
                 the fit may improve with --param max_iter={}",
                n * 2
            );
        }
        if let Some(r) = rep {
            eprintln!(
                "valid ({} rows): ROC-AUC {}  F1 {:.4}  accuracy {:.4}  log loss {:.4}",
                r.n,
                r.roc_auc.map_or("n/a".into(), |a| format!("{a:.4}")),
                r.f1,
                r.accuracy,
                r.log_loss
            );
        }
        for w in &warnings {
            eprintln!("warning: {w}");
        }
    }
    Ok(())
}
