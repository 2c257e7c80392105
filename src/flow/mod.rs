//! The Verilog flow: emission post-processing, files on disk, external tools.

pub mod array_gen;
pub mod build_cache;
pub mod check;
pub mod compare;
pub mod constraints;
pub mod cosim;
pub mod explore;
pub mod formal;
pub mod gen;
pub mod logic_depth;
pub mod ports;
pub mod synth;
pub mod tools;
pub mod verilator;
pub mod verilator_cosim;
pub mod verilog;
pub mod yosys;
