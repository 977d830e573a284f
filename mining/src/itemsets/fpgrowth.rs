//! FP-Growth (Han, Pei & Yin, "Mining frequent patterns without candidate generation", SIGMOD 2000).
//!
//! Computes every itemset contained in at least `min_support` transactions, with its support count.
//!
//! The transactions, reduced to their frequent items in descending-frequency order, are compressed into
//! a prefix tree (the FP-tree). For each item, the paths that end in it (its *conditional pattern
//! base*) are re-compressed into a smaller tree and mined recursively. A tree that is a single path
//! yields all its sub-combinations directly.
//!
//! Layout: a tree is five flat `u32` arrays (item, count, parent, next node of the same item, a
//! "has a child" flag) with one header slot per item; it is built from sorted paths in one pass (paths
//! sharing a prefix are adjacent after sorting), so building needs no hashing.
//!
//! Cost: two passes over the transactions, then time roughly proportional to the number of frequent
//! itemsets times the size of their conditional trees; memory is the FP-tree (at most one node per
//! frequent item occurrence) plus the conditional trees along one recursion path per thread.
//! Parallelism: the top-level items' conditional trees are mined independently with rayon; the result is
//! sorted, so it is identical for any thread count.

use rayon::prelude::*;

use super::{
    assemble, FrequentItemsets, Guard, ItemsetError, ItemsetMiner, ItemsetParams, Transactions,
};

/// The FP-Growth miner. `FpGrowth::new(params)?.mine(&transactions)`.
#[derive(Clone, Debug)]
pub struct FpGrowth {
    params: ItemsetParams,
}

impl FpGrowth {
    /// Validates the parameters.
    pub fn new(params: ItemsetParams) -> Result<Self, ItemsetError> {
        params.check()?;
        Ok(FpGrowth { params })
    }
}

const NONE: u32 = u32::MAX;

/// An FP-tree over local item ranks `0..k` (rank 0 most frequent); node 0 is the root. `map[r]` is
/// the global rank of local rank `r` (a conditional tree numbers only its own frequent items).
struct Tree {
    map: Vec<u32>,
    item: Vec<u32>,
    count: Vec<u32>,
    parent: Vec<u32>,
    next: Vec<u32>,
    head: Vec<u32>,
    single_path: bool,
}

/// Weighted paths (ascending local ranks) waiting to be turned into a tree.
#[derive(Default)]
struct Paths {
    ranks: Vec<u32>,
    spans: Vec<(u32, u32, u32)>,
}

impl Paths {
    fn push(&mut self, ranks: &[u32], count: u32) {
        if ranks.is_empty() {
            return;
        }
        let s = self.ranks.len() as u32;
        self.ranks.extend_from_slice(ranks);
        self.spans.push((s, self.ranks.len() as u32, count));
    }
}

impl Tree {
    fn build(mut paths: Paths, map: Vec<u32>) -> Tree {
        let k = map.len();
        let ranks = &paths.ranks;
        paths.spans.sort_unstable_by(|a, b| {
            ranks[a.0 as usize..a.1 as usize].cmp(&ranks[b.0 as usize..b.1 as usize])
        });
        let cap = paths.ranks.len() / 2 + 1;
        let mut t = Tree {
            map,
            item: Vec::with_capacity(cap),
            count: Vec::with_capacity(cap),
            parent: Vec::with_capacity(cap),
            next: Vec::with_capacity(cap),
            head: vec![NONE; k],
            single_path: true,
        };
        let mut has_child: Vec<bool> = Vec::with_capacity(cap);
        t.item.push(NONE);
        t.count.push(0);
        t.parent.push(NONE);
        t.next.push(NONE);
        has_child.push(false);
        let mut stack: Vec<u32> = Vec::new();
        let mut prev: &[u32] = &[];
        for &(s, e, c) in &paths.spans {
            let p = &ranks[s as usize..e as usize];
            let l = prev.iter().zip(p).take_while(|(a, b)| a == b).count();
            for &node in &stack[..l] {
                t.count[node as usize] += c;
            }
            stack.truncate(l);
            let mut par = if l == 0 { 0 } else { stack[l - 1] };
            for &r in &p[l..] {
                let node = t.item.len() as u32;
                if has_child[par as usize] {
                    t.single_path = false;
                }
                has_child[par as usize] = true;
                t.item.push(r);
                t.count.push(c);
                t.parent.push(par);
                t.next.push(t.head[r as usize]);
                t.head[r as usize] = node;
                has_child.push(false);
                stack.push(node);
                par = node;
            }
            prev = p;
        }
        t
    }

