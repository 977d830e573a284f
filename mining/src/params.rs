//! Mining parameters: a builder ([`Params`]) validated once into [`Options`], so an invalid setting never
//! reaches an algorithm (the linfa pattern).
//!
//! Which options combine with what (all three algorithms support everything listed here):
//!
//! | option | PrefixSpan | SPADE | GSP | notes |
//! |---|---|---|---|---|
//! | min/max length (items, itemsets) | yes | yes | yes | |
//! | max gap (positions or time), max span (positions or time) | yes | yes | yes | a sequence supports a pattern if *some* occurrence satisfies every constraint |
//! | required first item | yes | yes | yes | the pattern's first itemset contains it |
//! | closed / maximal | yes | yes | yes | not with gap or span constraints (closure is not defined by one-item extensions there) |
//! | top-k | yes | yes | yes | with closed too; not with maximal (maximality depends on the threshold) |

use std::marker::PhantomData;

use cartseq_data::ItemId;

use crate::error::MiningError;

/// Default of [`Options::max_patterns`]: the explosion guard.
pub const DEFAULT_MAX_PATTERNS: u64 = 10_000_000;

/// A minimum support: an absolute count or a fraction of the number of sequences.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MinSupport {
    /// At least this many sequences.
    Count(u32),
    /// At least `ceil(num / den × sequences)` sequences, computed exactly in integers.
    Fraction {
        /// Numerator.
        num: u128,
        /// Denominator (a power of ten when parsed from a decimal string).
        den: u128,
    },
}

impl MinSupport {
    /// Parses a decimal fraction such as `0.001`, `.5` or `1`, or a percentage such as `0.1%`, exactly
    /// (no floating point), so that 0.1% of 59,601 sequences is 60 as in SPMF.
    pub fn parse_fraction(s: &str) -> Result<MinSupport, MiningError> {
        let bad = || {
            MiningError::Params(format!(
                "--min-support expects a fraction between 0 and 1 such as 0.001 (or a percentage such as 0.1%), found {s:?}"
            ))
        };
        let t = s.trim();
        let (t, percent) = match t.strip_suffix('%') {
            Some(x) => (x.trim(), true),
            None => (t, false),
        };
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 30
            || int.len() > 6
        {
            return Err(bad());
        }
        let digits = format!("{int}{frac}");
        let num: u128 = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| bad())?
        };
        let mut den: u128 = 10u128.pow(frac.len() as u32);
        if percent {
            den *= 100;
        }
        if num > den {
            return Err(bad());
        }
        Ok(MinSupport::Fraction { num, den })
    }

    /// The absolute minimum count for a database of `n` sequences: `ceil(fraction × n)`, at least 1.
    pub fn absolute(&self, n: usize) -> u32 {
        match *self {
            MinSupport::Count(c) => c.max(1),
            MinSupport::Fraction { num, den } => {
                let v = (num * n as u128).div_ceil(den);
                u32::try_from(v).unwrap_or(u32::MAX).max(1)
            }
        }
    }
}

/// Which patterns of the frequent set are output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Condense {
    /// All frequent patterns.
    #[default]
    All,
    /// Closed patterns: no super-pattern with the same support (CloSpan, ClaSP, BIDE).
    Closed,
    /// Maximal patterns: no frequent super-pattern (MaxSP, VMSP).
    Maximal,
}

