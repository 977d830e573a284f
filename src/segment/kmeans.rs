//! k-means: Lloyd's algorithm (Lloyd 1982) from a greedy k-means++ start (Arthur & Vassilvitskii 2007;
//! `2 + ⌊ln k⌋` candidates per centre, the best kept, as scikit-learn), seeded.
//!
//! Why not `linfa_clustering::KMeans` (0.8.1) as the default engine: its update step is "m_k-means"
//! (the old centroid counts as one more member of its cluster, so centres lag behind the cluster
//! means and it stops at a different, usually worse, point than Lloyd), the inertia it reports is
//! measured against the centres of the previous iteration, it runs 10 restarts by default, and every
//! distance is computed point by point. This file keeps Lloyd's exact fixed point and computes the
//! point–centre distances of a block of rows with one matrix product (`‖x‖² + ‖c‖² − 2·x·cᵀ`).
//! `--kmeans-engine linfa` runs linfa's instead, for comparison (BENCHMARKS.md has both).
//!
//! Stopping rule as scikit-learn's: the labels do not change, or the squared centre shift summed over
//! centres is at most `tol × mean column variance`; then a last assignment makes labels and centres
//! agree. An empty cluster takes the point farthest from its centre.
//!
//! Determinism: rows are processed in fixed chunks of [`CHUNK`] rows whose partial sums are added in
//! chunk order, so the result is identical for any number of threads. Cost per iteration: `n·k·d`
//! multiply-adds; memory: the labels and one distance per row, besides the input (f32).

use ndarray::{Array2, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::scale::{column_sums, CHUNK};

/// Options of one k-means fit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KMeansParams {
    /// Number of clusters (≥ 1, ≤ rows).
    pub k: usize,
    /// Seed of the k-means++ start.
    pub seed: u64,
    /// Most Lloyd iterations.
    pub max_iter: usize,
    /// Relative tolerance on the centre shift.
    pub tol: f64,
}

impl KMeansParams {
    /// `k` clusters with scikit-learn's defaults (300 iterations, tolerance 1e-4).
    pub fn new(k: usize, seed: u64) -> Self {
        KMeansParams {
            k,
            seed,
            max_iter: 300,
            tol: 1e-4,
        }
    }
}

/// A fitted k-means.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KMeansFit {
    /// Centres, one row per cluster.
    pub centroids: Array2<f64>,
    /// Cluster of each fitted row.
    #[serde(skip)]
    pub labels: Vec<u32>,
    /// Sum of squared distances of the rows to their centres.
    pub inertia: f64,
    /// Lloyd iterations run.
    pub n_iter: usize,
}

/// Squared distances of the rows of `x` (squared norms `x_norm`) to the rows of `c` (`rows ×
/// centres`), by one product.
fn sq_dists(
    x: ArrayView2<'_, f32>,
    x_norm: &[f32],
    c: &Array2<f32>,
    c_norm: &[f32],
) -> Array2<f32> {
    let mut d = x.dot(&c.t());
    for (row, xn) in d.rows_mut().into_iter().zip(x_norm) {
        for (v, cn) in row.into_iter().zip(c_norm) {
            *v = (xn + cn - 2.0 * *v).max(0.0);
        }
    }
    d
}

/// Index of the smallest value (ties: the first).
fn argmin(row: ndarray::ArrayView1<'_, f32>) -> usize {
    let mut best = 0;
    for (j, v) in row.iter().enumerate() {
        if *v < row[best] {
            best = j;
        }
    }
    best
}

/// Squared norm of every row.
fn row_norms(x: ArrayView2<'_, f32>) -> Vec<f32> {
    let mut out = vec![0f32; x.nrows()];
    out.par_chunks_mut(CHUNK)
        .zip(x.axis_chunks_iter(Axis(0), CHUNK).into_par_iter())
        .for_each(|(o, xc)| {
            for (v, r) in o.iter_mut().zip(xc.rows()) {
                *v = r.iter().map(|a| a * a).sum();
            }
        });
    out
}

