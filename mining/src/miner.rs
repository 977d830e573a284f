//! The [`Miner`] trait every sequential pattern algorithm implements, the [`Algorithm`] registry, and the
//! shared driver that turns "all frequent patterns under the constraints" into closed, maximal and top-k
//! answers, identically for every algorithm.
//!
//! Closed and maximal patterns are computed from the complete frequent set with the one-item-extension
//! argument: a pattern `P` has a super-pattern with the same support iff it has one with exactly one item
//! more (supports are monotone along any chain of one-item extensions), and `P` has a frequent
//! super-pattern iff it has a frequent one-item extension. So one hash lookup per (pattern, deleted item)
//! decides both: O(patterns × length) time, memory for the frequent set (closed and maximal are not
//! streamed). Top-k mines from the highest item support down (by halves while far from k patterns, then
//! by quarters, pausing at the k-th highest item support, where k one-item patterns are answers) while
//! fewer than k patterns are found, then keeps every pattern with support ≥ the k-th highest, so ties are
//! all included. Plain top-k streams into a [`TopKSink`], so only the patterns at or above the running
//! k-th support are held.

use std::time::{Duration, Instant};

use cartseq_data::SequenceDb;
use hashbrown::HashMap;

use rayon::prelude::*;

use crate::dense::{item_supports, Dense, Filter};
use crate::error::MiningError;
use crate::params::{Condense, Options};
use crate::pattern::Pattern;
use crate::sink::{PatternSink, TopKSink};

/// What a run reports (SPMF-style statistics).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MineStats {
    /// Sequences in the database.
    pub sequences: usize,
    /// The absolute minimum support used (for top-k: the final threshold).
    pub min_count: u32,
    /// Patterns given to the sink.
    pub patterns: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
}

/// A sequential pattern miner. Implementors provide [`Miner::mine_frequent`]; [`Miner::mine`] adds the
/// condensed outputs (closed, maximal, top-k) on top, the same way for every algorithm.
pub trait Miner: Sync {
    /// Short name (`prefixspan`, `spade`, `gsp`).
    fn name(&self) -> &'static str;

    /// The validated options.
    fn options(&self) -> &Options;

    /// Sends to `run.sink` every pattern of `run.db` with support ≥ `run.min_count` that satisfies the
    /// length, gap, span and first-item options of `run.opts` (ignoring `condense`, `top_k` and
    /// `min_support`), in a deterministic order independent of the thread count. Returns the number of
    /// patterns sent.
    fn mine_frequent(&self, run: FrequentRun<'_>) -> Result<u64, MiningError>;

    /// Mines `db` with [`Miner::options`] into `sink`.
    fn mine(&self, db: &SequenceDb, sink: &mut dyn PatternSink) -> Result<MineStats, MiningError> {
        mine_with(self, db, self.options(), sink)
    }
}

/// One call of [`Miner::mine_frequent`]: what to mine, at which support, and where the patterns go.
/// The driver ([`mine_with`]) makes it; every algorithm receives the same four things the same way.
pub struct FrequentRun<'a> {
    /// The database.
    pub db: &'a SequenceDb,
    /// The options (`condense`, `top_k` and `min_support` are the driver's business, not the
    /// algorithm's).
    pub opts: &'a Options,
    /// The absolute minimum support.
    pub min_count: u32,
    /// Where the patterns go.
    pub sink: &'a mut dyn PatternSink,
}

