//! Resource limits of a run, set once at start-up from `--threads` and `--max-memory`: the thread cap
//! and the process-wide memory limit that the guards of every miner, rule miner, `next`, `task` and
//! model fit check (`cartseq_data::memory`).

/// The largest useful worker-thread count: 4 × the cores. More threads only add start-up time and
/// per-thread memory (`--threads 100000` used to spend minutes creating threads).
pub fn thread_cap() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get()) * 4
}

/// Sets the memory limit from `--max-memory` (`None`: the default, 75% of physical memory; `none`: no
/// limit). Returns the message of an unparsable value.
pub fn apply_memory_limit(flag: Option<&str>) -> Result<Option<u64>, String> {
    use cartseq_data::memory;
    let limit = match flag {
        Some(s) => memory::parse_size(s)?,
        None => memory::default_limit(),
    };
    // One limit for the miners and the model fits (`cartseq_models::memory` re-exports this one).
    memory::set_limit(limit);
    Ok(limit)
}
