//! `cartseq itemsets INPUT [--preset P] --min-support F [--algo fpgrowth|apriori] [--max-len N]
//! [--top N] [-o OUT] [--format csv|jsonl|spmf]`
//!
//! Frequent itemsets of the input's baskets: every sequence becomes one transaction, the set of its
//! tokens (a basket file is one basket per line; with `--preset online-retail --by session` an invoice,
//! with `--preset taobao` a user's or a session's items). Support is the number of baskets containing
//! the itemset; `--min-support 0.01` means ceil(0.01 × baskets), exactly as SPMF.
//!
//! Both algorithms give the same answer: FP-Growth (default; memory: the FP-tree, at most one node per
//! frequent item occurrence) or Apriori (memory: one level of candidates). Output is sorted by support
//! descending, then items. With `-o OUT` the file is written atomically together with
//! `OUT.manifest.json`. `--max-itemsets` (default 10,000,000) stops an explosion with advice.

use std::time::Instant;

use anyhow::Context;
use cartseq_mining::itemsets::{ItemsetAlgorithm, ItemsetParams, MinSupport, Transactions};

use crate::cli::args::input::InputArgs;
use crate::cli::args::{named, ExportArgs};
use crate::cli::Global;
use cartseq::export::{check_export_path, write_export, write_itemsets};

/// Arguments of `itemsets`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input, format and sequence options.
    #[command(flatten)]
    pub input: InputArgs,
    /// Algorithm, same answer either way: FP-Growth (Han et al. 2000) or Apriori (Agrawal & Srikant
    /// 1994).
    #[arg(long, value_parser = named::<ItemsetAlgorithm>(), default_value = "fpgrowth")]
    pub algo: ItemsetAlgorithm,
    /// Minimum support: a fraction of the baskets (0.01), a percentage (1%), or a count (#50).
    #[arg(long, value_name = "F")]
    pub min_support: String,
    /// Longest itemset (items); 0 = no limit.
    #[arg(long = "max-size", default_value_t = 0, value_name = "N")]
    pub max_size: usize,
    /// Explosion guard: stop with an error beyond this many itemsets.
    #[arg(long, default_value_t = 10_000_000, value_name = "N")]
    pub max_itemsets: usize,
    /// Rows to keep, output file and format.
    #[command(flatten)]
    pub export: ExportArgs,
}

/// Runs `itemsets`.
pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let min_support = MinSupport::parse(&args.min_support)?;
    let params = ItemsetParams::new(min_support)
        .max_len(args.max_size)
        .max_itemsets(args.max_itemsets);
    check_export_path(args.export.output.as_deref())?;
    let loaded = args.input.spec()?.load_sequences(global.quiet)?;
    let tx = Transactions::from_sequences(&loaded.db);
    let started = Instant::now();
    let spin = cartseq::progress::spinner(global.quiet, "mining itemsets");
    let fi = args.algo.mine(params, &tx);
    cartseq::progress::finish(spin);
    let fi = fi?;
    let elapsed = started.elapsed();
    let limit = if args.export.top == 0 {
        usize::MAX
    } else {
        args.export.top
    };
    let rows = write_export(
        args.export.output.as_deref(),
        args.export.format.name(),
        |w| write_itemsets(w, &fi, limit, &loaded.dict, args.export.format),
        |_| {
            let mut m = args.input.manifest("itemsets", &loaded)?;
            m.param("algo", format!("{:?}", args.algo).to_lowercase())
                .param("min_support", &args.min_support)
                .param("min_support_count", fi.min_support())
                .param("max_size", args.max_size)
                .param("top", args.export.top)
                .count("transactions", tx.len() as u64)
                .count("itemsets", fi.len() as u64);
            Ok(Some(m))
        },
    )
    .context("writing itemsets")?;
    if !global.quiet {
        eprintln!(
            "{} frequent itemsets (min support {} of {} baskets) in {:.3}s; wrote {rows}",
            fi.len(),
            fi.min_support(),
            tx.len(),
            elapsed.as_secs_f64()
        );
    }
    Ok(())
}
