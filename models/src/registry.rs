//! Model registry: a model name plus `key=value` strings → a validated, boxed [`Learner`].
//!
//! This is what `cartseq train --model rf --param n_trees=200 --param max_depth=12` goes through:
//! [`learner`] looks the name up in [`MODELS`], applies each parameter with the same parser the docs
//! list in [`params_of`], validates the whole set once and returns the learner. Unknown names, unknown
//! keys and bad values are errors that list what is accepted.
//!
//! Common keys: `class_weight=none|balanced|w0,w1,…`, `seed=N` (for models with randomness).

use crate::adaboost::{AdaBoostAlgorithm, AdaBoostParams};
use crate::baseline::PriorParams;
use crate::class_weight::ClassWeight;
use crate::forest::RandomForestParams;
use crate::gbdt::GbdtParams;
use crate::logistic::LogisticRegressionParams;
use crate::naive_bayes::{BernoulliNbParams, GaussianNbParams};
use crate::nn::registry::NN_PARAMS;
use crate::svm::{LinearSvmParams, RbfSvmParams};
use crate::tree::{Criterion, DecisionTreeParams, MaxFeatures};
use crate::{Learner, ModelError};

/// One registered model: its name, a one-line description and its parameter keys.
#[derive(Clone, Copy, Debug)]
pub struct ModelInfo {
    /// Name used with `--model`.
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// Parameter keys with their defaults, `key=default`.
    pub params: &'static [&'static str],
}

const TREE_KEYS: [&str; 9] = [
    "criterion=gini",
    "max_depth=none",
    "min_samples_split=2",
    "min_samples_leaf=1",
    "min_impurity_decrease=0",
    "max_features=all",
    "max_bins=255",
    "class_weight=none",
    "seed=0",
];

/// Every registered model, in leaderboard order.
pub const MODELS: &[ModelInfo] = &[
    ModelInfo {
        name: "prior",
        description: "class-prior (majority) baseline",
        params: &["class_weight=none"],
    },
    ModelInfo {
        name: "logreg",
        description: "L2 logistic regression (L-BFGS)",
        params: &[
            "c=1",
            "max_iter=200",
            "tol=1e-6",
            "fit_intercept=true",
            "class_weight=none",
        ],
    },
    ModelInfo {
        name: "gnb",
        description: "Gaussian naive Bayes",
        params: &["var_smoothing=1e-9", "class_weight=none"],
    },
    ModelInfo {
        name: "bnb",
        description: "Bernoulli naive Bayes",
        params: &["alpha=1", "binarize=0", "class_weight=none"],
    },
    ModelInfo {
        name: "dt",
        description: "CART decision tree",
        params: &TREE_KEYS,
    },
    ModelInfo {
        name: "rf",
        description: "random forest",
        params: &[
            "n_trees=100",
            "criterion=gini",
            "max_depth=none",
            "min_samples_split=2",
            "min_samples_leaf=1",
            "min_impurity_decrease=0",
            "max_features=sqrt",
            "bootstrap=true",
            "max_samples=1",
            "oob_score=false",
            "max_bins=255",
            "class_weight=none",
            "seed=0",
        ],
    },
    ModelInfo {
        name: "ada",
        description: "AdaBoost (SAMME / SAMME.R) over shallow trees",
        params: &[
            "n_estimators=50",
            "learning_rate=1",
            "algorithm=samme",
            "max_depth=1",
            "min_samples_leaf=1",
            "max_bins=255",
            "class_weight=none",
            "seed=0",
        ],
    },
    ModelInfo {
        name: "gbdt",
        description: "histogram gradient-boosted trees (log-loss)",
        params: &[
            "n_estimators=100",
            "learning_rate=0.1",
            "max_depth=none",
            "max_leaves=31",
            "min_samples_leaf=20",
            "l2=0",
            "max_bins=255",
            "early_stopping=auto",
            "validation_fraction=0.1",
            "n_iter_no_change=10",
            "tol=1e-7",
            "class_weight=none",
            "seed=0",
        ],
    },
    ModelInfo {
        name: "linsvm",
        description:
            "linear SVM (primal L-BFGS or dual coordinate descent) with Platt probabilities",
        params: &[
            "c=1",
            "max_iter=1000",
            "tol=0.001",
            "solver=auto",
            "class_weight=none",
            "seed=0",
        ],
    },
    ModelInfo {
        name: "svm",
        description: "RBF-kernel SVM (SMO) with Platt probabilities, moderate n",
        params: &[
            "c=1",
            "gamma=scale",
            "tol=0.001",
            "max_iter=10000000",
            "max_rows=20000",
            "cache_mb=200",
            "class_weight=none",
            "seed=0",
        ],
    },
    ModelInfo {
        name: "lstm",
        description: "embedding → LSTM layers → softmax over the token sequence (reads `seq`)",
        params: NN_PARAMS,
    },
    ModelInfo {
        name: "gru",
        description: "embedding → GRU layers → softmax over the token sequence (reads `seq`)",
        params: NN_PARAMS,
    },
    ModelInfo {
        name: "rnn",
        description: "embedding → Elman RNN layers → softmax over the token sequence (reads `seq`)",
        params: NN_PARAMS,
    },
];

