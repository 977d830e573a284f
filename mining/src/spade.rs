//! SPADE: sequential patterns by joins of vertical id-lists (Zaki, "SPADE: An Efficient Algorithm for
//! Mining Frequent Sequences", Machine Learning 42, 2001), depth-first over equivalence classes, with the
//! co-occurrence pruning of CM-SPADE (Fournier-Viger, Gomariz, Campos, Thomas: "Fast Vertical Mining of
//! Sequential Patterns Using Co-occurrence Information", PAKDD 2014) when a max gap is set.
//!
//! **What it computes**: the same frequent patterns as [`crate::prefixspan`], under the same options.
//!
//! **How**: the id-list of a pattern is, per sequence containing it, the sorted itemset positions where an
//! occurrence of the pattern can *end* (plus, under span/gap constraints, the latest start of such an
//! occurrence). The class of a prefix `P` holds its frequent one-item extensions ("atoms") `P→x`
//! (new itemset) and `P(x)` (added to the last itemset). Joining two atoms of a class gives the next class:
//! `P→x` with `P→y` yields `P→x→y` (temporal join: ends of `P→y` after the first end of `P→x`) and
//! `P→(x y)` for `y > x` (equality join: common ends); `P(x)` with `P(y)` yields `P(x y)`, and with
//! `P→y` yields `P(x)→y`. With a max gap the temporal join must measure the gap from `x`, not from `P`,
//! so it joins with the one-item id-list of `y` instead, and the candidates `y` are all items that follow
//! the last item within the gap somewhere (the CMAP of CM-SPADE).
//!
//! **Cost**: memory O(database) for the one-item id-lists plus the id-lists of the classes on the current
//! path; time proportional to the id-list sizes joined. Root atoms are mined in parallel (rayon) in
//! chunks emitted in item order, so the output does not depend on the number of threads.

use hashbrown::HashMap;

use crate::dense::{visit, Dense, Filter, Guard, Occ};
use crate::error::MiningError;
use crate::miner::{FrequentRun, Miner, RootOut};
use crate::params::{FromOptions, Options, Params};

/// The SPADE miner (build it with [`Spade::params`]).
#[derive(Debug, Clone)]
pub struct Spade {
    opts: Options,
}

impl Spade {
    /// The parameter builder: `Spade::params().min_count(2).check()?`.
    pub fn params() -> Params<Spade> {
        Params::default()
    }

    pub(crate) fn with(opts: Options) -> Self {
        Spade { opts }
    }
}

impl FromOptions for Spade {
    fn from_options(opts: Options) -> Self {
        Spade { opts }
    }
}

/// A vertical id-list: for each sequence (ascending) its end positions (ascending) and, with constraints,
/// the latest start of an occurrence ending there.
#[derive(Debug, Clone, Default)]
pub struct IdList {
    sids: Vec<u32>,
    offs: Vec<u32>,
    eids: Vec<u32>,
    starts: Vec<u32>,
}

impl IdList {
    fn new() -> Self {
        IdList {
            offs: vec![0],
            ..Default::default()
        }
    }

    /// An id-list from `(sequence, position)` pairs sorted by sequence then position (benches, tests).
    pub fn from_pairs(pairs: &[(u32, u32)]) -> IdList {
        let mut l = IdList::new();
        let mut cur = None;
        for &(sid, eid) in pairs {
            if cur.is_some_and(|c| c != sid) {
                l.close(cur.unwrap_or(0));
            }
            cur = Some(sid);
            l.eids.push(eid);
        }
        if let Some(c) = cur {
            l.close(c);
        }
        l
    }

    /// Number of sequences (the support).
    #[inline]
    pub fn support(&self) -> u32 {
        self.sids.len() as u32
    }

    #[inline]
    fn group(&self, i: usize) -> std::ops::Range<usize> {
        self.offs[i] as usize..self.offs[i + 1] as usize
    }

    #[inline]
    fn close(&mut self, sid: u32) {
        if self.eids.len() > *self.offs.last().unwrap_or(&0) as usize {
            self.sids.push(sid);
            self.offs.push(self.eids.len() as u32);
        }
    }
}

/// Joins of id-lists; `track` keeps starts (constraints), `occ` checks gaps and spans.
#[derive(Clone, Copy)]
pub struct Joiner<'a> {
    occ: Occ,
    track: bool,
    times: Option<&'a [i64]>,
    min: u32,
}

impl Joiner<'static> {
    /// A joiner without gap/span constraints keeping results with support ≥ `min`.
    pub fn unconstrained(min: u32) -> Self {
        Joiner {
            occ: Occ {
                gap: u32::MAX,
                span: u32::MAX,
                gap_time: None,
                span_time: None,
            },
            track: false,
            times: None,
            min,
        }
    }
}

