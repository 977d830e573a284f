//! Memory guards of model fits (`--max-memory`), on the one process-wide limit of
//! [`cartseq_data::memory`] (re-exported here: `cartseq` sets it once at start-up from `--max-memory`).
//!
//! Two checks, as for the miners:
//!
//! * **Estimates before allocating.** Each learner that can be asked for more memory than a machine
//!   has — trees × nodes, embedding × hidden sizes, kernel caches — estimates what its parameters will
//!   allocate on the given data ([`crate::LearnerParams::memory_estimate`]) and [`crate::ModelSpec::fit`]
//!   refuses the fit up front with [`ModelError::Memory`], naming the parameter that dominates,
//!   instead of aborting in the allocator hours later. The estimates are upper bounds of the model and
//!   optimiser state (not of the transient scratch), within a factor ~2.
//! * **Periodic accounting while fitting** ([`FitGuard`]). An estimate cannot see everything (scratch,
//!   the allocator's slack, what else the process holds), so the long loops — forest trees, GBDT and
//!   AdaBoost rounds, network batches and epochs — read the resident memory as they go and stop with
//!   [`ModelError::MemoryDuringFit`]: the count done so far and the parameter that bounds the loop.

use crate::error::ModelError;

pub use cartseq_data::memory::{human, limit, set_limit, Accountant, OverLimit, RssReader};

/// Periodic accounting inside one fit loop: [`FitGuard::tick`] after each unit of work (a tree, a
/// round, a batch) reads the resident memory every `every` ticks; [`FitGuard::check`] reads it now
/// (after an epoch). Once over the limit it stays tripped, so parallel workers (a forest's trees) stop
/// at their next tick. A guard costs one atomic add per tick and ~10 µs per reading.
#[derive(Debug)]
pub struct FitGuard {
    meter: Accountant,
    /// What is counted, plural (`trees`, `boosting rounds`, `epochs`).
    unit: &'static str,
    /// The parameter that bounds the loop, as the user types it (`n_trees`).
    param: &'static str,
}

impl FitGuard {
    /// A guard counting `unit` (plural) bounded by `param`, reading the memory every `every` ticks.
    pub fn new(unit: &'static str, param: &'static str, every: u64) -> FitGuard {
        FitGuard {
            meter: Accountant::new(every),
            unit,
            param,
        }
    }

    /// [`FitGuard::new`] with its own limit and memory reader (tests).
    pub fn with_reader(
        unit: &'static str,
        param: &'static str,
        every: u64,
        limit: Option<u64>,
        read: RssReader,
    ) -> FitGuard {
        FitGuard {
            meter: Accountant::with_reader(every, limit, read),
            unit,
            param,
        }
    }

    /// Counts one unit of work; `done` is how many units are complete, for the message.
    #[inline]
    pub fn tick(&self, done: usize) -> Result<(), ModelError> {
        self.meter.tick().map_err(|e| self.error(done, e))
    }

    /// Reads the memory now; `done` is how many units are complete.
    pub fn check(&self, done: usize) -> Result<(), ModelError> {
        self.meter.check().map_err(|e| self.error(done, e))
    }

    fn error(&self, done: usize, e: OverLimit) -> ModelError {
        ModelError::MemoryDuringFit {
            done,
            unit: self.unit,
            param: self.param,
            used: e.used,
            limit: e.limit,
        }
    }
}

/// What a learner would allocate: bytes, and the parameter (key, value) that drives it.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Bytes (saturating).
    pub bytes: u64,
    /// The `--param` key that dominates the estimate (`n_trees`, `hidden`).
    pub param: &'static str,
    /// Its value as given.
    pub value: String,
}

impl Estimate {
    /// [`ModelError::Memory`] when `bytes` exceeds the limit.
    pub fn check(&self) -> Result<(), ModelError> {
        match limit() {
            Some(limit) if self.bytes > limit => Err(ModelError::Memory {
                param: self.param.to_string(),
                value: self.value.clone(),
                need: self.bytes,
                limit,
            }),
            _ => Ok(()),
        }
    }
}

/// `a × b` in bytes, saturating (parameters come from users).
pub fn mul(xs: &[u64]) -> u64 {
    xs.iter().fold(1u64, |acc, &x| acc.saturating_mul(x))
}

/// Upper bound of a tree's node count when grown on `rows` rows with `min_leaf` rows per leaf and an
/// optional depth limit: 2 × the most leaves it can have.
pub fn tree_nodes(rows: usize, min_leaf: usize, max_depth: Option<usize>) -> u64 {
    let mut leaves = (rows / min_leaf.max(1)).max(1) as u64;
    if let Some(d) = max_depth {
        if d < 63 {
            leaves = leaves.min(1u64 << d);
        }
    }
    2 * leaves
}

/// Bytes of one tree node plus its share of leaf values (`outputs` f64 per leaf).
pub fn node_bytes(outputs: usize) -> u64 {
    (std::mem::size_of::<crate::tree::Node>() + 8 * outputs) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_guard_fires_with_the_count_and_the_parameter() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static READS: AtomicU64 = AtomicU64::new(0);
        // 10 MiB more at every reading, against a 35 MiB limit: the fourth reading (40 MiB) trips.
        fn growing() -> Option<u64> {
            Some((READS.fetch_add(1, Ordering::Relaxed) + 1) * (10 << 20))
        }
        let g = FitGuard::with_reader("trees", "n_trees", 1, Some(35 << 20), growing);
        let done = (1..=100).take_while(|&t| g.tick(t).is_ok()).count();
        assert_eq!(done, 3);
        let err = g.tick(7).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("after 7 trees"), "{msg}");
        assert!(msg.contains("lower n_trees"), "{msg}");
        assert!(msg.contains("--max-memory 35.0 MiB"), "{msg}");
    }

    #[test]
    fn estimates_saturate_and_refuse() {
        assert_eq!(mul(&[u64::MAX, 2]), u64::MAX);
        let e = Estimate {
            bytes: u64::MAX,
            param: "n_trees",
            value: "100000000".into(),
        };
        // No limit set in this test binary unless a test sets one: only the message is checked here.
        let err = ModelError::Memory {
            param: e.param.into(),
            value: e.value.clone(),
            need: e.bytes,
            limit: 1 << 30,
        };
        assert!(err.to_string().contains("n_trees = 100000000"), "{err}");
        assert!(err.to_string().contains("--max-memory"), "{err}");
    }
}
