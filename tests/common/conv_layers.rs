//! Convolution shapes the tests and benches start from; a test changes the fields it needs
//! with struct update syntax: `ConvParams { pad: (1, 0, 1, 0), ..ConvParams::plain(..) }`.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use tetris_hdl::model::conv::ConvParams;

/// One image of `cin` x `side` x `side` against `cout` 3x3 filters with one pixel of zero
/// padding on every side (the output is `side` x `side`, as in VGG).
pub fn same_3x3_conv(cin: usize, cout: usize, side: usize) -> ConvParams {
    ConvParams {
        pad: (1, 1, 1, 1),
        ..ConvParams::plain(cin, cout, (side, side), (3, 3))
    }
}
