//! The array level: host mapper, cycle model, functional model of the mapped schedule, and the
//! whole-network evaluation behind `tetris sim`. See `docs/array.md`.

pub mod cycle_model;
pub mod functional;
pub mod mapper;
pub mod network;
pub mod rtl_driver;
pub mod sim_run;
pub mod verilator_driver;
