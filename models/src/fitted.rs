//! The fitted models: one [`FittedModel`] enum with a variant per fitted type, what every model file
//! holds and what [`crate::ModelSpec::fit`] returns.
//!
//! Each fitted type implements [`Fitted`]: its [`Signature`] (classes and what it reads), its
//! probabilities, and a check of a model read from a file. The [`Classifier`] of every [`Fitted`] type
//! checks the input against the signature first, so a matrix with the wrong number of columns or a
//! sequence model without sequences gives a [`ModelError::Input`], never an index out of bounds.
//!
//! Serialized, a `FittedModel` is the model file itself, `{"magic": "cartseq-model", "format_version":
//! 1, "kind": "rf", "model": {...}}` (see [`crate::persist`]); ensembles nest their members' files,
//! and reading any file checks the shapes of what it holds ([`Fitted::check_loaded`]), so a
//! hand-edited file is an error, not a panic at prediction time.

use ndarray::Array2;
use serde::de::Error as _;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::adaboost::AdaBoost;
use crate::baseline::PriorModel;
use crate::ensemble::{BaggingModel, StackModel, VotingModel};
use crate::forest::RandomForest;
use crate::gbdt::Gbdt;
use crate::logistic::LogisticRegression;
use crate::naive_bayes::{BernoulliNb, GaussianNb};
use crate::nn::{EpochRecord, SeqClassifierModel};
use crate::persist::{
    check_envelope, read_checked, read_streaming, BodyReader, EnvelopeVisitor, FORMAT_VERSION,
    MAGIC,
};
use crate::svm::{LinearSvm, RbfSvm};
use crate::tree::DecisionTree;
use crate::{Classifier, Dataset, ModelError};

/// What a fitted model reads from a [`Dataset`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// `Dataset::x` with exactly this many columns.
    Features(usize),
    /// `Dataset::seqs` (tokens beyond the training vocabulary share one out-of-vocabulary row).
    Sequences,
    /// Nothing it checks itself: an ensemble (its members check), or a prior saved before it recorded
    /// its feature count.
    Unchecked,
}

impl Input {
    /// Refuses `ds` when it does not carry what the model reads.
    pub fn check(self, ds: &Dataset) -> Result<(), ModelError> {
        match self {
            Input::Features(d) if ds.ncols() != d => Err(ModelError::Input(format!(
                "model was fitted on {d} features, the input has {}",
                ds.ncols()
            ))),
            Input::Sequences if ds.seqs.is_none() => Err(ModelError::Input(
                "a sequence model needs token sequences, the input has none".into(),
            )),
            _ => Ok(()),
        }
    }
}

/// The outside of a fitted model: its number of classes and what it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature {
    /// Number of classes (columns of the probabilities).
    pub n_classes: usize,
    /// What it reads.
    pub input: Input,
}

impl Signature {
    /// `n_classes` classes from `input`.
    pub fn new(n_classes: usize, input: Input) -> Self {
        Signature { n_classes, input }
    }

    /// `n_classes` classes from `n_features` feature columns.
    pub fn features(n_classes: usize, n_features: usize) -> Self {
        Self::new(n_classes, Input::Features(n_features))
    }
}

/// One kind of fitted model (a [`FittedModel`] variant). Implementing it gives the type a checked
/// [`Classifier`], and with serde a [`Persist`](crate::Persist) model file.
pub trait Fitted: Send + Sync {
    /// The `kind` of its model files (`dt`, `rf`, …).
    const KIND: &'static str;

    /// The `kind` this model writes (the same for every type but the sequence classifier, whose
    /// files name their cell).
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    /// Classes and input.
    fn signature(&self) -> Signature;

    /// Class probabilities of rows already checked against [`Fitted::signature`].
    fn proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError>;

    /// Importance of each feature (sums to 1) when the model has one.
    fn importances(&self) -> Option<Vec<f64>> {
        None
    }

    /// Per-epoch training history of a model trained by epochs (the networks).
    fn history(&self) -> Option<&[EpochRecord]> {
        None
    }

    /// Checks a model read from a file (shapes agree with each other, indices in range) and rebuilds
    /// what the file does not hold, so prediction cannot panic on a hand-edited file.
    fn check_loaded(&mut self) -> Result<(), ModelError>;
}

impl<M: Fitted> Classifier for M {
    fn n_classes(&self) -> usize {
        self.signature().n_classes
    }

    fn predict_proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
        self.signature().input.check(ds)?;
        self.proba(ds)
    }

    fn feature_importances(&self) -> Option<Vec<f64>> {
        self.importances()
    }

    fn training_history(&self) -> Option<&[EpochRecord]> {
        self.history()
    }
}

