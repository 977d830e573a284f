//! Every CSV preset (the first byte picks it; generic reads columns 1–4 without a header).
#![no_main]
use cartseq_data::presets::{Preset, PresetConfig};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let presets: Vec<Preset> = Preset::ALL
        .iter()
        .copied()
        .filter(|p| !matches!(p, Preset::Spmf | Preset::Basket))
        .collect();
    let preset = presets[sel as usize % presets.len()];
    let cfg = if preset == Preset::Generic {
        common::read_all_ways::generic_columns_1_to_4()
    } else {
        PresetConfig::new(preset)
    };
    common::read_all(rest, cfg);
});
