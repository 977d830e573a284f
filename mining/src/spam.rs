//! CM-SPAM-style vertical bitmap mining for dense databases (Ayres, Flannick, Gehrke, Yiu: "Sequential
//! PAttern Mining using a Bitmap Representation", KDD 2002; Fournier-Viger et al., PAKDD 2014 for the
//! co-occurrence pruning), with sparse sequence lists.
//!
//! **What it computes**: the same frequent patterns as [`crate::prefixspan`], with the same supports and
//! in the same order (a pattern, then its i-extensions by ascending item, then its s-extensions by
//! ascending item, depth first; roots by ascending item), under the length and first-item options.
//! With a gap or span constraint, or on sequences longer than 1,024 itemsets, it hands the run to
//! PrefixSpan's projection (same answer).
//!
//! **How**: a pattern is the list of the sequences supporting it (ascending), each with a bitmap of the
//! positions (itemsets) where an occurrence of the pattern can *end* — a few `u64` words per sequence,
//! the same count for every sequence (`N`, a compile-time constant: 1, 2, 4, 8 or 16 words). Every
//! frequent item has such a bitmap for every sequence (`ibits`). An i-extension by `y` is a word-wise
//! AND of the pattern's bitmap with `y`'s; an s-extension first turns the pattern's bitmap into "every
//! position after its first set bit" and then ANDs. A sequence supports the child when the result is not
//! zero; a candidate is abandoned as soon as the sequences left cannot reach the minimum support.
//! Candidates are pruned as in SPAM: the s-extensions of a child are among its parent's frequent
//! s-extensions, the i-extensions of `P(x)` among `P`'s frequent i-extensions above `x`, those of
//! `P→x` among `P`'s frequent s-extensions above `x` (all exact: each pruned pattern has an infrequent
//! sub-pattern).
//!
//! **When**: one join costs about one AND per supporting sequence and word, whatever the sequence's
//! length, where a projection scan costs one step per item of the suffix; so bitmaps win when sequences
//! are long and hold a good share of the frequent items (few distinct items, long sequences: SIGN, the
//! generated dense rows of BENCHMARKS.md), and lose on sparse click data, where `ibits` would be mostly
//! zeros. `prefers` decides for PrefixSpan from the database's density (see there).
//!
//! **Cost**: memory `frequent items × sequences × N` words for `ibits` plus the children of the nodes
//! on each worker's current path; time about Σ over searched nodes of (supporting sequences × candidate
//! extensions × N). Work is split into tasks — each root pattern, and each child subtree of a root —
//! mined in parallel and emitted in task order (`FrequentRun::emit_roots`), so the output is the same
//! for any number of threads.

use rayon::prelude::*;

use crate::dense::{visit, Dense, Filter, Guard};
use crate::error::MiningError;
use crate::miner::{FrequentRun, Miner, RootOut};
use crate::params::{FromOptions, Options, Params};

/// The bitmap miner (build it with [`Spam::params`]). [`crate::PrefixSpan`] uses the same kernel by
/// itself on dense databases; this type forces it (tests, benches).
#[derive(Debug, Clone)]
pub struct Spam {
    opts: Options,
}

impl Spam {
    /// The parameter builder: `Spam::params().min_count(2).check()?`.
    pub fn params() -> Params<Spam> {
        Params::default()
    }
}

impl FromOptions for Spam {
    fn from_options(opts: Options) -> Self {
        Spam { opts }
    }
}

impl Miner for Spam {
    fn mine_frequent(&self, run: FrequentRun<'_>) -> Result<u64, MiningError> {
        mine_frequent(run, true)
    }

    fn name(&self) -> &'static str {
        "spam"
    }

    fn options(&self) -> &Options {
        &self.opts
    }
}

/// Words per sequence bitmap: the longest sequence's itemsets / 64, rounded up to 1, 2, 4, 8 or 16;
/// `None` beyond 1,024 itemsets.
fn words_for(d: &Dense) -> Option<usize> {
    let longest = (0..d.n_seqs()).map(|s| d.seq(s).len()).max().unwrap_or(0);
    let w = longest.div_ceil(64).max(1).next_power_of_two();
    (w <= 16).then_some(w)
}

/// Databases smaller than this (item occurrences) stay with PrefixSpan's projection: either is fast
/// there, and the oracle property test then exercises both code paths.
const AUTO_MIN_OCCURRENCES: usize = 20_000;

