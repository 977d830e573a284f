//! The miners' private copy of a [`SequenceDb`]: infrequent items removed and the frequent ones renumbered
//! to dense ranks `0..n` in ascending item order (so itemsets stay sorted and per-item arrays are small).
//! Empty itemsets are dropped unless a positional constraint (gap or span in itemsets) needs the original
//! positions. Cost: one pass to count, one to copy; memory about the size of the input database.

use std::sync::atomic::{AtomicU64, Ordering};

use cartseq_data::{ItemId, SequenceDb};

use crate::error::MiningError;
use crate::params::Options;
use crate::pattern::Pattern;

/// Flat database over dense item ranks.
#[derive(Debug, Clone)]
pub(crate) struct Dense {
    /// Item ranks, itemsets concatenated.
    pub items: Vec<u32>,
    /// Itemset `q` is `items[set_starts[q]..set_starts[q+1]]`.
    pub set_starts: Vec<u32>,
    /// Sequence `s` is itemsets `seq_starts[s]..seq_starts[s+1]`.
    pub seq_starts: Vec<u32>,
    /// One timestamp per itemset when the input has them.
    pub times: Option<Vec<i64>>,
    /// Original item of each rank (ascending).
    pub rank_item: Vec<ItemId>,
    /// Support (sequences) of each rank.
    pub rank_support: Vec<u32>,
}

/// Support of every item (number of sequences containing it), ascending by item.
pub fn item_supports(db: &SequenceDb) -> Vec<(ItemId, u32)> {
    let mut distinct: Vec<ItemId> = db.items().to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let mut count = vec![0u32; distinct.len()];
    let mut stamp = vec![u32::MAX; distinct.len()];
    let index = ItemIndex::new(&distinct);
    for s in db.iter() {
        let sid = s.index() as u32;
        for it in s.items() {
            let r = index.get(*it);
            if stamp[r] != sid {
                stamp[r] = sid;
                count[r] += 1;
            }
        }
    }
    distinct.into_iter().zip(count).collect()
}

/// Item → position in a sorted distinct list: a dense table when ids are small, else binary search.
struct ItemIndex<'a> {
    distinct: &'a [ItemId],
    table: Option<Vec<u32>>,
}

impl<'a> ItemIndex<'a> {
    fn new(distinct: &'a [ItemId]) -> Self {
        let bound = distinct.last().map_or(0, |i| i.index() + 1);
        let table = (bound <= (1 << 24)).then(|| {
            let mut t = vec![u32::MAX; bound];
            for (k, it) in distinct.iter().enumerate() {
                t[it.index()] = k as u32;
            }
            t
        });
        ItemIndex { distinct, table }
    }

    /// Position of an item known to be in the list.
    #[inline]
    fn get(&self, it: ItemId) -> usize {
        match &self.table {
            Some(t) => t[it.index()] as usize,
            None => self.distinct.binary_search(&it).unwrap_or(0),
        }
    }
}

impl Dense {
    /// Keeps the items with support ≥ `min_count`. `keep_positions` keeps emptied itemsets.
    pub fn build(db: &SequenceDb, min_count: u32, keep_positions: bool) -> Dense {
        let supports = item_supports(db);
        let distinct: Vec<ItemId> = supports.iter().map(|x| x.0).collect();
        let index = ItemIndex::new(&distinct);
        let mut to_rank = vec![u32::MAX; distinct.len()];
        let mut rank_item = Vec::new();
        let mut rank_support = Vec::new();
        for (k, &(it, sup)) in supports.iter().enumerate() {
            if sup >= min_count {
                to_rank[k] = rank_item.len() as u32;
                rank_item.push(it);
                rank_support.push(sup);
            }
        }
        let mut items = Vec::with_capacity(db.num_items());
        let mut set_starts = vec![0u32];
        let mut seq_starts = vec![0u32];
        let src_times = db.times();
        let mut times = src_times.map(|_| Vec::with_capacity(db.num_itemsets()));
        for s in db.iter() {
            let range = s.itemset_range();
            let before = set_starts.len();
            for q in range {
                let start = items.len();
                for it in db.itemset(q) {
                    let r = to_rank[index.get(*it)];
                    if r != u32::MAX {
                        items.push(r);
                    }
                }
                if items.len() > start || keep_positions {
                    set_starts.push(items.len() as u32);
                    if let (Some(t), Some(src)) = (times.as_mut(), src_times) {
                        t.push(src[q]);
                    }
                }
            }
            if items.len() as u32 > set_starts[before - 1] {
                seq_starts.push(set_starts.len() as u32 - 1);
            } else {
                // Nothing frequent in this sequence: drop it (it supports no pattern).
                set_starts.truncate(before);
                if let Some(t) = times.as_mut() {
                    t.truncate(before - 1);
                }
            }
        }
        Dense {
            items,
            set_starts,
            seq_starts,
            times,
            rank_item,
            rank_support,
        }
    }

