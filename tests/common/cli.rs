//! Running the `tetris` binary (and other programs) from the integration tests and benches,
//! and reading what they write.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `tetris` binary of this build.
pub fn tetris() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tetris"))
}

/// Command-line options as `--name value` pairs, one call each.
pub trait CommandExt {
    /// Add the option `name` with `value` (`.arg(name).arg(value)`).
    fn opt(&mut self, name: &str, value: impl AsRef<OsStr>) -> &mut Command;
}

impl CommandExt for Command {
    fn opt(&mut self, name: &str, value: impl AsRef<OsStr>) -> &mut Command {
        self.arg(name).arg(value)
    }
}

/// `tetris noise-profile --mult mult --width width`, to add options to.
pub fn noise_profile(mult: &str, width: &str) -> Command {
    let mut c = tetris();
    c.args(["noise-profile", "--mult", mult, "--width", width]);
    c
}

/// `tetris characterize --width width --verilog verilog`, to add options to.
pub fn characterize(verilog: &Path, width: &str) -> Command {
    let mut c = tetris();
    c.args(["characterize", "--width", width, "--verilog"])
        .arg(verilog);
    c
}

/// `out` (of a finished run of `what`) must be a success; its stdout and stderr are the
/// failure message.
pub fn assert_succeeded(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Run `cmd`; it must succeed (its stdout and stderr are the failure message).
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert_succeeded(&out, &format!("{cmd:?}"));
    out
}

/// Run `cmd`, a program the machine must provide (`need`, the panic message when it cannot be
/// started, says which and what for); it must succeed.
pub fn run_required(cmd: &mut Command, need: &str) -> Output {
    let out = cmd.output().expect(need);
    assert_succeeded(&out, &format!("{cmd:?}"));
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

/// A fresh temporary folder holding the file `name` with `text`.
pub fn temp_dir_with_file(name: &str, text: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join(name), text).unwrap();
    t
}

/// Write `bytes` to `dir/name`; the path written.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The text of the file at `path`.
pub fn read_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// The JSON document at `path`.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}
