//! AdaBoost with real sample weights (no resampling) over shallow CART trees: SAMME and SAMME.R.
//!
//! Source: Zhu, Zou, Rosset & Hastie, "Multi-class AdaBoost", Statistics and its Interface 2 (2009);
//! Freund & Schapire (1997) for the two-class case. Behaviour follows scikit-learn's
//! `AdaBoostClassifier`: SAMME weights each tree by `lr · (ln((1 − err)/err) + ln(K − 1))`, stops early on
//! a perfect tree, refuses a first tree no better than chance; probabilities are
//! `softmax(decision / (K − 1))` (two classes: `softmax([−d, d] / 2)`). SAMME.R adds
//! `(K − 1)(ln p_k − mean_j ln p_j)` of each tree's leaf probabilities (as scikit-learn ≤ 1.5 did).
//! The trees are grown on the effective weights directly ([`crate::tree`]), never on a resample.
//!
//! Cost: n_estimators × (one shallow tree, O(n · d · depth)) plus a prediction pass per round; memory
//! n · d bytes of bins shared by all rounds.

#![allow(clippy::needless_range_loop)]

use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::fitted::{corrupt, Fitted, FittedModel, Signature};
use crate::params::{
    check_at_least_one, check_positive, setter, KeyVisitor, Named, SharedParams, WithShared,
};
use crate::spec::{About, LearnerParams};
use crate::tree::{
    check_tree_limits, grow_tree, normalise, predict_rows, BinnedData, Criterion, GrowConfig, Tree,
};
use crate::{Dataset, ModelError};

/// Which AdaBoost variant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdaBoostAlgorithm {
    /// Discrete SAMME on predicted labels.
    #[default]
    Samme,
    /// Real SAMME.R on predicted class probabilities.
    SammeR,
}

cartseq_data::named_enum!(AdaBoostAlgorithm, "an AdaBoost variant", [
    "samme" | "SAMME" => AdaBoostAlgorithm::Samme,
    "samme.r" | "SAMME.R" | "samme_r" => AdaBoostAlgorithm::SammeR,
]);
impl Named for AdaBoostAlgorithm {}

/// Parameters of an [`AdaBoost`] model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdaBoostParams {
    /// Maximum number of boosting rounds (default 50).
    pub n_estimators: usize,
    /// Shrinkage of every tree's weight (default 1).
    pub learning_rate: f64,
    /// Variant (default SAMME, scikit-learn's only one since 1.6).
    pub algorithm: AdaBoostAlgorithm,
    /// Depth of each tree (default 1: stumps).
    pub max_depth: usize,
    /// Minimum rows per leaf (default 1).
    pub min_samples_leaf: usize,
    /// Bins per feature (default 255).
    pub max_bins: usize,
    /// Class weights and seed (the trees consider every feature, so the seed only fixes ties).
    #[serde(flatten)]
    pub shared: SharedParams,
}

impl Default for AdaBoostParams {
    fn default() -> Self {
        AdaBoostParams {
            n_estimators: 50,
            learning_rate: 1.0,
            algorithm: AdaBoostAlgorithm::Samme,
            max_depth: 1,
            min_samples_leaf: 1,
            max_bins: 255,
            shared: SharedParams::default(),
        }
    }
}

/// A fitted AdaBoost ensemble.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdaBoost {
    /// The trees (leaf values are class probabilities).
    pub trees: Vec<Tree>,
    /// Weight of each tree (SAMME); all 1 for SAMME.R.
    pub tree_weights: Vec<f64>,
    /// Variant used.
    pub algorithm: AdaBoostAlgorithm,
    /// Number of classes.
    pub n_classes: usize,
    /// Tree-weighted impurity importances, one per feature it was fitted on (so their number is the
    /// number of input columns).
    pub importances: Vec<f64>,
}

impl AdaBoost {
    /// Default parameters.
    pub fn params() -> AdaBoostParams {
        AdaBoostParams::default()
    }
}

const PROBA_EPS: f64 = f64::EPSILON;

impl WithShared for AdaBoostParams {
    fn shared_mut(&mut self) -> &mut SharedParams {
        &mut self.shared
    }
}

impl AdaBoostParams {
    setter!(/// Sets the number of rounds.
        n_estimators: usize);
    setter!(/// Sets the learning rate.
        learning_rate: f64);
    setter!(/// Sets the variant.
        algorithm: AdaBoostAlgorithm);
    setter!(/// Sets the tree depth.
        max_depth: usize);
    setter!(/// Sets the minimum rows per leaf.
        min_samples_leaf: usize);
    setter!(/// Sets the bins per feature.
        max_bins: usize);

