//! `tetris gen`: emit the configured design as Verilog, checked, with its manifest.

use crate::flow::gen::{default_out_dir, generate, ToolChecks};
use crate::fsutil::OutputPlan;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub config: crate::cli::ConfigArg,
    /// Output directory (default: hdl_out/<top name>). Replaced atomically when tetris wrote
    /// it (or it is empty); any other folder is refused unless --force.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Let --out replace a folder tetris did not write (its files are deleted).
    #[arg(long)]
    pub force: bool,
    /// Skip the Verilator/Icarus/Yosys checks (the manifest then lists no tool).
    #[arg(long)]
    pub no_tool_checks: bool,
    /// Random dot products of the in-process self-check against the golden model (at least 1:
    /// nothing is written that was not checked).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub self_check: u64,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let (cfg, _) = a.config.load_checked()?;
    let out = a.out.unwrap_or_else(|| default_out_dir(&cfg));
    OutputPlan::new(a.force)
        .input("--config", a.config.path())
        .dir("--out", Some(&out))
        .prepare()?;
    let checks = if a.no_tool_checks {
        ToolChecks::NONE
    } else {
        ToolChecks {
            progress: true,
            ..ToolChecks::ALL
        }
    };
    let (built, written) = generate(&cfg, &out, a.self_check as usize, checks)?;
    let w = cfg.widths();
    let d = &built.design;
    println!("design      {}: {}", d.top, built.description);
    println!(
        "widths      weight {} act {} lanes {} ptr {} segment {} result {} (kneaded weight {} bits)",
        cfg.pe.weight_bits,
        cfg.pe.act_bits,
        w.lanes,
        w.ptr_bits,
        w.segment_bits,
        w.result_bits,
        w.kneaded_weight_bits
    );
    println!(
        "modules     {} distinct (from {} rust-hdl instances): {}",
        d.modules.len(),
        d.instances,
        d.modules
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "files       {} in {} ({} bytes of Verilog)",
        written.files.len() + 1,
        written.dir.display(),
        d.verilog_bytes()
    );
    let sc = &built.self_check;
    println!(
        "self-check  {} random dot products ({} inputs streamed) vs golden model: {} mismatches",
        sc.dot_products, sc.inputs, sc.mismatches
    );
    if written.checked_with.is_empty() {
        println!("tools       not run (--no-tool-checks)");
    } else {
        for (tool, ver) in &written.checked_with {
            println!("tools       {tool}: passed ({ver})");
        }
        if let Some(s) = &written.synth {
            println!(
                "synthesis   {} generic cells (yosys synth, summed over the hierarchy), no latch",
                s.cells
            );
        }
    }
    println!("time        {:.2} s", t0.elapsed().as_secs_f64());
    Ok(())
}
