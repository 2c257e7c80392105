//! The activation double buffer every PE consumes its groups from (`SacCore`, `MacCell`).

use rust_hdl::prelude::*;
use tetris_blocks_derive::BlockDefault;

/// Two banks of KS activations (A bits): `current` is the group being consumed, the waiting
/// bank takes the next one. Timing (docs/rtl.md): a group accepted in cycle c goes straight
/// into the current bank if that is empty or being released in c (usable in c+1), else it
/// waits; `act_ready = !nxt_full` is a register.
///
/// - `act_valid` / `act_ready` / `act`: a group offered into the free bank;
/// - `bank_release`: the consumer takes the last beat of the current group in this cycle;
/// - `full`: a group is current, `current` holds it.
#[derive(LogicBlock, BlockDefault)]
pub struct ActBank<const KS: usize, const A: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub act_valid: Signal<In, Bit>,
    pub act_ready: Signal<Out, Bit>,
    pub act: [Signal<In, Bits<A>>; KS],
    pub bank_release: Signal<In, Bit>,
    pub full: Signal<Out, Bit>,
    pub current: [Signal<Out, Bits<A>>; KS],
    cur: [DFF<Bits<A>>; KS],
    nxt: [DFF<Bits<A>>; KS],
    cur_full: DFF<Bit>,
    nxt_full: DFF<Bit>,
    act_fire: Signal<Local, Bit>,
    refill: Signal<Local, Bit>,
}

impl<const KS: usize, const A: usize> Logic for ActBank<KS, A> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, cur_full, nxt_full);
        self.act_ready.next = !self.nxt_full.q.val();
        self.act_fire.next = self.act_valid.val() & !self.nxt_full.q.val();
        self.full.next = self.cur_full.q.val();
        // The current bank is (re)filled when it is empty or being released.
        self.refill.next = !self.cur_full.q.val() | self.bank_release.val();
        for i in 0..KS {
            self.cur[i].clock.next = self.clock.val();
            self.nxt[i].clock.next = self.clock.val();
            self.cur[i].d.next = self.cur[i].q.val();
            self.nxt[i].d.next = self.nxt[i].q.val();
            if self.refill.val() {
                if self.nxt_full.q.val() {
                    self.cur[i].d.next = self.nxt[i].q.val();
                } else {
                    self.cur[i].d.next = self.act[i].val();
                }
            } else if self.act_fire.val() {
                self.nxt[i].d.next = self.act[i].val();
            }
            self.current[i].next = self.cur[i].q.val();
        }
        if self.refill.val() {
            self.cur_full.d.next = self.nxt_full.q.val() | self.act_fire.val();
            self.nxt_full.d.next = false;
        } else {
            self.nxt_full.d.next = self.nxt_full.q.val() | self.act_fire.val();
        }
        if self.reset.val() {
            self.cur_full.d.next = false;
            self.nxt_full.d.next = false;
        }
    }
}
