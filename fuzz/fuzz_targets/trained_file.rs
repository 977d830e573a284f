//! The `cartseq train` model file (header line + model file) as `eval` reads it.
#![no_main]
use cartseq::trained::TrainedModel;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("m.json");
    std::fs::write(&path, data).expect("write");
    let _ = TrainedModel::load(&path);
});
