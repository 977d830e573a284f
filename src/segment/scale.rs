//! Standardisation: each column centred on its mean and divided by its standard deviation (population,
//! `ddof = 0`, as scikit-learn's `StandardScaler`), fitted once and saved in the segment model so that
//! `segment --apply` puts new rows on the same scale.
//!
//! A **constant column** (standard deviation 0, or below 1e-12 × its magnitude) gets scale 1: after
//! centring it is 0 for every fitted row, so it cannot influence distances — the documented handling,
//! also scikit-learn's. Its name is reported. Non-finite values never reach the scaler: the matrix
//! readers refuse them with their location.
//!
//! Cost: one pass over the matrix for the means and one for the variances (f64 accumulators over fixed
//! row chunks, summed in chunk order, so the result does not depend on the thread count).

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Rows per chunk of every parallel column sum (fixed, so sums are identical for any thread count).
pub const CHUNK: usize = 4096;

/// A fitted standard scaler.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    /// Column names, in order.
    pub names: Vec<String>,
    /// Column means.
    pub mean: Vec<f64>,
    /// Column standard deviations (1 for a constant column).
    pub scale: Vec<f64>,
    /// Whether each column was constant on the fitted rows.
    pub constant: Vec<bool>,
}

/// Column sums of `f(x)` over the rows of `x`, in f64, chunked deterministically.
pub fn column_sums(x: ArrayView2<'_, f32>, f: impl Fn(usize, f32) -> f64 + Sync) -> Vec<f64> {
    let d = x.ncols();
    let parts: Vec<Vec<f64>> = x
        .axis_chunks_iter(Axis(0), CHUNK)
        .into_par_iter()
        .map(|c| {
            let mut s = vec![0.0f64; d];
            for row in c.rows() {
                for (j, v) in row.iter().enumerate() {
                    s[j] += f(j, *v);
                }
            }
            s
        })
        .collect();
    let mut total = vec![0.0f64; d];
    for p in parts {
        for (t, v) in total.iter_mut().zip(p) {
            *t += v;
        }
    }
    total
}

impl Scaler {
    /// Fits on `x` (`rows × columns`, at least one row).
    pub fn fit(x: ArrayView2<'_, f32>, names: &[String]) -> Scaler {
        let n = x.nrows().max(1) as f64;
        let mean: Vec<f64> = column_sums(x, |_, v| f64::from(v))
            .into_iter()
            .map(|s| s / n)
            .collect();
        let var: Vec<f64> = column_sums(x, |j, v| {
            let e = f64::from(v) - mean[j];
            e * e
        })
        .into_iter()
        .map(|s| s / n)
        .collect();
        let mut scale = Vec::with_capacity(var.len());
        let mut constant = Vec::with_capacity(var.len());
        for (v, m) in var.iter().zip(&mean) {
            let sd = v.sqrt();
            let is_const = sd <= 1e-12 * m.abs().max(1.0);
            constant.push(is_const);
            scale.push(if is_const { 1.0 } else { sd });
        }
        Scaler {
            names: names.to_vec(),
            mean,
            scale,
            constant,
        }
    }

    /// Standardises `x` in place (its columns must be the fitted ones, in order).
    pub fn transform_inplace(&self, x: &mut Array2<f32>) {
        x.axis_chunks_iter_mut(Axis(0), CHUNK)
            .into_par_iter()
            .for_each(|mut c| {
                for mut row in c.rows_mut() {
                    for (j, v) in row.iter_mut().enumerate() {
                        *v = ((f64::from(*v) - self.mean[j]) / self.scale[j]) as f32;
                    }
                }
            });
    }

    /// Names of the constant columns.
    pub fn constant_columns(&self) -> Vec<String> {
        self.names
            .iter()
            .zip(&self.constant)
            .filter(|(_, c)| **c)
            .map(|(n, _)| n.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn standardises_like_sklearn_and_keeps_constant_columns_at_zero() {
        let x: Array2<f32> = array![[1.0, 5.0, 2.0], [2.0, 5.0, 4.0], [3.0, 5.0, 9.0]];
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let s = Scaler::fit(x.view(), &names);
        assert_eq!(s.mean, vec![2.0, 5.0, 5.0]);
        // Population standard deviation of 1, 2, 3 is sqrt(2/3).
        assert!((s.scale[0] - (2.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(s.constant, vec![false, true, false]);
        assert_eq!(s.constant_columns(), vec!["b".to_string()]);
        let mut z = x.clone();
        s.transform_inplace(&mut z);
        for j in 0..3 {
            let col = z.column(j);
            let m: f64 = col.iter().map(|v| f64::from(*v)).sum::<f64>() / 3.0;
            assert!(m.abs() < 1e-6, "column {j} mean {m}");
            let v: f64 = col.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / 3.0;
            let want = if j == 1 { 0.0 } else { 1.0 };
            assert!((v - want).abs() < 1e-6, "column {j} variance {v}");
        }
    }

    #[test]
    fn sums_do_not_depend_on_chunking() {
        let n = 3 * CHUNK + 17;
        let x = Array2::from_shape_fn((n, 2), |(i, j)| (i * (j + 1)) as f32 * 0.1);
        let s = column_sums(x.view(), |_, v| f64::from(v));
        let naive: f64 = (0..n).map(|i| f64::from(i as f32 * 0.1)).sum();
        assert!((s[0] - naive).abs() < 1e-6 * naive);
    }
}
