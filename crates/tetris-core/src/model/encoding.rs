//! Weight encodings: how a signed integer weight splits into signed binary digits.
//!
//! Every encoding is represented the same way: a set of essential digit positions (`nonzero`)
//! and the subset of them whose digit is -1 (`negative`), so that
//! `value = sum over b in nonzero of (negative_b ? -1 : +1) * 2^b`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Sign-magnitude: the magnitude's bits, each carrying the weight's sign.
    Sm,
    /// Canonical signed digits (non-adjacent form): digits in {-1, 0, +1}, no two adjacent
    /// non-zero, so the fewest essential digits of any signed-binary form.
    Csd,
    /// Two's complement bit pattern; the top bit weighs -2^(bits-1). Analysis only.
    Tc,
}

impl Encoding {
    /// Digit positions (kneading lanes) a `bits`-bit weight occupies.
    pub fn lanes(self, bits: u32) -> usize {
        match self {
            Encoding::Sm => bits as usize - 1,
            // NAF of an m-bit magnitude may need m+1 digits.
            Encoding::Csd | Encoding::Tc => bits as usize,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Encoding::Sm => "sm",
            Encoding::Csd => "csd",
            Encoding::Tc => "tc",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Encoding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sm" => Ok(Encoding::Sm),
            "csd" => Ok(Encoding::Csd),
            "tc" => Ok(Encoding::Tc),
            _ => Err(format!("unknown encoding {s:?}: expected sm, csd or tc")),
        }
    }
}

/// A weight's essential digits: bit b of `nonzero` set means digit b is +-1, and bit b of
/// `negative` (a subset of `nonzero`) set means that digit is -1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Digits {
    pub nonzero: u64,
    pub negative: u64,
}

impl Digits {
    /// The integer these digits stand for.
    pub fn value(self) -> i128 {
        let mut v = 0i128;
        for b in 0..64 {
            if self.nonzero >> b & 1 == 1 {
                let d = 1i128 << b;
                v += if self.negative >> b & 1 == 1 { -d } else { d };
            }
        }
        v
    }

    pub fn essential(self) -> u32 {
        self.nonzero.count_ones()
    }
}

/// Largest magnitude of a `bits`-bit symmetric fixed-point weight: 2^(bits-1) - 1.
pub fn max_magnitude(bits: u32) -> i64 {
    (1i64 << (bits - 1)) - 1
}

/// Non-adjacent form of a non-negative integer: (positive digits, negative digits).
pub fn naf(x: u64) -> (u64, u64) {
    // Classic bit trick: with xh = x >> 1 and x3 = x + xh, the positions where xh and x3
    // differ hold the non-zero digits; x3 tells +1, xh tells -1.
    let x = x as u128;
    let xh = x >> 1;
    let x3 = x + xh;
    let c = xh ^ x3;
    ((x3 & c) as u64, (xh & c) as u64)
}

/// Encode `w` as a `bits`-bit weight. The caller guarantees |w| <= 2^(bits-1)-1 (symmetric
/// quantization never produces -2^(bits-1)); for `Tc` any value in range of `bits` works.
pub fn encode(w: i64, bits: u32, enc: Encoding) -> Digits {
    debug_assert!((2..=32).contains(&bits));
    match enc {
        Encoding::Sm => {
            let m = w.unsigned_abs();
            Digits {
                nonzero: m,
                negative: if w < 0 { m } else { 0 },
            }
        }
        Encoding::Csd => {
            let (p, n) = naf(w.unsigned_abs());
            if w < 0 {
                Digits {
                    nonzero: p | n,
                    negative: p,
                }
            } else {
                Digits {
                    nonzero: p | n,
                    negative: n,
                }
            }
        }
        Encoding::Tc => {
            let mask = if bits == 64 {
                u64::MAX
            } else {
                (1u64 << bits) - 1
            };
            let p = (w as u64) & mask;
            Digits {
                nonzero: p,
                negative: p & (1u64 << (bits - 1)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_round_trips_exhaustively_up_to_12_bits() {
        for bits in 2..=12u32 {
            let m = max_magnitude(bits);
            for w in -m..=m {
                for enc in [Encoding::Sm, Encoding::Csd, Encoding::Tc] {
                    let d = encode(w, bits, enc);
                    assert_eq!(d.value(), w as i128, "w={w} bits={bits} enc={enc}");
                    assert_eq!(d.negative & !d.nonzero, 0);
                    assert!(
                        d.nonzero < (1u64 << enc.lanes(bits)),
                        "w={w} bits={bits} {enc}"
                    );
                }
            }
        }
    }

    #[test]
    fn csd_is_non_adjacent_and_never_denser_than_binary() {
        for x in 0..(1u64 << 14) {
            let (p, n) = naf(x);
            let nz = p | n;
            assert_eq!(p & n, 0);
            assert_eq!(nz & (nz >> 1), 0, "adjacent digits in NAF({x})");
            assert!(nz.count_ones() <= x.count_ones());
        }
    }
}
