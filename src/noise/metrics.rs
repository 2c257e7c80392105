//! Error accumulation with the EvoApprox conventions (see `docs/noise-profile.md`).
//!
//! An [`Acc`] is filled row by row (one operand `a`, many `b`) with exact integer sums where
//! they can overflow 64 bits, merged across threads, and summarised into [`Metrics`].
//! e = approx - exact; relative error r = e / exact over the pairs with exact != 0.

use serde::Serialize;

/// Signed log2 bins of the error: bin 0 is e == 0, bin +-k holds 2^(k-1) <= |e| < 2^k.
pub const ERR_LOG_BINS: usize = 40;
/// Relative-error histogram: 200 bins of width 0.01 over [-1, 1), plus under/overflow.
pub const REL_BINS: usize = 200;
const REL_SCALE: f64 = 100.0;

/// Sums for one cell of the by-magnitude table.
#[derive(Debug, Clone, Copy, Default)]
pub struct MagCell {
    pub count: u64,
    pub sum_err: i128,
    pub sum_abs: u128,
    pub sum_sq: u128,
    pub rel_count: u64,
    pub sum_abs_rel: f64,
}

/// Per-row scratch for one leading-one position of b (kept on the stack).
#[derive(Clone, Copy, Default)]
struct RowCell {
    count: u64,
    sum_err: i64,
    sum_abs: u64,
    sum_sq: u128,
    rel_count: u64,
    sum_abs_rel: f64,
}

/// Everything a sweep accumulates.
#[derive(Debug, Clone)]
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
    pub max_rel: f64,
    pub max_rel_pair: (u32, u32),
    /// Index ERR_LOG_BINS + s*k for sign s and bit length k of e.
    pub err_hist: Vec<u64>,
    /// Index 0: r < -1; 1..=REL_BINS: [-1 + (i-1)/100, -1 + i/100); REL_BINS+1: r >= 1.
    pub rel_hist: Vec<u64>,
    /// (n+1) x (n+1) cells indexed by the bit length of |a| and of |b| (0 for a zero operand).
    pub mag: Vec<MagCell>,
}

/// Bit length of |x| (0 for 0): the leading-one position plus one.
#[inline(always)]
pub fn bit_len(x: u64) -> usize {
    (64 - x.leading_zeros()) as usize
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
            max_rel: 0.0,
            max_rel_pair: (0, 0),
            err_hist: vec![0; 2 * ERR_LOG_BINS + 1],
            rel_hist: vec![0; REL_BINS + 2],
            mag: vec![MagCell::default(); m * m],
        }
    }

    /// Add the pairs (a, b) for every b of `bs`. `a_mag` is |value of a|; `eval(b)` returns
    /// (|value of b|, exact, approx). No allocation: per-row sums live on the stack.
    #[inline(always)]
    pub fn add_row<I, F>(&mut self, a: u32, a_mag: u64, bs: I, mut eval: F)
    where
        I: Iterator<Item = u32>,
        F: FnMut(u32) -> (u64, i64, i64),
    {
        let mut row = [RowCell::default(); 17];
        let mut sum_rel = 0.0f64;
        let mut sum_sq_rel = 0.0f64;
        let mut err_count = 0u64;
        for b in bs {
            let (b_mag, exact, approx) = eval(b);
            let e = approx - exact;
            let ae = e.unsigned_abs();
            let cell = &mut row[bit_len(b_mag)];
            cell.count += 1;
            cell.sum_err += e;
            cell.sum_abs += ae;
            cell.sum_sq += (ae as u128) * (ae as u128);
            err_count += (e != 0) as u64;
            if ae > self.max_abs {
                self.max_abs = ae;
                self.max_abs_pair = (a, b);
            }
            let k = bit_len(ae).min(ERR_LOG_BINS);
            let idx = if e < 0 {
                ERR_LOG_BINS - k
            } else {
                ERR_LOG_BINS + k
            };
            self.err_hist[idx] += 1;
            if exact != 0 {
                let r = e as f64 / exact as f64;
                let ar = r.abs();
                cell.rel_count += 1;
                cell.sum_abs_rel += ar;
                sum_rel += r;
                sum_sq_rel += r * r;
                if ar > self.max_rel {
                    self.max_rel = ar;
                    self.max_rel_pair = (a, b);
                }
                let x = r * REL_SCALE + (REL_SCALE + 1.0);
                let bin = (x as i64).clamp(0, REL_BINS as i64 + 1) as usize;
                self.rel_hist[bin] += 1;
            }
        }
        let m = self.width as usize + 1;
        let la = bit_len(a_mag);
        for (lb, c) in row.iter().enumerate().take(m) {
            if c.count == 0 {
                continue;
            }
            self.count += c.count;
            self.sum_err += c.sum_err as i128;
            self.sum_abs += c.sum_abs as u128;
            self.sum_sq += c.sum_sq;
            self.rel_count += c.rel_count;
            self.sum_abs_rel += c.sum_abs_rel;
            let cell = &mut self.mag[la * m + lb];
            cell.count += c.count;
            cell.sum_err += c.sum_err as i128;
            cell.sum_abs += c.sum_abs as u128;
            cell.sum_sq += c.sum_sq;
            cell.rel_count += c.rel_count;
            cell.sum_abs_rel += c.sum_abs_rel;
        }
        self.err_count += err_count;
        self.sum_rel += sum_rel;
        self.sum_sq_rel += sum_sq_rel;
    }

    /// Combine two partial accumulations (ties on the maxima keep the smaller pair, so the
    /// result does not depend on how the work was split).
    pub fn merge(mut self, o: Acc) -> Acc {
        self.count += o.count;
        self.err_count += o.err_count;
        self.sum_err += o.sum_err;
        self.sum_abs += o.sum_abs;
        self.sum_sq += o.sum_sq;
        if o.max_abs > self.max_abs
            || (o.max_abs == self.max_abs && o.max_abs_pair < self.max_abs_pair)
        {
            self.max_abs = o.max_abs;
            self.max_abs_pair = o.max_abs_pair;
        }
        self.rel_count += o.rel_count;
        self.sum_rel += o.sum_rel;
        self.sum_abs_rel += o.sum_abs_rel;
        self.sum_sq_rel += o.sum_sq_rel;
        if o.max_rel > self.max_rel
            || (o.max_rel == self.max_rel && o.max_rel_pair < self.max_rel_pair)
        {
            self.max_rel = o.max_rel;
            self.max_rel_pair = o.max_rel_pair;
        }
        for (x, y) in self.err_hist.iter_mut().zip(&o.err_hist) {
            *x += y;
        }
        for (x, y) in self.rel_hist.iter_mut().zip(&o.rel_hist) {
            *x += y;
        }
        for (x, y) in self.mag.iter_mut().zip(&o.mag) {
            x.count += y.count;
            x.sum_err += y.sum_err;
            x.sum_abs += y.sum_abs;
            x.sum_sq += y.sum_sq;
            x.rel_count += y.rel_count;
            x.sum_abs_rel += y.sum_abs_rel;
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
            wcre_percent: 100.0 * self.max_rel,
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
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Intervals {
    pub confidence: f64,
    pub mae: [f64; 2],
    pub mean_error: [f64; 2],
    pub ep_percent: [f64; 2],
    pub mre_percent: [f64; 2],
}

/// Summary metrics (EvoApprox conventions; percentages relative to 2^(2n) for MAE/WCE).
#[derive(Debug, Clone, Serialize, PartialEq)]
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
