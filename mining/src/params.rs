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
    /// Parses the one minimum-support syntax every command shares: a fraction of the sequences
    /// (baskets) in (0, 1] — `0.01`, `.5`, `1`, `1e-3` — a percentage — `0.1%`, `1e-2%` — or an absolute
    /// count — `#50`, or a whole number above 1 such as `50`. Decimals are kept exact (no binary
    /// floating point), so 0.1% of 59,601 sequences is `ceil(59.601)` = 60, as in SPMF.
    pub fn parse(s: &str) -> Result<MinSupport, MiningError> {
        let bad = || {
            MiningError::Params(format!(
                "--min-support: expected a fraction in (0, 1] such as 0.01 or 1e-3, a percentage such as \
                 1%, or a count such as #50, found {s:?}"
            ))
        };
        let t = s.trim();
        if let Some(c) = t.strip_prefix('#') {
            return match c.trim().parse::<u32>() {
                Ok(n) if n >= 1 => Ok(MinSupport::Count(n)),
                _ => Err(bad()),
            };
        }
        let (body, percent) = match t.strip_suffix('%') {
            Some(x) => (x.trim(), true),
            None => (t, false),
        };
        let (num, mut den) = parse_exact_decimal(body).ok_or_else(bad)?;
        let whole = !body.contains(['.', 'e', 'E']);
        if !percent && whole && num > 1 {
            return u32::try_from(num).map(MinSupport::Count).map_err(|_| bad());
        }
        if percent {
            den = den.checked_mul(100).ok_or_else(bad)?;
        }
        if num == 0 || num > den {
            return Err(bad());
        }
        let g = gcd(num, den);
        Ok(MinSupport::Fraction {
            num: num / g,
            den: den / g,
        })
    }

    /// [`MinSupport::parse`] (kept under its former name: a fraction, a percentage or a count).
    pub fn parse_fraction(s: &str) -> Result<MinSupport, MiningError> {
        Self::parse(s)
    }

    /// The absolute minimum count for a database of `n` sequences: `ceil(fraction × n)`, at least 1.
    pub fn absolute(&self, n: usize) -> u32 {
        match *self {
            MinSupport::Count(c) => c.max(1),
            MinSupport::Fraction { num, den } => {
                let v = num
                    .checked_mul(n as u128)
                    .map_or(u128::MAX, |p| p.div_ceil(den));
                u32::try_from(v).unwrap_or(u32::MAX).max(1)
            }
        }
    }
}

impl std::fmt::Display for MinSupport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MinSupport::Count(c) => write!(f, "#{c}"),
            MinSupport::Fraction { num, den } => write!(f, "{}", *num as f64 / *den as f64),
        }
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// `"0.0125"` → (125, 10000), `"1e-12"` → (1, 10¹²), `"2.5E3"` → (2500, 1): a decimal with an optional
/// point and an optional exponent, as an exact fraction whose denominator is a power of ten. At most
/// 30 significant digits and a denominator of at most 10³⁰ (so `num × sequences` fits in 128 bits).
fn parse_exact_decimal(s: &str) -> Option<(u128, u128)> {
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    if digits.len() > 30 {
        return None;
    }
    let num: u128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    // value = num × 10^(exp − frac digits)
    let scale = i64::from(exp) - frac.len() as i64;
    if scale >= 0 {
        let m = 10u128.checked_pow(u32::try_from(scale).ok()?)?;
        Some((num.checked_mul(m)?, 1))
    } else {
        let k = u32::try_from(-scale).ok()?;
        if k > 30 {
            // Below 10^-30 only a zero numerator is representable, and zero is refused anyway.
            return (num == 0).then_some((0, 1));
        }
        Some((num, 10u128.pow(k)))
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

/// A bound on a step or extent of an occurrence, in itemset positions and/or in the database's time
/// unit (milliseconds for logs read by a preset; raw for SPMF `<t>` stamps; a time bound needs
/// timestamps). `None` is unbounded. [`Options`] bounds the gap between consecutive matched itemsets and
/// the span of an occurrence with one each; the discriminative [`PatternMatcher`] takes a gap.
///
/// [`PatternMatcher`]: crate::discriminative::PatternMatcher
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limit {
    /// Bound in itemset positions.
    pub positions: Option<u32>,
    /// Bound in the database's time unit.
    pub time: Option<i64>,
}

impl Limit {
    /// A bound in positions only.
    pub fn positions(p: u32) -> Self {
        Limit {
            positions: Some(p),
            time: None,
        }
    }

    /// Whether either bound is set.
    pub fn is_set(&self) -> bool {
        self.positions.is_some() || self.time.is_some()
    }
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
    /// Largest step between consecutive matched itemsets (positions: 1 = adjacent, as SPMF's CM-SPAM).
    pub max_gap: Limit,
    /// Largest extent of an occurrence (positions: last − first + 1; time: last − first).
    pub max_span: Limit,
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
            max_gap: Limit::default(),
            max_span: Limit::default(),
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
        self.max_gap.is_set() || self.max_span.is_set()
    }

    /// Whether a constraint needs timestamps.
    pub fn needs_times(&self) -> bool {
        self.max_gap.time.is_some() || self.max_span.time.is_some()
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
            return err("--min-items and --min-itemsets must be at least 1");
        }
        if self.max_items.is_some_and(|m| m < self.min_items) {
            return err("--max-items must be at least --min-items");
        }
        if self.max_itemsets.is_some_and(|m| m < self.min_itemsets) {
            return err("--max-itemsets must be at least --min-itemsets");
        }
        if self.max_items == Some(0) || self.max_itemsets == Some(0) {
            return err("--max-items and --max-itemsets must be at least 1");
        }
        if self.max_gap.positions == Some(0) {
            return err("--max-gap must be at least 1 (1 = adjacent itemsets)");
        }
        if self.max_span.positions == Some(0) {
            return err("--max-span must be at least 1 itemset");
        }
        if self.max_gap.time.is_some_and(|g| g < 0) || self.max_span.time.is_some_and(|g| g < 0) {
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
/// It has setters for the options set one at a time in code; a caller that sets many (the command
/// line, the Python API) fills the public fields of [`Options`] and checks them with
/// [`Params::from_options`].
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
    /// Maximum gap in positions (1 = adjacent itemsets).
    pub fn max_gap(mut self, g: u32) -> Self {
        self.opts.max_gap.positions = Some(g);
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
        for bad in [
            "", "x", "1.5", "-0.1", "0.1.2", "0", "#0", "#x", "1e", "e-3", "2e0", "1e-40",
        ] {
            assert!(MinSupport::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn one_syntax_with_exponents_and_counts() {
        let p = |s: &str| MinSupport::parse(s).unwrap();
        assert_eq!(
            p("1e-12"),
            MinSupport::Fraction {
                num: 1,
                den: 10u128.pow(12)
            }
        );
        assert_eq!(p("1e-12").absolute(77_512), 1);
        assert_eq!(p("2.5E-1").absolute(100), 25);
        assert_eq!(p("1e-1%").absolute(59_601), 60);
        assert_eq!(p("1e0"), p("1"));
        assert_eq!(p("#3"), MinSupport::Count(3));
        assert_eq!(p(" 50 "), MinSupport::Count(50));
        assert_eq!(p("0.5"), MinSupport::Fraction { num: 1, den: 2 });
        assert_eq!(p("0.000000000000000000000000000001").absolute(1 << 30), 1);
    }

    #[test]
    fn bad_combinations_are_rejected() {
        let o = Options {
            max_gap: Limit::positions(1),
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
