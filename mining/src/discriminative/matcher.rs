//! One-pass matching of many sequential patterns against every sequence of a [`SequenceDb`].
//!
//! # What it computes
//!
//! For a pattern `P = ⟨E₁ … E_m⟩` (each `E_k` a non-empty itemset) and a sequence `S = ⟨S₀ … S_{n-1}⟩`
//! with optional non-decreasing timestamps `t(j)`, an **occurrence** is a list of itemset positions
//! `j₁ < j₂ < … < j_m` with `E_k ⊆ S_{j_k}` and, between consecutive matched itemsets,
//! `j_{k+1} − j_k ≤ gap.positions` (counted as SPMF's CM-SPAM counts them: 1 = adjacent) and
//! `t(j_{k+1}) − t(j_k) ≤ gap.time` (the [`Limit`] given to [`PatternMatcher::new`]). Per (sequence, pattern) the matcher reports:
//!
//! * **occurs** — whether at least one occurrence exists (`count > 0`);
//! * **count** — the largest number of occurrences whose spans `[j₁, j_m]` are pairwise disjoint
//!   ("non-overlapping" occurrences). It is computed as interval scheduling does: take the occurrence
//!   that *ends* earliest, then the earliest-ending one that starts after it, and so on; that greedy
//!   choice is optimal for disjoint intervals. Example: `⟨a b⟩` in `a a b b` counts 1 (both `b` end
//!   spans that contain the first `a b`), in `a b a b` counts 2;
//! * **last end** — the largest `j_m` over all occurrences; from it, **time since last occurrence** is
//!   `reference − t(j_m)`, the reference being the sequence's last timestamp or a fixed cutoff (without
//!   timestamps: the number of itemsets after `j_m`). It is absent (`NaN` in dense form) when the pattern
//!   never occurs.
//!
//! # How (one pass, no rescans)
//!
//! An inverted index maps every item to the pattern elements `(pattern, k)` containing it. Walking the
//! sequence once, each itemset bumps a hit counter per touched element; an element is matched at `j`
//! when all of its items were hit. For each pattern the matcher keeps, per prefix length `k`, the
//! **latest** position where a gap-respecting match of `⟨E₁…E_k⟩` ends among the positions seen so far.
//! The latest end dominates every earlier one: any later position reachable from an earlier end within
//! the gap is reachable from a later one too (positions and non-decreasing times only shrink the gap), so
//! this one integer per (pattern, k) decides existence exactly — it is the NFA of the pattern with its
//! states collapsed to their best representative. Matched elements of one itemset are processed in
//! descending `k`, so one itemset never serves two consecutive elements. A second copy of the state,
//! cleared whenever a full occurrence completes, implements the greedy non-overlapping count.
//!
//! # Cost
//!
//! Time `O(Σ_items |index[item]|)` per sequence (the touched pattern elements, not `n × K`), plus a small
//! sort of the elements matched in each itemset; memory `O(total pattern elements)` scratch per thread,
//! and the output is sparse (only the patterns that occur). Sequences are independent: rayon splits them
//! into chunks and the output is assembled in sequence order, identical for any thread count.
//!
//! Background: constraint handling follows the gap semantics of CM-SPAM (Fournier-Viger et al., PAKDD
//! 2014); the index-driven multi-pattern matching is the classic Aho–Corasick idea (1975) applied to
//! subsequences with the per-state "latest end" dominance argument above.

use cartseq_data::{ItemId, SequenceDb};
use rayon::prelude::*;

use super::DiscriminativeError;
use crate::params::Limit;

/// One sequential pattern to match: itemsets in order, each non-empty.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeqPattern {
    /// The itemsets `E₁ … E_m` (each sorted ascending, duplicate-free after [`SeqPattern::new`]).
    pub itemsets: Vec<Vec<ItemId>>,
}

impl SeqPattern {
    /// A pattern from itemsets; items are sorted and de-duplicated. Empty itemsets or an empty pattern
    /// are refused.
    pub fn new(itemsets: Vec<Vec<ItemId>>) -> Result<Self, DiscriminativeError> {
        if itemsets.is_empty() {
            return Err(DiscriminativeError::EmptyPattern);
        }
        let mut out = Vec::with_capacity(itemsets.len());
        for mut set in itemsets {
            if set.is_empty() {
                return Err(DiscriminativeError::EmptyPattern);
            }
            set.sort_unstable();
            set.dedup();
            out.push(set);
        }
        Ok(SeqPattern { itemsets: out })
    }

