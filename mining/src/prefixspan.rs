//! PrefixSpan with pseudo-projection (Pei, Han, Mortazavi-Asl, Pinto, Chen, Dayal, Hsu: "PrefixSpan: Mining
//! Sequential Patterns Efficiently by Prefix-Projected Pattern Growth", ICDE 2001; TKDE 16(11), 2004).
//!
//! **What it computes**: every sequential pattern (sequence of itemsets) contained in at least `min_count`
//! sequences, under the length, gap, span and first-item options.
//!
//! **How**: depth-first pattern growth. A pattern's projected database is a list of pairs (sequence,
//! itemset position) into the flat `Dense` array — no sequence is ever copied (the Spark MLlib layout).
//! For a node, one scan over the projection counts, per sequence once, the items that can extend the
//! pattern as a new itemset (s-extension: any item after the match) or inside the last itemset
//! (i-extension: items greater than the last item, in an itemset that contains the whole last itemset of
//! the pattern); a second scan fills the child projections of all frequent extensions at once.
//!
//! Two refinements of the scan, both exact: an item that is not a frequent s-extension of the parent
//! pattern cannot s-extend the child (SPAM's S-step pruning, Ayres et al. 2002), so only the parent's
//! frequent s-extensions are candidates; and when those are few compared with a sequence's suffix, they
//! are looked up in a per-sequence item → positions index (two binary searches each) instead of scanning
//! the suffix — the case of deep patterns supported by a few very long sessions (BMS1 at 0.06 %).
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
//! output is identical for any number of threads and only one chunk's patterns are held at a time; the
//! children of patterns of one or two items with large projections are mined in parallel as well (a
//! single heavy prefix would otherwise keep one core busy alone), appended in child order.

use rayon::prelude::*;

use crate::dense::{visit, Dense, Filter, Guard, Occ};
use crate::error::MiningError;
use crate::miner::{FrequentRun, Miner, RootOut};
use crate::params::{FromOptions, Options, Params};
use crate::pattern::{is_subset, Pattern};

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

/// A pattern of at most two items whose projection has at least this many sequences mines its
/// children in parallel (below it, the per-task scratch arrays cost more than they save).
const PAR_MIN_PROJECTION: usize = 64;

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
    /// Item → positions of every sequence (unconstrained mining only).
    idx: Option<PosIndex>,
    min: u32,
    filter: Filter,
    occ: Occ,
    constrained: bool,
    guard: &'a Guard,
    /// The sink streams: no subtree is buffered whole.
    streaming: bool,
}

impl Miner for PrefixSpan {
    fn mine_frequent(&self, run: FrequentRun<'_>) -> Result<u64, MiningError> {
        // Long sequences over few items: the vertical bitmaps of `spam` do the same search faster.
        crate::spam::mine_frequent(run, false)
    }

    fn name(&self) -> &'static str {
        "prefixspan"
    }

    fn options(&self) -> &Options {
        &self.opts
    }
}

/// PrefixSpan's pseudo-projection search over the prepared database `d` (also the bitmap kernel's
/// fallback under gap/span constraints).
pub(crate) fn mine_projected(
    run: &mut FrequentRun<'_>,
    d: &Dense,
    filter: Filter,
) -> Result<u64, MiningError> {
    let (opts, min_count) = (run.opts, run.min_count);
    let guard = Guard::new(opts.max_patterns);
    let constrained = opts.has_occurrence_constraints();
    let ctx = Ctx {
        d,
        idx: (!constrained).then(|| PosIndex::build(d)),
        min: min_count,
        filter,
        occ: Occ::new(opts),
        constrained,
        guard: &guard,
        streaming: run.streaming(),
    };
    let n_roots = match filter.first {
        Some(f) => f as usize + 1,
        None => d.n_ranks(),
    };
    let roots = root_projections(d, n_roots, ctx.constrained);
    run.emit_roots(n_roots, |r, out| {
        let mut sc = Scratch::new(d.n_ranks());
        let mut items = vec![r as u32];
        let mut ends = vec![1u32];
        ctx.grow(
            &mut sc,
            &mut items,
            &mut ends,
            &roots[r],
            d.rank_support[r],
            None,
            out,
        )
    })
}

