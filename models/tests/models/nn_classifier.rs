//! The sequence classifiers learn order-dependent tasks, are deterministic for a seed, round-trip
//! through save/load, and refuse bad parameters and bad files clearly.

use cartseq_models::nn::{
    CellKind, LrSchedule, OptimizerKind, SeqClassifierModel, SeqClassifierParams,
};
use cartseq_models::{Classifier, Dataset, ModelError, Persist};
use ndarray::{Array1, Array2};
use rand::Rng;

use crate::support::sequence_task;

/// Label = first token mod 3: the model must carry the first token through the whole sequence.
fn first_token_task(n: usize, seed: u64) -> Dataset {
    sequence_task(n, seed, 9, 3, |rng| {
        let len = rng.gen_range(1..8);
        let first: u32 = rng.gen_range(0..9);
        let tokens = std::iter::once(first).chain((1..len).map(|_| rng.gen_range(0..9)));
        (tokens.collect(), first as usize % 3)
    })
}

fn accuracy(m: &dyn Classifier, ds: &Dataset) -> f64 {
    let pred = m.predict(ds).unwrap();
    pred.iter().zip(ds.y.iter()).filter(|(a, b)| a == b).count() as f64 / ds.nrows() as f64
}

#[test]
fn every_cell_learns_an_order_dependent_task() {
    let train = first_token_task(1500, 1);
    let test = first_token_task(300, 2);
    for cell in [CellKind::Rnn, CellKind::Lstm, CellKind::Gru] {
        let learner = SeqClassifierParams::new(cell)
            .embed_dim(8)
            .hidden(vec![16, 16])
            .epochs(25)
            .batch_size(32)
            .lr(0.01)
            .dropout(0.0)
            .patience(5)
            .check()
            .expect("valid params");
        let model = learner.fit(&train).expect("fits");
        let acc = accuracy(&model, &test);
        assert!(acc > 0.9, "{}: test accuracy {acc}", cell.name());
        let p = model.predict_proba(&test).unwrap();
        for row in p.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-5);
        }
    }
}

#[test]
fn binary_head_sgd_and_schedule_learn() {
    let mut ds = first_token_task(800, 3);
    ds.y.mapv_inplace(|c| usize::from(c == 0));
    ds.n_classes = 2;
    let model = SeqClassifierParams::new(CellKind::Gru)
        .embed_dim(8)
        .hidden(vec![16])
        .epochs(30)
        .lr(0.1)
        .batch_size(16)
        .optimizer(OptimizerKind::Sgd { momentum: 0.9 })
        .schedule(LrSchedule::Step {
            every: 10,
            gamma: 0.5,
        })
        .weight_decay(1e-5)
        .check()
        .expect("valid")
        .fit(&ds)
        .expect("fits");
    let mut test = first_token_task(300, 4);
    test.y.mapv_inplace(|c| usize::from(c == 0));
    test.n_classes = 2;
    assert!(
        accuracy(&model, &test) > 0.9,
        "accuracy {}",
        accuracy(&model, &test)
    );
    assert!(!model.history.is_empty());
    assert!(model.history.iter().all(|h| h.valid_loss.is_some()));
}

#[test]
fn same_seed_same_model_and_save_load_round_trip() {
    let ds = first_token_task(300, 5);
    let fit = || {
        SeqClassifierParams::new(CellKind::Lstm)
            .embed_dim(4)
            .hidden(vec![8])
            .epochs(3)
            .seed(7)
            .check()
            .expect("valid")
            .fit(&ds)
            .expect("fits")
    };
    let (a, b) = (fit(), fit());
    assert_eq!(a.net, b.net);
    assert_eq!(a.predict_proba(&ds).unwrap(), b.predict_proba(&ds).unwrap());
    let mut buf = Vec::new();
    a.save(&mut buf).expect("saves");
    let back = SeqClassifierModel::load(&buf[..]).expect("loads");
    assert_eq!(
        back.predict_proba(&ds).unwrap(),
        a.predict_proba(&ds).unwrap()
    );
    // Unseen tokens at prediction time share the out-of-vocabulary row instead of panicking.
    let mut odd = ds.select(&[0, 1]);
    if let Some(s) = odd.seqs.as_mut() {
        s.tokens[0] = 1000;
        s.vocab = 1001;
    }
    assert_eq!(a.predict_proba(&odd).unwrap().nrows(), 2);
}

