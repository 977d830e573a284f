//! The feature-CSV reader of `train`/`eval` (`user_id,split,label,<features>[,seq]`), then the checks
//! that follow it (finite values, labels) and the dataset built from it.
#![no_main]
use cartseq::feature_table::FeatureTable;
use cartseq::tasks::table::dataset_owned;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("f.csv");
    std::fs::write(&path, data).expect("write");
    if let Ok(mut t) = FeatureTable::read_csv(&path) {
        let _ = t.check_labels(&path, None);
        if t.check_finite(&path, None).is_ok() {
            let k = t.n_classes();
            let _ = dataset_owned(t, k, None);
        }
    }
});
