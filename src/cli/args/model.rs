//! Choosing models on the command line: a model name with `--param key=value`, and ensembles
//! (`--model stack|vote|vote-hard|bag` with `--base rf,gbdt,lstm`, `--meta logreg|gbdt`, `--folds K`,
//! `--temporal-folds`, `--bag-size`) for `train`, `leaderboard` and `report`, turned into the library's
//! [`Candidate`] (a name, its parameters and a validated learner).
//!
//! Every model is a `cartseq_models::ModelSpec`: a single learner from its name and `key=value`
//! parameters, or an ensemble built from the flags (`bag` bags the first base learner). The run's seed
//! goes to every learner whose seed the user did not give (`ModelSpec::seed_if_unset`). Stacking uses
//! out-of-fold predictions (see `cartseq_models::ensemble::stacking`): stratified shuffled folds by
//! default, forward-chaining folds over the training rows in table order with `--temporal-folds`.

use super::heading;
use cartseq::experiment::Candidate;
use cartseq_models::{EnsembleKind, ModelSpec};

/// Whether a model name is a sequence model (reads `Dataset.seqs`).
pub fn is_sequence_model(name: &str) -> bool {
    ModelSpec::defaults(name).is_some_and(|s| s.needs_seq())
}

/// Whether `name` is a model the command line knows (a learner or an ensemble).
pub fn is_known(name: &str) -> bool {
    ModelSpec::info(name).is_some() || is_ensemble(name)
}

/// The error for an unknown model name, listing every known one.
pub fn unknown_model(name: &str) -> anyhow::Error {
    let mut names: Vec<&str> = ModelSpec::catalog().iter().map(|m| m.name).collect();
    names.extend(ENSEMBLES);
    anyhow::anyhow!("unknown model {name:?}; available: {}", names.join(", "))
}

/// Names of the ensembles built from `--base`/`--meta`.
pub const ENSEMBLES: &[&str] = EnsembleKind::NAMES;

/// Whether `name` is an ensemble.
pub fn is_ensemble(name: &str) -> bool {
    EnsembleKind::from_name(name).is_some()
}

/// Ensemble options.
#[derive(Debug, Clone, clap::Args)]
pub struct EnsembleArgs {
    /// Base models of `stack`, `vote`, `vote-hard` and `bag` (comma-separated model names).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "rf,gbdt,logreg",
        value_name = "M,M,..",
        help_heading = heading::ENSEMBLES
    )]
    pub base: Vec<String>,
    /// Meta-learner of `stack`: `logreg` or `gbdt` (any registry model works).
    #[arg(long, default_value = "logreg", value_name = "M", help_heading = heading::ENSEMBLES)]
    pub meta: String,
    /// Out-of-fold folds of `stack`.
    #[arg(long, default_value_t = 5, value_name = "K", help_heading = heading::ENSEMBLES)]
    pub folds: usize,
    /// Forward-chaining (time-ordered) folds for `stack` instead of shuffled stratified folds.
    #[arg(long, help_heading = heading::ENSEMBLES)]
    pub temporal_folds: bool,
    /// Number of bootstrap models of `bag`.
    #[arg(long, default_value_t = 10, value_name = "N", help_heading = heading::ENSEMBLES)]
    pub bag_size: usize,
}

impl Default for EnsembleArgs {
    fn default() -> Self {
        EnsembleArgs {
            base: vec!["rf".into(), "gbdt".into(), "logreg".into()],
            meta: "logreg".into(),
            folds: 5,
            temporal_folds: false,
            bag_size: 10,
        }
    }
}

impl EnsembleArgs {
    /// Whether an ensemble named `name` needs token sequences (a sequence model among its members).
    pub fn needs_seq(&self, name: &str) -> bool {
        is_ensemble(name) && self.base.iter().any(|b| is_sequence_model(b))
            || name == "stack" && is_sequence_model(&self.meta)
    }

    fn member(&self, name: &str) -> anyhow::Result<ModelSpec> {
        anyhow::ensure!(
            !is_ensemble(name),
            "--base/--meta take single models, not the ensemble {name:?}"
        );
        Ok(ModelSpec::from_cli::<&str>(name, &[])?)
    }

    /// The model `name` with `params` (`key=value`; single models only) and the run's `seed` for every
    /// learner whose seed was not given.
    pub fn spec(&self, name: &str, params: &[String], seed: u64) -> anyhow::Result<ModelSpec> {
        let mut spec = match EnsembleKind::from_name(name) {
            Some(kind) => {
                anyhow::ensure!(!self.base.is_empty(), "--model {name} needs --base M,M,..");
                anyhow::ensure!(self.bag_size >= 1, "--bag-size must be at least 1");
                let bases = self
                    .base
                    .iter()
                    .map(|b| self.member(b))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                let meta = self.member(&self.meta)?;
                ModelSpec::ensemble(
                    kind,
                    bases,
                    Some(meta),
                    self.folds,
                    self.temporal_folds,
                    self.bag_size,
                )?
            }
            None if is_known(name) => ModelSpec::from_cli(name, params)?,
            None => return Err(unknown_model(name)),
        };
        spec.seed_if_unset(seed);
        Ok(spec)
    }

    /// The candidate `name` with `params` (`key=value`; single models only) and the run's `seed`.
    /// Its parameter list (for tables and model files) shows the seed a learner got from the run.
    pub fn candidate(&self, name: &str, params: &[String], seed: u64) -> anyhow::Result<Candidate> {
        let spec = self.spec(name, params, seed)?;
        let mut shown = params.to_vec();
        let takes_seed = spec.param_list().iter().any(|k| k.starts_with("seed="));
        if takes_seed && !shown.iter().any(|kv| kv.starts_with("seed=")) {
            shown.push(format!("seed={seed}"));
        }
        Ok(Candidate {
            name: name.to_owned(),
            params: shown,
            learner: Box::new(spec),
        })
    }

    /// The learner of model `name` with its `--param MODEL:key=value` pairs and the run's seed (what
    /// the ablation refits without the pattern columns).
    pub fn learner_for(
        &self,
        per_model: &[(String, String)],
        name: &str,
        seed: u64,
    ) -> anyhow::Result<Box<dyn cartseq_models::Learner>> {
        Ok(self
            .candidate(name, &params_for(per_model, name), seed)?
            .learner)
    }
}

/// `--param MODEL:key=value` of `leaderboard` and `report`, as (model, `key=value`) pairs.
pub fn per_model_params(raw: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    raw.iter()
        .map(|p| {
            p.split_once(':')
                .map(|(m, kv)| (m.to_owned(), kv.to_owned()))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--param: expected MODEL:key=value (e.g. rf:n_trees=200), found {p:?}"
                    )
                })
        })
        .collect()
}

/// The `key=value` parameters of model `name` among `per_model`.
pub fn params_for(per_model: &[(String, String)], name: &str) -> Vec<String> {
    per_model
        .iter()
        .filter(|(m, _)| m == name)
        .map(|(_, kv)| kv.clone())
        .collect()
}
