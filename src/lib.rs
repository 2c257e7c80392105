//! tetris-hdl: RTL generator for Tetris-style bit-sparse accelerators, and a noise-profile
//! extractor for approximate multipliers.
//!
//! Layers (see `docs/architecture.md`):
//! - [`config`]: the one config that feeds everything;
//! - [`model`]: plain-Rust golden models (the oracle);
//! - [`cli`]: the thin command-line front end.

pub mod analysis;
pub mod array;
pub mod axtrain;
pub mod cli;
pub mod config;
pub mod flow;
pub mod fsutil;
pub mod hdl;
pub mod model;
pub mod netlist;
pub mod noise;
pub mod power;
pub mod specialize;
pub mod weights;
