//! Every model loader (`cartseq_models::load_any`: all kinds, ensembles nesting members), then scoring
//! a few rows with whatever loaded — shapes that load but cannot score must be refused at load time.
#![no_main]
use cartseq_models::{load_any, Classifier, Dataset, Input, Sequences};
use libfuzzer_sys::fuzz_target;
use ndarray::{Array1, Array2};

fuzz_target!(|data: &[u8]| {
    let Ok(model) = load_any(data) else {
        return;
    };
    let Some(sig) = model.signature() else {
        return;
    };
    let d = match sig.input {
        Input::Features(d) if d <= 64 => d,
        Input::Features(_) => return,
        _ => 3,
    };
    let x = Array2::from_shape_fn((4, d), |(i, j)| (i as f64 - 1.5) * (j as f64 + 1.0));
    let Ok(mut ds) = Dataset::new(x, Array1::zeros(4), sig.n_classes.max(1)) else {
        return;
    };
    ds.seqs = Some(Sequences {
        tokens: vec![1, 2, 3, 0, 5, 1],
        offsets: vec![0, 2, 3, 3, 6],
        vocab: 7,
    });
    if let Ok(p) = model.predict_proba(&ds) {
        assert_eq!(p.nrows(), 4);
    }
});
