//! `tetris sim` on the RTL engines: a network's layers run (sampled tiles) on the in-process
//! RTL simulation or on the Verilator-built array, checked against the cycle model; the
//! speedup-per-layer plot of a run; the layers a run takes, what it leaves out and its JSON
//! report (`cli::sim` parses the flags and prints).

use super::rtl_driver::run_rtl;
use super::verilator_driver::{build_array_sim, run_layer_verilator, ArraySim};
use crate::array::cycle_model::{Engine, Timing};
use crate::array::host::check_layer_fits;
use crate::array::network::{
    evaluate, prepare, read_layer_activations, run_rtl_with, synthetic_activations, LayerReport,
    RtlSample, TotalReport,
};
use crate::config::Config;
use crate::fsutil::ScratchDir;
use crate::plot::{to_svg, Anchor, Rgb, Scene, Stroke};
use crate::weights::{self, Layer, Loaded, OpKind, Work};
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Instant;

/// How `rtl_reports` runs the layers (the `tetris sim` flags of engines rtl/verilator).
#[derive(Debug, Clone)]
pub struct RtlOptions {
    /// The Verilator-built array (else the in-process RTL simulation).
    pub verilator: bool,
    /// Pixel tiles per layer (default: 1 in process, every tile on Verilator).
    pub rtl_tiles: Option<usize>,
    /// Also run the MAC baseline on the RTL (else its cycles come from the cycle model).
    pub mac_rtl: bool,
    /// Verilator: parallel harness processes per layer (default: the available cores).
    pub jobs: Option<usize>,
    /// Verilator build cache.
    pub cache_dir: PathBuf,
    /// The first layer's input activations (.npy, [N, Cin, H, W] float).
    pub activations: Option<PathBuf>,
    /// Seed of the synthetic activations.
    pub seed: u64,
}

