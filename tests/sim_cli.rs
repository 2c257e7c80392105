//! `tetris sim` end to end on a small weight file written here: model and rtl engines, the
//! JSON shape of the issue, the plot, and clear errors for bad input.

use std::path::Path;

mod common;
use common::cli::{read_json, run_fails, run_ok, run_ok_stdout, tetris, CommandExt};
use common::npy::write_npy_f32 as npy;
use common::onnx_writer::*;

/// Run `tetris sim --config cfg --weights weights args --json json`; it must succeed. The
/// parsed report.
fn sim_report(cfg: &Path, weights: &Path, args: &[&str], json: &Path) -> serde_json::Value {
    run_ok(
        tetris()
            .args(["sim", "--config"])
            .arg(cfg)
            .opt("--weights", weights)
            .args(args)
            .opt("--json", json),
    );
    read_json(json)
}

fn small_config(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("a.toml");
    std::fs::write(
        &p,
        "[array]\nrows = 2\ncols = 3\n[pe]\nkind = \"sac\"\nweight_bits = 8\nact_bits = 8\nks = 16\nencoding = \"csd\"\n[top]\nname = \"t\"\n",
    )
    .unwrap();
    p
}

#[test]
fn sim_model_and_rtl_write_the_issue_json() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = small_config(dir.path());
    let w = dir.path().join("conv.npy");
    // 5 filters, 3 channels, 3x3 kernel: a Laplace-ish spread of weights.
    let data: Vec<f32> = (0..5 * 3 * 9)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / (1.0 + (i % 7) as f32))
        .collect();
    npy(&w, &[5, 3, 3, 3], &data);
    let mut model_layer = serde_json::Value::Null;
    for engine in ["model", "rtl"] {
        let json = dir.path().join(format!("{engine}.json"));
        let args = ["--engine", engine, "--input-hw", "4,5", "--rtl-tiles", "3"];
        let v = sim_report(&cfg, &w, &args, &json);
        let layer = &v["layers"][0];
        for key in [
            "name",
            "op",
            "tetris_cycles",
            "mac_cycles",
            "speedup",
            "ideal_speedup",
            "ideal_share",
            "utilization",
        ] {
            assert!(!layer[key].is_null(), "{engine}: layers[0].{key} missing");
        }
        // The total names its two ideal speedups apart.
        for key in [
            "tetris_cycles",
            "mac_cycles",
            "speedup",
            "ideal_speedup_by_work",
            "ideal_speedup_by_weights",
            "ideal_share",
            "utilization",
        ] {
            assert!(!v["total"][key].is_null(), "{engine}: total.{key} missing");
        }
        assert!(v["total"].get("ideal_speedup").is_none());
        assert!(v["settings"]["activations"].is_string());
        assert_eq!(v["settings"]["input_hw"], serde_json::json!([4, 5]));
        let t = layer["tetris_cycles"].as_u64().unwrap();
        let m = layer["mac_cycles"].as_u64().unwrap();
        assert!(t > 0 && m >= t, "{engine}: {t} vs {m}");
        if engine == "rtl" {
            assert_eq!(layer["outputs_match"], true);
            assert_eq!(layer["model_agrees"], true);
            // The layer row is the whole layer (the cycle model's); the RTL's own run of 3 of
            // its 4x5/2 = 10 pixel tiles is labelled apart, with the MACs of those tiles.
            assert_eq!(layer["tetris_cycles"], model_layer["tetris_cycles"]);
            assert_eq!(layer["mac_cycles"], model_layer["mac_cycles"]);
            let s = &layer["rtl_sample"];
            assert_eq!(s["tiles"], 3);
            assert_eq!(s["of_tiles"], 10);
            assert_eq!(
                s["macs"],
                3 * 2 * 5 * 27,
                "3 tiles of 2 pixels x 5 filters x 27"
            );
            let st = s["tetris_cycles"].as_u64().unwrap();
            assert!(st > 0 && st < t, "sampled {st} vs whole layer {t}");
        } else {
            assert!(layer.get("outputs_match").is_none());
            assert!(layer.get("rtl_sample").is_none());
            model_layer = layer.clone();
        }
        // The plot: one bar per layer whose hover text carries the JSON's speedup, and the
        // total in the title.
        let svg = std::fs::read_to_string(dir.path().join(format!("{engine}.svg"))).unwrap();
        let speedup = layer["speedup"].as_f64().unwrap();
        assert!(
            svg.contains(&format!(": {speedup:.3}x (ideal")),
            "{engine}.svg lacks the layer's speedup {speedup:.3}: {svg}"
        );
        assert!(
            svg.contains("Total ") && svg.trim_end().ends_with("</svg>"),
            "{svg}"
        );
    }
}

