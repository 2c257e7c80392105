//! Acceptance item 5: every built-in multiplier's emitted Verilog, unsigned and signed
//! (sign-magnitude wrapper), built with Verilator through the same path as third-party netlists
//! (`tetris characterize`: `build` + `sweep_all` / `sweep_pairs`), equals its Rust model
//! - on every pair at widths 4, 5, 6 and 8 (all 7 specs x unsigned/signed),
//! - on 200k seeded pairs at width 12 and 1M at width 16 (a representative subset of four
//!   multipliers each, two unsigned and two signed: Verilator builds are the cost).
//!
//! The rust-hdl blocks simulated in-process equal the model at every width 2..=16.
//! All emitted Verilog is lint-clean under `verilator --lint-only -Wall`.
//!
//! To keep the Verilator builds few, several multipliers of one width share a build: a small
//! test-only top instantiates them side by side on the same operands and concatenates their
//! products into one output of at most 64 bits, which the sweep harness reads back and the test
//! cuts apart. Needs Verilator (scripts/install-tools.sh); a missing tool fails the test.

use std::path::Path;
use tetris_hdl::flow::check::verilator_lint;
use tetris_hdl::flow::verilog::Design;
use tetris_hdl::hdl::approx_mult::{emit, simulate_products, top_name, verilog_text};
use tetris_hdl::noise::characterize::build;
use tetris_hdl::noise::engine::sample_pairs;
use tetris_hdl::noise::models::Multiplier;

/// One of every family at width n, parameters scaled with n (signed DRUM needs k >= 3 to fit
/// its 2n-bit product, see `check_product_fits`; at 2 bits k = 2 is the only choice).
fn specs(n: u32) -> Vec<String> {
    vec![
        "exact".into(),
        format!("trunc:t={n},corr"),
        format!("trunc:t={}", n / 2 + 1),
        format!("bam:hbl={},vbl={}", (n / 4).max(1), n - 1),
        format!("drum:k={}", (n / 2).max(3).min(n)),
        "mitchell".into(),
        "kulkarni".into(),
    ]
}

fn all(n: u32) -> Vec<Multiplier> {
    let mut v = vec![];
    for signed in [false, true] {
        for s in specs(n) {
            v.push(Multiplier::from_spec(&s, n, signed).unwrap());
        }
    }
    v
}

/// Products of `ms` (all of one width) on the operand pairs, through one Verilator build of
/// their emitted RTL side by side. `pairs = None`: every pair, in (a << n) | b order.
fn verilator_products(
    ms: &[&Multiplier],
    pairs: Option<&[(u32, u32)]>,
    dir: &Path,
) -> Vec<Vec<i64>> {
    let n = ms[0].width;
    let w2 = 2 * n as usize;
    assert!(ms.len() * w2 <= 64 && ms.iter().all(|m| m.width == n));
    std::fs::create_dir_all(dir).unwrap();
    let mut text = String::new();
    let mut inst = String::new();
    let mut cat = vec![];
    for (i, m) in ms.iter().enumerate() {
        let top = top_name(m);
        let design = emit(m).unwrap();
        lint(&design, &dir.join(&top));
        text += &verilog_text(&design);
        text += "\n";
        inst += &format!(
            "    wire [{}:0] y{i};\n    {top} u{i} (.a(a), .b(b), .y(y{i}));\n",
            w2 - 1
        );
        cat.push(format!("y{i}"));
    }
    cat.reverse(); // y0 in the low bits
    let top = format!("axm_batch_w{n}");
    text += &format!(
        "module {top} (\n    input wire [{n1}:0] a,\n    input wire [{n1}:0] b,\n    output wire [{yw}:0] y\n);\n{inst}    assign y = {{{}}};\nendmodule\n",
        cat.join(", "),
        n1 = n - 1,
        yw = ms.len() * w2 - 1
    );
    let file = dir.join(format!("{top}.v"));
    std::fs::write(&file, &text).unwrap();
    let h = build(&file, None, (None, None, None), &[], n, &dir.join("work")).unwrap();
    assert_eq!(h.ports.top, top);
    let words = match pairs {
        None => h.sweep_all(n, false).unwrap(),
        Some(p) => h.sweep_pairs(p, false).unwrap(),
    };
    (0..ms.len())
        .map(|i| {
            let sh = 64 - w2;
            words
                .iter()
                .map(|&w| {
                    let field = ((w as u64) >> (i * w2)) << sh;
                    if ms[i].signed {
                        (field as i64) >> sh
                    } else {
                        (field >> sh) as i64
                    }
                })
                .collect()
        })
        .collect()
}

