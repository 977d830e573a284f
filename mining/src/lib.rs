//! # cartseq-mining
//!
//! Sequential pattern mining over a [`cartseq_data::SequenceDb`]: PrefixSpan ([`prefixspan`]), SPADE
//! ([`spade`]) and GSP ([`gsp`]) all implement one [`Miner`] trait and give one exact answer (same patterns,
//! same supports), checked against a brute-force oracle ([`bruteforce`]) by a property test. Patterns go to
//! a [`PatternSink`]: collected in memory, streamed to a writer, or kept as the top-k.
//!
//! ```
//! use cartseq_data::sequence_db::from_nested;
//! use cartseq_mining::{CollectSink, Miner, PrefixSpan};
//!
//! let db = from_nested(&[vec![vec![1], vec![2]], vec![vec![1], vec![3], vec![2]]]);
//! let miner = PrefixSpan::params().min_count(2).check().unwrap();
//! let mut sink = CollectSink::new();
//! miner.mine(&db, &mut sink).unwrap();
//! let lines: Vec<String> = sink.into_sorted().iter().map(|p| p.to_spmf()).collect();
//! assert_eq!(lines, ["1 -1 #SUP: 2", "1 -1 2 -1 #SUP: 2", "2 -1 #SUP: 2"]);
//! ```
//!
//! The design choice worth knowing: closed, maximal and top-k outputs are computed once, in
//! [`miner::mine_with`], from any algorithm's complete frequent set, so every algorithm supports them the
//! same way and a new algorithm only has to produce the frequent patterns under the occurrence constraints.

pub mod bruteforce;
pub(crate) mod dense;
pub mod error;
pub mod gsp;
pub mod miner;
pub mod params;
pub mod pattern;
pub mod prefixspan;
pub mod sink;
pub mod spade;
pub mod spam;

pub use error::MiningError;
pub use gsp::Gsp;
pub use miner::{Algorithm, FrequentRun, MineStats, Miner};
pub use params::{Condense, Limit, MinSupport, Options, Params, DEFAULT_MAX_PATTERNS};
pub use pattern::Pattern;
pub use prefixspan::PrefixSpan;
pub use sink::{CollectSink, PatternSink, TopKSink, WriteSink};
pub use spade::Spade;
pub use spam::Spam;
pub mod discriminative;
pub mod itemsets;
pub mod rules;
