//! Stacking (stacked generalisation, Wolpert 1992) with out-of-fold predictions.
//!
//! The meta-learner is trained on predictions the base learners made on rows **they were not fitted
//! on**, so a base model that memorises its training rows (a 1-NN, a deep tree) cannot look perfect to
//! the meta-learner:
//!
//! * [`Folds::Stratified`] — k stratified folds, shuffled by a seed; every row gets the prediction of
//!   the base model fitted on the other k−1 folds (scikit-learn's `StackingClassifier(cv=k)`). The
//!   folds are [`crate::cv::stratified_kfold`]'s, so a stack and a cross-validation with the same
//!   seed cut the rows alike;
//! * [`Folds::Temporal`] — the rows are taken to be in time order (the caller sorts them); they are cut
//!   into k+1 contiguous blocks and block b (b ≥ 1) is predicted by base models fitted on blocks
//!   `0..b` only (forward chaining, as scikit-learn's `TimeSeriesSplit`). The rows of block 0 have no
//!   out-of-fold prediction and are not used to train the meta-learner, so it never sees a prediction
//!   made on its own training row nor one made with knowledge of the future. The blocks are *not*
//!   [`crate::cv::time_series_split`]'s: block b starts at row `b·n / (k+1)`, so all k+1 blocks differ
//!   in size by at most one row, where `TimeSeriesSplit` makes every test block `n / (k+1)` rows and
//!   gives the remainder to the first training block. Kept apart on purpose: equal blocks are what
//!   stacks were fitted with, and changing them would change every temporal stack's predictions.
//!
//! Meta features are the base models' probabilities (for two classes only P(class 1), the other column
//! being redundant), named `<base>:p<class>`, optionally followed by the original features
//! (`passthrough`). After the meta-learner is fitted, every base learner is refitted on all rows; those
//! refits make the predictions at predict time.
//!
//! Cost: `k + 1` fits of every base learner (rayon-parallel over (base, fold) pairs, each fit
//! deterministic), one meta fit on `n × (bases × classes)` features; memory one fold's copy of the data
//! per fit in flight plus the `n × bases × classes` out-of-fold matrix.

use ndarray::{concatenate, Array2, Axis};
use rayon::prelude::*;

use crate::cv::stratified_kfold;
use crate::fitted::{corrupt, Fitted, FittedModel, Input, Signature};
use crate::params::setter;
use crate::{Classifier, Dataset, Learner, ModelError};

/// How the out-of-fold predictions are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Folds {
    /// `k` stratified folds shuffled with `seed`.
    Stratified {
        /// Number of folds (≥ 2).
        k: usize,
        /// Shuffle seed.
        seed: u64,
    },
    /// Forward chaining over `k + 1` contiguous blocks of time-ordered rows, block `b` starting at row
    /// `b·n / (k+1)` (equal blocks, unlike [`crate::cv::time_series_split`], which puts the remainder
    /// in the first block; see the module docs).
    Temporal {
        /// Number of predicted blocks (≥ 1).
        k: usize,
    },
}

impl Default for Folds {
    fn default() -> Self {
        Folds::Stratified { k: 5, seed: 0 }
    }
}

/// One train/predict split: fit on `train`, predict `test`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    /// Rows the base models are fitted on.
    pub train: Vec<usize>,
    /// Rows they predict (disjoint from `train`).
    pub test: Vec<usize>,
}

impl Folds {
    /// The splits for `y` (labels of `n` rows). Every row appears in at most one `test`.
    pub fn splits(&self, y: &[usize]) -> Result<Vec<Split>, ModelError> {
        let n = y.len();
        match *self {
            Folds::Stratified { k, seed } => Ok(stratified_kfold(y, k, Some(seed))
                .map_err(|_| ModelError::invalid("folds", k, "between 2 and the number of rows"))?
                .into_iter()
                .map(|(train, test)| Split { train, test })
                .collect()),
            Folds::Temporal { k } => {
                if k < 1 || k + 1 > n {
                    return Err(ModelError::invalid(
                        "folds",
                        k,
                        "at least 1 and below the number of rows",
                    ));
                }
                let bound = |b: usize| b * n / (k + 1);
                Ok((1..=k)
                    .map(|b| Split {
                        train: (0..bound(b)).collect(),
                        test: (bound(b)..bound(b + 1)).collect(),
                    })
                    .collect())
            }
        }
    }
}

/// Parameters of a stacking ensemble.
pub struct Stacking {
    /// Base learners (any mix, tabular or sequence models).
    pub bases: Vec<Box<dyn Learner>>,
    /// The meta-learner (logistic regression or GBDT in the CLI).
    pub meta: Box<dyn Learner>,
    /// How out-of-fold predictions are made.
    pub folds: Folds,
    /// Also give the meta-learner the original features.
    pub passthrough: bool,
}

