//! `train --model srgnn|sasrec`: the session encoders of the next-item SR-GNN and SASRec as sequence
//! classifiers. A purchase task exported from the shipped Taobao sample (with its `seq` column) trains
//! each, byte-identically for `--threads 1` and `--threads 2`, the file loads and evaluates, and each
//! is a base of a stacking ensemble and a member of a vote.

use std::path::{Path, PathBuf};

use crate::support::{cartseq, tempdir};

/// Exports the purchase task of the Taobao sample with token sequences to `dir/features.csv`.
fn export(dir: &Path) -> PathBuf {
    let out = dir.join("features.csv");
    cartseq(
        "task data/samples/taobao_sample.csv --preset taobao --task purchase --horizon 1d \
         --train-windows 2 --seq -q -o",
    )
    .arg(&out)
    .success();
    out
}

/// `cartseq --threads T train FEATURES --model … -o OUT`, expected to succeed; returns the file's
/// bytes.
fn train(features: &Path, threads: u32, words: &str, out: &Path) -> Vec<u8> {
    cartseq(&format!("--threads {threads} train"))
        .arg(features)
        .words(words)
        .arg("-o")
        .arg(out)
        .success();
    std::fs::read(out).unwrap()
}

/// `eval MODEL FEATURES --json`: the ROC AUC and the number of rows evaluated.
fn eval(model: &Path, features: &Path) -> (f64, u64) {
    let v = cartseq("eval")
        .arg(model)
        .arg(features)
        .arg("--json")
        .json();
    (
        v["metrics"]["roc_auc"].as_f64().unwrap(),
        v["metrics"]["n"].as_u64().unwrap(),
    )
}

#[test]
fn srgnn_and_sasrec_classifiers_train_evaluate_and_stack() {
    let dir = tempdir();
    let f = export(dir.path());
    for (m, extra) in [
        ("srgnn", "--param epochs=2 --param dim=16"),
        ("sasrec", "--param epochs=2 --param dim=16 --param heads=2"),
        (
            "sasrec",
            "--param epochs=1 --param blocks=1 --param pool=mean",
        ),
        ("stack", "--base logreg,sasrec --meta logreg --folds 3"),
        ("vote", "--base srgnn,gru"),
    ] {
        let words = format!("--model {m} -q {extra}");
        let one = dir.path().join(format!("{m}-1.json"));
        let two = dir.path().join(format!("{m}-2.json"));
        let a = train(&f, 1, &words, &one);
        let b = train(&f, 2, &words, &two);
        assert!(
            a == b,
            "{m} {extra}: --threads 1 and 2 give different files"
        );
        let text = String::from_utf8(a).unwrap();
        for member in ["srgnn", "sasrec"] {
            if words.contains(member) {
                assert!(
                    text.contains(&format!("\"kind\":\"{member}\"")),
                    "{m}: {text:.200}"
                );
            }
        }
        let (auc, n) = eval(&one, &f);
        assert!((0.0..=1.0).contains(&auc), "{m} {extra}: auc {auc}");
        assert!(n > 100, "{m}: evaluated {n} rows");
    }
    // The encoders' own keys are checked like every parameter.
    let junk = dir.path().join("junk.json");
    cartseq("train")
        .arg(&f)
        .words("--model sasrec --param heads=3 -o")
        .arg(&junk)
        .fails_with("heads");
    cartseq("train")
        .arg(&f)
        .words("--model srgnn --param hidden=8 -o")
        .arg(&junk)
        .fails_with("steps");
    assert!(!junk.exists());
}
