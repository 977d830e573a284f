//! Bagging (bootstrap aggregating, Breiman 1996) of any [`Learner`].
//!
//! Each of `n_estimators` copies of the base learner is fitted on a bootstrap sample (rows drawn with
//! replacement, `max_samples × n` of them, seeded per estimator from the bagging seed), and the
//! probabilities are averaged. Rows are *resampled* (not re-weighted) so any learner works, including
//! sequence models that ignore weights; original sample weights travel with the drawn rows.
//!
//! Cost: `n_estimators` base fits on `max_samples × n` rows (parallel over estimators with rayon, each
//! estimator's sample fixed by the seed, so the result is identical for any thread count); memory one
//! resampled copy of the dataset per estimator in flight.

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::fitted::{corrupt, Fitted, FittedModel, Input, Signature};
use crate::params::{check_fraction, setter};
use crate::{Classifier, Dataset, Learner, ModelError};

/// Parameters of a bagging ensemble.
pub struct Bagging {
    /// The learner to bag.
    pub base: Box<dyn Learner>,
    /// Number of bootstrap models (default 10, ≥ 1).
    pub n_estimators: usize,
    /// Sample size as a fraction of the rows (default 1.0, in (0, 1]).
    pub max_samples: f64,
    /// Seed of the bootstrap draws.
    pub seed: u64,
}

impl Bagging {
    /// Bagging of `base` with the defaults (10 estimators, full-size samples, seed 0).
    pub fn new(base: Box<dyn Learner>) -> Self {
        Bagging {
            base,
            n_estimators: 10,
            max_samples: 1.0,
            seed: 0,
        }
    }

    setter!(/// Sets the number of estimators.
        n_estimators: usize);

    setter!(/// Sets the sample fraction.
        max_samples: f64);

    setter!(/// Sets the seed.
        seed: u64);

    /// Checks the parameters.
    pub fn check(&self) -> Result<(), ModelError> {
        if self.n_estimators == 0 {
            return Err(ModelError::invalid("n_estimators", "0", "at least 1"));
        }
        check_fraction("max_samples", self.max_samples)?;
        Ok(())
    }

    /// The bootstrap row indices of estimator `e` for `n` rows.
    pub fn sample(&self, e: usize, n: usize) -> Vec<usize> {
        let mut rng =
            ChaCha8Rng::seed_from_u64(self.seed ^ (e as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let m = ((n as f64 * self.max_samples).round() as usize).max(1);
        let mut idx: Vec<usize> = (0..m).map(|_| rng.gen_range(0..n)).collect();
        // Sorted so a time-ordered dataset stays in time order (sequence models, temporal tasks).
        idx.sort_unstable();
        idx
    }
}

/// A fitted bagging ensemble; its model file body is `{"fields": n_classes, "members": [<model
/// file>, …]}`.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct BaggingModel {
    #[serde(rename = "fields")]
    n_classes: usize,
    members: Vec<FittedModel>,
}

impl Bagging {
    /// Fits the base learner on every bootstrap sample (in parallel; each sample fixed by the seed).
    pub fn fit(&self, ds: &Dataset) -> Result<BaggingModel, ModelError> {
        self.check()?;
        if ds.nrows() == 0 {
            return Err(ModelError::Data("bagging needs at least one row".into()));
        }
        let members = (0..self.n_estimators)
            .into_par_iter()
            .map(|e| self.base.fit_model(&ds.select(&self.sample(e, ds.nrows()))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BaggingModel {
            members,
            n_classes: ds.n_classes,
        })
    }
}

impl Learner for Bagging {
    fn fit_model(&self, ds: &Dataset) -> Result<FittedModel, ModelError> {
        Ok(FittedModel::Bag(self.fit(ds)?))
    }

    fn name(&self) -> String {
        format!("bag({})", self.base.name())
    }
}

impl Fitted for BaggingModel {
    const KIND: &'static str = "bag";

    fn signature(&self) -> Signature {
        Signature::new(self.n_classes, Input::Unchecked)
    }

    fn proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
        let mut out = Array2::<f64>::zeros((ds.nrows(), self.n_classes));
        let k = self.members.len() as f64;
        for m in &self.members {
            out.scaled_add(1.0 / k, &m.predict_proba(ds)?);
        }
        Ok(out)
    }

    fn check_loaded(&mut self) -> Result<(), ModelError> {
        if self.members.is_empty() || self.members.iter().any(|m| m.n_classes() != self.n_classes) {
            return Err(corrupt(
                Self::KIND,
                "no members, or members with other classes",
            ));
        }
        Ok(())
    }
}
