//! The shell both host-kneaded arrays share (`SacArray`, `MacArray`): the ports of
//! docs/array.md, the rows x cols PEs, the cycle counter's registers and the in-process glue
//! (`super::array_glue`). Only the PE and the weight-stream ports past `kw_valid` / `kw_ready`
//! / `kw_group_end` / `kw_last` differ between the two: they are the type parameters `PE` and
//! `K`.
//!
//! Sizes are runtime (`Vec` of PEs and ports, index `r * cols + c` for PEs and results,
//! `r * KS + i` for activations); the widths are const generics.

use super::array_glue::{
    counter_in, counter_out, drive_pes, put_all, read_pes, take_all, GluePe, GlueSim,
};
use super::sim::PortSample;
use rust_hdl::core::atom::Atom;
use rust_hdl::core::probe::Probe;
use rust_hdl::prelude::*;
use tetris_netlist::from_rust_hdl::block_ports;

/// `n` default values (ports and blocks of a runtime-sized array).
pub fn defaults<T: Default>(n: usize) -> Vec<T> {
    (0..n).map(|_| T::default()).collect()
}

/// An array's weight-stream ports that depend on the PE (the SAC lanes, the MAC weight and
/// pointer), one group per column.
pub trait WeightPorts: Block {
    /// The ports of `cols` columns.
    fn new(cols: usize) -> Self;
    /// Their values into the glue's port groups.
    fn put(&self, g: &mut GlueSim);
}

/// The host side of every array top (docs/array.md): clock and reset, start / expected /
/// done / cycles, the activation beats (one kneading group for every row, for the columns in
/// `act_mask`) and the result streams (one per column; a beat carries the column's results of
/// all rows). The arrays keep it as one port group in an [`Inline`], so its ports read as the
/// top's own; a wrapper around an array (`SacArrayKnead`) passes it through
/// ([`ArrayIo::drive`], [`ArrayIo::read`]).
#[derive(LogicBlock, Default)]
pub struct ArrayIo<const A: usize, const RES: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    /// Pulse in the first cycle of a layer: clears and starts the cycle counter.
    pub start: Signal<In, Bit>,
    /// Result beats (column dot products) the layer produces; `done` rises after the last.
    pub expected: Signal<In, Bits<32>>,
    pub done: Signal<Out, Bit>,
    /// Cycles from `start` to the last result beat, inclusive (host-readable).
    pub cycles: Signal<Out, Bits<32>>,
    pub act_valid: Signal<In, Bit>,
    pub act_ready: Signal<Out, Bit>,
    pub act_mask: Signal<In, Bits<64>>,
    /// `act[r * KS + i]`: activation i of row r's group.
    pub act: Vec<Signal<In, Bits<A>>>,
    pub out_valid: Vec<Signal<Out, Bit>>,
    pub out_ready: Vec<Signal<In, Bit>>,
    /// `out_data[r * cols + c]`: row r's result in column c's beat.
    pub out_data: Vec<Signal<Out, Bits<RES>>>,
}

impl<const A: usize, const RES: usize> Logic for ArrayIo<A, RES> {
    fn update(&mut self) {}
}

impl<const A: usize, const RES: usize> ArrayIo<A, RES> {
    /// The ports of a rows x cols array taking `ks` activations per row group.
    pub fn new(rows: usize, cols: usize, ks: usize) -> Self {
        Self {
            act: defaults(rows * ks),
            out_valid: defaults(cols),
            out_ready: defaults(cols),
            out_data: defaults(rows * cols),
            ..Default::default()
        }
    }

    /// Marks the outputs as driven by the owner's `update` (rust-hdl's connectivity check).
    pub fn connect_outputs(&mut self) {
        self.done.connect();
        self.cycles.connect();
        self.act_ready.connect();
        self.out_valid.iter_mut().for_each(|s| s.connect());
        self.out_data.iter_mut().for_each(|s| s.connect());
    }

    /// Marks the inputs as driven: those of an inner array, which its wrapper drives.
    pub fn connect_inputs(&mut self) {
        self.clock.connect();
        self.reset.connect();
        self.start.connect();
        self.expected.connect();
        self.act_valid.connect();
        self.act_mask.connect();
        self.act.iter_mut().for_each(|s| s.connect());
        self.out_ready.iter_mut().for_each(|s| s.connect());
    }

