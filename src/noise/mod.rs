//! The AxTrain noise-profile extractor: approximate multipliers (bit-exact models and rust-hdl
//! RTL), exhaustive or sampled characterization with EvoApprox-convention metrics, exports for
//! training frameworks, third-party Verilog through Verilator, and a timing-error model.
//! See `docs/noise-profile.md`.

pub mod characterize;
pub mod engine;
pub mod kernels;
pub mod lut;
pub mod metrics;
pub mod models;
pub mod outputs;
pub mod plot;
pub mod profile;
pub mod spec;
pub mod structure;
pub mod sweep;
pub mod timing;
pub mod verilog_ports;
