//! Logic depth of every bit of an output port of a combinational design, counted in gates on
//! the netlist Yosys synthesizes (`scripts/yosys/depth.ys`: flattened, ABC-mapped onto
//! two-input gates and 2:1 muxes).
//!
//! Depth of a net: 0 for input-port bits and constants; for a gate output, 1 + the deepest
//! gate input. Inverters and buffers count 0 (in CMOS they fold into the neighbouring gate).
//! An output bit tied to a constant has depth 0: it cannot be late.

use super::synth::fill;
use super::yosys::run_script;
use super::yosys::YosysJson;
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

pub const DEPTH_YS: &str = include_str!("../../../scripts/yosys/depth.ys");

/// Synthesize `files` (in `dir`, relative names) to a gate netlist and return the gate depth of
/// each bit of output `port` of `top`, LSB first.
pub fn synthesized_output_depths(
    dir: &Path,
    files: &[String],
    top: &str,
    port: &str,
) -> Result<Vec<u32>> {
    let list = files
        .iter()
        .map(|f| format!("\"{f}\""))
        .collect::<Vec<_>>()
        .join(" ");
    let script = fill(
        DEPTH_YS,
        &[("TOP", top), ("FILES", &list), ("JSON", "netlist.json")],
    );
    std::fs::write(dir.join("depth.ys"), script)
        .with_context(|| format!("cannot write {}", dir.join("depth.ys").display()))?;
    run_script(dir, "depth.ys", "depth.log")?;
    let path = dir.join("netlist.json");
    let netlist = YosysJson::read(&path, &format!("the netlist of {top}"))?;
    output_depths(&netlist, top, port).with_context(|| format!("netlist {}", path.display()))
}

