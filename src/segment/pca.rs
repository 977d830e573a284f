//! Principal component analysis of the standardised matrix: the eigen-decomposition of its covariance
//! matrix (`d × d`, `d` = columns) with linfa's linear algebra (`linfa_linalg::eigh`, the routines
//! linfa-reduction is built on), keeping either the fewest components that explain a share of the
//! variance (`--pca-var 0.9`) or a fixed number (`--pca-dims N`).
//!
//! Why not `linfa_reduction::Pca` itself (0.8.1): its `explained_variance_ratio` divides by the
//! variance of the *kept* components only (two components of sixty always "explain" 100 %), its
//! `explained_variance` divides by the number of components minus one instead of the rows minus one,
//! and without BLAS it approximates the components with LOBPCG. The exact covariance route gives
//! scikit-learn's `explained_variance_` and `explained_variance_ratio_` (`ddof = 1`, ratio over the
//! total variance) — the unit test below holds it to the same spectrum as linfa-reduction and to a
//! brute-force check — and every eigenvalue, which `--pca-var` needs to choose the dimension.
//!
//! Cost: `n·d²` multiply-adds for the covariance (f64, fixed row chunks summed in order: identical for
//! any thread count), `O(d³)` for the eigen-decomposition, `n·d·p` for the projection; memory the
//! projected `n × p` matrix (f32).

use anyhow::Context;
use linfa_linalg::eigh::{EigSort, Eigh};
use linfa_linalg::Order;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::scale::{column_sums, CHUNK};

/// How many principal components to keep.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum PcaChoice {
    /// The fewest components whose explained-variance ratios sum to at least this share (0 < f ≤ 1).
    Variance(f64),
    /// Exactly this many components (at most the number of columns).
    Dims(usize),
}

/// A fitted PCA.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pca {
    /// Column means of the fitted matrix.
    pub mean: Vec<f64>,
    /// Kept components, one row per component (unit length; the largest-magnitude entry positive).
    pub components: Array2<f64>,
    /// Variance along each kept component (`ddof = 1`).
    pub explained_variance: Vec<f64>,
    /// Share of the total variance along each kept component.
    pub explained_variance_ratio: Vec<f64>,
    /// Ratios of every component (kept or not), for the report.
    pub all_ratios: Vec<f64>,
}

impl Pca {
    /// Fits on `x` (at least two rows) and keeps the components `choice` asks for.
    pub fn fit(x: ArrayView2<'_, f32>, choice: PcaChoice) -> anyhow::Result<Pca> {
        let (n, d) = x.dim();
        anyhow::ensure!(n >= 2, "PCA needs at least 2 rows, found {n}");
        let mean: Vec<f64> = column_sums(x, |_, v| f64::from(v))
            .into_iter()
            .map(|s| s / n as f64)
            .collect();
        let cov = covariance(x, &mean);
        let (vals, vecs) = cov
            .eigh()
            .context("PCA: eigen-decomposition of the covariance matrix")?
            .sort_eig(Order::Largest);
        let vals: Vec<f64> = vals.iter().map(|v| v.max(0.0)).collect();
        let total: f64 = vals.iter().sum();
        let all_ratios: Vec<f64> = vals
            .iter()
            .map(|v| if total > 0.0 { v / total } else { 0.0 })
            .collect();
        let p = match choice {
            PcaChoice::Dims(p) => {
                anyhow::ensure!(
                    (1..=d).contains(&p),
                    "--pca-dims must be 1..={d} (the number of columns), found {p}"
                );
                p
            }
            PcaChoice::Variance(f) => {
                let mut acc = 0.0;
                let mut p = d;
                for (i, r) in all_ratios.iter().enumerate() {
                    acc += r;
                    if acc >= f - 1e-12 {
                        p = i + 1;
                        break;
                    }
                }
                p.max(1)
            }
        };
        let mut components = Array2::<f64>::zeros((p, d));
        for c in 0..p {
            let v = vecs.column(c);
            // Deterministic sign: the entry of largest magnitude is positive (ties: the first).
            let mut best = 0;
            for j in 1..d {
                if v[j].abs() > v[best].abs() {
                    best = j;
                }
            }
            let s = if v[best] < 0.0 { -1.0 } else { 1.0 };
            components.row_mut(c).assign(&v.mapv(|a| a * s));
        }
        Ok(Pca {
            mean,
            components,
            explained_variance: vals[..p].to_vec(),
            explained_variance_ratio: all_ratios[..p].to_vec(),
            all_ratios,
        })
    }

    /// Number of kept components.
    pub fn dims(&self) -> usize {
        self.components.nrows()
    }

