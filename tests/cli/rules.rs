//! End-to-end tests of `cartseq itemsets`, `cartseq rules` and `cartseq next` on the shipped samples:
//! exports in every format, the manifest, spreadsheet safety, determinism across thread counts, atomic
//! failure (no output left behind), and the Taobao "what comes next" query.

use crate::support::{bash, cartseq, read, repo_root, tempdir, Cartseq, Csv};

const BASKET: &str = "data/samples/retail_basket_sample.txt";
const CONTEXT: &str = "data/samples/contextPrefixSpan.txt";
const TAOBAO: &str = "data/samples/taobao_sample.csv";

/// `cartseq rules data/samples/retail_basket_sample.txt --preset basket WORDS… -q`.
fn basket_rules(words: &str) -> Cartseq {
    cartseq(&format!("rules {BASKET} --preset basket -q")).words(words)
}

/// The files `command(v) OUT` writes for each variant `v` (its words end in `-o`; OUT is
/// `DIR/{v}{ext}`; every run must succeed), in order, and DIR.
fn written_per_variant(
    variants: &[&str],
    ext: &str,
    command: impl Fn(&str) -> Cartseq,
) -> (tempfile::TempDir, Vec<String>) {
    let dir = tempdir();
    let texts = variants
        .iter()
        .map(|v| {
            let out = dir.path().join(format!("{v}{ext}"));
            command(v).arg(&out).success();
            read(&out)
        })
        .collect();
    (dir, texts)
}

#[test]
fn itemsets_same_for_both_algorithms_and_manifest_describes_the_file() {
    let (dir, outs) = written_per_variant(&["fpgrowth", "apriori"], ".txt", |algo| {
        cartseq(&format!(
            "itemsets {BASKET} --preset basket --algo {algo} --min-support 0.005 --format spmf -q -o"
        ))
    });
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
    let (_dir, texts) = written_per_variant(&["1", "2"], ".csv", |threads| {
        basket_rules(&format!(
            "--kind association --min-support 0.01 --min-confidence 0.3 --sort lift \
             --threads {threads} -o"
        ))
    });
    assert_eq!(texts[0], texts[1], "byte-identical for 1 and 2 threads");
    let table = Csv::parse(&texts[0]);
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
        assert!(table.header.iter().any(|c| c == col), "column {col}");
    }
    let (lift, conf) = (table.col("lift"), table.col("confidence"));
    let mut prev = f64::INFINITY;
    for rec in &table.rows {
        let l: f64 = rec[lift].parse().unwrap();
        assert!(l <= prev, "sorted by lift");
        assert!(rec[conf].parse::<f64>().unwrap() >= 0.3);
        prev = l;
    }
    assert!(table.rows.len() > 10);
}

#[test]
fn filters_top_and_jsonl() {
    let r = basket_rules(
        "--min-support 0.01 --min-confidence 0.1 --consequent-has 39 --max-antecedent 1 --top 5 \
         --format jsonl",
    )
    .success();
    let rows = r.jsonl();
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
    basket_rules("--min-support 0.01 --antecedent-has 999999999").fails_with("999999999");
}

#[test]
fn sequential_rules_in_spmf_format() {
    let r = cartseq(&format!(
        "rules {CONTEXT} --preset spmf --kind sequential --min-support 0.5 --min-confidence 0.6 \
         --format spmf -q"
    ))
    .success();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 59, "SPMF RuleGrowth gives 59 rules");
    assert!(lines.contains(&"1,2 ==> 3 #SUP: 3 #CONF: 0.75"));
    assert!(lines.contains(&"1 ==> 2,3 #SUP: 4 #CONF: 1.0"));
}

#[test]
fn pattern_rules_run_on_sign() {
    let r = cartseq(
        "rules data/samples/SIGN.txt --preset spmf --kind pattern --min-support 0.5 \
         --min-confidence 0.9 --format jsonl -q",
    )
    .success();
    for v in r.jsonl() {
        assert!(v["confidence"].as_f64().unwrap() >= 0.9);
        assert!(v["support_count"].as_u64().unwrap() >= 365);
    }
}

#[test]
fn failure_leaves_no_output() {
    basket_rules("--min-support 0.002 --min-confidence 0 --max-rules 3 -o")
        .fails_leaving_nothing("rules.csv", "--max-rules");
}

#[test]
fn csv_text_cells_cannot_start_formulas() {
    let dir = tempdir();
    let input = dir.path().join("log.csv");
    // Generic CSV with item names a spreadsheet would run as formulas.
    let mut s = String::from("user,item\n");
    for u in 0..4 {
        s.push_str(&format!("u{u},=SUM(A1)\nu{u},+cmd\nu{u},@x\n"));
    }
    std::fs::write(&input, s).unwrap();
    let out = dir.path().join("r.csv");
    cartseq("rules")
        .arg(&input)
        .words("--preset generic --user-col user --item-col item --min-support 0.5")
        .words("--min-confidence 0.5 -q -o")
        .arg(&out)
        .success();
    let table = Csv::read(&out);
    for rec in &table.rows {
        for cell in [&rec[0], &rec[1]] {
            assert!(cell.starts_with('\''), "unsafe cell {cell:?}");
        }
    }
    assert!(!table.rows.is_empty());
}

#[test]
fn next_on_taobao_reports_conversion_and_follow_ups() {
    let r = cartseq(&format!(
        "next {TAOBAO} --preset taobao --token action:item --session-gap 1h \
         --after cart_add:4350284 --top 5 -q"
    ))
    .success();
    assert!(
        r.stdout.contains("contain cart_add:4350284"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("do buy:4350284"), "{}", r.stdout);
    let csv_run = cartseq(&format!(
        "next {TAOBAO} --preset taobao --token action --session-gap 1h --after cart_add \
         --within 1h --format csv -q"
    ))
    .success();
    let tokens: Vec<String> = Csv::parse(&csv_run.stdout)
        .rows
        .into_iter()
        .map(|r| r[1].clone())
        .collect();
    assert!(tokens.iter().any(|t| t == "buy"), "{tokens:?}");
    let steps = cartseq(&format!(
        "next {CONTEXT} --preset spmf --after 1 --after 3 --within 1 --format jsonl -q"
    ))
    .success();
    // Sequences with 1 then 3: all four; right after the first such 3 ...
    let v = steps.jsonl();
    assert!(v.iter().all(|x| x["matched"] == 4));
    cartseq(&format!(
        "next {CONTEXT} --preset spmf --after 1 --within 1h -q"
    ))
    .fails_with("timestamps");
}

/// Regression: `mine --format jsonl`, `rules` and `itemsets` piped into `head` exited 2 with "Broken
/// pipe": the CSV and JSON writers wrap the I/O error in their own types, which the broken-pipe check
/// did not look into. A reader that stops early is not an error (as ripgrep does).
#[test]
fn exports_piped_into_head_are_not_errors() {
    for cmd in [
        "cartseq mine data/samples/taobao_sample.csv --preset taobao --token action:item --min-count 2 \
         --format jsonl -q",
        "cartseq rules data/samples/retail_basket_sample.txt --preset basket --kind association \
         --min-support 0.005 -q",
        "cartseq itemsets data/samples/retail_basket_sample.txt --preset basket --min-support 0.002 -q",
    ] {
        let out = bash(
            &format!("{cmd} | head -n 1 > /dev/null; echo \"status=${{PIPESTATUS[0]}}\""),
            repo_root(),
        );
        assert!(out.stdout.contains("status=0"), "{cmd}: {} {}", out.stdout, out.stderr);
        assert!(!out.stderr.contains("error"), "{cmd}: {}", out.stderr);
    }
}