    /// A pattern of single-item itemsets (`⟨a⟩ ⟨b⟩ …`).
    pub fn of_items(items: &[u32]) -> Result<Self, DiscriminativeError> {
        SeqPattern::new(items.iter().map(|&i| vec![ItemId(i)]).collect())
    }

    /// Number of itemsets.
    pub fn len(&self) -> usize {
        self.itemsets.len()
    }

    /// Whether there are no itemsets (never true for a pattern built by [`SeqPattern::new`]).
    pub fn is_empty(&self) -> bool {
        self.itemsets.is_empty()
    }
}

/// What "time since last occurrence" is measured from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reference {
    /// The sequence's own last timestamp (or its last position without timestamps).
    #[default]
    SequenceEnd,
    /// A fixed time (the task's cutoff), in the database's time unit (seconds).
    Fixed(i64),
}

/// The sparse result: for each sequence, the patterns that occur in it with their count and time since
/// last occurrence (CSR layout, patterns ascending within a sequence).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PatternMatches {
    /// Number of patterns matched against.
    pub n_patterns: usize,
    /// Row starts into the other arrays, `len = sequences + 1`.
    pub offsets: Vec<usize>,
    /// Pattern index of each entry.
    pub pattern: Vec<u32>,
    /// Non-overlapping occurrence count (≥ 1) of each entry.
    pub count: Vec<u32>,
    /// Time since the last occurrence ended, in seconds (positions without timestamps).
    pub since_last: Vec<f64>,
}

impl PatternMatches {
    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Whether there are no sequences.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries of sequence `i`: `(pattern, count, since_last)`.
    pub fn row(&self, i: usize) -> impl Iterator<Item = (usize, u32, f64)> + '_ {
        let r = self.offsets[i]..self.offsets[i + 1];
        r.map(move |e| (self.pattern[e] as usize, self.count[e], self.since_last[e]))
    }

    /// Number of sequences in which each pattern occurs (its support), optionally restricted to the
    /// sequences where `keep(i)` holds.
    pub fn support(&self, mut keep: impl FnMut(usize) -> bool) -> Vec<u64> {
        let mut s = vec![0u64; self.n_patterns];
        for i in 0..self.len() {
            if keep(i) {
                for e in self.offsets[i]..self.offsets[i + 1] {
                    s[self.pattern[e] as usize] += 1;
                }
            }
        }
        s
    }
}

/// Sentinel for "no match of this prefix yet".
const NONE: u32 = u32::MAX;

/// A compiled set of patterns: the inverted index plus per-element metadata. Build once, match any
/// number of databases.
#[derive(Clone, Debug)]
pub struct PatternMatcher {
    n_patterns: usize,
    /// First global element of each pattern (`len = n_patterns + 1`).
    elem_start: Vec<u32>,
    /// Pattern of each global element.
    elem_pattern: Vec<u32>,
    /// Number of items of each element.
    elem_size: Vec<u32>,
    /// Item → elements containing it (CSR: `index_start[item]..index_start[item+1]` into `index_elems`).
    index_start: Vec<u32>,
    index_elems: Vec<u32>,
    gap: Limit,
    reference: Reference,
}

/// Per-thread scratch, sized to the matcher.
struct Scratch {
    hits: Vec<u32>,
    touched_elems: Vec<u32>,
    matched: Vec<u32>,
    /// Latest end per element (prefix length k+1 of its pattern), all occurrences.
    state_all: Vec<u32>,
    /// Same, cleared at every counted occurrence (greedy non-overlapping count).
    state_cnt: Vec<u32>,
    count: Vec<u32>,
    /// Whether a pattern was touched in the current sequence.
    touched_pat: Vec<bool>,
    touched_list: Vec<u32>,
}

