//! PrefixSpan with pseudo-projection (Pei, Han, Mortazavi-Asl, Pinto, Chen, Dayal, Hsu: "PrefixSpan: Mining
//! Sequential Patterns Efficiently by Prefix-Projected Pattern Growth", ICDE 2001; TKDE 16(11), 2004).
//!
//! **What it computes**: every sequential pattern (sequence of itemsets) contained in at least `min_count`
//! sequences, under the length, gap, span and first-item options.
//!
//! **How**: depth-first pattern growth. A pattern's projected database is a list of pairs (sequence,
//! itemset position) into the flat [`Dense`] array — no sequence is ever copied (the Spark MLlib layout).
//! For a node, one scan over the projection counts, per sequence once, the items that can extend the
//! pattern as a new itemset (s-extension: any item after the match) or inside the last itemset
//! (i-extension: items greater than the last item, in an itemset that contains the whole last itemset of
//! the pattern); a second scan fills the child projections of all frequent extensions at once.
//!
//! Without gap/span constraints a projection entry is the *first* position where the pattern can end,
//! which is enough: any later itemset is reachable. With a max gap or span the earliest end is not enough
//! (a later end may be the one within the gap of the next item), so an entry is kept for *every* valid end
//! position, together with the latest possible start of an occurrence ending there (the best for a span);
//! entries of one sequence are sorted by end and unique.
//!
//! **Cost**: time O(Σ over patterns of the size of its projected suffixes); memory O(database) for the
//! first-level projections plus the projections along the current path of each worker. The first-level
//! prefixes are mined in parallel with rayon, in chunks whose results are emitted in item order, so the
//! output is identical for any number of threads and only one chunk's patterns are held at a time.

use cartseq_data::SequenceDb;
use rayon::prelude::*;

use crate::dense::{Dense, Filter, Guard, Occ};
use crate::error::MiningError;
use crate::miner::Miner;
use crate::params::{FromOptions, Options, Params};
use crate::pattern::{is_subset, Pattern};
use crate::sink::PatternSink;

/// The PrefixSpan miner (build it with [`PrefixSpan::params`]).
#[derive(Debug, Clone)]
pub struct PrefixSpan {
    opts: Options,
}

impl PrefixSpan {
    /// The parameter builder: `PrefixSpan::params().min_count(2).check()?`.
    pub fn params() -> Params<PrefixSpan> {
        Params::default()
    }

    pub(crate) fn with(opts: Options) -> Self {
        PrefixSpan { opts }
    }
}

impl FromOptions for PrefixSpan {
    fn from_options(opts: Options) -> Self {
        PrefixSpan { opts }
    }
}

/// One projection entry: sequence, itemset position where the prefix ends (global index), and the latest
/// start of an occurrence ending there (used only with constraints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub sid: u32,
    pub pos: u32,
    pub start: u32,
}

const NONE: u32 = u32::MAX;

/// Per-worker counting arrays, reused across the whole subtree.
struct Scratch {
    tick: u64,
    s_stamp: Vec<u64>,
    i_stamp: Vec<u64>,
    s_cnt: Vec<u32>,
    i_cnt: Vec<u32>,
    s_touched: Vec<u32>,
    i_touched: Vec<u32>,
    s_slot: Vec<u32>,
    i_slot: Vec<u32>,
}

impl Scratch {
    fn new(n: usize) -> Self {
        Scratch {
            tick: 0,
            s_stamp: vec![0; n],
            i_stamp: vec![0; n],
            s_cnt: vec![0; n],
            i_cnt: vec![0; n],
            s_touched: Vec::new(),
            i_touched: Vec::new(),
            s_slot: vec![NONE; n],
            i_slot: vec![NONE; n],
        }
    }
}

struct Ctx<'a> {
    d: &'a Dense,
    min: u32,
    filter: Filter,
    occ: Occ,
    constrained: bool,
    guard: &'a Guard,
}

