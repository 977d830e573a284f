//! Prediction checks its input: too few (or too many) columns and a sequence model without sequences
//! are errors naming what is wrong, never a panic; hand-edited model files whose shapes disagree are
//! refused when loaded.

use cartseq_models::{load_any, Classifier, ModelError, ModelSpec};
use ndarray::s;

use crate::support::{data, is_nn};

#[test]
fn too_few_columns_is_an_error_for_every_tabular_model() {
    let train = data(300, 2, 21);
    let mut narrow = data(20, 2, 22);
    narrow.x = narrow.x.slice(s![.., ..3]).to_owned();
    narrow.feature_names.truncate(3);
    let mut wide = data(20, 2, 23);
    wide.x = ndarray::concatenate![ndarray::Axis(1), wide.x, wide.x];
    for info in ModelSpec::catalog() {
        if is_nn(info.name) {
            continue;
        }
        let model = ModelSpec::from_cli::<&str>(info.name, &[])
            .unwrap()
            .fit(&train)
            .unwrap();
        for (input, cols) in [(&narrow, 3), (&wide, 10)] {
            match model.predict_proba(input) {
                Err(ModelError::Input(m)) => assert!(
                    m.contains("fitted on 5 features") && m.contains(&format!("has {cols}")),
                    "{}: {m}",
                    info.name
                ),
                other => panic!("{}: expected an input error, got {other:?}", info.name),
            }
            assert!(model.predict(input).is_err(), "{}", info.name);
        }
    }
}

#[test]
fn a_sequence_model_without_sequences_is_an_error() {
    let train = data(200, 2, 24);
    let mut no_seqs = data(20, 2, 25);
    no_seqs.seqs = None;
    for name in ["lstm", "gru", "rnn"] {
        let model = ModelSpec::from_cli(name, &["epochs=1", "hidden=4", "embed_dim=2"])
            .unwrap()
            .fit(&train)
            .unwrap();
        let e = model.predict_proba(&no_seqs).err().map(|e| e.to_string());
        assert!(
            e.as_deref().is_some_and(|e| e.contains("token sequences")),
            "{name}: {e:?}"
        );
    }
    // An ensemble holding one reports it through its member.
    let stack = ModelSpec::ensemble(
        cartseq_models::EnsembleKind::Stack,
        vec![
            ModelSpec::from_cli::<&str>("dt", &[]).unwrap(),
            ModelSpec::from_cli("gru", &["epochs=1", "hidden=4"]).unwrap(),
        ],
        None,
        3,
        false,
        10,
    )
    .unwrap()
    .fit(&train)
    .unwrap();
    assert!(matches!(
        stack.predict_proba(&no_seqs),
        Err(ModelError::Input(_))
    ));
}

/// Saves `name` fitted on small data, replaces the first `from` in the file by `to` and loads it.
fn edited(name: &str, params: &[&str], from: &str, to: &str) -> Result<(), ModelError> {
    let model = ModelSpec::from_cli(name, params)
        .unwrap()
        .fit(&data(200, 3, 26))
        .unwrap();
    let mut buf = Vec::new();
    model.save(&mut buf).unwrap();
    let text = String::from_utf8(buf).unwrap();
    let changed = text.replacen(from, to, 1);
    assert_ne!(changed, text, "{name}: the edit did not apply");
    load_any(changed.as_bytes()).map(|_| ())
}

#[test]
fn hand_edited_files_are_refused_not_panics() {
    let nn: &[&str] = &["epochs=1", "hidden=3", "embed_dim=2"];
    let cases: [(&str, &[&str], &str, &str); 7] = [
        // A split on a feature the model was not fitted on.
        ("dt", &["max_depth=2"], "\"feature\":", "\"feature\":7"),
        // A child pointing back up the tree (a walk would never end).
        (
            "rf",
            &["n_trees=2", "max_depth=2"],
            "\"left\":1,",
            "\"left\":0,",
        ),
        // Outputs (one per class) that do not fit the number of classes.
        ("logreg", &[], "\"n_classes\":3", "\"n_classes\":2"),
        // Per-class tables for another number of classes.
        ("gnb", &[], "\"n_classes\":3", "\"n_classes\":4"),
        (
            "gbdt",
            &["n_estimators=3"],
            "\"n_outputs\":3",
            "\"n_outputs\":2",
        ),
        // One Platt sigmoid more than outputs.
        (
            "linsvm",
            &[],
            "\"platt\":[{",
            "\"platt\":[{\"a\":1,\"b\":2},{",
        ),
        // A vocabulary the embedding does not have.
        ("lstm", nn, "\"vocab\":10", "\"vocab\":11"),
    ];
    for (name, params, from, to) in cases {
        match edited(name, params, from, to) {
            Err(ModelError::BadFile(m)) => assert!(m.contains("corrupt"), "{name}: {m}"),
            other => panic!("{name}: expected a refused file, got {other:?}"),
        }
    }
}
