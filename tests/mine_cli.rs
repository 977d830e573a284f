//! End-to-end tests of `cartseq mine` on the shipped samples.

#![allow(clippy::unwrap_used)]

use std::process::Command;

fn cartseq() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cartseq"))
}

const CONTEXT: &str = "data/samples/contextPrefixSpan.txt";

fn run_ok(args: &[&str]) -> String {
    let out = cartseq().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn spmf_output_is_the_same_for_every_algorithm_and_thread_count() {
    let mut first: Option<Vec<String>> = None;
    for algo in ["prefixspan", "spade", "gsp"] {
        let one = run_ok(&[
            "mine",
            CONTEXT,
            "--algo",
            algo,
            "--min-support",
            "0.5",
            "--format",
            "spmf",
            "--threads",
            "1",
            "-q",
        ]);
        let two = run_ok(&[
            "mine",
            CONTEXT,
            "--algo",
            algo,
            "--min-support",
            "0.5",
            "--format",
            "spmf",
            "--threads",
            "2",
            "-q",
        ]);
        assert_eq!(one, two, "{algo}: output depends on the thread count");
        let mut lines: Vec<String> = one.lines().map(str::to_owned).collect();
        lines.sort();
        assert_eq!(lines.len(), 53, "{algo}");
        assert!(lines.contains(&"1 -1 2 3 -1 #SUP: 2".to_string()), "{algo}");
        match &first {
            None => first = Some(lines),
            Some(f) => assert_eq!(f, &lines, "{algo} differs from prefixspan"),
        }
    }
}

#[test]
fn csv_is_sorted_by_support_with_relative_support() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.csv");
    let o = out.to_str().unwrap();
    let stderr = cartseq()
        .args(["mine", CONTEXT, "--min-count", "2", "--top-k", "5", "-o", o])
        .output()
        .unwrap();
    assert!(stderr.status.success());
    let err = String::from_utf8_lossy(&stderr.stderr);
    assert!(
        err.contains("Patterns:") && err.contains("Peak memory"),
        "{err}"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("pattern,support,relative_support,items,itemsets")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // Supports 4 (x4: 1, 2, 3, 1>3 ...) then ties at the 5th highest support are all kept.
    let sup: Vec<u32> = rows.iter().map(|r| r[1].parse().unwrap()).collect();
    assert!(sup.windows(2).all(|w| w[0] >= w[1]));
    assert!(rows.len() >= 5);
    assert_eq!(rows[0][0], "1");
    assert_eq!(rows[0][2], "1.000000");
}

#[test]
fn bad_combinations_fail_cleanly_without_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.txt");
    let r = cartseq()
        .args([
            "mine",
            CONTEXT,
            "--min-support",
            "0.5",
            "--closed",
            "--max-gap",
            "1",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("--closed/--maximal cannot be combined"));
    assert!(!out.exists());
    let r = cartseq().args(["mine", CONTEXT]).output().unwrap();
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("--min-support"));
    let r = cartseq()
        .args(["mine", CONTEXT, "--min-support", "1.5"])
        .output()
        .unwrap();
    assert!(!r.status.success());
    let r = cartseq()
        .args(["mine", CONTEXT, "--min-count", "1", "--max-patterns", "10"])
        .output()
        .unwrap();
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("raise --max-patterns"));
}

#[test]
fn taobao_action_item_patterns_are_named() {
    let out = run_ok(&[
        "mine",
        "data/samples/taobao_sample.csv",
        "--preset",
        "taobao",
        "--token",
        "action:item",
        "--min-count",
        "3",
        "--min-items",
        "2",
        "--format",
        "jsonl",
        "-q",
    ]);
    assert!(!out.is_empty());
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let first = v["pattern"][0][0].as_str().unwrap();
        assert!(
            first.contains(':'),
            "token names like view:123, found {first}"
        );
        assert!(v["support"].as_u64().unwrap() >= 3);
    }
}

#[test]
fn closed_maximal_and_max_gap_match_spmf_on_the_sample() {
    let count = |extra: &[&str]| {
        let mut a = vec![
            "mine",
            CONTEXT,
            "--min-support",
            "0.5",
            "--format",
            "spmf",
            "-q",
        ];
        a.extend_from_slice(extra);
        run_ok(&a).lines().count()
    };
    // Line counts of ../shared/reference/contextPrefixSpan/{closed,maximal,maxgap1}-0.5.txt.
    assert_eq!(count(&["--closed"]), 17);
    assert_eq!(count(&["--maximal"]), 10);
    assert_eq!(count(&["--max-gap", "1"]), 23);
}
