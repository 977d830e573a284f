//! The silhouette coefficient (Rousseeuw 1987): for each row, `a` = mean Euclidean distance to the
//! other rows of its cluster, `b` = the smallest mean distance to the rows of another cluster,
//! `s = (b − a) / max(a, b)` (0 for a row alone in its cluster); the score is the mean of `s`.
//! Rows without a cluster (DBSCAN noise) are left out, as scikit-learn users do by masking them.
//!
//! Exact over every row up to [`EXACT_LIMIT`] rows; above, over a seeded uniform sample of that many
//! rows (scikit-learn's `sample_size`) — [`Silhouette::sampled`] says which, and the output prints it.
//! Cost: `n²·d` for the distances, computed a block of rows at a time by one matrix product
//! (memory `256 × n` per thread); rows are independent, so the result is identical for any thread count.

use cartseq_models::sample::sorted_sample;
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use serde::Serialize;

/// Largest number of rows scored exactly.
pub const EXACT_LIMIT: usize = 20_000;

/// A silhouette score and how it was computed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Silhouette {
    /// Mean silhouette (`None` with fewer than 2 clusters or every row in its own cluster).
    pub score: Option<f64>,
    /// Rows scored.
    pub rows: usize,
    /// Whether the rows are a seeded sample of the clustered rows.
    pub sampled: bool,
}

/// Silhouette of `labels` (`None` = no cluster) over the rows of `x`, exact or on a seeded sample.
pub fn silhouette(x: ArrayView2<'_, f32>, labels: &[Option<u32>], seed: u64) -> Silhouette {
    let kept: Vec<usize> = (0..labels.len()).filter(|&i| labels[i].is_some()).collect();
    let sampled = kept.len() > EXACT_LIMIT;
    // `kept` ascends, so the sorted sample of its positions maps to ascending rows.
    let rows: Vec<usize> = if sampled {
        sorted_sample(kept.len(), EXACT_LIMIT, seed)
            .into_iter()
            .map(|i| kept[i])
            .collect()
    } else {
        kept
    };
    let sub = x.select(Axis(0), &rows);
    let lab: Vec<u32> = rows.iter().filter_map(|&i| labels[i]).collect();
    Silhouette {
        score: exact(sub.view(), &lab),
        rows: rows.len(),
        sampled,
    }
}

/// The exact mean silhouette of `labels` over every row of `x`.
pub fn exact(x: ArrayView2<'_, f32>, labels: &[u32]) -> Option<f64> {
    let n = x.nrows();
    let k = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    let mut size = vec![0usize; k];
    for &l in labels {
        size[l as usize] += 1;
    }
    let used = size.iter().filter(|&&s| s > 0).count();
    if used < 2 || used >= n {
        return None;
    }
    let norms: Vec<f32> = x
        .rows()
        .into_iter()
        .map(|r| r.iter().map(|v| v * v).sum())
        .collect();
    const BLOCK: usize = 256;
    let xt = x.t();
    let parts: Vec<f64> = x
        .axis_chunks_iter(Axis(0), BLOCK)
        .into_par_iter()
        .enumerate()
        .map(|(b, xb)| {
            let g: Array2<f32> = xb.dot(&xt);
            let mut total = 0.0f64;
            let mut sums = vec![0.0f64; k];
            for (r, row) in g.rows().into_iter().enumerate() {
                let i = b * BLOCK + r;
                sums.iter_mut().for_each(|s| *s = 0.0);
                for (j, v) in row.iter().enumerate() {
                    if j == i {
                        continue;
                    }
                    let d2 = (norms[i] + norms[j] - 2.0 * v).max(0.0);
                    sums[labels[j] as usize] += f64::from(d2.sqrt());
                }
                let own = labels[i] as usize;
                if size[own] <= 1 {
                    continue; // s = 0
                }
                let a = sums[own] / (size[own] - 1) as f64;
                let bmin = (0..k)
                    .filter(|&c| c != own && size[c] > 0)
                    .map(|c| sums[c] / size[c] as f64)
                    .fold(f64::INFINITY, f64::min);
                let m = a.max(bmin);
                if m > 0.0 {
                    total += (bmin - a) / m;
                }
            }
            total
        })
        .collect();
    Some(parts.iter().sum::<f64>() / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Brute force in f64, straight from the definition.
    fn oracle(x: &Array2<f32>, labels: &[u32]) -> f64 {
        let n = x.nrows();
        let d = |i: usize, j: usize| -> f64 {
            x.row(i)
                .iter()
                .zip(x.row(j))
                .map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        let k = *labels.iter().max().unwrap() as usize + 1;
        let mut s = 0.0;
        for i in 0..n {
            let mut sum = vec![0.0; k];
            let mut cnt = vec![0usize; k];
            for j in 0..n {
                if j != i {
                    sum[labels[j] as usize] += d(i, j);
                    cnt[labels[j] as usize] += 1;
                }
            }
            let own = labels[i] as usize;
            if cnt[own] == 0 {
                continue;
            }
            let a = sum[own] / cnt[own] as f64;
            let b = (0..k)
                .filter(|&c| c != own && cnt[c] > 0)
                .map(|c| sum[c] / cnt[c] as f64)
                .fold(f64::INFINITY, f64::min);
            s += (b - a) / a.max(b);
        }
        s / n as f64
    }

    #[test]
    fn equals_the_brute_force_oracle() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for trial in 0..20 {
            let n = rng.gen_range(3..700);
            let d = rng.gen_range(1..6);
            let k = rng.gen_range(2..5u32);
            let x = Array2::from_shape_fn((n, d), |_| rng.gen_range(-2.0f32..2.0));
            let mut labels: Vec<u32> = (0..n).map(|_| rng.gen_range(0..k)).collect();
            labels[0] = 0;
            labels[1] = 1;
            if trial % 3 == 0 {
                labels[2] = k; // a singleton cluster
            }
            let got = exact(x.view(), &labels).unwrap();
            let want = oracle(&x, &labels);
            assert!((got - want).abs() < 1e-4, "trial {trial}: {got} vs {want}");
        }
    }

    #[test]
    fn undefined_with_one_cluster_and_sampled_above_the_limit() {
        let x = Array2::from_shape_fn((10, 2), |(i, j)| (i + j) as f32);
        assert_eq!(exact(x.view(), &[0; 10]), None);
        let n = EXACT_LIMIT + 10;
        let x = Array2::from_shape_fn((n, 1), |(i, _)| if i % 2 == 0 { 0.0 } else { 5.0 });
        let labels: Vec<Option<u32>> = (0..n).map(|i| Some((i % 2) as u32)).collect();
        let s = silhouette(x.view(), &labels, 1);
        assert!(s.sampled && s.rows == EXACT_LIMIT);
        assert!((s.score.unwrap() - 1.0).abs() < 1e-9);
    }
}
