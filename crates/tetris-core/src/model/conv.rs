//! Golden integer convolution and GEMM: the oracle the array (and its mapper) is checked against.
//!
//! Layouts follow ONNX: input `[N, Cin, H, W]`, weights `[Cout, Cin/groups, KH, KW]`, output
//! `[N, Cout, OH, OW]`, all row-major. Arithmetic is exact (i128 accumulation).
//! A GEMM `Y[n][o] = sum_k X[n][k] * W[o][k]` is the 1x1 convolution over an `[N, K, 1, 1]` input.

use anyhow::{bail, Result};

/// Shape and hyper-parameters of a 2-D convolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvParams {
    pub batch: usize,
    pub cin: usize,
    pub cout: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: (usize, usize),
    /// Zero padding: (top, left, bottom, right).
    pub pad: (usize, usize, usize, usize),
    pub dilation: (usize, usize),
    pub groups: usize,
}

impl ConvParams {
    /// A plain GEMM of `rows` input vectors of length `k` against `outputs` weight vectors.
    pub fn gemm(rows: usize, k: usize, outputs: usize) -> ConvParams {
        ConvParams {
            batch: rows,
            ..ConvParams::plain(k, outputs, (1, 1), (1, 1))
        }
    }

    /// One image of `cin` channels of `(in_h, in_w)` pixels through `cout` filters of
    /// `(kh, kw)`: stride 1, no padding, no dilation, one group (change what differs with
    /// struct update syntax).
    pub fn plain(
        cin: usize,
        cout: usize,
        (in_h, in_w): (usize, usize),
        (kh, kw): (usize, usize),
    ) -> ConvParams {
        ConvParams {
            batch: 1,
            cin,
            cout,
            in_h,
            in_w,
            kh,
            kw,
            stride: (1, 1),
            pad: (0, 0, 0, 0),
            dilation: (1, 1),
            groups: 1,
        }
    }

    /// Check that the parameters describe a computable convolution.
    pub fn validate(&self) -> Result<()> {
        let nonzero = [
            ("batch", self.batch),
            ("cin", self.cin),
            ("cout", self.cout),
            ("in_h", self.in_h),
            ("in_w", self.in_w),
            ("kh", self.kh),
            ("kw", self.kw),
            ("stride_h", self.stride.0),
            ("stride_w", self.stride.1),
            ("dilation_h", self.dilation.0),
            ("dilation_w", self.dilation.1),
            ("groups", self.groups),
        ];
        for (name, v) in nonzero {
            if v == 0 {
                bail!("convolution field {name} = 0: must be at least 1");
            }
        }
        if !self.cin.is_multiple_of(self.groups) || !self.cout.is_multiple_of(self.groups) {
            bail!(
                "convolution groups = {}: must divide cin = {} and cout = {}",
                self.groups,
                self.cin,
                self.cout
            );
        }
        self.checked_counts()?;
        let eff_h = (self.kh - 1) * self.dilation.0 + 1;
        let eff_w = (self.kw - 1) * self.dilation.1 + 1;
        if self.in_h + self.pad.0 + self.pad.2 < eff_h
            || self.in_w + self.pad.1 + self.pad.3 < eff_w
        {
            bail!(
                "convolution kernel {}x{} (dilation {:?}) is larger than the padded input {}x{}",
                self.kh,
                self.kw,
                self.dilation,
                self.in_h + self.pad.0 + self.pad.2,
                self.in_w + self.pad.1 + self.pad.3
            );
        }
        Ok(())
    }

