//! Histogram gradient-boosted trees for classification (log-loss: sigmoid for two classes, softmax
//! with one tree per class and round for more), grown leaf-wise.
//!
//! Source: Friedman, "Greedy function approximation: a gradient boosting machine", Ann. Stat. 29 (2001);
//! Chen & Guestrin, "XGBoost" (KDD 2016) for the second-order gain `G²/(H + λ)`; Ke et al., "LightGBM"
//! (NIPS 2017) for histograms, the sibling-subtraction trick and leaf-wise (best-first) growth.
//! Defaults equal scikit-learn's `HistGradientBoostingClassifier` and LightGBM's (100 rounds, rate 0.1,
//! 31 leaves, 20 rows per leaf); early stopping is on by default above 10 000 rows as in scikit-learn,
//! on a stratified validation fraction (or a validation set given to [`GbdtParams::fit_with_validation`]),
//! and the model is cut back to its best round.
//!
//! Histograms hold (gradient, hessian, count) per bin; a leaf's histogram is built over its rows in
//! parallel over features (rayon), the larger child's by subtracting the smaller child's from the parent's.
//!
//! Cost per round and class: O(n · d) for the root histogram, then O(rows of the smaller child · d) per
//! split plus O(d · bins) per split search; memory n · d bytes of bins, (leaves · d · bins · 24) bytes of
//! histograms, n gradient pairs and n raw scores per class.

#![allow(clippy::needless_range_loop)]

use ndarray::{Array2, ArrayView1};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::binning::BinnedMatrix;
use crate::class_weight::{check_fit_data, class_totals, effective_weights};
use crate::fitted::{corrupt, Fitted, FittedModel, Signature};
use crate::params::{
    check_at_least_one, check_non_negative, check_positive, setter, KeyVisitor, SharedParams,
    WithShared,
};
use crate::proba::{score_outputs, scores_to_proba_in_place, sigmoid, softmax_in_place};
use crate::spec::{About, LearnerParams};
use crate::tree::{normalise, predict_rows, BinnedData, Node, Tree, LEAF};
use crate::{Dataset, ModelError};

/// Parameters of a [`Gbdt`] model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GbdtParams {
    /// Maximum boosting rounds (default 100).
    pub n_estimators: usize,
    /// Shrinkage (default 0.1).
    pub learning_rate: f64,
    /// Maximum depth (`None` = unlimited; leaves are limited by `max_leaves`).
    pub max_depth: Option<usize>,
    /// Maximum leaves per tree (default 31, at least 2).
    pub max_leaves: usize,
    /// Minimum rows per leaf (default 20).
    pub min_samples_leaf: usize,
    /// L2 regularisation λ of the leaf values (default 0).
    pub l2: f64,
    /// Bins per feature (default 255).
    pub max_bins: usize,
    /// Early stopping: `None` = on when there are more than 10 000 rows (scikit-learn's `auto`).
    pub early_stopping: Option<bool>,
    /// Fraction of rows held out for early stopping when no validation set is given (default 0.1).
    pub validation_fraction: f64,
    /// Stop after this many rounds without improvement of the validation loss (default 10).
    pub n_iter_no_change: usize,
    /// A round improves when it lowers the validation loss by more than this (default 1e-7).
    pub tol: f64,
    /// Class weights and the seed of the validation split.
    #[serde(flatten)]
    pub shared: SharedParams,
}

impl Default for GbdtParams {
    fn default() -> Self {
        GbdtParams {
            n_estimators: 100,
            learning_rate: 0.1,
            max_depth: None,
            max_leaves: 31,
            min_samples_leaf: 20,
            l2: 0.0,
            max_bins: 255,
            early_stopping: None,
            validation_fraction: 0.1,
            n_iter_no_change: 10,
            tol: 1e-7,
            shared: SharedParams::default(),
        }
    }
}

