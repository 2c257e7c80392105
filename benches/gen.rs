//! `tetris gen` wall time and emitted size per design. Run: `cargo bench --bench gen`.
//! Columns: distinct modules / rust-hdl instances, Verilog bytes, wall time of gen without the
//! external tools (emit + in-process self-check of 200 dot products + atomic write) and with
//! them (Verilator lint, Icarus compile, Yosys synth), Yosys generic cells. The PE-level designs
//! (rows = cols = 1), then the default config (the 4x4 16-bit array `tetris gen` emits).

use std::time::Instant;
use tetris_hdl::config::{Config, PeKind};
use tetris_hdl::flow::gen::{generate, ToolChecks};
use tetris_hdl::model::encoding::Encoding;

fn main() {
    let designs = [
        (PeKind::Sac, 8, Encoding::Sm),
        (PeKind::Sac, 8, Encoding::Csd),
        (PeKind::Sac, 16, Encoding::Sm),
        (PeKind::Sac, 16, Encoding::Csd),
        (PeKind::Mac, 8, Encoding::Sm),
        (PeKind::Mac, 16, Encoding::Sm),
    ];
    let t = tempfile::tempdir().expect("temp dir");
    println!("| design | modules / instances | Verilog bytes | gen, no tools (s) | gen + tools (s) | yosys cells |");
    println!("|---|---|---|---|---|---|");
    let pe_level = designs.into_iter().map(|(kind, bits, enc)| {
        let mut c = Config::default_config();
        c.array.rows = 1; // the PE-level design
        c.array.cols = 1;
        c.pe.kind = kind;
        c.pe.weight_bits = bits;
        c.pe.act_bits = bits;
        c.pe.encoding = enc;
        let name = match kind {
            PeKind::Sac => format!("SAC PE + knead, {bits}-bit {enc}, KS={}", c.pe.ks),
            PeKind::Mac => format!("MAC PE, {bits}-bit"),
        };
        (name, c)
    });
    let default = Config::default_config();
    let default_name = format!(
        "default config: {}x{} {:?} array, {}-bit {}, KS={}",
        default.array.rows,
        default.array.cols,
        default.pe.kind,
        default.pe.weight_bits,
        default.pe.encoding,
        default.pe.ks
    );
    for (name, c) in pe_level.chain([(default_name, default)]) {
        let out = t.path().join("out");
        let t0 = Instant::now();
        let (built, _) = generate(&c, &out, 200, ToolChecks::NONE).expect("gen");
        let fast = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let (_, w) = generate(&c, &out, 200, ToolChecks::ALL).expect("gen with tools");
        let full = t1.elapsed().as_secs_f64();
        // Yosys ran (ToolChecks::ALL): a missing result is a broken flow, not 0 cells.
        let cells = w
            .synth
            .unwrap_or_else(|| panic!("{name}: gen with Yosys checks returned no synthesis result"))
            .cells;
        println!(
            "| {name} | {} / {} | {} | {fast:.2} | {full:.1} | {cells} |",
            built.design.modules.len(),
            built.design.instances,
            built.design.verilog_bytes(),
        );
    }
}
