//! End-to-end tests of `cartseq itemsets`, `cartseq rules` and `cartseq next` on the shipped samples:
//! exports in every format, the manifest, spreadsheet safety, determinism across thread counts, atomic
//! failure (no output left behind), and the Taobao "what comes next" query.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sample(name: &str) -> String {
    root().join("data/samples").join(name).display().to_string()
}

struct Out {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn cartseq(args: &[&str]) -> Out {
    let o = Command::new(env!("CARGO_BIN_EXE_cartseq"))
        .args(args)
        .output()
        .expect("run cartseq");
    Out {
        ok: o.status.success(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn itemsets_same_for_both_algorithms_and_manifest_describes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let basket = sample("retail_basket_sample.txt");
    let mut outs = Vec::new();
    for algo in ["fpgrowth", "apriori"] {
        let out = dir.path().join(format!("{algo}.txt"));
        let r = cartseq(&[
            "itemsets",
            &basket,
            "--preset",
            "basket",
            "--algo",
            algo,
            "--min-support",
            "0.005",
            "--format",
            "spmf",
            "-o",
            out.to_str().unwrap(),
            "-q",
        ]);
        assert!(r.ok, "{}", r.stderr);
        outs.push(read(&out));
    }
    assert_eq!(outs[0], outs[1]);
    let lines: Vec<&str> = outs[0].lines().collect();
    // ceil(0.005 × 5000) = 25: every line's support is at least 25.
    assert!(lines
        .iter()
        .all(|l| l.rsplit(' ').next().unwrap().parse::<u32>().unwrap() >= 25));
    assert!(lines.len() > 100);
    let m: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("apriori.txt.manifest.json"))).unwrap();
    assert_eq!(m["outputs"][0]["rows"], lines.len() as u64);
    assert_eq!(m["parameters"]["min_support_count"], 25);
    assert_eq!(m["inputs"][0]["name"], "retail_basket_sample.txt");
    assert_eq!(m["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(m["counts"]["transactions"], 5000);
    assert!(m["command_line"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "--min-support"));
}

#[test]
fn association_rules_csv_has_every_measure_and_is_thread_independent() {
    let dir = tempfile::tempdir().unwrap();
    let basket = sample("retail_basket_sample.txt");
    let mut texts = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("r{threads}.csv"));
        let r = cartseq(&[
            "rules",
            &basket,
            "--preset",
            "basket",
            "--kind",
            "association",
            "--min-support",
            "0.01",
            "--min-confidence",
            "0.3",
            "--sort",
            "lift",
            "--threads",
            threads,
            "-o",
            out.to_str().unwrap(),
            "-q",
        ]);
        assert!(r.ok, "{}", r.stderr);
        texts.push(read(&out));
    }
    assert_eq!(texts[0], texts[1], "byte-identical for 1 and 2 threads");
    let mut rd = csv::Reader::from_reader(texts[0].as_bytes());
    let h = rd.headers().unwrap().clone();
    for col in [
        "antecedent",
        "consequent",
        "support",
        "confidence",
        "lift",
        "leverage",
        "conviction",
        "antecedent_support",
        "consequent_support",
        "support_count",
    ] {
        assert!(h.iter().any(|c| c == col), "column {col}");
    }
    let lift = h.iter().position(|c| c == "lift").unwrap();
    let conf = h.iter().position(|c| c == "confidence").unwrap();
    let mut prev = f64::INFINITY;
    let mut n = 0;
    for rec in rd.records() {
        let rec = rec.unwrap();
        let l: f64 = rec[lift].parse().unwrap();
        assert!(l <= prev, "sorted by lift");
        assert!(rec[conf].parse::<f64>().unwrap() >= 0.3);
        prev = l;
        n += 1;
    }
    assert!(n > 10);
}

#[test]
fn filters_top_and_jsonl() {
    let basket = sample("retail_basket_sample.txt");
    let r = cartseq(&[
        "rules",
        &basket,
        "--preset",
        "basket",
        "--min-support",
        "0.01",
        "--min-confidence",
        "0.1",
        "--consequent-has",
        "39",
        "--max-antecedent",
        "1",
        "--top",
        "5",
        "--format",
        "jsonl",
        "-q",
    ]);
    assert!(r.ok, "{}", r.stderr);
    let rows: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 5);
    for v in &rows {
        assert!(v["consequent_ids"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == 39));
        assert_eq!(v["antecedent_ids"].as_array().unwrap().len(), 1);
        assert!(v["lift"].as_f64().is_some());
    }
    let bad = cartseq(&[
        "rules",
        &basket,
        "--preset",
        "basket",
        "--min-support",
        "0.01",
        "--antecedent-has",
        "999999999",
        "-q",
    ]);
    assert!(!bad.ok);
    assert!(bad.stderr.contains("999999999"), "{}", bad.stderr);
}

