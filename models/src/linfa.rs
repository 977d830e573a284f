//! linfa interop (cargo feature `linfa`): cartseq models inside linfa code, and linfa models inside
//! cartseq ensembles.
//!
//! * [`ModelSpec`] implements linfa's [`Fit`] on a `DatasetBase<Array2<f64>, Array1<usize>>` (records
//!   and class labels `0..k`; linfa's `f32` sample weights are honoured when present, feature names
//!   kept) and returns a [`FittedModel`]. `ModelSpec` has an inherent `fit(&Dataset)` too, so call the
//!   trait as `Fit::fit(&spec, &dataset)`.
//! * [`FittedModel`] implements [`PredictInplace`] for class labels (`Array1<usize>`) and for class
//!   probabilities (`Array2<f64>`, one column per class). linfa's prediction cannot fail: a matrix with
//!   another number of columns than the model was fitted on panics with the [`ModelError`] text there;
//!   [`predict_records`] returns it as an error instead. Sequence models need token sequences, which a
//!   linfa dataset does not carry, so they can be fitted and used from cartseq only.
//! * [`LinfaLearner`] turns any linfa algorithm into a cartseq [`Learner`], so it can be a stacking,
//!   voting or bagging member next to cartseq's own models. linfa has no common probability trait: a
//!   learner given [`LinfaLearner::with_proba`] uses that function (linfa-logistic's
//!   `predict_probabilities`, for example); without it the probabilities are one-hot rows of the
//!   predicted labels, which stack and vote correctly but rank coarsely (ties everywhere in ROC-AUC).
//!   Its models are [`FittedModel::External`]: they predict, but cannot be saved.

use std::marker::PhantomData;
use std::sync::Arc;

use ::linfa::traits::{Fit, PredictInplace};
use ::linfa::DatasetBase;
use ndarray::{Array1, Array2};

use crate::fitted::{Fitted, Input, Signature};
use crate::{argmax_rows, Classifier, Dataset, FittedModel, Learner, ModelError, ModelSpec};

/// A linfa dataset of feature rows and class labels, as [`ModelSpec`] fits on it.
pub type LinfaDataset = DatasetBase<Array2<f64>, Array1<usize>>;

impl From<::linfa::Error> for ModelError {
    fn from(e: ::linfa::Error) -> Self {
        ModelError::Data(format!("linfa: {e}"))
    }
}

/// The cartseq [`Dataset`] of a linfa dataset: records, labels (`n_classes` = largest label + 1),
/// weights (when the dataset has them) and feature names.
pub fn dataset_from_linfa(ds: &LinfaDataset) -> Result<Dataset, ModelError> {
    let y = ds.targets().clone();
    let n_classes = y.iter().max().map_or(1, |&m| m + 1);
    let mut out = Dataset::new(ds.records().clone(), y, n_classes)?;
    if let Some(w) = ds.weights() {
        out.weights = Some(w.iter().map(|&v| f64::from(v)).collect());
    }
    if ds.feature_names().len() == out.ncols() {
        out.feature_names = ds.feature_names().to_vec();
    }
    Ok(out)
}

/// The linfa dataset of a cartseq [`Dataset`] (weights rounded to `f32`, as linfa stores them).
pub fn dataset_to_linfa(ds: &Dataset) -> LinfaDataset {
    let mut out = DatasetBase::new(ds.x.clone(), ds.y.clone());
    if ds.feature_names.len() == ds.ncols() {
        out = out.with_feature_names(ds.feature_names.clone());
    }
    if let Some(w) = &ds.weights {
        out = out.with_weights(w.mapv(|v| v as f32));
    }
    out
}

impl Fit<Array2<f64>, Array1<usize>, ModelError> for ModelSpec {
    type Object = FittedModel;

    fn fit(&self, dataset: &LinfaDataset) -> Result<FittedModel, ModelError> {
        ModelSpec::fit(self, &dataset_from_linfa(dataset)?)
    }
}

/// Class probabilities of plain feature rows, with the model's input check as an error.
pub fn predict_records(model: &dyn Classifier, x: &Array2<f64>) -> Result<Array2<f64>, ModelError> {
    let rows = Dataset::new(
        x.clone(),
        Array1::zeros(x.nrows()),
        model.n_classes().max(1),
    )?;
    model.predict_proba(&rows)
}

