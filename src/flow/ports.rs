//! The ports of an emitted top module, read back from its Verilog: what the constraints and
//! the FPGA timing wrapper are generated from.
//!
//! Only ANSI-free declarations as the emitter writes them are read: one `input`/`output`
//! declaration per line (`input wire [15:0] a_0;`). Lines are matched on their first word, so
//! Yosys attributes `(* ... *)` and `always @(*)` never get in the way.

use anyhow::{bail, Context, Result};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Input,
    Output,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub name: String,
    pub dir: Dir,
    pub width: u32,
}

/// The ports of `top` in `verilog` (the text of the file defining it), in declaration order.
pub fn parse_ports(verilog: &str, top: &str) -> Result<Vec<Port>> {
    let mut in_top = false;
    let mut ports = vec![];
    for line in verilog.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("module ") {
            let name = rest
                .split(|c: char| c == '(' || c == ';' || c.is_whitespace() || c == '#')
                .next()
                .unwrap_or("");
            in_top = name == top;
            continue;
        }
        if t.starts_with("endmodule") {
            if in_top {
                break;
            }
            continue;
        }
        if !in_top {
            continue;
        }
        let (dir, rest) = if let Some(r) = t.strip_prefix("input ") {
            (Dir::Input, r)
        } else if let Some(r) = t.strip_prefix("output ") {
            (Dir::Output, r)
        } else if t.starts_with("inout ") {
            bail!("module {top}: inout ports are not supported: {t}");
        } else {
            continue;
        };
        ports.extend(parse_declaration(dir, rest).with_context(|| format!("module {top}: {t}"))?);
    }
    if !in_top && ports.is_empty() {
        bail!("module {top} not found");
    }
    if ports.is_empty() {
        bail!("module {top} declares no ports");
    }
    Ok(ports)
}

/// `wire [15:0] a, b;` after the direction keyword.
fn parse_declaration(dir: Dir, rest: &str) -> Result<Vec<Port>> {
    let rest = rest.trim().trim_end_matches(';');
    let mut rest = rest.trim();
    for kw in ["wire", "reg", "signed"] {
        if let Some(r) = rest.strip_prefix(kw) {
            if r.starts_with(char::is_whitespace) || r.starts_with('[') {
                rest = r.trim_start();
            }
        }
    }
    let mut width = 1;
    if let Some(r) = rest.strip_prefix('[') {
        let (range, after) = r.split_once(']').context("unclosed [")?;
        let (msb, lsb) = range.split_once(':').context("range without ':'")?;
        let msb: i64 = msb.trim().parse().context("range bound is not a number")?;
        let lsb: i64 = lsb.trim().parse().context("range bound is not a number")?;
        width = (msb - lsb).unsigned_abs() as u32 + 1;
        rest = after.trim();
    }
    let mut out = vec![];
    for name in rest.split(',') {
        let name = name.trim();
        let ok = !name.is_empty()
            && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            bail!("cannot read port name {name:?}");
        }
        out.push(Port {
            name: name.to_string(),
            dir,
            width,
        });
    }
    Ok(out)
}

/// The ports of `top`, read from `dir/rtl/<top>.v` (the emitter's one-file-per-module layout).
pub fn read_top_ports(dir: &Path, top: &str) -> Result<Vec<Port>> {
    let file = dir.join("rtl").join(format!("{top}.v"));
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    parse_ports(&text, top).with_context(|| format!("{}", file.display()))
}

/// The clock input: a 1-bit input named `clock` or `clk`.
pub fn clock_port(ports: &[Port]) -> Result<&Port> {
    ports
        .iter()
        .find(|p| p.dir == Dir::Input && p.width == 1 && (p.name == "clock" || p.name == "clk"))
        .context("the top has no 1-bit input named `clock` or `clk`")
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: &str = "// header\nmodule sub(a);\n input wire a;\nendmodule\n\
        module t(clock,reset,a,b,y);\n    (* keep *)\n    input wire  clock;\n    input wire  reset;\n\
        input wire  [15:0] a;\n    input wire signed [3:0] b;\n    output reg  [43:0] y;\n\
        always @(*) begin\n    end\nendmodule\n";

    #[test]
    fn reads_the_top_ports_only() {
        let p = parse_ports(V, "t").unwrap();
        let got: Vec<_> = p
            .iter()
            .map(|p| (p.name.as_str(), p.dir, p.width))
            .collect();
        assert_eq!(
            got,
            vec![
                ("clock", Dir::Input, 1),
                ("reset", Dir::Input, 1),
                ("a", Dir::Input, 16),
                ("b", Dir::Input, 4),
                ("y", Dir::Output, 44)
            ]
        );
        assert_eq!(clock_port(&p).unwrap().name, "clock");
    }

    #[test]
    fn missing_module_and_bad_declarations_are_errors() {
        assert!(parse_ports(V, "nope")
            .unwrap_err()
            .to_string()
            .contains("nope"));
        let bad = "module t(a);\n input wire [x:0] a;\nendmodule\n";
        let e = format!("{:#}", parse_ports(bad, "t").unwrap_err());
        assert!(e.contains("not a number"), "{e}");
        let p = parse_ports("module t(a);\n input wire a;\nendmodule\n", "t").unwrap();
        assert!(clock_port(&p).is_err());
    }
}
