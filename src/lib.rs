//! tetris-hdl: RTL generator for Tetris-style bit-sparse accelerators, and a noise-profile
//! extractor for approximate multipliers.
//!
//! The root crate of the workspace (see `docs/architecture.md`): the jobs built on the layer
//! crates in `crates/` (const-generic dispatch, gen, array evaluation, prove, cosim, compare,
//! explore, power, characterize, axtrain) and [`cli`], the thin command-line front end. The
//! layer crates are re-exported below under the module paths they had before the split.

pub mod axtrain;
pub mod cli;
pub mod flow;
pub mod hdl;
pub mod noise;
pub mod power;
pub mod specialize;
pub mod study;

// The bottom layers live in their own crates (crates/), so the compiler keeps them from
// importing upward; re-exported under their old paths so `tetris_hdl::model::...` still reads.
pub use tetris_array as array;
pub use tetris_core::{analysis, config, model};
pub use tetris_fs as fsutil;
pub use tetris_netlist as netlist;
pub use tetris_plot as plot;
pub use tetris_weights as weights;