#[test]
fn bad_files_and_params_are_refused() {
    for (bytes, want) in [
        (&b"not json"[..], "not valid JSON"),
        (&br#"{"magic":"other"}"#[..], "magic"),
        (
            &br#"{"magic":"cartseq-model","format_version":9,"kind":"lstm"}"#[..],
            "version",
        ),
        (
            &br#"{"magic":"cartseq-model","format_version":1,"kind":"rf","model":{}}"#[..],
            "`rf`",
        ),
        (
            &br#"{"magic":"cartseq-model","format_version":1,"kind":"gru","model":{}}"#[..],
            "corrupt",
        ),
    ] {
        match SeqClassifierModel::load(bytes) {
            Err(ModelError::BadFile(m)) => assert!(m.contains(want), "{m}"),
            other => panic!(
                "expected BadFile for {:?}, got {:?}",
                String::from_utf8_lossy(bytes),
                other.map(|_| ())
            ),
        }
    }
    assert!(SeqClassifierParams::new(CellKind::Gru)
        .dropout(1.0)
        .check()
        .is_err());
    assert!(SeqClassifierParams::new(CellKind::Gru)
        .hidden(vec![])
        .check()
        .is_err());
    assert!(SeqClassifierParams::new(CellKind::Gru)
        .lr(0.0)
        .check()
        .is_err());
    let no_seqs =
        Dataset::new(Array2::zeros((3, 1)), Array1::from(vec![0, 1, 0]), 2).expect("valid");
    let err = SeqClassifierParams::new(CellKind::Gru)
        .check()
        .expect("valid")
        .fit(&no_seqs);
    assert!(matches!(err, Err(ModelError::Data(_))));
}

/// Label = last token mod 3.
fn last_token_task(n: usize, seed: u64) -> Dataset {
    let mut ds = first_token_task(n, seed);
    let seqs = ds.seqs.as_ref().expect("has sequences");
    let y: Vec<usize> = (0..n)
        .map(|i| *seqs.row(i).last().expect("non-empty") as usize % 3)
        .collect();
    ds.y = Array1::from(y);
    ds
}

/// The `srgnn` and `sasrec` classifiers learn from the sequence (SASRec also the first token, which
/// needs its positions), are byte-identical for a seed, and round-trip through their files; a file
/// whose encoder does not fit its parameters is refused.
#[test]
fn session_encoders_learn_and_round_trip() {
    let quick = |p: SeqClassifierParams| {
        p.embed_dim(16)
            .epochs(20)
            .batch_size(32)
            .lr(0.01)
            .dropout(0.0)
            .patience(5)
    };
    let cases = [
        (
            "srgnn",
            quick(SeqClassifierParams::srgnn()).schedule(LrSchedule::Constant),
            last_token_task as fn(usize, u64) -> Dataset,
        ),
        (
            "sasrec",
            quick(SeqClassifierParams::sasrec()),
            last_token_task,
        ),
        (
            "sasrec",
            quick(SeqClassifierParams::sasrec()),
            first_token_task,
        ),
    ];
    for (name, params, task) in cases {
        let (train, test) = (task(1200, 11), task(300, 12));
        let learner = params.check().expect("valid params");
        let model = learner.fit(&train).expect("fits");
        let acc = accuracy(&model, &test);
        assert!(acc > 0.9, "{name}: test accuracy {acc}");
        assert_eq!(model.params.name(), name);
        let again = learner.fit(&train).expect("fits");
        let (mut a, mut b) = (Vec::new(), Vec::new());
        model.save(&mut a).expect("saves");
        again.save(&mut b).expect("saves");
        assert_eq!(a, b, "{name}: not deterministic");
        let text = String::from_utf8(a.clone()).expect("utf-8");
        assert!(text.contains(&format!("\"kind\":\"{name}\"")), "{name}");
        let back = SeqClassifierModel::load(&a[..]).expect("loads");
        assert_eq!(
            back.predict_proba(&test).unwrap(),
            model.predict_proba(&test).unwrap()
        );
        // The encoder must be what the parameters say.
        let other = if name == "srgnn" {
            "\"steps\":1"
        } else {
            "\"blocks\":2"
        };
        let bent = text.replacen(other, &other.replace(['1', '2'], "3"), 1);
        assert_ne!(bent, text);
        let e = SeqClassifierModel::load(bent.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains("corrupt") && e.contains(name), "{name}: {e}");
    }
}
