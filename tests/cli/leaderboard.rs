//! End-to-end tests of `cartseq leaderboard` on the shipped Taobao and Online Retail samples (the README's
//! commands): one JSON table with every model, identical metrics on a second run, SVG charts written.

use std::path::Path;

use crate::support::{cartseq, tempdir};

/// `cartseq leaderboard data/samples/WORDS… --json -q`, charts into `dir`; the parsed report.
fn leaderboard(dir: &Path, words: &str) -> serde_json::Value {
    cartseq(&format!(
        "leaderboard data/samples/{words} --json -q --out-dir"
    ))
    .arg(dir)
    .json()
}

/// The Taobao purchase task with every classical model.
const TAOBAO_PURCHASE: &str = "taobao_sample.csv --preset taobao --task purchase --horizon 1d \
                               --models prior,nb,logreg,dt,rf,ada,svm,gbdt";

fn metrics_only(v: &serde_json::Value) -> Vec<String> {
    v["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{} {}", m["model"], m["metrics"]))
        .collect()
}

#[test]
fn taobao_purchase_leaderboard() {
    let dir = tempdir();
    let v = leaderboard(dir.path(), TAOBAO_PURCHASE);
    let models = v["models"].as_array().unwrap();
    assert_eq!(models.len(), 8);
    for m in models {
        assert!(m["error"].is_null(), "{m}");
        let auc = m["metrics"]["roc_auc"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&auc));
        assert!(m["fit_seconds"].as_f64().unwrap() >= 0.0);
    }
    // The test rows are the same for every model, and the forest beats the prior on this task.
    let n: Vec<u64> = models
        .iter()
        .map(|m| m["metrics"]["n"].as_u64().unwrap())
        .collect();
    assert!(n.windows(2).all(|w| w[0] == w[1]) && n[0] == v["rows"]["test"].as_u64().unwrap());
    let auc = |name: &str| {
        models.iter().find(|m| m["model"] == name).unwrap()["metrics"]["roc_auc"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(auc("prior"), 0.5);
    assert!(auc("rf") > 0.55, "rf ROC-AUC {}", auc("rf"));
    for f in [
        "roc.svg",
        "pr.svg",
        "bars_roc_auc.svg",
        "bars_pr_auc.svg",
        "bars_f1.svg",
    ] {
        let s = std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert!(s.starts_with("<svg") && s.contains("gbdt"), "{f}");
    }
    let again = leaderboard(dir.path(), TAOBAO_PURCHASE);
    assert_eq!(
        metrics_only(&v),
        metrics_only(&again),
        "metrics differ between runs"
    );
}

#[test]
fn taobao_next_action_is_multiclass() {
    let dir = tempdir();
    let v = leaderboard(
        dir.path(),
        "taobao_sample.csv --preset taobao --task next-action --horizon 12h \
         --models prior,logreg,rf",
    );
    assert_eq!(v["classes"].as_array().unwrap().len(), 4);
    for m in v["models"].as_array().unwrap() {
        assert_eq!(
            m["metrics"]["confusion"].as_array().unwrap().len(),
            4,
            "{m}"
        );
    }
    assert!(dir.path().join("bars_f1.svg").exists());
}

#[test]
fn online_retail_leaderboard_runs() {
    let dir = tempdir();
    // The sample is 4.5 hours of one day: an hourly purchase horizon with user-disjoint splits.
    let v = leaderboard(
        dir.path(),
        "online_retail_sample.csv --preset online-retail --task purchase --horizon 1h",
    );
    assert!(v["models"].as_array().unwrap().len() >= 6, "{v}");
    assert!(
        v["features"].as_u64().unwrap() > 56,
        "quantity/price features present"
    );
}