/// Engines rtl/verilator: per layer, run (sampled) tiles on the RTL, check every output and
/// the cycle model's count for those tiles. The layer's cycles stay the cycle model's for the
/// whole layer; the RTL's own run is `rtl_sample`.
pub fn rtl_reports(
    layers: &[&Layer],
    cfg: &Config,
    a: &RtlOptions,
    timing: Timing,
) -> Result<Vec<LayerReport>> {
    let mut out = Vec::new();
    let verilator = a.verilator;
    let rtl_tiles = a
        .rtl_tiles
        .unwrap_or(if verilator { usize::MAX } else { 1 });
    if rtl_tiles == 0 {
        bail!("--rtl-tiles 0: give at least 1");
    }
    let cache = &a.cache_dir;
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
        let p = &pl.map.params;
        let input = match (&a.activations, i) {
            (Some(f), 0) => read_layer_activations(
                f,
                [p.batch, p.cin, p.in_h, p.in_w],
                &l.name,
                cfg.pe.act_bits,
            )?,
            _ => synthetic_activations(p.input_len(), cfg.pe.act_bits, a.seed + i as u64),
        };
        eprintln!(
            "layer {} ({}/{}): {} of {} pixel tiles on the RTL{}",
            l.name,
            i + 1,
            layers.len(),
            rtl_tiles.clamp(1, pl.map.pixel_tiles()),
            pl.map.pixel_tiles(),
            if pl.repeat > 1 {
                format!(" (one of its {} runs)", pl.repeat)
            } else {
                String::new()
            }
        );
        let run = if verilator {
            let t0 = Instant::now();
            let r = run_rtl_with(
                &pl,
                &input,
                rtl_tiles,
                timing,
                a.mac_rtl,
                |engine, tiles| {
                    // Before a (minutes-long) Verilator build, not after it.
                    check_layer_fits(cfg, &pl.map, tiles)?;
                    let k = usize::from(engine == Engine::Mac);
                    if sims[k].is_none() {
                        let t = Instant::now();
                        let s = build_array_sim(cfg, engine, cache)?;
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
                    let (run, st) =
                        run_layer_verilator(sim, cfg, pl.data(&input), engine, tiles, &work, jobs)?;
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
            run_rtl(&pl, cfg, &input, rtl_tiles, timing, true, a.mac_rtl)?
        };
        let mut r = evaluate(&pl, timing);
        r.run.outputs_match = Some(run.outputs_match);
        r.run.model_agrees = Some(run.model_agrees);
        r.rtl_sample = Some(RtlSample {
            tiles: run.tiles,
            of_tiles: pl.map.pixel_tiles(),
            macs: run.pixels as u64 * p.weight_len() as u64,
            tetris_cycles: run.tetris_cycles,
            mac_cycles: run.mac_cycles,
            speedup: run.mac_cycles as f64 / run.tetris_cycles.max(1) as f64,
        });
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

const GRID: Rgb = Rgb(0xdd, 0xdd, 0xdd);
const BAR: Rgb = Rgb(0x4a, 0x7b, 0xd0);
const IDEAL: Rgb = Rgb(0xd0, 0x4a, 0x4a);

/// Bars of the array speedup per layer, with the ideal per-group bound as a tick per layer.
pub fn speedup_svg(reports: &[LayerReport], tot: &TotalReport) -> String {
    to_svg(&speedup_scene(reports, tot))
}

/// The layout of [`speedup_svg`] (also renderable as PNG by `crate::plot::to_png`).
pub fn speedup_scene(reports: &[LayerReport], tot: &TotalReport) -> Scene {
    let n = reports.len().max(1);
    let (w, h, left, bottom, top) = (60.0 + 14.0 * n as f64 + 40.0, 420.0, 60.0, 60.0, 40.0);
    let ymax = reports
        .iter()
        .map(|r| r.ideal_speedup.unwrap_or(0.0).max(r.run.speedup))
        .fold(1.0f64, f64::max)
        .ceil();
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v.min(ymax) / ymax);
    let mut s = Scene::new(w.ceil() as u32, h as u32);
    s.title(
        left,
        20.0,
        format!(
            "Tetris array speedup over the MAC array per layer (bars); ideal per-group bound (ticks). Total {:.3}x of ideal {:.3}x by work ({:.1}%)",
            tot.run.speedup,
            tot.ideal_speedup_by_work.unwrap_or(f64::INFINITY),
            100.0 * tot.run.ideal_share
        ),
    );
    for k in 0..=(ymax as usize * 2) {
        let v = k as f64 * 0.5;
        s.line(left, y(v), w - 20.0, y(v), GRID);
        s.text(
            left - 4.0,
            y(v) + 4.0,
            11.0,
            Anchor::End,
            format!("{v:.1}x"),
        );
    }
    for (i, r) in reports.iter().enumerate() {
        let x = left + 14.0 * i as f64 + 2.0;
        s.rect(
            x,
            y(r.run.speedup),
            10.0,
            y(0.0) - y(r.run.speedup),
            BAR,
            Some(format!(
                "{} ({}): {:.3}x (ideal {:.3}x)",
                r.name,
                r.op,
                r.run.speedup,
                r.ideal_speedup.unwrap_or(f64::INFINITY)
            )),
        );
        if let Some(ideal) = r.ideal_speedup {
            let yi = y(ideal);
            s.stroke_line(
                x - 1.0,
                yi,
                x + 11.0,
                yi,
                Stroke::new(IDEAL).width(2.0),
                None,
            );
        }
    }
    s.text(
        left,
        h - 20.0,
        11.0,
        Anchor::Start,
        format!("layer index (0..{}) in network order", n - 1),
    );
    s
}

// ---------------------------------------------------------------- the layers and the report

/// A layer that is not run, in the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Skipped {
    pub name: String,
    pub op: String,
    pub weights: usize,
    pub reason: String,
}

/// Everything not run on the array: weighted layers that do not map and other nodes holding
/// constants.
pub fn not_run(loaded: &Loaded) -> Vec<Skipped> {
    let layers = loaded.layers.iter().filter_map(|l| match &l.work {
        Work::Array(_) => None,
        Work::NeedsInput(why) | Work::NotMapped(why) => Some(Skipped {
            name: l.name.clone(),
            op: l.op.clone(),
            weights: l.data.len(),
            reason: why.clone(),
        }),
    });
    let others = loaded.not_mapped.iter().map(|n| Skipped {
        name: n.name.clone(),
        op: n.op.clone(),
        weights: n.weights,
        reason: n.reason.clone(),
    });
    layers.chain(others).collect()
}

/// The layers `tetris sim` runs: those of the operator families `ops` that run on the array,
/// only the one named `layer` or the first `first` of them when given.
pub fn array_layers<'a>(
    loaded: &'a Loaded,
    ops: &[OpKind],
    layer: Option<&str>,
    first: Option<usize>,
) -> Result<Vec<&'a Layer>> {
    let mut layers: Vec<&Layer> = loaded
        .layers
        .iter()
        .filter(|l| l.array().is_some() && ops.contains(&l.kind))
        .collect();
    if let Some(name) = layer {
        layers.retain(|l| l.name == name);
        if layers.is_empty() {
            bail!("no layer named {name:?} runs on the array");
        }
    }
    if let Some(n) = first {
        if n == 0 {
            bail!("--layers 0: give at least 1");
        }
        layers.truncate(n);
    }
    if layers.is_empty() {
        let names: Vec<&str> = ops.iter().map(|k| k.name()).collect();
        bail!("no layer of --ops {} runs on the array", names.join(","));
    }
    Ok(layers)
}

