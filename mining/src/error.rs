//! Errors of the sequential pattern miners.

/// Why mining could not run or stopped.
#[derive(Debug, thiserror::Error)]
pub enum MiningError {
    /// An invalid parameter or an unsupported combination of options.
    #[error("{0}")]
    Params(String),
    /// The explosion guard fired.
    #[error(
        "stopped after {found} patterns (limit --max-patterns {limit}): raise --min-support / --min-count, \
         bound the pattern length with --max-items (or --max-itemsets), add --max-gap, or raise --max-patterns"
    )]
    TooManyPatterns {
        /// Patterns found when the guard fired.
        found: u64,
        /// The limit.
        limit: u64,
    },
    /// The memory guard fired (`--max-memory`).
    #[error(
        "stopped after {found} patterns: {memory}; raise --min-support / --min-count, bound the pattern \
         length with --max-items (or --max-itemsets), add --max-gap, or raise --max-memory"
    )]
    MemoryLimit {
        /// Patterns found when the guard fired.
        found: u64,
        /// The memory reading.
        memory: cartseq_data::memory::OverLimit,
    },
    /// GSP would have to count too many candidates at one level.
    #[error(
        "GSP would count {candidates} candidate patterns of {size} items (limit --max-patterns {limit}): \
         raise --min-support, bound the pattern length with --max-items, or use --algo prefixspan"
    )]
    TooManyCandidates {
        /// Number of candidates generated.
        candidates: u64,
        /// Pattern size (items) of that level.
        size: usize,
        /// The limit.
        limit: u64,
    },
    /// The input does not carry what an option needs (e.g. timestamps for a gap in time).
    #[error("{0}")]
    Input(String),
    /// Writing patterns failed.
    #[error("writing patterns: {0}")]
    Io(#[from] std::io::Error),
}
