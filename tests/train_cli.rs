//! End-to-end tests of `cartseq train` and `cartseq eval` on a task exported from the shipped Taobao
//! sample: every baseline trains, saves, loads and evaluates; a saved model predicts the same as a fresh
//! fit; bad files and mismatched feature CSVs are clear errors.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_cartseq");

fn run(args: &[&str]) -> (bool, String, String) {
    let o = Command::new(BIN).args(args).output().expect("run cartseq");
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn export(dir: &Path, extra: &[&str]) -> PathBuf {
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/samples/taobao_sample.csv");
    let out = dir.join("features.csv");
    let mut args = vec![
        "task",
        input.to_str().unwrap(),
        "--preset",
        "taobao",
        "--task",
        "purchase",
        "--horizon",
        "1d",
        "--train-windows",
        "2",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let (ok, _, err) = run(&args);
    assert!(ok, "{err}");
    out
}

fn eval_json(model: &Path, features: &Path) -> serde_json::Value {
    let (ok, out, err) = run(&[
        "eval",
        model.to_str().unwrap(),
        features.to_str().unwrap(),
        "--json",
    ]);
    assert!(ok, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn every_baseline_trains_and_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    let f = export(dir.path(), &[]);
    for m in ["prior", "nb", "logreg", "dt", "rf", "ada", "svm", "gbdt"] {
        let model = dir.path().join(format!("{m}.bin"));
        let (ok, _, err) = run(&[
            "train",
            f.to_str().unwrap(),
            "--model",
            m,
            "-o",
            model.to_str().unwrap(),
        ]);
        assert!(ok, "{m}: {err}");
        let v = eval_json(&model, &f);
        let auc = v["metrics"]["roc_auc"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&auc), "{m}: {v}");
        let n = v["metrics"]["n"].as_u64().unwrap();
        assert!(n > 100, "{m}: evaluated {n} test rows");
        if m == "prior" {
            assert_eq!(auc, 0.5);
        }
        // Deterministic: the same seed gives the same file.
        let again = dir.path().join(format!("{m}.again"));
        assert!(
            run(&[
                "train",
                f.to_str().unwrap(),
                "--model",
                m,
                "-o",
                again.to_str().unwrap()
            ])
            .0
        );
        assert_eq!(
            std::fs::read(&model).unwrap(),
            std::fs::read(&again).unwrap(),
            "{m}"
        );
    }
}

/// The neural models and the ensembles (with an LSTM among the stack's bases) train from the CLI on
/// the `seq` column, save, load and evaluate, byte-identically for a seed.
#[test]
fn sequence_models_and_ensembles_train_and_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let f = export(dir.path(), &["--seq"]);
    let f = f.to_str().unwrap();
    let cases: &[(&str, &[&str])] = &[
        ("lstm", &["--param", "epochs=2", "--param", "hidden=16"]),
        ("gru", &["--param", "epochs=2", "--param", "hidden=16+8"]),
        ("rnn", &["--param", "epochs=2"]),
        (
            "stack",
            &["--base", "rf,gbdt,lstm", "--meta", "logreg", "--folds", "3"],
        ),
        ("vote", &["--base", "logreg,gru"]),
        ("bag", &["--base", "dt", "--bag-size", "5"]),
    ];
    for (m, extra) in cases {
        let model = dir.path().join(format!("{m}.bin"));
        let mut args = vec![
            "train",
            f,
            "--model",
            m,
            "-q",
            "-o",
            model.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let (ok, _, err) = run(&args);
        assert!(ok, "{m}: {err}");
        let v = eval_json(&model, Path::new(f));
        let auc = v["metrics"]["roc_auc"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&auc), "{m}: {v}");
        let again = dir.path().join(format!("{m}.again"));
        let mut args2 = args.clone();
        let last = args2
            .iter()
            .position(|a| *a == model.to_str().unwrap())
            .unwrap();
        args2[last] = again.to_str().unwrap();
        assert!(run(&args2).0);
        assert_eq!(
            std::fs::read(&model).unwrap(),
            std::fs::read(&again).unwrap(),
            "{m}: not deterministic"
        );
    }
    // Ensembles take their members from --base/--meta, not --param.
    let junk = dir.path().join("junk.bin");
    let (ok, _, err) = run(&[
        "train",
        f,
        "--model",
        "stack",
        "--param",
        "c=2",
        "-o",
        junk.to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("--base"), "{err}");
    assert!(!junk.exists());
}

/// `eval --predictions` writes one row per evaluated row: id, label and class probabilities that agree
/// with the reported metrics.
#[test]
fn eval_writes_per_row_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let f = export(dir.path(), &[]);
    let model = dir.path().join("lr.bin");
    let (ok, _, err) = run(&[
        "train",
        f.to_str().unwrap(),
        "--model",
        "logreg",
        "-q",
        "-o",
        model.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let pred = dir.path().join("pred.csv");
    let (ok, out, err) = run(&[
        "eval",
        model.to_str().unwrap(),
        f.to_str().unwrap(),
        "--json",
        "--predictions",
        pred.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let text = std::fs::read_to_string(&pred).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), "user_id,label,p_0,p_1");
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len() as u64, v["metrics"]["n"].as_u64().unwrap());
    let mut correct = 0;
    for r in &rows {
        let (p0, p1): (f64, f64) = (r[2].parse().unwrap(), r[3].parse().unwrap());
        assert!((p0 + p1 - 1.0).abs() < 1e-9, "{r:?}");
        correct += usize::from((p1 >= 0.5) == (r[1] == "1") || (p1 == p0));
    }
    let acc = correct as f64 / rows.len() as f64;
    let reported = v["metrics"]["accuracy"].as_f64().unwrap();
    assert!((acc - reported).abs() < 0.01, "{acc} vs {reported}");
}

#[test]
fn grid_tuning_uses_valid_rows_and_keeps_the_best() {
    let dir = tempfile::tempdir().unwrap();
    let f = export(dir.path(), &[]);
    let model = dir.path().join("dt.bin");
    let (ok, out, err) = run(&[
        "train",
        f.to_str().unwrap(),
        "--model",
        "dt",
        "--grid",
        "max_depth=1,3,none",
        "--json",
        "-o",
        model.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let chosen = v["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p.as_str().unwrap().starts_with("max_depth"));
    assert!(chosen.is_some(), "{v}");
    // Each grid point is fitted separately; the kept one has the best validation ROC-AUC.
    let best = v["valid"]["roc_auc"].as_f64().unwrap();
    for d in ["1", "3", "none"] {
        let m = dir.path().join(format!("dt{d}.bin"));
        let (ok, out, _) = run(&[
            "train",
            f.to_str().unwrap(),
            "--model",
            "dt",
            "--param",
            &format!("max_depth={d}"),
            "--json",
            "-o",
            m.to_str().unwrap(),
        ]);
        assert!(ok);
        let w: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(w["valid"]["roc_auc"].as_f64().unwrap() <= best + 1e-12);
    }
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let f = export(dir.path(), &[]);
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, b"{\"magic\": \"nope\"}").unwrap();
    let (ok, _, err) = run(&["eval", junk.to_str().unwrap(), f.to_str().unwrap()]);
    assert!(!ok && err.contains("not a cartseq model file"), "{err}");
    std::fs::write(&junk, b"\x00\x01garbage").unwrap();
    let (ok, _, err) = run(&["eval", junk.to_str().unwrap(), f.to_str().unwrap()]);
    assert!(!ok && err.contains("not a cartseq model file"), "{err}");

    let (ok, _, err) = run(&[
        "train",
        f.to_str().unwrap(),
        "--model",
        "nope",
        "-o",
        junk.to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("available"), "{err}");
    let (ok, _, err) = run(&[
        "train",
        f.to_str().unwrap(),
        "--model",
        "rf",
        "--param",
        "n_trees=-3",
        "-o",
        junk.to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("n_trees"), "{err}");

    // A CSV with other columns than the model's.
    let model = dir.path().join("lr.bin");
    assert!(
        run(&[
            "train",
            f.to_str().unwrap(),
            "--model",
            "logreg",
            "-o",
            model.to_str().unwrap()
        ])
        .0
    );
    let other = dir.path().join("other.csv");
    std::fs::write(&other, "user_id,split,label,a,b\nu,test,0,1,2\n").unwrap();
    let (ok, _, err) = run(&["eval", model.to_str().unwrap(), other.to_str().unwrap()]);
    assert!(!ok && err.contains("feature columns differ"), "{err}");
    // Sequence models need the seq column.
    let (ok, _, err) = run(&[
        "train",
        f.to_str().unwrap(),
        "--model",
        "lstm",
        "-o",
        junk.to_str().unwrap(),
    ]);
    assert!(!ok, "lstm without a seq column must fail");
    assert!(err.contains("`seq` column"), "{err}");
}
