//! Every emitted PE design (kinds x widths 8/16 x encodings) passes Verilator lint with zero
//! warnings, Icarus -g2005 compilation and Yosys synthesis with no latch; the emitter merges
//! modules, sanitizes names and refuses what it cannot handle; gen output is atomic and the
//! committed default output does not drift from the generator.
//! The tools must be installed (scripts/install-tools.sh); a missing tool fails these tests.

use std::path::Path;
use tetris_hdl::config::{Config, PeKind};
use tetris_hdl::flow::check;
use tetris_hdl::flow::gen::{build, generate, write_outputs, ToolChecks};
use tetris_hdl::model::encoding::Encoding;

mod common;
use common::cli::{assert_clean_error, read_json, run_fails, tetris, CommandExt};
use common::configs::single_pe_config;

fn cfg(kind: PeKind, bits: u32, enc: Encoding) -> Config {
    let mut c = single_pe_config(bits, enc);
    c.pe.kind = kind;
    c.top.name = format!(
        "t_{}{}_{}",
        if kind == PeKind::Sac { "sac" } else { "mac" },
        bits,
        enc
    );
    c
}

fn check_design(c: &Config) {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let built = build(c, 20).unwrap();
    assert_eq!(built.self_check.mismatches, 0);
    let w = write_outputs(
        &out,
        c,
        &built.design,
        &built.description,
        &[],
        ToolChecks::ALL,
    )
    .unwrap_or_else(|e| panic!("{}: {e:#}", c.top.name));
    assert_eq!(w.checked_with.len(), 3);
    assert!(w.synth.unwrap().cells > 100);
    // One file per distinct module, no `$`, every module prefixed by the top name.
    let files: Vec<String> = std::fs::read_to_string(out.join("files.f"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(files.len(), built.design.modules.len());
    assert!(built.design.modules.len() < built.design.instances);
    for f in &files {
        let text = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(!text.contains('$'), "{f} contains `$`");
        assert!(
            text.starts_with(&format!("// {}", c.top.name)),
            "{f} header"
        );
        assert!(text.contains(&c.hash_hex()), "{f} lacks the config hash");
    }
    assert_eq!(files.last().unwrap(), &format!("rtl/{}.v", c.top.name));
}

/// One test per PE design, `name: kind bits encoding`, each running [`check_design`].
macro_rules! passes_all_tools {
    ($($name:ident: $kind:ident $bits:literal $enc:ident;)*) => {
        $(
            #[test]
            fn $name() {
                check_design(&cfg(PeKind::$kind, $bits, Encoding::$enc));
            }
        )*
    };
}

passes_all_tools! {
    sac_8_sm_passes_all_tools: Sac 8 Sm;
    sac_8_csd_passes_all_tools: Sac 8 Csd;
    sac_16_sm_passes_all_tools: Sac 16 Sm;
    sac_16_csd_passes_all_tools: Sac 16 Csd;
    mac_8_passes_all_tools: Mac 8 Sm;
    mac_16_passes_all_tools: Mac 16 Sm;
}

/// The MAC array's PE selects `act[kw_ptr]` with one `case` whose default is the value it
/// assigned first (netlist pass `ifs_to_case`), not with KS `if`s.
#[test]
fn mac_pe_selects_its_activation_with_one_case() {
    use tetris_hdl::netlist::{Expr, Stmt};
    let mut c = common::configs::array_config(2, 2, 8, Encoding::Sm);
    c.pe.kind = PeKind::Mac;
    let built = build(&c, 1).unwrap();
    let statements = || {
        built
            .design
            .netlist
            .modules
            .iter()
            .flat_map(|m| m.comb.iter().flat_map(|p| &p.body))
    };
    let cases: Vec<(usize, usize)> = statements()
        .filter_map(|s| match s {
            Stmt::Case(Expr::Ref(n), arms, default) if n == "kw_ptr" => {
                Some((arms.len(), default.len()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(cases, vec![(c.pe.ks as usize, 1)]);
    let mut reads = vec![];
    statements()
        .filter(|s| matches!(s, Stmt::If(..)))
        .for_each(|s| s.reads(&mut reads));
    assert!(
        !reads.iter().any(|n| n == "kw_ptr"),
        "an `if` still tests kw_ptr"
    );
}

#[test]
fn sac_pe_modules_merge_to_distinct_blocks() {
    let built = build(&cfg(PeKind::Sac, 16, Encoding::Sm), 1).unwrap();
    let names: Vec<&str> = built
        .design
        .modules
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    // 15 identical segment lanes and 16 identical digit encoders become one module each.
    assert_eq!(
        names.iter().filter(|n| n.contains("seg_lane")).count(),
        1,
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|n| n.contains("digit_encode")).count(),
        1
    );
    assert!(
        built.design.instances > 100 && names.len() < 20,
        "{names:?}"
    );
}

/// `gen`'s Yosys check synthesizes the hierarchy (each module once), yet still sees what only
/// the whole design shows: a combinational loop through two instances' ports; it refuses two
/// instance outputs driving one wire. Its cell count is the hierarchy's: a top of two instances
/// of a module counts the module's cells twice.
#[test]
fn yosys_check_sees_loops_through_ports_and_counts_every_instance() {
    let t = tempfile::tempdir().unwrap();
    let add3 = "module add3(input wire [7:0] a, output wire [7:0] y);\n    assign y = ~a + 8'd3;\nendmodule\n";
    std::fs::write(t.path().join("add3.v"), add3).unwrap();
    std::fs::write(
        t.path().join("two.v"),
        "module two(input wire [7:0] a, output wire [7:0] y);\n    wire [7:0] w;\n    \
         add3 u1(.a(a), .y(w));\n    add3 u2(.a(w), .y(y));\nendmodule\n",
    )
    .unwrap();
    std::fs::write(
        t.path().join("ring.v"),
        "module ring(input wire [7:0] a, output wire [7:0] y);\n    wire [7:0] w1, w2;\n    \
         add3 u1(.a(w2 ^ a), .y(w1));\n    add3 u2(.a(w1), .y(w2));\n    assign y = w2;\nendmodule\n",
    )
    .unwrap();
    std::fs::write(
        t.path().join("clash.v"),
        "module clash(input wire [7:0] a, input wire [7:0] b, output wire [7:0] y);\n    \
         add3 u1(.a(a), .y(y));\n    add3 u2(.a(b), .y(y));\nendmodule\n",
    )
    .unwrap();
    let files = |top: &str| vec!["add3.v".to_string(), format!("{top}.v")];
    let one = check::yosys_synth(t.path(), "add3", &files("add3")[..1]).unwrap();
    let two = check::yosys_synth(t.path(), "two", &files("two")).unwrap();
    assert!(one.cells > 0);
    assert_eq!(two.cells, 2 * one.cells, "one add3: {one:?}, two: {two:?}");
    let e = format!(
        "{:#}",
        check::yosys_synth(t.path(), "ring", &files("ring")).unwrap_err()
    );
    assert!(
        e.contains("combinational loop") && e.contains("u1") && e.contains("u2"),
        "{e}"
    );
    let e = format!(
        "{:#}",
        check::yosys_synth(t.path(), "clash", &files("clash")).unwrap_err()
    );
    assert!(e.contains("conflicting drivers"), "{e}");
}

#[test]
fn unsupported_config_names_the_fields() {
    let mut c = Config::default_config();
    c.pe.weight_bits = 12;
    c.pe.ks = 5;
    let e = format!("{:#}", build(&c, 1).err().unwrap());
    assert!(
        e.contains("pe.weight_bits = 12") && e.contains("pe.ks = 5"),
        "{e}"
    );
}

#[test]
fn failed_gen_leaves_no_directory() {
    let t = tempfile::tempdir().unwrap();
    // A parent that is a file: nothing can be written, the error names the path.
    std::fs::write(t.path().join("file"), "x").unwrap();
    let out = t.path().join("file").join("out");
    let e = generate(
        &cfg(PeKind::Mac, 8, Encoding::Sm),
        &out,
        2,
        ToolChecks::NONE,
    )
    .unwrap_err();
    assert!(format!("{e:#}").contains("file"), "{e:#}");
    assert!(!out.exists());
}

/// Files of a gen output directory, with the manifest's machine-dependent tool versions removed.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            let mut bytes = std::fs::read(&p).unwrap();
            if rel == "manifest.json" {
                let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                v.as_object_mut().unwrap().remove("checked_with");
                bytes = serde_json::to_vec_pretty(&v).unwrap();
            }
            out.push((rel, bytes));
        }
    }
    out.sort();
    out
}

#[test]
fn committed_default_output_matches_the_generator() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("hdl_out/tetris_top");
    assert!(
        committed.join("manifest.json").exists(),
        "hdl_out/tetris_top is missing: run `cargo run --release -- gen` and commit it"
    );
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("tetris_top");
    let cfg = Config::default_config();
    generate(&cfg, &out, 200, ToolChecks::NONE).unwrap();
    let (a, b) = (snapshot(&committed), snapshot(&out));
    let names = |s: &[(String, Vec<u8>)]| s.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "file sets differ");
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(
            x == y,
            "{name} differs from a fresh `tetris gen`: regenerate and commit hdl_out"
        );
    }
    // The committed manifest says which tools checked it.
    let m: serde_json::Value = read_json(&committed.join("manifest.json"));
    assert_eq!(m["checked_with"].as_object().unwrap().len(), 3);
}

#[test]
fn cli_gen_rejects_an_unsupported_config_cleanly() {
    let t = tempfile::tempdir().unwrap();
    let cfg_path = t.path().join("bad.toml");
    let text = tetris_hdl::config::DEFAULT_CONFIG_TOML.replace("ks = 16", "ks = 5");
    std::fs::write(&cfg_path, text).unwrap();
    let out = t.path().join("out");
    // With the automatic specialization off (src/specialize.rs), the width set is refused.
    let err = run_fails(
        tetris()
            .env("TETRIS_SPECIALIZE", "off")
            .args(["gen", "--no-tool-checks", "--config"])
            .arg(&cfg_path)
            .opt("--out", &out),
    );
    assert_clean_error(&err, &["pe.ks = 5", "bad.toml"]);
    assert!(!out.exists());
}
