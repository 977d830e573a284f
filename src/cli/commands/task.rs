//! `cartseq task INPUT --preset P --task purchase|abandon|next-action|churn --cutoff DATE|auto --horizon 1d
//! [--split time|user] -o features.csv` — builds a leakage-free prediction task and exports the exact
//! feature matrix (`user_id,split,label,<features…>[,seq]`) that `train`, `eval`, `leaderboard` and any
//! outside tool use, plus `features.csv.manifest.json`: the input's SHA-256, the options and the fitted
//! featurizer (what every pattern column means, and the fingerprint `eval` checks).
//!
//! Features read only events strictly before each row's cutoff, labels only events in
//! `[cutoff, cutoff + horizon)`, item/category statistics only events before the earliest training cutoff.
//! With `--split time` (default) train, valid and test rows come from rolling cutoffs one horizon apart
//! (test at `--cutoff`, valid one horizon earlier, train two horizons earlier); with `--split user` one
//! cutoff is used and users are hashed (seeded) into disjoint splits.
//!
//! Memory: the event log (≈ 21 bytes per event) plus 8 bytes × rows × features; time: one sort of the
//! log plus one pass per window, parallel over users.

use std::path::PathBuf;

use anyhow::Context;
use cartseq::export::check_export_path;
use cartseq::manifest::Manifest;
use cartseq::output::{commit_all, is_regular_target, AtomicFile};

use crate::cli::args::task::TaskArgs;
use crate::cli::Global;

/// Arguments of `task`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The log and the task.
    #[command(flatten)]
    pub task: TaskArgs,
    /// Also write each row's token sequence as a last `seq` column (needed by `train --model lstm|gru|rnn`).
    #[arg(long)]
    pub seq: bool,
    /// Output CSV (written atomically).
    #[arg(short, long)]
    pub output: PathBuf,
}

/// Runs `task`.
pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let setup = args.task.setup(args.seq)?;
    check_export_path(Some(&args.output))?;
    let prepared = setup.prepare(global.quiet)?;
    let table = &prepared.built.table;
    let mut out = AtomicFile::create(&args.output)?;
    table
        .write_csv(&mut out)
        .with_context(|| format!("writing {}", args.output.display()))?;
    let mut m = Manifest::new("task");
    m.param("task", setup.spec.kind.name())
        .param("classes", &prepared.built.class_names)
        .param("featurizer", &prepared.featurizer)
        .param("online_features", &prepared.online)
        .count("rows", table.len() as u64)
        .count("features", table.feature_names.len() as u64);
    // The featurizer hashed the input already (its fingerprint covers it): not read twice.
    m.input_hashed(
        &setup.input.path,
        prepared.featurizer.source.input_sha256.clone(),
    )?;
    m.output(&args.output, "csv", table.len() as u64);
    // The feature CSV and its manifest appear together or not at all (a device gets no manifest).
    let mut group = vec![out];
    if is_regular_target(&args.output) {
        group.push(m.file_beside(&args.output)?);
    }
    commit_all(group)?;
    Ok(())
}
