//! Resource guards, validated parameters and models, and warnings where a metric means little
//! (issue 17, part B). No test measures time: each asserts that a guard fires and that its message names
//! the flag that bounds the run, with a small `--max-memory` or count limit.

use std::path::{Path, PathBuf};

use crate::support::{cartseq, read, shared, tempdir, Run};

const TAOBAO: &str = "data/samples/taobao_sample.csv --preset taobao";

/// The purchase task of the Taobao sample (with its manifest) in `dir/f.csv`.
fn features(dir: &Path) -> PathBuf {
    let out = dir.join("f.csv");
    cartseq(&format!("task {TAOBAO} --task purchase --horizon 1d -q -o"))
        .arg(&out)
        .success();
    out
}

/// The features of [`features`] and `dir/m.json`, a `model` trained on them.
fn trained(dir: &Path, model: &str) -> (PathBuf, PathBuf) {
    let f = features(dir);
    let m = dir.join("m.json");
    cartseq(&format!("train --model {model} -q -o"))
        .arg(&m)
        .arg(&f)
        .success();
    (f, m)
}

/// The explosion advice names `flag`, which bounds pattern size, and not `--max-len`, which only
/// filters input sequences (following that advice changed nothing).
fn advises_length_flag(r: &Run, flag: &str) {
    assert!(r.stderr.contains(flag), "{}", r.stderr);
    assert!(
        !r.stderr.contains("--max-len"),
        "wrong advice: {}",
        r.stderr
    );
}

/// `mine` of the Taobao sample's action tokens at support 1 (an explosion) under the guard `limit`
/// fails with `message` and advises `--max-items`.
fn mine_explosion_stops(limit: &str, message: &str) {
    let r = cartseq(&format!(
        "mine {TAOBAO} --token action --min-count 1 {limit} -q"
    ))
    .fails_with(message);
    advises_length_flag(&r, "--max-items");
}

#[test]
fn mine_memory_guard_fires_and_names_the_length_flag() {
    // Action tokens with support 1: an explosion that fills memory long before 10 M patterns.
    mine_explosion_stops("--max-memory 40M", "--max-memory");
}

#[test]
fn mine_count_guard_names_max_items_not_max_len() {
    mine_explosion_stops("--max-patterns 500", "--max-patterns 500");
}

#[test]
fn spmf_output_streams_before_the_guard_fires() {
    // Before: patterns of a first-level prefix were held until it was done, so nothing reached the
    // output when the guard fired inside it.
    for algo in ["prefixspan", "spade"] {
        let r = cartseq(&format!(
            "mine {TAOBAO} --token action --min-count 1 --max-patterns 20000 --format spmf -q --algo {algo}"
        ))
        .fails_with("--max-patterns 20000");
        let lines = r.stdout.lines().count();
        assert!(
            lines >= 4096,
            "{algo}: only {lines} patterns reached stdout"
        );
        assert!(r.stdout.lines().all(|l| l.contains("#SUP:")), "{algo}");
    }
}

#[test]
fn spmf_streaming_keeps_the_deterministic_order() {
    let one = cartseq(&format!(
        "mine {TAOBAO} --token action --min-count 40 --max-items 4 --format spmf -q --threads 1"
    ))
    .success();
    let two = cartseq(&format!(
        "mine {TAOBAO} --token action --min-count 40 --max-items 4 --format spmf -q --threads 2"
    ))
    .success();
    assert!(one.stdout.lines().count() > 10);
    assert_eq!(one.stdout, two.stdout);
}

#[test]
fn sequential_rules_guard_counts_the_search_not_only_kept_rules() {
    // --min-lift 1e9 keeps no rule: before, the search ran to the end however large it was.
    cartseq(&format!(
        "rules {TAOBAO} --token action:item --kind sequential --min-support #1 --min-confidence 0 \
         --min-lift 1e9 --max-rules 1000 -q"
    ))
    .fails_with("candidate rules");
}

#[test]
fn bms1_sequential_rules_at_support_one_stop_with_advice() {
    let Some(bms1) = shared("data/spmf/BMS1_spmf.txt") else {
        return;
    };
    cartseq("rules --kind sequential --min-support #1 --max-rules 200000 -q")
        .arg(bms1)
        .fails_with("--max-rules");
}

