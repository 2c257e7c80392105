//! Convolution shapes the tests and benches start from; a test changes the fields it needs
//! with struct update syntax: `ConvParams { pad: (1, 0, 1, 0), ..plain_conv(..) }`.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use tetris_hdl::model::conv::ConvParams;

/// `batch` inputs of `cin` x `in_h` x `in_w` against `cout` filters of `kh` x `kw`: stride 1, no
/// padding, no dilation, one group.
pub fn plain_conv(
    batch: usize,
    cin: usize,
    cout: usize,
    (in_h, in_w): (usize, usize),
    (kh, kw): (usize, usize),
) -> ConvParams {
    ConvParams {
        batch,
        ..ConvParams::plain(cin, cout, (in_h, in_w), (kh, kw))
    }
}

/// One image of `cin` x `side` x `side` against `cout` 3x3 filters with one pixel of zero
/// padding on every side (the output is `side` x `side`, as in VGG).
pub fn same_3x3_conv(cin: usize, cout: usize, side: usize) -> ConvParams {
    ConvParams {
        pad: (1, 1, 1, 1),
        ..plain_conv(1, cin, cout, (side, side), (3, 3))
    }
}
