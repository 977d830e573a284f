//! SPMF round trip on every file in ../shared/data/spmf/ (and the samples): read → write gives the same
//! lines, ignoring runs of spaces, trailing spaces, blank lines and a missing final newline.

use std::path::Path;

use cartseq_data::input::LineReader;
use cartseq_data::spmf::{read_spmf, write_spmf};
use cartseq_data::OnError;

use crate::support::shared_data_dir;

fn normalise(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split_ascii_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect()
}

fn round_trip(path: &Path) {
    let raw = std::fs::read(path).unwrap();
    let mut lines = LineReader::new(&raw[..], path, false);
    let r = read_spmf(&mut lines, OnError::Fail).unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    write_spmf(&r.db, &mut out).unwrap();
    let src = normalise(&String::from_utf8(raw).unwrap());
    let back = normalise(&String::from_utf8(out).unwrap());
    assert_eq!(src.len(), back.len(), "{}", path.display());
    for (k, (a, b)) in src.iter().zip(&back).enumerate() {
        assert_eq!(a, b, "{} line {}", path.display(), k + 1);
    }
}

#[test]
fn every_shared_spmf_file_round_trips() {
    let Some(dir) = shared_data_dir("spmf") else {
        return;
    };
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            round_trip(&p);
            n += 1;
        }
    }
    assert!(n >= 5, "expected the 5 shared SPMF files, found {n}");
}

#[test]
fn samples_round_trip() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    round_trip(&dir.join("contextPrefixSpan.txt"));
    round_trip(&dir.join("SIGN.txt"));
}
