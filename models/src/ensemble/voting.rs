//! Soft and hard voting over any mix of [`Learner`]s.
//!
//! * **Soft** voting averages the members' class probabilities (weighted);
//! * **hard** voting gives each member one (weighted) vote for its most probable class, and reports the
//!   vote shares as probabilities, so `predict` is the (weighted) majority, ties to the lowest class.
//!
//! Cost: the sum of the members' fit and predict costs; members are fitted in parallel (rayon), each
//! deterministic, so the result does not depend on the thread count.

use ndarray::Array2;
use rayon::prelude::*;

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

    /// Sets member weights.
    pub fn weights(mut self, w: Vec<f64>) -> Self {
        self.weights = Some(w);
        self
    }

    /// Checks the parameters.
    pub fn check(&self) -> Result<Vec<f64>, ModelError> {
        if self.members.is_empty() {
            return Err(ModelError::InvalidParam {
                name: "members",
                value: "0".into(),
                expected: "at least one base model",
            });
        }
        let w = self
            .weights
            .clone()
            .unwrap_or_else(|| vec![1.0; self.members.len()]);
        if w.len() != self.members.len()
            || w.iter().any(|v| !v.is_finite() || *v < 0.0)
            || w.iter().sum::<f64>() <= 0.0
        {
            return Err(ModelError::InvalidParam {
                name: "weights",
                value: format!("{w:?}"),
                expected: "one non-negative weight per member, positive sum",
            });
        }
        Ok(w)
    }
}

/// A fitted voting ensemble.
pub struct VotingModel {
    members: Vec<Box<dyn Classifier>>,
    weights: Vec<f64>,
    kind: VoteKind,
    n_classes: usize,
}

impl Learner for Voting {
    fn fit_boxed(&self, ds: &Dataset) -> Result<Box<dyn Classifier>, ModelError> {
        let weights = self.check()?;
        let members = self
            .members
            .par_iter()
            .map(|m| m.fit_boxed(ds))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Box::new(VotingModel {
            members,
            weights,
            kind: self.kind,
            n_classes: ds.n_classes,
        }))
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

impl VotingModel {
    /// Reads the body of a `vote` model file (see [`Classifier::save_json`]).
    pub fn from_body(body: serde_json::Value) -> Result<Self, ModelError> {
        let mut b = super::persist::EnsembleBody::new("vote", body)?;
        let f: VotingFields = b.fields()?;
        let members = b.members("members")?;
        if members.len() != f.weights.len() || members.iter().any(|m| m.n_classes() != f.n_classes)
        {
            return Err(ModelError::BadFile(
                "corrupt `vote` model: members do not match their weights or classes".into(),
            ));
        }
        Ok(VotingModel {
            members,
            weights: f.weights,
            kind: f.kind,
            n_classes: f.n_classes,
        })
    }
}

impl Classifier for VotingModel {
    fn n_classes(&self) -> usize {
        self.n_classes
    }

    fn save_json(&self, w: &mut dyn std::io::Write) -> Result<(), ModelError> {
        let fields = VotingFields {
            weights: self.weights.clone(),
            kind: self.kind,
            n_classes: self.n_classes,
        };
        let members = self.members.iter().map(|m| m.as_ref()).collect();
        super::persist::write_ensemble(w, "vote", &fields, &[("members", members)])
    }

    fn predict_proba(&self, ds: &Dataset) -> Array2<f64> {
        let n = ds.nrows();
        let mut out = Array2::<f64>::zeros((n, self.n_classes));
        let total: f64 = self.weights.iter().sum();
        for (m, &w) in self.members.iter().zip(&self.weights) {
            let p = m.predict_proba(ds);
            match self.kind {
                VoteKind::Soft => out.scaled_add(w / total, &p),
                VoteKind::Hard => {
                    for (i, c) in argmax_rows(&p).iter().enumerate() {
                        out[[i, *c]] += w / total;
                    }
                }
            }
        }
        out
    }
}
