//! The mapped schedule computes every convolution output exactly: im2col tiling onto
//! rows x cols, filter-to-column balancing, kneaded streams per column and SAC per row,
//! against the independent ONNX Conv oracle (tests/common/conv_oracle.rs), on seeded random
//! layers (per-axis stride and dilation, asymmetric pads, groups, depthwise, batches).

mod common;
use common::conv_oracle::{check_random_convs, oracle, Limits};
use tetris_hdl::array::functional::run_mapped;
use tetris_hdl::array::mapper::{kneaded_lengths, map_layer};
use tetris_hdl::hdl::sim::SplitMix64;
use tetris_hdl::model::conv::ConvParams;
use tetris_hdl::model::encoding::{max_magnitude, Encoding};

#[test]
fn mapped_layers_equal_the_onnx_convolution() {
    let limits = Limits {
        cin_g: 4,
        cout_g: 5,
        hw: 7,
        batch: 2,
    };
    check_random_convs(2024, &limits, 80, |case, p, r| {
        let bits = [8u32, 16][case % 2];
        let enc = [Encoding::Sm, Encoding::Csd][case / 2 % 2];
        let m = max_magnitude(bits);
        let a = 1i64 << 15;
        let w: Vec<i64> = (0..p.weight_len()).map(|_| r.range(-m, m)).collect();
        let x: Vec<i64> = (0..p.input_len()).map(|_| r.range(-a, a - 1)).collect();
        let ks = [1usize, 4, 16][r.range(0, 2) as usize];
        let lens = kneaded_lengths(&w, p.dot_len(), bits, enc, ks);
        let (rows, cols) = (r.range(1, 4) as usize, r.range(1, 8) as usize);
        let map = map_layer(p, rows, cols, ks, &lens).unwrap();
        let got = run_mapped(&map, &x, &w, bits, enc).unwrap();
        assert_eq!(
            got,
            oracle(p, &x, &w),
            "case {case}: {p:?} {rows}x{cols} ks={ks}"
        );
    });
}

#[test]
fn gemm_through_the_mapper() {
    let mut r = SplitMix64(7);
    let p = ConvParams::gemm(9, 50, 11);
    let w: Vec<i64> = (0..p.weight_len()).map(|_| r.range(-127, 127)).collect();
    let x: Vec<i64> = (0..p.input_len()).map(|_| r.range(-128, 127)).collect();
    let lens = kneaded_lengths(&w, 50, 8, Encoding::Sm, 16);
    let map = map_layer(&p, 4, 4, 16, &lens).unwrap();
    assert_eq!(
        run_mapped(&map, &x, &w, 8, Encoding::Sm).unwrap(),
        oracle(&p, &x, &w)
    );
}