    /// Drive `inner`'s inputs with these.
    pub fn drive(&self, inner: &mut Self) {
        inner.clock.next = self.clock.val();
        inner.reset.next = self.reset.val();
        inner.start.next = self.start.val();
        inner.expected.next = self.expected.val();
        inner.act_valid.next = self.act_valid.val();
        inner.act_mask.next = self.act_mask.val();
        for (to, from) in inner.act.iter_mut().zip(&self.act) {
            to.next = from.val();
        }
        for (to, from) in inner.out_ready.iter_mut().zip(&self.out_ready) {
            to.next = from.val();
        }
    }

    /// These outputs from `inner`'s.
    pub fn read(&mut self, inner: &Self) {
        self.done.next = inner.done.val();
        self.cycles.next = inner.cycles.val();
        self.act_ready.next = inner.act_ready.val();
        for (to, from) in self.out_valid.iter_mut().zip(&inner.out_valid) {
            to.next = from.val();
        }
        for (to, from) in self.out_data.iter_mut().zip(&inner.out_data) {
            to.next = from.val();
        }
    }

    /// `act_mask` as the emitted top's port of one bit per column holds it (this signal is 64
    /// bits wide: rust-hdl wants a width known at compile time).
    fn top_act_mask(&self) -> u128 {
        let cols = self.out_valid.len();
        self.act_mask.val().to_u128() & ((1u128 << cols) - 1)
    }

    /// A port sample of the shell (`sim::sample_ports`) as the emitted top sees it: `act_mask`
    /// cut to its one bit per column, so the sample replays on the Verilog.
    pub fn fit_sample_to_top(&self, sample: &mut PortSample) {
        let cols = self.out_valid.len();
        for (name, _, value) in &mut sample.values {
            if name == "act_mask" {
                *value = format!("{cols}'h{:x}", self.top_act_mask());
            }
        }
    }

    /// The inputs into the glue's ports of the same names.
    fn put(&self, g: &mut GlueSim) {
        g.put(g.slot("reset"), &self.reset.val());
        g.put(g.slot("start"), &self.start.val());
        g.put(g.slot("expected"), &self.expected.val());
        g.put(g.slot("act_valid"), &self.act_valid.val());
        g.eval.set(g.slot("act_mask"), self.top_act_mask());
        put_all(g, "act_0", &self.act);
        put_all(g, "out_ready_0", &self.out_ready);
    }

    /// The outputs from the glue's ports of the same names.
    fn take(&mut self, g: &GlueSim) {
        self.act_ready.next = g.take(g.slot("act_ready"));
        self.done.next = g.take(g.slot("done"));
        self.cycles.next = g.take(g.slot("cycles"));
        take_all(g, "out_valid_0", &mut self.out_valid);
        take_all(g, "out_data_0", &mut self.out_data);
    }
}

/// A block whose signals a probe sees as its owner's own (no scope of its own), so a port
/// group kept in a sub-struct still reads as top-level ports (`sim::sample_ports`, traces).
#[derive(Default)]
pub struct Inline<B>(pub B);

impl<B> std::ops::Deref for Inline<B> {
    type Target = B;
    fn deref(&self) -> &B {
        &self.0
    }
}

impl<B> std::ops::DerefMut for Inline<B> {
    fn deref_mut(&mut self) -> &mut B {
        &mut self.0
    }
}

impl<B: Block> Logic for Inline<B> {
    fn update(&mut self) {}
}

impl<B: Block> Block for Inline<B> {
    fn connect_all(&mut self) {
        self.0.connect_all();
    }
    fn update_all(&mut self) {
        self.0.update_all();
    }
    fn has_changed(&self) -> bool {
        self.0.has_changed()
    }
    fn accept(&self, name: &str, probe: &mut dyn Probe) {
        self.0.accept(name, &mut Unscoped { probe, depth: 0 });
    }
}

/// Forwards everything to `probe` but the outermost scope.
struct Unscoped<'a> {
    probe: &'a mut dyn Probe,
    depth: usize,
}

