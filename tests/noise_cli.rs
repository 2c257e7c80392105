//! `tetris noise-profile` and `tetris characterize` end to end: the JSON schema, the LUT files
//! (checked value by value against the model), bad input (clear error, non-zero exit, nothing
//! written), and a third-party-style gate-level netlist through Verilator (needs Verilator).

mod common;
use common::cli::{
    characterize, noise_profile, read_json, read_text, run_ok, run_required, temp_dir_with_file,
    tetris, CommandExt,
};
use serde_json::Value;
use std::process::Command;

/// A W x W multiplier with Verilog parameters: the exact product with its DROP low bits
/// cleared.
const PMUL_V: &str = "// Exact W x W product with its DROP low bits cleared.\n\
     module pmul #(parameter W = 4, parameter DROP = 0)\n\
       (input [W-1:0] a, input [W-1:0] b, output [2*W-1:0] y);\n\
       wire [2*W-1:0] p = a * b;\n\
       assign y = (p >> DROP) << DROP;\n\
     endmodule\n";

/// An 8x8 multiplier that ignores the lowest bit of port x: y = w * (x & ~1).
const LSB_MUL_V: &str = "module lsb_mul(input [7:0] w, input [7:0] x, output [15:0] y);\n  assign y = w * {x[7:1], 1'b0};\nendmodule\n";

#[test]
fn noise_profile_writes_schema_and_luts() {
    let t = tempfile::tempdir().unwrap();
    let p = |n: &str| t.path().join(n);
    run_ok(
        noise_profile("drum:k=4", "8")
            .opt("--json", p("d.json"))
            .opt("--toml", p("d.toml"))
            .opt("--lut-bin", p("d.bin"))
            .opt("--lut-npy", p("d.npy"))
            .opt("--lut-header", p("d.h"))
            .opt("--plot", p("d.svg")),
    );
    let doc: Value = read_json(&p("d.json"));
    assert_eq!(doc["multiplier"]["spec"], "drum:k=4");
    assert_eq!(doc["multiplier"]["width"], 8);
    assert_eq!(doc["method"]["exhaustive"], true);
    for k in [
        "mae",
        "mae_percent",
        "wce",
        "wce_percent",
        "wcre_percent",
        "ep_percent",
        "mre_percent",
        "mse",
        "mean_error",
        "std_error",
        "mean_rel_error",
        "std_rel_error",
    ] {
        assert!(doc["metrics"][k].is_number(), "metrics.{k}");
    }
    assert!(
        doc["histograms"]["error_log2"]["bins"]
            .as_array()
            .unwrap()
            .len()
            > 3
    );
    assert_eq!(doc["by_magnitude"]["count"].as_array().unwrap().len(), 9);
    assert!(doc["noise_model"]["integer"]["std"].as_f64().unwrap() > 0.0);
    let toml_text = std::fs::read_to_string(p("d.toml")).unwrap();
    let back: toml::Value = toml::from_str(&toml_text).unwrap();
    assert_eq!(
        back["metrics"]["wce"].as_integer().unwrap() as u64,
        doc["metrics"]["wce"].as_u64().unwrap()
    );
    // The tables' layout (their values are checked from first principles in
    // `tables_follow_the_frameworks_from_first_principles`).
    let bin = std::fs::read(p("d.bin")).unwrap();
    assert_eq!(bin.len(), 2 * 65536);
    let npy = std::fs::read(p("d.npy")).unwrap();
    assert_eq!(&npy[..6], b"\x93NUMPY");
    let hl = u16::from_le_bytes([npy[8], npy[9]]) as usize;
    assert_eq!((10 + hl) % 64, 0);
    assert!(String::from_utf8_lossy(&npy[10..10 + hl]).contains("'shape': (256, 256)"));
    assert_eq!(npy.len() - 10 - hl, 4 * 65536);
    let h = std::fs::read_to_string(p("d.h")).unwrap();
    assert!(
        h.contains("static const uint16_t lut[256][256]"),
        "{}",
        &h[..300]
    );
    assert_eq!(h.matches('{').count(), 257);
    assert_eq!(
        doc["multiplier"]["operand_roles"]["activation"]["operand"],
        "b"
    );
    assert_eq!(doc["multiplier"]["operand_roles"]["weight"]["operand"], "a");
    assert!(read_text(&p("d.svg")).starts_with("<svg"));
}

