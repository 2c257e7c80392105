//! The multiply-accumulate baseline PE: one (weight, activation) pair per cycle, same
//! handshake style as the SAC PE. Interface and timing: `docs/rtl.md`.

use super::leaf::SmMul;
use rust_hdl::prelude::*;
use tetris_blocks_derive::BlockDefault;

#[derive(LogicBlock, BlockDefault)]
pub struct MacPe<const W: usize, const A: usize, const RES: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    /// Sign-magnitude weight.
    pub w: Signal<In, Bits<W>>,
    /// Two's-complement activation.
    pub a: Signal<In, Bits<A>>,
    pub in_last: Signal<In, Bit>,
    pub res_valid: Signal<Out, Bit>,
    pub res_ready: Signal<In, Bit>,
    pub res: Signal<Out, Bits<RES>>,
    sm_mul: SmMul<W, A, RES>,
    /// The dot product so far; after the last pair, the result (`res`) until the next pair.
    acc: DFF<Bits<RES>>,
    /// `acc` holds a finished dot product: the next pair starts a new one from zero. (No pair
    /// is taken while a result waits unread, so `acc` is the result register too.)
    done: DFF<Bit>,
    res_v: DFF<Bit>,
    /// What the next pair adds to: `acc`, or zero after a finished dot product.
    acc_base: Signal<Local, Bits<RES>>,
    acc_next: Signal<Local, Bits<RES>>,
    fire: Signal<Local, Bit>,
}

impl<const W: usize, const A: usize, const RES: usize> Logic for MacPe<W, A, RES> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, acc, done, res_v);
        self.sm_mul.w.next = self.w.val();
        self.sm_mul.a.next = self.a.val();
        self.in_ready.next = !self.res_v.q.val() | self.res_ready.val();
        self.fire.next = self.in_valid.val() & self.in_ready.val();
        self.acc_base.next = self.acc.q.val();
        if self.done.q.val() {
            self.acc_base.next = 0.into();
        }
        self.acc_next.next = self.acc_base.val() + self.sm_mul.mag.val();
        if self.sm_mul.negative.val() {
            self.acc_next.next = self.acc_base.val() - self.sm_mul.mag.val();
        }
        if self.fire.val() {
            self.acc.d.next = self.acc_next.val();
            self.done.d.next = self.in_last.val();
        }
        self.res_v.d.next = self.res_v.q.val() & !self.res_ready.val();
        if self.fire.val() & self.in_last.val() {
            self.res_v.d.next = true;
        }
        if self.reset.val() {
            self.acc.d.next = 0.into();
            self.done.d.next = false;
            self.res_v.d.next = false;
        }
        self.res_valid.next = self.res_v.q.val();
        self.res.next = self.acc.q.val();
    }
}