    /// Every size derived from the fields (padded input, output, pixels, input, weight and
    /// output lengths, MACs) with checked arithmetic: an error instead of a wrapped count.
    /// Returns the MACs.
    pub fn checked_counts(&self) -> Result<u64> {
        let too_big = |what: &str| {
            anyhow::anyhow!(
                "convolution too large: its {what} overflows (input {}x{}x{}x{}, kernel {}x{}, {} filters)",
                self.batch,
                self.cin,
                self.in_h,
                self.in_w,
                self.kh,
                self.kw,
                self.cout
            )
        };
        let mul = |a: usize, b: usize, what: &str| a.checked_mul(b).ok_or_else(|| too_big(what));
        let eff = |k: usize, d: usize| {
            k.checked_sub(1)
                .and_then(|x| x.checked_mul(d))
                .and_then(|x| x.checked_add(1))
                .ok_or_else(|| too_big("dilated kernel"))
        };
        let padded = |i: usize, a: usize, b: usize| {
            i.checked_add(a)
                .and_then(|x| x.checked_add(b))
                .ok_or_else(|| too_big("padded input"))
        };
        let out = |p: usize, e: usize, s: usize| p.checked_sub(e).map_or(0, |x| x / s.max(1) + 1);
        let oh = out(
            padded(self.in_h, self.pad.0, self.pad.2)?,
            eff(self.kh, self.dilation.0)?,
            self.stride.0,
        );
        let ow = out(
            padded(self.in_w, self.pad.1, self.pad.3)?,
            eff(self.kw, self.dilation.1)?,
            self.stride.1,
        );
        let pixels = mul(mul(self.batch, oh, "pixel count")?, ow, "pixel count")?;
        mul(pixels, self.cout, "output length")?;
        let input = mul(
            mul(self.batch, self.cin, "input length")?,
            self.in_h,
            "input length",
        )?;
        mul(input, self.in_w, "input length")?;
        let dot = mul(
            mul(self.cin / self.groups.max(1), self.kh, "dot product")?,
            self.kw,
            "dot product",
        )?;
        let weights = mul(self.cout, dot, "weight count")?;
        (pixels as u64)
            .checked_mul(weights as u64)
            .ok_or_else(|| too_big("MAC count"))
    }

    pub fn out_h(&self) -> usize {
        (self.in_h + self.pad.0 + self.pad.2 - (self.kh - 1) * self.dilation.0 - 1) / self.stride.0
            + 1
    }

    pub fn out_w(&self) -> usize {
        (self.in_w + self.pad.1 + self.pad.3 - (self.kw - 1) * self.dilation.1 - 1) / self.stride.1
            + 1
    }

    /// Input channels per group.
    pub fn cin_g(&self) -> usize {
        self.cin / self.groups
    }

    /// Output channels (filters) per group.
    pub fn cout_g(&self) -> usize {
        self.cout / self.groups
    }

    /// Length of one dot product (one filter): (Cin/groups) * KH * KW.
    pub fn dot_len(&self) -> usize {
        self.cin_g() * self.kh * self.kw
    }

    /// Output pixels: N * OH * OW (the GEMM rows of im2col).
    pub fn pixels(&self) -> usize {
        self.batch * self.out_h() * self.out_w()
    }

    pub fn input_len(&self) -> usize {
        self.batch * self.cin * self.in_h * self.in_w
    }

    pub fn weight_len(&self) -> usize {
        self.cout * self.dot_len()
    }

    /// Multiply-accumulates of the layer.
    pub fn macs(&self) -> u64 {
        self.pixels() as u64 * self.weight_len() as u64
    }

    /// The im2col row of output pixel `pixel` (flat n*OH*OW + oy*OW + ox) for conv group `g`:
    /// the `dot_len()` input values in (ci, ky, kx) order, zero where the kernel hits padding.
    pub fn im2col_row(&self, input: &[i64], pixel: usize, g: usize) -> Vec<i64> {
        let (oh, ow) = (self.out_h(), self.out_w());
        let n = pixel / (oh * ow);
        let oy = pixel / ow % oh;
        let ox = pixel % ow;
        let mut row = Vec::with_capacity(self.dot_len());
        for ci in 0..self.cin_g() {
            let c = g * self.cin_g() + ci;
            for ky in 0..self.kh {
                for kx in 0..self.kw {
                    let y =
                        (oy * self.stride.0 + ky * self.dilation.0) as isize - self.pad.0 as isize;
                    let x =
                        (ox * self.stride.1 + kx * self.dilation.1) as isize - self.pad.1 as isize;
                    let inside =
                        y >= 0 && x >= 0 && (y as usize) < self.in_h && (x as usize) < self.in_w;
                    row.push(if inside {
                        input
                            [((n * self.cin + c) * self.in_h + y as usize) * self.in_w + x as usize]
                    } else {
                        0
                    });
                }
            }
        }
        row
    }
}

