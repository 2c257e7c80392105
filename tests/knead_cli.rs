//! `tetris knead` end to end: weight files written here (npy, npz, a minimal ONNX graph made
//! with a tiny protobuf encoder), every JSON field checked against a straightforward
//! computation with the golden models, and every bad-input case run through the binary.

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;
use std::process::Output;
use tetris_hdl::model::encoding::{encode, Encoding};
use tetris_hdl::model::knead::knead_group;
use tetris_hdl::model::quant::quantize;
use tetris_hdl::weights;

mod common;
use common::cli::{
    assert_clean_error, assert_succeeded, read_json, run_ok_stdout, tetris, write_file, CommandExt,
};
use common::onnx_writer::*;
use common::pseudo_random::xorshift_states;

// ------------------------------------------------------------------ test data

/// `n` weights, small ones most often (cubes of uniform values in [-0.5, 0.5), times 3), with
/// zeros among them.
fn pseudo_random(n: usize, seed: u64) -> Vec<f32> {
    xorshift_states(seed)
        .take(n)
        .map(|x| {
            let u = (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            if x.is_multiple_of(11) {
                0.0
            } else {
                (u * u * u * 3.0) as f32
            }
        })
        .collect()
}

/// A weight tensor as the test expects it after loading: name, op, shape (output axis first)
/// and data.
struct Expected {
    name: &'static str,
    op: &'static str,
    shape: Vec<usize>,
    data: Vec<f32>,
}

impl Expected {
    fn new(name: &'static str, op: &'static str, shape: Vec<usize>, data: Vec<f32>) -> Self {
        Expected {
            name,
            op,
            shape,
            data,
        }
    }
}

// ------------------------------------------------------------------ npy / npz writers

fn npy_bytes(descr: &str, shape: &[usize], body: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_txt = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_txt}, }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((h.len() as u16).to_le_bytes());
    out.extend(h.as_bytes());
    out.extend(body);
    out
}

fn npy_f32(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let body: Vec<u8> = data.iter().flat_map(|x| x.to_le_bytes()).collect();
    npy_bytes("<f4", shape, &body)
}

fn npy_f64_be(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let body: Vec<u8> = data
        .iter()
        .flat_map(|&x| (x as f64).to_be_bytes())
        .collect();
    npy_bytes(">f8", shape, &body)
}