impl PatternMatcher {
    /// Compiles `patterns` (at most `u32::MAX` elements in total).
    pub fn new(
        patterns: &[SeqPattern],
        gap: Limit,
        reference: Reference,
    ) -> Result<Self, DiscriminativeError> {
        if gap.positions == Some(0) {
            return Err(DiscriminativeError::Option(
                "max gap 0 cannot be satisfied (1 = adjacent itemsets)".into(),
            ));
        }
        let mut elem_start = Vec::with_capacity(patterns.len() + 1);
        let mut elem_pattern = Vec::new();
        let mut elem_size = Vec::new();
        let mut item_bound = 0usize;
        elem_start.push(0u32);
        for (p, pat) in patterns.iter().enumerate() {
            if pat.is_empty() || pat.itemsets.iter().any(|s| s.is_empty()) {
                return Err(DiscriminativeError::EmptyPattern);
            }
            for set in &pat.itemsets {
                elem_pattern.push(p as u32);
                elem_size.push(set.len() as u32);
                item_bound = item_bound.max(set.iter().map(|i| i.index() + 1).max().unwrap_or(0));
            }
            let n = u32::try_from(elem_pattern.len()).map_err(|_| {
                DiscriminativeError::Option("more than 4 billion pattern itemsets".into())
            })?;
            elem_start.push(n);
        }
        // Inverted index by counting sort: item → elements, elements ascending.
        let mut counts = vec![0u32; item_bound + 1];
        for pat in patterns {
            for set in &pat.itemsets {
                for it in set {
                    counts[it.index() + 1] += 1;
                }
            }
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let index_start = counts.clone();
        let mut fill = counts;
        let mut index_elems = vec![0u32; *index_start.last().unwrap_or(&0) as usize];
        let mut e = 0u32;
        for pat in patterns {
            for set in &pat.itemsets {
                for it in set {
                    let slot = &mut fill[it.index()];
                    index_elems[*slot as usize] = e;
                    *slot += 1;
                }
                e += 1;
            }
        }
        Ok(PatternMatcher {
            n_patterns: patterns.len(),
            elem_start,
            elem_pattern,
            elem_size,
            index_start,
            index_elems,
            gap,
            reference,
        })
    }

    /// Number of compiled patterns.
    pub fn n_patterns(&self) -> usize {
        self.n_patterns
    }

    fn scratch(&self) -> Scratch {
        let ne = self.elem_pattern.len();
        Scratch {
            hits: vec![0; ne],
            touched_elems: Vec::new(),
            matched: Vec::new(),
            state_all: vec![NONE; ne],
            state_cnt: vec![NONE; ne],
            count: vec![0; self.n_patterns],
            touched_pat: vec![false; self.n_patterns],
            touched_list: Vec::new(),
        }
    }

    /// Matches every sequence of `db` (rayon-parallel, deterministic).
    pub fn match_db(&self, db: &SequenceDb) -> PatternMatches {
        self.match_range(db, 0..db.len())
    }

    /// Matches the sequences `range` of `db`; row `r` of the result is sequence `range.start + r`.
    pub fn match_range(&self, db: &SequenceDb, range: std::ops::Range<usize>) -> PatternMatches {
        const CHUNK: usize = 2048;
        let starts: Vec<usize> = range.clone().step_by(CHUNK).collect();
        let parts: Vec<PatternMatches> = starts
            .par_iter()
            .map_init(
                || self.scratch(),
                |scratch, &s| {
                    let e = (s + CHUNK).min(range.end);
                    let mut out = PatternMatches {
                        n_patterns: self.n_patterns,
                        offsets: vec![0],
                        ..Default::default()
                    };
                    for i in s..e {
                        self.match_one(db, i, scratch, &mut out);
                    }
                    out
                },
            )
            .collect();
        let mut out = PatternMatches {
            n_patterns: self.n_patterns,
            offsets: Vec::with_capacity(range.len() + 1),
            ..Default::default()
        };
        out.offsets.push(0);
        let total: usize = parts.iter().map(|p| p.pattern.len()).sum();
        out.pattern.reserve(total);
        out.count.reserve(total);
        out.since_last.reserve(total);
        for p in parts {
            let base = out.pattern.len();
            out.offsets.extend(p.offsets[1..].iter().map(|o| o + base));
            out.pattern.extend(p.pattern);
            out.count.extend(p.count);
            out.since_last.extend(p.since_last);
        }
        out
    }

    fn match_one(&self, db: &SequenceDb, i: usize, sc: &mut Scratch, out: &mut PatternMatches) {
        let seq = db.sequence(i);
        let times = seq.times();
        let n = seq.len();
        let reference = match (self.reference, times) {
            (Reference::Fixed(t), Some(_)) => t as f64,
            (_, Some(ts)) => ts[n - 1] as f64,
            (_, None) => (n - 1) as f64,
        };
        for (j, set) in seq.itemsets().enumerate() {
            let j = j as u32;
            // Fast path (the common case of one event per itemset): only single-item elements can be
            // contained in a one-item itemset, and the index lists them ascending, so walking it
            // backwards gives the descending order step 3 needs without counting or sorting.
            if let [it] = set {
                let k = it.index();
                if k + 1 < self.index_start.len() {
                    let r = self.index_start[k] as usize..self.index_start[k + 1] as usize;
                    sc.matched.clear();
                    sc.matched.extend(
                        self.index_elems[r]
                            .iter()
                            .rev()
                            .filter(|&&e| self.elem_size[e as usize] == 1),
                    );
                    self.advance(j, times, sc);
                }
                continue;
            }
            // 1. Count hits per element touched by this itemset's items.
            for it in set {
                let k = it.index();
                if k + 1 >= self.index_start.len() {
                    continue;
                }
                let r = self.index_start[k] as usize..self.index_start[k + 1] as usize;
                for &e in &self.index_elems[r] {
                    let h = &mut sc.hits[e as usize];
                    if *h == 0 {
                        sc.touched_elems.push(e);
                    }
                    *h += 1;
                }
            }
            if sc.touched_elems.is_empty() {
                continue;
            }
            // 2. Fully contained elements, highest global element first (per pattern: descending k).
            sc.matched.clear();
            for &e in &sc.touched_elems {
                if sc.hits[e as usize] == self.elem_size[e as usize] {
                    sc.matched.push(e);
                }
                sc.hits[e as usize] = 0;
            }
            sc.touched_elems.clear();
            sc.matched.sort_unstable_by(|a, b| b.cmp(a));
            self.advance(j, times, sc);
        }
        // 4. Emit the patterns that occurred (ascending), reset the touched state.
        sc.touched_list.sort_unstable();
        for &p in &sc.touched_list {
            let p = p as usize;
            let first = self.elem_start[p] as usize;
            let last = self.elem_start[p + 1] as usize - 1;
            let end = sc.state_all[last];
            if end != NONE {
                let since = match times {
                    Some(ts) => reference - ts[end as usize] as f64,
                    None => reference - f64::from(end),
                };
                out.pattern.push(p as u32);
                out.count.push(sc.count[p]);
                out.since_last.push(since);
            }
            for s in &mut sc.state_all[first..=last] {
                *s = NONE;
            }
            for s in &mut sc.state_cnt[first..=last] {
                *s = NONE;
            }
            sc.count[p] = 0;
            sc.touched_pat[p] = false;
        }
        sc.touched_list.clear();
        out.offsets.push(out.pattern.len());
    }

    /// Step 3: advances the states of the elements in `sc.matched` (descending) at itemset `j`.
    fn advance(&self, j: u32, times: Option<&[i64]>, sc: &mut Scratch) {
        let mut blocked: u32 = NONE; // pattern whose count state was reset at this j
        for mi in 0..sc.matched.len() {
            let e = sc.matched[mi] as usize;
            let p = self.elem_pattern[e] as usize;
            let first = self.elem_start[p] as usize;
            let last = self.elem_start[p + 1] as usize - 1;
            let reach = |prev: u32| -> bool {
                if prev == NONE {
                    return false;
                }
                if let Some(g) = self.gap.positions {
                    if j - prev > g {
                        return false;
                    }
                }
                if let (Some(g), Some(ts)) = (self.gap.time, times) {
                    if ts[j as usize] - ts[prev as usize] > g {
                        return false;
                    }
                }
                true
            };
            let ok_all = e == first || reach(sc.state_all[e - 1]);
            if ok_all {
                if !sc.touched_pat[p] {
                    sc.touched_pat[p] = true;
                    sc.touched_list.push(p as u32);
                }
                sc.state_all[e] = j;
            }
            if blocked == p as u32 {
                continue;
            }
            let ok_cnt = e == first || reach(sc.state_cnt[e - 1]);
            if ok_cnt {
                if e == last {
                    sc.count[p] += 1;
                    for s in &mut sc.state_cnt[first..=last] {
                        *s = NONE;
                    }
                    blocked = p as u32;
                } else {
                    sc.state_cnt[e] = j;
                }
            }
        }
    }
}
