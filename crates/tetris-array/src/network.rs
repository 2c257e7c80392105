//! Whole-network evaluation behind `tetris sim`: the layers of a weight file that map onto the
//! array (read by `weights`, the one reader of weight files), quantized, kneaded, mapped, and
//! timed on the SAC array and on the MAC array of the same size.

use super::cycle_model::{layer_cycles, useful_pe_cycles, Engine, Timing};
use super::host::LayerData;
use super::mapper::{kneaded_lengths, map_layer, LayerMap};
use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use tetris_core::config::Config;
use tetris_core::model::quant::quantize;
use tetris_core::model::rng::SplitMix64;
use tetris_weights::{self as weights, npy, InputSpec, Layer, LoadOptions, Loaded, OpKind, Work};

/// Refuse to simulate a network whose input sizes are not all known: every free input dim must
/// be given (`--input-hw`, `--input-shape`), never guessed. The error names the file, the
/// inputs and what to give.
pub fn check_inputs(loaded: &Loaded, file: &Path) -> Result<()> {
    let missing: Vec<String> = loaded
        .inputs
        .iter()
        .filter(|i| i.used.is_none())
        .map(|i| format!("input {:?}: {}", i.name, i.how))
        .chain(loaded.layers.iter().filter_map(|l| match &l.work {
            Work::NeedsInput(why) => Some(format!("layer {:?}: {why}", l.name)),
            _ => None,
        }))
        .collect();
    if !missing.is_empty() {
        bail!(
            "{}: the input size is needed and not known: {}",
            file.display(),
            missing.join("; ")
        );
    }
    Ok(())
}

/// The layers of a weight file that run on the array (a missing input size is an error; layers
/// that do not map are left out), for the commands that only time or drive layers
/// (`compare`, `cosim`).
pub fn load_array_layers(path: &Path, inputs: &InputSpec) -> Result<Vec<Layer>> {
    let opts = LoadOptions {
        inputs: inputs.clone(),
        ..LoadOptions::default()
    };
    let loaded = weights::load_with(path, &opts)?;
    check_inputs(&loaded, path)?;
    let layers: Vec<Layer> = loaded
        .layers
        .into_iter()
        .filter(|l| l.array().is_some())
        .collect();
    if layers.is_empty() {
        bail!("{}: no layer maps onto the array", path.display());
    }
    Ok(layers)
}

/// What `tetris sim` reports per layer and in total (SCALE-Sim-like figures).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerReport {
    pub name: String,
    /// The operator family (`--ops` name).
    pub op: OpKind,
    /// Times the layer runs one after the other (an LSTM's recurrent matrix: once per time
    /// step); cycles, MACs and work below include every run.
    pub repeat: usize,
    /// Output filters (columns' work is dealt in filters).
    pub cout: usize,
    /// Weights / kneaded lengths; None (null) when no weight has a non-zero digit, so the
    /// per-group bound is unbounded.
    pub ideal_speedup: Option<f64>,
    /// The figures a layer and a total have alike (speedup, utilizations, checks).
    #[serde(flatten)]
    pub run: RunFigures,
    /// Engines rtl/verilator: what the RTL itself ran (the layer's cycles above are the whole
    /// layer's, from the cycle model that the RTL matched on these tiles).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtl_sample: Option<RtlSample>,
    /// Kneaded lengths x pixels: the SAC work at the ideal per-group bound.
    #[serde(skip)]
    pub(crate) ideal_sac_work: u64,
    /// Sum of kneaded lengths over the weights (one pass, no pixels).
    #[serde(skip)]
    pub(crate) kneaded: u64,
}

/// The sampled tiles an RTL engine ran for one layer (one repetition of it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RtlSample {
    pub tiles: usize,
    pub of_tiles: usize,
    /// MACs of those tiles.
    pub macs: u64,
    pub tetris_cycles: u64,
    pub mac_cycles: u64,
    pub speedup: f64,
}