fn npz_bytes(entries: &[(&str, Vec<u8>, bool)]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes, deflate) in entries {
        let method = if *deflate {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        z.start_file(*name, opts).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// The minimal ONNX graph of the acceptance criteria and the layers it must load as.
fn onnx_fixture() -> (Vec<u8>, Vec<Expected>) {
    // Conv, group 2: W (Cout=4, Cin/group=3, 2, 2), initializer with packed float_data.
    let conv_w = pseudo_random(4 * 3 * 2 * 2, 1);
    // Conv whose weight is a Constant node (raw_data), seen through an Identity node.
    let const_w = pseudo_random(5 * 4 * 3 * 3, 2);
    // ConvTranspose, group 2: W (Cin=4, Cout/group=3, 2, 2), element value encodes its index.
    let mut deconv_w = Vec::new();
    for ci in 0..4 {
        for j in 0..3 {
            for k in 0..4 {
                deconv_w.push((1 + 1000 * ci + 100 * j + k) as f32 * 1e-4);
            }
        }
    }
    // Gemm transB=1: B is (N=5, K=6) already filter-major; unpacked float_data.
    let gemm_t = pseudo_random(5 * 6, 3);
    // Gemm transB=0: B is (K=6, N=4).
    let gemm_n = pseudo_random(6 * 4, 4);
    // MatMul: B is (K=6, N=3).
    let mm = pseudo_random(6 * 3, 5);

    // QDQ Conv: int8 weights (3, 2, 1, 1), per-output-channel scale and zero point (axis 0).
    let q_w: [i8; 6] = [-128, 5, 127, -3, 0, 64];
    let q_scale = [0.5f32, 0.25, 0.125];
    let q_zero: [i8; 3] = [0, 3, -2];
    let mut dq_expected = Vec::new();
    for (i, &v) in q_w.iter().enumerate() {
        let c = i / 2;
        dq_expected.push((v as f32 - q_zero[c] as f32) * q_scale[c]);
    }
    assert_eq!(dq_expected[0], -64.0);
    assert_eq!(dq_expected[3], -1.5);

    let initializers = vec![
        tensor_raw(
            "q_w",
            &[3, 2, 1, 1],
            3,
            &q_w.iter().map(|&v| v as u8).collect::<Vec<u8>>(),
        ),
        tensor("q_scale", &[3], Data::Raw(&q_scale)),
        tensor_raw(
            "q_zero",
            &[3],
            3,
            &q_zero.iter().map(|&v| v as u8).collect::<Vec<u8>>(),
        ),
        tensor("conv_w", &[4, 3, 2, 2], Data::Packed(&conv_w)),
        tensor("deconv_w", &[4, 3, 2, 2], Data::Raw(&deconv_w)),
        tensor("gemm_t_w", &[5, 6], Data::Unpacked(&gemm_t)),
        tensor("gemm_n_w", &[6, 4], Data::Raw(&gemm_n)),
        tensor("mm_w", &[6, 3], Data::Packed(&mm)),
    ];
    let nodes = vec![
        node("relu0", "Relu", &["x"], &["x0"], &[]),
        node(
            "conv_g2",
            "Conv",
            &["x0", "conv_w"],
            &["y1"],
            &[attr_int("group", 2), attr_ints("kernel_shape", &[2, 2])],
        ),
        node(
            "const_node",
            "Constant",
            &[],
            &["const_w"],
            &[attr_tensor(
                "value",
                tensor("", &[5, 4, 3, 3], Data::Raw(&const_w)),
            )],
        ),
        node("ident", "Identity", &["const_w"], &["const_w2"], &[]),
        node("conv_const", "Conv", &["y1", "const_w2"], &["y2"], &[]),
        node(
            "deconv",
            "ConvTranspose",
            &["y2", "deconv_w"],
            &["y3"],
            &[attr_int("group", 2)],
        ),
        node("flat", "Flatten", &["y3"], &["f"], &[]),
        node(
            "fc_t",
            "Gemm",
            &["f", "gemm_t_w"],
            &["g1"],
            &[attr_int("transB", 1)],
        ),
        node("fc_n", "Gemm", &["g1", "gemm_n_w"], &["g2"], &[]),
        node("mm", "MatMul", &["g2", "mm_w"], &["out"], &[]),
        // A node with a run-time weight: not a static layer.
        node("dyn", "MatMul", &["out", "g2"], &["out2"], &[]),
        node(
            "dq",
            "DequantizeLinear",
            &["q_w", "q_scale", "q_zero"],
            &["q_w_f"],
            &[attr_int("axis", 0)],
        ),
        node("qconv", "Conv", &["x", "q_w_f"], &["y9"], &[]),
    ];
    let transpose = |d: &[f32], r: usize, c: usize| -> Vec<f32> {
        let mut o = Vec::new();
        for j in 0..c {
            for i in 0..r {
                o.push(d[i * c + j]);
            }
        }
        o
    };
    // ConvTranspose row o = g*3 + j reads input channels 2g, 2g+1 of column j, each 2x2
    // kernel flipped (both axes reversed: the equivalent convolution the array runs).
    let mut deconv_rows = Vec::new();
    for o in 0..6 {
        let (g, j) = (o / 3, o % 3);
        for c in 0..2 {
            let ci = 2 * g + c;
            let k = &deconv_w[(ci * 3 + j) * 4..(ci * 3 + j) * 4 + 4];
            deconv_rows.extend([k[3], k[2], k[1], k[0]]);
        }
    }
    // Spot-check the formula against hand-written values: row 4 is (g=1, j=1): W[2][1][*]
    // then W[3][1][*], kernel positions (1,1), (1,0), (0,1), (0,0).
    let row4: Vec<f32> = [2104, 2103, 2102, 2101, 3104, 3103, 3102, 3101]
        .iter()
        .map(|&v| v as f32 * 1e-4)
        .collect();
    assert_eq!(&deconv_rows[4 * 8..5 * 8], &row4[..]);

    let expected = vec![
        Expected::new("conv_g2", "Conv", vec![4, 3, 2, 2], conv_w),
        Expected::new("conv_const", "Conv", vec![5, 4, 3, 3], const_w),
        Expected::new("deconv", "ConvTranspose", vec![6, 2, 2, 2], deconv_rows),
        Expected::new("fc_t", "Gemm", vec![5, 6], gemm_t),
        Expected::new("fc_n", "Gemm", vec![4, 6], transpose(&gemm_n, 6, 4)),
        Expected::new("mm", "MatMul", vec![3, 6], transpose(&mm, 6, 3)),
        Expected::new("qconv", "Conv", vec![3, 2, 1, 1], dq_expected),
    ];
    (model(&nodes, &initializers), expected)
}

fn npz_fixture() -> (Vec<u8>, Vec<Expected>) {
    let a = pseudo_random(8 * 3 * 3 * 3, 11);
    let b = pseudo_random(10 * 20, 12);
    let bytes = npz_bytes(&[
        ("features.0.weight.npy", npy_f32(&[8, 3, 3, 3], &a), true),
        ("classifier.weight.npy", npy_f64_be(&[10, 20], &b), false),
    ]);
    // f64 values were written from f32, so they read back exactly.
    let exp = vec![
        Expected::new("features.0.weight", "tensor", vec![8, 3, 3, 3], a),
        Expected::new("classifier.weight", "tensor", vec![10, 20], b),
    ];
    (bytes, exp)
}

// ------------------------------------------------------------------ the independent computation

struct Counts {
    weights: u64,
    zero_weights: u64,
    essential: u64,
    tetris: u64,
}

fn reference(e: &Expected, bits: u32, ks: usize, enc: Encoding, per_channel: bool) -> Counts {
    let q = quantize(&e.data, e.shape[0], bits, per_channel).unwrap();
    let per = q.len() / e.shape[0];
    let mut tetris = 0u64;
    for filter in q.chunks(per) {
        for g in filter.chunks(ks) {
            tetris += knead_group(g, bits, enc).len() as u64;
        }
    }
    Counts {
        weights: q.len() as u64,
        zero_weights: q.iter().filter(|&&v| v == 0).count() as u64,
        essential: q
            .iter()
            .map(|&v| encode(v, bits, enc).nonzero.count_ones() as u64)
            .sum(),
        tetris,
    }
}

fn close(a: &Value, b: f64, what: &str) {
    let a = a
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {a}"));
    assert!(
        (a - b).abs() <= 1e-12 * b.abs().max(1.0),
        "{what}: {a} != {b}"
    );
}

fn check_stats(v: &Value, c: &Counts, budget: u64, what: &str) {
    assert_eq!(v["weights"], c.weights, "{what} weights");
    assert_eq!(v["baseline_cycles"], c.weights, "{what} baseline_cycles");
    assert_eq!(v["essential_bits"], c.essential, "{what} essential_bits");
    assert_eq!(v["tetris_cycles"], c.tetris, "{what} tetris_cycles");
    close(
        &v["zero_weight_fraction"],
        c.zero_weights as f64 / c.weights as f64,
        &format!("{what} zero_weight_fraction"),
    );
    close(
        &v["zero_bit_fraction"],
        1.0 - c.essential as f64 / (c.weights * budget) as f64,
        &format!("{what} zero_bit_fraction"),
    );
    close(
        &v["ideal_speedup"],
        c.weights as f64 / c.tetris as f64,
        &format!("{what} ideal_speedup"),
    );
}

/// The `--ops` family of an operator.
fn kind_of(op: &str) -> &'static str {
    match op {
        "Conv" | "ConvInteger" => "conv",
        "ConvTranspose" => "convtranspose",
        "Gemm" => "gemm",
        "MatMul" | "MatMulInteger" => "matmul",
        "LSTM" | "GRU" | "RNN" => "recurrent",
        _ => "tensor",
    }
}

/// The reports of one `tetris knead` run, in a folder of their own.
struct KneadRun {
    /// The folder holding the reports and nothing else (removed on drop).
    dir: tempfile::TempDir,
    out: Output,
    json: PathBuf,
    csv: PathBuf,
}

/// Run `tetris knead --weights weights flags` with `--json` and `--csv` into a fresh folder.
fn knead_with_reports(weights: &Path, flags: &[&str]) -> KneadRun {
    let dir = tempfile::tempdir().unwrap();
    let (json, csv) = (dir.path().join("r.json"), dir.path().join("r.csv"));
    let out = tetris()
        .args(["knead", "--weights"])
        .arg(weights)
        .args(flags)
        .opt("--json", &json)
        .opt("--csv", &csv)
        .output()
        .unwrap();
    KneadRun {
        dir,
        out,
        json,
        csv,
    }
}

/// Run `tetris knead` on `file` with `flags`, then check the JSON and CSV in full.
fn check_report(file: &Path, expected: &[Expected], flags: &[&str]) {
    // `_dir` keeps the reports' folder until the end of the checks.
    let KneadRun {
        dir: _dir,
        out,
        json: json_path,
        csv: csv_path,
    } = knead_with_reports(file, flags);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{flags:?}: {stderr}");
    if file.extension().is_some_and(|e| e == "onnx") {
        assert!(
            stderr.contains("1 weighted node(s)") && stderr.contains("skipped: dyn"),
            "the run-time MatMul is reported: {stderr}"
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);

    let flag = |name: &str, default: &str| -> String {
        flags
            .iter()
            .position(|f| *f == name)
            .map(|i| flags[i + 1].to_string())
            .unwrap_or_else(|| default.to_string())
    };
    let bits: u32 = flag("--bits", "16").parse().unwrap();
    let ks: usize = flag("--ks", "16").parse().unwrap();
    let enc: Encoding = flag("--encoding", "sm").parse().unwrap();
    let per_channel = flags.contains(&"--per-channel");
    let budget = if enc == Encoding::Tc { bits } else { bits - 1 } as u64;

    let j: Value = read_json(&json_path);
    let s = &j["settings"];
    assert_eq!(s["bits"], bits);
    assert_eq!(s["ks"], ks);
    assert_eq!(s["encoding"], enc.name());
    assert_eq!(s["per_channel"], per_channel);
    assert_eq!(s["weights_file"], file.display().to_string());
    let layers = j["layers"].as_array().unwrap();
    assert_eq!(layers.len(), expected.len());
    let longest = expected
        .iter()
        .map(|e| e.shape.iter().skip(1).product::<usize>())
        .max()
        .unwrap();
    assert_eq!(j["max_dot_len"], longest);
    assert!(
        stdout.contains(&format!("longest dot product: {longest} terms")),
        "{stdout}"
    );
    let mut tot = Counts {
        weights: 0,
        zero_weights: 0,
        essential: 0,
        tetris: 0,
    };
    let mut by_kind: std::collections::BTreeMap<&str, Counts> = Default::default();
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let csv_lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        csv_lines[0],
        "name,op,shape,weights,zero_weight_fraction,zero_bit_fraction,essential_bits,baseline_cycles,tetris_cycles,ideal_speedup"
    );
    // Per-op TOTAL:kind rows come between the layers and TOTAL when there are several kinds.
    let mut kinds: Vec<&str> = expected.iter().map(|e| kind_of(e.op)).collect();
    kinds.sort();
    kinds.dedup();
    let op_rows = if kinds.len() > 1 { kinds.len() } else { 0 };
    assert_eq!(csv_lines.len(), expected.len() + op_rows + 2);
    for (i, (l, e)) in layers.iter().zip(expected).enumerate() {
        assert_eq!(l["name"], e.name);
        assert_eq!(l["op"], e.op);
        assert_eq!(l["shape"], serde_json::json!(e.shape));
        // One dot product per output channel: every weight of the filter is a term.
        let dot: usize = e.shape.iter().skip(1).product();
        assert_eq!(l["dot_len"], dot, "{} dot_len", e.name);
        let c = reference(e, bits, ks, enc, per_channel);
        check_stats(l, &c, budget, e.name);
        assert!(stdout.contains(e.name), "table lists {}", e.name);
        // The CSV row carries the same values.
        let cells: Vec<&str> = csv_lines[i + 1].split(',').collect();
        assert_eq!(cells[0], e.name);
        assert_eq!(cells[1], e.op);
        let shape_txt: Vec<String> = e.shape.iter().map(|d| d.to_string()).collect();
        assert_eq!(cells[2], shape_txt.join("x"));
        let keys = [
            "weights",
            "zero_weight_fraction",
            "zero_bit_fraction",
            "essential_bits",
            "baseline_cycles",
            "tetris_cycles",
            "ideal_speedup",
        ];
        for (k, cell) in keys.iter().zip(&cells[3..]) {
            close(&l[*k], cell.parse::<f64>().unwrap(), &format!("csv {k}"));
        }
        tot.weights += c.weights;
        tot.zero_weights += c.zero_weights;
        tot.essential += c.essential;
        tot.tetris += c.tetris;
        let k = by_kind.entry(kind_of(e.op)).or_insert(Counts {
            weights: 0,
            zero_weights: 0,
            essential: 0,
            tetris: 0,
        });
        k.weights += c.weights;
        k.zero_weights += c.zero_weights;
        k.essential += c.essential;
        k.tetris += c.tetris;
    }
    check_stats(&j["total"], &tot, budget, "total");
    // Per-op subtotals: JSON total_by_op and the CSV's TOTAL:kind rows.
    assert_eq!(j["total_by_op"].as_object().unwrap().len(), by_kind.len());
    for (k, c) in &by_kind {
        check_stats(
            &j["total_by_op"][*k],
            c,
            budget,
            &format!("total_by_op.{k}"),
        );
        if op_rows > 0 {
            let row = csv_lines
                .iter()
                .find(|l| l.starts_with(&format!("TOTAL:{k},")))
                .unwrap_or_else(|| panic!("no TOTAL:{k} row in {csv}"));
            let cells: Vec<&str> = row.split(',').collect();
            assert_eq!(cells[3].parse::<u64>().unwrap(), c.weights, "TOTAL:{k}");
            assert_eq!(cells[8].parse::<u64>().unwrap(), c.tetris, "TOTAL:{k}");
        }
    }
    assert!(j["total"].get("name").is_none());
    assert!(csv_lines.last().unwrap().starts_with("TOTAL,,,"));
    assert!(stdout.contains("TOTAL"));
}

// ------------------------------------------------------------------ tests

#[test]
fn onnx_layers_load_rearranged_with_graph_names() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, expected) = onnx_fixture();
    let layers = weights::load(&write_file(dir.path(), "tiny.onnx", &bytes)).unwrap();
    let got: Vec<(&str, &str, &[usize])> = layers
        .iter()
        .map(|l| (l.name.as_str(), l.op.as_str(), l.shape.as_slice()))
        .collect();
    let want: Vec<(&str, &str, &[usize])> = expected
        .iter()
        .map(|e| (e.name, e.op, e.shape.as_slice()))
        .collect();
    assert_eq!(got, want);
    for (l, e) in layers.iter().zip(&expected) {
        assert_eq!(l.data, e.data, "{}", e.name);
    }
}