#[test]
fn signed_header_is_int16() {
    let t = tempfile::tempdir().unwrap();
    run_ok(
        noise_profile("mitchell", "8")
            .args(["--signed", "--lut-header"])
            .arg(t.path().join("m.h")),
    );
    let h = std::fs::read_to_string(t.path().join("m.h")).unwrap();
    assert!(h.contains("static const int16_t lut[256][256]"));
    // Row 0x80 (-128) times column 0xff (-1) is +128 for the sign-magnitude wrapper.
    let row = h
        .lines()
        .filter(|l| l.starts_with("  {"))
        .nth(0x80)
        .unwrap();
    let v: Vec<i64> = row
        .trim_matches(|c| c == ' ' || c == '{' || c == '}' || c == ',')
        .split(',')
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(v[0xff], 128);
}

#[test]
fn bad_input_fails_cleanly() {
    let t = tempfile::tempdir().unwrap();
    let j = t.path().join("x.json");
    let rtl_dir = t.path().join("rtl_out");
    let rtl_dir_arg = rtl_dir.to_string_lossy().into_owned();
    for (args, msg) in [
        (vec!["--mult", "drum:k=20", "--width", "8"], "drum: k=20"),
        (
            vec!["--mult", "booth", "--width", "8"],
            "unknown multiplier `booth`",
        ),
        (vec!["--mult", "trunc:t=x", "--width", "8"], "parameter `t`"),
        (
            vec!["--mult", "exact", "--width", "10", "--lut-npy", "y.npy"],
            "need --width 8",
        ),
        (
            vec![
                "--mult",
                "exact",
                "--width",
                "8",
                "--signed",
                "--lut-bin",
                "y.bin",
            ],
            "unsigned 8-bit only",
        ),
        (
            vec!["--mult", "exact", "--width", "8", "--plot", "y.pdf"],
            "must end in .svg or .png",
        ),
        (
            vec![
                "--mult",
                "trunc:t=16,corr",
                "--width",
                "8",
                "--emit-rtl",
                &rtl_dir_arg,
            ],
            "beyond the RTL's 16-bit unsigned product",
        ),
        (
            vec![
                "--mult",
                "exact",
                "--width",
                "8",
                "--timing-depths",
                "netlist",
            ],
            "--timing",
        ),
    ] {
        let out = tetris()
            .arg("noise-profile")
            .args(&args)
            .opt("--json", &j)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(msg), "{args:?}: {err}");
        assert!(!j.exists(), "{args:?} left output");
        assert!(!rtl_dir.exists(), "{args:?} left RTL");
    }
    std::fs::write(
        t.path().join("bad.v"),
        "module m(input [7:0] a, input [7:0] b, output [15:0] y); assign y = a * ; endmodule",
    )
    .unwrap();
    let out = characterize(&t.path().join("bad.v"), "8")
        .opt("--work-dir", t.path().join("w"))
        .opt("--json", &j)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bad.v"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!j.exists());
    // Yosys is the Verilog front end: a file it cannot read has no ports, so the width check
    // needs one that reads.
    std::fs::write(
        t.path().join("good.v"),
        "module m(input [7:0] a, input [7:0] b, output [15:0] y); assign y = a * b; endmodule",
    )
    .unwrap();
    let out = characterize(&t.path().join("good.v"), "4")
        .arg("--work-dir")
        .arg(t.path().join("w"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is 8 bits wide but --width is 4"));
}

/// A gate-level 4x4 array multiplier with half/full-adder submodules, written here, whose
/// column 0 is deliberately wrong (OR instead of AND): characterize must see exactly that.
#[test]
fn characterize_gate_level_netlist() {
    let mut v = String::from(
        "module ha(input a, input b, output s, output c); assign s = a ^ b; assign c = a & b; endmodule\n\
         module fa(input a, input b, input ci, output s, output co); assign s = a ^ b ^ ci; assign co = (a & b) | (ci & (a ^ b)); endmodule\n\
         module mul4 (X, Y, P);\n  input [3:0] X;\n  input [3:0] Y;\n  output [7:0] P;\n",
    );
    // Carry-save rows: row j adds pp(i,j) = X[i] & Y[j]; column 0 (p00) uses OR.
    v.push_str("  wire [3:0] pp0 = X & {4{Y[0]}};\n  wire [3:0] pp1 = X & {4{Y[1]}};\n  wire [3:0] pp2 = X & {4{Y[2]}};\n  wire [3:0] pp3 = X & {4{Y[3]}};\n");
    v.push_str("  assign P[0] = X[0] | Y[0];\n");
    // Ripple rows built from fa/ha instances.
    v.push_str("  wire [3:0] s1; wire [3:0] c1;\n");
    v.push_str("  ha h10(.a(pp0[1]), .b(pp1[0]), .s(P[1]), .c(c1[0]));\n");
    v.push_str("  fa f11(.a(pp0[2]), .b(pp1[1]), .ci(c1[0]), .s(s1[1]), .co(c1[1]));\n");
    v.push_str("  fa f12(.a(pp0[3]), .b(pp1[2]), .ci(c1[1]), .s(s1[2]), .co(c1[2]));\n");
    v.push_str("  ha h13(.a(pp1[3]), .b(c1[2]), .s(s1[3]), .c(c1[3]));\n");
    v.push_str("  wire [3:0] s2; wire [3:0] c2;\n");
    v.push_str("  ha h20(.a(s1[1]), .b(pp2[0]), .s(P[2]), .c(c2[0]));\n");
    v.push_str("  fa f21(.a(s1[2]), .b(pp2[1]), .ci(c2[0]), .s(s2[1]), .co(c2[1]));\n");
    v.push_str("  fa f22(.a(s1[3]), .b(pp2[2]), .ci(c2[1]), .s(s2[2]), .co(c2[2]));\n");
    v.push_str("  fa f23(.a(c1[3]), .b(pp2[3]), .ci(c2[2]), .s(s2[3]), .co(c2[3]));\n");
    v.push_str("  wire [3:0] c3;\n");
    v.push_str("  ha h30(.a(s2[1]), .b(pp3[0]), .s(P[3]), .c(c3[0]));\n");
    v.push_str("  fa f31(.a(s2[2]), .b(pp3[1]), .ci(c3[0]), .s(P[4]), .co(c3[1]));\n");
    v.push_str("  fa f32(.a(s2[3]), .b(pp3[2]), .ci(c3[1]), .s(P[5]), .co(c3[2]));\n");
    v.push_str("  fa f33(.a(c2[3]), .b(pp3[3]), .ci(c3[2]), .s(P[6]), .co(P[7]));\n");
    v.push_str("  wire unused = s1[0] ^ s2[0];\nendmodule\n");
    v = v
        .replace("  wire [3:0] s1;", "  wire [3:0] s1; assign s1[0] = 1'b0;")
        .replace("  wire [3:0] s2;", "  wire [3:0] s2; assign s2[0] = 1'b0;");
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("mul4.v");
    std::fs::write(&f, &v).unwrap();
    let j = t.path().join("m.json");
    run_ok(
        characterize(&f, "4")
            .opt("--work-dir", t.path().join("w"))
            .opt("--json", &j),
    );
    let doc: Value = read_json(&j);
    // Expected: the product with bit 0 replaced by X0|Y0; error = (X0|Y0) - (X0&Y0) = X0^Y0.
    let (mut ep, mut sum) = (0u64, 0u64);
    for x in 0..16u64 {
        for y in 0..16u64 {
            let e = (x & 1) ^ (y & 1);
            ep += e;
            sum += e;
        }
    }
    let m = &doc["metrics"];
    assert_eq!(m["pairs"], 256);
    assert_eq!(m["wce"], 1);
    assert!((m["ep_percent"].as_f64().unwrap() - 100.0 * ep as f64 / 256.0).abs() < 1e-12);
    assert!((m["mae"].as_f64().unwrap() - sum as f64 / 256.0).abs() < 1e-12);
    assert!(doc["multiplier"]["origin"]
        .as_str()
        .unwrap()
        .contains("a=X b=Y y=P[8]"));
}

#[test]
fn timing_model_profile() {
    let t = tempfile::tempdir().unwrap();
    let run = |params: &str, name: &str| -> Value {
        let j = t.path().join(name);
        run_ok(
            noise_profile("exact", "8")
                .args(["--timing", params, "--json"])
                .arg(&j),
        );
        read_json(&j)
    };
    let nominal = run("vdd=0.9", "n.json");
    let low = run("vdd=0.75", "l.json");
    assert_eq!(low["multiplier"]["spec"], "exact+timing");
    let p = low["timing_model"]["bit_error_probability"]
        .as_array()
        .unwrap();
    assert_eq!(p.len(), 16);
    // Overscaling: more and larger errors than at the nominal supply.
    let ep = |d: &Value| d["metrics"]["ep_percent"].as_f64().unwrap();
    let mae = |d: &Value| d["metrics"]["mae"].as_f64().unwrap();
    assert!(ep(&low) > ep(&nominal) && mae(&low) > mae(&nominal));
    // Deterministic for a seed.
    assert_eq!(run("vdd=0.75", "l2.json")["metrics"], low["metrics"]);
    // Static depths have no gate levels: the key is left out (a null made --toml fail with
    // "unsupported unit type"), and the profile reads back through its type.
    assert!(low["timing_model"].get("bit_gate_levels").is_none());
    let toml_path = t.path().join("l.toml");
    run_ok(
        noise_profile("exact", "8")
            .args(["--timing", "vdd=0.75", "--toml"])
            .arg(&toml_path),
    );
    let toml: toml::Value = std::fs::read_to_string(&toml_path)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        toml["timing_model"]["depth_source"].as_str(),
        Some("static")
    );
    let typed = tetris_hdl::noise::profile::Profile::read(&t.path().join("l.json")).unwrap();
    let tm = typed.timing_model.expect("a timing model");
    assert_eq!((tm.bit_depth.len(), tm.bit_gate_levels), (16, None));
    assert_eq!(
        serde_json::to_value(&typed.metrics).unwrap(),
        low["metrics"]
    );
    let out = noise_profile("exact", "8")
        .args(["--timing", "vdd=0.75", "--lut-npy"])
        .arg(t.path().join("x.npy"))
        .output()
        .unwrap();
    assert!(!out.status.success() && !t.path().join("x.npy").exists());
}