/// A fitted gradient-boosted model: `raw_c = init_c + Σ_rounds tree_{round, c}(x)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gbdt {
    /// Initial raw score per output (1 output for two classes, k otherwise).
    pub init: Vec<f64>,
    /// Trees, round-major: `trees[round * outputs + c]` (leaf values include the learning rate).
    pub trees: Vec<Tree>,
    /// Outputs per round.
    pub n_outputs: usize,
    /// Number of classes.
    pub n_classes: usize,
    /// Total split gain per feature (sums to 1), one per feature it was fitted on (so their number is
    /// the number of input columns).
    pub importances: Vec<f64>,
    /// Validation loss after each kept round (empty without early stopping).
    pub validation_loss: Vec<f64>,
}

impl Gbdt {
    /// Default parameters.
    pub fn params() -> GbdtParams {
        GbdtParams::default()
    }

    /// Number of boosting rounds kept.
    pub fn n_rounds(&self) -> usize {
        self.trees.len() / self.n_outputs.max(1)
    }

    fn raw(&self, row: ArrayView1<f64>, out: &mut [f64]) {
        out[..self.n_outputs].copy_from_slice(&self.init);
        for (t, tree) in self.trees.iter().enumerate() {
            out[t % self.n_outputs] += tree.value(row)[0];
        }
    }
}

#[derive(Clone, Copy, Default, Debug)]
struct Bin {
    g: f64,
    h: f64,
    c: f64,
}

#[derive(Clone, Copy, Debug)]
struct Split {
    gain: f64,
    feature: usize,
    bin: usize,
    left_g: f64,
    left_h: f64,
    left_c: f64,
}

struct Leaf {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
    g: f64,
    h: f64,
    hist: Vec<Bin>,
    split: Option<Split>,
}

struct Grower<'a> {
    bins: &'a BinnedMatrix,
    /// The same bins row by row (`row_bins[i * d + j]`), for histogram building.
    row_bins: Vec<u8>,
    n_bins: Vec<usize>,
    offsets: Vec<usize>,
    total_bins: usize,
    cuts: &'a [Vec<f64>],
    max_leaves: usize,
    max_depth: usize,
    min_samples_leaf: usize,
    l2: f64,
    lr: f64,
}

const MIN_HESSIAN: f64 = 1e-3;

/// A histogram build is split over threads only above this many (row, feature) updates.
const PAR_UPDATES: usize = 1 << 15;
/// A split search is split over threads only above this many rows in the leaf.
const PAR_SEARCH_ROWS: usize = 4096;

