//! Support vector machines with Platt-scaled probabilities: a linear SVM trained by dual coordinate
//! descent for large n, and an RBF-kernel SVM trained by SMO for moderate n.
//!
//! Sources: Hsieh, Chang, Lin, Keerthi & Sundararajan, "A dual coordinate descent method for large-scale
//! linear SVM", ICML 2008 (L2-loss / squared hinge, the default of LIBLINEAR and scikit-learn's
//! `LinearSVC`; the intercept is a regularised constant feature as in LIBLINEAR); Fan, Chen & Lin,
//! "Working set selection using second order information", JMLR 6 (2005) for SMO (LIBSVM's solver);
//! Platt (1999) with the numerically robust fit of Lin, Lin & Weng, "A note on Platt's probabilistic
//! outputs", Machine Learning 68 (2007).
//!
//! Both models standardise the features internally (mean 0, variance 1: SVMs are not scale invariant and
//! the logged counts of a feature matrix span orders of magnitude); `gamma = scale` is then `1 / d`.
//! Multiclass is one-vs-rest; the Platt probabilities of the classes are normalised to sum 1. Platt's
//! sigmoid is fitted on the training decision values (scikit-learn's SVC uses an internal 5-fold CV:
//! five times the cost); for two classes the probabilities are a monotone map of the decision value, so
//! ROC-AUC is unaffected.
//!
//! The linear SVM solves the dual by coordinate descent or, when rows outnumber features (`solver=auto`,
//! scikit-learn's `dual="auto"`), the primal by L-BFGS — a few dozen passes over the data whatever C,
//! where the dual may need hundreds on large non-separable data.
//!
//! Cost: linear — O(iterations · n · d) time, O(n + d) memory beyond the scaled copy. RBF — SMO needs
//! O(n²)-ish kernel evaluations (each O(d)); a row cache of `cache_mb` megabytes; refused above
//! `max_rows` rows (default 20 000) with a message pointing to the linear SVM.

#![allow(clippy::needless_range_loop)]

use std::collections::VecDeque;

use ndarray::{Array1, Array2, ArrayView1, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::class_weight::{check_fit_data, checked_weights, ClassWeight};
use crate::fitted::{corrupt, Fitted, FittedModel, Signature};
use crate::logistic::check_outputs;
use crate::params::{
    check_at_least_one, check_positive, setter, KeyVisitor, Named, SharedParams, WithShared,
};
use crate::proba::{binary_into, score_outputs};
use crate::spec::{About, LearnerParams};
use crate::tree::predict_rows;
use crate::{Dataset, ModelError};

/// Per-feature standardisation fitted on the training rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Column means.
    pub mean: Vec<f64>,
    /// Column standard deviations (1 for a constant column).
    pub scale: Vec<f64>,
}

impl Standardizer {
    fn fit(x: &Array2<f64>) -> Self {
        let n = x.nrows().max(1) as f64;
        let mut mean = Vec::with_capacity(x.ncols());
        let mut scale = Vec::with_capacity(x.ncols());
        for col in x.axis_iter(Axis(1)) {
            let mu = col.sum() / n;
            let var = col.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / n;
            mean.push(mu);
            scale.push(if var > 1e-24 { var.sqrt() } else { 1.0 });
        }
        Standardizer { mean, scale }
    }

    fn apply(&self, x: &Array2<f64>) -> Array2<f64> {
        let mut z = x.clone();
        for (j, mut col) in z.axis_iter_mut(Axis(1)).enumerate() {
            let (m, s) = (self.mean[j], self.scale[j]);
            col.mapv_inplace(|v| (v - m) / s);
        }
        z
    }

    fn row_into(&self, row: ArrayView1<f64>, out: &mut [f64]) {
        for j in 0..out.len() {
            out[j] = (row[j] - self.mean[j]) / self.scale[j];
        }
    }
}

/// Platt's sigmoid `P(y = 1 | f) = 1 / (1 + exp(A f + B))`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Platt {
    /// Slope (negative for a useful classifier).
    pub a: f64,
    /// Offset.
    pub b: f64,
}

