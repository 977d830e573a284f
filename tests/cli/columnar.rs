//! Parquet and Arrow IPC (issue 15): event logs read from columnar files give the same answers as the
//! CSV they came from, and every export writes `--format parquet|arrow` files that the parquet and
//! arrow crates read back with the CSV export's rows.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;

use crate::support::{cartseq, tempdir};

const TAOBAO: &str = "data/samples/taobao_sample.csv --preset taobao";

/// The Taobao sample converted to `dir/log.EXT` with `convert --format FORMAT`.
fn converted(dir: &Path, format: &str, ext: &str) -> PathBuf {
    let out = dir.join(format!("log.{ext}"));
    cartseq(&format!("convert {TAOBAO} --format {format} -q -o"))
        .arg(&out)
        .success();
    out
}

fn parquet_rows(path: &Path) -> Vec<RecordBatch> {
    let r = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        File::open(path).unwrap(),
    )
    .unwrap()
    .build()
    .unwrap();
    r.map(Result::unwrap).collect()
}

fn arrow_rows(path: &Path) -> Vec<RecordBatch> {
    arrow_ipc::reader::FileReader::try_new(File::open(path).unwrap(), None)
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn count(b: &[RecordBatch]) -> usize {
    b.iter().map(RecordBatch::num_rows).sum()
}

/// Output lines sorted: token ids (and so the order of ties) may differ between readers, the rows
/// may not.
fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(str::to_string).collect();
    v.sort();
    v
}

/// `cartseq COMMAND WORDS…` prints the same rows (in any order) on `log` as on the Taobao CSV it was
/// converted from.
fn same_rows_as_csv(command: &str, words: &str, log: &Path) {
    let a = cartseq(&format!("{command} {TAOBAO} {words}")).success();
    let b = cartseq(&format!("{command} {words}")).arg(log).success();
    assert_eq!(sorted_lines(&a.stdout), sorted_lines(&b.stdout));
}

#[test]
fn convert_writes_the_log_as_parquet_and_arrow_with_a_manifest() {
    let dir = tempdir();
    let p = converted(dir.path(), "parquet", "parquet");
    assert!(std::fs::read(&p).unwrap().starts_with(b"PAR1"));
    assert!(dir.path().join("log.parquet.manifest.json").exists());
    let b = parquet_rows(&p);
    assert_eq!(count(&b), 21_999);
    let names: Vec<String> = b[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["user", "time", "item", "category", "action"]);
    let a = converted(dir.path(), "arrow", "arrow");
    assert_eq!(count(&arrow_rows(&a)), 21_999);
}

#[test]
fn mining_a_parquet_or_arrow_log_equals_mining_its_csv() {
    let dir = tempdir();
    let words = "--token action:category --min-support #15 --max-items 3 --format csv -q";
    let csv = cartseq(&format!("mine {TAOBAO} {words}")).success();
    assert!(csv.stdout.lines().count() > 20, "{}", csv.stdout);
    for (format, ext) in [("parquet", "parquet"), ("arrow", "arrow")] {
        let log = converted(dir.path(), format, ext);
        let col = cartseq(&format!("mine {words}")).arg(&log).success();
        assert_eq!(
            sorted_lines(&col.stdout),
            sorted_lines(&csv.stdout),
            "{format}"
        );
    }
}

#[test]
fn stats_and_next_read_parquet_like_csv() {
    let dir = tempdir();
    let log = converted(dir.path(), "parquet", "parquet");
    let a = cartseq(&format!("stats {TAOBAO} --json -q")).json();
    let b = cartseq("stats --json -q").arg(&log).json();
    assert_eq!(a["events"], b["events"]);
    assert_eq!(a["funnel"], b["funnel"]);
    same_rows_as_csv(
        "next",
        "--token action --after cart_add --format csv -q",
        &log,
    );
}

#[test]
fn a_time_range_on_parquet_gives_the_csv_answer() {
    let dir = tempdir();
    let log = converted(dir.path(), "parquet", "parquet");
    same_rows_as_csv(
        "mine",
        "--token item --from 2017-11-28 --to 2017-12-01 --min-support #5 --format csv -q",
        &log,
    );
}

#[test]
fn every_export_writes_parquet_and_arrow_with_the_csv_rows() {
    let dir = tempdir();
    let d = dir.path();
    let cases = [
        ("mine", "--token action --min-support #30 --max-items 3"),
        (
            "rules",
            "--token item --min-support #6 --min-confidence 0.1",
        ),
        ("itemsets", "--token item --min-support #6"),
        ("next", "--token action --after view"),
    ];
    for (cmd, words) in cases {
        let csv = d.join(format!("{cmd}.csv"));
        cartseq(&format!("{cmd} {TAOBAO} {words} --format csv -q -o"))
            .arg(&csv)
            .success();
        let rows = std::fs::read_to_string(&csv).unwrap().lines().count() - 1;
        assert!(rows > 0, "{cmd}: no rows");
        let pq = d.join(format!("{cmd}.parquet"));
        cartseq(&format!("{cmd} {TAOBAO} {words} --format parquet -q -o"))
            .arg(&pq)
            .success();
        assert_eq!(count(&parquet_rows(&pq)), rows, "{cmd} parquet");
        let manifest =
            std::fs::read_to_string(d.join(format!("{cmd}.parquet.manifest.json"))).unwrap();
        assert!(manifest.contains("\"parquet\""), "{cmd}: {manifest}");
        let ar = d.join(format!("{cmd}.arrow"));
        cartseq(&format!("{cmd} {TAOBAO} {words} --format arrow -q -o"))
            .arg(&ar)
            .success();
        assert_eq!(count(&arrow_rows(&ar)), rows, "{cmd} arrow");
    }
}

#[test]
fn broken_columnar_files_are_clear_errors() {
    let dir = tempdir();
    let log = converted(dir.path(), "parquet", "parquet");
    let bytes = std::fs::read(&log).unwrap();
    let cut = dir.path().join("cut.parquet");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let r = cartseq("stats -q").arg(&cut).fails_with("cut.parquet");
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    cartseq("stats -q --item-col sku")
        .arg(&log)
        .fails_with("\"sku\"");
    cartseq("mine --preset spmf --min-support #2 -q")
        .arg(&log)
        .fails_with("holds events");
}
