//! One [`ModelSpec`]: which model, with which hyper-parameters — a single learner or an ensemble of
//! nested specs. Everything that names a model derives from it: `--model NAME --param key=value`
//! ([`ModelSpec::from_cli`]), the list of models and their parameters with defaults
//! ([`ModelSpec::catalog`]), validation ([`ModelSpec::check`]), fitting ([`ModelSpec::fit`] →
//! [`FittedModel`]), whether token sequences are needed ([`ModelSpec::needs_seq`]) and the run's seed
//! ([`ModelSpec::seed_if_unset`]). A spec is serde-tagged (`{"model": "rf", "n_trees": 100, …}`), so it
//! can be written beside the results it produced.
//!
//! A learner's parameter struct implements [`LearnerParams`] in the learner's own file: its name,
//! aliases, description, its `--param` keys (declared once in `visit_keys`; parsing, the help listing
//! and the seed all follow from that list), its check and its fit.
//!
//! ## Adding a model
//!
//! 1. Write `src/<model>.rs`: the parameter struct (`Default` = the documented defaults) implementing
//!    [`LearnerParams`], and the fitted type implementing [`crate::Fitted`] (signature, probabilities,
//!    check of a loaded file) and [`crate::Persist`] (its `kind` in model files).
//! 2. Add its variant to [`ModelSpec`] (and its default to [`ModelSpec::learners`], which fixes its place
//!    in listings) and to [`FittedModel`] (and the two `kind` tables in `fitted.rs`).
//!
//! Nothing else names a model: the command line, `--param help`, persistence and the ensembles follow.

use serde::{Deserialize, Serialize};

use crate::adaboost::AdaBoostParams;
use crate::baseline::PriorParams;
use crate::ensemble::{Bagging, Folds, Stacking, VoteKind, Voting};
use crate::fitted::FittedModel;
use crate::forest::RandomForestParams;
use crate::gbdt::GbdtParams;
use crate::logistic::LogisticRegressionParams;
use crate::naive_bayes::{BernoulliNbParams, GaussianNbParams};
use crate::nn::{CellKind, SeqClassifierParams};
use crate::params::{split_kv, KeyList, KeySetter, KeyVisitor, Names, SeedFiller};
use crate::svm::{LinearSvmParams, RbfSvmParams};
use crate::tree::DecisionTreeParams;
use crate::{Dataset, Learner, ModelError};

/// How a learner is called and described in listings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct About {
    /// Name used with `--model` and in tables (`rf`).
    pub name: &'static str,
    /// Other names `--model` accepts (`forest`).
    pub aliases: &'static [&'static str],
    /// What it is, in one line.
    pub description: &'static str,
}

impl About {
    /// A learner called `name` (or one of `aliases`) that is `description`.
    pub const fn new(
        name: &'static str,
        aliases: &'static [&'static str],
        description: &'static str,
    ) -> Self {
        About {
            name,
            aliases,
            description,
        }
    }
}

/// What a learner's parameter struct provides to [`ModelSpec`] (implemented in the learner's file).
pub trait LearnerParams: Send + Sync {
    /// Its name, aliases and description.
    fn about(&self) -> About;

    /// Visits every `--param` key in listing order: the one place a key, its aliases and its field
    /// are declared.
    fn visit_keys(&mut self, v: &mut dyn KeyVisitor) -> Result<(), ModelError>;

    /// Validates every parameter (fitting checks again).
    fn check(&self) -> Result<(), ModelError>;

    /// What fitting on `train` would allocate, for the learners whose parameters can ask for more
    /// memory than a machine has (checked against `--max-memory` before fitting; see
    /// [`crate::memory`]). `None`: small whatever the parameters.
    fn memory_estimate(&self, _train: &Dataset) -> Option<crate::memory::Estimate> {
        None
    }

    /// Fits on every row of `train`. `valid`, when given, serves only for early stopping, by the
    /// learners that have it (GBDT); the others ignore it.
    fn fit_model(
        &self,
        train: &Dataset,
        valid: Option<&Dataset>,
    ) -> Result<FittedModel, ModelError>;
}