impl Platt {
    /// Fits A, B on decision values and binary labels (Lin, Lin & Weng 2007, Newton with backtracking).
    pub fn fit(dec: &[f64], pos: &[bool]) -> Platt {
        let prior1 = pos.iter().filter(|&&p| p).count() as f64;
        let prior0 = pos.len() as f64 - prior1;
        let (hi, lo) = ((prior1 + 1.0) / (prior1 + 2.0), 1.0 / (prior0 + 2.0));
        let t: Vec<f64> = pos.iter().map(|&p| if p { hi } else { lo }).collect();
        let (mut a, mut b) = (0.0, ((prior0 + 1.0) / (prior1 + 1.0)).ln());
        let sigma = 1e-12;
        let fval_of = |a: f64, b: f64| -> f64 {
            dec.iter()
                .zip(&t)
                .map(|(&f, &ti)| {
                    let fapb = f * a + b;
                    if fapb >= 0.0 {
                        ti * fapb + (-fapb).exp().ln_1p()
                    } else {
                        (ti - 1.0) * fapb + fapb.exp().ln_1p()
                    }
                })
                .sum()
        };
        let mut fval = fval_of(a, b);
        for _ in 0..100 {
            let (mut h11, mut h22, mut h21, mut g1, mut g2) = (sigma, sigma, 0.0, 0.0, 0.0);
            for (&f, &ti) in dec.iter().zip(&t) {
                let fapb = f * a + b;
                let (p, q) = if fapb >= 0.0 {
                    let e = (-fapb).exp();
                    (e / (1.0 + e), 1.0 / (1.0 + e))
                } else {
                    let e = fapb.exp();
                    (1.0 / (1.0 + e), e / (1.0 + e))
                };
                let d2 = p * q;
                h11 += f * f * d2;
                h22 += d2;
                h21 += f * d2;
                let d1 = ti - p;
                g1 += f * d1;
                g2 += d1;
            }
            if g1.abs() < 1e-5 && g2.abs() < 1e-5 {
                break;
            }
            let det = h11 * h22 - h21 * h21;
            let da = -(h22 * g1 - h21 * g2) / det;
            let db = -(-h21 * g1 + h11 * g2) / det;
            let gd = g1 * da + g2 * db;
            let mut step = 1.0;
            let mut moved = false;
            while step >= 1e-10 {
                let (na, nb) = (a + step * da, b + step * db);
                let nf = fval_of(na, nb);
                if nf < fval + 1e-4 * step * gd {
                    a = na;
                    b = nb;
                    fval = nf;
                    moved = true;
                    break;
                }
                step /= 2.0;
            }
            if !moved {
                break;
            }
        }
        Platt { a, b }
    }

    /// Probability of the positive class for decision value `f`.
    pub fn proba(&self, f: f64) -> f64 {
        let fapb = f * self.a + self.b;
        if fapb >= 0.0 {
            let e = (-fapb).exp();
            e / (1.0 + e)
        } else {
            1.0 / (1.0 + fapb.exp())
        }
    }
}

/// Turns per-output decision values into class probabilities through Platt sigmoids.
fn platt_probabilities(dec: &[f64], platt: &[Platt], out: &mut [f64]) {
    if out.len() == 2 {
        binary_into(platt[0].proba(dec[0]), out);
        return;
    }
    let mut s = 0.0;
    for c in 0..out.len() {
        out[c] = platt[c].proba(dec[c]).max(1e-12);
        s += out[c];
    }
    out.iter_mut().for_each(|v| *v /= s);
}

/// The ±1 targets of output `c` (class 1 vs rest for two classes).
fn ovr_targets(y: &[usize], k: usize, c: usize) -> Vec<f64> {
    let pos = if k == 2 { 1 } else { c };
    y.iter()
        .map(|&t| if t == pos { 1.0 } else { -1.0 })
        .collect()
}

/// What both SVMs solve on: per-row penalties `C × effective weight`, the standardised matrix, the
/// labels, the number of classes and of one-vs-rest outputs (1 for two classes).
struct SvmData {
    cw: Vec<f64>,
    scaler: Standardizer,
    z: Array2<f64>,
    y: Vec<usize>,
    k: usize,
    m: usize,
}

impl SvmData {
    fn new(ds: &Dataset, class_weight: &ClassWeight, c: f64) -> Result<Self, ModelError> {
        let w = checked_weights(ds, class_weight, false)?;
        let k = ds.n_classes;
        if k < 2 {
            return Err(ModelError::Data("an SVM needs at least 2 classes".into()));
        }
        let scaler = Standardizer::fit(&ds.x);
        Ok(SvmData {
            cw: w.iter().map(|v| v * c).collect(),
            z: scaler.apply(&ds.x),
            scaler,
            y: ds.y.to_vec(),
            k,
            m: score_outputs(k),
        })
    }

    /// The ±1 targets of output `c`.
    fn targets(&self, c: usize) -> Vec<f64> {
        ovr_targets(&self.y, self.k, c)
    }

    /// Platt's sigmoid of output `c`, fitted on its training decision values.
    fn platt(&self, c: usize, dec: &[f64]) -> Platt {
        let pos: Vec<bool> = self.targets(c).iter().map(|&t| t > 0.0).collect();
        Platt::fit(dec, &pos)
    }
}

/// What both SVMs are at prediction time: standardised inputs, one decision value per one-vs-rest
/// output, a Platt sigmoid per output. Their [`Fitted`] implementation is this trait's.
pub trait OneVsRest: Send + Sync {
    /// The `kind` of its model files ([`Fitted::KIND`]).
    const FILE_KIND: &'static str;

    /// Standardisation, Platt sigmoids and number of classes.
    fn calibration(&self) -> (&Standardizer, &[Platt], usize);

    /// Outputs (rows of weights), intercepts and input features, as stored.
    fn shape(&self) -> (usize, usize, usize);

    /// Decision values of one standardised row, one per output.
    fn decision(&self, z: &[f64], out: &mut [f64]);

    /// Checks of a loaded model beyond the shared ones.
    fn check_more(&mut self) -> Result<(), ModelError> {
        Ok(())
    }
}

impl<M: OneVsRest> Fitted for M {
    const KIND: &'static str = M::FILE_KIND;

    fn signature(&self) -> Signature {
        Signature::features(self.calibration().2, self.shape().2)
    }

