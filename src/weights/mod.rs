//! Weight loading: `.npy`, `.npz` and `.onnx` files into one in-memory form.
//!
//! Every loader returns [`Layer`]s whose tensor has the output-channel (output filter) axis
//! first, so "filter f" is always the f-th contiguous block of `data`. Errors name the file
//! and, where it helps, the entry, layer or protobuf field; nothing here panics on bad input.

use anyhow::{bail, Context, Result};
use std::path::Path;

pub mod npy;
pub mod npz;
pub mod onnx;

/// One weight tensor, output-channel axis first, row-major (C order) `f32` data.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Name from the file: the ONNX node name (or weight tensor name), the npz entry name, or
    /// the npy file stem.
    pub name: String,
    /// The ONNX operator (`Conv`, `ConvTranspose`, `Gemm`, `MatMul`), or `tensor` for numpy.
    pub op: String,
    /// Shape after rearrangement; `shape[0]` is the number of output filters.
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Layer {
    /// Number of output filters (rows): `shape[0]`, or 1 for a scalar.
    pub fn out_channels(&self) -> usize {
        self.shape.first().copied().unwrap_or(1)
    }

    /// Weights per output filter.
    pub fn per_filter(&self) -> usize {
        self.shape.iter().skip(1).product()
    }
}

/// Load every weight tensor of `path`, chosen by the file's extension. Checks that there is at
/// least one weight and that all are finite.
pub fn load(path: &Path) -> Result<Vec<Layer>> {
    Ok(load_with_notes(path)?.layers)
}

/// Layers plus notes worth telling the user (e.g. ONNX nodes whose weights are computed at
/// run time and so were skipped).
#[derive(Debug, Default)]
pub struct Loaded {
    pub layers: Vec<Layer>,
    pub notes: Vec<String>,
}

/// [`load`], with notes.
pub fn load_with_notes(path: &Path) -> Result<Loaded> {
    let mut notes = Vec::new();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if !matches!(ext.as_str(), "npy" | "npz" | "onnx") {
        bail!(
            "{}: unknown weight file extension {:?}: expected .npy, .npz or .onnx",
            path.display(),
            ext
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let layers = match ext.as_str() {
        "npy" => {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "weights".into());
            let a = npy::parse(&bytes).with_context(|| format!("{}", path.display()))?;
            vec![a.into_layer(name)]
        }
        "npz" => npz::parse(&bytes).with_context(|| format!("{}", path.display()))?,
        _ => {
            let w = onnx::parse_full(&bytes).with_context(|| format!("{}", path.display()))?;
            if !w.skipped.is_empty() {
                notes.push(format!(
                    "{}: {} weighted node(s) have run-time (non-constant) weights and were skipped: {}",
                    path.display(),
                    w.skipped.len(),
                    w.skipped.join(", ")
                ));
            }
            w.layers
        }
    };
    let layers: Vec<Layer> = layers.into_iter().filter(|l| !l.data.is_empty()).collect();
    if layers.is_empty() {
        let why: String = notes.iter().map(|n| format!(" ({n})")).collect();
        bail!("{}: the file holds no weights{why}", path.display());
    }
    for l in &layers {
        if let Some(i) = l.data.iter().position(|x| !x.is_finite()) {
            bail!(
                "{}: layer {:?}: weight #{i} is {} (weights must be finite numbers)",
                path.display(),
                l.name,
                l.data[i]
            );
        }
    }
    Ok(Loaded { layers, notes })
}

/// A half-precision (IEEE binary16) bit pattern as `f32`.
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x3ff) as u32;
    let bits = match (exp, man) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: value = m * 2^-24, exact in f32.
            let v = m as f32 * (1.0 / 16_777_216.0);
            return if sign != 0 { -v } else { v };
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, m) => sign | 0x7fc0_0000 | (m << 13),
        (e, m) => sign | ((e + 112) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

/// A bfloat16 bit pattern as `f32`.
pub fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits((h as u32) << 16)
}

/// Row-major shape product with an overflow check.
pub(crate) fn element_count(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))
}

/// Transpose a row-major (rows, cols) matrix.
pub(crate) fn transpose(data: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; data.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = data[r * cols + c];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_known_values() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert!(f16_to_f32(0x7c00).is_infinite());
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(bf16_to_f32(0x3f80), 1.0);
    }

    #[test]
    fn transpose_swaps_axes() {
        // [[1,2,3],[4,5,6]] -> [[1,4],[2,5],[3,6]]
        assert_eq!(
            transpose(&[1., 2., 3., 4., 5., 6.], 2, 3),
            vec![1., 4., 2., 5., 3., 6.]
        );
    }
}