/// Bitmap words per item occurrence up to which the bitmap kernel is chosen (while the bitmaps stay
/// under [`DENSE_BITMAP_BYTES`]). Measured with `examples/kernels.rs`, both paths on two threads: the
/// kernel is 5–10× faster than the projection on SIGN at every support from 50 % to 10 % (density
/// 1.5–5.0), 2–3.7× on uniform-Zipf random databases at density 3.5–6.7 and 1.45× at 7.1; it is slower
/// from about 9 (0.84× at 9.0, 0.72× at 11.7, 0.08× at 17.8, 0.29× on kosarak10k at 0.5 %: 41).
const MAX_DENSITY: u64 = 6;

/// Above this size the bitmaps may take at most one word per item occurrence (the projection's own
/// arrays take about as much), so a large database does not trade a speed-up for gigabytes.
const DENSE_BITMAP_BYTES: u64 = 256 << 20;

/// Whether PrefixSpan should hand an unconstrained run over `d` to the bitmap kernel: sequences have
/// at most 256 itemsets, the database is not tiny, and the bitmaps of every frequent item in every
/// sequence (`ibits`) take at most [`MAX_DENSITY`] words per item occurrence while under
/// [`DENSE_BITMAP_BYTES`], at most one beyond (the generated dense rows of BENCHMARKS.md: 0.4–0.6;
/// SIGN at 20 %: 4.3; kosarak10k: 41–476; BMS1 and BMS2: hundreds to thousands).
pub(crate) fn prefers(d: &Dense) -> bool {
    let occurrences = d.items.len() as u64;
    match words_for(d) {
        Some(w) if w <= 4 && occurrences >= AUTO_MIN_OCCURRENCES as u64 => {
            let words = (d.n_ranks() as u64) * (d.n_seqs() as u64) * (w as u64);
            words <= occurrences
                || (words <= MAX_DENSITY * occurrences && words * 8 <= DENSE_BITMAP_BYTES)
        }
        _ => false,
    }
}

/// PrefixSpan's and [`Spam`]'s `mine_frequent`: the bitmap kernel on an unconstrained run when `force`d
/// (and no sequence is longer than 1,024 itemsets) or when [`prefers`] says so, else the projection.
pub(crate) fn mine_frequent(mut run: FrequentRun<'_>, force: bool) -> Result<u64, MiningError> {
    let Some((d, filter)) = run.dense() else {
        return Ok(0);
    };
    let bitmap = !run.opts.has_occurrence_constraints() && (force || prefers(&d));
    if bitmap {
        mine(&mut run, &d, filter)
    } else {
        crate::prefixspan::mine_projected(&mut run, &d, filter)
    }
}

/// Mines `d` (unconstrained) with the bitmap kernel; PrefixSpan's projection when a sequence is longer
/// than 1,024 itemsets.
fn mine(run: &mut FrequentRun<'_>, d: &Dense, filter: Filter) -> Result<u64, MiningError> {
    match words_for(d) {
        Some(1) => Kernel::<1>::new(run, d, filter).mine(run),
        Some(2) => Kernel::<2>::new(run, d, filter).mine(run),
        Some(4) => Kernel::<4>::new(run, d, filter).mine(run),
        Some(8) => Kernel::<8>::new(run, d, filter).mine(run),
        Some(16) => Kernel::<16>::new(run, d, filter).mine(run),
        _ => crate::prefixspan::mine_projected(run, d, filter),
    }
}

/// A pattern's vertical representation: its supporting sequences (ascending) and, for each, the bitmap
/// of the positions where an occurrence ends.
struct Node<const N: usize> {
    sids: Vec<u32>,
    bits: Vec<[u64; N]>,
}

impl<const N: usize> Node<N> {
    fn support(&self) -> u32 {
        self.sids.len() as u32
    }
}

/// One frequent extension of a node, in output order.
struct Child<const N: usize> {
    is_i: bool,
    item: u32,
    node: Node<N>,
}

/// What the search below a root needs from the root's own expansion: its extensions (kind, item) in
/// output order and its frequent s-extensions (`None` when it could not s-extend).
struct RootKids {
    kids: Vec<(bool, u32)>,
    s_next: Option<Vec<u32>>,
    /// The root's frequent i-extensions, when all were searched (no required-first-item cap).
    i_next: Option<Vec<u32>>,
}

