//! Bit-sparsity statistics of weight tensors under kneading: the fast path behind
//! `tetris knead`.
//!
//! Definitions (see docs/knead.md): each output filter's weights, in the tensor's own order
//! after the output-channel axis, are quantized (symmetric max-abs, per tensor or per output
//! channel, `model::quant`), encoded (`model::encoding::encode`) and cut into groups of KS
//! consecutive weights (the last group of a filter may be shorter; groups never cross
//! filters). The tetris cycles of a group are the kneaded length max_b popcount_b (0 for an
//! all-zero group); the baseline cycles are the number of weights.
//!
//! Speed: per group, the column popcounts are kept as 8-bit counters packed eight to a `u64`
//! (16-bit, four to a `u64`, when KS = 256); each weight's digit mask is added byte by byte
//! from a 256-entry table (one add per eight digit positions), and the group's maximum is
//! taken once at its end. Quantization multiplies by the reciprocal scale and falls back to
//! the golden division only near rounding boundaries. Filters run in parallel with rayon.

use crate::model::encoding::{encode, max_magnitude, Encoding};
use crate::model::quant::{max_abs_scale, quantize_value};
use anyhow::{bail, Result};
use rayon::prelude::*;
use serde::Serialize;

/// Analysis settings (the CLI's flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// Fixed-point weight width, 2..=32.
    pub bits: u32,
    /// Kneading stride (weights per group), 1..=256.
    pub ks: usize,
    pub encoding: Encoding,
    /// One max-abs scale per output channel instead of one per tensor.
    pub per_channel: bool,
}

impl Settings {
    pub fn validate(&self) -> Result<()> {
        if !(2..=32).contains(&self.bits) {
            bail!("bits = {}: allowed range is 2..=32", self.bits);
        }
        if !(1..=256).contains(&self.ks) {
            bail!("ks = {}: allowed range is 1..=256", self.ks);
        }
        Ok(())
    }

    /// Digit positions each weight is counted over for `zero_bit_fraction`: the bits-1
    /// magnitude bits for sm and csd (csd: non-zero digits over the same budget), all bits
    /// for tc.
    pub fn digit_budget(&self) -> u64 {
        match self.encoding {
            Encoding::Tc => self.bits as u64,
            Encoding::Sm | Encoding::Csd => self.bits as u64 - 1,
        }
    }
}

/// Counts for one layer (or a sum of layers). All other figures derive from these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub weights: u64,
    /// Weights that quantize to 0.
    pub zero_weights: u64,
    /// Non-zero digits (bits) over all weights.
    pub essential_bits: u64,
    /// Sum over groups of the kneaded length.
    pub tetris_cycles: u64,
}

impl Stats {
    pub fn add(&mut self, o: &Stats) {
        self.weights += o.weights;
        self.zero_weights += o.zero_weights;
        self.essential_bits += o.essential_bits;
        self.tetris_cycles += o.tetris_cycles;
    }

    /// A MAC spends one cycle per weight.
    pub fn baseline_cycles(&self) -> u64 {
        self.weights
    }

    pub fn zero_weight_fraction(&self) -> f64 {
        ratio(self.zero_weights, self.weights)
    }

    pub fn zero_bit_fraction(&self, s: &Settings) -> f64 {
        let budget = self.weights * s.digit_budget();
        1.0 - ratio(self.essential_bits, budget)
    }

