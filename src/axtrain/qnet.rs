//! Bit-exact quantized inference: 8-bit weights (symmetric max-abs, per tensor or per output
//! channel: the quantizer `tetris knead` uses), unsigned activations calibrated on the
//! training set, every product through the approximate multiplier, exact integer accumulation.
//!
//! Per layer: acc = sum_i P(a_i, w_i) + round(bias / (s_a s_w)) in i64, y = acc * s_a * s_w
//! (f64), ReLU, requantized to the next layer's activation scale, 2x2 max pooling on the
//! codes (requantization is monotone, so this equals pooling before it). The last layer's y
//! are the logits.

use super::data::Dataset;
use super::hardware::{Hardware, WEIGHT_QMAX};
use super::net::{LayerSpec, Params};
use crate::model::quant::{max_abs_scale, quantize_value};
use anyhow::Result;
use rayon::prelude::*;

/// How products are computed.
#[derive(Debug, Clone, Copy)]
pub enum Arith<'a> {
    /// a * w exactly (the quantized reference).
    Exact,
    /// Through the approximate multiplier (its table).
    Approx(&'a Hardware),
    /// Through the approximate multiplier with timing errors, a fresh draw per multiply
    /// from this seed (panics if the hardware has no timing model: checked by callers).
    Timed(&'a Hardware, u64),
}

/// One quantized layer.
#[derive(Debug, Clone)]
pub struct QLayer {
    pub spec: LayerSpec,
    /// (cout, fan_in) weight codes in -127..=127.
    pub w: Vec<i8>,
    /// Weight scale per output channel (all equal when per tensor).
    pub w_scale: Vec<f64>,
    /// Bias in accumulator units: round(b / (s_a s_w)).
    pub bias: Vec<i64>,
    /// Scale of the layer's input activation codes.
    pub in_scale: f64,
}

#[derive(Debug, Clone)]
pub struct QNet {
    pub layers: Vec<QLayer>,
    /// Largest activation code (255 unsigned multiplier, 127 signed).
    pub act_max: u32,
}

/// Weight codes and per-channel scales of one layer (8-bit symmetric max-abs).
pub fn quantize_weights(spec: &LayerSpec, w: &[f32], per_channel: bool) -> (Vec<i8>, Vec<f64>) {
    let k = spec.fan_in();
    let scales: Vec<f64> = if per_channel {
        w.chunks(k).map(|c| max_abs_scale(c, 8)).collect()
    } else {
        vec![max_abs_scale(w, 8); spec.cout]
    };
    let codes = w
        .iter()
        .enumerate()
        .map(|(i, &x)| quantize_value(x, scales[i / k], 8).clamp(-WEIGHT_QMAX, WEIGHT_QMAX) as i8)
        .collect();
    (codes, scales)
}

/// Activation scale for a layer input whose largest value is `max`.
pub fn act_scale(max: f64, act_max: u32) -> f64 {
    if max > 0.0 {
        max / act_max as f64
    } else {
        1.0
    }
}

/// Activation codes: round(x / s) clamped to 0..=act_max.
pub fn quantize_acts(x: &[f32], scale: f64, act_max: u32) -> Vec<u8> {
    x.iter()
        .map(|&v| ((v as f64 / scale).round()).clamp(0.0, act_max as f64) as u8)
        .collect()
}

/// The rows of a layer's GEMM for `n` samples of NCHW activation codes: the sample itself
/// for dense layers, im2col patches (zero padding = activation code 0, which still goes
/// through the multiplier) for 3x3 convolutions, in the weights' (cin, ky, kx) order.
pub fn patches(spec: &LayerSpec, x: &[u8], n: usize) -> Vec<u8> {
    if !spec.conv {
        return x.to_vec();
    }
    let (h, w) = spec.in_hw;
    let (c, k) = (spec.cin, spec.k);
    let pad = (k / 2) as isize;
    let f = spec.fan_in();
    let mut out = vec![0u8; n * h * w * f];
    for s in 0..n {
        for oy in 0..h {
            for ox in 0..w {
                let row = &mut out[((s * h + oy) * w + ox) * f..][..f];
                for ci in 0..c {
                    for ky in 0..k {
                        let iy = oy as isize + ky as isize - pad;
                        if iy < 0 || iy >= h as isize {
                            continue;
                        }
                        for kx in 0..k {
                            let ix = ox as isize + kx as isize - pad;
                            if ix < 0 || ix >= w as isize {
                                continue;
                            }
                            row[(ci * k + ky) * k + kx] =
                                x[((s * c + ci) * h + iy as usize) * w + ix as usize];
                        }
                    }
                }
            }
        }
    }
    out
}

/// `out[r][j] = sum_i P(x[r][i], w[j][i])` for `rows` rows of length k and m weight rows.
pub fn gemm(arith: Arith, x: &[u8], w: &[i8], k: usize, m: usize) -> Vec<i64> {
    let rows = x.len() / k.max(1);
    let mut out = vec![0i64; rows * m];
    out.par_chunks_mut(m)
        .zip(x.par_chunks(k))
        .enumerate()
        .for_each(|(r, (o, xr))| gemm_row(arith, xr, w, k, o, r as u64));
    out
}

/// One output row; kept separate so the benchmark can time one core.
#[inline]
pub fn gemm_row(arith: Arith, xr: &[u8], w: &[i8], k: usize, out: &mut [i64], row: u64) {
    match arith {
        Arith::Exact => {
            for (o, wr) in out.iter_mut().zip(w.chunks_exact(k)) {
                *o = xr.iter().zip(wr).map(|(&a, &b)| a as i64 * b as i64).sum();
            }
        }
        Arith::Approx(hw) => {
            let t = hw.table();
            for (o, wr) in out.iter_mut().zip(w.chunks_exact(k)) {
                let mut acc = 0i64;
                for (&a, &b) in xr.iter().zip(wr) {
                    acc += t[((b as u8 as usize) << 8) | a as usize] as i64;
                }
                *o = acc;
            }
        }
        Arith::Timed(hw, seed) => {
            let (_, flip) = hw
                .timing
                .as_ref()
                .expect("Arith::Timed needs a timing model");
            let m = out.len() as u64;
            for (j, (o, wr)) in out.iter_mut().zip(w.chunks_exact(k)).enumerate() {
                let base =
                    seed ^ ((row * m + j as u64) * k as u64).wrapping_mul(0x2545_f491_4f6c_dd1d);
                *o = xr
                    .iter()
                    .zip(wr)
                    .enumerate()
                    .map(|(i, (&a, &b))| hw.product_timed(flip, base.wrapping_add(i as u64), a, b))
                    .sum();
            }
        }
    }
}

/// GEMM output rows (n * pixels, cout) to NCHW order.
pub fn rows_to_nchw<T: Copy + Default>(spec: &LayerSpec, v: &[T], n: usize) -> Vec<T> {
    if !spec.conv {
        return v.to_vec();
    }
    let p = spec.out_pixels();
    let m = spec.cout;
    let mut out = vec![T::default(); v.len()];
    for s in 0..n {
        for px in 0..p {
            for j in 0..m {
                out[(s * m + j) * p + px] = v[(s * p + px) * m + j];
            }
        }
    }
    out
}

/// 2x2 max pooling of NCHW codes.
fn pool2(x: &[u8], n: usize, c: usize, (h, w): (usize, usize)) -> Vec<u8> {
    let (oh, ow) = (h / 2, w / 2);
    let mut out = vec![0u8; n * c * oh * ow];
    for nc in 0..n * c {
        for y in 0..oh {
            for xx in 0..ow {
                let at = |dy: usize, dx: usize| x[(nc * h + 2 * y + dy) * w + 2 * xx + dx];
                out[(nc * oh + y) * ow + xx] = at(0, 0).max(at(0, 1)).max(at(1, 0)).max(at(1, 1));
            }
        }
    }
    out
}

impl QNet {
    /// Quantize float parameters with the given input scales (one per layer).
    pub fn new(
        specs: &[LayerSpec],
        params: &[Params],
        in_scales: &[f64],
        per_channel: bool,
        act_max: u32,
    ) -> QNet {
        let layers = specs
            .iter()
            .zip(params)
            .zip(in_scales)
            .map(|((s, p), &sa)| {
                let (w, w_scale) = quantize_weights(s, &p.w, per_channel);
                let bias =
                    p.b.iter()
                        .zip(&w_scale)
                        .map(|(&b, &sw)| (b as f64 / (sa * sw)).round() as i64)
                        .collect();
                QLayer {
                    spec: s.clone(),
                    w,
                    w_scale,
                    bias,
                    in_scale: sa,
                }
            })
            .collect();
        QNet { layers, act_max }
    }

    /// Logits (n, classes) of `n` images (pixels in [0, 1], NCHW).
    pub fn logits(&self, pixels: &[f32], n: usize, arith: Arith) -> Vec<f64> {
        let mut x = quantize_acts(pixels, self.layers[0].in_scale, self.act_max);
        let last = self.layers.len() - 1;
        for (l, q) in self.layers.iter().enumerate() {
            let s = &q.spec;
            let rows = patches(s, &x, n);
            let arith_l = match arith {
                Arith::Timed(hw, seed) => Arith::Timed(hw, seed ^ ((l as u64 + 1) << 56)),
                a => a,
            };
            let acc = gemm(arith_l, &rows, &q.w, s.fan_in(), s.cout);
            let y: Vec<f64> = acc
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let j = i % s.cout;
                    (v + q.bias[j]) as f64 * q.in_scale * q.w_scale[j]
                })
                .collect();
            let y = rows_to_nchw(s, &y, n);
            if l == last {
                return y;
            }
            let next = self.layers[l + 1].in_scale;
            x = y
                .iter()
                .map(|&v| (v.max(0.0) / next).round().clamp(0.0, self.act_max as f64) as u8)
                .collect();
            if s.pool {
                x = pool2(&x, n, s.cout, s.in_hw);
            }
        }
        unreachable!("a network has at least one layer")
    }

    /// Accuracy and mean cross-entropy on a data set, in batches.
    pub fn evaluate(&self, ds: &Dataset, arith: Arith) -> Eval {
        let batch = 256;
        let f = ds.features();
        let classes = self.layers.last().map(|l| l.spec.cout).unwrap_or(1);
        let (mut correct, mut loss) = (0usize, 0.0f64);
        for start in (0..ds.len()).step_by(batch) {
            let n = batch.min(ds.len() - start);
            let arith_b = match arith {
                Arith::Timed(hw, seed) => Arith::Timed(hw, seed.wrapping_add(start as u64)),
                a => a,
            };
            let z = self.logits(&ds.pixels[start * f..(start + n) * f], n, arith_b);
            for (i, row) in z.chunks(classes).enumerate() {
                let label = ds.labels[start + i] as usize;
                let (arg, _) =
                    row.iter()
                        .enumerate()
                        .fold((0, f64::MIN), |b, (j, &v)| if v > b.1 { (j, v) } else { b });
                correct += (arg == label) as usize;
                let mx = row.iter().cloned().fold(f64::MIN, f64::max);
                let lse = mx + row.iter().map(|&v| (v - mx).exp()).sum::<f64>().ln();
                loss += lse - row.get(label).copied().unwrap_or(mx);
            }
        }
        Eval {
            accuracy: 100.0 * correct as f64 / ds.len() as f64,
            loss: loss / ds.len() as f64,
        }
    }

    /// Multiplies per image (for throughput figures).
    pub fn macs_per_image(&self) -> usize {
        self.layers
            .iter()
            .map(|q| q.spec.out_pixels() * q.spec.fan_in() * q.spec.cout)
            .sum()
    }
}

/// Accuracy (percent) and mean cross-entropy loss.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Eval {
    pub accuracy: f64,
    pub loss: f64,
}

/// Largest value of each layer's input over a data set under the float network (in batches):
/// the calibration that sets the activation scales.
pub fn input_maxima(
    net: &super::net::Net,
    ds: &Dataset,
    dev: &candle_core::Device,
) -> Result<Vec<f64>> {
    let mut maxima = vec![0.0f64; net.specs.len()];
    let (c, h, w) = ds.shape;
    let f = ds.features();
    for start in (0..ds.len()).step_by(512) {
        let n = 512.min(ds.len() - start);
        let x = candle_core::Tensor::from_slice(
            &ds.pixels[start * f..(start + n) * f],
            (n, c, h, w),
            dev,
        )?;
        net.forward(&x, &mut |l, input, z| {
            let m = input.flatten_all()?.max(0)?.to_scalar::<f32>()? as f64;
            maxima[l] = maxima[l].max(m);
            Ok(z)
        })?;
    }
    Ok(maxima)
}