/// A model: one learner with its parameters, or an ensemble of nested specs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "kebab-case")]
pub enum ModelSpec {
    /// Class-prior baseline.
    Prior(PriorParams),
    /// Logistic regression.
    Logreg(LogisticRegressionParams),
    /// Gaussian naive Bayes.
    Gnb(GaussianNbParams),
    /// Bernoulli naive Bayes.
    Bnb(BernoulliNbParams),
    /// CART decision tree.
    Dt(DecisionTreeParams),
    /// Random forest.
    Rf(RandomForestParams),
    /// AdaBoost.
    Ada(AdaBoostParams),
    /// Gradient-boosted trees.
    Gbdt(GbdtParams),
    /// Linear SVM.
    Linsvm(LinearSvmParams),
    /// RBF-kernel SVM.
    Svm(RbfSvmParams),
    /// LSTM sequence classifier (`cell` must be `lstm`).
    Lstm(SeqClassifierParams),
    /// GRU sequence classifier (`cell` must be `gru`).
    Gru(SeqClassifierParams),
    /// Elman RNN sequence classifier (`cell` must be `rnn`).
    Rnn(SeqClassifierParams),
    /// SR-GNN sequence classifier (`encoder` must be the graph encoder).
    Srgnn(SeqClassifierParams),
    /// SASRec sequence classifier (`encoder` must be the attention encoder).
    Sasrec(SeqClassifierParams),
    /// Stacking over out-of-fold predictions.
    Stack(StackSpec),
    /// Soft or hard voting.
    Vote(VoteSpec),
    /// Bagging of one base model.
    Bag(BagSpec),
}

/// A stacking ensemble (see [`crate::ensemble::stacking`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StackSpec {
    /// Base models.
    pub bases: Vec<ModelSpec>,
    /// Meta-learner, fitted on the bases' out-of-fold probabilities.
    pub meta: Box<ModelSpec>,
    /// Number of folds (stratified) or of predicted blocks (temporal).
    pub folds: usize,
    /// Forward-chaining folds over time-ordered rows instead of shuffled stratified folds.
    #[serde(default)]
    pub temporal: bool,
    /// Also give the meta-learner the original features.
    #[serde(default)]
    pub passthrough: bool,
    /// Shuffle seed of the stratified folds (`None` = 0).
    #[serde(default)]
    pub seed: Option<u64>,
}

/// A voting ensemble (see [`crate::ensemble::voting`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VoteSpec {
    /// Members.
    pub bases: Vec<ModelSpec>,
    /// Soft (average probabilities) or hard (majority of labels).
    pub kind: VoteKind,
    /// Member weights (`None` = equal).
    #[serde(default)]
    pub weights: Option<Vec<f64>>,
}

/// A bagging ensemble (see [`crate::ensemble::bagging`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BagSpec {
    /// The model to bag.
    pub base: Box<ModelSpec>,
    /// Number of bootstrap models.
    pub n_estimators: usize,
    /// Sample size as a fraction of the rows, in (0, 1].
    #[serde(default = "one")]
    pub max_samples: f64,
    /// Seed of the bootstrap draws (`None` = 0).
    #[serde(default)]
    pub seed: Option<u64>,
}

fn one() -> f64 {
    1.0
}

/// The ensembles the command line builds from `--base`/`--meta` flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnsembleKind {
    /// `stack`.
    Stack,
    /// `vote` (soft).
    Vote,
    /// `vote-hard`.
    VoteHard,
    /// `bag` (bags the first base).
    Bag,
}

cartseq_data::named_enum!(EnsembleKind, "an ensemble", [
    "stack" => EnsembleKind::Stack,
    "vote" => EnsembleKind::Vote,
    "vote-hard" => EnsembleKind::VoteHard,
    "bag" => EnsembleKind::Bag,
]);

/// A single learner as listings show it: name, description and `key=default` parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelInfo {
    /// Name used with `--model`.
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// Parameter keys with their defaults, `key=default`, in listing order.
    pub params: Vec<String>,
}

