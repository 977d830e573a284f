//! Rules for merchandising: association rules between itemsets, sequential rules ("X then Y"), and the
//! "what comes next" query.
//!
//! * [`association`] — X ⇒ Y from frequent itemsets (Agrawal & Srikant 1994), both sides unordered, all
//!   in the same basket;
//! * [`sequential`] — partially-ordered rules as in RuleGrowth / ERMiner (Fournier-Viger et al. 2011,
//!   2014): every item of X occurs before every item of Y, each side unordered; optionally within a
//!   window of consecutive itemsets as in TRuleGrowth;
//! * [`pattern`] — X ⇒ Y where X·Y is a frequent sequential pattern (X and Y are sequences), and the
//!   two-item "A then B" rules of the report ([`pattern::then_rules`]);
//! * [`next`] — what follows a given sequence of tokens, ranked with count, confidence and lift;
//! * [`mine`] — any of the three kinds straight from a sequence database (what `cartseq rules` runs);
//! * [`format`](mod@format) — SPMF's text format (Java's `Double.toString` for the measures).
//!
//! Every rule carries three counts — the rule's support, the antecedent's and the consequent's —
//! over `n` transactions or sequences, and every measure derives from them ([`Rule::measures`]).

use std::cmp::Ordering;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

use cartseq_data::ItemId;

pub mod association;
pub mod format;
pub mod mine;
pub mod next;
pub mod pattern;
pub mod sequential;
pub mod steps;

/// Errors of rule mining.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RuleError {
    /// A parameter is out of range.
    #[error("invalid parameter: {0}")]
    Param(String),
    /// Too many rules: the explosion guard fired.
    #[error("more than {limit} rules; raise --min-support or --min-confidence, set --max-antecedent/--max-consequent, or raise --max-rules")]
    TooManyRules {
        /// The limit.
        limit: usize,
    },
    /// The search examined too many candidate rules (the count guard on the search itself).
    #[error(
        "examined more than {limit} candidate rules ({found} kept so far) (limit --max-rules {limit}): \
         raise --min-support, set --max-antecedent/--max-consequent (or a --window), or raise --max-rules"
    )]
    TooManyCandidates {
        /// The limit.
        limit: usize,
        /// Rules kept when the guard fired.
        found: usize,
    },
    /// The memory guard fired (`--max-memory`).
    #[error(
        "stopped after {found} rules: {memory}; raise --min-support, set \
         --max-antecedent/--max-consequent, or raise --max-memory"
    )]
    MemoryLimit {
        /// Rules kept when the guard fired.
        found: usize,
        /// The memory reading.
        memory: cartseq_data::memory::OverLimit,
    },
    /// The input lacks what an option needs (e.g. timestamps for `--within 1h`).
    #[error("{0}")]
    Input(String),
}

/// Which kind of rule a [`RuleSet`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleKind {
    /// Itemset ⇒ itemset in one basket.
    Association,
    /// Unordered itemset before unordered itemset in a sequence (RuleGrowth semantics).
    Sequential,
    /// Sequential pattern prefix ⇒ suffix.
    Pattern,
}

cartseq_data::named_enum!(RuleKind, "a rule kind", [
    "association" => RuleKind::Association,
    "sequential" => RuleKind::Sequential,
    "pattern" => RuleKind::Pattern,
]);

/// One rule X ⇒ Y with the counts every measure derives from.
///
/// A side is a sequence of itemsets; association and sequential rules have exactly one itemset per
/// side, pattern rules one or more. Items inside an itemset are ascending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// X.
    pub antecedent: Vec<Vec<ItemId>>,
    /// Y.
    pub consequent: Vec<Vec<ItemId>>,
    /// Number of transactions/sequences in which the rule holds.
    pub support: u32,
    /// Number of transactions/sequences containing X.
    pub antecedent_support: u32,
    /// Number of transactions/sequences containing Y.
    pub consequent_support: u32,
}

/// All measures of one rule, as fractions of `n`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measures {
    /// sup(X ⇒ Y) / n.
    pub support: f64,
    /// sup(X) / n.
    pub antecedent_support: f64,
    /// sup(Y) / n.
    pub consequent_support: f64,
    /// sup(X ⇒ Y) / sup(X).
    pub confidence: f64,
    /// support / (antecedent support × consequent support) (SPMF's formula).
    pub lift: f64,
    /// support − antecedent support × consequent support (Piatetsky-Shapiro).
    pub leverage: f64,
    /// (1 − consequent support) / (1 − confidence); +∞ when the confidence is 1 (Brin et al. 1997).
    pub conviction: f64,
}