/// Network totals. Two ideal speedups, named apart: `ideal_speedup_by_work` weights each
/// layer's per-group bound by its work (pixels x weights, the bound this array could reach on
/// the network); `ideal_speedup_by_weights` by its weights only (what `tetris knead` reports
/// for the same layers and settings).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TotalReport {
    pub layers: usize,
    /// None (null) when no weight of any layer has a non-zero digit (unbounded), as below.
    pub ideal_speedup_by_work: Option<f64>,
    pub ideal_speedup_by_weights: Option<f64>,
    /// Its `ideal_share` is of `ideal_speedup_by_work`.
    #[serde(flatten)]
    pub run: RunFigures,
}

/// What a run on both arrays measured, for one layer or summed over layers (a total weights
/// the rates as [`total`] says). Flattened into both reports: the JSON keys stay top-level.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunFigures {
    pub tetris_cycles: u64,
    pub mac_cycles: u64,
    pub speedup: f64,
    /// speedup / the ideal speedup (0 when the ideal is unbounded).
    pub ideal_share: f64,
    /// Tetris array compute utilization: kneaded weights processed for real pixels per
    /// PE-cycle.
    pub utilization: f64,
    /// MAC array compute utilization.
    pub mac_utilization: f64,
    /// Share of PEs holding a real (pixel, filter) pair, averaged over tiles.
    pub mapping_efficiency: f64,
    pub macs: u64,
    pub weights: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outputs_match: Option<bool>,
    /// Engine rtl: the cycle model predicted the RTL's cycle counts exactly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_agrees: Option<bool>,
}

/// Largest layer the cycle model times, in MAC-array cycles (about an hour of modelling at the
/// ~2*10^8 cycles/s it reaches here).
pub const MAX_MAC_CYCLES: u64 = 1 << 40;

/// A layer ready for the array: quantized weights, kneaded lengths, mapping.
pub struct PreparedLayer {
    pub name: String,
    pub op: OpKind,
    /// Runs of the layer one after the other (see `weights::ArrayWork::repeat`).
    pub repeat: usize,
    pub qweights: Vec<i64>,
    pub lens: Vec<Vec<u32>>,
    pub map: LayerMap,
}

impl PreparedLayer {
    /// The layer with input activations `input`, as the engines read it.
    pub fn data<'a>(&'a self, input: &'a [i64]) -> LayerData<'a> {
        LayerData {
            map: &self.map,
            input,
            qweights: &self.qweights,
            lens: &self.lens,
        }
    }
}

pub fn prepare(layer: &Layer, cfg: &Config) -> Result<PreparedLayer> {
    let work = layer
        .array()
        .with_context(|| format!("layer {}: not mapped onto the array", layer.name))?;
    let p = &work.params;
    let pes = cfg.array.rows as u64 * cfg.array.cols as u64;
    let mac_cycles = (p.checked_counts()? / pes.max(1)).saturating_mul(work.repeat.max(1) as u64);
    if mac_cycles > MAX_MAC_CYCLES {
        bail!(
            "layer {}: about {mac_cycles} MAC-array cycles ({} MACs x {} runs on {} PEs) is beyond what the cycle model runs (at most 2^40); give a smaller input size",
            layer.name,
            p.macs(),
            work.repeat,
            pes
        );
    }
    let bits = cfg.pe.weight_bits;
    let q = quantize(&layer.data, p.cout, bits, false)
        .with_context(|| format!("layer {}", layer.name))?;
    let ks = cfg.pe.ks as usize;
    let lens = kneaded_lengths(&q, p.dot_len(), bits, cfg.pe.encoding, ks);
    let map = map_layer(
        p,
        cfg.array.rows as usize,
        cfg.array.cols as usize,
        ks,
        &lens,
    )
    .with_context(|| format!("layer {}", layer.name))?;
    Ok(PreparedLayer {
        name: layer.name.clone(),
        op: layer.kind,
        repeat: work.repeat.max(1),
        qweights: q,
        lens,
        map,
    })
}