fn proba_or_panic(model: &FittedModel, x: &Array2<f64>) -> Array2<f64> {
    match predict_records(model, x) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

/// Class labels (the most probable class of each row).
///
/// # Panics
/// When the rows do not fit the model (see [`predict_records`] for the error instead).
impl PredictInplace<Array2<f64>, Array1<usize>> for FittedModel {
    fn predict_inplace(&self, x: &Array2<f64>, y: &mut Array1<usize>) {
        y.assign(&argmax_rows(&proba_or_panic(self, x)));
    }

    fn default_target(&self, x: &Array2<f64>) -> Array1<usize> {
        Array1::zeros(x.nrows())
    }
}

/// Class probabilities, one column per class.
///
/// # Panics
/// When the rows do not fit the model (see [`predict_records`] for the error instead).
impl PredictInplace<Array2<f64>, Array2<f64>> for FittedModel {
    fn predict_inplace(&self, x: &Array2<f64>, y: &mut Array2<f64>) {
        y.assign(&proba_or_panic(self, x));
    }

    fn default_target(&self, x: &Array2<f64>) -> Array2<f64> {
        Array2::zeros((x.nrows(), self.n_classes()))
    }
}

/// How a linfa model's probabilities are read: `(model, rows) → (rows × classes)`.
pub type ProbaFn<M> = Arc<dyn Fn(&M, &Array2<f64>) -> Array2<f64> + Send + Sync>;

/// Any linfa algorithm (hyper-parameters that [`Fit`] records and class labels) as a cartseq
/// [`Learner`]: a stacking, voting or bagging member like any other.
pub struct LinfaLearner<P, E>
where
    P: Fit<Array2<f64>, Array1<usize>, E>,
    E: std::error::Error + From<::linfa::Error>,
{
    params: P,
    name: String,
    proba: Option<ProbaFn<P::Object>>,
    error: PhantomData<fn() -> E>,
}

impl<P, E> LinfaLearner<P, E>
where
    P: Fit<Array2<f64>, Array1<usize>, E>,
    E: std::error::Error + From<::linfa::Error>,
{
    /// The learner fitting `params`, called `name` in tables and meta-feature names.
    pub fn new(name: impl Into<String>, params: P) -> Self {
        LinfaLearner {
            params,
            name: name.into(),
            proba: None,
            error: PhantomData,
        }
    }

    /// Reads probabilities with `f` instead of one-hot rows of the predicted labels.
    pub fn with_proba(
        mut self,
        f: impl Fn(&P::Object, &Array2<f64>) -> Array2<f64> + Send + Sync + 'static,
    ) -> Self {
        self.proba = Some(Arc::new(f));
        self
    }
}

impl<P, E> Learner for LinfaLearner<P, E>
where
    P: Fit<Array2<f64>, Array1<usize>, E> + Send + Sync,
    P::Object: PredictInplace<Array2<f64>, Array1<usize>> + Send + Sync + 'static,
    E: std::error::Error + From<::linfa::Error>,
{
    fn fit_model(&self, ds: &Dataset) -> Result<FittedModel, ModelError> {
        let model = self
            .params
            .fit(&dataset_to_linfa(ds))
            .map_err(|e| ModelError::Data(format!("{}: {e}", self.name)))?;
        Ok(FittedModel::external(LinfaModel {
            model,
            proba: self.proba.clone(),
            n_classes: ds.n_classes,
            n_features: ds.ncols(),
        }))
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

/// A fitted linfa model behind the cartseq [`Classifier`] interface (input checked like every model).
pub struct LinfaModel<M> {
    model: M,
    proba: Option<ProbaFn<M>>,
    n_classes: usize,
    n_features: usize,
}

impl<M> Fitted for LinfaModel<M>
where
    M: PredictInplace<Array2<f64>, Array1<usize>> + Send + Sync,
{
    /// Never written: a linfa model has no cartseq model file.
    const KIND: &'static str = "linfa";

    fn signature(&self) -> Signature {
        Signature {
            n_classes: self.n_classes,
            input: Input::Features(self.n_features),
        }
    }

    fn proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
        if let Some(f) = &self.proba {
            let p = f(&self.model, &ds.x);
            if p.dim() != (ds.x.nrows(), self.n_classes) {
                return Err(ModelError::Data(format!(
                    "the probability function gave {:?} values for {} rows and {} classes",
                    p.dim(),
                    ds.x.nrows(),
                    self.n_classes
                )));
            }
            return Ok(p);
        }
        let mut labels = self.model.default_target(&ds.x);
        self.model.predict_inplace(&ds.x, &mut labels);
        let mut p = Array2::zeros((ds.x.nrows(), self.n_classes));
        for (i, &c) in labels.iter().enumerate() {
            if c >= self.n_classes {
                return Err(ModelError::Data(format!(
                    "the linfa model predicted class {c} of {}",
                    self.n_classes
                )));
            }
            p[[i, c]] = 1.0;
        }
        Ok(p)
    }

    fn check_loaded(&mut self) -> Result<(), ModelError> {
        Ok(())
    }
}
