//! The prediction form of a tree ensemble: compact nodes walked on binned rows, many rows per tree.
//!
//! A fitted [`Tree`] keeps 24-byte nodes with `f64` thresholds, children anywhere, and its leaf values in
//! a separate array. Predicting 340 k rows with 100 fully grown trees that way is one cache miss per level
//! and one more for the leaf. [`FlatTrees`] lays every tree out in preorder (the left child is the next
//! node) as 8-byte words — right child `u32`, feature `u16`, threshold *bin* `i16` — with each leaf's
//! values (`f64` bits) stored right after the leaf's word, so the leaf and its values share a cache line.
//! Each row is binned once: the cut points of feature `j` are the distinct thresholds of every split on
//! `j` in the ensemble, and a value `x` falls in bin `#{cuts < x}` (NaN in the last bin). Then
//! `x ≤ cuts[b]` exactly when `bin(x) ≤ b`, so the walk takes the same branch as on raw values (NaN
//! still goes right) and the leaves, hence the predictions, are bit-identical. The bins are bytes when
//! every feature has at most 255 cut points (always so for a forest fitted here: its splits come from
//! one 255-bin mapper), else `u16`.
//!
//! Rows are predicted in blocks: the block's bins are computed once, then each tree is walked by all the
//! block's rows through `LANES` independent lanes (their cache misses overlap); a lane that reaches a
//! leaf adds the leaf's values to its row and takes the next row of the block, so no lane idles while
//! another finishes a deeper path. Each row adds its leaves' values in tree order — the same order and
//! arithmetic as the plain walk.
//!
//! Cost: building is O(nodes + distinct thresholds · log); memory 8 bytes per split, 8 · (1 + outputs)
//! per leaf, plus the cut points. Ensembles it cannot represent (over 65 535 features, over 32 767
//! distinct thresholds on one feature, a NaN threshold, a shared subtree in a hand-made file, trees with
//! different numbers of outputs) are left to the plain walk.

use std::sync::OnceLock;

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::tree::{Tree, LEAF};

/// Node word of a split: go left (to the next word) when the row's bin of `feature` is at most `bin`,
/// else to `right`.
#[inline]
fn split_word(right: u32, feature: u16, bin: u16) -> u64 {
    u64::from(right) | u64::from(feature) << 32 | u64::from(bin) << 48
}

/// Node word of a leaf: the top bit set; its values follow.
const LEAF_WORD: u64 = 1 << 63;

/// Every tree of an ensemble in prediction form (see the module documentation).
#[derive(Debug)]
pub struct FlatTrees {
    /// Per feature, the distinct split thresholds, ascending.
    cuts: Vec<Vec<f64>>,
    /// Node words of all trees, each tree in preorder, every leaf followed by its values.
    nodes: Vec<u64>,
    /// Index of each tree's root in `nodes`.
    roots: Vec<u32>,
    /// Values per leaf.
    n_outputs: usize,
    /// Every bin fits a byte.
    narrow: bool,
}

/// Rows binned and walked together (their bins: `BLOCK · d` bytes).
const BLOCK: usize = 8192;
/// Rows walked at once.
const LANES: usize = 16;

