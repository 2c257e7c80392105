//! Running the `tetris` binary from the integration tests.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::process::{Command, Output};

/// The `tetris` binary of this build.
pub fn tetris() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tetris"))
}

/// Run `cmd`; it must succeed (its stderr is the failure message).
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