    fn support(&self, r: u32) -> u32 {
        let mut s = 0u32;
        let mut n = self.head[r as usize];
        while n != NONE {
            s += self.count[n as usize];
            n = self.next[n as usize];
        }
        s
    }
}

/// Itemsets found by one worker, in global ranks.
#[derive(Default)]
struct Out {
    items: Vec<u32>,
    lens: Vec<u32>,
    sups: Vec<u32>,
}

impl Out {
    #[inline]
    fn emit(&mut self, set: &[u32], sup: u32) {
        self.items.extend_from_slice(set);
        self.lens.push(set.len() as u32);
        self.sups.push(sup);
    }
}

struct Ctx<'a> {
    minsup: u32,
    max_len: usize,
    guard: &'a Guard,
}

impl Ctx<'_> {
    /// Mines every item of `tree` under `prefix`.
    fn mine_tree(&self, tree: &Tree, prefix: &mut Vec<u32>, out: &mut Out) -> bool {
        if tree.single_path {
            return self.single_path(tree, prefix, out);
        }
        for r in (0..tree.map.len() as u32).rev() {
            if !self.mine_item(tree, r, prefix, out) {
                return false;
            }
        }
        true
    }

    fn single_path(&self, tree: &Tree, prefix: &mut Vec<u32>, out: &mut Out) -> bool {
        // Nodes 1..len are the path in depth order; counts never increase with depth.
        let nodes: Vec<u32> = (1..tree.item.len() as u32).collect();
        let room = self.max_len.saturating_sub(prefix.len());
        let m = nodes.len();
        // Every non-empty combination of the path's nodes (up to `room` of them) extends the prefix:
        // C(m, s) itemsets of prefix + s items for each size s.
        let (mut total, mut items): (u64, u64) = (0, 0);
        let mut binom: u64 = 1;
        for s in 1..=m.min(room) {
            binom = binom.saturating_mul((m - s + 1) as u64) / s as u64;
            total = total.saturating_add(binom);
            items = items.saturating_add(binom.saturating_mul((prefix.len() + s) as u64));
        }
        if !self
            .guard
            .add_bulk(usize::try_from(total).unwrap_or(usize::MAX), items)
        {
            return false;
        }
        fn rec(
            tree: &Tree,
            nodes: &[u32],
            from: usize,
            room: usize,
            prefix: &mut Vec<u32>,
            out: &mut Out,
        ) {
            if room == 0 {
                return;
            }
            for k in from..nodes.len() {
                let n = nodes[k] as usize;
                prefix.push(tree.map[tree.item[n] as usize]);
                out.emit(prefix, tree.count[n]);
                rec(tree, nodes, k + 1, room - 1, prefix, out);
                prefix.pop();
            }
        }
        rec(tree, &nodes, 0, room, prefix, out);
        true
    }

    fn mine_item(&self, tree: &Tree, r: u32, prefix: &mut Vec<u32>, out: &mut Out) -> bool {
        if self.guard.tripped() || !self.guard.add(1) {
            return false;
        }
        let sup = tree.support(r);
        prefix.push(tree.map[r as usize]);
        out.emit(prefix, sup);
        let ok = if prefix.len() < self.max_len && r > 0 {
            self.conditional(tree, r, prefix, out)
        } else {
            true
        };
        prefix.pop();
        ok
    }

    fn conditional(&self, tree: &Tree, r: u32, prefix: &mut Vec<u32>, out: &mut Out) -> bool {
        let mut cnt = vec![0u32; r as usize];
        let mut n = tree.head[r as usize];
        while n != NONE {
            let c = tree.count[n as usize];
            let mut p = tree.parent[n as usize];
            while p != 0 {
                cnt[tree.item[p as usize] as usize] += c;
                p = tree.parent[p as usize];
            }
            n = tree.next[n as usize];
        }
        let mut freq: Vec<u32> = (0..r).filter(|&q| cnt[q as usize] >= self.minsup).collect();
        if freq.is_empty() {
            return true;
        }
        freq.sort_unstable_by(|&a, &b| cnt[b as usize].cmp(&cnt[a as usize]).then(a.cmp(&b)));
        let mut newrank = vec![NONE; r as usize];
        for (k, &q) in freq.iter().enumerate() {
            newrank[q as usize] = k as u32;
        }
        let mut paths = Paths::default();
        let mut buf: Vec<u32> = Vec::new();
        let mut n = tree.head[r as usize];
        while n != NONE {
            buf.clear();
            let mut p = tree.parent[n as usize];
            while p != 0 {
                let nr = newrank[tree.item[p as usize] as usize];
                if nr != NONE {
                    buf.push(nr);
                }
                p = tree.parent[p as usize];
            }
            buf.sort_unstable();
            paths.push(&buf, tree.count[n as usize]);
            n = tree.next[n as usize];
        }
        let submap: Vec<u32> = freq.iter().map(|&q| tree.map[q as usize]).collect();
        let sub = Tree::build(paths, submap);
        self.mine_tree(&sub, prefix, out)
    }
}

