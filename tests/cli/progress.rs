//! Progress display of the commands that can run for a while (`next`, `task`, as `mine`, `rules` and
//! `itemsets`): drawn on a terminal, silenced by `--quiet`, and never a byte of it when stderr is not a
//! terminal (a pipe, a file), so logs and scripts stay clean.

use std::process::Command;

use crate::support::{cartseq, repo_root, tempdir, BIN};

const TAOBAO: &str = "data/samples/taobao_sample.csv --preset taobao";

/// What the bars print: their messages, and the terminal controls indicatif draws them with.
const BAR_TEXT: [&str; 4] = [
    "counting follow-ups",
    "building the purchase task",
    "mining pattern features",
    "reading data/samples",
];

fn assert_no_bar(what: &str, out: &str) {
    for t in BAR_TEXT {
        assert!(!out.contains(t), "{what} holds progress text {t:?}:\n{out}");
    }
    assert!(
        !out.contains('\u{1b}'),
        "{what} holds terminal controls:\n{out}"
    );
}

#[test]
fn next_and_task_draw_nothing_when_not_on_a_terminal() {
    // The test harness captures stdout and stderr through pipes: not terminals.
    let r = cartseq(&format!("next {TAOBAO} --token action --after cart_add")).success();
    assert_no_bar("next's stderr", &r.stderr);
    assert_no_bar("next's stdout", &r.stdout);
    let dir = tempdir();
    let r = cartseq(&format!(
        "task {TAOBAO} --task purchase --horizon 1d --pattern-features 5 -o"
    ))
    .arg(dir.path().join("f.csv"))
    .success();
    assert!(r.stderr.contains("class balance"), "{}", r.stderr);
    assert_no_bar("task's stderr", &r.stderr);
}

/// Runs `cartseq ARGS` with stdout and stderr on a pseudo-terminal (`script`), returning what the
/// terminal received; `None` (with the reason printed) where `script` is not installed.
fn on_a_terminal(args: &str) -> Option<String> {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipping the terminal half: `script` (util-linux) is not installed");
        return None;
    }
    let out = Command::new("script")
        .args(["-qec", &format!("{BIN} {args}"), "/dev/null"])
        .current_dir(repo_root())
        .env("TERM", "xterm")
        .output()
        .expect("run script");
    assert!(out.status.success(), "{args}: {out:?}");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn next_and_task_show_progress_on_a_terminal_unless_quiet() {
    let dir = tempdir();
    let f = dir.path().join("f.csv");
    let task = format!(
        "task {TAOBAO} --task purchase --horizon 1d --pattern-features 5 -o {}",
        f.display()
    );
    let next = format!("next {TAOBAO} --token action --after cart_add");
    let Some(shown) = on_a_terminal(&next) else {
        return;
    };
    assert!(shown.contains("counting follow-ups"), "{shown}");
    let shown = on_a_terminal(&task).unwrap();
    assert!(shown.contains("building the purchase task"), "{shown}");
    assert!(shown.contains("mining pattern features"), "{shown}");
    for quiet in [format!("{next} -q"), format!("{task} -q")] {
        let shown = on_a_terminal(&quiet).unwrap();
        for t in BAR_TEXT {
            assert!(
                !shown.contains(t),
                "{quiet}: progress despite --quiet:\n{shown}"
            );
        }
    }
}
