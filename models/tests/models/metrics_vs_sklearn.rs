//! Metric equality with scikit-learn on the committed fixture `tests/fixtures/sklearn_metrics.json`
//! (regenerate with `benches/peers/sklearn_metric_fixture.py`; this test needs no Python).

use cartseq_models::metrics::{self, Average};
use ndarray::Array2;
use serde_json::Value;

fn close(name: &str, case: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-12 * (1.0 + want.abs()),
        "{case}: {name} = {got}, scikit-learn says {want}"
    );
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("label") as usize)
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::INFINITY))
        .collect()
}

#[test]
fn metrics_equal_scikit_learn() {
    let text = include_str!("../fixtures/sklearn_metrics.json");
    let root: Value = serde_json::from_str(text).expect("fixture is JSON");
    let cases = root["cases"].as_array().expect("cases");
    assert!(cases.len() >= 8);
    for c in cases {
        let name = c["name"].as_str().expect("name");
        let k = c["n_classes"].as_u64().expect("k") as usize;
        let yt = usizes(&c["y_true"]);
        let yp = usizes(&c["y_pred"]);
        let rows: Vec<f64> = c["proba"]
            .as_array()
            .expect("proba")
            .iter()
            .flat_map(floats)
            .collect();
        let proba = Array2::from_shape_vec((yt.len(), k), rows).expect("shape");

        close(
            "accuracy",
            name,
            metrics::accuracy(&yt, &yp),
            c["accuracy"].as_f64().expect("v"),
        );
        close(
            "balanced_accuracy",
            name,
            metrics::balanced_accuracy(&yt, &yp),
            c["balanced_accuracy"].as_f64().expect("v"),
        );
        close(
            "log_loss",
            name,
            metrics::log_loss(&yt, proba.view()),
            c["log_loss"].as_f64().expect("v"),
        );
        close(
            "brier",
            name,
            metrics::brier(&yt, proba.view()),
            c["brier"].as_f64().expect("v"),
        );
        let cm = metrics::confusion_matrix(&yt, &yp, k);
        let want: Vec<Vec<u64>> = serde_json::from_value(c["confusion"].clone()).expect("cm");
        assert_eq!(
            cm.rows()
                .into_iter()
                .map(|r| r.to_vec())
                .collect::<Vec<_>>(),
            want,
            "{name}: confusion"
        );

        let mut averages = vec![
            ("macro", Average::Macro),
            ("micro", Average::Micro),
            ("weighted", Average::Weighted),
        ];
        if k == 2 {
            averages.push(("binary", Average::Binary { pos_label: 1 }));
        }
        for (tag, avg) in averages {
            let (p, r, f) = metrics::precision_recall_f1(&yt, &yp, avg);
            close(
                &format!("precision_{tag}"),
                name,
                p,
                c[format!("precision_{tag}")].as_f64().expect("v"),
            );
            close(
                &format!("recall_{tag}"),
                name,
                r,
                c[format!("recall_{tag}")].as_f64().expect("v"),
            );
            close(
                &format!("f1_{tag}"),
                name,
                f,
                c[format!("f1_{tag}")].as_f64().expect("v"),
            );
        }

        let auc = metrics::roc_auc_ovr(&yt, proba.view());
        match c["roc_auc"].as_f64() {
            Some(want) => close("roc_auc", name, auc.expect("defined"), want),
            None => assert_eq!(auc, None, "{name}: ROC-AUC must be undefined"),
        }
        if k == 2 {
            let pos: Vec<bool> = yt.iter().map(|&y| y == 1).collect();
            let s = proba.column(1).to_vec();
            close(
                "average_precision",
                name,
                metrics::average_precision(&pos, &s),
                c["average_precision"].as_f64().expect("v"),
            );
            let pr = metrics::pr_curve(&pos, &s);
            assert_eq!(
                pr.precision,
                floats(&c["pr_curve"]["precision"]),
                "{name}: PR precision"
            );
            assert_eq!(
                pr.recall,
                floats(&c["pr_curve"]["recall"]),
                "{name}: PR recall"
            );
            let mut thr = pr.thresholds.clone();
            thr.reverse();
            let mut want_thr = floats(&c["pr_curve"]["thresholds"]);
            want_thr.sort_by(f64::total_cmp);
            thr.sort_by(f64::total_cmp);
            assert_eq!(thr, want_thr, "{name}: PR thresholds");
            if let Some(rc) = c.get("roc_curve") {
                let got = metrics::roc_curve(&pos, &s).expect("defined");
                assert_eq!(got.fpr, floats(&rc["fpr"]), "{name}: ROC fpr");
                assert_eq!(got.tpr, floats(&rc["tpr"]), "{name}: ROC tpr");
                assert_eq!(
                    got.thresholds,
                    floats(&rc["thresholds"]),
                    "{name}: ROC thresholds"
                );
            }
        }
    }
}
