//! `cartseq compress`: a saved next-item network to int8 (optionally magnitude-pruned first), and the
//! side-by-side check of what it costs — Recall@k and MRR@k of both models on the same test sessions,
//! and the time to score one request (one session prefix, all items) with each.
//!
//! The quantisation itself is `cartseq_models::nextitem::QuantizedGru4Rec` (symmetric per-row int8,
//! i32 accumulation; its module docs give the format). Timing runs single-threaded on the same
//! prefixes, the two models interleaved round by round, and reports the median of the rounds.

use std::time::Instant;

use anyhow::bail;
use cartseq_models::nextitem::{
    evaluate, CompressOptions, NextItemFile, NextItemModel, QuantizedGru4Rec, SavedNextItem,
};
use cartseq_models::Sequences;
use serde::Serialize;

/// Compresses a saved network; other kinds are refused with the reason.
pub fn compress(file: &NextItemFile, opts: CompressOptions) -> anyhow::Result<NextItemFile> {
    let net = match &file.model {
        SavedNextItem::Rnn(m) | SavedNextItem::Lstm(m) | SavedNextItem::Gru(m) => m,
        SavedNextItem::Int8(_) => bail!("the model is already int8"),
        other => bail!(
            "only networks (gru, lstm, rnn) are quantised; this is a `{}` model, whose size is its \
             counts or neighbour lists",
            other.as_model().name()
        ),
    };
    let q = QuantizedGru4Rec::compress(net, opts)?;
    Ok(NextItemFile {
        model: SavedNextItem::Int8(q),
        items: file.items.clone(),
    })
}

/// One model's side of a comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Side {
    /// Recall@k.
    pub recall: f64,
    /// MRR@k.
    pub mrr: f64,
    /// Median microseconds to score one prefix (all items), single-threaded.
    pub micros_per_request: f64,
}

/// Both models on the same test sessions.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// The cut-off.
    pub k: usize,
    /// Predictions evaluated.
    pub predictions: u64,
    /// Prefixes timed per round.
    pub timed_requests: usize,
    /// The original model.
    pub original: Side,
    /// The compressed model.
    pub compressed: Side,
    /// Warnings about the metrics (too few predictions or test sessions).
    pub warnings: Vec<String>,
}

/// Evaluates `a` (original) and `b` (compressed) on `test` at cut-off `k`, and times scoring of up to
/// `requests` prefixes with each over `rounds` interleaved rounds.
pub fn compare(
    a: &dyn NextItemModel,
    b: &dyn NextItemModel,
    test: &Sequences,
    k: usize,
    requests: usize,
    rounds: usize,
) -> Comparison {
    let ma = evaluate(a, test, &[k]);
    let mb = evaluate(b, test, &[k]);
    let mut prefixes: Vec<&[u32]> = Vec::new();
    'outer: for r in 0..test.len() {
        let s = test.row(r);
        for t in 1..s.len() {
            if prefixes.len() == requests {
                break 'outer;
            }
            prefixes.push(&s[..t]);
        }
    }
    let mut times = [Vec::new(), Vec::new()];
    let mut scores = Vec::new();
    for _ in 0..rounds.max(1) {
        for (side, m) in [a, b].into_iter().enumerate() {
            let t0 = Instant::now();
            for p in &prefixes {
                m.score_session(p, &mut scores);
            }
            times[side].push(t0.elapsed().as_secs_f64() * 1e6 / prefixes.len().max(1) as f64);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Comparison {
        k,
        predictions: ma.predictions,
        warnings: cartseq_models::metrics::prediction_warnings(ma.predictions, ma.sessions),
        timed_requests: prefixes.len(),
        original: Side {
            recall: ma.recall[0],
            mrr: ma.mrr[0],
            micros_per_request: median(&mut times[0]),
        },
        compressed: Side {
            recall: mb.recall[0],
            mrr: mb.mrr[0],
            micros_per_request: median(&mut times[1]),
        },
    }
}
