//! Ports of a top module given as Verilog *files* (`tetris synth --filelist`, third-party
//! designs): read by Yosys, as synthesis reads them (`crate::verilog_ports`). Designs the
//! generator emits carry their ports in their netlist and are never read back from text.

use crate::verilog_ports::read_modules;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use tetris_fs::ScratchDir;
pub use tetris_netlist::{Dir, Port};

/// The ports of `top`, defined in one of `files` (read together, with `read_verilog` as the
/// synthesis scripts read them; parameters at their defaults), in port order.
pub fn top_ports(files: &[PathBuf], top: &str) -> Result<Vec<Port>> {
    let scratch = ScratchDir::new("tetris-ports")?;
    let paths = files
        .iter()
        .map(|f| Ok(std::path::absolute(f)?.display().to_string()))
        .collect::<Result<Vec<String>>>()?;
    let pairs: Vec<(&str, &str)> = paths.iter().map(|p| (p.as_str(), p.as_str())).collect();
    let label = format!("the ports of --top {top}");
    let mods = read_modules(scratch.path(), &pairs, false, &label)?;
    let (name, m) = mods.iter().find(|(n, _)| n == top).with_context(|| {
        format!(
            "top module {top} is defined in none of the {} files",
            files.len()
        )
    })?;
    let ports = m.ports(name, &label)?;
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

    fn ports_of(text: &str, top: &str) -> Result<Vec<Port>> {
        let dir = ScratchDir::new("tetris-ports-test")?;
        let f = dir.path().join("t.v");
        std::fs::write(&f, text)?;
        top_ports(&[f], top)
    }

    #[test]
    fn reads_the_top_ports_only() {
        let p = ports_of(V, "t").unwrap();
        let got: Vec<_> = p
            .iter()
            .map(|p| (p.name.as_str(), p.dir, p.width, p.signed))
            .collect();
        assert_eq!(
            got,
            vec![
                ("clock", Dir::In, 1, false),
                ("reset", Dir::In, 1, false),
                ("a", Dir::In, 16, false),
                ("b", Dir::In, 4, true),
                ("y", Dir::Out, 44, false)
            ]
        );
        assert_eq!(clock_port(&p).unwrap().name, "clock");
    }

    #[test]
    fn missing_module_and_bad_declarations_are_errors() {
        let e = ports_of(V, "nope").unwrap_err().to_string();
        assert!(
            e.contains("top module nope is defined in none of the 1 files"),
            "{e}"
        );
        let bad = "module t(a);\n input wire [x:0] a;\nendmodule\n";
        let e = format!("{:#}", ports_of(bad, "t").unwrap_err());
        assert!(
            e.contains("yosys cannot read") && e.contains("t.v:2"),
            "{e}"
        );
        let p = ports_of("module t(a);\n input wire a;\nendmodule\n", "t").unwrap();
        assert!(clock_port(&p).is_err());
    }
}
