//! NumPy `.npy` reader (format versions 1, 2 and 3), written by hand: the header is a small
//! Python dict literal, the data a flat array.
//!
//! Supported dtypes: float16/32/64, signed and unsigned integers of 1, 2, 4 and 8 bytes and
//! bool, either byte order; C or Fortran order (Fortran data is reordered to C order).

use super::{element_count, Layer};
use anyhow::{bail, Context, Result};
use std::path::Path;

/// A parsed array, row-major `f32` data.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl NpyArray {
    /// The array as a numpy "layer": axis 0 is taken as the output-channel axis.
    pub fn into_layer(self, name: String) -> Layer {
        Layer {
            name,
            op: "tensor".into(),
            shape: self.shape,
            data: self.data,
        }
    }
}

const MAGIC: &[u8] = b"\x93NUMPY";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Float,
    Int,
    Uint,
    Bool,
}

/// Read and parse a `.npy` file; errors name the file.
pub fn read(path: &Path) -> Result<NpyArray> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse(&bytes).with_context(|| format!("{}", path.display()))
}

/// Parse a whole `.npy` file held in memory.
pub fn parse(bytes: &[u8]) -> Result<NpyArray> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        bail!("not a .npy file (bad magic: expected \\x93NUMPY)");
    }
    let major = bytes[6];
    let (header_len, header_start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                bail!("truncated .npy header");
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => bail!("unsupported .npy format version {v}"),
    };
    let header_end = header_start + header_len;
    if bytes.len() < header_end {
        bail!(
            "truncated .npy header: needs {header_len} bytes, file has {}",
            bytes.len().saturating_sub(header_start)
        );
    }
    let header =
        std::str::from_utf8(&bytes[header_start..header_end]).context(".npy header is not text")?;
    let descr = dict_string(header, "descr")?;
    let fortran = dict_bool(header, "fortran_order")?;
    let shape = dict_shape(header)?;
    let (little, kind, size) = parse_descr(&descr)?;
    let count = element_count(&shape).context(".npy header: shape overflows")?;
    let body = &bytes[header_end..];
    let need = count
        .checked_mul(size)
        .context(".npy header: shape overflows")?;
    if body.len() < need {
        bail!(
            "truncated .npy data: shape {:?} of {descr} needs {need} bytes, file has {}",
            shape,
            body.len()
        );
    }
    let data = decode(&body[..need], little, kind, size);
    let data = if fortran && shape.len() > 1 {
        fortran_to_c(&data, &shape)
    } else {
        data
    };
    Ok(NpyArray { shape, data })
}

/// Byte order, kind and item size of a numpy type string such as `<f4`.
fn parse_descr(d: &str) -> Result<(bool, Kind, usize)> {
    let b = d.as_bytes();
    if b.len() < 3 {
        bail!(".npy header field descr = {d:?}: unsupported dtype");
    }
    let little = match b[0] {
        b'<' | b'|' | b'=' => true,
        b'>' => false,
        _ => bail!(".npy header field descr = {d:?}: unsupported byte order"),
    };
    let kind = match b[1] {
        b'f' => Kind::Float,
        b'i' => Kind::Int,
        b'u' => Kind::Uint,
        b'b' => Kind::Bool,
        _ => bail!(
            ".npy header field descr = {d:?}: unsupported dtype (need float, int, uint or bool)"
        ),
    };
    let size: usize = d[2..]
        .parse()
        .ok()
        .with_context(|| format!(".npy header field descr = {d:?}: bad item size"))?;
    let ok = match kind {
        Kind::Float => matches!(size, 2 | 4 | 8),
        Kind::Int | Kind::Uint => matches!(size, 1 | 2 | 4 | 8),
        Kind::Bool => size == 1,
    };
    if !ok {
        bail!(".npy header field descr = {d:?}: unsupported item size {size}");
    }
    Ok((little, kind, size))
}

fn decode(body: &[u8], little: bool, kind: Kind, size: usize) -> Vec<f32> {
    body.chunks_exact(size)
        .map(|c| {
            let mut b = [0u8; 8];
            b[..size].copy_from_slice(c);
            if !little {
                b[..size].reverse();
            }
            let u = u64::from_le_bytes(b);
            match (kind, size) {
                (Kind::Float, 2) => super::f16_to_f32(u as u16),
                (Kind::Float, 4) => f32::from_bits(u as u32),
                (Kind::Float, _) => f64::from_bits(u) as f32,
                (Kind::Int, 1) => u as u8 as i8 as f32,
                (Kind::Int, 2) => u as u16 as i16 as f32,
                (Kind::Int, 4) => u as u32 as i32 as f32,
                (Kind::Int, _) => u as i64 as f32,
                (Kind::Uint | Kind::Bool, _) => u as f32,
            }
        })
        .collect()
}

/// Reorder column-major data of `shape` into row-major order.
fn fortran_to_c(data: &[f32], shape: &[usize]) -> Vec<f32> {
    let n = shape.len();
    let mut fstride = vec![1usize; n];
    for k in 1..n {
        fstride[k] = fstride[k - 1] * shape[k - 1];
    }
    let mut idx = vec![0usize; n];
    let mut out = Vec::with_capacity(data.len());
    for _ in 0..data.len() {
        let off: usize = idx.iter().zip(&fstride).map(|(i, s)| i * s).sum();
        out.push(data[off]);
        // Odometer in C order: the last axis runs fastest.
        for k in (0..n).rev() {
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    out
}

/// The text right after `'key':` in the header dict.
fn dict_value<'a>(header: &'a str, key: &str) -> Result<&'a str> {
    for q in ['\'', '"'] {
        let pat = format!("{q}{key}{q}");
        if let Some(p) = header.find(&pat) {
            let rest = header[p + pat.len()..].trim_start();
            if let Some(r) = rest.strip_prefix(':') {
                return Ok(r.trim_start());
            }
        }
    }
    bail!(".npy header has no field {key:?}: {header:?}")
}