impl Measures {
    /// The measures' column names in exports, in the order of [`Measures::values`].
    pub const NAMES: [&'static str; 7] = [
        "support",
        "antecedent_support",
        "consequent_support",
        "confidence",
        "lift",
        "leverage",
        "conviction",
    ];

    /// The measures in the order of [`Measures::NAMES`].
    pub fn values(&self) -> [f64; 7] {
        [
            self.support,
            self.antecedent_support,
            self.consequent_support,
            self.confidence,
            self.lift,
            self.leverage,
            self.conviction,
        ]
    }
}

impl Rule {
    /// An association or sequential rule (one itemset per side).
    pub fn of_itemsets(
        antecedent: Vec<ItemId>,
        consequent: Vec<ItemId>,
        support: u32,
        antecedent_support: u32,
        consequent_support: u32,
    ) -> Rule {
        Rule {
            antecedent: vec![antecedent],
            consequent: vec![consequent],
            support,
            antecedent_support,
            consequent_support,
        }
    }

    /// sup(X ⇒ Y) / sup(X), computed as SPMF does (`(double) sup / (double) supX`).
    pub fn confidence(&self) -> f64 {
        f64::from(self.support) / f64::from(self.antecedent_support)
    }

    /// All measures over `n` transactions or sequences.
    pub fn measures(&self, n: usize) -> Measures {
        let nf = n as f64;
        let s = f64::from(self.support) / nf;
        let a = f64::from(self.antecedent_support) / nf;
        let c = f64::from(self.consequent_support) / nf;
        let confidence = self.confidence();
        let conviction = if self.support == self.antecedent_support {
            f64::INFINITY
        } else {
            (1.0 - c) / (1.0 - confidence)
        };
        Measures {
            support: s,
            antecedent_support: a,
            consequent_support: c,
            confidence,
            lift: s / (a * c),
            leverage: s - a * c,
            conviction,
        }
    }

    /// Number of items in X.
    pub fn antecedent_len(&self) -> usize {
        self.antecedent.iter().map(Vec::len).sum()
    }

    /// Number of items in Y.
    pub fn consequent_len(&self) -> usize {
        self.consequent.iter().map(Vec::len).sum()
    }
}

/// The measure rules are sorted by (descending).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RuleSort {
    /// Lift, then confidence, then support.
    #[default]
    Lift,
    /// Confidence, then lift, then support.
    Confidence,
    /// Support, then confidence, then lift.
    Support,
    /// Confidence, then support, with no lift in between: the order of the report's "A then B" table
    /// ([`pattern::then_rules`]).
    ConfidenceSupport,
}

cartseq_data::named_enum!(RuleSort, "a rule sort key", [
    "lift" => RuleSort::Lift,
    "confidence" => RuleSort::Confidence,
    "support" => RuleSort::Support,
    "confidence-support" => RuleSort::ConfidenceSupport,
]);

/// Filters applied to mined rules. All given conditions must hold.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleFilter {
    /// Minimum lift.
    pub min_lift: Option<f64>,
    /// At most this many items in X.
    pub max_antecedent: Option<usize>,
    /// At most this many items in Y.
    pub max_consequent: Option<usize>,
    /// X must contain every one of these items.
    pub antecedent_has: Vec<ItemId>,
    /// Y must contain every one of these items.
    pub consequent_has: Vec<ItemId>,
}

impl RuleFilter {
    /// Whether `r` passes (over `n` transactions/sequences).
    pub fn keep(&self, r: &Rule, n: usize) -> bool {
        if let Some(m) = self.max_antecedent {
            if r.antecedent_len() > m {
                return false;
            }
        }
        if let Some(m) = self.max_consequent {
            if r.consequent_len() > m {
                return false;
            }
        }
        let has = |side: &[Vec<ItemId>], want: &[ItemId]| {
            want.iter()
                .all(|w| side.iter().any(|s| s.binary_search(w).is_ok()))
        };
        if !has(&r.antecedent, &self.antecedent_has) || !has(&r.consequent, &self.consequent_has) {
            return false;
        }
        if let Some(l) = self.min_lift {
            if r.measures(n).lift < l {
                return false;
            }
        }
        true
    }
}

