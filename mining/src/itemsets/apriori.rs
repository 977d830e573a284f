//! Apriori (Agrawal & Srikant, "Fast algorithms for mining association rules", VLDB 1994).
//!
//! Computes every itemset contained in at least `min_support` transactions, level by level: the
//! candidates of size k are the joins of two frequent (k−1)-itemsets sharing their first k−2 items whose
//! every (k−1)-subset is frequent; one pass over the transactions counts them.
//!
//! Counting: size-2 candidates (all pairs of frequent items) are counted in a triangular array; larger
//! candidates are stored in a prefix tree whose children are contiguous and sorted, and each
//! transaction walks the tree by merging its sorted items with the children (no hashing).
//!
//! Cost: one pass over the data per level; memory is the candidates of one level (the pair triangle is
//! 4·F²/2 bytes per thread for F frequent items, guarded by a candidate limit). Parallelism: the
//! transactions are split into chunks counted by rayon workers into private arrays, then summed, so the
//! counts (and the result) do not depend on the thread count.

use rayon::prelude::*;

use super::assemble;
use super::{FrequentItemsets, ItemsetError, ItemsetMiner, ItemsetParams, Transactions};

/// Candidates counted at one level at most (the pair triangle included); beyond this Apriori fails
/// with advice instead of exhausting memory.
pub const MAX_CANDIDATES: u64 = 100_000_000;

/// The Apriori miner. `Apriori::new(params)?.mine(&transactions)`.
#[derive(Clone, Debug)]
pub struct Apriori {
    params: ItemsetParams,
}

impl Apriori {
    /// Validates the parameters.
    pub fn new(params: ItemsetParams) -> Result<Self, ItemsetError> {
        params.check()?;
        Ok(Apriori { params })
    }
}

const CHUNK: usize = 4096;

/// A candidate prefix tree: node `n` has children `first[n]..first[n]+len[n]`; a leaf's `first` is the
/// candidate's index.
struct Trie {
    item: Vec<u32>,
    first: Vec<u32>,
    len: Vec<u32>,
}

impl Trie {
    /// Builds the tree of `cands` (sorted, each of length `k`, flat).
    fn build(cands: &[u32], k: usize) -> Trie {
        let m = cands.len() / k;
        let mut t = Trie {
            item: vec![u32::MAX],
            first: vec![0],
            len: vec![0],
        };
        // Breadth-first: (node, candidate range, depth).
        let mut queue = std::collections::VecDeque::new();
        queue.push_back((0usize, 0usize, m, 0usize));
        while let Some((node, lo, hi, d)) = queue.pop_front() {
            let start = t.item.len() as u32;
            let mut i = lo;
            let mut groups = Vec::new();
            while i < hi {
                let v = cands[i * k + d];
                let mut j = i + 1;
                while j < hi && cands[j * k + d] == v {
                    j += 1;
                }
                t.item.push(v);
                t.first.push(if d + 1 == k { i as u32 } else { 0 });
                t.len.push(0);
                groups.push((t.item.len() - 1, i, j));
                i = j;
            }
            t.first[node] = start;
            t.len[node] = groups.len() as u32;
            if d + 1 < k {
                for (child, a, b) in groups {
                    queue.push_back((child, a, b, d + 1));
                }
            }
        }
        t
    }

    /// Adds one to every candidate contained in `tx` (sorted ranks).
    fn count(&self, node: usize, tx: &[u32], remaining: usize, counts: &mut [u32]) {
        let lo = self.first[node] as usize;
        let hi = lo + self.len[node] as usize;
        let mut c = lo;
        let mut i = 0usize;
        while c < hi && i + remaining <= tx.len() {
            let a = self.item[c];
            let b = tx[i];
            if a < b {
                c += 1;
            } else if b < a {
                i += 1;
            } else {
                if remaining == 1 {
                    counts[self.first[c] as usize] += 1;
                } else {
                    self.count(c, &tx[i + 1..], remaining - 1, counts);
                }
                c += 1;
                i += 1;
            }
        }
    }
}

