//! Exact equality (as sets of pattern + support) with SPMF's outputs in `../shared/reference/` (see its
//! README and COMMANDS.txt): PrefixSpan, CloSpan (closed), maximal by definition, CM-SPAM with max gap,
//! top-k with ties. Skips with a printed reason when `../shared` is absent, except under `CI=true`.
//!
//! Each reference file's name says how it was mined, and the options are read from it:
//! `prefixspan-0.5` (all patterns at a relative support), `closed-0.5`, `maximal-0.5`, `maxgap1-0.5`
//! (max gap 1 itemset) and `topk-10` (the top 10 with ties).

use cartseq_data::SequenceDb;
use cartseq_mining::{Algorithm, CollectSink, Condense, Limit, MinSupport, Options};

use crate::support::{assert_same_lines, reference, shared, spmf_db};

/// The options a reference file name stands for (see the module docs).
fn options_of(name: &str) -> Options {
    let (kind, arg) = name.split_once('-').expect("kind-argument");
    if let Some(k) = kind.strip_prefix("topk").and(arg.parse().ok()) {
        return Options {
            min_support: MinSupport::Count(1),
            top_k: Some(k),
            ..Options::default()
        };
    }
    let mut o = Options {
        min_support: MinSupport::parse_fraction(arg).unwrap(),
        ..Options::default()
    };
    match kind {
        "prefixspan" => {}
        "closed" => o.condense = Condense::Closed,
        "maximal" => o.condense = Condense::Maximal,
        _ => o.max_gap.positions = Some(kind.strip_prefix("maxgap").unwrap().parse().unwrap()),
    }
    o
}

/// Mines the SPMF file `data` for every reference of `dataset` named in `runs` (space-separated
/// names; a `/fast` suffix leaves GSP out, which is too slow there) with every algorithm, and
/// compares each answer with the reference. Returns the database (`None` when `../shared` is absent).
fn check(data: &str, dataset: &str, runs: &str) -> Option<SequenceDb> {
    let sh = shared()?;
    let db = spmf_db(&sh.join("data/spmf").join(data));
    for run in runs.split_whitespace() {
        let (name, algos) = match run.strip_suffix("/fast") {
            Some(name) => (name, &Algorithm::ALL[..2]),
            None => (run, &Algorithm::ALL[..]),
        };
        let reffile = format!("{dataset}/{name}.txt");
        let want = reference(&sh, &reffile);
        for &algo in algos {
            let mut sink = CollectSink::new();
            let miner = algo.miner(options_of(name)).unwrap();
            miner.mine(&db, &mut sink).unwrap();
            let mut got: Vec<String> = sink.patterns.iter().map(|p| p.to_spmf()).collect();
            assert_same_lines(&mut got, &want, &format!("{algo:?} on {reffile}"));
        }
    }
    Some(db)
}

#[test]
fn reference_names_give_the_options() {
    assert_eq!(
        Algorithm::ALL[..2],
        [Algorithm::PrefixSpan, Algorithm::Spade]
    );
    assert_eq!(options_of("closed-0.4").condense, Condense::Closed);
    assert_eq!(options_of("maxgap2-0.002").max_gap, Limit::positions(2));
    assert_eq!(options_of("topk-500").top_k, Some(500));
    assert_eq!(
        options_of("prefixspan-0.5"),
        Options {
            min_support: MinSupport::parse_fraction("0.5").unwrap(),
            ..Options::default()
        }
    );
}

#[test]
fn context_prefixspan_matches_spmf() {
    let runs = "prefixspan-0.5 closed-0.5 maximal-0.5 maxgap1-0.5 topk-10";
    check("contextPrefixSpan.txt", "contextPrefixSpan", runs);
}

#[test]
fn sign_matches_spmf() {
    let runs = "prefixspan-0.5 prefixspan-0.4/fast closed-0.4/fast maximal-0.4/fast maxgap1-0.3";
    check("SIGN.txt", "SIGN", runs);
}

#[test]
fn kosarak10k_matches_spmf() {
    let runs = "prefixspan-0.005 prefixspan-0.002/fast closed-0.002/fast maximal-0.005/fast \
                maxgap2-0.002/fast topk-500/fast";
    check("kosarak10k.txt", "kosarak10k", runs);
}

#[test]
fn bms1_matches_spmf() {
    let runs = "prefixspan-0.001/fast prefixspan-0.0008/fast closed-0.001/fast maximal-0.001/fast";
    // The relative support converts as SPMF does: ceil(0.001 × 59,601) = 60.
    if let Some(db) = check("BMS1_spmf.txt", "BMS1", runs) {
        let min = MinSupport::parse_fraction("0.001").unwrap();
        assert_eq!(min.absolute(db.len()), 60);
    }
}
