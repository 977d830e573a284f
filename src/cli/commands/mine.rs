//! `cartseq mine INPUT [--preset P] [--algo prefixspan|spade|gsp] (--min-support F | --min-count N)
//! [--min-items N --max-items N --min-itemsets N --max-itemsets N] [--max-gap N] [--max-gap-time D]
//! [--max-span N] [--max-span-time D] [--first TOKEN] [--closed | --maximal] [--top-k K]
//! [--max-patterns N] [--format spmf|csv|jsonl] [-o OUT]`
//!
//! Frequent sequential patterns: every sequence of itemsets (`A then B+C then D`) contained in at least
//! `--min-count` sequences, or `ceil(F × sequences)` for `--min-support F` (exact decimal arithmetic, as
//! SPMF: 0.1% of 59,601 sequences is 60). The three algorithms give the same answer; PrefixSpan is the
//! default and usually the fastest. Constraints: pattern length in items and itemsets, max gap between
//! consecutive matched itemsets in positions (1 = adjacent itemsets, as SPMF's CM-SPAM) or in time
//! (`30m`, `1h`; raw stamp units for SPMF input), max span of an occurrence, a required token in the first
//! itemset. `--closed`, `--maximal` and `--top-k` (ties included) condense the answer; `--closed` and
//! `--maximal` cannot be combined with gap/span constraints, and `--maximal` not with `--top-k`.
//!
//! Output: `spmf` lines (`1 -1 2 3 -1 #SUP: 5`, item numbers as in the input) are streamed in the
//! miners' deterministic order with bounded memory; `csv` (`pattern,support,relative_support,items,
//! itemsets`, names from the dictionary, itemsets joined by ` > `, items by ` + `) and `jsonl` are sorted
//! by support descending, then pattern, which holds all patterns in memory. Statistics (time, patterns,
//! peak memory, absolute minimum support) go to stderr. Memory: the sequence database, the projections of
//! the current search paths, and for csv/jsonl/closed/maximal/top-k the patterns. `--max-patterns`
//! (default 10,000,000) stops an explosion with advice.

use crate::cli::args::heading;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use cartseq_data::Preset;
use cartseq_mining::{
    Algorithm, CollectSink, Condense, Limit, MinSupport, MineStats, Options, WriteSink,
    DEFAULT_MAX_PATTERNS,
};

use crate::cli::args::input::InputArgs;
use crate::cli::args::named;
use crate::cli::Global;
use cartseq::export::resolve_token;
use cartseq::export::{write_batch, write_patterns_csv, write_patterns_jsonl, ExportFormat};
use cartseq::tables::patterns;

/// Arguments of `mine`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input and sequence options.
    #[command(flatten)]
    pub input: InputArgs,
    /// Algorithm: prefixspan (default), spade or gsp (aprioriall is accepted as gsp).
    #[arg(long, default_value = "prefixspan", value_parser = named::<Algorithm>(), help_heading = heading::MINING)]
    pub algo: Algorithm,
    /// Minimum support as a fraction of sequences (0.001) or a percentage (0.1%).
    #[arg(long, value_name = "F", conflicts_with = "min_count", help_heading = heading::MINING)]
    pub min_support: Option<String>,
    /// Minimum support as a number of sequences.
    #[arg(long, value_name = "N", help_heading = heading::MINING)]
    pub min_count: Option<u32>,
    /// Shortest pattern output, in items.
    #[arg(
        long,
        visible_alias = "min-pattern-len",
        default_value_t = 1,
        value_name = "N",
        help_heading = heading::MINING
    )]
    pub min_items: usize,
    /// Longest pattern, in items (SPMF's maxlen).
    #[arg(long, visible_alias = "max-pattern-len", value_name = "N", help_heading = heading::MINING)]
    pub max_items: Option<usize>,
    /// Fewest itemsets in an output pattern.
    #[arg(long, default_value_t = 1, value_name = "N", help_heading = heading::MINING)]
    pub min_itemsets: usize,
    /// Most itemsets in a pattern.
    #[arg(long, value_name = "N", help_heading = heading::MINING)]
    pub max_itemsets: Option<usize>,
    /// Max gap between consecutive matched itemsets in positions (1 = adjacent).
    #[arg(long, value_name = "N", help_heading = heading::MINING)]
    pub max_gap: Option<u32>,
    /// Max time between consecutive matched itemsets (30m, 1h, 2d; a raw number for SPMF stamps).
    #[arg(long, value_name = "D", help_heading = heading::MINING)]
    pub max_gap_time: Option<String>,
    /// Max span of an occurrence in itemsets (last − first + 1).
    #[arg(long, value_name = "N", help_heading = heading::MINING)]
    pub max_span: Option<u32>,
    /// Max time from the first to the last matched itemset.
    #[arg(long, value_name = "D", help_heading = heading::MINING)]
    pub max_span_time: Option<String>,
    /// Only patterns whose first itemset contains this token (e.g. cart:12345).
    #[arg(long, value_name = "TOKEN", help_heading = heading::MINING)]
    pub first: Option<String>,
    /// Closed patterns only (no super-pattern with the same support).
    #[arg(long, conflicts_with = "maximal", help_heading = heading::MINING)]
    pub closed: bool,
    /// Maximal patterns only (no frequent super-pattern).
    #[arg(long, help_heading = heading::MINING)]
    pub maximal: bool,
    /// Every pattern whose support is at least the K-th highest (ties included).
    #[arg(long, value_name = "K", help_heading = heading::MINING)]
    pub top_k: Option<usize>,
    /// Stop with an error beyond this many patterns.
    #[arg(long, default_value_t = DEFAULT_MAX_PATTERNS, value_name = "N", help_heading = heading::MINING)]
    pub max_patterns: u64,
    /// Output format: spmf (SPMF's pattern lines with item numbers, streamed), csv (names, support
    /// and relative support), jsonl (one object per pattern), parquet (typed columns, the itemsets as
    /// a list column) or arrow (Arrow IPC file, the columns of parquet); all but spmf are sorted.
    #[arg(long, value_parser = named::<ExportFormat>(), default_value = "csv", help_heading = heading::OUTPUT)]
    pub format: ExportFormat,
    /// Output file (default: standard output); written atomically.
    #[arg(long, short = 'o', value_name = "OUT", help_heading = heading::OUTPUT)]
    pub output: Option<PathBuf>,
}

