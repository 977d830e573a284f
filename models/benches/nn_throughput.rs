//! Training throughput of the sequence classifier (embedding → GRU/LSTM → dense softmax), for the
//! side-by-side with `benches/peers/nn_torch.py seqclf` and `nn_keras.py` (same file, sizes, batch).
//!
//! ```text
//! NN_SEQS=/tmp/seqs.tsv NN_CELL=gru cargo bench -p cartseq-models --bench nn_throughput
//! ```
//! The file holds `target<TAB>tok tok …` lines (`nn_torch.py make-seqs`). Without `NN_SEQS` a synthetic
//! file-free workload of the same shape is used (20,000 sequences of 1–10 tokens over 3,000 ids).
//! Prints one JSON object: seconds, sequences/s and tokens/s per epoch.

use std::time::Instant;

use cartseq_models::nn::{CellKind, SeqClassifierParams};
use cartseq_models::{Dataset, Sequences};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let (ys, seqs) = match std::env::var("NN_SEQS") {
        Ok(path) => {
            let text = std::fs::read_to_string(&path).expect("NN_SEQS is readable");
            let mut ys = Vec::new();
            let mut seqs = Vec::new();
            for line in text.lines() {
                let (y, x) = line.split_once('\t').expect("target<TAB>tokens");
                ys.push(y.parse::<usize>().expect("integer target"));
                seqs.push(
                    x.split(' ')
                        .map(|t| t.parse::<u32>().expect("integer token"))
                        .collect::<Vec<_>>(),
                );
            }
            (ys, seqs)
        }
        Err(_) => {
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            (0..20_000)
                .map(|_| {
                    let len = rng.gen_range(1..=10);
                    (
                        rng.gen_range(0..3000),
                        (0..len).map(|_| rng.gen_range(0..3000)).collect(),
                    )
                })
                .unzip()
        }
    };
    let classes = ys.iter().max().map_or(1, |m| m + 1);
    let vocab = seqs.iter().flatten().max().map_or(1, |&m| m as usize + 1);
    let mut s = Sequences::empty(vocab);
    for q in &seqs {
        s.push_row(q.iter().copied());
    }
    let tokens = s.tokens.len();
    let n = ys.len();
    let mut ds = Dataset::new(Array2::zeros((n, 0)), Array1::from(ys), classes).expect("dataset");
    ds.seqs = Some(s);
    let cell = CellKind::from_name(&std::env::var("NN_CELL").unwrap_or_else(|_| "gru".into()))
        .expect("gru|lstm|rnn");
    let epochs = env("NN_EPOCHS", 1);
    let learner = SeqClassifierParams::new(cell)
        .embed_dim(env("NN_EMBED", 64))
        .hidden(vec![env("NN_HIDDEN", 100)])
        .batch_size(env("NN_BATCH", 64))
        .epochs(epochs)
        .dropout(0.0)
        .valid_fraction(0.0)
        .max_len(1000)
        .check()
        .expect("valid params");
    let t0 = Instant::now();
    let mut recs = Vec::new();
    learner
        .fit_with(&ds, &mut |r| {
            recs.push(format!(
                "{{\"epoch\": {}, \"train_loss\": {:.5}, \"seconds\": {:.3}, \"sequences_per_s\": {:.1}, \"tokens_per_s\": {:.1}}}",
                r.epoch,
                r.train_loss,
                r.seconds,
                n as f64 / r.seconds,
                tokens as f64 / r.seconds
            ))
        })
        .expect("fits");
    println!(
        "{{\"tool\": \"cartseq\", \"cell\": \"{}\", \"sequences\": {n}, \"tokens\": {tokens}, \"classes\": {classes}, \"total_seconds\": {:.3}, \"epochs\": [{}]}}",
        cell.name(),
        t0.elapsed().as_secs_f64(),
        recs.join(", ")
    );
}