fn dict_string(header: &str, key: &str) -> Result<String> {
    let v = dict_value(header, key)?;
    let q = v.chars().next().unwrap_or(' ');
    if q != '\'' && q != '"' {
        bail!(".npy header field {key} is not a string (structured dtypes are unsupported)");
    }
    let end = v[1..]
        .find(q)
        .with_context(|| format!(".npy header field {key}: unterminated string"))?;
    Ok(v[1..1 + end].to_string())
}

fn dict_bool(header: &str, key: &str) -> Result<bool> {
    let v = dict_value(header, key)?;
    if v.starts_with("True") {
        Ok(true)
    } else if v.starts_with("False") {
        Ok(false)
    } else {
        bail!(".npy header field {key} is neither True nor False")
    }
}

fn dict_shape(header: &str) -> Result<Vec<usize>> {
    let v = dict_value(header, "shape")?;
    let inner = v
        .strip_prefix('(')
        .and_then(|r| r.find(')').map(|e| &r[..e]))
        .context(".npy header field shape is not a tuple")?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim_end_matches('L')
                .parse::<usize>()
                .with_context(|| format!(".npy header field shape: bad dimension {s:?}"))
        })
        .collect()
}

/// Serialize a C-order little-endian `f32` array as `.npy` (version 1); used by tests and
/// handy for making inputs.
pub fn write_f32(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_txt = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_txt}, }}");
    // Pad so that the data starts 64-byte aligned; the header ends with a newline.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = MAGIC.to_vec();
    out.extend([1u8, 0]);
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    for x in data {
        out.extend(x.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_header(header: &str, body: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend([1u8, 0]);
        out.extend((header.len() as u16).to_le_bytes());
        out.extend(header.as_bytes());
        out.extend(body);
        out
    }

    #[test]
    fn round_trip_f32() {
        let a = parse(&write_f32(&[2, 3], &[1., 2., 3., 4., 5., 6.])).unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.data, vec![1., 2., 3., 4., 5., 6.]);
        let s = parse(&write_f32(&[], &[7.])).unwrap();
        assert_eq!((s.shape.len(), s.data.clone()), (0, vec![7.]));
    }

    #[test]
    fn big_endian_f64_and_fortran_order() {
        // Logical array [[1,2,3],[4,5,6]] stored column-major: 1,4,2,5,3,6.
        let mut body = vec![];
        for x in [1.0f64, 4., 2., 5., 3., 6.] {
            body.extend(x.to_be_bytes());
        }
        let a = parse(&with_header(
            "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }\n",
            &body,
        ))
        .unwrap();
        assert_eq!(a.data, vec![1., 2., 3., 4., 5., 6.]);
    }

    #[test]
    fn fortran_order_3d() {
        // shape (2,2,2): element [i][j][k] = 100i+10j+k, column-major storage.
        let mut body = vec![];
        for k in 0..2 {
            for j in 0..2 {
                for i in 0..2 {
                    body.extend(((100 * i + 10 * j + k) as i16).to_le_bytes());
                }
            }
        }
        let a = parse(&with_header(
            "{'descr': '<i2', 'fortran_order': True, 'shape': (2, 2, 2), }\n",
            &body,
        ))
        .unwrap();
        assert_eq!(a.data, vec![0., 1., 10., 11., 100., 101., 110., 111.]);
    }

    #[test]
    fn integer_half_and_bool_dtypes() {
        let cases: Vec<(&str, Vec<u8>, Vec<f32>)> = vec![
            ("|i1", vec![0xff, 0x05], vec![-1., 5.]),
            ("|u1", vec![0xff, 0x05], vec![255., 5.]),
            ("|b1", vec![1, 0], vec![1., 0.]),
            (
                ">i4",
                vec![0xff, 0xff, 0xff, 0xfe, 0, 0, 1, 0],
                vec![-2., 256.],
            ),
            ("<u2", vec![0x01, 0x01, 0xff, 0xff], vec![257., 65535.]),
            ("<f2", vec![0x00, 0x3c, 0x00, 0xc0], vec![1., -2.]),
            (">f2", vec![0x3c, 0x00, 0xc0, 0x00], vec![1., -2.]),
            (
                "<i8",
                (-3i64)
                    .to_le_bytes()
                    .into_iter()
                    .chain(7i64.to_le_bytes())
                    .collect(),
                vec![-3., 7.],
            ),
        ];
        for (d, body, want) in cases {
            let h = format!("{{'descr': '{d}', 'fortran_order': False, 'shape': (2,), }}\n");
            assert_eq!(parse(&with_header(&h, &body)).unwrap().data, want, "{d}");
        }
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        let good = write_f32(&[4], &[1., 2., 3., 4.]);
        for cut in [0, 5, 9, 20, good.len() - 1] {
            assert!(parse(&good[..cut]).is_err(), "cut at {cut}");
        }
        let e = parse(b"PK\x03\x04 not numpy").unwrap_err().to_string();
        assert!(e.contains("magic"), "{e}");
        let e = parse(&with_header(
            "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n",
            &[0; 8],
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("descr"), "{e}");
        let e = parse(&with_header(
            "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n",
            &[0; 4],
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("structured"), "{e}");
    }
}