impl Miner for PrefixSpan {
    fn name(&self) -> &'static str {
        "prefixspan"
    }

    fn options(&self) -> &Options {
        &self.opts
    }

    fn mine_frequent(
        &self,
        db: &SequenceDb,
        opts: &Options,
        min_count: u32,
        sink: &mut dyn PatternSink,
    ) -> Result<u64, MiningError> {
        let keep_positions = opts.max_gap.is_some() || opts.max_span.is_some();
        let d = Dense::build(db, min_count, keep_positions);
        let Some(filter) = Filter::new(opts, &d) else {
            return Ok(0);
        };
        let guard = Guard::new(opts.max_patterns);
        let ctx = Ctx {
            d: &d,
            min: min_count,
            filter,
            occ: Occ::new(opts),
            constrained: opts.has_occurrence_constraints(),
            guard: &guard,
        };
        let n_roots = match filter.first {
            Some(f) => f as usize + 1,
            None => d.n_ranks(),
        };
        let roots = root_projections(&d, n_roots, ctx.constrained);
        let chunk = (rayon::current_num_threads() * 16).max(64);
        let mut emitted = 0u64;
        let ranks: Vec<u32> = (0..n_roots as u32).collect();
        for part in ranks.chunks(chunk) {
            let outs: Vec<Result<Vec<Pattern>, MiningError>> = part
                .par_iter()
                .map(|&r| {
                    let mut sc = Scratch::new(d.n_ranks());
                    let mut out = Vec::new();
                    let mut items = vec![r];
                    let mut ends = vec![1u32];
                    ctx.grow(
                        &mut sc,
                        &mut items,
                        &mut ends,
                        &roots[r as usize],
                        d.rank_support[r as usize],
                        &mut out,
                    )?;
                    Ok(out)
                })
                .collect();
            for o in outs {
                for p in o? {
                    sink.accept(p)?;
                    emitted += 1;
                }
            }
        }
        Ok(emitted)
    }
}

/// First-level projections of every rank `< n_roots`: the first itemset holding the item in each sequence
/// (every itemset holding it, with constraints).
fn root_projections(d: &Dense, n_roots: usize, all_positions: bool) -> Vec<Vec<Entry>> {
    let mut proj: Vec<Vec<Entry>> = (0..n_roots)
        .map(|r| Vec::with_capacity(d.rank_support[r] as usize))
        .collect();
    let mut stamp = vec![u32::MAX; n_roots];
    for sid in 0..d.n_seqs() {
        for q in d.seq(sid) {
            for &y in d.set(q) {
                let y = y as usize;
                if y >= n_roots {
                    break;
                }
                if all_positions || stamp[y] != sid as u32 {
                    stamp[y] = sid as u32;
                    proj[y].push(Entry {
                        sid: sid as u32,
                        pos: q as u32,
                        start: q as u32,
                    });
                }
            }
        }
    }
    proj
}

