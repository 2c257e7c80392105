//! An independent convolution oracle for the tests, written from the ONNX Conv definition
//! (onnx.ai/onnx/operators/onnx__Conv.html), not from the golden model: it shares none of
//! `model::conv`'s index arithmetic (no `out_h`/`out_w`, no `im2col_row`, no
//! `oy * stride + ky * dilation - pad`). Instead it does what the definition says, step by step
//! on explicit tensors:
//! 1. zero-pad the input into a larger tensor (`pads` = [H begin, W begin, H end, W end], which
//!    is `ConvParams::pad` = (top, left, bottom, right));
//! 2. dilate each kernel into an explicit kernel with `dilation - 1` zeros between its taps;
//! 3. slide that kernel over the padded input, moving by the stride, as long as it fits;
//! 4. output channel o belongs to group o / (Cout / group) and reads only that group's slice
//!    of Cin / group input channels.
//!
//! Slow on purpose (nested `Vec`s, every zero tap multiplied): it runs on small test layers.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use tetris_hdl::model::conv::ConvParams;

type Tensor4 = Vec<Vec<Vec<Vec<i64>>>>;

/// A row-major flat tensor of shape [a, b, c, d] as nested vectors.
fn nest(flat: &[i64], [a, b, c, d]: [usize; 4]) -> Tensor4 {
    assert_eq!(flat.len(), a * b * c * d, "tensor size");
    let mut it = flat.iter().copied();
    (0..a)
        .map(|_| {
            (0..b)
                .map(|_| (0..c).map(|_| it.by_ref().take(d).collect()).collect())
                .collect()
        })
        .collect()
}

/// Top-left corners of the windows of length `window` that fit in `len`, moving by `stride`.
fn corners(len: usize, window: usize, stride: usize) -> Vec<usize> {
    (0..len)
        .step_by(stride)
        .take_while(|&start| start + window <= len)
        .collect()
}

/// The ONNX Conv of `input` [N, Cin, H, W] with `weights` [Cout, Cin/group, KH, KW] (no
/// bias): (output height, output width, output [N, Cout, OH, OW] flattened row-major).
pub fn onnx_conv(p: &ConvParams, input: &[i64], weights: &[i64]) -> (usize, usize, Vec<i128>) {
    let (top, left, bottom, right) = p.pad;
    let cin_g = p.cin / p.groups;
    let cout_g = p.cout / p.groups;
    let x = nest(input, [p.batch, p.cin, p.in_h, p.in_w]);
    let w = nest(weights, [p.cout, cin_g, p.kh, p.kw]);

    // 1. The zero-padded input.
    let (ph, pw) = (top + p.in_h + bottom, left + p.in_w + right);
    let mut padded = vec![vec![vec![vec![0i64; pw]; ph]; p.cin]; p.batch];
    for (n, img) in x.iter().enumerate() {
        for (c, plane) in img.iter().enumerate() {
            for (y, line) in plane.iter().enumerate() {
                padded[n][c][top + y][left..left + p.in_w].copy_from_slice(line);
            }
        }
    }

    // 2. The dilated kernels: tap (ky, kx) lands at (ky * dh, kx * dw), zeros in between.
    let (dh, dw) = p.dilation;
    let (kh_d, kw_d) = (dh * (p.kh - 1) + 1, dw * (p.kw - 1) + 1);
    let mut kernel = vec![vec![vec![vec![0i64; kw_d]; kh_d]; cin_g]; p.cout];
    for (o, filter) in w.iter().enumerate() {
        for (ci, taps) in filter.iter().enumerate() {
            for (ky, line) in taps.iter().enumerate() {
                for (kx, &v) in line.iter().enumerate() {
                    kernel[o][ci][ky * dh][kx * dw] = v;
                }
            }
        }
    }

    // 3. + 4. Slide each kernel over its group's input channels.
    let ys = corners(ph, kh_d, p.stride.0);
    let xs = corners(pw, kw_d, p.stride.1);
    let mut out = Vec::with_capacity(p.batch * p.cout * ys.len() * xs.len());
    for img in &padded {
        for (o, k) in kernel.iter().enumerate() {
            let channels = &img[o / cout_g * cin_g..][..cin_g];
            for &y0 in &ys {
                for &x0 in &xs {
                    let mut acc = 0i128;
                    for (plane, kplane) in channels.iter().zip(k) {
                        for (u, kline) in kplane.iter().enumerate() {
                            for (v, &kv) in kline.iter().enumerate() {
                                acc += plane[y0 + u][x0 + v] as i128 * kv as i128;
                            }
                        }
                    }
                    out.push(acc);
                }
            }
        }
    }
    (ys.len(), xs.len(), out)
}

/// [`onnx_conv`]'s output values only.
pub fn oracle(p: &ConvParams, input: &[i64], weights: &[i64]) -> Vec<i128> {
    onnx_conv(p, input, weights).2
}
