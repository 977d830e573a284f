//! The prediction form of a tree ensemble: compact nodes walked on binned rows, many rows per tree.
//!
//! A fitted [`Tree`] keeps 24-byte nodes with `f64` thresholds, children anywhere. Predicting 340 k rows
//! with 100 fully grown trees that way is one cache miss per level. [`FlatTrees`] lays every tree out in
//! preorder (the left child is the next node) as 8-byte nodes — right child `u32`, feature `u16`,
//! threshold *bin* `i16` — and bins each row once: the cut points of feature `j` are the distinct
//! thresholds of every split on `j` in the ensemble, and a value `x` falls in bin `#{cuts < x}` (NaN in
//! the last bin). Then `x ≤ cuts[b]` exactly when `bin(x) ≤ b`, so the walk takes the same branch as on
//! raw values (NaN still goes right) and the leaves, hence the predictions, are bit-identical.
//!
//! Rows are predicted in blocks: the block's bins are computed once, then each tree is walked by all the
//! block's rows, eight at a time in lockstep (independent loads, so their cache misses overlap), and each
//! row adds its leaf's values in tree order — the same order and arithmetic as the plain walk.
//!
//! Cost: building is O(nodes + distinct thresholds · log); memory 8 bytes per node plus the cut points.
//! Ensembles it cannot represent (over 65 535 features, over 32 767 distinct thresholds on one feature, a
//! NaN threshold, a shared subtree in a hand-made file) are left to the plain walk.

use std::sync::OnceLock;

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::tree::{Tree, LEAF};

/// One node: a split (`bin ≥ 0`: go left to the next node when the row's bin of `feature` is at most
/// `bin`, else to `right`) or a leaf (`bin = −1`, `right` = its value block in the tree).
#[derive(Clone, Copy, Debug)]
#[repr(C)]
struct FlatNode {
    right: u32,
    feature: u16,
    bin: i16,
}

/// Every tree of an ensemble in prediction form (see the module documentation).
#[derive(Debug)]
pub struct FlatTrees {
    /// Per feature, the distinct split thresholds, ascending.
    cuts: Vec<Vec<f64>>,
    /// Nodes of all trees, each tree in preorder.
    nodes: Vec<FlatNode>,
    /// Index of each tree's root in `nodes`.
    roots: Vec<u32>,
}

/// Rows binned and walked together.
const BLOCK: usize = 2048;
/// Rows walked in lockstep.
const LANES: usize = 8;

impl FlatTrees {
    /// The prediction form of `trees` over `n_features` features, or `None` when it cannot represent
    /// them (see the module documentation).
    pub fn new(trees: &[Tree], n_features: usize) -> Option<FlatTrees> {
        if n_features == 0 || n_features > u16::MAX as usize {
            return None;
        }
        let mut cuts: Vec<Vec<f64>> = vec![Vec::new(); n_features];
        for t in trees {
            for n in t.nodes.iter().filter(|n| n.feature != LEAF) {
                if n.threshold.is_nan() {
                    return None;
                }
                cuts.get_mut(n.feature as usize)?.push(n.threshold);
            }
        }
        for c in &mut cuts {
            c.sort_unstable_by(f64::total_cmp);
            c.dedup_by(|a, b| a == b);
            if c.len() > i16::MAX as usize - 1 {
                return None;
            }
        }
        let total: usize = trees.iter().map(|t| t.nodes.len()).sum();
        if total > u32::MAX as usize {
            return None;
        }
        let mut nodes = Vec::with_capacity(total);
        let mut roots = Vec::with_capacity(trees.len());
        // (node in the fitted tree, flat parent whose right child it is)
        let mut stack: Vec<(usize, Option<usize>)> = Vec::new();
        for t in trees {
            let start = nodes.len();
            roots.push(start as u32);
            stack.push((0, None));
            while let Some((old, parent)) = stack.pop() {
                if nodes.len() - start >= t.nodes.len() {
                    return None; // a subtree reached twice: not a tree
                }
                let me = nodes.len();
                if let Some(p) = parent {
                    let p: &mut FlatNode = &mut nodes[p];
                    p.right = me as u32;
                }
                let n = t.nodes.get(old)?;
                if n.feature == LEAF {
                    nodes.push(FlatNode {
                        right: n.left,
                        feature: 0,
                        bin: -1,
                    });
                    continue;
                }
                let c = &cuts[n.feature as usize];
                let bin = c.partition_point(|&x| x < n.threshold);
                nodes.push(FlatNode {
                    right: 0,
                    feature: n.feature as u16,
                    bin: bin as i16,
                });
                stack.push((n.right as usize, Some(me)));
                stack.push((n.left as usize, None));
            }
        }
        Some(FlatTrees { cuts, nodes, roots })
    }

    /// Bin of value `v` of feature `j`.
    #[inline]
    fn bin(&self, j: usize, v: f64) -> u16 {
        let c = &self.cuts[j];
        if v.is_nan() {
            c.len() as u16
        } else {
            c.partition_point(|&t| t < v) as u16
        }
    }

