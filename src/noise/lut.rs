//! 8-bit lookup tables for training frameworks (operand order: a = row/high byte, b = column).
//!
//! - TFApprox/ALWANN: raw little-endian uint16[65536], index (a << 8) | b, unsigned only;
//! - AdaPT-style C header `int16_t lut[256][256]` indexed by the byte patterns (two's complement
//!   when signed). Unsigned 8x8 products reach 65025, which int16 cannot hold, so unsigned
//!   tables are declared `uint16_t` (same layout);
//! - NumPy .npy, int32, shape (256, 256), C order, indexed by the byte patterns.

use anyhow::{bail, Context, Result};
use std::path::Path;

/// The 65536 products indexed (a << 8) | b over byte patterns.
pub struct Lut8 {
    pub values: Vec<i64>,
    pub signed: bool,
}

impl Lut8 {
    pub fn build(signed: bool, f: impl Fn(u32, u32) -> i64) -> Self {
        let mut values = Vec::with_capacity(1 << 16);
        for a in 0..256u32 {
            for b in 0..256u32 {
                values.push(f(a, b));
            }
        }
        Lut8 { values, signed }
    }

    /// Read a table written by `--lut-bin` (TFApprox raw uint16, unsigned) or `--lut-npy`
    /// (int32 or any integer/float dtype holding whole numbers, shape (256, 256)). The `.npy`
    /// file does not say whether its byte patterns are two's complement: `signed` does. The
    /// entry at (a, b) is the product with operand a (row, high byte of the TFApprox index) and
    /// operand b (column, low byte); which operand is an activation is the caller's choice.
    pub fn read(path: &Path, signed: bool) -> Result<Self> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read LUT {}", path.display()))?;
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let values: Vec<i64> = match ext.as_str() {
            "bin" => {
                if signed {
                    bail!("{}: a TFApprox .bin table is unsigned 8-bit; a signed table comes as .npy", path.display());
                }
                if bytes.len() != 2 << 16 {
                    bail!(
                        "{}: a TFApprox table has 65536 uint16 entries (131072 bytes), the file has {} bytes",
                        path.display(),
                        bytes.len()
                    );
                }
                bytes
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]) as i64)
                    .collect()
            }
            "npy" => {
                let a = crate::weights::npy::parse(&bytes)
                    .with_context(|| format!("LUT {}", path.display()))?;
                if a.shape != [256, 256] {
                    bail!(
                        "{}: LUT shape {:?}, expected (256, 256)",
                        path.display(),
                        a.shape
                    );
                }
                if let Some(i) = a.data.iter().position(|v| v.fract() != 0.0 || !v.is_finite()) {
                    bail!(
                        "{}: entry a={} b={} is {}, not a whole number",
                        path.display(),
                        i >> 8,
                        i & 255,
                        a.data[i]
                    );
                }
                a.data.iter().map(|&v| v as i64).collect()
            }
            _ => bail!(
                "{}: unknown LUT extension {ext:?}: expected .bin (TFApprox uint16) or .npy (256x256)",
                path.display()
            ),
        };
        Ok(Lut8 { values, signed })
    }

    /// The product of operand patterns a (row) and b (column).
    #[inline(always)]
    pub fn get(&self, a: u32, b: u32) -> i64 {
        self.values[((a as usize & 255) << 8) | (b as usize & 255)]
    }

    fn check_range(&self, lo: i64, hi: i64, what: &str) -> Result<()> {
        if let Some((i, v)) = self
            .values
            .iter()
            .enumerate()
            .find(|(_, &v)| v < lo || v > hi)
        {
            bail!(
                "{what}: product {v} of a={} b={} does not fit the table's range {lo}..={hi}",
                i >> 8,
                i & 255
            );
        }
        Ok(())
    }

    /// TFApprox raw uint16 little-endian.
    pub fn tfapprox_bin(&self) -> Result<Vec<u8>> {
        if self.signed {
            bail!("--lut-bin: the TFApprox table is unsigned 8-bit only (drop --signed or use --lut-npy/--lut-header)");
        }
        self.check_range(0, u16::MAX as i64, "--lut-bin")?;
        Ok(self
            .values
            .iter()
            .flat_map(|&v| (v as u16).to_le_bytes())
            .collect())
    }

    /// AdaPT-style C header.
    pub fn c_header(&self, name: &str, description: &str) -> Result<String> {
        let ty = if self.signed {
            self.check_range(i16::MIN as i64, i16::MAX as i64, "--lut-header")?;
            "int16_t"
        } else {
            self.check_range(0, u16::MAX as i64, "--lut-header")?;
            "uint16_t"
        };
        let ident: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let mut s = format!(
            "// {description}\n// Generated by {} {}. lut[a][b] = approximate a*b, indexed by the operands' byte\n// patterns ({}).\n#pragma once\n#include <stdint.h>\n\nconst {ty} lut_{ident}[256][256] = {{\n",
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            if self.signed { "two's complement" } else { "unsigned" },
        );
        for a in 0..256 {
            s.push_str("  {");
            let row: Vec<String> = (0..256)
                .map(|b| self.values[a * 256 + b].to_string())
                .collect();
            s.push_str(&row.join(","));
            s.push_str(if a == 255 { "}\n" } else { "},\n" });
        }
        s.push_str("};\n");
        Ok(s)
    }

    /// NumPy int32 (256, 256).
    pub fn npy(&self) -> Result<Vec<u8>> {
        self.check_range(i32::MIN as i64, i32::MAX as i64, "--lut-npy")?;
        let mut header =
            "{'descr': '<i4', 'fortran_order': False, 'shape': (256, 256), }".to_string();
        // Magic (6) + version (2) + header length (2) + header, padded to 64 with '\n' last.
        while !(10 + header.len() + 1).is_multiple_of(64) {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        for &v in &self.values {
            out.extend_from_slice(&(v as i32).to_le_bytes());
        }
        Ok(out)
    }
}