/// The items of the i-extensions among `children`.
fn i_items<const N: usize>(children: &[Child<N>]) -> Vec<u32> {
    children.iter().filter(|c| c.is_i).map(|c| c.item).collect()
}

struct Kernel<'a, const N: usize> {
    d: &'a Dense,
    n_seqs: usize,
    /// Item `y`'s positions in sequence `s` are `ibits[y * n_seqs + s]`.
    ibits: Vec<[u64; N]>,
    min: u32,
    filter: Filter,
    guard: Guard,
    /// CM-SPAM's co-occurrence maps, from the roots' own expansions: bit `x * n_ranks + y` of `s_map`
    /// says `x → y` is frequent, of `i_map` that `(x y)` is; an extension of a pattern whose last item
    /// is `x` by `y` needs it. `None` until the roots are expanded, and with a required first item
    /// (the roots' expansions are incomplete then).
    cmap: Option<Cmap>,
}

/// See [`Kernel::cmap`].
struct Cmap {
    n: usize,
    s_map: Vec<u64>,
    i_map: Vec<u64>,
}

impl Cmap {
    fn new(n: usize, kids: &[RootKids]) -> Cmap {
        let words = (n * n).div_ceil(64);
        let mut m = Cmap {
            n,
            s_map: vec![0; words],
            i_map: vec![0; words],
        };
        let set = |v: &mut Vec<u64>, b: usize| v[b / 64] |= 1 << (b % 64);
        for (x, k) in kids.iter().enumerate() {
            for &(is_i, y) in &k.kids {
                set(
                    if is_i { &mut m.i_map } else { &mut m.s_map },
                    x * n + y as usize,
                );
            }
            if k.s_next.is_none() {
                // Could not s-extend (max one itemset): no pruning from it.
                (0..n).for_each(|y| set(&mut m.s_map, x * n + y));
            }
        }
        m
    }

    #[inline]
    fn allows(&self, is_i: bool, x: u32, y: u32) -> bool {
        let b = x as usize * self.n + y as usize;
        let v = if is_i { &self.i_map } else { &self.s_map };
        v[b / 64] >> (b % 64) & 1 == 1
    }
}

/// Every position strictly after the first set bit of `b` (zero when `b` is zero).
#[inline]
fn after_first<const N: usize>(b: &[u64; N]) -> [u64; N] {
    let mut t = [0u64; N];
    let mut found = false;
    for w in 0..N {
        if found {
            t[w] = u64::MAX;
        } else if b[w] != 0 {
            let low = b[w] & b[w].wrapping_neg();
            t[w] = !((low << 1).wrapping_sub(1));
            found = true;
        }
    }
    t
}

/// The sequences of `sids` (bitmaps `src`) where `src & item[sid]` is not zero, with those ANDs, into
/// `out`; `false` (with `out` partial) as soon as fewer than `min` can remain.
#[inline]
fn join<const N: usize>(
    sids: &[u32],
    src: &[[u64; N]],
    item: &[[u64; N]],
    min: u32,
    out: &mut Node<N>,
) -> bool {
    let n = sids.len();
    out.sids.clear();
    out.bits.clear();
    out.sids.resize(n, 0);
    out.bits.resize(n, [0; N]);
    let min = min as usize;
    let mut k = 0usize;
    for (i, (&s, b)) in sids.iter().zip(src).enumerate() {
        if k + (n - i) < min {
            return false;
        }
        let m = &item[s as usize];
        let mut r = [0u64; N];
        let mut any = 0u64;
        for w in 0..N {
            r[w] = b[w] & m[w];
            any |= r[w];
        }
        // Branch-free: always write, advance only on a hit.
        out.sids[k] = s;
        out.bits[k] = r;
        k += usize::from(any != 0);
    }
    out.sids.truncate(k);
    out.bits.truncate(k);
    k >= min
}

impl<'a, const N: usize> Kernel<'a, N> {
    fn new(run: &FrequentRun<'_>, d: &'a Dense, filter: Filter) -> Self {
        let n_seqs = d.n_seqs();
        let mut ibits = vec![[0u64; N]; d.n_ranks() * n_seqs];
        for s in 0..n_seqs {
            let r = d.seq(s);
            for (p, q) in r.clone().enumerate() {
                for &y in d.set(q) {
                    ibits[y as usize * n_seqs + s][p / 64] |= 1u64 << (p % 64);
                }
            }
        }
        Kernel {
            d,
            n_seqs,
            ibits,
            min: run.min_count,
            filter,
            guard: Guard::new(run.opts.max_patterns),
            cmap: None,
        }
    }

