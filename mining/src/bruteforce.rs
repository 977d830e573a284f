//! The brute-force oracle: enumerates every sub-pattern occurrence of every sequence.
//!
//! **What it computes**: the frequent patterns under the same options as the real miners, by the plain
//! definition: for each sequence, every choice of increasing itemset positions and a non-empty subset of
//! each chosen itemset is an occurrence; it counts if it satisfies the gap and span constraints; a
//! sequence supports each distinct pattern once. It shares no code with the miners (it reads the
//! [`SequenceDb`](cartseq_data::SequenceDb) directly), which is what makes it an oracle for the property test.
//!
//! **Cost**: exponential in the sequence length — only for tiny databases (tests). Sequences with more
//! than [`MAX_ITEMS_PER_SEQUENCE`] items are refused.

use cartseq_data::ItemId;
use hashbrown::{HashMap, HashSet};

use crate::error::MiningError;
use crate::miner::{FrequentRun, Miner};
use crate::params::{FromOptions, Options, Params};
use crate::pattern::Pattern;

/// Longest sequence (in items) the oracle accepts.
pub const MAX_ITEMS_PER_SEQUENCE: usize = 24;

/// The oracle as a [`Miner`].
#[derive(Debug, Clone)]
pub struct BruteForce {
    opts: Options,
}

impl BruteForce {
    /// The parameter builder.
    pub fn params() -> Params<BruteForce> {
        Params::default()
    }
}

impl FromOptions for BruteForce {
    fn from_options(opts: Options) -> Self {
        BruteForce { opts }
    }
}

struct Enum<'a> {
    sets: Vec<&'a [ItemId]>,
    times: Option<&'a [i64]>,
    opts: &'a Options,
    found: HashSet<Vec<Vec<ItemId>>>,
}

impl Enum<'_> {
    fn ok(&self, first: usize, prev: usize, q: usize) -> bool {
        let o = self.opts;
        if o.max_gap.positions.is_some_and(|g| q - prev > g as usize) {
            return false;
        }
        if o.max_span
            .positions
            .is_some_and(|s| q - first + 1 > s as usize)
        {
            return false;
        }
        if let Some(t) = self.times {
            if o.max_gap.time.is_some_and(|g| t[q] - t[prev] > g) {
                return false;
            }
            if o.max_span.time.is_some_and(|s| t[q] - t[first] > s) {
                return false;
            }
        }
        true
    }

    fn rec(
        &mut self,
        cur: &mut Vec<Vec<ItemId>>,
        n_items: usize,
        first: usize,
        prev: Option<usize>,
    ) {
        let from = prev.map_or(0, |p| p + 1);
        let max_items = self.opts.max_items.unwrap_or(usize::MAX);
        let max_sets = self.opts.max_itemsets.unwrap_or(usize::MAX);
        if cur.len() >= max_sets {
            return;
        }
        for q in from..self.sets.len() {
            let (f, ok) = match prev {
                None => (q, true),
                Some(p) => (first, self.ok(first, p, q)),
            };
            if !ok {
                continue;
            }
            let set = self.sets[q];
            for mask in 1u32..(1u32 << set.len()) {
                let sub: Vec<ItemId> = (0..set.len())
                    .filter(|&b| mask & (1 << b) != 0)
                    .map(|b| set[b])
                    .collect();
                if n_items + sub.len() > max_items {
                    continue;
                }
                let k = sub.len();
                cur.push(sub);
                self.found.insert(cur.clone());
                self.rec(cur, n_items + k, f, Some(q));
                cur.pop();
            }
        }
    }
}

impl Miner for BruteForce {
    fn mine_frequent(&self, run: FrequentRun<'_>) -> Result<u64, MiningError> {
        let FrequentRun {
            db,
            opts,
            min_count,
            sink,
        } = run;
        let mut support: HashMap<Vec<Vec<ItemId>>, u32> = HashMap::new();
        for s in db.iter() {
            if s.items().len() > MAX_ITEMS_PER_SEQUENCE {
                return Err(MiningError::Params(format!(
                    "the brute-force oracle takes sequences of at most {MAX_ITEMS_PER_SEQUENCE} items"
                )));
            }
            let mut e = Enum {
                sets: s.itemsets().collect(),
                times: s.times(),
                opts,
                found: HashSet::new(),
            };
            e.rec(&mut Vec::new(), 0, 0, None);
            for p in e.found {
                *support.entry(p).or_insert(0) += 1;
            }
        }
        let mut out: Vec<Pattern> = support
            .into_iter()
            .filter(|(p, c)| {
                *c >= min_count
                    && p.iter().map(Vec::len).sum::<usize>() >= opts.min_items
                    && p.len() >= opts.min_itemsets
                    && opts.first_item.map_or(true, |f| p[0].contains(&f))
            })
            .map(|(p, c)| Pattern::new(p, c))
            .collect();
        if out.len() as u64 > opts.max_patterns {
            return Err(MiningError::TooManyPatterns {
                found: opts.max_patterns,
                limit: opts.max_patterns,
                top_k: None,
            });
        }
        out.sort_unstable_by(|a, b| a.cmp_pattern(b));
        let n = out.len() as u64;
        for p in out {
            sink.accept(p)?;
        }
        Ok(n)
    }

    fn name(&self) -> &'static str {
        "bruteforce"
    }

    fn options(&self) -> &Options {
        &self.opts
    }
}
