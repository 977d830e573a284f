//! CART decision tree for classification: Gini or entropy, weighted, probabilities from the weighted
//! class distribution of each leaf.
//!
//! Source: Breiman, Friedman, Olshen & Stone, *Classification and Regression Trees* (1984); the stopping
//! rules and the impurity-decrease formula follow scikit-learn's `DecisionTreeClassifier`.
//!
//! Split search works on binned features ([`crate::binning`]): for every node and candidate feature one
//! pass over the node's rows fills a (bin × class) histogram of weights and counts, then one scan over the
//! bins scores every threshold. With at most `max_bins` (255) distinct values per feature the candidates
//! are exactly CART's midpoints; beyond, they are quantile cuts. Rows of a node are kept ascending in one
//! index array partitioned stably, so column reads stay sequential.
//!
//! Cost: O(n · d) per tree level plus O(nodes · d · bins · k) for the scans; memory n · d bytes for the
//! binned matrix plus n indices. Growth is depth-first.

#![allow(clippy::needless_range_loop)]

use ndarray::{Array2, ArrayView1};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::binning::{BinMapper, BinnedMatrix};
use crate::class_weight::{checked_weights, ClassWeight};
use crate::fitted::{corrupt, Fitted, FittedModel, Signature};
use crate::params::setter;
use crate::params::{
    check_at_least_one, check_non_negative, KeyVisitor, Named, ParamValue, SharedParams, WithShared,
};
use crate::spec::{About, LearnerParams};
use crate::{Dataset, ModelError};

/// Impurity measure of a node's class distribution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Criterion {
    /// `1 − Σ p_c²`.
    #[default]
    Gini,
    /// `−Σ p_c log2 p_c`.
    Entropy,
}

impl Criterion {
    fn impurity(self, counts: &[f64], total: f64) -> f64 {
        if total <= 0.0 {
            return 0.0;
        }
        match self {
            Criterion::Gini => {
                1.0 - counts
                    .iter()
                    .map(|&c| (c / total) * (c / total))
                    .sum::<f64>()
            }
            Criterion::Entropy => -counts
                .iter()
                .filter(|&&c| c > 0.0)
                .map(|&c| {
                    let p = c / total;
                    p * p.log2()
                })
                .sum::<f64>(),
        }
    }
}

cartseq_data::named_enum!(Criterion, "a split criterion", [
    "gini" => Criterion::Gini,
    "entropy" => Criterion::Entropy,
]);
impl Named for Criterion {}

/// How many features a node considers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum MaxFeatures {
    /// All features.
    #[default]
    All,
    /// `ceil(sqrt(d))`… as scikit-learn: `max(1, floor(sqrt(d)))`.
    Sqrt,
    /// `max(1, floor(log2(d)))`.
    Log2,
    /// `max(1, floor(fraction · d))`, fraction in (0, 1].
    Fraction(f64),
    /// A fixed count (capped at d).
    Count(usize),
}

impl MaxFeatures {
    /// Parses `all`, `sqrt`, `log2`, a fraction in (0, 1) such as `0.3`, or a count such as `5`.
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        let bad = || {
            ModelError::invalid(
                "max_features",
                s,
                "all, sqrt, log2, a fraction in (0, 1] or a positive count",
            )
        };
        match s {
            "all" | "none" => Ok(MaxFeatures::All),
            "sqrt" => Ok(MaxFeatures::Sqrt),
            "log2" => Ok(MaxFeatures::Log2),
            _ if s.contains('.') => {
                let f: f64 = s.parse().map_err(|_| bad())?;
                if f > 0.0 && f <= 1.0 {
                    Ok(MaxFeatures::Fraction(f))
                } else {
                    Err(bad())
                }
            }
            _ => match s.parse::<usize>() {
                Ok(c) if c > 0 => Ok(MaxFeatures::Count(c)),
                _ => Err(bad()),
            },
        }
    }

    /// Number of features to draw out of `d`.
    pub fn resolve(self, d: usize) -> usize {
        let k = match self {
            MaxFeatures::All => d,
            MaxFeatures::Sqrt => (d as f64).sqrt().floor() as usize,
            MaxFeatures::Log2 => (d as f64).log2().floor() as usize,
            MaxFeatures::Fraction(f) => (f * d as f64).floor() as usize,
            MaxFeatures::Count(c) => c,
        };
        k.clamp(1, d.max(1))
    }
}