    /// Number of (non-empty) sequences.
    #[inline]
    pub fn n_seqs(&self) -> usize {
        self.seq_starts.len() - 1
    }

    /// Number of frequent items.
    #[inline]
    pub fn n_ranks(&self) -> usize {
        self.rank_item.len()
    }

    /// Items of global itemset `q`.
    #[inline]
    pub fn set(&self, q: usize) -> &[u32] {
        &self.items[self.set_starts[q] as usize..self.set_starts[q + 1] as usize]
    }

    /// Global itemset range of sequence `s`.
    #[inline]
    pub fn seq(&self, s: usize) -> std::ops::Range<usize> {
        self.seq_starts[s] as usize..self.seq_starts[s + 1] as usize
    }

    /// Rank of an original item, if frequent.
    pub fn rank_of(&self, it: ItemId) -> Option<u32> {
        self.rank_item.binary_search(&it).ok().map(|r| r as u32)
    }

    /// A pattern over ranks turned into original items.
    pub fn to_pattern(&self, items: &[u32], ends: &[u32], support: u32) -> Pattern {
        Pattern::from_parts(
            items.iter().map(|&r| self.rank_item[r as usize]).collect(),
            ends.to_vec(),
            support,
        )
    }
}

/// The occurrence constraints resolved for fast checks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Occ {
    /// Max gap in positions (u32::MAX = none).
    pub gap: u32,
    /// Max span in positions (u32::MAX = none).
    pub span: u32,
    /// Max gap in time units of the database.
    pub gap_time: Option<i64>,
    /// Max span in time units of the database.
    pub span_time: Option<i64>,
}

impl Occ {
    pub fn new(o: &Options) -> Occ {
        Occ {
            gap: o.max_gap.positions.unwrap_or(u32::MAX),
            span: o.max_span.positions.unwrap_or(u32::MAX),
            gap_time: o.max_gap.time,
            span_time: o.max_span.time,
        }
    }

    /// Whether matching the next itemset at global position `q` is allowed after a previous match at
    /// `prev` with the occurrence starting at `start` (positions global within one sequence).
    #[inline]
    pub fn allows(&self, times: Option<&[i64]>, start: usize, prev: usize, q: usize) -> bool {
        if q - prev > self.gap as usize || q - start >= self.span as usize {
            return false;
        }
        if let Some(t) = times {
            if let Some(g) = self.gap_time {
                if t[q] - t[prev] > g {
                    return false;
                }
            }
            if let Some(s) = self.span_time {
                if t[q] - t[start] > s {
                    return false;
                }
            }
        }
        true
    }

    /// Whether positions beyond `q` can never be allowed either (times are non-decreasing), so a scan
    /// forward from `prev` may stop.
    #[inline]
    pub fn past(&self, times: Option<&[i64]>, start: usize, prev: usize, q: usize) -> bool {
        !self.allows(times, start, prev, q)
    }
}

/// The explosion guards shared by parallel workers: a count of patterns (`--max-patterns`) and the
/// process memory (`--max-memory`, read every few thousand search nodes through
/// [`cartseq_data::memory::Accountant`]), so a run stops near the limit, whichever comes first.
#[derive(Debug)]
pub(crate) struct Guard {
    count: AtomicU64,
    limit: u64,
    memory: cartseq_data::memory::Accountant,
}

impl Guard {
    pub fn new(limit: u64) -> Guard {
        Guard {
            count: AtomicU64::new(0),
            limit,
            memory: cartseq_data::memory::Accountant::new(1024),
        }
    }

