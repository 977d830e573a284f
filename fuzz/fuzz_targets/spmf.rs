//! The SPMF sequence reader (`1 -1 2 3 -1 -2`, `<t>` stamps).
#![no_main]
use cartseq_data::presets::{Preset, PresetConfig};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::read_all(data, PresetConfig::new(Preset::Spmf)));
