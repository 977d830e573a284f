//! Random forest of CART trees: bootstrap rows, a random feature subset per node, averaged leaf
//! probabilities, out-of-bag score, impurity and permutation importances.
//!
//! Source: Breiman, "Random Forests", Machine Learning 45 (2001); behaviour follows scikit-learn's
//! `RandomForestClassifier` (a bootstrap draw becomes an integer weight on the row, as scikit-learn
//! does; probabilities are the mean of the trees' leaf distributions).
//!
//! Trees are grown in parallel with rayon on one shared binned matrix. Each tree's seed is drawn from the
//! master seed in tree order before any tree is grown, so the forest is identical for any thread count.
//!
//! Cost: trees × (one tree's cost on the bootstrap rows, see [`crate::tree`]); memory n · d bytes of bins
//! shared by all trees, n indices and weights per tree being grown.

#![allow(clippy::needless_range_loop)]

use ndarray::{Array2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::fitted::{corrupt, Fitted, FittedModel, Signature};
use crate::flat::FlatCache;
use crate::params::{
    check_at_least_one, check_fraction, setter, KeyVisitor, SharedParams, WithShared,
};
use crate::spec::{About, LearnerParams};
use crate::tree::{grow_tree, normalise, BinnedData, DecisionTreeParams, MaxFeatures, Tree};
use crate::{argmax_rows, Classifier, Dataset, ModelError};

/// Parameters of a [`RandomForest`]: how many trees, how rows are drawn for each, and the tree
/// parameters they all grow with (`max_features` defaults to `sqrt` here).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RandomForestParams {
    /// Number of trees (default 100).
    pub n_trees: usize,
    /// How each tree grows; its seed is the forest's master seed (default 0).
    #[serde(flatten)]
    pub tree: DecisionTreeParams,
    /// Draw a bootstrap sample per tree (default true).
    pub bootstrap: bool,
    /// Bootstrap sample size as a fraction of the rows (default 1).
    pub max_samples: f64,
    /// Compute the out-of-bag accuracy (default false; needs bootstrap).
    pub oob_score: bool,
}

impl Default for RandomForestParams {
    fn default() -> Self {
        RandomForestParams {
            n_trees: 100,
            tree: DecisionTreeParams::default().max_features(MaxFeatures::Sqrt),
            bootstrap: true,
            max_samples: 1.0,
            oob_score: false,
        }
    }
}

impl WithShared for RandomForestParams {
    fn shared_mut(&mut self) -> &mut SharedParams {
        &mut self.tree.shared
    }
}

impl RandomForestParams {
    setter!(/// Sets the number of trees.
        n_trees: usize);
    setter!(/// Turns bootstrap on or off.
        bootstrap: bool);
    setter!(/// Sets the bootstrap fraction.
        max_samples: f64);
    setter!(/// Turns the out-of-bag score on or off.
        oob_score: bool);

    /// Sets how every tree grows: `RandomForest::params().tree(|t| t.max_depth(Some(8)))`.
    pub fn tree(mut self, f: impl FnOnce(DecisionTreeParams) -> DecisionTreeParams) -> Self {
        self.tree = f(self.tree);
        self
    }

    /// Fits the forest on every row of `ds`.
    pub fn fit(&self, ds: &Dataset) -> Result<RandomForest, ModelError> {
        self.check()?;
        let data = BinnedData::new(ds, &self.tree.shared.class_weight, self.tree.max_bins)?;
        let (n, k) = (ds.nrows(), ds.n_classes);
        let w = &data.w;
        let ts = data.train_set(k);
        let cfg = self.tree.grow_config(ds.ncols());
        let mut master = ChaCha8Rng::seed_from_u64(self.tree.shared.seed_or_zero());
        let seeds: Vec<u64> = (0..self.n_trees).map(|_| master.gen()).collect();
        let n_draw = ((self.max_samples * n as f64).round() as usize).max(1);

        // Each tree returns (tree, importance, oob rows). The memory is read after every tree (a
        // tree takes far longer than the ~10 µs reading): an estimate cannot see everything.
        let guard = crate::memory::FitGuard::new("trees", "n_trees", 1);
        let done = std::sync::atomic::AtomicUsize::new(0);
        let grow = |seed: u64| -> (Tree, Vec<f64>, Vec<u32>) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut tw = w.clone();
            let mut oob = Vec::new();
            if self.bootstrap {
                let mut counts = vec![0u32; n];
                for _ in 0..n_draw {
                    counts[rng.gen_range(0..n)] += 1;
                }
                for i in 0..n {
                    tw[i] *= counts[i] as f64;
                    if counts[i] == 0 && self.oob_score {
                        oob.push(i as u32);
                    }
                }
            }
            let rows = data.weighted_rows(&tw);
            if rows.is_empty() {
                // Degenerate bootstrap (all drawn rows weigh 0): fall back to every weighted row.
                let (t, imp) = grow_tree(&ts, w, data.weighted_rows(w), &cfg, &mut rng);
                return (t, imp, Vec::new());
            }
            let (t, imp) = grow_tree(&ts, &tw, rows, &cfg, &mut rng);
            (t, imp, oob)
        };
        let grown: Vec<(Tree, Vec<f64>, Vec<u32>)> = seeds
            .par_iter()
            .map(|&seed| {
                let tree = grow(seed);
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                guard.tick(n).map(|()| tree)
            })
            .collect::<Result<_, _>>()?;

