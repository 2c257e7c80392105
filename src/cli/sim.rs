//! `tetris sim`: run a network's layers on the Tetris array and on the MAC array of the same
//! size, per layer, per operator family and in total (cycle model, or the RTL on sampled
//! tiles), with every layer's true work (batch, sequence and time steps from the input sizes
//! used) and a list of what does not run on the array.

use crate::array::cycle_model::{Timing, DEFAULT_WINDOW};
use crate::array::network::{
    check_inputs, evaluate_all, total, totals_by_op, LayerReport, RunFigures, TotalReport,
};
use crate::cli::{CacheDirArg, ConfigArg, InputArgs, ModelArgs};
use crate::flow::sim_run::{
    array_layers, not_run, rtl_reports, share_notes, speedup_svg, Definitions, RtlOptions,
    SettingsDoc, SimDoc, Skipped,
};
use crate::fsutil::{write_files_atomic, OutputPlan};
use crate::weights::shapes::shape_text;
use crate::weights::{self, Layer, Loaded, OpKind};
use anyhow::{bail, Context, Result};
use std::path::PathBuf;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimEngine {
    /// The analytic cycle model (whole layers, milliseconds).
    Model,
    /// The in-process RTL simulation of the generated array (sampled tiles, slow).
    Rtl,
    /// The emitted array Verilog compiled by Verilator (whole layers; builds are cached).
    Verilator,
}

