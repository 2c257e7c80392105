//! The Verilog flow: emission post-processing, files on disk, external tools.

pub mod array_gen;
pub mod check;
pub mod cosim;
pub mod gen;
pub mod tools;
pub mod verilator;
pub mod verilator_cosim;
pub mod verilog;
