//! `cartseq train features.csv --model dt|rf|ada|svm|gbdt|logreg|nb|prior|lstm|gru|rnn [--param k=v …]
//! [--grid k=v1,v2 …] [--seed N] -o model.bin` — fits a model on the `train` rows of a feature CSV
//! written by `cartseq task`.
//!
//! `valid` rows are used only for tuning: with `--grid`, every combination of the listed values is fitted
//! on the train rows and the one with the best validation ROC-AUC (ties: lower log loss, then the earlier
//! combination) is kept; without `--grid` the validation metrics are just reported. `test` rows are never
//! read here. Sequence models (`lstm`, `gru`, `rnn`) read the CSV's `seq` column (export it with
//! `cartseq task … --seq`); their token vocabulary is the set of tokens on train rows, stored in the model.
//!
//! The model file is a one-line JSON `cartseq-trained` header (model name, parameters, feature names,
//! classes, token vocabulary) followed by the models crate's versioned model file (streamed both
//! ways). Memory: the train and valid rows plus the model.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use cartseq_models::metrics::{self, MetricReport};
use cartseq_models::{registry, Classifier, Dataset};
use serde::{Deserialize, Serialize};

use crate::cmd::Global;
use crate::features_csv::FeatureTable;
use crate::output::AtomicFile;
use crate::tasks::table::{dataset, dataset_owned, SeqVocab};
use crate::tasks::Split;

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
    /// Seed (passed as `seed=N` to models that take one).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output model file (written atomically).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Print the validation summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Ensemble options (models `stack`, `vote`, `vote-hard`, `bag`).
    #[command(flatten)]
    pub ensemble: crate::ensemble_cli::EnsembleArgs,
}

/// Magic string of a trained-model file.
pub const TRAINED_MAGIC: &str = "cartseq-trained";
/// Format version of a trained-model file.
pub const TRAINED_VERSION: u64 = 1;

/// What `eval` needs besides the model: how to turn a feature CSV into the model's input.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelHeader {
    /// `cartseq-trained`.
    pub magic: String,
    /// Format version.
    pub format_version: u64,
    /// Model name as given to `--model`.
    pub model: String,
    /// Parameters applied (`key=value`).
    pub params: Vec<String>,
    /// Feature columns, in order.
    pub feature_names: Vec<String>,
    /// Number of classes.
    pub n_classes: usize,
    /// Token vocabulary of sequence models.
    pub seq_vocab: Option<SeqVocab>,
}

/// A trained model with its header.
pub struct TrainedModel {
    /// The header.
    pub header: ModelHeader,
    /// The fitted model.
    pub model: Box<dyn Classifier>,
}

impl TrainedModel {
    /// Writes `{header…, "body": <models-crate model file>}`.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        // Streamed: header line, then the model file, never a second in-memory copy of a large forest.
        let mut out = AtomicFile::create(path)?;
        serde_json::to_writer(&mut out, &self.header)?;
        out.write_all(b"\n")?;
        self.model
            .save_json(&mut out)
            .with_context(|| format!("saving the {} model", self.header.model))?;
        out.flush()?;
        out.commit()
    }

    /// Reads a file written by [`TrainedModel::save`]; a wrong or corrupt file is a clear error.
    pub fn load(path: &Path) -> anyhow::Result<TrainedModel> {
        let p = path.display();
        let f = std::fs::File::open(path).with_context(|| format!("cannot open {p}"))?;
        let mut r = std::io::BufReader::with_capacity(1 << 20, f);
        let mut first = Vec::new();
        // The header is one short line; a foreign file without a newline is cut at 1 MiB.
        std::io::BufRead::read_until(&mut std::io::Read::take(&mut r, 1 << 20), b'\n', &mut first)?;
        let header: ModelHeader = serde_json::from_slice(&first).map_err(|e| {
            anyhow::anyhow!("{p}: not a cartseq model file written by `cartseq train` ({e})")
        })?;
        if header.magic != TRAINED_MAGIC {
            bail!(
                "{p}: not a cartseq model file (magic {:?}, expected {TRAINED_MAGIC:?})",
                header.magic
            );
        }
        if header.format_version != TRAINED_VERSION {
            bail!(
                "{p}: model file format {} is not supported (expected {TRAINED_VERSION}); retrain with this version",
                header.format_version
            );
        }
        let model = cartseq_models::load_any(r).with_context(|| format!("{p}"))?;
        Ok(TrainedModel { header, model })
    }
}

/// Whether a model name is a sequence model (reads `Dataset.seqs`).
pub fn is_sequence_model(name: &str) -> bool {
    cartseq_models::nn::registry::is_nn_model(name)
}

/// The parameters with `seed=N` added when the model takes a seed and none was given.
pub fn with_seed(model: &str, params: &[String], seed: u64) -> Vec<String> {
    let mut p = params.to_vec();
    let takes_seed =
        registry::params_of(model).is_some_and(|ks| ks.iter().any(|k| k.starts_with("seed=")));
    if takes_seed && !p.iter().any(|kv| kv.starts_with("seed=")) {
        p.push(format!("seed={seed}"));
    }
    p
}

/// The datasets of the train, valid and test rows (sequences encoded in the train vocabulary).
pub struct Splits {
    /// Train rows.
    pub train: Dataset,
    /// Valid rows.
    pub valid: Dataset,
    /// Test rows.
    pub test: Dataset,
    /// Vocabulary (when the table has sequences).
    pub vocab: Option<SeqVocab>,
}

