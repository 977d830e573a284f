//! The segment model of `segment --save-model` as `segment --apply` reads it (`SegmentModel::read`),
//! then assigning a few rows and counting them per segment, as `--apply` does — shapes that load but
//! cannot assign must be refused at load time.
#![no_main]
use cartseq::segment::{Matrix, SegmentModel};
use libfuzzer_sys::fuzz_target;
use ndarray::Array2;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("m.json");
    std::fs::write(&path, data).expect("write");
    let Ok(model) = SegmentModel::read(&path) else {
        return;
    };
    let d = model.scaler.names.len();
    if d > 64 {
        return;
    }
    let m = Matrix {
        ids: (0..4).map(|i| format!("u{i}")).collect(),
        names: model.scaler.names.clone(),
        x: Array2::from_shape_fn((4, d), |(i, j)| (i as f32 - 1.5) * (j as f32 + 1.0)),
    };
    if let Ok((labels, y)) = model.apply(&m) {
        assert_eq!(labels.len(), 4);
        assert_eq!(y.nrows(), 4);
        let mut sizes = vec![0usize; model.k];
        for c in labels.into_iter().flatten() {
            sizes[c as usize] += 1;
        }
    }
});
