//! Sweeps of a multiplier's operand space: exhaustive (every pair, `super::sweep`) or seeded
//! uniform samples, streamed in blocks so that memory stays bounded for any sample count.

use super::kernels::{with_kernel, KernelUser};
use super::metrics::{bit_len, Acc};
use super::models::Multiplier;
pub use super::sweep::Operands;
use super::sweep::{exhaustive, ordered_reduce, FnKernel, RowKernel, TableKernel};
use indicatif::ProgressBar;
use tetris_core::model::rng::SplitMix64;

/// How the operand space is covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Exhaustive,
    Samples { count: u64, seed: u64 },
}

impl Method {
    pub fn is_exhaustive(&self) -> bool {
        matches!(self, Method::Exhaustive)
    }
}

/// A progress bar on stderr over `steps` for sweeps of at least 2^24 pairs (hidden otherwise).
pub fn progress(steps: u64, pairs: u64, label: &str) -> ProgressBar {
    let pb = tetris_core::progress::bar(
        pairs >= 1 << 24,
        steps,
        "{msg} [{bar:40}] {percent}% {elapsed_precise} (eta {eta})",
    );
    pb.set_message(label.to_string());
    pb
}

/// Samples per block of a sampled sweep (one partial result, one progress step).
pub const SAMPLE_BLOCK: u64 = 1 << 16;

/// Keeps the sample stream apart from other users of the generator ("noise!").
const SAMPLE_STREAM: u64 = 0x6e6f_6973_6521;
/// Increment of SplitMix64's state per output.
const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// Pair `i` of the seeded uniform sample of n-bit operand patterns. SplitMix64 is
/// counter-based (its state after i steps is seed + i * gamma), so any block of the sample is
/// generated without the ones before it; the Verilator harness generates the same pairs.
pub fn sample_pair(width: u32, seed: u64, i: u64) -> (u32, u32) {
    let mask = (1u64 << width) - 1;
    let state = (seed ^ SAMPLE_STREAM).wrapping_add(i.wrapping_mul(GOLDEN_GAMMA));
    let x = SplitMix64(state).next_u64();
    ((x & mask) as u32, ((x >> 32) & mask) as u32)
}

/// The first `count` pairs of the sample (tests and small runs).
pub fn sample_pairs(width: u32, count: u64, seed: u64) -> Vec<(u32, u32)> {
    (0..count).map(|i| sample_pair(width, seed, i)).collect()
}

/// One block of samples, starting at sample `start`, with `products[i]` the product of
/// sample `start + i`.
fn sample_block(ops: Operands, seed: u64, start: u64, products: &[i64]) -> Acc {
    let mut acc = Acc::new(ops.width);
    for (i, &p) in products.iter().enumerate() {
        let (a, b) = sample_pair(ops.width, seed, start + i as u64);
        let (va, vb) = (ops.value(a), ops.value(b));
        let (la, lb) = (bit_len(va.unsigned_abs()), bit_len(vb.unsigned_abs()));
        acc.add_pair((a, b), la, lb, va * vb, p);
    }
    acc
}

fn sample_blocks(count: u64) -> u64 {
    count.div_ceil(SAMPLE_BLOCK)
}

fn block_len(count: u64, blk: u64) -> usize {
    (count - blk * SAMPLE_BLOCK).min(SAMPLE_BLOCK) as usize
}

/// `count` seeded uniform pairs through `approx(a, b)`: blocks in parallel, merged in order.
pub fn sampled<F>(ops: Operands, count: u64, seed: u64, approx: F, pb: &ProgressBar) -> Acc
where
    F: Fn(u32, u32) -> i64 + Sync,
{
    let acc = ordered_reduce(
        sample_blocks(count),
        ops.width,
        || vec![0i64; SAMPLE_BLOCK as usize],
        |buf, blk| {
            let start = blk * SAMPLE_BLOCK;
            let out = &mut buf[..block_len(count, blk)];
            for (i, o) in out.iter_mut().enumerate() {
                let (a, b) = sample_pair(ops.width, seed, start + i as u64);
                *o = approx(a, b);
            }
            pb.inc(1);
            sample_block(ops, seed, start, out)
        },
    );
    pb.finish_and_clear();
    acc
}

/// The same accumulation as [`sampled`] for products computed elsewhere (a netlist's sweep
/// harness), pushed in sample order in blocks of SAMPLE_BLOCK (the last one shorter): the
/// same figures for the same products, in bounded memory.
pub struct SampleAccumulator {
    ops: Operands,
    seed: u64,
    next: u64,
    total: Acc,
}

impl SampleAccumulator {
    pub fn new(ops: Operands, seed: u64) -> Self {
        SampleAccumulator {
            ops,
            seed,
            next: 0,
            total: Acc::new(ops.width),
        }
    }

    /// The products of the next samples.
    pub fn push(&mut self, products: &[i64]) {
        let block = sample_block(self.ops, self.seed, self.next, products);
        self.total = std::mem::replace(&mut self.total, Acc::new(self.ops.width)).merge(block);
        self.next += products.len() as u64;
    }

    pub fn finish(self) -> Acc {
        self.total
    }
}

/// Progress bar of a sweep by `method` (hidden unless `show`).
fn progress_for(ops: Operands, method: Method, label: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    match method {
        Method::Exhaustive => progress(1 << ops.width, 1 << (2 * ops.width), label),
        Method::Samples { count, .. } => progress(sample_blocks(count), count, label),
    }
}

struct Exhaustive<'a>(Operands, &'a ProgressBar);
impl KernelUser<Acc> for Exhaustive<'_> {
    fn run<K: RowKernel>(self, k: &K) -> Acc {
        exhaustive(self.0, k, self.1)
    }
}

/// Characterize a built-in model by `method`.
pub fn characterize_model(m: &Multiplier, method: Method, show_progress: bool) -> Acc {
    let ops = Operands {
        width: m.width,
        signed: m.signed,
    };
    let label = format!("{} {}-bit", m.kind, m.width);
    let pb = progress_for(ops, method, &label, show_progress);
    match method {
        Method::Exhaustive => with_kernel(m, Exhaustive(ops, &pb)),
        Method::Samples { count, seed } => sampled(ops, count, seed, |a, b| m.eval(a, b), &pb),
    }
}

/// Characterize any product function of operand patterns by `method`.
pub fn characterize_fn<F>(
    ops: Operands,
    method: Method,
    label: &str,
    show_progress: bool,
    f: F,
) -> Acc
where
    F: Fn(u32, u32) -> i64 + Sync,
{
    let pb = progress_for(ops, method, label, show_progress);
    match method {
        Method::Exhaustive => exhaustive(ops, &FnKernel(f), &pb),
        Method::Samples { count, seed } => sampled(ops, count, seed, f, &pb),
    }
}

/// Exhaustive figures of a product table indexed (a << n) | b.
pub fn exhaustive_table(ops: Operands, table: &[i64], pb: &ProgressBar) -> Acc {
    assert_eq!(table.len(), 1 << (2 * ops.width), "table of every pair");
    exhaustive(
        ops,
        &TableKernel {
            width: ops.width,
            first_row: 0,
            table,
        },
        pb,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_the_generator_sequence() {
        // The counter form equals running the generator from the start.
        let mut r = SplitMix64(7 ^ SAMPLE_STREAM);
        for i in 0..1000 {
            let x = r.next_u64();
            let want = ((x & 0xfff) as u32, ((x >> 32) & 0xfff) as u32);
            assert_eq!(sample_pair(12, 7, i), want);
        }
    }
}
