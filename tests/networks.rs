//! Networks as an inference engine sees them (issue 17), on small ONNX models written here:
//! batch norm folded (and not, with --no-fold-bn), every layer's true work from the activation
//! shapes (batch, sequence, time steps), input sizes taken from the model or required, the ops
//! filter with per-op subtotals, what does not run listed with its weight count, the numpy
//! layout; and the bad inputs of issue 11 that live here (huge sizes, negative pads and dims,
//! an output over an input).

use serde_json::Value;
use std::path::Path;
use std::process::Output;
use tetris_hdl::weights::{self, LoadOptions, OpKind, Work};

mod common;
use common::cli::{assert_clean_error, assert_succeeded, read_json, tetris, write_file};
use common::onnx_writer::*;
use common::pseudo_random::uniform_values;

/// `n` weights in [-1, 1).
fn values(n: usize, seed: u64) -> Vec<f32> {
    uniform_values(n, seed, 2.0)
}

/// `tetris cmd --weights weights args`, run to its end.
fn on_weights(cmd: &str, weights: &Path, args: &[&str]) -> Output {
    tetris()
        .args([cmd, "--weights"])
        .arg(weights)
        .args(args)
        .output()
        .unwrap()
}

/// `tetris sim --weights weights args`, run to its end.
fn sim(weights: &Path, args: &[&str]) -> Output {
    on_weights("sim", weights, args)
}

/// `tetris knead --weights weights args`, run to its end.
fn knead(weights: &Path, args: &[&str]) -> Output {
    on_weights("knead", weights, args)
}

