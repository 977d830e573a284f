//! # cartseq
//!
//! The library behind the `cartseq` binary: prediction tasks, features, the pipeline and reports, plus
//! one module per subcommand in [`cmd`]. The algorithms live in the workspace crates
//! `cartseq-data` (logs → sequence database), `cartseq-mining` (patterns, itemsets, rules) and
//! `cartseq-models` (classifiers, neural sequence models, metrics).

pub mod ablation;
pub mod cmd;
pub mod ensemble_cli;
pub mod export;
pub mod features;
pub mod features_csv;
pub mod input_args;
pub mod manifest;
pub mod output;
pub mod pattern_features;
pub mod plots;
pub mod report;
pub mod tasks;