    /// Counts one more pattern; errors once past the limit or over the memory limit.
    #[inline]
    pub fn add(&self) -> Result<(), MiningError> {
        let n = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        if n > self.limit {
            return Err(MiningError::TooManyPatterns {
                found: n - 1,
                limit: self.limit,
                top_k: None,
            });
        }
        self.step()
    }

    /// Counts one search node that emits nothing (memory accounting only).
    #[inline]
    pub fn step(&self) -> Result<(), MiningError> {
        self.memory.tick().map_err(|m| self.memory_limit(m))
    }

    /// Reads the memory use now (between the levels of a level-wise miner).
    pub fn check_memory(&self) -> Result<(), MiningError> {
        self.memory.check().map_err(|m| self.memory_limit(m))
    }

    /// The memory guard's error, with the patterns found so far.
    fn memory_limit(&self, memory: cartseq_data::memory::OverLimit) -> MiningError {
        MiningError::MemoryLimit {
            found: self.count.load(Ordering::Relaxed).min(self.limit),
            memory,
            top_k: None,
        }
    }

    /// Whether a guard already fired (workers stop early).
    #[inline]
    pub fn fired(&self) -> bool {
        self.count.load(Ordering::Relaxed) > self.limit || self.memory.tripped()
    }
}

/// One node of a depth-first search (PrefixSpan, SPADE): the pattern is output when `filter` wants it
/// (counted by `guard`), else the node is counted for memory accounting only. `Ok(false)` when its
/// subtree is not to be searched: a guard fired in another worker, or the pattern is already
/// `max_items` long.
#[inline]
#[allow(clippy::too_many_arguments)]
pub(crate) fn visit(
    d: &Dense,
    filter: &Filter,
    guard: &Guard,
    items: &[u32],
    ends: &[u32],
    support: u32,
    out: &mut crate::miner::RootOut<'_>,
) -> Result<bool, MiningError> {
    if filter.wants(items, ends) {
        guard.add()?;
        out.push(d.to_pattern(items, ends, support))?;
    } else {
        guard.step()?;
        if guard.fired() {
            return Ok(false);
        }
    }
    Ok(items.len() < filter.max_items)
}

/// The output filters applied when a pattern is emitted (min lengths, required first item).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Filter {
    pub min_items: usize,
    pub min_itemsets: usize,
    pub max_items: usize,
    pub max_itemsets: usize,
    /// `Some(rank)` of the required first item.
    pub first: Option<u32>,
}

impl Filter {
    /// How a pattern (`items`, itemset `ends`) may grow: `(a new itemset may start, items added to
    /// the last itemset must rank below this)`. With a required first item, the first itemset must
    /// contain it before a second itemset starts, and it can only be added while the last item is
    /// below it. Shared by PrefixSpan and the bitmap kernel so both grow the same patterns.
    pub fn extension_limits(&self, items: &[u32], ends: &[u32]) -> (bool, u32) {
        let mut can_s = ends.len() < self.max_itemsets;
        let mut i_limit = u32::MAX;
        if let Some(f) = self.first {
            if ends.len() == 1 && !items.contains(&f) {
                can_s = false;
                i_limit = f;
            }
        }
        (can_s, i_limit)
    }

    /// `None` when the required first item is not frequent (nothing can be output).
    pub fn new(o: &Options, d: &Dense) -> Option<Filter> {
        let first = match o.first_item {
            Some(it) => Some(d.rank_of(it)?),
            None => None,
        };
        Some(Filter {
            min_items: o.min_items,
            min_itemsets: o.min_itemsets,
            max_items: o.max_items.unwrap_or(usize::MAX),
            max_itemsets: o.max_itemsets.unwrap_or(usize::MAX),
            first,
        })
    }

    /// Whether a pattern (ranks + itemset ends) is output.
    #[inline]
    pub fn wants(&self, items: &[u32], ends: &[u32]) -> bool {
        if items.len() < self.min_items || ends.len() < self.min_itemsets {
            return false;
        }
        match self.first {
            Some(f) => items[..ends[0] as usize].contains(&f),
            None => true,
        }
    }
}