    /// Each row standardised, the decision value of every output, mapped through that output's Platt
    /// sigmoid.
    fn proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
        let (scaler, platt, n_classes) = self.calibration();
        let (d, m) = (scaler.mean.len(), platt.len());
        Ok(predict_rows(ds, n_classes, |row, out| {
            let mut z = vec![0.0; d];
            scaler.row_into(row, &mut z);
            let mut dec = vec![0.0; m];
            self.decision(&z, &mut dec);
            platt_probabilities(&dec, platt, out);
        }))
    }

    /// Outputs per classes, one Platt sigmoid per output, the same features throughout.
    fn check_loaded(&mut self) -> Result<(), ModelError> {
        let ((scaler, platt, n_classes), (outputs, intercepts, d)) =
            (self.calibration(), self.shape());
        check_outputs(M::FILE_KIND, n_classes, outputs, intercepts)?;
        if platt.len() != outputs || scaler.mean.len() != d || scaler.scale.len() != d {
            return Err(corrupt(
                M::FILE_KIND,
                "Platt sigmoids or standardisation do not match the weights",
            ));
        }
        self.check_more()
    }
}

/// Which optimisation problem the linear SVM solves (both give the same model up to the tolerance).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinearSvmSolver {
    /// Primal when there are more rows than features, dual otherwise (scikit-learn's `dual="auto"`).
    #[default]
    Auto,
    /// Dual coordinate descent (Hsieh et al. 2008): best when features outnumber rows or C is small.
    Dual,
    /// Primal L-BFGS on the squared hinge loss: a few dozen passes whatever C, best for n ≫ d.
    Primal,
}

impl LinearSvmSolver {
    fn primal(self, rows: usize, features: usize) -> bool {
        match self {
            LinearSvmSolver::Auto => rows > features,
            LinearSvmSolver::Dual => false,
            LinearSvmSolver::Primal => true,
        }
    }
}

cartseq_data::named_enum!(LinearSvmSolver, "a linear SVM solver", [
    "auto" => LinearSvmSolver::Auto,
    "dual" => LinearSvmSolver::Dual,
    "primal" => LinearSvmSolver::Primal,
]);
impl Named for LinearSvmSolver {}

/// Parameters of a [`LinearSvm`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearSvmParams {
    /// Penalty C of the squared hinge loss (default 1).
    pub c: f64,
    /// Maximum passes over the data (default 1000).
    pub max_iter: usize,
    /// Stop when the projected-gradient spread is below this (default 1e-3).
    pub tol: f64,
    /// Class weights (they multiply C per row) and the seed of the coordinate order.
    #[serde(flatten)]
    pub shared: SharedParams,
    /// Primal or dual problem (default auto: primal when rows outnumber features).
    #[serde(default)]
    pub solver: LinearSvmSolver,
}

impl Default for LinearSvmParams {
    fn default() -> Self {
        LinearSvmParams {
            c: 1.0,
            max_iter: 1000,
            tol: 1e-3,
            shared: SharedParams::default(),
            solver: LinearSvmSolver::Auto,
        }
    }
}

/// A fitted linear SVM: `f_c(x) = w_c · z(x) + b_c` on standardised features, Platt per output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearSvm {
    /// Standardisation of the inputs.
    pub scaler: Standardizer,
    /// Weights per output, `(outputs, features)`.
    pub coef: Array2<f64>,
    /// Intercept per output.
    pub intercept: Vec<f64>,
    /// Platt sigmoid per output.
    pub platt: Vec<Platt>,
    /// Number of classes.
    pub n_classes: usize,
}

impl LinearSvm {
    /// Default parameters.
    pub fn params() -> LinearSvmParams {
        LinearSvmParams::default()
    }
}

/// The checks both SVMs make of their solver settings: `max_iter`, then C, then the tolerance.
fn check_solver(c: f64, tol: f64, max_iter: usize) -> Result<(), ModelError> {
    check_at_least_one("max_iter", max_iter)?;
    check_positive("c", c)?;
    check_positive("tol", tol)
}

/// Dual coordinate descent for the L2-loss SVM with per-row penalties `cw` (Hsieh et al. 2008,
/// Algorithm 1 with LIBLINEAR's shrinking). `z` rows are the inputs, the last weight is the bias (feature 1).
fn dcd_l2(
    z: &Array2<f64>,
    yy: &[f64],
    cw: &[f64],
    max_iter: usize,
    tol: f64,
    rng: &mut ChaCha8Rng,
) -> Vec<f64> {
    let (n, d) = (z.nrows(), z.ncols());
    let zc = z.as_standard_layout();
    let zs: &[f64] = zc.as_slice().unwrap_or(&[]);
    let mut w = vec![0.0; d + 1];
    let mut alpha = vec![0.0; n];
    let diag: Vec<f64> = cw
        .iter()
        .map(|&c| if c > 0.0 { 0.5 / c } else { f64::INFINITY })
        .collect();
    let qd: Vec<f64> = (0..n)
        .map(|i| zs[i * d..(i + 1) * d].iter().map(|v| v * v).sum::<f64>() + 1.0 + diag[i])
        .collect();
    // LIBLINEAR's shrinking: a row at α = 0 whose gradient exceeds last pass's largest projected gradient
    // leaves the active set; when the active set converges, every row is checked again.
    let mut index: Vec<usize> = (0..n).filter(|&i| cw[i] > 0.0).collect();
    let full = index.len();
    let mut active = full;
    let mut pg_max_old = f64::INFINITY;
    for _ in 0..max_iter {
        index[..active].shuffle(rng);
        let (mut pg_max, mut pg_min) = (f64::NEG_INFINITY, f64::INFINITY);
        let mut s = 0;
        while s < active {
            let i = index[s];
            let zi = &zs[i * d..(i + 1) * d];
            let (wv, bias) = w.split_at_mut(d);
            let wx: f64 = bias[0] + zi.iter().zip(wv.iter()).map(|(a, b)| a * b).sum::<f64>();
            let g = yy[i] * wx - 1.0 + diag[i] * alpha[i];
            let pg = if alpha[i] == 0.0 {
                if g > pg_max_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                }
                g.min(0.0)
            } else {
                g
            };
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (alpha[i] - g / qd[i]).max(0.0);
                let delta = (alpha[i] - old) * yy[i];
                for (wj, a) in wv.iter_mut().zip(zi) {
                    *wj += delta * a;
                }
                bias[0] += delta;
            }
            s += 1;
        }
        if pg_max - pg_min <= tol {
            if active == full {
                break;
            }
            active = full;
            pg_max_old = f64::INFINITY;
            continue;
        }
        pg_max_old = if pg_max <= 0.0 { f64::INFINITY } else { pg_max };
    }
    w
}