impl Joiner<'_> {
    /// Walks the sequences `a` and `b` share, in order, letting `join` add the ends of each to the
    /// result (given both groups' positions in their `eids`); `None` as soon as the sequences left
    /// cannot reach the minimum support.
    #[inline]
    fn merge(
        &self,
        a: &IdList,
        b: &IdList,
        mut join: impl FnMut(&mut IdList, std::ops::Range<usize>, std::ops::Range<usize>),
    ) -> Option<IdList> {
        let mut out = IdList::new();
        let (mut i, mut j) = (0, 0);
        while i < a.sids.len() && j < b.sids.len() {
            let left = (a.sids.len() - i).min(b.sids.len() - j) as u32;
            if out.support() + left < self.min {
                return None;
            }
            let (sa, sb) = (a.sids[i], b.sids[j]);
            if sa < sb {
                i += 1;
                continue;
            }
            if sb < sa {
                j += 1;
                continue;
            }
            join(&mut out, a.group(i), b.group(j));
            out.close(sa);
            i += 1;
            j += 1;
        }
        (out.support() >= self.min).then_some(out)
    }

    /// Temporal join: ends of `b` preceded by an end of `a` (within the constraints).
    pub fn s_join(&self, a: &IdList, b: &IdList) -> Option<IdList> {
        self.merge(a, b, |out, ga, gb| {
            if !self.track {
                let first = a.eids[ga.start];
                for &e in &b.eids[gb] {
                    if e > first {
                        out.eids.push(e);
                    }
                }
                return;
            }
            for &e in &b.eids[gb] {
                let mut best: Option<u32> = None;
                for k in ga.clone() {
                    let p = a.eids[k];
                    if p >= e {
                        break;
                    }
                    let s = a.starts[k];
                    if self
                        .occ
                        .allows(self.times, s as usize, p as usize, e as usize)
                        && best.map_or(true, |b| s > b)
                    {
                        best = Some(s);
                    }
                }
                if let Some(s) = best {
                    out.eids.push(e);
                    out.starts.push(s);
                }
            }
        })
    }

    /// Equality join: common ends (starts taken from `a`, which has the same prefix occurrences).
    pub fn i_join(&self, a: &IdList, b: &IdList) -> Option<IdList> {
        self.merge(a, b, |out, ga, gb| {
            let (mut x, mut y) = (ga.start, gb.start);
            while x < ga.end && y < gb.end {
                let (ea, eb) = (a.eids[x], b.eids[y]);
                if ea < eb {
                    x += 1;
                } else if eb < ea {
                    y += 1;
                } else {
                    out.eids.push(ea);
                    if self.track {
                        out.starts.push(a.starts[x]);
                    }
                    x += 1;
                    y += 1;
                }
            }
        })
    }
}

/// One member of an equivalence class.
struct Atom {
    item: u32,
    is_s: bool,
    list: IdList,
}

struct Ctx<'a> {
    d: &'a Dense,
    join: Joiner<'a>,
    filter: Filter,
    guard: &'a Guard,
    roots: &'a [Atom],
    /// Gap mode: for each item, the items that follow it within the gap in enough sequences.
    cmap: Option<Vec<Vec<u32>>>,
}

impl Miner for Spade {
    fn mine_frequent(&self, mut run: FrequentRun<'_>) -> Result<u64, MiningError> {
        let Some((d, filter)) = run.dense() else {
            return Ok(0);
        };
        let (opts, min_count) = (run.opts, run.min_count);
        let track = opts.has_occurrence_constraints();
        let occ = Occ::new(opts);
        let join = Joiner {
            occ,
            track,
            times: d.times.as_deref(),
            min: min_count,
        };
        let roots = root_atoms(&d, track);
        let gap_mode = opts.max_gap.is_set();
        let cmap = gap_mode.then(|| cmap(&d, occ, min_count));
        let guard = Guard::new(opts.max_patterns);
        let ctx = Ctx {
            d: &d,
            join,
            filter,
            guard: &guard,
            roots: &roots,
            cmap,
        };
        let n_roots = match filter.first {
            Some(f) => f as usize + 1,
            None => roots.len(),
        };
        run.emit_roots(n_roots, |i, out| {
            let mut items = vec![roots[i].item];
            let mut ends = vec![1u32];
            ctx.expand(&mut items, &mut ends, &roots[i], &roots, out)
        })
    }

    fn name(&self) -> &'static str {
        "spade"
    }

    fn options(&self) -> &Options {
        &self.opts
    }
}