impl ParamValue for MaxFeatures {
    fn set(&mut self, _key: &str, text: &str) -> Result<(), ModelError> {
        *self = MaxFeatures::parse(text)?;
        Ok(())
    }
    fn show(&self) -> String {
        match *self {
            MaxFeatures::All => "all".into(),
            MaxFeatures::Sqrt => "sqrt".into(),
            MaxFeatures::Log2 => "log2".into(),
            MaxFeatures::Fraction(f) => f.show(),
            MaxFeatures::Count(c) => c.to_string(),
        }
    }
}

/// One node of a fitted tree. Leaves have `feature == LEAF` and `left` = index of their value block.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Split feature, or [`LEAF`].
    pub feature: u32,
    /// Rows with `x[feature] <= threshold` go left (NaN goes right).
    pub threshold: f64,
    /// Left child (or the leaf's value block).
    pub left: u32,
    /// Right child.
    pub right: u32,
}

/// Marker of a leaf in [`Node::feature`].
pub const LEAF: u32 = u32::MAX;

/// A fitted binary tree with `n_outputs` values per leaf (class probabilities, or one score).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// Nodes; the root is node 0.
    pub nodes: Vec<Node>,
    /// Leaf values, `n_outputs` per leaf.
    pub values: Vec<f64>,
    /// Values per leaf.
    pub n_outputs: usize,
}

impl Tree {
    /// Turns leaf `node` into a split on `feature` at `threshold` whose two children are new leaves
    /// (values still to be given); returns the left child's id, the right one is the next.
    pub(crate) fn split_leaf(&mut self, node: usize, feature: usize, threshold: f64) -> usize {
        let left = self.nodes.len();
        let leaf = Node {
            feature: LEAF,
            threshold: 0.0,
            left: 0,
            right: 0,
        };
        self.nodes.extend([leaf, leaf]);
        self.nodes[node] = Node {
            feature: feature as u32,
            threshold,
            left: left as u32,
            right: left as u32 + 1,
        };
        left
    }

    /// Index of the leaf value block reached by `row`.
    #[inline]
    pub fn leaf(&self, row: ArrayView1<f64>) -> usize {
        let mut n = 0usize;
        loop {
            let node = &self.nodes[n];
            if node.feature == LEAF {
                return node.left as usize;
            }
            n = if row[node.feature as usize] <= node.threshold {
                node.left
            } else {
                node.right
            } as usize;
        }
    }

    /// The values of the leaf reached by `row`.
    #[inline]
    pub fn value(&self, row: ArrayView1<f64>) -> &[f64] {
        let l = self.leaf(row);
        &self.values[l * self.n_outputs..(l + 1) * self.n_outputs]
    }

    /// Number of leaves.
    pub fn n_leaves(&self) -> usize {
        self.values.len() / self.n_outputs.max(1)
    }

    /// Checks a tree read from a file: every split reads a feature below `n_features` and points
    /// forward to existing nodes (so no walk can loop or leave the tree), every leaf to an existing
    /// block of `n_outputs` values.
    pub fn check(&self, n_features: usize, n_outputs: usize) -> Result<(), String> {
        let blocks = self.values.len() / n_outputs.max(1);
        if self.nodes.is_empty()
            || n_outputs == 0
            || self.n_outputs != n_outputs
            || self.values.len() % n_outputs != 0
        {
            return Err(format!(
                "a tree has {} nodes and {} values in blocks of {}, expected blocks of {n_outputs}",
                self.nodes.len(),
                self.values.len(),
                self.n_outputs
            ));
        }
        let len = self.nodes.len();
        for (i, n) in self.nodes.iter().enumerate() {
            let (l, r) = (n.left as usize, n.right as usize);
            let ok = if n.feature == LEAF {
                l < blocks
            } else {
                (n.feature as usize) < n_features && l > i && r > i && l < len && r < len
            };
            if !ok {
                return Err(format!(
                    "tree node {i} points outside the tree or to feature {} of {n_features}",
                    n.feature
                ));
            }
        }
        Ok(())
    }