/// `tetris sim --json`: the settings, every layer, the totals (all and per operator family),
/// what does not run on the array and the notes printed under the table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimDoc {
    pub settings: SettingsDoc,
    pub layers: Vec<LayerReport>,
    pub total: TotalReport,
    pub total_by_op: std::collections::BTreeMap<String, TotalReport>,
    pub not_mapped: Vec<Skipped>,
    pub notes: Vec<String>,
}

/// What the run was: the design, the weights and their inputs, the engine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SettingsDoc {
    pub weights: String,
    pub config: crate::config::Config,
    pub engine: String,
    pub window_beats: usize,
    pub input_hw: Option<[usize; 2]>,
    pub input_shape: Vec<String>,
    pub inputs: Vec<weights::InputUsed>,
    pub ops: Vec<String>,
    pub fold_bn: bool,
    pub folded_batch_norms: Vec<weights::Folded>,
    pub numpy_layout: Option<String>,
    pub quantization: String,
    pub activations: String,
    pub rtl_tiles_per_layer: Option<String>,
    pub definitions: Definitions,
}

/// What the report's figures mean (in every JSON, for a reader without the docs).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Definitions {
    pub ideal_speedup: String,
    pub ideal_speedup_by_work: String,
    pub ideal_speedup_by_weights: String,
    pub ideal_share: String,
    pub cycles: String,
}

impl Default for Definitions {
    fn default() -> Definitions {
        Definitions {
            ideal_speedup: "per layer: weights / sum of kneaded lengths (the per-group bound); equal weighted by work or by weights within a layer".into(),
            ideal_speedup_by_work: "total: MAC work / ideal SAC work, each layer weighted by pixels x weights (x repeats): the bound this array could reach on the network".into(),
            ideal_speedup_by_weights: "total: weights / kneaded lengths over the layers, each weight counted once: the figure `tetris knead` reports for the same layers".into(),
            ideal_share: "speedup / ideal speedup (by work in the total); above 1 where the MAC baseline loses more to the schedule than the SAC array (see docs/array.md)".into(),
            cycles: "whole layer, cycle model; with engines rtl/verilator the RTL ran the tiles in rtl_sample and the model matched it there (model_agrees)".into(),
        }
    }
}

/// Why a share of the ideal is above 1, for every layer (and the total) where it is.
pub fn share_notes(reports: &[LayerReport], tot: &TotalReport, cols: usize) -> Vec<String> {
    let mut notes = Vec::new();
    let above: Vec<&LayerReport> = reports
        .iter()
        .filter(|r| r.run.ideal_share > 1.0 + 1e-9)
        .collect();
    let (uneven, other): (Vec<&LayerReport>, Vec<&LayerReport>) =
        above.iter().partition(|r| r.cout % cols.max(1) != 0);
    if !uneven.is_empty() {
        notes.push(format!(
            "share above 1 in {} layer(s) ({}): their filters do not divide evenly over the {cols} columns. The MAC array's busiest column holds one filter more than others, each costing the full dot product; the balancer gives the SAC columns that hold one more filter the lightest ones, so the SAC's busiest column carries less than that extra share of kneaded work. The per-group bound assumes both arrays spread their work evenly.",
            uneven.len(),
            uneven.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    if !other.is_empty() {
        notes.push(format!(
            "share above 1 in {} layer(s) ({}): the MAC schedule loses more cycles to the mapping than the SAC schedule",
            other.len(),
            other.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    if tot.run.ideal_share > 1.0 + 1e-9 {
        notes.push("total share above 1: the total's ideal weights layers by work, its speedup by cycles; layers that use the array poorly (e.g. a recurrent matrix over one batch row) weigh more in cycles than in work, and where they speed up more than the rest they lift the total above the work-weighted bound".into());
    }
    notes
}