impl Grower<'_> {
    /// Fills `out` (all zeros) with the (gradient, hessian, count) histogram of `rows` for every feature.
    /// Row by row, reading each row's bins where they sit together in `row_bins`, so one row updates
    /// `d` different histograms (independent adds) and every bin sums its rows in row order — the same
    /// sums in the same order as a column at a time, whatever the number of threads, which split the
    /// features between them.
    fn build_hist(&self, rows: &[u32], gh: &[(f64, f64)], out: &mut [Bin]) {
        let d = self.n_bins.len();
        let threads = if rows.len() * d >= PAR_UPDATES {
            rayon::current_num_threads().clamp(1, d.max(1))
        } else {
            1
        };
        // Contiguous feature ranges, one per thread, and their parts of `out`.
        let mut parts: Vec<(std::ops::Range<usize>, &mut [Bin])> = Vec::with_capacity(threads);
        let mut rest = out;
        for t in 0..threads {
            let (a, b) = (t * d / threads, (t + 1) * d / threads);
            let len: usize = self.n_bins[a..b].iter().sum();
            let (h, tail) = rest.split_at_mut(len);
            parts.push((a..b, h));
            rest = tail;
        }
        let fill = |(range, h): (std::ops::Range<usize>, &mut [Bin])| {
            let base = self.offsets[range.start];
            let offs: Vec<usize> = self.offsets[range.clone()]
                .iter()
                .map(|o| o - base)
                .collect();
            for &r in rows {
                let r = r as usize;
                let (g, hh) = gh[r];
                let rb = &self.row_bins[r * d + range.start..r * d + range.end];
                for (&o, &b) in offs.iter().zip(rb) {
                    let bin = &mut h[o + b as usize];
                    bin.g += g;
                    bin.h += hh;
                    bin.c += 1.0;
                }
            }
        };
        if threads == 1 {
            parts.into_iter().for_each(fill);
        } else {
            parts.into_par_iter().for_each(fill);
        }
    }

    fn score(&self, g: f64, h: f64) -> f64 {
        g * g / (h + self.l2)
    }

    fn best_split(
        &self,
        hist: &[Bin],
        g: f64,
        h: f64,
        count: usize,
        depth: usize,
    ) -> Option<Split> {
        if depth >= self.max_depth || count < 2 * self.min_samples_leaf {
            return None;
        }
        let parent = self.score(g, h);
        let msl = self.min_samples_leaf as f64;
        let c_all = count as f64;
        let search = |j: usize| -> Option<Split> {
            let hj = &hist[self.offsets[j]..self.offsets[j] + self.n_bins[j]];
            let (mut lg, mut lh, mut lc) = (0.0, 0.0, 0.0);
            let mut best: Option<Split> = None;
            for b in 0..hj.len().saturating_sub(1) {
                lg += hj[b].g;
                lh += hj[b].h;
                lc += hj[b].c;
                if hj[b].c == 0.0 || lc < msl {
                    continue;
                }
                let rc = c_all - lc;
                if rc < msl {
                    break;
                }
                let (rg, rh) = (g - lg, h - lh);
                if lh < MIN_HESSIAN || rh < MIN_HESSIAN {
                    continue;
                }
                let gain = self.score(lg, lh) + self.score(rg, rh) - parent;
                if gain > best.map_or(1e-12, |s| s.gain) {
                    best = Some(Split {
                        gain,
                        feature: j,
                        bin: b,
                        left_g: lg,
                        left_h: lh,
                        left_c: lc,
                    });
                }
            }
            best
        };
        // Per feature the first best bin, then the first best feature: the same pick either way.
        let found: Vec<Option<Split>> = if count >= PAR_SEARCH_ROWS {
            (0..self.n_bins.len()).into_par_iter().map(search).collect()
        } else {
            (0..self.n_bins.len()).map(search).collect()
        };
        let mut best: Option<Split> = None;
        for s in found.into_iter().flatten() {
            if best.is_none_or_lower(s.gain) {
                best = Some(s);
            }
        }
        best
    }

    /// Grows one tree; adds each leaf's value to `raw[row]` for the rows it holds. Returns the tree and
    /// the gain per feature.
    fn grow(
        &self,
        rows: &mut [u32],
        gh: &[(f64, f64)],
        scratch: &mut Vec<u32>,
        gains: &mut [f64],
    ) -> (Tree, Vec<(usize, usize, f64)>) {
        let mut tree = Tree {
            nodes: vec![Node {
                feature: LEAF,
                threshold: 0.0,
                left: 0,
                right: 0,
            }],
            values: Vec::new(),
            n_outputs: 1,
        };
        let (mut g, mut h) = (0.0, 0.0);
        for &r in rows.iter() {
            g += gh[r as usize].0;
            h += gh[r as usize].1;
        }
        let mut hist = vec![Bin::default(); self.total_bins];
        self.build_hist(rows, gh, &mut hist);
        let split = self.best_split(&hist, g, h, rows.len(), 0);
        let mut leaves = vec![Leaf {
            node: 0,
            start: 0,
            end: rows.len(),
            depth: 0,
            g,
            h,
            hist,
            split,
        }];
        let mut n_leaves = 1;
        while n_leaves < self.max_leaves {
            // Leaf with the largest gain; the first on ties.
            let mut pick: Option<usize> = None;
            for (i, l) in leaves.iter().enumerate() {
                if let Some(s) = l.split {
                    if pick.map_or(true, |p| s.gain > leaves[p].split.map_or(0.0, |t| t.gain)) {
                        pick = Some(i);
                    }
                }
            }
            let Some(pi) = pick else { break };
            let parent = leaves.swap_remove(pi);
            let Some(s) = parent.split else { break };
            gains[s.feature] += s.gain;
            // Stable partition of the parent's rows.
            let col = self.bins.col(s.feature);
            scratch.clear();
            let mut wpos = parent.start;
            for r in parent.start..parent.end {
                let i = rows[r];
                if (col[i as usize] as usize) <= s.bin {
                    rows[wpos] = i;
                    wpos += 1;
                } else {
                    scratch.push(i);
                }
            }
            rows[wpos..parent.end].copy_from_slice(scratch);
            let left_id = tree.split_leaf(parent.node, s.feature, self.cuts[s.feature][s.bin]);
            let (lrng, rrng) = ((parent.start, wpos), (wpos, parent.end));
            let (lg, lh) = (s.left_g, s.left_h);
            let (rg, rh) = (parent.g - lg, parent.h - lh);
            let left_small = (lrng.1 - lrng.0) <= (rrng.1 - rrng.0);
            let mut small = vec![Bin::default(); self.total_bins];
            let small_rng = if left_small { lrng } else { rrng };
            self.build_hist(&rows[small_rng.0..small_rng.1], gh, &mut small);
            let mut large = parent.hist;
            for (a, b) in large.iter_mut().zip(&small) {
                a.g -= b.g;
                a.h -= b.h;
                a.c -= b.c;
            }
            let (lhist, rhist) = if left_small {
                (small, large)
            } else {
                (large, small)
            };
            let depth = parent.depth + 1;
            let lsplit = self.best_split(&lhist, lg, lh, lrng.1 - lrng.0, depth);
            let rsplit = self.best_split(&rhist, rg, rh, rrng.1 - rrng.0, depth);
            let _ = s.left_c;
            leaves.push(Leaf {
                node: left_id,
                start: lrng.0,
                end: lrng.1,
                depth,
                g: lg,
                h: lh,
                hist: lhist,
                split: lsplit,
            });
            leaves.push(Leaf {
                node: left_id + 1,
                start: rrng.0,
                end: rrng.1,
                depth,
                g: rg,
                h: rh,
                hist: rhist,
                split: rsplit,
            });
            n_leaves += 1;
        }
        // Leaves in node order for a stable layout.
        leaves.sort_by_key(|l| l.node);
        let mut ranges = Vec::with_capacity(leaves.len());
        for l in &leaves {
            let v = -self.lr * l.g / (l.h + self.l2).max(1e-12);
            let idx = tree.values.len();
            tree.values.push(v);
            tree.nodes[l.node] = Node {
                feature: LEAF,
                threshold: 0.0,
                left: idx as u32,
                right: 0,
            };
            ranges.push((l.start, l.end, v));
        }
        (tree, ranges)
    }
}