    /// baseline / tetris cycles; None when every group is all-zero (0 tetris cycles).
    pub fn ideal_speedup(&self) -> Option<f64> {
        (self.tetris_cycles > 0).then(|| self.baseline_cycles() as f64 / self.tetris_cycles as f64)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Statistics of one weight tensor whose axis 0 has `out_channels` filters (row-major data).
/// Errors on NaN/Inf, on bad settings and on a length that does not split into filters.
pub fn layer_stats(data: &[f32], out_channels: usize, s: &Settings) -> Result<Stats> {
    layer_stats_with_progress(data, out_channels, s, &|_| {})
}

/// [`layer_stats`], calling `done(n)` each time another `n` weights are finished (from worker
/// threads, in chunks of at least 64 k weights or one filter).
pub fn layer_stats_with_progress(
    data: &[f32],
    out_channels: usize,
    s: &Settings,
    done: &(dyn Fn(usize) + Sync),
) -> Result<Stats> {
    s.validate()?;
    if out_channels == 0 || !data.len().is_multiple_of(out_channels) {
        bail!(
            "{} weights do not split into {out_channels} output channels",
            data.len()
        );
    }
    if let Some(i) = data.iter().position(|x| !x.is_finite()) {
        bail!("weight #{i} is {} (not a finite number)", data[i]);
    }
    if data.is_empty() {
        return Ok(Stats::default());
    }
    let per = data.len() / out_channels;
    let tensor_scale = (!s.per_channel).then(|| parallel_max_abs_scale(data, s.bits));
    // Whole filters per rayon task, enough of them that scheduling stays negligible.
    let filters_per_task = (65_536 / per).max(1);
    let stats = data
        .par_chunks(per * filters_per_task)
        .map(|task| {
            let mut st = Stats::default();
            for f in task.chunks(per) {
                let scale = tensor_scale.unwrap_or_else(|| max_abs_scale(f, s.bits));
                st.add(&filter_stats(f, scale, s));
            }
            done(task.len());
            st
        })
        .reduce(Stats::default, |mut a, b| {
            a.add(&b);
            a
        });
    Ok(stats)
}

/// `model::quant::max_abs_scale` of a whole tensor, computed in parallel chunks (max is
/// exact, so the result is identical).
fn parallel_max_abs_scale(data: &[f32], bits: u32) -> f64 {
    let m = data
        .par_chunks(1 << 16)
        .map(|c| c.iter().fold(0.0f32, |m, &x| m.max(x.abs())))
        .reduce(|| 0.0f32, f32::max);
    max_abs_scale(&[m], bits)
}

/// `model::quant::quantize_value`, bit for bit, without a division or the libm `round` call
/// on the common path: v = x * (1/scale) differs from the golden x / scale by at most
/// |v| * 2^-51, so wherever v is farther than |v| * 2^-48 from a rounding boundary (k + 0.5)
/// both round alike, here by truncation plus a look at the remainder (exact while
/// |v| < 2^52). Values near a boundary, huge or not finite take the golden path.
#[inline]
pub fn fast_quantize(x: f32, scale: f64, inv_scale: f64, qmax: i64, bits: u32) -> i64 {
    const LIMIT: f64 = (1u64 << 52) as f64;
    const MARGIN: f64 = 1.0 / (1u64 << 48) as f64;
    let v = x as f64 * inv_scale;
    let t = v as i64;
    let frac = v - t as f64;
    let near_boundary = ((frac.abs() - 0.5).abs()) <= v.abs() * MARGIN;
    if near_boundary || !v.is_finite() || v.abs() >= LIMIT {
        return quantize_value(x, scale, bits);
    }
    let r = t + (frac > 0.5) as i64 - (frac < -0.5) as i64;
    r.clamp(-qmax, qmax)
}

/// Counter increments for a slice of a digit mask: bit j of the index adds 1 to counter
/// field j, where fields are `FIELD` bits wide (8: 256-entry table, 8 lanes per u64;
/// 16: 16-entry table, 4 lanes per u64).
const fn counts_table<const ENTRIES: usize, const FIELD: u32>() -> [u64; ENTRIES] {
    let mut t = [0u64; ENTRIES];
    let lanes = 64 / FIELD;
    let mut n = 0;
    while n < ENTRIES {
        let mut j = 0;
        while j < lanes {
            if n >> j & 1 == 1 {
                t[n] |= 1u64 << (FIELD * j);
            }
            j += 1;
        }
        n += 1;
    }
    t
}
const BYTE_FIELD_COUNTS: [u64; 256] = counts_table::<256, 8>();
const WORD_FIELD_COUNTS: [u64; 16] = counts_table::<16, 16>();

/// One filter with a known scale.
pub fn filter_stats(w: &[f32], scale: f64, s: &Settings) -> Stats {
    // Monomorphize on the encoding so `encode` is specialised inside the hot loop.
    let bits = s.bits;
    match s.encoding {
        Encoding::Sm => by_width(w, scale, s, |q| encode(q, bits, Encoding::Sm).nonzero),
        Encoding::Csd => by_width(w, scale, s, |q| encode(q, bits, Encoding::Csd).nonzero),
        Encoding::Tc => by_width(w, scale, s, |q| encode(q, bits, Encoding::Tc).nonzero),
    }
}

fn by_width(w: &[f32], scale: f64, s: &Settings, digits: impl Fn(i64) -> u64) -> Stats {
    let lanes = s.encoding.lanes(s.bits);
    if s.ks <= 255 {
        // 8-bit counters suffice (a column count never exceeds KS): 8 lanes per u64.
        match lanes.div_ceil(8) {
            1 => filter_stats_n::<1, 8>(w, scale, s, digits),
            2 => filter_stats_n::<2, 8>(w, scale, s, digits),
            3 => filter_stats_n::<3, 8>(w, scale, s, digits),
            _ => filter_stats_n::<4, 8>(w, scale, s, digits),
        }
    } else {
        // KS = 256 may count 256: 16-bit counters, 4 lanes per u64.
        match lanes.div_ceil(4) {
            1 => filter_stats_n::<1, 16>(w, scale, s, digits),
            2 => filter_stats_n::<2, 16>(w, scale, s, digits),
            3 => filter_stats_n::<3, 16>(w, scale, s, digits),
            4 => filter_stats_n::<4, 16>(w, scale, s, digits),
            5 => filter_stats_n::<5, 16>(w, scale, s, digits),
            6 => filter_stats_n::<6, 16>(w, scale, s, digits),
            7 => filter_stats_n::<7, 16>(w, scale, s, digits),
            _ => filter_stats_n::<8, 16>(w, scale, s, digits),
        }
    }
}

/// N counter words of FIELD-bit lane counters (FIELD = 8 or 16).
fn filter_stats_n<const N: usize, const FIELD: u32>(
    w: &[f32],
    scale: f64,
    s: &Settings,
    digits: impl Fn(i64) -> u64,
) -> Stats {
    let mut st = Stats {
        weights: w.len() as u64,
        ..Stats::default()
    };
    let qmax = max_magnitude(s.bits);
    let inv_scale = 1.0 / scale;
    let per_word = 64 / FIELD;
    let field_mask = (1u64 << FIELD) - 1;
    for group in w.chunks(s.ks) {
        let mut acc = [0u64; N];
        for &x in group {
            let q = fast_quantize(x, scale, inv_scale, qmax, s.bits);
            let m = digits(q);
            st.zero_weights += (q == 0) as u64;
            st.essential_bits += m.count_ones() as u64;
            for (i, a) in acc.iter_mut().enumerate() {
                *a += if FIELD == 8 {
                    BYTE_FIELD_COUNTS[(m >> (8 * i) & 0xff) as usize]
                } else {
                    WORD_FIELD_COUNTS[(m >> (4 * i) & 0xf) as usize]
                };
            }
        }
        let mut longest = 0u64;
        for a in acc {
            for j in 0..per_word {
                longest = longest.max(a >> (FIELD * j) & field_mask);
            }
        }
        st.tetris_cycles += longest;
    }
    st
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::knead::knead_group;
    use crate::model::quant::quantize;

    /// The straightforward computation: golden quantization, golden kneading, lengths.
    fn reference(data: &[f32], out: usize, s: &Settings) -> Stats {
        let q = quantize(data, out, s.bits, s.per_channel).unwrap();
        let per = data.len() / out;
        let mut st = Stats::default();
        for f in q.chunks(per) {
            for g in f.chunks(s.ks) {
                st.tetris_cycles += knead_group(g, s.bits, s.encoding).len() as u64;
            }
        }
        st.weights = q.len() as u64;
        st.zero_weights = q.iter().filter(|&&v| v == 0).count() as u64;
        st.essential_bits = q
            .iter()
            .map(|&v| encode(v, s.bits, s.encoding).essential() as u64)
            .sum();
        st
    }

    fn pseudo_random(n: usize, seed: u64) -> Vec<f32> {
        let mut r = crate::model::rng::SplitMix64::new(seed);
        (0..n)
            .map(|_| {
                let x = r.next_u64();
                let u = (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                // Heavy-tailed, with some exact zeros.
                if x >> 60 == 0 {
                    0.0
                } else {
                    (u * u * u * 8.0) as f32
                }
            })
            .collect()
    }

    #[test]
    fn fast_path_matches_golden_kneading_for_all_encodings_widths_and_strides() {
        let data = pseudo_random(7 * 45, 3);
        for enc in [Encoding::Sm, Encoding::Csd, Encoding::Tc] {
            for bits in [2, 3, 5, 8, 13, 16, 17, 24, 31, 32] {
                for ks in [1, 2, 7, 16, 45, 46, 255, 256] {
                    for per_channel in [false, true] {
                        let s = Settings {
                            bits,
                            ks,
                            encoding: enc,
                            per_channel,
                        };
                        assert_eq!(
                            layer_stats(&data, 7, &s).unwrap(),
                            reference(&data, 7, &s),
                            "{s:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn fast_quantize_equals_the_golden_rounding() {
        let mut vals = vec![0.5f32, 1.5, 2.5, -0.5, -1.5, -2.5, 0.0, -0.0, 1e-30, 3.0e9];
        vals.push(f32::from_bits(0.5f32.to_bits() - 1));
        vals.push(f32::from_bits(0.5f32.to_bits() + 1));
        vals.extend(pseudo_random(20_000, 9));
        for bits in [2, 8, 16, 32] {
            let qmax = max_magnitude(bits);
            for scale in [1.0, 0.1, 1.0 / 3.0, 0.7, 1e-7, 1e-30, 1e-310] {
                // Values at and one ulp around the rounding boundaries k + 0.5.
                let mut near = vals.clone();
                for k in [0i64, 1, 2, 7, 100, 32767, 1 << 20] {
                    let b = ((k as f64 + 0.5) * scale) as f32;
                    for d in [-2i32, -1, 0, 1, 2] {
                        let bits_ = (b.to_bits() as i64 + d as i64).max(0) as u32;
                        near.push(f32::from_bits(bits_));
                        near.push(-f32::from_bits(bits_));
                    }
                }
                for &x in &near {
                    assert_eq!(
                        fast_quantize(x, scale, 1.0 / scale, qmax, bits),
                        quantize_value(x, scale, bits),
                        "x={x} scale={scale} bits={bits}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_full_256_group_of_the_same_bit_does_not_overflow() {
        let s = Settings {
            bits: 32,
            ks: 256,
            encoding: Encoding::Tc,
            per_channel: false,
        };
        let st = layer_stats(&[-1.0; 512], 1, &s).unwrap();
        assert_eq!(st.tetris_cycles, 2 * 256);
    }

    #[test]
    fn bad_settings_and_values_are_errors() {
        let mut s = Settings {
            bits: 1,
            ks: 16,
            encoding: Encoding::Sm,
            per_channel: false,
        };
        assert!(layer_stats(&[1.0], 1, &s).is_err());
        s.bits = 8;
        s.ks = 0;
        assert!(layer_stats(&[1.0], 1, &s).is_err());
        s.ks = 16;
        assert!(layer_stats(&[1.0, f32::NAN], 1, &s).is_err());
        assert!(layer_stats(&[1.0, 2.0, 3.0], 2, &s).is_err());
    }
}
