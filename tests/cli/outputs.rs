//! The output layer (`src/output.rs`) seen from the command line: a symlink stays a link and its target
//! is replaced; a device is written in place, never renamed over; an export and its manifest appear
//! together or not at all; output paths are checked before any work; Ctrl-C / SIGTERM leave no
//! temporary file behind and exit 130 / 143. Each test is named after the bug it pins (issue 17).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{assert_contains_all, cartseq, read, tempdir, Cartseq, BIN};

const TAOBAO: &str = "data/samples/taobao_sample.csv";

/// `cartseq rules` on the Taobao sample (a few sequential rules in a fraction of a second) into `out`.
fn rules_to(out: &Path) -> Cartseq {
    cartseq("rules")
        .arg(TAOBAO)
        .words("--preset taobao --session-gap 1h --kind sequential --min-support #3 --min-confidence 0.3 -q -o")
        .arg(out)
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Temporary files cartseq left in `dir`.
fn temps(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.starts_with(".cartseq-"))
        .collect()
}

#[test]
#[cfg(unix)]
fn symlink_output_stays_a_link_and_its_target_is_replaced() {
    let dir = tempdir();
    let real = dir.path().join("real.csv");
    std::fs::write(&real, "old\n").unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink("real.csv", &link).unwrap();
    rules_to(&link).success();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(read(&real).starts_with("antecedent,consequent"));
    // `task` and `convert` go through the same layer.
    let task_link = dir.path().join("features.csv");
    std::os::unix::fs::symlink("real.csv", &task_link).unwrap();
    cartseq("task")
        .arg(TAOBAO)
        .words("--preset taobao --task purchase --horizon 1d -q -o")
        .arg(&task_link)
        .success();
    assert!(std::fs::symlink_metadata(&task_link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(read(&real).starts_with("user_id,split,label"));
    assert!(temps(dir.path()).is_empty(), "{:?}", names(dir.path()));
}

/// Whether `p` is a character device.
#[cfg(unix)]
fn is_char_device(p: &str) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(p).unwrap().file_type().is_char_device()
}

#[test]
#[cfg(unix)]
fn device_output_is_written_in_place_never_replaced() {
    for args in [
        "convert data/samples/taobao_sample.csv --preset taobao -q -o /dev/null",
        "rules data/samples/taobao_sample.csv --preset taobao --kind sequential --min-support #3 -q -o /dev/null",
        "task data/samples/taobao_sample.csv --preset taobao --task purchase --horizon 1d -q -o /dev/null",
        "mine data/samples/contextPrefixSpan.txt --min-support 0.5 -q -o /dev/null",
    ] {
        cartseq(args).success();
        assert!(is_char_device("/dev/null"), "{args} replaced /dev/null");
    }
    // Nothing was put beside the device.
    for beside in ["/dev/null.manifest.json", "/dev/null.dict.json"] {
        assert!(!Path::new(beside).exists(), "{beside} was written");
    }
    // A device that refuses the bytes is an error naming it, and stays a device.
    let r = cartseq("mine data/samples/SIGN.txt --min-support 0.5 -q -o /dev/full").failure();
    assert!(r.stderr.contains("/dev/full"), "{}", r.stderr);
    assert!(is_char_device("/dev/full"));
}

#[test]
fn export_and_manifest_appear_together_or_not_at_all() {
    let dir = tempdir();
    let out = dir.path().join("rules.csv");
    // The manifest's place is taken by a folder: nothing is written, and an old export is untouched.
    std::fs::create_dir(dir.path().join("rules.csv.manifest.json")).unwrap();
    let r = rules_to(&out).failure();
    assert_contains_all(&r.stderr, &["rules.csv.manifest.json", "folder"]);
    assert_eq!(names(dir.path()), ["rules.csv.manifest.json"]);
    std::fs::write(&out, "old rules\n").unwrap();
    rules_to(&out).failure();
    assert_eq!(read(&out), "old rules\n");
    // The same for itemsets and task, and for convert's dictionary.
    cartseq(
        "itemsets data/samples/retail_basket_sample.txt --preset basket --min-support #20 -q -o",
    )
    .arg(&out)
    .failure();
    assert_eq!(read(&out), "old rules\n");
    std::fs::create_dir(dir.path().join("seqs.txt.dict.json")).unwrap();
    cartseq("convert")
        .arg(TAOBAO)
        .words("--preset taobao -q -o")
        .arg(dir.path().join("seqs.txt"))
        .fails_with("seqs.txt.dict.json");
    assert_eq!(
        names(dir.path()),
        ["rules.csv", "rules.csv.manifest.json", "seqs.txt.dict.json"]
    );
    // Once the way is clear, both appear.
    std::fs::remove_dir(dir.path().join("rules.csv.manifest.json")).unwrap();
    rules_to(&out).success();
    assert!(read(&dir.path().join("rules.csv.manifest.json")).contains("\"rules\""));
    // `mine -o` has its manifest too, checked before mining.
    let patterns = dir.path().join("p.csv");
    std::fs::create_dir(dir.path().join("p.csv.manifest.json")).unwrap();
    cartseq("mine data/samples/SIGN.txt --min-support 0.5 -q -o")
        .arg(&patterns)
        .fails_with("p.csv.manifest.json");
    std::fs::remove_dir(dir.path().join("p.csv.manifest.json")).unwrap();
    cartseq("mine data/samples/SIGN.txt --min-support 0.5 -q -o")
        .arg(&patterns)
        .success();
    assert!(read(&dir.path().join("p.csv.manifest.json")).contains("\"min_support_count\""));
}

#[test]
fn bad_output_paths_fail_before_any_work() {
    let cases: [(&str, &str); 6] = [
        (
            "report data/samples/taobao_sample.csv --preset taobao --task purchase --models prior -o /nonexistent/r.html",
            "/nonexistent/r.html",
        ),
        (
            "nextitem --train data/samples/yoochoose_train_tr_sample.txt --test data/samples/yoochoose_valid_sample.txt \
             --preset yoochoose --model gru --epochs 1 --save-model /nonexistent/m.json",
            "/nonexistent/m.json",
        ),
        (
            "leaderboard data/samples/taobao_sample.csv --preset taobao --task purchase --models prior --out-dir data/samples/taobao_sample.csv/x",
            "data/samples/taobao_sample.csv",
        ),
        (
            "mine data/samples/SIGN.txt --min-support 0.5 -o /nonexistent/p.csv",
            "/nonexistent/p.csv",
        ),
        (
            "task data/samples/taobao_sample.csv --preset taobao --task purchase --horizon 1d -o /nonexistent/f.csv",
            "/nonexistent/f.csv",
        ),
        (
            "convert data/samples/taobao_sample.csv --preset taobao -o data/samples",
            "data/samples",
        ),
    ];
    for (args, path) in cases {
        let r = cartseq(args).failure();
        let first = r
            .stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or("");
        assert!(first.contains(path), "{args}: {}", r.stderr);
        // Failed before reading or fitting anything.
        assert!(!r.stderr.contains("fitting"), "{args}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{args}: {}", r.stderr);
    }
    // train checks -o before reading the feature CSV (which need not exist for the check to fire).
    cartseq("train no-such-features.csv --model prior -o /nonexistent/m.json")
        .fails_with("cannot write /nonexistent/m.json: folder /nonexistent does not exist");
}

/// An SPMF database big enough that mining every pattern at support 2 runs for minutes: 400 sequences
/// of 40 items drawn from 12 (a fixed linear congruential stream, so the file is the same every run).
fn explosive_spmf(path: &Path) {
    let mut x: u64 = 12345;
    let mut text = String::new();
    for _ in 0..400 {
        for _ in 0..40 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            text.push_str(&format!("{} -1 ", 1 + (x >> 33) % 12));
        }
        text.push_str("-2\n");
    }
    std::fs::write(path, text).unwrap();
}

