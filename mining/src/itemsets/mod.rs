//! Frequent itemsets on baskets: [`apriori`] (Agrawal & Srikant 1994) and [`fpgrowth`] (Han, Pei & Yin
//! 2000), one exact answer from both.
//!
//! A *transaction* is a set of items. Baskets come from any [`SequenceDb`]: the union of a sequence's
//! items is its transaction ([`Transactions::from_sequences`]), so a basket file (one itemset per
//! sequence), Online Retail invoices, or Taobao sessions/users all work the same way.
//!
//! The minimum support is a count of transactions. A relative threshold `f` becomes
//! `ceil(f × n)` computed in exact decimal arithmetic from the string the user typed
//! ([`MinSupport::parse`]), which is what SPMF computes (`Math.ceil(minsup * n)`) without its
//! floating-point surprises.
//!
//! Results ([`FrequentItemsets`]) are in a deterministic order for any thread count: support
//! descending, then items ascending (lexicographic).

use cartseq_data::{ItemId, SequenceDb};

pub mod apriori;
pub mod fpgrowth;

pub use apriori::Apriori;
pub use fpgrowth::FpGrowth;

/// Errors of itemset mining.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ItemsetError {
    /// A parameter is out of range; the message says which and why.
    #[error("invalid parameter: {0}")]
    Param(String),
    /// The result would exceed the configured limit.
    #[error("more than {limit} frequent itemsets at minimum support {min_support} (of {transactions} transactions); raise --min-support, set --max-size (itemset size), or raise --max-itemsets")]
    TooManyItemsets {
        /// The configured limit.
        limit: usize,
        /// Absolute minimum support used.
        min_support: u32,
        /// Number of transactions.
        transactions: usize,
    },
    /// The memory guard fired (`--max-memory`).
    #[error("stopped after {found} itemsets: {memory}; raise --min-support, bound the itemset size with --max-size, or raise --max-memory")]
    MemoryLimit {
        /// Itemsets found when the guard fired.
        found: usize,
        /// The memory reading.
        memory: cartseq_data::memory::OverLimit,
    },
    /// The itemsets hold more items in all than a result can index (`u32` offsets).
    #[error("the frequent itemsets hold {items} items in all, more than a result can hold (4294967295); raise --min-support or bound the itemset size with --max-size")]
    ResultTooLarge {
        /// Items in all itemsets together.
        items: u64,
    },
    /// Apriori would have to count too many candidates at one level.
    #[error("Apriori would count {candidates} candidate itemsets of size {size} (limit {limit}); raise --min-support or use --algo fpgrowth")]
    TooManyCandidates {
        /// Number of candidates at that level.
        candidates: u64,
        /// Itemset size of the level.
        size: usize,
        /// The limit.
        limit: u64,
    },
}

/// The minimum support: one type and one syntax (`0.01`, `1%`, `#50`) for patterns, itemsets and rules.
pub use crate::params::MinSupport;

/// Transactions as one flat array: transaction `t` is `items[starts[t]..starts[t+1]]`, ascending and
/// duplicate-free. Memory: 4 bytes per item + 4 per transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transactions {
    items: Vec<u32>,
    starts: Vec<u32>,
    item_bound: usize,
}

impl Transactions {
    /// One transaction per sequence: the union of its items (a sequence's order is ignored).
    pub fn from_sequences(db: &SequenceDb) -> Transactions {
        let mut items = Vec::with_capacity(db.num_items());
        let mut starts = Vec::with_capacity(db.len() + 1);
        starts.push(0u32);
        let mut buf: Vec<u32> = Vec::new();
        for s in db.iter() {
            if s.len() == 1 {
                items.extend(s.items().iter().map(|i| i.0));
            } else {
                buf.clear();
                buf.extend(s.items().iter().map(|i| i.0));
                buf.sort_unstable();
                buf.dedup();
                items.extend_from_slice(&buf);
            }
            starts.push(items.len() as u32);
        }
        let item_bound = db.item_bound();
        Transactions {
            items,
            starts,
            item_bound,
        }
    }