/// `noise-profile --emit-rtl` of a signed odd-width multiplier, then `characterize` of that
/// Verilog: the two profiles' metrics are the same (model vs Verilator, every pair).
#[test]
fn emitted_signed_rtl_characterizes_like_the_model() {
    let t = tempfile::tempdir().unwrap();
    let p = |n: &str| t.path().join(n);
    run_ok(
        noise_profile("drum:k=3", "7")
            .arg("--signed")
            .opt("--emit-rtl", p("rtl"))
            .opt("--json", p("model.json")),
    );
    let files = std::fs::read_to_string(p("rtl/files.f")).unwrap();
    // Children first: the leading-one finder, the multiplier core, the top.
    assert_eq!(
        files,
        "axm_drum_k3_s7_lead.v\naxm_drum_k3_s7_core.v\naxm_drum_k3_s7.v\n"
    );
    let mut all = String::new();
    for f in files.lines() {
        all += &std::fs::read_to_string(p("rtl").join(f)).unwrap();
    }
    assert!(
        !p("rtl/verilator_waivers.vlt").exists(),
        "no waiver file: the RTL is lint-clean"
    );
    std::fs::write(p("all.v"), all).unwrap();
    run_ok(
        characterize(&p("all.v"), "7")
            .arg("--signed")
            .opt("--work-dir", p("w"))
            .opt("--json", p("rtl.json")),
    );
    let read = |n: &str| -> Value { read_json(&p(n)) };
    let (model, rtl) = (read("model.json"), read("rtl.json"));
    assert_eq!(
        rtl["multiplier"]["spec"],
        format!("verilog:{}#axm_drum_k3_s7", p("all.v").display())
    );
    assert_eq!(model["metrics"]["pairs"], 16384);
    // Integer figures exactly; float sums up to rounding (the parallel reduction's order
    // varies from run to run).
    let (mm, rm) = (
        model["metrics"].as_object().unwrap(),
        rtl["metrics"].as_object().unwrap(),
    );
    assert_eq!(mm.keys().collect::<Vec<_>>(), rm.keys().collect::<Vec<_>>());
    for (k, v) in mm {
        match (v.as_f64(), rm[k].as_f64()) {
            (Some(x), Some(y)) if v.is_f64() => {
                assert!((x - y).abs() <= 1e-12 * x.abs().max(1.0), "{k}: {x} vs {y}")
            }
            _ => assert_eq!(v, &rm[k], "{k}"),
        }
    }
    assert_eq!(model["histograms"], rtl["histograms"]);
}