    /// Depth (a single leaf has depth 0).
    pub fn depth(&self) -> usize {
        let mut best = 0;
        let mut stack = vec![(0usize, 0usize)];
        while let Some((n, d)) = stack.pop() {
            let node = &self.nodes[n];
            if node.feature == LEAF {
                best = best.max(d);
            } else {
                stack.push((node.left as usize, d + 1));
                stack.push((node.right as usize, d + 1));
            }
        }
        best
    }
}

/// Growth limits of one classification tree (already validated).
#[derive(Clone, Debug)]
pub(crate) struct GrowConfig {
    pub criterion: Criterion,
    pub max_depth: usize,
    pub min_samples_split: usize,
    pub min_samples_leaf: usize,
    pub min_impurity_decrease: f64,
    pub max_features: usize,
}

/// Training data shared by every tree of an ensemble.
pub(crate) struct TrainSet<'a> {
    pub bins: &'a BinnedMatrix,
    pub mapper: &'a BinMapper,
    pub y: &'a [usize],
    pub n_classes: usize,
}

const BINS: usize = 256;

/// Grows one tree on `rows` (ascending, each with weight `w[row] > 0`). Returns the tree (leaf values are
/// class probabilities) and the weighted impurity decrease per feature (unnormalised).
pub(crate) fn grow_tree(
    ts: &TrainSet<'_>,
    w: &[f64],
    mut rows: Vec<u32>,
    cfg: &GrowConfig,
    rng: &mut ChaCha8Rng,
) -> (Tree, Vec<f64>) {
    let k = ts.n_classes;
    let d = ts.bins.n_cols;
    let stride = k + 1; // per bin: k class weights, then the row count
    let mut tree = Tree {
        nodes: Vec::new(),
        values: Vec::new(),
        n_outputs: k,
    };
    let mut importance = vec![0.0; d];
    let mut hist = vec![0.0f64; BINS * stride];
    let mut feats: Vec<usize> = (0..d).collect();
    let mut scratch: Vec<u32> = Vec::with_capacity(rows.len());
    let mut class_tot = vec![0.0; k];
    let mut left_c = vec![0.0; k];
    let mut right_c = vec![0.0; k];
    let mut best_left = vec![0.0; k];
    let mut touched: Vec<usize> = Vec::with_capacity(BINS);

    let total_w: f64 = rows.iter().map(|&i| w[i as usize]).sum();
    // (node index, start, end, depth)
    tree.nodes.push(Node {
        feature: LEAF,
        threshold: 0.0,
        left: 0,
        right: 0,
    });
    let mut stack = vec![(0usize, 0usize, rows.len(), 0usize)];
    while let Some((node_id, start, end, depth)) = stack.pop() {
        let node_rows = &rows[start..end];
        class_tot.iter_mut().for_each(|c| *c = 0.0);
        for &i in node_rows {
            class_tot[ts.y[i as usize]] += w[i as usize];
        }
        let node_w: f64 = class_tot.iter().sum();
        let count = node_rows.len();
        let imp = cfg.criterion.impurity(&class_tot, node_w);

        let mut best: Option<(usize, usize, f64)> = None; // feature, bin, children impurity (weighted)
        let can_split = depth < cfg.max_depth
            && count >= cfg.min_samples_split
            && count >= 2 * cfg.min_samples_leaf
            && imp > 1e-7;
        if can_split {
            let n_try = cfg.max_features.min(d);
            if n_try < d {
                feats.partial_shuffle(rng, n_try);
            }
            let mut best_score = f64::INFINITY;
            for fi in 0..n_try {
                let j = feats[fi];
                let nb = ts.mapper.n_bins(j);
                if nb < 2 {
                    continue;
                }
                // `hist` is all zeros here. Small nodes visit only the bins they touch (sorted), large
                // nodes scan every bin; either way the touched bins are zeroed again afterwards.
                let h = &mut hist[..nb * stride];
                let col = ts.bins.col(j);
                let sparse = count < nb;
                touched.clear();
                for &i in node_rows {
                    let i = i as usize;
                    let b = col[i] as usize;
                    let o = b * stride;
                    if sparse && h[o + k] == 0.0 {
                        touched.push(b);
                    }
                    h[o + ts.y[i]] += w[i];
                    h[o + k] += 1.0;
                }
                if sparse {
                    touched.sort_unstable();
                } else {
                    touched.extend(0..nb - 1);
                }
                left_c.iter_mut().for_each(|c| *c = 0.0);
                let mut left_n = 0usize;
                for &b in touched.iter() {
                    let hb = &h[b * stride..(b + 1) * stride];
                    let cnt = hb[k] as usize;
                    if cnt == 0 {
                        continue;
                    }
                    left_n += cnt;
                    for c in 0..k {
                        left_c[c] += hb[c];
                    }
                    let left_w: f64 = left_c.iter().sum();
                    let right_n = count - left_n;
                    if left_n < cfg.min_samples_leaf {
                        continue;
                    }
                    if right_n < cfg.min_samples_leaf {
                        break;
                    }
                    let right_w = node_w - left_w;
                    if left_w <= 0.0 || right_w <= 0.0 {
                        continue;
                    }
                    for c in 0..k {
                        right_c[c] = class_tot[c] - left_c[c];
                    }
                    let score = left_w * cfg.criterion.impurity(&left_c, left_w)
                        + right_w * cfg.criterion.impurity(&right_c, right_w);
                    if score < best_score - 1e-12 * node_w {
                        best_score = score;
                        best = Some((j, b, score));
                        best_left.copy_from_slice(&left_c);
                    }
                }
                if sparse {
                    for &b in touched.iter() {
                        h[b * stride..(b + 1) * stride]
                            .iter_mut()
                            .for_each(|v| *v = 0.0);
                    }
                } else {
                    h.iter_mut().for_each(|v| *v = 0.0);
                }
            }
            if let Some((_, _, score)) = best {
                // scikit-learn's impurity_improvement, relative to the whole training weight.
                let improvement = (node_w * imp - score) / total_w;
                if improvement < cfg.min_impurity_decrease {
                    best = None;
                }
            }
        }

        match best {
            None => {
                let leaf = tree.values.len() / k;
                tree.values.extend(class_tot.iter().map(|&c| c / node_w));
                tree.nodes[node_id] = Node {
                    feature: LEAF,
                    threshold: 0.0,
                    left: leaf as u32,
                    right: 0,
                };
            }
            Some((j, b, score)) => {
                importance[j] += node_w * imp - score;
                // Stable partition: left rows stay in place, right rows go through the scratch buffer.
                let col = ts.bins.col(j);
                scratch.clear();
                let mut wpos = start;
                for r in start..end {
                    let i = rows[r];
                    if (col[i as usize] as usize) <= b {
                        rows[wpos] = i;
                        wpos += 1;
                    } else {
                        scratch.push(i);
                    }
                }
                rows[wpos..end].copy_from_slice(&scratch);
                let left_id = tree.split_leaf(node_id, j, ts.mapper.cuts[j][b]);
                stack.push((left_id + 1, wpos, end, depth + 1));
                stack.push((left_id, start, wpos, depth + 1));
            }
        }
    }
    // A forest keeps a hundred of these: no doubling slack.
    tree.nodes.shrink_to_fit();
    tree.values.shrink_to_fit();
    (tree, importance)
}