/// Validated mining options (build them with [`Params`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Minimum support.
    pub min_support: MinSupport,
    /// Minimum number of items in an output pattern (default 1).
    pub min_items: usize,
    /// Maximum number of items in a pattern.
    pub max_items: Option<usize>,
    /// Minimum number of itemsets in an output pattern (default 1).
    pub min_itemsets: usize,
    /// Maximum number of itemsets in a pattern.
    pub max_itemsets: Option<usize>,
    /// Maximum gap between consecutive matched itemsets, in positions (1 = adjacent, as SPMF's CM-SPAM).
    pub max_gap: Option<u32>,
    /// Maximum gap between consecutive matched itemsets, in the database's time unit (milliseconds for logs read by a preset; raw for SPMF `<t>` stamps; needs timestamps).
    pub max_gap_time: Option<i64>,
    /// Maximum span of an occurrence in itemsets (last position − first position + 1).
    pub max_span: Option<u32>,
    /// Maximum span of an occurrence in the database's time unit (last time − first time; needs timestamps).
    pub max_span_time: Option<i64>,
    /// Only patterns whose first itemset contains this item.
    pub first_item: Option<ItemId>,
    /// All, closed or maximal.
    pub condense: Condense,
    /// Keep only the patterns whose support is at least the k-th highest (ties included).
    pub top_k: Option<usize>,
    /// Explosion guard: stop with an error beyond this many patterns (or GSP candidates per level).
    pub max_patterns: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            min_support: MinSupport::Count(1),
            min_items: 1,
            max_items: None,
            min_itemsets: 1,
            max_itemsets: None,
            max_gap: None,
            max_gap_time: None,
            max_span: None,
            max_span_time: None,
            first_item: None,
            condense: Condense::All,
            top_k: None,
            max_patterns: DEFAULT_MAX_PATTERNS,
        }
    }
}

impl Options {
    /// Whether some occurrence constraint (gap or span) is set: the miners then track every occurrence
    /// end, not only the first.
    pub fn has_occurrence_constraints(&self) -> bool {
        self.max_gap.is_some()
            || self.max_gap_time.is_some()
            || self.max_span.is_some()
            || self.max_span_time.is_some()
    }

    /// Whether a constraint needs timestamps.
    pub fn needs_times(&self) -> bool {
        self.max_gap_time.is_some() || self.max_span_time.is_some()
    }

    /// Checks ranges and combinations; every algorithm calls this through [`Params::check`].
    pub fn validate(&self) -> Result<(), MiningError> {
        let err = |m: &str| Err(MiningError::Params(m.to_string()));
        if let MinSupport::Fraction { num, den } = self.min_support {
            if num == 0 || num > den {
                return err("--min-support must be greater than 0 and at most 1");
            }
        }
        if self.min_items == 0 || self.min_itemsets == 0 {
            return err("--min-len must be at least 1");
        }
        if self.max_items.is_some_and(|m| m < self.min_items) {
            return err("--max-len must be at least --min-len");
        }
        if self.max_itemsets.is_some_and(|m| m < self.min_itemsets) {
            return err("--max-itemsets must be at least --min-itemsets");
        }
        if self.max_items == Some(0) || self.max_itemsets == Some(0) {
            return err("--max-len must be at least 1");
        }
        if self.max_gap == Some(0) {
            return err("--max-gap must be at least 1 (1 = adjacent itemsets)");
        }
        if self.max_span == Some(0) {
            return err("--max-span must be at least 1 itemset");
        }
        if self.max_gap_time.is_some_and(|g| g < 0) || self.max_span_time.is_some_and(|g| g < 0) {
            return err("a time gap or span cannot be negative");
        }
        if self.top_k == Some(0) {
            return err("--top-k must be at least 1");
        }
        if self.max_patterns == 0 {
            return err("--max-patterns must be at least 1");
        }
        if self.condense != Condense::All && self.has_occurrence_constraints() {
            return err(
                "--closed/--maximal cannot be combined with --max-gap or --max-span: with gap constraints a \
                 sub-pattern can be less frequent than its super-pattern, so closure is ill-defined; drop one of them",
            );
        }
        if self.condense == Condense::Maximal && self.top_k.is_some() {
            return err(
                "--maximal cannot be combined with --top-k (maximality depends on the support threshold); \
                 use --closed --top-k or --maximal with --min-support",
            );
        }
        Ok(())
    }
}

/// Constructs a miner from validated options.
pub trait FromOptions: Sized {
    /// Wraps `opts` (already validated).
    fn from_options(opts: Options) -> Self;
}

/// The parameter builder of algorithm `A`: `PrefixSpan::params().min_count(60).max_gap(1).check()?`.
#[derive(Clone, Debug)]
pub struct Params<A> {
    opts: Options,
    _algo: PhantomData<fn() -> A>,
}

impl<A: FromOptions> Default for Params<A> {
    fn default() -> Self {
        Params {
            opts: Options::default(),
            _algo: PhantomData,
        }
    }
}

