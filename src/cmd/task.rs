//! `cartseq task INPUT --preset P --task purchase|abandon|next-action|churn --cutoff DATE|auto --horizon 1d
//! [--split time|user] -o features.csv` — builds a leakage-free prediction task and exports the exact
//! feature matrix (`user_id,split,label,<features…>[,seq]`) that `train`, `eval`, `leaderboard` and any
//! outside tool use.
//!
//! Features read only events strictly before each row's cutoff, labels only events in
//! `[cutoff, cutoff + horizon)`, item/category statistics only events before the earliest training cutoff.
//! With `--split time` (default) train, valid and test rows come from rolling cutoffs one horizon apart
//! (test at `--cutoff`, valid one horizon earlier, train two horizons earlier); with `--split user` one
//! cutoff is used and users are hashed (seeded) into disjoint splits.
//!
//! Memory: the event log (≈ 21 bytes per event) plus 8 bytes × rows × features; time: one sort of the
//! log plus one pass per window, parallel over users.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use cartseq_data::{Dictionary, EventLog, Preset};

use crate::cmd::Global;
use crate::features::SeqTokens;
use crate::input_args::InputArgs;
use crate::output::AtomicFile;
use crate::tasks::table::{build_table, BuiltTask, SeqOptions};
use crate::tasks::{format_time, SplitMode, TaskKind, TaskSpec, HOUR_MS};

/// The task options shared by `task` and `leaderboard`.
#[derive(Debug, Clone, clap::Args)]
pub struct TaskArgs {
    /// What to predict.
    #[arg(long, value_enum, help_heading = "Task")]
    pub task: TaskKind,
    /// Test cutoff: a date (2017-12-03, 2017-12-03T12:00:00, UTC), Unix seconds, or `auto` (the 99.9th
    /// percentile of event times minus the horizon, floored to the hour).
    #[arg(
        long,
        default_value = "auto",
        value_name = "DATE|auto",
        help_heading = "Task"
    )]
    pub cutoff: String,
    /// Label window after each cutoff (e.g. 1d, 12h, 90d).
    #[arg(long, default_value = "1d", value_parser = parse_horizon, value_name = "DURATION", help_heading = "Task")]
    pub horizon: i64,
    /// `time`: rolling cutoffs (train < valid < test in time); `user`: one cutoff, disjoint users.
    #[arg(long, value_enum, default_value = "time", help_heading = "Task")]
    pub split: SplitMode,
    /// Fraction of users in the validation split (`--split user` only; default 0.1).
    #[arg(long, value_name = "F", help_heading = "Task")]
    pub valid_frac: Option<f64>,
    /// Fraction of users in the test split (`--split user` only; default 0.2).
    #[arg(long, value_name = "F", help_heading = "Task")]
    pub test_frac: Option<f64>,
    /// Training windows (`--split time`): train rows at 2, 3, …, N+1 horizons before the test cutoff.
    #[arg(long, default_value_t = 1, value_name = "N", help_heading = "Task")]
    pub train_windows: usize,
    /// Seed of the user split (and of the models in `leaderboard`).
    #[arg(long, default_value_t = 42, help_heading = "Task")]
    pub seed: u64,
    /// Token of the per-row sequences read by lstm/gru/rnn: `action` or `action-category`.
    #[arg(long, value_enum, default_value = "action", help_heading = "Task")]
    pub seq_tokens: SeqTokens,
    /// Keep the last N events before the cutoff in each row's sequence.
    #[arg(long, default_value_t = 50, value_name = "N", help_heading = "Task")]
    pub seq_len: usize,
    /// Discriminative pattern features (`--pattern-features K`, see `pattern_features`).
    #[command(flatten)]
    pub patterns: crate::pattern_features::PatternArgs,
}

fn parse_horizon(s: &str) -> Result<i64, String> {
    cartseq_data::time::parse_duration(s)
}

