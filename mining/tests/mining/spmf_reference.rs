//! Exact equality (as sets of pattern + support) with SPMF's outputs in `../shared/reference/` (see its
//! README and COMMANDS.txt): PrefixSpan, CloSpan (closed), maximal by definition, CM-SPAM with max gap,
//! top-k with ties. Skips with a printed reason when `../shared` is absent, except under `CI=true`.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use cartseq_data::input::{open_input, LineReader};
use cartseq_data::{OnError, SequenceDb};
use cartseq_mining::{Algorithm, CollectSink, Condense, MinSupport, Options};

fn shared() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    if p.join("reference/COMMANDS.txt").exists() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("../shared/reference is missing and CI=true");
    }
    eprintln!(
        "skipping: ../shared/reference not found (set up the shared data folder to run this test)"
    );
    None
}

fn load(shared: &std::path::Path, file: &str) -> SequenceDb {
    let input = open_input(&shared.join("data/spmf").join(file)).unwrap();
    cartseq_data::spmf::read_spmf(&mut LineReader::from_input(input), OnError::Fail)
        .unwrap()
        .db
}

fn reference(shared: &std::path::Path, file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(shared.join("reference").join(file)).unwrap();
    let mut v: Vec<String> = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect();
    v.sort();
    v
}

fn frac(s: &str) -> MinSupport {
    MinSupport::parse_fraction(s).unwrap()
}

/// Runs every listed algorithm and compares with the reference file.
fn check(
    shared: &std::path::Path,
    db: &SequenceDb,
    reffile: &str,
    o: Options,
    algos: &[Algorithm],
) {
    let want = reference(shared, reffile);
    for &algo in algos {
        let mut sink = CollectSink::new();
        algo.miner(o.clone()).unwrap().mine(db, &mut sink).unwrap();
        let mut got: Vec<String> = sink.patterns.iter().map(|p| p.to_spmf()).collect();
        got.sort();
        if got != want {
            let missing: Vec<&String> = want.iter().filter(|l| !got.contains(l)).take(5).collect();
            let extra: Vec<&String> = got.iter().filter(|l| !want.contains(l)).take(5).collect();
            panic!(
                "{algo:?} on {reffile}: {} patterns, reference {}; missing e.g. {missing:?}, extra e.g. {extra:?}",
                got.len(),
                want.len()
            );
        }
    }
}

const ALL: &[Algorithm] = &[Algorithm::PrefixSpan, Algorithm::Spade, Algorithm::Gsp];
const FAST: &[Algorithm] = &[Algorithm::PrefixSpan, Algorithm::Spade];

fn opts(min: &str) -> Options {
    Options {
        min_support: frac(min),
        ..Options::default()
    }
}

#[test]
fn context_prefixspan_matches_spmf() {
    let Some(sh) = shared() else { return };
    let db = load(&sh, "contextPrefixSpan.txt");
    check(
        &sh,
        &db,
        "contextPrefixSpan/prefixspan-0.5.txt",
        opts("0.5"),
        ALL,
    );
    let closed = Options {
        condense: Condense::Closed,
        ..opts("0.5")
    };
    check(&sh, &db, "contextPrefixSpan/closed-0.5.txt", closed, ALL);
    let maximal = Options {
        condense: Condense::Maximal,
        ..opts("0.5")
    };
    check(&sh, &db, "contextPrefixSpan/maximal-0.5.txt", maximal, ALL);
    let gap = Options {
        max_gap: Some(1),
        ..opts("0.5")
    };
    check(&sh, &db, "contextPrefixSpan/maxgap1-0.5.txt", gap, ALL);
    let top = Options {
        min_support: MinSupport::Count(1),
        top_k: Some(10),
        ..Options::default()
    };
    check(&sh, &db, "contextPrefixSpan/topk-10.txt", top, ALL);
}

#[test]
fn sign_matches_spmf() {
    let Some(sh) = shared() else { return };
    let db = load(&sh, "SIGN.txt");
    check(&sh, &db, "SIGN/prefixspan-0.5.txt", opts("0.5"), ALL);
    check(&sh, &db, "SIGN/prefixspan-0.4.txt", opts("0.4"), FAST);
    let closed = Options {
        condense: Condense::Closed,
        ..opts("0.4")
    };
    check(&sh, &db, "SIGN/closed-0.4.txt", closed, FAST);
    let maximal = Options {
        condense: Condense::Maximal,
        ..opts("0.4")
    };
    check(&sh, &db, "SIGN/maximal-0.4.txt", maximal, FAST);
    let gap = Options {
        max_gap: Some(1),
        ..opts("0.3")
    };
    check(&sh, &db, "SIGN/maxgap1-0.3.txt", gap, ALL);
}

#[test]
fn kosarak10k_matches_spmf() {
    let Some(sh) = shared() else { return };
    let db = load(&sh, "kosarak10k.txt");
    check(
        &sh,
        &db,
        "kosarak10k/prefixspan-0.005.txt",
        opts("0.005"),
        ALL,
    );
    check(
        &sh,
        &db,
        "kosarak10k/prefixspan-0.002.txt",
        opts("0.002"),
        FAST,
    );
    let closed = Options {
        condense: Condense::Closed,
        ..opts("0.002")
    };
    check(&sh, &db, "kosarak10k/closed-0.002.txt", closed, FAST);
    let maximal = Options {
        condense: Condense::Maximal,
        ..opts("0.005")
    };
    check(&sh, &db, "kosarak10k/maximal-0.005.txt", maximal, FAST);
    let gap = Options {
        max_gap: Some(2),
        ..opts("0.002")
    };
    check(&sh, &db, "kosarak10k/maxgap2-0.002.txt", gap, FAST);
    let top = Options {
        min_support: MinSupport::Count(1),
        top_k: Some(500),
        ..Options::default()
    };
    check(&sh, &db, "kosarak10k/topk-500.txt", top, FAST);
}

#[test]
fn bms1_matches_spmf() {
    let Some(sh) = shared() else { return };
    let db = load(&sh, "BMS1_spmf.txt");
    assert_eq!(
        MinSupport::parse_fraction("0.001")
            .unwrap()
            .absolute(db.len()),
        60
    );
    check(&sh, &db, "BMS1/prefixspan-0.001.txt", opts("0.001"), FAST);
    check(&sh, &db, "BMS1/prefixspan-0.0008.txt", opts("0.0008"), FAST);
    let closed = Options {
        condense: Condense::Closed,
        ..opts("0.001")
    };
    check(&sh, &db, "BMS1/closed-0.001.txt", closed, FAST);
    let maximal = Options {
        condense: Condense::Maximal,
        ..opts("0.001")
    };
    check(&sh, &db, "BMS1/maximal-0.001.txt", maximal, FAST);
}