/// The binned matrix row by row (`out[i * d + j]`).
fn row_major(bins: &BinnedMatrix) -> Vec<u8> {
    let (n, d) = (bins.n_rows, bins.n_cols);
    let mut out = vec![0u8; n * d];
    for j in 0..d {
        for (i, &b) in bins.col(j).iter().enumerate() {
            out[i * d + j] = b;
        }
    }
    out
}

trait LowerGain {
    fn is_none_or_lower(&self, gain: f64) -> bool;
}

impl LowerGain for Option<Split> {
    fn is_none_or_lower(&self, gain: f64) -> bool {
        self.map_or(true, |b| gain > b.gain)
    }
}

/// Softmax of raw scores into `out`.
fn softmax_into(raw: &[f64], out: &mut [f64]) {
    out.copy_from_slice(raw);
    softmax_in_place(out);
}

/// Stratified, seeded hold-out: returns (train rows, validation rows), both ascending.
pub fn stratified_holdout(
    y: &[usize],
    n_classes: usize,
    fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (i, &c) in y.iter().enumerate() {
        by_class[c].push(i);
    }
    let mut train = Vec::new();
    let mut valid = Vec::new();
    for mut rows in by_class {
        rows.shuffle(&mut rng);
        let nv = ((rows.len() as f64) * fraction).round() as usize;
        let nv = nv.min(rows.len().saturating_sub(1));
        valid.extend_from_slice(&rows[..nv]);
        train.extend_from_slice(&rows[nv..]);
    }
    train.sort_unstable();
    valid.sort_unstable();
    (train, valid)
}