    /// Builds transactions from item lists (each is sorted and de-duplicated here).
    pub fn from_lists<I, T>(lists: I) -> Transactions
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u32]>,
    {
        let mut items = Vec::new();
        let mut starts = vec![0u32];
        let mut buf: Vec<u32> = Vec::new();
        for l in lists {
            buf.clear();
            buf.extend_from_slice(l.as_ref());
            buf.sort_unstable();
            buf.dedup();
            items.extend_from_slice(&buf);
            starts.push(items.len() as u32);
        }
        let item_bound = items.iter().map(|&i| i as usize + 1).max().unwrap_or(0);
        Transactions {
            items,
            starts,
            item_bound,
        }
    }

    /// Number of transactions.
    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Whether there is no transaction.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Transaction `t` (ascending item numbers).
    #[inline]
    pub fn get(&self, t: usize) -> &[u32] {
        &self.items[self.starts[t] as usize..self.starts[t + 1] as usize]
    }

    /// All transactions in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u32]> + '_ {
        (0..self.len()).map(move |t| self.get(t))
    }

    /// The largest item number plus one.
    pub fn item_bound(&self) -> usize {
        self.item_bound
    }

    /// Support count of every item (indexed by item number).
    pub fn item_counts(&self) -> Vec<u32> {
        let mut c = vec![0u32; self.item_bound];
        for &i in &self.items {
            c[i as usize] += 1;
        }
        c
    }
}

/// Validated parameters shared by both itemset miners. Build with [`ItemsetParams::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemsetParams {
    min_support: MinSupport,
    max_len: usize,
    max_itemsets: usize,
}

impl ItemsetParams {
    /// Parameters with the given minimum support, no length limit and at most 10,000,000 itemsets.
    pub fn new(min_support: MinSupport) -> Self {
        ItemsetParams {
            min_support,
            max_len: usize::MAX,
            max_itemsets: 10_000_000,
        }
    }

    /// Keeps itemsets of at most `n` items (0 means no limit).
    pub fn max_len(mut self, n: usize) -> Self {
        self.max_len = if n == 0 { usize::MAX } else { n };
        self
    }

    /// Fails with [`ItemsetError::TooManyItemsets`] beyond `n` itemsets (the explosion guard).
    pub fn max_itemsets(mut self, n: usize) -> Self {
        self.max_itemsets = n;
        self
    }

    /// The minimum support.
    pub fn min_support(&self) -> MinSupport {
        self.min_support
    }

    /// Checks the parameters once.
    pub fn check(&self) -> Result<(), ItemsetError> {
        if self.max_itemsets == 0 {
            return Err(ItemsetError::Param(
                "--max-itemsets must be at least 1".into(),
            ));
        }
        Ok(())
    }

    pub(crate) fn get_max_len(&self) -> usize {
        self.max_len
    }

    pub(crate) fn get_max_itemsets(&self) -> usize {
        self.max_itemsets
    }
}

/// Frequent itemsets with their support counts, in a flat layout, sorted by support descending then
/// items ascending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrequentItemsets {
    items: Vec<ItemId>,
    starts: Vec<u32>,
    supports: Vec<u32>,
    transactions: usize,
    min_support: u32,
}

impl FrequentItemsets {
    /// Assembles and sorts a result from (items, support) pairs; items need not be sorted.
    pub fn from_pairs(
        mut pairs: Vec<(Vec<u32>, u32)>,
        transactions: usize,
        min_support: u32,
    ) -> FrequentItemsets {
        for (s, _) in pairs.iter_mut() {
            s.sort_unstable();
        }
        pairs.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut items = Vec::with_capacity(pairs.iter().map(|p| p.0.len()).sum());
        let mut starts = Vec::with_capacity(pairs.len() + 1);
        let mut supports = Vec::with_capacity(pairs.len());
        starts.push(0u32);
        for (s, sup) in pairs {
            items.extend(s.into_iter().map(ItemId));
            starts.push(items.len() as u32);
            supports.push(sup);
        }
        FrequentItemsets {
            items,
            starts,
            supports,
            transactions,
            min_support,
        }
    }

    /// Number of itemsets.
    pub fn len(&self) -> usize {
        self.supports.len()
    }

    /// Whether none was frequent.
    pub fn is_empty(&self) -> bool {
        self.supports.is_empty()
    }

    /// Itemset `k` and its support count.
    pub fn get(&self, k: usize) -> (&[ItemId], u32) {
        (
            &self.items[self.starts[k] as usize..self.starts[k + 1] as usize],
            self.supports[k],
        )
    }