impl Stacking {
    /// A stack of `bases` under `meta`, 5 stratified folds, no passthrough.
    pub fn new(bases: Vec<Box<dyn Learner>>, meta: Box<dyn Learner>) -> Self {
        Stacking {
            bases,
            meta,
            folds: Folds::default(),
            passthrough: false,
        }
    }

    setter!(/// Sets the fold scheme.
        folds: Folds);

    setter!(/// Sets passthrough of the original features.
        passthrough: bool);

    /// Checks the parameters (the fold count against the rows is checked when fitting).
    pub fn check(&self) -> Result<(), ModelError> {
        if self.bases.is_empty() {
            return Err(ModelError::invalid(
                "base",
                "(none)",
                "at least one base model",
            ));
        }
        let (k, least) = match self.folds {
            Folds::Stratified { k, .. } => (k, 2),
            Folds::Temporal { k } => (k, 1),
        };
        if k < least {
            return Err(ModelError::invalid(
                "folds",
                k,
                "at least 2 (at least 1 with temporal folds)",
            ));
        }
        Ok(())
    }

    /// The out-of-fold meta features of `ds` and the rows they exist for (all rows with stratified
    /// folds; rows after the first block with temporal folds). Row `r` of the matrix is dataset row
    /// `rows[r]`.
    pub fn out_of_fold(&self, ds: &Dataset) -> Result<(Array2<f64>, Vec<usize>), ModelError> {
        self.check()?;
        let y: Vec<usize> = ds.y.to_vec();
        let splits = self.folds.splits(&y)?;
        let width = meta_width(ds.n_classes);
        let jobs: Vec<(usize, usize)> = (0..self.bases.len())
            .flat_map(|b| (0..splits.len()).map(move |f| (b, f)))
            .collect();
        let preds = jobs
            .par_iter()
            .map(|&(b, f)| {
                let sp = &splits[f];
                let model = self.bases[b].fit_model(&ds.select(&sp.train))?;
                model.predict_proba(&ds.select(&sp.test))
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        let mut rows: Vec<usize> = splits.iter().flat_map(|s| s.test.iter().copied()).collect();
        rows.sort_unstable();
        let mut pos = vec![usize::MAX; ds.nrows()];
        for (r, &i) in rows.iter().enumerate() {
            pos[i] = r;
        }
        let mut oof = Array2::<f64>::zeros((rows.len(), width * self.bases.len()));
        for (&(b, f), p) in jobs.iter().zip(&preds) {
            for (t, &i) in splits[f].test.iter().enumerate() {
                write_meta(
                    &mut oof,
                    pos[i],
                    b * width,
                    p.row(t).as_slice().unwrap_or(&[]),
                    ds.n_classes,
                );
            }
        }
        Ok((oof, rows))
    }

    fn meta_names(&self, ds: &Dataset) -> Vec<String> {
        let mut names = Vec::new();
        for b in &self.bases {
            let bn = b.name();
            if ds.n_classes == 2 {
                names.push(format!("{bn}:p1"));
            } else {
                names.extend((0..ds.n_classes).map(|c| format!("{bn}:p{c}")));
            }
        }
        if self.passthrough {
            names.extend(ds.feature_names.iter().cloned());
        }
        names
    }

    /// Fits the stack and returns the concrete model (with its out-of-fold matrix for inspection).
    pub fn fit(&self, ds: &Dataset) -> Result<StackModel, ModelError> {
        let (oof, rows) = self.out_of_fold(ds)?;
        let meta_x = if self.passthrough {
            concatenate(Axis(1), &[oof.view(), ds.x.select(Axis(0), &rows).view()])
                .map_err(|e| ModelError::Data(format!("passthrough features: {e}")))?
        } else {
            oof.clone()
        };
        let sub = ds.select(&rows);
        let meta_ds = Dataset {
            x: meta_x,
            y: sub.y,
            weights: sub.weights,
            feature_names: self.meta_names(ds),
            n_classes: ds.n_classes,
            seqs: None,
        };
        let meta = self.meta.fit_model(&meta_ds)?;
        let oof_proba = meta.predict_proba(&meta_ds)?;
        Ok(StackModel {
            bases: super::fit_all(&self.bases, ds)?,
            meta: Box::new(meta),
            n_classes: ds.n_classes,
            passthrough: self.passthrough,
            oof,
            oof_rows: rows,
            oof_proba,
            meta_names: meta_ds.feature_names,
        })
    }
}

fn meta_width(n_classes: usize) -> usize {
    if n_classes == 2 {
        1
    } else {
        n_classes
    }
}

fn write_meta(m: &mut Array2<f64>, row: usize, col: usize, p: &[f64], n_classes: usize) {
    if n_classes == 2 {
        m[[row, col]] = p.get(1).copied().unwrap_or(0.0);
    } else {
        for (c, &v) in p.iter().enumerate() {
            m[[row, col + c]] = v;
        }
    }
}

impl Learner for Stacking {
    fn fit_model(&self, ds: &Dataset) -> Result<FittedModel, ModelError> {
        Ok(FittedModel::Stack(self.fit(ds)?))
    }

    fn name(&self) -> String {
        let names: Vec<String> = self.bases.iter().map(|m| m.name()).collect();
        format!("stack({}->{})", names.join("+"), self.meta.name())
    }
}

/// A fitted stack: base models refitted on all rows plus the meta model.
pub struct StackModel {
    bases: Vec<FittedModel>,
    meta: Box<FittedModel>,
    n_classes: usize,
    passthrough: bool,
    /// Out-of-fold meta features the meta-learner was trained on.
    pub oof: Array2<f64>,
    /// Dataset rows of `oof`'s rows.
    pub oof_rows: Vec<usize>,
    /// The meta model's probabilities on its own (out-of-fold) training rows: what the stack would
    /// claim about itself, to compare with held-out data.
    oof_proba: Array2<f64>,
    /// Names of the meta features.
    pub meta_names: Vec<String>,
}

impl StackModel {
    /// The meta model's probabilities on the out-of-fold rows (`oof_rows`) it was trained on.
    pub fn oof_proba(&self) -> &Array2<f64> {
        &self.oof_proba
    }

    /// The meta features of `ds` (the refitted base models' probabilities, plus passthrough columns).
    pub fn meta_features(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
        let width = meta_width(self.n_classes);
        let mut m = Array2::<f64>::zeros((ds.nrows(), width * self.bases.len()));
        for (b, model) in self.bases.iter().enumerate() {
            let p = model.predict_proba(ds)?;
            for i in 0..ds.nrows() {
                let row: Vec<f64> = p.row(i).to_vec();
                write_meta(&mut m, i, b * width, &row, self.n_classes);
            }
        }
        if self.passthrough {
            m = concatenate(Axis(1), &[m.view(), ds.x.view()])
                .map_err(|e| ModelError::Input(format!("passthrough features: {e}")))?;
        }
        Ok(m)
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StackFields {
    n_classes: usize,
    passthrough: bool,
    meta_names: Vec<String>,
}

/// The body of a `stack` model file: `{"fields": {...}, "bases": [<model file>, …], "meta": [<model
/// file>]}`.
#[derive(serde::Serialize, serde::Deserialize)]
struct StackBody<M> {
    fields: StackFields,
    bases: Vec<M>,
    meta: Vec<M>,
}

/// Writes the body of a `stack` model file. The out-of-fold training diagnostics (`oof`, `oof_rows`,
/// `oof_proba`) are not saved and come back empty.
impl serde::Serialize for StackModel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        StackBody {
            fields: StackFields {
                n_classes: self.n_classes,
                passthrough: self.passthrough,
                meta_names: self.meta_names.clone(),
            },
            bases: self.bases.iter().collect(),
            meta: vec![self.meta.as_ref()],
        }
        .serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for StackModel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let b = StackBody::<FittedModel>::deserialize(d)?;
        let meta = b.meta.into_iter().next().ok_or_else(|| {
            <D::Error as serde::de::Error>::custom("corrupt `stack` model: no meta model")
        })?;
        let (n_classes, bases) = (b.fields.n_classes, b.bases.len());
        Ok(StackModel {
            bases: b.bases,
            meta: Box::new(meta),
            n_classes,
            passthrough: b.fields.passthrough,
            oof: Array2::zeros((0, meta_width(n_classes) * bases)),
            oof_rows: Vec::new(),
            oof_proba: Array2::zeros((0, n_classes)),
            meta_names: b.fields.meta_names,
        })
    }
}

impl Fitted for StackModel {
    const KIND: &'static str = "stack";

    fn signature(&self) -> Signature {
        Signature::new(self.n_classes, Input::Unchecked)
    }

    fn proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
        let meta_ds = Dataset {
            x: self.meta_features(ds)?,
            y: ndarray::Array1::zeros(ds.nrows()),
            weights: None,
            feature_names: self.meta_names.clone(),
            n_classes: self.n_classes,
            seqs: None,
        };
        self.meta.predict_proba(&meta_ds)
    }

    fn check_loaded(&mut self) -> Result<(), ModelError> {
        let width = meta_width(self.n_classes) * self.bases.len();
        let classes_agree = self.meta.n_classes() == self.n_classes
            && self.bases.iter().all(|m| m.n_classes() == self.n_classes);
        if self.bases.is_empty()
            || !classes_agree
            || self.meta_names.len() < width
            || (!self.passthrough && self.meta_names.len() != width)
        {
            return Err(corrupt(
                Self::KIND,
                "base models do not match the meta features",
            ));
        }
        Ok(())
    }
}