/// Mined rules with the size of the database they were measured on.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSet {
    /// What kind of rules these are.
    pub kind: RuleKind,
    /// The rules, in the order of the last [`RuleSet::sort`] (mining returns them sorted by
    /// [`RuleSort::Lift`]).
    pub rules: Vec<Rule>,
    /// Number of transactions or sequences.
    pub n: usize,
    /// The absolute minimum support used.
    pub min_support: u32,
}

impl RuleSet {
    /// Sorts by `key` descending; ties broken by the other measures, then X, then Y ascending, so the
    /// order is total and deterministic.
    pub fn sort(&mut self, key: RuleSort) {
        let n = self.n;
        let mut keyed: Vec<(Measures, Rule)> =
            self.rules.drain(..).map(|r| (r.measures(n), r)).collect();
        keyed.sort_by(|(ma, a), (mb, b)| compare(key, ma, a, mb, b));
        self.rules = keyed.into_iter().map(|(_, r)| r).collect();
    }

    /// Keeps the first `k` rules.
    pub fn truncate(&mut self, k: usize) {
        self.rules.truncate(k);
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there is no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

impl RuleSet {
    /// The rules found by (parallel) workers, as one set sorted by [`RuleSort::Lift`].
    pub(crate) fn sorted_by_lift(
        kind: RuleKind,
        parts: Vec<Vec<Rule>>,
        n: usize,
        min_support: u32,
    ) -> RuleSet {
        let mut set = RuleSet {
            kind,
            rules: parts.into_iter().flatten().collect(),
            n,
            min_support,
        };
        set.sort(RuleSort::Lift);
        set
    }
}

/// The explosion guards shared by the parallel rule generators: workers count the rules they keep and
/// the candidates they examine (frequent rules before the confidence and lift filters: the search's own
/// size, which grows even when few rules pass the filters), tick the memory accountant
/// (`--max-memory`), and stop early once a limit is passed; [`RuleBudget::finish`] then reports the
/// error instead of a truncated answer.
pub(crate) struct RuleBudget {
    count: AtomicUsize,
    candidates: AtomicUsize,
    limit: usize,
    memory: cartseq_data::memory::Accountant,
}

impl RuleBudget {
    /// A budget of `limit` rules (and `limit` candidates).
    pub fn new(limit: usize) -> Self {
        RuleBudget {
            count: AtomicUsize::new(0),
            candidates: AtomicUsize::new(0),
            limit,
            memory: cartseq_data::memory::Accountant::new(1024),
        }
    }

    /// Whether a guard fired (workers should stop).
    pub fn exceeded(&self) -> bool {
        self.count.load(AtomicOrdering::Relaxed) > self.limit
            || self.candidates.load(AtomicOrdering::Relaxed) > self.limit
            || self.memory.tripped()
    }

    /// Counts `n` more rules.
    pub fn add(&self, n: usize) {
        self.count.fetch_add(n, AtomicOrdering::Relaxed);
    }

    /// Memory accounting only (one unit of work).
    pub fn tick(&self) {
        let _ = self.memory.tick();
    }

    /// Counts one more candidate examined (and accounts memory every 1024).
    pub fn candidate(&self) {
        self.candidates.fetch_add(1, AtomicOrdering::Relaxed);
        let _ = self.memory.tick();
    }

    /// The workers' rules as a set sorted by lift, or the error of the guard that fired.
    pub fn finish(
        self,
        kind: RuleKind,
        parts: Vec<Vec<Rule>>,
        n: usize,
        min_support: u32,
    ) -> Result<RuleSet, RuleError> {
        let found = self.count.load(AtomicOrdering::Relaxed);
        if self.memory.tripped() {
            return Err(RuleError::MemoryLimit {
                found,
                memory: self.memory.error(),
            });
        }
        if found > self.limit {
            return Err(RuleError::TooManyRules { limit: self.limit });
        }
        let candidates = self.candidates.load(AtomicOrdering::Relaxed);
        if candidates > self.limit {
            return Err(RuleError::TooManyCandidates {
                limit: self.limit,
                found,
            });
        }
        Ok(RuleSet::sorted_by_lift(kind, parts, n, min_support))
    }
}

fn compare(key: RuleSort, ma: &Measures, a: &Rule, mb: &Measures, b: &Rule) -> Ordering {
    let by = |x: f64, y: f64| y.total_cmp(&x);
    let first = match key {
        RuleSort::Lift => by(ma.lift, mb.lift)
            .then(by(ma.confidence, mb.confidence))
            .then(b.support.cmp(&a.support)),
        RuleSort::Confidence => by(ma.confidence, mb.confidence)
            .then(by(ma.lift, mb.lift))
            .then(b.support.cmp(&a.support)),
        RuleSort::Support => b
            .support
            .cmp(&a.support)
            .then(by(ma.confidence, mb.confidence))
            .then(by(ma.lift, mb.lift)),
        RuleSort::ConfidenceSupport => {
            by(ma.confidence, mb.confidence).then(b.support.cmp(&a.support))
        }
    };
    first
        .then_with(|| a.antecedent.cmp(&b.antecedent))
        .then_with(|| a.consequent.cmp(&b.consequent))
}

/// Validated parameters of a rule generator: the confidence floor, the filters and the explosion
/// guard that association and sequential rules share, plus `K`, what one generator adds
/// ([`sequential::Sequential`]; nothing for [`association::AssociationParams`]).
#[derive(Clone, Debug, PartialEq)]
pub struct RuleParams<K> {
    min_confidence: f64,
    filter: RuleFilter,
    max_rules: usize,
    kind: K,
}

impl<K> RuleParams<K> {
    /// Rules with confidence at least `min_confidence` (in [0, 1]); at most 10,000,000 rules.
    fn checked(min_confidence: f64, kind: K) -> Result<Self, RuleError> {
        check_confidence(min_confidence)?;
        Ok(RuleParams {
            min_confidence,
            filter: RuleFilter::default(),
            max_rules: 10_000_000,
            kind,
        })
    }

    /// Filters on sizes, items and lift; for sequential rules the size limits also prune the search.
    pub fn filter(mut self, f: RuleFilter) -> Self {
        self.filter = f;
        self
    }

    /// The explosion guard: fail beyond `n` rules (counted after filtering).
    pub fn max_rules(mut self, n: usize) -> Self {
        self.max_rules = n.max(1);
        self
    }
}

/// Validated confidence threshold in [0, 1].
pub(crate) fn check_confidence(c: f64) -> Result<(), RuleError> {
    if !(0.0..=1.0).contains(&c) {
        return Err(RuleError::Param(format!(
            "minimum confidence {c} is not between 0 and 1"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[u32]) -> Vec<ItemId> {
        v.iter().map(|&x| ItemId(x)).collect()
    }

    /// Hand-checked worked example: 10 baskets, X in 4, Y in 5, both in 3.
    /// support 0.3, confidence 3/4 = 0.75, lift 0.75/0.5 = 1.5, leverage 0.3 − 0.4·0.5 = 0.1,
    /// conviction (1 − 0.5)/(1 − 0.75) = 2.
    #[test]
    fn worked_example_measures() {
        let r = Rule::of_itemsets(ids(&[1]), ids(&[2]), 3, 4, 5);
        let m = r.measures(10);
        assert!((m.support - 0.3).abs() < 1e-15);
        assert!((m.antecedent_support - 0.4).abs() < 1e-15);
        assert!((m.consequent_support - 0.5).abs() < 1e-15);
        assert_eq!(m.confidence, 0.75);
        assert!((m.lift - 1.5).abs() < 1e-12);
        assert!((m.leverage - 0.1).abs() < 1e-12);
        assert!((m.conviction - 2.0).abs() < 1e-12);
        let sure = Rule::of_itemsets(ids(&[1]), ids(&[2]), 4, 4, 5).measures(10);
        assert!(sure.conviction.is_infinite());
    }

    #[test]
    fn filter_by_items_and_sizes() {
        let r = Rule::of_itemsets(ids(&[1, 3]), ids(&[2]), 3, 4, 5);
        let mut f = RuleFilter::default();
        assert!(f.keep(&r, 10));
        f.antecedent_has = ids(&[3]);
        assert!(f.keep(&r, 10));
        f.consequent_has = ids(&[3]);
        assert!(!f.keep(&r, 10));
        f.consequent_has.clear();
        f.max_antecedent = Some(1);
        assert!(!f.keep(&r, 10));
        f.max_antecedent = None;
        f.min_lift = Some(1.6);
        assert!(!f.keep(&r, 10));
    }
}
