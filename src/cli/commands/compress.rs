//! `cartseq compress MODEL -o SMALL --int8 [--prune 0.5] [--test LOG --preset yoochoose]` — a saved
//! next-item network (`nextitem --save-model`) to symmetric per-row int8 weights, optionally pruned
//! by magnitude first; the output file states its precision and is served like any other model.
//!
//! With `--test`, both models are evaluated on the log's sessions (mapped through the model's item
//! names, the next-item test protocol) and one request's scoring is timed with each: Recall@k, MRR@k,
//! µs per request, file sizes. Cost: both models in memory, one evaluation pass each.
//! The quantisation is described in `cartseq_models::nextitem::quantized`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use cartseq::compress::{compare, compress};
use cartseq::nextitem::sessions_for_model;
use cartseq::output::AtomicFile;
use cartseq_data::Preset;
use cartseq_models::nextitem::{CompressOptions, NextItemFile, SavedNextItem};
use serde_json::json;

use crate::cli::args::named;
use crate::cli::Global;

/// Arguments of `cartseq compress`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Saved next-item network (gru, lstm or rnn).
    pub model: PathBuf,
    /// Output model file.
    #[arg(long, short = 'o', value_name = "SMALL.json")]
    pub output: PathBuf,
    /// Quantise the weights to int8 (symmetric, one scale per row). Required: the only precision so far.
    #[arg(long)]
    pub int8: bool,
    /// Zero this fraction of each weight row by magnitude before quantising, in [0, 1).
    #[arg(long, default_value_t = 0.0, value_name = "FRACTION")]
    pub prune: f64,
    /// Evaluate both models on this log's sessions and time one request with each.
    #[arg(long, value_name = "LOG")]
    pub test: Option<PathBuf>,
    /// Format of --test.
    #[arg(long, short = 'p', value_parser = named::<Preset>(), default_value = "yoochoose")]
    pub preset: Preset,
    /// Cut-off of Recall@k and MRR@k.
    #[arg(long, default_value_t = 20)]
    pub k: usize,
    /// Prefixes timed per round (with --test).
    #[arg(long, default_value_t = 2000, value_name = "N")]
    pub timed_requests: usize,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `cartseq compress`.
pub fn run(args: Args, _g: &Global) -> anyhow::Result<()> {
    if !args.int8 {
        bail!("give --int8 (the only compression so far)");
    }
    if !(0.0..1.0).contains(&args.prune) {
        bail!("--prune must be in [0, 1), found {}", args.prune);
    }
    if args.k == 0 {
        bail!("--k must be at least 1");
    }
    let original = NextItemFile::load_file(&args.model)?;
    let small = compress(&original, CompressOptions { prune: args.prune })
        .with_context(|| args.model.display().to_string())?;
    let mut f = AtomicFile::create(&args.output)?;
    small.save(std::io::BufWriter::new(&mut f))?;
    f.commit()?;
    let size = |p: &PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let (before, after) = (size(&args.model), size(&args.output));
    let (weights, zeros) = match &small.model {
        SavedNextItem::Int8(q) => q.weight_counts(),
        _ => (0, 0),
    };
    let comparison = match &args.test {
        Some(t) => {
            let test = sessions_for_model(t, args.preset, &original.items)?;
            Some(compare(
                original.model.as_model(),
                small.model.as_model(),
                &test,
                args.k,
                args.timed_requests,
                3,
            ))
        }
        None => None,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = json!({
            "model": original.model.as_model().name(),
            "bytes_before": before, "bytes_after": after,
            "ratio": before as f64 / after.max(1) as f64,
            "weights": weights, "zero_weights": zeros, "prune": args.prune,
            "comparison": comparison,
        });
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "{} → int8: {} → {} bytes ({:.2}× smaller); {} weights, {} zero ({:.1}%)",
        original.model.as_model().name(),
        before,
        after,
        before as f64 / after.max(1) as f64,
        weights,
        zeros,
        100.0 * zeros as f64 / weights.max(1) as f64
    )?;
    if let Some(c) = comparison {
        writeln!(
            out,
            "{:<10} {:>10} {:>8} {:>14}   ({} predictions; {} requests timed, median of 3 rounds)",
            "precision",
            format!("Recall@{}", c.k),
            format!("MRR@{}", c.k),
            "µs/request",
            c.predictions,
            c.timed_requests
        )?;
        for (name, s) in [("f32", &c.original), ("int8", &c.compressed)] {
            writeln!(
                out,
                "{name:<10} {:>10.4} {:>8.4} {:>14.1}",
                s.recall, s.mrr, s.micros_per_request
            )?;
        }
        for w in &c.warnings {
            writeln!(out, "warning: {w}")?;
        }
    }
    Ok(())
}
