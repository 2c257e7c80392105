//! tetris-hdl: RTL generator for Tetris-style bit-sparse accelerators, and a noise-profile
//! extractor for approximate multipliers.
//!
//! Layers (see `docs/architecture.md`):
//! - [`config`]: the one config that feeds everything;
//! - [`model`]: plain-Rust golden models (the oracle);
//! - [`cli`]: the thin command-line front end.

pub mod array;
pub mod axtrain;
pub mod cli;
pub mod flow;
pub mod hdl;
pub mod noise;
pub mod power;
pub mod specialize;

// The bottom layers live in their own crates (crates/), so the compiler keeps them from
// importing upward; re-exported under their old paths so `tetris_hdl::model::...` still reads.
pub use tetris_core::{analysis, config, model};
pub use tetris_fs as fsutil;
pub use tetris_netlist as netlist;
pub use tetris_weights as weights;
