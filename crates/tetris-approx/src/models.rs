//! Bit-exact Rust models of the built-in multipliers: the oracle the RTL and the metrics are
//! checked against. Operands are n-bit patterns (`u32`, n <= 16); results are values (`i64`).
//!
//! Signed multipliers are a sign-magnitude wrapper around the unsigned core of the same width:
//! |a| and |b| (at most 2^(n-1), which fits in n bits) go through the core and the product
//! takes the sign a_sign ^ b_sign. This is the choice written into every profile.

use super::spec::MultKind;
use super::sweep::Operands;
use anyhow::Result;

/// A validated multiplier: family, operand width and signedness, with precomputed constants.
#[derive(Debug, Clone)]
pub struct Multiplier {
    pub kind: MultKind,
    pub width: u32,
    pub signed: bool,
    /// Partial-product row masks in product bit positions (row j = a << j, masked).
    row_mask: [u64; 16],
    /// Constant added after the array (truncation correction), else 0.
    corr: u64,
}

/// Correction constant of a truncated multiplier: round(1/4 * sum_{c<t} (c+1) 2^c).
/// The sum has the closed form (t-1) 2^t + 1; rounding is half-up.
pub fn trunc_correction(t: u32) -> u64 {
    if t == 0 {
        return 0;
    }
    let s: u64 = ((t as u64 - 1) << t) + 1;
    (s + 2) / 4
}

impl Multiplier {
    pub fn new(kind: MultKind, width: u32, signed: bool) -> Result<Self> {
        kind.validate(width)?;
        let n = width;
        let row = (1u64 << n) - 1;
        let (hbl, vbl, corr) = match kind {
            MultKind::Trunc { t, corr } => (0, t, if corr { trunc_correction(t) } else { 0 }),
            MultKind::Bam { hbl, vbl } => (hbl, vbl, 0),
            _ => (0, 0, 0),
        };
        let mut row_mask = [0u64; 16];
        for (j, m) in row_mask.iter_mut().enumerate().take(n as usize) {
            *m = if (j as u32) < hbl {
                0
            } else {
                (row << j) & !((1u64 << vbl) - 1)
            };
        }
        Ok(Multiplier {
            kind,
            width,
            signed,
            row_mask,
            corr,
        })
    }

    /// Parse `spec` and build.
    pub fn from_spec(spec: &str, width: u32, signed: bool) -> Result<Self> {
        Self::new(MultKind::parse(spec)?, width, signed)
    }

    /// Row masks of the partial-product array (used by the RTL generator too).
    pub fn row_masks(&self) -> &[u64] {
        &self.row_mask[..self.width as usize]
    }

    pub fn correction(&self) -> u64 {
        self.corr
    }

    /// Value of an n-bit operand pattern (two's complement when signed).
    #[inline(always)]
    pub fn operand_value(&self, x: u32) -> i64 {
        Operands {
            width: self.width,
            signed: self.signed,
        }
        .value(x)
    }

    /// The unsigned core on n-bit magnitudes.
    #[inline(always)]
    pub fn core(&self, a: u32, b: u32) -> u64 {
        match self.kind {
            MultKind::Exact => a as u64 * b as u64,
            MultKind::Trunc { .. } | MultKind::Bam { .. } => self.masked_array(a, b),
            MultKind::Drum { k } => drum(a, b, k),
            MultKind::Mitchell => mitchell(a, b, self.width),
            MultKind::Kulkarni => kulkarni(a, b, self.width),
        }
    }

    #[inline(always)]
    fn masked_array(&self, a: u32, b: u32) -> u64 {
        let a = a as u64;
        let mut acc = self.corr;
        for j in 0..self.width as usize {
            // Branch-free: the row is kept when bit j of b is set.
            let keep = 0u64.wrapping_sub((b as u64 >> j) & 1);
            acc += (a << j) & self.row_mask[j] & keep;
        }
        acc
    }

    /// Approximate product of two n-bit operand patterns, as a value.
    #[inline(always)]
    pub fn eval(&self, a: u32, b: u32) -> i64 {
        if self.signed {
            let va = self.operand_value(a);
            let vb = self.operand_value(b);
            let p = self.core(va.unsigned_abs() as u32, vb.unsigned_abs() as u32) as i64;
            if (va < 0) != (vb < 0) {
                -p
            } else {
                p
            }
        } else {
            self.core(a, b) as i64
        }
    }

