//! `tetris cosim`: the emitted Verilog of the configured design, built with Verilator, replays
//! the stimulus of the in-process rust-hdl simulation; every output port is compared in every
//! cycle (so results and cycle counts are checked together), and the in-process results are
//! checked against the golden model.
//!
//! Designs: the PE-level design of `tetris gen` (SAC PE with its kneading unit, or the MAC PE)
//! with `vectors` random dot products, or the array (rows x cols > 1) on `vectors` pixel
//! tiles of a random small conv layer or of a real layer from a weight file.

use super::array_gen::emit_array;
use super::gen::{self_check_vectors, RunPe};
use super::verilator::{replay, Mismatch};
use super::verilog::Design;
use crate::array::cycle_model::Engine;
use crate::array::host::LayerData;
use crate::array::mapper::{kneaded_lengths, map_layer};
use crate::array::network::{prepare, synthetic_activations};
use crate::config::{Config, PeKind};
use crate::flow::rtl_driver::run_layer_rtl_traced;
use crate::flow::select::dispatch;
use crate::hdl::sim::{SplitMix64, Trace};
use crate::model::conv::{conv2d, ConvParams};
use crate::model::mac::mac_dot;
use crate::weights::Layer;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What `tetris cosim` reports (the JSON document).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CosimReport {
    pub design: String,
    /// Dot products (PE) or pixel tiles (array) driven.
    pub vectors: usize,
    /// Clock cycles compared (after reset).
    pub cycles: usize,
    /// (cycle, output port) pairs where Verilator and rust-hdl differ.
    pub mismatches: usize,
    pub first_mismatch: Option<Mismatch>,
    /// Results of the in-process run that differ from the golden model.
    pub golden_mismatches: usize,
    pub results_checked: usize,
    /// Seconds of the Verilator build (0 when the cached build was used).
    pub build_s: f64,
    pub build_cached: bool,
    pub sim_cycles_per_s: f64,
    /// In-process rust-hdl speed on the same stimulus (recording ports every cycle).
    pub rust_hdl_cycles_per_s: f64,
    /// Waveform written (on request, or on a mismatch).
    pub waveform: Option<String>,
}

/// Options of one co-simulation.
#[derive(Debug, Clone)]
pub struct CosimOptions {
    pub vectors: usize,
    pub seed: u64,
    /// Array only: a real layer instead of a random small conv.
    pub layer: Option<Layer>,
    pub cache: PathBuf,
    pub work: PathBuf,
    /// Waveform of the Verilator run (.vcd or .fst); on a mismatch without it, a VCD is
    /// written to `work/<top>_mismatch.vcd`.
    pub wave: Option<PathBuf>,
}

/// The design, the recorded trace and the golden check of the in-process run.
pub struct Stimulus {
    pub design: Design,
    pub description: String,
    /// Dot products (PE) or pixel tiles (array) driven.
    pub vectors: usize,
    pub trace: Trace,
    pub results_checked: usize,
    pub golden_mismatches: usize,
    pub rust_s: f64,
}

/// The PE-level stimulus: `tetris gen`'s design and its recorded in-process run over
/// `vectors` random dot products, checked against the golden model.
fn pe_stimulus(cfg: &Config, vectors: usize, seed: u64) -> Result<Stimulus> {
    let dots = self_check_vectors(cfg, vectors, seed);
    let pe = dispatch(
        cfg,
        RunPe {
            cfg,
            dots: &dots,
            record: true,
        },
    )??;
    let golden_mismatches = dots
        .iter()
        .zip(&pe.run.results)
        .filter(|(d, &g)| mac_dot(&d.weights, &d.acts) != g)
        .count()
        + dots.len().abs_diff(pe.run.results.len());
    Ok(Stimulus {
        design: pe.design,
        description: pe.description,
        vectors: dots.len(),
        trace: pe.run.trace.unwrap_or_default(),
        results_checked: dots.len(),
        golden_mismatches,
        rust_s: pe.rust_s,
    })
}

/// A random small conv layer for the array (stride 1, some padding, a quarter zero weights so
/// that skipped groups occur), large enough for `tiles` pixel tiles and two slots per column.
fn random_layer(cfg: &Config, tiles: usize, seed: u64) -> (ConvParams, Vec<i64>, Vec<i64>) {
    let (rows, cols) = (cfg.array.rows as usize, cfg.array.cols as usize);
    let mut r = SplitMix64(seed);
    let out_w = rows.max(2);
    let (cin, kh, kw) = super::array_gen::fit_kernel(cfg, (3, 3, 2));
    let p = ConvParams {
        pad: (1, 1, 0, 0),
        ..ConvParams::plain(cin, cols + 1, (tiles.max(1), out_w + 1), (kh, kw))
    };
    let (w, x) = super::array_gen::random_layer_data(cfg, &p, &mut r);
    (p, w, x)
}

