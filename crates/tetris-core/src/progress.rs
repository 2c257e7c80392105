//! Progress on stderr for long work: the one way every layer draws a bar or a spinner.

use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

/// A bar of `len` steps drawn by the indicatif `template`; hidden when not `show`.
pub fn bar(show: bool, len: u64, template: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b
}

/// Run `work` under a [`spinner`], cleared when the work ends (also when it fails).
pub fn during<T>(show: bool, msg: String, work: impl FnOnce() -> T) -> T {
    let sp = spinner(show, msg);
    let r = work();
    sp.finish_and_clear();
    r
}

/// A spinner with the elapsed time and `msg`, ticking on its own; hidden when not `show`.
pub fn spinner(show: bool, msg: String) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new_spinner();
    b.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    b.set_message(msg);
    b.enable_steady_tick(Duration::from_millis(200));
    b
}
