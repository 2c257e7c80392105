//! Row kernels of the built-in multipliers for the exhaustive sweep (`super::sweep`): the same
//! products as `Multiplier::eval` (checked pair by pair in the tests below), computed with the
//! work that depends on `a` alone hoisted out of the loop over b, and within a segment of b
//! (one bit length of |b|) with constant shifts, so that the loop over b vectorizes.
//!
//! Signed multipliers: the sign-magnitude wrapper of `models.rs`: the core on |a| and |b|,
//! negated when exactly one operand is negative.

use super::models::Multiplier;
use super::spec::MultKind;
use super::sweep::{RowKernel, Segment};

/// |b| of patterns b0, b0 + 1, ... of a segment: (first magnitude, step).
#[inline(always)]
fn magnitudes(seg: &Segment, b0: u32, width: u32) -> (i64, i64) {
    if seg.neg {
        ((1i64 << width) - b0 as i64, -1)
    } else {
        (b0 as i64, 1)
    }
}

/// -1 when the product of the row's operand and the segment's operands is negative, else 1.
#[inline(always)]
fn product_sign(a_neg: bool, seg: &Segment) -> i64 {
    if a_neg != seg.neg {
        -1
    } else {
        1
    }
}

/// |a| and its sign for pattern a.
fn magnitude_of(m: &Multiplier, a: u32) -> (u32, bool) {
    let v = m.operand_value(a);
    (v.unsigned_abs() as u32, v < 0)
}

/// DRUM(k): the row's mantissa and shift are fixed; within a segment so is b's shift.
pub struct DrumKernel {
    m: Multiplier,
    k: u32,
}

pub struct DrumRow {
    mant: u64,
    shift: u32,
    neg: bool,
}

impl RowKernel for DrumKernel {
    type Row = DrumRow;
    fn row(&self, a: u32) -> DrumRow {
        let (x, neg) = magnitude_of(&self.m, a);
        let (mant, shift) = if x >> self.k == 0 {
            (x as u64, 0)
        } else {
            let s = 32 - x.leading_zeros() - self.k;
            (((x >> s) | 1) as u64, s)
        };
        DrumRow { mant, shift, neg }
    }
    #[inline(always)]
    fn fill(&self, row: &DrumRow, seg: &Segment, b0: u32, out: &mut [i64]) {
        // b's bit length is seg.lb: operands longer than k keep k bits, the lowest set to 1.
        let sb = seg.lb.saturating_sub(self.k);
        let force_one = (seg.lb > self.k) as u64;
        let shift = row.shift + sb;
        let (m0, step) = magnitudes(seg, b0, self.m.width);
        let sign = product_sign(row.neg, seg);
        for (i, o) in out.iter_mut().enumerate() {
            let mb = (m0 + step * i as i64) as u64;
            *o = sign * (((row.mant * ((mb >> sb) | force_one)) << shift) as i64);
        }
    }
}

/// Mitchell: the row's characteristic and fraction are fixed; within a segment so is b's
/// characteristic (lb - 1), so the fraction shift and the antilog shift are constants.
pub struct MitchellKernel {
    m: Multiplier,
}

pub struct MitchellRow {
    zero: bool,
    k1: u32,
    f1: u64,
    neg: bool,
}

impl RowKernel for MitchellKernel {
    type Row = MitchellRow;
    fn row(&self, a: u32) -> MitchellRow {
        let n = self.m.width;
        let (x, neg) = magnitude_of(&self.m, a);
        if x == 0 {
            return MitchellRow {
                zero: true,
                k1: 0,
                f1: 0,
                neg,
            };
        }
        let k1 = 31 - x.leading_zeros();
        let f1 = ((x as u64) << (n - 1 - k1)) & ((1u64 << (n - 1)) - 1);
        MitchellRow {
            zero: false,
            k1,
            f1,
            neg,
        }
    }
    #[inline(always)]
    fn fill(&self, row: &MitchellRow, seg: &Segment, b0: u32, out: &mut [i64]) {
        if row.zero || seg.lb == 0 {
            out.fill(0);
            return;
        }
        let n = self.m.width;
        let k2 = seg.lb - 1;
        let frac_shift = n - 1 - k2;
        let fmask = (1u64 << (n - 1)) - 1;
        let half = 1u64 << (n - 1);
        // floor(mant 2^(k1+k2) / 2^(n-1)); mant < 2^(n+1), so mant << (k1+k2) < 2^(3n-1).
        let e = row.k1 + k2;
        let (m0, step) = magnitudes(seg, b0, n);
        let sign = product_sign(row.neg, seg);
        for (i, o) in out.iter_mut().enumerate() {
            let mb = (m0 + step * i as i64) as u64;
            let s = row.f1 + ((mb << frac_shift) & fmask);
            let mant = if s < half { half + s } else { 2 * s };
            *o = sign * (((mant << e) >> (n - 1)) as i64);
        }
    }
}