impl ModelSpec {
    /// Every single learner with its default parameters, in leaderboard order.
    pub fn learners() -> Vec<ModelSpec> {
        vec![
            ModelSpec::Prior(PriorParams::default()),
            ModelSpec::Logreg(LogisticRegressionParams::default()),
            ModelSpec::Gnb(GaussianNbParams::default()),
            ModelSpec::Bnb(BernoulliNbParams::default()),
            ModelSpec::Dt(DecisionTreeParams::default()),
            ModelSpec::Rf(RandomForestParams::default()),
            ModelSpec::Ada(AdaBoostParams::default()),
            ModelSpec::Gbdt(GbdtParams::default()),
            ModelSpec::Linsvm(LinearSvmParams::default()),
            ModelSpec::Svm(RbfSvmParams::default()),
            ModelSpec::Lstm(SeqClassifierParams::new(CellKind::Lstm)),
            ModelSpec::Gru(SeqClassifierParams::new(CellKind::Gru)),
            ModelSpec::Rnn(SeqClassifierParams::new(CellKind::Rnn)),
            ModelSpec::Srgnn(SeqClassifierParams::srgnn()),
            ModelSpec::Sasrec(SeqClassifierParams::sasrec()),
        ]
    }

    /// The learner's parameters, or the ensemble as a learner over its member specs.
    fn parts(&self) -> Parts<'_> {
        match self {
            ModelSpec::Prior(p) => Parts::Single(p),
            ModelSpec::Logreg(p) => Parts::Single(p),
            ModelSpec::Gnb(p) => Parts::Single(p),
            ModelSpec::Bnb(p) => Parts::Single(p),
            ModelSpec::Dt(p) => Parts::Single(p),
            ModelSpec::Rf(p) => Parts::Single(p),
            ModelSpec::Ada(p) => Parts::Single(p),
            ModelSpec::Gbdt(p) => Parts::Single(p),
            ModelSpec::Linsvm(p) => Parts::Single(p),
            ModelSpec::Svm(p) => Parts::Single(p),
            ModelSpec::Lstm(p)
            | ModelSpec::Gru(p)
            | ModelSpec::Rnn(p)
            | ModelSpec::Srgnn(p)
            | ModelSpec::Sasrec(p) => Parts::Single(p),
            ModelSpec::Stack(s) => Parts::Ensemble(Box::new(s.stacking())),
            ModelSpec::Vote(v) => Parts::Ensemble(Box::new(v.voting())),
            ModelSpec::Bag(b) => Parts::Ensemble(Box::new(b.bagging())),
        }
    }

    /// The learner's parameters (`None` for an ensemble).
    pub fn params(&self) -> Option<&dyn LearnerParams> {
        match self.parts() {
            Parts::Single(p) => Some(p),
            Parts::Ensemble(_) => None,
        }
    }

    /// The learner's parameters, mutable (`None` for an ensemble).
    fn params_mut(&mut self) -> Option<&mut dyn LearnerParams> {
        Some(match self {
            ModelSpec::Prior(p) => p,
            ModelSpec::Logreg(p) => p,
            ModelSpec::Gnb(p) => p,
            ModelSpec::Bnb(p) => p,
            ModelSpec::Dt(p) => p,
            ModelSpec::Rf(p) => p,
            ModelSpec::Ada(p) => p,
            ModelSpec::Gbdt(p) => p,
            ModelSpec::Linsvm(p) => p,
            ModelSpec::Svm(p) => p,
            ModelSpec::Lstm(p)
            | ModelSpec::Gru(p)
            | ModelSpec::Rnn(p)
            | ModelSpec::Srgnn(p)
            | ModelSpec::Sasrec(p) => p,
            _ => return None,
        })
    }

    /// The learner called `name` (or one of its aliases: `nb`, `lr`, `forest`, …) with its defaults.
    pub fn defaults(name: &str) -> Option<ModelSpec> {
        Self::learners().into_iter().find(|s| {
            s.params()
                .is_some_and(|p| p.about().name == name || p.about().aliases.contains(&name))
        })
    }

    /// The learner `name` with `key=value` parameters applied over its defaults, validated. Unknown
    /// names, unknown keys and unparsable values are errors that list what is accepted.
    pub fn from_cli<S: AsRef<str>>(name: &str, params: &[S]) -> Result<ModelSpec, ModelError> {
        let mut spec = Self::defaults(name).ok_or_else(|| {
            let known: Vec<&str> = Self::learners()
                .iter()
                .filter_map(|s| s.params().map(|p| p.about().name))
                .collect();
            ModelError::Registry(format!(
                "unknown model `{name}` (known: {})",
                known.join(", ")
            ))
        })?;
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|s| split_kv(s.as_ref()))
            .collect::<Result<_, _>>()?;
        let keys = spec.keys();
        if let Some(&(k, _)) = pairs
            .iter()
            .find(|(k, _)| !keys.iter().any(|(names, _)| names.contains(k)))
        {
            let names: Vec<&str> = keys.iter().map(|(names, _)| names[0]).collect();
            return Err(ModelError::Registry(format!(
                "model `{}` has no parameter `{k}` (parameters: {})",
                spec.name(),
                names.join(", ")
            )));
        }
        if let Some(p) = spec.params_mut() {
            p.visit_keys(&mut KeySetter { pairs: &pairs })?;
        }
        spec.check()?;
        Ok(spec)
    }

    fn keys(&mut self) -> Vec<(Names, String)> {
        let mut list = KeyList::default();
        if let Some(p) = self.params_mut() {
            // Listing never fails: `KeyList` only reads.
            let _ = p.visit_keys(&mut list);
        }
        list.0
    }

    /// The parameters as `key=value` with their current values (empty for an ensemble).
    pub fn param_list(&self) -> Vec<String> {
        let mut spec = self.clone();
        spec.keys()
            .into_iter()
            .map(|(names, v)| format!("{}={v}", names[0]))
            .collect()
    }

    /// Name, description and default parameters of every single learner, in leaderboard order.
    pub fn catalog() -> Vec<ModelInfo> {
        Self::learners()
            .iter()
            .filter_map(ModelSpec::info_of)
            .collect()
    }

    /// The listing entry of learner `name` (aliases accepted).
    pub fn info(name: &str) -> Option<ModelInfo> {
        Self::defaults(name).as_ref().and_then(ModelSpec::info_of)
    }

    fn info_of(&self) -> Option<ModelInfo> {
        let p = self.params()?;
        Some(ModelInfo {
            name: p.about().name,
            description: p.about().description,
            params: self.param_list(),
        })
    }

    /// An ensemble of `bases` as the command line builds it: `meta` is the meta-learner of a stack
    /// (logistic regression when `None`), `folds` its fold count (forward-chaining over time-ordered rows
    /// when `temporal`), `bag_size` the number of bootstrap models of `bag` (which bags the first base).
    /// Seeds are left unset for [`ModelSpec::seed_if_unset`].
    pub fn ensemble(
        kind: EnsembleKind,
        bases: Vec<ModelSpec>,
        meta: Option<ModelSpec>,
        folds: usize,
        temporal: bool,
        bag_size: usize,
    ) -> Result<ModelSpec, ModelError> {
        let first = bases.first().cloned().ok_or(ModelError::invalid(
            "base",
            "(none)",
            "at least one base model",
        ))?;
        let spec = match kind {
            EnsembleKind::Stack => ModelSpec::Stack(StackSpec {
                bases,
                meta: Box::new(meta.unwrap_or(ModelSpec::Logreg(Default::default()))),
                folds,
                temporal,
                passthrough: false,
                seed: None,
            }),
            EnsembleKind::Vote | EnsembleKind::VoteHard => ModelSpec::Vote(VoteSpec {
                bases,
                kind: if kind == EnsembleKind::Vote {
                    VoteKind::Soft
                } else {
                    VoteKind::Hard
                },
                weights: None,
            }),
            EnsembleKind::Bag => ModelSpec::Bag(BagSpec {
                base: Box::new(first),
                n_estimators: bag_size,
                max_samples: 1.0,
                seed: None,
            }),
        };
        spec.check()?;
        Ok(spec)
    }

    /// Sets the seed of every learner that has one (recursively, ensembles' own seeds included) unless
    /// it was given.
    pub fn seed_if_unset(&mut self, seed: u64) {
        match self {
            ModelSpec::Stack(s) => {
                s.seed.get_or_insert(seed);
                s.meta.seed_if_unset(seed);
                s.bases.iter_mut().for_each(|b| b.seed_if_unset(seed));
            }
            ModelSpec::Vote(v) => v.bases.iter_mut().for_each(|b| b.seed_if_unset(seed)),
            ModelSpec::Bag(b) => {
                b.seed.get_or_insert(seed);
                b.base.seed_if_unset(seed);
            }
            single => {
                if let Some(p) = single.params_mut() {
                    // `SeedFiller` never fails.
                    let _ = p.visit_keys(&mut SeedFiller(seed));
                }
            }
        }
    }

    /// Whether the model reads token sequences (an RNN/LSTM/GRU/SR-GNN/SASRec, or an ensemble with
    /// one).
    pub fn needs_seq(&self) -> bool {
        match self {
            ModelSpec::Lstm(_)
            | ModelSpec::Gru(_)
            | ModelSpec::Rnn(_)
            | ModelSpec::Srgnn(_)
            | ModelSpec::Sasrec(_) => true,
            ModelSpec::Stack(s) => s.meta.needs_seq() || s.bases.iter().any(ModelSpec::needs_seq),
            ModelSpec::Vote(v) => v.bases.iter().any(ModelSpec::needs_seq),
            ModelSpec::Bag(b) => b.base.needs_seq(),
            _ => false,
        }
    }

    /// Short name for tables: the learner's (`rf`) or the ensemble's (`stack(rf+gbdt->logreg)`).
    pub fn name(&self) -> String {
        match self.parts() {
            Parts::Single(p) => p.about().name.to_string(),
            Parts::Ensemble(e) => e.name(),
        }
    }

    /// What it is, in one line.
    pub fn description(&self) -> String {
        match self {
            ModelSpec::Stack(_) => "stacking over out-of-fold predictions".into(),
            ModelSpec::Vote(_) => "soft or hard voting".into(),
            ModelSpec::Bag(_) => "bagging of one base model".into(),
            single => single
                .params()
                .map_or_else(String::new, |p| p.about().description.to_string()),
        }
    }

    /// Validates every parameter (members of ensembles included).
    pub fn check(&self) -> Result<(), ModelError> {
        // A sequence variant's parameters must name it (the cell or the encoder).
        let named = match self {
            ModelSpec::Lstm(p) => Some((p.name(), "lstm")),
            ModelSpec::Gru(p) => Some((p.name(), "gru")),
            ModelSpec::Rnn(p) => Some((p.name(), "rnn")),
            ModelSpec::Srgnn(p) => Some((p.name(), "srgnn")),
            ModelSpec::Sasrec(p) => Some((p.name(), "sasrec")),
            _ => None,
        };
        if let Some((got, want)) = named.filter(|(got, want)| got != want) {
            return Err(ModelError::invalid("cell", got, want));
        }
        match self {
            ModelSpec::Stack(s) => {
                s.meta.check()?;
                s.bases.iter().try_for_each(ModelSpec::check)?;
                s.stacking().check()
            }
            ModelSpec::Vote(v) => {
                v.bases.iter().try_for_each(ModelSpec::check)?;
                v.voting().check().map(|_| ())
            }
            ModelSpec::Bag(b) => {
                b.base.check()?;
                b.bagging().check()
            }
            single => single.params().map_or(Ok(()), |p| p.check()),
        }
    }

    /// Refuses parameters whose memory estimate on `train` exceeds `--max-memory`
    /// ([`crate::memory`]); ensembles check every member (a bag: its base, once per copy).
    pub fn check_memory(&self, train: &Dataset) -> Result<(), ModelError> {
        match self {
            ModelSpec::Stack(s) => {
                s.meta.check_memory(train)?;
                s.bases.iter().try_for_each(|b| b.check_memory(train))
            }
            ModelSpec::Vote(v) => v.bases.iter().try_for_each(|b| b.check_memory(train)),
            ModelSpec::Bag(b) => match b.base.params().and_then(|p| p.memory_estimate(train)) {
                Some(mut e) => {
                    e.bytes = e.bytes.saturating_mul(b.n_estimators as u64);
                    e.check().map_err(|err| match err {
                        ModelError::Memory { need, limit, .. } => ModelError::Memory {
                            param: "--bag-size".into(),
                            value: b.n_estimators.to_string(),
                            need,
                            limit,
                        },
                        other => other,
                    })
                }
                None => b.base.check_memory(train),
            },
            single => single
                .params()
                .and_then(|p| p.memory_estimate(train))
                .map_or(Ok(()), |e| e.check()),
        }
    }

    /// Fits on every row of `ds`.
    pub fn fit(&self, ds: &Dataset) -> Result<FittedModel, ModelError> {
        self.check_memory(ds)?;
        match self.parts() {
            Parts::Single(p) => p.fit_model(ds, None),
            Parts::Ensemble(e) => e.fit_model(ds),
        }
    }

    /// Fits on `train`, early-stopping on `valid` where the learner can (GBDT); others ignore it.
    pub fn fit_with_validation(
        &self,
        train: &Dataset,
        valid: &Dataset,
    ) -> Result<FittedModel, ModelError> {
        self.check_memory(train)?;
        match self.parts() {
            Parts::Single(p) => p.fit_model(train, Some(valid)),
            Parts::Ensemble(e) => e.fit_model(train),
        }
    }
}

