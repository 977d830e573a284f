//! Quantile binning of feature columns into at most 256 bins (`u8` codes), shared by every tree model.
//!
//! For each feature the sorted distinct values (of at most [`BIN_SAMPLE`] rows, sampled with a fixed
//! seed) define the cut points: when a feature has at most `max_bins` distinct values every value gets
//! its own bin and the cut points are the midpoints between consecutive values — exactly the candidate
//! thresholds of exact CART (scikit-learn's `DecisionTreeClassifier`); otherwise the cut points are
//! weighted quantiles (as LightGBM and scikit-learn's `HistGradientBoosting`). A value `x` falls in bin
//! `#{cuts < x}`, so `bin ≤ b` is the same test as `x ≤ cuts[b]` and a fitted tree predicts on raw
//! values. NaN is placed in the last bin (it always goes right).
//!
//! Cost: O(s log s) per feature to fit (s = sampled rows), O(n log bins) per feature to transform,
//! parallel over features; the binned matrix takes n × d bytes.

#![allow(clippy::needless_range_loop)]

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::sample::sorted_sample;

/// At most this many rows are read to place the cut points.
pub const BIN_SAMPLE: usize = 200_000;

/// Cut points of every feature.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BinMapper {
    /// `cuts[j]`: increasing thresholds of feature `j` (`len < 256`).
    pub cuts: Vec<Vec<f64>>,
}

/// A binned feature matrix stored column by column (`data[j * n_rows + i]`).
#[derive(Clone, Debug, Default)]
pub struct BinnedMatrix {
    /// Number of rows.
    pub n_rows: usize,
    /// Number of feature columns.
    pub n_cols: usize,
    /// Bin codes, column-major.
    pub data: Vec<u8>,
}

impl BinnedMatrix {
    /// Column `j`.
    #[inline]
    pub fn col(&self, j: usize) -> &[u8] {
        &self.data[j * self.n_rows..(j + 1) * self.n_rows]
    }
}

fn cuts_of(mut v: Vec<f64>, max_bins: usize) -> Vec<f64> {
    v.retain(|x| !x.is_nan());
    v.sort_unstable_by(f64::total_cmp);
    let mut distinct: Vec<(f64, usize)> = Vec::new();
    for x in v.iter().copied() {
        match distinct.last_mut() {
            Some((d, c)) if *d == x => *c += 1,
            _ => distinct.push((x, 1)),
        }
    }
    let mid = |a: f64, b: f64| {
        let m = a / 2.0 + b / 2.0;
        if m >= b || m < a {
            a
        } else {
            m
        }
    };
    if distinct.len() <= max_bins {
        return distinct.windows(2).map(|w| mid(w[0].0, w[1].0)).collect();
    }
    let total = v.len() as f64;
    let per_bin = total / max_bins as f64;
    let mut cuts = Vec::with_capacity(max_bins - 1);
    let mut seen = 0usize;
    for w in distinct.windows(2) {
        seen += w[0].1;
        let next_target = per_bin * (cuts.len() + 1) as f64;
        if seen as f64 >= next_target && cuts.len() + 1 < max_bins {
            cuts.push(mid(w[0].0, w[1].0));
        }
    }
    cuts
}

impl BinMapper {
    /// Places cut points for every column of `x` (at most `max_bins` bins each, `2..=256`).
    pub fn fit(x: ArrayView2<f64>, max_bins: usize) -> BinMapper {
        let n = x.nrows();
        let rows = sorted_sample(n, BIN_SAMPLE, 0x5eed_b145);
        let cuts = (0..x.ncols())
            .into_par_iter()
            .map(|j| {
                let col = x.column(j);
                cuts_of(
                    rows.iter().map(|&i| col[i]).collect(),
                    max_bins.clamp(2, 256),
                )
            })
            .collect();
        BinMapper { cuts }
    }

    /// Bin code of value `v` of feature `j`.
    #[inline]
    pub fn bin(&self, j: usize, v: f64) -> u8 {
        let c = &self.cuts[j];
        if v.is_nan() {
            return c.len() as u8;
        }
        c.partition_point(|&t| t < v) as u8
    }

    /// Number of bins of feature `j`.
    pub fn n_bins(&self, j: usize) -> usize {
        self.cuts[j].len() + 1
    }

    /// Bins every value of `x` (parallel over columns).
    pub fn transform(&self, x: ArrayView2<f64>) -> BinnedMatrix {
        let n = x.nrows();
        let d = x.ncols();
        let mut data = vec![0u8; n * d];
        if n > 0 {
            data.par_chunks_mut(n).enumerate().for_each(|(j, out)| {
                let col = x.column(j);
                for (o, &v) in out.iter_mut().zip(col.iter()) {
                    *o = self.bin(j, v);
                }
            });
        }
        BinnedMatrix {
            n_rows: n,
            n_cols: d,
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn few_values_get_midpoint_cuts() {
        let x = array![[1.0], [3.0], [3.0], [7.0], [f64::NAN]];
        let m = BinMapper::fit(x.view(), 255);
        assert_eq!(m.cuts[0], vec![2.0, 5.0]);
        let b = m.transform(x.view());
        assert_eq!(b.col(0), &[0, 1, 1, 2, 2]);
    }

    #[test]
    fn many_values_get_at_most_max_bins() {
        let x = ndarray::Array2::from_shape_fn((1000, 1), |(i, _)| i as f64);
        let m = BinMapper::fit(x.view(), 16);
        assert!(m.n_bins(0) <= 16 && m.n_bins(0) >= 14, "{}", m.n_bins(0));
        let b = m.transform(x.view());
        // Bins are monotone in the value.
        assert!(b.col(0).windows(2).all(|w| w[0] <= w[1]));
    }
}