/// The registry entry of `name` (aliases: `nb` → `gnb`, `lr`/`logistic` → `logreg`, `adaboost` → `ada`).
pub fn info(name: &str) -> Option<&'static ModelInfo> {
    let name = canonical(name);
    MODELS.iter().find(|m| m.name == name)
}

fn canonical(name: &str) -> &str {
    match name {
        "nb" | "gaussian_nb" => "gnb",
        "lr" | "logistic" => "logreg",
        "adaboost" => "ada",
        "linear_svm" | "linearsvm" => "linsvm",
        "majority" | "baseline" => "prior",
        "tree" => "dt",
        "forest" => "rf",
        other => other,
    }
}

/// The parameter list of `name` with defaults (`key=default`).
pub fn params_of(name: &str) -> Option<&'static [&'static str]> {
    info(name).map(|m| m.params)
}

fn unknown_model(name: &str) -> ModelError {
    let known: Vec<&str> = MODELS.iter().map(|m| m.name).collect();
    ModelError::Registry(format!(
        "unknown model `{name}` (known: {})",
        known.join(", ")
    ))
}

/// Splits `key=value`.
fn split_kv(kv: &str) -> Result<(&str, &str), ModelError> {
    kv.split_once('=')
        .map(|(k, v)| (k.trim(), v.trim()))
        .ok_or_else(|| {
            ModelError::Registry(format!("parameter `{kv}` is not of the form key=value"))
        })
}

fn bad(key: &str, value: &str, expected: &str) -> ModelError {
    ModelError::Registry(format!(
        "invalid parameter {key} = {value}: expected {expected}"
    ))
}

fn p_usize(k: &str, v: &str) -> Result<usize, ModelError> {
    v.parse().map_err(|_| bad(k, v, "a non-negative integer"))
}

fn p_u64(k: &str, v: &str) -> Result<u64, ModelError> {
    v.parse().map_err(|_| bad(k, v, "a non-negative integer"))
}

fn p_f64(k: &str, v: &str) -> Result<f64, ModelError> {
    v.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| bad(k, v, "a finite number"))
}

fn p_bool(k: &str, v: &str) -> Result<bool, ModelError> {
    match v {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(bad(k, v, "true or false")),
    }
}

fn p_opt_usize(k: &str, v: &str) -> Result<Option<usize>, ModelError> {
    if v == "none" {
        Ok(None)
    } else {
        p_usize(k, v).map(Some)
    }
}

fn p_criterion(k: &str, v: &str) -> Result<Criterion, ModelError> {
    match v {
        "gini" => Ok(Criterion::Gini),
        "entropy" => Ok(Criterion::Entropy),
        _ => Err(bad(k, v, "gini or entropy")),
    }
}

fn unknown_key(model: &str, key: &str) -> ModelError {
    let keys: Vec<&str> = params_of(model)
        .unwrap_or(&[])
        .iter()
        .map(|kv| kv.split('=').next().unwrap_or(kv))
        .collect();
    ModelError::Registry(format!(
        "model `{model}` has no parameter `{key}` (parameters: {})",
        keys.join(", ")
    ))
}

