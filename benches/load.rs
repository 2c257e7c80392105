//! Load time of the weight readers (`weights::load`: read the file, decode every tensor, put the
//! output-channel axis first) on generated files: the largest ONNX model the tests make, scaled
//! up to tens of MB, and the same weights as `.npz` and `.npy`. Extra files (e.g. real models
//! fetched as docs/knead.md describes) are timed too when given in `TETRIS_LOAD_FILES`
//! (colon-separated paths).
//!
//! Run: `cargo bench --bench load`. Without `--bench` (as `cargo test --all-targets` starts it)
//! it runs a small smoke version.

#[path = "../tests/common/npy.rs"]
mod npy;
#[path = "../tests/common/onnx_writer.rs"]
mod onnx_writer;
#[path = "../tests/common/pseudo_random.rs"]
mod pseudo_random;

use npy::npy_f32_bytes;
use onnx_writer::*;
use pseudo_random::uniform_values;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tetris_hdl::weights;

/// `n` weights in [-0.05, 0.05).
fn values(n: usize, seed: u64) -> Vec<f32> {
    uniform_values(n, seed, 0.1)
}

/// A chain of `layers` 3x3 convs of `ch` channels (raw_data f32 initializers), each followed by
/// a Relu: the shape of the test models, at a size worth timing.
fn onnx_model(layers: usize, ch: usize) -> (Vec<u8>, Vec<Vec<f32>>) {
    let mut nodes = Vec::new();
    let mut inits = Vec::new();
    let mut ws = Vec::new();
    let mut prev = "x".to_string();
    for i in 0..layers {
        let w = values(ch * ch * 9, i as u64 + 1);
        inits.push(tensor(&format!("w{i}"), &[ch, ch, 3, 3], Data::Raw(&w)));
        nodes.push(node(
            &format!("conv{i}"),
            "Conv",
            &[&prev, &format!("w{i}")],
            &[&format!("c{i}")],
            &[attr_ints("pads", &[1, 1, 1, 1])],
        ));
        nodes.push(node(
            &format!("relu{i}"),
            "Relu",
            &[&format!("c{i}")],
            &[&format!("r{i}")],
            &[],
        ));
        prev = format!("r{i}");
        ws.push(w);
    }
    let input = value_info("x", &[Some(1), Some(ch as u64), Some(32), Some(32)]);
    (model_with_inputs(&nodes, &inits, &[input]), ws)
}

fn npz(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        z.start_file(name.as_str(), opts).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// Best of `reps` loads: (seconds, weights).
fn time_load(p: &Path, reps: usize) -> (f64, usize) {
    let mut best = f64::INFINITY;
    let mut n = 0;
    for _ in 0..reps {
        let t = Instant::now();
        let layers = weights::load(p).unwrap_or_else(|e| panic!("{}: {e:#}", p.display()));
        best = best.min(t.elapsed().as_secs_f64());
        n = layers.iter().map(|l| l.data.len()).sum();
    }
    (best, n)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (layers, ch, reps) = if full { (40, 256, 5) } else { (4, 32, 1) };
    let dir = tempfile::tempdir().unwrap();
    let (model, ws) = onnx_model(layers, ch);
    let mut files: Vec<PathBuf> = Vec::new();
    let p = dir.path().join("convs.onnx");
    std::fs::write(&p, &model).unwrap();
    files.push(p);
    let entries: Vec<(String, Vec<u8>)> = ws
        .iter()
        .enumerate()
        .map(|(i, w)| {
            (
                format!("conv{i}.weight.npy"),
                npy_f32_bytes(&[ch, ch, 3, 3], w),
            )
        })
        .collect();
    let p = dir.path().join("convs.npz");
    std::fs::write(&p, npz(&entries)).unwrap();
    files.push(p);
    let all: Vec<f32> = ws.concat();
    let p = dir.path().join("convs.npy");
    std::fs::write(&p, npy_f32_bytes(&[layers * ch, ch, 3, 3], &all)).unwrap();
    files.push(p);
    if let Ok(extra) = std::env::var("TETRIS_LOAD_FILES") {
        files.extend(
            extra
                .split(':')
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
        );
    }
    println!("| file | MB | weights | load ms (best of {reps}) | MB/s |");
    println!("|---|---|---|---|---|");
    for p in &files {
        let mb = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
        let (s, n) = time_load(p, reps);
        println!(
            "| {} | {mb:.1} | {n} | {:.1} | {:.0} |",
            p.file_name().unwrap().to_string_lossy(),
            s * 1e3,
            mb / s
        );
    }
}
