//! The jobs built on the flows: `tetris gen` ([`gen`], [`array_gen`]), `prove` ([`formal`]),
//! `cosim` of arrays ([`verilator_cosim`]), `compare` and `explore`. The tool runners themselves
//! are the tetris-flows crate, re-exported here under their old paths.

pub mod array_gen;
pub mod compare;
pub mod explore;
pub mod formal;
pub mod gen;
pub mod verilator_cosim;

pub use crate::netlist::design as verilog; // the written form of a design lives with the netlist
pub use tetris_flows::{
    build_cache, check, constraints, cosim, logic_depth, ports, synth, tools, verilator, yosys,
};
