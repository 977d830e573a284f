//! One file per subcommand. Each starts with the command's usage text (what it computes and what it
//! costs), then its `Args`, then `run`: convert the flags into library configuration, call the library,
//! write the result.

pub mod compress;
pub mod convert;
pub mod eval;
pub mod itemsets;
pub mod leaderboard;
pub mod mine;
pub mod next;
pub mod nextitem;
pub mod report;
pub mod rules;
pub mod segment;
pub mod serve;
pub mod stats;
pub mod task;
pub mod train;
