//! SR-GNN and SASRec on sessions whose next click is known by construction (the cycle of
//! `nn_nextitem`): both must find it; training is byte-identical for a seed whatever the number of
//! threads; models save and load; bad parameters are refused.

use cartseq_models::nextitem::{
    evaluate, MarkovChain, NetTraining, NextItemModel, SasRecModel, SasRecParams, SrGnnModel,
    SrGnnParams,
};
use cartseq_models::Sequences;

use crate::nn_nextitem::cyclic_sessions;

fn small_srgnn() -> SrGnnParams {
    let d = SrGnnParams::default();
    SrGnnParams {
        dim: 16,
        training: NetTraining {
            batch_size: 32,
            epochs: 3,
            lr: 0.01,
            ..d.training
        },
        ..d
    }
}

fn small_sasrec() -> SasRecParams {
    SasRecParams {
        dim: 16,
        heads: 2,
        max_len: 5,
        dropout: 0.1,
        training: NetTraining {
            lr: 0.01,
            ..NetTraining::adam(32, 6)
        },
        ..SasRecParams::default()
    }
}

pub(crate) fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool")
        .install(f)
}

#[test]
fn session_networks_find_the_cycle() {
    let train = cyclic_sessions(600, 1);
    let test = cyclic_sessions(150, 2);
    let markov = evaluate(&MarkovChain::fit(&train), &test, &[1, 5]);
    let srgnn = small_srgnn()
        .check()
        .expect("valid")
        .fit(&train, Some(&test), &mut |_| {})
        .expect("fits");
    let sasrec = small_sasrec()
        .check()
        .expect("valid")
        .fit(&train, None, &mut |_| {})
        .expect("fits");
    for m in [&srgnn as &dyn NextItemModel, &sasrec] {
        let r = evaluate(m, &test, &[1, 5]);
        assert!(
            r.recall[1] > 0.8 && r.recall[0] > markov.recall[0] - 0.1,
            "{}: R@1 {} R@5 {} (markov R@1 {})",
            m.name(),
            r.recall[0],
            r.recall[1],
            markov.recall[0]
        );
    }
    // With validation sessions the history records Recall@20 and the best epoch is kept.
    assert!(srgnn.history.iter().all(|e| e.valid_metric.is_some()));
    assert!(srgnn.best_epoch >= 1 && srgnn.best_epoch <= srgnn.history.len());
}

#[test]
fn session_networks_are_deterministic_for_any_thread_count() {
    let train = cyclic_sessions(120, 3);
    let test = cyclic_sessions(40, 4);
    let fit = |threads| {
        in_pool(threads, || {
            let mut p = small_srgnn();
            p.training.epochs = 2;
            let g = p.check().expect("valid").fit(&train, None, &mut |_| {});
            let mut q = small_sasrec();
            q.training.epochs = 2;
            let s = q.check().expect("valid").fit(&train, None, &mut |_| {});
            let (mut g, mut s) = (g.expect("fits"), s.expect("fits"));
            let metrics = (evaluate(&g, &test, &[5, 20]), evaluate(&s, &test, &[5, 20]));
            // Wall-clock seconds are the only field allowed to differ.
            for e in g.history.iter_mut().chain(s.history.iter_mut()) {
                e.seconds = 0.0;
            }
            let mut bytes = (Vec::new(), Vec::new());
            g.save(&mut bytes.0).expect("saves");
            s.save(&mut bytes.1).expect("saves");
            (bytes, metrics)
        })
    };
    let (one, two) = (fit(1), fit(2));
    // Compared as booleans: a failure should not print megabytes of JSON.
    assert!(one.0 == two.0, "weights differ between 1 and 2 threads");
    assert_eq!(one.1, two.1, "metrics differ between 1 and 2 threads");
    let again = fit(2);
    assert!(one.0 == again.0, "weights differ between two runs");
    // Round trip.
    let g = SrGnnModel::load(&one.0 .0[..]).expect("loads");
    let s = SasRecModel::load(&one.0 .1[..]).expect("loads");
    assert_eq!(evaluate(&g, &test, &[5, 20]), one.1 .0);
    assert_eq!(evaluate(&s, &test, &[5, 20]), one.1 .1);
    assert!(SrGnnModel::load(&one.0 .1[..]).is_err(), "kind is checked");
    assert!(SasRecModel::load(&b"{}"[..]).is_err());
}

#[test]
fn session_networks_refuse_bad_parameters_and_data() {
    assert!(SrGnnParams {
        steps: 0,
        ..SrGnnParams::default()
    }
    .check()
    .is_err());
    let mut zero_rate = SrGnnParams::default();
    zero_rate.training.lr = 0.0;
    assert!(zero_rate.check().is_err());
    assert!(SasRecParams {
        dim: 50,
        heads: 3,
        ..SasRecParams::default()
    }
    .check()
    .is_err());
    assert!(SasRecParams {
        dropout: 1.0,
        ..SasRecParams::default()
    }
    .check()
    .is_err());
    let single = Sequences {
        tokens: vec![0, 1],
        offsets: vec![0, 1, 2],
        vocab: 2,
    };
    let err = SasRecParams::default()
        .check()
        .expect("valid")
        .fit(&single, None, &mut |_| {})
        .expect_err("no transition");
    assert!(err.to_string().contains("two or more clicks"), "{err}");
}

#[test]
fn long_sessions_are_scored_in_windows() {
    // Sessions longer than max_len: every prefix is still scored exactly once, in order.
    let train = cyclic_sessions(100, 5);
    let mut p = small_sasrec();
    p.max_len = 3;
    p.training.epochs = 1;
    let m = p
        .check()
        .expect("valid")
        .fit(&train, None, &mut |_| {})
        .expect("fits");
    let long = Sequences {
        tokens: (0..9).collect(),
        offsets: vec![0, 9],
        vocab: 30,
    };
    let mut seen = Vec::new();
    m.score_prefixes(&long, &[0], &mut |r, t, s| {
        assert_eq!(s.len(), 30);
        seen.push((r, t));
    });
    seen.sort_unstable();
    assert_eq!(seen, (0..8).map(|t| (0, t)).collect::<Vec<_>>());
    // The prediction after click 5 uses only clicks 3..=5: changing click 0 leaves it unchanged.
    let mut changed = long.clone();
    changed.tokens[0] = 20;
    let grab = |s: &Sequences| {
        let mut v = Vec::new();
        m.score_prefixes(s, &[0], &mut |_, t, sc| {
            if t == 5 {
                v = sc.to_vec();
            }
        });
        v
    };
    assert_eq!(grab(&long), grab(&changed));
}
