//! Error accumulation with the EvoApprox conventions (see `docs/noise-profile.md`).
//!
//! An [`Acc`] is filled pair by pair ([`Acc::add_pair`], sampled sweeps) or by runs of pairs
//! that share a by-magnitude cell ([`Acc::add_cell`], the exhaustive sweep in `super::sweep`),
//! with exact integer sums (i128/u128), merged across workers, and summarised into [`Metrics`].
//! e = approx - exact; relative error r = e / exact over the pairs with exact != 0.

use serde::{Deserialize, Serialize};

/// Signed log2 bins of the error: bin 0 is e == 0, bin +-k holds 2^(k-1) <= |e| < 2^k.
pub const ERR_LOG_BINS: usize = 40;
/// Relative-error histogram: 200 bins of width 0.01 over [-1, 1), plus under/overflow.
pub const REL_BINS: usize = 200;

/// Sums for one cell of the by-magnitude table.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MagCell {
    pub count: u64,
    pub sum_err: i128,
    pub sum_abs: u128,
    pub sum_sq: u128,
    pub rel_count: u64,
    pub sum_abs_rel: f64,
}

impl MagCell {
    fn add(&mut self, o: &MagCell) {
        self.count += o.count;
        self.sum_err += o.sum_err;
        self.sum_abs += o.sum_abs;
        self.sum_sq += o.sum_sq;
        self.rel_count += o.rel_count;
        self.sum_abs_rel += o.sum_abs_rel;
    }
}

/// Sums over a run of pairs that share one by-magnitude cell: what the fast sweep
/// (`super::sweep`) hands to [`Acc::add_cell`] after counting the histograms itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct CellSums {
    pub cell: MagCell,
    pub err_count: u64,
    pub sum_rel: f64,
    pub sum_sq_rel: f64,
}

/// Everything a sweep accumulates.
#[derive(Debug, Clone, PartialEq)]
pub struct Acc {
    pub width: u32,
    pub count: u64,
    pub err_count: u64,
    pub sum_err: i128,
    pub sum_abs: u128,
    pub sum_sq: u128,
    pub max_abs: u64,
    pub max_abs_pair: (u32, u32),
    pub rel_count: u64,
    pub sum_rel: f64,
    pub sum_abs_rel: f64,
    pub sum_sq_rel: f64,
    /// Worst relative error as the exact fraction |e| / |exact| (numerator, denominator):
    /// compared by cross-multiplication, so the worst pair does not depend on rounding or on
    /// the order of the sweep.
    pub max_rel: (u64, u64),
    pub max_rel_pair: (u32, u32),
    /// Index ERR_LOG_BINS + s*k for sign s and bit length k of e.
    pub err_hist: Vec<u64>,
    /// Index 0: r < -1; 1..=REL_BINS: [-1 + (i-1)/100, -1 + i/100); REL_BINS+1: r >= 1.
    /// The bin of r = e / exact is floor(100 e / exact) + 101, computed exactly.
    pub rel_hist: Vec<u64>,
    /// (n+1) x (n+1) cells indexed by the bit length of |a| and of |b| (0 for a zero operand).
    pub mag: Vec<MagCell>,
}

/// Bit length of |x| (0 for 0): the leading-one position plus one.
#[inline(always)]
pub fn bit_len(x: u64) -> usize {
    (64 - x.leading_zeros()) as usize
}

/// Index into [`Acc::err_hist`] of an error with sign `negative` and magnitude bit length `k`.
#[inline(always)]
pub fn err_bin(negative: bool, k: usize) -> usize {
    let k = k.min(ERR_LOG_BINS);
    if negative {
        ERR_LOG_BINS - k
    } else {
        ERR_LOG_BINS + k
    }
}

/// Index into [`Acc::rel_hist`] of e / exact (exact != 0): floor(100 e / exact) + 101,
/// clamped to the under/overflow bins, in exact integer arithmetic.
pub fn rel_bin(e: i128, exact: i128) -> usize {
    let (num, den) = if exact < 0 {
        (-100 * e, -exact)
    } else {
        (100 * e, exact)
    };
    let q = num.div_euclid(den);
    (q + (REL_BINS / 2 + 1) as i128).clamp(0, REL_BINS as i128 + 1) as usize
}

