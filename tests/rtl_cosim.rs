//! The emitted Verilog, run in Icarus, matches the in-process rust-hdl simulation cycle by
//! cycle on random vectors (all ports, every cycle). This is what catches Rust-vs-Verilog
//! width disagreements (expression sizing, X from out-of-range selects) that lint cannot.
//! The vectors are the self-check's: extremes first (max-magnitude weights x most negative
//! activations, the full `max_dot_len`, all-zero groups; guarded in tests/extremes.rs), then
//! random; the in-process results are checked against the exact dot products too.
//! Needs iverilog/vvp (scripts/install-tools.sh); a missing tool fails the test.

use rust_hdl::core::block::Block;
use tetris_hdl::config::Config;
use tetris_hdl::flow::cosim::icarus_replay;
use tetris_hdl::flow::gen::{emit_block, self_check_vectors};
use tetris_hdl::flow::verilog::Header;
use tetris_hdl::hdl::design::SacDesign;
use tetris_hdl::hdl::knead_unit::KneadUnit;
use tetris_hdl::hdl::mac_pe::MacPe;
use tetris_hdl::hdl::sac_pe::SacPe;
use tetris_hdl::hdl::sim::{
    run_knead_unit, run_mac_pe, run_sac_design, run_sac_pe, KneadGroup, MacDot, SacDot, SplitMix64,
    Trace,
};
use tetris_hdl::model::encoding::Encoding;
use tetris_hdl::model::knead::knead_group;

mod common;
use common::configs::single_pe_config;
use common::trace::corrupt_28_bit_port;

/// The exact dot products, summed here.
fn exact(dots: &[MacDot]) -> Vec<i128> {
    dots.iter()
        .map(|d| {
            d.weights
                .iter()
                .zip(&d.acts)
                .map(|(&w, &a)| w as i128 * a as i128)
                .sum()
        })
        .collect()
}

fn header() -> Header {
    Header::new("cosim", "co-simulation test")
}

/// `block` emitted as the Verilog design `name` and run in Icarus (in a fresh folder) against
/// `trace`: the cycles compared.
fn replay_block<B: Block>(block: &mut B, name: &str, trace: &Trace) -> usize {
    let design = emit_block(block, name, &header()).unwrap();
    let t = tempfile::tempdir().unwrap();
    icarus_replay(&design, trace, t.path()).unwrap()
}

/// `count` self-check vectors (`seed`) of the `bits`-bit PE with stride `ks` in `enc`, and
/// the SAC PE's input for them: each dot product's weights kneaded and its activations, in
/// groups of `ks`.
fn sac_pe_vectors(
    bits: u32,
    ks: u32,
    enc: Encoding,
    count: usize,
    seed: u64,
) -> (Vec<MacDot>, Vec<SacDot>) {
    let vectors = self_check_vectors(&config(bits, ks, enc), count, seed);
    let ks = ks as usize;
    let dots = vectors
        .iter()
        .map(|d| SacDot {
            groups: d
                .weights
                .chunks(ks)
                .map(|g| knead_group(g, bits, enc))
                .collect(),
            acts: d.acts.chunks(ks).map(|g| g.to_vec()).collect(),
        })
        .collect();
    (vectors, dots)
}

fn config(bits: u32, ks: u32, enc: Encoding) -> Config {
    let mut c = single_pe_config(bits, enc);
    c.pe.ks = ks;
    c
}

#[test]
fn sac_pe_verilog_matches_rust_w4_csd() {
    let (vectors, dots) = sac_pe_vectors(4, 4, Encoding::Csd, 150, 1);
    let run = run_sac_pe::<4, 4, 2, 4, 18, 20>(&dots, Some(&mut SplitMix64(9)), true);
    assert_eq!(run.results, exact(&vectors));
    let mut pe = SacPe::<4, 4, 2, 4, 18, 20>::default();
    let n = replay_block(&mut pe, "cosim_sac", run.trace.as_ref().unwrap());
    assert!(n > 300, "{n} cycles");
}