    /// Exact product of two operand patterns, as a value.
    #[inline(always)]
    pub fn exact(&self, a: u32, b: u32) -> i64 {
        self.operand_value(a) * self.operand_value(b)
    }

    /// Human-readable statement of the signed convention, for profiles.
    pub fn signed_convention(&self) -> &'static str {
        if self.signed {
            "sign-magnitude wrapper: two's-complement operands, |a| x |b| through the unsigned core, sign a^b"
        } else {
            "unsigned"
        }
    }
}

/// Index of the leading one (x > 0).
#[inline(always)]
fn lead(x: u32) -> u32 {
    31 - x.leading_zeros()
}

/// DRUM(k) (Hashemi et al. 2015): operands >= 2^k keep the k bits from their leading one, with
/// the lowest kept bit forced to 1 (unbiasing); smaller operands are exact.
#[inline(always)]
pub fn drum(a: u32, b: u32, k: u32) -> u64 {
    #[inline(always)]
    fn mant(x: u32, k: u32) -> (u64, u32) {
        if x >> k == 0 {
            (x as u64, 0)
        } else {
            let s = lead(x) + 1 - k;
            (((x >> s) | 1) as u64, s)
        }
    }
    let (ma, sa) = mant(a, k);
    let (mb, sb) = mant(b, k);
    (ma * mb) << (sa + sb)
}

/// Mitchell's logarithmic multiplier on n-bit operands with n-1 fraction bits:
/// a = 2^k1 (1 + f1 / 2^(n-1)), the fractions are added, the antilog is floored.
/// mant = 2^(n-1) + f1 + f2 when the sum of fractions is below one, else 2 (f1 + f2);
/// product = floor(mant * 2^(k1+k2) / 2^(n-1)).
#[inline(always)]
pub fn mitchell(a: u32, b: u32, n: u32) -> u64 {
    if a == 0 || b == 0 {
        return 0;
    }
    let (k1, k2) = (lead(a), lead(b));
    let fmask = (1u64 << (n - 1)) - 1;
    let f1 = ((a as u64) << (n - 1 - k1)) & fmask;
    let f2 = ((b as u64) << (n - 1 - k2)) & fmask;
    let s = f1 + f2;
    let half = 1u64 << (n - 1);
    let mant = if s < half { half + s } else { 2 * s };
    let e = k1 + k2;
    if e >= n - 1 {
        mant << (e - (n - 1))
    } else {
        mant >> ((n - 1) - e)
    }
}

/// Kulkarni et al. (2011): 2x2 blocks that return 7 for 3x3 (exact otherwise), combined with
/// exact adders. The recursion with exact adders equals the sum over all 2-bit digit pairs
/// (a_i, b_j) of M2(a_i, b_j) 4^(i+j), which is what this computes (odd widths: the top digit
/// has one bit and is always exact).
pub fn kulkarni(a: u32, b: u32, n: u32) -> u64 {
    let digits = n.div_ceil(2);
    let mut acc = 0u64;
    for i in 0..digits {
        let ai = (a >> (2 * i)) & 3;
        if ai == 0 {
            continue;
        }
        for j in 0..digits {
            let bj = (b >> (2 * j)) & 3;
            let m2 = if ai == 3 && bj == 3 { 7 } else { ai * bj } as u64;
            acc += m2 << (2 * (i + j));
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(kulkarni(3, 3, 2), 7);
        assert_eq!(kulkarni(15, 15, 4), 7 * 16 + 2 * 7 * 4 + 7);
        assert_eq!(mitchell(3, 3, 8), 8); // 2^(1+1) * (1 + 0.5 + 0.5) -> 2^3 * 1.0
        assert_eq!(mitchell(1 << 7, 1 << 7, 8), 1 << 14);
        assert_eq!(drum(255, 255, 4), (0b1111 * 0b1111) << 8);
        assert_eq!(drum(200, 3, 4), (((200 >> 4) | 1) * 3) << 4);
        assert_eq!(trunc_correction(0), 0);
        assert_eq!(trunc_correction(1), 0); // round(0.25)
        assert_eq!(trunc_correction(2), 1); // round(5/4)
        assert_eq!(trunc_correction(8), 448); // round((7*256+1)/4)
        let m = Multiplier::from_spec("exact", 8, true).unwrap();
        assert_eq!(m.eval(0x80, 0x80), 16384);
        assert_eq!(m.eval(0xff, 0x02), -2);
    }
}