impl Ctx<'_> {
    /// Emits the pattern `items`/`ends` (support `support`, projection `proj`) and grows it.
    fn grow(
        &self,
        sc: &mut Scratch,
        items: &mut Vec<u32>,
        ends: &mut Vec<u32>,
        proj: &[Entry],
        support: u32,
        out: &mut Vec<Pattern>,
    ) -> Result<(), MiningError> {
        if self.filter.wants(items, ends) {
            self.guard.add()?;
            out.push(self.d.to_pattern(items, ends, support));
        } else if self.guard.fired() {
            return Ok(());
        }
        if items.len() >= self.filter.max_items {
            return Ok(());
        }
        let mut can_s = ends.len() < self.filter.max_itemsets;
        // With a required first item: the first itemset must contain it before a second itemset starts,
        // and it can only be added while the last item is below it.
        let mut i_limit = u32::MAX;
        if let Some(f) = self.filter.first {
            if ends.len() == 1 && !items.contains(&f) {
                can_s = false;
                i_limit = f;
            }
        }
        let last_start = if ends.len() > 1 {
            ends[ends.len() - 2] as usize
        } else {
            0
        };
        let lastset: &[u32] = &items[last_start..];
        let last = *items.last().unwrap_or(&0);

        self.count(sc, proj, lastset, last, can_s);
        let mut i_ext: Vec<(u32, u32)> = Vec::new();
        let mut s_ext: Vec<(u32, u32)> = Vec::new();
        for &y in &sc.i_touched {
            let c = sc.i_cnt[y as usize];
            sc.i_cnt[y as usize] = 0;
            if c >= self.min && y <= i_limit {
                i_ext.push((y, c));
            }
        }
        for &y in &sc.s_touched {
            let c = sc.s_cnt[y as usize];
            sc.s_cnt[y as usize] = 0;
            if c >= self.min {
                s_ext.push((y, c));
            }
        }
        sc.i_touched.clear();
        sc.s_touched.clear();
        if i_ext.is_empty() && s_ext.is_empty() {
            return Ok(());
        }
        i_ext.sort_unstable();
        s_ext.sort_unstable();
        for (k, &(y, _)) in i_ext.iter().enumerate() {
            sc.i_slot[y as usize] = k as u32;
        }
        for (k, &(y, _)) in s_ext.iter().enumerate() {
            sc.s_slot[y as usize] = k as u32;
        }
        let mut i_proj: Vec<Vec<Entry>> = i_ext
            .iter()
            .map(|&(_, c)| Vec::with_capacity(c as usize))
            .collect();
        let mut s_proj: Vec<Vec<Entry>> = s_ext
            .iter()
            .map(|&(_, c)| Vec::with_capacity(c as usize))
            .collect();
        let lastset_owned: Vec<u32> = lastset.to_vec();
        self.project(
            sc,
            proj,
            &lastset_owned,
            last,
            !s_ext.is_empty(),
            &mut i_proj,
            &mut s_proj,
        );
        for &(y, _) in &i_ext {
            sc.i_slot[y as usize] = NONE;
        }
        for &(y, _) in &s_ext {
            sc.s_slot[y as usize] = NONE;
        }
        for ((y, c), p) in i_ext.into_iter().zip(i_proj) {
            items.push(y);
            *ends.last_mut().unwrap_or(&mut 0) += 1;
            let r = self.grow(sc, items, ends, &p, c, out);
            items.pop();
            if let Some(e) = ends.last_mut() {
                *e -= 1;
            }
            r?;
        }
        for ((y, c), p) in s_ext.into_iter().zip(s_proj) {
            items.push(y);
            ends.push(items.len() as u32);
            let r = self.grow(sc, items, ends, &p, c, out);
            items.pop();
            ends.pop();
            r?;
        }
        Ok(())
    }

    /// Counts, per sequence once, the frequent-extension candidates of a projection.
    fn count(&self, sc: &mut Scratch, proj: &[Entry], lastset: &[u32], last: u32, can_s: bool) {
        let d = self.d;
        let times = d.times.as_deref();
        let mut prev_sid = u32::MAX;
        for e in proj {
            if !self.constrained || e.sid != prev_sid {
                sc.tick += 1;
                prev_sid = e.sid;
            }
            let tick = sc.tick;
            let pos = e.pos as usize;
            let seq_end = d.seq_starts[e.sid as usize + 1] as usize;
            let set = d.set(pos);
            let from = set.partition_point(|&x| x <= last);
            for &y in &set[from..] {
                bump(&mut sc.i_stamp, &mut sc.i_cnt, &mut sc.i_touched, y, tick);
            }
            if self.constrained {
                if !can_s {
                    continue;
                }
                let start = e.start as usize;
                for q in pos + 1..seq_end {
                    if self.occ.past(times, start, pos, q) {
                        break;
                    }
                    for &y in d.set(q) {
                        bump(&mut sc.s_stamp, &mut sc.s_cnt, &mut sc.s_touched, y, tick);
                    }
                }
            } else {
                for q in pos + 1..seq_end {
                    let set = d.set(q);
                    if can_s {
                        for &y in set {
                            bump(&mut sc.s_stamp, &mut sc.s_cnt, &mut sc.s_touched, y, tick);
                        }
                    }
                    if set.last().is_some_and(|&m| m > last) && contains_all(set, lastset) {
                        let from = set.partition_point(|&x| x <= last);
                        for &y in &set[from..] {
                            bump(&mut sc.i_stamp, &mut sc.i_cnt, &mut sc.i_touched, y, tick);
                        }
                    }
                }
            }
        }
    }

    /// Fills the child projections of the frequent extensions (slots set in the scratch arrays).
    #[allow(clippy::too_many_arguments)]
    fn project(
        &self,
        sc: &mut Scratch,
        proj: &[Entry],
        lastset: &[u32],
        last: u32,
        any_s: bool,
        i_proj: &mut [Vec<Entry>],
        s_proj: &mut [Vec<Entry>],
    ) {
        let d = self.d;
        let times = d.times.as_deref();
        if !self.constrained {
            for e in proj {
                sc.tick += 1;
                let tick = sc.tick;
                let pos = e.pos as usize;
                let seq_end = d.seq_starts[e.sid as usize + 1] as usize;
                let set = d.set(pos);
                let from = set.partition_point(|&x| x <= last);
                for &y in &set[from..] {
                    let slot = sc.i_slot[y as usize];
                    if slot != NONE && sc.i_stamp[y as usize] != tick {
                        sc.i_stamp[y as usize] = tick;
                        i_proj[slot as usize].push(Entry {
                            pos: pos as u32,
                            ..*e
                        });
                    }
                }
                for q in pos + 1..seq_end {
                    let set = d.set(q);
                    if any_s {
                        for &y in set {
                            let slot = sc.s_slot[y as usize];
                            if slot != NONE && sc.s_stamp[y as usize] != tick {
                                sc.s_stamp[y as usize] = tick;
                                s_proj[slot as usize].push(Entry {
                                    pos: q as u32,
                                    ..*e
                                });
                            }
                        }
                    }
                    if set.last().is_some_and(|&m| m > last) && contains_all(set, lastset) {
                        let from = set.partition_point(|&x| x <= last);
                        for &y in &set[from..] {
                            let slot = sc.i_slot[y as usize];
                            if slot != NONE && sc.i_stamp[y as usize] != tick {
                                sc.i_stamp[y as usize] = tick;
                                i_proj[slot as usize].push(Entry {
                                    pos: q as u32,
                                    ..*e
                                });
                            }
                        }
                    }
                }
            }
            return;
        }
        // Constrained: every valid end is kept; s-extensions of one sequence may reach the same position
        // from several ends, so each child's entries of the sequence are sorted and de-duplicated keeping
        // the latest start.
        let mut group_begin = vec![0usize; s_proj.len()];
        let mut group_mark = vec![u32::MAX; s_proj.len()];
        let mut touched: Vec<u32> = Vec::new();
        let mut k = 0;
        while k < proj.len() {
            let sid = proj[k].sid;
            let mut j = k;
            while j < proj.len() && proj[j].sid == sid {
                let e = proj[j];
                let pos = e.pos as usize;
                let set = d.set(pos);
                let from = set.partition_point(|&x| x <= last);
                for &y in &set[from..] {
                    let slot = sc.i_slot[y as usize];
                    if slot != NONE {
                        i_proj[slot as usize].push(e);
                    }
                }
                if any_s {
                    let seq_end = d.seq_starts[sid as usize + 1] as usize;
                    let start = e.start as usize;
                    for q in pos + 1..seq_end {
                        if self.occ.past(times, start, pos, q) {
                            break;
                        }
                        for &y in d.set(q) {
                            let slot = sc.s_slot[y as usize];
                            if slot == NONE {
                                continue;
                            }
                            let c = slot as usize;
                            if group_mark[c] != sid {
                                group_mark[c] = sid;
                                group_begin[c] = s_proj[c].len();
                                touched.push(slot);
                            }
                            s_proj[c].push(Entry {
                                sid,
                                pos: q as u32,
                                start: e.start,
                            });
                        }
                    }
                }
                j += 1;
            }
            for &c in &touched {
                let v = &mut s_proj[c as usize];
                let b = group_begin[c as usize];
                if v.len() - b > 1 {
                    dedup_tail(v, b);
                }
            }
            touched.clear();
            k = j;
        }
    }
}

