//! The sequence database: every sequence of a log in three flat arrays.
//!
//! ```text
//! items          [ 1 | 2 3 | 4 ][ 2 | 5 ] …      one u32 per item, itemsets ascending and duplicate-free
//! itemset_starts  0   1     3   4   5   6        itemset j is items[itemset_starts[j]..itemset_starts[j+1]]
//! seq_starts      0             3       5        sequence i is itemsets seq_starts[i]..seq_starts[i+1]
//! times           t0  t1    t2  t3  t4           one timestamp per itemset (optional)
//! ```
//!
//! No sequence owns an allocation, so a projection (as in Spark's PrefixSpan) is just a position into
//! `items`, and the memory cost is 4 bytes per item + 4 per itemset (+ 8 with timestamps) + 8 per
//! sequence. Invariants (checked by the builder): itemsets are non-empty, strictly ascending; sequences
//! are non-empty.

use crate::error::DataError;
use crate::ids::{ItemId, KeyId};

/// A database of sequences of itemsets. Build one with [`SequenceDbBuilder`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SequenceDb {
    items: Vec<ItemId>,
    itemset_starts: Vec<u32>,
    seq_starts: Vec<u32>,
    times: Option<Vec<i64>>,
    keys: Vec<KeyId>,
}

/// A borrowed view of one sequence.
#[derive(Clone, Copy, Debug)]
pub struct Sequence<'a> {
    db: &'a SequenceDb,
    index: usize,
}

impl SequenceDb {
    /// Number of sequences.
    #[inline]
    pub fn len(&self) -> usize {
        self.seq_starts.len().saturating_sub(1)
    }

    /// Whether there are no sequences.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total number of itemsets.
    #[inline]
    pub fn num_itemsets(&self) -> usize {
        self.itemset_starts.len().saturating_sub(1)
    }

    /// Total number of items (the sum of all itemset sizes).
    #[inline]
    pub fn num_items(&self) -> usize {
        self.items.len()
    }

    /// The flat item array.
    #[inline]
    pub fn items(&self) -> &[ItemId] {
        &self.items
    }

    /// Start of each itemset in [`Self::items`], with a final end sentinel.
    #[inline]
    pub fn itemset_starts(&self) -> &[u32] {
        &self.itemset_starts
    }

    /// Start of each sequence in the itemset numbering, with a final end sentinel.
    #[inline]
    pub fn seq_starts(&self) -> &[u32] {
        &self.seq_starts
    }

    /// Per-itemset timestamps, when the input had them.
    #[inline]
    pub fn times(&self) -> Option<&[i64]> {
        self.times.as_deref()
    }

    /// The key (user or session) of each sequence, in the dictionary vocabulary chosen when building.
    #[inline]
    pub fn keys(&self) -> &[KeyId] {
        &self.keys
    }

    /// Sequence `i` as a view. Panics if `i >= len()` (an index, not user data).
    #[inline]
    pub fn sequence(&self, i: usize) -> Sequence<'_> {
        assert!(i < self.len(), "sequence index {i} out of range");
        Sequence { db: self, index: i }
    }

    /// All sequences in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Sequence<'_>> + '_ {
        (0..self.len()).map(move |i| Sequence { db: self, index: i })
    }

    /// Items of global itemset `j`.
    #[inline]
    pub fn itemset(&self, j: usize) -> &[ItemId] {
        &self.items[self.itemset_starts[j] as usize..self.itemset_starts[j + 1] as usize]
    }

    /// The largest item id plus one (0 when empty): the size of a dense per-item array.
    pub fn item_bound(&self) -> usize {
        self.items.iter().map(|i| i.index() + 1).max().unwrap_or(0)
    }

    /// Number of distinct items (a dense bitmap when ids are dense, a hash set for sparse SPMF numbers).
    pub fn distinct_items(&self) -> usize {
        let bound = self.item_bound();
        if bound > 8 * self.items.len() + 1024 {
            return self.items.iter().collect::<hashbrown::HashSet<_>>().len();
        }
        let mut seen = vec![false; bound];
        let mut n = 0;
        for it in &self.items {
            if !seen[it.index()] {
                seen[it.index()] = true;
                n += 1;
            }
        }
        n
    }

    /// Heap bytes held by the database (what `stats` reports as bytes per event).
    pub fn heap_bytes(&self) -> usize {
        self.items.capacity() * 4
            + self.itemset_starts.capacity() * 4
            + self.seq_starts.capacity() * 4
            + self.times.as_ref().map_or(0, |t| t.capacity() * 8)
            + self.keys.capacity() * 4
    }

    /// A database from its arrays (see the module docs for the layout), trimmed to size. The caller
    /// guarantees the invariants (a builder in this crate that wrote the arrays itself).
    pub(crate) fn from_parts(
        mut items: Vec<ItemId>,
        mut itemset_starts: Vec<u32>,
        mut seq_starts: Vec<u32>,
        mut times: Option<Vec<i64>>,
        mut keys: Vec<KeyId>,
    ) -> SequenceDb {
        debug_assert_eq!(itemset_starts.last().copied(), Some(items.len() as u32));
        debug_assert_eq!(
            seq_starts.last().copied(),
            Some(itemset_starts.len() as u32 - 1)
        );
        debug_assert_eq!(keys.len() + 1, seq_starts.len());
        items.shrink_to_fit();
        itemset_starts.shrink_to_fit();
        seq_starts.shrink_to_fit();
        if let Some(t) = times.as_mut() {
            debug_assert_eq!(t.len() + 1, itemset_starts.len());
            t.shrink_to_fit();
        }
        keys.shrink_to_fit();
        SequenceDb {
            items,
            itemset_starts,
            seq_starts,
            times,
            keys,
        }
    }

    /// The same database without timestamps.
    pub fn without_times(mut self) -> SequenceDb {
        self.times = None;
        self
    }

    /// Keeps only the sequences for which `keep` returns true, preserving order.
    pub fn filter(&self, mut keep: impl FnMut(Sequence<'_>) -> bool) -> SequenceDb {
        let mut b = SequenceDbBuilder::new(self.times.is_some());
        for s in self.iter() {
            if keep(s) {
                b.push_sequence_from(s);
            }
        }
        b.build_unchecked()
    }
}

