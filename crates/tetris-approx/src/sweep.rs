//! The exhaustive sweep: every operand pair of an n-bit multiplier and every figure of the
//! profile (exact integer sums, both histograms, the by-magnitude table), several times faster
//! than a plain per-pair loop (`cargo bench --bench noise` times it against a C program of that
//! loop, docs/noise-profile.md).
//!
//! How:
//! - The b patterns of a row are cut into [`Segment`]s: contiguous patterns whose values share
//!   a sign and the bit length of |b|. Within a segment the by-magnitude cell is fixed, the
//!   exact products have one sign and the models' operand shifts are constants, so a
//!   [`RowKernel`] fills a chunk of products in a straight loop (work that depends on `a` only
//!   is done once per row by [`RowKernel::row`]) and `chunk_pass` computes the errors and
//!   their sums in another; the compiler vectorizes both (floating-point sums are kept in lane
//!   arrays because it may not reorder one running sum).
//! - No division per pair: r = e * (1/a) * (1/b) from a table of reciprocals, and the relative
//!   bin floor(100 e / exact) is made exact by one product (see `chunk_pass`).
//! - Both histograms are one joint table of (error bin, relative bin) per worker, counted in
//!   interleaved copies so that a run of pairs in one bin does not wait on its own increments.
//! - A chunk keeps its sums in 64-bit lanes; a chunk with some |e| >= 2^32 (large truncation
//!   corrections, wide netlist outputs) is redone pair by pair in 128-bit arithmetic.
//! - Rows go in fixed blocks whose results are merged in block order, so that even the
//!   floating-point sums are the same whatever the number of threads.
//! - The row loop is compiled three times (AVX-512, AVX2, baseline x86-64) and the best one the
//!   CPU supports is picked at run time; all three give bit-identical results.

use super::metrics::{bit_len, Acc, CellSums, ERR_LOG_BINS, REL_BINS};
use indicatif::ProgressBar;
use rayon::prelude::*;

/// Operand interpretation shared by models and third-party netlists.
#[derive(Debug, Clone, Copy)]
pub struct Operands {
    pub width: u32,
    pub signed: bool,
}

impl Operands {
    /// Value of an n-bit operand pattern (two's complement when signed).
    #[inline(always)]
    pub fn value(&self, x: u32) -> i64 {
        if self.signed {
            let sh = 64 - self.width;
            ((x as i64) << sh) >> sh
        } else {
            x as i64
        }
    }
}

/// A run of consecutive b patterns whose values share a sign and the bit length of |value|.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// First pattern.
    pub b0: u32,
    pub len: u32,
    /// The values are negative (two's-complement patterns of a signed operand).
    pub neg: bool,
    /// Bit length of |value| (0 for the zero operand).
    pub lb: u32,
}

impl Segment {
    /// Value of the first pattern; within a segment the value grows by one with the pattern.
    #[inline(always)]
    pub fn value0(&self, width: u32) -> i64 {
        if self.neg {
            self.b0 as i64 - (1i64 << width)
        } else {
            self.b0 as i64
        }
    }
}

/// The segments of all n-bit patterns, in pattern order.
pub fn segments(ops: Operands) -> Vec<Segment> {
    let n = ops.width;
    let mut v = vec![Segment {
        b0: 0,
        len: 1,
        neg: false,
        lb: 0,
    }];
    let positive_bits = if ops.signed { n - 1 } else { n };
    for k in 1..=positive_bits {
        v.push(Segment {
            b0: 1 << (k - 1),
            len: 1 << (k - 1),
            neg: false,
            lb: k,
        });
    }
    if ops.signed {
        // -2^(n-1) (pattern 2^(n-1)), then values -(2^k - 1) ..= -2^(k-1) for k = n-1 .. 1.
        v.push(Segment {
            b0: 1 << (n - 1),
            len: 1,
            neg: true,
            lb: n,
        });
        for k in (1..n).rev() {
            v.push(Segment {
                b0: (1 << n) - (1 << k) + 1,
                len: 1 << (k - 1),
                neg: true,
                lb: k,
            });
        }
    }
    v
}

