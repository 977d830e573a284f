//! The log and task flags shared by `task`, `leaderboard` and `report` (`#[command(flatten)] task:
//! TaskArgs`), converted into the library's [`TaskSetup`]: [`InputSpec`](cartseq::input::InputSpec),
//! [`TaskSpec`], [`SeqOptions`] and [`PatternFeaturizer`].

use super::{heading, named};
use cartseq::behaviour::SeqTokens;
use cartseq::experiment::TaskSetup;
use cartseq::featurizer::PatternFeaturizer;
use cartseq::tasks::table::SeqOptions;
use cartseq::tasks::{SplitMode, TaskKind, TaskSpec};
use cartseq_mining::discriminative::Measure;

use crate::cli::args::input::InputArgs;

/// The log and the task options shared by `task`, `leaderboard` and `report`.
#[derive(Debug, Clone, clap::Args)]
pub struct TaskArgs {
    /// The log.
    #[command(flatten)]
    pub input: InputArgs,
    /// What to predict: purchase, abandon, next-action, churn.
    #[arg(long, value_parser = named::<TaskKind>(), value_name = "TASK", help_heading = heading::TASK)]
    pub task: TaskKind,
    /// Test cutoff: a date (2017-12-03, 2017-12-03T12:00:00, UTC), Unix seconds, or `auto` (the 99.9th
    /// percentile of event times minus the horizon, floored to the hour).
    #[arg(long, default_value = "auto", value_name = "DATE|auto", help_heading = heading::TASK)]
    pub cutoff: String,
    /// Label window after each cutoff (e.g. 1d, 12h, 90d).
    #[arg(long, default_value = "1d", value_parser = parse_horizon, value_name = "DURATION", help_heading = heading::TASK)]
    pub horizon: i64,
    /// `time`: rolling cutoffs (train < valid < test in time); `user`: one cutoff, disjoint users.
    #[arg(long, value_parser = named::<SplitMode>(), default_value = "time", value_name = "time|user", help_heading = heading::TASK)]
    pub split: SplitMode,
    /// Fraction of users in the validation split (`--split user` only; default 0.1).
    #[arg(long, value_name = "F", help_heading = heading::TASK)]
    pub valid_frac: Option<f64>,
    /// Fraction of users in the test split (`--split user` only; default 0.2).
    #[arg(long, value_name = "F", help_heading = heading::TASK)]
    pub test_frac: Option<f64>,
    /// Training windows (`--split time`): train rows at 2, 3, …, N+1 horizons before the test cutoff.
    #[arg(long, default_value_t = 1, value_name = "N", help_heading = heading::TASK)]
    pub train_windows: usize,
    /// Seed of the user split (and of the models in `leaderboard`).
    #[arg(long, default_value_t = 42, help_heading = heading::TASK)]
    pub seed: u64,
    /// Token of the per-row sequences read by lstm/gru/rnn: `action` or `action-category`.
    #[arg(long, value_parser = named::<SeqTokens>(), default_value = "action", value_name = "TOKEN", help_heading = heading::TASK)]
    pub seq_tokens: SeqTokens,
    /// Keep the last N events before the cutoff in each row's sequence.
    #[arg(long, default_value_t = 50, value_name = "N", help_heading = heading::TASK)]
    pub seq_len: usize,
    /// Discriminative pattern features (`--pattern-features K`).
    #[command(flatten)]
    pub patterns: PatternArgs,
}

/// `--cutoff`: `auto` (`None`), a date or Unix seconds (ms).
pub fn parse_cutoff(s: &str) -> anyhow::Result<Option<i64>> {
    Ok(match s.trim() {
        "auto" => None,
        s => Some(
            cartseq_data::time::parse_date(s)
                .map_err(|e| anyhow::anyhow!("--cutoff: expected {e}"))?
                .0,
        ),
    })
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
        let cutoff = parse_cutoff(&self.cutoff)?;
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

    /// The library's task setup: the log, this task, a `seq` column when `with_seq`, and the
    /// pattern featurizer.
    pub fn setup(&self, with_seq: bool) -> anyhow::Result<TaskSetup> {
        Ok(TaskSetup {
            input: self.input.spec()?,
            spec: self.spec()?,
            seq: with_seq.then(|| self.seq_options()),
            featurizer: self.patterns.featurizer(),
        })
    }

    /// Per-row token sequences for the sequence models.
    pub fn seq_options(&self) -> SeqOptions {
        SeqOptions {
            tokens: self.seq_tokens,
            max_len: self.seq_len,
        }
    }
}

/// The pattern-feature options (flattened into the task options).
#[derive(Debug, Clone, clap::Args)]
pub struct PatternArgs {
    /// Add the K most discriminative sequential patterns (mined on the training rows) as features:
    /// `patNN_occurs`, `patNN_count`, `patNN_since_h` per pattern. 0 = none.
    #[arg(long, default_value_t = 0, value_name = "K", help_heading = heading::PATTERN_FEATURES)]
    pub pattern_features: usize,
    /// Discrimination measure used to choose the patterns: `infogain`, `chi2` or `supdiff`.
    #[arg(long, default_value = "infogain", value_parser = named::<Measure>(), help_heading = heading::PATTERN_FEATURES)]
    pub pattern_select: Measure,
    /// Pattern tokens: `action` or `action-category`.
    #[arg(
        long,
        value_parser = named::<SeqTokens>(),
        default_value = "action-category",
        value_name = "TOKEN",
        help_heading = heading::PATTERN_FEATURES
    )]
    pub pattern_tokens: SeqTokens,
    /// Longest mined pattern, in items.
    #[arg(long, default_value_t = 3, value_name = "N", help_heading = heading::PATTERN_FEATURES)]
    pub pattern_max_len: usize,
    /// Largest gap between consecutive pattern events, in positions (1 = adjacent).
    #[arg(long, value_name = "N", help_heading = heading::PATTERN_FEATURES)]
    pub pattern_max_gap: Option<u32>,
    /// Each row's sequence: its last N events before the cutoff.
    #[arg(long, default_value_t = 200, value_name = "N", help_heading = heading::PATTERN_FEATURES)]
    pub pattern_history: usize,
}

impl PatternArgs {
    /// The library's (unfitted) pattern featurizer.
    pub fn featurizer(&self) -> PatternFeaturizer {
        PatternFeaturizer {
            k: self.pattern_features,
            measure: self.pattern_select,
            tokens: self.pattern_tokens,
            max_len: self.pattern_max_len,
            max_gap: self.pattern_max_gap,
            history: self.pattern_history,
        }
    }
}
