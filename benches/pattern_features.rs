//! Pattern-feature extraction throughput (sequences/s) with K = 100 and 1,000 patterns, on the Taobao
//! UserBehavior slice (one sequence per user, tokens `behavior:category`) and on a generated file of
//! 1,000,000 users (Zipf-popular items, 20 events on average, with timestamps).
//!
//! Patterns are sampled from the data itself (1–3 itemset subsequences of random sequences), so most of
//! them occur and the matcher does real work. Run: `cargo bench --bench pattern_features`
//! (`CARTSEQ_BENCH_USERS=N` changes the generated size). Prints one table row per (data, K) to stdout.

use std::collections::HashMap;
use std::time::Instant;

use cartseq_data::{ItemId, KeyId, SequenceDb, SequenceDbBuilder};
use cartseq_mining::discriminative::{PatternMatcher, Reference, SeqPattern};
use cartseq_mining::Limit;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn taobao() -> Option<SequenceDb> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/taobao_userbehavior/UserBehavior_head.csv"
    );
    let text = std::fs::read_to_string(path).ok()?;
    let mut tokens: HashMap<String, u32> = HashMap::new();
    let mut users: Vec<(u64, Vec<(i64, u32)>)> = Vec::new();
    let mut index: HashMap<u64, usize> = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 5 {
            continue;
        }
        let (Ok(u), Ok(t)) = (f[0].parse::<u64>(), f[4].parse::<i64>()) else {
            continue;
        };
        let n = tokens.len() as u32;
        let tok = *tokens.entry(format!("{}:{}", f[3], f[2])).or_insert(n);
        let slot = *index.entry(u).or_insert_with(|| {
            users.push((u, Vec::new()));
            users.len() - 1
        });
        users[slot].1.push((t, tok));
    }
    let mut b = SequenceDbBuilder::new(true);
    for (k, (_, mut ev)) in users.into_iter().enumerate() {
        ev.sort();
        for (t, tok) in ev {
            b.push_itemset(&[ItemId(tok)], Some(t)).ok()?;
        }
        b.end_sequence(KeyId(k as u32)).ok()?;
    }
    Some(b.build())
}

fn generated(users: usize) -> SequenceDb {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let n_items = 5_000u32;
    let mut b = SequenceDbBuilder::new(true);
    for u in 0..users {
        let len = 1 + rng.gen_range(0..40);
        let mut t = 1_511_000_000 + rng.gen_range(0..86_400 * 7);
        for _ in 0..len {
            // Zipf-like popularity: item = floor(n^(r^2)) concentrates mass on small ids.
            let r: f64 = rng.gen();
            let item = ((n_items as f64).powf(r * r) as u32).min(n_items - 1);
            let _ = b.push_itemset(&[ItemId(item)], Some(t));
            t += rng.gen_range(1..600);
        }
        let _ = b.end_sequence(KeyId(u as u32));
    }
    b.build()
}

fn sample_patterns(db: &SequenceDb, k: usize, seed: u64) -> Vec<SeqPattern> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(k);
    while out.len() < k {
        let s = db.sequence(rng.gen_range(0..db.len()));
        let len = 1 + rng.gen_range(0..3usize).min(s.len() - 1);
        let mut pos: Vec<usize> = (0..len).map(|_| rng.gen_range(0..s.len())).collect();
        pos.sort_unstable();
        pos.dedup();
        let sets = pos.iter().map(|&p| s.itemset(p).to_vec()).collect();
        if let Ok(p) = SeqPattern::new(sets) {
            out.push(p);
        }
    }
    out
}

fn run(name: &str, db: &SequenceDb) {
    for k in [100usize, 1000] {
        let pats = sample_patterns(db, k, k as u64);
        let m = PatternMatcher::new(
            &pats,
            Limit {
                positions: None,
                time: Some(86_400),
            },
            Reference::SequenceEnd,
        )
        .expect("valid patterns");
        // Chunks of 100k sequences bound the output memory on the big file.
        let t0 = Instant::now();
        let mut entries = 0usize;
        let mut start = 0;
        while start < db.len() {
            let end = (start + 100_000).min(db.len());
            entries += m.match_range(db, start..end).pattern.len();
            start = end;
        }
        let secs = t0.elapsed().as_secs_f64();
        println!(
            "| {name} | {} | {} | {k} | {:.3} | {:.0} | {:.2} |",
            db.len(),
            db.num_items(),
            secs,
            db.len() as f64 / secs,
            entries as f64 / db.len() as f64
        );
    }
}

fn main() {
    println!(
        "| data | sequences | events | K | seconds | sequences/s | patterns matched per sequence |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    match taobao() {
        Some(db) => run("Taobao UserBehavior slice (behavior:category)", &db),
        None => eprintln!("skipping Taobao: ../shared/data is absent"),
    }
    let users = std::env::var("CARTSEQ_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let db = generated(users);
    run(&format!("generated, {users} users"), &db);
}
