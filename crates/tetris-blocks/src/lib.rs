//! tetris-blocks: the hardware blocks, described in rust-hdl 0.46 and simulated in-process.
//!
//! - [`sac_pe`]: the split-and-accumulate PE (and its pointer decode, shareable by a column);
//! - [`knead_unit`]: the hardware kneading unit;
//! - [`mac_pe`]: the multiply-accumulate baseline;
//! - [`array`](mod@array), [`array_knead`], [`mac_array`]: the systolic arrays (docs/array.md), the
//!   host-kneaded two in one shell ([`array_shell`]);
//! - [`design`]: what `tetris gen` emits as the top while there is no array;
//! - [`act_bank`]: the activation double buffer of the SAC and MAC PEs;
//! - [`leaf`]: small blocks they are built from;
//! - [`sim`]: cycle-level drivers that run a block through dot products (tests, self-check);
//! - [`cycles`]: the analytic cycle model of the blocks (asserted equal to the RTL);
//!
//! - [`approx_mult`]: the approximate multipliers' RTL (checked against tetris-approx's models).
//!
//! Interfaces and timing are specified in `docs/rtl.md`.
//!
//! May import tetris-core (widths, golden models), tetris-netlist (how a block is read and
//! written), tetris-approx (the multipliers' models) and tetris-fs. Must not import flows,
//! array evaluation or the CLI: the const-generic dispatch over every visitor of those layers
//! (`flow::select` in the root crate) sits above them.

pub mod act_bank;
pub mod approx_mult;
pub mod array;
pub mod array_glue;
pub mod array_knead;
pub mod array_shell;
pub mod cycles;
pub mod design;
pub mod knead_unit;
pub mod leaf;
pub mod mac_array;
pub mod mac_pe;
pub mod sac_pe;
pub mod sim;
