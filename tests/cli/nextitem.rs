//! End-to-end tests of `cartseq nextitem` on the shipped samples (data/samples) and, when present, the
//! larger shared files (../shared; skipped with a reason when absent unless CI=true).

use crate::support::{assert_contains_all, cartseq, shared_yoochoose_nextitem, tempdir};

const TRAIN: &str = "data/samples/yoochoose_train_tr_sample.txt";
const TEST: &str = "data/samples/yoochoose_valid_sample.txt";

pub(crate) fn metric(v: &serde_json::Value, model: &str, what: &str, k: u64) -> f64 {
    let row = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["model"] == model)
        .expect("model row");
    row[what]
        .as_array()
        .expect("pairs")
        .iter()
        .find(|p| p[0] == k)
        .expect("cut-off")[1]
        .as_f64()
        .expect("number")
}

#[test]
fn yoochoose_sample_all_models_with_embeddings_and_curve() {
    let dir = tempdir();
    let emb = dir.path().join("emb.csv");
    let curve = dir.path().join("curve.svg");
    let v = cartseq(&format!(
        "nextitem --train {TRAIN} --test {TEST} --preset yoochoose \
         --model pop,markov,iknn,sknn,gru --epochs 3 --hidden 24 --valid-fraction 0.1 --json -q"
    ))
    .arg("--embeddings")
    .arg(&emb)
    .arg("--curve")
    .arg(&curve)
    .json();
    assert!(v["predictions"].as_u64().expect("count") > 1000);
    for m in ["pop", "markov", "iknn", "sknn", "gru"] {
        for k in [10, 20] {
            let r = metric(&v, m, "recall", k);
            let mrr = metric(&v, m, "mrr", k);
            assert!(
                (0.0..=1.0).contains(&r) && mrr <= r,
                "{m}@{k}: recall {r} mrr {mrr}"
            );
        }
    }
    // Sequential evidence beats popularity on click streams by a wide margin.
    assert!(metric(&v, "markov", "recall", 20) > 2.0 * metric(&v, "pop", "recall", 20));
    // Three epochs of a 24-unit network on 15k clicks: better than popularity, far from converged.
    assert!(metric(&v, "gru", "recall", 20) > metric(&v, "pop", "recall", 20));
    let csv = std::fs::read_to_string(&emb).expect("embeddings written");
    let mut lines = csv.lines();
    let head = lines.next().expect("header");
    assert!(
        head.starts_with("split,session,e0,") && head.ends_with(",e23"),
        "{head}"
    );
    let rows: Vec<&str> = lines.collect();
    assert!(
        rows.iter().any(|l| l.starts_with("train,")) && rows.iter().any(|l| l.starts_with("test,"))
    );
    assert!(rows.iter().all(|l| l.split(',').count() == 26));
    let svg = std::fs::read_to_string(&curve).expect("curve written");
    assert_contains_all(&svg, &["<svg", "valid Recall@20"]);
}

#[test]
fn same_seed_same_results_table() {
    let line = format!(
        "nextitem --train {TRAIN} --test {TEST} --model lstm --epochs 1 --hidden 16 --json -q"
    );
    let a = cartseq(&line).json();
    let b = cartseq(&line).json();
    assert_eq!(a["results"][0]["recall"], b["results"][0]["recall"]);
    assert_eq!(a["results"][0]["mrr"], b["results"][0]["mrr"]);
    assert_eq!(
        a["results"][0]["epochs"][0]["train_loss"],
        b["results"][0]["epochs"][0]["train_loss"]
    );
}

#[test]
fn diginetica_sample_date_split_runs() {
    let v = cartseq(
        "nextitem --train data/samples/diginetica_sample.csv --preset diginetica \
         --split-last-days 7 --min-item-support 1 --model pop,markov --json",
    )
    .json();
    assert!(v["test_sessions_evaluated"].as_u64().expect("count") > 0);
    assert!(v["train_sessions"].as_u64().expect("count") > 0);
}

#[test]
fn metrics_on_few_predictions_carry_a_warning() {
    // Diginetica's last week in the sample: 5 test sessions, 8 predictions.
    let args = "nextitem --train data/samples/diginetica_sample.csv --preset diginetica \
                --split-last-days 7 --model pop";
    let v = cartseq(&format!("{args} --json")).json();
    let warnings: Vec<&str> = v["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w.as_str())
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].starts_with("only 8 predictions (fewer than 30)"),
        "{warnings:?}"
    );
    assert!(
        warnings[1].starts_with("only 5 test sessions (fewer than 30)"),
        "{warnings:?}"
    );
    let table = cartseq(args).success().stdout;
    assert!(
        table.contains("warning: only 8 predictions (fewer than 30): Recall@k and MRR@k"),
        "{table}"
    );
    // Thousands of predictions: no warning.
    let v = cartseq(&format!(
        "nextitem --train {TRAIN} --test {TEST} --model pop --json"
    ))
    .json();
    assert_eq!(v["warnings"], serde_json::json!([]));
}

#[test]
fn bad_invocations_fail_clearly() {
    let t = TRAIN;
    for (line, want) in [
        (format!("nextitem --train {t}"), "--split-last-days"),
        (
            format!("nextitem --train {t} --test {t} --model cnn"),
            "unknown model",
        ),
        (
            format!("nextitem --train {t} --test {t} --model pop --curve x.svg"),
            "network model",
        ),
        (
            format!("nextitem --train /nonexistent/file.tsv --test {t}"),
            "nonexistent",
        ),
    ] {
        cartseq(&line).fails_with(want);
    }
}

#[test]
fn shared_yoochoose_networks_beat_popularity() {
    let Some(v) = shared_yoochoose_nextitem("--model pop,markov,gru --epochs 2 --hidden 48") else {
        return;
    };
    assert!(metric(&v, "gru", "recall", 20) > 0.4);
    assert!(metric(&v, "markov", "recall", 20) > 0.45);
}
