//! Exact equality (as sets of pattern + support) with SPMF's outputs in `../shared/reference/` (see its
//! README and COMMANDS.txt): PrefixSpan, CloSpan (closed), maximal by definition, CM-SPAM with max gap,
//! top-k with ties. Skips with a printed reason when `../shared` is absent, except under `CI=true`.

use cartseq_data::SequenceDb;
use cartseq_mining::{Algorithm, CollectSink, Condense, MinSupport, Options};

use crate::support::{assert_same_lines, reference, shared, spmf_db};

const ALL: &[Algorithm] = &[Algorithm::PrefixSpan, Algorithm::Spade, Algorithm::Gsp];
const FAST: &[Algorithm] = &[Algorithm::PrefixSpan, Algorithm::Spade];

/// All frequent patterns at a relative minimum support.
fn opts(min: &str) -> Options {
    Options {
        min_support: MinSupport::parse_fraction(min).unwrap(),
        ..Options::default()
    }
}

/// Closed or maximal patterns at a relative minimum support.
fn condensed(how: Condense, min: &str) -> Options {
    Options {
        condense: how,
        ..opts(min)
    }
}

/// Frequent patterns with a maximum gap (in itemsets) at a relative minimum support.
fn gap(g: u32, min: &str) -> Options {
    Options {
        max_gap: Some(g),
        ..opts(min)
    }
}

/// The top-k patterns (ties included).
fn top(k: usize) -> Options {
    Options {
        min_support: MinSupport::Count(1),
        top_k: Some(k),
        ..Options::default()
    }
}

/// Mines the SPMF file `data` once per case with every listed algorithm and compares each answer
/// with the case's reference file (`<dataset>/<file>` under `reference/`). Returns the database
/// (`None` when `../shared` is absent).
fn check(data: &str, cases: &[(&str, Options, &[Algorithm])]) -> Option<SequenceDb> {
    let sh = shared()?;
    let db = spmf_db(&sh.join("data/spmf").join(data));
    for (reffile, o, algos) in cases {
        let want = reference(&sh, reffile);
        for &algo in algos.iter() {
            let mut sink = CollectSink::new();
            algo.miner(o.clone()).unwrap().mine(&db, &mut sink).unwrap();
            let mut got: Vec<String> = sink.patterns.iter().map(|p| p.to_spmf()).collect();
            assert_same_lines(&mut got, &want, &format!("{algo:?} on {reffile}"));
        }
    }
    Some(db)
}

#[test]
fn context_prefixspan_matches_spmf() {
    check(
        "contextPrefixSpan.txt",
        &[
            ("contextPrefixSpan/prefixspan-0.5.txt", opts("0.5"), ALL),
            (
                "contextPrefixSpan/closed-0.5.txt",
                condensed(Condense::Closed, "0.5"),
                ALL,
            ),
            (
                "contextPrefixSpan/maximal-0.5.txt",
                condensed(Condense::Maximal, "0.5"),
                ALL,
            ),
            ("contextPrefixSpan/maxgap1-0.5.txt", gap(1, "0.5"), ALL),
            ("contextPrefixSpan/topk-10.txt", top(10), ALL),
        ],
    );
}

#[test]
fn sign_matches_spmf() {
    check(
        "SIGN.txt",
        &[
            ("SIGN/prefixspan-0.5.txt", opts("0.5"), ALL),
            ("SIGN/prefixspan-0.4.txt", opts("0.4"), FAST),
            (
                "SIGN/closed-0.4.txt",
                condensed(Condense::Closed, "0.4"),
                FAST,
            ),
            (
                "SIGN/maximal-0.4.txt",
                condensed(Condense::Maximal, "0.4"),
                FAST,
            ),
            ("SIGN/maxgap1-0.3.txt", gap(1, "0.3"), ALL),
        ],
    );
}

#[test]
fn kosarak10k_matches_spmf() {
    check(
        "kosarak10k.txt",
        &[
            ("kosarak10k/prefixspan-0.005.txt", opts("0.005"), ALL),
            ("kosarak10k/prefixspan-0.002.txt", opts("0.002"), FAST),
            (
                "kosarak10k/closed-0.002.txt",
                condensed(Condense::Closed, "0.002"),
                FAST,
            ),
            (
                "kosarak10k/maximal-0.005.txt",
                condensed(Condense::Maximal, "0.005"),
                FAST,
            ),
            ("kosarak10k/maxgap2-0.002.txt", gap(2, "0.002"), FAST),
            ("kosarak10k/topk-500.txt", top(500), FAST),
        ],
    );
}

#[test]
fn bms1_matches_spmf() {
    let db = check(
        "BMS1_spmf.txt",
        &[
            ("BMS1/prefixspan-0.001.txt", opts("0.001"), FAST),
            ("BMS1/prefixspan-0.0008.txt", opts("0.0008"), FAST),
            (
                "BMS1/closed-0.001.txt",
                condensed(Condense::Closed, "0.001"),
                FAST,
            ),
            (
                "BMS1/maximal-0.001.txt",
                condensed(Condense::Maximal, "0.001"),
                FAST,
            ),
        ],
    );
    // The relative support converts as SPMF does: ceil(0.001 × 59,601) = 60.
    if let Some(db) = db {
        let min = MinSupport::parse_fraction("0.001").unwrap();
        assert_eq!(min.absolute(db.len()), 60);
    }
}