/// Multipliers whose product, for a fixed a, is a sum over the bits of b (exact, truncated,
/// broken-array: one partial-product row per bit; Kulkarni: one term per 2-bit digit): the
/// row's products for the low and the high byte of |b| are tabulated once per row, and each
/// pair is two table reads and an add.
pub struct SeparableKernel {
    m: Multiplier,
}

pub struct SeparableRow {
    lo: [u64; 256],
    hi: [u64; 256],
    neg: bool,
}

impl RowKernel for SeparableKernel {
    type Row = SeparableRow;
    fn row(&self, a: u32) -> SeparableRow {
        let (x, neg) = magnitude_of(&self.m, a);
        let mut lo = [0u64; 256];
        let mut hi = [0u64; 256];
        for d in 0..256u32 {
            lo[d as usize] = self.m.core(x, d);
        }
        if self.m.width > 8 {
            let base = self.m.core(x, 0); // the correction constant, counted in `lo`
            for d in 0..256u32 {
                hi[d as usize] = self.m.core(x, d << 8) - base;
            }
        }
        SeparableRow { lo, hi, neg }
    }
    #[inline(always)]
    fn fill(&self, row: &SeparableRow, seg: &Segment, b0: u32, out: &mut [i64]) {
        let (m0, step) = magnitudes(seg, b0, self.m.width);
        let sign = product_sign(row.neg, seg);
        for (i, o) in out.iter_mut().enumerate() {
            let mb = (m0 + step * i as i64) as usize;
            *o = sign * (row.lo[mb & 255] + row.hi[(mb >> 8) & 255]) as i64;
        }
    }
}

/// The row kernel of a built-in multiplier, handed to `f`.
pub fn with_kernel<R>(m: &Multiplier, f: impl KernelUser<R>) -> R {
    match m.kind {
        MultKind::Drum { k } => f.run(&DrumKernel { m: m.clone(), k }),
        MultKind::Mitchell => f.run(&MitchellKernel { m: m.clone() }),
        MultKind::Exact | MultKind::Trunc { .. } | MultKind::Bam { .. } | MultKind::Kulkarni => {
            f.run(&SeparableKernel { m: m.clone() })
        }
    }
}

/// Something generic over the kernel type (a closure cannot be).
pub trait KernelUser<R> {
    fn run<K: RowKernel>(self, k: &K) -> R;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::{segments, Operands};

    struct Check<'a>(&'a Multiplier);
    impl KernelUser<()> for Check<'_> {
        fn run<K: RowKernel>(self, k: &K) {
            let m = self.0;
            let ops = Operands {
                width: m.width,
                signed: m.signed,
            };
            let mut out = vec![0i64; 1 << m.width];
            for a in 0..1u32 << m.width {
                let row = k.row(a);
                for seg in segments(ops) {
                    let out = &mut out[..seg.len as usize];
                    k.fill(&row, &seg, seg.b0, out);
                    for (i, &p) in out.iter().enumerate() {
                        let b = seg.b0 + i as u32;
                        assert_eq!(p, m.eval(a, b), "{} {} a={a} b={b}", m.kind, m.width);
                    }
                }
            }
        }
    }

    #[test]
    fn kernels_equal_the_models_on_every_pair() {
        let specs = [
            "exact",
            "trunc:t=5",
            "trunc:t=9,corr",
            "bam:hbl=2,vbl=6",
            "drum:k=2",
            "drum:k=3",
            "drum:k=5",
            "mitchell",
            "kulkarni",
        ];
        for width in [5, 6, 9] {
            for signed in [false, true] {
                for spec in specs {
                    let m = Multiplier::from_spec(spec, width, signed).unwrap();
                    with_kernel(&m, Check(&m));
                }
            }
        }
    }
}
