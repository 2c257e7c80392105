//! The extractor's metrics against an independent brute-force computation: every built-in
//! multiplier re-implemented here from its textbook definition (partial-product bits,
//! recursion, floating-point Mitchell), every metric recomputed with plain loops over the
//! exhaustive 8-bit sweep (and signed 6-bit), compared with the engine's.

use tetris_hdl::noise::engine::{characterize_fn, characterize_model, Method, Operands};
use tetris_hdl::noise::metrics::{Acc, ERR_LOG_BINS, REL_BINS};
use tetris_hdl::noise::models::Multiplier;
use tetris_hdl::noise::sweep::{exhaustive_on, FnKernel, Isa};

/// Textbook reference of the unsigned core.
fn reference(spec: &str, a: u64, b: u64, n: u32) -> u64 {
    let bit = |x: u64, i: u32| (x >> i) & 1;
    let pp_sum = |keep: &dyn Fn(u32, u32) -> bool| -> u64 {
        let mut s = 0;
        for i in 0..n {
            for j in 0..n {
                if keep(i, j) {
                    s += (bit(a, i) & bit(b, j)) << (i + j);
                }
            }
        }
        s
    };
    match spec {
        "exact" => a * b,
        "trunc:t=7" => pp_sum(&|i, j| i + j >= 7),
        "trunc:t=7,corr" => {
            let c: f64 = (0..7).map(|c| (c + 1) as f64 * 2f64.powi(c)).sum::<f64>() / 4.0;
            pp_sum(&|i, j| i + j >= 7) + (c + 0.5).floor() as u64
        }
        "bam:hbl=2,vbl=7" => pp_sum(&|i, j| j >= 2 && i + j >= 7),
        "drum:k=4" => {
            let t = |x: u64| -> (u64, u32) {
                if x < 16 {
                    return (x, 0);
                }
                let lead = 63 - x.leading_zeros();
                let s = lead - 3;
                ((x >> s) | 1, s)
            };
            let ((ma, sa), (mb, sb)) = (t(a), t(b));
            (ma * mb) << (sa + sb)
        }
        "mitchell" => {
            if a == 0 || b == 0 {
                return 0;
            }
            let (k1, k2) = (63 - a.leading_zeros(), 63 - b.leading_zeros());
            let x1 = a as f64 / 2f64.powi(k1 as i32) - 1.0;
            let x2 = b as f64 / 2f64.powi(k2 as i32) - 1.0;
            let p = if x1 + x2 < 1.0 {
                2f64.powi((k1 + k2) as i32) * (1.0 + x1 + x2)
            } else {
                2f64.powi((k1 + k2 + 1) as i32) * (x1 + x2)
            };
            p.floor() as u64
        }
        "kulkarni" => {
            fn rec(a: u64, b: u64, w: u32) -> u64 {
                if w == 2 {
                    return if a == 3 && b == 3 { 7 } else { a * b };
                }
                let h = w / 2;
                let m = (1 << h) - 1;
                let (ah, al, bh, bl) = (a >> h, a & m, b >> h, b & m);
                (rec(ah, bh, h) << (2 * h))
                    + ((rec(ah, bl, h) + rec(al, bh, h)) << h)
                    + rec(al, bl, h)
            }
            let w = n.next_power_of_two().max(2);
            rec(a, b, w)
        }
        _ => unreachable!(),
    }
}

struct Brute {
    mae: f64,
    wce: u64,
    ep: f64,
    mre: f64,
    wcre: f64,
    mse: f64,
    mean: f64,
    std: f64,
    mean_rel: f64,
    std_rel: f64,
}

