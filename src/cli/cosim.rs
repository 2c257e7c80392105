//! `tetris cosim`: the emitted Verilog, built with Verilator, checked cycle by cycle against the
//! in-process rust-hdl simulation of the same stimulus (and that against the golden model).

use crate::array::network::load_array_layers;
use crate::flow::verilator_cosim::{cosim, default_work_dir, CosimOptions};
use crate::fsutil::OutputPlan;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
#[command(
    mut_arg("config", |a| a.help("Design config (TOML); the built-in default when omitted. Co-simulates what `tetris gen` emits: the rows x cols array, or the PE-level design when rows = cols = 1")),
    mut_arg("work_dir", |a| a.help("Stimulus/output files (default: hdl_out/.cosim/<top>)")),
    mut_arg("force", |a| a.help("Let --work-dir be a folder tetris did not write (stimulus and output files go into it)"))
)]
pub struct Args {
    #[command(flatten)]
    pub config: crate::cli::ConfigArg,
    /// Array only: drive a real layer of this weight file (.onnx/.npy) instead of a random one.
    #[arg(long, requires = "layer")]
    pub weights: Option<PathBuf>,
    /// The layer of --weights (its name as `tetris sim` lists it).
    #[arg(long, requires = "weights")]
    pub layer: Option<String>,
    #[command(flatten)]
    pub input: crate::cli::InputArgs,
    /// Random dot products (PE) or pixel tiles (array) to drive. The in-process simulation
    /// that records the stimulus runs ~200 cycles/s at 8x8, so keep array runs small.
    #[arg(long, default_value_t = 200)]
    pub vectors: usize,
    /// Seed of the random vectors / synthetic activations.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write a waveform of the Verilator run (.vcd, or .fst). On a mismatch a VCD is written
    /// to the work folder anyway.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Write the report as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub cache: crate::cli::CacheDirArg,
    #[command(flatten)]
    pub work: crate::cli::WorkDirArgs,
}

pub fn run(a: Args) -> Result<()> {
    let (cfg, _) = a.config.load_checked()?;
    if let Some(t) = &a.trace {
        let ok = t.extension().is_some_and(|e| e == "vcd" || e == "fst");
        if !ok {
            bail!("--trace {}: give a .vcd or .fst file", t.display());
        }
    }
    let work = a.work.or_else(|| default_work_dir(&cfg));
    OutputPlan::new(a.work.force)
        .input("--config", a.config.path())
        .input("--weights", a.weights.as_deref())
        .dir("--work-dir", Some(&work))
        .file("--trace", a.trace.as_deref())
        .file("--json", a.json.as_deref())
        .prepare()?;
    let layer = match (&a.weights, &a.layer) {
        (Some(w), Some(name)) => {
            let layers = load_array_layers(w, &a.input.spec())?;
            let l = layers
                .into_iter()
                .find(|l| &l.name == name)
                .with_context(|| format!("{}: no layer named {name:?}", w.display()))?;
            Some(l)
        }
        _ => None,
    };
    let o = CosimOptions {
        vectors: a.vectors,
        seed: a.seed,
        layer,
        cache: a.cache.root(),
        work,
        wave: a.trace.clone(),
    };
    let r = cosim(&cfg, &o)?;
    println!("design      {}", r.design);
    println!(
        "stimulus    {} vectors, {} cycles; in-process results vs golden model: {} of {} differ",
        r.vectors, r.cycles, r.golden_mismatches, r.results_checked
    );
    println!(
        "verilator   build {:.1} s{}, {:.0} cycles/s (rust-hdl in-process: {:.0} cycles/s)",
        r.build_s,
        if r.build_cached { " (cached)" } else { "" },
        r.sim_cycles_per_s,
        r.rust_hdl_cycles_per_s
    );
    match &r.first_mismatch {
        None => println!("compare     every output port, every cycle: 0 mismatches"),
        Some(m) => println!(
            "compare     {} mismatches; first: cycle {}, port {}: rust-hdl {} verilator {}",
            r.mismatches, m.cycle, m.port, m.expected, m.actual
        ),
    }
    if let Some(w) = &r.waveform {
        println!("waveform    {w}");
    }
    if let Some(j) = &a.json {
        crate::fsutil::write_json(j, &r).with_context(|| format!("writing {}", j.display()))?;
    }
    if r.mismatches > 0 || r.golden_mismatches > 0 {
        bail!(
            "co-simulation failed: {} Verilator mismatches, {} golden-model mismatches",
            r.mismatches,
            r.golden_mismatches
        );
    }
    Ok(())
}