/// A spec seen as what fits it.
enum Parts<'a> {
    Single(&'a dyn LearnerParams),
    Ensemble(Box<dyn Learner>),
}

fn boxed(specs: &[ModelSpec]) -> Vec<Box<dyn Learner>> {
    specs
        .iter()
        .map(|s| Box::new(s.clone()) as Box<dyn Learner>)
        .collect()
}

impl StackSpec {
    /// The stacking learner over the member specs.
    pub fn stacking(&self) -> Stacking {
        let folds = if self.temporal {
            Folds::Temporal { k: self.folds }
        } else {
            Folds::Stratified {
                k: self.folds,
                seed: self.seed.unwrap_or(0),
            }
        };
        Stacking::new(boxed(&self.bases), Box::new(self.meta.as_ref().clone()))
            .folds(folds)
            .passthrough(self.passthrough)
    }
}

impl VoteSpec {
    /// The voting learner over the member specs.
    pub fn voting(&self) -> Voting {
        let mut v = Voting::new(boxed(&self.bases), self.kind);
        v.weights.clone_from(&self.weights);
        v
    }
}

impl BagSpec {
    /// The bagging learner over the base spec.
    pub fn bagging(&self) -> Bagging {
        Bagging::new(Box::new(self.base.as_ref().clone()))
            .n_estimators(self.n_estimators)
            .max_samples(self.max_samples)
            .seed(self.seed.unwrap_or(0))
    }
}

