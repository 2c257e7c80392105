//! Sweeps: exhaustive over all 2^(2n) operand pairs (rayon over `a`, one accumulator per
//! worker, no allocation per pair) or seeded uniform sampling.

use super::metrics::Acc;
use super::models::Multiplier;
use crate::hdl::sim::SplitMix64;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

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

/// Operand interpretation shared by models and third-party netlists.
#[derive(Debug, Clone, Copy)]
pub struct Operands {
    pub width: u32,
    pub signed: bool,
}

impl Operands {
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

/// A progress bar on stderr for sweeps of at least `min_pairs` pairs (hidden otherwise).
pub fn progress(total_rows: u64, pairs: u64, label: &str) -> ProgressBar {
    if pairs < (1 << 24) {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total_rows);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {percent}% {elapsed_precise} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_message(label.to_string());
    pb
}

/// All pairs through `approx(a, b)` (operand patterns in, product value out).
pub fn exhaustive<F>(ops: Operands, approx: F, pb: &ProgressBar) -> Acc
where
    F: Fn(u32, u32) -> i64 + Sync,
{
    let size = 1u32 << ops.width;
    let acc = (0..size)
        .into_par_iter()
        .fold(
            || Acc::new(ops.width),
            |mut acc, a| {
                let va = ops.value(a);
                acc.add_row(a, va.unsigned_abs(), 0..size, |b| {
                    let vb = ops.value(b);
                    (vb.unsigned_abs(), va * vb, approx(a, b))
                });
                pb.inc(1);
                acc
            },
        )
        .reduce(|| Acc::new(ops.width), Acc::merge);
    pb.finish_and_clear();
    acc
}

/// `count` uniform pairs from `seed`: deterministic whatever the thread count.
pub fn sample_pairs(width: u32, count: u64, seed: u64) -> Vec<(u32, u32)> {
    let mask = (1u64 << width) - 1;
    let mut r = SplitMix64(seed ^ 0x6e6f_6973_6521); // "noise!" keeps streams apart from other users
    (0..count)
        .map(|_| {
            let x = r.next_u64();
            ((x & mask) as u32, ((x >> 32) & mask) as u32)
        })
        .collect()
}

/// Given pairs, with `approx(i, a, b)` the product of pair i.
pub fn over_pairs<F>(ops: Operands, pairs: &[(u32, u32)], approx: F, pb: &ProgressBar) -> Acc
where
    F: Fn(usize, u32, u32) -> i64 + Sync,
{
    const CHUNK: usize = 1 << 14;
    let acc = pairs
        .par_chunks(CHUNK)
        .enumerate()
        .fold(
            || Acc::new(ops.width),
            |mut acc, (c, chunk)| {
                for (k, &(a, b)) in chunk.iter().enumerate() {
                    let (va, vb) = (ops.value(a), ops.value(b));
                    let i = c * CHUNK + k;
                    acc.add_row(a, va.unsigned_abs(), std::iter::once(b), |b| {
                        (vb.unsigned_abs(), va * vb, approx(i, a, b))
                    });
                }
                pb.inc(1);
                acc
            },
        )
        .reduce(|| Acc::new(ops.width), Acc::merge);
    pb.finish_and_clear();
    acc
}

/// Characterize a built-in model by `method`.
pub fn characterize_model(m: &Multiplier, method: Method, show_progress: bool) -> Acc {
    let ops = Operands {
        width: m.width,
        signed: m.signed,
    };
    let label = format!("{} {}-bit", m.kind, m.width);
    characterize_fn(ops, method, &label, show_progress, |a, b| m.eval(a, b))
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
    match method {
        Method::Exhaustive => {
            let pb = if show_progress {
                progress(1 << ops.width, 1 << (2 * ops.width), label)
            } else {
                ProgressBar::hidden()
            };
            exhaustive(ops, f, &pb)
        }
        Method::Samples { count, seed } => {
            let pairs = sample_pairs(ops.width, count, seed);
            let pb = if show_progress {
                progress(pairs.len().div_ceil(1 << 14) as u64, count, label)
            } else {
                ProgressBar::hidden()
            };
            over_pairs(ops, &pairs, |_, a, b| f(a, b), &pb)
        }
    }
}
