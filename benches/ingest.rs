//! Ingestion throughput: Taobao-shaped rows → EventLog (`read_events`, the block-parallel fast road
//! for Taobao), → SequenceDb (`build_sequences`), SequenceDb → SPMF text (`write_spmf`), and the whole of
//! `convert` without the file system (`convert`: read, build, write SPMF to a sink), on a seeded
//! in-memory log of 200,000 rows (same shape as benches/gen_taobao.py), plus the real shared Taobao
//! slice when ../shared is present. Reports rows/s via criterion's throughput. Run it with
//! `RAYON_NUM_THREADS=1` to see one core.

#![allow(missing_docs)] // criterion_group! generates an undocumented public function

use std::hint::black_box;

use cartseq_data::input::LineReader;
use cartseq_data::presets::{read_events_from, Preset, PresetConfig};
use cartseq_data::spmf::{write_spmf_shifted, SPMF_TOKEN_SHIFT};
use cartseq_data::{build_sequences, read_sequences_from, Dictionary, OnError, SequenceOptions};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};

fn synthetic(rows: usize, seed: u64) -> Vec<u8> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let behaviors = [
        "pv", "pv", "pv", "pv", "pv", "pv", "pv", "pv", "cart", "fav", "buy",
    ];
    let mut out = Vec::with_capacity(rows * 34);
    let mut user = 1u64;
    let mut left = 0;
    for _ in 0..rows {
        if left == 0 {
            user += rng.gen_range(1..4);
            left = rng.gen_range(1..200);
        }
        left -= 1;
        let item: u64 = (4_000_000f64.powf(rng.gen::<f64>().powf(1.6))) as u64 + 1;
        let cat = item * 2_654_435_761 % 4_294_967_296 % 9400 * 113 + 1000;
        let b = behaviors[rng.gen_range(0..behaviors.len())];
        let ts = 1_511_539_200 + rng.gen_range(0..777_600);
        out.extend_from_slice(format!("{user},{item},{cat},{b},{ts}\n").as_bytes());
    }
    out
}

fn bench(c: &mut Criterion) {
    let mut inputs = vec![("synthetic_200k".to_string(), synthetic(200_000, 7))];
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/taobao_userbehavior/UserBehavior_head.csv");
    match std::fs::read(&shared) {
        Ok(b) => inputs.push(("taobao_shared_84k".to_string(), b)),
        Err(_) => eprintln!(
            "skipping the shared Taobao file: {} absent",
            shared.display()
        ),
    }
    let cfg = PresetConfig::new(Preset::Taobao);
    let mut g = c.benchmark_group("ingest");
    g.sample_size(10);
    for (name, bytes) in &inputs {
        let rows = bytes.iter().filter(|b| **b == b'\n').count() as u64;
        g.throughput(Throughput::Elements(rows));
        g.bench_function(format!("read_events/{name}"), |b| {
            b.iter(|| {
                let mut dict = Dictionary::new();
                let mut lines = LineReader::new(&bytes[..], "bench", false);
                let r = read_events_from(&mut lines, &cfg, OnError::Fail, &mut dict, &mut |_| {});
                black_box(r.map(|(log, _)| log.len()).unwrap_or(0))
            })
        });
        let mut dict = Dictionary::new();
        let mut lines = LineReader::new(&bytes[..], "bench", false);
        let log = match read_events_from(&mut lines, &cfg, OnError::Fail, &mut dict, &mut |_| {}) {
            Ok((log, _)) => log,
            Err(e) => panic!("bench input must parse: {e}"),
        };
        let opts = SequenceOptions::default();
        g.bench_function(format!("build_sequences/{name}"), |b| {
            b.iter(|| {
                let mut d = dict.clone();
                black_box(
                    build_sequences(&log, &mut d, &opts)
                        .map(|db| db.len())
                        .unwrap_or(0),
                )
            })
        });
        let mut d = dict.clone();
        let db = match build_sequences(&log, &mut d, &opts) {
            Ok(db) => db,
            Err(e) => panic!("bench input must build: {e}"),
        };
        g.bench_function(format!("write_spmf/{name}"), |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(bytes.len());
                black_box(write_spmf_shifted(&db, &mut out, SPMF_TOKEN_SHIFT).map(|()| out.len()))
            })
        });
        g.bench_function(format!("convert/{name}"), |b| {
            b.iter(|| {
                let mut dict = Dictionary::new();
                let mut lines = LineReader::new(&bytes[..], "bench", false);
                let r = read_sequences_from(
                    &mut lines,
                    &cfg,
                    OnError::Fail,
                    &mut dict,
                    &opts,
                    &mut |_| {},
                );
                let db = match r {
                    Ok((db, _)) => db,
                    Err(e) => panic!("bench input must convert: {e}"),
                };
                let mut out = std::io::sink();
                black_box(write_spmf_shifted(&db, &mut out, SPMF_TOKEN_SHIFT).is_ok())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
