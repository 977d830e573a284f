//! End-to-end tests of `cartseq train` and `cartseq eval` on a task exported from the shipped Taobao
//! sample: every baseline trains, saves, loads and evaluates; a saved model predicts the same as a fresh
//! fit; bad files and mismatched feature CSVs are clear errors.

use std::path::{Path, PathBuf};

use crate::support::{cartseq, tempdir, Cartseq, Csv};

/// Exports the purchase task of the Taobao sample (with `extra` words) to `dir/features.csv`.
fn export(dir: &Path, extra: &str) -> PathBuf {
    let out = dir.join("features.csv");
    cartseq(
        "task data/samples/taobao_sample.csv --preset taobao --task purchase --horizon 1d \
         --train-windows 2 -q -o",
    )
    .arg(&out)
    .words(extra)
    .success();
    out
}

/// `cartseq train FEATURES WORDS… -o MODEL`.
fn train(features: &Path, words: &str, model: &Path) -> Cartseq {
    cartseq("train")
        .arg(features)
        .words(words)
        .arg("-o")
        .arg(model)
}

/// `cartseq eval MODEL FEATURES WORDS…`.
fn eval(model: &Path, features: &Path, words: &str) -> Cartseq {
    cartseq("eval").arg(model).arg(features).words(words)
}

/// `cartseq eval MODEL FEATURES --json`, expected to succeed: the parsed report.
fn eval_json(model: &Path, features: &Path) -> serde_json::Value {
    eval(model, features, "--json").json()
}

/// Trains `words` into `name.bin` and again into `name.again`, and checks the two files are the same
/// bytes (a seed fixes everything); returns the first file.
fn train_twice_identically(dir: &Path, features: &Path, name: &str, words: &str) -> PathBuf {
    let model = dir.join(format!("{name}.bin"));
    train(features, words, &model).success();
    let again = dir.join(format!("{name}.again"));
    train(features, words, &again).success();
    assert_eq!(
        std::fs::read(&model).unwrap(),
        std::fs::read(&again).unwrap(),
        "{name}: not deterministic"
    );
    model
}

#[test]
fn every_baseline_trains_and_evaluates() {
    let dir = tempdir();
    let f = export(dir.path(), "");
    for m in ["prior", "nb", "logreg", "dt", "rf", "ada", "svm", "gbdt"] {
        // Deterministic: the same seed gives the same file.
        let model = train_twice_identically(dir.path(), &f, m, &format!("--model {m}"));
        let v = eval_json(&model, &f);
        let auc = v["metrics"]["roc_auc"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&auc), "{m}: {v}");
        let n = v["metrics"]["n"].as_u64().unwrap();
        assert!(n > 100, "{m}: evaluated {n} test rows");
        if m == "prior" {
            assert_eq!(auc, 0.5);
        }
    }
}

/// The neural models and the ensembles (with an LSTM among the stack's bases) train from the CLI on
/// the `seq` column, save, load and evaluate, byte-identically for a seed.
#[test]
fn sequence_models_and_ensembles_train_and_evaluate() {
    let dir = tempdir();
    let f = export(dir.path(), "--seq");
    for (m, extra) in [
        ("lstm", "--param epochs=2 --param hidden=16"),
        ("gru", "--param epochs=2 --param hidden=16+8"),
        ("rnn", "--param epochs=2"),
        ("stack", "--base rf,gbdt,lstm --meta logreg --folds 3"),
        ("vote", "--base logreg,gru"),
        ("bag", "--base dt --bag-size 5"),
    ] {
        let words = format!("--model {m} -q {extra}");
        let model = train_twice_identically(dir.path(), &f, m, &words);
        let v = eval_json(&model, &f);
        let auc = v["metrics"]["roc_auc"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&auc), "{m}: {v}");
    }
    // Ensembles take their members from --base/--meta, not --param.
    let junk = dir.path().join("junk.bin");
    train(&f, "--model stack --param c=2", &junk).fails_with("--base");
    assert!(!junk.exists());
}

/// `eval --predictions` writes one row per evaluated row: id, label and class probabilities that agree
/// with the reported metrics.
#[test]
fn eval_writes_per_row_predictions() {
    let dir = tempdir();
    let f = export(dir.path(), "");
    let model = dir.path().join("lr.bin");
    train(&f, "--model logreg -q", &model).success();
    let pred = dir.path().join("pred.csv");
    let v = eval(&model, &f, "--json --predictions").arg(&pred).json();
    let table = Csv::read(&pred);
    assert_eq!(table.header.join(","), "user_id,label,p_0,p_1");
    let rows = &table.rows;
    assert_eq!(rows.len() as u64, v["metrics"]["n"].as_u64().unwrap());
    let mut correct = 0;
    for r in rows {
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
    let dir = tempdir();
    let f = export(dir.path(), "");
    let model = dir.path().join("dt.bin");
    let v = train(&f, "--model dt --grid max_depth=1,3,none --json", &model).json();
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
        let w = train(&f, &format!("--model dt --param max_depth={d} --json"), &m).json();
        assert!(w["valid"]["roc_auc"].as_f64().unwrap() <= best + 1e-12);
    }
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = tempdir();
    let f = export(dir.path(), "");
    let junk = dir.path().join("junk.bin");
    for content in [&b"{\"magic\": \"nope\"}"[..], b"\x00\x01garbage"] {
        std::fs::write(&junk, content).unwrap();
        eval(&junk, &f, "").fails_with("not a cartseq model file");
    }
    train(&f, "--model nope", &junk).fails_with("available");
    train(&f, "--model rf --param n_trees=-3", &junk).fails_with("n_trees");

    // A CSV with other columns than the model's.
    let model = dir.path().join("lr.bin");
    train(&f, "--model logreg", &model).success();
    let other = dir.path().join("other.csv");
    std::fs::write(&other, "user_id,split,label,a,b\nu,test,0,1,2\n").unwrap();
    eval(&model, &other, "").fails_with("feature columns differ");
    // Sequence models need the seq column.
    train(&f, "--model lstm", &junk).fails_with("`seq` column");
}

/// Issue 11: `eval` compared only column names, so a CSV built with another pattern set (same column
/// names `pat00_*`, other patterns) was scored silently. The fitted featurizer's fingerprint is recorded
/// in the task's manifest and in the model file, and a mismatch is a one-line error naming what differs.
#[test]
fn eval_refuses_a_csv_from_another_pattern_set() {
    let dir = tempdir();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let fa = export(&a, "--pattern-features 4");
    let fb = export(&b, "--pattern-features 4 --pattern-select chi2");
    let manifest = std::fs::read_to_string(a.join("features.csv.manifest.json")).unwrap();
    assert!(manifest.contains("\"fingerprint\""), "{manifest}");
    let model = dir.path().join("lr.bin");
    train(&fa, "--model logreg", &model).success();
    // Same task run: accepted.
    eval(&model, &fa, "").success();
    // Same column names, other pattern set: refused, saying what differs and which set each side has.
    let r = eval(&model, &fb, "").fails_with("built with another featurizer than the model");
    assert!(r.stderr.contains("--pattern-select chi2"), "{}", r.stderr);
    assert!(r.stderr.contains("fingerprint"), "{}", r.stderr);
    assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
    // `--param help` needs no output file.
    cartseq("train")
        .arg(&fa)
        .words("--model dt --param help")
        .success();
}
