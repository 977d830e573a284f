//! End-to-end tests of `cartseq task`: the exported matrix is checked against an independent, naive
//! computation from the raw rows of a generated Taobao-format log, and the shipped samples export.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::support::{cartseq, tempdir, Csv};

const T0: i64 = 1_511_568_000; // 2017-11-25T00:00:00Z, seconds
const DAY: i64 = 86_400;

/// Raw event: (user, item, category, behaviour, unix seconds).
type Raw = (u32, u32, u32, &'static str, i64);

fn generate(seed: u64) -> Vec<Raw> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut v = Vec::new();
    for u in 0..60u32 {
        let n = rng.gen_range(1..80);
        let mut t = T0 + rng.gen_range(0..3 * DAY);
        for _ in 0..n {
            // Mix short (same-session) and long gaps.
            t += if rng.gen_bool(0.8) {
                rng.gen_range(1..600)
            } else {
                rng.gen_range(1800..2 * DAY)
            };
            if t >= T0 + 9 * DAY {
                break;
            }
            let item = rng.gen_range(0..50u32);
            let b = ["pv", "pv", "pv", "pv", "cart", "fav", "buy"][rng.gen_range(0..7)];
            v.push((u, item, item % 7, b, t));
        }
    }
    v
}

fn write_log(dir: &Path, rows: &[Raw]) -> PathBuf {
    let p = dir.join("log.csv");
    let s: String = rows
        .iter()
        .map(|(u, i, c, b, t)| format!("{u},{i},{c},{b},{t}\n"))
        .collect();
    std::fs::write(&p, s).unwrap();
    p
}

/// Exported rows keyed by (user id, split).
type Matrix = BTreeMap<(String, String), Vec<String>>;

