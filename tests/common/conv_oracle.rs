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

use tetris_hdl::hdl::sim::SplitMix64;
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

/// Sizes of [`random_conv`]'s layers.
pub struct Limits {
    /// Input channels per group: 1..=cin_g (depthwise layers have 1).
    pub cin_g: usize,
    /// Filters per group: 1..=cout_g (depthwise layers have 1).
    pub cout_g: usize,
    /// Input height and width: 1..=hw.
    pub hw: usize,
    /// Batch: 1..=batch.
    pub batch: usize,
}

/// A random valid layer with every ONNX Conv feature in play: per-axis strides 1..=3, pads
/// 0..=2 on each side (so mostly asymmetric), per-axis dilations 1..=3, kernels 1..=3 per
/// axis, groups (1, 2, 3, or depthwise with 2..=5 channels).
pub fn random_conv(r: &mut SplitMix64, l: &Limits) -> ConvParams {
    loop {
        let kind = r.range(0, 3);
        let groups = match kind {
            0 | 1 => kind as usize + 1,
            2 => 3,
            _ => r.range(2, 5) as usize,
        };
        let (cin_g, cout_g) = if kind == 3 {
            (1, 1)
        } else {
            (
                r.range(1, l.cin_g as i64) as usize,
                r.range(1, l.cout_g as i64) as usize,
            )
        };
        let mut side = || r.range(0, 2) as usize;
        let pad = (side(), side(), side(), side());
        let p = ConvParams {
            batch: r.range(1, l.batch as i64) as usize,
            cin: groups * cin_g,
            cout: groups * cout_g,
            in_h: r.range(1, l.hw as i64) as usize,
            in_w: r.range(1, l.hw as i64) as usize,
            kh: r.range(1, 3) as usize,
            kw: r.range(1, 3) as usize,
            stride: (r.range(1, 3) as usize, r.range(1, 3) as usize),
            pad,
            dilation: (r.range(1, 3) as usize, r.range(1, 3) as usize),
            groups,
        };
        if p.validate().is_ok() {
            return p;
        }
    }
}

/// `cases` random layers ([`random_conv`] within `limits`) from one generator seeded with
/// `seed`: `check(case, layer, generator)` on each (the generator goes on to draw the layer's
/// data), then every feature must have come up ([`Coverage::assert_all`]).
pub fn check_random_convs(
    seed: u64,
    limits: &Limits,
    cases: usize,
    mut check: impl FnMut(usize, &ConvParams, &mut SplitMix64),
) {
    let mut r = SplitMix64(seed);
    let mut coverage = Coverage::default();
    for case in 0..cases {
        let p = random_conv(&mut r, limits);
        coverage.add(&p);
        check(case, &p, &mut r);
    }
    coverage.assert_all();
}

/// Which features a layer exercises: [per-axis stride differs, pads asymmetric on both axes,
/// per-axis dilation differs, groups with several channels each, depthwise].
pub fn features(p: &ConvParams) -> [bool; 5] {
    let (t, l, b, r) = p.pad;
    [
        p.stride.0 != p.stride.1,
        t != b && l != r,
        p.dilation.0 != p.dilation.1,
        p.groups > 1 && p.cin > p.groups,
        p.groups > 1 && p.cin == p.groups && p.cout == p.groups,
    ]
}

/// Accumulates [`features`] over a test's layers; `assert_all` fails unless every feature
/// occurred (so a generator change cannot quietly drop one).
#[derive(Default)]
pub struct Coverage([bool; 5]);

impl Coverage {
    pub fn add(&mut self, p: &ConvParams) {
        for (seen, f) in self.0.iter_mut().zip(features(p)) {
            *seen |= f;
        }
    }

    pub fn assert_all(&self) {
        let names = [
            "stride",
            "asymmetric pads",
            "dilation",
            "groups",
            "depthwise",
        ];
        let missing: Vec<&str> = names
            .iter()
            .zip(self.0)
            .filter(|(_, s)| !s)
            .map(|(n, _)| *n)
            .collect();
        assert!(missing.is_empty(), "no random layer exercised {missing:?}");
    }
}