fn brute(spec: &str, n: u32, signed: bool) -> Brute {
    let size = 1i64 << n;
    let val = |x: i64| if signed && x >= size / 2 { x - size } else { x };
    let (mut sa, mut ss, mut se, mut nz, mut wce) = (0f64, 0f64, 0f64, 0u64, 0u64);
    let (mut sr, mut sar, mut ssr, mut rc, mut wcre) = (0f64, 0f64, 0f64, 0u64, 0f64);
    for a in 0..size {
        for b in 0..size {
            let (va, vb) = (val(a), val(b));
            let exact = va * vb;
            let mag = reference(spec, va.unsigned_abs(), vb.unsigned_abs(), n) as i64;
            let approx = if (va < 0) != (vb < 0) { -mag } else { mag };
            let e = (approx - exact) as f64;
            sa += e.abs();
            ss += e * e;
            se += e;
            nz += (e != 0.0) as u64;
            wce = wce.max(e.abs() as u64);
            if exact != 0 {
                let r = e / exact as f64;
                sr += r;
                sar += r.abs();
                ssr += r * r;
                rc += 1;
                wcre = wcre.max(r.abs());
            }
        }
    }
    let cnt = (size * size) as f64;
    let full = cnt; // 2^(2n)
    let mean = se / cnt;
    let mean_rel = sr / rc as f64;
    Brute {
        mae: 100.0 * (sa / cnt) / full,
        wce,
        ep: 100.0 * nz as f64 / cnt,
        mre: 100.0 * sar / rc as f64,
        wcre: 100.0 * wcre,
        mse: ss / cnt,
        mean,
        std: (ss / cnt - mean * mean).sqrt(),
        mean_rel,
        std_rel: (ssr / rc as f64 - mean_rel * mean_rel).sqrt(),
    }
}

fn close(x: f64, y: f64, what: &str, spec: &str) {
    let tol = 1e-9 * (1.0 + x.abs().max(y.abs()));
    assert!(
        (x - y).abs() <= tol,
        "{spec} {what}: engine {x} vs brute force {y}"
    );
}

fn check(spec: &str, n: u32, signed: bool) {
    let m = Multiplier::from_spec(spec, n, signed).unwrap();
    // The model itself against the textbook reference on every pair; signed: the
    // sign-magnitude wrapper written out here (|a| x |b| through the core, sign a^b).
    let size = 1i64 << n;
    let val = |x: i64| if signed && x >= size / 2 { x - size } else { x };
    for a in 0..size {
        for b in 0..size {
            let (va, vb) = (val(a), val(b));
            let mag = reference(spec, va.unsigned_abs(), vb.unsigned_abs(), n) as i64;
            let want = if (va < 0) != (vb < 0) { -mag } else { mag };
            assert_eq!(
                m.eval(a as u32, b as u32),
                want,
                "{spec} signed={signed} a={a} b={b}"
            );
        }
    }
    let acc = characterize_model(&m, Method::Exhaustive, false);
    let got = acc.metrics(true);
    let want = brute(spec, n, signed);
    assert_eq!(got.pairs, 1 << (2 * n));
    assert_eq!(got.wce, want.wce, "{spec} wce");
    assert!(!got.wce_is_lower_bound);
    close(got.mae_percent, want.mae, "mae%", spec);
    close(
        got.wce_percent,
        100.0 * want.wce as f64 / (1u64 << (2 * n)) as f64,
        "wce%",
        spec,
    );
    close(got.ep_percent, want.ep, "ep%", spec);
    close(got.mre_percent, want.mre, "mre%", spec);
    close(got.wcre_percent, want.wcre, "wcre%", spec);
    close(got.mse, want.mse, "mse", spec);
    close(got.mean_error, want.mean, "mean", spec);
    close(got.std_error, want.std, "std", spec);
    close(got.mean_rel_error, want.mean_rel, "mean rel", spec);
    close(got.std_rel_error, want.std_rel, "std rel", spec);
    // Histograms and the by-magnitude table account for every pair.
    assert_eq!(acc.err_hist.iter().sum::<u64>(), got.pairs);
    assert_eq!(acc.rel_hist.iter().sum::<u64>(), got.rel_pairs);
    assert_eq!(acc.mag.iter().map(|c| c.count).sum::<u64>(), got.pairs);
    assert_eq!(acc.mag.iter().map(|c| c.sum_err).sum::<i128>(), acc.sum_err);
}