/// Time one prepared layer on both arrays with the cycle model.
pub fn evaluate(pl: &PreparedLayer, timing: Timing) -> LayerReport {
    let map = &pl.map;
    let p = &map.params;
    let rep = pl.repeat as u64;
    let t = layer_cycles(map, &pl.lens, Engine::Sac, timing);
    let m = layer_cycles(map, &pl.lens, Engine::Mac, timing);
    let pes = (map.rows * map.cols) as f64;
    let sum_lens: u64 = pl.lens.iter().flatten().map(|&l| l as u64).sum();
    let weights = p.weight_len() as u64;
    let ideal = bound(weights, sum_lens);
    let speedup = m as f64 / t as f64;
    // Mapping efficiency: real pixel rows x real filter columns over all PEs, per (tile, slot).
    let slots: usize = map.passes.iter().map(|ps| ps.slots[0].len()).sum();
    let used = (p.pixels() * p.cout) as f64;
    let offered = (map.pixel_tiles() * slots) as f64 * pes;
    LayerReport {
        name: pl.name.clone(),
        op: pl.op,
        repeat: pl.repeat,
        cout: p.cout,
        ideal_speedup: ideal,
        run: RunFigures {
            tetris_cycles: t * rep,
            mac_cycles: m * rep,
            speedup,
            ideal_share: share(speedup, ideal),
            utilization: useful_pe_cycles(map, &pl.lens, Engine::Sac) as f64 / (pes * t as f64),
            mac_utilization: useful_pe_cycles(map, &pl.lens, Engine::Mac) as f64 / (pes * m as f64),
            mapping_efficiency: used / offered,
            macs: p.macs() * rep,
            weights,
            outputs_match: None,
            model_agrees: None,
        },
        rtl_sample: None,
        ideal_sac_work: sum_lens * p.pixels() as u64 * rep,
        kneaded: sum_lens,
    }
}

/// An ideal speedup, `work / kneaded`: None when nothing is left after kneading (no bound).
fn bound(work: u64, kneaded: u64) -> Option<f64> {
    (kneaded > 0).then(|| work as f64 / kneaded as f64)
}

/// The share of an ideal speedup reached; 0 of an unbounded one.
fn share(speedup: f64, ideal: Option<f64>) -> f64 {
    ideal.map_or(0.0, |i| speedup / i)
}

/// Network totals (see [`TotalReport`]): cycles add up, the rest is weighted as named.
pub fn total(layers: &[LayerReport]) -> TotalReport {
    let sum = |f: &dyn Fn(&LayerReport) -> u64| -> u64 { layers.iter().map(f).sum() };
    let t = sum(&|l| l.run.tetris_cycles);
    let m = sum(&|l| l.run.mac_cycles);
    let weights = sum(&|l| l.run.weights);
    let macs = sum(&|l| l.run.macs);
    let ideal = bound(macs, sum(&|l| l.ideal_sac_work));
    let speedup = m as f64 / t as f64;
    let wsum = |f: &dyn Fn(&RunFigures) -> f64, w: &dyn Fn(&RunFigures) -> f64| {
        let den: f64 = layers.iter().map(|l| w(&l.run)).sum();
        layers.iter().map(|l| f(&l.run) * w(&l.run)).sum::<f64>() / den
    };
    let all = |f: &dyn Fn(&RunFigures) -> Option<bool>| {
        layers
            .iter()
            .all(|l| f(&l.run).is_some())
            .then(|| layers.iter().all(|l| f(&l.run) == Some(true)))
    };
    TotalReport {
        layers: layers.len(),
        ideal_speedup_by_work: ideal,
        ideal_speedup_by_weights: bound(weights, sum(&|l| l.kneaded)),
        run: RunFigures {
            tetris_cycles: t,
            mac_cycles: m,
            speedup,
            ideal_share: share(speedup, ideal),
            utilization: wsum(&|r| r.utilization, &|r| r.tetris_cycles as f64),
            mac_utilization: wsum(&|r| r.mac_utilization, &|r| r.mac_cycles as f64),
            mapping_efficiency: wsum(&|r| r.mapping_efficiency, &|r| r.mac_cycles as f64),
            macs,
            weights,
            outputs_match: all(&|r| r.outputs_match),
            model_agrees: all(&|r| r.model_agrees),
        },
    }
}

/// Totals per operator family, in `OpKind` order.
pub fn totals_by_op(layers: &[LayerReport]) -> BTreeMap<OpKind, TotalReport> {
    let mut kinds: Vec<OpKind> = layers.iter().map(|l| l.op).collect();
    kinds.sort();
    kinds.dedup();
    kinds
        .into_iter()
        .map(|k| {
            let sub: Vec<LayerReport> = layers.iter().filter(|l| l.op == k).cloned().collect();
            (k, total(&sub))
        })
        .collect()
}