/// One pass over the rows: each row's nearest centre and squared distance, and the per-centre sums
/// and counts of the rows (f64; fixed chunks added in order).
fn assign_sums(
    x: ArrayView2<'_, f32>,
    x_norm: &[f32],
    centroids: &Array2<f64>,
) -> (Vec<u32>, Vec<f32>, Array2<f64>, Vec<u64>) {
    let (k, d) = centroids.dim();
    let c = centroids.mapv(|v| v as f32);
    let cn = norms(&c);
    let n = x.nrows();
    let mut labels = vec![0u32; n];
    let mut dist = vec![0f32; n];
    let parts: Vec<(Array2<f64>, Vec<u64>)> = labels
        .par_chunks_mut(CHUNK)
        .zip(dist.par_chunks_mut(CHUNK))
        .zip(x.axis_chunks_iter(Axis(0), CHUNK).into_par_iter())
        .zip(x_norm.par_chunks(CHUNK))
        .map(|(((l, dd), xc), xn)| {
            let dm = sq_dists(xc, xn, &c, &cn);
            let mut s = Array2::<f64>::zeros((k, d));
            let mut cnt = vec![0u64; k];
            for (i, (row, xr)) in dm.rows().into_iter().zip(xc.rows()).enumerate() {
                let best = argmin(row.view());
                l[i] = best as u32;
                dd[i] = row[best];
                cnt[best] += 1;
                let mut sr = s.row_mut(best);
                for (a, b) in sr.iter_mut().zip(xr) {
                    *a += f64::from(*b);
                }
            }
            (s, cnt)
        })
        .collect();
    let (sum, count) = add_parts(parts, k, d);
    (labels, dist, sum, count)
}

fn norms(c: &Array2<f32>) -> Vec<f32> {
    c.rows()
        .into_iter()
        .map(|r| r.iter().map(|v| v * v).sum())
        .collect()
}

/// Nearest centre of every row and its squared distance (parallel over fixed chunks).
pub fn assign(x: ArrayView2<'_, f32>, centroids: &Array2<f64>) -> (Vec<u32>, Vec<f32>) {
    let c = centroids.mapv(|v| v as f32);
    let cn = norms(&c);
    let n = x.nrows();
    let mut labels = vec![0u32; n];
    let mut dist = vec![0f32; n];
    labels
        .par_chunks_mut(CHUNK)
        .zip(dist.par_chunks_mut(CHUNK))
        .zip(x.axis_chunks_iter(Axis(0), CHUNK).into_par_iter())
        .for_each(|((l, dd), xc)| {
            let xn = row_norms(xc);
            let d = sq_dists(xc, &xn, &c, &cn);
            for (i, row) in d.rows().into_iter().enumerate() {
                let best = argmin(row.view());
                l[i] = best as u32;
                dd[i] = row[best];
            }
        });
    (labels, dist)
}

/// Squared distances of every row to each of a few centres (`rows × centres`), with each row's
/// nearest centre and distance.
fn dists_to(
    x: ArrayView2<'_, f32>,
    x_norm: &[f32],
    centres: &Array2<f64>,
) -> (Vec<u32>, Vec<f32>, Array2<f32>) {
    let c = centres.mapv(|v| v as f32);
    let cn = norms(&c);
    let m = c.nrows();
    let mut all = Array2::<f32>::zeros((x.nrows(), m));
    all.axis_chunks_iter_mut(Axis(0), CHUNK)
        .into_par_iter()
        .zip(x.axis_chunks_iter(Axis(0), CHUNK).into_par_iter())
        .zip(x_norm.par_chunks(CHUNK))
        .for_each(|((mut o, xc), xn)| o.assign(&sq_dists(xc, xn, &c, &cn)));
    let mut near = Vec::with_capacity(x.nrows());
    let mut best = Vec::with_capacity(x.nrows());
    for row in all.rows() {
        let b = argmin(row.view());
        near.push(b as u32);
        best.push(row[b]);
    }
    (near, best, all)
}

/// Exact sum of squared distances of the rows to their centres, in f64.
pub fn inertia(x: ArrayView2<'_, f32>, centroids: &Array2<f64>, labels: &[u32]) -> f64 {
    let parts: Vec<f64> = x
        .axis_chunks_iter(Axis(0), CHUNK)
        .into_par_iter()
        .zip(labels.par_chunks(CHUNK))
        .map(|(xc, l)| {
            let mut s = 0.0;
            for (row, &c) in xc.rows().into_iter().zip(l) {
                let cr = centroids.row(c as usize);
                for (a, b) in row.iter().zip(cr) {
                    let e = f64::from(*a) - b;
                    s += e * e;
                }
            }
            s
        })
        .collect();
    parts.iter().sum()
}