    /// Projects `x` onto the kept components: `(x − mean) · componentsᵀ` (`n × p`, f32).
    pub fn transform(&self, x: ArrayView2<'_, f32>) -> Array2<f32> {
        let (n, p) = (x.nrows(), self.dims());
        let mut y = Array2::<f32>::zeros((n, p));
        let mean = Array1::from(self.mean.clone());
        let ct = self.components.t();
        y.axis_chunks_iter_mut(Axis(0), CHUNK)
            .into_par_iter()
            .zip(x.axis_chunks_iter(Axis(0), CHUNK))
            .for_each(|(mut out, xc)| {
                let centred = xc.mapv(f64::from) - &mean;
                let proj = centred.dot(&ct);
                out.zip_mut_with(&proj, |o, v| *o = *v as f32);
            });
        y
    }
}

/// The covariance matrix (`ddof = 1`) of `x` around `mean`, in f64.
fn covariance(x: ArrayView2<'_, f32>, mean: &[f64]) -> Array2<f64> {
    let d = x.ncols();
    let n = x.nrows();
    let m = Array1::from(mean.to_vec());
    let parts: Vec<Array2<f64>> = x
        .axis_chunks_iter(Axis(0), CHUNK)
        .into_par_iter()
        .map(|c| {
            let centred = c.mapv(f64::from) - &m;
            centred.t().dot(&centred)
        })
        .collect();
    let mut cov = Array2::<f64>::zeros((d, d));
    for p in parts {
        cov += &p;
    }
    cov / (n as f64 - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn correlated(n: usize, seed: u64) -> Array2<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = Array2::<f32>::zeros((n, 5));
        for i in 0..n {
            let a: f32 = rng.gen_range(-3.0..3.0);
            let b: f32 = rng.gen_range(-1.0..1.0);
            let e: f32 = rng.gen_range(-0.1..0.1);
            x.row_mut(i)
                .assign(&ndarray::arr1(&[a, 2.0 * a + e, b, b - a, 0.5 * e]));
        }
        x
    }

    #[test]
    fn variance_ratios_sum_to_one_and_match_the_total_variance() {
        let x = correlated(500, 1);
        let pca = Pca::fit(x.view(), PcaChoice::Dims(5)).unwrap();
        let s: f64 = pca.explained_variance_ratio.iter().sum();
        assert!((s - 1.0).abs() < 1e-12);
        // Total variance (ddof 1) computed naively equals the sum of eigenvalues.
        let n = x.nrows() as f64;
        let mut total = 0.0;
        for j in 0..5 {
            let col: Vec<f64> = x.column(j).iter().map(|v| f64::from(*v)).collect();
            let m = col.iter().sum::<f64>() / n;
            total += col.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0);
        }
        let ev: f64 = pca.explained_variance.iter().sum();
        assert!((ev - total).abs() < 1e-9 * total);
        // Each component is a unit eigenvector: its projection's variance is its eigenvalue.
        let y = pca.transform(x.view());
        for c in 0..5 {
            let col: Vec<f64> = y.column(c).iter().map(|v| f64::from(*v)).collect();
            let m = col.iter().sum::<f64>() / n;
            let v = col.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0);
            assert!(
                (v - pca.explained_variance[c]).abs() < 1e-4 * total,
                "component {c}: {v} vs {}",
                pca.explained_variance[c]
            );
        }
    }

    #[test]
    fn variance_choice_keeps_the_fewest_components() {
        let x = correlated(400, 2);
        let all = Pca::fit(x.view(), PcaChoice::Variance(1.0)).unwrap();
        let r = &all.all_ratios;
        let pca = Pca::fit(x.view(), PcaChoice::Variance(0.9)).unwrap();
        let p = pca.dims();
        let kept: f64 = r[..p].iter().sum();
        assert!(kept >= 0.9 - 1e-12);
        assert!(p == 1 || r[..p - 1].iter().sum::<f64>() < 0.9);
        assert!(Pca::fit(x.view(), PcaChoice::Dims(6)).is_err());
    }

    /// linfa-reduction's PCA finds the same leading variances (its ratio is normalised over the kept
    /// components only, see the module docs).
    #[test]
    fn same_spectrum_as_linfa_reduction() {
        use linfa::traits::Fit;
        let x = correlated(300, 3);
        let ours = Pca::fit(x.view(), PcaChoice::Dims(2)).unwrap();
        let ds = linfa::DatasetBase::from(x.mapv(f64::from));
        let theirs = linfa_reduction::Pca::params(2).fit(&ds).unwrap();
        let n = x.nrows() as f64;
        for (c, s) in theirs.singular_values().iter().enumerate() {
            let var = s * s / (n - 1.0);
            assert!(
                (var - ours.explained_variance[c]).abs() < 1e-6 * var,
                "component {c}: linfa {var}, ours {}",
                ours.explained_variance[c]
            );
        }
        // linfa-reduction 0.8.1 divides by the kept components' variance only (and gives NaN when one
        // component is kept), so its ratios sum to 1 where ours, over all components, do not.
        let ratio_sum: f64 = theirs.explained_variance_ratio().sum();
        assert!(
            (ratio_sum - 1.0).abs() < 1e-9,
            "linfa's ratios are over the kept components"
        );
        assert!(ours.explained_variance_ratio.iter().sum::<f64>() < 1.0 - 1e-9);
    }
}