/// Products of one row (operand pattern `a`) with runs of b patterns.
pub trait RowKernel: Sync {
    /// What the products of row `a` need that does not depend on b.
    type Row;
    fn row(&self, a: u32) -> Self::Row;
    /// `out[i]` = the product value of the row's `a` and pattern `b0 + i`; all these patterns
    /// lie in `seg`. Implementations are `#[inline(always)]` so that they are compiled into
    /// each instruction-set version of the row loop.
    fn fill(&self, row: &Self::Row, seg: &Segment, b0: u32, out: &mut [i64]);
}

/// Pairs per chunk: its products, errors and bin indices stay in the L1 cache.
const CHUNK: usize = 1024;
/// Slots of the relative histogram in the joint table: its REL_BINS + 2 bins, then one for
/// the pairs whose exact product is 0 (no relative error).
const REL_SLOTS: usize = REL_BINS + 3;
const NO_REL: usize = REL_BINS + 2;
const ERR_SLOTS: usize = 2 * ERR_LOG_BINS + 1;
const JOINT: usize = ERR_SLOTS * REL_SLOTS;
/// Interleaved copies of the joint histogram (pair i counts in copy i % COPIES).
const COPIES: usize = 4;
/// Lanes of the vectorized sums.
const LANES: usize = 8;

/// Per-worker buffers.
struct Scratch {
    p: Vec<i64>,
    e: Vec<i64>,
    r: Vec<f64>,
    idx: Vec<u16>,
    /// COPIES joint histograms, u32 counts (a block holds at most 2^22 pairs).
    hist: Vec<u32>,
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            p: vec![0; CHUNK],
            e: vec![0; CHUNK],
            r: vec![0.0; CHUNK],
            idx: vec![0; CHUNK],
            hist: vec![0; COPIES * JOINT],
        }
    }

    /// Move the joint histogram counts into `acc` and clear them.
    fn flush(&mut self, acc: &mut Acc) {
        for copy in self.hist.chunks_exact_mut(JOINT) {
            for (j, c) in copy.iter_mut().enumerate() {
                if *c != 0 {
                    acc.err_hist[j / REL_SLOTS] += *c as u64;
                    let r = j % REL_SLOTS;
                    if r != NO_REL {
                        acc.rel_hist[r] += *c as u64;
                    }
                    *c = 0;
                }
            }
        }
    }
}

/// What one chunk adds up (sums of its lanes).
#[derive(Debug, Clone, Copy, Default)]
struct ChunkSums {
    sum_e: i64,
    sum_abs: u64,
    /// Sum of e^2 as (high 32 bits, low 32 bits) of each square: exact while |e| < 2^32.
    sq_hi: u64,
    sq_lo: u64,
    nonzero: u64,
    max_ae: u64,
    sum_r: f64,
    sum_ar: f64,
    sum_r2: f64,
    max_ar: f64,
}