/// The error of a model file whose contents do not agree with each other.
pub(crate) fn corrupt(kind: &str, what: impl std::fmt::Display) -> ModelError {
    ModelError::BadFile(format!("corrupt `{kind}` model: {what}"))
}

/// Any fitted model: what [`crate::ModelSpec::fit`] returns, what a model file holds, what
/// [`crate::load_any`] reads.
// Variants differ in size (a network's header against a prior's); models are few (one per file or
// ensemble member) and each holds its large arrays on the heap already, so boxing buys nothing.
#[allow(clippy::large_enum_variant)]
pub enum FittedModel {
    /// Class-prior baseline.
    Prior(PriorModel),
    /// Logistic regression.
    Logistic(LogisticRegression),
    /// Gaussian naive Bayes.
    GaussianNb(GaussianNb),
    /// Bernoulli naive Bayes.
    BernoulliNb(BernoulliNb),
    /// CART decision tree.
    Tree(DecisionTree),
    /// Random forest.
    Forest(RandomForest),
    /// AdaBoost.
    AdaBoost(AdaBoost),
    /// Gradient-boosted trees.
    Gbdt(Gbdt),
    /// Linear SVM.
    LinearSvm(LinearSvm),
    /// RBF-kernel SVM.
    RbfSvm(RbfSvm),
    /// RNN, LSTM or GRU sequence classifier (the kind in its file is the cell's name).
    Seq(SeqClassifierModel),
    /// Stacking ensemble.
    Stack(StackModel),
    /// Voting ensemble.
    Vote(VotingModel),
    /// Bagging ensemble.
    Bag(BaggingModel),
    /// A model from outside this crate's learners (a linfa model through the adapter, a test double):
    /// it predicts and can be an ensemble member, but cannot be saved.
    External(Box<dyn Classifier>),
}

impl FittedModel {
    /// Wraps a model of another type (see [`FittedModel::External`]).
    pub fn external(model: impl Classifier + 'static) -> Self {
        FittedModel::External(Box::new(model))
    }

    /// The `kind` of its model file and the model as a classifier.
    fn parts(&self) -> (&str, &dyn Classifier) {
        match self {
            FittedModel::Prior(m) => (m.kind(), m),
            FittedModel::Logistic(m) => (m.kind(), m),
            FittedModel::GaussianNb(m) => (m.kind(), m),
            FittedModel::BernoulliNb(m) => (m.kind(), m),
            FittedModel::Tree(m) => (m.kind(), m),
            FittedModel::Forest(m) => (m.kind(), m),
            FittedModel::AdaBoost(m) => (m.kind(), m),
            FittedModel::Gbdt(m) => (m.kind(), m),
            FittedModel::LinearSvm(m) => (m.kind(), m),
            FittedModel::RbfSvm(m) => (m.kind(), m),
            FittedModel::Seq(m) => (m.kind(), m),
            FittedModel::Stack(m) => (m.kind(), m),
            FittedModel::Vote(m) => (m.kind(), m),
            FittedModel::Bag(m) => (m.kind(), m),
            FittedModel::External(m) => ("external", m.as_ref()),
        }
    }

    /// Its classes and what it reads (`None` for an external model, which does not say).
    pub fn signature(&self) -> Option<Signature> {
        Some(match self {
            FittedModel::Prior(m) => m.signature(),
            FittedModel::Logistic(m) => m.signature(),
            FittedModel::GaussianNb(m) => m.signature(),
            FittedModel::BernoulliNb(m) => m.signature(),
            FittedModel::Tree(m) => m.signature(),
            FittedModel::Forest(m) => m.signature(),
            FittedModel::AdaBoost(m) => m.signature(),
            FittedModel::Gbdt(m) => m.signature(),
            FittedModel::LinearSvm(m) => m.signature(),
            FittedModel::RbfSvm(m) => m.signature(),
            FittedModel::Seq(m) => m.signature(),
            FittedModel::Stack(m) => m.signature(),
            FittedModel::Vote(m) => m.signature(),
            FittedModel::Bag(m) => m.signature(),
            FittedModel::External(_) => return None,
        })
    }

    /// The `kind` written in its model file (`rf`, `lstm`, `stack`, …).
    pub fn kind(&self) -> &str {
        self.parts().0
    }

    /// Reads a model from the `kind` and `model` body of a model file, checking what it holds.
    pub fn from_kind_body(kind: &str, body: Value) -> Result<Self, ModelError> {
        AnyKind
            .read(kind, body)
            .unwrap_or_else(|e| Err(corrupt(kind, e)))
    }

    /// Reads a parsed model file (header checked).
    pub fn from_value(v: Value) -> Result<Self, ModelError> {
        let (kind, body) = check_envelope(v)?;
        Self::from_kind_body(&kind, body)
    }

