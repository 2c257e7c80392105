//! Acceptance item 5: every built-in multiplier's emitted Verilog, built with Verilator through
//! the same path as third-party netlists (`tetris characterize`), equals its Rust model on
//! every pair at 8 bits and on 1M seeded pairs at 16 bits; the Verilog is lint-clean.
//! Needs Verilator (scripts/install-tools.sh); a missing tool fails the test.

use tetris_hdl::flow::check::{verilator_lint, VERILATOR_WAIVERS, WAIVER_FILE};
use tetris_hdl::hdl::approx_mult::{emit, top_name, verilog_text};
use tetris_hdl::noise::characterize::build;
use tetris_hdl::noise::engine::sample_pairs;
use tetris_hdl::noise::models::Multiplier;

fn built(m: &Multiplier, dir: &std::path::Path) -> tetris_hdl::noise::characterize::Harness {
    let design = emit(m).unwrap();
    let file = dir.join(format!("{}.v", top_name(m)));
    std::fs::write(&file, verilog_text(&design)).unwrap();
    std::fs::write(dir.join(WAIVER_FILE), VERILATOR_WAIVERS).unwrap();
    verilator_lint(
        dir,
        &top_name(m),
        &[file.file_name().unwrap().to_string_lossy().into_owned()],
    )
    .unwrap();
    let h = build(&file, None, (None, None, None), m.width, &dir.join("work")).unwrap();
    assert_eq!(h.ports.top, top_name(m));
    assert_eq!(
        (
            h.ports.a.name.as_str(),
            h.ports.b.name.as_str(),
            h.ports.y.name.as_str()
        ),
        ("a", "b", "y")
    );
    h
}

#[test]
fn rtl_equals_model_on_every_8bit_pair() {
    let t = tempfile::tempdir().unwrap();
    for spec in [
        "kulkarni",
        "drum:k=4",
        "mitchell",
        "exact",
        "trunc:t=8,corr",
        "trunc:t=5",
        "bam:hbl=2,vbl=6",
    ] {
        let m = Multiplier::from_spec(spec, 8, false).unwrap();
        let dir = t.path().join(m.kind.slug());
        std::fs::create_dir_all(&dir).unwrap();
        let h = built(&m, &dir);
        let table = h.sweep_all(8, false).unwrap();
        let mut bad = 0;
        for a in 0..256u32 {
            for b in 0..256u32 {
                let want = m.eval(a, b);
                let got = table[((a << 8) | b) as usize];
                if got != want {
                    if bad < 5 {
                        eprintln!("{spec}: a={a} b={b} rtl={got} model={want}");
                    }
                    bad += 1;
                }
            }
        }
        assert_eq!(bad, 0, "{spec}: {bad} of 65536 pairs differ");
    }
}

#[test]
fn rtl_equals_model_on_1m_16bit_pairs() {
    let t = tempfile::tempdir().unwrap();
    let pairs = sample_pairs(16, 1_000_000, 7);
    for spec in ["drum:k=6", "mitchell"] {
        let m = Multiplier::from_spec(spec, 16, false).unwrap();
        let dir = t.path().join(m.kind.slug());
        std::fs::create_dir_all(&dir).unwrap();
        let h = built(&m, &dir);
        let out = h.sweep_pairs(&pairs, false, &dir).unwrap();
        let bad = pairs
            .iter()
            .zip(&out)
            .filter(|(&(a, b), &y)| m.eval(a, b) != y)
            .count();
        assert_eq!(bad, 0, "{spec}: {bad} of {} pairs differ", pairs.len());
    }
}
