//! A minimal `.npy` writer for test inputs (little-endian f32, C order).
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::Path;

/// The bytes of a version 1.0 `.npy` file holding `data` as `<f4` with `shape`.
pub fn npy_f32_bytes(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let mut h = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}",
        dims.join(", ")
    );
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    let mut buf = b"\x93NUMPY\x01\x00".to_vec();
    buf.extend((h.len() as u16).to_le_bytes());
    buf.extend(h.as_bytes());
    for x in data {
        buf.extend(x.to_le_bytes());
    }
    buf
}

/// Write `data` as an f32 `.npy` file.
pub fn write_npy_f32(path: &Path, shape: &[usize], data: &[f32]) {
    std::fs::write(path, npy_f32_bytes(shape, data)).unwrap();
}