/// The primal L2-loss SVM, `½‖w‖² + Σᵢ Cᵢ max(0, 1 − yᵢ w·zᵢ)²` (bias as a regularised constant
/// feature, as in the dual), minimised by L-BFGS. Stops as LIBLINEAR's primal solver does, in the max
/// norm: `‖∇f(w)‖ ≤ tol · min(#pos, #neg) / n · ‖∇f(0)‖`. The gradient is summed over fixed row chunks in
/// parallel and the chunks are added in order, so the result does not depend on the thread count.
fn primal_l2(z: &Array2<f64>, yy: &[f64], cw: &[f64], max_iter: usize, tol: f64) -> Vec<f64> {
    const CHUNK: usize = 4096;
    let (n, d) = (z.nrows(), z.ncols());
    let zc = z.as_standard_layout();
    let zs: &[f64] = zc.as_slice().unwrap_or(&[]);
    let objective = |w: &[f64], g: &mut [f64]| -> f64 {
        let (wv, b) = (&w[..d], w[d]);
        let parts: Vec<(f64, Vec<f64>)> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let mut gp = vec![0.0; d + 1];
                let mut loss = 0.0;
                for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                    if cw[i] <= 0.0 {
                        continue;
                    }
                    let zi = &zs[i * d..(i + 1) * d];
                    let m = yy[i] * (b + zi.iter().zip(wv).map(|(a, w)| a * w).sum::<f64>());
                    let v = 1.0 - m;
                    if v > 0.0 {
                        loss += cw[i] * v * v;
                        let k = -2.0 * cw[i] * v * yy[i];
                        for (gj, a) in gp[..d].iter_mut().zip(zi) {
                            *gj += k * a;
                        }
                        gp[d] += k;
                    }
                }
                (loss, gp)
            })
            .collect();
        g.copy_from_slice(w);
        let mut fx = 0.5 * w.iter().map(|v| v * v).sum::<f64>();
        for (loss, gp) in parts {
            fx += loss;
            for (gj, p) in g.iter_mut().zip(&gp) {
                *gj += p;
            }
        }
        fx
    };
    let mut w = vec![0.0; d + 1];
    let mut g0 = vec![0.0; d + 1];
    objective(&w, &mut g0);
    let g0_max = g0.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let (pos, neg) = (0..n)
        .filter(|&i| cw[i] > 0.0)
        .fold((0usize, 0usize), |(p, q), i| {
            if yy[i] > 0.0 {
                (p + 1, q)
            } else {
                (p, q + 1)
            }
        });
    let balance = pos.min(neg).max(1) as f64 / (pos + neg).max(1) as f64;
    crate::logistic::lbfgs(&mut w, max_iter, tol * balance * g0_max, objective);
    w
}

impl WithShared for LinearSvmParams {
    fn shared_mut(&mut self) -> &mut SharedParams {
        &mut self.shared
    }
}

impl LinearSvmParams {
    setter!(/// Sets C.
        c: f64);
    setter!(/// Sets the solver.
        solver: LinearSvmSolver);
    setter!(/// Sets the maximum passes.
        max_iter: usize);
    setter!(/// Sets the tolerance.
        tol: f64);

    /// Fits on every row of `ds`.
    pub fn fit(&self, ds: &Dataset) -> Result<LinearSvm, ModelError> {
        self.check()?;
        let data = SvmData::new(ds, &self.shared.class_weight, self.c)?;
        let (z, cw, m) = (&data.z, &data.cw, data.m);
        let d = ds.ncols();
        let fitted: Vec<(Vec<f64>, Platt)> = (0..m)
            .into_par_iter()
            .map(|c| {
                let yy = data.targets(c);
                let seed = self.shared.seed_or_zero().wrapping_add(c as u64);
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                let wv = if self.solver.primal(z.nrows(), d) {
                    primal_l2(z, &yy, cw, self.max_iter, self.tol)
                } else {
                    dcd_l2(z, &yy, cw, self.max_iter, self.tol, &mut rng)
                };
                let dec: Vec<f64> = (0..z.nrows())
                    .map(|i| {
                        wv[d]
                            + z.row(i)
                                .iter()
                                .zip(&wv[..d])
                                .map(|(a, b)| a * b)
                                .sum::<f64>()
                    })
                    .collect();
                let platt = data.platt(c, &dec);
                (wv, platt)
            })
            .collect();
        let mut coef = Array2::zeros((m, d));
        let mut intercept = Vec::with_capacity(m);
        let mut platt = Vec::with_capacity(m);
        for (c, (wv, p)) in fitted.into_iter().enumerate() {
            coef.row_mut(c).assign(&Array1::from(wv[..d].to_vec()));
            intercept.push(wv[d]);
            platt.push(p);
        }
        Ok(LinearSvm {
            scaler: data.scaler,
            coef,
            intercept,
            platt,
            n_classes: data.k,
        })
    }
}

