//! Simulation engines compared in one run (`cargo bench --bench sim_engines`): cycles per
//! second of the in-process rust-hdl simulation, the Verilator build of the emitted Verilog
//! and the analytic cycle model, for a single PE (1x1 array) and 4x4, 8x8, 16x16 SAC arrays
//! (16-bit sign-magnitude, KS=16, the default config otherwise), on the same 3x3 conv layer.
//!
//! Every engine's result is checked before its speed is printed: outputs against the golden
//! convolution, cycle counters against the cycle model. Verilator runs one harness process
//! (`jobs` = 1) so the figure is per core. Builds are cached under `target/bench-verilator`;
//! the build column says how long a cold build took (0 = cached: delete the folder to rebuild).
//!
//! Environment: `TETRIS_BENCH_SIZES=1,4,8` limits the sizes.

use std::path::PathBuf;
use std::time::Instant;
use tetris_hdl::array::cycle_model::{layer_cycles, layer_cycles_for_tiles, Engine, Timing};
use tetris_hdl::array::mapper::{kneaded_lengths, map_layer};
use tetris_hdl::array::network::synthetic_activations;
use tetris_hdl::array::rtl_driver::run_layer_rtl;
use tetris_hdl::array::verilator_driver::{build_array_sim, run_layer_verilator};
use tetris_hdl::config::Config;
use tetris_hdl::hdl::sim::SplitMix64;
use tetris_hdl::model::conv::{conv2d, ConvParams};
use tetris_hdl::model::encoding::max_magnitude;

fn config(n: u32) -> Config {
    let mut c = Config::default_config();
    c.array.rows = n;
    c.array.cols = n;
    c.array.emit = true;
    c
}

/// A 3x3 conv, 32 -> 2n channels, on a map giving about 100 pixel tiles for an n x n array.
fn layer(n: usize) -> ConvParams {
    let side = ((100 * n) as f64).sqrt().ceil() as usize;
    ConvParams {
        batch: 1,
        cin: 32,
        cout: 2 * n,
        in_h: side,
        in_w: side,
        kh: 3,
        kw: 3,
        stride: (1, 1),
        pad: (1, 1, 1, 1),
        dilation: (1, 1),
        groups: 1,
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::var("TETRIS_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 4, 8, 16]);
    let cache = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-verilator");
    let work = tempfile::tempdir().expect("temp dir");
    let timing = Timing::default();
    println!("| design | layer | Verilator build (s) | rust-hdl cycles/s | Verilator cycles/s | cycle model cycles/s | Verilator / rust-hdl |");
    println!("|---|---|---|---|---|---|---|");
    for n in sizes {
        let cfg = config(n as u32);
        let p = layer(n);
        let mut r = SplitMix64(11 + n as u64);
        let m = max_magnitude(16);
        let w: Vec<i64> = (0..p.weight_len())
            .map(|_| if r.chance(1, 4) { 0 } else { r.range(-m, m) })
            .collect();
        let x = synthetic_activations(p.input_len(), 16, 5);
        let lens = kneaded_lengths(&w, p.dot_len(), 16, cfg.pe.encoding, 16);
        let map = map_layer(&p, n, n, 16, &lens).expect("map");
        let golden = conv2d(&p, &x, &w).expect("conv");
        let tiles: Vec<usize> = (0..map.pixel_tiles()).collect();

        // Cycle model: the whole layer, repeated until it has run for 0.2 s.
        let t0 = Instant::now();
        let mut reps = 0u64;
        let mut model_cycles = 0;
        while t0.elapsed().as_secs_f64() < 0.2 {
            model_cycles = layer_cycles(&map, &lens, Engine::Sac, timing);
            reps += 1;
        }
        let model_rate = (model_cycles * reps) as f64 / t0.elapsed().as_secs_f64();

        // rust-hdl in-process: the first pixel tile (the 16x16 array runs tens of cycles/s).
        let t0 = Instant::now();
        let run = run_layer_rtl(&cfg, &map, &x, &w, &lens, Engine::Sac, &[0], false)
            .expect("in-process run");
        let rust_hdl_s = t0.elapsed().as_secs_f64();
        assert_eq!(
            run.cycles,
            layer_cycles_for_tiles(&map, &lens, Engine::Sac, timing, 1)
        );
        assert_eq!(run.outputs.len(), map.tile_pixels(0).len() * p.cout);
        assert!(run.outputs.iter().all(|&(i, v)| golden[i] == v));
        let rust_hdl_rate = run.cycles as f64 / rust_hdl_s;

        // Verilator: build (or take from the cache), then the whole layer in one process.
        let t0 = Instant::now();
        let sim = build_array_sim(&cfg, Engine::Sac, &cache).expect("Verilator build");
        let build_s = if sim.cached {
            0.0
        } else {
            t0.elapsed().as_secs_f64()
        };
        let (vrun, st) = run_layer_verilator(
            &sim,
            &cfg,
            &map,
            &x,
            &w,
            &lens,
            Engine::Sac,
            &tiles,
            work.path(),
            1,
        )
        .expect("Verilator run");
        assert_eq!(vrun.cycles, model_cycles, "{n}x{n}: Verilator vs model");
        assert_eq!(vrun.outputs.len(), golden.len());
        assert!(vrun.outputs.iter().all(|&(i, v)| golden[i] == v));
        let verilator_rate = st.sim_cycles as f64 / st.sim_s;

        println!(
            "| {} | 3x3 conv 32->{} on {}x{}, {} cycles | {build_s:.1} | {rust_hdl_rate:.0} | {verilator_rate:.0} | {model_rate:.3e} | {:.0}x |",
            if n == 1 {
                "PE (1x1)".to_string()
            } else {
                format!("{n}x{n} array")
            },
            p.cout,
            p.in_h,
            p.in_w,
            model_cycles,
            verilator_rate / rust_hdl_rate
        );
    }
}
