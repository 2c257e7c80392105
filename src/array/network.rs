//! Whole-network evaluation behind `tetris sim`: conv/GEMM layers from a weight file, quantized,
//! kneaded, mapped, and timed on the SAC array and on the MAC array of the same size.

use super::cycle_model::{layer_cycles, useful_pe_cycles, Engine, Timing};
use super::mapper::{kneaded_lengths, map_layer, LayerMap};
use crate::config::Config;
use crate::model::conv::ConvParams;
use crate::model::quant::quantize;
use crate::weights::npy;
use crate::weights::onnx::{self, Constants, Graph};
use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// A conv or GEMM layer with float weights in `[Cout, Cin/groups, KH, KW]` order.
#[derive(Debug, Clone)]
pub struct Layer {
    pub name: String,
    pub params: ConvParams,
    pub weights: Vec<f32>,
}

/// Read the conv/GEMM layers of a weight file. ONNX: every Conv, ConvTranspose (as the
/// equivalent stride-1 conv over the zero-inserted input), Gemm and MatMul with a constant
/// weight, with spatial sizes propagated from the declared input (symbolic sizes replaced by
/// `input_hw`). `.npy`: one 4-D `[Cout, Cin, KH, KW]` conv (same padding, stride 1, input
/// `input_hw`) or a 2-D `[Cout, K]` GEMM of one row.
pub fn load_layers(path: &Path, input_hw: (usize, usize)) -> Result<Vec<Layer>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "onnx" => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let g = onnx::parse_model(&bytes).with_context(|| format!("{}", path.display()))?;
            onnx_layers(&g, input_hw).with_context(|| format!("{}", path.display()))
        }
        "npy" => {
            let npy::NpyArray { shape, data } = npy::read(path)?;
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let params = match shape[..] {
                [co, ci, kh, kw] => ConvParams {
                    batch: 1,
                    cin: ci,
                    cout: co,
                    in_h: input_hw.0,
                    in_w: input_hw.1,
                    kh,
                    kw,
                    stride: (1, 1),
                    pad: (kh / 2, kw / 2, (kh - 1) / 2, (kw - 1) / 2),
                    dilation: (1, 1),
                    groups: 1,
                },
                [co, k] => ConvParams::gemm(1, k, co),
                _ => bail!(
                    "{}: shape {:?}: expected [Cout, Cin, KH, KW] or [Cout, K]",
                    path.display(),
                    shape
                ),
            };
            params
                .validate()
                .with_context(|| format!("{}", path.display()))?;
            Ok(vec![Layer {
                name,
                params,
                weights: data,
            }])
        }
        _ => bail!(
            "{}: unsupported weight file extension {ext:?} (expected .onnx or .npy)",
            path.display()
        ),
    }
}

/// The values of constant `name` (Resize scales or sizes), None if it is not a constant.
fn constant_values(c: &Constants, name: Option<&String>) -> Result<Option<Vec<f32>>> {
    match name.and_then(|s| c.get(s)) {
        Some(t) => Ok(Some(t.decode()?.1)),
        None => Ok(None),
    }
}

fn pair(v: &[i64], default: usize) -> (usize, usize) {
    match v {
        [a, b, ..] => (*a as usize, *b as usize),
        _ => (default, default),
    }
}