/// Reads the exported CSV: header and rows keyed by (user id, split).
fn read_matrix(p: &Path) -> (Vec<String>, Matrix) {
    let table = Csv::read(p);
    let m = table
        .rows
        .into_iter()
        .map(|cells| ((cells[0].clone(), cells[1].clone()), cells))
        .collect();
    (table.header, m)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn features_match_a_naive_computation() {
    let dir = tempdir();
    let rows = generate(3);
    let log = write_log(dir.path(), &rows);
    let out = dir.path().join("f.csv");
    let cutoff = T0 + 7 * DAY; // 2017-12-02
    cartseq("task")
        .arg(&log)
        .words("--preset taobao --task purchase --cutoff 2017-12-02 --horizon 1d -q -o")
        .arg(&out)
        .success();
    let (header, m) = read_matrix(&out);
    assert_eq!(&header[..3], &["user_id", "split", "label"]);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let stats_end = cutoff - 2 * DAY; // the training cutoff
    let mut item_count: HashMap<u32, f64> = HashMap::new();
    for r in rows.iter().filter(|r| r.4 < stats_end) {
        *item_count.entry(r.1).or_default() += 1.0;
    }
    let mut checked = 0;
    for (split, c) in [
        ("train", cutoff - 2 * DAY),
        ("valid", cutoff - DAY),
        ("test", cutoff),
    ] {
        for u in 0..60u32 {
            // Naive: filter, sort by time (stable: input order on ties), count.
            let mut past: Vec<&Raw> = rows.iter().filter(|r| r.0 == u && r.4 < c).collect();
            past.sort_by_key(|r| r.4);
            let key = (u.to_string(), split.to_owned());
            if past.is_empty() {
                assert!(
                    !m.contains_key(&key),
                    "user {u} has no past events but is a {split} row"
                );
                continue;
            }
            let row = &m[&key];
            let f = |name: &str| row[col(name)].parse::<f64>().unwrap();
            let buys_after = rows
                .iter()
                .any(|r| r.0 == u && r.3 == "buy" && r.4 >= c && r.4 < c + DAY);
            assert_eq!(
                row[2],
                if buys_after { "1" } else { "0" },
                "label of {key:?}"
            );
            let count = |b: &str| past.iter().filter(|r| r.3 == b).count() as f64;
            assert_eq!(f("n_events"), past.len() as f64);
            assert_eq!(f("n_view"), count("pv"));
            assert_eq!(f("n_cart"), count("cart"));
            assert_eq!(f("n_fav"), count("fav"));
            assert_eq!(f("n_buy"), count("buy"));
            let last = past.last().unwrap().4;
            assert!(close(f("recency_h"), (c - last) as f64 / 3600.0));
            assert!(close(f("tenure_h"), (c - past[0].4) as f64 / 3600.0));
            let last_buy = past.iter().rev().find(|r| r.3 == "buy").map(|r| r.4);
            assert!(close(
                f("recency_buy_h"),
                last_buy.map_or(-1.0, |t| (c - t) as f64 / 3600.0)
            ));
            let items: BTreeSet<u32> = past.iter().map(|r| r.1).collect();
            let cats: BTreeSet<u32> = past.iter().map(|r| r.2).collect();
            assert_eq!(f("distinct_items"), items.len() as f64);
            assert_eq!(f("distinct_categories"), cats.len() as f64);
            let days: BTreeSet<i64> = past.iter().map(|r| r.4.div_euclid(DAY)).collect();
            assert_eq!(f("active_days"), days.len() as f64);
            let sessions = 1 + past.windows(2).filter(|w| w[1].4 - w[0].4 > 1800).count();
            assert_eq!(f("n_sessions"), sessions as f64);
            let last_day = past.iter().filter(|r| r.4 >= c - DAY).count();
            assert_eq!(f("n_events_last_h"), last_day as f64);
            let last5_view = past.iter().rev().take(5).filter(|r| r.3 == "pv").count();
            assert_eq!(f("last5_view"), last5_view as f64);
            assert_eq!(
                f("last1_buy"),
                f64::from(u8::from(past.last().unwrap().3 == "buy"))
            );
            let pop: f64 = past
                .iter()
                .map(|r| item_count.get(&r.1).copied().unwrap_or(0.0).ln_1p())
                .sum::<f64>()
                / past.len() as f64;
            assert!(close(f("item_pop_mean"), pop), "item_pop_mean of {key:?}");
            let hour = (last.rem_euclid(DAY) / 3600) as f64;
            assert_eq!(f("hour_last"), hour);
            checked += 1;
        }
    }
    assert!(checked > 100, "checked {checked} rows");
}

#[test]
fn shipped_samples_export() {
    let dir = tempdir();
    let out = dir.path().join("t.csv");
    for line in [
        "taobao_sample.csv --preset taobao --task purchase --horizon 1d --seq",
        "taobao_sample.csv --preset taobao --task abandon --horizon 1d",
        "taobao_sample.csv --preset taobao --task next-action --horizon 12h",
        "taobao_sample.csv --preset taobao --task churn --horizon 1d --split user",
        "online_retail_sample.csv --preset online-retail --task purchase --horizon 1h",
    ] {
        let export = || {
            cartseq(&format!("task data/samples/{line} -o"))
                .arg(&out)
                .run()
        };
        let r = export();
        assert!(r.ok(), "{line}: {}", r.stderr);
        assert!(r.stderr.contains("class balance"), "{}", r.stderr);
        let (header, m) = read_matrix(&out);
        assert!(!m.is_empty());
        assert_eq!(header[1], "split");
        let seq = line.split_whitespace().any(|w| w == "--seq");
        assert_eq!(seq, header.last().unwrap() == "seq");
        // Determinism: a second run gives the same bytes.
        let first = std::fs::read(&out).unwrap();
        assert!(export().ok());
        assert_eq!(
            first,
            std::fs::read(&out).unwrap(),
            "{line} is not deterministic"
        );
    }
}

#[test]
fn bad_options_fail_cleanly_without_output() {
    let dir = tempdir();
    let out = dir.path().join("t.csv");
    for (extra, want) in [
        ("--cutoff 2017-13-40", "--cutoff"),
        ("--horizon 3x", "duration"),
        ("--valid-frac 0.2", "--split user"),
        ("--cutoff 2001-01-01", "training"),
    ] {
        cartseq("task data/samples/taobao_sample.csv --preset taobao --task purchase")
            .words(extra)
            .arg("-o")
            .arg(&out)
            .fails_with(want);
        assert!(!out.exists(), "no output on error");
    }
}
