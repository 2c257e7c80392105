//! The hardware blocks, described in rust-hdl 0.46 and simulated in-process.
//!
//! - [`sac_pe`]: the split-and-accumulate PE (and its pointer decode, shareable by a column);
//! - [`knead_unit`]: the hardware kneading unit;
//! - [`mac_pe`]: the multiply-accumulate baseline;
//! - [`array`], [`array_knead`], [`mac_array`]: the systolic arrays (docs/array.md);
//! - [`design`]: what `tetris gen` emits as the top while there is no array;
//! - [`leaf`]: small blocks they are built from;
//! - [`sim`]: cycle-level drivers that run a block through dot products (tests, self-check);
//! - [`cycles`]: the analytic cycle model of the blocks (asserted equal to the RTL);
//! - [`select`]: which configs can be instantiated (const generics), with a clear error otherwise.
//!
//! Interfaces and timing are specified in `docs/rtl.md`.

pub mod approx_mult;
pub mod array;
pub mod array_glue;
pub mod array_knead;
pub mod cycles;
pub mod design;
pub mod knead_unit;
pub mod leaf;
pub mod mac_array;
pub mod mac_pe;
pub mod sac_pe;
pub mod select;
pub mod sim;
