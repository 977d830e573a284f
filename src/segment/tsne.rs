//! 2-D t-SNE (van der Maaten & Hinton 2008) with the Barnes–Hut gradient (van der Maaten 2014), with
//! scikit-learn's schedule: `3·perplexity` exact nearest neighbours, a per-row binary search of the
//! Gaussian bandwidth, symmetric `P`, PCA initialisation (the first two principal components scaled
//! to standard deviation 1e-4), 250 iterations of early exaggeration 12 with momentum 0.5, then
//! momentum 0.8, learning rate `max(rows / 48, 50)`, adaptive gains, `θ = 0.5`.
//!
//! Why not linfa-tsne (0.8.1): its engine, bhtsne 0.4.1, builds its vantage-point tree with
//! `rand::thread_rng()`, so two runs with the same seed give different maps (on the 200-user Taobao
//! sample the coordinates differ from the first row on), and it runs on one core. Here the
//! neighbours are found exactly (blocks of rows by one matrix product, ties broken by row order), the
//! quadtree is rebuilt in a fixed order and each row's gradient is computed independently in
//! parallel, so the map is identical for any `--threads`. `--tsne-engine linfa` still runs linfa's,
//! for comparison (BENCHMARKS.md).
//!
//! Cost: `rows²·dims` for the neighbours (once), then per iteration `O(rows log rows)`; memory
//! `rows × 3·perplexity` for `P` plus the quadtree.

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

/// Options of one t-SNE run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TsneParams {
    /// Perplexity (effective number of neighbours).
    pub perplexity: f64,
    /// Iterations in all (the first 250 with early exaggeration).
    pub iterations: usize,
    /// Barnes–Hut accuracy (0.5 as scikit-learn).
    pub theta: f64,
}

/// Sparse symmetric affinities: for each row, its neighbours and `p_ij` (summing to 1 overall).
struct Affinities {
    start: Vec<usize>,
    col: Vec<u32>,
    val: Vec<f64>,
}