/// `--plot OUT.png`: a PNG that an independent decoder reads (signature, size, RGB pixels),
/// not blank, and different for two different multipliers; the SVG of the same profile too.
#[test]
fn png_plot_decodes_and_depends_on_the_multiplier() {
    let t = tempfile::tempdir().unwrap();
    let decode = |spec: &str, signed: bool| -> (u32, u32, Vec<u8>) {
        let f = t.path().join(format!(
            "{}{signed}.png",
            spec.replace([':', '=', ','], "_")
        ));
        run_ok(
            noise_profile(spec, "8")
                .args(signed.then_some("--signed"))
                .opt("--plot", &f),
        );
        let bytes = std::fs::read(&f).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    };
    let (w, h, drum) = decode("drum:k=4", false);
    assert_eq!((w, h), (1000, 480));
    let (_, _, mitchell) = decode("mitchell", true);
    assert_eq!(drum.len(), mitchell.len());
    let differing = drum
        .chunks(3)
        .zip(mitchell.chunks(3))
        .filter(|(a, b)| a != b)
        .count();
    assert!(differing > 1000, "only {differing} pixels differ");
    // Not blank: white background, black text, coloured bars.
    let colours: std::collections::BTreeSet<&[u8]> = drum.chunks(3).collect();
    assert!(colours.contains(&[0u8, 0, 0][..]) && colours.contains(&[255u8, 255, 255][..]));
    assert!(colours.len() >= 5, "{} colours", colours.len());
}