impl FrequentRun<'_> {
    /// The preparation PrefixSpan, SPADE and GSP share: the dense copy of the database without the
    /// items below `min_count` (keeping emptied itemsets when a gap or span counts itemset positions),
    /// and the output filter. `None` when nothing can be output (the required first item is not
    /// frequent).
    pub(crate) fn dense(&self) -> Option<(Dense, Filter)> {
        let keep_positions =
            self.opts.max_gap.positions.is_some() || self.opts.max_span.positions.is_some();
        let d = Dense::build(self.db, self.min_count, keep_positions);
        let filter = Filter::new(self.opts, &d)?;
        Some((d, filter))
    }

    /// Whether the sink streams (then miners keep no subtree's patterns whole: see
    /// [`FrequentRun::emit_roots`]).
    pub(crate) fn streaming(&self) -> bool {
        self.sink.streams()
    }

    /// Mines the subtrees of roots `0..n_roots` in parallel (`mine_root(r, out)` pushes root `r`'s
    /// patterns into `out`) and sends them to the sink in root order, so the output is the same for
    /// any thread count. Returns the number of patterns sent.
    ///
    /// Collecting sinks: roots go in chunks of 16 per thread, each root's patterns buffered whole.
    /// Streaming sinks ([`PatternSink::streams`]): each thread claims the next root in order; the
    /// thread holding the lowest unfinished root (the head) passes its patterns on in batches of
    /// [`STREAM_BATCH`] as it finds them; the batches of later roots are parked until their root is
    /// the head (up to [`PARK_LIMIT`] patterns in all; beyond, their threads wait), so a thread goes
    /// on with the next root without waiting for the head. Memory is thus bounded by the search depth
    /// plus threads × one batch plus the parking room, whatever the number of patterns, and the first
    /// patterns reach the output at once.
    pub(crate) fn emit_roots<F>(&mut self, n_roots: usize, mine_root: F) -> Result<u64, MiningError>
    where
        F: Fn(usize, &mut RootOut<'_>) -> Result<(), MiningError> + Sync,
    {
        if self.sink.streams() {
            return self.emit_roots_streaming(n_roots, mine_root);
        }
        let chunk = (rayon::current_num_threads() * 16).max(64);
        let mut emitted = 0u64;
        for start in (0..n_roots).step_by(chunk) {
            let outs: Vec<Result<Vec<Pattern>, MiningError>> = (start
                ..(start + chunk).min(n_roots))
                .into_par_iter()
                .map(|r| {
                    let mut out = RootOut::collect();
                    mine_root(r, &mut out)?;
                    Ok(out.buf)
                })
                .collect();
            for o in outs {
                for p in o? {
                    self.sink.accept(p)?;
                    emitted += 1;
                }
            }
        }
        Ok(emitted)
    }

    fn emit_roots_streaming<F>(&mut self, n_roots: usize, mine_root: F) -> Result<u64, MiningError>
    where
        F: Fn(usize, &mut RootOut<'_>) -> Result<(), MiningError> + Sync,
    {
        use std::collections::BTreeMap;
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        use std::sync::{mpsc, Condvar, Mutex};

        /// The head root, and the batches of later roots waiting for their turn (with whether the
        /// root is finished), at most [`PARK_LIMIT`] patterns in all.
        struct Order {
            head: usize,
            parked: BTreeMap<usize, (Vec<Vec<Pattern>>, bool)>,
            parked_len: usize,
        }
        type Msg = Result<(Vec<Pattern>, bool), MiningError>;
        let threads = rayon::current_num_threads().clamp(1, n_roots.max(1));
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let order = (
            Mutex::new(Order {
                head: 0,
                parked: BTreeMap::new(),
                parked_len: 0,
            }),
            Condvar::new(),
        );
        let lock = || order.0.lock().unwrap_or_else(|e| e.into_inner());
        let stopped = || MiningError::Params("stopped".into());
        let (tx, rx) = mpsc::sync_channel::<Msg>(4);
        // Passes a batch of root `r` on: to the channel when `r` is the head, else parked when there
        // is room, else after waiting for one or the other.
        let deliver = |tx: &mpsc::SyncSender<Msg>, r: usize, pats: Vec<Pattern>, done: bool| {
            let mut o = lock();
            loop {
                if stop.load(Ordering::Relaxed) {
                    return Err(stopped());
                }
                if o.head == r {
                    drop(o);
                    return tx.send(Ok((pats, done))).map_err(|_| stopped());
                }
                if o.parked_len + pats.len() <= PARK_LIMIT {
                    o.parked_len += pats.len();
                    let e = o.parked.entry(r).or_default();
                    e.0.push(pats);
                    e.1 = done;
                    return Ok(());
                }
                o = order.1.wait(o).unwrap_or_else(|e| e.into_inner());
            }
        };
        let mut emitted = 0u64;
        let sink = &mut *self.sink;
        std::thread::scope(|s| -> Result<(), MiningError> {
            for _ in 0..threads {
                let tx = tx.clone();
                let (next, stop, deliver, mine_root) = (&next, &stop, &deliver, &mine_root);
                s.spawn(move || loop {
                    let r = next.fetch_add(1, Ordering::Relaxed);
                    if r >= n_roots || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let flush =
                        |buf: &mut Vec<Pattern>| deliver(&tx, r, std::mem::take(buf), false);
                    let mut out = RootOut {
                        buf: Vec::new(),
                        flush: Some(&flush),
                    };
                    let sent = match mine_root(r, &mut out) {
                        Ok(()) => deliver(&tx, r, out.buf, true),
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            break;
                        }
                    };
                    if sent.is_err() {
                        break;
                    }
                });
            }
            drop(tx);
            let result = (|| {
                let mut head = 0usize;
                let mut emit = |pats: Vec<Pattern>| -> Result<(), MiningError> {
                    for p in pats {
                        sink.accept(p)?;
                        emitted += 1;
                    }
                    Ok(())
                };
                while head < n_roots {
                    // The head's parked batches first (older than anything it sends from now on).
                    let (batches, done) = {
                        let mut o = lock();
                        o.head = head;
                        let taken = o.parked.remove(&head).unwrap_or_default();
                        o.parked_len -= taken.0.iter().map(Vec::len).sum::<usize>();
                        order.1.notify_all();
                        taken
                    };
                    for b in batches {
                        emit(b)?;
                    }
                    if done {
                        head += 1;
                        continue;
                    }
                    let Ok(msg) = rx.recv() else { break };
                    let (pats, done) = msg?;
                    emit(pats)?;
                    head += usize::from(done);
                }
                Ok(())
            })();
            stop.store(true, Ordering::Relaxed);
            order.1.notify_all();
            drop(rx);
            result
        })?;
        Ok(emitted)
    }
}

