//! End-to-end tests of the reproducibility-study baselines (V-SKNN, STAN, VSTAN, SR), the hybrids
//! (`hybrid:`, `stack:`) and the bootstrap intervals of `cartseq nextitem`, on the shipped Yoochoose
//! sample and, when present, the shared 100k sample (../shared; skipped with a reason when absent
//! unless CI=true).

use crate::nextitem::metric;
use crate::support::{assert_contains_all, cartseq, shared_yoochoose_nextitem};

const TRAIN: &str = "data/samples/yoochoose_train_tr_sample.txt";
const TEST: &str = "data/samples/yoochoose_valid_sample.txt";

fn row<'a>(v: &'a serde_json::Value, model: &str) -> &'a serde_json::Value {
    v["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["model"] == model)
        .unwrap_or_else(|| panic!("no row {model}"))
}

fn at(pairs: &serde_json::Value, k: u64) -> &serde_json::Value {
    &pairs
        .as_array()
        .expect("pairs")
        .iter()
        .find(|p| p[0] == k)
        .expect("cut-off")[1]
}

/// The results without the timings (which vary from run to run).
fn without_timings(mut v: serde_json::Value) -> serde_json::Value {
    for r in v["results"].as_array_mut().expect("results") {
        let o = r.as_object_mut().expect("object");
        o.remove("fit_seconds");
        o.remove("eval_seconds");
    }
    v
}

#[test]
fn baselines_and_hybrids_with_intervals_on_the_sample() {
    let v = cartseq(&format!(
        "nextitem --train {TRAIN} --test {TEST} \
         --model pop,markov,vsknn,stan,vstan,sr,hybrid:sr+vstan,stack:markov+vsknn \
         --bootstrap 200 --json -q"
    ))
    .json();
    assert_eq!(v["bootstrap_replicates"], 200);
    for m in [
        "vsknn",
        "stan",
        "vstan",
        "sr",
        "hybrid:sr+vstan",
        "stack:markov+vsknn",
    ] {
        for k in [10, 20] {
            let (r, mrr) = (metric(&v, m, "recall", k), metric(&v, m, "mrr", k));
            assert!((0.0..=1.0).contains(&r) && mrr <= r, "{m}@{k}: {r} {mrr}");
            for (what, value) in [("recall_ci", r), ("mrr_ci", mrr)] {
                let ci = at(&row(&v, m)[what], k);
                let (lo, est, hi) = (
                    ci["lo"].as_f64().expect("lo"),
                    ci["estimate"].as_f64().expect("estimate"),
                    ci["hi"].as_f64().expect("hi"),
                );
                assert_eq!(est, value, "{m} {what}");
                assert!(lo <= est && est <= hi && lo < hi, "{m} {what}@{k}: {ci}");
            }
        }
        // Neighbourhoods and rules use the sequence: far above popularity.
        assert!(
            metric(&v, m, "recall", 20) > 2.0 * metric(&v, "pop", "recall", 20),
            "{m}"
        );
    }
    // Every row but the best is compared with the best by a paired bootstrap.
    let with_vs: Vec<&serde_json::Value> = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r.get("vs_best").is_some())
        .collect();
    assert_eq!(with_vs.len(), 7);
    // The hybrid reports its weights (on the simplex), its best member and the paired intervals.
    let h = &row(&v, "hybrid:sr+vstan")["hybrid"];
    let w: Vec<f64> = h["tuning"]["weights"]
        .as_array()
        .expect("weights")
        .iter()
        .map(|x| x.as_f64().expect("weight"))
        .collect();
    assert_eq!(w.len(), 2);
    assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert!(["sr", "vstan"].contains(&h["best_member"].as_str().expect("name")));
    for d in ["recall20_difference", "mrr20_difference"] {
        assert!(h[d]["lo"].as_f64().expect("lo") <= h[d]["hi"].as_f64().expect("hi"));
    }
    let s = &row(&v, "stack:markov+vsknn")["hybrid"];
    assert_eq!(s["stacking"][0].as_array().expect("coef").len(), 4);
}

#[test]
fn same_results_for_any_thread_count() {
    let line = format!(
        "nextitem --train {TRAIN} --test {TEST} --model vsknn,stan,vstan,sr,stack:sr+stan \
         --bootstrap 100 --json -q"
    );
    let one = without_timings(cartseq(&format!("--threads 1 {line}")).json());
    let two = without_timings(cartseq(&format!("--threads 2 {line}")).json());
    assert_eq!(one, two);
}

#[test]
fn the_table_says_which_differences_are_not_significant() {
    let out = cartseq(&format!(
        "nextitem --train {TRAIN} --test {TEST} --model vstan,stan,hybrid:stan+vstan --bootstrap 200 -q"
    ))
    .success()
    .stdout;
    assert_contains_all(&out, &["Recall@20", "["]);
    assert!(out.contains("hybrid:stan+vstan: weights stan"), "{out}");
    assert!(out.contains("vs best member"), "{out}");
}