#[test]
fn sequential_rules_in_spmf_format() {
    let r = cartseq(&[
        "rules",
        &sample("contextPrefixSpan.txt"),
        "--preset",
        "spmf",
        "--kind",
        "sequential",
        "--min-support",
        "0.5",
        "--min-confidence",
        "0.6",
        "--format",
        "spmf",
        "-q",
    ]);
    assert!(r.ok, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 59, "SPMF RuleGrowth gives 59 rules");
    assert!(lines.contains(&"1,2 ==> 3 #SUP: 3 #CONF: 0.75"));
    assert!(lines.contains(&"1 ==> 2,3 #SUP: 4 #CONF: 1.0"));
}

#[test]
fn pattern_rules_run_on_sign() {
    let r = cartseq(&[
        "rules",
        &sample("SIGN.txt"),
        "--preset",
        "spmf",
        "--kind",
        "pattern",
        "--min-support",
        "0.5",
        "--min-confidence",
        "0.9",
        "--format",
        "jsonl",
        "-q",
    ]);
    assert!(r.ok, "{}", r.stderr);
    for l in r.stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert!(v["confidence"].as_f64().unwrap() >= 0.9);
        assert!(v["support_count"].as_u64().unwrap() >= 365);
    }
}

#[test]
fn failure_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rules.csv");
    let r = cartseq(&[
        "rules",
        &sample("retail_basket_sample.txt"),
        "--preset",
        "basket",
        "--min-support",
        "0.002",
        "--min-confidence",
        "0",
        "--max-rules",
        "3",
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(!r.ok);
    assert!(r.stderr.contains("--max-rules"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing left behind"
    );
}

#[test]
fn csv_text_cells_cannot_start_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("log.csv");
    // Generic CSV with item names a spreadsheet would run as formulas.
    let mut s = String::from("user,item\n");
    for u in 0..4 {
        s.push_str(&format!("u{u},=SUM(A1)\nu{u},+cmd\nu{u},@x\n"));
    }
    std::fs::write(&input, s).unwrap();
    let out = dir.path().join("r.csv");
    let r = cartseq(&[
        "rules",
        input.to_str().unwrap(),
        "--preset",
        "generic",
        "--user-col",
        "user",
        "--item-col",
        "item",
        "--min-support",
        "0.5",
        "--min-confidence",
        "0.5",
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(r.ok, "{}", r.stderr);
    let text = read(&out);
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let mut n = 0;
    for rec in rd.records() {
        let rec = rec.unwrap();
        for cell in [&rec[0], &rec[1]] {
            assert!(cell.starts_with('\''), "unsafe cell {cell:?}");
        }
        n += 1;
    }
    assert!(n > 0);
}

#[test]
fn next_on_taobao_reports_conversion_and_follow_ups() {
    let r = cartseq(&[
        "next",
        &sample("taobao_sample.csv"),
        "--preset",
        "taobao",
        "--token",
        "action:item",
        "--session-gap",
        "1h",
        "--after",
        "cart_add:4350284",
        "--top",
        "5",
        "-q",
    ]);
    assert!(r.ok, "{}", r.stderr);
    assert!(
        r.stdout.contains("contain cart_add:4350284"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("do buy:4350284"), "{}", r.stdout);
    let csv_run = cartseq(&[
        "next",
        &sample("taobao_sample.csv"),
        "--preset",
        "taobao",
        "--token",
        "action",
        "--session-gap",
        "1h",
        "--after",
        "cart_add",
        "--within",
        "1h",
        "--format",
        "csv",
        "-q",
    ]);
    assert!(csv_run.ok, "{}", csv_run.stderr);
    let mut rd = csv::Reader::from_reader(csv_run.stdout.as_bytes());
    let tokens: Vec<String> = rd.records().map(|r| r.unwrap()[1].to_string()).collect();
    assert!(tokens.iter().any(|t| t == "buy"), "{tokens:?}");
    let steps = cartseq(&[
        "next",
        &sample("contextPrefixSpan.txt"),
        "--preset",
        "spmf",
        "--after",
        "1",
        "--after",
        "3",
        "--within",
        "1",
        "--format",
        "jsonl",
        "-q",
    ]);
    assert!(steps.ok, "{}", steps.stderr);
    // Sequences with 1 then 3: all four; right after the first such 3 ...
    let v: Vec<serde_json::Value> = steps
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(v.iter().all(|x| x["matched"] == 4));
    let no_times = cartseq(&[
        "next",
        &sample("contextPrefixSpan.txt"),
        "--preset",
        "spmf",
        "--after",
        "1",
        "--within",
        "1h",
        "-q",
    ]);
    assert!(!no_times.ok);
    assert!(
        no_times.stderr.contains("timestamps"),
        "{}",
        no_times.stderr
    );
}
