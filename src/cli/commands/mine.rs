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
//! itemset. `--closed`, `--maximal` and `--top-k` (ties included) condense the answer; they cannot be
//! combined with gap/span constraints, and `--maximal` not with `--top-k`.
//!
//! Output: `spmf` lines (`1 -1 2 3 -1 #SUP: 5`, item numbers as in the input) are streamed in the
//! miners' deterministic order with bounded memory; `csv` (`pattern,support,relative_support,items,
//! itemsets`, names from the dictionary, itemsets joined by ` > `, items by ` + `) and `jsonl` are sorted
//! by support descending, then pattern, which holds all patterns in memory. Statistics (time, patterns,
//! peak memory, absolute minimum support) go to stderr. Memory: the sequence database, the projections of
//! the current search paths, and for csv/jsonl/closed/maximal/top-k the patterns. `--max-patterns`
//! (default 10,000,000) stops an explosion with advice.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use cartseq_data::{Dictionary, Preset};
use cartseq_mining::{
    Algorithm, CollectSink, Condense, MinSupport, MineStats, Options, Pattern, WriteSink,
    DEFAULT_MAX_PATTERNS,
};
use serde_json::json;

use crate::cli::args::input::InputArgs;
use crate::cli::Global;
use cartseq::export::resolve_token;
use cartseq::output::spreadsheet_safe;

/// Output format of `mine`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MineFormat {
    /// SPMF's pattern lines with item numbers (streamed).
    Spmf,
    /// CSV with names, support and relative support (sorted).
    Csv,
    /// One JSON object per pattern (sorted).
    Jsonl,
}

/// Arguments of `mine`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input and sequence options.
    #[command(flatten)]
    pub input: InputArgs,
    /// Algorithm: prefixspan (default), spade or gsp (aprioriall is accepted as gsp).
    #[arg(long, default_value = "prefixspan", value_parser = parse_algo, help_heading = "Mining")]
    pub algo: Algorithm,
    /// Minimum support as a fraction of sequences (0.001) or a percentage (0.1%).
    #[arg(
        long,
        value_name = "F",
        conflicts_with = "min_count",
        help_heading = "Mining"
    )]
    pub min_support: Option<String>,
    /// Minimum support as a number of sequences.
    #[arg(long, value_name = "N", help_heading = "Mining")]
    pub min_count: Option<u32>,
    /// Shortest pattern output, in items.
    #[arg(
        long,
        visible_alias = "min-pattern-len",
        default_value_t = 1,
        value_name = "N",
        help_heading = "Mining"
    )]
    pub min_items: usize,
    /// Longest pattern, in items (SPMF's maxlen).
    #[arg(
        long,
        visible_alias = "max-pattern-len",
        value_name = "N",
        help_heading = "Mining"
    )]
    pub max_items: Option<usize>,
    /// Fewest itemsets in an output pattern.
    #[arg(long, default_value_t = 1, value_name = "N", help_heading = "Mining")]
    pub min_itemsets: usize,
    /// Most itemsets in a pattern.
    #[arg(long, value_name = "N", help_heading = "Mining")]
    pub max_itemsets: Option<usize>,
    /// Max gap between consecutive matched itemsets in positions (1 = adjacent).
    #[arg(long, value_name = "N", help_heading = "Mining")]
    pub max_gap: Option<u32>,
    /// Max time between consecutive matched itemsets (30m, 1h, 2d; a raw number for SPMF stamps).
    #[arg(long, value_name = "D", help_heading = "Mining")]
    pub max_gap_time: Option<String>,
    /// Max span of an occurrence in itemsets (last − first + 1).
    #[arg(long, value_name = "N", help_heading = "Mining")]
    pub max_span: Option<u32>,
    /// Max time from the first to the last matched itemset.
    #[arg(long, value_name = "D", help_heading = "Mining")]
    pub max_span_time: Option<String>,
    /// Only patterns whose first itemset contains this token (e.g. cart:12345).
    #[arg(long, value_name = "TOKEN", help_heading = "Mining")]
    pub first: Option<String>,
    /// Closed patterns only (no super-pattern with the same support).
    #[arg(long, conflicts_with = "maximal", help_heading = "Mining")]
    pub closed: bool,
    /// Maximal patterns only (no frequent super-pattern).
    #[arg(long, help_heading = "Mining")]
    pub maximal: bool,
    /// Every pattern whose support is at least the K-th highest (ties included).
    #[arg(long, value_name = "K", help_heading = "Mining")]
    pub top_k: Option<usize>,
    /// Stop with an error beyond this many patterns.
    #[arg(long, default_value_t = DEFAULT_MAX_PATTERNS, value_name = "N", help_heading = "Mining")]
    pub max_patterns: u64,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv", help_heading = "Output")]
    pub format: MineFormat,
    /// Output file (default: standard output); written atomically.
    #[arg(long, short = 'o', value_name = "OUT", help_heading = "Output")]
    pub output: Option<PathBuf>,
}