fn onnx_layers(g: &Graph, input_hw: (usize, usize)) -> Result<Vec<Layer>> {
    let constants = Constants::new(g);
    // Spatial size (H, W) of every tensor we can follow.
    let mut hw: HashMap<String, (usize, usize)> = HashMap::new();
    for input in &g.inputs {
        // Old exporters also list initializers as graph inputs.
        if g.initializers.iter().any(|t| t.name == input.name) {
            continue;
        }
        let dim = |i: usize| input.dims.get(i).copied().flatten();
        hw.insert(
            input.name.clone(),
            (dim(2).unwrap_or(input_hw.0), dim(3).unwrap_or(input_hw.1)),
        );
    }
    let mut layers = Vec::new();
    for (idx, n) in g.nodes.iter().enumerate() {
        let name = if n.name.is_empty() {
            format!("{}_{idx}", n.op_type)
        } else {
            n.name.clone()
        };
        let in_hw = n.inputs.first().and_then(|i| hw.get(i)).copied();
        let weight = n.inputs.get(1).and_then(|w| constants.get(w));
        let out_hw: Option<(usize, usize)> = match n.op_type.as_str() {
            "Conv" | "ConvTranspose" => {
                let w = weight.with_context(|| format!("node {name}: weight is not a constant"))?;
                let (ih, iw) = in_hw.with_context(|| format!("node {name}: input size unknown"))?;
                let dims = &w.tensor().dims;
                if dims.len() != 4 {
                    bail!("node {name}: weight dims {dims:?}: only 2-D convolutions are supported");
                }
                let (d, w_data) = w.decode().with_context(|| format!("node {name}"))?;
                let groups = n.int_attr("group", 1) as usize;
                let stride = pair(n.ints_attr("strides"), 1);
                let dilation = pair(n.ints_attr("dilations"), 1);
                let pads = n.ints_attr("pads");
                let (kh, kw) = (d[2], d[3]);
                let mut pad = match pads[..] {
                    [t, l, b, r] => (t as usize, l as usize, b as usize, r as usize),
                    _ => (0, 0, 0, 0),
                };
                let auto = n.has_attr("auto_pad");
                if auto && n.op_type == "Conv" && pads.is_empty() {
                    // SAME padding (auto_pad attribute present): keep ceil(in / stride).
                    let need = |i: usize, s: usize, k: usize, dl: usize| {
                        ((i.div_ceil(s) - 1) * s + (k - 1) * dl + 1).saturating_sub(i)
                    };
                    let ph = need(ih, stride.0, kh, dilation.0);
                    let pw = need(iw, stride.1, kw, dilation.1);
                    pad = (ph / 2, pw / 2, ph - ph / 2, pw - pw / 2);
                }
                let params;
                let weights;
                if n.op_type == "Conv" {
                    params = ConvParams {
                        batch: 1,
                        cin: d[1] * groups,
                        cout: d[0],
                        in_h: ih,
                        in_w: iw,
                        kh,
                        kw,
                        stride,
                        pad,
                        dilation,
                        groups,
                    };
                    weights = w_data;
                } else {
                    // y = conv(zero-insert(x, stride), flip(W^T)), stride 1, pad dil*(k-1)-p.
                    let out_pad = pair(n.ints_attr("output_padding"), 0);
                    let (cin, cout_g) = (d[0], d[1]);
                    let cin_g = cin / groups;
                    let cout = cout_g * groups;
                    let eh = dilation.0 * (kh - 1);
                    let ew = dilation.1 * (kw - 1);
                    params = ConvParams {
                        batch: 1,
                        cin,
                        cout,
                        in_h: (ih - 1) * stride.0 + 1,
                        in_w: (iw - 1) * stride.1 + 1,
                        kh,
                        kw,
                        stride: (1, 1),
                        pad: (
                            eh.saturating_sub(pad.0),
                            ew.saturating_sub(pad.1),
                            eh.saturating_sub(pad.2) + out_pad.0,
                            ew.saturating_sub(pad.3) + out_pad.1,
                        ),
                        dilation,
                        groups,
                    };
                    let mut t = vec![0f32; cout * cin_g * kh * kw];
                    for o in 0..cout {
                        let q = o / cout_g;
                        for i in 0..cin_g {
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let src = (((q * cin_g + i) * cout_g + o % cout_g) * kh
                                        + (kh - 1 - ky))
                                        * kw
                                        + (kw - 1 - kx);
                                    t[((o * cin_g + i) * kh + ky) * kw + kx] = w_data[src];
                                }
                            }
                        }
                    }
                    weights = t;
                }
                params.validate().with_context(|| format!("node {name}"))?;
                if weights.len() != params.weight_len() {
                    bail!(
                        "node {name}: weight has {} values, shape needs {}",
                        weights.len(),
                        params.weight_len()
                    );
                }
                let out = (params.out_h(), params.out_w());
                layers.push(Layer {
                    name: name.clone(),
                    params,
                    weights,
                });
                Some(out)
            }
            "Gemm" | "MatMul" => {
                if let Some(w) = weight.filter(|w| w.tensor().dims.len() == 2) {
                    let (d, w_data) = w.decode().with_context(|| format!("node {name}"))?;
                    let (r, c) = (d[0], d[1]);
                    // Gemm with transB=1 stores [N, K]; MatMul and Gemm transB=0 store [K, N].
                    let trans_b = n.op_type == "Gemm" && n.int_attr("transB", 0) == 1;
                    let (k, outs) = if trans_b { (c, r) } else { (r, c) };
                    let weights = if trans_b {
                        w_data
                    } else {
                        let mut t = vec![0f32; k * outs];
                        for i in 0..k {
                            for o in 0..outs {
                                t[o * k + i] = w_data[i * outs + o];
                            }
                        }
                        t
                    };
                    layers.push(Layer {
                        name: name.clone(),
                        params: ConvParams::gemm(1, k, outs),
                        weights,
                    });
                }
                Some((1, 1))
            }
            "MaxPool" | "AveragePool" => in_hw.map(|(ih, iw)| {
                let k = pair(n.ints_attr("kernel_shape"), 1);
                let s = pair(n.ints_attr("strides"), 1);
                let p = n.ints_attr("pads");
                let (pt, pl, pb, pr) = match p[..] {
                    [t, l, b, r] => (t as usize, l as usize, b as usize, r as usize),
                    _ => (0, 0, 0, 0),
                };
                let ceil = n.int_attr("ceil_mode", 0) == 1;
                let f = |i: usize, a: usize, b: usize, k: usize, s: usize| {
                    let span = (i + a + b).saturating_sub(k);
                    if ceil {
                        span.div_ceil(s) + 1
                    } else {
                        span / s + 1
                    }
                };
                (f(ih, pt, pb, k.0, s.0), f(iw, pl, pr, k.1, s.1))
            }),
            "GlobalAveragePool" | "GlobalMaxPool" | "Flatten" => Some((1, 1)),
            "Resize" | "Upsample" => match in_hw {
                None => None,
                Some((ih, iw)) => {
                    let scales = if n.op_type == "Upsample" || n.inputs.len() == 2 {
                        n.inputs.get(1)
                    } else {
                        n.inputs.get(2)
                    };
                    let four = |input| -> Result<Option<Vec<f32>>> {
                        let v = constant_values(&constants, input)
                            .with_context(|| format!("node {name}"))?;
                        Ok(v.filter(|v| v.len() == 4))
                    };
                    Some(if let Some(v) = four(n.inputs.get(3))? {
                        (v[2] as usize, v[3] as usize)
                    } else if let Some(v) = four(scales)? {
                        (
                            (ih as f32 * v[2]).floor() as usize,
                            (iw as f32 * v[3]).floor() as usize,
                        )
                    } else {
                        (ih, iw)
                    })
                }
            },
            // Elementwise, activation, normalization, concat and the rest: the size of the
            // first input whose size is known.
            _ => n.inputs.iter().find_map(|i| hw.get(i)).copied(),
        };
        if let Some(o) = out_hw {
            for out in &n.outputs {
                hw.insert(out.clone(), o);
            }
        }
    }
    if layers.is_empty() {
        bail!("no Conv, ConvTranspose, Gemm or MatMul layer with constant weights found");
    }
    Ok(layers)
}