/// Patterns of later roots a streaming run may hold while the head root is still being mined.
const PARK_LIMIT: usize = 32 * STREAM_BATCH;

/// Patterns per batch a streaming miner passes on (or holds while waiting for its turn).
pub const STREAM_BATCH: usize = 4096;

/// Where a miner puts one root's patterns: kept whole (collecting sinks) or passed on in batches of
/// [`STREAM_BATCH`] (streaming sinks; see `FrequentRun::emit_roots`).
pub struct RootOut<'a> {
    buf: Vec<Pattern>,
    flush: Option<Flush<'a>>,
}

/// Passes a full batch of a streaming root's patterns on.
type Flush<'a> = &'a dyn Fn(&mut Vec<Pattern>) -> Result<(), MiningError>;

impl RootOut<'_> {
    /// An output that keeps every pattern.
    pub(crate) fn collect() -> Self {
        RootOut {
            buf: Vec::new(),
            flush: None,
        }
    }

    /// Adds a pattern (in the miner's deterministic order).
    #[inline]
    pub(crate) fn push(&mut self, p: Pattern) -> Result<(), MiningError> {
        self.buf.push(p);
        match self.flush {
            Some(f) if self.buf.len() >= STREAM_BATCH => f(&mut self.buf),
            _ => Ok(()),
        }
    }

    /// Appends the patterns of a sub-search mined separately (collect mode).
    pub(crate) fn extend(&mut self, v: Vec<Pattern>) -> Result<(), MiningError> {
        for p in v {
            self.push(p)?;
        }
        Ok(())
    }

    /// The buffered patterns (collect mode: all of them).
    pub(crate) fn into_patterns(self) -> Vec<Pattern> {
        self.buf
    }
}

/// The available algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// PrefixSpan with pseudo-projection (the default: fastest on sparse click data).
    PrefixSpan,
    /// SPADE on vertical id-lists.
    Spade,
    /// GSP, level-wise candidate generation.
    Gsp,
}

// Any case; `aprioriall` is GSP's answer.
cartseq_data::named_enum!(Algorithm, "a miner", fold = |s: &str| s.to_ascii_lowercase(), [
    "prefixspan" => Algorithm::PrefixSpan,
    "spade" | "cm-spade" => Algorithm::Spade,
    "gsp" | "aprioriall" => Algorithm::Gsp,
]);

impl Algorithm {
    /// All algorithms.
    pub const ALL: [Algorithm; 3] = [Algorithm::PrefixSpan, Algorithm::Spade, Algorithm::Gsp];

    /// A boxed miner with validated options.
    pub fn miner(self, opts: Options) -> Result<Box<dyn Miner>, MiningError> {
        opts.validate()?;
        Ok(match self {
            Algorithm::PrefixSpan => Box::new(crate::prefixspan::PrefixSpan::with(opts)),
            Algorithm::Spade => Box::new(crate::spade::Spade::with(opts)),
            Algorithm::Gsp => Box::new(crate::gsp::Gsp::with(opts)),
        })
    }
}