#[test]
fn itemsets_guard_names_max_size_not_max_len() {
    // Support 1 on baskets: FP-Growth's single-path shortcut counts 2^k itemsets at once, so the
    // count guard fires first; either guard must name the itemset-size flag, `--max-size`.
    let r = cartseq(
        "itemsets data/samples/retail_basket_sample.txt --preset basket --min-support #1 \
         --max-memory 40M -q",
    )
    .failure();
    advises_length_flag(&r, "--max-size");
}

#[test]
fn long_baskets_at_support_one_stop_at_once() {
    // The Taobao sample's users hold hundreds of items: at support 1 FP-Growth's single path has
    // 2^k − 1 subsets, a count that once wrapped the guard's counter around, so `itemsets` and `rules`
    // wrote itemsets until the kernel killed them (24 GB resident). Both guards now fire before
    // anything is written: the count, and memory for the whole result of one step.
    for cmd in ["itemsets", "rules --min-confidence 0.1"] {
        cartseq(&format!("{cmd} {TAOBAO} --min-support 0.005 -q"))
            .fails_with("more than 10000000 frequent itemsets at minimum support 1");
    }
    cartseq(&format!(
        "itemsets {TAOBAO} --min-support 0.005 --max-size 3 --max-itemsets 1000000000 \
         --max-memory 100M -q"
    ))
    .fails_with("reached the limit --max-memory 100.0 MiB");
}

#[test]
fn pattern_feature_guards_name_the_pattern_flags() {
    // The candidate mining of `--pattern-features` stopped with `mine`'s advice (--max-patterns,
    // --min-support, --max-items), flags `task` does not have. (Since top-k steps down to its
    // threshold, 50 patterns of up to 20 events take 0.07 s here; 1,000 make each class's top-5,000
    // explode.)
    let dir = tempdir();
    let r = cartseq(&format!(
        "task {TAOBAO} --task purchase --split user --pattern-features 1000 --pattern-max-len 20 \
         --max-memory 100M -q -o"
    ))
    .arg(dir.path().join("x.csv"))
    .fails_with("lower --pattern-max-len (now 20)");
    assert!(r.stderr.contains("--max-memory"), "{}", r.stderr);
    for f in [
        "--max-patterns",
        "--min-support",
        "--max-items",
        "--max-gap ",
    ] {
        assert!(
            !r.stderr.contains(f),
            "names {f}, not a `task` flag: {}",
            r.stderr
        );
    }
    assert!(!dir.path().join("x.csv").exists());
}

#[test]
fn rules_guards_name_the_flags_rules_has() {
    // `rules` bounds patterns with --max-size and what it mines on the way with --max-patterns; the
    // miners' own messages named `mine`'s and `itemsets`' flags, which `rules` refuses as unknown.
    let foreign = ["--max-items", "--max-itemsets", "--max-gap", "--max-len"];
    let check = |r: &crate::support::Run, want: &str| {
        assert!(r.stderr.contains(want), "{}", r.stderr);
        for f in foreign {
            assert!(
                !r.stderr.contains(f),
                "names {f}, not a `rules` flag: {}",
                r.stderr
            );
        }
    };
    // The memory guard inside the pattern miner.
    let r = cartseq(&format!(
        "rules {TAOBAO} --kind pattern --token action --min-support #1 --max-size 12 \
         --max-memory 30M -q"
    ))
    .fails_with("--max-memory");
    check(&r, "--max-size");
    // The parameter checks of the itemset and pattern miners.
    let r = cartseq(
        "rules data/samples/retail_basket_sample.txt --preset basket --min-support 0.01 \
         --kind association --max-patterns 0 -q",
    )
    .failure();
    check(&r, "--max-patterns");
    let r = cartseq(&format!(
        "rules {TAOBAO} --kind pattern --min-support 0.1 --max-size 0 -q"
    ))
    .failure();
    check(&r, "--max-size");
}

#[test]
fn max_memory_values_are_checked() {
    cartseq(&format!("stats {TAOBAO} --max-memory lots")).fails_with("--max-memory");
    cartseq(&format!("stats {TAOBAO} --max-memory 1M")).fails_with("16M");
    cartseq(&format!("stats {TAOBAO} -q --max-memory none")).success();
}

