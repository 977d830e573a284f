//! `cartseq rules INPUT [--preset P] --kind association|sequential|pattern --min-support F
//! --min-confidence F [filters] [--sort lift|confidence|support] [--top N] [-o OUT]
//! [--format csv|jsonl|spmf]`
//!
//! Rules X ⇒ Y with support, confidence, lift, leverage, conviction and the antecedent and consequent
//! supports:
//!
//! * `association` — X and Y bought together: from the frequent itemsets of the baskets (each sequence's
//!   set of tokens), FP-Growth by default (`--algo apriori` gives the same rules);
//! * `sequential` — every item of X before every item of Y in a sequence, each side unordered
//!   (RuleGrowth/ERMiner; `--window N` requires the rule inside N consecutive itemsets, as TRuleGrowth);
//! * `pattern` — X then Y as sequences, from the frequent sequential patterns X·Y (`--miner prefixspan`
//!   by default; spade and gsp give the same rules).
//!
//! Support counts baskets/sequences; `--min-support 0.01` means ceil(0.01 × n), as SPMF. Filters:
//! `--min-lift`, `--max-antecedent`, `--max-consequent` (items), `--antecedent-has TOKEN`,
//! `--consequent-has TOKEN` (repeatable: all must be present). Output sorted by `--sort` (descending,
//! ties broken by the other measures, then X, then Y), cut to `--top`. With `-o OUT`: atomic write plus
//! `OUT.manifest.json` (command line, parameters, input SHA-256, row counts, version, time).
//!
//! Memory: the frequent itemsets or patterns plus the rules; `--max-rules` (default 10,000,000) and
//! `--max-patterns` stop an explosion with advice.

use std::time::Instant;

use anyhow::Context;
use cartseq_data::{ItemId, SequenceDb};
use cartseq_mining::itemsets::ItemsetAlgorithm;
use cartseq_mining::itemsets::MinSupport;
use cartseq_mining::rules::mine::{mine_rules, RuleMining, RuleMiningError, RuleSource};
use cartseq_mining::rules::{RuleFilter, RuleKind, RuleSet, RuleSort};
use cartseq_mining::Algorithm;

use crate::cli::args::input::InputArgs;
use crate::cli::args::{named, ExportArgs};
use crate::cli::Global;
use cartseq::export::{check_export_path, resolve_token_in, write_export, write_rules};

/// Arguments of `rules`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input, format and sequence options.
    #[command(flatten)]
    pub input: InputArgs,
    /// Kind of rule: association (itemset ⇒ itemset in the same basket), sequential (unordered
    /// itemset before unordered itemset, RuleGrowth / ERMiner semantics) or pattern (sequential
    /// pattern prefix ⇒ suffix).
    #[arg(long, value_parser = named::<RuleKind>(), default_value = "association")]
    pub kind: RuleKind,
    /// Minimum support: a fraction (0.01), a percentage (1%), or a count (#50).
    #[arg(long, value_name = "F")]
    pub min_support: String,
    /// Minimum confidence in [0, 1].
    #[arg(long, default_value_t = 0.5, value_name = "F")]
    pub min_confidence: f64,
    /// Minimum lift.
    #[arg(long, value_name = "F")]
    pub min_lift: Option<f64>,
    /// At most N items in X.
    #[arg(long, value_name = "N")]
    pub max_antecedent: Option<usize>,
    /// At most N items in Y.
    #[arg(long, value_name = "N")]
    pub max_consequent: Option<usize>,
    /// X must contain this token (repeatable).
    #[arg(long, value_name = "TOKEN")]
    pub antecedent_has: Vec<String>,
    /// Y must contain this token (repeatable).
    #[arg(long, value_name = "TOKEN")]
    pub consequent_has: Vec<String>,
    /// Sequential rules only: X and Y inside N consecutive itemsets (TRuleGrowth).
    #[arg(long, value_name = "N")]
    pub window: Option<usize>,
    /// Association rules only: itemset algorithm.
    #[arg(long, value_parser = named::<ItemsetAlgorithm>(), default_value = "fpgrowth")]
    pub algo: ItemsetAlgorithm,
    /// Pattern rules only: sequential pattern miner.
    #[arg(long, value_parser = named::<Algorithm>(), default_value = "prefixspan", value_name = "ALGO")]
    pub miner: Algorithm,
    /// Pattern rules: longest pattern X·Y in items (default 6); association: largest itemset.
    #[arg(long = "max-size", value_name = "N")]
    pub max_size: Option<usize>,
    /// Sort key (descending): lift (then confidence, then support), confidence (then lift, then
    /// support), support (then confidence, then lift) or confidence-support (then support: the
    /// report's "A then B" order).
    #[arg(long, value_parser = named::<RuleSort>(), default_value = "lift")]
    pub sort: RuleSort,
    /// Explosion guard on rules.
    #[arg(long, default_value_t = 10_000_000, value_name = "N")]
    pub max_rules: usize,
    /// Explosion guard on itemsets/patterns mined on the way.
    #[arg(long, default_value_t = 10_000_000, value_name = "N")]
    pub max_patterns: usize,
    /// Rows to keep, output file and format.
    #[command(flatten)]
    pub export: ExportArgs,
}

