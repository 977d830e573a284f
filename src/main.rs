//! The `cartseq` command line: one subcommand per file in `src/cmd/`.

use std::process::ExitCode;

use clap::Parser;

use cartseq::cmd::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(n) = cli.global.threads {
        // Only fails if a pool was already built, which cannot happen this early.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    let result = match cli.command {
        Command::Convert(a) => cartseq::cmd::convert::run(a, &cli.global),
        Command::Stats(a) => cartseq::cmd::stats::run(a, &cli.global),
        Command::Mine(a) => cartseq::cmd::mine::run(a, &cli.global),
        Command::Nextitem(a) => cartseq::cmd::nextitem::run(a, &cli.global),
        Command::Task(a) => cartseq::cmd::task::run(a, &cli.global),
        Command::Train(a) => cartseq::cmd::train::run(a, &cli.global),
        Command::Eval(a) => cartseq::cmd::eval::run(a, &cli.global),
        Command::Leaderboard(a) => cartseq::cmd::leaderboard::run(a, &cli.global),
        Command::Itemsets(a) => cartseq::cmd::itemsets::run(a, &cli.global),
        Command::Rules(a) => cartseq::cmd::rules::run(a, &cli.global),
        Command::Next(a) => cartseq::cmd::next::run(a, &cli.global),
        Command::Report(a) => cartseq::cmd::report::run(a, &cli.global),
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
