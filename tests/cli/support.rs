//! The one helper every module of this test binary shares: run the built `cartseq` binary and capture
//! what it did, find the shipped samples and the optional `../shared` datasets, make temporary
//! directories, read small CSV files.
//!
//! Invocations are written the way Cargo's test suite writes them: `cartseq("mine --min-count 2 -q")`
//! splits its words at white space, and `.arg(path)` adds one argument as it is (a path may hold spaces).
//! The binary runs in the repository root, so the README's relative `data/samples/…` paths work
//! unchanged; whatever a test writes goes to a temporary directory it names. Nothing here knows the
//! crate's internals: the tests drive the binary only, so they survive any reorganisation of `src/`.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The binary under test, built by Cargo for this test target (in the test's own profile).
pub const BIN: &str = env!("CARGO_BIN_EXE_cartseq");

/// The root crate's directory: where `README.md` and `data/samples/` are, and the default working
/// directory of every run.
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// True under `CI=true`, where a missing `../shared` is a failure rather than a reason to skip.
pub fn on_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// `../shared/<rel>` beside the repository when it exists. When it does not, prints why the calling test
/// skips its check and returns `None`; under `CI=true` the absence fails the test instead, so CI cannot
/// pass by skipping.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let path = repo_root().join("../shared").join(rel);
    if path.exists() {
        return Some(path);
    }
    assert!(!on_ci(), "{} is missing under CI=true", path.display());
    eprintln!("skipping: {} not found", path.display());
    None
}

/// A fresh temporary directory, deleted when the value is dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary directory")
}

/// A fresh temporary directory holding one file, `name`, with `content`; the directory (deleted when
/// dropped) and the file's path.
pub fn temp_file(name: &str, content: impl AsRef<[u8]>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (dir, path)
}

/// `data` compressed as one gzip stream.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data)
        .and_then(|()| enc.finish())
        .expect("gzip in memory")
}

/// The whole of a text file; a missing file fails the test with its path.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A JSON array of whole numbers; anything else fails the test.
pub fn u64s(v: &serde_json::Value) -> Vec<u64> {
    let items = v.as_array().unwrap_or_else(|| panic!("not an array: {v}"));
    items
        .iter()
        .map(|x| {
            x.as_u64()
                .unwrap_or_else(|| panic!("not a whole number: {x}"))
        })
        .collect()
}

/// A small CSV file read whole: the header and every record as strings.
pub struct Csv {
    /// The column names of the first line.
    pub header: Vec<String>,
    /// The records after the header, cell by cell.
    pub rows: Vec<Vec<String>>,
}

impl Csv {
    /// Parses CSV text with a header line (quoted cells as the `csv` crate reads them).
    pub fn parse(text: &str) -> Self {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header = reader
            .headers()
            .expect("a CSV header")
            .iter()
            .map(str::to_owned)
            .collect();
        let rows = reader
            .records()
            .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
            .collect();
        Csv { header, rows }
    }

    /// Reads and parses a CSV file with a header line.
    pub fn read(path: &Path) -> Self {
        Self::parse(&read(path))
    }

    /// The index of column `name`; a missing column fails the test.
    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.header))
    }
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// The command line as run, for failure messages.
    pub command: String,
    /// The exit code; `None` when a signal ended the process.
    pub code: Option<i32>,
    /// Standard output, decoded lossily.
    pub stdout: String,
    /// Standard error, decoded lossily.
    pub stderr: String,
}

impl Run {
    /// True when the process exited with status 0.
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// Standard output parsed as one JSON value; anything else fails the test.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "{}: stdout is not JSON ({e}):\n{}",
                self.command, self.stdout
            )
        })
    }

    /// Standard output parsed as JSON lines, one value per line.
    pub fn jsonl(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("{}: not a JSON line ({e}): {l}", self.command))
            })
            .collect()
    }
}

/// One prepared invocation of the binary: its arguments and standard input.
#[must_use = "a command does nothing until it is run"]
pub struct Cartseq {
    args: Vec<OsString>,
    stdin: Option<Vec<u8>>,
}

/// `cartseq WORDS…`: the words of `line`, split at white space, run from the repository root. Add paths
/// with [`Cartseq::arg`] and more words with [`Cartseq::words`].
pub fn cartseq(line: &str) -> Cartseq {
    Cartseq {
        args: Vec::new(),
        stdin: None,
    }
    .words(line)
}