/// Sorts `v[b..]` by position (latest start first) and keeps one entry per position.
pub(crate) fn dedup_tail(v: &mut Vec<Entry>, b: usize) {
    v[b..].sort_unstable_by(|x, y| x.pos.cmp(&y.pos).then(y.start.cmp(&x.start)));
    let mut w = b + 1;
    for r in b + 1..v.len() {
        if v[r].pos != v[w - 1].pos {
            v[w] = v[r];
            w += 1;
        }
    }
    v.truncate(w);
}

#[inline]
fn bump(stamp: &mut [u64], cnt: &mut [u32], touched: &mut Vec<u32>, y: u32, tick: u64) {
    let i = y as usize;
    if stamp[i] != tick {
        stamp[i] = tick;
        if cnt[i] == 0 {
            touched.push(y);
        }
        cnt[i] += 1;
    }
}

/// Whether sorted `set` contains every item of sorted `need`.
#[inline]
pub(crate) fn contains_all(set: &[u32], need: &[u32]) -> bool {
    match need {
        [one] => set.binary_search(one).is_ok(),
        _ => is_subset(need, set),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::sink::CollectSink;
    use cartseq_data::sequence_db::from_nested;

    fn context() -> SequenceDb {
        // SPMF's contextPrefixSpan.txt.
        from_nested(&[
            vec![vec![1], vec![1, 2, 3], vec![1, 3], vec![4], vec![3, 6]],
            vec![vec![1, 4], vec![3], vec![2, 3], vec![1, 5]],
            vec![vec![5, 6], vec![1, 2], vec![4, 6], vec![3], vec![2]],
            vec![vec![5], vec![7], vec![1, 6], vec![3], vec![2], vec![3]],
        ])
    }

    #[test]
    fn context_prefixspan_has_53_patterns() {
        let m = PrefixSpan::params().min_count(2).check().unwrap();
        let mut sink = CollectSink::new();
        let stats = m.mine(&context(), &mut sink).unwrap();
        assert_eq!(stats.patterns, 53);
        let lines: Vec<String> = sink.patterns.iter().map(|p| p.to_spmf()).collect();
        assert!(lines.contains(&"1 -1 2 3 -1 #SUP: 2".to_string()));
        assert!(!lines.contains(&"1 2 -1 4 -1 3 -1 2 -1 #SUP: 1".to_string()));
    }

    #[test]
    fn guard_fires_with_a_message() {
        let m = PrefixSpan::params()
            .min_count(1)
            .max_patterns(10)
            .check()
            .unwrap();
        let err = m.mine(&context(), &mut CollectSink::new()).unwrap_err();
        assert!(err.to_string().contains("--max-patterns 10"), "{err}");
    }
}
