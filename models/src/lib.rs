//! # cartseq-models
//!
//! Classifiers and sequence models on ndarray, standing alone (no CSV, no knowledge of logs):
//! a [`Dataset`] carries a feature matrix, class labels, optional sample weights, feature names and
//! (optionally) one token sequence per row, so tabular models, RNN/LSTM/GRU models and ensembles that mix
//! them are all driven through the one [`Classifier`] trait. Hyper-parameters are builders validated once
//! (`Params` → checked → `fit(&Dataset)` → fitted model); probabilities are the first-class output and
//! labels derive from them.
//!
//! Two enums hold everything that names a model:
//!
//! * [`ModelSpec`] — which model with which parameters (a learner, or an ensemble of nested specs):
//!   command-line names and `--param key=value`, the listing with defaults, validation, the run's seed
//!   and fitting all derive from it ([`spec`] says how to add a model).
//! * [`FittedModel`] — a fitted model of any kind; its serde form is the versioned model file
//!   ([`persist`]), and loading checks that what the file holds fits together.
//!
//! Prediction is fallible: every model checks that the rows carry what it was fitted on (the same
//! number of feature columns, or token sequences) and returns [`ModelError::Input`] otherwise.
//! With the `linfa` feature, specs fit on linfa datasets and linfa models join ensembles (see
//! `linfa`).
//!
//! ```
//! use cartseq_models::{Classifier, Dataset, ModelSpec};
//! use ndarray::array;
//!
//! let ds = Dataset::new(array![[0.0], [1.0], [2.0], [3.0]], array![0, 0, 1, 1], 2)?;
//! let mut spec = ModelSpec::from_cli("rf", &["n_trees=10"])?;
//! spec.seed_if_unset(7);
//! let model = spec.fit(&ds)?;
//! assert_eq!(model.predict(&ds)?, ds.y);
//! let narrow = Dataset::new(ndarray::Array2::zeros((1, 0)), array![0], 2)?;
//! assert!(model.predict_proba(&narrow).is_err()); // fitted on 1 feature, the input has 0
//! # Ok::<(), cartseq_models::ModelError>(())
//! ```

pub mod adaboost;
pub mod baseline;
pub mod binning;
pub mod bootstrap;
pub mod class_weight;
pub mod cv;
pub mod dataset;
pub mod ensemble;
pub mod error;
pub mod fitted;
pub mod flat;
pub mod forest;
pub mod gbdt;
#[cfg(feature = "linfa")]
pub mod linfa;
pub mod logistic;
pub mod memory;
pub mod metrics;
pub mod naive_bayes;
pub mod nextitem;
pub mod nn;
pub mod params;
pub mod persist;
mod proba;
pub mod sample;
pub mod spec;
pub mod svm;
pub mod tree;

pub use class_weight::ClassWeight;
pub use dataset::{Dataset, Sequences};
pub use error::ModelError;
pub use fitted::{Fitted, FittedModel, Input, Signature};
pub use params::{SharedParams, WithShared};
pub use persist::{load_any, load_any_file, save_any, save_any_file, Persist};
pub use spec::{About, EnsembleKind, LearnerParams, ModelInfo, ModelSpec};

use ndarray::{Array1, Array2};

/// A fitted model that gives class probabilities.
///
/// Rows of the [`Dataset`] passed to `predict_proba` are the rows to predict; a tabular model reads
/// `ds.x`, a sequence model reads `ds.seqs`. Labels and weights of the dataset are ignored. Every
/// model of this crate checks the input first ([`Fitted`]): another number of columns than it was
/// fitted on, or a missing `seqs` for a sequence model, is a [`ModelError::Input`].
pub trait Classifier: Send + Sync {
    /// Number of classes the model was fitted for.
    fn n_classes(&self) -> usize;

    /// Probabilities, shape `(rows, n_classes)`; every row sums to 1.
    fn predict_proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError>;

    /// Most probable class per row (ties go to the lowest class index).
    fn predict(&self, ds: &Dataset) -> Result<Array1<usize>, ModelError> {
        Ok(argmax_rows(&self.predict_proba(ds)?))
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

/// Something that fits a model on a dataset: a [`ModelSpec`], an ensemble of learners, or an adapter
/// around another library's model.
pub trait Learner: Send + Sync {
    /// Fits on every row of `ds` (honouring `ds.weights`).
    fn fit_model(&self, ds: &Dataset) -> Result<FittedModel, ModelError>;

    /// Short name for tables (`rf`, `gbdt`, `lstm`, `stack(rf+gbdt->logreg)`, …).
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
        .map(|r| match r.as_slice() {
            Some(s) => argmax_slice(s),
            None => argmax_slice(&r.to_vec()),
        })
        .collect()
}
