//! The Tetris array: rows x cols SAC PEs with the glue of `docs/array.md`: one kneaded-weight
//! stream per column (shared by every row of the column), one activation-beat stream with a
//! column mask (each masked column's PEs load the beat's group for their row into their free
//! activation bank), one result stream per column (a beat = the column's `rows` results),
//! start/done and a host-readable cycle counter.
//!
//! Sizes are runtime (`Vec` of PEs and ports, index `r * cols + c` for PEs and results,
//! `r * KS + i` for activations, `c * L + b` for lanes); the PE widths are const generics.
//! The glue is not written here: `update` evaluates the one description of it
//! (`super::array_glue`), from which the Verilog top is written too.

use super::array_glue::{
    counter_in, counter_out, drive_pes, put_all, put_common, read_pes, take_outputs, Common,
    GluePe, GlueSim, GlueValue, Outputs,
};
use super::sac_pe::SacCore;
use rust_hdl::prelude::*;
use tetris_netlist::from_rust_hdl::block_ports;

#[derive(LogicBlock)]
pub struct SacArray<
    const L: usize,
    const KS: usize,
    const P: usize,
    const A: usize,
    const SEG: usize,
    const RES: usize,
> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// Pulse in the first cycle of a layer: clears and starts the cycle counter.
    pub start: Signal<In, Bit>,
    /// Result beats (column dot products) the layer produces; `done` rises after the last.
    pub expected: Signal<In, Bits<32>>,
    pub done: Signal<Out, Bit>,
    /// Cycles from `start` to the last result beat, inclusive (host-readable).
    pub cycles: Signal<Out, Bits<32>>,
    // Activation beats: one kneading group for every row, for the columns in `act_mask`.
    pub act_valid: Signal<In, Bit>,
    pub act_ready: Signal<Out, Bit>,
    pub act_mask: Signal<In, Bits<64>>,
    pub act: Vec<Signal<In, Bits<A>>>,
    // Kneaded-weight streams, one per column.
    pub kw_valid: Vec<Signal<In, Bit>>,
    pub kw_ready: Vec<Signal<Out, Bit>>,
    pub kw_lane_valid: Vec<Signal<In, Bit>>,
    pub kw_lane_ptr: Vec<Signal<In, Bits<P>>>,
    pub kw_lane_neg: Vec<Signal<In, Bit>>,
    pub kw_group_end: Vec<Signal<In, Bit>>,
    pub kw_last: Vec<Signal<In, Bit>>,
    // Result streams, one per column; a beat carries the column's results of all rows.
    pub out_valid: Vec<Signal<Out, Bit>>,
    pub out_ready: Vec<Signal<In, Bit>>,
    pub out_data: Vec<Signal<Out, Bits<RES>>>,
    /// The PEs are SAC cores: the glue decodes each column's lane pointers once.
    pes: Vec<SacCore<L, KS, A, SEG, RES>>,
    count: DFF<Bits<32>>,
    outs: DFF<Bits<32>>,
    running: DFF<Bit>,
    glue: GlueSim,
}

impl<
        const L: usize,
        const KS: usize,
        const P: usize,
        const A: usize,
        const SEG: usize,
        const RES: usize,
    > SacArray<L, KS, P, A, SEG, RES>
{
    pub fn new(rows: usize, cols: usize) -> Self {
        assert!(rows >= 1 && (1..=64).contains(&cols));
        Self {
            clock: Default::default(),
            reset: Default::default(),
            start: Default::default(),
            expected: Default::default(),
            done: Default::default(),
            cycles: Default::default(),
            act_valid: Default::default(),
            act_ready: Default::default(),
            act_mask: Default::default(),
            act: v(rows * KS),
            kw_valid: v(cols),
            kw_ready: v(cols),
            kw_lane_valid: v(cols * L),
            kw_lane_ptr: v(cols * L),
            kw_lane_neg: v(cols * L),
            kw_group_end: v(cols),
            kw_last: v(cols),
            out_valid: v(cols),
            out_ready: v(cols),
            out_data: v(rows * cols),
            pes: (0..rows * cols).map(|_| Default::default()).collect(),
            count: Default::default(),
            outs: Default::default(),
            running: Default::default(),
            glue: sac_glue::<L, KS, A, SEG, RES>(rows, cols),
        }
    }

    pub fn rows(&self) -> usize {
        self.act.len() / KS
    }

    pub fn cols(&self) -> usize {
        self.kw_valid.len()
    }
}

fn v<T: Default>(n: usize) -> Vec<T> {
    (0..n).map(|_| T::default()).collect()
}