impl WithShared for GbdtParams {
    fn shared_mut(&mut self) -> &mut SharedParams {
        &mut self.shared
    }
}

impl GbdtParams {
    setter!(/// Sets the maximum rounds.
        n_estimators: usize);
    setter!(/// Sets the learning rate.
        learning_rate: f64);
    setter!(/// Sets the maximum depth.
        max_depth: Option<usize>);
    setter!(/// Sets the maximum leaves.
        max_leaves: usize);
    setter!(/// Sets the minimum rows per leaf.
        min_samples_leaf: usize);
    setter!(/// Sets λ.
        l2: f64);
    setter!(/// Sets the bins per feature.
        max_bins: usize);
    setter!(/// Sets early stopping (`None` = auto).
        early_stopping: Option<bool>);
    setter!(/// Sets the validation fraction.
        validation_fraction: f64);
    setter!(/// Sets the patience.
        n_iter_no_change: usize);
    setter!(/// Sets the improvement tolerance.
        tol: f64);

    /// Fits on `ds`; with early stopping on, a stratified `validation_fraction` of it is held out.
    pub fn fit(&self, ds: &Dataset) -> Result<Gbdt, ModelError> {
        self.check()?;
        check_fit_data(ds, true)?;
        let stop = self.early_stopping.unwrap_or(ds.nrows() > 10_000);
        if stop && ds.nrows() >= 20 {
            let (tr, va) = stratified_holdout(
                ds.y.as_slice().unwrap_or(&ds.y.to_vec()),
                ds.n_classes,
                self.validation_fraction,
                self.shared.seed_or_zero(),
            );
            return self.fit_inner(&ds.select(&tr), Some(&ds.select(&va)));
        }
        self.fit_inner(ds, None)
    }

    /// Fits on `train`, early-stopping on `valid` (whatever `early_stopping` says).
    pub fn fit_with_validation(
        &self,
        train: &Dataset,
        valid: &Dataset,
    ) -> Result<Gbdt, ModelError> {
        self.check()?;
        check_fit_data(train, true)?;
        if valid.n_classes != train.n_classes || valid.ncols() != train.ncols() {
            return Err(ModelError::Data(
                "validation set does not match the training set's classes or columns".into(),
            ));
        }
        self.fit_inner(train, if valid.nrows() > 0 { Some(valid) } else { None })
    }