/// The run must have succeeded; its stdout.
fn ok(out: &Output) -> String {
    assert_succeeded(out, "tetris");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The run must have failed cleanly, naming each of `mention`.
fn fails(out: &Output, mention: &[&str]) {
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "succeeded: {e}");
    assert_clean_error(&e, mention);
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

// ------------------------------------------------------------------ batch norm folding

struct Bn {
    gamma: Vec<f32>,
    beta: Vec<f32>,
    mean: Vec<f32>,
    var: Vec<f32>,
    eps: f32,
}

fn bn_params(c: usize) -> Bn {
    Bn {
        gamma: values(c, 21),
        beta: values(c, 22),
        mean: values(c, 23),
        var: values(c, 24).iter().map(|v| v.abs() + 0.1).collect(),
        eps: 1e-3,
    }
}

fn bn_inits(b: &Bn) -> Vec<Vec<u8>> {
    let c = b.gamma.len();
    vec![
        tensor("g", &[c], Data::Raw(&b.gamma)),
        tensor("b", &[c], Data::Raw(&b.beta)),
        tensor("m", &[c], Data::Raw(&b.mean)),
        tensor("v", &[c], Data::Raw(&b.var)),
    ]
}

fn bn_node(input: &str, eps: f32) -> Vec<u8> {
    node(
        "bn",
        "BatchNormalization",
        &[input, "g", "b", "m", "v"],
        &["y"],
        &[attr_float("epsilon", eps)],
    )
}

/// Rows of `w` (row = output channel) scaled by gamma / sqrt(var + eps), in f32.
fn folded(w: &[f32], b: &Bn) -> Vec<f32> {
    let per = w.len() / b.gamma.len();
    w.iter()
        .enumerate()
        .map(|(i, &x)| {
            let o = i / per;
            x * (b.gamma[o] / (b.var[o] + b.eps).sqrt())
        })
        .collect()
}

#[test]
fn batch_norm_is_folded_into_the_conv_it_alone_follows() {
    let d = tempfile::tempdir().unwrap();
    let w = values(3 * 2 * 3 * 3, 1);
    let b = bn_params(3);
    let mut inits = vec![tensor("w", &[3, 2, 3, 3], Data::Raw(&w))];
    inits.extend(bn_inits(&b));
    let input = value_info("x", &[Some(1), Some(2), Some(5), Some(5)]);
    // Conv -> Identity -> BatchNormalization: folded.
    let chain = model_with_io(
        &[
            node("conv", "Conv", &["x", "w"], &["c"], &[]),
            node("id", "Identity", &["c"], &["ci"], &[]),
            bn_node("ci", b.eps),
        ],
        &inits,
        std::slice::from_ref(&input),
        &["y"],
    );
    let p = write_file(d.path(), "chain.onnx", &chain);
    let l = weights::load_with(&p, &LoadOptions::default()).unwrap();
    assert_eq!(l.layers[0].data, folded(&w, &b));
    assert_eq!(l.layers[0].folded_bn.as_deref(), Some("bn"));
    assert_eq!(l.folded.len(), 1);
    assert!(l.not_mapped.is_empty(), "{:?}", l.not_mapped);
    // --no-fold-bn: the weights as stored, the BN listed with its 4 x 3 values.
    let opts = LoadOptions {
        fold_bn: false,
        ..LoadOptions::default()
    };
    let l = weights::load_with(&p, &opts).unwrap();
    assert_eq!(l.layers[0].data, w);
    assert!(l.folded.is_empty());
    assert_eq!(
        (l.not_mapped[0].name.as_str(), l.not_mapped[0].weights),
        ("bn", 12)
    );

    // The conv's output also read elsewhere, or a graph output: not folded.
    let shared = model_with_io(
        &[
            node("conv", "Conv", &["x", "w"], &["c"], &[]),
            bn_node("c", b.eps),
            node("r", "Relu", &["c"], &["r"], &[]),
        ],
        &inits,
        std::slice::from_ref(&input),
        &["y", "r"],
    );
    let out_too = model_with_io(
        &[
            node("conv", "Conv", &["x", "w"], &["c"], &[]),
            bn_node("c", b.eps),
        ],
        &inits,
        std::slice::from_ref(&input),
        &["y", "c"],
    );
    for (name, m) in [("shared.onnx", shared), ("out.onnx", out_too)] {
        let p = write_file(d.path(), name, &m);
        let l = weights::load_with(&p, &LoadOptions::default()).unwrap();
        assert_eq!(l.layers[0].data, w, "{name}");
        assert!(l.folded.is_empty(), "{name}");
        assert_eq!(l.not_mapped[0].op, "BatchNormalization", "{name}");
    }

    // ConvTranspose (Cin 2, Cout 3, 2x2) -> BN: the regrouped, flipped rows are scaled.
    let wt = values(2 * 3 * 2 * 2, 5);
    let mut inits_t = vec![tensor("wt", &[2, 3, 2, 2], Data::Raw(&wt))];
    inits_t.extend(bn_inits(&b));
    let m = model_with_io(
        &[
            node("deconv", "ConvTranspose", &["x", "wt"], &["c"], &[]),
            bn_node("c", b.eps),
        ],
        &inits_t,
        &[input],
        &["y"],
    );
    let p = write_file(d.path(), "deconv.onnx", &m);
    let l = weights::load_with(&p, &LoadOptions::default()).unwrap();
    let mut rows = Vec::new();
    for o in 0..3 {
        for c in 0..2 {
            let k = &wt[(c * 3 + o) * 4..(c * 3 + o) * 4 + 4];
            rows.extend([k[3], k[2], k[1], k[0]]);
        }
    }
    assert_eq!(l.layers[0].shape, vec![3, 2, 2, 2]);
    assert_eq!(l.layers[0].data, folded(&rows, &b));

    // Through the binary: the report says what was folded, --no-fold-bn says it was not.
    let (chain, j) = (d.path().join("chain.onnx"), d.path().join("k.json"));
    let t = ok(&knead(&chain, &["--json", s(&j)]));
    assert!(t.contains("batch norm folded"), "{t}");
    let v = read_json(&j);
    assert_eq!(v["settings"]["fold_bn"], true);
    assert_eq!(v["folded_batch_norms"][0]["batch_norm"], "bn");
    let t = ok(&knead(&chain, &["--no-fold-bn", "--json", s(&j)]));
    assert!(t.contains("not folded"), "{t}");
    assert_eq!(read_json(&j)["folded_batch_norms"], serde_json::json!([]));
    assert_eq!(read_json(&j)["not_mapped"][0]["weights"], 12);
}

// ------------------------------------------------------------------ every layer's true work

/// x [2, 4, 6, 6] -> 1x1 conv (8) -> Reshape to [N, 8, 36] with N computed by Shape/Gather/
/// Concat -> Transpose [N, 36, 8] -> MatMul B (8, 5) -> ReduceMean over axis 1 -> Gemm (5, 3).
fn work_model() -> Vec<u8> {
    let inits = vec![
        tensor("w", &[8, 4, 1, 1], Data::Raw(&values(32, 1))),
        tensor_i64("i0", &[1], &[0]),
        tensor_i64("rest", &[2], &[8, 36]),
        tensor("bm", &[8, 5], Data::Raw(&values(40, 2))),
        tensor("bg", &[5, 3], Data::Raw(&values(15, 3))),
    ];
    let nodes = vec![
        node("conv", "Conv", &["x", "w"], &["c"], &[]),
        node("shape", "Shape", &["c"], &["s"], &[]),
        node(
            "gather",
            "Gather",
            &["s", "i0"],
            &["n"],
            &[attr_int("axis", 0)],
        ),
        node(
            "cat",
            "Concat",
            &["n", "rest"],
            &["ts"],
            &[attr_int("axis", 0)],
        ),
        node("reshape", "Reshape", &["c", "ts"], &["r"], &[]),
        node(
            "tr",
            "Transpose",
            &["r"],
            &["t"],
            &[attr_ints("perm", &[0, 2, 1])],
        ),
        node("mm", "MatMul", &["t", "bm"], &["m"], &[]),
        node(
            "mean",
            "ReduceMean",
            &["m"],
            &["a"],
            &[attr_ints("axes", &[1]), attr_int("keepdims", 0)],
        ),
        node("fc", "Gemm", &["a", "bg"], &["y"], &[]),
    ];
    model_with_inputs(
        &nodes,
        &inits,
        &[value_info("x", &[Some(2), Some(4), Some(6), Some(6)])],
    )
}

fn layer<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == name)
        .unwrap_or_else(|| panic!("no layer {name} in {v}"))
}

