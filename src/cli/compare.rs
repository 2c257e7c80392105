//! `tetris compare`: SAC vs MAC area, clock and throughput per area (PE and arrays) as a
//! markdown table, JSON and an SVG plot, from Yosys, nextpnr-ice40 and the cycle model; and
//! area, Fmax and energy per MAC on a standard-cell library (`tetris power`).

use crate::array::network::load_array_layers;
use crate::study::compare::{compare, CompareOptions, EnergyOptions};
use anyhow::{bail, Result};
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Weight file (.onnx or .npy) whose layers give the cycle counts (speedup) of each design.
    #[arg(long)]
    pub weights: PathBuf,
    /// Only the first N layers of the weight file.
    #[arg(long)]
    pub layers: Option<usize>,
    #[command(flatten)]
    pub input: crate::cli::InputArgs,
    /// Weight widths to compare (2..=16; outside the built-in 4/8/16 a specialization is built).
    #[arg(long, value_delimiter = ',', default_value = "8,16")]
    pub bits: Vec<u32>,
    /// Activation width of every design (mixed precision); default: equal to the weights.
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..=16))]
    pub act_bits: Option<u32>,
    /// Levels: 1 = one PE, N = an NxN array.
    #[arg(long, value_delimiter = ',', default_value = "1,4")]
    pub sizes: Vec<u32>,
    /// Kneading stride of the SAC designs (4, 8, 16), and the activation group both twins hold.
    #[arg(long, default_value_t = 16)]
    pub ks: u32,
    /// Place-and-route clock target (MHz).
    #[arg(long, default_value_t = 50.0)]
    pub clock_mhz: f64,
    /// iCE40 part for LUTs and Fmax: hx8k, hx1k, up5k.
    #[arg(long, default_value = "hx8k")]
    pub device: String,
    #[command(flatten)]
    pub pnr: crate::cli::PnrLimitArg,
    /// Output folder: compare.md, compare.json, compare.svg and one folder per design.
    #[arg(long, default_value = "synth_out/compare")]
    pub out: PathBuf,
    /// Skip the standard-cell measurements (area in um^2, OpenSTA Fmax, energy per MAC).
    #[arg(long)]
    pub no_energy: bool,
    /// Pixel tiles of the energy layer (the weight file's layer with the most MACs) simulated
    /// gate by gate per design.
    #[arg(long, default_value_t = 64)]
    pub energy_tiles: usize,
    /// Seed of the synthetic post-ReLU activations of the energy layer.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Liberty library for the energy (default: osu018 from Debian's qflow-tech-osu018).
    #[arg(long)]
    pub liberty: Option<PathBuf>,
    /// Let --out be a folder tetris did not write (compare writes its files and design folders into it).
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: Args) -> Result<()> {
    let t0 = Instant::now();
    for &b in &a.bits {
        if !(2..=16).contains(&b) {
            bail!("--bits {b}: widths are 2..=16");
        }
    }
    for &n in &a.sizes {
        if !(1..=64).contains(&n) {
            bail!("--sizes {n}: allowed range is 1..=64");
        }
    }
    if ![4, 8, 16].contains(&a.ks) {
        bail!("--ks {}: supported are 4, 8, 16", a.ks);
    }
    if !(a.clock_mhz.is_finite() && a.clock_mhz > 0.0 && a.clock_mhz <= 2000.0) {
        bail!("--clock-mhz {}: allowed range is (0, 2000]", a.clock_mhz);
    }
    crate::flow::constraints::ice40_device(&a.device)?;
    if a.energy_tiles == 0 {
        bail!("--energy-tiles 0: give at least 1");
    }
    let liberty = if a.no_energy {
        None
    } else {
        Some(crate::power::synth::liberty_path(a.liberty.as_deref())?)
    };
    crate::cli::prepare_out_folder(&a.weights, liberty.as_deref(), &a.out, a.force)?;
    let mut layers = load_array_layers(&a.weights, &a.input.spec())?;
    if let Some(n) = a.layers {
        if n == 0 {
            bail!("--layers 0: give at least 1");
        }
        layers.truncate(n);
    }
    let opts = CompareOptions {
        bits: a.bits.clone(),
        act_bits: a.act_bits,
        sizes: a.sizes.clone(),
        ks: a.ks,
        clock_mhz: a.clock_mhz,
        device: a.device.to_ascii_lowercase(),
        pnr_time_limit: a.pnr.limit(),
        energy: liberty.map(|liberty| EnergyOptions {
            liberty,
            tiles: a.energy_tiles,
            seed: a.seed,
        }),
        progress: true,
    };
    let name = crate::cli::file_label(&a.weights);
    let c = compare(&layers, &name, &opts, &a.out)?;
    print!("{}", crate::study::compare::markdown(&c));
    println!(
        "outputs     {}/compare.{{md,json,svg}} and one folder per design ({:.0} s)",
        a.out.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
