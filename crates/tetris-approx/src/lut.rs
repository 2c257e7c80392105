//! 8-bit lookup tables for training frameworks, with explicit operand roles.
//!
//! The multiplier computes f(a, b) with `a` on its first port (port A) and `b` on its second
//! (port B). The frameworks index their tables by *activation* and *weight*, and all three
//! put the activation first:
//! - TFApprox/ALWANN: raw little-endian `uint16[65536]` at index `(activation << 8) | weight`
//!   (`lookupTable[(inputValueQ << 8) | filterValueQ]` in its convolution), unsigned only;
//! - AdaPT: a C header defining `lut[256][256]`, read as `lut[activation][weight]` with the
//!   operands' byte patterns (two's complement for signed); AdaPT includes one such header per
//!   build and looks for that exact name. `int16_t` when signed; unsigned 8x8 products reach
//!   65025, beyond int16, so unsigned tables are `uint16_t` (same layout). `static`, so that
//!   several translation units may include it;
//! - TorchApprox: int32 (256, 256), `lut[activation][weight]` by byte patterns, written as
//!   NumPy .npy.
//!
//! Which port takes the activation is [`Roles`]: by default the weight goes to port A and the
//! activation to port B, the assignment under which TFApprox's shipped tables of EvoApprox
//! circuits equal ours byte for byte.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Which operand of the multiplier carries the activation (the other carries the weight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ActivationOperand {
    /// The first operand, port A.
    A,
    /// The second operand, port B.
    B,
}

/// Operand roles of a characterized multiplier, as written into profiles and tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Roles {
    /// Operand (a or b) that takes the activation.
    pub activation: ActivationOperand,
    /// Port names of the two operands (built-ins: "a" and "b").
    pub port_a: String,
    pub port_b: String,
}

impl Roles {
    pub fn new(activation: ActivationOperand, port_a: &str, port_b: &str) -> Self {
        Roles {
            activation,
            port_a: port_a.into(),
            port_b: port_b.into(),
        }
    }

    /// Port names of (activation, weight).
    pub fn ports(&self) -> (&str, &str) {
        match self.activation {
            ActivationOperand::A => (&self.port_a, &self.port_b),
            ActivationOperand::B => (&self.port_b, &self.port_a),
        }
    }

    /// One line for file headers and summaries.
    pub fn describe(&self) -> String {
        let (act, wt) = self.ports();
        format!("activation on port {act}, weight on port {wt}")
    }

    /// The profile's `operand_roles` entry.
    pub fn profile_entry(&self) -> OperandRoles {
        let (act, wt) = self.ports();
        let (act_op, wt_op) = match self.activation {
            ActivationOperand::A => (ActivationOperand::A, ActivationOperand::B),
            ActivationOperand::B => (ActivationOperand::B, ActivationOperand::A),
        };
        OperandRoles {
            activation: RolePort {
                operand: act_op,
                port: act.into(),
            },
            weight: RolePort {
                operand: wt_op,
                port: wt.into(),
            },
            tables: "every table is indexed [activation][weight] (TFApprox: (activation << 8) | weight), by the operands' byte patterns".into(),
        }
    }
}

/// The roles as a profile records them (`multiplier.operand_roles`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperandRoles {
    pub activation: RolePort,
    pub weight: RolePort,
    /// How the tables are indexed.
    pub tables: String,
}

/// Operand (a or b) and port name of one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolePort {
    pub operand: ActivationOperand,
    pub port: String,
}

/// The 65536 products of two 8-bit operands: `values[(a << 8) | b]` = f(a, b) over byte
/// patterns, a on port A.
pub struct Lut8 {
    pub values: Vec<i64>,
    pub signed: bool,
    pub roles: Roles,
}

impl Lut8 {
    pub fn build(signed: bool, roles: Roles, f: impl Fn(u32, u32) -> i64) -> Self {
        let mut values = Vec::with_capacity(1 << 16);
        for a in 0..256u32 {
            for b in 0..256u32 {
                values.push(f(a, b));
            }
        }
        Lut8 {
            values,
            signed,
            roles,
        }
    }

    /// The product for activation byte `act` and weight byte `wt`.
    pub fn entry(&self, act: usize, wt: usize) -> i64 {
        match self.roles.activation {
            ActivationOperand::A => self.values[(act << 8) | wt],
            ActivationOperand::B => self.values[(wt << 8) | act],
        }
    }

    /// The table in framework order: index (activation << 8) | weight.
    fn by_activation(&self) -> impl Iterator<Item = i64> + '_ {
        (0..1usize << 16).map(|i| self.entry(i >> 8, i & 255))
    }

    /// Read a table written by `--lut-bin` (TFApprox raw uint16, unsigned) or `--lut-npy`
    /// (int32 or any integer/float dtype holding whole numbers, shape (256, 256)). The `.npy`
    /// file does not say whether its byte patterns are two's complement: `signed` does. Our
    /// writers put the activation on the rows (high byte of the TFApprox index) and the weight
    /// on the columns, so the table read back has the activation on operand a.
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
                let a = tetris_weights::npy::parse(&bytes)
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
        Ok(Lut8 {
            values,
            signed,
            roles: Roles::new(ActivationOperand::A, "activation", "weight"),
        })
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

    /// TFApprox raw uint16 little-endian, index (activation << 8) | weight.
    pub fn tfapprox_bin(&self) -> Result<Vec<u8>> {
        if self.signed {
            bail!("--lut-bin: the TFApprox table is unsigned 8-bit only (drop --signed or use --lut-npy/--lut-header)");
        }
        self.check_range(0, u16::MAX as i64, "--lut-bin")?;
        Ok(self
            .by_activation()
            .flat_map(|v| (v as u16).to_le_bytes())
            .collect())
    }

    /// AdaPT C header: `static const T lut[256][256]`, `lut[activation][weight]`.
    pub fn c_header(&self, description: &str) -> Result<String> {
        let ty = if self.signed {
            self.check_range(i16::MIN as i64, i16::MAX as i64, "--lut-header")?;
            "int16_t"
        } else {
            self.check_range(0, u16::MAX as i64, "--lut-header")?;
            "uint16_t"
        };
        let mut s = format!(
            "// {description}\n// Generated by {} {}. AdaPT table: lut[activation][weight] = approximate\n// activation * weight, indexed by the operands' byte patterns ({}); {}.\n#pragma once\n#include <stdint.h>\n\nstatic const {ty} lut[256][256] = {{\n",
            tetris_fs::PRODUCT,
            env!("CARGO_PKG_VERSION"),
            if self.signed { "two's complement" } else { "unsigned" },
            self.roles.describe(),
        );
        let all: Vec<i64> = self.by_activation().collect();
        for (act, row) in all.chunks(256).enumerate() {
            s.push_str("  {");
            let row: Vec<String> = row.iter().map(|v| v.to_string()).collect();
            s.push_str(&row.join(","));
            s.push_str(if act == 255 { "}\n" } else { "},\n" });
        }
        s.push_str("};\n");
        Ok(s)
    }

    /// TorchApprox: NumPy int32 (256, 256), `lut[activation][weight]`.
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
        for v in self.by_activation() {
            out.extend_from_slice(&(v as i32).to_le_bytes());
        }
        Ok(out)
    }
}