        let mut importance = vec![0.0; ds.ncols()];
        for (_, imp, _) in &grown {
            // scikit-learn normalises each tree's importances before averaging.
            for (a, b) in importance.iter_mut().zip(normalise(imp.clone())) {
                *a += b;
            }
        }
        let importances = normalise(importance);

        let (oob_score, oob_proba) = if self.oob_score {
            let mut sum = Array2::<f64>::zeros((n, k));
            for (t, _, oob) in &grown {
                for &i in oob {
                    let v = t.value(ds.x.row(i as usize));
                    for c in 0..k {
                        sum[[i as usize, c]] += v[c];
                    }
                }
            }
            let mut correct = 0usize;
            let mut seen = 0usize;
            for (i, mut row) in sum.axis_iter_mut(Axis(0)).enumerate() {
                let s = row.sum();
                if s > 0.0 {
                    row.mapv_inplace(|v| v / s);
                    seen += 1;
                    let pred = argmax_rows(&row.to_owned().insert_axis(Axis(0)))[0];
                    if pred == ds.y[i] {
                        correct += 1;
                    }
                }
            }
            (
                Some(if seen == 0 {
                    0.0
                } else {
                    correct as f64 / seen as f64
                }),
                Some(sum),
            )
        } else {
            (None, None)
        };

        Ok(RandomForest {
            trees: grown.into_iter().map(|(t, _, _)| t).collect(),
            n_classes: k,
            n_features: ds.ncols(),
            importances,
            oob_score,
            oob_proba,
            flat: FlatCache::default(),
        })
    }
}

/// A fitted random forest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RandomForest {
    /// The trees (leaf values are class probabilities).
    pub trees: Vec<Tree>,
    /// Number of classes.
    pub n_classes: usize,
    /// Number of features seen at fit time.
    pub n_features: usize,
    /// Mean decrease in impurity per feature (sums to 1).
    pub importances: Vec<f64>,
    /// Out-of-bag accuracy, when requested (rows never out of bag are skipped).
    pub oob_score: Option<f64>,
    /// Out-of-bag class probabilities per training row (all zeros for a row never out of bag).
    #[serde(skip)]
    pub oob_proba: Option<Array2<f64>>,
    /// The trees in prediction form, built on the first prediction.
    #[serde(skip)]
    pub(crate) flat: FlatCache,
}

impl RandomForest {
    /// Default parameters.
    pub fn params() -> RandomForestParams {
        RandomForestParams::default()
    }
}

impl Fitted for RandomForest {
    const KIND: &'static str = "rf";

    fn signature(&self) -> Signature {
        Signature::features(self.n_classes, self.n_features)
    }

    fn proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
        // Tree-major over blocks of rows: one tree's nodes stay in cache for the whole block. The flat
        // form (compact nodes on binned rows) gives the same sums in the same order.
        let (n, k) = (ds.x.nrows(), self.n_classes);
        let mut out = Array2::zeros((n, k));
        let inv = 1.0 / self.trees.len().max(1) as f64;
        let flat = self.flat.get(&self.trees, self.n_features);
        let block = 8192;
        out.axis_chunks_iter_mut(Axis(0), block)
            .into_par_iter()
            .enumerate()
            .for_each(|(bi, mut chunk)| {
                let start = bi * block;
                let x = ds.x.slice(ndarray::s![start..start + chunk.nrows(), ..]);
                match flat {
                    Some(f) => f.add_leaf_values(x, chunk.view_mut()),
                    None => {
                        for t in &self.trees {
                            for (row, mut orow) in x.rows().into_iter().zip(chunk.rows_mut()) {
                                for (o, v) in orow.iter_mut().zip(t.value(row)) {
                                    *o += v;
                                }
                            }
                        }
                    }
                }
                chunk.mapv_inplace(|v| v * inv);
            });
        Ok(out)
    }

    fn importances(&self) -> Option<Vec<f64>> {
        Some(self.importances.clone())
    }

    fn check_loaded(&mut self) -> Result<(), ModelError> {
        if self.trees.is_empty() {
            return Err(corrupt(Self::KIND, "no trees"));
        }
        self.trees
            .iter()
            .try_for_each(|t| t.check(self.n_features, self.n_classes))
            .map_err(|e| corrupt(Self::KIND, e))
    }
}

