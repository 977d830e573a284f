//! Model files written before `ModelSpec`/`FittedModel` (by commit 45c9bfa, in
//! `tests/fixtures/legacy/`) still load and predict bit-identically, and re-training the same models
//! today writes the same bytes (so the refactoring changed no fitted number).

use cartseq_models::{load_any, Classifier, Dataset, ModelSpec};
use serde_json::Value;

use crate::support::data_with;

fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/legacy")
}

/// The generator the fixtures were made with: 4 features on a 1/8 grid, 2 or 3 classes, weights and
/// sign-pattern token sequences.
fn data(n: usize, k: usize, seed: u64) -> Dataset {
    data_with(n, k, seed, 4, Some(8.0))
}

fn spec(name: &str, params: &[&str]) -> ModelSpec {
    ModelSpec::from_cli(name, params).unwrap()
}

/// The models of the fixture files, with the parameters they were trained with.
fn specs(k: usize) -> Vec<(&'static str, ModelSpec)> {
    let nn = ["epochs=1", "hidden=3", "embed_dim=2"];
    let mut out = vec![
        ("prior", spec("prior", &[])),
        ("logreg", spec("logreg", &[])),
        ("gnb", spec("gnb", &[])),
        ("bnb", spec("bnb", &[])),
        ("dt", spec("dt", &["max_depth=3"])),
        ("rf", spec("rf", &["n_trees=3", "max_depth=3"])),
        ("ada", spec("ada", &["n_estimators=5"])),
        ("gbdt", spec("gbdt", &["n_estimators=4", "max_leaves=4"])),
        ("linsvm", spec("linsvm", &[])),
        ("svm", spec("svm", &[])),
        ("lstm", spec("lstm", &nn)),
        ("gru", spec("gru", &nn)),
        ("rnn", spec("rnn", &nn)),
    ];
    if k == 2 {
        let stump = spec("dt", &["max_depth=2"]);
        out.push((
            "stack",
            ModelSpec::Stack(cartseq_models::spec::StackSpec {
                bases: vec![stump.clone(), spec("gnb", &[]), spec("gru", &nn)],
                meta: Box::new(spec("logreg", &[])),
                folds: 3,
                temporal: false,
                passthrough: true,
                seed: Some(1),
            }),
        ));
        out.push((
            "vote",
            ModelSpec::Vote(cartseq_models::spec::VoteSpec {
                bases: vec![stump.clone(), spec("gnb", &[])],
                kind: cartseq_models::ensemble::VoteKind::Hard,
                weights: None,
            }),
        ));
        out.push((
            "bag",
            ModelSpec::Bag(cartseq_models::spec::BagSpec {
                base: Box::new(stump),
                n_estimators: 2,
                max_samples: 1.0,
                seed: Some(3),
            }),
        ));
    }
    out
}

#[test]
fn files_written_before_the_model_spec_load_and_predict_the_same() {
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir().join("predictions.json")).unwrap()).unwrap();
    let expected = expected.as_object().unwrap();
    assert_eq!(expected.len(), 29);
    for (file, bits) in expected {
        let k = if file.ends_with("-k2.json") { 2 } else { 3 };
        let test = data(30, k, 2);
        let bytes = std::fs::read(dir().join(file)).unwrap();
        let model = load_any(&bytes[..]).unwrap_or_else(|e| panic!("{file}: {e}"));
        let got: Vec<String> = model
            .predict_proba(&test)
            .unwrap()
            .iter()
            .map(|v| format!("{:016x}", v.to_bits()))
            .collect();
        let want: Vec<&str> = bits
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(got, want, "{file}: predictions changed");
    }
}

#[test]
fn retraining_writes_the_same_bytes_as_before() {
    for k in [2, 3] {
        let train = data(120, k, 1);
        for (name, spec) in specs(k) {
            let mut buf = Vec::new();
            spec.fit(&train).unwrap().save(&mut buf).unwrap();
            let old = std::fs::read(dir().join(format!("{name}-k{k}.json"))).unwrap();
            if name == "prior" {
                // The prior now records its feature count (and checks it at prediction).
                let text = String::from_utf8(buf).unwrap();
                assert_eq!(
                    text.replace(",\"n_features\":4", ""),
                    String::from_utf8(old).unwrap()
                );
                continue;
            }
            assert!(buf == old, "{name} k={k}: the model file changed");
        }
    }
}
