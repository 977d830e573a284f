//! Helpers shared by the test modules.

use std::path::{Path, PathBuf};

use cartseq_data::input::{open_input, LineReader};
use cartseq_data::{OnError, SequenceDb};
use cartseq_mining::itemsets::Transactions;
use proptest::test_runner::{Config, FileFailurePersistence};

/// `../shared` beside the worktree (datasets in `data/`, SPMF outputs in `reference/`), or `None` with
/// a printed reason when it is absent; under `CI=true` its absence fails the test instead.
pub fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    if p.join("reference/COMMANDS.txt").exists() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{}/reference is missing and CI=true", p.display());
    }
    eprintln!(
        "skipping: {}/reference not found (set up the shared data folder to run this test)",
        p.display()
    );
    None
}

/// The non-blank lines of a reference output, runs of white space folded to one space, sorted.
pub fn reference(shared: &Path, rel: &str) -> Vec<String> {
    let text = std::fs::read_to_string(shared.join("reference").join(rel)).expect("reference file");
    let mut v: Vec<String> = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect();
    v.sort();
    v
}

/// Fails with a few missing and extra lines unless `got` (sorted here) equals the sorted `want`.
pub fn assert_same_lines(got: &mut [String], want: &[String], what: &str) {
    got.sort();
    if got != want {
        let missing: Vec<_> = want
            .iter()
            .filter(|w| got.binary_search(w).is_err())
            .take(5)
            .collect();
        let extra: Vec<_> = got
            .iter()
            .filter(|g| want.binary_search(g).is_err())
            .take(5)
            .collect();
        panic!(
            "{what}: {} lines vs {} in the reference; missing e.g. {missing:?}; extra e.g. {extra:?}",
            got.len(),
            want.len()
        );
    }
}

/// An SPMF sequence file.
pub fn spmf_db(path: &Path) -> SequenceDb {
    let input = open_input(path).unwrap();
    cartseq_data::spmf::read_spmf(&mut LineReader::from_input(input), OnError::Fail)
        .expect("valid SPMF")
        .db
}

/// A FIMI/SPMF basket file: one transaction per line, items separated by spaces (CRLF tolerated).
pub fn baskets(path: &Path) -> Transactions {
    let text = std::fs::read_to_string(path).expect("basket file");
    Transactions::from_lists(
        text.lines()
            .map(|l| {
                l.split_ascii_whitespace()
                    .map(|t| t.parse::<u32>().expect("item"))
                    .collect::<Vec<_>>()
            })
            .filter(|v| !v.is_empty()),
    )
}

/// A proptest configuration with `cases` cases whose failures are saved beside the test's source
/// file (`oracle.rs` → `oracle.proptest-regressions`) and replayed first on every run.
pub fn proptest_cases(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}