/// What `tetris sim` reports per layer and in total (SCALE-Sim-like figures).
#[derive(Debug, Clone, Serialize)]
pub struct LayerReport {
    pub name: String,
    pub tetris_cycles: u64,
    pub mac_cycles: u64,
    pub speedup: f64,
    pub ideal_speedup: f64,
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
    #[serde(skip)]
    pub(crate) ideal_sac_work: u64,
    #[serde(skip)]
    pub(crate) mac_work: u64,
}

/// A layer ready for the array: quantized weights, kneaded lengths, mapping.
pub struct PreparedLayer {
    pub name: String,
    pub qweights: Vec<i64>,
    pub lens: Vec<Vec<u32>>,
    pub map: LayerMap,
}

pub fn prepare(layer: &Layer, cfg: &Config) -> Result<PreparedLayer> {
    let p = &layer.params;
    let bits = cfg.pe.weight_bits;
    let q = quantize(&layer.weights, p.cout, bits, false)
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
        qweights: q,
        lens,
        map,
    })
}

/// Time one prepared layer on both arrays with the cycle model.
pub fn evaluate(pl: &PreparedLayer, timing: Timing) -> LayerReport {
    let map = &pl.map;
    let p = &map.params;
    let t = layer_cycles(map, &pl.lens, Engine::Sac, timing);
    let m = layer_cycles(map, &pl.lens, Engine::Mac, timing);
    let pes = (map.rows * map.cols) as f64;
    let sum_lens: u64 = pl.lens.iter().flatten().map(|&l| l as u64).sum();
    let weights = p.weight_len() as u64;
    let ideal = if sum_lens == 0 {
        f64::INFINITY
    } else {
        weights as f64 / sum_lens as f64
    };
    let speedup = m as f64 / t as f64;
    // Mapping efficiency: real pixel rows x real filter columns over all PEs, per (tile, slot).
    let slots: usize = map.passes.iter().map(|ps| ps.slots[0].len()).sum();
    let used = (p.pixels() * p.cout) as f64;
    let offered = (map.pixel_tiles() * slots) as f64 * pes;
    LayerReport {
        name: pl.name.clone(),
        tetris_cycles: t,
        mac_cycles: m,
        speedup,
        ideal_speedup: ideal,
        ideal_share: speedup / ideal,
        utilization: useful_pe_cycles(map, &pl.lens, Engine::Sac) as f64 / (pes * t as f64),
        mac_utilization: useful_pe_cycles(map, &pl.lens, Engine::Mac) as f64 / (pes * m as f64),
        mapping_efficiency: used / offered,
        macs: p.macs(),
        weights,
        outputs_match: None,
        model_agrees: None,
        ideal_sac_work: sum_lens * p.pixels() as u64,
        mac_work: p.macs(),
    }
}

