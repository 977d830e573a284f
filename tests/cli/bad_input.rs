//! Every class of malformed input: a one-line error naming file, line, column, what was expected and
//! what was found; a non-zero exit; no output file (nor temporary file) left behind. Plus
//! `--on-error skip`, which skips bad rows and reports how many per reason.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::support::{cartseq, gzip, temp_file, tempdir, Cartseq};

/// `cartseq convert INPUT --preset PRESET [EXTRA…] -o OUT`, the command every case here runs.
fn convert(input: &Path, preset: &str, extra: &str, out: &Path) -> Cartseq {
    cartseq("convert")
        .arg(input)
        .args(["--preset", preset])
        .words(extra)
        .arg("-o")
        .arg(out)
}

/// Converts `content` (written to `name`) with `preset`, expects failure with exactly one stderr line
/// starting with `error: <file>:<expected_loc>: expected <expected>` and containing `found`; checks that
/// the output directory holds nothing but the input.
fn expect_failure(
    name: &str,
    content: &[u8],
    preset: &str,
    loc: &str,
    expected: &str,
    found: &str,
) {
    let (dir, input) = temp_file(name, content);
    expect_failure_at(dir.path(), &input, preset, loc, expected, found);
}

fn expect_failure_at(
    dir: &Path,
    input: &Path,
    preset: &str,
    loc: &str,
    expected: &str,
    found: &str,
) {
    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("seq.txt");
    let r = convert(input, preset, "", &out).run();
    assert!(!r.ok(), "must fail: {}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one-line error expected, got: {}", r.stderr);
    let prefix = format!("error: {}{loc}", input.display());
    assert!(
        lines[0].starts_with(&prefix) && lines[0].contains(&format!(": expected {expected}")),
        "\n got: {}\nwant: {prefix}…: expected {expected}…",
        lines[0]
    );
    assert!(lines[0].contains(&format!("found {found}")), "{}", lines[0]);
    let left: Vec<PathBuf> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
}

#[test]
fn wrong_column_count() {
    expect_failure(
        "t.csv",
        b"1,2,3,pv,1511544070\n1,2,3,pv\n",
        "taobao",
        ":2",
        "5 fields (user_id,item_id,category_id,behavior_type,timestamp)",
        "\"4 field(s)\"",
    );
}

#[test]
fn non_numeric_id() {
    expect_failure(
        "t.csv",
        b"1,2,3,pv,1511544070\n1,abc,3,pv,1511544070\n",
        "taobao",
        ":2:2",
        "an integer item id",
        "\"abc\"",
    );
}

#[test]
fn non_numeric_timestamp() {
    expect_failure(
        "t.csv",
        b"1,2,3,pv,1511544070\r\n1,2,3,pv,15115x\r\n",
        "taobao",
        ":2:5",
        "an integer Unix timestamp (seconds)",
        "\"15115x\"",
    );
}

#[test]
fn unparseable_date() {
    expect_failure(
        "tianchi.csv",
        b"user_id,item_id,behavior_type,user_geohash,item_category,time\n1,2,1,,4,2014-12-06 02\n1,2,1,,4,2014-13-45 02\n",
        "tianchi-mobile",
        ":3:6",
        "an ISO-8601 date",
        "\"2014-13-45 02\"",
    );
}

#[test]
fn unknown_action_in_strict_preset() {
    expect_failure(
        "t.csv",
        b"1,2,3,pv,1511544070\n1,2,3,click,1511544070\n",
        "taobao",
        ":2:4",
        "a Taobao behavior (pv, cart, fav or buy)",
        "\"click\"",
    );
    expect_failure(
        "events.csv",
        b"timestamp,visitorid,event,itemid,transactionid\n1433221332117,257597,view,355908,\n1433221332117,257597,share,355908,\n",
        "retailrocket",
        ":3:3",
        "a RetailRocket event",
        "\"share\"",
    );
}

#[test]
fn invalid_utf8() {
    expect_failure(
        "t.csv",
        b"1,2,3,pv,1511544070\n1,2\xff\xfe,3,pv,1\n",
        "taobao",
        ":2:4",
        "valid UTF-8 text",
        "\"invalid byte(s) [ff, fe",
    );
}

#[test]
fn empty_file() {
    expect_failure_empty("empty.csv", b"", "taobao", "empty file (no data rows)");
    expect_failure_empty(
        "blank.csv",
        b"\n\r\n\n",
        "taobao",
        "empty file (no data rows)",
    );
    expect_failure_empty("empty.txt", b"", "spmf", "empty file");
}