#[test]
fn npy_and_npz_load() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, expected) = npz_fixture();
    let layers = weights::load(&write_file(dir.path(), "model.npz", &bytes)).unwrap();
    assert_eq!(layers.len(), 2);
    for (l, e) in layers.iter().zip(&expected) {
        assert_eq!((l.name.as_str(), l.op.as_str()), (e.name, e.op));
        assert_eq!(l.shape, e.shape);
        assert_eq!(l.data, e.data);
    }
    let npy = npy_f32(&[8, 3, 3, 3], &expected[0].data);
    let l = weights::load(&write_file(dir.path(), "conv1.npy", &npy)).unwrap();
    assert_eq!(l[0].name, "conv1");
    assert_eq!(l[0].data, expected[0].data);
}

#[test]
fn every_json_and_csv_field_matches_the_golden_computation() {
    let dir = tempfile::tempdir().unwrap();
    let (onnx, onnx_exp) = onnx_fixture();
    let (npz, npz_exp) = npz_fixture();
    let onnx_p = dir.path().join("tiny.onnx");
    let npz_p = dir.path().join("model.npz");
    let npy_p = dir.path().join("one.npy");
    std::fs::write(&onnx_p, onnx).unwrap();
    std::fs::write(&npz_p, npz).unwrap();
    std::fs::write(&npy_p, npy_f32(&[8, 3, 3, 3], &npz_exp[0].data)).unwrap();
    let npy_exp = vec![Expected::new(
        "one",
        "tensor",
        vec![8, 3, 3, 3],
        npz_exp[0].data.clone(),
    )];
    let settings: &[&[&str]] = &[
        &[],
        &[
            "--bits",
            "8",
            "--encoding",
            "csd",
            "--ks",
            "5",
            "--per-channel",
        ],
        &["--bits", "12", "--encoding", "tc", "--ks", "1"],
        &["--bits", "32", "--ks", "256"],
        &["--bits", "2", "--ks", "7", "--per-channel"],
    ];
    for flags in settings {
        check_report(&onnx_p, &onnx_exp, flags);
        check_report(&npz_p, &npz_exp, flags);
    }
    check_report(&npy_p, &npy_exp, &[]);
}