#[test]
fn sim_bad_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = small_config(dir.path());
    let bad = dir.path().join("bad.npy");
    std::fs::write(&bad, b"not numpy").unwrap();
    let e = run_fails(
        tetris()
            .args(["sim", "--config"])
            .arg(&cfg)
            .opt("--weights", &bad),
    );
    assert!(e.contains("bad.npy") && e.contains("NUMPY"), "{e}");
    let onnx = dir.path().join("x.onnx");
    std::fs::write(&onnx, [0x3a, 0x05, 0x0a]).unwrap();
    let e = run_fails(tetris().args(["sim", "--weights"]).arg(&onnx));
    assert!(e.contains("x.onnx"));
    let w = dir.path().join("w.npy");
    npy(&w, &[2, 2], &[1.0, f32::NAN, 0.5, 0.25]);
    let json = dir.path().join("out.json");
    let e = run_fails(
        tetris()
            .args(["sim", "--weights"])
            .arg(&w)
            .opt("--json", &json),
    );
    assert!(e.contains("NaN"));
    assert!(!json.exists(), "no half-written output");
    // Dot products longer than the accumulators are sized for: refused by both RTL engines,
    // by Verilator's before its build.
    let long = dir.path().join("long.npy");
    npy(&long, &[2, 4700], &vec![0.5; 2 * 4700]);
    for engine in ["rtl", "verilator"] {
        let e = run_fails(
            tetris()
                .args(["sim", "--engine", engine, "--config"])
                .arg(&cfg)
                .opt("--weights", &long)
                .opt("--cache-dir", dir.path().join("cache"))
                .opt("--json", &json),
        );
        assert!(
            e.contains("long.npy")
                && e.contains("4700 terms")
                && e.contains("pe.max_dot_len = 4608"),
            "{engine}: {e}"
        );
        assert!(
            !e.contains("emitted and built") && !e.contains("taken from the build cache"),
            "{engine} built before refusing: {e}"
        );
        assert!(!json.exists(), "no half-written output");
    }
}

/// IEEE half-precision bits of `x`, which must be exactly representable (normal or zero).
fn f16_bits(x: f32) -> u16 {
    if x == 0.0 {
        return 0;
    }
    let b = x.to_bits();
    let exp = ((b >> 23) & 0xff) as i32 - 127 + 15;
    assert!(
        (1..31).contains(&exp) && b & 0x1fff == 0,
        "{x} is not exact in f16"
    );
    ((b >> 16) & 0x8000) as u16 | (exp as u16) << 10 | ((b >> 13) & 0x3ff) as u16
}

