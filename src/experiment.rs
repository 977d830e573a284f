//! The experiment: build a task from a log (rows, behaviour features, the fitted pattern featurizer,
//! optional token sequences), split it, fit models on the train rows and score them on the valid or test
//! rows. `train`, `leaderboard` and `report` all go through here, so a model is fitted and scored the
//! same way whichever command asks.
//!
//! ```text
//! log ──InputSpec::load_events──▶ EventLog ──build_table──▶ BuiltTask (behaviour features, seq)
//!     ──featurizer::fit_transform (train rows only)──▶ + pattern columns, FittedFeaturizer
//!     ──splits──▶ train / valid / test Datasets ──fit_and_score──▶ ModelRun (metrics, probabilities)
//! ```
//!
//! Cost: the event log, the feature matrix and one fitted model at a time; models are fitted one after
//! another (each may use every core) in a fixed order with fixed seeds, so results are identical on every
//! run apart from the timings.

use std::time::Instant;

use anyhow::Context;
use cartseq_data::{Dictionary, EventLog};
use cartseq_models::metrics::{self, MetricReport};
use cartseq_models::{Classifier, Dataset, FittedModel, Learner};
use ndarray::Array2;
use serde::Serialize;

use crate::feature_table::FeatureTable;
use crate::featurizer::{fit_transform, FittedFeaturizer, PatternFeaturizer, TableSource};
use crate::input::InputSpec;
use crate::manifest::sha256_file;
use crate::online_features::FeatureContext;
use crate::tasks::table::{build_table, dataset, BuiltTask, SeqOptions, SeqVocab};
use crate::tasks::{format_time, Split, SplitMode, TaskSpec, HOUR_MS};

/// Everything needed to build a task's feature table from a log.
#[derive(Clone, Debug)]
pub struct TaskSetup {
    /// The log.
    pub input: InputSpec,
    /// The task.
    pub spec: TaskSpec,
    /// Per-row token sequences for sequence models (`None`: no `seq` column).
    pub seq: Option<SeqOptions>,
    /// The pattern featurizer (fitted on the training rows when `k > 0`).
    pub featurizer: PatternFeaturizer,
}

/// A built task: the table (with pattern columns), its fitted featurizer, and the log it came from.
pub struct PreparedTask {
    /// Rows, features, labels, splits, optional sequences.
    pub built: BuiltTask,
    /// The fitted featurizer (what every pattern column means, and the table's fingerprint).
    pub featurizer: FittedFeaturizer,
    /// The event log.
    pub log: EventLog,
    /// Names of users, items, actions, categories.
    pub dict: Dictionary,
    /// What the table read besides each user's events, for scoring live users the same way
    /// (`cartseq serve`; see [`crate::online_features`]).
    pub online: FeatureContext,
}

impl TaskSetup {
    /// Loads the log and builds the task; prints the summary on stderr unless `quiet`.
    pub fn prepare(&self, quiet: bool) -> anyhow::Result<PreparedTask> {
        self.featurizer.check()?;
        let (log, dict, _skipped) = self.input.load_events(quiet)?;
        let spec = &self.spec;
        let what = format!("building the {} task's rows and features", spec.kind.name());
        let mut built = crate::progress::with_spinner(quiet, &what, || {
            build_table(&log, &dict, spec, self.input.id_column(), self.seq)
        })
        .with_context(|| format!("building the {} task", spec.kind.name()))?;
        let source = self.source(&built)?;
        let featurizer = fit_transform(
            &self.featurizer,
            &mut built,
            &log,
            &dict,
            spec,
            source,
            quiet,
        )?;
        if !quiet {
            eprint!("{}", summary(&built, spec));
        }
        let online = FeatureContext::of_task(&log, &dict, spec, built.test_cutoff, self.seq);
        Ok(PreparedTask {
            built,
            featurizer,
            log,
            dict,
            online,
        })
    }

    /// Where the table comes from: task options in words, the input's name and SHA-256.
    fn source(&self, built: &BuiltTask) -> anyhow::Result<TableSource> {
        let s = &self.spec;
        let split = match s.split {
            SplitMode::Time => format!("time split, {} train window(s)", s.train_windows),
            SplitMode::User => format!(
                "user split (valid {}, test {}, seed {})",
                s.valid_frac, s.test_frac, s.seed
            ),
        };
        let path = &self.input.path;
        let (input, input_sha256) = if path.as_os_str() == "-" {
            ("-".to_owned(), None)
        } else {
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            (name, Some(sha256_file(path)?.0))
        };
        Ok(TableSource {
            task: format!(
                "{} task, horizon {} h, test cutoff {}, {split}",
                s.kind.name(),
                s.horizon_ms as f64 / HOUR_MS as f64,
                format_time(built.test_cutoff)
            ),
            input,
            input_sha256,
        })
    }
}

/// The stderr summary: cutoffs, rows, features and class balance.
pub fn summary(b: &BuiltTask, spec: &TaskSpec) -> String {
    let mut s = format!(
        "task {}: horizon {} h, {} rows × {} features\n",
        spec.kind.name(),
        spec.horizon_ms as f64 / HOUR_MS as f64,
        b.table.len(),
        b.table.feature_names.len()
    );
    for (c, split) in &b.cutoffs {
        s.push_str(&format!(
            "  cutoff {} ({})\n",
            format_time(*c),
            split.unwrap_or("all splits, by user")
        ));
    }
    s.push_str("class balance:\n");
    s.push_str(&b.balance.report(&b.class_names));
    s
}