fn array_stimulus(cfg: &Config, o: &CosimOptions) -> Result<Stimulus> {
    let (design, description) = emit_array(cfg)?;
    let (rows, cols, ks) = (
        cfg.array.rows as usize,
        cfg.array.cols as usize,
        cfg.pe.ks as usize,
    );
    let bits = cfg.pe.weight_bits;
    let engine = match cfg.pe.kind {
        PeKind::Sac => Engine::Sac,
        PeKind::Mac => Engine::Mac,
    };
    let (p, w, x, lens, map) = match &o.layer {
        Some(l) => {
            let pl = prepare(l, cfg)?;
            let p = l.params()?.clone();
            let x = synthetic_activations(p.input_len(), cfg.pe.act_bits, o.seed);
            (p, pl.qweights, x, pl.lens, pl.map)
        }
        None => {
            let (p, w, x) = random_layer(cfg, o.vectors, o.seed);
            let lens = kneaded_lengths(&w, p.dot_len(), bits, cfg.pe.encoding, ks);
            let map = map_layer(&p, rows, cols, ks, &lens)?;
            (p, w, x, lens, map)
        }
    };
    let n = map.pixel_tiles().min(o.vectors.max(1));
    let tiles: Vec<usize> = (0..n).map(|i| i * map.pixel_tiles() / n).collect();
    let data = LayerData::new(&map, &x, &w, &lens);
    let t0 = Instant::now();
    let run = run_layer_rtl_traced(cfg, data, engine, &tiles, true, true)?;
    let rust_s = t0.elapsed().as_secs_f64();
    // Golden: every produced output against the exact dot product of its im2col row.
    let dot = p.dot_len();
    let plane = p.out_h() * p.out_w();
    let golden_full = if o.layer.is_none() {
        Some(conv2d(&p, &x, &w)?)
    } else {
        None
    };
    let mut golden_mismatches = 0;
    for &(idx, v) in &run.outputs {
        let g = match &golden_full {
            Some(g) => g[idx],
            None => {
                let px = idx / (p.cout * plane) * plane + idx % plane;
                let oc = idx / plane % p.cout;
                p.im2col_row(&x, px, map.conv_group_of(oc))
                    .iter()
                    .zip(&w[oc * dot..(oc + 1) * dot])
                    .map(|(&a, &b)| a as i128 * b as i128)
                    .sum()
            }
        };
        golden_mismatches += usize::from(g != v);
    }
    let want: usize = tiles
        .iter()
        .map(|&t| map.tile_pixels(t).len())
        .sum::<usize>()
        * p.cout;
    golden_mismatches += want.abs_diff(run.outputs.len());
    Ok(Stimulus {
        design,
        description: format!("{description}, {n} pixel tiles"),
        vectors: n,
        trace: run.trace.unwrap_or_default(),
        results_checked: run.outputs.len(),
        golden_mismatches,
        rust_s,
    })
}

/// The design of `cfg` (the rows x cols array, or the PE design when 1 x 1) with the recorded
/// in-process stimulus.
pub fn stimulus(cfg: &Config, o: &CosimOptions) -> Result<Stimulus> {
    if o.vectors == 0 {
        bail!("--vectors 0: give at least 1");
    }
    if crate::flow::array_gen::wants_array(cfg) {
        array_stimulus(cfg, o)
    } else {
        if o.layer.is_some() {
            bail!("--weights/--layer need an array design: the config is 1 x 1 (a single PE); set [array] rows/cols");
        }
        pe_stimulus(cfg, o.vectors, o.seed)
    }
}

/// Replay a prepared stimulus (possibly with a modified design) in Verilator.
pub fn run_stimulus(s: &Stimulus, o: &CosimOptions) -> Result<CosimReport> {
    let mut r = replay(&s.design, &s.trace, &o.cache, &o.work, o.wave.as_deref())?;
    let mut waveform = o.wave.as_ref().map(|w| w.display().to_string());
    if r.mismatches > 0 && o.wave.is_none() {
        // The harness was built without tracing (half the compile time): on a failure, build
        // the traced one and rerun to keep a waveform of it.
        let w = o.work.join(format!("{}_mismatch.vcd", s.design.top));
        let again = replay(&s.design, &s.trace, &o.cache, &o.work, Some(&w))?;
        r.build.build_s += again.build.build_s;
        waveform = Some(w.display().to_string());
    }
    Ok(CosimReport {
        design: format!("{}: {}", s.design.top, s.description),
        vectors: s.vectors,
        cycles: r.cycles,
        mismatches: r.mismatches,
        first_mismatch: r.first_mismatch,
        golden_mismatches: s.golden_mismatches,
        results_checked: s.results_checked,
        build_s: r.build.build_s,
        build_cached: r.build.cached,
        sim_cycles_per_s: r.cycles as f64 / r.sim_s.max(1e-9),
        rust_hdl_cycles_per_s: r.cycles as f64 / s.rust_s.max(1e-9),
        waveform,
    })
}

/// Co-simulate `cfg`'s design: in-process run, Verilator replay, comparison.
pub fn cosim(cfg: &Config, o: &CosimOptions) -> Result<CosimReport> {
    run_stimulus(&stimulus(cfg, o)?, o)
}

/// Default work folder for the stimulus/output files of a run.
pub fn default_work_dir(cfg: &Config) -> PathBuf {
    Path::new("hdl_out").join(".cosim").join(&cfg.top.name)
}
