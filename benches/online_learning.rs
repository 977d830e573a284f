//! Cost of online learning (`cartseq serve --learn-online`) per kind: µs to learn one click, µs to
//! score a session afterwards, and the saved file's size — on the Yoochoose 100k split:
//! the models are fitted on `train_tr` (what `nextitem --save-model` saves, default parameters), then
//! every evaluated `train_valid` session is learnt click by click as new live sessions (in file
//! order, each session's clicks before the next one's, with their times), then every prefix of those
//! sessions is scored by the updated model.
//!
//! Run: `cargo bench --bench online_learning` (`CARTSEQ_ONLINE_TRAIN`, `CARTSEQ_ONLINE_LIVE` change
//! the files; `CARTSEQ_ONLINE_ROUNDS` the repetitions, default 3, medians printed). Prints one
//! Markdown table row per kind, and the load average. Memory per learnt session is not measured here
//! (the growth of the resident set is within what the allocator already holds); its cost by
//! construction is in `models/src/nextitem/online.rs`.

use std::path::PathBuf;
use std::time::Instant;

use cartseq::nextitem::{fit_sr, DataSpec, Sessions, TestSet};
use cartseq_data::Preset;
use cartseq_models::nextitem::{
    MarkovChain, MostPopular, OnlineModel, SavedNextItem, SessionKnn, SrParams, VSessionKnn,
    VsknnParams,
};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/yoochoose/");
    let path = |var: &str, name: &str| {
        std::env::var(var).map_or_else(|_| PathBuf::from(data).join(name), PathBuf::from)
    };
    let train = path("CARTSEQ_ONLINE_TRAIN", "yoochoose-clicks-100k_train_tr.txt");
    let live = path(
        "CARTSEQ_ONLINE_LIVE",
        "yoochoose-clicks-100k_train_valid.txt",
    );
    if !train.exists() {
        println!("skipped: {} is absent", train.display());
        return;
    }
    let rounds: usize = std::env::var("CARTSEQ_ONLINE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let s = Sessions::load(&DataSpec {
        train,
        test: TestSet::File(live),
        preset: Preset::Yoochoose,
        min_item_support: None,
    })
    .expect("the split loads");
    let (t, times) = (&s.train, Some(&s.train_times[..]));
    let kinds: Vec<(&str, SavedNextItem)> = vec![
        ("pop", SavedNextItem::Pop(MostPopular::fit(t))),
        ("markov", SavedNextItem::Markov(MarkovChain::fit(t))),
        ("sknn", SavedNextItem::Sknn(SessionKnn::fit(t, 100, 500))),
        (
            "vsknn",
            SavedNextItem::Vsknn(VSessionKnn::fit(t, times, VsknnParams::default()).expect("fit")),
        ),
        (
            "sr",
            SavedNextItem::Sr(fit_sr(t, &SrParams::default()).expect("fit")),
        ),
    ];
    let live = &s.test;
    let keys: Vec<String> = (0..live.len()).map(|r| format!("v{r}")).collect();
    let clicks = live.tokens.len();
    println!(
        "Yoochoose 100k: {} training sessions, {} items; {} live sessions, {} clicks learnt, {} scorings per round",
        s.train.len(),
        s.n_items,
        live.len(),
        clicks,
        clicks
    );
    println!("| kind | µs / learnt click | µs / scoring (after learning) | model file (JSON) |");
    println!("|---|---|---|---|");
    for (name, saved) in &kinds {
        let file_bytes = serde_json::to_vec(saved).map_or(0, |v| v.len());
        let (mut learn, mut score) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let mut m = OnlineModel::from_saved(saved, 1_000_000).expect("learns online");
            let t0 = Instant::now();
            for (r, key) in keys.iter().enumerate().take(live.len()) {
                let row = live.row(r);
                let at = &s.test_times[live.offsets[r]..live.offsets[r + 1]];
                for (k, &i) in row.iter().enumerate() {
                    assert!(m.click(key, &row[..k], i, at[k]));
                }
            }
            learn.push(t0.elapsed().as_secs_f64() * 1e6 / clicks as f64);
            let mut scores = Vec::new();
            let t0 = Instant::now();
            for r in 0..live.len() {
                let row = live.row(r);
                for k in 1..=row.len() {
                    m.model().score_session(&row[..k], &mut scores);
                }
            }
            score.push(t0.elapsed().as_secs_f64() * 1e6 / clicks as f64);
            assert_eq!(scores.len(), m.model().n_items());
        }
        println!(
            "| {name} | {:.2} | {:.1} | {:.1} MB |",
            median(learn),
            median(score),
            file_bytes as f64 / 1e6
        );
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average: {}", load.trim());
}