#[test]
fn unsigned_8bit_metrics_match_brute_force() {
    for spec in [
        "exact",
        "trunc:t=7",
        "trunc:t=7,corr",
        "bam:hbl=2,vbl=7",
        "drum:k=4",
        "mitchell",
        "kulkarni",
    ] {
        check(spec, 8, false);
    }
}

#[test]
fn signed_6bit_metrics_match_brute_force() {
    for spec in ["exact", "drum:k=4", "mitchell", "kulkarni", "trunc:t=7"] {
        check(spec, 6, true);
    }
}

#[test]
fn approximate_designs_differ_from_exact() {
    // Guards against a model that silently degenerates to the exact product.
    for spec in [
        "trunc:t=7",
        "bam:hbl=2,vbl=7",
        "drum:k=4",
        "mitchell",
        "kulkarni",
    ] {
        let m = Multiplier::from_spec(spec, 8, false).unwrap();
        let acc = characterize_model(&m, Method::Exhaustive, false);
        assert!(acc.metrics(true).ep_percent > 10.0, "{spec}");
    }
}

#[test]
fn sampled_run_brackets_the_exhaustive_figures() {
    let m = Multiplier::from_spec("mitchell", 8, false).unwrap();
    let full = characterize_model(&m, Method::Exhaustive, false).metrics(true);
    // 200,000 pairs drawn with seed 3.
    let sampled = || {
        let method = Method::Samples {
            count: 200_000,
            seed: 3,
        };
        characterize_model(&m, method, false).metrics(false)
    };
    let s = sampled();
    let ci = s.ci95.clone().unwrap();
    assert!(s.wce_is_lower_bound && s.wce <= full.wce);
    assert!(
        ci.mae[0] <= full.mae && full.mae <= ci.mae[1],
        "{ci:?} vs {}",
        full.mae
    );
    assert!(ci.mean_error[0] <= full.mean_error && full.mean_error <= ci.mean_error[1]);
    assert!(ci.ep_percent[0] <= full.ep_percent && full.ep_percent <= ci.ep_percent[1]);
    assert!(ci.mre_percent[0] <= full.mre_percent && full.mre_percent <= ci.mre_percent[1]);
    // Same seed, same numbers.
    assert_eq!(s, sampled());
}

/// The exhaustive engine's row kernels (per-operand work hoisted, segment-constant shifts,
/// byte tables) and every instruction-set version of its row loop give exactly the figures of
/// the plain per-pair path (`FnKernel` over `Multiplier::eval`), floats included.
#[test]
fn fast_engine_equals_the_per_pair_path() {
    let specs = [
        "exact",
        "trunc:t=5,corr",
        "bam:hbl=2,vbl=5",
        "drum:k=3",
        "mitchell",
        "kulkarni",
    ];
    for (width, signed) in [(5, false), (5, true), (8, false), (8, true), (11, true)] {
        for spec in specs {
            let m = Multiplier::from_spec(spec, width, signed).unwrap();
            let ops = Operands { width, signed };
            let plain = characterize_fn(ops, Method::Exhaustive, "", false, |a, b| m.eval(a, b));
            assert_eq!(
                characterize_model(&m, Method::Exhaustive, false),
                plain,
                "{spec} {width} {signed}"
            );
            for isa in Isa::available() {
                let k = FnKernel(|a, b| m.eval(a, b));
                let acc = exhaustive_on(isa, ops, &k, &indicatif::ProgressBar::hidden());
                assert_eq!(acc, plain, "{spec} {width} {signed} {isa:?}");
            }
        }
    }
}

