//! Gaussian and Bernoulli naive Bayes, weighted, as scikit-learn's `GaussianNB` and `BernoulliNB`.
//!
//! Gaussian: per class the weighted mean and variance of every feature; every variance is increased by
//! `var_smoothing × (largest feature variance over all rows)`; class priors are the weighted class
//! frequencies. Bernoulli: features are binarised (`x > binarize`), per class
//! `p_cj = (count_cj + alpha) / (weight_c + 2 alpha)`.
//!
//! Source: scikit-learn's `naive_bayes.py`; Chan, Golub & LeVeque (1979) for the variance.
//!
//! Cost: one pass over the data, O(n · d); memory O(k · d).

#![allow(clippy::needless_range_loop)]

use ndarray::{Array2, ArrayView1};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::class_weight::{checked_weights, class_totals, ClassWeight};
use crate::fitted::{corrupt, Fitted, FittedModel, Signature};
use crate::params::{check_non_negative, check_positive, setter, KeyVisitor};
use crate::proba::softmax_in_place;
use crate::spec::{About, LearnerParams};
use crate::tree::predict_rows;
use crate::{Dataset, ModelError};

/// Log class priors from the class weight totals ([`class_totals`]).
fn log_priors(cw: &[f64]) -> Vec<f64> {
    let total: f64 = cw.iter().sum();
    cw.iter().map(|&c| (c / total).ln()).collect()
}

/// The `(classes, d)` table of per-class weighted sums (`sums[c * d + j]`, class-major) divided by the
/// class weights `sw`; `empty` for a class without weight.
fn per_class_means(sums: &[f64], sw: &[f64], d: usize, empty: f64) -> Array2<f64> {
    Array2::from_shape_fn((sw.len(), d), |(c, j)| {
        if sw[c] > 0.0 {
            sums[c * d + j] / sw[c]
        } else {
            empty
        }
    })
}

/// Parameters of a [`GaussianNb`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GaussianNbParams {
    /// Fraction of the largest feature variance added to every variance (default 1e-9).
    pub var_smoothing: f64,
    /// Class weights (default none; they scale the priors).
    pub class_weight: ClassWeight,
}

impl Default for GaussianNbParams {
    fn default() -> Self {
        GaussianNbParams {
            var_smoothing: 1e-9,
            class_weight: ClassWeight::None,
        }
    }
}

/// A fitted Gaussian naive Bayes model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GaussianNb {
    /// Per-class feature means, `(classes, features)`.
    pub theta: Array2<f64>,
    /// Per-class feature variances (smoothed).
    pub var: Array2<f64>,
    /// Log prior per class (`-inf` for a class without weight).
    pub log_prior: Vec<f64>,
    /// Number of classes.
    pub n_classes: usize,
}

impl GaussianNb {
    /// Default parameters.
    pub fn params() -> GaussianNbParams {
        GaussianNbParams::default()
    }
}

impl GaussianNbParams {
    setter!(/// Sets the variance smoothing.
        var_smoothing: f64);
    setter!(/// Sets the class weights.
        class_weight: ClassWeight);

    /// Fits on every row of `ds`.
    pub fn fit(&self, ds: &Dataset) -> Result<GaussianNb, ModelError> {
        self.check()?;
        let w = checked_weights(ds, &self.class_weight, false)?;
        let (k, d, n) = (ds.n_classes, ds.ncols(), ds.nrows());
        // Two passes over the rows (means, then squared deviations — numerically stable like numpy's
        // var), each parallel over fixed row chunks added in chunk order: one sweep of row-major memory per
        // pass, and the same sums whatever the thread count.
        let xs = ds.x.as_standard_layout();
        let xs: &[f64] = xs.as_slice().unwrap_or(&[]);
        let y = ds.y.to_vec();
        // Per chunk: per-class weighted sums (k × d), per-class weights (k), unweighted column sums (d).
        let chunked = |f: &(dyn Fn(usize, &mut [f64]) + Sync), width: usize| -> Vec<f64> {
            const CHUNK: usize = 8192;
            let parts: Vec<Vec<f64>> = (0..n.div_ceil(CHUNK))
                .into_par_iter()
                .map(|c| {
                    let mut acc = vec![0.0; width];
                    for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                        f(i, &mut acc);
                    }
                    acc
                })
                .collect();
            let mut total = vec![0.0; width];
            for p in parts {
                for (t, v) in total.iter_mut().zip(&p) {
                    *t += v;
                }
            }
            total
        };
        let sums = chunked(
            &|i, acc| {
                let (c, row) = (y[i], &xs[i * d..(i + 1) * d]);
                let (class_sums, rest) = acc.split_at_mut(k * d);
                let (weights, col_sums) = rest.split_at_mut(k);
                weights[c] += w[i];
                for ((t, u), &v) in class_sums[c * d..(c + 1) * d]
                    .iter_mut()
                    .zip(col_sums.iter_mut())
                    .zip(row)
                {
                    *t += w[i] * v;
                    *u += v;
                }
            },
            k * d + k + d,
        );
        let sw: Vec<f64> = sums[k * d..k * d + k].to_vec();
        let col_mean: Vec<f64> = sums[k * d + k..].iter().map(|v| v / n as f64).collect();
        let theta = per_class_means(&sums, &sw, d, 0.0);
        let th: &[f64] = theta.as_slice().unwrap_or(&[]);
        let dev = chunked(
            &|i, acc| {
                let (c, row) = (y[i], &xs[i * d..(i + 1) * d]);
                let (class_dev, col_dev) = acc.split_at_mut(k * d);
                for (j, &v) in row.iter().enumerate() {
                    let dv = v - th[c * d + j];
                    class_dev[c * d + j] += w[i] * dv * dv;
                    let du = v - col_mean[j];
                    col_dev[j] += du * du;
                }
            },
            k * d + d,
        );
        // epsilon from the unweighted variance of every feature (np.var(X, axis=0).max()).
        let max_var = dev[k * d..]
            .iter()
            .map(|v| v / n as f64)
            .fold(0.0f64, f64::max);
        let eps = self.var_smoothing * max_var;
        let var = per_class_means(&dev, &sw, d, 1.0).mapv_into(|v| v + eps);
        if var.iter().any(|&v| v <= 0.0) {
            return Err(ModelError::Data(
                "a feature is constant within a class and var_smoothing is 0: use var_smoothing > 0".into(),
            ));
        }
        Ok(GaussianNb {
            theta,
            var,
            log_prior: log_priors(&class_totals(ds, &w)),
            n_classes: k,
        })
    }
}

