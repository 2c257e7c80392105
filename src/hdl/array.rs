//! The Tetris array: rows x cols SAC PEs (branch rtl's `SacPe`) with the glue of
//! `docs/array.md`: one kneaded-weight stream per column (shared by every row of the column),
//! one activation-beat stream with a column mask (each masked column's PEs load the beat's
//! group for their row into their free activation bank), one result stream per column (a beat
//! = the column's `rows` results), start/done and a host-readable cycle counter.
//!
//! Sizes are runtime (`Vec` of PEs and ports, index `r * cols + c` for PEs and results,
//! `r * KS + i` for activations, `c * L + b` for lanes); the PE widths are const generics.
//! The glue is written as a plain `Logic::update` (no `#[hdl_gen]`): it is simulated in
//! process, but has no Verilog emitter yet (see `docs/array.md`, "What is weak").

use super::sac_pe::SacPe;
use rust_hdl::prelude::*;

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
    pes: Vec<SacPe<L, KS, P, A, SEG, RES>>,
    count: DFF<Bits<32>>,
    outs: DFF<Bits<32>>,
    running: DFF<Bit>,
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
    fn update(&mut self) {
        let (rows, cols) = (self.rows(), self.cols());
        let mask = self.act_mask.val().to_u64();
        // A beat is taken when every masked column has a free bank in all its rows (the rows
        // of a column run in lock-step, so they agree; the AND keeps it safe).
        let mut col_act_ready = vec![true; cols];
        let mut col_kw_ready = vec![true; cols];
        let mut col_res_valid = vec![true; cols];
        for r in 0..rows {
            for c in 0..cols {
                let pe = &self.pes[r * cols + c];
                col_act_ready[c] &= pe.act_ready.val();
                col_kw_ready[c] &= pe.kw_ready.val();
                col_res_valid[c] &= pe.res_valid.val();
            }
        }
        let beat_ready = (0..cols).all(|c| mask >> c & 1 == 0 || col_act_ready[c]);
        self.act_ready.next = beat_ready;
        let take_beat = self.act_valid.val() && beat_ready;
        let mut accepted = 0u64;
        for c in 0..cols {
            self.kw_ready[c].next = col_kw_ready[c];
            self.out_valid[c].next = col_res_valid[c];
            if col_res_valid[c] && self.out_ready[c].val() {
                accepted += 1;
            }
        }
        for r in 0..rows {
            for c in 0..cols {
                let k = r * cols + c;
                let pe = &mut self.pes[k];
                pe.clock.next = self.clock.val();
                pe.reset.next = self.reset.val();
                pe.act_valid.next = take_beat && mask >> c & 1 == 1;
                for i in 0..KS {
                    pe.act[i].next = self.act[r * KS + i].val();
                }
                pe.kw_valid.next = self.kw_valid[c].val() && col_kw_ready[c];
                for b in 0..L {
                    pe.kw_lane_valid[b].next = self.kw_lane_valid[c * L + b].val();
                    pe.kw_lane_ptr[b].next = self.kw_lane_ptr[c * L + b].val();
                    pe.kw_lane_neg[b].next = self.kw_lane_neg[c * L + b].val();
                }
                pe.kw_group_end.next = self.kw_group_end[c].val();
                pe.kw_last.next = self.kw_last[c].val();
                pe.res_ready.next = self.out_ready[c].val() && col_res_valid[c];
                self.out_data[k].next = pe.res.val();
            }
        }
        // Cycle counter: cycle 0 is the start cycle; it stops once all results are out.
        self.count.clock.next = self.clock.val();
        self.outs.clock.next = self.clock.val();
        self.running.clock.next = self.clock.val();
        let finished = self.outs.q.val() == self.expected.val();
        self.done.next = self.running.q.val() && finished;
        self.cycles.next = self.count.q.val();
        self.count.d.next = self.count.q.val();
        self.outs.d.next = self.outs.q.val();
        self.running.d.next = self.running.q.val();
        if self.start.val() {
            self.count.d.next = 1u64.to_bits();
            self.outs.d.next = accepted.to_bits();
            self.running.d.next = true;
        } else if self.running.q.val() && !finished {
            self.count.d.next = self.count.q.val() + 1u64.to_bits::<32>();
            self.outs.d.next = self.outs.q.val() + accepted.to_bits::<32>();
        }
        if self.reset.val() {
            self.running.d.next = false;
            self.count.d.next = 0u64.to_bits();
            self.outs.d.next = 0u64.to_bits();
        }
    }
}