/// `--timing-depths netlist`: per-bit depths read from the Yosys netlist of the emitted RTL
/// (needs Yosys). Exact 8x8: the depth grows towards the MSBs and is not the static i + 1;
/// a corrected truncated multiplier's constant low bits have depth 0 and never fail.
#[test]
fn timing_depths_from_the_synthesized_netlist() {
    let t = tempfile::tempdir().unwrap();
    let run = |spec: &str, name: &str| -> Value {
        let j = t.path().join(name);
        run_ok(
            noise_profile(spec, "8")
                .args([
                    "--timing",
                    "vdd=0.8",
                    "--timing-depths",
                    "netlist",
                    "--json",
                ])
                .arg(&j),
        );
        read_json(&j)
    };
    let nums = |v: &Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let exact = run("exact", "e.json");
    let tm = &exact["timing_model"];
    assert_eq!(tm["depth_source"], "netlist");
    let d = nums(&tm["bit_depth"]);
    let levels = nums(&tm["bit_gate_levels"]);
    assert_eq!((d.len(), levels.len()), (16, 16));
    for i in 0..16 {
        assert_eq!(d[i], levels[i] / 2.0);
    }
    let static_d: Vec<f64> = (1..=16).map(f64::from).collect();
    assert_ne!(d, static_d);
    // Plausible for an adder array: bit 0 is one AND gate; depth grows towards the MSBs
    // (dips of at most one full adder allowed) and the deepest bit is in the upper half.
    assert_eq!(levels[0], 1.0);
    assert!(d.windows(2).all(|w| w[1] >= w[0] - 1.0), "{d:?}");
    let deepest = (0..16).max_by(|&i, &j| d[i].total_cmp(&d[j])).unwrap();
    assert!(deepest >= 8 && d[15] > d[7], "{d:?}");
    // The clock is timed on the deepest bit.
    let crit = d.iter().cloned().fold(0.0, f64::max);
    assert!((tm["clock_period"].as_f64().unwrap() - crit * 1.2).abs() < 1e-9);
    let p = nums(&tm["bit_error_probability"]);
    assert!(p[15] > 0.1 && p[0] == 0.0, "{p:?}");
    assert!(exact["metrics"]["ep_percent"].as_f64().unwrap() > 0.0);

    // trunc:t=6,corr: columns 0..5 are the constant 80 = 0b1010000 -> bits 0..5 constant.
    let tr = run("trunc:t=6,corr", "t.json");
    assert_eq!(tr["multiplier"]["spec"], "trunc:t=6,corr+timing");
    let levels = nums(&tr["timing_model"]["bit_gate_levels"]);
    let p = nums(&tr["timing_model"]["bit_error_probability"]);
    assert!(levels[..6].iter().all(|&l| l == 0.0), "{levels:?}");
    assert!(levels[6..].iter().all(|&l| l > 0.0), "{levels:?}");
    assert!(p[..6].iter().all(|&x| x == 0.0), "{p:?}");
    // Same profile format as without timing errors.
    for k in [
        "metrics",
        "histograms",
        "by_magnitude",
        "noise_model",
        "method",
    ] {
        assert!(tr[k].is_object(), "{k}");
    }
    assert!(tr["metrics"]["mae"].is_number() && tr["metrics"]["wce"].is_number());
}

