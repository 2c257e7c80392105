//! Running the `tetris` binary (and other programs) from the integration tests and benches,
//! and reading what they write.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `tetris` binary of this build.
pub fn tetris() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tetris"))
}

/// `out` (of a finished run) must be a success; its stdout and stderr are the failure message.
pub fn assert_succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Run `cmd`; it must succeed (its stdout and stderr are the failure message).
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert_succeeded(&out);
    out
}

/// Run `cmd`; it must succeed. Its stdout, as text.
pub fn run_ok_stdout(cmd: &mut Command) -> String {
    String::from_utf8_lossy(&run_ok(cmd).stdout).into_owned()
}

/// Run `cmd`; it must fail. Its stderr, as text.
pub fn run_fails(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{cmd:?} succeeded: {err}");
    err
}

/// `text` (a program's output) must contain each of `parts`.
pub fn assert_contains_all(text: &str, parts: &[&str]) {
    for p in parts {
        assert!(text.contains(p), "{p:?} missing from: {text}");
    }
}

/// The stderr of a failed run must be an error, not a panic, and name each of `mention`.
pub fn assert_clean_error(err: &str, mention: &[&str]) {
    assert!(!err.contains("panicked"), "{err}");
    assert_contains_all(err, mention);
}

/// Write `bytes` to `dir/name`; the path written.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The JSON document at `path`.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}
