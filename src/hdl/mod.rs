//! The hardware blocks: the tetris-blocks crate, re-exported under their old paths. The
//! dispatch from a runtime config to their const generics is `flow::select`, beside the
//! visitors it dispatches to.

pub use tetris_blocks::*;