#[test]
fn learners_refuse_parameters_beyond_the_memory_limit() {
    let dir = tempdir();
    let f = features(dir.path());
    let m = dir.path().join("m.json");
    for (words, flag) in [
        (
            "--model rf --param n_trees=100000000",
            "n_trees = 100000000",
        ),
        (
            "--model gbdt --param n_estimators=100000000",
            "n_estimators",
        ),
    ] {
        cartseq("train")
            .arg(&f)
            .words(words)
            .words("--max-memory 1G -o")
            .arg(&m)
            .fails_with(flag);
        assert!(!m.exists());
    }
    let seq = dir.path().join("seq.csv");
    cartseq(&format!(
        "task {TAOBAO} --task purchase --horizon 1d --seq -q -o"
    ))
    .arg(&seq)
    .success();
    cartseq("train --model lstm --param hidden=1000000 --max-memory 1G -o")
        .arg(&m)
        .arg(&seq)
        .fails_with("hidden = 1000000");
}

/// A feature CSV of `rows` rows × 16 features (deterministic values, both classes in every split):
/// about 1 KiB per 10 rows on disk, 128 bytes per row once read.
fn big_features(dir: &Path, rows: usize) -> PathBuf {
    use std::fmt::Write as _;
    let mut s = String::from("user_id,split,label");
    for j in 0..16 {
        write!(s, ",f{j}").unwrap();
    }
    s.push('\n');
    for i in 0..rows {
        let split = ["train", "train", "train", "valid", "test"][i % 5];
        write!(s, "{i},{split},{}", (i / 5) % 2).unwrap();
        for j in 0..16 {
            write!(s, ",{}", (i * 7 + j * 13) % 101).unwrap();
        }
        s.push('\n');
    }
    let path = dir.join("big.csv");
    std::fs::write(&path, s).unwrap();
    path
}

#[test]
fn fits_are_stopped_by_periodic_accounting_with_the_count_done() {
    // 300,000 rows × 16 features hold ~37 MiB once read: above a 16M limit before the first tree,
    // while each learner's estimate (depth-2 trees: a few nodes each) is far below it. Before the
    // periodic checks the fits ran to the end; now the first check after a tree or round stops them.
    let dir = tempdir();
    let f = big_features(dir.path(), 300_000);
    let m = dir.path().join("m.json");
    for (words, unit, param) in [
        (
            "--model rf --param n_trees=20 --param max_depth=2",
            "trees",
            "n_trees",
        ),
        (
            "--model gbdt --param n_estimators=20 --param max_depth=2",
            "boosting rounds",
            "n_estimators",
        ),
        (
            "--model ada --param n_estimators=20 --param max_depth=2",
            "boosting rounds",
            "n_estimators",
        ),
    ] {
        let r = cartseq("train")
            .arg(&f)
            .words(words)
            .words("--max-memory 16M -q -o")
            .arg(&m)
            .fails_with("--max-memory 16.0 MiB after ");
        assert!(
            r.stderr.contains(&format!(" {unit}: lower {param}")),
            "{}",
            r.stderr
        );
        assert!(!m.exists());
    }
}

#[test]
fn nextitem_hidden_is_named_as_typed() {
    cartseq(
        "nextitem --train data/samples/yoochoose_train_tr_sample.txt \
         --test data/samples/yoochoose_valid_sample.txt --preset yoochoose --model gru \
         --hidden 100000 --max-memory 1G -q",
    )
    .fails_with("--hidden = 100000");
}

#[test]
fn threads_are_capped() {
    let r = cartseq(&format!("stats {TAOBAO} --threads 100000")).success();
    assert!(r.stderr.contains("capped"), "{}", r.stderr);
}

/// Replaces the first feature value of the first `split` row of a feature CSV.
fn edit_cell(path: &Path, split: &str, col: usize, value: &str) {
    let text = read(path);
    let mut done = false;
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            if !done && cells.get(1) == Some(&split) {
                done = true;
                cells[col] = value;
            }
            cells.join(",")
        })
        .collect();
    std::fs::write(path, out.join("\n") + "\n").unwrap();
}

#[test]
fn nan_features_are_refused_unless_allowed() {
    let dir = tempdir();
    let (f, m) = trained(dir.path(), "logreg");
    edit_cell(&f, "test", 3, "NaN");
    edit_cell(&f, "train", 4, "inf");
    cartseq("eval")
        .arg(&m)
        .arg(&f)
        .fails_with("--allow-missing");
    cartseq("train --model logreg -q -o")
        .arg(&m)
        .arg(&f)
        .fails_with("expected a finite number");
    cartseq("eval --allow-missing zero")
        .arg(&m)
        .arg(&f)
        .success();
    cartseq("train --model logreg -q --allow-missing drop -o")
        .arg(&m)
        .arg(&f)
        .success();
}