    #[inline]
    fn item(&self, y: u32) -> &[[u64; N]] {
        &self.ibits[y as usize * self.n_seqs..(y as usize + 1) * self.n_seqs]
    }

    /// The one-item pattern `r`.
    fn root(&self, r: u32) -> Node<N> {
        let mut node = Node {
            sids: Vec::with_capacity(self.d.rank_support[r as usize] as usize),
            bits: Vec::with_capacity(self.d.rank_support[r as usize] as usize),
        };
        for (s, b) in self.item(r).iter().enumerate() {
            if b.iter().any(|&w| w != 0) {
                node.sids.push(s as u32);
                node.bits.push(*b);
            }
        }
        node
    }

    /// The frequent extensions of the pattern `items`/`ends` (vertical form `node`), in output order,
    /// and its frequent s-extensions (`None` when it may not s-extend). `s_cands`/`i_cands`: the pruned
    /// candidates (`None`: every item; i-candidates are further limited to items above the last).
    fn expand(
        &self,
        items: &[u32],
        ends: &[u32],
        node: &Node<N>,
        s_cands: Option<&[u32]>,
        i_cands: Option<&[u32]>,
    ) -> (Vec<Child<N>>, Option<Vec<u32>>, bool) {
        let (can_s, i_limit) = self.filter.extension_limits(items, ends);
        let last = *items.last().unwrap_or(&0);
        let all: Vec<u32>;
        let i_cands = match i_cands {
            Some(c) => c,
            None => {
                all = (last + 1..self.d.n_ranks() as u32).collect();
                &all
            }
        };
        let mut children = Vec::new();
        let mut scratch = Node {
            sids: Vec::new(),
            bits: Vec::new(),
        };
        let cmap =
            |is_i: bool, y: u32| self.cmap.as_ref().map_or(true, |m| m.allows(is_i, last, y));
        for &y in i_cands {
            if y <= last || y > i_limit || !cmap(true, y) {
                continue;
            }
            if join(&node.sids, &node.bits, self.item(y), self.min, &mut scratch) {
                let fresh = Node {
                    sids: Vec::new(),
                    bits: Vec::new(),
                };
                children.push(Child {
                    is_i: true,
                    item: y,
                    node: std::mem::replace(&mut scratch, fresh),
                });
            }
        }
        // The i-extensions found are all of them (usable to prune the children's) unless capped.
        let i_complete = i_limit == u32::MAX;
        if !can_s {
            return (children, None, i_complete);
        }
        let after: Vec<[u64; N]> = node.bits.iter().map(after_first).collect();
        let mut s_next = Vec::new();
        let every = 0..self.d.n_ranks() as u32;
        let mut visit_s = |y: u32, children: &mut Vec<Child<N>>| {
            if cmap(false, y) && join(&node.sids, &after, self.item(y), self.min, &mut scratch) {
                let fresh = Node {
                    sids: Vec::new(),
                    bits: Vec::new(),
                };
                s_next.push(y);
                children.push(Child {
                    is_i: false,
                    item: y,
                    node: std::mem::replace(&mut scratch, fresh),
                });
            }
        };
        match s_cands {
            Some(c) => c.iter().for_each(|&y| visit_s(y, &mut children)),
            None => every.for_each(|y| visit_s(y, &mut children)),
        }
        (children, Some(s_next), i_complete)
    }

    /// Emits the pattern `items`/`ends` (vertical form `node`) and mines its subtree.
    fn grow(
        &self,
        items: &mut Vec<u32>,
        ends: &mut Vec<u32>,
        node: &Node<N>,
        s_cands: Option<&[u32]>,
        i_cands: Option<&[u32]>,
        out: &mut RootOut<'_>,
    ) -> Result<(), MiningError> {
        if !visit(
            self.d,
            &self.filter,
            &self.guard,
            items,
            ends,
            node.support(),
            out,
        )? {
            return Ok(());
        }
        let (children, s_next, i_complete) = self.expand(items, ends, node, s_cands, i_cands);
        let i_next = i_complete.then(|| i_items(&children));
        for c in &children {
            self.descend(items, ends, c.is_i, c.item, &c.node, &i_next, &s_next, out)?;
        }
        Ok(())
    }