impl OneVsRest for LinearSvm {
    const FILE_KIND: &'static str = "linsvm";

    fn calibration(&self) -> (&Standardizer, &[Platt], usize) {
        (&self.scaler, &self.platt, self.n_classes)
    }

    fn shape(&self) -> (usize, usize, usize) {
        (self.coef.nrows(), self.intercept.len(), self.coef.ncols())
    }

    /// `f_c(z) = w_c · z + b_c`.
    fn decision(&self, z: &[f64], out: &mut [f64]) {
        for c in 0..self.coef.nrows() {
            out[c] = self.intercept[c]
                + self
                    .coef
                    .row(c)
                    .iter()
                    .zip(z)
                    .map(|(a, b)| a * b)
                    .sum::<f64>();
        }
    }
}

impl LearnerParams for LinearSvmParams {
    fn about(&self) -> About {
        About::new(
            "linsvm",
            &["linear_svm", "linearsvm"],
            "linear SVM (primal L-BFGS or dual coordinate descent) with Platt probabilities",
        )
    }
    fn visit_keys(&mut self, v: &mut dyn KeyVisitor) -> Result<(), ModelError> {
        v.key(&["c", "C"], &mut self.c)?;
        v.key(&["max_iter"], &mut self.max_iter)?;
        v.key(&["tol"], &mut self.tol)?;
        v.key(&["solver"], &mut self.solver)?;
        self.shared.visit_keys(v)
    }
    fn check(&self) -> Result<(), ModelError> {
        check_solver(self.c, self.tol, self.max_iter)
    }
    fn fit_model(&self, ds: &Dataset, _: Option<&Dataset>) -> Result<FittedModel, ModelError> {
        self.fit(ds).map(FittedModel::LinearSvm)
    }
}

/// Parameters of an [`RbfSvm`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RbfSvmParams {
    /// Penalty C (default 1).
    pub c: f64,
    /// Kernel width γ of `exp(−γ ||x − z||²)` on standardised features (`None` = `scale` = 1 / d).
    pub gamma: Option<f64>,
    /// KKT tolerance (default 1e-3, as LIBSVM).
    pub tol: f64,
    /// Maximum SMO steps (default 10 000 000).
    pub max_iter: usize,
    /// Refuse datasets with more rows (default 20 000).
    pub max_rows: usize,
    /// Kernel row cache in megabytes (default 200).
    pub cache_mb: usize,
    /// Class weights (they multiply C per row); the seed is unused by SMO (deterministic) and kept
    /// for a uniform interface.
    #[serde(flatten)]
    pub shared: SharedParams,
}

impl Default for RbfSvmParams {
    fn default() -> Self {
        RbfSvmParams {
            c: 1.0,
            gamma: None,
            tol: 1e-3,
            max_iter: 10_000_000,
            max_rows: 20_000,
            cache_mb: 200,
            shared: SharedParams::default(),
        }
    }
}

/// A fitted RBF-kernel SVM (one-vs-rest for more than two classes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RbfSvm {
    /// Standardisation of the inputs.
    pub scaler: Standardizer,
    /// Kernel width.
    pub gamma: f64,
    /// Support vectors (standardised), shared by every output.
    pub support: Array2<f64>,
    /// Dual coefficients `α_i y_i` per output, `(outputs, support vectors)`.
    pub dual_coef: Array2<f64>,
    /// Intercept per output.
    pub intercept: Vec<f64>,
    /// Platt sigmoid per output.
    pub platt: Vec<Platt>,
    /// Number of classes.
    pub n_classes: usize,
}

impl RbfSvm {
    /// Default parameters.
    pub fn params() -> RbfSvmParams {
        RbfSvmParams::default()
    }
}

struct KernelCache<'a> {
    z: &'a Array2<f64>,
    sq: Vec<f64>,
    gamma: f64,
    rows: Vec<Option<Vec<f64>>>,
    order: VecDeque<usize>,
    capacity: usize,
}

impl<'a> KernelCache<'a> {
    fn new(z: &'a Array2<f64>, gamma: f64, cache_mb: usize) -> Self {
        let n = z.nrows();
        let sq = (0..n).map(|i| z.row(i).dot(&z.row(i))).collect();
        let capacity = ((cache_mb << 20) / (8 * n.max(1))).max(2);
        KernelCache {
            z,
            sq,
            gamma,
            rows: vec![None; n],
            order: VecDeque::new(),
            capacity,
        }
    }