impl Fitted for GaussianNb {
    const KIND: &'static str = "gnb";

    fn signature(&self) -> Signature {
        Signature::features(self.n_classes, self.theta.ncols())
    }

    fn proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
        let d = self.theta.ncols();
        let log_norm: Vec<f64> = (0..self.n_classes)
            .map(|c| {
                -0.5 * self
                    .var
                    .row(c)
                    .iter()
                    .map(|v| (2.0 * std::f64::consts::PI * v).ln())
                    .sum::<f64>()
            })
            .collect();
        Ok(posterior(ds, self.n_classes, |row, c| {
            let mut s = 0.0;
            for j in 0..d {
                let dv = row[j] - self.theta[[c, j]];
                s += dv * dv / self.var[[c, j]];
            }
            self.log_prior[c] + log_norm[c] - 0.5 * s
        }))
    }

    fn check_loaded(&mut self) -> Result<(), ModelError> {
        check_class_tables(
            Self::KIND,
            self.n_classes,
            &self.log_prior,
            &[&self.theta, &self.var],
        )
    }
}

impl LearnerParams for GaussianNbParams {
    fn about(&self) -> About {
        About::new("gnb", &["nb", "gaussian_nb"], "Gaussian naive Bayes")
    }
    fn visit_keys(&mut self, v: &mut dyn KeyVisitor) -> Result<(), ModelError> {
        v.key(&["var_smoothing"], &mut self.var_smoothing)?;
        v.key(&["class_weight"], &mut self.class_weight)
    }
    fn check(&self) -> Result<(), ModelError> {
        check_non_negative("var_smoothing", self.var_smoothing, "a finite number >= 0")
    }
    fn fit_model(&self, ds: &Dataset, _: Option<&Dataset>) -> Result<FittedModel, ModelError> {
        self.fit(ds).map(FittedModel::GaussianNb)
    }
}

/// The class probabilities of every row of `ds` from the joint log-likelihood `joint(row, class)` =
/// log prior + log likelihood (the softmax over classes): the decision rule both naive Bayes models
/// share, as scikit-learn's `_BaseNB.predict_proba` from `_joint_log_likelihood`.
fn posterior(
    ds: &Dataset,
    n_classes: usize,
    joint: impl Fn(ArrayView1<f64>, usize) -> f64 + Sync,
) -> Array2<f64> {
    predict_rows(ds, n_classes, |row, out| {
        for (c, o) in out.iter_mut().enumerate() {
            *o = joint(row, c);
        }
        softmax_in_place(out);
    })
}

/// Checks the per-class tables of a loaded naive Bayes model: one prior and one row per class, the
/// same number of features in every table.
fn check_class_tables(
    kind: &str,
    n_classes: usize,
    log_prior: &[f64],
    tables: &[&Array2<f64>],
) -> Result<(), ModelError> {
    let d = tables.first().map_or(0, |t| t.ncols());
    if n_classes == 0
        || log_prior.len() != n_classes
        || tables.iter().any(|t| t.dim() != (n_classes, d))
    {
        return Err(corrupt(
            kind,
            format!("per-class tables do not have {n_classes} rows of {d} features"),
        ));
    }
    Ok(())
}

/// Parameters of a [`BernoulliNb`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BernoulliNbParams {
    /// Additive (Laplace) smoothing (default 1).
    pub alpha: f64,
    /// A feature is "on" when it is above this (default 0).
    pub binarize: f64,
    /// Class weights (default none).
    pub class_weight: ClassWeight,
}