impl Learner for ModelSpec {
    fn fit_model(&self, ds: &Dataset) -> Result<FittedModel, ModelError> {
        self.fit(ds)
    }

    fn name(&self) -> String {
        ModelSpec::name(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_every_model_with_defaults() {
        for m in ModelSpec::catalog() {
            let l = ModelSpec::from_cli::<&str>(m.name, &[]).unwrap();
            assert_eq!(l.name(), m.name);
            // Every documented default parses back to the same values.
            let back = ModelSpec::from_cli(m.name, &m.params)
                .unwrap_or_else(|e| panic!("{}: {e}", m.name));
            assert_eq!(back.param_list(), m.params, "{}", m.name);
        }
    }

    #[test]
    fn errors_are_clear() {
        let e = ModelSpec::from_cli("rff", &["x=1"])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("unknown model `rff`") && e.contains("rf"), "{e}");
        let e = ModelSpec::from_cli("rf", &["n_tree=3"])
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("no parameter `n_tree`") && e.contains("n_trees"),
            "{e}"
        );
        let e = ModelSpec::from_cli("rf", &["n_trees=abc"])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("n_trees = abc"), "{e}");
        let e = ModelSpec::from_cli("rf", &["n_trees=0"])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("n_trees"), "{e}");
        assert!(ModelSpec::from_cli("dt", &["max_depth"]).is_err());
        assert_eq!(
            ModelSpec::from_cli("nb", &["var_smoothing=1e-8"])
                .unwrap()
                .name(),
            "gnb"
        );
    }

    #[test]
    fn the_help_listing_is_the_documented_one() {
        let rf = ModelSpec::info("forest").unwrap();
        assert_eq!(rf.name, "rf");
        assert_eq!(
            rf.params.join(" "),
            "n_trees=100 criterion=gini max_depth=none min_samples_split=2 min_samples_leaf=1 \
             min_impurity_decrease=0 max_features=sqrt bootstrap=true max_samples=1 oob_score=false \
             max_bins=255 class_weight=none seed=0"
        );
        let lstm = ModelSpec::info("lstm").unwrap();
        assert_eq!(
            lstm.params.join(" "),
            "embed_dim=32 hidden=64 dropout=0.1 epochs=10 batch_size=64 lr=0.001 optimizer=adam \
             momentum=0.9 lr_decay=1 lr_step=0 weight_decay=0 clip_norm=5 valid_fraction=0.1 \
             patience=3 max_len=200 seed=42"
        );
    }

    #[test]
    fn sequence_keys_combine_in_any_order() {
        let a = ModelSpec::from_cli(
            "lstm",
            &[
                "lr_step=2",
                "momentum=0.5",
                "optimizer=sgd",
                "lr_decay=0.5",
                "hidden=128+64",
            ],
        )
        .unwrap();
        let b = ModelSpec::from_cli(
            "lstm",
            &[
                "hidden=128+64",
                "optimizer=sgd",
                "momentum=0.5",
                "lr_decay=0.5",
                "lr_step=2",
            ],
        )
        .unwrap();
        assert_eq!(a, b);
        let ModelSpec::Lstm(p) = a else { panic!() };
        assert_eq!(p.hidden, vec![128, 64]);
        assert_eq!(
            p.schedule,
            crate::nn::LrSchedule::Step {
                every: 2,
                gamma: 0.5
            }
        );
        assert_eq!(p.optimizer, crate::nn::OptimizerKind::Sgd { momentum: 0.5 });
        assert!(ModelSpec::from_cli("lstm", &["hidden=0"]).is_err());
        assert!(ModelSpec::from_cli("lstm", &["nope=1"]).is_err());
        assert!(ModelSpec::from_cli("cnn", &[] as &[&str]).is_err());
        assert!(ModelSpec::from_cli("gru", &["optimizer=rmsprop"]).is_err());
    }

    #[test]
    fn seeds_fill_only_what_the_user_left_open() {
        let mut s = ModelSpec::ensemble(
            EnsembleKind::Stack,
            vec![
                ModelSpec::from_cli("rf", &["seed=5"]).unwrap(),
                ModelSpec::from_cli::<&str>("gru", &[]).unwrap(),
            ],
            None,
            3,
            false,
            10,
        )
        .unwrap();
        s.seed_if_unset(9);
        let ModelSpec::Stack(st) = &s else { panic!() };
        assert_eq!(st.seed, Some(9));
        assert!(matches!(&st.bases[0], ModelSpec::Rf(p) if p.tree.shared.seed == Some(5)));
        assert!(matches!(&st.bases[1], ModelSpec::Gru(p) if p.seed == Some(9)));
        assert!(s.needs_seq());
        assert_eq!(s.name(), "stack(rf+gru->logreg)");
        // A spec is data: it reads back from its JSON.
        let text = serde_json::to_string(&s).unwrap();
        assert!(text.starts_with("{\"model\":\"stack\""), "{text}");
        assert_eq!(serde_json::from_str::<ModelSpec>(&text).unwrap(), s);
    }
}