#[test]
fn knead_unit_verilog_matches_rust_w8_csd_and_sm() {
    for csd in [true, false] {
        let mut r = SplitMix64(5);
        let groups: Vec<KneadGroup> = (0..200)
            .map(|_| KneadGroup {
                weights: (0..4)
                    .map(|_| {
                        if r.chance(1, 3) {
                            0
                        } else {
                            r.range(-127, 127)
                        }
                    })
                    .collect(),
                last: r.chance(1, 2),
            })
            .collect();
        let mut stall = SplitMix64(6);
        let n = if csd {
            let run = run_knead_unit::<8, 8, 4, 2>(&groups, true, Some(&mut stall), true);
            let mut unit = KneadUnit::<8, 8, 4, 2>::new(true);
            replay_block(&mut unit, "cosim_knead", run.trace.as_ref().unwrap())
        } else {
            let run = run_knead_unit::<8, 7, 4, 2>(&groups, false, Some(&mut stall), true);
            let mut unit = KneadUnit::<8, 7, 4, 2>::new(false);
            replay_block(&mut unit, "cosim_knead", run.trace.as_ref().unwrap())
        };
        assert!(n > 400);
    }
}

#[test]
fn mac_pe_verilog_matches_rust_w8_and_w16() {
    let mut stall = SplitMix64(3);
    let dots = self_check_vectors(&config(8, 4, Encoding::Sm), 100, 2);
    let run = run_mac_pe::<8, 8, 28>(&dots, Some(&mut stall), true);
    assert_eq!(run.results, exact(&dots));
    let mut pe = MacPe::<8, 8, 28>::default();
    replay_block(&mut pe, "cosim_mac8", run.trace.as_ref().unwrap());
    // The 16-bit extremes: results past 32 bits (up to 43 bits at max_dot_len).
    let dots = self_check_vectors(&config(16, 4, Encoding::Sm), 100, 3);
    let run = run_mac_pe::<16, 16, 44>(&dots, Some(&mut stall), true);
    assert_eq!(run.results, exact(&dots));
    assert!(run.results.iter().any(|r| r.abs() > 1i128 << 42));
    let mut pe = MacPe::<16, 16, 44>::default();
    replay_block(&mut pe, "cosim_mac16", run.trace.as_ref().unwrap());
}

#[test]
fn sac_design_verilog_matches_rust_w8_sm_ks4() {
    let dots = self_check_vectors(&config(8, 4, Encoding::Sm), 100, 4);
    let run = run_sac_design::<8, 7, 4, 2, 8, 22, 28>(&dots, false, true);
    assert_eq!(run.results, exact(&dots));
    let mut design = SacDesign::<8, 7, 4, 2, 8, 22, 28>::new(false);
    replay_block(&mut design, "cosim_design", run.trace.as_ref().unwrap());
}

#[test]
fn replay_detects_a_wrong_expectation() {
    // The testbench must be able to fail: corrupt one recorded output.
    let dots = self_check_vectors(&config(8, 4, Encoding::Sm), 5, 4);
    let mut run = run_mac_pe::<8, 8, 28>(&dots, None, true);
    let trace = run.trace.as_mut().unwrap();
    let s = trace
        .iter_mut()
        .rev()
        .find(|s| s.values.iter().any(|v| v.0 == "res_valid" && v.2 == "1'b1"))
        .unwrap();
    corrupt_28_bit_port(&mut s.values, "res");
    let d = emit_block(&mut MacPe::<8, 8, 28>::default(), "cosim_bad", &header()).unwrap();
    let t = tempfile::tempdir().unwrap();
    let e = icarus_replay(&d, &run.trace.unwrap(), t.path()).unwrap_err();
    assert!(e.to_string().contains("MISMATCH"), "{e}");
}

#[test]
fn sac_pe_verilog_matches_rust_w16_ks16_wide_result() {
    // 44-bit results and 30-bit segments: past rust-hdl's 32-bit fast path and Verilog's
    // 32-bit default expression width, with results that use those bits.
    let (vectors, dots) = sac_pe_vectors(16, 16, Encoding::Sm, 25, 8);
    let run = run_sac_pe::<15, 16, 4, 16, 30, 44>(&dots, Some(&mut SplitMix64(10)), true);
    assert_eq!(run.results, exact(&vectors));
    assert!(run.results.iter().any(|r| r.abs() > 1i128 << 42));
    let mut pe = SacPe::<15, 16, 4, 16, 30, 44>::default();
    replay_block(&mut pe, "cosim_sac16", run.trace.as_ref().unwrap());
}