/// Runs `cartseq stats INPUT WORDS… --json` from the repository root, expects success and returns the
/// parsed report (the checks of `presets` and `stats_counts` read it).
pub fn stats_json(input: impl AsRef<OsStr>, words: &str) -> serde_json::Value {
    cartseq("stats")
        .arg(input)
        .words(words)
        .arg("--json")
        .json()
}

impl Cartseq {
    /// Adds the words of `line`, split at white space.
    pub fn words(mut self, line: &str) -> Self {
        self.args
            .extend(line.split_whitespace().map(OsString::from));
        self
    }

    /// Adds one argument as it is.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Adds arguments as they are.
    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Feeds `input` on standard input (otherwise standard input is empty).
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    /// Runs the binary to completion and captures its exit code and output.
    pub fn run(self) -> Run {
        let command = std::iter::once(OsStr::new("cartseq"))
            .chain(self.args.iter().map(OsString::as_os_str))
            .map(OsStr::to_string_lossy)
            .collect::<Vec<_>>()
            .join(" ");
        let mut child = Command::new(BIN)
            .args(&self.args)
            .current_dir(repo_root())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{command}: cannot start {BIN}: {e}"));
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let input = self.stdin.unwrap_or_default();
        // Written from a thread so that a child which prints before reading everything cannot deadlock.
        let writer = std::thread::spawn(move || pipe.write_all(&input));
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("{command}: {e}"));
        // The child may exit without reading its input (a broken pipe here is its choice, not a failure).
        let _ = writer.join();
        Run {
            command,
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs and fails the test, with the command and its stderr, unless the exit status is 0.
    pub fn success(self) -> Run {
        let r = self.run();
        assert!(r.ok(), "{} failed ({:?}):\n{}", r.command, r.code, r.stderr);
        r
    }

    /// Runs and fails the test unless the exit status is non-zero and stderr contains `want`.
    pub fn fails_with(self, want: &str) -> Run {
        let r = self.failure();
        assert!(
            r.stderr.contains(want),
            "{}: {want:?} not in:\n{}",
            r.command,
            r.stderr
        );
        r
    }

    /// Runs with `OUT` (the file `out_name` in a fresh empty folder) as the last argument, after an
    /// `-o` ending the words, and fails the test unless the run fails with `want` and leaves that
    /// folder empty: no OUT, no manifest, no temporary file.
    pub fn fails_leaving_nothing(self, out_name: &str, want: &str) -> Run {
        let dir = tempdir();
        let out = dir.path().join(out_name);
        let r = self.arg(&out).fails_with(want);
        assert!(
            !out.exists(),
            "{}: {} was written",
            r.command,
            out.display()
        );
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{}: left behind {left:?}", r.command);
        r
    }

    /// Runs and fails the test unless the exit status is non-zero.
    pub fn failure(self) -> Run {
        let r = self.run();
        assert!(!r.ok(), "{} should fail:\n{}", r.command, r.stderr);
        r
    }

    /// Runs, expects success, and parses standard output as one JSON value.
    pub fn json(self) -> serde_json::Value {
        self.success().json()
    }
}

/// Fails the test, showing `text`, unless `text` contains every one of `wanted`.
pub fn assert_contains_all(text: &str, wanted: &[&str]) {
    for w in wanted {
        assert!(text.contains(w), "{w:?} not in:\n{text}");
    }
}

/// Runs `script` with bash (`set -o pipefail`) in `dir`, with `cartseq` defined as a function that calls
/// the built binary, as a user's shell would after installing it: for pipelines such as `… | head`.
pub fn bash(script: &str, dir: &Path) -> Run {
    let full = format!("set -o pipefail\ncartseq() {{ \"$CARTSEQ_BIN\" \"$@\"; }}\n{script}");
    let out = Command::new("bash")
        .arg("-c")
        .arg(&full)
        .current_dir(dir)
        .env("CARTSEQ_BIN", BIN)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot start bash for `{script}`: {e}"));
    Run {
        command: script.to_owned(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `cartseq nextitem WORDS --json -q` on the shared Yoochoose 100k split (train_tr → train_valid), with
/// the number of predictions checked; `None` (skipped with a reason) when ../shared is absent.
pub fn shared_yoochoose_nextitem(words: &str) -> Option<serde_json::Value> {
    let dir = shared("data/yoochoose")?;
    let v = cartseq(&format!("nextitem {words} --json -q"))
        .arg("--train")
        .arg(dir.join("yoochoose-clicks-100k_train_tr.txt"))
        .arg("--test")
        .arg(dir.join("yoochoose-clicks-100k_train_valid.txt"))
        .json();
    assert_eq!(v["predictions"].as_u64(), Some(12455));
    Some(v)
}