/// Every figure of an exhaustive sweep recomputed pair by pair in i128 from the products,
/// with the relative bin floor(100 e / exact) in integers: for products the models cannot
/// make (errors beyond 2^32, exact multiples of 1 %).
fn brute_acc(width: u32, signed: bool, f: &dyn Fn(u32, u32) -> i64) -> Acc {
    let ops = Operands { width, signed };
    let mut acc = Acc::new(width);
    let bits = |v: i64| (64 - v.unsigned_abs().leading_zeros()) as usize;
    for a in 0..1u32 << width {
        for b in 0..1u32 << width {
            let (va, vb) = (ops.value(a), ops.value(b));
            let (x, p) = (va as i128 * vb as i128, f(a, b) as i128);
            let e = p - x;
            let ae = e.unsigned_abs();
            acc.count += 1;
            acc.sum_err += e;
            acc.sum_abs += ae;
            acc.sum_sq += ae * ae;
            acc.err_count += (e != 0) as u64;
            let k = ((128 - ae.leading_zeros()) as usize).min(ERR_LOG_BINS);
            acc.err_hist[if e < 0 {
                ERR_LOG_BINS - k
            } else {
                ERR_LOG_BINS + k
            }] += 1;
            let m = width as usize + 1;
            let cell = &mut acc.mag[bits(va) * m + bits(vb)];
            cell.count += 1;
            cell.sum_err += e;
            cell.sum_abs += ae;
            cell.sum_sq += ae * ae;
            if x != 0 {
                let q = (100 * e * x.signum()).div_euclid(x.abs());
                let bin = (q + 101).clamp(0, REL_BINS as i128 + 1) as usize;
                acc.rel_hist[bin] += 1;
                acc.rel_count += 1;
                cell.rel_count += 1;
            }
        }
    }
    acc
}

/// Compare the integer figures (sums, counts, histograms, by-magnitude sums) of two sweeps.
fn same_integers(got: &Acc, want: &Acc, what: &str) {
    assert_eq!(
        (
            got.count,
            got.err_count,
            got.sum_err,
            got.sum_abs,
            got.sum_sq,
            got.rel_count
        ),
        (
            want.count,
            want.err_count,
            want.sum_err,
            want.sum_abs,
            want.sum_sq,
            want.rel_count
        ),
        "{what}"
    );
    assert_eq!(got.err_hist, want.err_hist, "{what} err_hist");
    assert_eq!(got.rel_hist, want.rel_hist, "{what} rel_hist");
    for (g, w) in got.mag.iter().zip(&want.mag) {
        assert_eq!(
            (g.count, g.sum_err, g.sum_abs, g.sum_sq, g.rel_count),
            (w.count, w.sum_err, w.sum_abs, w.sum_sq, w.rel_count),
            "{what} mag"
        );
    }
}

/// Errors of 2^40 (beyond the fast path's 64-bit lanes, redone in i128) and relative errors of
/// exactly 29 % and -7 % (r * 100 rounds to 28.999... in floating point; the bin must still be
/// the one of 29 %), unsigned and signed.
#[test]
fn huge_errors_and_exact_percent_bins() {
    for signed in [false, true] {
        let ops = Operands { width: 7, signed };
        let f = |a: u32, b: u32| -> i64 {
            let x = ops.value(a) * ops.value(b);
            match (a + b) % 5 {
                0 => x + (1i64 << 40),
                1 if x % 100 == 0 => x + x / 100 * 29,
                2 if x % 100 == 0 => x - x / 100 * 7,
                3 => -x,
                _ => x,
            }
        };
        let got = characterize_fn(ops, Method::Exhaustive, "", false, f);
        same_integers(&got, &brute_acc(7, signed, &f), &format!("signed={signed}"));
        assert!(got.max_abs >= 1 << 40);
        // Some pairs landed in the bins of exactly +29 % and -7 %.
        assert!(got.rel_hist[29 + 101] > 0 && got.rel_hist[101 - 7] > 0);
    }
}
