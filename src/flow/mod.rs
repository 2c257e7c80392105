//! The jobs that build and run the RTL: [`select`] (from a runtime config to the compiled width
//! set, dispatching to the visitors beside it), `tetris gen` ([`gen`], [`array_gen`]), `prove`
//! ([`formal`]), `cosim` ([`verilator_cosim`]) and the array engines behind `tetris sim`
//! ([`rtl_driver`] in process, [`verilator_driver`], orchestrated by [`sim_run`]). The tool
//! runners themselves are the tetris-flows crate, re-exported here under their old paths.
//!
//! Above the layer crates; below `power`, `study`, `noise`, `axtrain` and `cli`, which it must
//! not import (`tests/layers.rs` checks the order of the root's modules).

pub mod array_gen;
pub mod formal;
pub mod gen;
pub mod rtl_driver;
pub mod select;
pub mod sim_run;
pub mod verilator_cosim;
pub mod verilator_driver;

pub use crate::netlist::design as verilog; // the written form of a design lives with the netlist
pub use tetris_flows::{
    build_cache, check, constraints, cosim, logic_depth, ports, synth, tools, verilator, yosys,
};