    fn fit_inner(&self, ds: &Dataset, valid: Option<&Dataset>) -> Result<Gbdt, ModelError> {
        let (n, k) = (ds.nrows(), ds.n_classes);
        if k < 2 {
            return Err(ModelError::Data(
                "gradient boosting needs at least 2 classes".into(),
            ));
        }
        let m = score_outputs(k);
        let data = BinnedData::new(ds, &self.shared.class_weight, self.max_bins)?;
        let (w, y, mapper, bins) = (&data.w, &data.y, &data.mapper, &data.bins);
        let n_bins: Vec<usize> = (0..ds.ncols()).map(|j| mapper.n_bins(j)).collect();
        let mut offsets = vec![0; n_bins.len()];
        let mut acc = 0;
        for j in 0..n_bins.len() {
            offsets[j] = acc;
            acc += n_bins[j];
        }
        let grower = Grower {
            bins,
            row_bins: row_major(bins),
            n_bins,
            offsets,
            total_bins: acc,
            cuts: &mapper.cuts,
            max_leaves: self.max_leaves,
            max_depth: self.max_depth.unwrap_or(usize::MAX),
            min_samples_leaf: self.min_samples_leaf,
            l2: self.l2,
            lr: self.learning_rate,
        };

        // Initial raw scores from the weighted class priors.
        let prior = class_totals(ds, w);
        let tw: f64 = prior.iter().sum();
        let eps = 1e-15;
        let init: Vec<f64> = if m == 1 {
            let p = (prior[1] / tw).clamp(eps, 1.0 - eps);
            vec![(p / (1.0 - p)).ln()]
        } else {
            prior.iter().map(|&c| (c / tw).max(eps).ln()).collect()
        };
        let mut raw = vec![0.0; n * m];
        for i in 0..n {
            raw[i * m..(i + 1) * m].copy_from_slice(&init);
        }
        let nv = valid.map_or(0, |v| v.nrows());
        let mut vraw = vec![0.0; nv * m];
        for i in 0..nv {
            vraw[i * m..(i + 1) * m].copy_from_slice(&init);
        }
        let vw: Vec<f64> = match valid {
            Some(v) => {
                effective_weights(v, &self.shared.class_weight).unwrap_or_else(|_| vec![1.0; nv])
            }
            None => Vec::new(),
        };

        let mut gains = vec![0.0; ds.ncols()];
        let mut trees: Vec<Tree> = Vec::new();
        let mut gh = vec![(0.0, 0.0); n];
        let mut rows: Vec<u32> = Vec::with_capacity(n);
        let mut scratch = Vec::with_capacity(n);
        let mut p = vec![0.0; m.max(2)];
        let mut val_hist = Vec::new();
        let (mut best_loss, mut best_round) = (f64::INFINITY, 0usize);
        let guard = crate::memory::FitGuard::new("boosting rounds", "n_estimators", 1);
        for round in 0..self.n_estimators {
            guard.tick(round)?;
            for c in 0..m {
                // Gradients and hessians of the log-loss for output c (each row on its own: any
                // thread count gives the same values).
                gh.par_iter_mut()
                    .enumerate()
                    .with_min_len(4096)
                    .for_each_init(
                        || vec![0.0; m],
                        |p, (i, out)| {
                            let r = &raw[i * m..(i + 1) * m];
                            let (pc, t) = if m == 1 {
                                (sigmoid(r[0]), if y[i] == 1 { 1.0 } else { 0.0 })
                            } else {
                                softmax_into(r, p);
                                (p[c], if y[i] == c { 1.0 } else { 0.0 })
                            };
                            *out = (w[i] * (pc - t), (w[i] * pc * (1.0 - pc)).max(1e-16 * w[i]));
                        },
                    );
                rows.clear();
                rows.extend(data.weighted_rows(w));
                let (tree, ranges) = grower.grow(&mut rows, &gh, &mut scratch, &mut gains);
                for (s, e, v) in ranges {
                    for &r in &rows[s..e] {
                        raw[r as usize * m + c] += v;
                    }
                }
                if let Some(v) = valid {
                    for i in 0..nv {
                        vraw[i * m + c] += tree.value(v.x.row(i))[0];
                    }
                }
                trees.push(tree);
            }
            if let Some(v) = valid {
                let mut loss = 0.0;
                let mut wsum = 0.0;
                for i in 0..nv {
                    let r = &vraw[i * m..(i + 1) * m];
                    let pt = if m == 1 {
                        let q = sigmoid(r[0]);
                        if v.y[i] == 1 {
                            q
                        } else {
                            1.0 - q
                        }
                    } else {
                        softmax_into(r, &mut p[..m]);
                        p[v.y[i]]
                    };
                    loss -= vw[i] * pt.max(1e-15).ln();
                    wsum += vw[i];
                }
                let loss = loss / wsum.max(1e-300);
                val_hist.push(loss);
                if loss < best_loss - self.tol {
                    best_loss = loss;
                    best_round = round;
                } else if round - best_round >= self.n_iter_no_change {
                    break;
                }
            }
        }
        if valid.is_some() {
            trees.truncate((best_round + 1) * m);
            val_hist.truncate(best_round + 1);
        }
        Ok(Gbdt {
            init,
            trees,
            n_outputs: m,
            n_classes: k,
            importances: normalise(gains),
            validation_loss: val_hist,
        })
    }
}

