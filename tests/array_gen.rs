//! `tetris gen` emits the array when `[array]` has more than one PE: the emitted Verilog passes Verilator lint,
//! Icarus compilation and (for the small one) Yosys synthesis, and the in-process self-check of
//! the array against the golden convolution has no mismatch.
//! The tools must be installed (scripts/install-tools.sh); a missing tool fails these tests.

use tetris_hdl::config::Config;
use tetris_hdl::flow::gen::{generate, ToolChecks};
use tetris_hdl::model::encoding::Encoding;

mod common;
use common::configs::array_config;

fn cfg(rows: u32, cols: u32, bits: u32, enc: Encoding) -> Config {
    let mut c = array_config(rows, cols, bits, enc);
    c.top.name = format!("arr{rows}x{cols}_{bits}{enc}");
    c
}

#[test]
fn gen_emits_checked_arrays() {
    let cases = [
        (cfg(2, 2, 8, Encoding::Sm), ToolChecks::ALL),
        (
            cfg(2, 3, 16, Encoding::Csd),
            ToolChecks {
                yosys: false,
                ..ToolChecks::ALL
            },
        ),
        (
            {
                let mut c = cfg(2, 2, 8, Encoding::Sm);
                c.pe.kind = tetris_hdl::config::PeKind::Mac;
                c.top.name = "mac2x2".into();
                c
            },
            ToolChecks::ALL,
        ),
    ];
    for (c, checks) in cases {
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("out");
        let (built, written) =
            generate(&c, &out, 40, checks).unwrap_or_else(|e| panic!("{}: {e:#}", c.top.name));
        assert_eq!(built.self_check.mismatches, 0);
        assert!(built.self_check.dot_products >= 4);
        assert!(built.description.contains("array"), "{}", built.description);
        let top =
            std::fs::read_to_string(out.join("rtl").join(format!("{}.v", c.top.name))).unwrap();
        for port in [
            "act_mask",
            "kw_valid_0",
            "out_valid_0",
            "start",
            "done",
            "cycles",
        ] {
            assert!(top.contains(port), "{}: top lacks {port}", c.top.name);
        }
        assert!(!written.checked_with.is_empty());
    }
}
