//! A spinner for the steps that can run for a while without reading input (mining, rule search): it
//! shows what runs and for how long, on stderr, only when stderr is a terminal, and never with
//! `--quiet`. It ticks by itself, so the algorithms need no callback.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A spinner saying `what` (`mining patterns`), or `None` when quiet or not on a terminal. Finish it
/// with [`finish`].
pub fn spinner(quiet: bool, what: &str) -> Option<ProgressBar> {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
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