/// Parameters of a [`DecisionTree`]; build with [`DecisionTree::params`], checked by [`Self::check`]
/// and again by `fit`. A random forest grows its trees with these too.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecisionTreeParams {
    /// Impurity measure (default Gini).
    pub criterion: Criterion,
    /// Maximum depth (`None` = unlimited).
    pub max_depth: Option<usize>,
    /// A node with fewer rows is not split (default 2, at least 2).
    pub min_samples_split: usize,
    /// Each child keeps at least this many rows (default 1).
    pub min_samples_leaf: usize,
    /// A split must decrease the weighted impurity by at least this (relative to all rows; default 0).
    pub min_impurity_decrease: f64,
    /// Features considered per node (default all).
    pub max_features: MaxFeatures,
    /// Bins per feature for the split search (2..=256, default 255).
    pub max_bins: usize,
    /// Class weights and the seed of the feature sampling (it only matters with `max_features` below
    /// all).
    #[serde(flatten)]
    pub shared: SharedParams,
}

impl Default for DecisionTreeParams {
    fn default() -> Self {
        DecisionTreeParams {
            criterion: Criterion::Gini,
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
            min_impurity_decrease: 0.0,
            max_features: MaxFeatures::All,
            max_bins: 255,
            shared: SharedParams::default(),
        }
    }
}

