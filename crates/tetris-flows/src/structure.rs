//! Proof that a third-party design is a combinational function of its inputs before
//! `characterize` sweeps it: Yosys elaborates the top with its parameter overrides
//! (`hierarchy -chparam`), turns processes into cells (`proc`), flattens it and runs `check`.
//! A flip-flop, a latch (state kept by an `always` block that does not assign on every path),
//! a written memory or a combinational loop is an error naming the file and line; the ports
//! come back, in port order, with their widths and signedness as Yosys elaborated them.

use crate::tools::{run, Tool};
use crate::verilog_ports::yosys_errors;
use crate::yosys::{YosysCell, YosysJson};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::Path;

use tetris_netlist::Port;

/// Elaborate `top` of `dut` (a Verilog file inside `dir`, where Yosys also writes its JSON)
/// and prove it holds no state and no loop. `label` names the user's file in errors.
pub fn check_combinational(
    dir: &Path,
    dut: &str,
    top: &str,
    params: &[(String, i64)],
    label: &str,
) -> Result<Vec<Port>> {
    let chparams: String = params
        .iter()
        .map(|(n, v)| format!(" -chparam {n} {v}"))
        .collect();
    let script = format!(
        "read_verilog -sv {dut}; hierarchy -check -top {top}{chparams}; proc; flatten; \
         opt_clean; check; write_json structure.json"
    );
    let r = run(Tool::Yosys, &["-q", "-p", &script], dir)?;
    let log = r.log();
    if !r.ok {
        bail!(
            "{label}: Yosys cannot elaborate module {top}:\n{}",
            yosys_errors(&log, &[(dut, label)])
        );
    }
    // `check` reports loops only in its log (as warnings): no other output says so.
    if let Some(i) = log.find("found logic loop") {
        let detail: Vec<&str> = log[i..].lines().take(8).collect();
        bail!(
            "{label}: module {top} has a combinational loop, so its output is not a function of \
             its inputs (Yosys check):\n{}",
            detail.join("\n")
        );
    }
    let doc = YosysJson::read(&dir.join("structure.json"), label)?;
    let (name, module) = doc
        .modules
        .iter()
        .find(|(_, m)| m.attributes.contains_key("top"))
        .or_else(|| doc.modules.first())
        .with_context(|| format!("{label}: Yosys wrote no module for {top}"))?;
    for (cell_name, cell) in &module.cells {
        if let Some(what) = state_kind(cell) {
            let src = cell
                .attributes
                .get("src")
                .and_then(Value::as_str)
                .unwrap_or("?");
            let line = src.split('|').next().unwrap_or(src);
            bail!(
                "{label}: module {top} is not combinational: {what} ({} {cell_name} from {}); \
                 characterize needs a product that is a function of the two operands only",
                cell.ty,
                line.replace(dut, label)
            );
        }
    }
    module.ports(name, label)
}

/// What kind of state a Yosys cell keeps, if any.
fn state_kind(cell: &YosysCell) -> Option<&'static str> {
    let t = cell.ty.to_ascii_lowercase();
    if t.contains("latch") || t == "$sr" || t.starts_with("$_sr") {
        Some("a latch (an always block that keeps a value on some path)")
    } else if t.contains("dff") || t == "$ff" || t.starts_with("$_ff") {
        Some("a flip-flop (clocked or state-holding logic)")
    } else if t.starts_with("$memwr") {
        Some("a written memory")
    } else if t.starts_with("$mem") {
        let writes = cell
            .parameters
            .get("WR_PORTS")
            .and_then(Value::as_str)
            .and_then(|b| u64::from_str_radix(b, 2).ok())
            .unwrap_or(0);
        let clocked_reads = cell
            .parameters
            .get("RD_CLK_ENABLE")
            .and_then(Value::as_str)
            .is_some_and(|b| b.contains('1'));
        (writes > 0 || clocked_reads).then_some("a memory with writes or clocked reads")
    } else {
        None
    }
}
