//! The fitted featurizer record in a feature table's manifest (`featurizer::read_beside`), and the
//! comparisons `eval` makes with it.
#![no_main]
use cartseq::featurizer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("f.csv");
    std::fs::write(dir.path().join("f.csv.manifest.json"), data).expect("write");
    if let Ok(Some(f)) = featurizer::read_beside(&csv) {
        let _ = f.summary();
        let _ = f.pattern_columns();
        let _ = f.difference(&f);
        let _ = f.params.check();
    }
});