    fn row(&mut self, i: usize) -> &[f64] {
        if self.rows[i].is_none() {
            if self.order.len() >= self.capacity {
                if let Some(old) = self.order.pop_front() {
                    self.rows[old] = None;
                }
            }
            let zi = self.z.row(i);
            let (sq, g) = (&self.sq, self.gamma);
            let r: Vec<f64> = (0..self.z.nrows())
                .into_par_iter()
                .with_min_len(256)
                .map(|t| (-(g * (sq[i] + sq[t] - 2.0 * zi.dot(&self.z.row(t))).max(0.0))).exp())
                .collect();
            self.rows[i] = Some(r);
            self.order.push_back(i);
        }
        self.rows[i].as_deref().unwrap_or(&[])
    }
}

/// SMO with second-order working-set selection (Fan, Chen & Lin 2005). Returns (α, ρ); the decision is
/// `Σ α_i y_i K(x_i, x) − ρ`.
/// LIBSVM's clipping of a same-label pair after a step along `alpha_a + alpha_b = sum`, done once
/// from each side: `a` down to its bound `ca` (the rest to `b`), or `b` up to 0 (all to `a`).
#[inline]
fn clip_to_sum(alpha: &mut [f64], (a, ca): (usize, f64), b: usize, sum: f64) {
    if sum > ca {
        if alpha[a] > ca {
            alpha[a] = ca;
            alpha[b] = sum - ca;
        }
    } else if alpha[b] < 0.0 {
        alpha[b] = 0.0;
        alpha[a] = sum;
    }
}

fn smo(
    cache: &mut KernelCache<'_>,
    yy: &[f64],
    cw: &[f64],
    tol: f64,
    max_iter: usize,
) -> (Vec<f64>, f64) {
    let n = yy.len();
    let mut alpha = vec![0.0; n];
    let mut grad = vec![-1.0; n];
    let tau = 1e-12;
    let upper = |a: f64, c: f64| a < c;
    for _ in 0..max_iter {
        // Select i: max over I_up of −y_t G_t.
        let (mut gmax, mut gi) = (f64::NEG_INFINITY, usize::MAX);
        for t in 0..n {
            let in_up = if yy[t] > 0.0 {
                upper(alpha[t], cw[t])
            } else {
                alpha[t] > 0.0
            };
            if in_up && -yy[t] * grad[t] >= gmax {
                gmax = -yy[t] * grad[t];
                gi = t;
            }
        }
        if gi == usize::MAX {
            break;
        }
        let ki: Vec<f64> = cache.row(gi).to_vec();
        let (mut gmax2, mut gj, mut best_obj) = (f64::NEG_INFINITY, usize::MAX, f64::INFINITY);
        for t in 0..n {
            let in_low = if yy[t] > 0.0 {
                alpha[t] > 0.0
            } else {
                upper(alpha[t], cw[t])
            };
            if !in_low {
                continue;
            }
            let yg = yy[t] * grad[t];
            gmax2 = gmax2.max(yg);
            let b = gmax + yg;
            if b > 0.0 {
                let a = (1.0 + 1.0 - 2.0 * ki[t]).max(tau);
                let obj = -b * b / a;
                if obj <= best_obj {
                    best_obj = obj;
                    gj = t;
                }
            }
        }
        if gmax + gmax2 < tol || gj == usize::MAX {
            break;
        }
        let (i, j) = (gi, gj);
        let kj: Vec<f64> = cache.row(j).to_vec();
        let (ci, cj) = (cw[i], cw[j]);
        let (oi, oj) = (alpha[i], alpha[j]);
        // Q_ij = y_i y_j K_ij; K_ii = K_jj = 1 for the RBF kernel.
        if yy[i] != yy[j] {
            let quad = (2.0 + 2.0 * ki[j]).max(tau);
            let delta = (-grad[i] - grad[j]) / quad;
            let diff = alpha[i] - alpha[j];
            alpha[i] += delta;
            alpha[j] += delta;
            if diff > 0.0 {
                if alpha[j] < 0.0 {
                    alpha[j] = 0.0;
                    alpha[i] = diff;
                }
            } else if alpha[i] < 0.0 {
                alpha[i] = 0.0;
                alpha[j] = -diff;
            }
            if diff > ci - cj {
                if alpha[i] > ci {
                    alpha[i] = ci;
                    alpha[j] = ci - diff;
                }
            } else if alpha[j] > cj {
                alpha[j] = cj;
                alpha[i] = cj + diff;
            }
        } else {
            let quad = (2.0 - 2.0 * ki[j]).max(tau);
            let delta = (grad[i] - grad[j]) / quad;
            let sum = alpha[i] + alpha[j];
            alpha[i] -= delta;
            alpha[j] += delta;
            clip_to_sum(&mut alpha, (i, ci), j, sum);
            clip_to_sum(&mut alpha, (j, cj), i, sum);
        }
        let (di, dj) = (alpha[i] - oi, alpha[j] - oj);
        for t in 0..n {
            grad[t] += yy[t] * (yy[i] * ki[t] * di + yy[j] * kj[t] * dj);
        }
    }
    // ρ: mean of y_i G_i over free vectors, else the midpoint of the feasible interval (LIBSVM).
    let (mut sum, mut nfree) = (0.0, 0usize);
    let (mut ub, mut lb) = (f64::INFINITY, f64::NEG_INFINITY);
    for t in 0..n {
        let yg = yy[t] * grad[t];
        if alpha[t] > 0.0 && alpha[t] < cw[t] {
            sum += yg;
            nfree += 1;
        } else if (alpha[t] >= cw[t] && yy[t] < 0.0) || (alpha[t] <= 0.0 && yy[t] > 0.0) {
            ub = ub.min(yg);
        } else {
            lb = lb.max(yg);
        }
    }
    let rho = if nfree > 0 {
        sum / nfree as f64
    } else if ub.is_finite() && lb.is_finite() {
        (ub + lb) / 2.0
    } else {
        0.0
    };
    (alpha, rho)
}