/// Run the binary on a bad input; it must fail cleanly, name `mention`, and write nothing.
fn assert_clean_failure(weights: &Path, extra: &[&str], mention: &[&str]) {
    let run = knead_with_reports(weights, extra);
    let err = String::from_utf8_lossy(&run.out.stderr);
    assert!(!run.out.status.success(), "{weights:?} {extra:?} succeeded");
    assert_clean_error(&err, mention);
    assert_eq!(
        std::fs::read_dir(run.dir.path()).unwrap().count(),
        0,
        "no output file may be left"
    );
}

#[test]
fn bad_inputs_fail_cleanly_naming_the_file() {
    let d = tempfile::tempdir().unwrap();
    let d = d.path();
    let good_npy = npy_f32(&[4, 4], &pseudo_random(16, 1));
    let (good_npz, _) = npz_fixture();
    let (good_onnx, _) = onnx_fixture();

    let missing = d.join("missing.onnx");
    assert_clean_failure(&missing, &[], &["missing.onnx"]);
    let p = write_file(d, "weights.txt", b"1 2 3");
    assert_clean_failure(&p, &[], &["weights.txt", "extension"]);

    let p = write_file(d, "trunc.npy", &good_npy[..good_npy.len() - 3]);
    assert_clean_failure(&p, &[], &["trunc.npy", "truncated"]);
    let p = write_file(d, "hdr.npy", &good_npy[..30]);
    assert_clean_failure(&p, &[], &["hdr.npy", "truncated"]);
    let p = write_file(d, "magic.npy", b"NUMPY? not really, just some text here");
    assert_clean_failure(&p, &[], &["magic.npy", "magic"]);
    let mut nan = pseudo_random(16, 1);
    nan[5] = f32::NAN;
    let p = write_file(d, "nan.npy", &npy_f32(&[4, 4], &nan));
    assert_clean_failure(&p, &[], &["nan.npy", "#5", "NaN"]);

    let p = write_file(d, "trunc.npz", &good_npz[..good_npz.len() / 2]);
    assert_clean_failure(&p, &[], &["trunc.npz"]);
    let p = write_file(
        d,
        "entry.npz",
        &npz_bytes(&[("w.npy", b"this is not numpy data".to_vec(), true)]),
    );
    assert_clean_failure(&p, &[], &["entry.npz", "w.npy", "magic"]);
    let p = write_file(d, "empty.npz", &npz_bytes(&[]));
    assert_clean_failure(&p, &[], &["empty.npz", "no weights"]);
    let p = write_file(
        d,
        "zero.npz",
        &npz_bytes(&[("w.npy", npy_f32(&[0, 3], &[]), false)]),
    );
    assert_clean_failure(&p, &[], &["zero.npz", "no weights"]);

    for cut in [5, good_onnx.len() / 3, good_onnx.len() - 1] {
        let p = write_file(d, "trunc.onnx", &good_onnx[..cut]);
        assert_clean_failure(&p, &[], &["trunc.onnx", "corrupt ONNX"]);
    }
    // Wire type 7 does not exist.
    let p = write_file(d, "corrupt.onnx", &[0x3f, 0x01, 0x02, 0x03]);
    assert_clean_failure(&p, &[], &["corrupt.onnx", "wire type"]);
    // A node whose attribute is cut short inside a valid graph.
    let mut bad_node = Vec::new();
    field_bytes(&mut bad_node, 4, b"Conv");
    bad_node.extend([5 << 3 | 2, 50, 1]); // attribute claims 50 bytes, has 1
    let p = write_file(d, "node.onnx", &model(&[bad_node], &[]));
    assert_clean_failure(
        &p,
        &[],
        &["node.onnx", "GraphProto.node", "NodeProto.attribute"],
    );
    let p = write_file(d, "text.onnx", b"hello, I am not a model");
    assert_clean_failure(&p, &[], &["text.onnx"]);

    let ext = model(
        &[node("c", "Conv", &["x", "w"], &["y"], &[])],
        &[tensor("w", &[2, 2, 1, 1], Data::External)],
    );
    let p = write_file(d, "external.onnx", &ext);
    assert_clean_failure(&p, &[], &["external.onnx", "\"w\"", "external data"]);

    let short = vec![1.0f32; 3];
    let m = model(
        &[node("c", "Conv", &["x", "w"], &["y"], &[])],
        &[tensor("w", &[2, 2, 1, 1], Data::Raw(&short))],
    );
    let p = write_file(d, "short.onnx", &m);
    assert_clean_failure(&p, &[], &["short.onnx", "raw_data"]);

    let none = model(&[node("r", "Relu", &["x"], &["y"], &[])], &[]);
    let p = write_file(d, "noweights.onnx", &none);
    assert_clean_failure(&p, &[], &["noweights.onnx", "no weights"]);
    let dynamic = model(
        &[node("dconv", "Conv", &["x", "w_runtime"], &["y"], &[])],
        &[],
    );
    let p = write_file(d, "dynamic.onnx", &dynamic);
    assert_clean_failure(&p, &[], &["dynamic.onnx", "no weights", "skipped: dconv"]);

    let mut inf = pseudo_random(8, 2);
    inf[3] = f32::INFINITY;
    let m = model(
        &[node("conv_inf", "Conv", &["x", "w"], &["y"], &[])],
        &[tensor("w", &[2, 4, 1, 1], Data::Packed(&inf))],
    );
    let p = write_file(d, "inf.onnx", &m);
    assert_clean_failure(&p, &[], &["inf.onnx", "conv_inf", "#3", "inf"]);

    let p = write_file(d, "ok.npy", &good_npy);
    for (flag, value) in [
        ("--bits", "1"),
        ("--bits", "33"),
        ("--ks", "0"),
        ("--ks", "257"),
        ("--encoding", "booth"),
    ] {
        assert_clean_failure(&p, &[flag, value], &[flag, value]);
    }
}

