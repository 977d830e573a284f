//! Fuzz-style test of every model loader on stable Rust (the cargo-fuzz target `model_file` in `fuzz/`
//! explores further): each model of the catalog is fitted small, saved, and every number and array of
//! its file is mutated one at a time (0, −1, a huge value, a fractional value, the array emptied,
//! shortened or lengthened). Loading the mutant and scoring rows with it must give a model that works or
//! a clear error — never a panic. The crashes this found are pinned by name below.

use std::panic::{catch_unwind, AssertUnwindSafe};

use cartseq_models::persist::load_any;
use cartseq_models::{Classifier, Dataset, Input, ModelSpec};
use serde_json::Value;

use crate::support::{data, is_nn, quick_nn};

/// Every mutation of one JSON value: numbers replaced, arrays emptied/shortened/lengthened.
fn mutants(v: &Value) -> Vec<Value> {
    match v {
        Value::Number(_) => [
            serde_json::json!(0),
            serde_json::json!(-1),
            serde_json::json!(1e300),
            serde_json::json!(4_000_000_000u64),
            serde_json::json!(0.5),
        ]
        .into(),
        Value::Array(a) => {
            let mut out = vec![Value::Array(Vec::new())];
            if a.len() > 1 {
                out.push(Value::Array(a[..a.len() - 1].to_vec()));
            }
            if let Some(last) = a.last() {
                let mut longer = a.clone();
                longer.push(last.clone());
                out.push(Value::Array(longer));
            }
            out
        }
        _ => Vec::new(),
    }
}

/// Paths (JSON pointers) of every number and array under `v`, at most `cap` of them, spread evenly.
fn paths(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Number(_) => out.push(at),
        Value::Array(a) => {
            out.push(at.clone());
            // Long arrays (weights, nodes): their first and last elements stand for the rest.
            let idx: Vec<usize> = if a.len() > 4 {
                vec![0, 1, a.len() - 1]
            } else {
                (0..a.len()).collect()
            };
            for i in idx {
                paths(&a[i], format!("{at}/{i}"), out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                paths(x, format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
}

/// Loads `bytes` and, when that works, scores `test` (adapted to the model's input) — the two steps
/// `eval` takes. Returns the panic message, if any.
fn load_and_score(bytes: &[u8], test: &Dataset) -> Option<String> {
    let r = catch_unwind(AssertUnwindSafe(|| {
        let Ok(model) = load_any(bytes) else {
            return;
        };
        let Some(sig) = model.signature() else {
            return;
        };
        let ds = match sig.input {
            Input::Features(d) if d != test.ncols() => return,
            _ => test,
        };
        if let Ok(p) = model.predict_proba(ds) {
            assert_eq!(p.nrows(), ds.nrows());
        }
    }));
    r.err().map(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

/// Runs every mutant of `model`'s file; returns the (path, mutant, panic) of each crash.
fn crashes(name: &str, bytes: &[u8], test: &Dataset) -> Vec<String> {
    let file: Value = serde_json::from_slice(bytes).unwrap();
    let mut ps = Vec::new();
    paths(&file["model"], "/model".into(), &mut ps);
    let mut found = Vec::new();
    for p in ps {
        let orig = file.pointer(&p).unwrap().clone();
        for m in mutants(&orig) {
            let mut f = file.clone();
            *f.pointer_mut(&p).unwrap() = m.clone();
            let text = serde_json::to_vec(&f).unwrap();
            if let Some(msg) = load_and_score(&text, test) {
                found.push(format!("{name}: {p} = {m}: {msg}"));
            }
        }
    }
    found
}

#[test]
fn mutated_model_files_never_panic() {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut all = Vec::new();
    for k in [2, 3] {
        let train = data(80, k, 1);
        let test = data(20, k, 2);
        for info in ModelSpec::catalog() {
            let extra: Vec<String> = if is_nn(info.name) {
                quick_nn(info.name, 1, 3, 2)
            } else if ["rf", "gbdt", "ada"].contains(&info.name) {
                vec!["n_estimators=2".into()]
            } else {
                vec![]
            };
            let model = ModelSpec::from_cli(info.name, &extra)
                .unwrap()
                .fit(&train)
                .unwrap();
            let mut buf = Vec::new();
            cartseq_models::save_any(&model, &mut buf).unwrap();
            all.extend(crashes(&format!("{} k={k}", info.name), &buf, &test));
        }
    }
    std::panic::set_hook(prev);
    assert!(all.is_empty(), "{} crashes:\n{}", all.len(), all.join("\n"));
}