#[test]
fn matmul_and_gemm_rows_come_from_the_activation_shape() {
    let d = tempfile::tempdir().unwrap();
    let p = write_file(d.path(), "work.onnx", &work_model());
    let j = d.path().join("s.json");
    let t = ok(&sim(&p, &["--json", s(&j)]));
    let v = read_json(&j);
    // conv: 2 x 6 x 6 pixels x 8 filters x 4; matmul: 2 x 36 rows x 5 x 8; gemm: 2 rows x 3 x 5.
    assert_eq!(layer(&v, "conv")["macs"], 2 * 36 * 8 * 4);
    assert_eq!(layer(&v, "mm")["macs"], 2 * 36 * 5 * 8);
    assert_eq!(layer(&v, "fc")["macs"], 2 * 3 * 5);
    assert_eq!(layer(&v, "mm")["op"], "matmul");
    assert_eq!(
        v["settings"]["inputs"][0]["used"],
        serde_json::json!([2, 4, 6, 6])
    );
    assert!(t.contains("# input x: 2x4x6x6 (declared)"), "{t}");
    // Per-op subtotals add up to the total.
    let by_op = v["total_by_op"].as_object().unwrap();
    assert_eq!(
        by_op.keys().collect::<Vec<_>>(),
        vec!["conv", "gemm", "matmul"]
    );
    let sum = |k: &str| -> u64 { by_op.values().map(|t| t[k].as_u64().unwrap()).sum() };
    for k in ["macs", "tetris_cycles", "mac_cycles", "weights"] {
        assert_eq!(sum(k), v["total"][k].as_u64().unwrap(), "{k}");
    }
    assert!(t.contains("total matmul (1 layers)"), "{t}");

    // --ops keeps only those families (layers, totals).
    let t = ok(&sim(&p, &["--ops", "matmul,gemm", "--json", s(&j)]));
    let v = read_json(&j);
    let names: Vec<&str> = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["mm", "fc"]);
    assert_eq!(v["total"]["macs"], 2 * 36 * 5 * 8 + 2 * 3 * 5);
    assert!(!t.contains("conv "), "{t}");
    fails(
        &sim(&p, &["--ops", "recurrent"]),
        &["no layer of --ops recurrent"],
    );
    fails(&sim(&p, &["--ops", "lstm"]), &["--ops", "\"lstm\""]);
    // knead: the same families, with a subtotal each.
    let t = ok(&knead(&p, &["--ops", "conv,matmul"]));
    assert!(
        t.contains("TOTAL conv") && t.contains("TOTAL matmul") && !t.contains("\nfc "),
        "{t}"
    );
}

