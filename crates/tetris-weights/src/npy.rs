//! NumPy `.npy` arrays through the npyz crate (format versions 1, 2 and 3: header dict parsed
//! by npyz, data read by its typed readers).
//!
//! Supported dtypes: float16/32/64, signed and unsigned integers of 1, 2, 4 and 8 bytes and
//! bool, either byte order; C or Fortran order (Fortran data is reordered to C order). Before
//! npyz reads anything, the header length and then the data length are checked against the
//! bytes present, so a truncated or hostile file is an error, never a huge allocation.

use anyhow::{bail, Context, Result};
use npyz::{DType, NpyFile, Order, TypeChar};
use std::path::Path;

/// A parsed array, row-major `f32` data.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

const MAGIC: &[u8] = b"\x93NUMPY";

/// Read and parse a `.npy` file; errors name the file.
pub fn read(path: &Path) -> Result<NpyArray> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse(&bytes).with_context(|| format!("{}", path.display()))
}

/// Where the header ends, checked against the bytes present.
fn header_end(bytes: &[u8]) -> Result<usize> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        bail!("not a .npy file (bad magic: expected \\x93NUMPY)");
    }
    let (len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        2 | 3 => bail!("truncated .npy header"),
        v => bail!("unsupported .npy format version {v}"),
    };
    let end = start + len;
    if bytes.len() < end {
        bail!(
            "truncated .npy header: needs {len} bytes, file has {}",
            bytes.len() - start
        );
    }
    Ok(end)
}

/// Parse a whole `.npy` file held in memory.
pub fn parse(bytes: &[u8]) -> Result<NpyArray> {
    let end = header_end(bytes)?;
    let npy = NpyFile::new(bytes).map_err(|e| anyhow::anyhow!(".npy header: {e}"))?;
    let descr = match npy.dtype() {
        DType::Plain(t) => t,
        _ => bail!(".npy header field descr: structured dtypes are unsupported"),
    };
    let size = descr.size_field() as usize;
    let ok = match descr.type_char() {
        TypeChar::Float => matches!(size, 2 | 4 | 8),
        TypeChar::Int | TypeChar::Uint => matches!(size, 1 | 2 | 4 | 8),
        TypeChar::Bool => size == 1,
        _ => false,
    };
    if !ok {
        bail!(".npy header field descr = '{descr}': unsupported dtype (need float16/32/64, int, uint or bool)");
    }
    let shape: Vec<usize> = npy
        .shape()
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<Result<_, _>>()
        .context(".npy header: shape overflows")?;
    let count = super::element_count(&shape).context(".npy header: shape overflows")?;
    let need = count
        .checked_mul(size)
        .context(".npy header: shape overflows")?;
    let body = bytes.len() - end;
    if body < need {
        bail!(
            "truncated .npy data: shape {shape:?} of '{descr}' needs {need} bytes, file has {body}"
        );
    }
    let fortran = npy.order() == Order::Fortran;
    let data = read_values(npy, &descr)?;
    let data = if fortran && shape.len() > 1 {
        fortran_to_c(&data, &shape)
    } else {
        data
    };
    Ok(NpyArray { shape, data })
}

/// Every value as `f32`, through npyz's reader of the file's own dtype.
fn read_values(npy: NpyFile<&[u8]>, descr: &npyz::TypeStr) -> Result<Vec<f32>> {
    fn all<T: npyz::Deserialize>(npy: NpyFile<&[u8]>, f: impl Fn(T) -> f32) -> Result<Vec<f32>> {
        let v: Vec<T> = npy
            .into_vec()
            .map_err(|e| anyhow::anyhow!(".npy data: {e}"))?;
        Ok(v.into_iter().map(f).collect())
    }
    match (descr.type_char(), descr.size_field()) {
        (TypeChar::Float, 2) => all(npy, |x: half::f16| x.to_f32()),
        (TypeChar::Float, 4) => all(npy, |x: f32| x),
        (TypeChar::Float, _) => all(npy, |x: f64| x as f32),
        (TypeChar::Int, 1) => all(npy, |x: i8| x as f32),
        (TypeChar::Int, 2) => all(npy, |x: i16| x as f32),
        (TypeChar::Int, 4) => all(npy, |x: i32| x as f32),
        (TypeChar::Int, _) => all(npy, |x: i64| x as f32),
        (TypeChar::Uint, 1) => all(npy, |x: u8| x as f32),
        (TypeChar::Uint, 2) => all(npy, |x: u16| x as f32),
        (TypeChar::Uint, 4) => all(npy, |x: u32| x as f32),
        (TypeChar::Uint, _) => all(npy, |x: u64| x as f32),
        _ => all(npy, |x: bool| x as u8 as f32),
    }
}

/// Reorder column-major data of `shape` into row-major order: column-major data is the
/// row-major array of the reversed shape, so this is the transpose that reverses the axes.
fn fortran_to_c(data: &[f32], shape: &[usize]) -> Vec<f32> {
    let reversed: Vec<usize> = shape.iter().rev().copied().collect();
    let axes: Vec<usize> = (0..shape.len()).rev().collect();
    super::layout::permute(&reversed, data, &axes).1
}

/// Serialize a C-order little-endian `f32` array as `.npy` (through npyz); used by tests and
/// handy for making inputs.
pub fn write_f32(shape: &[usize], data: &[f32]) -> Vec<u8> {
    use npyz::WriterBuilder;
    let mut out = Vec::new();
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .writer(&mut out)
        .begin_nd()
        .expect("writing to a Vec cannot fail");
    w.extend(data.iter().copied())
        .expect("writing to a Vec cannot fail");
    w.finish().expect("writing to a Vec cannot fail");
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
        let err =
            |header: &str, body: &[u8]| parse(&with_header(header, body)).unwrap_err().to_string();
        let e = parse(b"PK\x03\x04 not numpy").unwrap_err().to_string();
        assert!(e.contains("magic"), "{e}");
        let e = err(
            "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n",
            &[0; 8],
        );
        assert!(e.contains("descr"), "{e}");
        let e = err(
            "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n",
            &[0; 4],
        );
        assert!(e.contains("structured"), "{e}");
        // A version-2 header that claims 4 GB: refused before anything is allocated.
        let mut huge = MAGIC.to_vec();
        huge.extend([2u8, 0, 0xff, 0xff, 0xff, 0xff]);
        let e = parse(&huge).unwrap_err().to_string();
        assert!(e.contains("truncated .npy header"), "{e}");
        // A shape whose size overflows.
        let e = err(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }\n",
            &[0; 4],
        );
        assert!(e.contains("overflows") || e.contains("truncated"), "{e}");
    }
}
