//! L2-regularised logistic regression, binary (sigmoid) and multinomial (softmax), weighted, fitted by
//! L-BFGS.
//!
//! Objective (scikit-learn's `LogisticRegression(penalty="l2")`): minimise
//! `Σ_i w_i · loss_i + ||coef||² / (2C)`, the intercept unpenalised. Two classes use one coefficient
//! vector and the sigmoid; more classes use one vector per class and the softmax (multinomial).
//! Features are centred and scaled internally and the penalty rescaled to match, an exact
//! reparametrisation that only improves the conditioning, so the optimum is scikit-learn's.
//!
//! Source: Nocedal, "Updating quasi-Newton matrices with limited storage", Math. Comp. 35 (1980) and
//! Liu & Nocedal (1989) for L-BFGS; Armijo backtracking line search.
//!
//! Cost: each iteration is one pass over the data, O(n · d · m) with m = 1 (binary) or k outputs,
//! parallel over row blocks in a fixed order (deterministic); memory n · d for the scaled copy plus
//! 2 · 10 vectors of size (d + 1) · m.

#![allow(clippy::needless_range_loop)]

use ndarray::{Array2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::class_weight::{check_fit_data, effective_weights, ClassWeight};
use crate::fitted::{corrupt, Fitted, FittedModel, Signature};
use crate::params::{check_at_least_one, check_positive, setter, KeyVisitor};
use crate::proba::{score_outputs, scores_to_proba_in_place, sigmoid};
use crate::spec::{About, LearnerParams};
use crate::tree::predict_rows;
use crate::{Dataset, ModelError};

/// Parameters of a [`LogisticRegression`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogisticRegressionParams {
    /// Inverse regularisation strength (default 1, > 0).
    pub c: f64,
    /// Maximum L-BFGS iterations (default 200).
    pub max_iter: usize,
    /// Stop when the largest gradient entry of the weight-normalised objective is below this (default 1e-6).
    pub tol: f64,
    /// Fit an intercept (default true).
    pub fit_intercept: bool,
    /// Class weights (default none).
    pub class_weight: ClassWeight,
}

impl Default for LogisticRegressionParams {
    fn default() -> Self {
        LogisticRegressionParams {
            c: 1.0,
            max_iter: 200,
            tol: 1e-6,
            fit_intercept: true,
            class_weight: ClassWeight::None,
        }
    }
}

/// A fitted logistic regression: `coef` rows are outputs (1 for two classes, k otherwise), in the
/// original feature scale (its columns are the input features).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogisticRegression {
    /// Coefficients, `(outputs, features)`.
    pub coef: Array2<f64>,
    /// Intercept per output.
    pub intercept: Vec<f64>,
    /// Number of classes.
    pub n_classes: usize,
    /// L-BFGS iterations used.
    pub n_iter: usize,
    /// Whether the gradient tolerance was reached.
    pub converged: bool,
}

impl LogisticRegression {
    /// Default parameters.
    pub fn params() -> LogisticRegressionParams {
        LogisticRegressionParams::default()
    }
}

/// The (scaled) optimisation problem.
pub(crate) struct Problem {
    z: Array2<f64>,
    y: Vec<usize>,
    w: Vec<f64>,
    m: usize,
    /// Penalty factor of each coefficient: `1 / (C · s_j² · W)`.
    pen: Vec<f64>,
    inv_total: f64,
    fit_intercept: bool,
}

impl Problem {
    fn dim(&self) -> usize {
        (self.z.ncols() + 1) * self.m
    }