impl LearnerParams for RandomForestParams {
    fn memory_estimate(&self, train: &Dataset) -> Option<crate::memory::Estimate> {
        let rows = ((train.nrows() as f64 * self.max_samples).ceil() as usize).max(1);
        let nodes =
            crate::memory::tree_nodes(rows, self.tree.min_samples_leaf, self.tree.max_depth);
        let per_tree = nodes.saturating_mul(crate::memory::node_bytes(train.n_classes));
        Some(crate::memory::Estimate {
            bytes: crate::memory::mul(&[per_tree, self.n_trees as u64]),
            param: "n_trees",
            value: self.n_trees.to_string(),
        })
    }
    fn about(&self) -> About {
        About::new("rf", &["forest"], "random forest")
    }
    fn visit_keys(&mut self, v: &mut dyn KeyVisitor) -> Result<(), ModelError> {
        v.key(&["n_trees", "n_estimators"], &mut self.n_trees)?;
        self.tree.visit_growth(v)?;
        v.key(&["bootstrap"], &mut self.bootstrap)?;
        v.key(&["max_samples"], &mut self.max_samples)?;
        v.key(&["oob_score"], &mut self.oob_score)?;
        self.tree.visit_data(v)
    }
    fn check(&self) -> Result<(), ModelError> {
        check_at_least_one("n_trees", self.n_trees)?;
        check_fraction("max_samples", self.max_samples)?;
        if self.oob_score && !self.bootstrap {
            return Err(ModelError::invalid(
                "oob_score",
                "true",
                "false when bootstrap = false (no row is out of bag)",
            ));
        }
        self.tree.check()
    }
    fn fit_model(&self, ds: &Dataset, _: Option<&Dataset>) -> Result<FittedModel, ModelError> {
        self.fit(ds).map(FittedModel::Forest)
    }
}

/// Permutation importance of every feature for any fitted model: the mean drop in accuracy over
/// `n_repeats` seeded shuffles of that feature's column (scikit-learn's `permutation_importance` with the
/// default accuracy scorer). Parallel over features; deterministic for a seed.
pub fn permutation_importance(
    model: &dyn Classifier,
    ds: &Dataset,
    n_repeats: usize,
    seed: u64,
) -> Result<Vec<f64>, ModelError> {
    use rand::seq::SliceRandom;
    let y = ds.y.to_vec();
    let base = crate::metrics::accuracy(&y, &model.predict(ds)?.to_vec());
    (0..ds.ncols())
        .into_par_iter()
        .map(|j| {
            let mut rng =
                ChaCha8Rng::seed_from_u64(seed ^ (j as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut shuffled = ds.clone();
            let mut drop = 0.0;
            for _ in 0..n_repeats.max(1) {
                let mut col: Vec<f64> = ds.x.column(j).to_vec();
                col.shuffle(&mut rng);
                shuffled.x.column_mut(j).assign(&ndarray::Array1::from(col));
                drop += base - crate::metrics::accuracy(&y, &model.predict(&shuffled)?.to_vec());
            }
            Ok(drop / n_repeats.max(1) as f64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::uniform_test_data;
    use crate::Classifier;

    fn toy(n: usize) -> Dataset {
        let (x, y) = uniform_test_data((n, 4), 7, |r, _| usize::from(r[0] + 0.5 * r[1] > 0.0));
        Dataset::new(x, y, 2).unwrap()
    }

    #[test]
    fn forest_learns_and_reports_oob() {
        let ds = toy(400);
        let m = RandomForest::params()
            .n_trees(30)
            .oob_score(true)
            .seed(3)
            .fit(&ds)
            .unwrap();
        let acc = crate::metrics::accuracy(&ds.y.to_vec(), &m.predict(&ds).unwrap().to_vec());
        assert!(acc > 0.97, "train accuracy {acc}");
        let oob = m.oob_score.unwrap();
        assert!(oob > 0.85, "oob {oob}");
        assert!(m.importances[0] > m.importances[2] && m.importances[1] > m.importances[3]);
        let pi = permutation_importance(&m, &ds, 2, 1).unwrap();
        assert!(pi[0] > pi[3]);
    }

    #[test]
    fn flat_prediction_is_bit_identical_to_the_plain_walk() {
        let ds = toy(500);
        let m = RandomForest::params().n_trees(12).seed(5).fit(&ds).unwrap();
        let mut test = toy(3000);
        test.x[[3, 0]] = f64::NAN;
        test.x[[4, 1]] = f64::INFINITY;
        let got = m.predict_proba(&test).unwrap();
        let mut want = Array2::<f64>::zeros((test.nrows(), 2));
        for t in &m.trees {
            for (i, row) in test.x.rows().into_iter().enumerate() {
                for (o, v) in want.row_mut(i).iter_mut().zip(t.value(row)) {
                    *o += v;
                }
            }
        }
        want.mapv_inplace(|v| v * (1.0 / 12.0));
        assert!(m.flat.get(&m.trees, 4).is_some());
        for (a, b) in got.iter().zip(want.iter()) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
    }

    #[test]
    fn same_seed_same_forest_any_thread_count() {
        let ds = toy(200);
        let p = RandomForest::params().n_trees(8).seed(11);
        let a = p.fit(&ds).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let b = pool.install(|| p.fit(&ds).unwrap());
        assert_eq!(a.trees, b.trees);
    }
}
