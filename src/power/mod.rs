//! Energy, area and timing of an emitted design on a real standard-cell library (`tetris power`).
//!
//! The flow (docs/power.md): Yosys maps the emitted Verilog to the library's cells
//! ([`synth`]); the mapped netlist is flattened, its high-fanout nets buffered
//! ([`netlist`]); the workload (a real layer's kneaded weight streams and activations) is
//! simulated on that netlist gate by gate, counting every net's toggles ([`gatesim`],
//! [`workload`]); OpenSTA reads the same netlist and gives the critical path and the energy of
//! every cell arc at its slews and loads ([`sta`]); the measured activity of every net turns
//! those into energy per cycle ([`energy`]).

pub mod energy;
pub mod flow;
pub mod gatesim;
pub mod liberty;
pub mod netlist;
pub mod report;
pub mod sta;
pub mod synth;
pub mod workload;
