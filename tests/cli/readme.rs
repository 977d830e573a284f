//! Every command block of README.md runs and exits 0, so the README cannot drift from the code.
//!
//! A command block is a fenced block marked `sh`, `bash` or `console` (in a `console` block only the
//! lines starting with `$ ` are commands; the rest is output). Comment lines are dropped and a line
//! ending in `\` continues on the next. Each command is then
//! * run, when it calls `cartseq` (also inside a pipeline) or is `cargo run --release -- ARGS` (the
//!   README's first set-up command), which becomes `cartseq ARGS`: bash runs it with `set -o pipefail`
//!   and `cartseq` defined as a function calling the binary under test;
//! * skipped with its printed reason when it starts as an entry of [`NOT_RUN`] (the README's test
//!   command `cargo test --release --workspace`, which this test is part of; peer tools; CI);
//! * run only when `../shared` exists when it names `../shared`, else skipped with a printed reason,
//!   except under `CI=true`, where the absence fails;
//! * a failure of this test otherwise, so that a new kind of README line gets a decision here.
//!
//! Each block runs in its own temporary directory holding a copy of `data/samples/`, so the README's
//! relative paths work and the files its commands write (`features.csv`, `rules.csv`, `leaderboard/`, …)
//! land there and never in the repository; the commands of a block run in order, since a later one reads
//! what an earlier one wrote. `/tmp/` in a command means the block's directory, and the inputs the
//! README names as the reader's own ([`PLACEHOLDERS`]) are made there from the Taobao sample.

use std::path::Path;
use std::time::Instant;

use crate::support::{bash, gzip, repo_root, shared, tempdir};

/// The README's first set-up command (the main job on the shipped samples): it must be found and run.
const SETUP_RUN: &str =
    "cargo run --release -- stats data/samples/taobao_sample.csv --preset taobao";

/// The README's second set-up command: it must be found, and it is not run (it is this test's own run).
const SETUP_TEST: &str = "cargo test --release --workspace";

/// README commands recognised by how they start and deliberately not run, with the reason printed for
/// each (first match wins).
const NOT_RUN: &[(&str, &str)] = &[
    (
        "cargo test",
        "the README's test command: this test is part of it",
    ),
    (
        "cargo ",
        "a cargo command other than `cargo run -- …` builds or checks the code; it does not run cartseq",
    ),
    (
        "cartseq serve ",
        "a server runs until stopped: tests/cli/serve.rs starts it on an ephemeral loopback port",
    ),
    ("pip ", "installs the Python peer tools"),
    ("python", "runs a Python peer tool, not cartseq"),
    (".ci/", "the CI entry point runs this test suite itself"),
    (
        "benches/render_report.sh",
        "renders a report with headless Chromium, which a test machine need not have (the command \
         before it, which writes the report, is run)",
    ),
];

/// README commands that fail today because the README is stale, with what is wrong (reported to the
/// lead; the README is not this test's to edit). They are run and must still fail: once the README line
/// is fixed it no longer matches, and if the command itself starts to work the test says to remove the
/// entry, so this list can only shrink.
const KNOWN_STALE: &[(&str, &str)] = &[];

/// Input files the README names as the reader's own, made in each block's directory from a shipped
/// sample (gzip-compressed when the name ends in `.gz`).
const PLACEHOLDERS: &[(&str, &str)] = &[
    ("log.csv", "taobao_sample.csv"),
    ("big.csv.gz", "taobao_sample.csv"),
];

/// One command of a README block.
struct ReadmeCommand {
    /// The README line it starts on (1-based).
    line: usize,
    /// The command, continuation lines joined and the trailing comment removed.
    text: String,
}