/// Prepare and time every layer (in parallel).
pub fn evaluate_all(layers: &[Layer], cfg: &Config, timing: Timing) -> Result<Vec<LayerReport>> {
    layers
        .par_iter()
        .map(|l| prepare(l, cfg).map(|pl| evaluate(&pl, timing)))
        .collect()
}

/// Read an activation tensor (.npy, float) for engine rtl: (shape, values).
pub fn read_activations(path: &Path) -> Result<(Vec<usize>, Vec<f32>)> {
    let a = npy::read(path)?;
    Ok((a.shape, a.data))
}

/// Seeded synthetic activations for a layer input: uniform over the `act_bits` range
/// (SplitMix64, so runs are reproducible).
pub fn synthetic_activations(len: usize, act_bits: u32, seed: u64) -> Vec<i64> {
    let mut r = SplitMix64::new(seed);
    let half = 1i64 << (act_bits - 1);
    (0..len)
        .map(|_| (r.next_u64() % (2 * half as u64)) as i64 - half)
        .collect()
}

/// Seeded synthetic activations shaped like a ReLU layer's output: max(0, N(0, 1)) (half of
/// them zero, the rest concentrated at small values), quantized to `act_bits` per tensor
/// (max-abs) as real activations are. A fairer stand-in for energy than uniform values, whose
/// every bit toggles half the time.
pub fn synthetic_relu_activations(len: usize, act_bits: u32, seed: u64) -> Vec<i64> {
    let mut r = SplitMix64::new(seed);
    let x: Vec<f32> = (0..len).map(|_| r.normal().max(0.0) as f32).collect();
    if x.iter().all(|&v| v == 0.0) {
        return vec![0; len];
    }
    quantize(&x, 1, act_bits, false).expect("finite values")
}

/// Quantize a float activation tensor to `act_bits` (symmetric max-abs, per tensor).
pub fn quantize_activations(x: &[f32], act_bits: u32) -> Result<Vec<i64>> {
    quantize(x, 1, act_bits, false)
}

/// A layer's input activations from a .npy file ([N, Cin, H, W] float): checked against the
/// layer's input shape `want`, quantized per tensor (max-abs) to `act_bits`.
pub fn read_layer_activations(
    path: &Path,
    want: [usize; 4],
    layer: &str,
    act_bits: u32,
) -> Result<Vec<i64>> {
    let (shape, x) = read_activations(path)?;
    if shape != want {
        bail!(
            "{}: shape {shape:?} does not match layer {layer}'s input {want:?}",
            path.display()
        );
    }
    quantize_activations(&x, act_bits).with_context(|| format!("{}", path.display()))
}

/// Outcome of an RTL run of sampled pixel tiles of one layer.
pub struct RtlLayerRun {
    pub tiles: usize,
    /// Output pixels in those tiles (the last tile of a layer may be partial).
    pub pixels: usize,
    pub tetris_cycles: u64,
    pub mac_cycles: u64,
    pub outputs_match: bool,
    /// The cycle model predicts both RTL cycle counts exactly.
    pub model_agrees: bool,
    pub checked_outputs: usize,
    /// Most parallel chunks an engine split the tiles into (1: one continuous run).
    pub chunks: usize,
    /// The MAC baseline ran on the RTL too (else its cycles are the cycle model's).
    pub mac_on_rtl: bool,
}

/// `n` pixel tiles evenly spaced over the layer (all of them when `n` is at least their number).
pub fn sample_tiles(map: &LayerMap, n: usize) -> Vec<usize> {
    let n = map.pixel_tiles().min(n.max(1));
    (0..n).map(|i| i * map.pixel_tiles() / n).collect()
}

/// What checking one engine's run of sampled tiles found.
pub struct RunCheck {
    /// Every output equals the exact dot product and every output of the tiles is there.
    pub outputs_match: bool,
    /// Every separately simulated run took exactly the cycles the cycle model gives.
    pub model_agrees: bool,
    pub checked_outputs: usize,
    /// (tiles, cycles) of each separately simulated run.
    pub runs: Vec<(usize, u64)>,
}

