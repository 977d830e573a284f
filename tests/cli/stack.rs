//! End-to-end: ensembles and the pattern ablation in `cartseq leaderboard` on the shipped Taobao sample.

use std::path::Path;

use crate::support::{cartseq, tempdir, Cartseq};

/// `cartseq leaderboard` of the purchase task on the Taobao sample with `extra` words, charts into
/// `out_dir`.
fn leaderboard(extra: &str, out_dir: &Path) -> Cartseq {
    cartseq("leaderboard data/samples/taobao_sample.csv --preset taobao --task purchase --quiet")
        .words(extra)
        .arg("--out-dir")
        .arg(out_dir)
}

#[test]
fn leaderboard_with_ensembles_and_ablation() {
    let dir = tempdir();
    let v = leaderboard(
        "--pattern-features 5 --pattern-tokens action --models logreg,rf,stack,vote,vote-hard,bag \
         --base rf,logreg --meta logreg --ablate-patterns --bootstrap 100 --json",
        dir.path(),
    )
    .json();
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
    let dir = tempdir();
    leaderboard("--models logreg --ablate-patterns", dir.path()).fails_with("--pattern-features");
}