/// What the test does with a command.
enum Plan {
    /// Run this bash command line.
    Run(String),
    /// Do not run it, for this reason.
    Skip(&'static str),
}

/// What running one block gave: the commands run, those skipped, the failures, and a log line per
/// command (printed in README order once every block is done).
#[derive(Default)]
struct BlockOutcome {
    ran: Vec<String>,
    skipped: Vec<String>,
    failures: Vec<String>,
    log: Vec<String>,
}

#[test]
fn readme_command_blocks_run() {
    let readme = crate::support::read(&repo_root().join("README.md"));
    let blocks = command_blocks(&readme);
    assert!(!blocks.is_empty(), "README.md has no command block");
    // Blocks are independent (each has its own directory), so they run side by side: the test then
    // takes as long as its slowest block, not as the sum.
    let outcomes: Vec<BlockOutcome> = std::thread::scope(|scope| {
        let running: Vec<_> = blocks
            .iter()
            .map(|block| scope.spawn(move || run_block(block)))
            .collect();
        running
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut all = BlockOutcome::default();
    for o in outcomes {
        all.ran.extend(o.ran);
        all.skipped.extend(o.skipped);
        all.failures.extend(o.failures);
        all.log.extend(o.log);
    }
    eprintln!("{}", all.log.join("\n"));
    assert!(
        all.ran.iter().any(|c| c == SETUP_RUN),
        "the set-up command `{SETUP_RUN}` is not in a README command block"
    );
    assert!(
        all.skipped.iter().any(|c| c == SETUP_TEST),
        "the test command `{SETUP_TEST}` is not in a README command block"
    );
    assert!(
        all.failures.is_empty(),
        "{} of {} README commands failed:\n{}",
        all.failures.len(),
        all.ran.len(),
        all.failures.join("\n")
    );
}

/// A command written in a fenced block of another language (`text`, none) would never be run by
/// [`readme_command_blocks_run`]: every `cartseq …` / `cargo run …` line must sit in a command block.
#[test]
fn readme_commands_are_all_in_command_blocks() {
    let readme = crate::support::read(&repo_root().join("README.md"));
    let mut fence: Option<String> = None;
    let mut hidden = Vec::new();
    for (i, line) in readme.lines().enumerate() {
        let t = line.trim();
        if let Some(lang) = t.strip_prefix("```") {
            fence = match fence {
                None => Some(lang.trim().to_string()),
                Some(_) => None,
            };
            continue;
        }
        let in_other = fence
            .as_deref()
            .is_some_and(|l| !matches!(l, "sh" | "bash" | "console"));
        let command = ["cartseq ", "$ cartseq ", "cargo run "]
            .iter()
            .any(|c| t.starts_with(c));
        if in_other && command {
            hidden.push(format!("README.md:{}: {t}", i + 1));
        }
    }
    assert!(
        hidden.is_empty(),
        "commands outside a ```sh block are never tested:\n{}",
        hidden.join("\n")
    );
}

/// Runs the commands of one block in order, in a fresh directory prepared by [`prepare_block_dir`].
fn run_block(block: &[ReadmeCommand]) -> BlockOutcome {
    let dir = tempdir();
    prepare_block_dir(dir.path());
    let mut out = BlockOutcome::default();
    for cmd in block {
        let (line, text) = (cmd.line, cmd.text.as_str());
        let script = match plan(cmd) {
            Plan::Skip(why) => {
                out.log
                    .push(format!("README.md:{line}: not run ({why}): {text}"));
                out.skipped.push(cmd.text.clone());
                continue;
            }
            Plan::Run(script) => script,
        };
        let Some(script) = resolve_paths(&script, dir.path()) else {
            out.log
                .push(format!("README.md:{line}: not run (no ../shared): {text}"));
            out.skipped.push(cmd.text.clone());
            continue;
        };
        let start = Instant::now();
        let r = bash(&script, dir.path());
        let secs = start.elapsed().as_secs_f64();
        out.log.push(format!(
            "README.md:{line}: exit {:?} in {secs:.1}s: {text}",
            r.code
        ));
        out.ran.push(cmd.text.clone());
        let stale = KNOWN_STALE.iter().find(|(command, _)| *command == text);
        match (r.ok(), stale) {
            (true, None) => {}
            (false, Some((_, why))) => out.log.push(format!(
                "README.md:{line}: fails as known ({why}); the README needs fixing"
            )),
            (true, Some(_)) => out.failures.push(format!(
                "README.md:{line}: `{text}` works now: remove it from KNOWN_STALE in tests/cli/readme.rs"
            )),
            (false, None) => {
                let tail: Vec<&str> = r.stderr.lines().rev().take(15).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                out.failures.push(format!(
                    "README.md:{line}: `{text}` exited with {:?}:\n    {}",
                    r.code,
                    tail.join("\n    ")
                ));
            }
        }
    }
    out
}

/// The commands of every command block of `readme`, block by block.
fn command_blocks(readme: &str) -> Vec<Vec<ReadmeCommand>> {
    /// Where the scan is: outside fences, in a block of another language, or in a command block.
    enum State {
        Outside,
        OtherBlock,
        Commands { console: bool },
    }
    let mut state = State::Outside;
    let mut blocks = Vec::new();
    let mut block: Vec<ReadmeCommand> = Vec::new();
    let mut continued = false;
    for (i, raw) in readme.lines().enumerate() {
        let line = raw.trim();
        if let Some(lang) = line.strip_prefix("```") {
            state = match state {
                State::Outside => match lang.trim() {
                    "sh" | "bash" => State::Commands { console: false },
                    "console" => State::Commands { console: true },
                    _ => State::OtherBlock,
                },
                State::OtherBlock => State::Outside,
                State::Commands { .. } => {
                    blocks.push(std::mem::take(&mut block));
                    State::Outside
                }
            };
            continue;
        }
        let State::Commands { console } = state else {
            continue;
        };
        let text = if continued {
            line
        } else if console {
            match line.strip_prefix("$ ") {
                Some(command) => command.trim(),
                None => continue,
            }
        } else {
            line
        };
        if !continued && (text.is_empty() || text.starts_with('#')) {
            continue;
        }
        let (text, continues) = match text.strip_suffix('\\') {
            Some(head) => (head.trim_end(), true),
            None => (strip_comment(text), false),
        };
        match block.last_mut() {
            Some(last) if continued => {
                last.text.push(' ');
                last.text.push_str(text);
            }
            _ => block.push(ReadmeCommand {
                line: i + 1,
                text: text.to_owned(),
            }),
        }
        continued = continues;
    }
    blocks
}

/// `command` without a trailing shell comment (a `#` that starts a word outside quotes).
fn strip_comment(command: &str) -> &str {
    let mut quote = None;
    let mut word_start = true;
    for (i, c) in command.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '#' && word_start => return command[..i].trim_end(),
            None => {}
        }
        word_start = c.is_whitespace();
    }
    command.trim_end()
}

/// Whether to run `cmd`, and as what.
fn plan(cmd: &ReadmeCommand) -> Plan {
    let text = cmd.text.as_str();
    if let Some(args) = text
        .strip_prefix("cargo run ")
        .and_then(|rest| rest.split_once("-- "))
        .map(|(_, args)| args)
    {
        return Plan::Run(format!("cartseq {args}"));
    }
    if let Some((_, why)) = NOT_RUN.iter().find(|(start, _)| text.starts_with(start)) {
        return Plan::Skip(why);
    }
    let calls_cartseq = text
        .split(|c: char| c.is_whitespace() || c == '|' || c == ';' || c == '(')
        .any(|word| word == "cartseq");
    assert!(
        calls_cartseq,
        "README.md:{}: `{text}` neither calls cartseq nor is listed in NOT_RUN: decide in \
         tests/cli/readme.rs whether the test runs it",
        cmd.line
    );
    Plan::Run(text.to_owned())
}

/// `script` with `/tmp/` pointing into the block's directory and `../shared` made absolute; `None`
/// (after printing why) when it needs `../shared` and that is absent.
fn resolve_paths(script: &str, dir: &Path) -> Option<String> {
    let mut script = script.replace("/tmp/", &format!("'{}'/", dir.display()));
    if script.contains("../shared") {
        let shared_dir = shared("")?;
        script = script.replace("../shared", &format!("'{}'", shared_dir.display()));
    }
    Some(script)
}

/// Fills a block's working directory: a copy of `data/samples/` and the [`PLACEHOLDERS`].
fn prepare_block_dir(dir: &Path) {
    let from = repo_root().join("data/samples");
    let to = dir.join("data/samples");
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir(&from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
    for (name, sample) in PLACEHOLDERS {
        let raw = std::fs::read(from.join(sample)).unwrap();
        let bytes = if name.ends_with(".gz") {
            gzip(&raw)
        } else {
            raw
        };
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