/// `characterize --param NAME=VALUE`: a multiplier whose width and truncation are Verilog
/// parameters. The override sets the port widths (checked against --width), reaches
/// Verilator as -G (the products change), keys the build cache and is written to the profile.
#[test]
fn characterize_with_verilog_parameters() {
    let t = temp_dir_with_file("pmul.v", PMUL_V);
    let v = t.path().join("pmul.v");
    let run = |params: &[&str], width: &str, json: &str| -> (bool, String, String) {
        let mut c = characterize(&v, width);
        for p in params {
            c.args(["--param", p]);
        }
        let out = c
            .opt("--work-dir", t.path().join("w"))
            .opt("--json", t.path().join(json))
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let read = |n: &str| -> Value { read_json(&t.path().join(n)) };
    let (ok, stdout, err) = run(&["W=6"], "6", "exact.json");
    assert!(ok && stdout.contains("(built)"), "{stdout}{err}");
    let exact = read("exact.json");
    assert_eq!(exact["metrics"]["pairs"], 4096);
    assert_eq!(exact["metrics"]["ep_percent"], 0.0);
    assert_eq!(
        exact["multiplier"]["parameters"],
        serde_json::json!({"W": 6})
    );
    let (ok, stdout, err) = run(&["W=6", "DROP=3"], "6", "drop.json");
    assert!(ok && stdout.contains("(built)"), "{stdout}{err}");
    let drop = read("drop.json");
    assert_eq!(
        drop["multiplier"]["parameters"],
        serde_json::json!({"W": 6, "DROP": 3})
    );
    // Brute force: the error is minus the 3 low bits of the product.
    let (mut ep, mut sum) = (0u64, 0u64);
    for a in 0..64u64 {
        for b in 0..64u64 {
            let low = (a * b) & 7;
            ep += (low != 0) as u64;
            sum += low;
        }
    }
    assert_eq!(drop["metrics"]["ep_percent"], 100.0 * ep as f64 / 4096.0);
    assert_eq!(drop["metrics"]["mae"], sum as f64 / 4096.0);
    assert_eq!(drop["metrics"]["wce"], 7);
    // Same parameters again: the build comes from the cache.
    let (ok, stdout, _) = run(&["DROP=3", "W=6"], "6", "drop2.json");
    assert!(ok && stdout.contains("(cached)"), "{stdout}");
    // The port widths follow the override; bad overrides are clear errors.
    for (params, width, msg) in [
        (vec!["W=6"], "4", "is 6 bits wide but --width is 4"),
        (vec!["Z=1"], "4", "no parameter `Z` (parameters: DROP, W;"),
        (vec!["W=x"], "4", "not a whole number"),
        (vec!["W=4", "W=5"], "4", "more than once"),
    ] {
        let (ok, _, err) = run(&params, width, "bad.json");
        assert!(!ok && err.contains(msg), "{params:?}: {err}");
        assert!(!t.path().join("bad.json").exists());
    }
}

/// Broken-array multiplier from its definition: partial-product bits a_i b_j of weight
/// 2^(i+j), rows j < hbl (of the second operand b) and columns i + j < vbl dropped. Not
/// symmetric: f(a, b) != f(b, a) in general.
fn bam_textbook(a: u32, b: u32, hbl: u32, vbl: u32) -> i64 {
    let mut s = 0i64;
    for i in 0..8 {
        for j in 0..8 {
            if j >= hbl && i + j >= vbl && (a >> i) & 1 == 1 && (b >> j) & 1 == 1 {
                s += 1 << (i + j);
            }
        }
    }
    s
}

/// The three tables of a run, as functions of (activation byte, weight byte).
struct Tables {
    bin: Option<Vec<u8>>,
    npy: Vec<u8>,
    header: Vec<Vec<i64>>,
}

impl Tables {
    fn read(dir: &std::path::Path) -> Tables {
        let bin = std::fs::read(dir.join("t.bin")).ok();
        let npy = std::fs::read(dir.join("t.npy")).unwrap();
        let h = std::fs::read_to_string(dir.join("t.h")).unwrap();
        let header = h
            .lines()
            .filter(|l| l.starts_with("  {"))
            .map(|l| {
                l.trim_matches(|c| c == ' ' || c == '{' || c == '}' || c == ',')
                    .split(',')
                    .map(|x| x.parse().unwrap())
                    .collect()
            })
            .collect();
        Tables { bin, npy, header }
    }

    /// Every table's entry for (activation, weight), all equal to `want`.
    fn check(&self, act: usize, wt: usize, want: i64, what: &str) {
        let i = (act << 8) | wt;
        if let Some(bin) = &self.bin {
            assert_eq!(
                u16::from_le_bytes([bin[2 * i], bin[2 * i + 1]]) as i64,
                want,
                "{what}: TFApprox entry act={act} wt={wt}"
            );
        }
        let hl = u16::from_le_bytes([self.npy[8], self.npy[9]]) as usize;
        let d = &self.npy[10 + hl + 4 * i..10 + hl + 4 * i + 4];
        assert_eq!(
            i32::from_le_bytes(d.try_into().unwrap()) as i64,
            want,
            "{what}: TorchApprox entry act={act} wt={wt}"
        );
        assert_eq!(
            self.header[act][wt], want,
            "{what}: AdaPT entry act={act} wt={wt}"
        );
    }
}

/// All three tables put the activation first (TFApprox (activation << 8) | weight, AdaPT and
/// TorchApprox lut[activation][weight]); by default the weight is operand a (port A) and the
/// activation operand b, `--activation a` swaps them. Checked on an asymmetric broken-array
/// multiplier against its definition on every entry, unsigned and signed (sign-magnitude).
#[test]
fn tables_follow_the_frameworks_from_first_principles() {
    let (hbl, vbl) = (3, 5);
    // The check can tell the orientations apart: the multiplier is asymmetric.
    assert_ne!(
        bam_textbook(200, 13, hbl, vbl),
        bam_textbook(13, 200, hbl, vbl)
    );
    for (activation, signed) in [("b", false), ("a", false), ("b", true)] {
        let t = tempfile::tempdir().unwrap();
        let p = |n: &str| t.path().join(n);
        let mut cmd = noise_profile("bam:hbl=3,vbl=5", "8");
        cmd.args(["--activation", activation])
            .args(signed.then_some("--signed"))
            .opt("--lut-npy", p("t.npy"))
            .opt("--lut-header", p("t.h"))
            .opt("--json", p("t.json"));
        if !signed {
            cmd.opt("--lut-bin", p("t.bin"));
        }
        run_ok(&mut cmd);
        let tables = Tables::read(t.path());
        let doc: Value = read_json(&p("t.json"));
        assert_eq!(
            doc["multiplier"]["operand_roles"]["activation"]["operand"],
            activation
        );
        let val = |x: usize| -> i64 {
            if signed && x >= 128 {
                x as i64 - 256
            } else {
                x as i64
            }
        };
        for act in 0..256 {
            for wt in 0..256 {
                let (va, vw) = (val(act), val(wt));
                // Operand a is the weight unless --activation a.
                let (a, b) = if activation == "b" {
                    (vw, va)
                } else {
                    (va, vw)
                };
                let mag = bam_textbook(a.unsigned_abs() as u32, b.unsigned_abs() as u32, hbl, vbl);
                let want = if (a < 0) != (b < 0) { -mag } else { mag };
                tables.check(
                    act,
                    wt,
                    want,
                    &format!("activation={activation} signed={signed}"),
                );
            }
        }
    }
}

/// A characterized Verilog multiplier that ignores the lowest bit of port b: with the default
/// roles the activation is port b, so TFApprox's entry (act << 8) | wt is wt * (act & ~1); the
/// profile names the ports. The C header is `static`: two translation units that include it
/// link into one program, which reads the entry back.
#[test]
fn characterized_tables_name_their_ports_and_link_twice() {
    let t = temp_dir_with_file("lsb.v", LSB_MUL_V);
    let p = |n: &str| t.path().join(n);
    run_ok(
        characterize(&p("lsb.v"), "8")
            .opt("--work-dir", p("w"))
            .opt("--lut-bin", p("t.bin"))
            .opt("--lut-npy", p("t.npy"))
            .opt("--lut-header", p("t.h"))
            .opt("--json", p("t.json")),
    );
    let tables = Tables::read(t.path());
    for act in 0..256usize {
        for wt in 0..256usize {
            tables.check(act, wt, (wt * (act & 0xfe)) as i64, "lsb_mul");
        }
    }
    let doc: Value = read_json(&p("t.json"));
    let roles = &doc["multiplier"]["operand_roles"];
    assert_eq!(
        (
            roles["activation"]["port"].as_str(),
            roles["weight"]["port"].as_str()
        ),
        (Some("x"), Some("w"))
    );
    // Two translation units include the header; the program links and reads lut[5][7].
    std::fs::write(
        p("one.c"),
        "#include \"t.h\"\nint one(int a, int w) { return lut[a][w]; }\n",
    )
    .unwrap();
    std::fs::write(
        p("main.c"),
        "#include <stdio.h>\n#include \"t.h\"\nint one(int, int);\nint main(void) { printf(\"%d %d\\n\", one(5, 7), lut[5][7]); return 0; }\n",
    )
    .unwrap();
    run_required(
        Command::new("cc")
            .current_dir(t.path())
            .args(["-o", "prog", "one.c", "main.c"]),
        "the C compiler `cc` is needed to check that the header links twice",
    );
    let out = run_ok(&mut Command::new(p("prog")));
    // x = 5 -> 4, w = 7: 28.
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "28 28");
}
