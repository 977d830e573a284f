//! The prior (majority) baseline: every row gets the weighted class frequencies of the training set, so
//! the predicted label is the majority class. The floor every real model must beat.
//!
//! Cost: O(n) to fit, O(k) per row to predict.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::class_weight::{checked_weights, class_totals, ClassWeight};
use crate::fitted::{corrupt, Fitted, FittedModel, Input, Signature};
use crate::params::KeyVisitor;
use crate::spec::{About, LearnerParams};
use crate::{Dataset, ModelError};

/// Parameters of a [`PriorModel`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PriorParams {
    /// Class weights (default none).
    pub class_weight: ClassWeight,
}

/// A fitted prior baseline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriorModel {
    /// Class probabilities returned for every row.
    pub prior: Vec<f64>,
    /// Number of feature columns it was fitted with (checked at prediction, although it reads none, so
    /// a table of another shape is refused like by every other model; absent in files written before
    /// it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_features: Option<usize>,
}

impl PriorModel {
    /// Default parameters.
    pub fn params() -> PriorParams {
        PriorParams::default()
    }
}

impl PriorParams {
    /// Sets the class weights.
    pub fn class_weight(mut self, cw: ClassWeight) -> Self {
        self.class_weight = cw;
        self
    }

    /// Fits on every row of `ds`.
    pub fn fit(&self, ds: &Dataset) -> Result<PriorModel, ModelError> {
        let w = checked_weights(ds, &self.class_weight, true)?;
        let mut p = class_totals(ds, &w);
        let s: f64 = p.iter().sum();
        p.iter_mut().for_each(|v| *v /= s);
        Ok(PriorModel {
            prior: p,
            n_features: Some(ds.ncols()),
        })
    }
}

impl Fitted for PriorModel {
    const KIND: &'static str = "prior";

    fn signature(&self) -> Signature {
        Signature::new(
            self.prior.len(),
            self.n_features.map_or(Input::Unchecked, Input::Features),
        )
    }

    fn proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
        let n = ds.x.nrows().max(ds.seqs.as_ref().map_or(0, |s| s.len()));
        Ok(Array2::from_shape_fn((n, self.prior.len()), |(_, c)| {
            self.prior[c]
        }))
    }

    fn check_loaded(&mut self) -> Result<(), ModelError> {
        if self.prior.is_empty() {
            return Err(corrupt(Self::KIND, "no classes"));
        }
        Ok(())
    }
}

impl LearnerParams for PriorParams {
    fn about(&self) -> About {
        About::new(
            "prior",
            &["majority", "baseline"],
            "class-prior (majority) baseline",
        )
    }
    fn visit_keys(&mut self, v: &mut dyn KeyVisitor) -> Result<(), ModelError> {
        v.key(&["class_weight"], &mut self.class_weight)
    }
    fn check(&self) -> Result<(), ModelError> {
        Ok(())
    }
    fn fit_model(&self, ds: &Dataset, _: Option<&Dataset>) -> Result<FittedModel, ModelError> {
        self.fit(ds).map(FittedModel::Prior)
    }
}
