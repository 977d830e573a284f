//! End-to-end: `cartseq task --pattern-features K --pattern-select M` on the shipped Taobao sample.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::process::Command;

fn task(dir: &std::path::Path, name: &str, extra: &[&str]) -> std::process::Output {
    let out = dir.join(name);
    let mut args = vec![
        "task",
        "data/samples/taobao_sample.csv",
        "--preset",
        "taobao",
        "--task",
        "purchase",
        "--quiet",
        "-o",
    ];
    let o = out.to_str().expect("utf-8 temp path").to_owned();
    args.push(&o);
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_cartseq"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(&args)
        .output()
        .expect("run cartseq")
}

#[test]
fn pattern_columns_are_added_and_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    for m in ["infogain", "chi2", "supdiff"] {
        let extra = [
            "--pattern-features",
            "4",
            "--pattern-select",
            m,
            "--pattern-tokens",
            "action",
        ];
        let a = task(dir.path(), "a.csv", &extra);
        assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
        let b = task(
            dir.path(),
            "b.csv",
            &["--threads", "1"]
                .iter()
                .chain(&extra)
                .copied()
                .collect::<Vec<_>>(),
        );
        assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
        let ta = std::fs::read_to_string(dir.path().join("a.csv")).unwrap();
        let tb = std::fs::read_to_string(dir.path().join("b.csv")).unwrap();
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
    let dir = tempfile::tempdir().unwrap();
    let o = task(
        dir.path(),
        "x.csv",
        &["--pattern-features", "3", "--pattern-select", "gini"],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("infogain, chi2 or supdiff"), "{err}");
    assert!(!dir.path().join("x.csv").exists());
}