/// A small network exercising what `sim` reads from ONNX: a graph input with a symbolic
/// height, Conv strides/pads, Resize scales from a Constant node, Conv with auto_pad, Flatten,
/// Gemm transB. `encoded`: the first conv's weights as float16 and the second conv's as int8
/// behind a per-channel DequantizeLinear; otherwise the same real values as float32.
fn sim_network(encoded: bool) -> Vec<u8> {
    // Values k/8 with few significant bits: exact in f16 and in f32.
    let w1: Vec<f32> = (0..4 * 3 * 9)
        .map(|i| ((i * 7 % 27) as f32 - 13.0) / 8.0)
        .collect();
    let q2: Vec<i8> = (0..2 * 4 * 9).map(|i| (i * 37 % 255) as i8).collect();
    let (scale2, zero2) = ([0.25f32, 0.5], [3i8, -2]);
    let w2: Vec<f32> = q2
        .iter()
        .enumerate()
        .map(|(i, &q)| (q as f32 - zero2[i / 36] as f32) * scale2[i / 36])
        .collect();
    let w3: Vec<f32> = (0..5 * 24)
        .map(|i| ((i * 11 % 17) as f32 - 8.0) / 4.0)
        .collect();
    let mut inits = vec![tensor("w3", &[5, 24], Data::Raw(&w3))];
    let mut nodes = vec![];
    if encoded {
        let raw1: Vec<u8> = w1.iter().flat_map(|&x| f16_bits(x).to_le_bytes()).collect();
        let raw2: Vec<u8> = q2.iter().map(|&q| q as u8).collect();
        let rawz: Vec<u8> = zero2.iter().map(|&z| z as u8).collect();
        inits.push(tensor_raw("w1", &[4, 3, 3, 3], 10, &raw1)); // FLOAT16
        inits.push(tensor_raw("q2", &[2, 4, 3, 3], 3, &raw2)); // INT8
        inits.push(tensor("s2", &[2], Data::Packed(&scale2)));
        inits.push(tensor_raw("z2", &[2], 3, &rawz));
        nodes.push(node(
            "dq2",
            "DequantizeLinear",
            &["q2", "s2", "z2"],
            &["w2"],
            &[attr_int("axis", 0)],
        ));
    } else {
        inits.push(tensor("w1", &[4, 3, 3, 3], Data::Raw(&w1)));
        inits.push(tensor("w2", &[2, 4, 3, 3], Data::Unpacked(&w2)));
    }
    let scales = tensor("", &[4], Data::Raw(&[1.0, 1.0, 2.0, 2.0]));
    nodes.extend([
        node(
            "c1",
            "Conv",
            &["x", "w1"],
            &["y1"],
            &[
                attr_ints("strides", &[2, 2]),
                attr_ints("pads", &[1, 1, 1, 1]),
            ],
        ),
        node(
            "k",
            "Constant",
            &[],
            &["s"],
            &[attr_tensor("value", scales)],
        ),
        node("up", "Resize", &["y1", "", "s"], &["y2"], &[]),
        node(
            "c2",
            "Conv",
            &["y2", "w2"],
            &["y3"],
            &[
                attr_string("auto_pad", "SAME_UPPER"),
                attr_ints("strides", &[2, 2]),
            ],
        ),
        node("flat", "Flatten", &["y3"], &["f"], &[]),
        node("fc", "Gemm", &["f", "w3"], &["z"], &[attr_int("transB", 1)]),
    ]);
    model_with_inputs(
        &nodes,
        &inits,
        &[value_info("x", &[Some(1), Some(3), None, Some(8)])],
    )
}

#[test]
fn sim_reads_onnx_shapes_attributes_and_encoded_weights() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = small_config(dir.path());
    let mut reports = vec![];
    for encoded in [false, true] {
        let w = dir.path().join(format!("net_{encoded}.onnx"));
        std::fs::write(&w, sim_network(encoded)).unwrap();
        let json = dir.path().join(format!("net_{encoded}.json"));
        // The declared width 8 wins over 5; the symbolic height becomes 6.
        let v = sim_report(&cfg, &w, &["--input-hw", "6,5"], &json);
        let layers = v["layers"].as_array().unwrap().clone();
        // c1: 6x8 input, 3x3 kernel, stride 2, pads 1 -> 3x4 pixels, 4 filters of 3*9.
        // up: x2 -> 6x8. c2: SAME, stride 2 -> 3x4 pixels, 2 filters of 4*9. fc: 5 x 24.
        let want = [
            ("c1", 3 * 4 * 4 * 27, 4 * 27),
            ("c2", 3 * 4 * 2 * 36, 2 * 36),
            ("fc", 5 * 24, 5 * 24),
        ];
        assert_eq!(layers.len(), want.len(), "{v}");
        for (l, (name, macs, weights)) in layers.iter().zip(want) {
            assert_eq!(l["name"], name);
            assert_eq!(l["macs"], macs, "{name}");
            assert_eq!(l["weights"], weights, "{name}");
        }
        reports.push(layers);
    }
    // Same real weights, so the same kneaded lengths, cycles and ideal speedups.
    assert_eq!(reports[0], reports[1]);
}

