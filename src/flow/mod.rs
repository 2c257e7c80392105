//! The Verilog flow: emission post-processing, files on disk, external tools.

pub mod array_gen;
pub mod check;
pub mod cosim;
pub mod formal;
pub mod gen;
pub mod tools;
pub mod verilog;
