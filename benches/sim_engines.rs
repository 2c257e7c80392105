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
//! The same arrays as the generator emitted them before the typed netlist (revision 80f1ca2,
//! `benches/fixtures/old_emission.zip`: same ports, same behaviour) are built and run with the
//! same harness and checked the same way: the "old emission" columns.
//!
//! Environment: `TETRIS_BENCH_SIZES=1,4,8` limits the sizes; `TETRIS_VERILATOR_HIER=0` builds
//! the PE inlined instead of as a hierarchical block.

use std::path::PathBuf;
use std::time::Instant;
use tetris_hdl::array::cycle_model::{layer_cycles, layer_cycles_for_tiles, Engine, Timing};
use tetris_hdl::array::host::LayerData;
use tetris_hdl::array::mapper::{kneaded_lengths, map_layer};
use tetris_hdl::array::network::synthetic_activations;
use tetris_hdl::config::Config;
use tetris_hdl::flow::rtl_driver::run_layer_rtl;
use tetris_hdl::flow::verilator_driver::{
    build_array_design, build_array_sim, run_layer_verilator, ArraySim,
};
use tetris_hdl::flow::verilog::{Design, Module};
use tetris_hdl::hdl::sim::SplitMix64;
use tetris_hdl::model::conv::{conv2d, ConvParams};
use tetris_hdl::model::encoding::max_magnitude;

#[path = "../tests/common/configs.rs"]
mod configs;
#[path = "../tests/common/conv_layers.rs"]
mod conv_layers;
use configs::default_on_array;
use conv_layers::same_3x3_conv;

/// A 3x3 conv, 32 -> 2n channels, on a map giving about 100 pixel tiles for an n x n array.
fn layer(n: usize) -> ConvParams {
    let side = ((100 * n) as f64).sqrt().ceil() as usize;
    same_3x3_conv(32, 2 * n, side)
}

/// The array of `cfg` as written before the netlist (from the fixture), with the ports of
/// today's emission (checked equal): `None` when the fixture lacks this size.
fn old_design(cfg: &Config, n: usize) -> Option<Design> {
    let zip_path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/fixtures/old_emission.zip");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(zip_path).ok()?).expect("fixture zip");
    let dir = format!("sac16_{n}x{n}");
    let read = |zip: &mut zip::ZipArchive<std::fs::File>, name: &str| -> Option<String> {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).ok()?, &mut s).ok()?;
        Some(s)
    };
    let list = read(&mut zip, &format!("{dir}/files.f"))?;
    let mut modules = vec![];
    for f in list.lines().filter(|l| !l.trim().is_empty()) {
        let text = read(&mut zip, &format!("{dir}/{f}")).expect("a listed file");
        let name = f
            .trim_start_matches("rtl/")
            .trim_end_matches(".v")
            .to_string();
        modules.push(Module {
            name,
            text,
            children: vec![],
        });
    }
    let (new, _) = tetris_hdl::flow::array_gen::emit_array(cfg).expect("emit");
    let old_top = &modules.last().expect("a top").text;
    // The old top's ports, as Yosys reads the file.
    let scratch = tetris_hdl::fsutil::ScratchDir::new("tetris-bench-ports").expect("scratch");
    let old_file = scratch.path().join("top.v");
    std::fs::write(&old_file, old_top).expect("write the old top");
    let old_ports =
        tetris_hdl::flow::ports::top_ports(&[old_file], &cfg.top.name).expect("old ports");
    let mut a: Vec<_> = old_ports
        .iter()
        .map(|p| (p.name.clone(), p.dir, p.width))
        .collect();
    let mut b: Vec<_> = new
        .netlist
        .top_module()
        .ports
        .iter()
        .map(|p| (p.name.clone(), p.dir, p.width))
        .collect();
    a.sort();
    b.sort();
    assert_eq!(a, b, "{n}x{n}: the old emission's ports differ");
    Some(Design {
        top: new.top.clone(),
        modules,
        instances: 0,
        netlist: new.netlist,
    })
}

/// One layer run through Verilator builds, with what each run is checked against.
struct VerilatorCheck<'a> {
    cfg: &'a Config,
    map: &'a tetris_hdl::array::mapper::LayerMap,
    x: &'a [i64],
    w: &'a [i64],
    lens: &'a [Vec<u32>],
    tiles: &'a [usize],
    work: &'a std::path::Path,
    golden: &'a [i128],
    model_cycles: u64,
}

impl VerilatorCheck<'_> {
    /// Build (or take from the cache) with `build`, then run the whole layer and check it: the
    /// cold build's seconds (0 when cached) and the cycles per second.
    fn build_and_rate(&self, build: impl FnOnce() -> ArraySim) -> (f64, f64) {
        let t0 = Instant::now();
        let sim = build();
        let build_s = if sim.cached {
            0.0
        } else {
            t0.elapsed().as_secs_f64()
        };
        let (vrun, st) = run_layer_verilator(
            &sim,
            self.cfg,
            LayerData::new(self.map, self.x, self.w, self.lens),
            Engine::Sac,
            self.tiles,
            self.work,
            1,
        )
        .expect("Verilator run");
        assert_eq!(vrun.cycles, self.model_cycles, "Verilator vs model");
        assert_eq!(vrun.outputs.len(), self.golden.len());
        assert!(vrun.outputs.iter().all(|&(i, v)| self.golden[i] == v));
        (build_s, st.sim_cycles as f64 / st.sim_s)
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
    println!("| design | layer | Verilator build (s) | rust-hdl cycles/s | Verilator cycles/s | cycle model cycles/s | Verilator / rust-hdl | old emission: build (s) | old emission: Verilator cycles/s | new / old |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for n in sizes {
        let cfg = default_on_array(n as u32, n as u32);
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
        let data = LayerData::new(&map, &x, &w, &lens);
        let t0 = Instant::now();
        let run = run_layer_rtl(&cfg, data, Engine::Sac, &[0], false).expect("in-process run");
        let rust_hdl_s = t0.elapsed().as_secs_f64();
        assert_eq!(
            run.cycles,
            layer_cycles_for_tiles(&map, &lens, Engine::Sac, timing, 1)
        );
        assert_eq!(run.outputs.len(), map.tile_pixels(0).len() * p.cout);
        assert!(run.outputs.iter().all(|&(i, v)| golden[i] == v));
        let rust_hdl_rate = run.cycles as f64 / rust_hdl_s;

        // Verilator: build (or take from the cache), then the whole layer in one process.
        let check = VerilatorCheck {
            cfg: &cfg,
            map: &map,
            x: &x,
            w: &w,
            lens: &lens,
            tiles: &tiles,
            work: work.path(),
            golden: &golden,
            model_cycles,
        };
        let (build_s, verilator_rate) = check.build_and_rate(|| {
            build_array_sim(&cfg, Engine::Sac, &cache).expect("Verilator build")
        });
        let old = old_design(&cfg, n).map(|d| {
            check.build_and_rate(|| {
                build_array_design(d, &cfg, Engine::Sac, &cache, 0.0).expect("old build")
            })
        });
        let (old_build, old_rate) = old.map_or(("-".into(), "-".into()), |(b, r)| {
            (format!("{b:.1}"), format!("{r:.0}"))
        });
        let speedup = old.map_or("-".into(), |(_, r)| format!("{:.1}x", verilator_rate / r));
        println!(
            "| {} | 3x3 conv 32->{} on {}x{}, {} cycles | {build_s:.1} | {rust_hdl_rate:.0} | {verilator_rate:.0} | {model_rate:.3e} | {:.0}x | {old_build} | {old_rate} | {speedup} |",
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