#[test]
fn the_human_table_and_outputs_work_without_json() {
    let d = tempfile::tempdir().unwrap();
    let p = write_file(d.path(), "w.npy", &npy_f32(&[2, 8], &pseudo_random(16, 4)));
    let s = run_ok_stdout(tetris().args(["knead", "--weights"]).arg(&p));
    assert!(
        s.contains("16-bit sm") && s.contains("KS=16") && s.contains("TOTAL"),
        "{s}"
    );
}

#[test]
fn mutated_files_never_panic_the_loaders() {
    let (onnx, _) = onnx_fixture();
    let (npz, _) = npz_fixture();
    let npy = npy_f32(&[4, 4], &pseudo_random(16, 1));
    let dir = tempfile::tempdir().unwrap();
    let mut x = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for (name, good) in [("m.onnx", &onnx), ("m.npz", &npz), ("m.npy", &npy)] {
        for _ in 0..200 {
            let mut b = good.clone();
            for _ in 0..1 + next() % 4 {
                let i = (next() % b.len() as u64) as usize;
                b[i] = next() as u8;
            }
            if next() % 4 == 0 {
                b.truncate((next() % b.len() as u64) as usize);
            }
            let p = dir.path().join(name);
            std::fs::write(&p, &b).unwrap();
            // Either loads or errors; a panic fails the test.
            if let Err(e) = weights::load(&p) {
                assert!(e.to_string().contains(name), "{e}");
            }
        }
    }
}