impl WithShared for DecisionTreeParams {
    fn shared_mut(&mut self) -> &mut SharedParams {
        &mut self.shared
    }
}

impl DecisionTreeParams {
    setter!(/// Sets the criterion.
        criterion: Criterion);
    setter!(/// Sets the maximum depth.
        max_depth: Option<usize>);
    setter!(/// Sets the minimum rows to split a node.
        min_samples_split: usize);
    setter!(/// Sets the minimum rows per leaf.
        min_samples_leaf: usize);
    setter!(/// Sets the minimum impurity decrease.
        min_impurity_decrease: f64);
    setter!(/// Sets the features per node.
        max_features: MaxFeatures);
    setter!(/// Sets the bins per feature.
        max_bins: usize);

    pub(crate) fn grow_config(&self, d: usize) -> GrowConfig {
        GrowConfig {
            criterion: self.criterion,
            max_depth: self.max_depth.unwrap_or(usize::MAX),
            min_samples_split: self.min_samples_split,
            min_samples_leaf: self.min_samples_leaf,
            min_impurity_decrease: self.min_impurity_decrease,
            max_features: self.max_features.resolve(d),
        }
    }

    /// The keys of how a tree grows (`criterion` … `max_features`), shared with the forest's listing.
    pub(crate) fn visit_growth(&mut self, v: &mut dyn KeyVisitor) -> Result<(), ModelError> {
        v.key(&["criterion"], &mut self.criterion)?;
        v.optional(&["max_depth"], &mut self.max_depth, "none")?;
        v.key(&["min_samples_split"], &mut self.min_samples_split)?;
        v.key(&["min_samples_leaf"], &mut self.min_samples_leaf)?;
        v.key(&["min_impurity_decrease"], &mut self.min_impurity_decrease)?;
        v.key(&["max_features"], &mut self.max_features)
    }

    /// The keys after them (`max_bins`, `class_weight`, `seed`).
    pub(crate) fn visit_data(&mut self, v: &mut dyn KeyVisitor) -> Result<(), ModelError> {
        v.key(&["max_bins"], &mut self.max_bins)?;
        self.shared.visit_keys(v)
    }

    /// Fits a tree on every row of `ds`.
    pub fn fit(&self, ds: &Dataset) -> Result<DecisionTree, ModelError> {
        self.check()?;
        let data = BinnedData::new(ds, &self.shared.class_weight, self.max_bins)?;
        let rows = data.weighted_rows(&data.w);
        let mut rng = ChaCha8Rng::seed_from_u64(self.shared.seed_or_zero());
        let (tree, imp) = grow_tree(
            &data.train_set(ds.n_classes),
            &data.w,
            rows,
            &self.grow_config(ds.ncols()),
            &mut rng,
        );
        Ok(DecisionTree {
            tree,
            n_classes: ds.n_classes,
            n_features: ds.ncols(),
            importances: normalise(imp),
        })
    }
}