    /// All (itemset, support) pairs in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&[ItemId], u32)> + '_ {
        (0..self.len()).map(move |k| self.get(k))
    }

    /// Number of transactions mined.
    pub fn transactions(&self) -> usize {
        self.transactions
    }

    /// The absolute minimum support used.
    pub fn min_support(&self) -> u32 {
        self.min_support
    }
}

/// The frequent-itemset algorithms, chosen by name where a caller lets the user pick (`itemsets`,
/// `rules --kind association`, the Python binding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemsetAlgorithm {
    /// [`FpGrowth`] (Han et al. 2000).
    FpGrowth,
    /// [`Apriori`] (Agrawal & Srikant 1994).
    Apriori,
}

cartseq_data::named_enum!(ItemsetAlgorithm, "an itemset algorithm", [
    "fpgrowth" => ItemsetAlgorithm::FpGrowth,
    "apriori" => ItemsetAlgorithm::Apriori,
]);

impl ItemsetAlgorithm {
    /// Checks `params` for the algorithm, then mines `tx`.
    pub fn mine(
        self,
        params: ItemsetParams,
        tx: &Transactions,
    ) -> Result<FrequentItemsets, ItemsetError> {
        match self {
            ItemsetAlgorithm::FpGrowth => FpGrowth::new(params)?.mine(tx),
            ItemsetAlgorithm::Apriori => Apriori::new(params)?.mine(tx),
        }
    }
}

/// A frequent-itemset algorithm.
pub trait ItemsetMiner {
    /// Mines every itemset with support at least the minimum support.
    fn mine(&self, tx: &Transactions) -> Result<FrequentItemsets, ItemsetError>;
}

/// Bytes from a miner's flat output of `itemsets` itemsets holding `items` items in all to the sorted
/// [`FrequentItemsets`] ([`assemble`]): the flat output (4 bytes an item, 8 an itemset), the mapped copy
/// with its spans (4 an item, 12 an itemset) and the result (4 an item, 8 an itemset).
pub(crate) fn result_bytes(itemsets: u64, items: u64) -> u64 {
    items
        .saturating_mul(12)
        .saturating_add(itemsets.saturating_mul(28))
}

/// Turns miners' flat outputs (`(items, lens, supports)` per worker, items in ranks) into a sorted
/// [`FrequentItemsets`]: one flat copy mapped to item ids, sorted within each itemset, then the
/// itemsets' spans sorted by support (descending) and items. Checks first that the result fits its
/// `u32` offsets and that the copy and the result fit under `--max-memory` (the flat outputs are
/// resident already).
pub(crate) fn assemble(
    outs: &[(&[u32], &[u32], &[u32])],
    rank_to_item: &[u32],
    n: usize,
    minsup: u32,
) -> Result<FrequentItemsets, ItemsetError> {
    let count: usize = outs.iter().map(|o| o.1.len()).sum();
    let total: u64 = outs.iter().map(|o| o.0.len() as u64).sum();
    if total > u64::from(u32::MAX) {
        return Err(ItemsetError::ResultTooLarge { items: total });
    }
    let flat = total * 4 + count as u64 * 8;
    if let Err(memory) =
        cartseq_data::memory::check_estimate(result_bytes(count as u64, total) - flat)
    {
        return Err(ItemsetError::MemoryLimit {
            found: count,
            memory,
        });
    }
    let mut items: Vec<u32> = Vec::with_capacity(total as usize);
    // (start in `items`, length, support) of every itemset.
    let mut spans: Vec<(u32, u32, u32)> = Vec::with_capacity(count);
    for &(ranks, lens, sups) in outs {
        let mut pos = 0usize;
        for (&l, &s) in lens.iter().zip(sups) {
            let start = items.len();
            items.extend(
                ranks[pos..pos + l as usize]
                    .iter()
                    .map(|&r| rank_to_item[r as usize]),
            );
            items[start..].sort_unstable();
            pos += l as usize;
            spans.push((start as u32, l, s));
        }
    }
    let set = |&(start, len, _): &(u32, u32, u32)| &items[start as usize..(start + len) as usize];
    spans.sort_unstable_by(|x, y| y.2.cmp(&x.2).then_with(|| set(x).cmp(set(y))));
    let mut out = Vec::with_capacity(total as usize);
    let mut starts = Vec::with_capacity(count + 1);
    let mut supports = Vec::with_capacity(count);
    starts.push(0u32);
    for sp in &spans {
        out.extend(set(sp).iter().map(|&i| ItemId(i)));
        starts.push(out.len() as u32);
        supports.push(sp.2);
    }
    Ok(FrequentItemsets {
        items: out,
        starts,
        supports,
        transactions: n,
        min_support: minsup,
    })
}

