//! Ensembles on the command line: `--model stack|vote|vote-hard|bag` with `--base rf,gbdt,lstm`,
//! `--meta logreg|gbdt`, `--folds K` and `--temporal-folds`, for `train` and `leaderboard`.
//!
//! Base and meta learners come from the models registry (`cartseq_models::registry`) with their
//! default parameters plus the run's seed; `bag` bags the first base learner. Stacking uses
//! out-of-fold predictions (see `cartseq_models::ensemble::stacking`): stratified shuffled folds by
//! default, forward-chaining folds over the training rows in table order with `--temporal-folds`.

use cartseq_models::ensemble::{Bagging, Folds, Stacking, VoteKind, Voting};
use cartseq_models::{registry, Learner};

use crate::cmd::train::{is_sequence_model, with_seed};

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