/// Check an RTL run of pixel tiles `picked` of a prepared layer: every output against the
/// exact dot product of the golden im2col row and filter, the output count, and each
/// separately simulated run's cycles against the cycle model.
pub fn check_run(
    pl: &PreparedLayer,
    input: &[i64],
    picked: &[usize],
    engine: Engine,
    timing: Timing,
    run: &crate::host::RtlRun,
) -> RunCheck {
    use super::cycle_model::layer_cycles_for_tiles;
    let map = &pl.map;
    let p = &map.params;
    let plane = p.out_h() * p.out_w();
    let dot = p.dot_len();
    // Whole layers on the Verilator engine are 10^5..10^6 outputs: check in parallel.
    let wrong = run
        .outputs
        .par_iter()
        .filter(|&&(idx, v)| {
            let px = idx / (p.cout * plane) * plane + idx % plane;
            let o = idx / plane % p.cout;
            let row = p.im2col_row(input, px, map.conv_group_of(o));
            let golden: i128 = row
                .iter()
                .zip(&pl.qweights[o * dot..(o + 1) * dot])
                .map(|(&a, &w)| a as i128 * w as i128)
                .sum();
            golden != v
        })
        .count();
    let want = picked
        .iter()
        .map(|&t| map.tile_pixels(t).len())
        .sum::<usize>()
        * p.cout;
    // A run that lists no chunks is one continuous run.
    let runs = if run.chunks.is_empty() {
        vec![(picked.len(), run.cycles)]
    } else {
        run.chunks.clone()
    };
    let model_agrees = runs.iter().all(|&(chunk_tiles, chunk_cycles)| {
        chunk_cycles == layer_cycles_for_tiles(map, &pl.lens, engine, timing, chunk_tiles)
    });
    RunCheck {
        outputs_match: wrong == 0 && run.outputs.len() == want,
        model_agrees,
        checked_outputs: run.outputs.len(),
        runs,
    }
}

/// Run a layer on any RTL engine (the in-process RTL through the root crate's
/// `flow::rtl_driver::run_rtl`, Verilator through `flow::sim_run`): `run(engine, tiles)`
/// simulates those pixel tiles.
pub fn run_rtl_with(
    pl: &PreparedLayer,
    input: &[i64],
    tiles: usize,
    timing: Timing,
    mac_on_rtl: bool,
    mut run: impl FnMut(Engine, &[usize]) -> Result<crate::host::RtlRun>,
) -> Result<RtlLayerRun> {
    use super::cycle_model::layer_cycles_for_tiles;
    let map = &pl.map;
    let n = map.pixel_tiles().min(tiles.max(1));
    let picked = sample_tiles(map, n);
    let pixels: usize = picked.iter().map(|&t| map.tile_pixels(t).len()).sum();
    let mut ok = true;
    let mut checked = 0;
    let mut cycles = [0u64; 2];
    let mut agree = true;
    let mut chunks = 1;
    for (k, engine) in [Engine::Sac, Engine::Mac].into_iter().enumerate() {
        if engine == Engine::Mac && !mac_on_rtl {
            cycles[k] = layer_cycles_for_tiles(map, &pl.lens, engine, timing, n);
            continue;
        }
        let run = run(engine, &picked).with_context(|| format!("layer {}", pl.name))?;
        let check = check_run(pl, input, &picked, engine, timing, &run);
        ok &= check.outputs_match;
        agree &= check.model_agrees;
        checked += check.checked_outputs;
        let runs = check.runs;
        chunks = chunks.max(runs.len());
        cycles[k] = if runs.len() == 1 {
            run.cycles
        } else {
            // Chunks restart the pipeline; one continuous run takes the model's count.
            layer_cycles_for_tiles(map, &pl.lens, engine, timing, n)
        };
    }
    Ok(RtlLayerRun {
        tiles: n,
        pixels,
        tetris_cycles: cycles[0],
        mac_cycles: cycles[1],
        outputs_match: ok,
        model_agrees: agree,
        checked_outputs: checked,
        chunks,
        mac_on_rtl,
    })
}