/// Non-zero digit positions of the non-adjacent form (CSD) of `v >= 0`, by the textbook
/// recurrence: an odd v takes the digit 2 - (v mod 4) (so +1 or -1), then halve.
fn naf_positions(mut v: i64) -> Vec<usize> {
    let mut out = vec![];
    let mut pos = 0;
    while v != 0 {
        if v % 2 != 0 {
            v -= 2 - v % 4;
            out.push(pos);
        }
        v /= 2;
        pos += 1;
    }
    out
}

/// `tetris sim`'s cycles, speedup and utilizations against a count done here from first
/// principles, for both engines (the RTL one also reports its own sampled run). On a
/// rows x 1 array every column beat runs back to back: the first activation write takes a
/// cycle, each kneading group of a filter costs its kneaded length (the largest per-digit
/// count of non-zero CSD digits over its KS weights), an all-zero group costs nothing unless
/// it is the last of its filter (one null beat carries `last`), and the result is read a cycle
/// after the last beat; a MAC column costs one cycle per weight.
#[test]
fn sim_speedup_and_utilization_equal_an_independent_count() {
    let dir = tempfile::tempdir().unwrap();
    let (rows, ks) = (3usize, 16usize);
    let cfg = dir.path().join("r3.toml");
    std::fs::write(
        &cfg,
        format!("[array]\nrows = {rows}\ncols = 1\n[pe]\nkind = \"sac\"\nweight_bits = 8\nact_bits = 8\nks = {ks}\nencoding = \"csd\"\n[top]\nname = \"t\"\n"),
    )
    .unwrap();
    // 4 filters of 3x3x3 = 27 weights (2 kneading groups: 16 + 11). Integers with max |w| =
    // 127, so the 8-bit max-abs quantization is the identity. Filter 2's first group and
    // filter 3's last group are all zero.
    let (cout, dot) = (4usize, 27usize);
    let q: Vec<i64> = (0..cout * dot)
        .map(|i| {
            let (o, k) = (i / dot, i % dot);
            match (o, k) {
                (0, 0) => 127,
                (2, k) if k < ks => 0,
                (3, k) if k >= ks => 0,
                _ => ((i * 37 + 11) % 255) as i64 - 127,
            }
        })
        .collect();
    let w = dir.path().join("conv.npy");
    let data: Vec<f32> = q.iter().map(|&v| v as f32).collect();
    npy(&w, &[cout, 3, 3, 3], &data);

    // Kneaded lengths and beat costs, counted here.
    let mut lens_sum = 0u64;
    let mut sac_cost = 0u64;
    for f in q.chunks(dot) {
        let groups: Vec<&[i64]> = f.chunks(ks).collect();
        for (g, group) in groups.iter().enumerate() {
            let mut per_digit = [0u64; 16];
            for &v in group.iter() {
                for p in naf_positions(v.abs()) {
                    per_digit[p] += 1;
                }
            }
            let len = *per_digit.iter().max().unwrap();
            lens_sum += len;
            sac_cost += match (len, g + 1 == groups.len()) {
                (0, true) => 1,
                (len, _) => len,
            };
        }
    }
    // Input 4x5, same padding, stride 1: 20 output pixels, 7 tiles of 3 rows.
    let pixels = 20u64;
    let tiles = pixels.div_ceil(rows as u64);
    let pes = rows as f64;
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
    for (engine, run_tiles) in [("model", tiles), ("rtl", tiles), ("rtl", 2)] {
        let json = dir.path().join(format!("{engine}{run_tiles}.json"));
        let n = run_tiles.to_string();
        let args = ["--engine", engine, "--input-hw", "4,5", "--rtl-tiles", &n];
        let v = sim_report(&cfg, &w, &args, &json);
        let l = &v["layers"][0];
        let what = format!("{engine} on {run_tiles} tiles");
        // The layer row is the whole layer; the RTL's own run is its rtl_sample.
        let cycles = |tiles: u64| (2 + tiles * sac_cost, 2 + tiles * cout as u64 * dot as u64);
        let (t, m) = cycles(tiles);
        assert_eq!(l["tetris_cycles"], t, "{what}");
        assert_eq!(l["mac_cycles"], m, "{what}");
        if engine == "rtl" {
            let s = &l["rtl_sample"];
            let (st, sm) = cycles(run_tiles);
            assert_eq!(s["tetris_cycles"], st, "{what}");
            assert_eq!(s["mac_cycles"], sm, "{what}");
            assert_eq!(s["tiles"], run_tiles, "{what}");
            assert_eq!(s["of_tiles"], tiles, "{what}");
            // The 2 sampled tiles are evenly spaced (0 and 3), both full; all 7 hold the 20
            // pixels.
            let ran = if run_tiles == tiles {
                pixels
            } else {
                run_tiles * rows as u64
            };
            assert_eq!(s["macs"], ran * (cout * dot) as u64, "{what}");
            let sp = s["speedup"].as_f64().unwrap();
            assert!(
                close(sp, sm as f64 / st as f64),
                "{what}: sample speedup {sp}"
            );
        }
        let f = |k: &str| l[k].as_f64().unwrap();
        assert!(close(f("speedup"), m as f64 / t as f64), "{what}");
        let ideal = (cout * dot) as f64 / lens_sum as f64;
        assert!(close(f("ideal_speedup"), ideal), "{what}");
        assert!(
            close(f("ideal_share"), m as f64 / t as f64 / ideal),
            "{what}"
        );
        // Useful PE cycles of the layer's pixels over the PE-cycles spent.
        assert!(
            close(
                f("utilization"),
                lens_sum as f64 * pixels as f64 / (pes * t as f64)
            ),
            "{what}: {}",
            f("utilization")
        );
        assert!(
            close(
                f("mac_utilization"),
                (cout * dot) as f64 * pixels as f64 / (pes * m as f64)
            ),
            "{what}"
        );
        // The only layer: the totals are its figures.
        assert_eq!(v["total"]["tetris_cycles"], t, "{what}");
        assert_eq!(v["total"]["mac_cycles"], m, "{what}");
        for k in ["speedup", "utilization", "mac_utilization"] {
            let total = v["total"][k].as_f64().unwrap();
            assert!(close(total, f(k)), "{what}: total.{k} {total}");
        }
    }
}