#[test]
fn labels_outside_the_tasks_classes_are_refused() {
    let dir = tempdir();
    let f = features(dir.path());
    edit_cell(&f, "train", 2, "7");
    cartseq("train --model logreg -q -o")
        .arg(dir.path().join("m.json"))
        .arg(&f)
        .fails_with("expected a class of the task");
    // Without the manifest: a gap in the class indices is refused too.
    std::fs::remove_file(dir.path().join("f.csv.manifest.json")).unwrap();
    cartseq("train --model logreg -q -o")
        .arg(dir.path().join("m.json"))
        .arg(&f)
        .fails_with("no row has class 2");
}

#[test]
fn inconsistent_model_files_are_refused_at_load() {
    let dir = tempdir();
    let (f, m) = trained(dir.path(), "logreg");
    let text = read(&m);
    let (head, body) = text.split_once('\n').unwrap();
    let mut v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["model"]["coef"]["dim"] = serde_json::json!([1, 3]);
    v["model"]["coef"]["data"] = serde_json::json!([0.1, 0.2, 0.3]);
    std::fs::write(&m, format!("{head}\n{v}\n")).unwrap();
    cartseq("eval")
        .arg(&m)
        .arg(&f)
        .fails_with("inconsistent model file");
    let mut h: serde_json::Value = serde_json::from_str(head).unwrap();
    h["n_classes"] = serde_json::json!(0);
    std::fs::write(&m, format!("{h}\n{body}\n")).unwrap();
    cartseq("eval")
        .arg(&m)
        .arg(&f)
        .fails_with("inconsistent model file");
}

#[test]
fn tiny_splits_warn_beside_the_table_and_in_json() {
    let r = cartseq(
        "leaderboard data/samples/online_retail_sample.csv --preset online-retail --task purchase \
         --horizon 1h --models prior,logreg --out-dir",
    )
    .arg(tempdir().path().join("lb"))
    .success();
    assert!(
        r.stdout.contains("warning: train split: only 3 rows"),
        "{}",
        r.stdout
    );
    let v = cartseq(
        "leaderboard data/samples/online_retail_sample.csv --preset online-retail --task purchase \
         --horizon 1h --models prior --json -q --out-dir",
    )
    .arg(tempdir().path().join("lb"))
    .json();
    let w = v["warnings"].as_array().unwrap();
    assert!(
        w.iter()
            .any(|m| m.as_str().unwrap().contains("class 1 (positive)")),
        "{w:?}"
    );
}

#[test]
fn eval_warns_on_a_small_test_split() {
    let dir = tempdir();
    let (f, m) = trained(dir.path(), "prior");
    // Keep the header and 10 test rows.
    let text = read(&f);
    let mut lines = text.lines();
    let mut small = vec![lines.next().unwrap().to_owned()];
    small.extend(
        lines
            .filter(|l| l.split(',').nth(1) == Some("test"))
            .take(10)
            .map(str::to_owned),
    );
    let tiny = dir.path().join("tiny.csv");
    std::fs::write(&tiny, small.join("\n") + "\n").unwrap();
    let r = cartseq("eval").arg(&m).arg(&tiny).success();
    assert!(r.stdout.contains("warning: only 10 rows"), "{}", r.stdout);
    let v = cartseq("eval --json").arg(&m).arg(&tiny).json();
    assert!(!v["metrics"]["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn cutoff_after_the_data_is_refused_with_earlier_advice() {
    let dir = tempdir();
    cartseq(&format!(
        "task {TAOBAO} --task purchase --cutoff 2030-01-01 -q -o"
    ))
    .arg(dir.path().join("f.csv"))
    .fails_with("choose an earlier --cutoff");
    let r = cartseq(&format!(
        "task {TAOBAO} --task purchase --cutoff 1990-01-01 -q -o"
    ))
    .arg(dir.path().join("f.csv"))
    .fails_with("choose a later --cutoff");
    assert!(!r.stderr.contains("earlier"), "{}", r.stderr);
}

#[test]
fn multi_class_report_never_says_positive() {
    let dir = tempdir();
    let out = dir.path().join("r.html");
    cartseq(&format!(
        "report {TAOBAO} --task next-action --models prior --pattern-features 2 -q -o"
    ))
    .arg(&out)
    .success();
    let html = read(&out);
    assert!(
        !html.contains(" positive)"),
        "a multi-class report says positive"
    );
}