/// Checks that timestamps exist and are non-decreasing inside each sequence when a constraint in time
/// needs them.
fn check_times(db: &SequenceDb, opts: &Options) -> Result<(), MiningError> {
    if !opts.needs_times() {
        return Ok(());
    }
    if db.times().is_none() {
        return Err(MiningError::Input(
            "--max-gap-time / --max-span-time need timestamps, and this input has none \
             (use a preset with a time column, or SPMF input with <t> stamps)"
                .into(),
        ));
    }
    for s in db.iter() {
        if let Some(t) = s.times() {
            if t.windows(2).any(|w| w[0] > w[1]) {
                return Err(MiningError::Input(format!(
                    "timestamps of sequence {} are not in order; time constraints need ordered sequences",
                    s.index() + 1
                )));
            }
        }
    }
    Ok(())
}

/// Runs `miner` on `db` with `opts` (condensed outputs included) into `sink`.
pub fn mine_with<M: Miner + ?Sized>(
    miner: &M,
    db: &SequenceDb,
    opts: &Options,
    sink: &mut dyn PatternSink,
) -> Result<MineStats, MiningError> {
    let started = Instant::now();
    opts.validate()?;
    check_times(db, opts)?;
    let floor = opts.min_support.absolute(db.len());
    let mut stats = MineStats {
        sequences: db.len(),
        min_count: floor,
        ..MineStats::default()
    };
    if opts.condense == Condense::All && opts.top_k.is_none() {
        stats.patterns = miner.mine_frequent(FrequentRun {
            db,
            opts,
            min_count: floor,
            sink,
        })?;
        stats.elapsed = started.elapsed();
        return Ok(stats);
    }
    // Condensed outputs need the frequent set without output-only filters.
    let mut inner = opts.clone();
    if opts.condense != Condense::All {
        inner.min_items = 1;
        inner.min_itemsets = 1;
        inner.first_item = None;
    }
    let (mut threshold, kth_item) = match opts.top_k {
        Some(k) => {
            let (top, kth) = top_k_start(db, k);
            (top.max(floor), kth.max(floor))
        }
        None => (floor, floor),
    };
    // One round: the frequent set at `min_count` into `sink`, a guard's advice naming `--top-k`.
    let round = |min_count: u32, sink: &mut dyn PatternSink| {
        let run = FrequentRun {
            db,
            opts: &inner,
            min_count,
            sink,
        };
        miner
            .mine_frequent(run)
            .map_err(|e| e.during_top_k(opts.top_k))
    };
    let result = loop {
        let mut kept = match (opts.condense, opts.top_k) {
            // Plain top-k: only the patterns at or above the running k-th support stay in memory.
            (Condense::All, Some(k)) => {
                let mut top = TopKSink::new(k);
                round(threshold, &mut top)?;
                top.into_patterns()
            }
            _ => {
                let mut all: Vec<Pattern> = Vec::new();
                round(threshold, &mut all)?;
                let mut kept = condense(all, opts.condense);
                kept.retain(|p| keeps(opts, p));
                kept
            }
        };
        match opts.top_k {
            Some(k) if kept.len() < k && threshold > floor => {
                // Halve while far from k; near it, step down by a quarter: pattern counts can grow
                // by orders of magnitude within a halving (BMS1: 4,747 patterns at 57, 48,543 at 40,
                // 4.8 million at 34; k = 10,000 needs 48).
                let next = if kept.len() < k / 8 {
                    threshold / 2
                } else {
                    threshold - (threshold / 4).max(1)
                };
                // Stop once at the k-th item support on the way down: its k items are answers
                // unless an output filter drops one-item patterns, so there the search usually ends.
                threshold = if threshold > kth_item && next < kth_item {
                    kth_item
                } else {
                    next.max(floor)
                };
            }
            Some(k) => {
                let (v, t) = keep_top_k(kept, k);
                stats.min_count = t.max(threshold);
                break v;
            }
            None => {
                kept.sort_unstable_by(|a, b| a.cmp_support_desc(b));
                break kept;
            }
        }
    };
    stats.patterns = result.len() as u64;
    for p in result {
        sink.accept(p)?;
    }
    stats.elapsed = started.elapsed();
    Ok(stats)
}