/// Guard shared by worker threads: counts emitted itemsets and trips past the limit.
pub(crate) struct Guard {
    count: std::sync::atomic::AtomicUsize,
    limit: usize,
    memory: cartseq_data::memory::Accountant,
}

impl Guard {
    pub(crate) fn new(limit: usize) -> Self {
        Guard {
            count: std::sync::atomic::AtomicUsize::new(0),
            limit,
            memory: cartseq_data::memory::Accountant::new(1024),
        }
    }

    /// Records `n` more itemsets; false once the limit is exceeded or memory is over `--max-memory`.
    #[inline]
    pub(crate) fn add(&self, n: usize) -> bool {
        self.count(n) && self.memory.tick().is_ok()
    }

    /// Adds `n` to the count; false once it passes the limit. `n` is clamped to `limit + 1` first, so
    /// an astronomical count (a long single path has 2^m − 1 subsets) trips the guard instead of
    /// wrapping the counter around.
    #[inline]
    fn count(&self, n: usize) -> bool {
        use std::sync::atomic::Ordering;
        let n = n.min(self.limit.saturating_add(1));
        self.count.fetch_add(n, Ordering::Relaxed).saturating_add(n) <= self.limit
    }

    /// Records `n` more itemsets holding `items` items in all, about to be written in one step
    /// (FP-Growth's single-path expansion): the count is checked as by [`Guard::add`], and memory for
    /// the whole result they make ([`result_bytes`]) is checked before anything is written, since one
    /// such step can allocate gigabytes between two periodic readings.
    pub(crate) fn add_bulk(&self, n: usize, items: u64) -> bool {
        // Reading the RSS costs a few µs: a small step only ticks, as any other itemset does.
        const READ_FROM: u64 = 1 << 20;
        let bytes = result_bytes(n as u64, items);
        self.count(n)
            && if bytes < READ_FROM {
                self.memory.tick().is_ok()
            } else {
                self.memory.reserve(bytes).is_ok()
            }
    }

    /// A guard whose memory readings come from `memory` (tests trip it without touching the
    /// process-wide limit).
    #[cfg(test)]
    pub(crate) fn with_memory(limit: usize, memory: cartseq_data::memory::Accountant) -> Self {
        Guard {
            count: std::sync::atomic::AtomicUsize::new(0),
            limit,
            memory,
        }
    }

    #[inline]
    pub(crate) fn tripped(&self) -> bool {
        self.count.load(std::sync::atomic::Ordering::Relaxed) > self.limit || self.memory.tripped()
    }

    /// The error of a tripped guard.
    pub(crate) fn error(&self, min_support: u32, transactions: usize) -> ItemsetError {
        let found = self.count.load(std::sync::atomic::Ordering::Relaxed);
        if self.memory.tripped() {
            return ItemsetError::MemoryLimit {
                found: found.min(self.limit),
                memory: self.memory.error(),
            };
        }
        ItemsetError::TooManyItemsets {
            limit: self.limit,
            min_support,
            transactions,
        }
    }
}

