//! Soft and hard voting over any mix of [`Learner`]s.
//!
//! * **Soft** voting averages the members' class probabilities (weighted);
//! * **hard** voting gives each member one (weighted) vote for its most probable class, and reports the
//!   vote shares as probabilities, so `predict` is the (weighted) majority, ties to the lowest class.
//!
//! Cost: the sum of the members' fit and predict costs; members are fitted in parallel (rayon), each
//! deterministic, so the result does not depend on the thread count.

use ndarray::Array2;

use crate::fitted::{corrupt, Fitted, FittedModel, Input, Signature};
use crate::params::setter;
use crate::{argmax_rows, Classifier, Dataset, Learner, ModelError};

/// How members' outputs are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum VoteKind {
    /// Average of probabilities.
    #[default]
    Soft,
    /// Share of votes for each member's most probable class.
    Hard,
}

/// Parameters of a voting ensemble (validated by [`Voting::check`] before fitting).
pub struct Voting {
    /// Member learners.
    pub members: Vec<Box<dyn Learner>>,
    /// Member weights (`None` = equal); must be non-negative with a positive sum.
    pub weights: Option<Vec<f64>>,
    /// Soft or hard voting.
    pub kind: VoteKind,
}

impl Voting {
    /// A voting ensemble of `members`.
    pub fn new(members: Vec<Box<dyn Learner>>, kind: VoteKind) -> Self {
        Voting {
            members,
            weights: None,
            kind,
        }
    }

    setter!(/// Sets member weights.
        weights: Some(Vec<f64>));

    /// Checks the parameters.
    pub fn check(&self) -> Result<Vec<f64>, ModelError> {
        if self.members.is_empty() {
            return Err(ModelError::invalid(
                "members",
                "0",
                "at least one base model",
            ));
        }
        let w = self
            .weights
            .clone()
            .unwrap_or_else(|| vec![1.0; self.members.len()]);
        if w.len() != self.members.len()
            || w.iter().any(|v| !v.is_finite() || *v < 0.0)
            || w.iter().sum::<f64>() <= 0.0
        {
            return Err(ModelError::invalid(
                "weights",
                format!("{w:?}"),
                "one non-negative weight per member, positive sum",
            ));
        }
        Ok(w)
    }
}

/// A fitted voting ensemble; its model file body is `{"fields": {...}, "members": [<model file>, …]}`.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct VotingModel {
    fields: VotingFields,
    members: Vec<FittedModel>,
}

impl Voting {
    /// Fits every member on `ds` (in parallel; each fit is deterministic).
    pub fn fit(&self, ds: &Dataset) -> Result<VotingModel, ModelError> {
        let weights = self.check()?;
        Ok(VotingModel {
            fields: VotingFields {
                weights,
                kind: self.kind,
                n_classes: ds.n_classes,
            },
            members: super::fit_all(&self.members, ds)?,
        })
    }
}

impl Learner for Voting {
    fn fit_model(&self, ds: &Dataset) -> Result<FittedModel, ModelError> {
        Ok(FittedModel::Vote(self.fit(ds)?))
    }

    fn name(&self) -> String {
        let names: Vec<String> = self.members.iter().map(|m| m.name()).collect();
        let k = match self.kind {
            VoteKind::Soft => "soft",
            VoteKind::Hard => "hard",
        };
        format!("vote-{k}({})", names.join("+"))
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct VotingFields {
    weights: Vec<f64>,
    kind: VoteKind,
    n_classes: usize,
}

impl Fitted for VotingModel {
    const KIND: &'static str = "vote";

    fn signature(&self) -> Signature {
        Signature::new(self.fields.n_classes, Input::Unchecked)
    }

    fn proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
        let n = ds.nrows();
        let VotingFields {
            weights,
            kind,
            n_classes,
        } = &self.fields;
        let mut out = Array2::<f64>::zeros((n, *n_classes));
        let total: f64 = weights.iter().sum();
        for (m, &w) in self.members.iter().zip(weights) {
            let p = m.predict_proba(ds)?;
            match kind {
                VoteKind::Soft => out.scaled_add(w / total, &p),
                VoteKind::Hard => {
                    for (i, c) in argmax_rows(&p).iter().enumerate() {
                        out[[i, *c]] += w / total;
                    }
                }
            }
        }
        Ok(out)
    }

    fn check_loaded(&mut self) -> Result<(), ModelError> {
        if self.members.is_empty()
            || self.members.len() != self.fields.weights.len()
            || self
                .members
                .iter()
                .any(|m| m.n_classes() != self.fields.n_classes)
        {
            return Err(corrupt(
                Self::KIND,
                "members do not match their weights or classes",
            ));
        }
        Ok(())
    }
}
