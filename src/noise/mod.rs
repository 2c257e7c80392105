//! The AxTrain noise-profile extractor: approximate multipliers (bit-exact models and rust-hdl
//! RTL), exhaustive or sampled characterization with EvoApprox-convention metrics, exports for
//! training frameworks, third-party Verilog through Verilator, and a timing-error model.
//! See `docs/noise-profile.md`.

pub mod characterize;
pub mod timing;

// The plain-Rust part (models, engine, metrics, profiles, LUTs, plots) is the tetris-approx
// crate; reading third-party Verilog (structure, verilog_ports) is tetris-flows; what needs both
// (characterize, timing) stays here, above them.
pub use tetris_approx::{
    engine, kernels, lut, metrics, models, outputs, plot, profile, spec, sweep,
};
pub use tetris_flows::{structure, verilog_ports};
