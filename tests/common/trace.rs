//! Recorded port traces of the in-process simulation, made wrong on purpose: a replay of the
//! emitted Verilog against them must fail, which shows the testbench can fail.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

/// In one cycle's port values (name, is input, Verilog literal), change the 28-bit value of
/// `port`: `28'h1` becomes `28'h2`, anything else `28'h1`.
pub fn corrupt_28_bit_port(values: &mut [(String, bool, String)], port: &str) {
    let v = values.iter_mut().find(|v| v.0 == port).unwrap();
    v.2 = if v.2 == "28'h1" {
        "28'h2".into()
    } else {
        "28'h1".into()
    };
}