    /// Objective and gradient at `theta` (layout per output: d coefficients then the intercept).
    pub(crate) fn eval(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let d = self.z.ncols();
        let m = self.m;
        let n = self.z.nrows();
        let block = 4096;
        let parts: Vec<(f64, Vec<f64>)> = (0..n.div_ceil(block))
            .into_par_iter()
            .map(|b| {
                let mut g = vec![0.0; (d + 1) * m];
                let mut loss = 0.0;
                let mut s = vec![0.0; m];
                for i in b * block..((b + 1) * block).min(n) {
                    let zi = self.z.row(i);
                    let wi = self.w[i];
                    if wi == 0.0 {
                        continue;
                    }
                    for (c, sc) in s.iter_mut().enumerate() {
                        let th = &theta[c * (d + 1)..(c + 1) * (d + 1)];
                        let mut acc = th[d];
                        for (a, b) in zi.iter().zip(th) {
                            acc += a * b;
                        }
                        *sc = acc;
                    }
                    let yi = self.y[i];
                    if m == 1 {
                        let t = if yi == 1 { 1.0 } else { 0.0 };
                        let v = s[0];
                        // log(1 + e^v) − t v, stable.
                        let sp = if v > 0.0 {
                            v + (-v).exp().ln_1p()
                        } else {
                            v.exp().ln_1p()
                        };
                        loss += wi * (sp - t * v);
                        s[0] = wi * (sigmoid(v) - t);
                    } else {
                        let mx = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                        let se: f64 = s.iter().map(|v| (v - mx).exp()).sum();
                        let lse = mx + se.ln();
                        loss += wi * (lse - s[yi]);
                        for (c, sc) in s.iter_mut().enumerate() {
                            *sc = wi * ((*sc - lse).exp() - if c == yi { 1.0 } else { 0.0 });
                        }
                    }
                    for (c, &r) in s.iter().enumerate() {
                        let gc = &mut g[c * (d + 1)..(c + 1) * (d + 1)];
                        for (gj, a) in gc.iter_mut().zip(zi.iter()) {
                            *gj += r * a;
                        }
                        gc[d] += r;
                    }
                }
                (loss, g)
            })
            .collect();
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut loss = 0.0;
        for (l, g) in parts {
            loss += l;
            for (a, b) in grad.iter_mut().zip(g) {
                *a += b;
            }
        }
        loss *= self.inv_total;
        grad.iter_mut().for_each(|g| *g *= self.inv_total);
        for c in 0..m {
            for j in 0..d {
                let t = theta[c * (d + 1) + j];
                loss += 0.5 * self.pen[j] * t * t;
                grad[c * (d + 1) + j] += self.pen[j] * t;
            }
            if !self.fit_intercept {
                grad[c * (d + 1) + d] = 0.0;
            }
        }
        loss
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises `f` from `x` by L-BFGS (memory 10) with Armijo backtracking. Returns (iterations, converged).
pub(crate) fn lbfgs<F>(x: &mut [f64], max_iter: usize, tol: f64, mut f: F) -> (usize, bool)
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let n = x.len();
    let mem = 10;
    let mut g = vec![0.0; n];
    let mut fx = f(x, &mut g);
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut rho: Vec<f64> = Vec::new();
    let mut xn = vec![0.0; n];
    let mut gn = vec![0.0; n];
    for it in 0..max_iter {
        let gmax = g.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        if gmax <= tol {
            return (it, true);
        }
        // Two-loop recursion.
        let mut q = g.clone();
        let mut alpha = vec![0.0; s_hist.len()];
        for i in (0..s_hist.len()).rev() {
            alpha[i] = rho[i] * dot(&s_hist[i], &q);
            for (qj, yj) in q.iter_mut().zip(&y_hist[i]) {
                *qj -= alpha[i] * yj;
            }
        }
        let gamma = match (s_hist.last(), y_hist.last()) {
            (Some(s), Some(y)) => dot(s, y) / dot(y, y),
            _ => 1.0 / g.iter().map(|v| v * v).sum::<f64>().sqrt().max(1.0),
        };
        q.iter_mut().for_each(|v| *v *= gamma);
        for i in 0..s_hist.len() {
            let beta = rho[i] * dot(&y_hist[i], &q);
            for (qj, sj) in q.iter_mut().zip(&s_hist[i]) {
                *qj += sj * (alpha[i] - beta);
            }
        }
        // Direction is −q; fall back to steepest descent if it is not a descent direction.
        let mut dg = -dot(&q, &g);
        if dg >= 0.0 || dg.is_nan() {
            q.clone_from(&g);
            dg = -dot(&g, &g);
            s_hist.clear();
            y_hist.clear();
            rho.clear();
        }
        let mut step = 1.0;
        let mut accepted = false;
        for _ in 0..40 {
            for j in 0..n {
                xn[j] = x[j] - step * q[j];
            }
            let fnew = f(&xn, &mut gn);
            if fnew.is_finite() && fnew <= fx + 1e-4 * step * dg {
                let s: Vec<f64> = (0..n).map(|j| xn[j] - x[j]).collect();
                let yv: Vec<f64> = (0..n).map(|j| gn[j] - g[j]).collect();
                let sy = dot(&s, &yv);
                if sy > 1e-12 {
                    if s_hist.len() == mem {
                        s_hist.remove(0);
                        y_hist.remove(0);
                        rho.remove(0);
                    }
                    rho.push(1.0 / sy);
                    s_hist.push(s);
                    y_hist.push(yv);
                }
                let improvement = fx - fnew;
                x.copy_from_slice(&xn);
                g.copy_from_slice(&gn);
                fx = fnew;
                accepted = true;
                if improvement.abs() <= 1e-15 * fx.abs().max(1.0) {
                    let gmax = g.iter().fold(0.0f64, |a, v| a.max(v.abs()));
                    return (it + 1, gmax <= tol.max(1e-5));
                }
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            return (it, false);
        }
    }
    let gmax = g.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    (max_iter, gmax <= tol)
}

impl LogisticRegressionParams {
    setter!(/// Sets C (inverse regularisation).
        c: f64);
    setter!(/// Sets the maximum iterations.
        max_iter: usize);
    setter!(/// Sets the gradient tolerance.
        tol: f64);
    setter!(/// Turns the intercept on or off.
        fit_intercept: bool);
    setter!(/// Sets the class weights.
        class_weight: ClassWeight);

    pub(crate) fn problem(
        &self,
        ds: &Dataset,
    ) -> Result<(Problem, Vec<f64>, Vec<f64>), ModelError> {
        let w = effective_weights(ds, &self.class_weight)?;
        let total: f64 = w.iter().sum();
        let d = ds.ncols();
        let mut mean = vec![0.0; d];
        let mut scale = vec![1.0; d];
        for j in 0..d {
            let col = ds.x.column(j);
            let mu = col.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() / total;
            let var = col
                .iter()
                .zip(&w)
                .map(|(a, b)| b * (a - mu) * (a - mu))
                .sum::<f64>()
                / total;
            mean[j] = if self.fit_intercept { mu } else { 0.0 };
            scale[j] = if var > 1e-24 { var.sqrt() } else { 1.0 };
        }
        let mut z = ds.x.clone();
        for (j, mut col) in z.axis_iter_mut(Axis(1)).enumerate() {
            let (mu, s) = (mean[j], scale[j]);
            col.mapv_inplace(|v| (v - mu) / s);
        }
        let m = score_outputs(ds.n_classes);
        let pen = scale
            .iter()
            .map(|s| 1.0 / (self.c * s * s * total))
            .collect();
        Ok((
            Problem {
                z,
                y: ds.y.to_vec(),
                w,
                m,
                pen,
                inv_total: 1.0 / total,
                fit_intercept: self.fit_intercept,
            },
            mean,
            scale,
        ))
    }

    /// Fits on every row of `ds`.
    pub fn fit(&self, ds: &Dataset) -> Result<LogisticRegression, ModelError> {
        self.check()?;
        check_fit_data(ds, false)?;
        if ds.n_classes < 2 {
            return Err(ModelError::Data(
                "logistic regression needs at least 2 classes".into(),
            ));
        }
        let (p, mean, scale) = self.problem(ds)?;
        let d = ds.ncols();
        let m = p.m;
        let mut theta = vec![0.0; p.dim()];
        let (n_iter, converged) = lbfgs(&mut theta, self.max_iter, self.tol, |t, g| p.eval(t, g));
        let mut coef = Array2::zeros((m, d));
        let mut intercept = vec![0.0; m];
        for c in 0..m {
            let th = &theta[c * (d + 1)..(c + 1) * (d + 1)];
            let mut b = th[d];
            for j in 0..d {
                coef[[c, j]] = th[j] / scale[j];
                b -= th[j] * mean[j] / scale[j];
            }
            intercept[c] = b;
        }
        Ok(LogisticRegression {
            coef,
            intercept,
            n_classes: ds.n_classes,
            n_iter,
            converged,
        })
    }
}

impl Fitted for LogisticRegression {
    const KIND: &'static str = "logreg";

    fn signature(&self) -> Signature {
        Signature::features(self.n_classes, self.coef.ncols())
    }

    fn proba(&self, ds: &Dataset) -> Result<Array2<f64>, ModelError> {
        let m = self.coef.nrows();
        Ok(predict_rows(ds, self.n_classes, |row, out| {
            for c in 0..m {
                out[c] = self.intercept[c] + self.coef.row(c).dot(&row);
            }
            scores_to_proba_in_place(out, m);
        }))
    }

    fn check_loaded(&mut self) -> Result<(), ModelError> {
        check_outputs(
            Self::KIND,
            self.n_classes,
            self.coef.nrows(),
            self.intercept.len(),
        )
    }
}

/// Checks the outputs of a loaded linear model: at least 2 classes, one output for two classes and
/// one per class otherwise, one intercept per output.
pub(crate) fn check_outputs(
    kind: &str,
    n_classes: usize,
    outputs: usize,
    intercepts: usize,
) -> Result<(), ModelError> {
    let want = score_outputs(n_classes);
    if n_classes < 2 || outputs != want || intercepts != outputs {
        return Err(corrupt(
            kind,
            format!(
                "{outputs} outputs and {intercepts} intercepts for {n_classes} classes (want {want} of each)"
            ),
        ));
    }
    Ok(())
}

impl LearnerParams for LogisticRegressionParams {
    fn about(&self) -> About {
        About::new(
            "logreg",
            &["lr", "logistic"],
            "L2 logistic regression (L-BFGS)",
        )
    }
    fn visit_keys(&mut self, v: &mut dyn KeyVisitor) -> Result<(), ModelError> {
        v.key(&["c", "C"], &mut self.c)?;
        v.key(&["max_iter"], &mut self.max_iter)?;
        v.key(&["tol"], &mut self.tol)?;
        v.key(&["fit_intercept"], &mut self.fit_intercept)?;
        v.key(&["class_weight"], &mut self.class_weight)
    }
    fn check(&self) -> Result<(), ModelError> {
        check_positive("c", self.c)?;
        check_at_least_one("max_iter", self.max_iter)?;
        if self.tol <= 0.0 || self.tol.is_nan() {
            return Err(ModelError::invalid("tol", self.tol, "> 0"));
        }
        Ok(())
    }
    fn fit_model(&self, ds: &Dataset, _: Option<&Dataset>) -> Result<FittedModel, ModelError> {
        self.fit(ds).map(FittedModel::Logistic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Classifier;
    use ndarray::{array, Array1};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn data(k: usize) -> Dataset {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let x = Array2::from_shape_fn((300, 3), |(_, j)| {
            rng.gen_range(-1.0..1.0) * (1.0 + 10.0 * j as f64)
        });
        let y: Array1<usize> = x
            .rows()
            .into_iter()
            .map(|r| {
                let s = r[0] - 0.1 * r[1] + rng.gen_range(-0.5..0.5);
                if k == 2 {
                    usize::from(s > 0.0)
                } else if s < -0.3 {
                    0
                } else if s < 0.3 {
                    1
                } else {
                    2
                }
            })
            .collect();
        let mut ds = Dataset::new(x, y, k).unwrap();
        ds.weights = Some((0..300).map(|i| 0.5 + (i % 3) as f64).collect());
        ds
    }

    #[test]
    fn gradient_matches_finite_differences() {
        for k in [2, 3] {
            let ds = data(k);
            let (p, _, _) = LogisticRegression::params().c(0.7).problem(&ds).unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let theta: Vec<f64> = (0..p.dim()).map(|_| rng.gen_range(-0.5..0.5)).collect();
            let mut g = vec![0.0; p.dim()];
            p.eval(&theta, &mut g);
            let mut scratch = vec![0.0; p.dim()];
            for j in 0..p.dim() {
                let h = 1e-6;
                let mut a = theta.clone();
                a[j] += h;
                let fa = p.eval(&a, &mut scratch);
                a[j] -= 2.0 * h;
                let fb = p.eval(&a, &mut scratch);
                let num = (fa - fb) / (2.0 * h);
                assert!(
                    (num - g[j]).abs() < 1e-6 * (1.0 + num.abs()),
                    "k={k} j={j}: {num} vs {}",
                    g[j]
                );
            }
        }
    }

    #[test]
    fn optimum_has_zero_gradient_in_original_scale() {
        let ds = data(3);
        let m = LogisticRegression::params().fit(&ds).unwrap();
        assert!(m.converged);
        let p = m.predict_proba(&ds).unwrap();
        assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-12));
        // Stationarity of the intercepts: Σ w_i (p_ic − y_ic) = 0.
        for c in 0..3 {
            let s: f64 = (0..ds.nrows())
                .map(|i| ds.weight(i) * (p[[i, c]] - if ds.y[i] == c { 1.0 } else { 0.0 }))
                .sum();
            assert!(s.abs() < 1e-3, "class {c}: {s}");
        }
    }

    #[test]
    fn separable_binary_is_correct() {
        let ds = Dataset::new(array![[0.0], [1.0], [2.0], [3.0]], array![0, 0, 1, 1], 2).unwrap();
        let m = LogisticRegression::params().c(100.0).fit(&ds).unwrap();
        assert_eq!(m.predict(&ds).unwrap(), ds.y);
    }
}