impl LearnerParams for DecisionTreeParams {
    fn memory_estimate(&self, train: &Dataset) -> Option<crate::memory::Estimate> {
        let nodes = crate::memory::tree_nodes(train.nrows(), self.min_samples_leaf, self.max_depth);
        Some(crate::memory::Estimate {
            bytes: nodes.saturating_mul(crate::memory::node_bytes(train.n_classes)),
            param: "max_depth",
            value: self.max_depth.map_or("none".into(), |d| d.to_string()),
        })
    }
    fn about(&self) -> About {
        About::new("dt", &["tree"], "CART decision tree")
    }
    fn visit_keys(&mut self, v: &mut dyn KeyVisitor) -> Result<(), ModelError> {
        self.visit_growth(v)?;
        self.visit_data(v)
    }
    fn check(&self) -> Result<(), ModelError> {
        check_tree_limits(
            self.max_depth,
            self.min_samples_split,
            self.min_samples_leaf,
            self.min_impurity_decrease,
            self.max_features,
            self.max_bins,
        )
    }
    fn fit_model(&self, ds: &Dataset, _: Option<&Dataset>) -> Result<FittedModel, ModelError> {
        self.fit(ds).map(FittedModel::Tree)
    }
}

/// What the tree learners train on: effective row weights (sample × class weight), labels and the
/// binned feature matrix, checked once.
pub(crate) struct BinnedData {
    /// Effective weight of every row.
    pub w: Vec<f64>,
    /// Labels.
    pub y: Vec<usize>,
    /// Cut points per feature.
    pub mapper: BinMapper,
    /// The binned matrix.
    pub bins: BinnedMatrix,
}

impl BinnedData {
    /// Checks `ds` (NaN allowed: it goes right), weighs and bins it.
    pub fn new(ds: &Dataset, cw: &ClassWeight, max_bins: usize) -> Result<Self, ModelError> {
        let w = checked_weights(ds, cw, true)?;
        let mapper = BinMapper::fit(ds.x.view(), max_bins);
        let bins = mapper.transform(ds.x.view());
        Ok(BinnedData {
            w,
            y: ds.y.to_vec(),
            mapper,
            bins,
        })
    }

    /// The view a tree grows on.
    pub fn train_set(&self, n_classes: usize) -> TrainSet<'_> {
        TrainSet {
            bins: &self.bins,
            mapper: &self.mapper,
            y: &self.y,
            n_classes,
        }
    }

    /// The rows with a positive weight in `w`, ascending.
    pub fn weighted_rows(&self, w: &[f64]) -> Vec<u32> {
        (0..w.len() as u32)
            .filter(|&i| w[i as usize] > 0.0)
            .collect()
    }
}

pub(crate) fn check_tree_limits(
    max_depth: Option<usize>,
    min_samples_split: usize,
    min_samples_leaf: usize,
    min_impurity_decrease: f64,
    max_features: MaxFeatures,
    max_bins: usize,
) -> Result<(), ModelError> {
    if max_depth == Some(0) {
        return Err(ModelError::invalid("max_depth", "0", ">= 1, or none"));
    }
    if min_samples_split < 2 {
        return Err(ModelError::invalid(
            "min_samples_split",
            min_samples_split,
            ">= 2",
        ));
    }
    check_at_least_one("min_samples_leaf", min_samples_leaf)?;
    check_non_negative(
        "min_impurity_decrease",
        min_impurity_decrease,
        "a finite number >= 0",
    )?;
    if let MaxFeatures::Fraction(f) = max_features {
        if !(f > 0.0 && f <= 1.0) {
            return Err(ModelError::invalid(
                "max_features",
                f,
                "a fraction in (0, 1]",
            ));
        }
    }
    if !(2..=256).contains(&max_bins) {
        return Err(ModelError::invalid("max_bins", max_bins, "2..=256"));
    }
    Ok(())
}

/// Scales a vector to sum 1 (all zeros stay zeros).
pub(crate) fn normalise(mut v: Vec<f64>) -> Vec<f64> {
    let s: f64 = v.iter().sum();
    if s > 0.0 {
        v.iter_mut().for_each(|x| *x /= s);
    }
    v
}