/// A layer whose weights are all zero leaves nothing after kneading, so its per-group bound is
/// unbounded: null in the JSON, None in the typed report a program reads back, a share of 0,
/// and `inf` in the table.
#[test]
fn an_all_zero_layer_has_an_unbounded_ideal_speedup() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = small_config(dir.path());
    let w = dir.path().join("zero.npy");
    npy(&w, &[4, 3, 3, 3], &[0.0; 4 * 27]);
    let json = dir.path().join("zero.json");
    let table = run_ok_stdout(
        tetris()
            .args(["sim", "--config"])
            .arg(&cfg)
            .opt("--weights", &w)
            .args(["--input-hw", "4,5"])
            .opt("--json", &json),
    );
    let v = read_json(&json);
    assert!(v["layers"][0]["ideal_speedup"].is_null(), "{v}");
    assert!(v["total"]["ideal_speedup_by_work"].is_null(), "{v}");
    assert!(v["total"]["ideal_speedup_by_weights"].is_null(), "{v}");
    let doc: tetris_hdl::flow::sim_run::SimDoc = tetris_hdl::fsutil::read_json(&json).unwrap();
    let layer = &doc.layers[0];
    assert_eq!(layer.ideal_speedup, None);
    assert_eq!(layer.run.ideal_share, 0.0);
    assert!(
        layer.run.speedup > 0.0 && layer.run.tetris_cycles > 0,
        "{layer:?}"
    );
    assert_eq!(doc.total.ideal_speedup_by_work, None);
    assert_eq!(doc.total.run.ideal_share, 0.0);
    assert!(table.contains("inf"), "{table}");
}