/// The datasets of the train, valid and test rows (sequences encoded in the train vocabulary).
pub struct Splits {
    /// Train rows.
    pub train: Dataset,
    /// Valid rows.
    pub valid: Dataset,
    /// Test rows.
    pub test: Dataset,
    /// Vocabulary of the train rows' tokens (when the table has sequences).
    pub vocab: Option<SeqVocab>,
}

/// Splits a table into datasets; the token vocabulary is that of the train rows.
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

impl Splits {
    /// The small-sample warnings of the train and test splits (`cartseq_models::metrics::sample_warnings`),
    /// each prefixed with its split: printed beside every table of metrics and kept in `--json`.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, ds) in [("train", &self.train), ("test", &self.test)] {
            if let Some(y) = ds.y.as_slice() {
                for w in cartseq_models::metrics::sample_warnings(y, ds.n_classes) {
                    out.push(format!("{name} split: {w}"));
                }
            }
        }
        out
    }
}

/// Metrics of a model on a dataset (`None` when the dataset is empty).
pub fn evaluate(model: &dyn Classifier, ds: &Dataset) -> anyhow::Result<Option<MetricReport>> {
    if ds.nrows() == 0 {
        return Ok(None);
    }
    let p = model.predict_proba(ds)?;
    Ok(ds.y.as_slice().map(|y| metrics::report(y, p.view())))
}

/// A model to fit: its name in tables, the parameters it was built with, and the learner.
pub struct Candidate {
    /// Name as given (`rf`, `stack`, …).
    pub name: String,
    /// Parameters applied, `key=value` (for tables and model files).
    pub params: Vec<String>,
    /// The validated learner.
    pub learner: Box<dyn Learner>,
}

/// One fitted and scored model; serialised (a leaderboard's `models`) without the model and the
/// probabilities.
#[derive(Serialize)]
pub struct ModelRun {
    /// Name as given.
    #[serde(rename = "model")]
    pub name: String,
    /// Parameters applied.
    pub params: Vec<String>,
    /// The fitted model (`None` when fitting failed).
    #[serde(skip)]
    pub model: Option<FittedModel>,
    /// Class probabilities on the scored rows.
    #[serde(skip)]
    pub proba: Option<Array2<f64>>,
    /// Metrics on the scored rows (`None` when fitting failed or there were no rows).
    pub metrics: Option<MetricReport>,
    /// Fit time in seconds.
    pub fit_seconds: f64,
    /// Prediction time on the scored rows in seconds.
    pub predict_seconds: f64,
    /// Why the model failed, if it did.
    pub error: Option<String>,
}

impl ModelRun {
    /// Probability of class 1 per scored row (binary tasks only).
    pub fn positive_scores(&self) -> Option<Vec<f64>> {
        self.proba
            .as_ref()
            .filter(|p| p.ncols() == 2)
            .map(|p| p.column(1).to_vec())
    }
}

/// Fits `c` on `train` and scores it on `scored`. A failed fit is recorded in the run, not returned as an
/// error, so a leaderboard goes on with the next model.
pub fn fit_and_score(c: Candidate, train: &Dataset, scored: &Dataset) -> ModelRun {
    let mut run = ModelRun {
        name: c.name,
        params: c.params,
        model: None,
        proba: None,
        metrics: None,
        fit_seconds: 0.0,
        predict_seconds: 0.0,
        error: None,
    };
    let t = Instant::now();
    let model = match c.learner.fit_model(train) {
        Ok(m) => m,
        Err(e) => {
            run.error = Some(e.to_string());
            return run;
        }
    };
    run.fit_seconds = t.elapsed().as_secs_f64();
    if scored.nrows() > 0 {
        let t = Instant::now();
        let p = match model.predict_proba(scored) {
            Ok(p) => p,
            Err(e) => {
                run.error = Some(e.to_string());
                return run;
            }
        };
        run.predict_seconds = t.elapsed().as_secs_f64();
        run.metrics = scored.y.as_slice().map(|y| metrics::report(y, p.view()));
        run.proba = Some(p);
    }
    run.model = Some(model);
    run
}

/// The grid of `key=v1,v2,…` options: every combination, as `key=value` lists (at most 1000).
pub fn grid_points(grid: &[String]) -> anyhow::Result<Vec<Vec<String>>> {
    let mut axes: Vec<(String, Vec<String>)> = Vec::new();
    for g in grid {
        let (k, vs) = g
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--grid: expected key=v1,v2,…, found {g:?}"))?;
        let vals: Vec<String> = vs
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        anyhow::ensure!(!vals.is_empty(), "--grid {k}: no values");
        axes.push((k.to_owned(), vals));
    }
    let points = cartseq_models::cv::combinations(&axes);
    anyhow::ensure!(
        points.len() <= 1000,
        "--grid has {} combinations (at most 1000)",
        points.len()
    );
    Ok(points)
}

/// `params` with the grid point's values replacing those of the same key.
pub fn with_grid_point(params: &[String], point: &[String]) -> Vec<String> {
    let key = |kv: &str| kv.split('=').next().unwrap_or("").to_owned();
    let mut p: Vec<String> = params
        .iter()
        .filter(|kv| !point.iter().any(|g| key(g) == key(kv)))
        .cloned()
        .collect();
    p.extend(point.iter().cloned());
    p
}

/// Whether validation metrics `a` beat `b`: higher ROC-AUC, then lower log loss.
pub fn better(a: &MetricReport, b: &MetricReport) -> bool {
    let (x, y) = (a.roc_auc.unwrap_or(-1.0), b.roc_auc.unwrap_or(-1.0));
    x > y || (x == y && a.log_loss < b.log_loss)
}