impl<'a> Sequence<'a> {
    /// Position of this sequence in the database.
    #[inline]
    pub fn index(&self) -> usize {
        self.index
    }

    /// The sequence's key.
    #[inline]
    pub fn key(&self) -> KeyId {
        self.db.keys[self.index]
    }

    /// Global index range of its itemsets.
    #[inline]
    pub fn itemset_range(&self) -> std::ops::Range<usize> {
        self.db.seq_starts[self.index] as usize..self.db.seq_starts[self.index + 1] as usize
    }

    /// Number of itemsets.
    #[inline]
    pub fn len(&self) -> usize {
        self.itemset_range().len()
    }

    /// Whether it has no itemsets (never true for a built database).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Range of its items in the flat array.
    #[inline]
    pub fn item_range(&self) -> std::ops::Range<usize> {
        let r = self.itemset_range();
        self.db.itemset_starts[r.start] as usize..self.db.itemset_starts[r.end] as usize
    }

    /// All its items, itemsets concatenated.
    #[inline]
    pub fn items(&self) -> &'a [ItemId] {
        &self.db.items[self.item_range()]
    }

    /// Its itemsets in order.
    pub fn itemsets(&self) -> impl ExactSizeIterator<Item = &'a [ItemId]> + 'a {
        let db = self.db;
        self.itemset_range().map(move |j| db.itemset(j))
    }

    /// Itemset `k` of this sequence (0-based within the sequence).
    #[inline]
    pub fn itemset(&self, k: usize) -> &'a [ItemId] {
        self.db.itemset(self.itemset_range().start + k)
    }

    /// Timestamps of its itemsets, when present.
    pub fn times(&self) -> Option<&'a [i64]> {
        let r = self.itemset_range();
        self.db.times.as_deref().map(|t| &t[r])
    }
}

/// Builds a [`SequenceDb`] one itemset at a time.
#[derive(Debug)]
pub struct SequenceDbBuilder {
    db: SequenceDb,
    scratch: Vec<ItemId>,
}

impl SequenceDbBuilder {
    /// A builder; `with_times` records one timestamp per itemset.
    pub fn new(with_times: bool) -> Self {
        SequenceDbBuilder {
            db: SequenceDb {
                items: Vec::new(),
                itemset_starts: vec![0],
                seq_starts: vec![0],
                times: with_times.then(Vec::new),
                keys: Vec::new(),
            },
            scratch: Vec::new(),
        }
    }

    /// A builder with room for `items` items, `itemsets` itemsets and `sequences` sequences (upper
    /// bounds are fine: capacity that is never written costs address space, not memory).
    pub fn with_capacity(
        with_times: bool,
        items: usize,
        itemsets: usize,
        sequences: usize,
    ) -> Self {
        let mut b = Self::new(with_times);
        b.db.items.reserve_exact(items);
        b.db.itemset_starts.reserve_exact(itemsets);
        b.db.seq_starts.reserve_exact(sequences);
        b.db.keys.reserve_exact(sequences);
        if let Some(t) = b.db.times.as_mut() {
            t.reserve_exact(itemsets);
        }
        b
    }

    /// Appends an itemset to the current sequence; items are sorted and de-duplicated here (an itemset is
    /// a set). An empty itemset is ignored. `time` is recorded when the builder keeps times (0 if `None`).
    pub fn push_itemset(&mut self, items: &[ItemId], time: Option<i64>) -> Result<(), DataError> {
        if items.is_empty() {
            return Ok(());
        }
        self.scratch.clear();
        self.scratch.extend_from_slice(items);
        if !self.scratch.windows(2).all(|w| w[0] < w[1]) {
            self.scratch.sort_unstable();
            self.scratch.dedup();
        }
        self.db.items.extend_from_slice(&self.scratch);
        let end = u32::try_from(self.db.items.len()).map_err(|_| {
            DataError::Option("more than 4,294,967,295 items in one database".into())
        })?;
        self.db.itemset_starts.push(end);
        if let Some(t) = self.db.times.as_mut() {
            t.push(time.unwrap_or(0));
        }
        Ok(())
    }