/// Errors, sums and joint-histogram slots of one chunk: pattern values vb0, vb0 + 1, ... against
/// `va`, products `p`, reciprocals `inv_b` of the b values. `sx` is the sign of the exact
/// products (one per segment). Writes e into `e_out`, the relative errors into `r_out` and the
/// joint slots into `idx`.
///
/// The passes are simple loops, each of which the compiler vectorizes (one loop doing all of it
/// would stay scalar); floating-point sums run in LANES separate sums added in a fixed order.
///
/// Relative bin: q = floor(100 r) from r = e * inv_a * inv_b, whose rounding error is a few
/// ulps. A non-integer 100 e / exact lies at least 1/|exact| >= 2^-32 from the next integer, far
/// more than those ulps, so the floor is right unless the quotient is an integer the rounding
/// put just below: then (q + 1) |exact| == 100 e' (e' = e sign(exact)), checked exactly (both
/// sides are integers below 2^53). Valid while |e| < 2^32, which the caller checks.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn chunk_pass<const REL: bool>(
    va: i64,
    vb0: i64,
    inv_a: f64,
    sx: f64,
    p: &[i64],
    inv_b: &[f64],
    e_out: &mut [i64],
    r_out: &mut [f64],
    idx: &mut [u16],
) -> ChunkSums {
    let mut s = ChunkSums::default();
    // |va|, |vb| <= 2^16: a 32 x 32 -> 64-bit product (one instruction on every level).
    let (va32, vb32) = (va as i32, vb0 as i32);
    for (i, (e, &p)) in e_out.iter_mut().zip(p).enumerate() {
        let x = va32 as i64 * (vb32 + i as i32) as i64;
        *e = p.wrapping_sub(x);
        let ae = e.unsigned_abs();
        s.sum_e = s.sum_e.wrapping_add(*e);
        s.sum_abs = s.sum_abs.wrapping_add(ae);
        let sq = ae.wrapping_mul(ae);
        s.sq_hi = s.sq_hi.wrapping_add(sq >> 32);
        s.sq_lo = s.sq_lo.wrapping_add(sq & 0xffff_ffff);
        s.nonzero += (*e != 0) as u64;
        s.max_ae = s.max_ae.max(ae);
    }
    for (slot, &e) in idx.iter_mut().zip(e_out.iter()) {
        // Bit length of |e| from the exponent of the (exact) double: 0 for e == 0.
        let k =
            ((((e as f64).to_bits() >> 52) & 0x7ff) as i64 - 1022).clamp(0, ERR_LOG_BINS as i64);
        let err_slot = if e < 0 {
            ERR_LOG_BINS as i64 - k
        } else {
            ERR_LOG_BINS as i64 + k
        };
        *slot = (err_slot * REL_SLOTS as i64) as u16 + if REL { 0 } else { NO_REL as u16 };
    }
    if !REL {
        return s;
    }
    for ((r, &e), &ib) in r_out.iter_mut().zip(e_out.iter()).zip(inv_b) {
        *r = e as f64 * (inv_a * ib);
    }
    let mut sum_r = [0f64; LANES];
    let mut sum_ar = [0f64; LANES];
    let mut sum_r2 = [0f64; LANES];
    let mut max_ar = [0f64; LANES];
    let lanes = r_out.chunks_exact(LANES);
    let tail = lanes.remainder();
    for c in lanes {
        for j in 0..LANES {
            sum_r[j] += c[j];
            sum_ar[j] += c[j].abs();
            sum_r2[j] += c[j] * c[j];
            let ar = c[j].abs();
            max_ar[j] = if ar > max_ar[j] { ar } else { max_ar[j] };
        }
    }
    for &r in tail {
        sum_r[0] += r;
        sum_ar[0] += r.abs();
        sum_r2[0] += r * r;
        max_ar[0] = if r.abs() > max_ar[0] {
            r.abs()
        } else {
            max_ar[0]
        };
    }
    for j in 0..LANES {
        s.sum_r += sum_r[j];
        s.sum_ar += sum_ar[j];
        s.sum_r2 += sum_r2[j];
        s.max_ar = s.max_ar.max(max_ar[j]);
    }
    // Rounds to an integer by adding and subtracting 1.5 * 2^52 (round to nearest), so that
    // no conversion instruction (nor a libm floor on baseline x86-64) is needed.
    const ROUND: f64 = 6755399441055744.0;
    for (i, ((slot, &r), &e)) in idx
        .iter_mut()
        .zip(r_out.iter())
        .zip(e_out.iter())
        .enumerate()
    {
        let x = (va32 as i64 * (vb32 + i as i32) as i64) as f64;
        // Bins beyond +-1000 % are all under/overflow: clamping keeps every step exact.
        let h = (100.0 * r).clamp(-1000.0, 1000.0);
        let near = (h + ROUND) - ROUND;
        let mut q = if near > h { near - 1.0 } else { near };
        if (q + 1.0) * (x * sx) <= 100.0 * e as f64 * sx {
            q += 1.0;
        }
        let bin = (q + (REL_BINS / 2 + 1) as f64).clamp(0.0, (REL_BINS + 1) as f64);
        // bin + 2^52 holds the integer bin in its low mantissa bits.
        *slot += ((bin + 4503599627370496.0).to_bits() as u16) & 0xff;
    }
    s
}