/// Adds `child` to the projection of item `y`'s extension when `y` has one (`slots[y]` is its index
/// in `children`) and it was not added yet for the current source entry (`stamps[y] != tick`): each
/// sequence counts once per child.
#[inline]
fn push_child(
    slots: &[u32],
    stamps: &mut [u64],
    tick: u64,
    children: &mut [Vec<Entry>],
    y: u32,
    child: Entry,
) {
    let y = y as usize;
    let slot = slots[y];
    if slot != NONE && stamps[y] != tick {
        stamps[y] = tick;
        children[slot as usize].push(child);
    }
}

/// [`push_child`] for every i-extension of `set`: its items after `last`.
#[inline]
fn push_i_extensions(
    sc: &mut Scratch,
    tick: u64,
    i_proj: &mut [Vec<Entry>],
    set: &[u32],
    last: u32,
    child: Entry,
) {
    let from = set.partition_point(|&x| x <= last);
    for &y in &set[from..] {
        push_child(&sc.i_slot, &mut sc.i_stamp, tick, i_proj, y, child);
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
    ///
    /// `allowed`: the frequent s-extensions of the parent pattern (sorted), when known. An item that
    /// does not s-extend the parent cannot s-extend this pattern (it contains the parent), so only those
    /// are counted — SPAM's S-step pruning (Ayres et al. 2002) — and, when they are few compared with a
    /// sequence's suffix, they are looked up in the position index instead of scanning the suffix.
    #[allow(clippy::too_many_arguments)]
    fn grow(
        &self,
        sc: &mut Scratch,
        items: &mut Vec<u32>,
        ends: &mut Vec<u32>,
        proj: &[Entry],
        support: u32,
        allowed: Option<&[u32]>,
        out: &mut RootOut<'_>,
    ) -> Result<(), MiningError> {
        if !visit(self.d, &self.filter, self.guard, items, ends, support, out)? {
            return Ok(());
        }
        let (can_s, i_limit) = self.filter.extension_limits(items, ends);
        let last_start = if ends.len() > 1 {
            ends[ends.len() - 2] as usize
        } else {
            0
        };
        let lastset: &[u32] = &items[last_start..];
        let last = *items.last().unwrap_or(&0);

        let allowed = if can_s { allowed } else { Some(&[][..]) };
        self.count(sc, proj, lastset, last, can_s, allowed);
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
        let s_items: Vec<u32> = s_ext.iter().map(|&(y, _)| y).collect();
        self.project(
            sc,
            proj,
            &lastset_owned,
            last,
            &s_items,
            &mut i_proj,
            &mut s_proj,
        );
        // The children's pruning set: this pattern's frequent s-extensions (unknown when it could not
        // s-extend, e.g. before a required first item is in).
        let child_allowed: Option<&[u32]> = if can_s { Some(&s_items) } else { None };
        for &(y, _) in &i_ext {
            sc.i_slot[y as usize] = NONE;
        }
        for &(y, _) in &s_ext {
            sc.s_slot[y as usize] = NONE;
        }
        // Children as (is i-extension, item, support, projection), in output order.
        let children: Vec<(bool, u32, u32, Vec<Entry>)> = i_ext
            .into_iter()
            .zip(i_proj)
            .map(|((y, c), p)| (true, y, c, p))
            .chain(
                s_ext
                    .into_iter()
                    .zip(s_proj)
                    .map(|((y, c), p)| (false, y, c, p)),
            )
            .collect();
        let child = |sc: &mut Scratch,
                     items: &mut Vec<u32>,
                     ends: &mut Vec<u32>,
                     (is_i, y, c, p): &(bool, u32, u32, Vec<Entry>),
                     out: &mut RootOut<'_>| {
            items.push(*y);
            if *is_i {
                *ends.last_mut().unwrap_or(&mut 0) += 1;
            } else {
                ends.push(items.len() as u32);
            }
            let r = self.grow(sc, items, ends, p, *c, child_allowed, out);
            items.pop();
            if *is_i {
                if let Some(e) = ends.last_mut() {
                    *e -= 1;
                }
            } else {
                ends.pop();
            }
            r
        };
        // Near the root a subtree can hold most of the work (a few long sequences support deep
        // patterns): its children are mined in parallel too, each with its own scratch, and their
        // patterns appended in child order, so the output does not depend on the thread count.
        // (Not when streaming: a child's patterns would be held whole.)
        if items.len() <= 2
            && proj.len() >= PAR_MIN_PROJECTION
            && children.len() > 1
            && !self.streaming
        {
            let n = self.d.n_ranks();
            let parts: Vec<Result<Vec<Pattern>, MiningError>> = children
                .par_iter()
                .map(|ch| {
                    let mut sc = Scratch::new(n);
                    let (mut items, mut ends) = (items.clone(), ends.clone());
                    let mut part = RootOut::collect();
                    child(&mut sc, &mut items, &mut ends, ch, &mut part)?;
                    Ok(part.into_patterns())
                })
                .collect();
            for part in parts {
                out.extend(part?)?;
            }
        } else {
            for ch in &children {
                child(sc, items, ends, ch, out)?;
            }
        }
        Ok(())
    }

    /// Counts, per sequence once, the frequent-extension candidates of a projection.
    fn count(
        &self,
        sc: &mut Scratch,
        proj: &[Entry],
        lastset: &[u32],
        last: u32,
        can_s: bool,
        allowed: Option<&[u32]>,
    ) {
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
            } else if let (Some(idx), Some(a)) = (
                &self.idx,
                allowed.filter(|a| use_index(a.len(), seq_end - pos - 1)),
            ) {
                let sid = e.sid as usize;
                for &y in a {
                    if idx
                        .positions(sid, y)
                        .last()
                        .is_some_and(|&q| q as usize > pos)
                    {
                        bump(&mut sc.s_stamp, &mut sc.s_cnt, &mut sc.s_touched, y, tick);
                    }
                }
                for (_, tail) in idx.i_extension_sets(d, sid, pos, lastset, last) {
                    for &y in tail {
                        bump(&mut sc.i_stamp, &mut sc.i_cnt, &mut sc.i_touched, y, tick);
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
        s_items: &[u32],
        i_proj: &mut [Vec<Entry>],
        s_proj: &mut [Vec<Entry>],
    ) {
        let d = self.d;
        let times = d.times.as_deref();
        let any_s = !s_items.is_empty();
        if !self.constrained {
            for e in proj {
                sc.tick += 1;
                let tick = sc.tick;
                let pos = e.pos as usize;
                let seq_end = d.seq_starts[e.sid as usize + 1] as usize;
                let child = Entry {
                    pos: pos as u32,
                    ..*e
                };
                push_i_extensions(sc, tick, i_proj, d.set(pos), last, child);
                if let Some(idx) = self
                    .idx
                    .as_ref()
                    .filter(|_| use_index(s_items.len(), seq_end - pos - 1))
                {
                    // Same entries as the scan below, found through the position index: the first
                    // occurrence after `pos` of each frequent s-extension, and the itemsets after `pos`
                    // holding the last item for the i-extensions, in position order.
                    let sid = e.sid as usize;
                    for (slot, &y) in s_items.iter().enumerate() {
                        let ps = idx.positions(sid, y);
                        if let Some(&q) = ps.get(ps.partition_point(|&q| q as usize <= pos)) {
                            s_proj[slot].push(Entry { pos: q, ..*e });
                        }
                    }
                    for (q, tail) in idx.i_extension_sets(d, sid, pos, lastset, last) {
                        for &y in tail {
                            let child = Entry { pos: q, ..*e };
                            push_child(&sc.i_slot, &mut sc.i_stamp, tick, i_proj, y, child);
                        }
                    }
                    continue;
                }
                for q in pos + 1..seq_end {
                    let set = d.set(q);
                    if any_s {
                        for &y in set {
                            let child = Entry {
                                pos: q as u32,
                                ..*e
                            };
                            push_child(&sc.s_slot, &mut sc.s_stamp, tick, s_proj, y, child);
                        }
                    }
                    if set.last().is_some_and(|&m| m > last) && contains_all(set, lastset) {
                        let child = Entry {
                            pos: q as u32,
                            ..*e
                        };
                        push_i_extensions(sc, tick, i_proj, set, last, child);
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

/// Whether looking `candidates` items up in the position index beats scanning a suffix of `suffix`
/// itemsets (a lookup is two short binary searches; a scanned itemset costs about one bump per item;
/// the factor was tuned on BMS1 and BMS2).
#[inline]
fn use_index(candidates: usize, suffix: usize) -> bool {
    candidates * 2 < suffix
}

/// For every sequence, its distinct items (sorted) and each one's itemset positions (ascending), in
/// flat arrays: one `u32` per item occurrence plus two per (sequence, distinct item). A long sequence
/// (see [`DIRECT_MIN_DISTINCT`], [`DIRECT_RANKS_PER_OCCURRENCE`]) also has a direct table rank → its
/// entry, so a lookup there is one load instead of a binary search over its distinct items (the
/// searches were about 45 % of the profile of PrefixSpan on BMS1 at 0.06 % before the tables).
struct PosIndex {
    /// Sequence `s`'s distinct items are `items[seq_off[s]..seq_off[s + 1]]`.
    seq_off: Vec<u32>,
    items: Vec<u32>,
    /// Positions of `items[k]` are `pos[pos_off[k]..pos_off[k + 1]]`.
    pos_off: Vec<u32>,
    pos: Vec<u32>,
    /// Sequence `s`'s direct table is `direct[direct_off[s]..][..n_ranks]` (the `k` of each rank in
    /// `items`, or [`NONE`]); `direct_off[s]` is [`NONE`] when it has none.
    direct_off: Vec<u32>,
    direct: Vec<u32>,
}

/// A sequence gets a direct table when it has at least this many distinct items (fewer: the binary
/// search is a few steps)...
const DIRECT_MIN_DISTINCT: usize = 16;

/// ...and when the table (`n_ranks` entries) is at most this many entries per item occurrence of the
/// sequence, so the tables take at most 32 bytes per occurrence (BMS1 at 0.06 %: 368 ranks, tables for
/// its 77 sequences of 46 items or more, 113 KB).
const DIRECT_RANKS_PER_OCCURRENCE: usize = 8;

impl PosIndex {
    fn build(d: &Dense) -> PosIndex {
        let mut idx = PosIndex {
            seq_off: Vec::with_capacity(d.n_seqs() + 1),
            items: Vec::new(),
            pos_off: vec![0],
            pos: Vec::with_capacity(d.items.len()),
            direct_off: Vec::with_capacity(d.n_seqs()),
            direct: Vec::new(),
        };
        idx.seq_off.push(0);
        let n_ranks = d.n_ranks();
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for sid in 0..d.n_seqs() {
            pairs.clear();
            for q in d.seq(sid) {
                pairs.extend(d.set(q).iter().map(|&y| (y, q as u32)));
            }
            pairs.sort_unstable();
            let first = idx.items.len();
            for (k, &(y, q)) in pairs.iter().enumerate() {
                if k == 0 || pairs[k - 1].0 != y {
                    if k > 0 {
                        idx.pos_off.push(idx.pos.len() as u32);
                    }
                    idx.items.push(y);
                }
                idx.pos.push(q);
            }
            if !pairs.is_empty() {
                idx.pos_off.push(idx.pos.len() as u32);
            }
            idx.seq_off.push(idx.items.len() as u32);
            let distinct = &idx.items[first..];
            if distinct.len() >= DIRECT_MIN_DISTINCT
                && n_ranks <= DIRECT_RANKS_PER_OCCURRENCE * pairs.len()
            {
                let off = idx.direct.len();
                idx.direct_off.push(off as u32);
                idx.direct.resize(off + n_ranks, NONE);
                for (k, &y) in distinct.iter().enumerate() {
                    idx.direct[off + y as usize] = (first + k) as u32;
                }
            } else {
                idx.direct_off.push(NONE);
            }
        }
        idx
    }

    /// The itemsets after `pos` in sequence `sid` that contain the whole `lastset` (so also its `last`
    /// item: they are found among `last`'s positions), in position order, each with its items above
    /// `last` — the candidates of an i-extension.
    fn i_extension_sets<'a>(
        &'a self,
        d: &'a Dense,
        sid: usize,
        pos: usize,
        lastset: &'a [u32],
        last: u32,
    ) -> impl Iterator<Item = (u32, &'a [u32])> + 'a {
        let ps = self.positions(sid, last);
        ps[ps.partition_point(|&q| q as usize <= pos)..]
            .iter()
            .filter_map(move |&q| {
                let set = d.set(q as usize);
                (set.last().is_some_and(|&m| m > last) && contains_all(set, lastset))
                    .then(|| (q, &set[set.partition_point(|&x| x <= last)..]))
            })
    }

    /// Ascending itemset positions of item `y` in sequence `sid` (empty when absent).
    #[inline]
    fn positions(&self, sid: usize, y: u32) -> &[u32] {
        let off = self.direct_off[sid];
        let k = if off != NONE {
            match self.direct[off as usize + y as usize] {
                NONE => return &[],
                k => k as usize,
            }
        } else {
            let (a, b) = (self.seq_off[sid] as usize, self.seq_off[sid + 1] as usize);
            match self.items[a..b].binary_search(&y) {
                Ok(k) => a + k,
                Err(_) => return &[],
            }
        };
        &self.pos[self.pos_off[k] as usize..self.pos_off[k + 1] as usize]
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
    use cartseq_data::SequenceDb;

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

    /// Long sequences over few items send most nodes down the position-index path (few candidate
    /// s-extensions, long suffixes); SPADE, which shares no code with it, must find the same patterns.
    #[test]
    fn position_index_path_agrees_with_spade() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |m: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % m
        };
        // Four common items among 44: few frequent s-extensions, long suffixes.
        fn item(next: &mut impl FnMut(u64) -> u64) -> u32 {
            if next(5) != 0 {
                next(4) as u32
            } else {
                4 + next(40) as u32
            }
        }
        let seqs: Vec<Vec<Vec<u32>>> = (0..80)
            .map(|_| {
                let len = 60 + next(120) as usize;
                (0..len)
                    .map(|_| {
                        let a = item(&mut next);
                        let mut set = vec![a];
                        if next(3) == 0 {
                            let b = item(&mut next);
                            if b != a {
                                set.push(b);
                            }
                        }
                        set.sort_unstable();
                        set
                    })
                    .collect()
            })
            .collect();
        let db = from_nested(&seqs);
        let run = |m: &dyn Miner| {
            let mut sink = CollectSink::new();
            m.mine(&db, &mut sink).unwrap();
            let mut v: Vec<String> = sink.patterns.iter().map(|p| p.to_spmf()).collect();
            v.sort();
            v
        };
        for (min, max_len) in [(60, 4), (70, 5)] {
            let ps = PrefixSpan::params()
                .min_count(min)
                .max_len(max_len)
                .check()
                .unwrap();
            let sp = crate::spade::Spade::params()
                .min_count(min)
                .max_len(max_len)
                .check()
                .unwrap();
            let (a, b) = (run(&ps), run(&sp));
            assert!(
                a.len() > 100,
                "too few patterns to exercise anything: {}",
                a.len()
            );
            assert_eq!(a, b, "min {min} max_len {max_len}");
        }
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