/// Direct convolution, loop by loop from the definition (no im2col): the oracle.
pub fn conv2d(p: &ConvParams, input: &[i64], weights: &[i64]) -> Result<Vec<i128>> {
    p.validate()?;
    if input.len() != p.input_len() {
        bail!(
            "convolution input has {} values, expected {}",
            input.len(),
            p.input_len()
        );
    }
    if weights.len() != p.weight_len() {
        bail!(
            "convolution weights have {} values, expected {}",
            weights.len(),
            p.weight_len()
        );
    }
    let (oh, ow) = (p.out_h(), p.out_w());
    let mut out = vec![0i128; p.batch * p.cout * oh * ow];
    for n in 0..p.batch {
        for o in 0..p.cout {
            let g = o / p.cout_g();
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = 0i128;
                    for ci in 0..p.cin_g() {
                        let c = g * p.cin_g() + ci;
                        for ky in 0..p.kh {
                            for kx in 0..p.kw {
                                let y = (oy * p.stride.0 + ky * p.dilation.0) as isize
                                    - p.pad.0 as isize;
                                let x = (ox * p.stride.1 + kx * p.dilation.1) as isize
                                    - p.pad.1 as isize;
                                if y < 0 || x < 0 || y as usize >= p.in_h || x as usize >= p.in_w {
                                    continue;
                                }
                                let a = input
                                    [((n * p.cin + c) * p.in_h + y as usize) * p.in_w + x as usize];
                                let w = weights[((o * p.cin_g() + ci) * p.kh + ky) * p.kw + kx];
                                acc += a as i128 * w as i128;
                            }
                        }
                    }
                    out[((n * p.cout + o) * oh + oy) * ow + ox] = acc;
                }
            }
        }
    }
    Ok(out)
}

/// GEMM `Y[n][o] = sum_k X[n][k] * W[o][k]` (X is rows x k, W is outputs x k), exact.
pub fn gemm(rows: usize, k: usize, outputs: usize, x: &[i64], w: &[i64]) -> Result<Vec<i128>> {
    conv2d(&ConvParams::gemm(rows, k, outputs), x, w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_3x3_with_padding() {
        // 1 channel 3x3 input 1..9, 3x3 all-ones kernel, pad 1: each output is its 3x3 window sum.
        let p = ConvParams {
            pad: (1, 1, 1, 1),
            ..ConvParams::plain(1, 1, (3, 3), (3, 3))
        };
        let x: Vec<i64> = (1..=9).collect();
        let y = conv2d(&p, &x, &[1; 9]).unwrap();
        assert_eq!(y, vec![12, 21, 16, 27, 45, 33, 24, 39, 28]);
    }

    #[test]
    fn gemm_is_the_matrix_product() {
        let x = [1, 2, 3, 4, 5, 6]; // 2x3
        let w = [1, 0, -1, 2, 2, 2]; // 2 outputs x 3
        assert_eq!(gemm(2, 3, 2, &x, &w).unwrap(), vec![-2, 12, -2, 30]);
    }

    #[test]
    fn bad_shapes_are_errors() {
        let mut p = ConvParams::gemm(1, 4, 4);
        p.groups = 3;
        assert!(p.validate().unwrap_err().to_string().contains("groups"));
        let p = ConvParams::gemm(1, 4, 4);
        assert!(conv2d(&p, &[0; 3], &[0; 16]).is_err());
    }
}
