//! # cartseq-models
//!
//! Classifiers and sequence models on ndarray, standing alone (no CSV, no knowledge of logs):
//! a [`Dataset`] carries a feature matrix, class labels, optional sample weights, feature names and
//! (optionally) one token sequence per row, so tabular models, RNN/LSTM/GRU models and ensembles that mix
//! them are all driven through the one [`Classifier`] trait. Hyper-parameters are builders validated once
//! (`Params` → checked → `fit(&Dataset)` → fitted model); probabilities are the first-class output and
//! labels derive from them.

pub mod adaboost;
pub mod baseline;
pub mod binning;
pub mod class_weight;
pub mod cv;
pub mod dataset;
pub mod ensemble;
pub mod error;
pub mod forest;
pub mod gbdt;
pub mod logistic;
pub mod metrics;
pub mod naive_bayes;
pub mod nextitem;
pub mod nn;
pub mod persist;
pub mod registry;
pub mod svm;
pub mod tree;

pub use class_weight::ClassWeight;
pub use dataset::{Dataset, Sequences};
pub use error::ModelError;
pub use persist::{load_any, load_any_file, save_any, save_any_file, Persist};

use ndarray::{Array1, Array2};

/// A fitted model that gives class probabilities.
///
/// Rows of the [`Dataset`] passed to `predict_proba` are the rows to predict; a tabular model reads
/// `ds.x`, a sequence model reads `ds.seqs`. Labels and weights of the dataset are ignored.
pub trait Classifier: Send + Sync {
    /// Number of classes the model was fitted for.
    fn n_classes(&self) -> usize;

    /// Probabilities, shape `(rows, n_classes)`; every row sums to 1.
    fn predict_proba(&self, ds: &Dataset) -> Array2<f64>;

    /// Most probable class per row (ties go to the lowest class index).
    fn predict(&self, ds: &Dataset) -> Array1<usize> {
        argmax_rows(&self.predict_proba(ds))
    }

    /// Writes this model as a versioned model file (see [`persist`]); [`load_any`] reads it back.
    /// Model kinds that cannot be saved return an error (the default).
    fn save_json(&self, w: &mut dyn std::io::Write) -> Result<(), ModelError> {
        let _ = w;
        Err(ModelError::Data("this model kind cannot be saved".into()))
    }

    /// Importance of each feature (sums to 1) when the model has one (trees, forests, boosting).
    fn feature_importances(&self) -> Option<Vec<f64>> {
        None
    }

    /// Per-epoch training history of models trained by epochs (the networks); `None` otherwise.
    fn training_history(&self) -> Option<&[nn::EpochRecord]> {
        None
    }
}

/// Something that fits a [`Classifier`] on a dataset: validated hyper-parameters.
pub trait Learner: Send + Sync {
    /// Fits on every row of `ds` (honouring `ds.weights`).
    fn fit_boxed(&self, ds: &Dataset) -> Result<Box<dyn Classifier>, ModelError>;

    /// Fits on `train` using `valid` only for early stopping or tuning. Learners without early stopping
    /// ignore `valid` (the default).
    fn fit_boxed_with_validation(
        &self,
        train: &Dataset,
        valid: &Dataset,
    ) -> Result<Box<dyn Classifier>, ModelError> {
        let _ = valid;
        self.fit_boxed(train)
    }

    /// Short name for tables (`rf`, `gbdt`, `lstm`, …).
    fn name(&self) -> String;
}

/// Index of the largest value of a slice; the first wins on ties (0 for an empty slice).
pub fn argmax_slice(v: &[f64]) -> usize {
    let mut best = 0;
    for (j, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = j;
        }
    }
    best
}

/// Index of the largest value of each row; the first wins on ties.
pub fn argmax_rows(p: &Array2<f64>) -> Array1<usize> {
    p.rows()
        .into_iter()
        .map(|r| {
            let mut best = 0;
            for (j, &v) in r.iter().enumerate() {
                if v > r[best] {
                    best = j;
                }
            }
            best
        })
        .collect()
}
