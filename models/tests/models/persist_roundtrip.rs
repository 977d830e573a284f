//! Save/load round-trips of every model of the catalog (predictions bit-identical after loading), weighted
//! and class-weighted fits, probability sanity, and clear errors on wrong or corrupt files.

use cartseq_models::ensemble::{Bagging, Folds, Stacking, VoteKind, Voting};
use cartseq_models::persist::{load_any, Persist};
use cartseq_models::tree::DecisionTree;
use cartseq_models::{Classifier, Dataset, FittedModel, Learner, ModelError, ModelSpec};
use ndarray::{Array1, Array2};

use crate::support::{data, is_nn, quick_nn};

#[test]
fn every_model_round_trips_bit_identically() {
    for k in [2, 3] {
        let train = data(600, k, 1);
        let test = data(200, k, 2);
        for info in ModelSpec::catalog() {
            let extras: Vec<Vec<String>> = if is_nn(info.name) {
                vec![quick_nn(info.name, 2, 8, 4)]
            } else {
                vec![vec![], vec!["class_weight=balanced".into()]]
            };
            for extra in &extras {
                let learner = ModelSpec::from_cli(info.name, extra).unwrap();
                let model = learner
                    .fit(&train)
                    .unwrap_or_else(|e| panic!("{} k={k}: {e}", info.name));
                let p = model.predict_proba(&test).unwrap();
                assert_eq!(p.dim(), (200, k));
                for r in p.rows() {
                    assert!(
                        (r.sum() - 1.0).abs() < 1e-9,
                        "{}: row sums to {}",
                        info.name,
                        r.sum()
                    );
                    assert!(
                        r.iter().all(|&v| (0.0..=1.0).contains(&v)),
                        "{}: {r}",
                        info.name
                    );
                }
                let mut buf = Vec::new();
                model.save(&mut buf).unwrap();
                let head = String::from_utf8_lossy(&buf[..80.min(buf.len())]).to_string();
                assert!(
                    head.starts_with("{\"magic\":\"cartseq-model\",\"format_version\":1,\"kind\":"),
                    "{head}"
                );
                let back = load_any(&buf[..]).unwrap();
                assert_eq!(
                    back.predict_proba(&test).unwrap(),
                    p,
                    "{} k={k}: predictions changed after load",
                    info.name
                );
            }
        }
    }
}

#[test]
fn ensembles_round_trip_bit_identically() {
    let train = data(500, 2, 11);
    let test = data(150, 2, 12);
    let l =
        |n: &str| -> Box<dyn Learner> { Box::new(ModelSpec::from_cli::<&str>(n, &[]).unwrap()) };
    let nn = || -> Box<dyn Learner> {
        Box::new(ModelSpec::from_cli("gru", &["epochs=2", "hidden=8"]).unwrap())
    };
    let ensembles: Vec<(&str, Box<dyn Learner>)> = vec![
        (
            "stack",
            Box::new(
                Stacking::new(vec![l("rf"), l("logreg"), nn()], l("logreg"))
                    .folds(Folds::Stratified { k: 3, seed: 1 }),
            ),
        ),
        (
            "stack-gbdt-meta",
            Box::new(Stacking::new(vec![l("dt"), l("gnb")], l("gbdt")).passthrough(true)),
        ),
        (
            "vote",
            Box::new(Voting::new(vec![l("dt"), l("gnb"), nn()], VoteKind::Soft)),
        ),
        (
            "vote-hard",
            Box::new(Voting::new(vec![l("dt"), l("gnb")], VoteKind::Hard)),
        ),
        (
            "bag",
            Box::new(Bagging::new(l("dt")).n_estimators(4).seed(3)),
        ),
    ];
    for (name, learner) in ensembles {
        let model = learner.fit_model(&train).unwrap();
        let p = model.predict_proba(&test).unwrap();
        let mut buf = Vec::new();
        model.save(&mut buf).unwrap();
        let back = load_any(&buf[..]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            back.predict_proba(&test).unwrap(),
            p,
            "{name}: changed after load"
        );
        // A damaged member is reported, not a panic.
        let text = String::from_utf8(buf).unwrap();
        let broken = text.replacen("\"kind\":\"dt\"", "\"kind\":\"zz\"", 1);
        if broken != text {
            let e = load_any(broken.as_bytes()).err().unwrap().to_string();
            assert!(e.contains("zz"), "{name}: {e}");
        }
    }
}

