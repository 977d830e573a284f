//! `cartseq stats --json` on the Taobao sample, checked against an independent computation with
//! HashMaps over the raw CSV rows (no cartseq code involved).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::support::{bash, repo_root, stats_json};

struct Row {
    user: String,
    item: String,
    cat: String,
    act: String,
    ts: i64,
}

fn rows(path: &str) -> Vec<Row> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Row {
                user: f[0].into(),
                item: f[1].into(),
                cat: f[2].into(),
                act: f[3].into(),
                ts: f[4].parse().unwrap(),
            }
        })
        .collect()
}

/// The `(name, events)` pairs of a JSON array of objects such as `{"action": "view", "events": 7}`.
fn named_counts<'a>(
    rows: &'a serde_json::Value,
    name: &'a str,
) -> impl Iterator<Item = (String, u64)> + 'a {
    rows.as_array().unwrap().iter().map(move |r| {
        (
            r[name].as_str().unwrap().to_string(),
            r["events"].as_u64().unwrap(),
        )
    })
}

fn nearest_rank(mut v: Vec<u64>, p: usize) -> u64 {
    v.sort();
    let rank = ((p * v.len()) as f64 / 100.0).ceil().max(1.0) as usize;
    v[rank - 1]
}

#[test]
fn taobao_counts_match_an_independent_computation() {
    let path = "data/samples/taobao_sample.csv";
    let rows = rows(path);
    let j = stats_json(path, "--preset taobao --top 5");
    let log = &j["log"];

    let distinct =
        |f: &dyn Fn(&Row) -> &str| rows.iter().map(f).collect::<HashSet<_>>().len() as u64;
    assert_eq!(log["events"], rows.len() as u64);
    assert_eq!(log["users"], distinct(&|r| &r.user));
    assert_eq!(log["items"], distinct(&|r| &r.item));
    assert_eq!(log["categories"], distinct(&|r| &r.cat));
    assert_eq!(log["actions"], distinct(&|r| &r.act));

    let mut per_action: HashMap<&str, u64> = HashMap::new();
    for r in &rows {
        *per_action.entry(&r.act).or_default() += 1;
    }
    let canon = |a: &str| {
        match a {
            "pv" => "view",
            "cart" => "cart_add",
            other => other,
        }
        .to_string()
    };
    let got: HashMap<String, u64> = named_counts(&log["per_action"], "action").collect();
    let want: HashMap<String, u64> = per_action.iter().map(|(k, v)| (canon(k), *v)).collect();
    assert_eq!(got, want);

    // Funnel over distinct (user, item) pairs.
    let pairs = |act: &str| -> HashSet<(&str, &str)> {
        rows.iter()
            .filter(|r| r.act == act)
            .map(|r| (r.user.as_str(), r.item.as_str()))
            .collect()
    };
    let (viewed, carted, bought) = (pairs("pv"), pairs("cart"), pairs("buy"));
    let f = &log["funnel"];
    assert_eq!(f["viewed_pairs"], viewed.len() as u64);
    assert_eq!(f["carted_pairs"], carted.len() as u64);
    assert_eq!(f["bought_pairs"], bought.len() as u64);
    assert_eq!(f["view_events"], per_action["pv"]);
    assert_eq!(f["cart_add_events"], per_action["cart"]);
    assert_eq!(f["buy_events"], per_action["buy"]);
    let never = carted.difference(&bought).count() as u64;
    assert_eq!(f["carted_never_bought"], never);
    let cart_to_buy = carted.intersection(&bought).count() as f64 / carted.len() as f64;
    assert!((f["cart_to_buy"].as_f64().unwrap() - cart_to_buy).abs() < 1e-12);
    let view_to_cart = viewed.intersection(&carted).count() as f64 / viewed.len() as f64;
    assert!((f["view_to_cart"].as_f64().unwrap() - view_to_cart).abs() < 1e-12);
    let buyers = rows
        .iter()
        .filter(|r| r.act == "buy")
        .map(|r| &r.user)
        .collect::<HashSet<_>>();
    assert_eq!(f["users_buying"], buyers.len() as u64);

    // Sequences: one per user; itemsets = distinct timestamps per user.
    let mut per_user: BTreeMap<&str, (HashSet<i64>, u64)> = BTreeMap::new();
    for r in &rows {
        let e = per_user.entry(&r.user).or_default();
        e.0.insert(r.ts);
        e.1 += 1;
    }
    let s = &j["sequences"];
    assert_eq!(s["sequences"], per_user.len() as u64);
    let lens: Vec<u64> = per_user.values().map(|(t, _)| t.len() as u64).collect();
    assert_eq!(s["itemsets"], lens.iter().sum::<u64>());
    assert_eq!(s["events"], rows.len() as u64);
    for (p, key) in [(25, "p25"), (50, "p50"), (90, "p90"), (99, "p99")] {
        assert_eq!(s["length"][key], nearest_rank(lens.clone(), p), "{key}");
    }
    assert_eq!(s["length"]["max"], *lens.iter().max().unwrap());
    assert_eq!(s["length"]["min"], *lens.iter().min().unwrap());

    // Top item by events (ties by name).
    let mut item_count: HashMap<&str, u64> = HashMap::new();
    for r in &rows {
        *item_count.entry(&r.item).or_default() += 1;
    }
    let mut top: Vec<(&str, u64)> = item_count.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let got_top: Vec<(String, u64)> = named_counts(&j["top_items"], "item").collect();
    let want_top: Vec<(String, u64)> = top
        .iter()
        .take(5)
        .map(|(i, c)| (i.to_string(), *c))
        .collect();
    assert_eq!(got_top, want_top);
}

#[test]
fn session_gap_and_action_filter_counts() {
    let path = "data/samples/taobao_sample.csv";
    let rows = rows(path);
    // Independent: per user, sort by time, split where the gap exceeds 1h; count sequences.
    let mut by_user: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.act == "buy" || r.act == "cart") {
        by_user.entry(&r.user).or_default().push(r.ts);
    }
    let mut sessions = 0;
    for ts in by_user.values_mut() {
        ts.sort();
        sessions += 1 + ts.windows(2).filter(|w| w[1] - w[0] > 3600).count();
    }
    let j = stats_json(
        path,
        "--preset taobao --actions cart_add,buy --session-gap 1h",
    );
    assert_eq!(j["sequences"]["sequences"], sessions as u64);
}

#[test]
fn stats_text_output_and_head_is_not_an_error() {
    let out = bash(
        "cartseq stats data/samples/taobao_sample.csv --preset taobao | head -n 1; \
         echo \"status=${PIPESTATUS:-0}\"",
        repo_root(),
    );
    let s = &out.stdout;
    assert!(
        s.starts_with("input: data/samples/taobao_sample.csv (preset taobao)"),
        "{s}"
    );
    assert!(!out.stderr.contains("error"), "{}", out.stderr);
}
