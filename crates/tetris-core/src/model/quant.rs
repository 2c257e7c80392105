//! Symmetric max-abs fixed-point quantization of real-valued weights.
//!
//! q = clamp(round(w / s), -(2^(n-1)-1), 2^(n-1)-1) with s = max|w| / (2^(n-1)-1), per tensor
//! or per output channel (axis 0). An all-zero tensor or channel quantizes to zeros.

use anyhow::{bail, Result};

/// Scale for one block of weights; 1.0 when the block is all zero.
pub fn max_abs_scale(w: &[f32], bits: u32) -> f64 {
    let qmax = ((1u64 << (bits - 1)) - 1) as f64;
    let m = w.iter().fold(0.0f64, |m, &x| m.max((x as f64).abs()));
    if m == 0.0 {
        1.0
    } else {
        m / qmax
    }
}

/// Quantize one value with a given scale (round half away from zero, then clamp).
pub fn quantize_value(x: f32, scale: f64, bits: u32) -> i64 {
    let qmax = (1i64 << (bits - 1)) - 1;
    ((x as f64 / scale).round() as i64).clamp(-qmax, qmax)
}

/// Quantize a tensor whose axis 0 has `out_channels` entries. Errors on NaN/Inf (naming the
/// flat index) and on a length that does not split evenly into channels.
pub fn quantize(w: &[f32], out_channels: usize, bits: u32, per_channel: bool) -> Result<Vec<i64>> {
    if !(2..=32).contains(&bits) {
        bail!("bits = {bits}: allowed range is 2..=32");
    }
    if let Some(i) = w.iter().position(|x| !x.is_finite()) {
        bail!("weight #{i} is {} (not a finite number)", w[i]);
    }
    if out_channels == 0 || !w.len().is_multiple_of(out_channels) {
        bail!(
            "{} weights do not split into {out_channels} output channels",
            w.len()
        );
    }
    let per = w.len() / out_channels;
    let mut q = Vec::with_capacity(w.len());
    if per_channel {
        for ch in w.chunks(per.max(1)) {
            let s = max_abs_scale(ch, bits);
            q.extend(ch.iter().map(|&x| quantize_value(x, s, bits)));
        }
    } else {
        let s = max_abs_scale(w, bits);
        q.extend(w.iter().map(|&x| quantize_value(x, s, bits)));
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_abs_maps_to_qmax_and_sign_is_kept() {
        let q = quantize(&[1.0, -0.5, 0.25, -1.0], 1, 8, false).unwrap();
        assert_eq!(q, vec![127, -64, 32, -127]);
    }

    #[test]
    fn per_channel_uses_each_channels_own_scale() {
        let q = quantize(&[1.0, 0.5, 0.01, 0.02], 2, 8, true).unwrap();
        assert_eq!(q, vec![127, 64, 64, 127]);
    }

    #[test]
    fn nan_and_inf_are_rejected() {
        assert!(quantize(&[1.0, f32::NAN], 1, 8, false)
            .unwrap_err()
            .to_string()
            .contains("#1"));
        assert!(quantize(&[f32::INFINITY], 1, 8, false).is_err());
    }

    #[test]
    fn all_zero_is_all_zero() {
        assert_eq!(quantize(&[0.0; 4], 2, 8, true).unwrap(), vec![0; 4]);
    }
}