#[test]
fn recurrent_matrices_run_per_time_step() {
    let d = tempfile::tempdir().unwrap();
    // LSTM, bidirectional, hidden 3, input 4, over 5 steps of batch 2.
    let w = values(2 * 12 * 4, 7);
    let r = values(2 * 12 * 3, 8);
    let m = model_with_inputs(
        &[node(
            "lstm",
            "LSTM",
            &["x", "W", "R", "B"],
            &["y", "yh", "yc"],
            &[
                attr_int("hidden_size", 3),
                attr_string("direction", "bidirectional"),
            ],
        )],
        &[
            tensor("W", &[2, 12, 4], Data::Raw(&w)),
            tensor("R", &[2, 12, 3], Data::Raw(&r)),
            tensor("B", &[2, 24], Data::Raw(&values(48, 9))),
        ],
        &[value_info("x", &[Some(5), Some(2), Some(4)])],
    );
    let p = write_file(d.path(), "lstm.onnx", &m);
    let l = weights::load(&p).unwrap();
    assert_eq!(l.len(), 2);
    assert_eq!(
        (l[0].name.as_str(), l[0].shape.clone()),
        ("lstm/W", vec![24, 4])
    );
    assert_eq!(
        (l[1].name.as_str(), l[1].shape.clone()),
        ("lstm/R", vec![24, 3])
    );
    assert_eq!((l[0].data.clone(), l[1].data.clone()), (w, r));
    assert!(l.iter().all(|l| l.kind == OpKind::Recurrent));
    let j = d.path().join("s.json");
    let t = ok(&sim(&p, &["--json", s(&j)]));
    let v = read_json(&j);
    // W: all 5 x 2 rows at once against 24 gate rows of 4 inputs.
    assert_eq!(layer(&v, "lstm/W")["macs"], 5 * 2 * 24 * 4);
    assert_eq!(layer(&v, "lstm/W")["repeat"], 1);
    // R: 2 batch rows per step, two directions (groups) of 12 x 3, once per step.
    assert_eq!(layer(&v, "lstm/R")["repeat"], 5);
    assert_eq!(layer(&v, "lstm/R")["macs"], 5 * 2 * 24 * 3);
    assert!(t.contains("recurrent x5"), "{t}");
    // The recurrent matrix's cycles are five times one step's.
    let one = tetris_hdl::array::network::evaluate(
        &tetris_hdl::array::network::prepare(&l[1], &tetris_hdl::config::Config::default_config())
            .unwrap(),
        Default::default(),
    );
    assert_eq!(layer(&v, "lstm/R")["tetris_cycles"], one.run.tetris_cycles);
    assert_eq!(one.run.tetris_cycles % 5, 0);
}

// ------------------------------------------------------------------ input sizes

fn free_model(dims: &[Option<u64>]) -> Vec<u8> {
    model_with_inputs(
        &[node(
            "conv",
            "Conv",
            &["x", "w"],
            &["y"],
            &[attr_ints("pads", &[1, 1, 1, 1])],
        )],
        &[tensor("w", &[2, 3, 3, 3], Data::Raw(&values(54, 4)))],
        &[value_info("x", dims)],
    )
}

