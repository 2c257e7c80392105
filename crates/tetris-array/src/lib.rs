//! tetris-array: the array level, evaluated without simulating the RTL.
//!
//! - [`mapper`]: how a layer's filters and pixels are laid onto the rows and columns;
//! - [`cycle_model`]: the cycles the SAC and the MAC array take for a mapped layer (asserted
//!   equal to the RTL's own counter by the engines above);
//! - [`functional`]: the outputs of the mapped schedule, computed with the golden SAC model;
//! - [`host`]: the streams a host feeds the array RTL and what a run returns, shared by every
//!   engine that drives it (in-process, Verilator, the gate-level workload of `tetris power`);
//! - [`network`]: whole-network evaluation behind `tetris sim` (quantize, knead, map, time,
//!   check a run's outputs and cycles).
//!
//! See `docs/array.md`. May import tetris-core (config, golden models), tetris-weights (the
//! layers of a weight file) and tetris-blocks (only the trace type of a run). Must not import
//! flows, the root crate's jobs or the CLI: the engines that run the RTL sit above it.

pub mod cycle_model;
pub mod functional;
pub mod host;
pub mod mapper;
pub mod network;