impl Fitted for Gbdt {
    const KIND: &'static str = "gbdt";

    fn signature(&self) -> Signature {
        Signature::features(self.n_classes, self.importances.len())
    }

    fn proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
        let m = self.n_outputs;
        Ok(predict_rows(ds, self.n_classes, |row, out| {
            self.raw(row, out);
            scores_to_proba_in_place(out, m);
        }))
    }

    fn importances(&self) -> Option<Vec<f64>> {
        Some(self.importances.clone())
    }

    fn check_loaded(&mut self) -> Result<(), ModelError> {
        let m = self.n_outputs;
        if self.n_classes < 2
            || m != score_outputs(self.n_classes)
            || self.init.len() != m
            || self.trees.len() % m != 0
        {
            return Err(corrupt(
                Self::KIND,
                format!(
                    "{m} outputs, {} initial scores and {} trees for {} classes",
                    self.init.len(),
                    self.trees.len(),
                    self.n_classes
                ),
            ));
        }
        let d = self.importances.len();
        self.trees
            .iter()
            .try_for_each(|t| t.check(d, 1))
            .map_err(|e| corrupt(Self::KIND, e))
    }
}

impl LearnerParams for GbdtParams {
    fn memory_estimate(&self, train: &Dataset) -> Option<crate::memory::Estimate> {
        let mut nodes =
            crate::memory::tree_nodes(train.nrows(), self.min_samples_leaf, self.max_depth);
        nodes = nodes.min(2 * self.max_leaves.max(1) as u64);
        // One tree per class and round (one for two classes).
        let trees =
            crate::memory::mul(&[self.n_estimators as u64, train.n_classes.max(2) as u64 - 1]);
        Some(crate::memory::Estimate {
            bytes: crate::memory::mul(&[nodes, crate::memory::node_bytes(1), trees]),
            param: "n_estimators",
            value: self.n_estimators.to_string(),
        })
    }
    fn about(&self) -> About {
        About::new("gbdt", &[], "histogram gradient-boosted trees (log-loss)")
    }
    fn visit_keys(&mut self, v: &mut dyn KeyVisitor) -> Result<(), ModelError> {
        v.key(&["n_estimators", "max_iter"], &mut self.n_estimators)?;
        v.key(&["learning_rate"], &mut self.learning_rate)?;
        v.optional(&["max_depth"], &mut self.max_depth, "none")?;
        v.key(&["max_leaves", "max_leaf_nodes"], &mut self.max_leaves)?;
        v.key(&["min_samples_leaf"], &mut self.min_samples_leaf)?;
        v.key(&["l2", "l2_regularization"], &mut self.l2)?;
        v.key(&["max_bins"], &mut self.max_bins)?;
        v.optional(&["early_stopping"], &mut self.early_stopping, "auto")?;
        v.key(&["validation_fraction"], &mut self.validation_fraction)?;
        v.key(&["n_iter_no_change"], &mut self.n_iter_no_change)?;
        v.key(&["tol"], &mut self.tol)?;
        self.shared.visit_keys(v)
    }
    fn check(&self) -> Result<(), ModelError> {
        let bad = |name, value: String, expected| Err(ModelError::invalid(name, value, expected));
        check_at_least_one("n_estimators", self.n_estimators)?;
        check_positive("learning_rate", self.learning_rate)?;
        if self.max_depth == Some(0) {
            return bad("max_depth", "0".into(), ">= 1, or none");
        }
        if self.max_leaves < 2 {
            return bad("max_leaves", self.max_leaves.to_string(), ">= 2");
        }
        check_at_least_one("min_samples_leaf", self.min_samples_leaf)?;
        check_non_negative("l2", self.l2, "a finite number >= 0")?;
        if !(2..=256).contains(&self.max_bins) {
            return bad("max_bins", self.max_bins.to_string(), "2..=256");
        }
        if !(self.validation_fraction > 0.0 && self.validation_fraction < 1.0) {
            return bad(
                "validation_fraction",
                self.validation_fraction.to_string(),
                "a fraction in (0, 1)",
            );
        }
        check_at_least_one("n_iter_no_change", self.n_iter_no_change)?;
        if self.tol < 0.0 || self.tol.is_nan() {
            return bad("tol", self.tol.to_string(), ">= 0");
        }
        Ok(())
    }
    fn fit_model(&self, ds: &Dataset, valid: Option<&Dataset>) -> Result<FittedModel, ModelError> {
        match valid {
            Some(v) => self.fit_with_validation(ds, v),
            None => self.fit(ds),
        }
        .map(FittedModel::Gbdt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::uniform_test_data;
    use crate::Classifier;
    use rand::Rng;

    fn data(n: usize, k: usize) -> Dataset {
        let (x, y) = uniform_test_data((n, 3), 9, |r, rng| {
            let s = r[0] * r[1] + 0.3 * r[2] + rng.gen_range(-0.1..0.1);
            if k == 2 {
                usize::from(s > 0.0)
            } else {
                ((s + 1.3) / 2.6 * k as f64).clamp(0.0, k as f64 - 1.0) as usize
            }
        });
        Dataset::new(x, y, k).unwrap()
    }

    #[test]
    fn learns_interactions_binary_and_multiclass() {
        for k in [2, 3] {
            let ds = data(3000, k);
            let m = Gbdt::params().n_estimators(150).fit(&ds).unwrap();
            let y = ds.y.to_vec();
            let acc = crate::metrics::accuracy(&y, &m.predict(&ds).unwrap().to_vec());
            assert!(acc > 0.9, "k={k}: {acc}");
            let p = m.predict_proba(&ds).unwrap();
            assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-9));
            // Each tree has at most 31 leaves.
            assert!(m.trees.iter().all(|t| t.n_leaves() <= 31));
        }
    }