#[test]
fn free_input_dims_are_given_or_refused_never_guessed() {
    let d = tempfile::tempdir().unwrap();
    // Batch -1 (as PP-OCR cls declares it) and symbolic H, W.
    let p = write_file(
        d.path(),
        "free.onnx",
        &free_model(&[Some((-1i64) as u64), Some(3), None, None]),
    );
    let j = d.path().join("s.json");
    let out = sim(&p, &["--json", s(&j)]);
    fails(
        &out,
        &[
            "free.onnx",
            "input \"x\"",
            "[? (-1), 3, ?, ?]",
            "--input-hw",
        ],
    );
    assert!(!j.exists());
    let t = ok(&sim(&p, &["--input-hw", "6,7", "--json", s(&j)]));
    assert!(t.contains("# input x: 1x3x6x7"), "{t}");
    let v = read_json(&j);
    assert_eq!(
        v["settings"]["inputs"][0]["used"],
        serde_json::json!([1, 3, 6, 7])
    );
    assert_eq!(v["settings"]["input_hw"], serde_json::json!([6, 7]));
    assert_eq!(layer(&v, "conv")["macs"], 6 * 7 * 2 * 27);
    let t = ok(&sim(&p, &["--input-shape", "x=2x3x6x7", "--json", s(&j)]));
    assert!(t.contains("# input x: 2x3x6x7 (--input-shape)"), "{t}");
    assert_eq!(layer(&read_json(&j), "conv")["macs"], 2 * 6 * 7 * 2 * 27);
    fails(
        &sim(&p, &["--input-shape", "x=1x4x6x7"]),
        &["dim 1 is declared 3"],
    );
    fails(
        &sim(&p, &["--input-shape", "image=1x3x6x7"]),
        &["no input named \"image\"", "inputs: x"],
    );
    // A sequence input has no H,W: it needs --input-shape.
    let p = write_file(
        d.path(),
        "seq.onnx",
        &model_with_inputs(
            &[node("mm", "MatMul", &["x", "b"], &["y"], &[])],
            &[tensor("b", &[4, 2], Data::Raw(&values(8, 5)))],
            &[value_info("x", &[None, None, Some(4)])],
        ),
    );
    fails(
        &sim(&p, &["--input-hw", "6,7"]),
        &["free dim(s) [1]", "--input-shape x="],
    );
    let t = ok(&sim(&p, &["--input-shape", "x=1x9x4", "--json", s(&j)]));
    assert!(t.contains("x=1x9x4") || t.contains("1x9x4"), "{t}");
    assert_eq!(layer(&read_json(&j), "mm")["macs"], 9 * 4 * 2);
    // A .npy conv has no input size at all.
    let p = write_file(
        d.path(),
        "c.npy",
        &weights::npy::write_f32(&[2, 3, 3, 3], &values(54, 6)),
    );
    fails(&sim(&p, &[]), &["c.npy", "--input-hw"]);
}

// ------------------------------------------------------------------ what does not run

#[test]
fn nodes_holding_constants_that_do_not_run_are_listed() {
    let d = tempfile::tempdir().unwrap();
    let m = model_with_inputs(
        &[
            node("conv3d", "Conv", &["v", "w3"], &["c3"], &[]),
            node("conv", "Conv", &["x", "w"], &["c"], &[]),
            node("bias", "Add", &["c", "b"], &["y"], &[]),
        ],
        &[
            tensor("w3", &[3, 2, 1, 1, 1], Data::Raw(&values(6, 1))),
            tensor("w", &[3, 2, 1, 1], Data::Raw(&values(6, 2))),
            tensor("b", &[1, 3, 1, 1], Data::Raw(&values(3, 3))),
        ],
        &[
            value_info("v", &[Some(1), Some(2), Some(4), Some(4), Some(4)]),
            value_info("x", &[Some(1), Some(2), Some(4), Some(4)]),
        ],
    );
    let p = write_file(d.path(), "nm.onnx", &m);
    let j = d.path().join("s.json");
    let t = ok(&sim(&p, &["--json", s(&j)]));
    let v = read_json(&j);
    assert_eq!(v["layers"].as_array().unwrap().len(), 1);
    let nm = v["not_mapped"].as_array().unwrap();
    let find = |n: &str| {
        nm.iter()
            .find(|x| x["name"] == n)
            .unwrap_or_else(|| panic!("{n}: {v}"))
    };
    assert_eq!(find("conv3d")["weights"], 6);
    assert!(find("conv3d")["reason"].as_str().unwrap().contains("3-D"));
    assert_eq!(find("bias")["weights"], 3);
    assert_eq!(find("bias")["op"], "Add");
    assert!(
        t.contains("not run on the array: 2 node(s) holding 9 constant values"),
        "{t}"
    );
    // knead counts the 3-D conv's weights (a layer) but not the bias.
    let l = weights::load_with(&p, &LoadOptions::default()).unwrap();
    assert_eq!(l.layers.len(), 2);
    assert!(matches!(l.layers[0].work, Work::NotMapped(_)));
}

// ------------------------------------------------------------------ numpy layout