    /// Fits on every row of `ds`.
    pub fn fit(&self, ds: &Dataset) -> Result<AdaBoost, ModelError> {
        self.check()?;
        let data = BinnedData::new(ds, &self.shared.class_weight, self.max_bins)?;
        let (n, k) = (ds.nrows(), ds.n_classes);
        if k < 2 {
            return Err(ModelError::Data("AdaBoost needs at least 2 classes".into()));
        }
        let mut w = data.w.clone();
        let s: f64 = w.iter().sum();
        w.iter_mut().for_each(|v| *v /= s);
        let (y, ts) = (&data.y, data.train_set(k));
        let cfg = GrowConfig {
            criterion: Criterion::Gini,
            max_depth: self.max_depth,
            min_samples_split: 2,
            min_samples_leaf: self.min_samples_leaf,
            min_impurity_decrease: 0.0,
            max_features: ds.ncols(),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(self.shared.seed_or_zero());
        let kf = k as f64;
        let mut trees = Vec::new();
        let mut tree_weights = Vec::new();
        let mut importance = vec![0.0; ds.ncols()];
        let guard = crate::memory::FitGuard::new("boosting rounds", "n_estimators", 1);
        for round in 0..self.n_estimators {
            guard.tick(round)?;
            let rows = data.weighted_rows(&w);
            if rows.is_empty() {
                break;
            }
            let (tree, imp) = grow_tree(&ts, &w, rows, &cfg, &mut rng);
            let last = round + 1 == self.n_estimators;
            match self.algorithm {
                AdaBoostAlgorithm::Samme => {
                    let mut wrong = vec![false; n];
                    let mut err = 0.0;
                    let total: f64 = w.iter().sum();
                    for i in 0..n {
                        let pred = crate::argmax_slice(tree.value(ds.x.row(i)));
                        wrong[i] = pred != y[i];
                        if wrong[i] {
                            err += w[i];
                        }
                    }
                    err /= total;
                    if err <= 0.0 {
                        // A perfect tree: it alone decides (scikit-learn stops here with weight 1).
                        add_importance(&mut importance, &imp, 1.0);
                        trees.push(tree);
                        tree_weights.push(1.0);
                        break;
                    }
                    if err >= 1.0 - 1.0 / kf {
                        if trees.is_empty() {
                            return Err(ModelError::Data(format!(
                                "the first AdaBoost tree is no better than chance (weighted error {err:.4}); \
                                 use deeper trees (max_depth) or check the labels"
                            )));
                        }
                        break;
                    }
                    let alpha = self.learning_rate * (((1.0 - err) / err).ln() + (kf - 1.0).ln());
                    add_importance(&mut importance, &imp, alpha);
                    trees.push(tree);
                    tree_weights.push(alpha);
                    if !last {
                        for i in 0..n {
                            if wrong[i] && w[i] > 0.0 {
                                w[i] *= alpha.exp();
                            }
                        }
                    }
                }
                AdaBoostAlgorithm::SammeR => {
                    if !last {
                        let factor = -self.learning_rate * (kf - 1.0) / kf;
                        for i in 0..n {
                            if w[i] <= 0.0 {
                                continue;
                            }
                            let p = tree.value(ds.x.row(i));
                            // Σ_c y_c ln p_c with y_c = 1 for the true class, −1/(K−1) otherwise.
                            let mut s = 0.0;
                            for c in 0..k {
                                let lp = p[c].max(PROBA_EPS).ln();
                                s += if c == y[i] { lp } else { -lp / (kf - 1.0) };
                            }
                            w[i] *= (factor * s).exp();
                        }
                    }
                    add_importance(&mut importance, &imp, 1.0);
                    trees.push(tree);
                    tree_weights.push(1.0);
                }
            }
            let s: f64 = w.iter().sum();
            if !(s > 0.0 && s.is_finite()) {
                break;
            }
            w.iter_mut().for_each(|v| *v /= s);
        }
        Ok(AdaBoost {
            trees,
            tree_weights,
            algorithm: self.algorithm,
            n_classes: k,
            importances: normalise(importance),
        })
    }
}

fn add_importance(total: &mut [f64], imp: &[f64], weight: f64) {
    for (t, v) in total.iter_mut().zip(normalise(imp.to_vec())) {
        *t += weight * v;
    }
}

impl AdaBoost {
    /// The decision values of one row (`len = n_classes`), before the softmax.
    fn decision(&self, row: ndarray::ArrayView1<f64>, out: &mut [f64]) {
        let k = self.n_classes;
        let kf = k as f64;
        out.iter_mut().for_each(|v| *v = 0.0);
        match self.algorithm {
            AdaBoostAlgorithm::Samme => {
                let total: f64 = self.tree_weights.iter().sum();
                for (t, &a) in self.trees.iter().zip(&self.tree_weights) {
                    out[crate::argmax_slice(t.value(row))] += a;
                }
                out.iter_mut().for_each(|v| *v /= total);
                if k == 2 {
                    // scikit-learn: d = s1 − s0, decision [−d, d] / 2.
                    let d = out[1] - out[0];
                    out[0] = -d / 2.0;
                    out[1] = d / 2.0;
                } else {
                    out.iter_mut().for_each(|v| *v /= kf - 1.0);
                }
            }
            AdaBoostAlgorithm::SammeR => {
                for t in &self.trees {
                    let p = t.value(row);
                    let logs: Vec<f64> = p.iter().map(|v| v.max(PROBA_EPS).ln()).collect();
                    let mean = logs.iter().sum::<f64>() / kf;
                    for c in 0..k {
                        out[c] += (kf - 1.0) * (logs[c] - mean);
                    }
                }
                let m = self.trees.len().max(1) as f64;
                out.iter_mut().for_each(|v| *v /= m * (kf - 1.0));
            }
        }
    }
}

impl Fitted for AdaBoost {
    const KIND: &'static str = "ada";

