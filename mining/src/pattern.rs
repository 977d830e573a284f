//! The [`Pattern`] type: a sequence of itemsets with its support count.

use std::cmp::Ordering;
use std::fmt::Write as _;

use cartseq_data::ItemId;

/// A sequential pattern `<(a b)(c)…>` and the number of sequences that contain it.
///
/// Stored flat: `items` holds all items, itemsets concatenated (each itemset strictly ascending), and
/// `ends[k]` is the exclusive end of itemset `k` in `items`. The derived order ([`Ord`]) is the
/// *pattern* order (itemset by itemset, each compared as a slice), then support; use
/// [`Pattern::cmp_support_desc`] for the output order (support descending, then pattern).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pattern {
    items: Vec<ItemId>,
    ends: Vec<u32>,
    /// Number of sequences containing the pattern (each sequence counts once).
    pub support: u32,
}

impl Pattern {
    /// A pattern from its itemsets. Items inside an itemset are sorted and de-duplicated; empty itemsets
    /// are dropped.
    pub fn new<I, S>(itemsets: I, support: u32) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[ItemId]>,
    {
        let mut items = Vec::new();
        let mut ends = Vec::new();
        for set in itemsets {
            let start = items.len();
            items.extend_from_slice(set.as_ref());
            items[start..].sort_unstable();
            let mut w = start;
            for r in start..items.len() {
                if w == start || items[r] != items[w - 1] {
                    items[w] = items[r];
                    w += 1;
                }
            }
            items.truncate(w);
            if items.len() > start {
                ends.push(items.len() as u32);
            }
        }
        Pattern {
            items,
            ends,
            support,
        }
    }

    /// Builds a pattern from raw parts (already valid: ascending itemsets, `ends` increasing, last end =
    /// `items.len()`). Used by the miners, which construct valid patterns by design.
    pub(crate) fn from_parts(items: Vec<ItemId>, ends: Vec<u32>, support: u32) -> Self {
        debug_assert_eq!(ends.last().map_or(0, |&e| e as usize), items.len());
        Pattern {
            items,
            ends,
            support,
        }
    }

    /// A pattern from nested numbers (tests, examples): `Pattern::from_nested(&[&[1], &[2, 3]], 5)`.
    pub fn from_nested(itemsets: &[&[u32]], support: u32) -> Self {
        Pattern::new(
            itemsets
                .iter()
                .map(|s| s.iter().map(|&x| ItemId(x)).collect::<Vec<_>>()),
            support,
        )
    }

    /// All items, itemsets concatenated.
    pub fn items(&self) -> &[ItemId] {
        &self.items
    }

    /// Exclusive end offsets of the itemsets in [`Self::items`].
    pub fn itemset_ends(&self) -> &[u32] {
        &self.ends
    }

    /// Number of items (the pattern's length as SPMF's `maxlen` counts it).
    pub fn num_items(&self) -> usize {
        self.items.len()
    }

    /// Number of itemsets.
    pub fn num_itemsets(&self) -> usize {
        self.ends.len()
    }

    /// Itemset `k`.
    pub fn itemset(&self, k: usize) -> &[ItemId] {
        let start = if k == 0 { 0 } else { self.ends[k - 1] as usize };
        &self.items[start..self.ends[k] as usize]
    }

    /// The itemsets in order.
    pub fn itemsets(&self) -> impl ExactSizeIterator<Item = &[ItemId]> + '_ {
        (0..self.ends.len()).map(move |k| self.itemset(k))
    }

    /// Whether `self` is a subsequence of `other` (each itemset of `self` included in a distinct itemset of
    /// `other`, in order). Support is ignored.
    pub fn is_subpattern_of(&self, other: &Pattern) -> bool {
        let mut j = 0;
        for set in self.itemsets() {
            loop {
                if j >= other.num_itemsets() {
                    return false;
                }
                let o = other.itemset(j);
                j += 1;
                if is_subset(set, o) {
                    break;
                }
            }
        }
        true
    }

    /// Output order: support descending, then pattern order.
    pub fn cmp_support_desc(&self, other: &Pattern) -> Ordering {
        other
            .support
            .cmp(&self.support)
            .then_with(|| self.cmp_pattern(other))
    }

    /// Pattern order: itemset by itemset, each compared as a slice of items.
    pub fn cmp_pattern(&self, other: &Pattern) -> Ordering {
        for k in 0..self.num_itemsets().min(other.num_itemsets()) {
            match self.itemset(k).cmp(other.itemset(k)) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        self.num_itemsets().cmp(&other.num_itemsets())
    }

    /// SPMF's line format with the item numbers as they are: `1 -1 2 3 -1 #SUP: 5`.
    pub fn to_spmf(&self) -> String {
        let mut s = String::new();
        self.write_spmf(&mut s);
        s
    }

    /// Appends the SPMF line (without newline) to `out`.
    pub fn write_spmf(&self, out: &mut String) {
        for set in self.itemsets() {
            for it in set {
                let _ = write!(out, "{} ", it.0);
            }
            out.push_str("-1 ");
        }
        let _ = write!(out, "#SUP: {}", self.support);
    }

    /// Parses one SPMF pattern line (`1 -1 2 3 -1 #SUP: 5`); `None` if malformed.
    pub fn parse_spmf(line: &str) -> Option<Pattern> {
        let (pat, sup) = line.split_once("#SUP:")?;
        let support = sup.split_whitespace().next()?.parse().ok()?;
        let mut sets: Vec<Vec<ItemId>> = vec![Vec::new()];
        for tok in pat.split_whitespace() {
            if tok == "-1" {
                sets.push(Vec::new());
            } else {
                sets.last_mut()?.push(ItemId(tok.parse().ok()?));
            }
        }
        Some(Pattern::new(sets, support))
    }
}

impl PartialOrd for Pattern {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pattern {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_pattern(other)
            .then_with(|| self.support.cmp(&other.support))
    }
}

/// Whether sorted `a` ⊆ sorted `b`.
pub(crate) fn is_subset<T: Ord>(a: &[T], b: &[T]) -> bool {
    if a.len() > b.len() {
        return false;
    }
    let mut j = 0;
    for x in a {
        loop {
            if j >= b.len() {
                return false;
            }
            match b[j].cmp(x) {
                Ordering::Less => j += 1,
                Ordering::Equal => {
                    j += 1;
                    break;
                }
                Ordering::Greater => return false,
            }
        }
    }
    true
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn spmf_round_trip_and_order() {
        let p = Pattern::parse_spmf("1 -1 2 3 -1 #SUP: 5").unwrap();
        assert_eq!(p.to_spmf(), "1 -1 2 3 -1 #SUP: 5");
        assert_eq!(p.num_items(), 3);
        assert_eq!(p.num_itemsets(), 2);
        let q = Pattern::from_nested(&[&[1], &[2]], 7);
        assert!(q.is_subpattern_of(&p));
        assert!(!p.is_subpattern_of(&q));
        assert_eq!(q.cmp_support_desc(&p), Ordering::Less);
        assert_eq!(q.cmp_pattern(&p), Ordering::Less);
        let r = Pattern::from_nested(&[&[1, 2]], 1);
        assert!(!r.is_subpattern_of(&p));
    }
}