#[derive(clap::Args, Debug)]
#[command(mut_arg("ops", |a| a.help(
    "Operator families to run: conv,convtranspose,gemm,matmul,recurrent,tensor (default: all the array can run)"
)))]
pub struct Args {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Weight file: .onnx (every Conv/ConvTranspose/Gemm/MatMul/LSTM/GRU/RNN with constant
    /// weights), .npy or .npz (4-D convs, 2-D matrices).
    #[arg(long)]
    pub weights: PathBuf,
    /// Only the layer with this name.
    #[arg(long, conflicts_with = "layers")]
    pub layer: Option<String>,
    /// Only the first N layers.
    #[arg(long)]
    pub layers: Option<usize>,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub input: InputArgs,
    #[arg(long, value_enum, default_value = "model")]
    pub engine: SimEngine,
    /// Write the report as JSON here (and the speedup plot next to it, as .svg).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the speedup-per-layer plot (SVG) here.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Activation queue depth per column (beats).
    #[arg(long, default_value_t = DEFAULT_WINDOW)]
    pub window: usize,
    /// Engines rtl/verilator: pixel tiles per layer to simulate (evenly spaced). Default: 1 for
    /// rtl (the in-process RTL runs a few hundred cycles/s at 8x8), every tile for verilator.
    #[arg(long)]
    pub rtl_tiles: Option<usize>,
    /// Engines rtl/verilator: simulate only the Tetris array; the MAC baseline's cycles then
    /// come from the cycle model.
    #[arg(long)]
    pub no_mac_rtl: bool,
    /// Engine verilator: parallel harness processes per layer (the pixel tiles are split into
    /// this many chunks, each checked against the cycle model). Default: the available cores.
    #[arg(long)]
    pub jobs: Option<usize>,
    // Engine verilator: the build cache.
    #[command(flatten)]
    pub cache: CacheDirArg,
    /// Engine rtl: the first layer's input activations (.npy, [N, Cin, H, W] float).
    #[arg(long)]
    pub activations: Option<PathBuf>,
    /// Engine rtl: seed of the synthetic activations.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(a: Args) -> Result<()> {
    let cfg = a.config.load()?;
    if a.window == 0 || a.window > 1024 {
        bail!("--window {}: allowed range is 1..=1024", a.window);
    }
    let plot = a
        .plot
        .clone()
        .or_else(|| a.json.as_ref().map(|j| j.with_extension("svg")));
    OutputPlan::new(false)
        .input("--config", a.config.path())
        .input("--weights", Some(&a.weights))
        .input("--activations", a.activations.as_deref())
        .file("--json", a.json.as_deref())
        .file("--plot (or next to --json)", plot.as_deref())
        .prepare()?;
    let opts = a.model.load_options(a.input.spec());
    let loaded = weights::load_with(&a.weights, &opts)?;
    for n in &loaded.notes {
        eprintln!("note: {n}");
    }
    check_inputs(&loaded, &a.weights)?;
    let ops = OpKind::selection(&a.model.ops);
    let layers = array_layers(&loaded, &ops, a.layer.as_deref(), a.layers)
        .with_context(|| format!("{}", a.weights.display()))?;
    let timing = Timing {
        window: a.window,
        ..Timing::default()
    };
    if a.engine != SimEngine::Model && timing.window != DEFAULT_WINDOW {
        bail!(
            "--window {}: the RTL's window is fixed at {DEFAULT_WINDOW} (the PE's two activation banks)",
            a.window
        );
    }
    let reports = match a.engine {
        SimEngine::Model => {
            let owned: Vec<Layer> = layers.iter().map(|l| (*l).clone()).collect();
            evaluate_all(&owned, &cfg, timing)
        }
        SimEngine::Rtl | SimEngine::Verilator => {
            let o = RtlOptions {
                verilator: a.engine == SimEngine::Verilator,
                rtl_tiles: a.rtl_tiles,
                mac_rtl: !a.no_mac_rtl,
                jobs: a.jobs,
                cache_dir: a.cache.root(),
                activations: a.activations.clone(),
                seed: a.seed,
            };
            rtl_reports(&layers, &cfg, &o, timing)
        }
    }
    .with_context(|| format!("{}", a.weights.display()))?;
    let tot = total(&reports);
    let by_op = totals_by_op(&reports);
    let skipped = not_run(&loaded);
    print_table(&reports, &by_op, &tot);
    if reports.iter().any(|r| r.rtl_sample.is_some()) {
        print_rtl_samples(&reports);
    }
    let activations = match (a.engine, &a.activations) {
        (SimEngine::Model, _) => {
            "not used: the cycle model's timing does not depend on activation values".to_string()
        }
        (_, Some(f)) => format!(
            "from {} (quantized per tensor, max-abs), for the first layer; seeded synthetic (seed {}) for the others",
            f.display(),
            a.seed
        ),
        (_, None) => format!(
            "seeded synthetic, uniform over the act_bits range (seed {})",
            a.seed
        ),
    };
    println!(
        "# {} {}x{} vs MAC {}x{}, {}-bit {} KS={}, window {} beats; activations: {activations}",
        cfg.top.name,
        cfg.array.rows,
        cfg.array.cols,
        cfg.array.rows,
        cfg.array.cols,
        cfg.pe.weight_bits,
        cfg.pe.encoding,
        cfg.pe.ks,
        a.window
    );
    print_context(&loaded, &skipped, &tot, a.model.no_fold_bn);
    let notes = share_notes(&reports, &tot, cfg.array.cols as usize);
    for n in &notes {
        println!("# {n}");
    }
    let mut files = vec![];
    if let Some(j) = &a.json {
        let settings = SettingsDoc {
            weights: a.weights.display().to_string(),
            config: cfg.clone(),
            engine: format!("{:?}", a.engine).to_lowercase(),
            window_beats: a.window,
            input_hw: a.input.input_hw.map(|(h, w)| [h, w]),
            input_shape: a
                .input
                .input_shape
                .iter()
                .map(|(n, s)| format!("{n}={}", shape_text(s)))
                .collect(),
            inputs: loaded.inputs.clone(),
            ops: ops.iter().map(|k| k.name().into()).collect(),
            fold_bn: !a.model.no_fold_bn,
            folded_batch_norms: loaded.folded.clone(),
            numpy_layout: loaded.layout.clone(),
            quantization: "per-tensor symmetric max-abs".into(),
            activations,
            rtl_tiles_per_layer: (a.engine != SimEngine::Model)
                .then(|| a.rtl_tiles.map_or("default".to_string(), |t| t.to_string())),
            definitions: Definitions::default(),
        };
        let doc = SimDoc {
            settings,
            layers: reports.clone(),
            total: tot.clone(),
            total_by_op: by_op
                .iter()
                .map(|(k, t)| (k.name().into(), t.clone()))
                .collect(),
            not_mapped: skipped.clone(),
            notes: notes.clone(),
        };
        files.push((j.as_path(), crate::fsutil::json_text(&doc)?.into_bytes()));
    }
    if let Some(p) = &plot {
        files.push((p.as_path(), speedup_svg(&reports, &tot).into_bytes()));
    }
    let refs: Vec<_> = files.iter().map(|(p, b)| (*p, b.as_slice())).collect();
    write_files_atomic(&refs)?;
    if let Some(p) = &plot {
        eprintln!("plot: {}", p.display());
    }
    Ok(())
}

/// Inputs used, batch norms folded, what is not run, and the two ideal figures.
fn print_context(loaded: &Loaded, skipped: &[Skipped], tot: &TotalReport, no_fold: bool) {
    for i in &loaded.inputs {
        println!(
            "# input {}: {} ({})",
            i.name,
            i.used.as_deref().map_or("?".into(), shape_text),
            i.how
        );
    }
    if let Some(l) = &loaded.layout {
        println!("# {l}");
    }
    if no_fold {
        println!("# batch norm: not folded (--no-fold-bn)");
    } else if !loaded.folded.is_empty() {
        println!(
            "# batch norm folded into the conv before it: {} ({})",
            loaded.folded.len(),
            loaded
                .folded
                .iter()
                .map(|f| format!("{} <- {}", f.layer, f.batch_norm))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !skipped.is_empty() {
        let total: usize = skipped.iter().map(|s| s.weights).sum();
        println!(
            "# not run on the array: {} node(s) holding {total} constant values (all listed in the JSON):",
            skipped.len()
        );
        // One line per (operator, reason); names where there are few.
        let mut groups: Vec<(&str, &str, Vec<&Skipped>)> = Vec::new();
        for s in skipped {
            match groups.iter_mut().find(|g| g.0 == s.op && g.1 == s.reason) {
                Some(g) => g.2.push(s),
                None => groups.push((&s.op, &s.reason, vec![s])),
            }
        }
        for (op, reason, list) in groups {
            let values: usize = list.iter().map(|s| s.weights).sum();
            let names = if list.len() <= 3 {
                format!(
                    " ({})",
                    list.iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                String::new()
            };
            println!("#   {op} x{}{names}: {values} values, {reason}", list.len());
        }
    }
    println!(
        "# ideal speedup: {:.4} weighted by work (pixels x weights, the Ideal of the total row), {:.4} weighted by weights (as `tetris knead`)",
        tot.ideal_speedup_by_work.unwrap_or(f64::INFINITY),
        tot.ideal_speedup_by_weights.unwrap_or(f64::INFINITY)
    );
}

fn print_table(
    reports: &[LayerReport],
    by_op: &std::collections::BTreeMap<OpKind, TotalReport>,
    tot: &TotalReport,
) {
    println!(
        "{:<40} {:<13} {:>14} {:>14} {:>8} {:>8} {:>8} {:>16} {:>19} {:>22}",
        "LayerName",
        "Op",
        "Total Cycles",
        "MAC Cycles",
        "Speedup",
        "Ideal",
        "Share",
        "Compute Util %",
        "MAC Compute Util %",
        "Mapping Efficiency %"
    );
    // One row: a layer's figures or a total's, with the ideal speedup its share is of.
    let row = |name: &str, op: &str, r: &RunFigures, ideal: Option<f64>| {
        println!(
            "{:<40} {:<13} {:>14} {:>14} {:>8.3} {:>8.3} {:>8.3} {:>16.1} {:>19.1} {:>22.1}",
            truncate(name, 40),
            op,
            r.tetris_cycles,
            r.mac_cycles,
            r.speedup,
            ideal.unwrap_or(f64::INFINITY),
            r.ideal_share,
            100.0 * r.utilization,
            100.0 * r.mac_utilization,
            100.0 * r.mapping_efficiency
        );
    };
    for r in reports {
        let op = if r.repeat > 1 {
            format!("{} x{}", r.op, r.repeat)
        } else {
            r.op.to_string()
        };
        row(&r.name, &op, &r.run, r.ideal_speedup);
    }
    let trow =
        |name: &str, op: &str, t: &TotalReport| row(name, op, &t.run, t.ideal_speedup_by_work);
    if by_op.len() > 1 {
        for (k, t) in by_op {
            trow(&format!("total {k} ({} layers)", t.layers), k.name(), t);
        }
    }
    trow("total", "", tot);
}

/// The RTL's own runs: sampled tiles only, labelled as such.
fn print_rtl_samples(reports: &[LayerReport]) {
    println!("# RTL runs (sampled pixel tiles only; the rows above are whole layers from the cycle model, which matched the RTL on these tiles where model_agrees):");
    println!(
        "{:<40} {:>12} {:>14} {:>14} {:>14} {:>8} {:>8} {:>7}",
        "LayerName",
        "Tiles",
        "Sampled MACs",
        "Tetris Cycles",
        "MAC Cycles",
        "Speedup",
        "Outputs",
        "Model"
    );
    for r in reports {
        if let Some(s) = &r.rtl_sample {
            println!(
                "{:<40} {:>12} {:>14} {:>14} {:>14} {:>8.3} {:>8} {:>7}",
                truncate(&r.name, 40),
                format!("{}/{}", s.tiles, s.of_tiles),
                s.macs,
                s.tetris_cycles,
                s.mac_cycles,
                s.speedup,
                if r.run.outputs_match == Some(true) {
                    "match"
                } else {
                    "MISMATCH"
                },
                if r.run.model_agrees == Some(true) {
                    "agrees"
                } else {
                    "DIFFERS"
                }
            );
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().skip(s.chars().count() - n).collect()
    }
}