    /// Adds to each row of `out` the values of the leaves its row of `x` reaches in every tree, tree by
    /// tree (`trees` are the ones this was built from; `out` has one column per leaf value).
    pub fn add_leaf_values(&self, trees: &[Tree], x: ArrayView2<f64>, mut out: ArrayViewMut2<f64>) {
        let (n, d) = x.dim();
        let k = out.ncols();
        let mut bins = vec![0u16; BLOCK.min(n) * d];
        for start in (0..n).step_by(BLOCK) {
            let rows = BLOCK.min(n - start);
            for r in 0..rows {
                let xr = x.row(start + r);
                for (j, b) in bins[r * d..(r + 1) * d].iter_mut().enumerate() {
                    *b = self.bin(j, xr[j]);
                }
            }
            for (t, tree) in trees.iter().enumerate() {
                let root = self.roots[t] as usize;
                for g in (0..rows).step_by(LANES) {
                    let m = LANES.min(rows - g);
                    let leaves = self.walk(root, &bins[g * d..(g + m) * d], d, m);
                    for (l, &leaf) in leaves[..m].iter().enumerate() {
                        let v = &tree.values[leaf as usize * k..(leaf as usize + 1) * k];
                        let mut o = out.row_mut(start + g + l);
                        for (o, x) in o.iter_mut().zip(v) {
                            *o += x;
                        }
                    }
                }
            }
        }
    }

    /// Walks `m ≤ LANES` binned rows (`d` bins each) down the tree at `root` in lockstep; returns
    /// each row's leaf value block.
    #[inline]
    fn walk(&self, root: usize, bins: &[u16], d: usize, m: usize) -> [u32; LANES] {
        let nodes = &self.nodes[..];
        let mut pos = [root; LANES];
        loop {
            let mut moving = false;
            for l in 0..m {
                let p = pos[l];
                let node = nodes[p];
                let split = node.bin >= 0;
                let b = bins[l * d + node.feature as usize] as i32;
                let next = if b <= node.bin as i32 {
                    p + 1
                } else {
                    node.right as usize
                };
                pos[l] = if split { next } else { p };
                moving |= split;
            }
            if !moving {
                break;
            }
        }
        let mut leaves = [0u32; LANES];
        for l in 0..m {
            leaves[l] = nodes[pos[l]].right;
        }
        leaves
    }
}

/// A [`FlatTrees`] built on first use and kept beside a fitted model; not saved, not compared, not
/// cloned (a clone builds its own). The model's trees must not change once it has predicted.
#[derive(Default)]
pub struct FlatCache(OnceLock<Option<FlatTrees>>);

impl FlatCache {
    /// The prediction form of `trees`, built on the first call (`None`: use the plain walk).
    pub fn get(&self, trees: &[Tree], n_features: usize) -> Option<&FlatTrees> {
        self.0
            .get_or_init(|| FlatTrees::new(trees, n_features))
            .as_ref()
    }
}

impl Clone for FlatCache {
    fn clone(&self) -> Self {
        FlatCache::default()
    }
}

impl PartialEq for FlatCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for FlatCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FlatCache")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Node;
    use ndarray::{array, Array2};

    fn split(feature: u32, threshold: f64, left: u32, right: u32) -> Node {
        Node {
            feature,
            threshold,
            left,
            right,
        }
    }

    fn leaf(block: u32) -> Node {
        split(LEAF, 0.0, block, 0)
    }

    /// The plain walk: what the flat form must reproduce bit for bit.
    fn plain(trees: &[Tree], x: &Array2<f64>, k: usize) -> Array2<f64> {
        let mut out = Array2::zeros((x.nrows(), k));
        for t in trees {
            for (i, row) in x.rows().into_iter().enumerate() {
                for (o, v) in out.row_mut(i).iter_mut().zip(t.value(row)) {
                    *o += v;
                }
            }
        }
        out
    }

    #[test]
    fn same_leaves_as_raw_thresholds_with_ties_nan_and_signed_zero() {
        // Children stored out of preorder (right before left), shared thresholds across trees, a value
        // equal to a threshold, NaN (goes right), −0.0 against a 0.0 threshold (goes left).
        let t1 = Tree {
            nodes: vec![
                split(0, 0.0, 2, 1),
                split(1, 2.5, 3, 4),
                leaf(0),
                leaf(1),
                leaf(2),
            ],
            values: vec![0.1, 0.9, 0.4, 0.6, 0.7, 0.3],
            n_outputs: 2,
        };
        let t2 = Tree {
            nodes: vec![
                split(1, 2.5, 1, 2),
                leaf(1),
                split(0, -1.0, 3, 4),
                leaf(0),
                leaf(2),
            ],
            values: vec![0.25, 0.75, 0.5, 0.5, 1.0, 0.0],
            n_outputs: 2,
        };
        let trees = vec![t1, t2];
        let x = array![
            [0.0, 2.5],
            [-0.0, 3.0],
            [f64::NAN, 1.0],
            [0.5, f64::NAN],
            [-1.0, 2.4999],
            [-2.0, 2.5000001],
            [f64::INFINITY, f64::NEG_INFINITY],
        ];
        let flat = FlatTrees::new(&trees, 2).unwrap();
        let mut got = Array2::zeros((x.nrows(), 2));
        flat.add_leaf_values(&trees, x.view(), got.view_mut());
        let want = plain(&trees, &x, 2);
        for (a, b) in got.iter().zip(want.iter()) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
    }

    #[test]
    fn refuses_what_it_cannot_represent() {
        let nan = Tree {
            nodes: vec![split(0, f64::NAN, 1, 2), leaf(0), leaf(1)],
            values: vec![0.0, 1.0],
            n_outputs: 1,
        };
        assert!(FlatTrees::new(&[nan], 1).is_none());
        // Both children of the root are the same subtree.
        let shared = Tree {
            nodes: vec![split(0, 1.0, 1, 1), leaf(0)],
            values: vec![0.0],
            n_outputs: 1,
        };
        assert!(FlatTrees::new(&[shared], 1).is_none());
    }
}
