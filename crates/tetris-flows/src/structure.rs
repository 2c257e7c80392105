//! Proof that a third-party design is a combinational function of its inputs before
//! `characterize` sweeps it: Yosys elaborates the top with its parameter overrides
//! (`hierarchy -chparam`), turns processes into cells (`proc`), flattens it and runs `check`.
//! A flip-flop, a latch (state kept by an `always` block that does not assign on every path),
//! a written memory or a combinational loop is an error naming the file and line; the ports
//! come back with their widths and signedness as Yosys elaborated them.

use crate::tools::{run, Tool};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::Path;

use tetris_netlist::{Dir, Port};

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
        let errors: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).collect();
        let detail = if errors.is_empty() {
            log.trim().to_string()
        } else {
            errors.join("\n")
        };
        bail!("{label}: Yosys cannot elaborate module {top}:\n{detail}");
    }
    if let Some(i) = log.find("found logic loop") {
        let detail: Vec<&str> = log[i..].lines().take(8).collect();
        bail!(
            "{label}: module {top} has a combinational loop, so its output is not a function of \
             its inputs (Yosys check):\n{}",
            detail.join("\n")
        );
    }
    let path = dir.join("structure.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read Yosys output {}", path.display()))?;
    let doc: Value = serde_json::from_str(&text).context("Yosys JSON")?;
    let module = doc["modules"]
        .as_object()
        .and_then(|mods| {
            mods.iter()
                .find(|(_, m)| m["attributes"]["top"].is_string())
                .or_else(|| mods.iter().next())
        })
        .map(|(_, m)| m)
        .with_context(|| format!("{label}: Yosys wrote no module for {top}"))?;
    if let Some(cells) = module["cells"].as_object() {
        for (name, cell) in cells {
            let ty = cell["type"].as_str().unwrap_or("");
            if let Some(what) = state_kind(ty, cell) {
                let src = cell["attributes"]["src"].as_str().unwrap_or("?");
                let line = src.split('|').next().unwrap_or(src);
                bail!(
                    "{label}: module {top} is not combinational: {what} ({ty} {name} from {}); \
                     characterize needs a product that is a function of the two operands only",
                    line.replace(dut, label)
                );
            }
        }
    }
    let mut ports = Vec::new();
    if let Some(ps) = module["ports"].as_object() {
        for (name, p) in ps {
            ports.push(Port {
                name: name.clone(),
                dir: if p["direction"] == "input" {
                    Dir::In
                } else {
                    Dir::Out
                },
                width: p["bits"].as_array().map_or(0, |b| b.len() as u32),
                signed: p["signed"].as_u64() == Some(1),
            });
        }
    }
    Ok(ports)
}

/// What kind of state a Yosys cell keeps, if any.
fn state_kind(ty: &str, cell: &Value) -> Option<&'static str> {
    let t = ty.to_ascii_lowercase();
    if t.contains("latch") || t == "$sr" || t.starts_with("$_sr") {
        Some("a latch (an always block that keeps a value on some path)")
    } else if t.contains("dff") || t == "$ff" || t.starts_with("$_ff") {
        Some("a flip-flop (clocked or state-holding logic)")
    } else if t.starts_with("$memwr") {
        Some("a written memory")
    } else if t.starts_with("$mem") {
        let writes = cell["parameters"]["WR_PORTS"]
            .as_str()
            .and_then(|b| u64::from_str_radix(b, 2).ok())
            .unwrap_or(0);
        let clocked_reads = cell["parameters"]["RD_CLK_ENABLE"]
            .as_str()
            .is_some_and(|b| b.contains('1'));
        (writes > 0 || clocked_reads).then_some("a memory with writes or clocked reads")
    } else {
        None
    }
}
