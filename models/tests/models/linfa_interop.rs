//! linfa interop (feature `linfa`): a linfa-logistic base stacked next to cartseq's GBDT fits,
//! predicts with a sane ROC-AUC and is deterministic; cartseq specs fit on linfa datasets and
//! predict through linfa's traits.

use cartseq_models::ensemble::{Folds, Stacking};
use cartseq_models::linfa::{dataset_to_linfa, predict_records, LinfaLearner};
use cartseq_models::{metrics, Classifier, Dataset, FittedModel, Learner, ModelError, ModelSpec};
use linfa::traits::{Fit, Predict};
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A linear signal (what logistic regression sees) plus an interaction (what boosted trees see).
fn data(n: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((n, 4), |_| rng.gen_range(-1.0..1.0));
    let y: Array1<usize> = x
        .rows()
        .into_iter()
        .map(|r| {
            let s = r[0] - 0.5 * r[1] + 1.5 * r[2] * r[3] + rng.gen_range(-0.4..0.4);
            usize::from(s > 0.0)
        })
        .collect();
    Dataset::new(x, y, 2).unwrap()
}

fn linfa_logistic() -> Box<dyn Learner> {
    Box::new(
        LinfaLearner::new(
            "linfa-logreg",
            LogisticRegression::<f64>::default().max_iterations(200),
        )
        .with_proba(|m, x| {
            // linfa-logistic gives P(its positive class), which is the first label it met.
            let (p, pos) = (m.predict_probabilities(x), m.labels().pos.class);
            Array2::from_shape_fn(
                (x.nrows(), 2),
                |(i, c)| {
                    if c == pos {
                        p[i]
                    } else {
                        1.0 - p[i]
                    }
                },
            )
        }),
    )
}

fn auc(m: &FittedModel, test: &Dataset) -> f64 {
    let p = m.predict_proba(test).unwrap();
    metrics::roc_auc_ovr(&test.y.to_vec(), p.view()).unwrap()
}

#[test]
fn a_linfa_base_stacks_next_to_cartseq_gbdt() {
    let (train, test) = (data(1500, 1), data(600, 2));
    let gbdt = ModelSpec::from_cli("gbdt", &["n_estimators=60"]).unwrap();
    let stack = || {
        Stacking::new(
            vec![linfa_logistic(), Box::new(gbdt.clone())],
            Box::new(ModelSpec::from_cli::<&str>("logreg", &[]).unwrap()),
        )
        .folds(Folds::Stratified { k: 4, seed: 5 })
    };
    let model = stack().fit_model(&train).unwrap();
    let (a_stack, a_gbdt) = (auc(&model, &test), auc(&gbdt.fit(&train).unwrap(), &test));
    let a_linfa = auc(&linfa_logistic().fit_model(&train).unwrap(), &test);
    assert!(a_linfa > 0.65, "linfa logistic alone: {a_linfa}");
    assert!(a_stack > 0.85, "stack: {a_stack}");
    assert!(a_stack >= a_gbdt - 0.02, "stack {a_stack} vs gbdt {a_gbdt}");
    assert_eq!(stack().name(), "stack(linfa-logreg+gbdt->logreg)");
    // Deterministic: the same stack fitted again predicts the same bits.
    let again = stack().fit_model(&train).unwrap();
    assert_eq!(
        model.predict_proba(&test).unwrap(),
        again.predict_proba(&test).unwrap()
    );
    // A linfa member predicts but cannot be saved.
    let mut buf = Vec::new();
    let e = model.save(&mut buf).err().map(|e| e.to_string());
    assert!(e.is_some_and(|e| e.contains("cannot be saved")));
}

#[test]
fn a_linfa_model_without_probabilities_gives_one_hot_rows() {
    let (train, test) = (data(400, 3), data(50, 4));
    let learner = LinfaLearner::new("linfa-logreg-labels", LogisticRegression::<f64>::default());
    let m = learner.fit_model(&train).unwrap();
    let p = m.predict_proba(&test).unwrap();
    assert!(p.iter().all(|&v| v == 0.0 || v == 1.0));
    assert!(p.rows().into_iter().all(|r| r.sum() == 1.0));
    // The input check applies to linfa models too.
    let narrow = Dataset::new(
        test.x.slice(ndarray::s![.., ..2]).to_owned(),
        test.y.clone(),
        2,
    )
    .unwrap();
    assert!(matches!(
        m.predict_proba(&narrow),
        Err(ModelError::Input(_))
    ));
}

#[test]
fn cartseq_specs_fit_and_predict_through_linfa_traits() {
    let (train, test) = (data(800, 5), data(200, 6));
    let mut linfa_train = dataset_to_linfa(&train);
    let spec = ModelSpec::from_cli("rf", &["n_trees=20", "seed=3"]).unwrap();
    let model: FittedModel = Fit::fit(&spec, &linfa_train).unwrap();
    let ours = spec.fit(&train).unwrap();
    let labels: Array1<usize> = Predict::predict(&model, &test.x);
    assert_eq!(labels, Classifier::predict(&ours, &test).unwrap());
    let proba: Array2<f64> = Predict::predict(&model, &test.x);
    assert_eq!(proba, ours.predict_proba(&test).unwrap());
    assert_eq!(predict_records(&model, &test.x).unwrap(), proba);
    // linfa's weights are honoured: doubling the weight of every positive row moves the forest.
    let w: Array1<f32> = train.y.mapv(|c| if c == 1 { 2.0 } else { 1.0 });
    linfa_train = linfa_train.with_weights(w);
    let weighted: FittedModel = Fit::fit(&spec, &linfa_train).unwrap();
    let pw: Array2<f64> = Predict::predict(&weighted, &test.x);
    assert_ne!(pw, proba);
    assert!(pw.column(1).sum() > proba.column(1).sum());
    // A sequence model cannot be fed from linfa (no token sequences): an error, not a panic.
    let lstm = ModelSpec::from_cli::<&str>("lstm", &[]).unwrap();
    assert!(Fit::fit(&lstm, &dataset_to_linfa(&train)).is_err());
}
