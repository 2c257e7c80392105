//! Ports of a top module given as Verilog *files* (`tetris synth --filelist`, third-party
//! designs): read with the noise extractor's Verilog reader. Designs the generator emits carry
//! their ports in their netlist and are never read back from text.

use crate::verilog_ports::modules;
use anyhow::{bail, Context, Result};
pub use tetris_netlist::{Dir, Port};

/// The ports of `top` in `verilog` (the text of the file defining it), in declaration order.
/// One reader for ANSI and non-ANSI lists, comments, parameters (crates/tetris-flows/src/verilog_ports.rs).
pub fn parse_ports(verilog: &str, top: &str) -> Result<Vec<Port>> {
    let label = format!("module {top}");
    let mods = modules(verilog, &label)?;
    let m = mods
        .iter()
        .find(|m| m.name == top)
        .with_context(|| format!("module {top} not found"))?;
    let ports = m.ports_with(&[], &label)?;
    if ports.is_empty() {
        bail!("module {top} declares no ports");
    }
    Ok(ports)
}

/// The clock input: a 1-bit input named `clock` or `clk`.
pub fn clock_port(ports: &[Port]) -> Result<&Port> {
    ports
        .iter()
        .find(|p| p.dir == Dir::In && p.width == 1 && (p.name == "clock" || p.name == "clk"))
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
                ("clock", Dir::In, 1),
                ("reset", Dir::In, 1),
                ("a", Dir::In, 16),
                ("b", Dir::In, 4),
                ("y", Dir::Out, 44)
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
        assert!(e.contains("port a") && e.contains('x'), "{e}");
        let p = parse_ports("module t(a);\n input wire a;\nendmodule\n", "t").unwrap();
        assert!(clock_port(&p).is_err());
    }
}
