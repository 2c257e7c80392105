//! The Tetris array with on-chip kneading (`[array] knead_on_chip = true`): the same
//! `SacArray`, with one hardware `KneadUnit` in front of each column's weight stream, so the
//! host sends plain sign-magnitude weight groups (KS weights per beat) instead of kneaded
//! weights.
//!
//! The kneading unit emits one kneaded weight per cycle in exactly the order of
//! `model::knead`, takes the next group in the cycle it emits the last weight of the current
//! one, and drops an all-zero group that does not end a dot product (`w_skip`); so a column
//! sees the same kneaded stream as with host kneading, one cycle later. The host still leaves
//! all-zero groups out of the stream (it knows them: they are also out of the activation
//! mask); one that is sent anyway is dropped at the cost of one input cycle.
//!
//! Like `SacArray`, the glue is a plain `Logic::update` mirrored by hand-written Verilog.

use super::array::SacArray;
use super::array_shell::{defaults, ArrayIo, Inline};
use super::knead_unit::KneadUnit;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct SacArrayKnead<
    const W: usize,
    const L: usize,
    const KS: usize,
    const P: usize,
    const A: usize,
    const SEG: usize,
    const RES: usize,
> {
    /// The host side, passed through to the array.
    pub io: Inline<ArrayIo<A, RES>>,
    // Weight groups, one stream per column: KS sign-magnitude weights per beat.
    pub w_valid: Vec<Signal<In, Bit>>,
    pub w_ready: Vec<Signal<Out, Bit>>,
    /// `w[c * KS + i]`: weight i of column c's group.
    pub w: Vec<Signal<In, Bits<W>>>,
    /// The group ends a dot product.
    pub w_last: Vec<Signal<In, Bit>>,
    /// The group on `w` is all zero and not last: accepted and dropped.
    pub w_skip: Vec<Signal<Out, Bit>>,
    knead: Vec<KneadUnit<W, L, KS, P>>,
    array: SacArray<L, KS, P, A, SEG, RES>,
}

impl<
        const W: usize,
        const L: usize,
        const KS: usize,
        const P: usize,
        const A: usize,
        const SEG: usize,
        const RES: usize,
    > SacArrayKnead<W, L, KS, P, A, SEG, RES>
{
    pub fn new(rows: usize, cols: usize, csd: bool) -> Self {
        let array = SacArray::new(rows, cols);
        Self {
            io: Inline(ArrayIo::new(rows, cols, KS)),
            w_valid: defaults(cols),
            w_ready: defaults(cols),
            w: defaults(cols * KS),
            w_last: defaults(cols),
            w_skip: defaults(cols),
            knead: (0..cols).map(|_| KneadUnit::new(csd)).collect(),
            array,
        }
    }

    pub fn rows(&self) -> usize {
        self.io.act.len() / KS
    }

    pub fn cols(&self) -> usize {
        self.w_valid.len()
    }
}

impl<
        const W: usize,
        const L: usize,
        const KS: usize,
        const P: usize,
        const A: usize,
        const SEG: usize,
        const RES: usize,
    > Logic for SacArrayKnead<W, L, KS, P, A, SEG, RES>
{
    /// Everything `update` drives (for rust-hdl's connectivity check).
    fn connect(&mut self) {
        self.io.connect_outputs();
        self.w_ready.iter_mut().for_each(|s| s.connect());
        self.w_skip.iter_mut().for_each(|s| s.connect());
        for k in &mut self.knead {
            k.clock.connect();
            k.reset.connect();
            k.in_valid.connect();
            k.w.iter_mut().for_each(|s| s.connect());
            k.in_last.connect();
            k.out_ready.connect();
        }
        let a = &mut self.array;
        a.io.connect_inputs();
        a.kw_valid.iter_mut().for_each(|s| s.connect());
        a.weights.kw_lane_valid.iter_mut().for_each(|s| s.connect());
        a.weights.kw_lane_ptr.iter_mut().for_each(|s| s.connect());
        a.weights.kw_lane_neg.iter_mut().for_each(|s| s.connect());
        a.kw_group_end.iter_mut().for_each(|s| s.connect());
        a.kw_last.iter_mut().for_each(|s| s.connect());
    }

    /// The array's Verilog is written from its glue description (`super::array_glue`).
    fn hdl(&self) -> Verilog {
        Verilog::Empty
    }

    fn update(&mut self) {
        let a = &mut self.array;
        self.io.drive(&mut a.io);
        self.io.read(&a.io);
        for (c, k) in self.knead.iter_mut().enumerate() {
            k.clock.next = self.io.clock.val();
            k.reset.next = self.io.reset.val();
            k.in_valid.next = self.w_valid[c].val();
            k.in_last.next = self.w_last[c].val();
            for i in 0..KS {
                k.w[i].next = self.w[c * KS + i].val();
            }
            self.w_ready[c].next = k.in_ready.val();
            self.w_skip[c].next = k.in_skip.val();
            a.kw_valid[c].next = k.out_valid.val();
            k.out_ready.next = a.kw_ready[c].val();
            for b in 0..L {
                a.weights.kw_lane_valid[c * L + b].next = k.out_lane_valid[b].val();
                a.weights.kw_lane_ptr[c * L + b].next = k.out_lane_ptr[b].val();
                a.weights.kw_lane_neg[c * L + b].next = k.out_lane_neg[b].val();
            }
            a.kw_group_end[c].next = k.out_group_end.val();
            a.kw_last[c].next = k.out_last.val();
        }
    }
}