/// Read-only inputs of the row loop.
struct Ctx {
    ops: Operands,
    segs: Vec<Segment>,
    /// 1 / value of every pattern (0 for the zero operand).
    inv: Vec<f64>,
}

impl Ctx {
    fn new(ops: Operands) -> Ctx {
        Ctx {
            ops,
            segs: segments(ops),
            inv: reciprocals(ops),
        }
    }
}

/// One row: all b patterns against pattern `a`.
#[inline(always)]
fn sweep_row<K: RowKernel>(c: &Ctx, kernel: &K, a: u32, s: &mut Scratch, acc: &mut Acc) {
    let n = c.ops.width;
    let va = c.ops.value(a);
    let la = bit_len(va.unsigned_abs());
    let inv_a = c.inv[a as usize];
    let row = kernel.row(a);
    for seg in &c.segs {
        let rel = va != 0 && seg.lb != 0;
        let sx = if (va < 0) != seg.neg { -1.0 } else { 1.0 };
        let mut sums = CellSums::default();
        let mut off = 0u32;
        while off < seg.len {
            let len = ((seg.len - off) as usize).min(CHUNK);
            let b0 = seg.b0 + off;
            let vb0 = seg.value0(n) + off as i64;
            let p = &mut s.p[..len];
            kernel.fill(&row, seg, b0, p);
            let inv_b = &c.inv[b0 as usize..b0 as usize + len];
            let (e, r, idx) = (&mut s.e[..len], &mut s.r[..len], &mut s.idx[..len]);
            let ch = if rel {
                chunk_pass::<true>(va, vb0, inv_a, sx, p, inv_b, e, r, idx)
            } else {
                chunk_pass::<false>(va, vb0, inv_a, sx, p, inv_b, e, r, idx)
            };
            off += len as u32;
            if ch.max_ae >= 1 << 32 {
                for (i, &approx) in p.iter().enumerate() {
                    let pair = (a, b0 + i as u32);
                    acc.add_pair(pair, la, seg.lb as usize, va * (vb0 + i as i64), approx);
                }
                continue;
            }
            for (i, &slot) in idx.iter().enumerate() {
                s.hist[(i % COPIES) * JOINT + slot as usize] += 1;
            }
            sums.cell.count += len as u64;
            sums.cell.sum_err += ch.sum_e as i128;
            sums.cell.sum_abs += ch.sum_abs as u128;
            sums.cell.sum_sq += ((ch.sq_hi as u128) << 32) + ch.sq_lo as u128;
            sums.err_count += ch.nonzero;
            if ch.max_ae >= acc.max_abs {
                if let Some(i) = e.iter().position(|x| x.unsigned_abs() == ch.max_ae) {
                    acc.offer_abs(ch.max_ae, (a, b0 + i as u32));
                }
            }
            if rel {
                sums.cell.rel_count += len as u64;
                sums.cell.sum_abs_rel += ch.sum_ar;
                sums.sum_rel += ch.sum_r;
                sums.sum_sq_rel += ch.sum_r2;
                let best = acc.max_rel.0 as f64 / acc.max_rel.1 as f64;
                if ch.max_ar >= best * (1.0 - 1e-9) {
                    // Candidates for the worst relative error, compared exactly.
                    let cut = ch.max_ar * (1.0 - 1e-9);
                    for (i, (&ei, &ri)) in e.iter().zip(r.iter()).enumerate() {
                        if ri.abs() >= cut {
                            let x = va * (vb0 + i as i64);
                            acc.offer_rel(ei.unsigned_abs(), x.unsigned_abs(), (a, b0 + i as u32));
                        }
                    }
                }
            }
        }
        acc.add_cell(la, seg.lb as usize, &sums);
    }
}

