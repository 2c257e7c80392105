//! Property-based fuzzing of the weight loaders (`.npy`, `.npz`, `.onnx`) on generated
//! malformed inputs: hostile npy headers (dtypes, shapes that overflow, lengths that lie),
//! zip archives of such entries, and ONNX graphs built from random operators, attributes
//! (negative pads, zero strides, huge groups), tensors (negative or huge dims, any data type,
//! data of the wrong length) and input shapes, also with bytes flipped or cut. Each load runs
//! all the way to the array work (shape inference, batch-norm folding, the mapping of every
//! layer that stays small enough to time), and must end in a result or an error naming the
//! file: never a panic, an abort or a hang (each case has a time limit).
//!
//! CI runs a bounded number of cases; the long run is
//! `cargo test --release fuzz -- --ignored` (`TETRIS_FUZZ_CASES`, default 5000 per loader).

use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestRunner};
use std::io::Write;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;
use tetris_hdl::array::network::{evaluate, prepare};
use tetris_hdl::config::Config;
use tetris_hdl::weights::{self, InputSpec, LoadOptions};

mod common;
use common::onnx_writer::*;

/// Cases per loader in the bounded run.
const CI_CASES: u32 = 256;
/// Longest a single load (and the timing of its small layers) may take.
const LIMIT: Duration = Duration::from_secs(30);

/// Run `f` in a worker thread: Ok when it returns true within `limit`; Err when it returned
/// false (an error that does not name the file), panicked or hung.
fn survives_with(
    name: &str,
    limit: Duration,
    f: impl FnOnce() -> bool + Send + 'static,
) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(true)) => Ok(()),
        Ok(Ok(false)) => Err(format!("{name}: an error that does not name the file")),
        Ok(Err(_)) => Err(format!("{name}: panicked")),
        Err(_) => Err(format!("{name}: no answer within {limit:?} (hang)")),
    }
}

/// Load `bytes` as file `name` and time its small layers (see the module doc).
fn survives(name: &str, bytes: Vec<u8>, hw: Option<(usize, usize)>) -> Result<(), String> {
    let file = name.to_string();
    survives_with(name, LIMIT, move || {
        let opts = LoadOptions {
            inputs: InputSpec { hw, shapes: vec![] },
            ..LoadOptions::default()
        };
        let loaded = match weights::load_bytes(Path::new(&file), bytes, &opts) {
            Ok(l) => l,
            Err(e) => return format!("{e:#}").contains(&file),
        };
        let cfg = Config::default_config();
        for l in &loaded.layers {
            let small = l
                .array()
                .is_some_and(|w| w.params.macs().saturating_mul(w.repeat as u64) < 5_000_000);
            if small {
                // Errors are fine (e.g. an all-zero layer); panics are not.
                if let Ok(pl) = prepare(l, &cfg) {
                    evaluate(&pl, Default::default());
                }
            }
        }
        true
    })
}

// ------------------------------------------------------------------ npy

fn dim() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..6).prop_map(|d| d.to_string()),
        Just("18446744073709551615".to_string()),
        Just("4294967296".to_string()),
        Just("-3".to_string()),
        Just("2L".to_string()),
        "[a-z ]{0,3}",
    ]
}

fn descr() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("'<f4'".to_string()),
        Just("'>f8'".to_string()),
        Just("'<f2'".to_string()),
        Just("'|b1'".to_string()),
        Just("'<i8'".to_string()),
        Just("'|u1'".to_string()),
        Just("'<c8'".to_string()),
        Just("'<U3'".to_string()),
        Just("'|O'".to_string()),
        Just("'<f16'".to_string()),
        Just("[('a', '<f4')]".to_string()),
        "'[<>|=][a-zA-Z][0-9]{0,3}'",
        "[ -~]{0,8}",
    ]
}

