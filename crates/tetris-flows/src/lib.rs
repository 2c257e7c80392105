//! tetris-flows: the external tools and what they read and write. Finding and running tools
//! ([`tools`]), Verilator lint, Icarus and Yosys checks ([`check`]), Yosys scripts and
//! reports ([`yosys`], [`synth`], [`logic_depth`]), timing constraints ([`constraints`]),
//! top-level ports of emitted designs ([`ports`]) and of third-party Verilog
//! ([`verilog_ports`], [`structure`]), Icarus trace replay ([`cosim`]) and the content-hashed
//! Verilator harness builds ([`verilator`]).
//!
//! May import tetris-core, tetris-fs, tetris-netlist, tetris-approx and tetris-blocks (the
//! recorded port traces of in-process runs). Must not import the array evaluation, the
//! const-generic dispatch (`flow::select`), the jobs built from them (gen, compare, power,
//! characterize, axtrain) or the CLI: those are the root crate, above this one.

pub mod build_cache;
pub mod check;
pub mod constraints;
pub mod cosim;
pub mod logic_depth;
pub mod ports;
pub mod structure;
pub mod synth;
pub mod tools;
pub mod verilator;
pub mod verilog_ports;
pub mod yosys;
