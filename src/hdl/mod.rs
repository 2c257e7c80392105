//! The hardware blocks (the tetris-blocks crate, re-exported under their old paths) and
//! [`select`]: from a runtime config to their const generics, dispatching to every visitor of
//! the layers above (gen, cosim, array runs), which is why it lives in this crate.

pub use tetris_blocks::*;
pub mod select;
