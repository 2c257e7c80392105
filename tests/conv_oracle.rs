//! The golden convolution (`model::conv::conv2d`) and its im2col rows (what the mapper and
//! the array drivers feed the PEs) against an independent oracle written from the ONNX Conv
//! definition (tests/common/conv_oracle.rs): first the oracle itself on cases computed by hand
//! and on the ONNX operator documentation's examples, then both golden paths on random layers
//! with per-axis strides, asymmetric pads, per-axis dilations, groups (depthwise included) and
//! batches.

mod common;
use common::conv_oracle::{check_random_convs, onnx_conv, Limits};
use tetris_hdl::model::conv::{conv2d, ConvParams};

/// One input channel and one filter of `kh` x `kw`, stride 1, no padding, no dilation.
fn single(in_h: usize, in_w: usize, kh: usize, kw: usize) -> ConvParams {
    ConvParams::plain(1, 1, (in_h, in_w), (kh, kw))
}

/// The oracle and the golden model agree on `want` (and on its shape).
fn both(p: &ConvParams, x: &[i64], w: &[i64], shape: (usize, usize), want: &[i128]) {
    let (oh, ow, y) = onnx_conv(p, x, w);
    assert_eq!((oh, ow), shape, "oracle shape, {p:?}");
    assert_eq!(y, want, "oracle, {p:?}");
    assert_eq!((p.out_h(), p.out_w()), shape, "golden shape, {p:?}");
    assert_eq!(conv2d(p, x, w).unwrap(), want, "golden conv2d, {p:?}");
}

/// x[y][x] = 10 y + x: every output names the pixels it read.
fn ramp(h: usize, w: usize) -> Vec<i64> {
    (0..h)
        .flat_map(|y| (0..w).map(move |x| (10 * y + x) as i64))
        .collect()
}

#[test]
fn strides_per_axis_by_hand() {
    // 1x1 kernel of 1: the output is the input sampled every 2nd row and every 3rd column.
    let mut p = single(5, 7, 1, 1);
    p.stride = (2, 3);
    let want = [0, 3, 6, 20, 23, 26, 40, 43, 46];
    both(&p, &ramp(5, 7), &[1], (3, 3), &want);
}

#[test]
fn asymmetric_pads_by_hand() {
    // pads (top 1, left 0, bottom 0, right 2): one zero row above, two zero columns right.
    let mut p = single(2, 2, 1, 1);
    p.pad = (1, 0, 0, 2);
    let want = [0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0];
    both(&p, &[1, 2, 3, 4], &[1], (3, 4), &want);
    // pads (top 0, left 1, bottom 2, right 0), 2x2 kernel of ones over the padded
    // [[0,1,2],[0,3,4],[0,0,0],[0,0,0]].
    let mut p = single(2, 2, 2, 2);
    p.pad = (0, 1, 2, 0);
    both(&p, &[1, 2, 3, 4], &[1; 4], (3, 2), &[4, 10, 3, 7, 0, 0]);
}

#[test]
fn dilations_per_axis_by_hand() {
    // Kernel [[1,2],[3,4]] over the ramp. Dilation (2,1): taps at rows y, y+2 and columns
    // x, x+1: 1(10y+x) + 2(10y+x+1) + 3(10y+20+x) + 4(10y+20+x+1) = 100y + 10x + 146.
    let mut p = single(4, 5, 2, 2);
    p.dilation = (2, 1);
    let want = [146, 156, 166, 176, 246, 256, 266, 276];
    both(&p, &ramp(4, 5), &[1, 2, 3, 4], (2, 4), &want);
    // Dilation (1,3): rows y, y+1 and columns x, x+3: 100y + 10x + 88.
    p.dilation = (1, 3);
    let want = [88, 98, 188, 198, 288, 298];
    both(&p, &ramp(4, 5), &[1, 2, 3, 4], (3, 2), &want);
}