#[test]
fn an_all_zero_layer_has_no_speedup_and_zero_cycles() {
    let d = tempfile::tempdir().unwrap();
    let p = write_file(
        d.path(),
        "z.npz",
        &npz_bytes(&[
            ("zeros.npy", npy_f32(&[2, 4], &[0.0; 8]), false),
            ("w.npy", npy_f32(&[2, 4], &pseudo_random(8, 5)), true),
        ]),
    );
    let KneadRun {
        dir: _dir,
        out,
        json,
        csv,
    } = knead_with_reports(&p, &[]);
    assert_succeeded(&out, "knead");
    let j = read_json(&json);
    let z = &j["layers"][0];
    assert_eq!(z["name"], "zeros");
    assert_eq!(z["tetris_cycles"], 0);
    assert_eq!(z["essential_bits"], 0);
    assert_eq!(z["zero_weight_fraction"], 1.0);
    assert_eq!(z["zero_bit_fraction"], 1.0);
    assert!(z["ideal_speedup"].is_null());
    assert_eq!(j["total"]["weights"], 16);
    let c = std::fs::read_to_string(&csv).unwrap();
    assert!(c.lines().nth(1).unwrap().ends_with(",8,0,"), "{c}");
    let table = String::from_utf8_lossy(&out.stdout);
    let zrow = table.lines().find(|l| l.starts_with("zeros")).unwrap();
    assert!(zrow.trim_end().ends_with('-'), "{zrow}");
}