impl ItemsetMiner for Apriori {
    fn mine(&self, tx: &Transactions) -> Result<FrequentItemsets, ItemsetError> {
        let n = tx.len();
        let minsup = self.params.min_support().absolute(n);
        let max_len = self.params.get_max_len();
        let limit = self.params.get_max_itemsets();
        let too_many = || ItemsetError::TooManyItemsets {
            limit,
            min_support: minsup,
            transactions: n,
        };
        let counts = tx.item_counts();
        // Ranks follow item numbers, so rank order is item order.
        let freq: Vec<u32> = (0..counts.len() as u32)
            .filter(|&i| counts[i as usize] >= minsup)
            .collect();
        let f = freq.len();
        if f > limit {
            return Err(too_many());
        }
        let mut rank = vec![u32::MAX; counts.len()];
        for (k, &i) in freq.iter().enumerate() {
            rank[i as usize] = k as u32;
        }
        // Transactions reduced to frequent items (ranks, ascending), dropping those under 2 items.
        let mut red: Vec<u32> = Vec::new();
        let mut starts: Vec<u32> = vec![0];
        for t in tx.iter() {
            let s = red.len();
            red.extend(
                t.iter()
                    .map(|&i| rank[i as usize])
                    .filter(|&r| r != u32::MAX),
            );
            if red.len() - s < 2 {
                red.truncate(s);
            } else {
                starts.push(red.len() as u32);
            }
        }
        let ntx = starts.len() - 1;
        let txn = |t: usize| &red[starts[t] as usize..starts[t + 1] as usize];

        let mut all_items: Vec<u32> = Vec::new();
        let mut all_lens: Vec<u32> = Vec::new();
        let mut all_sups: Vec<u32> = Vec::new();
        for (k, &i) in freq.iter().enumerate() {
            all_items.push(k as u32);
            all_lens.push(1);
            all_sups.push(counts[i as usize]);
        }
        // Level 2: the pair triangle.
        let mut level: Vec<u32> = Vec::new();
        if max_len >= 2 && f >= 2 {
            let pairs = (f as u64) * (f as u64 - 1) / 2;
            if pairs > MAX_CANDIDATES {
                return Err(ItemsetError::TooManyCandidates {
                    candidates: pairs,
                    size: 2,
                    limit: MAX_CANDIDATES,
                });
            }
            let row = |a: usize| a * (2 * f - a - 1) / 2;
            let tri = (0..ntx.div_ceil(CHUNK))
                .into_par_iter()
                .fold(
                    || vec![0u32; pairs as usize],
                    |mut c, ch| {
                        for t in ch * CHUNK..((ch + 1) * CHUNK).min(ntx) {
                            let s = txn(t);
                            for (x, &a) in s.iter().enumerate() {
                                let base = row(a as usize);
                                for &b in &s[x + 1..] {
                                    c[base + (b - a - 1) as usize] += 1;
                                }
                            }
                        }
                        c
                    },
                )
                .reduce_with(|mut a, b| {
                    for (x, y) in a.iter_mut().zip(b) {
                        *x += y;
                    }
                    a
                })
                .unwrap_or_else(|| vec![0u32; pairs as usize]);
            for a in 0..f {
                let base = row(a);
                for b in a + 1..f {
                    let c = tri[base + b - a - 1];
                    if c >= minsup {
                        level.extend_from_slice(&[a as u32, b as u32]);
                        all_items.extend_from_slice(&[a as u32, b as u32]);
                        all_lens.push(2);
                        all_sups.push(c);
                    }
                }
            }
            if all_sups.len() > limit {
                return Err(too_many());
            }
        }
        // Levels 3 and up.
        let mut k = 2usize;
        while !level.is_empty() && k < max_len {
            let cands = candidates(&level, k);
            let m = cands.len() / (k + 1);
            if m == 0 {
                break;
            }
            if m as u64 > MAX_CANDIDATES {
                return Err(ItemsetError::TooManyCandidates {
                    candidates: m as u64,
                    size: k + 1,
                    limit: MAX_CANDIDATES,
                });
            }
            // The trie (~ the candidates again) and one counter array per thread, before allocating.
            let need = (cands.len() as u64 * 4)
                .saturating_mul(2)
                .saturating_add(m as u64 * 4 * rayon::current_num_threads() as u64);
            if let Err(memory) = cartseq_data::memory::check_estimate(need) {
                return Err(ItemsetError::MemoryLimit {
                    found: all_sups.len(),
                    memory,
                });
            }
            let trie = Trie::build(&cands, k + 1);
            let cnt = (0..ntx.div_ceil(CHUNK))
                .into_par_iter()
                .fold(
                    || vec![0u32; m],
                    |mut c, ch| {
                        for t in ch * CHUNK..((ch + 1) * CHUNK).min(ntx) {
                            let s = txn(t);
                            if s.len() > k {
                                trie.count(0, s, k + 1, &mut c);
                            }
                        }
                        c
                    },
                )
                .reduce_with(|mut a, b| {
                    for (x, y) in a.iter_mut().zip(b) {
                        *x += y;
                    }
                    a
                })
                .unwrap_or_else(|| vec![0u32; m]);
            level.clear();
            for (j, &c) in cnt.iter().enumerate() {
                if c >= minsup {
                    let cand = &cands[j * (k + 1)..(j + 1) * (k + 1)];
                    level.extend_from_slice(cand);
                    all_items.extend_from_slice(cand);
                    all_lens.push((k + 1) as u32);
                    all_sups.push(c);
                }
            }
            if all_sups.len() > limit {
                return Err(too_many());
            }
            k += 1;
        }
        assemble(
            &[(&all_items[..], &all_lens[..], &all_sups[..])],
            &freq,
            n,
            minsup,
        )
    }
}

