//! Choosing models on the command line: a model name with `--param key=value`, and ensembles
//! (`--model stack|vote|vote-hard|bag` with `--base rf,gbdt,lstm`, `--meta logreg|gbdt`, `--folds K`,
//! `--temporal-folds`, `--bag-size`) for `train`, `leaderboard` and `report`, turned into the library's
//! [`Candidate`] (a name, its parameters and a validated learner).
//!
//! Base and meta learners come from the models registry (`cartseq_models::registry`) with their
//! default parameters plus the run's seed; `bag` bags the first base learner. Stacking uses
//! out-of-fold predictions (see `cartseq_models::ensemble::stacking`): stratified shuffled folds by
//! default, forward-chaining folds over the training rows in table order with `--temporal-folds`.

use cartseq::experiment::Candidate;
use cartseq_models::ensemble::{Bagging, Folds, Stacking, VoteKind, Voting};
use cartseq_models::{registry, Learner};

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

/// Whether `name` is a model the command line knows (registry model or ensemble).
pub fn is_known(name: &str) -> bool {
    registry::info(name).is_some() || is_ensemble(name)
}

/// The error for an unknown model name, listing every known one.
pub fn unknown_model(name: &str) -> anyhow::Error {
    let mut names: Vec<&str> = registry::MODELS.iter().map(|m| m.name).collect();
    names.extend(ENSEMBLES);
    anyhow::anyhow!("unknown model {name:?}; available: {}", names.join(", "))
}

/// Names handled here rather than by the registry.
pub const ENSEMBLES: &[&str] = &["stack", "vote", "vote-hard", "bag"];

/// Whether `name` is an ensemble.
pub fn is_ensemble(name: &str) -> bool {
    ENSEMBLES.contains(&name)
}

/// Ensemble options.
#[derive(Debug, Clone, clap::Args)]
pub struct EnsembleArgs {
    /// Base models of `stack`, `vote`, `vote-hard` and `bag` (comma-separated registry names).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "rf,gbdt,logreg",
        value_name = "M,M,..",
        help_heading = "Ensembles"
    )]
    pub base: Vec<String>,
    /// Meta-learner of `stack`: `logreg` or `gbdt` (any registry model works).
    #[arg(
        long,
        default_value = "logreg",
        value_name = "M",
        help_heading = "Ensembles"
    )]
    pub meta: String,
    /// Out-of-fold folds of `stack`.
    #[arg(
        long,
        default_value_t = 5,
        value_name = "K",
        help_heading = "Ensembles"
    )]
    pub folds: usize,
    /// Forward-chaining (time-ordered) folds for `stack` instead of shuffled stratified folds.
    #[arg(long, help_heading = "Ensembles")]
    pub temporal_folds: bool,
    /// Number of bootstrap models of `bag`.
    #[arg(
        long,
        default_value_t = 10,
        value_name = "N",
        help_heading = "Ensembles"
    )]
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

    fn member(&self, name: &str, seed: u64) -> anyhow::Result<Box<dyn Learner>> {
        anyhow::ensure!(
            !is_ensemble(name),
            "--base/--meta take registry models, not the ensemble {name:?}"
        );
        Ok(registry::learner(name, &with_seed(name, &[], seed))?)
    }

    /// The candidate `name` with `params` (`key=value`; registry models only) and the run's `seed`.
    pub fn candidate(&self, name: &str, params: &[String], seed: u64) -> anyhow::Result<Candidate> {
        if !is_known(name) {
            return Err(unknown_model(name));
        }
        let params = with_seed(name, params, seed);
        let learner = match self.learner(name, seed)? {
            Some(l) => l,
            None => registry::learner(name, &params)?,
        };
        Ok(Candidate {
            name: name.to_owned(),
            params,
            learner,
        })
    }

    /// The learner for ensemble `name` (`None` when `name` is not an ensemble).
    pub fn learner(&self, name: &str, seed: u64) -> anyhow::Result<Option<Box<dyn Learner>>> {
        if !is_ensemble(name) {
            return Ok(None);
        }
        anyhow::ensure!(!self.base.is_empty(), "--model {name} needs --base M,M,..");
        let bases = self
            .base
            .iter()
            .map(|b| self.member(b, seed))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let l: Box<dyn Learner> = match name {
            "stack" => {
                let folds = if self.temporal_folds {
                    Folds::Temporal { k: self.folds }
                } else {
                    Folds::Stratified {
                        k: self.folds,
                        seed,
                    }
                };
                Box::new(Stacking::new(bases, self.member(&self.meta, seed)?).folds(folds))
            }
            "vote" => Box::new(Voting::new(bases, VoteKind::Soft)),
            "vote-hard" => Box::new(Voting::new(bases, VoteKind::Hard)),
            _ => {
                let first = bases
                    .into_iter()
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--base is empty"))?;
                let b = Bagging::new(first).n_estimators(self.bag_size).seed(seed);
                b.check()?;
                Box::new(b)
            }
        };
        Ok(Some(l))
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