#[test]
fn header_only_file() {
    expect_failure_empty(
        "retail.csv",
        b"InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\r\n",
        "online-retail",
        "header only, no data rows",
    );
}

fn expect_failure_empty(name: &str, content: &[u8], preset: &str, what: &str) {
    let (dir, input) = temp_file(name, content);
    let out = dir.path().join("out.txt");
    let r = convert(&input, preset, "", &out).run();
    assert!(!r.ok());
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert_eq!(
        r.stderr.trim_end(),
        format!("error: {}: {what}", input.display())
    );
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn hundred_megabyte_line() {
    let dir = tempdir();
    let input = dir.path().join("huge.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
        f.write_all(b"1,2,3,pv,1511544070\n1,").unwrap();
        let chunk = vec![b'7'; 1 << 20];
        for _ in 0..100 {
            f.write_all(&chunk).unwrap();
        }
        f.write_all(b",3,pv,1511544070\n").unwrap();
    }
    expect_failure_at(
        dir.path(),
        &input,
        "taobao",
        ":2",
        "a line of at most 67108864 bytes",
        "\"a line of more than",
    );
}

#[test]
fn truncated_gzip() {
    let log: String = (0..5000)
        .map(|u| format!("{u},{},{},pv,{}\n", u * 7 % 1000, u % 13, 1_511_544_070 + u))
        .collect();
    let gz = gzip(log.as_bytes());
    let (dir, input) = temp_file("t.csv.gz", &gz[..gz.len() / 2]);
    expect_failure_at(
        dir.path(),
        &input,
        "taobao",
        ":",
        "a complete gzip stream",
        "\"truncated or corrupt gzip data",
    );
    // Even --on-error skip must not accept a truncated stream.
    let out = dir.path().join("o.txt");
    convert(&input, "taobao", "--on-error skip", &out).fails_with("a complete gzip stream");
    assert!(!out.exists());
}

#[test]
fn spmf_line_without_terminator() {
    expect_failure(
        "s.txt",
        b"1 -1 2 -1 -2\n1 -1 2 -1\n",
        "spmf",
        ":2:5",
        "-2 at the end of the sequence",
        "\"end of line\"",
    );
}

#[test]
fn skip_reports_counts_per_reason() {
    let mut s = String::new();
    for u in 0..50 {
        s.push_str(&format!("{},{},7,pv,{}\n", u % 5, u, 1_511_544_070 + u));
    }
    s.push_str("1,2,3,click,1511544070\n"); // unknown action
    s.push_str("1,2,3,click,1511544070\n"); // unknown action
    s.push_str("1,x,3,pv,1511544070\n"); // non-numeric item
    s.push_str("1,2,3\n"); // wrong column count
    s.push_str("1,2,3,buy,1511544070\n");
    let (dir, input) = temp_file("t.csv", s);
    let out = dir.path().join("o.txt");
    let r = convert(&input, "taobao", "--on-error skip", &out).run();
    assert!(r.ok(), "{}", r.stderr);
    assert!(r.stderr.contains("skipped 4 row(s)"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("2 × expected a Taobao behavior (pv, cart, fav or buy)"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("1 × expected an integer item id"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("1 × expected 5 fields"), "{}", r.stderr);
    let written = std::fs::read_to_string(&out).unwrap();
    // 5 users; 51 good events.
    assert_eq!(written.lines().count(), 5);
    let events: usize = written
        .lines()
        .map(|l| l.split(' ').filter(|t| !t.starts_with('-')).count())
        .sum();
    assert_eq!(events, 51);

    // Without skip the same file fails at the first bad row, line 51.
    cartseq("stats --preset taobao")
        .arg(&input)
        .fails_with("t.csv:51:4: expected a Taobao behavior");
}

#[test]
fn all_rows_bad_under_skip_is_an_error() {
    let (_dir, input) = temp_file("t.csv", "a,b\nc,d\n");
    cartseq("stats --preset taobao --on-error skip")
        .arg(&input)
        .fails_with("no valid rows: all 2 data row(s) were skipped");
}

#[test]
fn bad_options_are_one_line_errors() {
    for (line, want) in [
        (
            "stats data/samples/taobao_sample.csv --preset taobao --session-gap 3x",
            "duration unit",
        ),
        (
            "stats data/samples/taobao_sample.csv --preset taobao --actions share",
            "none of these actions occurs in the log",
        ),
        (
            "stats data/samples/SIGN.txt --preset spmf --token category",
            "only apply to event logs",
        ),
        ("stats data/samples/taobao_sample.csv", "--preset"),
    ] {
        cartseq(line).fails_with(want);
    }
}
