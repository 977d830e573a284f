//! End-to-end: `cartseq task --pattern-features K --pattern-select M` on the shipped Taobao sample.

use std::path::Path;

use crate::support::{cartseq, read, tempdir, u64s, Cartseq};

/// `cartseq task` of the purchase task on the Taobao sample with `extra` words, written to `dir/name`.
fn task(dir: &Path, name: &str, extra: &str) -> Cartseq {
    cartseq("task data/samples/taobao_sample.csv --preset taobao --task purchase --quiet -o")
        .arg(dir.join(name))
        .words(extra)
}

#[test]
fn pattern_columns_are_added_and_deterministic() {
    let dir = tempdir();
    for m in ["infogain", "chi2", "supdiff"] {
        let extra = format!("--pattern-features 4 --pattern-select {m} --pattern-tokens action");
        task(dir.path(), "a.csv", &extra).success();
        task(dir.path(), "b.csv", &format!("--threads 1 {extra}")).success();
        let ta = read(&dir.path().join("a.csv"));
        let tb = read(&dir.path().join("b.csv"));
        assert_eq!(ta, tb, "output differs with the thread count ({m})");
        let header = ta.lines().next().unwrap();
        for c in [
            "pat00_occurs",
            "pat00_count",
            "pat00_since_h",
            "pat03_since_h",
        ] {
            assert!(
                header.split(',').any(|h| h == c),
                "{c} missing from {header}"
            );
        }
        // occurs is 0/1, count ≥ occurs, since_h is −1 exactly when the pattern never occurred.
        let cols: Vec<&str> = header.split(',').collect();
        let j = cols.iter().position(|&c| c == "pat00_occurs").unwrap();
        let mut seen = 0;
        for line in ta.lines().skip(1) {
            let v: Vec<f64> = line
                .split(',')
                .skip(j)
                .take(3)
                .map(|x| x.parse().unwrap())
                .collect();
            assert!(v[0] == 0.0 || v[0] == 1.0);
            assert_eq!(v[0] == 1.0, v[1] >= 1.0);
            assert_eq!(v[0] == 0.0, v[2] == -1.0);
            seen += usize::from(v[0] == 1.0);
        }
        assert!(seen > 0, "the best pattern occurs in no row ({m})");
    }
}

#[test]
fn bad_measure_is_a_clear_error() {
    let dir = tempdir();
    task(
        dir.path(),
        "x.csv",
        "--pattern-features 3 --pattern-select gini",
    )
    .fails_with(
        "'--pattern-select <PATTERN_SELECT>': expected a discrimination measure (infogain, chi2 or supdiff), found \"gini\"",
    );
    assert!(!dir.path().join("x.csv").exists());
}

#[test]
fn candidates_occur_in_two_rows_of_their_class() {
    // A small class's top-k at support 1 took every subsequence of one row: on the Tianchi sample (2
    // training buyers) every kept pattern was one buyer's own history, and on the Taobao sample
    // `--pattern-max-len 5` stopped at the pattern guard after 10 million candidates.
    let dir = tempdir();
    cartseq(
        "task data/samples/tianchi_mobile_sample.csv --preset tianchi --task purchase \
         --pattern-features 20 --pattern-max-len 5 --quiet -o",
    )
    .arg(dir.path().join("t.csv"))
    .success();
    let manifest: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("t.csv.manifest.json"))).unwrap();
    let patterns = manifest["parameters"]["featurizer"]["patterns"]
        .as_array()
        .unwrap();
    assert!(!patterns.is_empty());
    for p in patterns {
        let support = u64s(&p["class_support"]);
        assert!(
            support.iter().any(|&s| s >= 2),
            "{} occurs in fewer than two rows of every class: {support:?}",
            p["pattern"]
        );
    }
    task(
        dir.path(),
        "b.csv",
        "--pattern-features 20 --pattern-max-len 5",
    )
    .success();
}
