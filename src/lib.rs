//! # cartseq
//!
//! The pipeline behind the `cartseq` command line, with no command-line parsing in it: reading inputs
//! ([`input`]), prediction tasks ([`tasks`]), behaviour features ([`behaviour`]), the fitted pattern
//! featurizer ([`featurizer`]), the feature table and its CSV form ([`feature_table`]), the experiment
//! that fits and scores models for `train`, `leaderboard` and `report` ([`experiment`]), trained-model
//! files ([`trained`]), ablation, charts, the HTML report, exports with manifests and safe output files.
//! The algorithms live in the workspace crates `cartseq-data` (logs → sequence database),
//! `cartseq-mining` (patterns, itemsets, rules) and `cartseq-models` (classifiers, neural sequence
//! models, metrics). The binary (`src/main.rs`, `src/cli/`) only turns flags into these types.

pub mod ablation;
pub mod behaviour;
pub mod charts;
pub mod compress;
pub mod experiment;
pub mod export;
pub mod feature_table;
pub mod featurizer;
pub mod input;
pub mod manifest;
pub mod next_query;
pub mod nextitem;
pub mod online_features;
pub mod output;
pub mod progress;
pub mod report;
pub mod resources;
pub mod segment;
pub mod serve;
pub mod stats;
pub mod tables;
pub mod tasks;
pub mod trained;