#[test]
fn groups_by_hand() {
    // 4 channels, 2 groups of 2, one filter each: filter 0 reads channels 0-1, filter 1 2-3.
    let mut p = single(1, 1, 1, 1);
    p.cin = 4;
    p.cout = 2;
    p.groups = 2;
    both(&p, &[1, 10, 100, 1000], &[1, 2, 3, 4], (1, 1), &[21, 4300]);
    // 2 channels, 2 groups of 2 filters: filters 0-1 read channel 0, filters 2-3 channel 1.
    p.cin = 2;
    p.cout = 4;
    both(&p, &[5, 7], &[1, 2, 3, 4], (1, 1), &[5, 10, 21, 28]);
    // Depthwise: every channel its own filter.
    p.cin = 3;
    p.cout = 3;
    p.groups = 3;
    both(&p, &[2, 3, 5], &[7, 11, 13], (1, 1), &[14, 33, 65]);
}

#[test]
fn onnx_operator_documentation_examples() {
    // onnx.ai Conv examples: x = 0..N-1 in one channel, a 3x3 kernel of ones.
    let x25: Vec<i64> = (0..25).collect();
    let x35: Vec<i64> = (0..35).collect();
    let mut p = single(5, 5, 3, 3);
    p.pad = (1, 1, 1, 1);
    #[rustfmt::skip]
    let want = [
        12, 21, 27, 33, 24,
        33, 54, 63, 72, 51,
        63, 99, 108, 117, 81,
        93, 144, 153, 162, 111,
        72, 111, 117, 123, 84,
    ];
    both(&p, &x25, &[1; 9], (5, 5), &want); // basic_conv_with_padding
    p.pad = (0, 0, 0, 0);
    let want = [54, 63, 72, 99, 108, 117, 144, 153, 162];
    both(&p, &x25, &[1; 9], (3, 3), &want); // basic_conv_without_padding
    let mut p = single(7, 5, 3, 3);
    p.stride = (2, 2);
    p.pad = (1, 1, 1, 1);
    let want = [12, 27, 24, 63, 108, 81, 123, 198, 141, 112, 177, 124];
    both(&p, &x35, &[1; 9], (4, 3), &want); // conv_with_strides_padding
    p.pad = (0, 0, 0, 0);
    let want = [54, 72, 144, 162, 234, 252];
    both(&p, &x35, &[1; 9], (3, 2), &want); // conv_with_strides_no_padding
    p.pad = (1, 0, 1, 0); // ONNX pads [1, 0, 1, 0]: H begin, W begin, H end, W end
    let want = [21, 33, 99, 117, 189, 207, 171, 183];
    both(&p, &x35, &[1; 9], (4, 2), &want); // conv_with_strides_and_asymmetric_padding
}

#[test]
fn golden_conv2d_and_im2col_rows_equal_the_oracle_on_random_layers() {
    let limits = Limits {
        cin_g: 3,
        cout_g: 3,
        hw: 7,
        batch: 2,
    };
    check_random_convs(19, &limits, 400, |case, p, r| {
        let x: Vec<i64> = (0..p.input_len()).map(|_| r.range(-128, 127)).collect();
        let w: Vec<i64> = (0..p.weight_len()).map(|_| r.range(-127, 127)).collect();
        let (oh, ow, want) = onnx_conv(p, &x, &w);
        assert_eq!(
            (p.out_h(), p.out_w()),
            (oh, ow),
            "case {case}: shape, {p:?}"
        );
        assert_eq!(conv2d(p, &x, &w).unwrap(), want, "case {case}: {p:?}");
        // Every im2col row (what the array is fed) dotted with its filter.
        let dot = p.dot_len();
        for n in 0..p.batch {
            for o in 0..p.cout {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let pixel = (n * oh + oy) * ow + ox;
                        let row = p.im2col_row(&x, pixel, o / (p.cout / p.groups));
                        let got: i128 = row
                            .iter()
                            .zip(&w[o * dot..(o + 1) * dot])
                            .map(|(&a, &b)| a as i128 * b as i128)
                            .sum();
                        let at = ((n * p.cout + o) * oh + oy) * ow + ox;
                        assert_eq!(got, want[at], "case {case}: im2col row {pixel}, {p:?}");
                    }
                }
            }
        }
    });
}
