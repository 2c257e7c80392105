//! The stimulus of `tetris gen`'s self-check and of the co-simulations reaches the extremes
//! that random vectors almost never hit, at every width the generator supports, and the
//! designs get them right in-process:
//! - max-magnitude weights of both signs against the most negative (and most positive)
//!   activations, results past 32 bits at 16-bit widths, the longest dot product the widths
//!   are derived for;
//! - all-zero kneading groups first, last and throughout.
//!
//! The guards recompute every property here with plain loops, so a generator that quietly
//! drops an extreme fails them. Verilator and Icarus run the same stimulus
//! (tests/verilator_cosim.rs, tests/rtl_cosim.rs).

mod common;
use common::configs::{single_pe_config, PE_DESIGNS};
use common::conv_oracle::oracle;
use tetris_hdl::array::mapper::kneaded_lengths;
use tetris_hdl::config::{Config, PeKind};
use tetris_hdl::flow::array_gen::random_layer_data;
use tetris_hdl::flow::gen::{build, self_check_vectors};
use tetris_hdl::flow::select::{SUPPORTED_BITS, SUPPORTED_KS};
use tetris_hdl::hdl::sim::SplitMix64;
use tetris_hdl::model::conv::ConvParams;
use tetris_hdl::model::encoding::Encoding;

fn config(kind: PeKind, bits: u32, ks: u32, enc: Encoding) -> Config {
    let mut c = single_pe_config(bits, enc);
    c.pe.kind = kind;
    c.pe.ks = ks;
    c.top.name = format!("x{bits}{ks}{enc}");
    c.validate().unwrap();
    c
}

/// (largest weight magnitude, most negative activation, most positive activation).
fn limits(bits: u32) -> (i64, i64, i64) {
    (
        (1 << (bits - 1)) - 1,
        -(1 << (bits - 1)),
        (1 << (bits - 1)) - 1,
    )
}

fn dot(w: &[i64], a: &[i64]) -> i128 {
    let mut s = 0i128;
    for i in 0..w.len() {
        s += w[i] as i128 * a[i] as i128;
    }
    s
}

#[test]
fn self_check_vectors_reach_the_extremes_at_every_width() {
    for bits in SUPPORTED_BITS {
        for ks in SUPPORTED_KS {
            let cfg = config(PeKind::Sac, bits, ks, Encoding::Sm);
            let (m, amin, amax) = limits(bits);
            let ks = ks as usize;
            let full = cfg.pe.max_dot_len as usize;
            let dots = self_check_vectors(&cfg, 30, 7);
            assert_eq!(dots.len(), 30);
            let has =
                |f: &dyn Fn(&[i64], &[i64]) -> bool| dots.iter().any(|d| f(&d.weights, &d.acts));
            let all = |v: &[i64], x: i64| v.iter().all(|&y| y == x);
            let zero_group = |w: &[i64], g: usize| all(&w[g * ks..((g + 1) * ks).min(w.len())], 0);
            let what = format!("{bits}-bit KS={ks}");
            // Max magnitude of both signs against the most negative activation, 3 groups.
            assert!(
                has(&|w, a| w.len() >= 3 * ks && all(w, m) && all(a, amin)),
                "{what}: +max x most negative"
            );
            assert!(
                has(&|w, a| w.len() >= 3 * ks && all(w, -m) && all(a, amin)),
                "{what}: -max x most negative"
            );
            assert!(
                has(&|w, a| all(w, m) && all(a, amax)),
                "{what}: +max x most positive"
            );
            // The longest dot product at the largest |result| the widths are derived for.
            let biggest = dots.iter().map(|d| dot(&d.weights, &d.acts).abs()).max();
            assert_eq!(
                biggest,
                Some(full as i128 * m as i128 * -amin as i128),
                "{what}: the largest |result|"
            );
            if bits == 16 {
                // Past 32 bits already within 3 groups, not only in the full-length dot.
                let short = dots
                    .iter()
                    .filter(|d| d.weights.len() <= 3 * ks)
                    .map(|d| dot(&d.weights, &d.acts).abs())
                    .max()
                    .unwrap();
                assert!(short > 1i128 << 32, "{what}: {short}");
            }
            // All-zero groups: a whole dot, the first of several, the last of several.
            let groups = |w: &[i64]| w.len().div_ceil(ks);
            assert!(has(&|w, _| groups(w) >= 2 && all(w, 0)), "{what}: zero dot");
            assert!(
                has(&|w, _| groups(w) >= 2 && zero_group(w, 0) && !all(w, 0)),
                "{what}: zero first group"
            );
            assert!(
                has(&|w, _| groups(w) >= 2 && zero_group(w, groups(w) - 1) && !all(w, 0)),
                "{what}: zero last group"
            );
        }
    }
}

/// The array stimulus at every width: on the gen self-check's layer shape, the oracle's
/// largest |output| is the planted extreme (past 32 bits at 16-bit), and all-zero kneading
/// groups occur first and last.
#[test]
fn array_layer_data_reaches_the_extremes_at_every_width() {
    for bits in SUPPORTED_BITS {
        let cfg = config(PeKind::Sac, bits, 4, Encoding::Sm);
        let (m, amin, _) = limits(bits);
        let p = ConvParams {
            pad: (1, 0, 1, 0),
            ..ConvParams::plain(3, 5, (3, 4), (3, 2))
        };
        let (w, x) = random_layer_data(&cfg, &p, &mut SplitMix64(3));
        let y = oracle(&p, &x, &w);
        // Output pixel 0 sees 2 of its 3 kernel rows (one is padding): 3 x 2 x 2 taps.
        let planted = 12 * m as i128 * -amin as i128;
        assert!(y.contains(&-planted) && y.contains(&planted), "{bits}-bit");
        if bits == 16 {
            assert!(planted > 1i128 << 33);
        }
        let lens = kneaded_lengths(&w, p.dot_len(), bits, Encoding::Sm, 4);
        let last = lens[0].len() - 1;
        assert!(lens
            .iter()
            .any(|l| l[0] == 0 && l[1..].iter().any(|&n| n > 0)));
        assert!(lens
            .iter()
            .any(|l| l[last] == 0 && l[..last].iter().any(|&n| n > 0)));
    }
}

/// Every PE design at every width (SAC sm and csd, MAC), in-process against the golden model
/// on the stimulus guarded above: what `tetris gen` checks before it writes anything.
#[test]
fn pe_designs_at_every_width_get_the_extremes_right_in_process() {
    for bits in SUPPORTED_BITS {
        for (kind, enc) in PE_DESIGNS {
            let cfg = config(kind, bits, 16, enc);
            let b = build(&cfg, 20).unwrap();
            let c = &b.self_check;
            assert_eq!(c.dot_products, 20, "{bits}-bit {kind:?} {enc}");
            assert_eq!(c.mismatches, 0, "{bits}-bit {kind:?} {enc}");
        }
    }
}