/// A duration option: milliseconds for logs (`30m`), raw units for SPMF stamps.
fn parse_time(s: &str, preset: Preset, flag: &str) -> anyhow::Result<i64> {
    if preset == Preset::Spmf {
        return s.trim().parse::<i64>().with_context(|| {
            format!("{flag}: SPMF <t> stamps have no unit; give a plain integer, found {s:?}")
        });
    }
    cartseq_data::time::parse_duration(s).map_err(|e| anyhow::anyhow!("{flag}: expected {e}"))
}

/// Runs `mine`.
pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let started = Instant::now();
    cartseq::export::check_export_path(args.output.as_deref())?;
    let loaded = args.input.spec()?.load_sequences(global.quiet)?;
    let preset = args.input.spec()?.preset();
    let min_support = match (&args.min_support, args.min_count) {
        (Some(f), _) => MinSupport::parse_fraction(f)?,
        (None, Some(c)) => MinSupport::Count(c),
        (None, None) if args.top_k.is_some() => MinSupport::Count(1),
        (None, None) => bail!("give --min-support F (fraction of sequences) or --min-count N"),
    };
    let opts = Options {
        min_support,
        min_items: args.min_items,
        max_items: args.max_items,
        min_itemsets: args.min_itemsets,
        max_itemsets: args.max_itemsets,
        max_gap: Limit {
            positions: args.max_gap,
            time: args
                .max_gap_time
                .as_deref()
                .map(|s| parse_time(s, preset, "--max-gap-time"))
                .transpose()?,
        },
        max_span: Limit {
            positions: args.max_span,
            time: args
                .max_span_time
                .as_deref()
                .map(|s| parse_time(s, preset, "--max-span-time"))
                .transpose()?,
        },
        first_item: args
            .first
            .as_deref()
            .map(|t| resolve_token(&loaded.dict, t, &loaded.path))
            .transpose()?,
        condense: if args.closed {
            Condense::Closed
        } else if args.maximal {
            Condense::Maximal
        } else {
            Condense::All
        },
        top_k: args.top_k,
        max_patterns: args.max_patterns,
    };
    let miner = args.algo.miner(opts.clone())?;
    let db = &loaded.db;
    let n = db.len();
    let dict = &loaded.dict;
    let streamed = args.format == ExportFormat::Spmf;
    let mut stats = MineStats::default();
    let spin = cartseq::progress::spinner(global.quiet, "mining patterns");
    let write = |w: &mut dyn std::io::Write| -> anyhow::Result<u64> {
        if streamed {
            let mut sink = WriteSink::spmf(&mut *w);
            stats = miner.mine(db, &mut sink)?;
            return Ok(sink.written());
        }
        let mut sink = CollectSink::new();
        stats = miner.mine(db, &mut sink)?;
        let pats = sink.into_sorted();
        match args.format.columnar() {
            Some(c) => {
                write_batch(w, &patterns(&pats, dict, n)?, c)?;
            }
            None if args.format == ExportFormat::Csv => write_patterns_csv(w, &pats, dict, n)?,
            None => write_patterns_jsonl(w, &pats, dict, n)?,
        }
        Ok(pats.len() as u64)
    };
    // `-o OUT` also gets OUT.manifest.json, committed together with OUT.
    let rows =
        cartseq::export::write_export(args.output.as_deref(), args.format.name(), write, |_| {
            let mut m = args.input.manifest("mine", &loaded)?;
            m.param("algo", args.algo.name())
                .param("min_support", &args.min_support)
                .param("min_count", args.min_count)
                .param("min_support_count", opts.min_support.absolute(n))
                .param("min_items", args.min_items)
                .param("max_items", args.max_items)
                .param("max_gap", args.max_gap)
                .param("first", &args.first)
                .param("closed", args.closed)
                .param("maximal", args.maximal)
                .param("top_k", args.top_k)
                .count("sequences", n as u64);
            Ok(Some(m))
        });
    cartseq::progress::finish(spin);
    let rows = rows?;
    if !global.quiet {
        let min_text = match (&args.min_support, args.min_count) {
            (Some(f), _) => format!(" ({f} of {n})"),
            _ => String::new(),
        };
        eprintln!(
            "=============  cartseq mine ({}) - STATS =============",
            args.algo.name()
        );
        eprintln!(" Sequences: {n}");
        eprintln!(
            " Minimum support: {} sequences{min_text}{}",
            stats.min_count,
            if opts.top_k.is_some() {
                " (top-k threshold)"
            } else {
                ""
            }
        );
        eprintln!(" Patterns: {rows}");
        eprintln!(" Mining time: {:.3} s", stats.elapsed.as_secs_f64());
        eprintln!(" Total time: {:.3} s", started.elapsed().as_secs_f64());
        if let Some(mb) = cartseq::output::peak_memory_mb() {
            eprintln!(" Peak memory: {mb:.1} MB");
        }
        eprintln!("=====================================================");
    }
    Ok(())
}