/// An npy file: a header dict from hostile parts, a length field that may lie, a body.
fn npy_file() -> impl Strategy<Value = Vec<u8>> {
    (
        descr(),
        prop_oneof![Just("False"), Just("True"), Just("0"), Just("'x'")],
        proptest::collection::vec(dim(), 0..5),
        prop_oneof![Just(1u8), Just(2u8), Just(3u8), any::<u8>()],
        prop_oneof![Just(None), any::<u32>().prop_map(Some)],
        proptest::collection::vec(any::<u8>(), 0..300),
        any::<bool>(),
    )
        .prop_map(|(d, f, shape, version, lie, body, closed)| {
            let shape = if shape.len() == 1 {
                format!("({},)", shape[0])
            } else {
                format!("({})", shape.join(", "))
            };
            let mut h = format!("{{'descr': {d}, 'fortran_order': {f}, 'shape': {shape}, ");
            if closed {
                h.push('}');
            }
            h.push('\n');
            let mut out = b"\x93NUMPY".to_vec();
            out.extend([version, 0]);
            let len = lie.unwrap_or(h.len() as u32);
            if version == 1 {
                out.extend((len as u16).to_le_bytes());
            } else {
                out.extend(len.to_le_bytes());
            }
            out.extend(h.as_bytes());
            out.extend(body);
            out
        })
}

/// Flip a few bytes and maybe cut the end: the damage a transfer or an editor does.
fn damaged(good: impl Strategy<Value = Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    (
        good,
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        prop_oneof![Just(None), any::<prop::sample::Index>().prop_map(Some)],
    )
        .prop_map(|(mut b, flips, cut)| {
            if !b.is_empty() {
                for (i, v) in flips {
                    let k = i.index(b.len());
                    b[k] = v;
                }
                if let Some(c) = cut {
                    b.truncate(c.index(b.len()));
                }
            }
            b
        })
}

// ------------------------------------------------------------------ npz

fn npz_file() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec((npy_file(), any::<bool>(), "[a-z./]{0,12}"), 0..3).prop_map(
        |entries| {
            let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            for (i, (bytes, deflate, name)) in entries.iter().enumerate() {
                let method = if *deflate {
                    zip::CompressionMethod::Deflated
                } else {
                    zip::CompressionMethod::Stored
                };
                let opts = zip::write::SimpleFileOptions::default().compression_method(method);
                if z.start_file(format!("{name}{i}.npy"), opts).is_ok() {
                    let _ = z.write_all(bytes);
                }
            }
            z.finish().map(|c| c.into_inner()).unwrap_or_default()
        },
    )
}

// ------------------------------------------------------------------ onnx

const OPS: &[&str] = &[
    "Conv",
    "ConvTranspose",
    "ConvInteger",
    "Gemm",
    "MatMul",
    "MatMulInteger",
    "LSTM",
    "GRU",
    "RNN",
    "BatchNormalization",
    "Identity",
    "DequantizeLinear",
    "Reshape",
    "Shape",
    "Gather",
    "Concat",
    "Slice",
    "Resize",
    "Upsample",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "Flatten",
    "Transpose",
    "Squeeze",
    "Unsqueeze",
    "Split",
    "Pad",
    "Expand",
    "Tile",
    "Range",
    "ConstantOfShape",
    "ReduceMean",
    "Add",
    "Mul",
    "Div",
    "Cast",
    "Relu",
    "Constant",
    "DynamicQuantizeLinear",
    "DepthToSpace",
    "ArgMax",
    "Softmax",
];

const NAMES: &[&str] = &["x", "t0", "t1", "t2", "t3", "w0", "w1", "w2", "w3", ""];

const ATTRS: &[&str] = &[
    "pads",
    "strides",
    "dilations",
    "kernel_shape",
    "group",
    "axis",
    "axes",
    "perm",
    "hidden_size",
    "transA",
    "transB",
    "output_padding",
    "output_shape",
    "shape",
    "keepdims",
    "split",
    "starts",
    "ends",
    "blocksize",
    "layout",
    "auto_pad",
    "direction",
    "to",
    "ceil_mode",
    "allowzero",
    "epsilon",
    "block_size",
    "value",
];

fn small_int() -> impl Strategy<Value = i64> {
    prop_oneof![
        -3i64..8,
        Just(i64::MAX),
        Just(i64::MIN),
        Just(1 << 40),
        Just(-(1 << 33)),
    ]
}

fn attribute() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(ATTRS),
        0u8..5,
        small_int(),
        proptest::collection::vec(small_int(), 0..6),
    )
        .prop_map(|(name, kind, i, ints)| match kind {
            0 => attr_int(name, i),
            1 => attr_ints(name, &ints),
            2 => attr_string(
                name,
                ["SAME_UPPER", "VALID", "bidirectional", "NOTSET", "x"]
                    [(i.unsigned_abs() % 5) as usize],
            ),
            3 => attr_float(name, i as f32 * 0.5),
            _ => attr_tensor(name, tensor_i64("", &[ints.len()], &ints)),
        })
}