/// Output-only filters (min lengths and required first item) on an original-item pattern.
fn keeps(opts: &Options, p: &Pattern) -> bool {
    p.num_items() >= opts.min_items
        && p.num_itemsets() >= opts.min_itemsets
        && opts.first_item.map_or(true, |f| p.itemset(0).contains(&f))
}

/// Where top-k starts, and where its halving pauses: the highest single-item support, and the k-th
/// highest (0 with fewer than k items). The k-th item support is a lower bound of the answer's
/// threshold (those k items are answers) but can lie far below it: on kosarak10k it is 14 for k =
/// 1,000, whose threshold is 64, and mining at 14 passes the 10-million pattern guard (at 32: 4,665
/// patterns). Stepping down from the top ends between three quarters of the threshold and the
/// threshold (or half, when one step crosses from fewer than k/8 patterns to k), after a few cheap
/// rounds. (Half the smallest item support, the start with fewer than k items until 2026-12-04,
/// is 1 on BMS1 for k = 1,000: every pattern in one round, 57 s and 18.5 GB.)
fn top_k_start(db: &SequenceDb, k: usize) -> (u32, u32) {
    let mut sup: Vec<u32> = item_supports(db).into_iter().map(|x| x.1).collect();
    sup.sort_unstable_by(|a, b| b.cmp(a));
    (
        sup.first().map_or(1, |&s| s.max(1)),
        sup.get(k - 1).copied().unwrap_or(0),
    )
}

/// Every pattern with support ≥ the k-th highest support, sorted; also returns that support.
fn keep_top_k(mut v: Vec<Pattern>, k: usize) -> (Vec<Pattern>, u32) {
    v.sort_unstable_by(|a, b| a.cmp_support_desc(b));
    let t = v.get(k - 1).map_or(0, |p| p.support);
    v.retain(|p| p.support >= t);
    (v, t)
}

/// Removes the patterns that are not closed / not maximal (see the module docs).
pub fn condense(all: Vec<Pattern>, how: Condense) -> Vec<Pattern> {
    if how == Condense::All {
        return all;
    }
    // Key on the pattern with support zeroed so lookups by shape work.
    let shapes: Vec<Pattern> = all
        .iter()
        .map(|p| Pattern::from_parts(p.items().to_vec(), p.itemset_ends().to_vec(), 0))
        .collect();
    let pos: HashMap<&Pattern, usize> = shapes.iter().enumerate().map(|(i, p)| (p, i)).collect();
    let mut keep = vec![true; all.len()];
    let mut sub = Vec::new();
    for (qi, q) in shapes.iter().enumerate() {
        if q.num_items() < 2 {
            continue;
        }
        for del in 0..q.num_items() {
            delete_item(q, del, &mut sub);
            let key = Pattern::from_parts(sub.clone(), ends_after_delete(q, del), 0);
            if let Some(&pi) = pos.get(&key) {
                match how {
                    Condense::Closed if all[pi].support == all[qi].support => keep[pi] = false,
                    Condense::Maximal => keep[pi] = false,
                    _ => {}
                }
            }
        }
    }
    all.into_iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(p))
        .collect()
}

fn delete_item(q: &Pattern, del: usize, out: &mut Vec<cartseq_data::ItemId>) {
    out.clear();
    out.extend(
        q.items()
            .iter()
            .enumerate()
            .filter_map(|(i, x)| (i != del).then_some(*x)),
    );
}

fn ends_after_delete(q: &Pattern, del: usize) -> Vec<u32> {
    let mut ends = Vec::with_capacity(q.num_itemsets());
    let mut start = 0u32;
    for &e in q.itemset_ends() {
        let d = del as u32;
        if d >= start && d < e {
            if e - start > 1 {
                ends.push(e - 1);
            }
        } else if d < start {
            ends.push(e - 1);
        } else {
            ends.push(e);
        }
        start = e;
    }
    ends
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn closed_and_maximal_by_definition() {
        let all = vec![
            Pattern::from_nested(&[&[1]], 3),
            Pattern::from_nested(&[&[2]], 2),
            Pattern::from_nested(&[&[1], &[2]], 2),
            Pattern::from_nested(&[&[1, 2]], 1),
        ];
        let closed = condense(all.clone(), Condense::Closed);
        assert_eq!(closed.len(), 3, "{closed:?}");
        let maximal = condense(all, Condense::Maximal);
        assert_eq!(maximal.len(), 2);
    }
}
