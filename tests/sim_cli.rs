//! `tetris sim` end to end on a small weight file written here: model and rtl engines, the
//! JSON shape of the issue, the plot, and clear errors for bad input.

use std::path::Path;
use std::process::Command;

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
    for engine in ["model", "rtl"] {
        let json = dir.path().join(format!("{engine}.json"));
        let out = tetris()
            .args(["sim", "--config"])
            .arg(&cfg)
            .arg("--weights")
            .arg(&w)
            .args([
                "--engine",
                engine,
                "--input-hw",
                "4,5",
                "--rtl-tiles",
                "3",
                "--json",
            ])
            .arg(&json)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let layer = &v["layers"][0];
        for key in [
            "name",
            "tetris_cycles",
            "mac_cycles",
            "speedup",
            "ideal_speedup",
            "ideal_share",
            "utilization",
        ] {
            assert!(!layer[key].is_null(), "{engine}: layers[0].{key} missing");
            assert!(!v["total"][key].is_null(), "{engine}: total.{key} missing");
        }
        assert!(v["settings"]["activations"].is_string());
        let t = layer["tetris_cycles"].as_u64().unwrap();
        let m = layer["mac_cycles"].as_u64().unwrap();
        assert!(t > 0 && m >= t, "{engine}: {t} vs {m}");
        if engine == "rtl" {
            assert_eq!(layer["outputs_match"], true);
            assert_eq!(layer["model_agrees"], true);
        } else {
            assert!(layer.get("outputs_match").is_none());
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