/// The `k` nearest rows of every row (squared distances, ascending; ties by row index).
fn neighbours(x: ArrayView2<'_, f64>, k: usize) -> Vec<Vec<(f64, u32)>> {
    let norms: Vec<f64> = x.rows().into_iter().map(|r| r.dot(&r)).collect();
    const BLOCK: usize = 256;
    let xt = x.t();
    x.axis_chunks_iter(Axis(0), BLOCK)
        .into_par_iter()
        .enumerate()
        .flat_map_iter(|(b, xb)| {
            let g = xb.dot(&xt);
            let norms = &norms;
            (0..xb.nrows())
                .map(move |r| {
                    let i = b * BLOCK + r;
                    let mut d: Vec<(f64, u32)> = g
                        .row(r)
                        .iter()
                        .enumerate()
                        .filter(|&(j, _)| j != i)
                        .map(|(j, v)| ((norms[i] + norms[j] - 2.0 * v).max(0.0), j as u32))
                        .collect();
                    let cmp =
                        |a: &(f64, u32), b: &(f64, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
                    if d.len() > k {
                        d.select_nth_unstable_by(k, cmp);
                        d.truncate(k);
                    }
                    d.sort_by(cmp);
                    d
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Conditional probabilities of one row with the bandwidth matching `perplexity` (binary search).
fn conditional(d: &[(f64, u32)], perplexity: f64) -> Vec<f64> {
    let target = perplexity.ln();
    let (mut beta, mut lo, mut hi) = (1.0f64, f64::NEG_INFINITY, f64::INFINITY);
    let mut p = vec![0.0; d.len()];
    for _ in 0..100 {
        let mut sum = 0.0;
        for (pj, (dj, _)) in p.iter_mut().zip(d) {
            *pj = (-dj * beta).exp();
            sum += *pj;
        }
        let sum = sum.max(1e-300);
        let mut h = 0.0;
        for (pj, (dj, _)) in p.iter_mut().zip(d) {
            *pj /= sum;
            h += dj * *pj;
        }
        let entropy = sum.ln() + beta * h;
        let diff = entropy - target;
        if diff.abs() <= 1e-5 {
            break;
        }
        if diff > 0.0 {
            lo = beta;
            beta = if hi.is_finite() {
                (beta + hi) / 2.0
            } else {
                beta * 2.0
            };
        } else {
            hi = beta;
            beta = if lo.is_finite() {
                (beta + lo) / 2.0
            } else {
                beta / 2.0
            };
        }
    }
    p
}

fn affinities(x: ArrayView2<'_, f64>, perplexity: f64) -> Affinities {
    let n = x.nrows();
    let k = ((3.0 * perplexity + 1.0) as usize).min(n - 1);
    let nb = neighbours(x, k);
    let cond: Vec<Vec<f64>> = nb.par_iter().map(|d| conditional(d, perplexity)).collect();
    // P + Pᵀ, merged in (row, column) order.
    let mut trip: Vec<(u32, u32, f64)> = Vec::with_capacity(2 * n * k);
    for (i, (d, p)) in nb.iter().zip(&cond).enumerate() {
        for ((_, j), v) in d.iter().zip(p) {
            trip.push((i as u32, *j, *v));
            trip.push((*j, i as u32, *v));
        }
    }
    trip.sort_by_key(|a| (a.0, a.1));
    let mut start = vec![0usize; n + 1];
    let mut col: Vec<u32> = Vec::with_capacity(trip.len());
    let mut val: Vec<f64> = Vec::with_capacity(trip.len());
    let mut prev: Option<(u32, u32)> = None;
    for (i, j, v) in trip {
        if prev == Some((i, j)) {
            if let Some(last) = val.last_mut() {
                *last += v;
            }
            continue;
        }
        prev = Some((i, j));
        start[i as usize + 1] += 1;
        col.push(j);
        val.push(v);
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let sum: f64 = val.iter().sum::<f64>().max(1e-300);
    val.iter_mut().for_each(|v| *v /= sum);
    Affinities { start, col, val }
}

/// A Barnes–Hut quadtree node.
#[derive(Clone, Copy)]
struct Node {
    cx: f64,
    cy: f64,
    /// Half the side of the square cell.
    half: f64,
    /// Centre of mass × count.
    mx: f64,
    my: f64,
    count: u32,
    /// First child index (4 consecutive nodes), 0 = leaf.
    child: u32,
    /// The point of a leaf holding exactly one.
    point: u32,
}

struct QuadTree {
    nodes: Vec<Node>,
}

impl QuadTree {
    fn build(y: &[[f64; 2]]) -> QuadTree {
        let (mut x0, mut x1, mut y0, mut y1) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for p in y {
            x0 = x0.min(p[0]);
            x1 = x1.max(p[0]);
            y0 = y0.min(p[1]);
            y1 = y1.max(p[1]);
        }
        let half = ((x1 - x0).max(y1 - y0) / 2.0).max(1e-12) * (1.0 + 1e-9);
        let mut t = QuadTree {
            nodes: vec![Node {
                cx: (x0 + x1) / 2.0,
                cy: (y0 + y1) / 2.0,
                half,
                mx: 0.0,
                my: 0.0,
                count: 0,
                child: 0,
                point: u32::MAX,
            }],
        };
        for (i, p) in y.iter().enumerate() {
            t.insert(0, i as u32, *p, y, 0);
        }
        t
    }

    fn quadrant(n: &Node, p: [f64; 2]) -> u32 {
        u32::from(p[0] >= n.cx) + 2 * u32::from(p[1] >= n.cy)
    }

    fn split(&mut self, at: usize) {
        let n = self.nodes[at];
        let h = n.half / 2.0;
        let first = self.nodes.len() as u32;
        for q in 0..4u32 {
            let dx = if q & 1 == 1 { h } else { -h };
            let dy = if q & 2 == 2 { h } else { -h };
            self.nodes.push(Node {
                cx: n.cx + dx,
                cy: n.cy + dy,
                half: h,
                mx: 0.0,
                my: 0.0,
                count: 0,
                child: 0,
                point: u32::MAX,
            });
        }
        self.nodes[at].child = first;
    }

    fn insert(&mut self, mut at: usize, i: u32, p: [f64; 2], y: &[[f64; 2]], mut depth: usize) {
        loop {
            let n = &mut self.nodes[at];
            n.mx += p[0];
            n.my += p[1];
            n.count += 1;
            if n.count == 1 && n.child == 0 {
                n.point = i;
                return;
            }
            // Coincident points (or a very deep tree) share a leaf.
            if depth > 60 {
                return;
            }
            if n.child == 0 {
                let old = n.point;
                n.point = u32::MAX;
                self.split(at);
                if old != u32::MAX {
                    let q = Self::quadrant(&self.nodes[at], y[old as usize]);
                    let c = (self.nodes[at].child + q) as usize;
                    let op = y[old as usize];
                    let cn = &mut self.nodes[c];
                    cn.mx += op[0];
                    cn.my += op[1];
                    cn.count += 1;
                    cn.point = old;
                }
            }
            let q = Self::quadrant(&self.nodes[at], p);
            at = (self.nodes[at].child + q) as usize;
            depth += 1;
        }
    }

    /// Repulsive force on point `p` (unnormalised) and its contribution to Z.
    fn repulsion(&self, p: [f64; 2], i: u32, theta: f64) -> (f64, f64, f64) {
        let (mut fx, mut fy, mut z) = (0.0, 0.0, 0.0);
        let mut stack = vec![0usize];
        while let Some(at) = stack.pop() {
            let n = &self.nodes[at];
            if n.count == 0 || (n.child == 0 && n.point == i && n.count == 1) {
                continue;
            }
            let c = f64::from(n.count);
            let (mx, my) = (n.mx / c, n.my / c);
            let (dx, dy) = (p[0] - mx, p[1] - my);
            let d2 = dx * dx + dy * dy;
            if n.child == 0 || (2.0 * n.half) / d2.sqrt() < theta {
                // A leaf holding `i` among coincident points counts the others only.
                let c = if n.child == 0 && d2 == 0.0 && n.point == i {
                    c - 1.0
                } else {
                    c
                };
                let q = 1.0 / (1.0 + d2);
                z += c * q;
                fx += c * q * q * dx;
                fy += c * q * q * dy;
            } else {
                let f = n.child as usize;
                stack.extend([f, f + 1, f + 2, f + 3]);
            }
        }
        (fx, fy, z)
    }
}

/// Embeds the rows of `x` (at least 5) in two dimensions. `x`'s first two columns start the map
/// (they are principal components here; a one-column input starts on a line).
pub fn embed(x: ArrayView2<'_, f64>, p: &TsneParams) -> Array2<f64> {
    let n = x.nrows();
    let aff = affinities(x, p.perplexity);
    // PCA initialisation: first two columns, scaled to standard deviation 1e-4 (scikit-learn).
    let mut y: Vec<[f64; 2]> = (0..n)
        .map(|i| [x[[i, 0]], if x.ncols() > 1 { x[[i, 1]] } else { 0.0 }])
        .collect();
    let mean0 = y.iter().map(|v| v[0]).sum::<f64>() / n as f64;
    let mean1 = y.iter().map(|v| v[1]).sum::<f64>() / n as f64;
    let sd = (y.iter().map(|v| (v[0] - mean0).powi(2)).sum::<f64>() / n as f64)
        .sqrt()
        .max(1e-300);
    for v in &mut y {
        v[0] = (v[0] - mean0) / sd * 1e-4;
        v[1] = (v[1] - mean1) / sd * 1e-4;
    }
    let exaggeration = 12.0;
    let rate = (n as f64 / exaggeration / 4.0).max(50.0);
    let mut update = vec![[0.0f64; 2]; n];
    let mut gains = vec![[1.0f64; 2]; n];
    for it in 0..p.iterations {
        let (exag, momentum) = if it < 250 {
            (exaggeration, 0.5)
        } else {
            (1.0, 0.8)
        };
        let tree = QuadTree::build(&y);
        let rep: Vec<(f64, f64, f64)> = (0..n)
            .into_par_iter()
            .map(|i| tree.repulsion(y[i], i as u32, p.theta))
            .collect();
        let z: f64 = rep.iter().map(|r| r.2).sum::<f64>().max(1e-300);
        let grad: Vec<[f64; 2]> = (0..n)
            .into_par_iter()
            .map(|i| {
                let (mut ax, mut ay) = (0.0, 0.0);
                for e in aff.start[i]..aff.start[i + 1] {
                    let j = aff.col[e] as usize;
                    let (dx, dy) = (y[i][0] - y[j][0], y[i][1] - y[j][1]);
                    let q = 1.0 / (1.0 + dx * dx + dy * dy);
                    ax += exag * aff.val[e] * q * dx;
                    ay += exag * aff.val[e] * q * dy;
                }
                [4.0 * (ax - rep[i].0 / z), 4.0 * (ay - rep[i].1 / z)]
            })
            .collect();
        for i in 0..n {
            for c in 0..2 {
                let g = grad[i][c];
                if update[i][c] * g < 0.0 {
                    gains[i][c] += 0.2;
                } else {
                    gains[i][c] = (gains[i][c] * 0.8).max(0.01);
                }
                update[i][c] = momentum * update[i][c] - rate * gains[i][c] * g;
                y[i][c] += update[i][c];
            }
        }
    }
    Array2::from_shape_fn((n, 2), |(i, c)| y[i][c])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn separates_blobs_and_is_reproducible() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let n = 150;
        let x = Array2::from_shape_fn((n, 5), |(i, j)| {
            let c = (i % 3) as f64 * 20.0 * if j == (i % 3) { 1.0 } else { 0.0 };
            c + rng.gen_range(-1.0..1.0)
        });
        let p = TsneParams {
            perplexity: 20.0,
            iterations: 400,
            theta: 0.5,
        };
        let a = embed(x.view(), &p);
        let b = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap()
            .install(|| embed(x.view(), &p));
        assert_eq!(a, b);
        // Mean distance within a blob is far below the distance between blob centres.
        let centre = |c: usize| {
            let rows: Vec<usize> = (0..n).filter(|i| i % 3 == c).collect();
            let m0 = rows.iter().map(|&i| a[[i, 0]]).sum::<f64>() / rows.len() as f64;
            let m1 = rows.iter().map(|&i| a[[i, 1]]).sum::<f64>() / rows.len() as f64;
            let spread = rows
                .iter()
                .map(|&i| ((a[[i, 0]] - m0).powi(2) + (a[[i, 1]] - m1).powi(2)).sqrt())
                .sum::<f64>()
                / rows.len() as f64;
            (m0, m1, spread)
        };
        let cs: Vec<(f64, f64, f64)> = (0..3).map(centre).collect();
        for a in 0..3 {
            for b in (a + 1)..3 {
                let d = ((cs[a].0 - cs[b].0).powi(2) + (cs[a].1 - cs[b].1).powi(2)).sqrt();
                assert!(d > 2.0 * cs[a].2.max(cs[b].2), "blobs {a} and {b} overlap");
            }
        }
    }

    #[test]
    fn affinities_are_symmetric_and_sum_to_one() {
        let x = Array2::from_shape_fn((40, 3), |(i, j)| ((i * 7 + j * 3) % 11) as f64);
        let a = affinities(x.view(), 5.0);
        let total: f64 = a.val.iter().sum();
        assert!((total - 1.0).abs() < 1e-12);
        for i in 0..40 {
            for e in a.start[i]..a.start[i + 1] {
                let j = a.col[e] as usize;
                let back = (a.start[j]..a.start[j + 1]).find(|&f| a.col[f] as usize == i);
                let back = back.map(|f| a.val[f]).unwrap_or(f64::NAN);
                assert!((back - a.val[e]).abs() < 1e-15);
            }
        }
    }
}
