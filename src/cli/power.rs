//! `tetris power`: energy per layer and per MAC, area and Fmax of the configured design on a
//! real standard-cell library (Yosys + gate-level simulation of a real layer + OpenSTA).

use crate::array::network::{
    load_array_layers, read_layer_activations, synthetic_relu_activations,
};
use crate::fsutil::{write_dir_atomic, OutputPlan};
use crate::power::flow::{
    design_power, PowerOptions, Workload, DEFAULT_BUFFER, DEFAULT_MAX_FANOUT,
};
use crate::power::synth::liberty_path;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
#[command(
    mut_arg("config", |a| a.help("Design config (TOML); the built-in default when omitted. The array top of its size is measured (rows = cols = 1: one PE as it sits in an array)")),
    mut_arg("work_dir", |a| a.help("Work folder (design, Yosys, netlist, OpenSTA scripts and reports, report.json); default power_out/<top>. Replaced whole when tetris wrote it"))
)]
pub struct Args {
    #[command(flatten)]
    pub config: crate::cli::ConfigArg,
    /// Weight file: .onnx or .npy (as `tetris sim`).
    #[arg(long)]
    pub weights: PathBuf,
    /// The layer to run (default: the one with the most MACs).
    #[arg(long)]
    pub layer: Option<String>,
    /// Pixel tiles of the layer to simulate, evenly spaced (up to 64 run side by side at the
    /// price of one).
    #[arg(long, default_value_t = 64)]
    pub tiles: usize,
    /// Write the report as JSON here too.
    #[arg(long)]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub work: crate::cli::WorkDirArgs,
    /// Liberty library (default: osu018 from Debian's qflow-tech-osu018).
    #[arg(long)]
    pub liberty: Option<PathBuf>,
    /// Analysis clock in MHz (default: [top] clock_mhz of the config).
    #[arg(long)]
    pub clock_mhz: Option<f64>,
    /// Max-fanout rule: nets with more loads get a buffer tree.
    #[arg(long, default_value_t = DEFAULT_MAX_FANOUT)]
    pub max_fanout: usize,
    #[command(flatten)]
    pub input: crate::cli::InputArgs,
    /// The layer's input activations (.npy, [N, Cin, H, W] float); default: seeded synthetic
    /// post-ReLU values.
    #[arg(long)]
    pub activations: Option<PathBuf>,
    /// Seed of the synthetic activations.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How many modules to list by energy.
    #[arg(long, default_value_t = 12)]
    pub top_modules: usize,
}

pub fn run(a: Args) -> Result<()> {
    let cfg = a.config.load()?;
    // A design this command cannot drive is refused before any file is read.
    crate::power::flow::check_power_config(&cfg)?;
    if a.tiles == 0 {
        bail!("--tiles 0: give at least 1");
    }
    if let Some(f) = a.clock_mhz {
        if !(f.is_finite() && f > 0.0 && f <= crate::config::MAX_CLOCK_MHZ) {
            bail!(
                "--clock-mhz {f}: give a frequency in 0..={}",
                crate::config::MAX_CLOCK_MHZ
            );
        }
    }
    let liberty = liberty_path(a.liberty.as_deref())?;
    let work = a
        .work
        .or_else(|| Path::new("power_out").join(&cfg.top.name));
    OutputPlan::new(a.work.force)
        .input("--config", a.config.path())
        .input("--weights", Some(&a.weights))
        .input("--activations", a.activations.as_deref())
        .input("--liberty", Some(&liberty))
        .dir("--work-dir", Some(&work))
        .file("--json", a.json.as_deref())
        .prepare()?;
    let layers = load_array_layers(&a.weights, &a.input.spec())?;
    let layer = match &a.layer {
        Some(name) => layers
            .iter()
            .find(|l| &l.name == name)
            .with_context(|| format!("{}: no layer named {name:?}", a.weights.display()))?,
        None => layers
            .iter()
            .max_by_key(|l| l.array().map_or(0, |w| w.params.macs()))
            .context("the weight file has no layer")?,
    };
    let (input, activations) = match &a.activations {
        Some(f) => {
            let p = layer.params()?;
            let want = [p.batch, p.cin, p.in_h, p.in_w];
            (
                read_layer_activations(f, want, &layer.name, cfg.pe.act_bits)?,
                format!("from {} (quantized per tensor, max-abs)", f.display()),
            )
        }
        None => (
            synthetic_relu_activations(layer.params()?.input_len(), cfg.pe.act_bits, a.seed),
            format!("seeded synthetic post-ReLU Gaussian (seed {})", a.seed),
        ),
    };
    let workload = Workload {
        weights: a.weights.display().to_string(),
        layer,
        input,
        activations,
    };
    let opts = PowerOptions {
        liberty,
        tiles: a.tiles,
        max_fanout: a.max_fanout,
        buffer: DEFAULT_BUFFER.to_string(),
        clock_mhz: a.clock_mhz,
        progress: true,
    };
    let mut report = None;
    write_dir_atomic(&work, |tmp| {
        let r = design_power(&cfg, &workload, &opts, tmp)?;
        crate::fsutil::write_json(&tmp.join("report.json"), &r)?;
        report = Some(r);
        Ok(())
    })?;
    let r = report.expect("filled by the run");
    print!("{}", r.text(a.top_modules));
    println!("work folder {}", work.display());
    if let Some(j) = &a.json {
        crate::fsutil::write_json(j, &r)?;
    }
    if !r.outputs_match || !r.cycles_match_model {
        bail!("the gate-level run does not match the golden model / cycle model (see above)");
    }
    Ok(())
}
