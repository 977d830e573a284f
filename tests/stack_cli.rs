//! End-to-end: ensembles and the pattern ablation in `cartseq leaderboard` on the shipped Taobao sample.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::process::Command;

#[test]
fn leaderboard_with_ensembles_and_ablation() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_cartseq"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "leaderboard",
            "data/samples/taobao_sample.csv",
            "--preset",
            "taobao",
            "--task",
            "purchase",
            "--pattern-features",
            "5",
            "--pattern-tokens",
            "action",
            "--models",
            "logreg,rf,stack,vote,vote-hard,bag",
            "--base",
            "rf,logreg",
            "--meta",
            "logreg",
            "--ablate-patterns",
            "--bootstrap",
            "100",
            "--json",
            "--quiet",
            "--out-dir",
        ])
        .arg(dir.path())
        .output()
        .expect("run cartseq");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    let models = v["models"].as_array().unwrap();
    assert_eq!(models.len(), 6);
    for m in models {
        let auc = m["metrics"]["roc_auc"]
            .as_f64()
            .unwrap_or_else(|| panic!("{m}"));
        assert!((0.0..=1.0).contains(&auc));
    }
    let abl = v["ablation"].as_array().expect("ablation rows");
    assert_eq!(abl.len(), 6);
    for r in abl {
        let d = &r["diffs"][0];
        assert_eq!(d["metric"], "roc_auc");
        let (lo, hi) = (d["lo"].as_f64().unwrap(), d["hi"].as_f64().unwrap());
        let (a, b, diff) = (
            d["a"].as_f64().unwrap(),
            d["b"].as_f64().unwrap(),
            d["diff"].as_f64().unwrap(),
        );
        assert!(lo <= hi, "{r}");
        assert!((a - b - diff).abs() < 1e-12, "{r}");
    }
}

#[test]
fn ablation_without_patterns_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_cartseq"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "leaderboard",
            "data/samples/taobao_sample.csv",
            "--preset",
            "taobao",
            "--task",
            "purchase",
            "--models",
            "logreg",
            "--ablate-patterns",
            "--quiet",
            "--out-dir",
        ])
        .arg(dir.path())
        .output()
        .expect("run cartseq");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--pattern-features"));
}