fn onnx_node() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(OPS),
        proptest::collection::vec(prop::sample::select(NAMES), 0..6),
        proptest::collection::vec(prop::sample::select(NAMES), 0..4),
        proptest::collection::vec(attribute(), 0..5),
        "[a-z]{0,4}",
    )
        .prop_map(|(op, ins, outs, attrs, name)| node(&name, op, &ins, &outs, &attrs))
}

fn initializer() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(&NAMES[5..9]),
        proptest::collection::vec(
            prop_oneof![0i64..5, Just(-8i64), Just(1 << 31), Just(i64::MAX)],
            0..5,
        ),
        prop_oneof![
            Just(1u64),
            Just(7u64),
            Just(3u64),
            Just(10u64),
            Just(16u64),
            0u64..20
        ],
        proptest::collection::vec(any::<u8>(), 0..256),
        any::<bool>(),
    )
        .prop_map(|(name, dims, dt, raw, exact)| {
            // Often the data fits the dims exactly (so decoding gets past the length checks).
            let count: i64 = dims.iter().map(|&d| d.clamp(0, 64)).product();
            let size = match dt {
                2 | 3 | 9 => 1,
                4 | 5 | 10 | 16 => 2,
                7 | 11 | 13 => 8,
                _ => 4,
            };
            let raw = if exact && dims.iter().all(|&d| (0..=64).contains(&d)) {
                let n = (count as usize * size).min(4096);
                raw.iter().copied().cycle().take(n).collect()
            } else {
                raw
            };
            let mut t = Vec::new();
            for &d in &dims {
                field_varint(&mut t, 1, d as u64);
            }
            field_varint(&mut t, 2, dt);
            field_bytes(&mut t, 8, name.as_bytes());
            field_bytes(&mut t, 9, &raw);
            t
        })
}

fn onnx_file() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(onnx_node(), 0..8),
        proptest::collection::vec(initializer(), 0..5),
        proptest::collection::vec(
            prop_oneof![Just(None), (0u64..9).prop_map(Some), Just(Some(u64::MAX))],
            0..6,
        ),
    )
        .prop_map(|(nodes, inits, dims)| {
            model_with_inputs(&nodes, &inits, &[value_info("x", &dims)])
        })
}

// ------------------------------------------------------------------ the runs

fn run<S: Strategy<Value = Vec<u8>>>(cases: u32, name: &str, s: S, hw: Option<(usize, usize)>) {
    let mut runner = TestRunner::new(PtConfig {
        cases,
        failure_persistence: None,
        ..PtConfig::default()
    });
    let r = runner.run(&s, |bytes| {
        survives(name, bytes, hw).map_err(TestCaseError::fail)
    });
    if let Err(e) = r {
        panic!("{e}");
    }
}

fn long_cases() -> u32 {
    std::env::var("TETRIS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000)
}

fn all(cases: u32) {
    run(cases, "f.npy", npy_file(), Some((6, 5)));
    run(cases, "f.npy", damaged(npy_file()), None);
    run(cases, "f.npz", npz_file(), Some((4, 4)));
    run(cases, "f.npz", damaged(npz_file()), None);
    run(cases, "f.onnx", onnx_file(), Some((5, 7)));
    run(cases, "f.onnx", onnx_file(), None);
    run(cases, "f.onnx", damaged(onnx_file()), Some((3, 3)));
}

#[test]
fn fuzz_loaders_never_panic_or_hang() {
    all(CI_CASES);
}

#[test]
#[ignore = "long run: cargo test --release fuzz -- --ignored"]
fn fuzz_loaders_long_run() {
    all(long_cases());
}

#[test]
fn the_fuzz_harness_reports_panics_hangs_and_nameless_errors() {
    assert!(survives("g.npy", weights::npy::write_f32(&[2], &[1.0, 2.0]), None).is_ok());
    assert!(survives("g.npy", b"not numpy".to_vec(), None).is_ok());
    let e = survives_with("p", LIMIT, || panic!("boom")).unwrap_err();
    assert!(e.contains("panicked"), "{e}");
    let e = survives_with("h", Duration::from_millis(200), || {
        std::thread::sleep(Duration::from_secs(5));
        true
    })
    .unwrap_err();
    assert!(e.contains("hang"), "{e}");
    let e = survives_with("n", LIMIT, || false).unwrap_err();
    assert!(e.contains("does not name the file"), "{e}");
}