impl WithShared for RbfSvmParams {
    fn shared_mut(&mut self) -> &mut SharedParams {
        &mut self.shared
    }
}

impl RbfSvmParams {
    setter!(/// Sets C.
        c: f64);
    setter!(/// Sets γ (`None` = scale).
        gamma: Option<f64>);
    setter!(/// Sets the tolerance.
        tol: f64);
    setter!(/// Sets the maximum SMO steps.
        max_iter: usize);
    setter!(/// Sets the row limit.
        max_rows: usize);
    setter!(/// Sets the kernel cache size.
        cache_mb: usize);

    /// Fits on every row of `ds`; refuses more than `max_rows` rows.
    pub fn fit(&self, ds: &Dataset) -> Result<RbfSvm, ModelError> {
        self.check()?;
        check_fit_data(ds, false)?;
        let (n, d) = (ds.nrows(), ds.ncols());
        if n > self.max_rows {
            return Err(ModelError::Data(format!(
                "the RBF-kernel SVM costs O(n²) kernel evaluations and {n} rows exceed max_rows = {}: \
                 use the linear SVM (--model linsvm), subsample, or raise max_rows",
                self.max_rows
            )));
        }
        let data = SvmData::new(ds, &self.shared.class_weight, self.c)?;
        let (z, m) = (&data.z, data.m);
        let gamma = self.gamma.unwrap_or(1.0 / d.max(1) as f64);
        let mut cache = KernelCache::new(z, gamma, self.cache_mb);
        let mut alphas = Vec::with_capacity(m);
        let mut rhos = Vec::with_capacity(m);
        let mut targets = Vec::with_capacity(m);
        for c in 0..m {
            let yy = data.targets(c);
            let (a, rho) = smo(&mut cache, &yy, &data.cw, self.tol, self.max_iter);
            alphas.push(a);
            rhos.push(rho);
            targets.push(yy);
        }
        // Support vectors: rows with a non-zero α in any output.
        let sv: Vec<usize> = (0..n)
            .filter(|&i| alphas.iter().any(|a| a[i] > 0.0))
            .collect();
        let support = z.select(Axis(0), &sv).as_standard_layout().into_owned();
        let mut dual_coef = Array2::zeros((m, sv.len()));
        for c in 0..m {
            for (s, &i) in sv.iter().enumerate() {
                dual_coef[[c, s]] = alphas[c][i] * targets[c][i];
            }
        }
        let mut model = RbfSvm {
            scaler: data.scaler.clone(),
            gamma,
            support,
            dual_coef,
            intercept: rhos.iter().map(|r| -r).collect(),
            platt: vec![Platt { a: -1.0, b: 0.0 }; m],
            n_classes: data.k,
        };
        // Platt on the training decision values.
        let dec: Vec<Vec<f64>> = (0..n)
            .into_par_iter()
            .map(|i| {
                let mut out = vec![0.0; m];
                model.decision(&z.row(i).to_vec(), &mut out);
                out
            })
            .collect();
        for c in 0..m {
            let dc: Vec<f64> = dec.iter().map(|v| v[c]).collect();
            model.platt[c] = data.platt(c, &dc);
        }
        Ok(model)
    }
}

impl OneVsRest for RbfSvm {
    const FILE_KIND: &'static str = "svm";

    fn calibration(&self) -> (&Standardizer, &[Platt], usize) {
        (&self.scaler, &self.platt, self.n_classes)
    }

    fn shape(&self) -> (usize, usize, usize) {
        (
            self.dual_coef.nrows(),
            self.intercept.len(),
            self.support.ncols(),
        )
    }

    /// `f_c(z) = Σ_s α_s y_s K(x_s, z) + b_c` over the support vectors.
    fn decision(&self, zc: &[f64], out: &mut [f64]) {
        let d = self.support.ncols();
        let sqz: f64 = zc.iter().map(|v| v * v).sum();
        out.iter_mut()
            .zip(&self.intercept)
            .for_each(|(o, b)| *o = *b);
        let sv = self.support.as_slice().unwrap_or(&[]);
        for s in 0..self.support.nrows() {
            let row = &sv[s * d..(s + 1) * d];
            let mut dot = 0.0;
            let mut sq = 0.0;
            for (a, b) in row.iter().zip(zc) {
                dot += a * b;
                sq += a * a;
            }
            let kv = (-(self.gamma * (sq + sqz - 2.0 * dot).max(0.0))).exp();
            for c in 0..out.len() {
                out[c] += self.dual_coef[[c, s]] * kv;
            }
        }
    }

