//! tetris-approx: approximate multipliers as the AxTrain noise-profile extractor sees them, in
//! plain Rust. Spec strings ([`spec`]) and bit-exact models ([`models`]); the parallel
//! exhaustive/sampled characterization engine ([`engine`], [`sweep`], [`kernels`]) with
//! EvoApprox-convention metrics ([`metrics`]); profiles, LUTs and their files ([`profile`],
//! [`lut`], [`outputs`]); the timing-error model of voltage overscaling ([`timing`]; the
//! depths of a synthesized netlist come from the root crate's `noise::timing`); the layouts of
//! their plots ([`plot`], drawn on tetris-plot's scene, which it re-exports).
//!
//! May import tetris-core, tetris-fs, tetris-plot and tetris-weights (a LUT is also written as
//! `.npy`).
//! Must not import hardware blocks, flows or the CLI: the RTL of these multipliers
//! (tetris-blocks) and characterization of Verilog through Verilator (the root crate's
//! `noise::characterize`) sit above it and check themselves against these models.

pub mod engine;
pub mod kernels;
pub mod lut;
pub mod metrics;
pub mod models;
pub mod outputs;
pub mod plot;
pub mod profile;
pub mod spec;
pub mod sweep;
pub mod timing;