    /// Grows child `y` (an i-extension when `is_i`) of the pattern `items`/`ends`, whose frequent
    /// i- and s-extensions are `i_next` and `s_next`.
    #[allow(clippy::too_many_arguments)]
    fn descend(
        &self,
        items: &mut Vec<u32>,
        ends: &mut Vec<u32>,
        is_i: bool,
        y: u32,
        node: &Node<N>,
        i_next: &Option<Vec<u32>>,
        s_next: &Option<Vec<u32>>,
        out: &mut RootOut<'_>,
    ) -> Result<(), MiningError> {
        items.push(y);
        if is_i {
            *ends.last_mut().unwrap_or(&mut 0) += 1;
        } else {
            ends.push(items.len() as u32);
        }
        // SPAM's I-step pruning: items above y among the parent's frequent i-extensions (for an
        // i-extension) or s-extensions (for an s-extension).
        let above = |v: &[u32]| -> Vec<u32> { v[v.partition_point(|&z| z <= y)..].to_vec() };
        let i_cands: Option<Vec<u32>> = if is_i {
            i_next.as_deref().map(above)
        } else {
            s_next.as_deref().map(above)
        };
        let r = self.grow(
            items,
            ends,
            node,
            s_next.as_deref(),
            i_cands.as_deref(),
            out,
        );
        items.pop();
        if is_i {
            if let Some(e) = ends.last_mut() {
                *e -= 1;
            }
        } else {
            ends.pop();
        }
        r
    }

    /// The whole search, split into tasks (each root pattern alone, then each child subtree of it) that
    /// are mined in parallel and emitted in order.
    fn mine(mut self, run: &mut FrequentRun<'_>) -> Result<u64, MiningError> {
        let n_roots = match self.filter.first {
            Some(f) => f as usize + 1,
            None => self.d.n_ranks(),
        };
        let grows = self.filter.max_items > 1;
        let kids: Vec<RootKids> = (0..n_roots as u32)
            .into_par_iter()
            .map(|r| {
                if !grows {
                    return RootKids {
                        kids: Vec::new(),
                        s_next: None,
                        i_next: None,
                    };
                }
                let (children, s_next, i_complete) =
                    self.expand(&[r], &[1], &self.root(r), None, None);
                RootKids {
                    kids: children.iter().map(|c| (c.is_i, c.item)).collect(),
                    s_next,
                    i_next: i_complete.then(|| i_items(&children)),
                }
            })
            .collect();
        if self.filter.first.is_none() {
            self.cmap = Some(Cmap::new(self.d.n_ranks(), &kids));
        }
        // Task (r, None) emits root r; (r, Some(k)) mines the subtree of its k-th child.
        let tasks: Vec<(u32, Option<usize>)> = kids
            .iter()
            .enumerate()
            .flat_map(|(r, k)| {
                std::iter::once((r as u32, None))
                    .chain((0..k.kids.len()).map(move |j| (r as u32, Some(j))))
            })
            .collect();
        run.emit_roots(tasks.len(), |t, out| {
            let (r, kid) = tasks[t];
            let mut items = vec![r];
            let mut ends = vec![1u32];
            let Some(j) = kid else {
                let support = self.d.rank_support[r as usize];
                visit(
                    self.d,
                    &self.filter,
                    &self.guard,
                    &items,
                    &ends,
                    support,
                    out,
                )?;
                return Ok(());
            };
            let root = self.root(r);
            let rk = &kids[r as usize];
            let (is_i, y) = rk.kids[j];
            let mut node = Node {
                sids: Vec::new(),
                bits: Vec::new(),
            };
            let src: Vec<[u64; N]> = if is_i {
                root.bits.clone()
            } else {
                root.bits.iter().map(after_first).collect()
            };
            // Frequent by construction (the root's expansion found it so).
            join(&root.sids, &src, self.item(y), self.min, &mut node);
            self.descend(
                &mut items, &mut ends, is_i, y, &node, &rk.i_next, &rk.s_next, out,
            )
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::pattern::Pattern;
    use cartseq_data::sequence_db::from_nested;
    use cartseq_data::SequenceDb;

    /// Dense random sequences: `len` itemsets of 1–3 of 12 items (a few common ones), so every
    /// bitmap width up to 8 words, i-extensions and long s-chains occur.
    fn dense_db(n: usize, len: std::ops::Range<usize>, seed: u64) -> SequenceDb {
        let mut state = seed;
        let mut next = move |m: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % m
        };
        let seqs: Vec<Vec<Vec<u32>>> = (0..n)
            .map(|_| {
                let l = len.start + next((len.end - len.start) as u64) as usize;
                (0..l)
                    .map(|_| {
                        let mut set: Vec<u32> = (0..1 + next(3))
                            .map(|_| if next(3) > 0 { next(4) } else { next(12) } as u32)
                            .collect();
                        set.sort_unstable();
                        set.dedup();
                        set
                    })
                    .collect()
            })
            .collect();
        from_nested(&seqs)
    }

    /// PrefixSpan's projection (never the bitmap kernel), in emission order.
    fn projected(db: &SequenceDb, opts: &Options) -> Vec<Pattern> {
        let mut all = Vec::new();
        let mut run = FrequentRun {
            db,
            opts,
            min_count: opts.min_support.absolute(db.len()),
            sink: &mut all,
        };
        let (d, filter) = run.dense().unwrap();
        crate::prefixspan::mine_projected(&mut run, &d, filter).unwrap();
        all
    }

    fn spam(db: &SequenceDb, opts: &Options, threads: usize) -> Vec<Pattern> {
        let m: Spam = Params::from_options(opts.clone()).check().unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut v = Vec::new();
            m.mine(db, &mut v).unwrap();
            v
        })
    }