impl Probe for Unscoped<'_> {
    fn visit_start_scope(&mut self, name: &str, node: &dyn Block) {
        if self.depth > 0 {
            self.probe.visit_start_scope(name, node);
        }
        self.depth += 1;
    }
    fn visit_start_namespace(&mut self, name: &str, node: &dyn Block) {
        self.probe.visit_start_namespace(name, node);
    }
    fn visit_atom(&mut self, name: &str, signal: &dyn Atom) {
        self.probe.visit_atom(name, signal);
    }
    fn visit_end_namespace(&mut self, name: &str, node: &dyn Block) {
        self.probe.visit_end_namespace(name, node);
    }
    fn visit_end_scope(&mut self, name: &str, node: &dyn Block) {
        self.depth -= 1;
        if self.depth > 0 {
            self.probe.visit_end_scope(name, node);
        }
    }
}

/// rows x cols PEs `PE` with the glue of docs/array.md: one weight stream per column (shared
/// by every row of the column; `weights` holds its PE-specific ports), one activation-beat
/// stream with a column mask (each masked column's PEs load the beat's group for their row
/// into their free activation bank), one result stream per column (a beat = the column's
/// `rows` results), start/done and a host-readable cycle counter.
#[derive(LogicBlock)]
pub struct GlueArray<PE: GluePe, K: WeightPorts, const KS: usize, const A: usize, const RES: usize>
{
    pub io: Inline<ArrayIo<A, RES>>,
    // Weight streams, one per column.
    pub kw_valid: Vec<Signal<In, Bit>>,
    pub kw_ready: Vec<Signal<Out, Bit>>,
    pub weights: Inline<K>,
    pub kw_group_end: Vec<Signal<In, Bit>>,
    pub kw_last: Vec<Signal<In, Bit>>,
    pes: Vec<PE>,
    count: DFF<Bits<32>>,
    outs: DFF<Bits<32>>,
    running: DFF<Bit>,
    glue: GlueSim,
}

impl<PE: GluePe, K: WeightPorts, const KS: usize, const A: usize, const RES: usize>
    GlueArray<PE, K, KS, A, RES>
{
    pub fn new(rows: usize, cols: usize) -> Self {
        assert!(rows >= 1 && (1..=64).contains(&cols));
        let ports = block_ports(&PE::default()).expect("the PE's ports");
        Self {
            io: Inline(ArrayIo::new(rows, cols, KS)),
            kw_valid: defaults(cols),
            kw_ready: defaults(cols),
            weights: Inline(K::new(cols)),
            kw_group_end: defaults(cols),
            kw_last: defaults(cols),
            pes: defaults(rows * cols),
            count: Default::default(),
            outs: Default::default(),
            running: Default::default(),
            glue: GlueSim::new(ports, rows, cols).expect("the array glue compiles"),
        }
    }

    pub fn rows(&self) -> usize {
        self.glue.rows
    }

    pub fn cols(&self) -> usize {
        self.glue.cols
    }
}

impl<PE: GluePe, K: WeightPorts, const KS: usize, const A: usize, const RES: usize> Logic
    for GlueArray<PE, K, KS, A, RES>
{
    /// Everything `update` drives (for rust-hdl's connectivity check).
    fn connect(&mut self) {
        self.io.connect_outputs();
        self.kw_ready.iter_mut().for_each(|s| s.connect());
        for pe in &mut self.pes {
            self.glue.connect_pe(pe);
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
        let clock = self.io.clock.val();
        let g = &mut self.glue;
        self.io.put(g);
        put_all(g, "kw_valid_0", &self.kw_valid);
        self.weights.put(g);
        put_all(g, "kw_group_end_0", &self.kw_group_end);
        put_all(g, "kw_last_0", &self.kw_last);
        read_pes(g, &self.pes);
        counter_in(g, &self.count, &self.outs, &self.running);
        g.eval.settle();
        self.io.take(g);
        take_all(g, "kw_ready_0", &mut self.kw_ready);
        counter_out(g, clock, &mut self.count, &mut self.outs, &mut self.running);
        drive_pes(g, &mut self.pes, clock);
    }
}