impl Default for BernoulliNbParams {
    fn default() -> Self {
        BernoulliNbParams {
            alpha: 1.0,
            binarize: 0.0,
            class_weight: ClassWeight::None,
        }
    }
}

/// A fitted Bernoulli naive Bayes model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BernoulliNb {
    /// `log p_cj`, `(classes, features)`.
    pub log_p: Array2<f64>,
    /// `log (1 − p_cj)`.
    pub log_q: Array2<f64>,
    /// Log prior per class.
    pub log_prior: Vec<f64>,
    /// Binarisation threshold.
    pub binarize: f64,
    /// Number of classes.
    pub n_classes: usize,
}

impl BernoulliNb {
    /// Default parameters.
    pub fn params() -> BernoulliNbParams {
        BernoulliNbParams::default()
    }
}

impl BernoulliNbParams {
    setter!(/// Sets the smoothing.
        alpha: f64);
    setter!(/// Sets the binarisation threshold.
        binarize: f64);
    setter!(/// Sets the class weights.
        class_weight: ClassWeight);

    /// Fits on every row of `ds`.
    pub fn fit(&self, ds: &Dataset) -> Result<BernoulliNb, ModelError> {
        self.check()?;
        let w = checked_weights(ds, &self.class_weight, false)?;
        let (k, d) = (ds.n_classes, ds.ncols());
        let cw = class_totals(ds, &w);
        let mut fc = Array2::<f64>::zeros((k, d));
        for (i, row) in ds.x.rows().into_iter().enumerate() {
            let c = ds.y[i];
            for j in 0..d {
                if row[j] > self.binarize {
                    fc[[c, j]] += w[i];
                }
            }
        }
        let mut log_p = Array2::zeros((k, d));
        let mut log_q = Array2::zeros((k, d));
        for c in 0..k {
            for j in 0..d {
                let p = (fc[[c, j]] + self.alpha) / (cw[c] + 2.0 * self.alpha);
                log_p[[c, j]] = p.ln();
                log_q[[c, j]] = (1.0 - p).ln();
            }
        }
        Ok(BernoulliNb {
            log_p,
            log_q,
            log_prior: log_priors(&cw),
            binarize: self.binarize,
            n_classes: k,
        })
    }
}

impl Fitted for BernoulliNb {
    const KIND: &'static str = "bnb";

    fn signature(&self) -> Signature {
        Signature::features(self.n_classes, self.log_p.ncols())
    }

    fn proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
        let d = self.log_p.ncols();
        Ok(posterior(ds, self.n_classes, |row, c| {
            let mut s = self.log_prior[c];
            for j in 0..d {
                s += if row[j] > self.binarize {
                    self.log_p[[c, j]]
                } else {
                    self.log_q[[c, j]]
                };
            }
            s
        }))
    }

    fn check_loaded(&mut self) -> Result<(), ModelError> {
        check_class_tables(
            Self::KIND,
            self.n_classes,
            &self.log_prior,
            &[&self.log_p, &self.log_q],
        )
    }
}

impl LearnerParams for BernoulliNbParams {
    fn about(&self) -> About {
        About::new("bnb", &[], "Bernoulli naive Bayes")
    }
    fn visit_keys(&mut self, v: &mut dyn KeyVisitor) -> Result<(), ModelError> {
        v.key(&["alpha"], &mut self.alpha)?;
        v.key(&["binarize"], &mut self.binarize)?;
        v.key(&["class_weight"], &mut self.class_weight)
    }
    fn check(&self) -> Result<(), ModelError> {
        check_positive("alpha", self.alpha)?;
        if !self.binarize.is_finite() {
            return Err(ModelError::invalid(
                "binarize",
                self.binarize,
                "a finite number",
            ));
        }
        Ok(())
    }
    fn fit_model(&self, ds: &Dataset, _: Option<&Dataset>) -> Result<FittedModel, ModelError> {
        self.fit(ds).map(FittedModel::BernoulliNb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Classifier;
    use ndarray::array;

    #[test]
    fn gaussian_matches_hand_computation() {
        let ds = Dataset::new(array![[0.0], [2.0], [10.0], [12.0]], array![0, 0, 1, 1], 2).unwrap();
        let m = GaussianNb::params().fit(&ds).unwrap();
        assert_eq!(m.theta, array![[1.0], [11.0]]);
        // var = 1 + 1e-9 * var(all) = 1 + 1e-9 * 26.
        assert!((m.var[[0, 0]] - (1.0 + 26e-9)).abs() < 1e-15);
        let p = m.predict_proba(&ds).unwrap();
        assert_eq!(m.predict(&ds).unwrap(), ds.y);
        assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-12));
    }

    #[test]
    fn bernoulli_counts_with_smoothing() {
        let ds = Dataset::new(array![[1.0], [0.0], [1.0], [1.0]], array![0, 0, 1, 1], 2).unwrap();
        let m = BernoulliNb::params().fit(&ds).unwrap();
        assert!((m.log_p[[0, 0]] - (2.0f64 / 4.0).ln()).abs() < 1e-15);
        assert!((m.log_p[[1, 0]] - (3.0f64 / 4.0).ln()).abs() < 1e-15);
    }
}
