//! Subcommands, one file each. Every file starts with the command's usage text (what it computes and
//! what it costs), then its `Args`, then `run`.

use clap::{Parser, Subcommand};

pub mod convert;
pub mod eval;
pub mod itemsets;
pub mod leaderboard;
pub mod mine;
pub mod next;
pub mod nextitem;
pub mod report;
pub mod rules;
pub mod stats;
pub mod task;
pub mod train;

/// Options every subcommand takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// No progress bars or summaries on stderr (results and errors are still printed).
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Worker threads for parallel work (default: all cores). Outputs are identical for any value.
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
}

/// cartseq: sequential patterns, "A then B" rules and predictions from e-commerce behaviour logs.
#[derive(Debug, Parser)]
#[command(name = "cartseq", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Options shared by all subcommands.
    #[command(flatten)]
    pub global: Global,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// All subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Convert a log into SPMF sequences plus a dictionary of names.
    Convert(convert::Args),
    /// Describe a log: sequences, events, distributions, the action funnel, top items.
    Stats(stats::Args),
    /// Frequent sequential patterns (PrefixSpan, SPADE, GSP): closed, maximal, top-k, gap and span constraints.
    Mine(mine::Args),
    /// Build a leakage-free prediction task and export its feature matrix (CSV).
    Task(task::Args),
    /// Fit a model on the train rows of a feature CSV.
    Train(train::Args),
    /// Metrics of a trained model on the test rows of a feature CSV.
    Eval(eval::Args),
    /// Build a task, fit every baseline on the same split, print one table and write SVG charts.
    Leaderboard(leaderboard::Args),
    /// Frequent itemsets of baskets (FP-Growth or Apriori).
    Itemsets(itemsets::Args),
    /// Association, sequential or pattern rules with all measures; CSV/JSONL/SPMF export with a manifest.
    Rules(rules::Args),
    /// What users do after a token (or a sequence of tokens), with count, confidence and lift.
    Next(next::Args),
    /// Next-item recommendation on sessions: baselines and GRU4Rec-style networks, Recall@k / MRR@k.
    Nextitem(nextitem::Args),
    /// One self-contained HTML report: data, patterns, rules, leaderboard, calibration, importances, ablation.
    Report(report::Args),
}