impl<A: FromOptions> Params<A> {
    /// Builder from existing options (validated again by [`Self::check`]).
    pub fn from_options(opts: Options) -> Self {
        Params {
            opts,
            _algo: PhantomData,
        }
    }
    /// Minimum support (count or fraction).
    pub fn min_support(mut self, s: MinSupport) -> Self {
        self.opts.min_support = s;
        self
    }
    /// Minimum support as an absolute count.
    pub fn min_count(mut self, c: u32) -> Self {
        self.opts.min_support = MinSupport::Count(c);
        self
    }
    /// Minimum number of items.
    pub fn min_len(mut self, n: usize) -> Self {
        self.opts.min_items = n;
        self
    }
    /// Maximum number of items.
    pub fn max_len(mut self, n: usize) -> Self {
        self.opts.max_items = Some(n);
        self
    }
    /// Minimum number of itemsets.
    pub fn min_itemsets(mut self, n: usize) -> Self {
        self.opts.min_itemsets = n;
        self
    }
    /// Maximum number of itemsets.
    pub fn max_itemsets(mut self, n: usize) -> Self {
        self.opts.max_itemsets = Some(n);
        self
    }
    /// Maximum gap in positions (1 = adjacent itemsets).
    pub fn max_gap(mut self, g: u32) -> Self {
        self.opts.max_gap = Some(g);
        self
    }
    /// Maximum gap in time units (see [`Options::max_gap_time`]).
    pub fn max_gap_time(mut self, g: i64) -> Self {
        self.opts.max_gap_time = Some(g);
        self
    }
    /// Maximum span in itemsets.
    pub fn max_span(mut self, s: u32) -> Self {
        self.opts.max_span = Some(s);
        self
    }
    /// Maximum span in time units.
    pub fn max_span_time(mut self, s: i64) -> Self {
        self.opts.max_span_time = Some(s);
        self
    }
    /// Required item in the first itemset.
    pub fn first_item(mut self, it: ItemId) -> Self {
        self.opts.first_item = Some(it);
        self
    }
    /// Closed patterns only.
    pub fn closed(mut self) -> Self {
        self.opts.condense = Condense::Closed;
        self
    }
    /// Maximal patterns only.
    pub fn maximal(mut self) -> Self {
        self.opts.condense = Condense::Maximal;
        self
    }
    /// Top-k by support, ties included.
    pub fn top_k(mut self, k: usize) -> Self {
        self.opts.top_k = Some(k);
        self
    }
    /// Explosion guard.
    pub fn max_patterns(mut self, n: u64) -> Self {
        self.opts.max_patterns = n;
        self
    }
    /// The options as set so far.
    pub fn options(&self) -> &Options {
        &self.opts
    }
    /// Validates and builds the miner.
    pub fn check(self) -> Result<A, MiningError> {
        self.opts.validate()?;
        Ok(A::from_options(self.opts))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fractions_are_exact() {
        let s = MinSupport::parse_fraction("0.001").unwrap();
        assert_eq!(s.absolute(59_601), 60);
        assert_eq!(
            MinSupport::parse_fraction("0.1%").unwrap().absolute(59_601),
            60
        );
        assert_eq!(MinSupport::parse_fraction("0.5").unwrap().absolute(4), 2);
        assert_eq!(MinSupport::parse_fraction("0.07").unwrap().absolute(100), 7);
        assert_eq!(MinSupport::parse_fraction(".4").unwrap().absolute(730), 292);
        assert_eq!(MinSupport::parse_fraction("1").unwrap().absolute(10), 10);
        for bad in ["", "x", "1.5", "-0.1", "0.1.2", "1e-3"] {
            assert!(MinSupport::parse_fraction(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_combinations_are_rejected() {
        let o = Options {
            max_gap: Some(1),
            condense: Condense::Closed,
            ..Options::default()
        };
        assert!(o.validate().is_err());
        let o = Options {
            top_k: Some(3),
            condense: Condense::Maximal,
            ..Options::default()
        };
        assert!(o.validate().is_err());
        assert!(Options::default().validate().is_ok());
    }
}
