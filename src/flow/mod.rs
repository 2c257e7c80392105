//! Verilog emission flow.
