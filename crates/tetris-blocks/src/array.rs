//! The Tetris array: rows x cols SAC PEs in the array shell (`super::array_shell`, the glue of
//! `docs/array.md`). A column's weight stream is kneaded: per beat, for every lane b, its
//! valid bit, activation pointer and sign (`c * L + b` for lanes).
//!
//! The glue is not written here: `update` evaluates the one description of it
//! (`super::array_glue`), from which the Verilog top is written too.

use super::array_glue::{glue_pe, put_all, GlueSim};
use super::array_shell::{defaults, GlueArray, WeightPorts};
use super::sac_pe::SacCore;
use rust_hdl::prelude::*;

/// The SAC array. The PEs are SAC cores: the glue decodes each column's lane pointers once.
pub type SacArray<
    const L: usize,
    const KS: usize,
    const P: usize,
    const A: usize,
    const SEG: usize,
    const RES: usize,
> = GlueArray<SacCore<L, KS, A, SEG, RES>, SacLanes<L, P>, KS, A, RES>;

/// The kneaded-weight lanes of every column: `kw_lane_<f>[c * L + b]`.
#[derive(LogicBlock, Default)]
pub struct SacLanes<const L: usize, const P: usize> {
    pub kw_lane_valid: Vec<Signal<In, Bit>>,
    pub kw_lane_ptr: Vec<Signal<In, Bits<P>>>,
    pub kw_lane_neg: Vec<Signal<In, Bit>>,
}

impl<const L: usize, const P: usize> Logic for SacLanes<L, P> {
    fn update(&mut self) {}
}

impl<const L: usize, const P: usize> WeightPorts for SacLanes<L, P> {
    fn new(cols: usize) -> Self {
        Self {
            kw_lane_valid: defaults(cols * L),
            kw_lane_ptr: defaults(cols * L),
            kw_lane_neg: defaults(cols * L),
        }
    }
    fn put(&self, g: &mut GlueSim) {
        put_all(g, "kw_lane_valid_0", &self.kw_lane_valid);
        put_all(g, "kw_lane_ptr_0", &self.kw_lane_ptr);
        put_all(g, "kw_lane_neg_0", &self.kw_lane_neg);
    }
}

glue_pe!(SacCore<L, KS, A, SEG, RES>, "SAC core", scalar [], lanes [kw_lane_sel, kw_lane_neg]);