    fn check_more(&mut self) -> Result<(), ModelError> {
        if self.dual_coef.ncols() != self.support.nrows() {
            return Err(corrupt(
                Self::FILE_KIND,
                "dual coefficients do not match the support vectors",
            ));
        }
        self.support = self.support.as_standard_layout().into_owned();
        Ok(())
    }
}

impl LearnerParams for RbfSvmParams {
    fn memory_estimate(&self, _train: &Dataset) -> Option<crate::memory::Estimate> {
        Some(crate::memory::Estimate {
            bytes: crate::memory::mul(&[self.cache_mb as u64, 1 << 20]),
            param: "cache_mb",
            value: self.cache_mb.to_string(),
        })
    }
    fn about(&self) -> About {
        About::new(
            "svm",
            &[],
            "RBF-kernel SVM (SMO) with Platt probabilities, moderate n",
        )
    }
    fn visit_keys(&mut self, v: &mut dyn KeyVisitor) -> Result<(), ModelError> {
        v.key(&["c", "C"], &mut self.c)?;
        v.optional(&["gamma"], &mut self.gamma, "scale")?;
        v.key(&["tol"], &mut self.tol)?;
        v.key(&["max_iter"], &mut self.max_iter)?;
        v.key(&["max_rows"], &mut self.max_rows)?;
        v.key(&["cache_mb"], &mut self.cache_mb)?;
        self.shared.visit_keys(v)
    }
    fn check(&self) -> Result<(), ModelError> {
        if let Some(g) = self.gamma {
            if !(g > 0.0 && g.is_finite()) {
                return Err(ModelError::invalid("gamma", g, "scale or a number > 0"));
            }
        }
        check_solver(self.c, self.tol, self.max_iter)
    }
    fn fit_model(&self, ds: &Dataset, _: Option<&Dataset>) -> Result<FittedModel, ModelError> {
        self.fit(ds).map(FittedModel::RbfSvm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::uniform_test_data;
    use crate::Classifier;
    use rand::Rng;

    fn blobs(n: usize, k: usize, nonlinear: bool) -> Dataset {
        let (x, y) = uniform_test_data((n, 2), 4, |r, _| {
            if nonlinear {
                usize::from(r[0] * r[0] + r[1] * r[1] < 0.5)
            } else if k == 2 {
                usize::from(r[0] + r[1] > 0.0)
            } else {
                let s = [r[0], -0.5 * r[0] + 0.87 * r[1], -0.5 * r[0] - 0.87 * r[1]];
                crate::argmax_slice(&s)
            }
        });
        Dataset::new(x * 100.0, y, k).unwrap()
    }

    #[test]
    fn primal_and_dual_solve_the_same_problem() {
        // Noisy labels so the solution is not a separating hyperplane with free scale.
        let mut ds = blobs(2000, 2, false);
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for y in ds.y.iter_mut() {
            if rng.gen_bool(0.1) {
                *y = 1 - *y;
            }
        }
        let fit = |s| {
            LinearSvm::params()
                .solver(s)
                .tol(1e-6)
                .max_iter(5000)
                .fit(&ds)
                .unwrap()
        };
        let (p, d) = (fit(LinearSvmSolver::Primal), fit(LinearSvmSolver::Dual));
        for (a, b) in p
            .coef
            .iter()
            .chain(&p.intercept)
            .zip(d.coef.iter().chain(&d.intercept))
        {
            assert!(
                (a - b).abs() < 1e-3 * (1.0 + b.abs()),
                "primal {a} vs dual {b}"
            );
        }
        assert_eq!(p.predict(&ds).unwrap(), d.predict(&ds).unwrap());
    }

    #[test]
    fn linear_svm_separates_and_gives_probabilities() {
        for k in [2, 3] {
            let ds = blobs(500, k, false);
            let m = LinearSvm::params().fit(&ds).unwrap();
            let acc = crate::metrics::accuracy(&ds.y.to_vec(), &m.predict(&ds).unwrap().to_vec());
            assert!(acc > 0.9, "k={k}: {acc}");
            let p = m.predict_proba(&ds).unwrap();
            assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-9));
        }
    }

    #[test]
    fn rbf_svm_learns_a_circle_and_guards_size() {
        let ds = blobs(400, 2, true);
        let m = RbfSvm::params().c(10.0).fit(&ds).unwrap();
        let acc = crate::metrics::accuracy(&ds.y.to_vec(), &m.predict(&ds).unwrap().to_vec());
        assert!(acc > 0.95, "{acc}");
        let lin = LinearSvm::params().fit(&ds).unwrap();
        let lacc = crate::metrics::accuracy(&ds.y.to_vec(), &lin.predict(&ds).unwrap().to_vec());
        assert!(acc > lacc + 0.1);
        let e = RbfSvm::params()
            .max_rows(100)
            .fit(&ds)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("linsvm"), "{e}");
    }

    #[test]
    fn platt_recovers_a_logistic_link() {
        let dec: Vec<f64> = (0..2000).map(|i| (i as f64 - 1000.0) / 200.0).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let pos: Vec<bool> = dec
            .iter()
            .map(|&f| rng.gen::<f64>() < 1.0 / (1.0 + (-2.0 * f).exp()))
            .collect();
        let p = Platt::fit(&dec, &pos);
        assert!((p.a + 2.0).abs() < 0.3 && p.b.abs() < 0.3, "{p:?}");
    }
}