impl<
        const L: usize,
        const KS: usize,
        const P: usize,
        const A: usize,
        const SEG: usize,
        const RES: usize,
    > Logic for SacArray<L, KS, P, A, SEG, RES>
{
    /// Everything `update` drives (for rust-hdl's connectivity check).
    fn connect(&mut self) {
        self.done.connect();
        self.cycles.connect();
        self.act_ready.connect();
        self.kw_ready.iter_mut().for_each(|s| s.connect());
        self.out_valid.iter_mut().for_each(|s| s.connect());
        self.out_data.iter_mut().for_each(|s| s.connect());
        for pe in &mut self.pes {
            pe.clock.connect();
            pe.reset.connect();
            pe.act_valid.connect();
            pe.act.iter_mut().for_each(|s| s.connect());
            pe.kw_valid.connect();
            pe.kw_lane_sel.iter_mut().for_each(|s| s.connect());
            pe.kw_lane_neg.iter_mut().for_each(|s| s.connect());
            pe.kw_group_end.connect();
            pe.kw_last.connect();
            pe.res_ready.connect();
        }
        self.count.clock.connect();
        self.count.d.connect();
        self.outs.clock.connect();
        self.outs.d.connect();
        self.running.clock.connect();
        self.running.d.connect();
    }

    /// The array's Verilog is written from its glue description (`super::array_glue`), not
    /// from this block.
    fn hdl(&self) -> Verilog {
        Verilog::Empty
    }

    fn update(&mut self) {
        let clock = self.clock.val();
        let g = &mut self.glue;
        put_common(
            g,
            &Common {
                reset: self.reset.val(),
                start: self.start.val(),
                expected: self.expected.val(),
                act_valid: self.act_valid.val(),
                act_mask: self.act_mask.val(),
            },
        );
        put_all(g, "act_0", &self.act);
        put_all(g, "kw_valid_0", &self.kw_valid);
        put_all(g, "kw_lane_valid_0", &self.kw_lane_valid);
        put_all(g, "kw_lane_ptr_0", &self.kw_lane_ptr);
        put_all(g, "kw_lane_neg_0", &self.kw_lane_neg);
        put_all(g, "kw_group_end_0", &self.kw_group_end);
        put_all(g, "kw_last_0", &self.kw_last);
        put_all(g, "out_ready_0", &self.out_ready);
        read_pes(g, &self.pes);
        counter_in(g, &self.count, &self.outs, &self.running);
        g.eval.settle();
        take_outputs(
            g,
            Outputs {
                act_ready: &mut self.act_ready,
                done: &mut self.done,
                cycles: &mut self.cycles,
                kw_ready: &mut self.kw_ready,
                out_valid: &mut self.out_valid,
                out_data: &mut self.out_data,
            },
        );
        counter_out(g, clock, &mut self.count, &mut self.outs, &mut self.running);
        drive_pes(g, &mut self.pes, clock);
    }
}

impl<const L: usize, const KS: usize, const A: usize, const SEG: usize, const RES: usize> GluePe
    for SacCore<L, KS, A, SEG, RES>
{
    fn outputs(&self) -> [u128; 4] {
        [
            self.act_ready.val().to_glue(),
            self.kw_ready.val().to_glue(),
            self.res_valid.val().to_glue(),
            self.res.val().to_glue(),
        ]
    }
    fn set_clock(&mut self, clock: Clock) {
        self.clock.next = clock;
    }
    fn set_input(&mut self, field: &str, index: Option<usize>, v: u128) {
        match (field, index) {
            ("reset", None) => self.reset.next = GlueValue::from_glue(v),
            ("act_valid", None) => self.act_valid.next = GlueValue::from_glue(v),
            ("act", Some(i)) => self.act[i].next = GlueValue::from_glue(v),
            ("kw_valid", None) => self.kw_valid.next = GlueValue::from_glue(v),
            ("kw_lane_sel", Some(b)) => self.kw_lane_sel[b].next = GlueValue::from_glue(v),
            ("kw_lane_neg", Some(b)) => self.kw_lane_neg[b].next = GlueValue::from_glue(v),
            ("kw_group_end", None) => self.kw_group_end.next = GlueValue::from_glue(v),
            ("kw_last", None) => self.kw_last.next = GlueValue::from_glue(v),
            ("res_ready", None) => self.res_ready.next = GlueValue::from_glue(v),
            other => panic!("SAC core has no input {other:?}"),
        }
    }
}

fn sac_glue<const L: usize, const KS: usize, const A: usize, const SEG: usize, const RES: usize>(
    rows: usize,
    cols: usize,
) -> GlueSim {
    let pe = SacCore::<L, KS, A, SEG, RES>::default();
    let ports = block_ports(&pe).expect("the SAC core's ports");
    GlueSim::new(ports, rows, cols).expect("the SAC array glue compiles")
}
