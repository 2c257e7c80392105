//! Studies over many designs, built on the RTL jobs ([`crate::flow`]) and the ASIC power flow
//! ([`crate::power`]): `tetris compare` (SAC against its MAC twin, [`compare`]) and `tetris
//! explore` (a design-space sweep as independent jobs, [`explore`]); and `tetris knead`'s
//! report on a weight file ([`knead`]).

pub mod compare;
pub mod explore;
pub mod knead;
