//! Errors of the sequential pattern miners.

/// Why mining could not run or stopped.
#[derive(Debug, thiserror::Error)]
pub enum MiningError {
    /// An invalid parameter or an unsupported combination of options.
    #[error("{0}")]
    Params(String),
    /// The explosion guard fired.
    #[error(
        "stopped after {found} patterns (limit --max-patterns {limit}): {}",
        ask_less(.top_k, "--max-patterns")
    )]
    TooManyPatterns {
        /// Patterns found when the guard fired.
        found: u64,
        /// The limit.
        limit: u64,
        /// The `--top-k` whose threshold search was running, if any (its advice differs).
        top_k: Option<usize>,
    },
    /// The memory guard fired (`--max-memory`).
    #[error("stopped after {found} patterns: {memory}; {}", ask_less(.top_k, "--max-memory"))]
    MemoryLimit {
        /// Patterns found when the guard fired.
        found: u64,
        /// The memory reading.
        memory: cartseq_data::memory::OverLimit,
        /// The `--top-k` whose threshold search was running, if any (its advice differs).
        top_k: Option<usize>,
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

impl MiningError {
    /// The same error, fired while `--top-k` (if `Some`) searched for its threshold: a guard's advice
    /// then names `--top-k` (a floor from `--min-support` would only cut the answer short).
    pub(crate) fn during_top_k(self, top_k: Option<usize>) -> Self {
        match self {
            MiningError::TooManyPatterns { found, limit, .. } => MiningError::TooManyPatterns {
                found,
                limit,
                top_k,
            },
            MiningError::MemoryLimit { found, memory, .. } => MiningError::MemoryLimit {
                found,
                memory,
                top_k,
            },
            other => other,
        }
    }
}

/// How to ask a miner for less once a guard fired, ending with the limit to raise. Under `--top-k` a
/// higher `--min-support` is only a floor that cuts the answer short, and `--max-gap` is refused with
/// `--closed`, so that advice names `--top-k` and the length bounds.
fn ask_less(top_k: &Option<usize>, raise: &str) -> String {
    match top_k {
        Some(k) => format!(
            "lower --top-k (now {k}), bound the pattern length with --max-items (or --max-itemsets), \
             or raise {raise}"
        ),
        None => format!(
            "raise --min-support / --min-count, bound the pattern length with --max-items (or \
             --max-itemsets), add --max-gap, or raise {raise}"
        ),
    }
}