/// Gate depth of each bit of output `port` of module `top` in a Yosys JSON netlist of
/// single-bit gate cells (`$_AND_`, `$_MUX_`, `$_NOT_`, ...).
pub fn output_depths(netlist: &YosysJson, top: &str, port: &str) -> Result<Vec<u32>> {
    let (_, module) = netlist
        .modules
        .iter()
        .find(|(n, _)| n == top)
        .with_context(|| format!("no module `{top}` in the netlist"))?;
    // net -> (gate weight, input nets) of the cell driving it.
    let mut driver: HashMap<u64, (u32, Vec<u64>)> = HashMap::new();
    for (name, cell) in &module.cells {
        let ty = cell.ty.as_str();
        if !ty.starts_with("$_")
            || ["DFF", "LATCH", "SR_", "DLATCH"]
                .iter()
                .any(|s| ty.contains(s))
        {
            bail!("cell {name} of type {ty} is not a combinational gate: depths need a combinational netlist");
        }
        let weight = if ty == "$_NOT_" || ty == "$_BUF_" {
            0
        } else {
            1
        };
        if cell.port_directions.is_empty() {
            bail!("cell {name} has no port_directions");
        }
        // Constant bits ("0", "1", "x") drive nothing and have depth 0: only net numbers count.
        let nets = |p: &str| -> Vec<u64> {
            cell.connections
                .get(p)
                .map(|v| v.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default()
        };
        let inputs: Vec<u64> = cell
            .port_directions
            .iter()
            .filter(|(_, d)| d.as_str() == "input")
            .flat_map(|(p, _)| nets(p))
            .collect();
        for (p, d) in &cell.port_directions {
            if d == "output" {
                for net in nets(p) {
                    driver.insert(net, (weight, inputs.clone()));
                }
            }
        }
    }
    let (_, p) = module
        .ports
        .iter()
        .find(|(n, _)| n == port)
        .with_context(|| format!("module `{top}` has no port `{port}`"))?;
    if p.direction != "output" {
        bail!("port `{port}` of `{top}` is not an output");
    }
    let mut memo: HashMap<u64, u32> = HashMap::new();
    p.bits
        .iter()
        .map(|b| match b.as_u64() {
            Some(net) => depth(net, &driver, &mut memo),
            None => Ok(0), // "0", "1", "x", "z": a constant
        })
        .collect()
}

/// Longest path to `net`, iteratively (no recursion limit on deep netlists); a net met again
/// while its own inputs are still open is a combinational loop.
fn depth(
    net: u64,
    driver: &HashMap<u64, (u32, Vec<u64>)>,
    memo: &mut HashMap<u64, u32>,
) -> Result<u32> {
    let mut open: std::collections::HashSet<u64> = Default::default();
    let mut stack = vec![net];
    while let Some(&n) = stack.last() {
        if memo.contains_key(&n) {
            stack.pop();
            continue;
        }
        let Some((weight, inputs)) = driver.get(&n) else {
            memo.insert(n, 0); // an input-port bit
            stack.pop();
            continue;
        };
        let pending: Vec<u64> = inputs
            .iter()
            .copied()
            .filter(|i| !memo.contains_key(i))
            .collect();
        if pending.is_empty() {
            let d = inputs.iter().map(|i| memo[i]).max().unwrap_or(0) + weight;
            memo.insert(n, d);
            open.remove(&n);
            stack.pop();
        } else {
            if !open.insert(n) {
                bail!("combinational loop through net {n}");
            }
            stack.extend(pending);
        }
    }
    Ok(memo[&net])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn gate(ty: &str, ins: &[(&str, u64)], y: u64) -> Value {
        let mut dirs = serde_json::Map::new();
        let mut conns = serde_json::Map::new();
        for (p, n) in ins {
            dirs.insert(p.to_string(), json!("input"));
            conns.insert(p.to_string(), json!([n]));
        }
        dirs.insert("Y".into(), json!("output"));
        conns.insert("Y".into(), json!([y]));
        json!({"type": ty, "port_directions": dirs, "connections": conns})
    }

    fn netlist(v: Value) -> YosysJson {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn full_adder_depths() {
        // a=2 b=3 c=4; s = (a^b)^c, co = mux(a^b ? c : a); an inverter pair on the way to y[2].
        let net = netlist(json!({"modules": {"fa": {
        "ports": {"a": {"direction": "input", "bits": [2]},
                  "y": {"direction": "output", "bits": [6, 7, 9, "0"]}},
        "cells": {
            "x1": gate("$_XOR_", &[("A", 2), ("B", 3)], 5),
            "x2": gate("$_XOR_", &[("A", 5), ("B", 4)], 6),
            "m": gate("$_MUX_", &[("A", 2), ("B", 4), ("S", 5)], 7),
            "n1": gate("$_NOT_", &[("A", 7)], 8),
            "n2": gate("$_NOT_", &[("A", 8)], 9),
        }}}}));
        assert_eq!(output_depths(&net, "fa", "y").unwrap(), vec![2, 2, 2, 0]);
        assert!(output_depths(&net, "fa", "a").is_err());
        assert!(output_depths(&net, "nope", "y").is_err());
    }

    #[test]
    fn loops_and_flops_are_refused() {
        let lp = netlist(json!({"modules": {"l": {
        "ports": {"y": {"direction": "output", "bits": [5]}},
        "cells": {
            "g1": gate("$_AND_", &[("A", 2), ("B", 6)], 5),
            "g2": gate("$_OR_", &[("A", 5), ("B", 3)], 6),
        }}}}));
        let e = output_depths(&lp, "l", "y").unwrap_err().to_string();
        assert!(e.contains("loop"), "{e}");
        let ff = netlist(json!({"modules": {"f": {
            "ports": {"y": {"direction": "output", "bits": [5]}},
            "cells": {"q": gate("$_DFF_P_", &[("D", 2), ("C", 3)], 5)}}}}));
        let e = output_depths(&ff, "f", "y").unwrap_err().to_string();
        assert!(e.contains("not a combinational gate"), "{e}");
    }
}
