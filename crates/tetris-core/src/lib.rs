//! tetris-core, the bottom layer of tetris-hdl: the one configuration ([`config`]) and the
//! plain-Rust golden models ([`model`]: encodings, quantization, weight kneading, the SAC and MAC
//! arithmetic, convolution) that every RTL block is checked against, plus the weight analyses
//! built on them ([`analysis`]), and the progress bars of long work ([`progress`]).
//!
//! Owns: what a design is and what it must compute. Must not import any other tetris crate:
//! everything else depends on it, so nothing here may know about files, hardware or flows.

pub mod analysis;
pub mod config;
pub mod model;
pub mod progress;