#[inline(always)]
fn sweep_rows<K: RowKernel>(
    c: &Ctx,
    k: &K,
    rows: std::ops::Range<u32>,
    s: &mut Scratch,
    acc: &mut Acc,
) {
    for a in rows {
        sweep_row(c, k, a, s, acc);
    }
}

/// Instruction sets the row loop is compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    Avx512,
    Avx2,
    Baseline,
}

impl Isa {
    /// The best one this CPU runs.
    pub fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && std::arch::is_x86_feature_detected!("avx512vl")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Isa::Avx2;
            }
        }
        Isa::Baseline
    }

    /// The versions this CPU can run (for tests that compare them).
    pub fn available() -> Vec<Isa> {
        match Isa::detect() {
            Isa::Avx512 => vec![Isa::Avx512, Isa::Avx2, Isa::Baseline],
            Isa::Avx2 => vec![Isa::Avx2, Isa::Baseline],
            Isa::Baseline => vec![Isa::Baseline],
        }
    }

    fn sweep_rows<K: RowKernel>(
        self,
        c: &Ctx,
        k: &K,
        rows: std::ops::Range<u32>,
        s: &mut Scratch,
        acc: &mut Acc,
    ) {
        match self {
            // SAFETY: `detect` found these instruction-set extensions on this CPU.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { rows_avx512(c, k, rows, s, acc) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { rows_avx2(c, k, rows, s, acc) },
            _ => sweep_rows(c, k, rows, s, acc),
        }
    }
}

/// [`sweep_rows`] compiled for one instruction set (the same code; the compiler vectorizes it
/// for the features named).
macro_rules! rows_for_isa {
    ($name:ident, $features:literal) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        fn $name<K: RowKernel>(
            c: &Ctx,
            k: &K,
            rows: std::ops::Range<u32>,
            s: &mut Scratch,
            acc: &mut Acc,
        ) {
            sweep_rows(c, k, rows, s, acc)
        }
    };
}

rows_for_isa!(
    rows_avx512,
    "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma,bmi1,bmi2,lzcnt,popcnt"
);
rows_for_isa!(rows_avx2, "avx2,fma,bmi1,bmi2,lzcnt,popcnt");

/// Rows per block: about 2^22 pairs (one progress step, one partial result).
pub fn block_rows(width: u32) -> u32 {
    ((1u32 << 22) >> width).clamp(1, 1 << width)
}

/// Every pair of n-bit patterns through `kernel`, on the best instruction set of this CPU.
pub fn exhaustive<K: RowKernel>(ops: Operands, kernel: &K, pb: &ProgressBar) -> Acc {
    exhaustive_on(Isa::detect(), ops, kernel, pb)
}

/// 1 / value of every n-bit pattern (0 for the zero operand).
fn reciprocals(ops: Operands) -> Vec<f64> {
    (0..1u32 << ops.width)
        .map(|b| match ops.value(b) {
            0 => 0.0,
            v => 1.0 / v as f64,
        })
        .collect()
}

/// [`exhaustive`] on a chosen instruction set (which the CPU must support: see
/// [`Isa::available`]). Blocks of [`block_rows`] rows run in parallel and are merged in order.
pub fn exhaustive_on<K: RowKernel>(isa: Isa, ops: Operands, kernel: &K, pb: &ProgressBar) -> Acc {
    let ctx = Ctx::new(ops);
    let per_block = block_rows(ops.width);
    let acc = ordered_reduce(
        ((1u32 << ops.width) / per_block) as u64,
        ops.width,
        Scratch::new,
        |s, blk| {
            let a0 = blk as u32 * per_block;
            let acc = block(isa, &ctx, kernel, a0..a0 + per_block, s);
            pb.inc(per_block as u64);
            acc
        },
    );
    pb.finish_and_clear();
    acc
}

