//! The array RTL (in-process rust-hdl simulation) against the golden convolution, bit-exact,
//! and against the cycle model, cycle-exact: seeded random small layers (stride, padding,
//! groups), 16/8-bit, sm/csd, arrays 2x2 up to 8x8, SAC (host or on-chip kneading) and MAC
//! weight streams.

use tetris_hdl::array::cycle_model::{layer_cycles_for_tiles, Engine, Timing};
use tetris_hdl::array::mapper::{kneaded_lengths, map_layer};
use tetris_hdl::array::rtl_driver::run_layer_rtl;
use tetris_hdl::config::Config;
use tetris_hdl::model::conv::{conv2d, ConvParams};
use tetris_hdl::model::encoding::{max_magnitude, Encoding};

struct Rng(u64);
impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.next((hi - lo + 1) as u64) as i64
    }
}

fn config(rows: u32, cols: u32, bits: u32, enc: Encoding) -> Config {
    let mut c = Config::default_config();
    c.array.rows = rows;
    c.array.cols = cols;
    c.pe.weight_bits = bits;
    c.pe.act_bits = bits;
    c.pe.encoding = enc;
    c.validate().unwrap();
    c
}

/// Run `cases` random layers on one array shape and check outputs and cycles.
fn check(seed: u64, rows: u32, cols: u32, cases: usize, max_tiles: usize) {
    let mut r = Rng(seed);
    let mut ran = 0;
    for case in 0..cases {
        let bits = [16u32, 8][case % 2];
        let enc = [Encoding::Sm, Encoding::Csd][case / 2 % 2];
        let cfg = config(rows, cols, bits, enc);
        let groups = [1, 1, 1, 2][r.next(4) as usize];
        let p = ConvParams {
            batch: 1,
            cin: groups * (1 + r.next(12) as usize),
            cout: groups * (1 + r.next(2 * cols as u64) as usize),
            in_h: 3 + r.next(4) as usize,
            in_w: 3 + r.next(4) as usize,
            kh: 1 + r.next(3) as usize,
            kw: 1 + r.next(3) as usize,
            stride: (1 + r.next(2) as usize, 1),
            pad: (
                r.next(2) as usize,
                r.next(2) as usize,
                r.next(2) as usize,
                0,
            ),
            dilation: (1, 1),
            groups,
        };
        if p.validate().is_err() {
            continue;
        }
        let m = max_magnitude(bits);
        let amax = 1i64 << (bits - 1);
        // Some weights zero so that all-zero groups (skipped by the SAC columns) occur.
        let w: Vec<i64> = (0..p.weight_len())
            .map(|_| if r.next(3) == 0 { 0 } else { r.range(-m, m) })
            .collect();
        let x: Vec<i64> = (0..p.input_len())
            .map(|_| r.range(-amax, amax - 1))
            .collect();
        let lens = kneaded_lengths(&w, p.dot_len(), bits, enc, 16);
        let map = map_layer(&p, rows as usize, cols as usize, 16, &lens).unwrap();
        let golden = conv2d(&p, &x, &w).unwrap();
        ran += 1;
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
            let run = run_layer_rtl(&cfg, &map, &x, &w, &lens, engine, &tiles, false).unwrap();
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
    assert!(
        ran * 2 >= cases,
        "only {ran} of {cases} random layers were valid"
    );
}

#[test]
fn array_2x2_matches_golden_and_model() {
    check(11, 2, 2, 60, 4);
}

#[test]
fn array_3x2_matches_golden_and_model() {
    check(12, 3, 2, 30, 3);
}

#[test]
fn array_4x4_matches_golden_and_model() {
    check(13, 4, 4, 30, 4);
}

#[test]
fn array_8x8_tiny_matches_golden_and_model() {
    check(14, 8, 8, 8, 2);
}
