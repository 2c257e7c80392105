//! Replay of an in-process simulation trace on the emitted Verilog in Icarus: a generated
//! testbench applies the recorded inputs every cycle and compares every output (`!==`, so an X
//! or Z is a mismatch). This ties the Rust behaviour to the emitted Verilog and catches the
//! width traps where the two disagree (see `docs/rtl.md`).

use super::tools::{run, Tool};
use anyhow::{bail, Context, Result};
use std::fmt::Write;
use std::path::Path;
use tetris_blocks::sim::Trace;
use tetris_netlist::design::Design;

fn literal_width(lit: &str) -> Result<usize> {
    Ok(tetris_netlist::parse_sized_literal(lit)?.0 as usize)
}

/// The testbench text for `trace` on `design.top`.
pub fn testbench(design: &Design, trace: &Trace) -> Result<String> {
    let first = trace.first().context("empty trace")?;
    let ports: Vec<(&str, bool, usize)> = first
        .values
        .iter()
        .filter(|(n, _, _)| n != "clock")
        .map(|(n, inp, v)| Ok((n.as_str(), *inp, literal_width(v)?)))
        .collect::<Result<_>>()?;
    let mut tb = String::new();
    writeln!(tb, "`timescale 1ns/1ps\nmodule cosim_tb;")?;
    writeln!(tb, "    reg clock = 1'b0;\n    integer errors = 0;")?;
    for (n, inp, w) in &ports {
        let kind = if *inp { "reg " } else { "wire" };
        writeln!(tb, "    {kind} [{}:0] {n};", w - 1)?;
    }
    writeln!(tb, "    {} dut(\n        .clock(clock),", design.top)?;
    let conns: Vec<String> = ports
        .iter()
        .map(|(n, _, _)| format!("        .{n}({n})"))
        .collect();
    writeln!(tb, "{}\n    );", conns.join(",\n"))?;
    writeln!(tb, "    task check(input integer cycle, input [8*40-1:0] name, input [127:0] got, input [127:0] want);")?;
    writeln!(
        tb,
        "        if (got !== want) begin\n            errors = errors + 1;"
    )?;
    writeln!(tb, "            if (errors < 20) $display(\"MISMATCH cycle %0d %0s: verilog %h rust %h\", cycle, name, got, want);")?;
    writeln!(tb, "        end\n    endtask")?;
    writeln!(tb, "    initial begin")?;
    // Reset cycle, as the in-process drivers do before recording.
    for (n, inp, w) in &ports {
        if *inp {
            let v = if *n == "reset" { "1" } else { "0" };
            writeln!(tb, "        {n} = {w}'d{v};")?;
        }
    }
    writeln!(tb, "        #1 clock = 1'b1; #1 clock = 1'b0;")?;
    for (cycle, s) in trace.iter().enumerate() {
        for (n, inp, v) in &s.values {
            if *inp && n != "clock" {
                writeln!(tb, "        {n} = {v};")?;
            }
        }
        writeln!(tb, "        #1;")?;
        for (n, inp, v) in &s.values {
            if !*inp {
                writeln!(tb, "        check({cycle}, \"{n}\", {{{{128{{1'b0}}}}, {n}}}, {{{{128{{1'b0}}}}, {v}}});")?;
            }
        }
        writeln!(tb, "        clock = 1'b1; #1 clock = 1'b0;")?;
    }
    writeln!(
        tb,
        "        $display(\"COSIM cycles={} errors=%0d\", errors);\n        $finish;\n    end\nendmodule",
        trace.len()
    )?;
    Ok(tb)
}

/// Write the design and the testbench into `dir`, compile with iverilog and run with vvp.
/// Returns the number of cycles compared; any mismatch is an error quoting the first ones.
pub fn icarus_replay(design: &Design, trace: &Trace, dir: &Path) -> Result<usize> {
    let mut files = vec![];
    for m in &design.modules {
        let f = format!("{}.v", m.name);
        std::fs::write(dir.join(&f), &m.text)?;
        files.push(f);
    }
    std::fs::write(dir.join("cosim_tb.v"), testbench(design, trace)?)?;
    files.push("cosim_tb.v".into());
    let mut args = vec!["-g2005", "-s", "cosim_tb", "-o", "cosim.vvp"];
    args.extend(files.iter().map(String::as_str));
    let c = run(Tool::Iverilog, &args, dir)?;
    if !c.ok {
        bail!(
            "iverilog failed on the co-simulation testbench:\n{}",
            c.log()
        );
    }
    let r = run(Tool::Vvp, &["-n", "cosim.vvp"], dir)?;
    let log = r.log();
    let expected = format!("COSIM cycles={} errors=0", trace.len());
    if !r.ok || !log.contains(&expected) {
        bail!("Verilog and in-process simulation disagree:\n{log}");
    }
    Ok(trace.len())
}