    fn signature(&self) -> Signature {
        Signature::features(self.n_classes, self.importances.len())
    }

    fn proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
        Ok(predict_rows(ds, self.n_classes, |row, out| {
            self.decision(row, out);
            crate::proba::softmax_in_place(out);
        }))
    }

    fn importances(&self) -> Option<Vec<f64>> {
        Some(self.importances.clone())
    }

    fn check_loaded(&mut self) -> Result<(), ModelError> {
        if self.n_classes < 2
            || self.trees.is_empty()
            || self.trees.len() != self.tree_weights.len()
        {
            return Err(corrupt(
                Self::KIND,
                "no trees, fewer than 2 classes, or one weight per tree missing",
            ));
        }
        let d = self.importances.len();
        self.trees
            .iter()
            .try_for_each(|t| t.check(d, self.n_classes))
            .map_err(|e| corrupt(Self::KIND, e))
    }
}

impl LearnerParams for AdaBoostParams {
    fn memory_estimate(&self, train: &Dataset) -> Option<crate::memory::Estimate> {
        let nodes =
            crate::memory::tree_nodes(train.nrows(), self.min_samples_leaf, Some(self.max_depth));
        Some(crate::memory::Estimate {
            bytes: crate::memory::mul(&[
                nodes,
                crate::memory::node_bytes(train.n_classes),
                self.n_estimators as u64,
            ]),
            param: "n_estimators",
            value: self.n_estimators.to_string(),
        })
    }
    fn about(&self) -> About {
        About::new(
            "ada",
            &["adaboost"],
            "AdaBoost (SAMME / SAMME.R) over shallow trees",
        )
    }
    fn visit_keys(&mut self, v: &mut dyn KeyVisitor) -> Result<(), ModelError> {
        v.key(&["n_estimators"], &mut self.n_estimators)?;
        v.key(&["learning_rate"], &mut self.learning_rate)?;
        v.key(&["algorithm"], &mut self.algorithm)?;
        v.key(&["max_depth"], &mut self.max_depth)?;
        v.key(&["min_samples_leaf"], &mut self.min_samples_leaf)?;
        v.key(&["max_bins"], &mut self.max_bins)?;
        self.shared.visit_keys(v)
    }
    fn check(&self) -> Result<(), ModelError> {
        check_at_least_one("n_estimators", self.n_estimators)?;
        check_positive("learning_rate", self.learning_rate)?;
        check_tree_limits(
            Some(self.max_depth),
            2,
            self.min_samples_leaf,
            0.0,
            crate::tree::MaxFeatures::All,
            self.max_bins,
        )
    }
    fn fit_model(&self, ds: &Dataset, _: Option<&Dataset>) -> Result<FittedModel, ModelError> {
        self.fit(ds).map(FittedModel::AdaBoost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::uniform_test_data;
    use crate::Classifier;

    fn circle(n: usize) -> Dataset {
        let (x, y) = uniform_test_data((n, 2), 2, |r, _| {
            usize::from(r[0] * r[0] + r[1] * r[1] < 0.5)
        });
        Dataset::new(x, y, 2).unwrap()
    }

    #[test]
    fn boosted_stumps_beat_one_stump() {
        let ds = circle(600);
        let y = ds.y.to_vec();
        for alg in [AdaBoostAlgorithm::Samme, AdaBoostAlgorithm::SammeR] {
            let one = AdaBoost::params()
                .n_estimators(1)
                .algorithm(alg)
                .fit(&ds)
                .unwrap();
            let many = AdaBoost::params()
                .n_estimators(200)
                .algorithm(alg)
                .fit(&ds)
                .unwrap();
            let a1 = crate::metrics::accuracy(&y, &one.predict(&ds).unwrap().to_vec());
            let a2 = crate::metrics::accuracy(&y, &many.predict(&ds).unwrap().to_vec());
            assert!(a2 > a1 + 0.1 && a2 > 0.9, "{alg:?}: {a1} -> {a2}");
            let p = many.predict_proba(&ds).unwrap();
            assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-12));
        }
    }

    #[test]
    fn perfect_first_tree_stops() {
        let ds = Dataset::new(
            ndarray::array![[0.0], [1.0], [2.0], [3.0]],
            ndarray::array![0, 0, 1, 1],
            2,
        )
        .unwrap();
        let m = AdaBoost::params().fit(&ds).unwrap();
        assert_eq!(m.trees.len(), 1);
        assert_eq!(m.predict(&ds).unwrap(), ds.y);
    }
}