impl Acc {
    pub fn new(width: u32) -> Self {
        let m = width as usize + 1;
        Acc {
            width,
            count: 0,
            err_count: 0,
            sum_err: 0,
            sum_abs: 0,
            sum_sq: 0,
            max_abs: 0,
            max_abs_pair: (0, 0),
            rel_count: 0,
            sum_rel: 0.0,
            sum_abs_rel: 0.0,
            sum_sq_rel: 0.0,
            max_rel: (0, 1),
            max_rel_pair: (0, 0),
            err_hist: vec![0; 2 * ERR_LOG_BINS + 1],
            rel_hist: vec![0; REL_BINS + 2],
            mag: vec![MagCell::default(); m * m],
        }
    }

    /// Offer a candidate for the worst-case error: larger wins, ties keep the smaller pair, so
    /// the result does not depend on how the work was split.
    #[inline]
    pub fn offer_abs(&mut self, ae: u64, pair: (u32, u32)) {
        if ae > self.max_abs || (ae == self.max_abs && pair < self.max_abs_pair) {
            self.max_abs = ae;
            self.max_abs_pair = pair;
        }
    }

    /// Offer a candidate |e| / |exact| for the worst relative error (exact comparison).
    #[inline]
    pub fn offer_rel(&mut self, num: u64, den: u64, pair: (u32, u32)) {
        let (bn, bd) = self.max_rel;
        let (lhs, rhs) = (num as u128 * bd as u128, bn as u128 * den as u128);
        if lhs > rhs || (lhs == rhs && pair < self.max_rel_pair) {
            self.max_rel = (num, den);
            self.max_rel_pair = pair;
        }
    }

    /// Add one pair: operand patterns (a, b), the bit lengths of |a| and |b| (by-magnitude
    /// cell), the exact and the approximate product. Exact in every step (i128), for sampled
    /// sweeps and for what the fast sweep hands back.
    pub fn add_pair(&mut self, pair: (u32, u32), la: usize, lb: usize, exact: i64, approx: i64) {
        let e = approx as i128 - exact as i128;
        let ae = e.unsigned_abs();
        let sq = ae.saturating_mul(ae);
        let ae64 = u64::try_from(ae).unwrap_or(u64::MAX);
        let rel = (exact != 0).then(|| e as f64 / exact as f64);
        let m = self.width as usize + 1;
        let cell = &mut self.mag[la * m + lb];
        cell.count += 1;
        cell.sum_err += e;
        cell.sum_abs += ae;
        cell.sum_sq = cell.sum_sq.saturating_add(sq);
        if let Some(r) = rel {
            cell.rel_count += 1;
            cell.sum_abs_rel += r.abs();
        }
        self.count += 1;
        self.sum_err += e;
        self.sum_abs += ae;
        self.sum_sq = self.sum_sq.saturating_add(sq);
        self.err_count += (e != 0) as u64;
        self.offer_abs(ae64, pair);
        self.err_hist[err_bin(e < 0, 128 - ae.leading_zeros() as usize)] += 1;
        if let Some(r) = rel {
            self.rel_count += 1;
            self.sum_rel += r;
            self.sum_abs_rel += r.abs();
            self.sum_sq_rel += r * r;
            self.offer_rel(ae64, exact.unsigned_abs(), pair);
            self.rel_hist[rel_bin(e, exact as i128)] += 1;
        }
    }

    /// Add the sums of a run of pairs in by-magnitude cell (la, lb) whose histogram bins,
    /// maxima and worst pairs the caller has already counted.
    pub fn add_cell(&mut self, la: usize, lb: usize, s: &CellSums) {
        let m = self.width as usize + 1;
        self.mag[la * m + lb].add(&s.cell);
        self.count += s.cell.count;
        self.err_count += s.err_count;
        self.sum_err += s.cell.sum_err;
        self.sum_abs += s.cell.sum_abs;
        self.sum_sq += s.cell.sum_sq;
        self.rel_count += s.cell.rel_count;
        self.sum_rel += s.sum_rel;
        self.sum_abs_rel += s.cell.sum_abs_rel;
        self.sum_sq_rel += s.sum_sq_rel;
    }

    /// Combine two partial accumulations (ties on the maxima keep the smaller pair, so the
    /// result does not depend on how the work was split). Floating-point sums depend on the
    /// order of merging: the sweeps merge fixed blocks in order.
    pub fn merge(mut self, o: Acc) -> Acc {
        self.count += o.count;
        self.err_count += o.err_count;
        self.sum_err += o.sum_err;
        self.sum_abs += o.sum_abs;
        self.sum_sq = self.sum_sq.saturating_add(o.sum_sq);
        self.offer_abs(o.max_abs, o.max_abs_pair);
        self.rel_count += o.rel_count;
        self.sum_rel += o.sum_rel;
        self.sum_abs_rel += o.sum_abs_rel;
        self.sum_sq_rel += o.sum_sq_rel;
        self.offer_rel(o.max_rel.0, o.max_rel.1, o.max_rel_pair);
        for (x, y) in self.err_hist.iter_mut().zip(&o.err_hist) {
            *x += y;
        }
        for (x, y) in self.rel_hist.iter_mut().zip(&o.rel_hist) {
            *x += y;
        }
        for (x, y) in self.mag.iter_mut().zip(&o.mag) {
            x.add(y);
        }
        self
    }

