//! The emitted array Verilog (hand-written glue + rust-hdl PEs) run in Icarus matches the
//! in-process simulation cycle by cycle, every top-level port, on random small layers (SAC and
//! MAC arrays, 8/16-bit, sm/csd). This is what ties the glue's Verilog to its Rust `update`.
//! Needs iverilog/vvp (scripts/install-tools.sh); a missing tool fails the test.

use std::fmt::Write;
use std::path::Path;
use tetris_hdl::array::cycle_model::Engine;
use tetris_hdl::array::host::LayerData;
use tetris_hdl::array::mapper::{kneaded_lengths, map_layer};
use tetris_hdl::config::{Config, PeKind};
use tetris_hdl::flow::array_gen::random_layer_data;
use tetris_hdl::flow::gen::build;
use tetris_hdl::flow::rtl_driver::run_layer_rtl_traced;
use tetris_hdl::flow::tools::{run, Tool};
use tetris_hdl::hdl::sim::{SplitMix64, Trace};
use tetris_hdl::model::conv::ConvParams;
use tetris_hdl::model::encoding::Encoding;

mod common;
use common::configs::array_config;
use common::trace::corrupt_28_bit_port;

fn width(lit: &str) -> usize {
    lit.split('\'').next().unwrap().parse().unwrap()
}

/// A testbench that applies the recorded inputs each cycle and compares every output.
fn testbench(top: &str, trace: &Trace) -> String {
    let ports: Vec<(String, bool, usize)> = trace[0]
        .values
        .iter()
        .filter(|(n, _, _)| n != "clock")
        .map(|(n, i, v)| (n.clone(), *i, width(v)))
        .collect();
    let mut tb = String::from(
        "`timescale 1ns/1ps\nmodule tb;\n    reg clock = 1'b0;\n    integer errors = 0;\n",
    );
    for (n, i, w) in &ports {
        writeln!(
            tb,
            "    {} [{}:0] {n};",
            if *i { "reg " } else { "wire" },
            w - 1
        )
        .unwrap();
    }
    let conns: Vec<String> = ports.iter().map(|(n, _, _)| format!(".{n}({n})")).collect();
    writeln!(tb, "    {top} dut(.clock(clock), {});", conns.join(", ")).unwrap();
    tb += "    initial begin\n";
    for (n, i, w) in &ports {
        if *i {
            writeln!(
                tb,
                "        {n} = {w}'d{};",
                if n == "reset" { 1 } else { 0 }
            )
            .unwrap();
        }
    }
    tb += "        #1 clock = 1'b1; #1 clock = 1'b0;\n";
    for (cycle, s) in trace.iter().enumerate() {
        for (n, i, v) in &s.values {
            if *i && n != "clock" {
                writeln!(tb, "        {n} = {v};").unwrap();
            }
        }
        tb += "        #1;\n";
        for (n, i, v) in &s.values {
            if !*i {
                writeln!(
                    tb,
                    "        if ({n} !== {v}) begin errors = errors + 1; if (errors < 10) $display(\"MISMATCH cycle {cycle} {n}: verilog %h rust %h\", {n}, {v}); end"
                )
                .unwrap();
            }
        }
        tb += "        clock = 1'b1; #1 clock = 1'b0;\n";
    }
    tb += "        if (errors == 0) $display(\"COSIM PASS\"); else $display(\"COSIM FAIL %0d\", errors);\n        $finish;\n    end\nendmodule\n";
    tb
}

/// Emit `cfg`'s array, replay `trace` in Icarus; Err with the mismatch text otherwise.
fn replay(cfg: &Config, trace: &Trace, dir: &Path) -> Result<usize, String> {
    let built = build(cfg, 4).map_err(|e| format!("{e:#}"))?;
    let mut files = vec!["tb.v".to_string()];
    for m in &built.design.modules {
        let f = format!("{}.v", m.name);
        std::fs::write(dir.join(&f), &m.text).unwrap();
        files.push(f);
    }
    std::fs::write(dir.join("tb.v"), testbench(&built.design.top, trace)).unwrap();
    let mut args = vec!["-g2005", "-o", "sim.vvp"];
    args.extend(files.iter().map(String::as_str));
    let c = run(Tool::Iverilog, &args, dir).map_err(|e| format!("{e:#}"))?;
    if !c.ok {
        return Err(format!("iverilog failed: {}", c.stderr));
    }
    let r = run(Tool::Vvp, &["sim.vvp"], dir).map_err(|e| format!("{e:#}"))?;
    if r.stdout.contains("COSIM PASS") {
        Ok(trace.len())
    } else {
        Err(r.stdout)
    }
}

fn case(
    rows: u32,
    cols: u32,
    bits: u32,
    enc: Encoding,
    kind: PeKind,
    knead_on_chip: bool,
    seed: u64,
) -> (Config, Trace) {
    let mut cfg = array_config(rows, cols, bits, enc);
    cfg.array.knead_on_chip = knead_on_chip;
    cfg.pe.kind = kind;
    cfg.top.name = format!("cosim{rows}x{cols}");
    let mut r = SplitMix64(seed);
    let p = ConvParams {
        pad: (1, 0, 1, 0),
        ..ConvParams::plain(3, cols as usize + 1, (3, rows as usize + 1), (3, 2))
    };
    // The array stimulus of gen and cosim: max-magnitude filters against the most negative
    // activations on output pixel 0 (in tile 0), all-zero kneading groups.
    let (w, x) = random_layer_data(&cfg, &p, &mut r);
    let lens = kneaded_lengths(&w, p.dot_len(), bits, enc, 16);
    let map = map_layer(&p, rows as usize, cols as usize, 16, &lens).unwrap();
    let engine = if kind == PeKind::Sac {
        Engine::Sac
    } else {
        Engine::Mac
    };
    let run = run_layer_rtl_traced(
        &cfg,
        LayerData::new(&map, &x, &w, &lens),
        engine,
        &[0, 1],
        false,
        true,
    )
    .unwrap();
    (cfg, run.trace.unwrap())
}

#[test]
fn array_verilog_matches_rust_sac_and_mac() {
    // The last flag: the SAC array behind on-chip kneading units.
    for (rows, cols, bits, enc, kind, on_chip) in [
        (2, 2, 8, Encoding::Sm, PeKind::Sac, false),
        (2, 3, 16, Encoding::Csd, PeKind::Sac, false),
        (3, 2, 8, Encoding::Sm, PeKind::Mac, false),
        (2, 2, 8, Encoding::Csd, PeKind::Sac, true),
        (2, 3, 16, Encoding::Sm, PeKind::Sac, true),
    ] {
        let (cfg, trace) = case(rows, cols, bits, enc, kind, on_chip, 21);
        let t = tempfile::tempdir().unwrap();
        let n = replay(&cfg, &trace, t.path()).unwrap_or_else(|e| {
            panic!("{rows}x{cols} {bits}-bit {enc} {kind:?} on-chip kneading {on_chip}: {e}")
        });
        assert!(n > 20, "{n} cycles");
    }
}

#[test]
fn replay_detects_a_wrong_output() {
    let (cfg, mut trace) = case(2, 2, 8, Encoding::Sm, PeKind::Sac, false, 22);
    let s = trace
        .iter_mut()
        .find(|s| {
            s.values
                .iter()
                .any(|v| v.0 == "out_valid_0" && v.2 == "1'b1")
        })
        .unwrap();
    corrupt_28_bit_port(&mut s.values, "out_data_0");
    let t = tempfile::tempdir().unwrap();
    let e = replay(&cfg, &trace, t.path()).unwrap_err();
    assert!(e.contains("MISMATCH"), "{e}");
}