/// Fixtures shared by the unit tests of the itemset miners and the association rules.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::{
        FpGrowth, FrequentItemsets, ItemsetMiner, ItemsetParams, MinSupport, Transactions,
    };

    /// Han, Pei & Yin's running example (items renamed to numbers): 9 transactions over 5 items.
    pub fn han_example() -> Transactions {
        Transactions::from_lists([
            vec![1, 2, 5],
            vec![2, 4],
            vec![2, 3],
            vec![1, 2, 4],
            vec![1, 3],
            vec![2, 3],
            vec![1, 3],
            vec![1, 2, 3, 5],
            vec![1, 2, 3],
        ])
    }

    /// The frequent itemsets of `tx` with support ≥ `min` (FP-Growth).
    pub fn frequent(tx: &Transactions, min: u32) -> FrequentItemsets {
        FpGrowth::new(ItemsetParams::new(MinSupport::Count(min)))
            .and_then(|m| m.mine(tx))
            .expect("valid parameters")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_support_is_exact() {
        let f = MinSupport::parse("0.001").unwrap();
        assert_eq!(f.absolute(59_601), 60);
        assert_eq!(MinSupport::parse("0.1%").unwrap().absolute(59_601), 60);
        assert_eq!(MinSupport::parse("0.01").unwrap().absolute(88_162), 882);
        assert_eq!(MinSupport::parse("0.5").unwrap().absolute(4), 2);
        assert_eq!(MinSupport::parse("1").unwrap().absolute(4), 4);
        assert_eq!(MinSupport::parse("#7").unwrap().absolute(4), 7);
        assert_eq!(MinSupport::parse("50").unwrap(), MinSupport::Count(50));
        assert_eq!(MinSupport::parse("0.3").unwrap().absolute(10), 3);
        assert!(MinSupport::parse("0").is_err());
        assert!(MinSupport::parse("1.5").is_err());
        assert!(MinSupport::parse("abc").is_err());
        assert!(MinSupport::parse("-0.1").is_err());
    }

    #[test]
    fn bulk_output_is_checked_against_memory_before_it_is_written() {
        use cartseq_data::memory::{Accountant, OverLimit};
        fn half_gib() -> Option<u64> {
            Some(1 << 29)
        }
        let g = Guard::with_memory(
            usize::MAX - 1,
            Accountant::with_reader(1 << 40, Some(1 << 30), half_gib),
        );
        // 1,000 itemsets of 1,000 items: 12 MB for the whole result, fits.
        assert!(g.add_bulk(1000, 1_000_000));
        assert!(!g.tripped());
        // 100 M items: 1.2 GB more, over the 1 GiB limit before anything is written.
        assert!(!g.add_bulk(1000, 100_000_000));
        assert!(g.tripped());
        let e = g.error(1, 10);
        assert_eq!(
            e,
            ItemsetError::MemoryLimit {
                found: 2000,
                memory: OverLimit {
                    used: (1 << 29) + result_bytes(1000, 100_000_000),
                    limit: 1 << 30
                }
            }
        );
        assert!(e.to_string().contains("raise --min-support"), "{e}");
    }

    #[test]
    fn assemble_sorts_like_from_pairs() {
        // Two workers' flat outputs in ranks; rank r is item 10 − r.
        let rank_to_item: Vec<u32> = (0..10).map(|r| 10 - r).collect();
        let w1: (Vec<u32>, Vec<u32>, Vec<u32>) =
            (vec![0, 3, 1, 2, 4], vec![2, 1, 2], vec![3, 5, 3]);
        let w2: (Vec<u32>, Vec<u32>, Vec<u32>) = (vec![5, 0, 9], vec![1, 2], vec![5, 1]);
        let outs = [
            (&w1.0[..], &w1.1[..], &w1.2[..]),
            (&w2.0[..], &w2.1[..], &w2.2[..]),
        ];
        let got = assemble(&outs, &rank_to_item, 7, 1).unwrap();
        let mut pairs = Vec::new();
        for (items, lens, sups) in outs {
            let mut pos = 0;
            for (&l, &s) in lens.iter().zip(sups) {
                let set = items[pos..pos + l as usize]
                    .iter()
                    .map(|&r| rank_to_item[r as usize]);
                pairs.push((set.collect::<Vec<u32>>(), s));
                pos += l as usize;
            }
        }
        let want = FrequentItemsets::from_pairs(pairs, 7, 1);
        assert_eq!(got, want);
        let first: Vec<u32> = got.iter().next().unwrap().0.iter().map(|i| i.0).collect();
        // Support 5 twice ({7} and {5}): items ascending break the tie.
        assert_eq!(first, vec![5]);
    }

    #[test]
    fn transactions_from_sequences_are_unions() {
        let db =
            cartseq_data::sequence_db::from_nested(&[vec![vec![3, 1], vec![1, 2]], vec![vec![0]]]);
        let tx = Transactions::from_sequences(&db);
        assert_eq!(tx.len(), 2);
        assert_eq!(tx.get(0), &[1, 2, 3]);
        assert_eq!(tx.get(1), &[0]);
        assert_eq!(tx.item_counts(), vec![1, 1, 1, 1]);
    }
}