/// `verilator --lint-only -Wall` of one emitted design, one file per module as `tetris gen`
/// writes them.
fn lint(d: &Design, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let mut files = vec![];
    for m in &d.modules {
        std::fs::write(dir.join(Design::file_name(m)), &m.text).unwrap();
        files.push(Design::file_name(m));
    }
    verilator_lint(dir, &d.top, &files).unwrap();
}

fn assert_matches(m: &Multiplier, pairs: &[(u32, u32)], got: &[i64], how: &str) {
    assert_eq!(got.len(), pairs.len());
    let mut bad = 0;
    for (&(a, b), &y) in pairs.iter().zip(got) {
        let want = m.eval(a, b);
        if y != want {
            if bad < 5 {
                eprintln!("{} {how}: a={a} b={b} rtl={y} model={want}", top_name(m));
            }
            bad += 1;
        }
    }
    assert_eq!(
        bad,
        0,
        "{} ({how}): {bad} of {} pairs differ",
        top_name(m),
        pairs.len()
    );
}

fn every_pair(n: u32) -> Vec<(u32, u32)> {
    (0..1u32 << n)
        .flat_map(|a| (0..1u32 << n).map(move |b| (a, b)))
        .collect()
}

#[test]
fn verilator_rtl_equals_model_on_every_pair_at_4_5_6_8_bits() {
    let t = tempfile::tempdir().unwrap();
    for n in [4u32, 5, 6, 8] {
        let ms = all(n);
        let pairs = every_pair(n);
        let per_build = 64 / (2 * n as usize);
        for (bi, chunk) in ms.chunks(per_build).enumerate() {
            let refs: Vec<&Multiplier> = chunk.iter().collect();
            let out = verilator_products(&refs, None, &t.path().join(format!("w{n}_{bi}")));
            for (m, got) in chunk.iter().zip(&out) {
                assert_matches(m, &pairs, got, "Verilator, every pair");
            }
        }
    }
}

#[test]
fn verilator_rtl_equals_model_on_sampled_12_and_16_bit_pairs() {
    let t = tempfile::tempdir().unwrap();
    for (n, count, specs) in [
        (
            12u32,
            200_000u64,
            [("bam:hbl=2,vbl=10", false), ("kulkarni", true)],
        ),
        (
            12,
            200_000,
            [("trunc:t=12,corr", true), ("drum:k=5", false)],
        ),
        (16, 1_000_000, [("drum:k=6", false), ("mitchell", false)]),
        (16, 1_000_000, [("drum:k=6", true), ("mitchell", true)]),
    ] {
        let ms: Vec<Multiplier> = specs
            .iter()
            .map(|&(s, signed)| Multiplier::from_spec(s, n, signed).unwrap())
            .collect();
        let refs: Vec<&Multiplier> = ms.iter().collect();
        let pairs = sample_pairs(n, count, 7);
        let dir = t.path().join(format!("w{n}_{}", top_name(&ms[0])));
        let out = verilator_products(&refs, Some(&pairs), &dir);
        for (m, got) in ms.iter().zip(&out) {
            assert_matches(m, &pairs, got, "Verilator, sampled");
        }
    }
}

/// The rust-hdl blocks themselves (their Rust simulation semantics) at every width: every pair
/// up to 4 bits, else 300 seeded pairs plus the corner operands (0, 1, the most negative
/// value, all ones).
#[test]
fn rust_hdl_simulation_equals_model_at_every_width() {
    for n in 2u32..=16 {
        let pairs = if n <= 4 {
            every_pair(n)
        } else {
            let corners = [0u32, 1, 1 << (n - 1), (1 << (n - 1)) - 1, (1 << n) - 1];
            let mut p = sample_pairs(n, 300, n as u64);
            for &a in &corners {
                for &b in &corners {
                    p.push((a, b));
                }
            }
            p
        };
        for signed in [false, true] {
            for s in specs(n) {
                let m = Multiplier::from_spec(&s, n, signed).unwrap();
                let got = simulate_products(&m, &pairs).unwrap();
                assert_matches(&m, &pairs, &got, "rust-hdl simulation");
            }
        }
    }
}

/// Multipliers whose model products do not fit the 2n-bit product port get a clear error.
#[test]
fn rtl_refuses_products_wider_than_the_port() {
    for (spec, n, signed, needle) in [
        ("trunc:t=16,corr", 8, false, "reach 245760"),
        ("drum:k=2", 8, true, "16-bit signed product"),
    ] {
        let m = Multiplier::from_spec(spec, n, signed).unwrap();
        let e = emit(&m).unwrap_err().to_string();
        assert!(e.contains(needle) && e.contains(spec), "{e}");
    }
}
