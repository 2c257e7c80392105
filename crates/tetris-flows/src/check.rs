//! Checks of an emitted design with the external tools: Verilator lint, Yosys synthesis,
//! Icarus compilation. Each returns an error quoting the tool's complaints.

use super::tools::{run, Tool};
use anyhow::{bail, Result};
use std::path::Path;

/// `verilator --lint-only -Wall`, no waiver; any warning is an error.
pub fn verilator_lint(dir: &Path, top: &str, files: &[String]) -> Result<()> {
    let mut args = vec!["--lint-only", "-Wall", "--top-module", top];
    args.extend(files.iter().map(String::as_str));
    let r = run(Tool::Verilator, &args, dir)?;
    let log = r.log();
    if !r.ok || log.contains("%Warning") || log.contains("%Error") {
        bail!(
            "verilator lint of {top} in {} failed:\n{log}",
            dir.display()
        );
    }
    Ok(())
}

/// What a Yosys synthesis reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthStats {
    pub cells: u64,
}

/// Yosys `read_verilog; hierarchy -check; proc; synth; check -assert; stat`, refusing latches.
pub fn yosys_synth(dir: &Path, top: &str, files: &[String]) -> Result<SynthStats> {
    let script = format!(
        "read_verilog {}; hierarchy -check -top {top}; proc; synth -flatten -top {top}; check -assert; stat",
        files.join(" ")
    );
    let r = run(Tool::Yosys, &["-q", "-p", &script, "-l", "yosys.log"], dir)?;
    let log = std::fs::read_to_string(dir.join("yosys.log")).unwrap_or_default();
    let _ = std::fs::remove_file(dir.join("yosys.log"));
    if !r.ok {
        bail!(
            "yosys synthesis of {top} in {} failed:\n{}{}",
            dir.display(),
            r.log(),
            log.lines().rev().take(30).collect::<Vec<_>>().join("\n")
        );
    }
    // proc_dlatch prints "No latch inferred for signal .." for every combinational signal
    // and "Latch inferred for signal .." for a real latch; latch cells are $dlatch / $_DLATCH_*.
    let latches: Vec<&str> = log
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            t.starts_with("Latch inferred") || t.contains("$dlatch") || t.contains("$_DLATCH")
        })
        .collect();
    if !latches.is_empty() {
        bail!(
            "yosys inferred a latch in {top} ({}):\n{}",
            dir.display(),
            latches.join("\n")
        );
    }
    let cells = log
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("Number of cells:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    Ok(SynthStats { cells })
}

/// `iverilog -g2005` compilation of the design.
pub fn iverilog_compile(dir: &Path, top: &str, files: &[String]) -> Result<()> {
    let mut args = vec!["-g2005", "-s", top, "-o", "/dev/null"];
    args.extend(files.iter().map(String::as_str));
    let r = run(Tool::Iverilog, &args, dir)?;
    if !r.ok || !r.log().trim().is_empty() {
        bail!(
            "iverilog -g2005 of {top} in {} failed:\n{}",
            dir.display(),
            r.log()
        );
    }
    Ok(())
}
