//! `cartseq next INPUT [--preset P] --after TOKEN [--after TOKEN2 …] [--within 1h|N] [--top 20]
//! [--sort count|confidence|lift] [--format table|csv|jsonl] [-o OUT]`
//!
//! "What comes next": among the sequences (users or sessions) in which the `--after` tokens occur in
//! that order, which tokens follow, with
//!
//! * `count` — sequences in which the token follows (each sequence counts once),
//! * `confidence` — count / sequences matching the query ("N% of them do it next"),
//! * `lift` — confidence / share of all sequences containing the token (above 1: more likely after the
//!   query than in general).
//!
//! `--within 5` looks at the next 5 itemsets after the query's last token; `--within 1h` (30m, 2d, …)
//! at events up to that long after it (needs timestamps); default: the rest of the sequence. With
//! `--token action:item`, `--after cart_add:12345` also prints, for every other action on item 12345,
//! the share of matching sequences that do it ("after cart_add of 12345, 40% buy it").
//!
//! Cost: one pass over the sequences; memory: two counters per distinct token.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use cartseq_mining::rules::next::{FollowUp, Within};
use serde_json::json;

use crate::cli::args::input::InputArgs;
use crate::cli::args::named;
use crate::cli::Global;
use cartseq::export::{check_export_path, write_batch, write_export, Columnar};
use cartseq::next_query::{self, parse_within, NextAnswer, NextQuery, NextSort};
use cartseq::output::spreadsheet_safe;
use cartseq::tables::follow_ups as follow_up_table;

/// Output format of `next`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum NextFormat {
    /// Aligned text table with a summary line.
    Table,
    /// CSV with a header.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// Apache Parquet, the columns of csv plus `sequences`.
    Parquet,
    /// Arrow IPC file (Feather v2), the columns of parquet.
    Arrow,
}

/// Arguments of `next`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input, format and sequence options.
    #[command(flatten)]
    pub input: InputArgs,
    /// The token(s) to look after, in order (repeat for a sequence: --after view:1 --after cart_add:1).
    #[arg(long, required = true, value_name = "TOKEN")]
    pub after: Vec<String>,
    /// How far to look: N itemsets (e.g. 5) or a duration (30m, 1h, 1d). Default: the rest of the
    /// sequence.
    #[arg(long, value_name = "N|DURATION")]
    pub within: Option<String>,
    /// Rows to show; 0 = all.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
    /// Sort key (descending): count (sequences in which the token follows), confidence (share of the
    /// matching sequences) or lift (confidence over the token's base rate).
    #[arg(long, value_parser = named::<NextSort>(), default_value = "count")]
    pub sort: NextSort,
    /// Ignore follow-ups seen in fewer than N sequences (lift is noisy on rare tokens).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub min_count: u32,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: NextFormat,
    /// Output file (default: standard output). Written atomically, with OUT.manifest.json.
    #[arg(long, short = 'o', value_name = "OUT")]
    pub output: Option<PathBuf>,
}

/// Runs `next`.
pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let within = parse_within(args.within.as_deref())?;
    check_export_path(args.output.as_deref())?;
    let loaded = args.input.spec()?.load_sequences(global.quiet)?;
    let dict = &loaded.dict;
    let query = NextQuery {
        after: args.after.clone(),
        within,
        min_count: args.min_count,
        sort: args.sort,
        top: args.top,
    };
    let NextAnswer {
        follow: f,
        conversions,
    } = cartseq::progress::with_spinner(global.quiet, "counting follow-ups", || {
        next_query::answer(&loaded, &query)
    })?;
    let name = |r: &FollowUp| dict.tokens.name(r.item.0).into_owned();
    let query = args.after.join(" → ");
    let within_text = match within {
        Within::Anywhere => "later in the sequence".to_string(),
        Within::Steps(n) => format!("within the next {n} itemsets"),
        Within::Duration(_) => format!("within {}", args.within.as_deref().unwrap_or("")),
    };
    let format = format!("{:?}", args.format).to_lowercase();
    let write = |w: &mut dyn Write| -> anyhow::Result<u64> {
        match args.format {
            NextFormat::Table => {
                let pct = if f.n > 0 {
                    100.0 * f64::from(f.matched) / f.n as f64
                } else {
                    0.0
                };
                writeln!(
                    w,
                    "{} of {} sequences ({pct:.1}%) contain {query}; what follows {within_text}:",
                    f.matched, f.n
                )?;
                for (tok, cnt, conf) in &conversions {
                    writeln!(
                        w,
                        "  after {query}, {:.1}% ({cnt} of {}) do {tok}",
                        100.0 * conf,
                        f.matched
                    )?;
                }
                let width = f
                    .rows
                    .iter()
                    .map(|r| name(r).chars().count())
                    .max()
                    .unwrap_or(5)
                    .max(5);
                writeln!(
                    w,
                    "{:>4}  {:<width$}  {:>7}  {:>10}  {:>8}",
                    "rank", "token", "count", "confidence", "lift"
                )?;
                for (k, r) in f.rows.iter().enumerate() {
                    writeln!(
                        w,
                        "{:>4}  {:<width$}  {:>7}  {:>9.1}%  {:>8.3}",
                        k + 1,
                        name(r),
                        r.count,
                        100.0 * r.confidence,
                        r.lift
                    )?;
                }
            }
            NextFormat::Csv => {
                let mut c = csv::Writer::from_writer(&mut *w);
                c.write_record([
                    "rank",
                    "token",
                    "count",
                    "matched",
                    "sequences_with_token",
                    "confidence",
                    "lift",
                ])?;
                for (k, r) in f.rows.iter().enumerate() {
                    c.write_record([
                        (k + 1).to_string(),
                        spreadsheet_safe(&name(r)).into_owned(),
                        r.count.to_string(),
                        f.matched.to_string(),
                        r.item_sequences.to_string(),
                        format!("{}", r.confidence),
                        format!("{}", r.lift),
                    ])?;
                }
                c.flush()?;
            }
            NextFormat::Parquet => {
                write_batch(w, &follow_up_table(&f, dict)?, Columnar::Parquet)?;
            }
            NextFormat::Arrow => {
                write_batch(w, &follow_up_table(&f, dict)?, Columnar::Arrow)?;
            }
            NextFormat::Jsonl => {
                for (k, r) in f.rows.iter().enumerate() {
                    serde_json::to_writer(
                        &mut *w,
                        &json!({
                            "rank": k + 1, "token": name(r), "count": r.count, "matched": f.matched,
                            "sequences": f.n, "sequences_with_token": r.item_sequences,
                            "confidence": r.confidence, "lift": r.lift,
                        }),
                    )?;
                    w.write_all(b"\n")?;
                }
            }
        }
        Ok(f.rows.len() as u64)
    };
    write_export(args.output.as_deref(), &format, write, |_| {
        let mut m = args.input.manifest("next", &loaded)?;
        m.param("after", &args.after)
            .param("within", &args.within)
            .param("top", args.top)
            .param("sort", args.sort.name())
            .param("min_count", args.min_count)
            .count("sequences", f.n as u64)
            .count("matched", u64::from(f.matched));
        Ok(Some(m))
    })
    .context("writing follow-ups")?;
    Ok(())
}
