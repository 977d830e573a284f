//! Rules straight from a sequence database, whichever kind: the one recipe behind `cartseq rules` and
//! the Python `cartseq.rules` (each parses its own options into a [`RuleMining`] and calls
//! [`mine_rules`]).
//!
//! * association: the sequences read as baskets, frequent itemsets mined with the chosen algorithm,
//!   then [`association_rules`];
//! * sequential: [`sequential_rules`] on the sequences;
//! * pattern: frequent sequential patterns mined with the chosen miner (at most `max_size` items,
//!   6 by default), then [`pattern_rules`].

use cartseq_data::SequenceDb;

use super::association::{association_rules, AssociationParams};
use super::pattern::{pattern_rules, PatternRef, PatternRuleParams};
use super::sequential::{sequential_rules, SequentialParams};
use super::{RuleError, RuleFilter, RuleSet};
use crate::itemsets::{ItemsetAlgorithm, ItemsetError, ItemsetParams, MinSupport, Transactions};
use crate::{Algorithm, CollectSink, MiningError, Options};

/// Which rules, mined from what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleSource {
    /// Association rules of the frequent itemsets, mined with this algorithm.
    Association(ItemsetAlgorithm),
    /// Sequential rules, optionally inside a window of this many consecutive itemsets (TRuleGrowth).
    Sequential {
        /// The window, `None` for none.
        window: Option<usize>,
    },
    /// Rules X ⇒ Y of the frequent sequential patterns X·Y, mined with this miner.
    Pattern(Algorithm),
}

/// Everything [`mine_rules`] needs besides the database.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleMining {
    /// The kind of rules and what they come from.
    pub source: RuleSource,
    /// Minimum support of a rule (and of the itemsets or patterns mined on the way).
    pub min_support: MinSupport,
    /// Minimum confidence, in [0, 1].
    pub min_confidence: f64,
    /// Sizes, required items and lift.
    pub filter: RuleFilter,
    /// Association: the largest itemset (`None`: no limit); pattern: the longest pattern in items
    /// (`None`: 6). Unused by sequential rules.
    pub max_size: Option<usize>,
    /// Explosion guard on the itemsets or patterns mined on the way.
    pub max_patterns: usize,
    /// Explosion guard on the rules (association and sequential).
    pub max_rules: usize,
}

/// Why [`mine_rules`] failed: the error of the step that failed, shown as it is.
#[derive(Debug, thiserror::Error)]
pub enum RuleMiningError {
    /// Mining the frequent itemsets.
    #[error(transparent)]
    Itemsets(#[from] ItemsetError),
    /// Mining the sequential patterns.
    #[error(transparent)]
    Patterns(#[from] MiningError),
    /// Generating the rules.
    #[error(transparent)]
    Rules(#[from] RuleError),
}

/// Mines the rules `m` describes from `db` (unsorted; see [`RuleSet::sort`]).
pub fn mine_rules(db: &SequenceDb, m: RuleMining) -> Result<RuleSet, RuleMiningError> {
    Ok(match m.source {
        RuleSource::Association(algo) => {
            let tx = Transactions::from_sequences(db);
            let p = ItemsetParams::new(m.min_support)
                .max_len(m.max_size.unwrap_or(0))
                .max_itemsets(m.max_patterns);
            let fi = algo.mine(p, &tx)?;
            let ap = AssociationParams::new(m.min_confidence)?
                .filter(m.filter)
                .max_rules(m.max_rules);
            association_rules(&fi, &ap)?
        }
        RuleSource::Sequential { window } => {
            let mut p = SequentialParams::new(m.min_support, m.min_confidence)?
                .filter(m.filter)
                .max_rules(m.max_rules);
            if let Some(w) = window {
                p = p.window(w)?;
            }
            sequential_rules(db, &p)?
        }
        RuleSource::Pattern(algo) => {
            let minsup = m.min_support.absolute(db.len());
            let opts = Options {
                min_support: MinSupport::Count(minsup),
                max_items: Some(m.max_size.unwrap_or(6)),
                max_patterns: m.max_patterns as u64,
                ..Options::default()
            };
            let miner = algo.miner(opts)?;
            let mut sink = CollectSink::new();
            miner.mine(db, &mut sink)?;
            let pats = sink.into_sorted();
            let refs: Vec<PatternRef<'_>> = pats
                .iter()
                .map(|p| (p.itemsets().collect(), p.support))
                .collect();
            let pp = PatternRuleParams::new(m.min_confidence)?.filter(m.filter);
            pattern_rules(&refs, db.len(), minsup, &pp)?
        }
    })
}