    /// Number of itemsets pushed since the last [`Self::end_sequence`].
    pub fn open_len(&self) -> usize {
        self.db.itemset_starts.len() - 1 - *self.db.seq_starts.last().unwrap_or(&0) as usize
    }

    /// Closes the current sequence under `key`; an empty sequence is dropped (returns false).
    pub fn end_sequence(&mut self, key: KeyId) -> Result<bool, DataError> {
        if self.open_len() == 0 {
            return Ok(false);
        }
        let n = u32::try_from(self.db.itemset_starts.len() - 1).map_err(|_| {
            DataError::Option("more than 4,294,967,295 itemsets in one database".into())
        })?;
        self.db.seq_starts.push(n);
        self.db.keys.push(key);
        Ok(true)
    }

    /// Drops the itemsets pushed since the last [`Self::end_sequence`] (a filtered-out sequence).
    pub fn discard_sequence(&mut self) {
        let start_set = *self.db.seq_starts.last().unwrap_or(&0) as usize;
        let start_item = self.db.itemset_starts[start_set] as usize;
        self.db.items.truncate(start_item);
        self.db.itemset_starts.truncate(start_set + 1);
        if let Some(t) = self.db.times.as_mut() {
            t.truncate(start_set);
        }
    }

    /// Copies a whole sequence (from another database) as the next sequence.
    pub fn push_sequence_from(&mut self, s: Sequence<'_>) {
        let times = s.times();
        for (k, set) in s.itemsets().enumerate() {
            // Items of a built database are already valid; the only possible error is u32 overflow, which
            // cannot happen when copying out of a database that itself fits.
            let _ = self.push_itemset(set, times.map(|t| t[k]));
        }
        let _ = self.end_sequence(s.key());
    }

    /// Number of sequences closed so far.
    pub fn len(&self) -> usize {
        self.db.keys.len()
    }

    /// Whether no sequence was closed yet.
    pub fn is_empty(&self) -> bool {
        self.db.keys.is_empty()
    }

    /// Finishes the database; an open sequence is dropped.
    pub fn build(mut self) -> SequenceDb {
        self.discard_sequence();
        self.build_unchecked()
    }

    fn build_unchecked(mut self) -> SequenceDb {
        self.db.items.shrink_to_fit();
        self.db.itemset_starts.shrink_to_fit();
        self.db.seq_starts.shrink_to_fit();
        if let Some(t) = self.db.times.as_mut() {
            t.shrink_to_fit();
        }
        self.db.keys.shrink_to_fit();
        self.db
    }
}

/// Builds a database from nested vectors (tests, examples): `from_nested(&[vec![vec![1], vec![2, 3]]])`.
pub fn from_nested(seqs: &[Vec<Vec<u32>>]) -> SequenceDb {
    let mut b = SequenceDbBuilder::new(false);
    let mut buf = Vec::new();
    for (i, s) in seqs.iter().enumerate() {
        for set in s {
            buf.clear();
            buf.extend(set.iter().map(|&x| ItemId(x)));
            let _ = b.push_itemset(&buf, None);
        }
        let _ = b.end_sequence(KeyId(i as u32));
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_flat() {
        let db = from_nested(&[
            vec![vec![1], vec![3, 2], vec![4]],
            vec![vec![2], vec![5, 5]],
        ]);
        assert_eq!(db.len(), 2);
        assert_eq!(db.num_itemsets(), 5);
        assert_eq!(db.num_items(), 6);
        let s = db.sequence(0);
        let sets: Vec<Vec<u32>> = s
            .itemsets()
            .map(|x| x.iter().map(|i| i.0).collect())
            .collect();
        assert_eq!(sets, vec![vec![1], vec![2, 3], vec![4]]);
        assert_eq!(db.sequence(1).itemset(1), &[ItemId(5)]);
        assert_eq!(db.item_bound(), 6);
    }

    #[test]
    fn empty_sequences_are_dropped() {
        let db = from_nested(&[vec![], vec![vec![1]], vec![vec![]]]);
        assert_eq!(db.len(), 1);
        assert_eq!(db.keys(), &[KeyId(1)]);
    }

    #[test]
    fn filter_keeps_order_and_times() {
        let mut b = SequenceDbBuilder::new(true);
        for k in 0..4u32 {
            for t in 0..=k {
                b.push_itemset(&[ItemId(t)], Some(i64::from(t) * 10))
                    .unwrap();
            }
            b.end_sequence(KeyId(k)).unwrap();
        }
        let db = b.build();
        let f = db.filter(|s| s.len() % 2 == 0);
        assert_eq!(f.keys(), &[KeyId(1), KeyId(3)]);
        assert_eq!(f.sequence(1).times().unwrap(), &[0, 10, 20, 30]);
    }
}