/// Cluster means of `labels` (a cluster with no row keeps `fallback`'s row), and the cluster sizes
/// (the tests' independent check of the fused pass).
#[cfg(test)]
fn means(
    x: ArrayView2<'_, f32>,
    labels: &[u32],
    fallback: &Array2<f64>,
) -> (Array2<f64>, Vec<u64>) {
    let (k, d) = fallback.dim();
    let parts: Vec<(Array2<f64>, Vec<u64>)> = x
        .axis_chunks_iter(Axis(0), CHUNK)
        .into_par_iter()
        .zip(labels.par_chunks(CHUNK))
        .map(|(xc, l)| {
            let mut s = Array2::<f64>::zeros((k, d));
            let mut cnt = vec![0u64; k];
            for (row, &c) in xc.rows().into_iter().zip(l) {
                let mut sr = s.row_mut(c as usize);
                for (a, b) in sr.iter_mut().zip(row) {
                    *a += f64::from(*b);
                }
                cnt[c as usize] += 1;
            }
            (s, cnt)
        })
        .collect();
    let (mut sum, count) = add_parts(parts, k, d);
    for (c, &cnt) in count.iter().enumerate() {
        if cnt > 0 {
            let m = sum.row(c).mapv(|v| v / cnt as f64);
            sum.row_mut(c).assign(&m);
        } else {
            sum.row_mut(c).assign(&fallback.row(c));
        }
    }
    (sum, count)
}

/// Greedy k-means++: the first centre uniformly, each next one the best (lowest potential) of
/// `2 + ⌊ln k⌋` candidates drawn with probability proportional to the squared distance to the
/// nearest centre so far.
pub fn plus_plus(
    x: ArrayView2<'_, f32>,
    x_norm: &[f32],
    k: usize,
    rng: &mut ChaCha8Rng,
) -> Array2<f64> {
    let (n, d) = x.dim();
    let trials = 2 + (k as f64).ln().floor() as usize;
    let mut centres = Array2::<f64>::zeros((k, d));
    let first = rng.gen_range(0..n);
    centres.row_mut(0).assign(&x.row(first).mapv(f64::from));
    let one = x.row(first).mapv(f64::from).insert_axis(Axis(0));
    let (_, mut closest, _) = dists_to(x, x_norm, &one);
    let mut pot: f64 = closest.iter().map(|v| f64::from(*v)).sum();
    for c in 1..k {
        // Cumulative distances for sampling (sequential: a fixed order).
        let mut cum = Vec::with_capacity(n);
        let mut acc = 0.0f64;
        for v in &closest {
            acc += f64::from(*v);
            cum.push(acc);
        }
        // All candidates of this step measured in one pass over the rows.
        let cands: Vec<usize> = (0..trials)
            .map(|_| {
                let r = rng.gen::<f64>() * pot;
                cum.partition_point(|v| *v <= r).min(n - 1)
            })
            .collect();
        let cm = x.select(Axis(0), &cands).mapv(f64::from);
        let (_, _, dc) = dists_to(x, x_norm, &cm);
        let mut best: Option<(f64, usize, Vec<f32>)> = None;
        for (t, &cand) in cands.iter().enumerate() {
            let new: Vec<f32> = closest
                .iter()
                .zip(dc.column(t))
                .map(|(a, b)| a.min(*b))
                .collect();
            let p: f64 = new.iter().map(|v| f64::from(*v)).sum();
            if best.as_ref().map_or(true, |b| p < b.0) {
                best = Some((p, cand, new));
            }
        }
        if let Some((p, cand, new)) = best {
            centres.row_mut(c).assign(&x.row(cand).mapv(f64::from));
            closest = new;
            pot = p;
        }
    }
    centres
}

/// Fits k-means on `x` (`rows ≥ k ≥ 1`, checked by the caller).
pub fn fit(x: ArrayView2<'_, f32>, p: &KMeansParams) -> KMeansFit {
    let n = x.nrows().max(1) as f64;
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let x_norm = row_norms(x);
    let mut centres = plus_plus(x, &x_norm, p.k, &mut rng);
    // Absolute tolerance: tol × mean column variance (scikit-learn's `_tolerance`).
    let mean: Vec<f64> = column_sums(x, |_, v| f64::from(v))
        .into_iter()
        .map(|s| s / n)
        .collect();
    let var = column_sums(x, |j, v| (f64::from(v) - mean[j]).powi(2));
    let tol = p.tol * var.iter().map(|s| s / n).sum::<f64>() / var.len().max(1) as f64;
    let mut prev: Option<Vec<u32>> = None;
    let mut n_iter = 0;
    let mut labels;
    loop {
        let (l, dist, sum, count) = assign_sums(x, &x_norm, &centres);
        labels = l;
        if prev.as_ref() == Some(&labels) || n_iter == p.max_iter {
            break;
        }
        n_iter += 1;
        let mut new = sum;
        for (c, &cnt) in count.iter().enumerate() {
            if cnt > 0 {
                new.row_mut(c).mapv_inplace(|v| v / cnt as f64);
            } else {
                new.row_mut(c).assign(&centres.row(c));
            }
        }
        relocate_empty(x, &mut new, &count, &dist);
        let shift: f64 = (&new - &centres).mapv(|v| v * v).sum();
        centres = new;
        if shift <= tol {
            labels = assign_sums(x, &x_norm, &centres).0;
            break;
        }
        prev = Some(labels);
    }
    let inertia = inertia(x, &centres, &labels);
    KMeansFit {
        centroids: centres,
        labels,
        inertia,
        n_iter,
    }
}