impl ItemsetMiner for FpGrowth {
    fn mine(&self, tx: &Transactions) -> Result<FrequentItemsets, ItemsetError> {
        let n = tx.len();
        let minsup = self.params.min_support().absolute(n);
        let counts = tx.item_counts();
        let mut freq: Vec<u32> = (0..counts.len() as u32)
            .filter(|&i| counts[i as usize] >= minsup)
            .collect();
        freq.sort_unstable_by(|&a, &b| counts[b as usize].cmp(&counts[a as usize]).then(a.cmp(&b)));
        let mut rank = vec![NONE; counts.len()];
        for (k, &i) in freq.iter().enumerate() {
            rank[i as usize] = k as u32;
        }
        let mut paths = Paths::default();
        let mut buf: Vec<u32> = Vec::new();
        for t in tx.iter() {
            buf.clear();
            buf.extend(t.iter().map(|&i| rank[i as usize]).filter(|&r| r != NONE));
            buf.sort_unstable();
            paths.push(&buf, 1);
        }
        let tree = Tree::build(paths, (0..freq.len() as u32).collect());
        drop(rank);
        let guard = Guard::new(self.params.get_max_itemsets());
        let ctx = Ctx {
            minsup,
            max_len: self.params.get_max_len(),
            guard: &guard,
        };
        let outs: Vec<Out> = (0..freq.len() as u32)
            .into_par_iter()
            .rev()
            .map(|r| {
                let mut out = Out::default();
                let mut prefix = Vec::new();
                ctx.mine_item(&tree, r, &mut prefix, &mut out);
                out
            })
            .collect();
        if guard.tripped() {
            return Err(guard.error(minsup, n));
        }
        let flat: Vec<_> = outs
            .iter()
            .map(|o| (&o.items[..], &o.lens[..], &o.sups[..]))
            .collect();
        assemble(&flat, &freq, n, minsup)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{frequent, han_example};
    use super::super::{ItemsetAlgorithm, MinSupport};
    use super::*;

    #[test]
    fn textbook_example() {
        let r = frequent(&han_example(), 2);
        let got: Vec<(Vec<u32>, u32)> = r
            .iter()
            .map(|(s, c)| (s.iter().map(|i| i.0).collect(), c))
            .collect();
        assert_eq!(got.len(), 13);
        assert_eq!(got[0], (vec![2], 7));
        assert!(got.contains(&(vec![1, 2, 5], 2)));
        assert!(got.contains(&(vec![1, 2, 3], 2)));
        assert!(got.contains(&(vec![2, 4], 2)));
    }

    #[test]
    fn a_long_single_path_trips_the_count_guard_instead_of_wrapping_it() {
        // One basket of 70 items at minimum support 1: a single path with 2^70 − 1 subsets. The
        // saturated count once wrapped the guard's counter around and the miner tried to write them.
        let tx = Transactions::from_lists([(0..70u32).collect::<Vec<_>>()]);
        for algo in [ItemsetAlgorithm::FpGrowth, ItemsetAlgorithm::Apriori] {
            let e = algo
                .mine(
                    ItemsetParams::new(MinSupport::Count(1)).max_itemsets(100_000),
                    &tx,
                )
                .unwrap_err();
            assert!(
                matches!(
                    e,
                    ItemsetError::TooManyItemsets { .. } | ItemsetError::TooManyCandidates { .. }
                ),
                "{algo:?}: {e}"
            );
        }
    }

    #[test]
    fn guard_trips() {
        let tx = Transactions::from_lists((0..5).map(|_| (0..20u32).collect::<Vec<_>>()));
        let e = FpGrowth::new(ItemsetParams::new(MinSupport::Count(2)).max_itemsets(1000))
            .unwrap()
            .mine(&tx)
            .unwrap_err();
        assert!(matches!(e, ItemsetError::TooManyItemsets { .. }));
        let ok = FpGrowth::new(ItemsetParams::new(MinSupport::Count(2)).max_len(2))
            .unwrap()
            .mine(&tx)
            .unwrap();
        assert_eq!(ok.len(), 20 + 190);
    }
}