impl FlatTrees {
    /// The prediction form of `trees` over `n_features` features, or `None` when it cannot represent
    /// them (see the module documentation).
    pub fn new(trees: &[Tree], n_features: usize) -> Option<FlatTrees> {
        if n_features == 0 || n_features > u16::MAX as usize {
            return None;
        }
        let k = trees.first()?.n_outputs;
        if k == 0 || trees.iter().any(|t| t.n_outputs != k) {
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
        let narrow = cuts.iter().all(|c| c.len() <= u8::MAX as usize);
        let total: usize = trees.iter().map(|t| t.nodes.len() + t.values.len()).sum();
        if total > u32::MAX as usize {
            return None;
        }
        let mut nodes: Vec<u64> = Vec::with_capacity(total);
        let mut roots = Vec::with_capacity(trees.len());
        // (node in the fitted tree, flat parent whose right child it is)
        let mut stack: Vec<(usize, Option<usize>)> = Vec::new();
        for t in trees {
            roots.push(nodes.len() as u32);
            let mut seen = 0usize;
            stack.push((0, None));
            while let Some((old, parent)) = stack.pop() {
                seen += 1;
                if seen > t.nodes.len() {
                    return None; // a subtree reached twice: not a tree
                }
                let me = nodes.len();
                if let Some(p) = parent {
                    nodes[p] |= me as u64;
                }
                let n = t.nodes.get(old)?;
                if n.feature == LEAF {
                    let v = t
                        .values
                        .get(n.left as usize * k..(n.left as usize + 1) * k)?;
                    nodes.push(LEAF_WORD);
                    nodes.extend(v.iter().map(|x| x.to_bits()));
                    continue;
                }
                let c = &cuts[n.feature as usize];
                let bin = c.partition_point(|&x| x < n.threshold);
                nodes.push(split_word(0, n.feature as u16, bin as u16));
                stack.push((n.right as usize, Some(me)));
                stack.push((n.left as usize, None));
            }
        }
        Some(FlatTrees {
            cuts,
            nodes,
            roots,
            n_outputs: k,
            narrow,
        })
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
    /// tree (`out` has one column per leaf value).
    pub fn add_leaf_values(&self, x: ArrayView2<f64>, out: ArrayViewMut2<f64>) {
        if self.narrow {
            self.add_binned::<u8>(x, out);
        } else {
            self.add_binned::<u16>(x, out);
        }
    }

    /// [`Self::add_leaf_values`] with bins of type `B` (`u8` or `u16`; every bin fits `B`).
    fn add_binned<B: Copy + Default + Into<usize> + TryFrom<u16>>(
        &self,
        x: ArrayView2<f64>,
        mut out: ArrayViewMut2<f64>,
    ) {
        let (n, d) = x.dim();
        let k = self.n_outputs;
        assert_eq!(out.ncols(), k, "one output column per leaf value");
        let mut bins = vec![B::default(); BLOCK.min(n) * d];
        let mut acc = vec![0.0f64; BLOCK.min(n) * k];
        for start in (0..n).step_by(BLOCK) {
            let rows = BLOCK.min(n - start);
            for r in 0..rows {
                let xr = x.row(start + r);
                for (j, b) in bins[r * d..(r + 1) * d].iter_mut().enumerate() {
                    *b = B::try_from(self.bin(j, xr[j])).unwrap_or_default();
                }
                for (a, o) in acc[r * k..(r + 1) * k].iter_mut().zip(out.row(start + r)) {
                    *a = *o;
                }
            }
            for &root in &self.roots {
                self.walk(root as usize, &bins[..rows * d], d, &mut acc[..rows * k]);
            }
            for r in 0..rows {
                for (o, a) in out
                    .row_mut(start + r)
                    .iter_mut()
                    .zip(&acc[r * k..(r + 1) * k])
                {
                    *o = *a;
                }
            }
        }
    }

    /// Walks every binned row (`d` bins each) down the tree at `root`, [`LANES`] rows at a time, and
    /// adds each row's leaf values to its block of `acc`.
    #[inline]
    fn walk<B: Copy + Into<usize>>(&self, root: usize, bins: &[B], d: usize, acc: &mut [f64]) {
        let nodes = &self.nodes[..];
        let k = self.n_outputs;
        let rows = bins.len() / d;
        let lanes = LANES.min(rows);
        // Lane l walks row `row[l]` (usize::MAX once the block is done) and stands at `pos[l]`.
        let mut pos = [root; LANES];
        let mut row = [usize::MAX; LANES];
        for (l, r) in row[..lanes].iter_mut().enumerate() {
            *r = l;
        }
        let mut next = lanes;
        let mut live = lanes;
        while live > 0 {
            for l in 0..lanes {
                let r = row[l];
                if r == usize::MAX {
                    continue;
                }
                let p = pos[l];
                let w = nodes[p];
                if w & LEAF_WORD == 0 {
                    let b: usize = bins[r * d + (w >> 32) as u16 as usize].into();
                    pos[l] = if b <= (w >> 48) as usize {
                        p + 1
                    } else {
                        w as u32 as usize
                    };
                    continue;
                }
                for (a, v) in acc[r * k..(r + 1) * k]
                    .iter_mut()
                    .zip(&nodes[p + 1..p + 1 + k])
                {
                    *a += f64::from_bits(*v);
                }
                if next < rows {
                    row[l] = next;
                    pos[l] = root;
                    next += 1;
                } else {
                    row[l] = usize::MAX;
                    live -= 1;
                }
            }
        }
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
        flat.add_leaf_values(x.view(), got.view_mut());
        let want = plain(&trees, &x, 2);
        for (a, b) in got.iter().zip(want.iter()) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
    }

    /// A random tree over two features, thresholds drawn from `grid` (up to `depth` levels).
    fn random_tree(rng: &mut impl rand::Rng, grid: &[f64], depth: usize) -> Tree {
        let mut t = Tree {
            nodes: vec![leaf(0)],
            values: Vec::new(),
            n_outputs: 2,
        };
        let mut stack = vec![(0usize, 0usize)];
        while let Some((id, level)) = stack.pop() {
            if level < depth && rng.gen_bool(0.8) {
                let l = t.nodes.len() as u32;
                t.nodes.push(leaf(0));
                t.nodes.push(leaf(0));
                let th = grid[rng.gen_range(0..grid.len())];
                t.nodes[id] = split(rng.gen_range(0..2), th, l, l + 1);
                stack.push((l as usize, level + 1));
                stack.push((l as usize + 1, level + 1));
            } else {
                let p: f64 = rng.gen();
                t.nodes[id] = leaf((t.values.len() / 2) as u32);
                t.values.extend([p, 1.0 - p]);
            }
        }
        t
    }

    #[test]
    fn lanes_and_blocks_give_the_plain_walk_bits_with_byte_and_wide_bins() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        // 100 thresholds per feature fit byte bins; 600 need u16 bins.
        for (levels, wide) in [(100usize, false), (600, true)] {
            let grid: Vec<f64> = (0..levels).map(|i| i as f64 * 0.01).collect();
            let trees: Vec<Tree> = (0..4).map(|_| random_tree(&mut rng, &grid, 14)).collect();
            // More rows than a block and than the lanes, not a multiple of either; some rows sit on a
            // threshold, some are NaN.
            let n = BLOCK + 37;
            let x = Array2::from_shape_fn((n, 2), |(i, _)| match i % 7 {
                0 => grid[rng.gen_range(0..grid.len())],
                1 if i % 5 == 0 => f64::NAN,
                _ => rng.gen_range(-0.1..levels as f64 * 0.01 + 0.1),
            });
            let flat = FlatTrees::new(&trees, 2).unwrap();
            assert_eq!(flat.narrow, !wide);
            for rows in [1, 5, LANES + 3, n] {
                let xs = x.slice(ndarray::s![..rows, ..]).to_owned();
                let mut got = Array2::zeros((rows, 2));
                flat.add_leaf_values(xs.view(), got.view_mut());
                let want = plain(&trees, &xs, 2);
                assert!(got
                    .iter()
                    .zip(want.iter())
                    .all(|(a, b)| a.to_bits() == b.to_bits()));
            }
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