fn block<K: RowKernel>(
    isa: Isa,
    ctx: &Ctx,
    kernel: &K,
    rows: std::ops::Range<u32>,
    s: &mut Scratch,
) -> Acc {
    let mut acc = Acc::new(ctx.ops.width);
    isa.sweep_rows(ctx, kernel, rows, s, &mut acc);
    s.flush(&mut acc);
    acc
}

/// The figures of rows `rows` alone: one block of [`exhaustive`], for products that arrive
/// block by block (a netlist's streamed sweep). Merging the blocks of [`block_rows`] rows in
/// order gives exactly what [`exhaustive`] gives for the same products.
pub fn exhaustive_rows<K: RowKernel>(ops: Operands, kernel: &K, rows: std::ops::Range<u32>) -> Acc {
    let ctx = Ctx::new(ops);
    block(Isa::detect(), &ctx, kernel, rows, &mut Scratch::new())
}

/// Blocks 0..blocks through `f` in parallel, merged in block order (so floating-point sums do
/// not depend on the number of threads), a bounded number at a time (memory stays bounded
/// however many blocks there are).
pub fn ordered_reduce<S, I, F>(blocks: u64, width: u32, init: I, f: F) -> Acc
where
    I: Fn() -> S + Sync + Send,
    F: Fn(&mut S, u64) -> Acc + Sync + Send,
{
    const GROUP: u64 = 256;
    let mut total = Acc::new(width);
    let mut start = 0;
    while start < blocks {
        let end = (start + GROUP).min(blocks);
        let parts: Vec<Acc> = (start..end).into_par_iter().map_init(&init, &f).collect();
        for p in parts {
            total = total.merge(p);
        }
        start = end;
    }
    total
}

/// Products from a function of the operand patterns, one call per pair (the timing model,
/// anything without a row kernel of its own).
pub struct FnKernel<F>(pub F);

impl<F: Fn(u32, u32) -> i64 + Sync> RowKernel for FnKernel<F> {
    type Row = u32;
    fn row(&self, a: u32) -> u32 {
        a
    }
    #[inline(always)]
    fn fill(&self, a: &u32, _seg: &Segment, b0: u32, out: &mut [i64]) {
        for (i, o) in out.iter_mut().enumerate() {
            *o = (self.0)(*a, b0 + i as u32);
        }
    }
}

/// Products from a table of rows `first_row..`: entry ((a - first_row) << n) | b (a netlist's
/// sweep, whole or one block of rows).
pub struct TableKernel<'a> {
    pub width: u32,
    pub first_row: u32,
    pub table: &'a [i64],
}

impl RowKernel for TableKernel<'_> {
    type Row = usize;
    fn row(&self, a: u32) -> usize {
        ((a - self.first_row) as usize) << self.width
    }
    #[inline(always)]
    fn fill(&self, base: &usize, _seg: &Segment, b0: u32, out: &mut [i64]) {
        let start = base + b0 as usize;
        out.copy_from_slice(&self.table[start..start + out.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cover_every_pattern_once_in_order() {
        for width in [2, 3, 5, 8] {
            for signed in [false, true] {
                let ops = Operands { width, signed };
                let segs = segments(ops);
                let mut next = 0u32;
                for s in &segs {
                    assert_eq!(s.b0, next, "{width} {signed} {segs:?}");
                    for i in 0..s.len {
                        let v = ops.value(s.b0 + i);
                        assert_eq!(v, s.value0(width) + i as i64);
                        assert_eq!(bit_len(v.unsigned_abs()), s.lb as usize);
                        assert_eq!(v < 0, s.neg);
                    }
                    next += s.len;
                }
                assert_eq!(next, 1 << width);
            }
        }
    }
}