/// Splits a table into datasets.
pub fn splits(table: &FeatureTable, n_classes: usize) -> anyhow::Result<Splits> {
    let tr = table.rows_of(Split::Train);
    let vocab = table.seqs.as_ref().map(|s| SeqVocab::from_rows(s, &tr));
    let v = vocab.as_ref();
    Ok(Splits {
        train: dataset(table, &tr, n_classes, v)?,
        valid: dataset(table, &table.rows_of(Split::Valid), n_classes, v)?,
        test: dataset(table, &table.rows_of(Split::Test), n_classes, v)?,
        vocab,
    })
}

/// Metrics of a model on a dataset (`None` when the dataset is empty).
pub fn evaluate(model: &dyn Classifier, ds: &Dataset) -> Option<MetricReport> {
    if ds.nrows() == 0 {
        return None;
    }
    let p = model.predict_proba(ds);
    Some(metrics::report(ds.y.as_slice()?, p.view()))
}

fn grid_points(grid: &[String]) -> anyhow::Result<Vec<Vec<String>>> {
    let mut points: Vec<Vec<String>> = vec![Vec::new()];
    for g in grid {
        let (k, vs) = g
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--grid: expected key=v1,v2,…, found {g:?}"))?;
        let vals: Vec<&str> = vs.split(',').filter(|s| !s.is_empty()).collect();
        anyhow::ensure!(!vals.is_empty(), "--grid {k}: no values");
        points = points
            .into_iter()
            .flat_map(|p| {
                vals.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push(format!("{k}={v}"));
                    q
                })
            })
            .collect();
    }
    anyhow::ensure!(
        points.len() <= 1000,
        "--grid has {} combinations (at most 1000)",
        points.len()
    );
    Ok(points)
}

fn better(a: &MetricReport, b: &MetricReport) -> bool {
    let (x, y) = (a.roc_auc.unwrap_or(-1.0), b.roc_auc.unwrap_or(-1.0));
    x > y || (x == y && a.log_loss < b.log_loss)
}

/// A fitted grid point: parameters, model, validation metrics, fit seconds.
type Fitted = (Vec<String>, Box<dyn Classifier>, Option<MetricReport>, f64);

/// Runs `train`.
pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let ensemble = crate::ensemble_cli::is_ensemble(&args.model);
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
        let ps = registry::params_of(&args.model).ok_or_else(|| unknown_model(&args.model))?;
        println!("parameters of {} (defaults):", args.model);
        for p in ps {
            println!("  {p}");
        }
        return Ok(());
    }
    if registry::info(&args.model).is_none() && !ensemble {
        return Err(unknown_model(&args.model));
    }
    // Test rows are never read here.
    let mut parts = FeatureTable::read_csv_splits(&args.features, &[Split::Train, Split::Valid])?;
    let (valid_t, train_t) = match (parts.pop(), parts.pop()) {
        (Some(v), Some(t)) => (v, t),
        _ => bail!("internal: two splits requested"),
    };
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
    let n_classes = train_t.n_classes().max(valid_t.n_classes());
    let feature_names = train_t.feature_names.clone();
    let vocab = train_t
        .seqs
        .as_ref()
        .map(|s| SeqVocab::from_rows(s, &(0..train_t.len()).collect::<Vec<_>>()));
    let sp = Splits {
        train: dataset_owned(train_t, n_classes, vocab.as_ref())?,
        valid: dataset_owned(valid_t, n_classes, vocab.as_ref())?,
        test: Dataset::default(),
        vocab,
    };
    let base = with_seed(&args.model, &args.params, args.seed);
    let mut best: Option<Fitted> = None;
    for point in grid_points(&args.grid)? {
        let mut params = base.clone();
        // Grid values override --param values of the same key.
        params.retain(|kv| {
            !point
                .iter()
                .any(|g| g.split('=').next() == kv.split('=').next())
        });
        params.extend(point);
        let learner = match args.ensemble.learner(&args.model, args.seed)? {
            Some(l) => l,
            None => registry::learner(&args.model, &params)?,
        };
        let t = Instant::now();
        let model = learner
            .fit_boxed(&sp.train)
            .with_context(|| format!("fitting {}", args.model))?;
        let fit_s = t.elapsed().as_secs_f64();
        let rep = evaluate(model.as_ref(), &sp.valid);
        if !global.quiet && !args.grid.is_empty() {
            eprintln!(
                "  {}: valid ROC-AUC {}",
                params.join(" "),
                rep.as_ref()
                    .and_then(|r| r.roc_auc)
                    .map_or("n/a".into(), |a| format!("{a:.4}"))
            );
        }
        let replace = match (&best, &rep) {
            (None, _) => true,
            (Some((_, _, Some(b), _)), Some(r)) => better(r, b),
            _ => false,
        };
        if replace {
            best = Some((params, model, rep, fit_s));
        }
    }
    let Some((params, model, rep, fit_s)) = best else {
        bail!("nothing was fitted");
    };
    let trained = TrainedModel {
        header: ModelHeader {
            magic: TRAINED_MAGIC.into(),
            format_version: TRAINED_VERSION,
            model: args.model.clone(),
            params: params.clone(),
            feature_names,
            n_classes,
            seq_vocab: if seq_model { sp.vocab } else { None },
        },
        model,
    };
    trained.save(&args.output)?;
    if args.json {
        let v = serde_json::json!({
            "model": args.model,
            "params": params,
            "train_rows": sp.train.nrows(),
            "fit_seconds": fit_s,
            "valid": rep,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if !global.quiet {
        eprintln!(
            "trained {} on {} rows in {fit_s:.3} s ({})",
            args.model,
            sp.train.nrows(),
            params.join(" ")
        );
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
    }
    Ok(())
}

fn unknown_model(name: &str) -> anyhow::Error {
    let mut names: Vec<&str> = registry::MODELS.iter().map(|m| m.name).collect();
    names.extend(crate::ensemble_cli::ENSEMBLES);
    anyhow::anyhow!("unknown model {name:?}; available: {}", names.join(", "))
}