/// A fitted CART classification tree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecisionTree {
    /// The tree; leaf values are class probabilities.
    pub tree: Tree,
    /// Number of classes.
    pub n_classes: usize,
    /// Number of features seen at fit time.
    pub n_features: usize,
    /// Normalised weighted impurity decrease per feature.
    pub importances: Vec<f64>,
}

impl DecisionTree {
    /// Default parameters.
    pub fn params() -> DecisionTreeParams {
        DecisionTreeParams::default()
    }
}

/// Predicts every row with `f(row) -> probabilities`, in parallel for large inputs.
pub(crate) fn predict_rows<F>(ds: &Dataset, k: usize, f: F) -> Array2<f64>
where
    F: Fn(ArrayView1<f64>, &mut [f64]) + Sync,
{
    let n = ds.x.nrows();
    let mut out = Array2::zeros((n, k));
    if n == 0 {
        return out;
    }
    let chunk = 2048;
    out.axis_chunks_iter_mut(ndarray::Axis(0), chunk)
        .into_par_iter()
        .enumerate()
        .for_each(|(ci, mut block)| {
            for (r, mut orow) in block.rows_mut().into_iter().enumerate() {
                let i = ci * chunk + r;
                if let Some(s) = orow.as_slice_mut() {
                    f(ds.x.row(i), s);
                }
            }
        });
    out
}

impl Fitted for DecisionTree {
    const KIND: &'static str = "dt";

    fn signature(&self) -> Signature {
        Signature::features(self.n_classes, self.n_features)
    }

    fn proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
        Ok(predict_rows(ds, self.n_classes, |row, out| {
            out.copy_from_slice(self.tree.value(row))
        }))
    }

    fn importances(&self) -> Option<Vec<f64>> {
        Some(self.importances.clone())
    }

    fn check_loaded(&mut self) -> Result<(), ModelError> {
        self.tree
            .check(self.n_features, self.n_classes)
            .map_err(|e| corrupt(Self::KIND, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Classifier;
    use ndarray::array;

    #[test]
    fn separable_data_is_learned_exactly() {
        let x = array![
            [1.0, 5.0],
            [2.0, 4.0],
            [3.0, 3.0],
            [10.0, 2.0],
            [11.0, 1.0],
            [12.0, 0.0]
        ];
        let ds = Dataset::new(x, array![0, 0, 0, 1, 1, 1], 2).unwrap();
        let m = DecisionTree::params().fit(&ds).unwrap();
        assert_eq!(m.predict(&ds).unwrap(), ds.y);
        assert_eq!(m.tree.n_leaves(), 2);
        // Threshold is CART's midpoint on the first feature that separates (feature 0: 6.5).
        assert_eq!(m.tree.nodes[0].threshold, 6.5);
        let p = m.predict_proba(&ds).unwrap();
        assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-12));
    }

    #[test]
    fn weights_move_leaf_probabilities() {
        let x = array![[0.0], [0.0], [0.0]];
        let mut ds = Dataset::new(x, array![0, 1, 1], 2).unwrap();
        ds.weights = Some(array![2.0, 1.0, 1.0]);
        let m = DecisionTree::params().fit(&ds).unwrap();
        assert_eq!(
            m.predict_proba(&ds).unwrap().row(0).to_vec(),
            vec![0.5, 0.5]
        );
        let m = DecisionTree::params()
            .class_weight(ClassWeight::Explicit(vec![1.0, 3.0]))
            .fit(&ds)
            .unwrap();
        assert_eq!(
            m.predict_proba(&ds).unwrap().row(0).to_vec(),
            vec![0.25, 0.75]
        );
    }

    #[test]
    fn limits_are_validated() {
        assert!(DecisionTree::params().max_depth(Some(0)).check().is_err());
        assert!(DecisionTree::params().min_samples_split(1).check().is_err());
        assert!(DecisionTree::params().max_bins(1).check().is_err());
    }
}
