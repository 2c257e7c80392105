//! `tetris sim` end to end on a small weight file written here: model and rtl engines, the
//! JSON shape of the issue, the plot, and clear errors for bad input.

use std::path::Path;
use std::process::Command;

mod common;
use common::onnx_writer::*;

fn npy(path: &Path, shape: &[usize], data: &[f32]) {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let mut h = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}",
        dims.join(", ")
    );
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    let mut buf = b"\x93NUMPY\x01\x00".to_vec();
    buf.extend((h.len() as u16).to_le_bytes());
    buf.extend(h.as_bytes());
    for x in data {
        buf.extend(x.to_le_bytes());
    }
    std::fs::write(path, buf).unwrap();
}

fn tetris() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tetris"))
}

/// Run `tetris sim --config cfg --weights weights args --json json`; it must succeed. The
/// parsed report.
fn sim_report(cfg: &Path, weights: &Path, args: &[&str], json: &Path) -> serde_json::Value {
    let out = tetris()
        .args(["sim", "--config"])
        .arg(cfg)
        .arg("--weights")
        .arg(weights)
        .args(args)
        .arg("--json")
        .arg(json)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
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
        assert!(dir.path().join(format!("{engine}.svg")).exists());
    }
}

#[test]
fn sim_bad_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = small_config(dir.path());
    let bad = dir.path().join("bad.npy");
    std::fs::write(&bad, b"not numpy").unwrap();
    let out = tetris()
        .args(["sim", "--config"])
        .arg(&cfg)
        .arg("--weights")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("bad.npy") && e.contains("NUMPY"), "{e}");
    let onnx = dir.path().join("x.onnx");
    std::fs::write(&onnx, [0x3a, 0x05, 0x0a]).unwrap();
    let out = tetris()
        .args(["sim", "--weights"])
        .arg(&onnx)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("x.onnx"));
    let w = dir.path().join("w.npy");
    npy(&w, &[2, 2], &[1.0, f32::NAN, 0.5, 0.25]);
    let json = dir.path().join("out.json");
    let out = tetris()
        .args(["sim", "--weights"])
        .arg(&w)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NaN"));
    assert!(!json.exists(), "no half-written output");
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