/// A validated learner for `name` with `params` (`key=value` strings) applied over the defaults.
pub fn learner<S: AsRef<str>>(name: &str, params: &[S]) -> Result<Box<dyn Learner>, ModelError> {
    let canon = canonical(name);
    let kvs: Vec<(&str, &str)> = params
        .iter()
        .map(|s| split_kv(s.as_ref()))
        .collect::<Result<_, _>>()?;
    macro_rules! apply {
        ($p:expr, $set:expr) => {{
            let mut p = $p;
            for &(k, v) in &kvs {
                #[allow(clippy::redundant_closure_call)]
                $set(&mut p, k, v)?;
            }
            p.check()?;
            Ok(Box::new(p) as Box<dyn Learner>)
        }};
    }
    match canon {
        "prior" => {
            let mut p = PriorParams::default();
            for &(k, v) in &kvs {
                match k {
                    "class_weight" => p.class_weight = ClassWeight::parse(v)?,
                    _ => return Err(unknown_key(canon, k)),
                }
            }
            Ok(Box::new(p))
        }
        "logreg" => apply!(
            LogisticRegressionParams::default(),
            |p: &mut LogisticRegressionParams, k: &str, v: &str| {
                match k {
                    "c" | "C" => p.c = p_f64(k, v)?,
                    "max_iter" => p.max_iter = p_usize(k, v)?,
                    "tol" => p.tol = p_f64(k, v)?,
                    "fit_intercept" => p.fit_intercept = p_bool(k, v)?,
                    "class_weight" => p.class_weight = ClassWeight::parse(v)?,
                    _ => return Err(unknown_key(canon, k)),
                }
                Ok::<(), ModelError>(())
            }
        ),
        "gnb" => apply!(
            GaussianNbParams::default(),
            |p: &mut GaussianNbParams, k: &str, v: &str| {
                match k {
                    "var_smoothing" => p.var_smoothing = p_f64(k, v)?,
                    "class_weight" => p.class_weight = ClassWeight::parse(v)?,
                    _ => return Err(unknown_key(canon, k)),
                }
                Ok::<(), ModelError>(())
            }
        ),
        "bnb" => apply!(
            BernoulliNbParams::default(),
            |p: &mut BernoulliNbParams, k: &str, v: &str| {
                match k {
                    "alpha" => p.alpha = p_f64(k, v)?,
                    "binarize" => p.binarize = p_f64(k, v)?,
                    "class_weight" => p.class_weight = ClassWeight::parse(v)?,
                    _ => return Err(unknown_key(canon, k)),
                }
                Ok::<(), ModelError>(())
            }
        ),
        "dt" => apply!(
            DecisionTreeParams::default(),
            |p: &mut DecisionTreeParams, k: &str, v: &str| {
                match k {
                    "criterion" => p.criterion = p_criterion(k, v)?,
                    "max_depth" => p.max_depth = p_opt_usize(k, v)?,
                    "min_samples_split" => p.min_samples_split = p_usize(k, v)?,
                    "min_samples_leaf" => p.min_samples_leaf = p_usize(k, v)?,
                    "min_impurity_decrease" => p.min_impurity_decrease = p_f64(k, v)?,
                    "max_features" => p.max_features = MaxFeatures::parse(v)?,
                    "max_bins" => p.max_bins = p_usize(k, v)?,
                    "class_weight" => p.class_weight = ClassWeight::parse(v)?,
                    "seed" => p.seed = p_u64(k, v)?,
                    _ => return Err(unknown_key(canon, k)),
                }
                Ok::<(), ModelError>(())
            }
        ),
        "rf" => apply!(
            RandomForestParams::default(),
            |p: &mut RandomForestParams, k: &str, v: &str| {
                match k {
                    "n_trees" | "n_estimators" => p.n_trees = p_usize(k, v)?,
                    "criterion" => p.criterion = p_criterion(k, v)?,
                    "max_depth" => p.max_depth = p_opt_usize(k, v)?,
                    "min_samples_split" => p.min_samples_split = p_usize(k, v)?,
                    "min_samples_leaf" => p.min_samples_leaf = p_usize(k, v)?,
                    "min_impurity_decrease" => p.min_impurity_decrease = p_f64(k, v)?,
                    "max_features" => p.max_features = MaxFeatures::parse(v)?,
                    "bootstrap" => p.bootstrap = p_bool(k, v)?,
                    "max_samples" => p.max_samples = p_f64(k, v)?,
                    "oob_score" => p.oob_score = p_bool(k, v)?,
                    "max_bins" => p.max_bins = p_usize(k, v)?,
                    "class_weight" => p.class_weight = ClassWeight::parse(v)?,
                    "seed" => p.seed = p_u64(k, v)?,
                    _ => return Err(unknown_key(canon, k)),
                }
                Ok::<(), ModelError>(())
            }
        ),
        "ada" => apply!(
            AdaBoostParams::default(),
            |p: &mut AdaBoostParams, k: &str, v: &str| {
                match k {
                    "n_estimators" => p.n_estimators = p_usize(k, v)?,
                    "learning_rate" => p.learning_rate = p_f64(k, v)?,
                    "algorithm" => {
                        p.algorithm = match v {
                            "samme" | "SAMME" => AdaBoostAlgorithm::Samme,
                            "samme.r" | "SAMME.R" | "samme_r" => AdaBoostAlgorithm::SammeR,
                            _ => return Err(bad(k, v, "samme or samme.r")),
                        }
                    }
                    "max_depth" => p.max_depth = p_usize(k, v)?,
                    "min_samples_leaf" => p.min_samples_leaf = p_usize(k, v)?,
                    "max_bins" => p.max_bins = p_usize(k, v)?,
                    "class_weight" => p.class_weight = ClassWeight::parse(v)?,
                    "seed" => p.seed = p_u64(k, v)?,
                    _ => return Err(unknown_key(canon, k)),
                }
                Ok::<(), ModelError>(())
            }
        ),
        "gbdt" => apply!(
            GbdtParams::default(),
            |p: &mut GbdtParams, k: &str, v: &str| {
                match k {
                    "n_estimators" | "max_iter" => p.n_estimators = p_usize(k, v)?,
                    "learning_rate" => p.learning_rate = p_f64(k, v)?,
                    "max_depth" => p.max_depth = p_opt_usize(k, v)?,
                    "max_leaves" | "max_leaf_nodes" => p.max_leaves = p_usize(k, v)?,
                    "min_samples_leaf" => p.min_samples_leaf = p_usize(k, v)?,
                    "l2" | "l2_regularization" => p.l2 = p_f64(k, v)?,
                    "max_bins" => p.max_bins = p_usize(k, v)?,
                    "early_stopping" => {
                        p.early_stopping = match v {
                            "auto" => None,
                            other => Some(p_bool(k, other)?),
                        }
                    }
                    "validation_fraction" => p.validation_fraction = p_f64(k, v)?,
                    "n_iter_no_change" => p.n_iter_no_change = p_usize(k, v)?,
                    "tol" => p.tol = p_f64(k, v)?,
                    "class_weight" => p.class_weight = ClassWeight::parse(v)?,
                    "seed" => p.seed = p_u64(k, v)?,
                    _ => return Err(unknown_key(canon, k)),
                }
                Ok::<(), ModelError>(())
            }
        ),
        "linsvm" => apply!(
            LinearSvmParams::default(),
            |p: &mut LinearSvmParams, k: &str, v: &str| {
                match k {
                    "c" | "C" => p.c = p_f64(k, v)?,
                    "max_iter" => p.max_iter = p_usize(k, v)?,
                    "tol" => p.tol = p_f64(k, v)?,
                    "class_weight" => p.class_weight = ClassWeight::parse(v)?,
                    "seed" => p.seed = p_u64(k, v)?,
                    "solver" => p.solver = crate::svm::LinearSvmSolver::parse(v)?,
                    _ => return Err(unknown_key(canon, k)),
                }
                Ok::<(), ModelError>(())
            }
        ),
        "svm" => apply!(
            RbfSvmParams::default(),
            |p: &mut RbfSvmParams, k: &str, v: &str| {
                match k {
                    "c" | "C" => p.c = p_f64(k, v)?,
                    "gamma" => {
                        p.gamma = if v == "scale" {
                            None
                        } else {
                            Some(p_f64(k, v)?)
                        }
                    }
                    "tol" => p.tol = p_f64(k, v)?,
                    "max_iter" => p.max_iter = p_usize(k, v)?,
                    "max_rows" => p.max_rows = p_usize(k, v)?,
                    "cache_mb" => p.cache_mb = p_usize(k, v)?,
                    "class_weight" => p.class_weight = ClassWeight::parse(v)?,
                    "seed" => p.seed = p_u64(k, v)?,
                    _ => return Err(unknown_key(canon, k)),
                }
                Ok::<(), ModelError>(())
            }
        ),
        "lstm" | "gru" | "rnn" => {
            let kvs: Vec<String> = kvs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            Ok(Box::new(crate::nn::registry::learner(canon, &kvs)?) as Box<dyn Learner>)
        }
        _ => Err(unknown_model(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_every_model_with_defaults() {
        for m in MODELS {
            let l = learner::<&str>(m.name, &[]).unwrap();
            assert_eq!(l.name(), m.name);
            // Every documented default parses back.
            learner(m.name, m.params).unwrap_or_else(|e| panic!("{}: {e}", m.name));
        }
    }

    #[test]
    fn errors_are_clear() {
        let e = learner("rff", &["x=1"]).err().unwrap().to_string();
        assert!(e.contains("unknown model `rff`") && e.contains("rf"), "{e}");
        let e = learner("rf", &["n_tree=3"]).err().unwrap().to_string();
        assert!(
            e.contains("no parameter `n_tree`") && e.contains("n_trees"),
            "{e}"
        );
        let e = learner("rf", &["n_trees=abc"]).err().unwrap().to_string();
        assert!(e.contains("n_trees = abc"), "{e}");
        let e = learner("rf", &["n_trees=0"]).err().unwrap().to_string();
        assert!(e.contains("n_trees"), "{e}");
        assert!(learner("dt", &["max_depth"]).is_err());
        assert_eq!(
            learner("nb", &["var_smoothing=1e-8"]).unwrap().name(),
            "gnb"
        );
    }
}