/// Network totals: cycles add up; the ideal speedup is weighted by work (pixels x weights),
/// the bound the array could reach on this network.
pub fn total(layers: &[LayerReport]) -> LayerReport {
    let t: u64 = layers.iter().map(|l| l.tetris_cycles).sum();
    let m: u64 = layers.iter().map(|l| l.mac_cycles).sum();
    let ideal_work: u64 = layers.iter().map(|l| l.ideal_sac_work).sum();
    let mac_work: u64 = layers.iter().map(|l| l.mac_work).sum();
    let ideal = mac_work as f64 / ideal_work as f64;
    let speedup = m as f64 / t as f64;
    let wsum = |f: &dyn Fn(&LayerReport) -> f64, w: &dyn Fn(&LayerReport) -> f64| {
        let den: f64 = layers.iter().map(w).sum();
        layers.iter().map(|l| f(l) * w(l)).sum::<f64>() / den
    };
    LayerReport {
        name: "total".into(),
        tetris_cycles: t,
        mac_cycles: m,
        speedup,
        ideal_speedup: ideal,
        ideal_share: speedup / ideal,
        utilization: wsum(&|l| l.utilization, &|l| l.tetris_cycles as f64),
        mac_utilization: wsum(&|l| l.mac_utilization, &|l| l.mac_cycles as f64),
        mapping_efficiency: wsum(&|l| l.mapping_efficiency, &|l| l.mac_cycles as f64),
        macs: layers.iter().map(|l| l.macs).sum(),
        weights: layers.iter().map(|l| l.weights).sum(),
        outputs_match: if layers.iter().all(|l| l.outputs_match.is_some()) {
            Some(layers.iter().all(|l| l.outputs_match == Some(true)))
        } else {
            None
        },
        model_agrees: if layers.iter().all(|l| l.model_agrees.is_some()) {
            Some(layers.iter().all(|l| l.model_agrees == Some(true)))
        } else {
            None
        },
        ideal_sac_work: ideal_work,
        mac_work,
    }
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
/// (splitmix64, so runs are reproducible).
pub fn synthetic_activations(len: usize, act_bits: u32, seed: u64) -> Vec<i64> {
    let mut s = seed;
    let half = 1i64 << (act_bits - 1);
    (0..len)
        .map(|_| {
            s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            (z % (2 * half as u64)) as i64 - half
        })
        .collect()
}

/// Seeded synthetic activations shaped like a ReLU layer's output: max(0, N(0, 1)) (half of
/// them zero, the rest concentrated at small values), quantized to `act_bits` per tensor
/// (max-abs) as real activations are. A fairer stand-in for energy than uniform values, whose
/// every bit toggles half the time.
pub fn synthetic_relu_activations(len: usize, act_bits: u32, seed: u64) -> Vec<i64> {
    let mut r = crate::hdl::sim::SplitMix64(seed);
    let unit =
        |r: &mut crate::hdl::sim::SplitMix64| (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let x: Vec<f32> = (0..len)
        .map(|_| {
            // Box-Muller.
            let (u, v) = (unit(&mut r).max(1e-300), unit(&mut r));
            let g = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
            g.max(0.0) as f32
        })
        .collect();
    if x.iter().all(|&v| v == 0.0) {
        return vec![0; len];
    }
    quantize(&x, 1, act_bits, false).expect("finite values")
}

/// Quantize a float activation tensor to `act_bits` (symmetric max-abs, per tensor).
pub fn quantize_activations(x: &[f32], act_bits: u32) -> Result<Vec<i64>> {
    quantize(x, 1, act_bits, false)
}

/// Outcome of an RTL run of sampled pixel tiles of one layer.
pub struct RtlLayerRun {
    pub tiles: usize,
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

/// Run `tiles` evenly spaced pixel tiles of a prepared layer on the in-process RTL (SAC
/// weight streams and MAC weight streams), compare every output with the exact dot product of
/// the golden im2col row and filter, and the cycles with the cycle model.
pub fn run_rtl(
    pl: &PreparedLayer,
    cfg: &Config,
    input: &[i64],
    tiles: usize,
    timing: Timing,
    progress: bool,
    mac_on_rtl: bool,
) -> Result<RtlLayerRun> {
    use super::rtl_driver::run_layer_rtl;
    run_rtl_with(pl, input, tiles, timing, mac_on_rtl, |engine, picked| {
        run_layer_rtl(
            cfg,
            &pl.map,
            input,
            &pl.qweights,
            &pl.lens,
            engine,
            picked,
            progress,
        )
    })
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
    run: &super::rtl_driver::RtlRun,
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

/// [`run_rtl`] with any RTL engine: `run(engine, tiles)` simulates those pixel tiles.
pub fn run_rtl_with(
    pl: &PreparedLayer,
    input: &[i64],
    tiles: usize,
    timing: Timing,
    mac_on_rtl: bool,
    mut run: impl FnMut(Engine, &[usize]) -> Result<super::rtl_driver::RtlRun>,
) -> Result<RtlLayerRun> {
    use super::cycle_model::layer_cycles_for_tiles;
    let map = &pl.map;
    let n = map.pixel_tiles().min(tiles.max(1));
    let picked = sample_tiles(map, n);
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
        tetris_cycles: cycles[0],
        mac_cycles: cycles[1],
        outputs_match: ok,
        model_agrees: agree,
        checked_outputs: checked,
        chunks,
        mac_on_rtl,
    })
}