    #[test]
    fn same_trees_on_one_two_and_three_threads() {
        // Big enough that the histograms and the root's split search run in parallel.
        let ds = data(12_000, 2);
        let p = Gbdt::params().n_estimators(12).early_stopping(Some(false));
        let fits: Vec<Gbdt> = [1, 2, 3]
            .iter()
            .map(|&t| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(t)
                    .build()
                    .unwrap();
                pool.install(|| p.fit(&ds).unwrap())
            })
            .collect();
        assert!(fits.iter().all(|m| m.trees.len() == 12));
        for m in &fits[1..] {
            assert_eq!(m, &fits[0]);
        }
    }

    #[test]
    fn early_stopping_cuts_back_to_best_round() {
        let ds = data(2000, 2);
        let (tr, va) = stratified_holdout(&ds.y.to_vec(), 2, 0.3, 1);
        let m = Gbdt::params()
            .n_estimators(500)
            .learning_rate(0.5)
            .fit_with_validation(&ds.select(&tr), &ds.select(&va))
            .unwrap();
        assert!(m.n_rounds() < 500);
        let best = m
            .validation_loss
            .iter()
            .cloned()
            .fold(f64::INFINITY, f64::min);
        assert_eq!(*m.validation_loss.last().unwrap(), best);
    }
}