fn parse_algo(s: &str) -> Result<Algorithm, String> {
    Algorithm::parse(s).ok_or_else(|| format!("prefixspan, spade or gsp, found {s:?}"))
}

fn algo_name(a: Algorithm) -> &'static str {
    match a {
        Algorithm::PrefixSpan => "prefixspan",
        Algorithm::Spade => "spade",
        Algorithm::Gsp => "gsp",
    }
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
        max_gap: args.max_gap,
        max_gap_time: args
            .max_gap_time
            .as_deref()
            .map(|s| parse_time(s, preset, "--max-gap-time"))
            .transpose()?,
        max_span: args.max_span,
        max_span_time: args
            .max_span_time
            .as_deref()
            .map(|s| parse_time(s, preset, "--max-span-time"))
            .transpose()?,
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
    let streamed = args.format == MineFormat::Spmf;
    let mut stats = MineStats::default();
    let rows = cartseq::export::write_to(args.output.as_deref(), |w| {
        if streamed {
            let mut sink = WriteSink::spmf(&mut *w);
            stats = miner.mine(db, &mut sink)?;
            return Ok(sink.written());
        }
        let mut sink = CollectSink::new();
        stats = miner.mine(db, &mut sink)?;
        let pats = sink.into_sorted();
        match args.format {
            MineFormat::Csv => write_csv(w, &pats, dict, n)?,
            _ => write_jsonl(w, &pats, dict, n)?,
        }
        Ok(pats.len() as u64)
    })?;
    if !global.quiet {
        let min_text = match (&args.min_support, args.min_count) {
            (Some(f), _) => format!(" ({f} of {n})"),
            _ => String::new(),
        };
        eprintln!(
            "=============  cartseq mine ({}) - STATS =============",
            algo_name(args.algo)
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
        if let Some(mb) = peak_memory_mb() {
            eprintln!(" Peak memory: {mb:.1} MB");
        }
        eprintln!("=====================================================");
    }
    Ok(())
}

/// The pattern as text: items joined by ` + `, itemsets by ` > `.
fn pattern_text(p: &Pattern, dict: &Dictionary) -> String {
    let mut s = String::new();
    for (k, set) in p.itemsets().enumerate() {
        if k > 0 {
            s.push_str(" > ");
        }
        for (j, it) in set.iter().enumerate() {
            if j > 0 {
                s.push_str(" + ");
            }
            s.push_str(&dict.tokens.name(it.0));
        }
    }
    s
}

fn relative(sup: u32, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        f64::from(sup) / n as f64
    }
}

fn write_csv(
    w: &mut dyn Write,
    pats: &[Pattern],
    dict: &Dictionary,
    n: usize,
) -> anyhow::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record([
        "pattern",
        "support",
        "relative_support",
        "items",
        "itemsets",
    ])?;
    for p in pats {
        let text = pattern_text(p, dict);
        out.write_record([
            spreadsheet_safe(&text).as_ref(),
            &p.support.to_string(),
            &format!("{:.6}", relative(p.support, n)),
            &p.num_items().to_string(),
            &p.num_itemsets().to_string(),
        ])?;
    }
    out.flush()?;
    Ok(())
}

fn write_jsonl(
    w: &mut dyn Write,
    pats: &[Pattern],
    dict: &Dictionary,
    n: usize,
) -> anyhow::Result<()> {
    for p in pats {
        let names: Vec<Vec<String>> = p
            .itemsets()
            .map(|s| {
                s.iter()
                    .map(|i| dict.tokens.name(i.0).into_owned())
                    .collect()
            })
            .collect();
        let ids: Vec<Vec<u32>> = p
            .itemsets()
            .map(|s| s.iter().map(|i| i.0).collect())
            .collect();
        let v = json!({
            "pattern": names,
            "ids": ids,
            "support": p.support,
            "relative_support": relative(p.support, n),
            "items": p.num_items(),
            "itemsets": p.num_itemsets(),
        });
        serde_json::to_writer(&mut *w, &v)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// Peak resident memory of this process (Linux `VmHWM`), in MB.
fn peak_memory_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