/// Candidates of size k+1 from the sorted frequent k-itemsets `level` (flat): joins of itemsets sharing
/// their first k−1 items, kept when every k-subset is frequent. The output is sorted.
fn candidates(level: &[u32], k: usize) -> Vec<u32> {
    let m = level.len() / k;
    let get = |i: usize| &level[i * k..(i + 1) * k];
    let contains = |s: &[u32]| {
        // Binary search over the sorted flat list.
        let (mut lo, mut hi) = (0usize, m);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match get(mid).cmp(s) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
    };
    let mut out = Vec::new();
    let mut sub = vec![0u32; k];
    apriori_join(level, k, |cand| {
        // Subsets leaving out one of the first k−1 items (the two others are a and b).
        let ok = (0..k - 1).all(|skip| {
            let mut p = 0;
            for (q, &v) in cand.iter().enumerate() {
                if q != skip {
                    sub[p] = v;
                    p += 1;
                }
            }
            contains(&sub)
        });
        if ok {
            out.extend_from_slice(cand);
        }
    });
    out
}

/// Apriori's join step (Agrawal & Srikant 1994, "apriori-gen"; also the consequent join of
/// association rule generation): `level` holds sorted rows of `k` values back to back, in
/// lexicographic order; for every two rows `a < b` sharing their first `k − 1` values, in order, calls
/// `f` with the `k + 1` values made of row `a` followed by the last value of row `b`.
pub(crate) fn apriori_join(level: &[u32], k: usize, mut f: impl FnMut(&[u32])) {
    let m = level.len() / k;
    let get = |i: usize| &level[i * k..(i + 1) * k];
    let mut cand = vec![0u32; k + 1];
    let mut i = 0;
    while i < m {
        // Block of rows sharing the first k−1 values.
        let mut j = i + 1;
        while j < m && get(j)[..k - 1] == get(i)[..k - 1] {
            j += 1;
        }
        for a in i..j {
            for b in a + 1..j {
                cand[..k].copy_from_slice(get(a));
                cand[k] = get(b)[k - 1];
                f(&cand);
            }
        }
        i = j;
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{frequent, han_example};
    use super::super::MinSupport;
    use super::*;

    #[test]
    fn agrees_with_fpgrowth_on_a_small_example() {
        let tx = han_example();
        for s in 1..=4 {
            let p = ItemsetParams::new(MinSupport::Count(s));
            let a = Apriori::new(p).unwrap().mine(&tx).unwrap();
            assert_eq!(a, frequent(&tx, s), "min support {s}");
        }
    }
}
