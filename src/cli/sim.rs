//! `tetris sim`: run a network's conv/GEMM layers on the Tetris array and on the MAC array of
//! the same size, per layer and in total (cycle model, or the in-process RTL on sampled tiles).

use crate::array::cycle_model::Engine;
use crate::array::cycle_model::{Timing, DEFAULT_WINDOW};
use crate::array::network::run_rtl_with;
use crate::array::network::{
    evaluate, evaluate_all, load_layers, prepare, quantize_activations, read_activations, run_rtl,
    synthetic_activations, total, Layer, LayerReport,
};
use crate::array::verilator_driver::{build_array_sim, run_layer_verilator, ArraySim};
use crate::config::Config;
use crate::flow::verilator::default_cache_dir;
use crate::fsutil::{write_files_atomic, OutputPlan, ScratchDir};
use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::time::Instant;

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
pub struct Args {
    /// Design config (TOML); the built-in default when omitted.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Weight file: .onnx (every Conv/ConvTranspose/Gemm/MatMul) or .npy (one layer).
    #[arg(long)]
    pub weights: PathBuf,
    /// Only the layer with this name.
    #[arg(long, conflicts_with = "layers")]
    pub layer: Option<String>,
    /// Only the first N layers.
    #[arg(long)]
    pub layers: Option<usize>,
    #[arg(long, value_enum, default_value = "model")]
    pub engine: SimEngine,
    /// Write the report as JSON here (and the speedup plot next to it, as .svg).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the speedup-per-layer plot (SVG) here.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Input height,width used where the model's input size is symbolic.
    #[arg(long, default_value = "640,640", value_parser = parse_hw)]
    pub input_hw: (usize, usize),
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
    /// Engine verilator: build cache (default: $TETRIS_CACHE_DIR or ~/.cache/tetris-hdl).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Engine rtl: the first layer's input activations (.npy, [N, Cin, H, W] float).
    #[arg(long)]
    pub activations: Option<PathBuf>,
    /// Engine rtl: seed of the synthetic activations.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Engines rtl/verilator: per layer, run (sampled) tiles on the RTL; the report's cycles are
/// the RTL's cycle counter on those tiles (SAC streams and MAC streams).
fn rtl_reports(
    layers: &[Layer],
    cfg: &Config,
    a: &Args,
    timing: Timing,
) -> Result<Vec<LayerReport>> {
    let mut out = Vec::new();
    let verilator = a.engine == SimEngine::Verilator;
    let rtl_tiles = a
        .rtl_tiles
        .unwrap_or(if verilator { usize::MAX } else { 1 });
    if rtl_tiles == 0 {
        bail!("--rtl-tiles 0: give at least 1");
    }
    let cache = a.cache_dir.clone().unwrap_or_else(default_cache_dir);
    let jobs = match a.jobs {
        Some(0) => bail!("--jobs 0: give at least 1"),
        Some(j) => j,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let scratch = ScratchDir::new("tetris-sim")?;
    let work = scratch.path().to_path_buf();
    let mut sims: [Option<ArraySim>; 2] = [None, None];
    for (i, l) in layers.iter().enumerate() {
        let pl = prepare(l, cfg)?;
        let input = match (&a.activations, i) {
            (Some(f), 0) => {
                let (shape, x) = read_activations(f)?;
                let want = [l.params.batch, l.params.cin, l.params.in_h, l.params.in_w];
                if shape != want {
                    bail!(
                        "{}: shape {:?} does not match layer {}'s input {:?}",
                        f.display(),
                        shape,
                        l.name,
                        want
                    );
                }
                quantize_activations(&x, cfg.pe.act_bits)
                    .with_context(|| format!("{}", f.display()))?
            }
            _ => synthetic_activations(l.params.input_len(), cfg.pe.act_bits, a.seed + i as u64),
        };
        eprintln!(
            "layer {} ({}/{}): {} of {} pixel tiles on the RTL",
            l.name,
            i + 1,
            layers.len(),
            rtl_tiles.clamp(1, pl.map.pixel_tiles()),
            pl.map.pixel_tiles()
        );
        let run = if verilator {
            let t0 = Instant::now();
            let r = run_rtl_with(
                &pl,
                &input,
                rtl_tiles,
                timing,
                !a.no_mac_rtl,
                |engine, tiles| {
                    let k = usize::from(engine == Engine::Mac);
                    if sims[k].is_none() {
                        let t = Instant::now();
                        let s = build_array_sim(cfg, engine, &cache)?;
                        eprintln!(
                            "  verilator: {} {:?} array {} in {:.1} s",
                            s.top,
                            engine,
                            if s.cached {
                                "taken from the build cache"
                            } else {
                                "emitted and built"
                            },
                            t.elapsed().as_secs_f64()
                        );
                        sims[k] = Some(s);
                    }
                    let sim = sims[k].as_ref().expect("built above");
                    let (run, st) = run_layer_verilator(
                        sim,
                        cfg,
                        &pl.map,
                        &input,
                        &pl.qweights,
                        &pl.lens,
                        engine,
                        tiles,
                        &work,
                        jobs,
                    )?;
                    eprintln!(
                    "  verilator {engine:?}: {} cycles in {:.2} s ({:.0} cycles/s), stimulus {:.1} MB prepared in {:.2} s",
                    st.sim_cycles,
                    st.sim_s,
                    st.sim_cycles as f64 / st.sim_s.max(1e-9),
                    st.stimulus_bytes as f64 / 1e6,
                    st.prepare_s
                );
                    Ok(run)
                },
            );
            eprintln!("  layer on verilator: {:.1} s", t0.elapsed().as_secs_f64());
            r?
        } else {
            run_rtl(&pl, cfg, &input, rtl_tiles, timing, true, !a.no_mac_rtl)?
        };
        let mut r = evaluate(&pl, timing);
        // Utilizations of the sampled run: the useful work of the pixels it ran (a layer's last
        // tile may be partial), over the RTL cycles.
        let share = run.pixels as f64 / pl.map.params.pixels() as f64;
        r.utilization *= r.tetris_cycles as f64 / run.tetris_cycles as f64 * share;
        r.mac_utilization *= r.mac_cycles as f64 / run.mac_cycles as f64 * share;
        r.tetris_cycles = run.tetris_cycles;
        r.mac_cycles = run.mac_cycles;
        r.speedup = run.mac_cycles as f64 / run.tetris_cycles as f64;
        r.ideal_share = r.speedup / r.ideal_speedup;
        r.outputs_match = Some(run.outputs_match);
        r.model_agrees = Some(run.model_agrees);
        eprintln!(
            "  {} outputs checked: {}; cycle model agrees: {}{}{}",
            run.checked_outputs,
            if run.outputs_match {
                "all match"
            } else {
                "MISMATCH"
            },
            run.model_agrees,
            if run.chunks > 1 {
                format!(
                    " (on each of {} parallel chunks; the layer's cycles are the model's for one run)",
                    run.chunks
                )
            } else {
                String::new()
            },
            if run.mac_on_rtl {
                ""
            } else {
                "; MAC cycles from the cycle model (--no-mac-rtl)"
            }
        );
        out.push(r);
    }
    Ok(out)
}

pub(crate) fn parse_hw(s: &str) -> Result<(usize, usize), String> {
    let v: Vec<&str> = s.split(',').collect();
    match v[..] {
        [h, w] => match (h.trim().parse::<usize>(), w.trim().parse::<usize>()) {
            (Ok(h), Ok(w)) if h > 0 && w > 0 => Ok((h, w)),
            _ => Err(format!(
                "--input-hw {s:?}: expected two positive integers H,W"
            )),
        },
        _ => Err(format!("--input-hw {s:?}: expected H,W")),
    }
}

pub fn run(a: Args) -> Result<()> {
    let cfg = Config::load(a.config.as_deref())?;
    if a.window == 0 || a.window > 1024 {
        bail!("--window {}: allowed range is 1..=1024", a.window);
    }
    let plot = a
        .plot
        .clone()
        .or_else(|| a.json.as_ref().map(|j| j.with_extension("svg")));
    OutputPlan::new(false)
        .input("--config", a.config.as_deref())
        .input("--weights", Some(&a.weights))
        .input("--activations", a.activations.as_deref())
        .file("--json", a.json.as_deref())
        .file("--plot (or next to --json)", plot.as_deref())
        .prepare()?;
    let mut layers = load_layers(&a.weights, a.input_hw)?;
    if let Some(name) = &a.layer {
        layers.retain(|l| &l.name == name);
        if layers.is_empty() {
            bail!("{}: no layer named {name:?}", a.weights.display());
        }
    }
    if let Some(n) = a.layers {
        if n == 0 {
            bail!("--layers 0: give at least 1");
        }
        layers.truncate(n);
    }
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
        SimEngine::Model => evaluate_all(&layers, &cfg, timing)?,
        SimEngine::Rtl | SimEngine::Verilator => rtl_reports(&layers, &cfg, &a, timing)?,
    };
    let tot = total(&reports);
    print_table(&reports, &tot);
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
    let mut files = vec![];
    if let Some(j) = &a.json {
        let settings = serde_json::json!({
            "weights": a.weights.display().to_string(),
            "config": cfg,
            "engine": format!("{:?}", a.engine).to_lowercase(),
            "window_beats": a.window,
            "input_hw": [a.input_hw.0, a.input_hw.1],
            "quantization": "per-tensor symmetric max-abs",
            "activations": activations,
            "rtl_tiles_per_layer": (a.engine != SimEngine::Model).then_some(a.rtl_tiles.map_or("default".to_string(), |t| t.to_string())),
            "ideal_speedup_total_is": "work-weighted (pixels x weights) over the layers",
        });
        let doc = serde_json::json!({"settings": settings, "layers": reports, "total": tot});
        files.push((
            j.as_path(),
            serde_json::to_string_pretty(&doc)?.into_bytes(),
        ));
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

fn print_table(reports: &[LayerReport], tot: &LayerReport) {
    println!(
        "{:<40} {:>14} {:>14} {:>8} {:>8} {:>8} {:>16} {:>19} {:>22}",
        "LayerName",
        "Total Cycles",
        "MAC Cycles",
        "Speedup",
        "Ideal",
        "Share",
        "Compute Util %",
        "MAC Compute Util %",
        "Mapping Efficiency %"
    );
    for r in reports.iter().chain(std::iter::once(tot)) {
        println!(
            "{:<40} {:>14} {:>14} {:>8.3} {:>8.3} {:>8.3} {:>16.1} {:>19.1} {:>22.1}",
            truncate(&r.name, 40),
            r.tetris_cycles,
            r.mac_cycles,
            r.speedup,
            r.ideal_speedup,
            r.ideal_share,
            100.0 * r.utilization,
            100.0 * r.mac_utilization,
            100.0 * r.mapping_efficiency
        );
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().skip(s.chars().count() - n).collect()
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Bars of the array speedup per layer, with the ideal per-group bound as a tick per layer.
pub fn speedup_svg(reports: &[LayerReport], tot: &LayerReport) -> String {
    let n = reports.len().max(1);
    let (w, h, left, bottom, top) = (60.0 + 14.0 * n as f64 + 40.0, 420.0, 60.0, 60.0, 40.0);
    let ymax = reports
        .iter()
        .map(|r| r.ideal_speedup.max(r.speedup))
        .filter(|v| v.is_finite())
        .fold(1.0f64, f64::max)
        .ceil();
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v.min(ymax) / ymax);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{left}\" y=\"20\" font-size=\"14\">Tetris array speedup over the MAC array per layer (bars); ideal per-group bound (ticks). Total {:.3}x of ideal {:.3}x ({:.1}%)</text>\n",
        tot.speedup,
        tot.ideal_speedup,
        100.0 * tot.ideal_share
    );
    for k in 0..=(ymax as usize * 2) {
        let v = k as f64 * 0.5;
        s += &format!(
            "<line x1=\"{left}\" x2=\"{x2}\" y1=\"{yv:.1}\" y2=\"{yv:.1}\" stroke=\"#ddd\"/><text x=\"{xt}\" y=\"{yt:.1}\" text-anchor=\"end\">{v:.1}x</text>\n",
            x2 = w - 20.0,
            yv = y(v),
            xt = left - 4.0,
            yt = y(v) + 4.0
        );
    }
    for (i, r) in reports.iter().enumerate() {
        let x = left + 14.0 * i as f64 + 2.0;
        s += &format!(
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"10\" height=\"{:.1}\" fill=\"#4a7bd0\"><title>{}: {:.3}x (ideal {:.3}x)</title></rect>\n",
            y(r.speedup),
            y(0.0) - y(r.speedup),
            esc(&r.name),
            r.speedup,
            r.ideal_speedup
        );
        if r.ideal_speedup.is_finite() {
            s += &format!(
                "<line x1=\"{x1:.1}\" x2=\"{x2:.1}\" y1=\"{yi:.1}\" y2=\"{yi:.1}\" stroke=\"#d04a4a\" stroke-width=\"2\"/>\n",
                x1 = x - 1.0,
                x2 = x + 11.0,
                yi = y(r.ideal_speedup)
            );
        }
    }
    s += &format!(
        "<text x=\"{left}\" y=\"{}\">layer index (0..{}) in network order</text>\n</svg>\n",
        h - 20.0,
        n - 1
    );
    s
}
