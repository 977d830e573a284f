//! End-to-end tests of the `cartseq` binary, in one test binary so that a release test run links once
//! (as Cargo's `tests/testsuite` and ripgrep's `tests/` do): one module per area and one shared helper,
//! [`support`], that runs the built binary and captures what it did.
//!
//! Every module but `task_leakage` drives the binary only, so the tests do not depend on how `src/` is
//! organised. `readme` runs every command block of README.md.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod support;

mod bad_input;
mod columnar;
mod guards;
mod leaderboard;
mod messages;
mod mine;
mod nextitem;
mod nextitem_baselines;
mod outputs;
mod pattern_features;
mod presets;
mod progress;
mod readme;
mod report;
mod rules;
mod segment;
mod serve;
mod session_encoders;
mod stack;
mod stats_counts;
mod task;
mod task_leakage;
mod train;