/// Runs `rules`.
pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let min_support = MinSupport::parse(&args.min_support)?;
    if args.window.is_some() && args.kind != RuleKind::Sequential {
        anyhow::bail!("--window applies to --kind sequential only");
    }
    // The miners' own checks would name `mine`'s and `itemsets`' flags (--max-itemsets, --max-items).
    for (flag, n) in [
        ("--max-rules", Some(args.max_rules)),
        ("--max-patterns", Some(args.max_patterns)),
        ("--max-size", args.max_size),
    ] {
        if n == Some(0) {
            anyhow::bail!("{flag} must be at least 1");
        }
    }
    check_export_path(args.export.output.as_deref())?;
    let loaded = args.input.spec()?.load_sequences(global.quiet)?;
    let resolve = |names: &[String]| -> anyhow::Result<Vec<ItemId>> {
        let mut v = names
            .iter()
            .map(|n| resolve_token_in(&loaded.dict, &loaded.db, n, &loaded.path))
            .collect::<anyhow::Result<Vec<_>>>()?;
        v.sort_unstable();
        v.dedup();
        Ok(v)
    };
    let filter = RuleFilter {
        min_lift: args.min_lift,
        max_antecedent: args.max_antecedent,
        max_consequent: args.max_consequent,
        antecedent_has: resolve(&args.antecedent_has)?,
        consequent_has: resolve(&args.consequent_has)?,
    };
    let started = Instant::now();
    let spin = cartseq::progress::spinner(global.quiet, "mining rules");
    let rs = mine(&args, min_support, filter, &loaded.db);
    cartseq::progress::finish(spin);
    let mut rs = rs.map_err(with_rules_advice)?;
    let elapsed = started.elapsed();
    let total = rs.len();
    rs.sort(args.sort);
    if args.export.top > 0 {
        rs.truncate(args.export.top);
    }
    let rows = write_export(
        args.export.output.as_deref(),
        args.export.format.name(),
        |w| write_rules(w, &rs, &loaded.dict, args.export.format),
        |rows| {
            let mut m = args.input.manifest("rules", &loaded)?;
            m.param("kind", args.kind.name())
                .param("min_support", &args.min_support)
                .param("min_support_count", rs.min_support)
                .param("min_confidence", args.min_confidence)
                .param("min_lift", args.min_lift)
                .param("max_antecedent", args.max_antecedent)
                .param("max_consequent", args.max_consequent)
                .param("antecedent_has", &args.antecedent_has)
                .param("consequent_has", &args.consequent_has)
                .param("window", args.window)
                .param("max_size", args.max_size)
                .param("sort", args.sort.name())
                .param("top", args.export.top)
                .count("sequences", loaded.db.len() as u64)
                .count("rules_found", total as u64)
                .count("rules_written", rows);
            match args.kind {
                RuleKind::Association => m.param("algo", args.algo.name()),
                RuleKind::Pattern => m.param("miner", args.miner.name()),
                RuleKind::Sequential => m.param("algo", "rulegrowth"),
            };
            Ok(Some(m))
        },
    )
    .context("writing rules")?;
    if !global.quiet {
        eprintln!(
            "{total} {} rules (min support {} of {}) in {:.3}s; wrote {rows}",
            rs.kind.name(),
            rs.min_support,
            rs.n,
            elapsed.as_secs_f64()
        );
    }
    Ok(())
}

fn mine(
    args: &Args,
    min_support: MinSupport,
    filter: RuleFilter,
    db: &SequenceDb,
) -> anyhow::Result<RuleSet> {
    let source = match args.kind {
        RuleKind::Association => RuleSource::Association(args.algo),
        RuleKind::Sequential => RuleSource::Sequential {
            window: args.window,
        },
        RuleKind::Pattern => RuleSource::Pattern(args.miner),
    };
    let m = RuleMining {
        source,
        min_support,
        min_confidence: args.min_confidence,
        filter,
        max_size: args.max_size,
        max_patterns: args.max_patterns,
        max_rules: args.max_rules,
    };
    Ok(mine_rules(db, m)?)
}

/// The miners' explosion errors (count and memory guards) name the flags of `mine` and `itemsets`; in
/// `rules` the pattern length is `--max-size` and the guard on what is mined on the way is
/// `--max-patterns` (there is no `--max-items`, `--max-itemsets` or `--max-gap`).
fn with_rules_advice(e: anyhow::Error) -> anyhow::Error {
    use cartseq_mining::itemsets::ItemsetError;
    use cartseq_mining::MiningError;
    if let Some(RuleMiningError::Itemsets(ItemsetError::TooManyItemsets {
        limit,
        min_support,
        transactions,
    })) = e.downcast_ref::<RuleMiningError>()
    {
        return anyhow::anyhow!(
            "more than {limit} frequent itemsets at minimum support {min_support} (of {transactions} \
             baskets); raise --min-support, set --max-size (itemset size), or raise --max-patterns"
        );
    }
    let Some(RuleMiningError::Patterns(mining)) = e.downcast_ref::<RuleMiningError>() else {
        return e;
    };
    match mining {
        MiningError::MemoryLimit { found, memory, .. } => anyhow::anyhow!(
            "stopped after {found} patterns: {memory}; raise --min-support, lower --max-size (pattern \
             length in items, default 6), or raise --max-memory"
        ),
        MiningError::TooManyPatterns { found, limit, .. } => anyhow::anyhow!(
            "stopped after {found} patterns (limit --max-patterns {limit}): raise --min-support, \
             lower --max-size (pattern length in items, default 6), or raise --max-patterns"
        ),
        MiningError::TooManyCandidates {
            candidates,
            size,
            limit,
        } => anyhow::anyhow!(
            "GSP would count {candidates} candidate patterns of {size} items (limit --max-patterns \
             {limit}): raise --min-support, lower --max-size or use --miner prefixspan"
        ),
        _ => e,
    }
}