#[test]
fn numpy_layout_is_stated_and_can_be_changed() {
    let d = tempfile::tempdir().unwrap();
    // A ConvTranspose1d weight as PyTorch saves it: (Cin 2, Cout 3, k 2).
    let data: Vec<f32> = (0..12).map(|i| i as f32 + 1.0).collect();
    let p = write_file(
        d.path(),
        "deconv.npy",
        &weights::npy::write_f32(&[2, 3, 2], &data),
    );
    let t = ok(&knead(&p, &[]));
    assert!(
        t.contains("axis 0 taken as the output channel") && t.contains("2x3x2"),
        "{t}"
    );
    let j = d.path().join("k.json");
    let t = ok(&knead(&p, &["--layout", "iok", "--json", s(&j)]));
    assert!(t.contains("numpy layout iok"), "{t}");
    let v = read_json(&j);
    assert_eq!(v["layers"][0]["shape"], serde_json::json!([3, 2, 2]));
    assert!(v["settings"]["numpy_layout"]
        .as_str()
        .unwrap()
        .contains("iok"));
    fails(
        &knead(&p, &["--layout", "oihw"]),
        &["--layout oihw", "4 axes"],
    );
    fails(&knead(&p, &["--layout", "ihw"]), &["no 'o'"]);
}

// ------------------------------------------------------------------ issue 11

#[test]
fn huge_sizes_bad_attributes_and_overwrites_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let w = write_file(
        d.path(),
        "w.npy",
        &weights::npy::write_f32(&[2, 1, 3, 3], &values(18, 1)),
    );
    for hw in ["4000000000,4000000000", "1000000000,1000000000"] {
        let out = sim(&w, &["--input-hw", hw]);
        fails(&out, &["w.npy"]);
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(
            e.contains("too large") || e.contains("beyond what the cycle model runs"),
            "{e}"
        );
        assert!(String::from_utf8_lossy(&out.stdout).is_empty());
    }
    // Negative pads: an error naming the node and the attribute (sim and knead alike).
    let m = model_with_inputs(
        &[node(
            "padded",
            "Conv",
            &["x", "w"],
            &["y"],
            &[attr_ints("pads", &[-1, 0, 0, 0])],
        )],
        &[tensor("w", &[2, 1, 3, 3], Data::Raw(&values(18, 2)))],
        &[value_info("x", &[Some(1), Some(1), Some(5), Some(5)])],
    );
    let p = write_file(d.path(), "pads.onnx", &m);
    for cmd in ["sim", "knead"] {
        fails(
            &on_weights(cmd, &p, &[]),
            &["pads.onnx", "node padded", "attribute pads", "-1"],
        );
    }
    let m = model_with_inputs(
        &[node(
            "s0",
            "Conv",
            &["x", "w"],
            &["y"],
            &[attr_ints("strides", &[0, 1])],
        )],
        &[tensor("w", &[2, 1, 3, 3], Data::Raw(&values(18, 2)))],
        &[value_info("x", &[Some(1), Some(1), Some(5), Some(5)])],
    );
    let p = write_file(d.path(), "strides.onnx", &m);
    fails(&sim(&p, &[]), &["node s0", "attribute strides"]);
    // A negative dim prints as written.
    let raw: Vec<u8> = vec![0; 8];
    let m = model(
        &[node("c", "Conv", &["x", "w"], &["y"], &[])],
        &[tensor_raw_signed_dims("w", &[2, -8, 1, 1], &raw)],
    );
    let p = write_file(d.path(), "negdim.onnx", &m);
    let out = knead(&p, &[]);
    fails(&out, &["negative dimension -8"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("18446744073709551608"));
    // An output over the input (also through another spelling of the path), or two outputs
    // on one file: refused before anything is written.
    let before = std::fs::read(&w).unwrap();
    let alias = format!("{}/./w.npy", d.path().display());
    fails(
        &knead(&w, &["--json", s(&w)]),
        &["--json", "never writes over an input"],
    );
    fails(&knead(&w, &["--csv", &alias]), &["--csv", "input"]);
    fails(
        &sim(&w, &["--input-hw", "4,4", "--plot", s(&w)]),
        &["--plot", "input"],
    );
    let o = d.path().join("o.txt");
    fails(
        &knead(&w, &["--json", s(&o), "--csv", s(&o)]),
        &["--json and --csv both name"],
    );
    assert_eq!(std::fs::read(&w).unwrap(), before);
    assert!(!o.exists());
}

/// A FLOAT tensor whose dims may be negative (dims written as int64 varints).
fn tensor_raw_signed_dims(name: &str, dims: &[i64], raw: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    for &d in dims {
        field_varint(&mut t, 1, d as u64);
    }
    field_varint(&mut t, 2, 1);
    field_bytes(&mut t, 8, name.as_bytes());
    field_bytes(&mut t, 9, raw);
    t
}