#[test]
fn bad_model_combinations_fail_clearly() {
    for (models, want) in [
        ("hybrid:sr", "at least two members"),
        ("hybrid:sr+nope", "unknown member"),
        ("blend:sr+vstan", "unknown combination"),
        ("hybrid:sr+sr", "twice"),
    ] {
        cartseq(&format!(
            "nextitem --train {TRAIN} --test {TEST} --model {models}"
        ))
        .fails_with(want);
    }
    cartseq(&format!(
        "nextitem --train {TRAIN} --test {TEST} --model hybrid:sr+vstan --hybrid-valid-fraction 0.7"
    ))
    .fails_with("--hybrid-valid-fraction");
}

/// On the shared 100k sample the four baselines agree with session-rec's own Python classes
/// (benches/peers/sessionrec_twin.py; BENCHMARKS.md "Session-kNN, STAN, VSTAN, SR and hybrids").
#[test]
fn shared_yoochoose_baselines_match_session_rec() {
    let Some(v) = shared_yoochoose_nextitem("--model vsknn,stan,vstan,sr --bootstrap 0") else {
        return;
    };
    // session-rec's Recall@20 / MRR@20 on the same split and parameters.
    for (m, r20, mrr20) in TWIN {
        let (r, mrr) = (metric(&v, m, "recall", 20), metric(&v, m, "mrr", 20));
        assert!(
            (r - r20).abs() < 0.005,
            "{m}: Recall@20 {r} vs session-rec {r20}"
        );
        assert!(
            (mrr - mrr20).abs() < 0.005,
            "{m}: MRR@20 {mrr} vs session-rec {mrr20}"
        );
    }
}

/// session-rec's figures (model, Recall@20, MRR@20) on the shared 100k split.
const TWIN: [(&str, f64, f64); 4] = [
    ("vsknn", 0.6239, 0.3497),
    ("stan", 0.6536, 0.3576),
    ("vstan", 0.6514, 0.3669),
    ("sr", 0.5668, 0.3131),
];

/// The baselines' parameters are flags with session-rec's names and published defaults: giving the
/// defaults changes nothing, other values change the figures, and a bad value is refused before any
/// data is read, naming the flag.
#[test]
fn baseline_parameters_are_flags() {
    let run = |extra: &str| {
        without_timings(
            cartseq(&format!(
                "nextitem --train {TRAIN} --test {TEST} --model vsknn,stan,vstan,sr --bootstrap 0 \
                 --json -q {extra}"
            ))
            .json(),
        )
    };
    let defaults = run("");
    let spelled = run(
        "--vsknn-k 100 --vsknn-sample-size 1000 --vsknn-similarity vec --vsknn-weighting quadratic \
         --vsknn-weighting-score quadratic --vsknn-idf-weighting 0 --stan-k 500 \
         --stan-sample-size 5000 --lambda-spw 1.02 --lambda-snh 5 --lambda-inh 2.05 \
         --lambda-ipw 1.02 --lambda-idf 5 --vstan-similarity cosine --sr-steps 10 \
         --sr-weighting div --sr-pruning 20",
    );
    assert_eq!(defaults, spelled);
    let other = run(
        "--vsknn-k 5 --vsknn-weighting same --stan-k 5 --lambda-spw 0.5 --lambda-idf 0 \
         --sr-steps 1 --sr-weighting same",
    );
    for m in ["vsknn", "stan", "vstan", "sr"] {
        assert_ne!(
            row(&defaults, m),
            row(&other, m),
            "{m}: the flags changed nothing"
        );
    }
    for (bad, want) in [
        ("--vsknn-k 0", "--vsknn-k"),
        ("--vsknn-sample-size 0", "--vsknn-sample-size"),
        (
            "--vsknn-weighting cubic",
            "'--vsknn-weighting <DECAY>': expected a decay (same, div",
        ),
        (
            "--vsknn-similarity jaccard",
            "--vsknn-similarity: expected vec or cosine",
        ),
        ("--vsknn-idf-weighting=-1", "--vsknn-idf-weighting"),
        ("--stan-sample-size 0", "--stan-sample-size"),
        (
            "--lambda-spw 0",
            "--lambda-spw: expected a finite number > 0",
        ),
        ("--lambda-snh inf", "--lambda-snh"),
        ("--lambda-ipw=-2", "--lambda-ipw"),
        ("--sr-steps 0", "--sr-steps"),
        ("--sr-pruning 0", "--sr-pruning"),
    ] {
        cartseq(&format!(
            "nextitem --train /nonexistent/train.txt --test {TEST} --model sr {bad}"
        ))
        .fails_with(want);
    }
}
