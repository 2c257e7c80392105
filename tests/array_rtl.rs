//! The array RTL (in-process rust-hdl simulation) against the independent ONNX Conv oracle
//! (tests/common/conv_oracle.rs), bit-exact, and against the cycle model, cycle-exact: seeded
//! random small layers (per-axis stride and dilation, asymmetric pads, groups, depthwise),
//! 4/8/16-bit, sm/csd, arrays 2x2 up to 8x8, SAC (host or on-chip kneading) and MAC weight
//! streams. The layers' data is the array stimulus of `tetris gen` and `tetris cosim`, with
//! its planted extremes (max-magnitude filters against the most negative activations, all-zero
//! kneading groups; guarded in tests/extremes.rs).

mod common;
use common::configs::array_config;
use common::conv_oracle::{oracle, random_conv, Coverage, Limits};
use tetris_hdl::array::cycle_model::{layer_cycles_for_tiles, Engine, Timing};
use tetris_hdl::array::host::LayerData;
use tetris_hdl::array::mapper::{kneaded_lengths, map_layer};
use tetris_hdl::config::Config;
use tetris_hdl::flow::array_gen::random_layer_data;
use tetris_hdl::flow::rtl_driver::run_layer_rtl;
use tetris_hdl::hdl::sim::SplitMix64;
use tetris_hdl::model::encoding::Encoding;

fn config(rows: u32, cols: u32, bits: u32, enc: Encoding) -> Config {
    let c = array_config(rows, cols, bits, enc);
    c.validate().unwrap();
    c
}

/// Run `cases` random layers on one array shape and check outputs and cycles.
fn check(seed: u64, rows: u32, cols: u32, cases: usize, max_tiles: usize) {
    let mut r = SplitMix64(seed);
    let limits = Limits {
        cin_g: 12,
        cout_g: 2 * cols as usize,
        hw: 6,
        batch: 1,
    };
    let mut coverage = Coverage::default();
    let mut largest = 0i128;
    for case in 0..cases {
        let bits = [16u32, 8, 4][case % 3];
        let enc = [Encoding::Sm, Encoding::Csd][case / 3 % 2];
        let cfg = config(rows, cols, bits, enc);
        let p = random_conv(&mut r, &limits);
        coverage.add(&p);
        let (w, x) = random_layer_data(&cfg, &p, &mut r);
        let lens = kneaded_lengths(&w, p.dot_len(), bits, enc, 16);
        let map = map_layer(&p, rows as usize, cols as usize, 16, &lens).unwrap();
        let golden = oracle(&p, &x, &w);
        let ntiles = map.pixel_tiles().min(max_tiles);
        let tiles: Vec<usize> = (0..ntiles)
            .map(|i| i * map.pixel_tiles() / ntiles)
            .collect();
        // Every other case also runs the SAC array behind on-chip kneading units: the same
        // outputs and, since the units keep the kneaded stream back to back, the same cycles.
        let mut runs = vec![(Engine::Sac, false), (Engine::Mac, false)];
        if case % 2 == 0 {
            runs.push((Engine::Sac, true));
        }
        for (engine, on_chip) in runs {
            let mut cfg = cfg.clone();
            cfg.array.knead_on_chip = on_chip;
            let run = run_layer_rtl(
                &cfg,
                LayerData::new(&map, &x, &w, &lens),
                engine,
                &tiles,
                false,
            )
            .unwrap();
            let want = tiles
                .iter()
                .map(|&t| map.tile_pixels(t).len())
                .sum::<usize>()
                * p.cout;
            assert_eq!(run.outputs.len(), want, "case {case}: output count");
            for (idx, v) in &run.outputs {
                assert_eq!(
                    *v, golden[*idx],
                    "case {case} {engine:?} on-chip kneading {on_chip} {p:?} output {idx}"
                );
                if bits == 16 {
                    largest = largest.max(v.abs());
                }
            }
            let model = layer_cycles_for_tiles(&map, &lens, engine, Timing::default(), tiles.len());
            assert_eq!(
                run.cycles, model,
                "case {case} {engine:?} on-chip kneading {on_chip} {rows}x{cols} {bits}-bit {enc}: RTL vs model cycles, {p:?}"
            );
            eprintln!(
                "case {case}: {rows}x{cols} {bits}-bit {enc} {engine:?} on-chip kneading {on_chip}: {} cycles",
                run.cycles
            );
        }
    }
    coverage.assert_all();
    assert!(
        largest > 1i128 << 32,
        "16-bit results stayed within 32 bits: {largest}"
    );
}

/// One test per array shape, `name: check(seed, rows, cols, cases, max_tiles)`.
macro_rules! array_tests {
    ($($name:ident: $args:tt;)*) => {
        $(
            #[test]
            fn $name() {
                check $args;
            }
        )*
    };
}

array_tests! {
    array_2x2_matches_golden_and_model: (11, 2, 2, 60, 4);
    array_3x2_matches_golden_and_model: (12, 3, 2, 30, 3);
    array_4x4_matches_golden_and_model: (13, 4, 4, 30, 4);
    array_8x8_tiny_matches_golden_and_model: (14, 8, 8, 8, 2);
}