/// Starts `mine` writing to `out` in `dir`, waits until its temporary file exists, sends `signal` and
/// returns the exit code.
#[cfg(unix)]
fn interrupt_mine(
    dir: &Path,
    input: &Path,
    out: &PathBuf,
    format: &str,
    signal: &str,
) -> Option<i32> {
    let mut child = Command::new(BIN)
        .args([
            "mine",
            "--min-count",
            "2",
            "--max-patterns",
            "1000000000000",
            "-q",
            "--format",
            format,
        ])
        .arg(input)
        .arg("-o")
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while temps(dir).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "mine never started writing"
        );
        if let Some(status) = child.try_wait().unwrap() {
            panic!("mine ended before the signal: {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let it write for a moment, then interrupt it the way a shell does.
    std::thread::sleep(Duration::from_millis(200));
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args([signal, &pid])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    out.status.code()
}

#[test]
#[cfg(unix)]
fn interrupted_mine_leaves_no_temporary_file() {
    let dir = tempdir();
    let input = dir.path().join("explosive.txt");
    explosive_spmf(&input);
    let out = dir.path().join("patterns.out");
    for (format, signal, code) in [
        ("csv", "-INT", 130),
        ("spmf", "-INT", 130),
        ("spmf", "-TERM", 143),
    ] {
        let got = interrupt_mine(dir.path(), &input, &out, format, signal);
        assert_eq!(got, Some(code), "--format {format}, kill {signal}");
        assert_eq!(
            names(dir.path()),
            ["explosive.txt"],
            "--format {format}, kill {signal}: a file was left behind"
        );
    }
}