    /// The summary metrics. `exhaustive` decides whether WCE/WCRE are exact or lower bounds.
    pub fn metrics(&self, exhaustive: bool) -> Metrics {
        let n = self.count.max(1) as f64;
        let full = (1u64 << (2 * self.width)) as f64;
        let mae = self.sum_abs as f64 / n;
        let mean_error = self.sum_err as f64 / n;
        let mse = self.sum_sq as f64 / n;
        let var = (mse - mean_error * mean_error).max(0.0);
        let rn = self.rel_count.max(1) as f64;
        let mre = self.sum_abs_rel / rn;
        let mean_rel = self.sum_rel / rn;
        let var_rel = (self.sum_sq_rel / rn - mean_rel * mean_rel).max(0.0);
        let ep = self.err_count as f64 / n;
        let ci = if exhaustive {
            None
        } else {
            // 95 % normal-approximation intervals (Wilson for the proportion).
            let z = 1.96;
            let half = |sd: f64, cnt: f64| z * sd / cnt.sqrt();
            let sd_abs = (mse - mae * mae).max(0.0).sqrt();
            let sd_abs_rel = (self.sum_sq_rel / rn - mre * mre).max(0.0).sqrt();
            let (wl, wh) = wilson(self.err_count as f64, n, z);
            Some(Intervals {
                confidence: 0.95,
                mae: [mae - half(sd_abs, n), mae + half(sd_abs, n)],
                mean_error: [
                    mean_error - half(var.sqrt(), n),
                    mean_error + half(var.sqrt(), n),
                ],
                ep_percent: [100.0 * wl, 100.0 * wh],
                mre_percent: [
                    100.0 * (mre - half(sd_abs_rel, rn)),
                    100.0 * (mre + half(sd_abs_rel, rn)),
                ],
            })
        };
        Metrics {
            pairs: self.count,
            mae,
            mae_percent: 100.0 * mae / full,
            wce: self.max_abs,
            wce_percent: 100.0 * self.max_abs as f64 / full,
            wce_pair: self.max_abs_pair,
            wcre_percent: 100.0 * (self.max_rel.0 as f64 / self.max_rel.1 as f64),
            wcre_pair: self.max_rel_pair,
            wce_is_lower_bound: !exhaustive,
            ep_percent: 100.0 * ep,
            mre_percent: 100.0 * mre,
            mse,
            mean_error,
            std_error: var.sqrt(),
            mean_rel_error: mean_rel,
            std_rel_error: var_rel.sqrt(),
            rel_pairs: self.rel_count,
            ci95: ci,
        }
    }
}

fn wilson(k: f64, n: f64, z: f64) -> (f64, f64) {
    let p = k / n;
    let d = 1.0 + z * z / n;
    let c = (p + z * z / (2.0 * n)) / d;
    let h = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / d;
    ((c - h).max(0.0), (c + h).min(1.0))
}

/// Confidence intervals of a sampled run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Intervals {
    pub confidence: f64,
    pub mae: [f64; 2],
    pub mean_error: [f64; 2],
    pub ep_percent: [f64; 2],
    pub mre_percent: [f64; 2],
}

/// Summary metrics (EvoApprox conventions; percentages relative to 2^(2n) for MAE/WCE).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Metrics {
    pub pairs: u64,
    pub mae: f64,
    pub mae_percent: f64,
    pub wce: u64,
    pub wce_percent: f64,
    /// Operand patterns (a, b) of a pair reaching the WCE.
    pub wce_pair: (u32, u32),
    pub wcre_percent: f64,
    pub wcre_pair: (u32, u32),
    /// True for sampled runs: WCE and WCRE are then only lower bounds.
    pub wce_is_lower_bound: bool,
    pub ep_percent: f64,
    pub mre_percent: f64,
    pub mse: f64,
    pub mean_error: f64,
    pub std_error: f64,
    pub mean_rel_error: f64,
    pub std_rel_error: f64,
    /// Pairs with exact != 0 (the population of MRE, WCRE and the relative statistics).
    pub rel_pairs: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci95: Option<Intervals>,
}
