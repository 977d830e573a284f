//! Progress on stderr, in one place: a byte bar for reading an input ([`ByteBar`]) and a spinner for
//! the steps that run for a while without reading input ([`spinner`]: mining, rule search, `next`'s
//! counting, `task`'s rows and pattern features). Both are drawn only when stderr is a terminal and
//! never with `--quiet`, so a redirected or piped run (a script, CI, `2> log`) gets none of their
//! bytes. The spinner ticks by itself, so the algorithms need no callback.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether progress may be drawn: not `--quiet`, and stderr is a terminal.
pub fn visible(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// A spinner saying `what` (`mining patterns`), or `None` when quiet or not on a terminal. Finish it
/// with [`finish`].
pub fn spinner(quiet: bool, what: &str) -> Option<ProgressBar> {
    if !visible(quiet) {
        return None;
    }
    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(4));
    bar.set_message(what.to_owned());
    bar.enable_steady_tick(Duration::from_millis(250));
    Some(bar)
}

/// Clears a spinner made by [`spinner`].
pub fn finish(bar: Option<ProgressBar>) {
    if let Some(b) = bar {
        b.finish_and_clear();
    }
}

/// Runs `step` under a [`spinner`] saying `what`, cleared when it returns (whatever it returns).
pub fn with_spinner<T>(quiet: bool, what: &str, step: impl FnOnce() -> T) -> T {
    let bar = spinner(quiet, what);
    let out = step();
    finish(bar);
    out
}

/// A byte-count bar for reading `path` (a spinner with the byte count for gzip or standard input,
/// whose length is unknown); nothing when quiet or not on a terminal.
pub struct ByteBar {
    bar: Option<ProgressBar>,
}

impl ByteBar {
    /// A bar for reading `path`.
    pub fn new(path: &Path, quiet: bool) -> Self {
        if !visible(quiet) {
            return ByteBar { bar: None };
        }
        let len = std::fs::metadata(path).ok().map(|m| m.len());
        let gz = path.extension().is_some_and(|e| e == "gz");
        let bar = match len {
            Some(n) if !gz => ProgressBar::new(n).with_style(
                ProgressStyle::with_template(
                    "{spinner} reading {msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            ),
            _ => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{spinner} reading {msg} {bytes} ({bytes_per_sec})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(8));
        bar.set_message(path.display().to_string());
        ByteBar { bar: Some(bar) }
    }

    /// Sets the bytes read so far.
    pub fn set(&self, bytes: u64) {
        if let Some(b) = &self.bar {
            b.set_position(bytes);
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