/// Moves each empty cluster's centre to the row farthest from its own centre (ties: the first row),
/// a different row for each empty cluster.
fn relocate_empty(x: ArrayView2<'_, f32>, centres: &mut Array2<f64>, count: &[u64], dist: &[f32]) {
    let empty: Vec<usize> = (0..count.len()).filter(|&c| count[c] == 0).collect();
    if empty.is_empty() {
        return;
    }
    let mut order: Vec<usize> = (0..dist.len()).collect();
    order.sort_by(|&a, &b| dist[b].total_cmp(&dist[a]).then(a.cmp(&b)));
    for (c, &i) in empty.iter().zip(&order) {
        centres.row_mut(*c).assign(&x.row(i).mapv(f64::from));
    }
}

/// linfa-clustering's k-means (k-means++ start, one run, tolerance 1e-4, 300 iterations), for
/// comparison; labels are its nearest centres and the inertia is recomputed exactly.
pub fn fit_linfa(x: ArrayView2<'_, f32>, p: &KMeansParams) -> anyhow::Result<KMeansFit> {
    use linfa::traits::{Fit, Predict};
    use linfa_clustering::{KMeans, KMeansInit};
    let ds = linfa::DatasetBase::from(x.mapv(f64::from));
    let model = KMeans::params_with_rng(p.k, ChaCha8Rng::seed_from_u64(p.seed))
        .n_runs(1)
        .init_method(KMeansInit::KMeansPlusPlus)
        .tolerance(1e-4)
        .max_n_iterations(p.max_iter as u64)
        .fit(&ds)
        .map_err(|e| anyhow::anyhow!("linfa k-means: {e}"))?;
    let labels: Vec<u32> = model
        .predict(ds.records())
        .iter()
        .map(|&l| l as u32)
        .collect();
    let centroids = model.centroids().clone();
    let inertia = inertia(x, &centroids, &labels);
    Ok(KMeansFit {
        centroids,
        labels,
        inertia,
        n_iter: 0,
    })
}

/// Adds the per-chunk (coordinate sums, counts) of every cluster in chunk order, so the totals do not
/// depend on the thread count.
fn add_parts(parts: Vec<(Array2<f64>, Vec<u64>)>, k: usize, d: usize) -> (Array2<f64>, Vec<u64>) {
    let mut sum = Array2::<f64>::zeros((k, d));
    let mut count = vec![0u64; k];
    for (s, c) in parts {
        sum += &s;
        for (a, b) in count.iter_mut().zip(c) {
            *a += b;
        }
    }
    (sum, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs(per: usize, seed: u64) -> Array2<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let centres = [(0.0f32, 0.0f32), (10.0, 0.0), (0.0, 10.0)];
        let mut x = Array2::<f32>::zeros((3 * per, 2));
        for (c, (a, b)) in centres.iter().enumerate() {
            for i in 0..per {
                x[[c * per + i, 0]] = a + rng.gen_range(-1.0..1.0);
                x[[c * per + i, 1]] = b + rng.gen_range(-1.0..1.0);
            }
        }
        x
    }

    #[test]
    fn finds_separated_blobs_and_is_a_lloyd_fixed_point() {
        let x = blobs(200, 7);
        let f = fit(x.view(), &KMeansParams::new(3, 1));
        // Each blob is one cluster.
        for c in 0..3 {
            let l = f.labels[c * 200];
            assert!(f.labels[c * 200..(c + 1) * 200].iter().all(|&v| v == l));
        }
        // Centres are the means of their rows, and each row is nearest to its own centre.
        let (m, _) = means(x.view(), &f.labels, &f.centroids);
        assert!((&m - &f.centroids).mapv(f64::abs).sum() < 1e-3);
        let (l, _) = assign(x.view(), &f.centroids);
        assert_eq!(l, f.labels);
        assert!((f.inertia - inertia(x.view(), &f.centroids, &f.labels)).abs() < 1e-9);
    }

    #[test]
    fn same_result_for_any_thread_count() {
        let x = blobs(3 * CHUNK / 2, 3);
        let run = |t| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
                .install(|| fit(x.view(), &KMeansParams::new(4, 9)))
        };
        assert_eq!(run(1), run(3));
    }
}
