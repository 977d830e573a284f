//! Next-item models on sessions whose next click is known by construction: a cycle `i → i+1 mod n`
//! with a little noise. The Markov chain and the GRU network must find it; popularity cannot; the
//! protocol and the metrics follow their definitions; training is deterministic for a seed.

use cartseq_models::nextitem::{
    evaluate, ItemKnn, MarkovChain, MostPopular, NextItemLoss, NextItemModel, ScoreSink, SessionKnn,
};
use cartseq_models::nextitem::{Gru4RecModel, Gru4RecParams};
use cartseq_models::nn::CellKind;
use cartseq_models::Sequences;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(crate) const N: usize = 30;

pub(crate) fn cyclic_sessions(n_sessions: usize, seed: u64) -> Sequences {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut s = Sequences {
        tokens: Vec::new(),
        offsets: vec![0],
        vocab: N,
    };
    for _ in 0..n_sessions {
        let len = rng.gen_range(2..8);
        let mut cur = rng.gen_range(0..N);
        for _ in 0..len {
            s.tokens.push(cur as u32);
            // 90 % follow the cycle, 10 % jump anywhere.
            cur = if rng.gen_bool(0.9) {
                (cur + 1) % N
            } else {
                rng.gen_range(0..N)
            };
        }
        s.offsets.push(s.tokens.len());
    }
    s
}

fn small_net(cell: CellKind, loss: NextItemLoss) -> Gru4RecParams {
    let mut p = Gru4RecParams::new(cell);
    p.embed_dim = 16;
    p.hidden = vec![16];
    p.epochs = 6;
    p.lr = 0.01;
    p.batch_size = 16;
    p.dropout_hidden = 0.0;
    p.loss = loss;
    p
}

#[test]
fn baselines_and_networks_find_the_cycle() {
    let train = cyclic_sessions(800, 1);
    let test = cyclic_sessions(200, 2);
    let pop = evaluate(&MostPopular::fit(&train), &test, &[1, 5]);
    let markov = evaluate(&MarkovChain::fit(&train), &test, &[1, 5]);
    let iknn = evaluate(&ItemKnn::fit(&train, 100, 20.0), &test, &[1, 5]);
    let sknn = evaluate(&SessionKnn::fit(&train, 100, 500), &test, &[1, 5]);
    assert!(markov.recall[0] > 0.8, "markov R@1 {}", markov.recall[0]);
    assert!(pop.recall[1] < 0.4, "pop R@5 {}", pop.recall[1]);
    assert!(iknn.recall[1] > 0.8, "iknn R@5 {}", iknn.recall[1]);
    // Session-kNN ignores order (neighbours also vote for the items before the current one).
    assert!(sknn.recall[1] > 0.5, "sknn R@5 {}", sknn.recall[1]);
    assert_eq!(markov.predictions, (test.tokens.len() - test.len()) as u64);
    for (cell, loss) in [
        (CellKind::Gru, NextItemLoss::Full),
        (
            CellKind::Lstm,
            NextItemLoss::Sampled {
                n_sample: 8,
                alpha: 0.75,
            },
        ),
        (CellKind::Rnn, NextItemLoss::Full),
    ] {
        let m = small_net(cell, loss)
            .check()
            .expect("valid")
            .fit(&train, Some(&test), &mut |_| {})
            .expect("fits");
        let r = evaluate(&m, &test, &[1, 5]);
        assert!(r.recall[1] > 0.8, "{} R@5 {}", cell.name(), r.recall[1]);
        assert!(!m.history.is_empty() && m.history.iter().all(|h| h.valid_metric.is_some()));
        let e = m.session_embeddings(&test);
        assert_eq!(e.dim(), (test.len(), 16));
    }
}

#[test]
fn metrics_follow_their_definition() {
    // A model that always scores item 0 highest, then 1, 2, …
    struct Fixed;
    impl NextItemModel for Fixed {
        fn name(&self) -> String {
            "fixed".into()
        }
        fn n_items(&self) -> usize {
            4
        }
        fn score_prefixes(&self, s: &Sequences, rows: &[usize], sink: ScoreSink<'_>) {
            for &r in rows {
                for t in 0..s.row(r).len() - 1 {
                    sink(r, t, &[4.0, 3.0, 2.0, 1.0]);
                }
            }
        }
    }
    // Targets: 1 (rank 2), 0 (rank 1), 3 (rank 4); the one-click session is not evaluated.
    let test = Sequences {
        tokens: vec![2, 1, 0, 3, 3],
        offsets: vec![0, 4, 5],
        vocab: 4,
    };
    let m = evaluate(&Fixed, &test, &[1, 2, 3]);
    assert_eq!(m.predictions, 3);
    assert_eq!(m.sessions, 1);
    assert!((m.recall[0] - 1.0 / 3.0).abs() < 1e-12);
    assert!((m.recall[1] - 2.0 / 3.0).abs() < 1e-12);
    assert!((m.recall[2] - 2.0 / 3.0).abs() < 1e-12);
    assert!((m.mrr[1] - (1.0 + 0.5) / 3.0).abs() < 1e-12);
}

#[test]
fn training_is_deterministic_and_saves() {
    let train = cyclic_sessions(200, 3);
    let fit = || {
        small_net(CellKind::Gru, NextItemLoss::Full)
            .check()
            .expect("valid")
            .fit(&train, None, &mut |_| {})
    };
    let (a, b) = (fit().expect("fits"), fit().expect("fits"));
    assert_eq!(a.out, b.out);
    assert_eq!(a.layers, b.layers);
    let mut buf = Vec::new();
    a.save(&mut buf).expect("saves");
    let back = Gru4RecModel::load(&buf[..]).expect("loads");
    assert_eq!(
        back.session_embeddings(&train),
        a.session_embeddings(&train)
    );
    assert!(Gru4RecModel::load(&b"{}"[..]).is_err());
    let mut bad = small_net(CellKind::Gru, NextItemLoss::Full);
    bad.embed_dim = 8; // tied embeddings need embed = hidden
    assert!(bad.check().is_err());
}
