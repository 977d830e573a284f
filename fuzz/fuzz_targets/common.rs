//! What the reader targets share: read `bytes` as a log with `cfg` under both error policies, through
//! both entry points (events and sequences), with the calls of the data crate's property test
//! (`data/tests/data/read_all_ways.rs`, included here). Only panics are failures; errors are expected.

use cartseq_data::presets::PresetConfig;

#[path = "../../data/tests/data/read_all_ways.rs"]
#[allow(dead_code)]
pub mod read_all_ways;

pub fn read_all(bytes: &[u8], mut cfg: PresetConfig) {
    cfg.max_line = 4096;
    read_all_ways::read_all_ways(bytes, "fuzz", &cfg, |_| {});
}
