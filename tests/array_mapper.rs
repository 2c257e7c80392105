//! The mapped schedule computes every convolution output exactly: im2col tiling onto
//! rows x cols, filter-to-column balancing, kneaded streams per column and SAC per row,
//! against the direct convolution, on seeded random layers (stride, padding, dilation, groups).

use tetris_hdl::array::functional::run_mapped;
use tetris_hdl::array::mapper::{kneaded_lengths, map_layer};
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

#[test]
fn mapped_layers_equal_the_direct_convolution() {
    let mut r = Rng(2024);
    let mut ran = 0;
    for case in 0..80 {
        let groups = [1, 1, 2, 3][r.next(4) as usize];
        let p = ConvParams {
            batch: 1 + r.next(2) as usize,
            cin: groups * (1 + r.next(4) as usize),
            cout: groups * (1 + r.next(5) as usize),
            in_h: 3 + r.next(5) as usize,
            in_w: 3 + r.next(5) as usize,
            kh: 1 + r.next(3) as usize,
            kw: 1 + r.next(3) as usize,
            stride: (1 + r.next(2) as usize, 1 + r.next(2) as usize),
            pad: (
                r.next(2) as usize,
                r.next(2) as usize,
                r.next(2) as usize,
                r.next(2) as usize,
            ),
            dilation: (1 + r.next(2) as usize, 1),
            groups,
        };
        if p.validate().is_err() {
            continue;
        }
        let bits = [8u32, 16][case % 2];
        let enc = [Encoding::Sm, Encoding::Csd][case / 2 % 2];
        let m = max_magnitude(bits);
        let a = 1i64 << 15;
        let w: Vec<i64> = (0..p.weight_len()).map(|_| r.range(-m, m)).collect();
        let x: Vec<i64> = (0..p.input_len()).map(|_| r.range(-a, a - 1)).collect();
        let ks = [1usize, 4, 16][r.next(3) as usize];
        let lens = kneaded_lengths(&w, p.dot_len(), bits, enc, ks);
        let (rows, cols) = (1 + r.next(4) as usize, 1 + r.next(8) as usize);
        let map = map_layer(&p, rows, cols, ks, &lens).unwrap();
        let got = run_mapped(&map, &x, &w, bits, enc).unwrap();
        ran += 1;
        assert_eq!(
            got,
            conv2d(&p, &x, &w).unwrap(),
            "case {case}: {p:?} {rows}x{cols} ks={ks}"
        );
    }
    assert!(ran >= 50, "only {ran} valid random layers");
}

#[test]
fn gemm_through_the_mapper() {
    let mut r = Rng(7);
    let p = ConvParams::gemm(9, 50, 11);
    let w: Vec<i64> = (0..p.weight_len()).map(|_| r.range(-127, 127)).collect();
    let x: Vec<i64> = (0..p.input_len()).map(|_| r.range(-128, 127)).collect();
    let lens = kneaded_lengths(&w, 50, 8, Encoding::Sm, 16);
    let map = map_layer(&p, 4, 4, 16, &lens).unwrap();
    assert_eq!(
        run_mapped(&map, &x, &w, 8, Encoding::Sm).unwrap(),
        conv2d(&p, &x, &w).unwrap()
    );
}
