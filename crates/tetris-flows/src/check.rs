//! Checks of an emitted design with the external tools: Verilator lint, Yosys synthesis,
//! Icarus compilation. Each returns an error quoting the tool's complaints.

use super::tools::{run, Tool};
use anyhow::{bail, Context, Result};
use std::path::Path;

/// What the checks of this module are, in a line (a design folder's manifest says it).
pub const CHECKS: &str = "verilator --lint-only -Wall (no waiver); iverilog -g2005; yosys \
     read_verilog, hierarchy -check, proc, scc -expect 0 on a flattened copy (no combinational \
     loop), synth of the hierarchy, check -assert, no latch";

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

/// Yosys checks of a design, refusing latches: `read_verilog; hierarchy -check; proc`; on a
/// flattened copy `scc -expect 0` (no combinational loop, also none through module ports,
/// which only the whole design shows); then `synth` of the hierarchy, `check -assert` (no
/// multiple or missing driver, also at instance ports) and `stat -top` (the cells of every
/// instance, summed over the hierarchy).
///
/// Each distinct module is synthesized once instead of once per instance (`tetris gen` of the
/// default 4x4 16-bit array: 8.7 s instead of 202.7 s with `synth -flatten`, docs/rtl.md), and
/// `scc` needs a third of the memory of a flattened `check` (an 8x8 16-bit array, both after
/// `opt -purge`: 0.47 GB against 1.5 GB; docs/rtl.md). Without optimization across module boundaries the cell count is higher
/// than a flattened synthesis gives (the default design: 248,254 against 228,893).
pub fn yosys_synth(dir: &Path, top: &str, files: &[String]) -> Result<SynthStats> {
    let script = format!(
        "read_verilog {}; hierarchy -check -top {top}; proc; design -save elaborated; \
         opt -purge; flatten; scc -expect 0; design -load elaborated; \
         synth -top {top}; check -assert; stat -top {top}",
        files.join(" ")
    );
    let r = run(Tool::Yosys, &["-q", "-p", &script, "-l", "yosys.log"], dir)?;
    let log = std::fs::read_to_string(dir.join("yosys.log")).unwrap_or_default();
    let _ = std::fs::remove_file(dir.join("yosys.log"));
    let loops: Vec<&str> = log
        .lines()
        .filter_map(|l| l.strip_prefix("Found an SCC: "))
        .collect();
    if !loops.is_empty() {
        bail!(
            "{top} ({}) has a combinational loop through these cells (Yosys names, after \
             flattening):\n{}",
            dir.display(),
            loops.join("\n")
        );
    }
    if !r.ok {
        bail!(
            "yosys synthesis of {top} in {} failed:\n{}{}",
            dir.display(),
            r.log(),
            last_lines(&log, 30)
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
    // With `stat -top`, the last count is the whole hierarchy's.
    let cells = log
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("Number of cells:"))
        .and_then(|n| n.trim().parse().ok())
        .with_context(|| {
            format!(
                "yosys synthesis of {top} in {}: no cell count in its log:\n{}",
                dir.display(),
                last_lines(&log, 30)
            )
        })?;
    Ok(SynthStats { cells })
}

/// The last `n` lines of a log, in order.
fn last_lines(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
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
