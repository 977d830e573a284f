//! The prior (majority) baseline: every row gets the weighted class frequencies of the training set, so
//! the predicted label is the majority class. The floor every real model must beat.
//!
//! Cost: O(n) to fit, O(k) per row to predict.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::class_weight::{check_fit_data, effective_weights, ClassWeight};
use crate::persist::Persist;
use crate::{Classifier, Dataset, Learner, ModelError};

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
        check_fit_data(ds, true)?;
        let w = effective_weights(ds, &self.class_weight)?;
        let mut p = vec![0.0; ds.n_classes];
        for (i, &y) in ds.y.iter().enumerate() {
            p[y] += w[i];
        }
        let s: f64 = p.iter().sum();
        p.iter_mut().for_each(|v| *v /= s);
        Ok(PriorModel { prior: p })
    }
}

impl Classifier for PriorModel {
    fn n_classes(&self) -> usize {
        self.prior.len()
    }

    fn predict_proba(&self, ds: &Dataset) -> Array2<f64> {
        let n = ds.x.nrows().max(ds.seqs.as_ref().map_or(0, |s| s.len()));
        Array2::from_shape_fn((n, self.prior.len()), |(_, c)| self.prior[c])
    }

    fn save_json(&self, w: &mut dyn std::io::Write) -> Result<(), ModelError> {
        self.save(w)
    }
}

impl Persist for PriorModel {
    const KIND: &'static str = "prior";
}

impl Learner for PriorParams {
    fn fit_boxed(&self, ds: &Dataset) -> Result<Box<dyn Classifier>, ModelError> {
        Ok(Box::new(self.fit(ds)?))
    }

    fn name(&self) -> String {
        "prior".into()
    }
}
