//! The command line: clap structs (`args`, shared flag groups; each command's own `Args`) converted
//! into library configuration, and one thin file per subcommand in `commands` (parse → call the
//! `cartseq` library → write). No subcommand file imports another: what two commands share is a library
//! function or a flag group in `args`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod args;
pub mod commands;

use commands::{
    compress, convert, eval, itemsets, leaderboard, mine, next, nextitem, report, rules, segment,
    serve, stats, task, train,
};

/// Options every subcommand takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// No progress bars or summaries on stderr (results and errors are still printed).
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Worker threads for parallel work (default: all cores). Outputs are identical for any value.
    /// At most 4 × the cores (more only adds thread start-up and memory); larger values are capped.
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Memory limit of the guards: `2G`, `512M`, `50%` (of physical memory) or `none`. Default: 75% of
    /// physical memory. Miners, rule miners, `next`, `task` and model fits stop with advice near it.
    #[arg(long, global = true, value_name = "SIZE")]
    pub max_memory: Option<String>,
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
    /// Look up what users did right after a token (or tokens) in a log: counts, confidence, lift (no model).
    Next(next::Args),
    /// Train and evaluate next-item recommenders on sessions (pop, Markov, kNN, GRU4Rec): Recall@k, MRR@k.
    Nextitem(nextitem::Args),
    /// One self-contained HTML report: data, patterns, rules, leaderboard, calibration, importances, ablation.
    Report(report::Args),
    /// Customer segments: standardise, PCA, k-means/GMM/DBSCAN, t-SNE map, each segment's funnel and patterns.
    Segment(segment::Args),
    /// Compress a saved next-item network to int8 (optionally pruned); compare accuracy and speed.
    Compress(compress::Args),
    /// Serve models over HTTP: session events, recommendations, class scores, follow-ups, hot reload.
    Serve(serve::Args),
}

/// Parses the command line, runs the subcommand and turns its error into a message and exit code 2.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Temporary output files are removed on Ctrl-C / SIGTERM (exit 130 / 143). `serve` handles these
    // signals itself (graceful shutdown: drain requests, exit 0) and writes no output files.
    let serving = matches!(cli.command, Command::Serve(_));
    if let Err(e) = (!serving)
        .then(cartseq::output::clean_up_on_signals)
        .transpose()
    {
        eprintln!("error: {e:#}");
        return ExitCode::from(2);
    }
    if let Some(n) = cli.global.threads {
        let cap = cartseq::resources::thread_cap();
        if n > cap && !cli.global.quiet {
            eprintln!("note: --threads {n} capped to {cap} (4 × the cores)");
        }
        // Only fails if a pool was already built, which cannot happen this early.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.clamp(1, cap))
            .build_global();
    }
    if let Err(e) = cartseq::resources::apply_memory_limit(cli.global.max_memory.as_deref()) {
        eprintln!("error: --max-memory: {e}");
        return ExitCode::from(2);
    }
    let g = &cli.global;
    let result = match cli.command {
        Command::Convert(a) => convert::run(a, g),
        Command::Stats(a) => stats::run(a, g),
        Command::Mine(a) => mine::run(a, g),
        Command::Nextitem(a) => nextitem::run(a, g),
        Command::Task(a) => task::run(a, g),
        Command::Train(a) => train::run(a, g),
        Command::Eval(a) => eval::run(a, g),
        Command::Leaderboard(a) => leaderboard::run(a, g),
        Command::Itemsets(a) => itemsets::run(a, g),
        Command::Rules(a) => rules::run(a, g),
        Command::Next(a) => next::run(a, g),
        Command::Report(a) => report::run(a, g),
        Command::Segment(a) => segment::run(a, g),
        Command::Serve(a) => serve::run(a, g),
        Command::Compress(a) => compress::run(a, g),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if cartseq::output::is_broken_pipe(&e) {
                // `cartseq … | head` closing the pipe early is not an error.
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
