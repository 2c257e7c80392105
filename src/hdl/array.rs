//! The Tetris array: rows x cols SAC PEs (branch rtl's `SacPe`) with the glue of
//! `docs/array.md`: one kneaded-weight stream per column (shared by every row of the column),
//! one activation-beat stream with a column mask (each masked column's PEs load the beat's
//! group for their row into their free activation bank), one result stream per column (a beat
//! = the column's `rows` results), start/done and a host-readable cycle counter.
//!
//! Sizes are runtime (`Vec` of PEs and ports, index `r * cols + c` for PEs and results,
//! `r * KS + i` for activations, `c * L + b` for lanes); the PE widths are const generics.
//! The glue is written as a plain `Logic::update` (no `#[hdl_gen]`, which cannot loop over
//! runtime sizes) and mirrored line by line by the hand-written Verilog of `glue_verilog`;
//! tests/array_cosim.rs replays in-process traces on that Verilog.

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
            pe.kw_lane_valid.iter_mut().for_each(|s| s.connect());
            pe.kw_lane_ptr.iter_mut().for_each(|s| s.connect());
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

    /// The same glue as `update`, written out as Verilog for this array's size (rust-hdl
    /// declares the ports, the PE and register instances and their port nets `pes$k$...`).
    fn hdl(&self) -> Verilog {
        Verilog::Custom(glue_verilog(self.rows(), self.cols(), KS, &|pe, c| {
            let mut v = String::new();
            for b in 0..L {
                let j = c * L + b;
                v += &format!("    {pe}kw_lane_valid${b} = kw_lane_valid${j};\n");
                v += &format!("    {pe}kw_lane_ptr${b} = kw_lane_ptr${j};\n");
                v += &format!("    {pe}kw_lane_neg${b} = kw_lane_neg${j};\n");
            }
            v
        }))
    }

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

/// Verilog of the array glue (see `SacArray::update`, which it mirrors line by line).
/// `weight_ports(pe, c)` gives the assignments of the PE's weight-lane inputs from column c's
/// stream (the only part that differs between the SAC and the MAC array).
pub(crate) fn glue_verilog(
    rows: usize,
    cols: usize,
    ks: usize,
    weight_ports: &dyn Fn(&str, usize) -> String,
) -> String {
    let mut v = String::new();
    let and = |terms: Vec<String>| terms.join(" & ");
    for c in 0..cols {
        let col = |port: &str| -> Vec<String> {
            (0..rows)
                .map(|r| format!("pes${}${port}", r * cols + c))
                .collect()
        };
        v += &format!("wire col_act_ready_{c} = {};\n", and(col("act_ready")));
        v += &format!("wire col_kw_ready_{c} = {};\n", and(col("kw_ready")));
        v += &format!("wire col_res_valid_{c} = {};\n", and(col("res_valid")));
    }
    let ready: Vec<String> = (0..cols)
        .map(|c| format!("(~act_mask[{c}] | col_act_ready_{c})"))
        .collect();
    v += &format!("wire beat_ready = {};\n", and(ready));
    v += "wire take_beat = act_valid & beat_ready;\n";
    if cols < 64 {
        // The mask port is 64 bits wide whatever the column count.
        v += &format!(
            "/* verilator lint_off UNUSEDSIGNAL */\nwire unused_act_mask = ^act_mask[63:{cols}];\n/* verilator lint_on UNUSEDSIGNAL */\n"
        );
    }
    let acc: Vec<String> = (0..cols)
        .map(|c| format!("{{31'd0, col_res_valid_{c} & out_ready${c}}}"))
        .collect();
    v += &format!("wire [31:0] accepted = {};\n", acc.join(" + "));
    v += "wire finished = outs$q == expected;\n";
    v += "always @(*) begin\n    act_ready = beat_ready;\n";
    for c in 0..cols {
        v += &format!(
            "    kw_ready${c} = col_kw_ready_{c};\n    out_valid${c} = col_res_valid_{c};\n"
        );
    }
    for r in 0..rows {
        for c in 0..cols {
            let k = r * cols + c;
            let pe = format!("pes${k}$");
            v += &format!("    {pe}clock = clock;\n    {pe}reset = reset;\n");
            v += &format!("    {pe}act_valid = take_beat & act_mask[{c}];\n");
            for i in 0..ks {
                v += &format!("    {pe}act${i} = act${};\n", r * ks + i);
            }
            v += &format!("    {pe}kw_valid = kw_valid${c} & col_kw_ready_{c};\n");
            v += &weight_ports(&pe, c);
            v += &format!(
                "    {pe}kw_group_end = kw_group_end${c};\n    {pe}kw_last = kw_last${c};\n"
            );
            v += &format!("    {pe}res_ready = out_ready${c} & col_res_valid_{c};\n");
            v += &format!("    out_data${k} = {pe}res;\n");
        }
    }
    v += "    // Cycle counter: cycle 0 is the start cycle; it stops once all results are out.\n";
    v += "    count$clock = clock;\n    outs$clock = clock;\n    running$clock = clock;\n";
    v += "    done = running$q & finished;\n    cycles = count$q;\n";
    v += "    count$d = count$q;\n    outs$d = outs$q;\n    running$d = running$q;\n";
    v += "    if (start) begin\n        count$d = 32'd1;\n        outs$d = accepted;\n        running$d = 1'b1;\n";
    v += "    end else if (running$q & ~finished) begin\n        count$d = count$q + 32'd1;\n        outs$d = outs$q + accepted;\n    end\n";
    v += "    if (reset) begin\n        running$d = 1'b0;\n        count$d = 32'd0;\n        outs$d = 32'd0;\n    end\n";
    v += "end\n";
    v
}
