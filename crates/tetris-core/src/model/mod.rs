//! Software golden models in plain Rust: the oracle every RTL block is checked against.

pub mod conv;
pub mod encoding;
pub mod knead;
pub mod mac;
pub mod quant;
pub mod rng;
pub mod sac;