impl TaskArgs {
    /// The validated task spec.
    pub fn spec(&self) -> anyhow::Result<TaskSpec> {
        if self.split == SplitMode::Time {
            anyhow::ensure!(
                self.valid_frac.is_none() && self.test_frac.is_none(),
                "--valid-frac/--test-frac apply to --split user; with --split time the splits are rolling \
                 cutoffs one horizon apart"
            );
        }
        let cutoff = match self.cutoff.trim() {
            "auto" => None,
            s => Some(
                cartseq_data::time::parse_date(s)
                    .map_err(|e| anyhow::anyhow!("--cutoff: expected {e}"))?
                    .0,
            ),
        };
        let spec = TaskSpec {
            kind: self.task,
            cutoff,
            horizon_ms: self.horizon,
            split: self.split,
            valid_frac: self.valid_frac.unwrap_or(0.1),
            test_frac: self.test_frac.unwrap_or(0.2),
            train_windows: self.train_windows,
            seed: self.seed,
        };
        spec.check()?;
        anyhow::ensure!(
            (1..=100_000).contains(&self.seq_len),
            "--seq-len must be 1..=100000, found {}",
            self.seq_len
        );
        Ok(spec)
    }

    /// Sequence options.
    pub fn seq_options(&self) -> SeqOptions {
        SeqOptions {
            tokens: self.seq_tokens,
            max_len: self.seq_len,
        }
    }
}

/// Arguments of `task`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The log.
    #[command(flatten)]
    pub input: InputArgs,
    /// The task.
    #[command(flatten)]
    pub task: TaskArgs,
    /// Also write each row's token sequence as a last `seq` column (needed by `train --model lstm|gru|rnn`).
    #[arg(long)]
    pub seq: bool,
    /// Output CSV (written atomically).
    #[arg(short, long)]
    pub output: PathBuf,
}

/// The id column name: `session_id` for session-keyed logs, else `user_id`.
pub fn id_column(input: &InputArgs) -> &'static str {
    match input.resolved_preset() {
        Ok(Preset::Yoochoose | Preset::Diginetica) => "session_id",
        _ => "user_id",
    }
}

/// Loads the log and builds the task (shared with `leaderboard`).
pub fn load_and_build(
    input: &InputArgs,
    task: &TaskArgs,
    with_seq: bool,
    quiet: bool,
) -> anyhow::Result<(BuiltTask, EventLog, Dictionary)> {
    let spec = task.spec()?;
    let (log, dict, _skipped) = input.load_events(quiet)?;
    let mut built = build_table(
        &log,
        &dict,
        &spec,
        id_column(input),
        with_seq.then(|| task.seq_options()),
    )
    .with_context(|| format!("building the {} task", spec.kind.name()))?;
    crate::pattern_features::apply(&task.patterns, &mut built, &log, &dict, &spec, quiet)?;
    if !quiet {
        eprint!("{}", summary(&built, &spec));
    }
    Ok((built, log, dict))
}

/// The stderr summary: cutoffs, rows, features and class balance.
pub fn summary(b: &BuiltTask, spec: &TaskSpec) -> String {
    let mut s = format!(
        "task {}: horizon {} h, {} rows × {} features\n",
        spec.kind.name(),
        spec.horizon_ms as f64 / HOUR_MS as f64,
        b.table.len(),
        b.table.feature_names.len()
    );
    for (c, split) in &b.cutoffs {
        s.push_str(&format!(
            "  cutoff {} ({})\n",
            format_time(*c),
            split.unwrap_or("all splits, by user")
        ));
    }
    s.push_str("class balance:\n");
    s.push_str(&b.balance.report(&b.class_names));
    s
}

/// Runs `task`.
pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let (built, _, _) = load_and_build(&args.input, &args.task, args.seq, global.quiet)?;
    let mut out = AtomicFile::create(&args.output)?;
    built
        .table
        .write_csv(&mut out)
        .with_context(|| format!("writing {}", args.output.display()))?;
    out.flush()?;
    out.commit()
}