    /// Same patterns, supports and order as PrefixSpan's projection, for every bitmap width and any
    /// thread count, with length and first-item filters; SPADE (no shared code) agrees as a set.
    #[test]
    fn same_output_and_order_as_prefixspan() {
        for (k, (n, len, min, max_items)) in [
            (60, 20..60, 40, 4),
            (40, 60..120, 36, 4),
            (30, 200..260, 28, 3),
            (20, 400..500, 19, 3),
        ]
        .into_iter()
        .enumerate()
        {
            let db = dense_db(n, len, 0x9e37_79b9 + k as u64);
            let mut opts = Options {
                min_support: crate::MinSupport::Count(min),
                max_items: Some(max_items),
                ..Options::default()
            };
            let want = projected(&db, &opts);
            assert!(want.len() > 200, "case {k}: {} patterns", want.len());
            assert_eq!(spam(&db, &opts, 1), want, "case {k}");
            assert_eq!(spam(&db, &opts, 3), want, "case {k}, 3 threads");
            let mut sp = Vec::new();
            crate::Spade::with(opts.clone()).mine(&db, &mut sp).unwrap();
            let key = |v: &[Pattern]| {
                let mut s: Vec<String> = v.iter().map(|p| p.to_spmf()).collect();
                s.sort();
                s
            };
            assert_eq!(key(&sp), key(&want), "case {k} vs SPADE");
            opts.first_item = Some(cartseq_data::ItemId(2));
            opts.min_items = 2;
            opts.max_itemsets = Some(2);
            assert_eq!(
                spam(&db, &opts, 2),
                projected(&db, &opts),
                "case {k}, filters"
            );
        }
    }

    #[test]
    fn prefers_dense_data_only() {
        let dense = dense_db(400, 60..100, 7);
        let run_on = |db: &SequenceDb| {
            let opts = Options::default();
            let mut sink = Vec::new();
            let run = FrequentRun {
                db,
                opts: &opts,
                min_count: 2,
                sink: &mut sink,
            };
            prefers(&run.dense().unwrap().0)
        };
        assert!(run_on(&dense));
        // Many items, short sequences.
        let sparse: Vec<Vec<Vec<u32>>> = (0..3000u32)
            .map(|i| (0..8).map(|j| vec![(i * 7 + j * 13) % 500]).collect())
            .collect();
        assert!(!run_on(&from_nested(&sparse)));
        // 600 sequences of 50 single items drawn from `k` items: bitmap words per item occurrence
        // `k × 600 / 30,000` — SIGN-like at 200 items (4: the kernel), too sparse at 900 (18).
        let uniform = |k: u32| {
            let seqs: Vec<Vec<Vec<u32>>> = (0..600u32)
                .map(|i| {
                    (0..50u32)
                        .map(|j| vec![(i * 7919 + j * 104_729 + i * j * 31) % k])
                        .collect()
                })
                .collect();
            from_nested(&seqs)
        };
        assert!(run_on(&uniform(200)));
        assert!(!run_on(&uniform(900)));
    }
}