/// One-item id-lists (every position of every frequent item).
fn root_atoms(d: &Dense, track: bool) -> Vec<Atom> {
    let n = d.n_ranks();
    let mut lists: Vec<IdList> = (0..n)
        .map(|r| {
            let mut l = IdList::new();
            l.sids.reserve(d.rank_support[r] as usize);
            l
        })
        .collect();
    for sid in 0..d.n_seqs() {
        for q in d.seq(sid) {
            for &y in d.set(q) {
                let l = &mut lists[y as usize];
                l.eids.push(q as u32);
                if track {
                    l.starts.push(q as u32);
                }
            }
        }
        for &y in d.items[d.set_starts[d.seq_starts[sid] as usize] as usize
            ..d.set_starts[d.seq_starts[sid + 1] as usize] as usize]
            .iter()
        {
            let l = &mut lists[y as usize];
            if l.sids.last() != Some(&(sid as u32)) {
                l.sids.push(sid as u32);
                l.offs.push(l.eids.len() as u32);
            }
        }
    }
    lists
        .into_iter()
        .enumerate()
        .map(|(r, list)| Atom {
            item: r as u32,
            is_s: true,
            list,
        })
        .collect()
}

/// CMAP under the gap: for each item x, the items y such that `x` then `y` (in a later itemset within
/// the gap) occurs in at least `min` sequences. A necessary condition for any s-extension by `y` of a
/// pattern ending in `x`.
fn cmap(d: &Dense, occ: Occ, min: u32) -> Vec<Vec<u32>> {
    let times = d.times.as_deref();
    let mut count: HashMap<u64, (u32, u32)> = HashMap::new();
    for sid in 0..d.n_seqs() {
        let r = d.seq(sid);
        for p in r.clone() {
            for q in p + 1..r.end {
                if occ.past(times, p, p, q) {
                    break;
                }
                for &x in d.set(p) {
                    for &y in d.set(q) {
                        let e = count
                            .entry(((x as u64) << 32) | y as u64)
                            .or_insert((u32::MAX, 0));
                        if e.0 != sid as u32 {
                            e.0 = sid as u32;
                            e.1 += 1;
                        }
                    }
                }
            }
        }
    }
    let mut out = vec![Vec::new(); d.n_ranks()];
    for (k, (_, c)) in count {
        if c >= min {
            out[(k >> 32) as usize].push(k as u32);
        }
    }
    for v in &mut out {
        v.sort_unstable();
    }
    out
}

impl Ctx<'_> {
    /// Emits atom `a` (pattern `items`/`ends`) and mines its class, whose candidates are `siblings`.
    fn expand(
        &self,
        items: &mut Vec<u32>,
        ends: &mut Vec<u32>,
        a: &Atom,
        siblings: &[Atom],
        out: &mut RootOut<'_>,
    ) -> Result<(), MiningError> {
        if !visit(
            self.d,
            &self.filter,
            self.guard,
            items,
            ends,
            a.list.support(),
            out,
        )? {
            return Ok(());
        }
        let can_s = ends.len() < self.filter.max_itemsets;
        // With a required first item still missing from the (only) itemset, only i-extensions up to that
        // item can lead to output; the other children are still built, as siblings for the joins.
        let mut i_limit = u32::MAX;
        let mut expand_s = true;
        if let Some(f) = self.filter.first {
            if ends.len() == 1 && !items.contains(&f) {
                expand_s = false;
                i_limit = f;
            }
        }
        let mut children: Vec<Atom> = Vec::new();
        for b in siblings {
            if b.is_s == a.is_s && b.item > a.item {
                if let Some(list) = self.join.i_join(&a.list, &b.list) {
                    children.push(Atom {
                        item: b.item,
                        is_s: false,
                        list,
                    });
                }
            }
        }
        if can_s {
            match &self.cmap {
                Some(cmap) => {
                    for &y in &cmap[a.item as usize] {
                        if let Some(list) = self.join.s_join(&a.list, &self.roots[y as usize].list)
                        {
                            children.push(Atom {
                                item: y,
                                is_s: true,
                                list,
                            });
                        }
                    }
                }
                None => {
                    for b in siblings.iter().filter(|b| b.is_s) {
                        if let Some(list) = self.join.s_join(&a.list, &b.list) {
                            children.push(Atom {
                                item: b.item,
                                is_s: true,
                                list,
                            });
                        }
                    }
                }
            }
        }
        for c in &children {
            if (c.is_s && !expand_s) || (!c.is_s && c.item > i_limit) {
                continue;
            }
            items.push(c.item);
            if c.is_s {
                ends.push(items.len() as u32);
            } else if let Some(e) = ends.last_mut() {
                *e += 1;
            }
            let r = self.expand(items, ends, c, &children, out);
            items.pop();
            if c.is_s {
                ends.pop();
            } else if let Some(e) = ends.last_mut() {
                *e -= 1;
            }
            r?;
        }
        Ok(())
    }
}