    /// Writes the model file.
    pub fn save<W: std::io::Write>(&self, w: W) -> Result<(), ModelError> {
        crate::persist::write_model_json(w, self, "cannot save the model")
    }

    /// Reads a model file of any kind.
    pub fn load<R: std::io::Read>(r: R) -> Result<Self, ModelError> {
        read_streaming(r, &AnyKind)
    }
}

impl Classifier for FittedModel {
    fn n_classes(&self) -> usize {
        self.parts().1.n_classes()
    }

    fn predict_proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
        self.parts().1.predict_proba(ds)
    }

    fn feature_importances(&self) -> Option<Vec<f64>> {
        self.parts().1.feature_importances()
    }

    fn training_history(&self) -> Option<&[EpochRecord]> {
        self.parts().1.training_history()
    }
}

impl std::fmt::Debug for FittedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FittedModel({})", self.kind())
    }
}

/// The model file: header fields, then the body of the variant.
impl Serialize for FittedModel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("ModelFile", 4)?;
        st.serialize_field("magic", MAGIC)?;
        st.serialize_field("format_version", &FORMAT_VERSION)?;
        st.serialize_field("kind", self.kind())?;
        match self {
            FittedModel::Prior(m) => st.serialize_field("model", m)?,
            FittedModel::Logistic(m) => st.serialize_field("model", m)?,
            FittedModel::GaussianNb(m) => st.serialize_field("model", m)?,
            FittedModel::BernoulliNb(m) => st.serialize_field("model", m)?,
            FittedModel::Tree(m) => st.serialize_field("model", m)?,
            FittedModel::Forest(m) => st.serialize_field("model", m)?,
            FittedModel::AdaBoost(m) => st.serialize_field("model", m)?,
            FittedModel::Gbdt(m) => st.serialize_field("model", m)?,
            FittedModel::LinearSvm(m) => st.serialize_field("model", m)?,
            FittedModel::RbfSvm(m) => st.serialize_field("model", m)?,
            FittedModel::Seq(m) => st.serialize_field("model", m)?,
            FittedModel::Stack(m) => st.serialize_field("model", m)?,
            FittedModel::Vote(m) => st.serialize_field("model", m)?,
            FittedModel::Bag(m) => st.serialize_field("model", m)?,
            FittedModel::External(_) => {
                return Err(serde::ser::Error::custom(
                    "this model kind cannot be saved (a model from outside cartseq's learners)",
                ))
            }
        }
        st.end()
    }
}

impl<'de> Deserialize<'de> for FittedModel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let streaming = std::cell::RefCell::new(None);
        let visitor = EnvelopeVisitor {
            reader: &AnyKind,
            streaming: &streaming,
        };
        d.deserialize_map(visitor)?.map_err(|e| match e {
            ModelError::BadFile(m) => D::Error::custom(m),
            other => D::Error::custom(other),
        })
    }
}

/// Reads the body of any kind of model file into a [`FittedModel`], checked.
struct AnyKind;

impl BodyReader for AnyKind {
    type Out = FittedModel;
    fn read<'de, D: Deserializer<'de>>(
        &self,
        kind: &str,
        d: D,
    ) -> Result<Result<FittedModel, ModelError>, D::Error> {
        match kind {
            PriorModel::KIND => read_checked(d, FittedModel::Prior),
            LogisticRegression::KIND => read_checked(d, FittedModel::Logistic),
            GaussianNb::KIND => read_checked(d, FittedModel::GaussianNb),
            BernoulliNb::KIND => read_checked(d, FittedModel::BernoulliNb),
            DecisionTree::KIND => read_checked(d, FittedModel::Tree),
            RandomForest::KIND => read_checked(d, FittedModel::Forest),
            AdaBoost::KIND => read_checked(d, FittedModel::AdaBoost),
            Gbdt::KIND => read_checked(d, FittedModel::Gbdt),
            LinearSvm::KIND => read_checked(d, FittedModel::LinearSvm),
            RbfSvm::KIND => read_checked(d, FittedModel::RbfSvm),
            k if SeqClassifierModel::KINDS.contains(&k) => {
                let body = Value::deserialize(d)?;
                Ok(SeqClassifierModel::from_body(k, body).map(FittedModel::Seq))
            }
            StackModel::KIND => read_checked(d, FittedModel::Stack),
            VotingModel::KIND => read_checked(d, FittedModel::Vote),
            BaggingModel::KIND => read_checked(d, FittedModel::Bag),
            other => {
                serde::de::IgnoredAny::deserialize(d)?;
                Ok(Err(ModelError::BadFile(format!(
                    "unknown model kind `{other}`"
                ))))
            }
        }
    }
}
