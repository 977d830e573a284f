//! The basket (FIMI) reader: one transaction of space-separated items per line.
#![no_main]
use cartseq_data::presets::{Preset, PresetConfig};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| common::read_all(data, PresetConfig::new(Preset::Basket)));
