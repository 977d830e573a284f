//! Memory estimates checked before a model allocates (`--max-memory`).
//!
//! The models crate stands alone, so the limit is handed to it once at start-up ([`set_limit`]; the
//! `cartseq` binary sets the same limit as the miners' guard). Each learner that can be asked for
//! more memory than a machine has — trees × nodes, embedding × hidden sizes, kernel caches — estimates
//! what its parameters will allocate on the given data ([`crate::LearnerParams::memory_estimate`]) and
//! [`crate::ModelSpec::fit`] refuses the fit up front with [`ModelError::Memory`], naming the
//! parameter that dominates, instead of aborting in the allocator hours later. The estimates are upper
//! bounds of the model and optimiser state (not of the transient scratch), within a factor ~2.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::ModelError;

static LIMIT: AtomicU64 = AtomicU64::new(u64::MAX);

/// Sets the memory limit in bytes (`None`: no limit; the default).
pub fn set_limit(bytes: Option<u64>) {
    LIMIT.store(bytes.unwrap_or(u64::MAX), Ordering::Relaxed);
}

/// The limit in bytes, if any.
pub fn limit() -> Option<u64> {
    match LIMIT.load(Ordering::Relaxed) {
        u64::MAX => None,
        n => Some(n),
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

/// Bytes as `1.5 GiB`, `12.0 MiB`, `3.0 TiB`.
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    const K: f64 = 1024.0;
    if b >= K * K * K * K {
        format!("{:.1} TiB", b / (K * K * K * K))
    } else if b >= K * K * K {
        format!("{:.1} GiB", b / (K * K * K))
    } else {
        format!("{:.1} MiB", b / (K * K))
    }
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
