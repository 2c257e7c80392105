//! Array benchmarks (run with `cargo bench --bench array`):
//! 1. cycle-model throughput on a whole network (VGG-16 conv layers at 224x224, 14.7 M seeded
//!    Gaussian weights, 16-bit sm KS=16, 8x8 and 16x16): quantize + knead + map + time both
//!    arrays; target under 1 s per 10 M weights;
//! 2. in-process RTL simulation speed of the array (cycles/s) at 4x4, 8x8 and 16x16, of runs
//!    whose outputs equal the golden convolution and whose cycles equal the cycle model.

use std::time::Instant;
use tetris_hdl::array::cycle_model::{layer_cycles_for_tiles, Engine, Timing};
use tetris_hdl::array::host::LayerData;
use tetris_hdl::array::mapper::{kneaded_lengths, map_layer};
use tetris_hdl::array::network::{evaluate_all, synthetic_activations, total};
use tetris_hdl::flow::rtl_driver::run_layer_rtl;
use tetris_hdl::model::conv::{conv2d, ConvParams};
use tetris_hdl::model::rng::SplitMix64;
use tetris_hdl::weights::Layer;

#[path = "../tests/common/configs.rs"]
mod configs;
#[path = "../tests/common/conv_layers.rs"]
mod conv_layers;
use configs::default_on_array;
use conv_layers::same_3x3_conv;

fn gaussian(n: usize, seed: u64) -> Vec<f32> {
    let mut r = SplitMix64::new(seed);
    (0..n).map(|_| r.normal() as f32).collect()
}

/// The 13 conv layers of VGG-16: its five stages of (output channels, map side, layers), each
/// layer taking the previous one's channels (3 into the first).
fn vgg16() -> Vec<Layer> {
    let stages = [
        (64, 224, 2),
        (128, 112, 2),
        (256, 56, 3),
        (512, 28, 3),
        (512, 14, 3),
    ];
    let mut cin = 3;
    let mut spec = vec![];
    for (cout, side, layers) in stages {
        for _ in 0..layers {
            spec.push(same_3x3_conv(cin, cout, side));
            cin = cout;
        }
    }
    spec.into_iter()
        .enumerate()
        .map(|(i, params)| {
            let weights = gaussian(params.weight_len(), i as u64 + 1);
            Layer::conv(&format!("conv{i}"), params, weights)
        })
        .collect()
}

fn main() {
    let net = vgg16();
    let weights: usize = net.iter().map(|l| l.data.len()).sum();
    println!("| bench | array | weights | time (s) | s per 10 M weights | result |");
    println!("|---|---|---|---|---|---|");
    for (r, c) in [(8, 8), (16, 16)] {
        let cfg = default_on_array(r, c);
        let t0 = Instant::now();
        let reports = evaluate_all(&net, &cfg, Timing::default()).unwrap();
        let dt = t0.elapsed().as_secs_f64();
        let tot = total(&reports);
        println!(
            "| cycle model, VGG-16 conv, 16-bit sm KS=16 | {r}x{c} | {weights} | {dt:.3} | {:.3} | speedup {:.3}, ideal share {:.3} |",
            dt * 1e7 / weights as f64,
            tot.run.speedup,
            tot.run.ideal_share
        );
    }
    println!();
    println!("| bench | array | simulated cycles | time (s) | cycles/s |");
    println!("|---|---|---|---|---|");
    for n in [4usize, 8, 16] {
        let cfg = default_on_array(n as u32, n as u32);
        // One pixel tile of a 1x1 conv with K = 256 and 2 filters per column (setup included).
        let p = ConvParams::gemm(n, 256, 2 * n);
        let w: Vec<i64> = gaussian(p.weight_len(), 7)
            .iter()
            .map(|x| (x * 6000.0).round().clamp(-32767.0, 32767.0) as i64)
            .collect();
        let x = synthetic_activations(p.input_len(), 16, 3);
        let lens = kneaded_lengths(&w, p.dot_len(), 16, cfg.pe.encoding, 16);
        let map = map_layer(&p, n, n, 16, &lens).unwrap();
        let data = LayerData::new(&map, &x, &w, &lens);
        let t0 = Instant::now();
        let run = run_layer_rtl(&cfg, data, Engine::Sac, &[0], false).unwrap();
        let dt = t0.elapsed().as_secs_f64();
        // A speed is only worth printing for a run that did the work: every output of the
        // tile equal to the golden convolution, the cycle counter equal to the cycle model.
        let golden = conv2d(&p, &x, &w).expect("golden convolution");
        assert_eq!(
            run.outputs.len(),
            n * p.cout,
            "{n}x{n}: outputs of the tile"
        );
        for &(i, v) in &run.outputs {
            assert_eq!(v, golden[i], "{n}x{n}: output {i}");
        }
        let model = layer_cycles_for_tiles(&map, &lens, Engine::Sac, Timing::default(), 1);
        assert_eq!(run.cycles, model, "{n}x{n}: RTL cycles vs cycle model");
        println!(
            "| in-process RTL, SAC array 16-bit sm KS=16 | {n}x{n} | {} | {dt:.2} | {:.0} |",
            run.cycles,
            run.cycles as f64 / dt
        );
    }
}