#[test]
fn good_models_beat_the_prior() {
    let train = data(1500, 2, 3);
    let test = data(500, 2, 4);
    let y = test.y.to_vec();
    let auc = |name: &str| {
        let m = ModelSpec::from_cli::<&str>(name, &[])
            .unwrap()
            .fit(&train)
            .unwrap();
        cartseq_models::metrics::roc_auc_ovr(&y, m.predict_proba(&test).unwrap().view()).unwrap()
    };
    let prior = auc("prior");
    assert_eq!(prior, 0.5);
    // The label has an interaction (r1 · r2): boosted stumps are additive and score lower.
    for (name, floor) in [
        ("dt", 0.8),
        ("rf", 0.8),
        ("ada", 0.7),
        ("gbdt", 0.8),
        ("svm", 0.8),
        ("logreg", 0.7),
    ] {
        let a = auc(name);
        assert!(a > floor, "{name}: ROC-AUC {a}");
    }
}

#[test]
fn perfectly_separable_data_is_predicted_correctly() {
    let x = Array2::from_shape_fn((200, 2), |(i, j)| {
        if j == 0 {
            i as f64
        } else {
            ((i * 37) % 11) as f64
        }
    });
    let y: Array1<usize> = (0..200).map(|i| usize::from(i >= 100)).collect();
    let ds = Dataset::new(x, y.clone(), 2).unwrap();
    for info in ModelSpec::catalog() {
        if matches!(info.name, "prior" | "bnb") || is_nn(info.name) {
            continue;
        }
        let params: &[&str] = if info.name == "logreg" {
            &["c=100"]
        } else {
            &[]
        };
        let m = ModelSpec::from_cli(info.name, params)
            .unwrap()
            .fit(&ds)
            .unwrap();
        let acc = cartseq_models::metrics::accuracy(&y.to_vec(), &m.predict(&ds).unwrap().to_vec());
        assert!(acc >= 0.99, "{}: accuracy {acc}", info.name);
    }
}

#[test]
fn bad_files_are_refused_clearly() {
    let ds = data(100, 2, 5);
    let m = DecisionTree::params().max_depth(Some(3)).fit(&ds).unwrap();
    let mut buf = Vec::new();
    m.save(&mut buf).unwrap();
    let text = String::from_utf8(buf.clone()).unwrap();

    let msg = |r: Result<FittedModel, ModelError>| match r {
        Err(ModelError::BadFile(m)) => m,
        Err(e) => panic!("expected BadFile, got {e}"),
        Ok(_) => panic!("expected an error"),
    };
    assert!(msg(load_any(&b"hello"[..])).contains("not valid JSON"));
    assert!(msg(load_any(&buf[..buf.len() / 2])).contains("not valid JSON"));
    assert!(msg(load_any(
        text.replace("cartseq-model", "other-model").as_bytes()
    ))
    .contains("magic"));
    assert!(msg(load_any(
        text.replace("\"format_version\":1", "\"format_version\":99")
            .as_bytes()
    ))
    .contains("version 99"));
    assert!(msg(load_any(
        text.replace("\"kind\":\"dt\"", "\"kind\":\"zz\"")
            .as_bytes()
    ))
    .contains("unknown model kind"));
    assert!(
        msg(load_any(text.replace("\"nodes\"", "\"nodez\"").as_bytes()))
            .contains("corrupt `dt` model")
    );
    // Typed load of the wrong kind.
    let rf = cartseq_models::forest::RandomForest::params()
        .n_trees(2)
        .fit(&ds)
        .unwrap();
    let mut rbuf = Vec::new();
    rf.save(&mut rbuf).unwrap();
    match DecisionTree::load(&rbuf[..]) {
        Err(ModelError::BadFile(m)) => assert!(m.contains("holds a `rf` model"), "{m}"),
        _ => panic!("wrong kind accepted"),
    }
    assert_eq!(DecisionTree::load(&buf[..]).unwrap(), m);
}

#[test]
fn sample_weights_equal_repeated_rows() {
    // Weight 2 on a row must fit the same tree and forest-free models as the row repeated twice.
    let ds = data(150, 2, 6);
    let mut unit = ds.clone();
    unit.weights = None;
    let idx: Vec<usize> = (0..150)
        .flat_map(|i| std::iter::repeat_n(i, 1 + i % 2))
        .collect();
    let repeated = unit.select(&idx);
    let mut weighted = unit.clone();
    weighted.weights = Some((0..150).map(|i| (1 + i % 2) as f64).collect());
    for name in ["dt", "gnb", "logreg", "prior", "ada", "bnb"] {
        let spec = ModelSpec::from_cli::<&str>(name, &[]).unwrap();
        let a = spec.fit(&weighted).unwrap();
        let b = spec.fit(&repeated).unwrap();
        let (pa, pb) = (
            a.predict_proba(&unit).unwrap(),
            b.predict_proba(&unit).unwrap(),
        );
        let diff = (&pa - &pb).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(
            diff < 1e-6,
            "{name}: weighted and repeated fits differ by {diff}"
        );
    }
}
