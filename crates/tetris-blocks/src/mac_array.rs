//! The MAC baseline array (`[pe] kind = "mac"`): the same top-level interface and glue as the
//! SAC array (`array.rs`, `docs/array.md`), with a MAC cell per PE. A column's weight stream
//! carries one weight per beat: the sign-magnitude weight and `ptr`, the index of its
//! activation in the current group; `group_end` / `last` as in the SAC stream.

use super::act_bank::ActBank;
use super::array_glue::{glue_pe, put_all, GlueSim};
use super::array_shell::{defaults, GlueArray, WeightPorts};
use super::mac_pe::MacPe;
use rust_hdl::prelude::*;
use tetris_blocks_derive::BlockDefault;

/// A MAC PE behind the SAC PE's two activation banks: a beat multiplies the weight with
/// activation `ptr` of the current group. Timing equals the SAC PE's (docs/rtl.md): a group
/// accepted in cycle c is usable in c+1, a beat with `group_end` releases the bank, one beat per
/// cycle, the result is valid the cycle after the `last` beat.
#[derive(LogicBlock, BlockDefault)]
pub struct MacCell<
    const W: usize,
    const KS: usize,
    const P: usize,
    const A: usize,
    const RES: usize,
> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub act_valid: Signal<In, Bit>,
    pub act_ready: Signal<Out, Bit>,
    pub act: [Signal<In, Bits<A>>; KS],
    pub kw_valid: Signal<In, Bit>,
    pub kw_ready: Signal<Out, Bit>,
    pub kw_w: Signal<In, Bits<W>>,
    pub kw_ptr: Signal<In, Bits<P>>,
    pub kw_group_end: Signal<In, Bit>,
    pub kw_last: Signal<In, Bit>,
    pub res_valid: Signal<Out, Bit>,
    pub res_ready: Signal<In, Bit>,
    pub res: Signal<Out, Bits<RES>>,
    act_bank: ActBank<KS, A>,
    mac: MacPe<W, A, RES>,
    fire: Signal<Local, Bit>,
}

impl<const W: usize, const KS: usize, const P: usize, const A: usize, const RES: usize> Logic
    for MacCell<W, KS, P, A, RES>
{
    #[hdl_gen]
    fn update(&mut self) {
        self.act_bank.clock.next = self.clock.val();
        self.act_bank.reset.next = self.reset.val();
        self.act_bank.act_valid.next = self.act_valid.val();
        self.act_ready.next = self.act_bank.act_ready.val();
        for i in 0..KS {
            self.act_bank.act[i].next = self.act[i].val();
        }
        self.mac.clock.next = self.clock.val();
        self.mac.reset.next = self.reset.val();
        self.mac.res_ready.next = self.res_ready.val();
        self.kw_ready.next = self.act_bank.full.val() & self.mac.in_ready.val();
        self.fire.next = self.kw_valid.val() & self.act_bank.full.val() & self.mac.in_ready.val();
        self.act_bank.bank_release.next =
            self.fire.val() & (self.kw_group_end.val() | self.kw_last.val());
        // The activation the weight belongs to (loop-and-compare select).
        self.mac.a.next = 0.into();
        for i in 0..KS {
            if self.kw_ptr.val().index() == i {
                self.mac.a.next = self.act_bank.current[i].val();
            }
        }
        self.mac.w.next = self.kw_w.val();
        self.mac.in_valid.next = self.kw_valid.val() & self.act_bank.full.val();
        self.mac.in_last.next = self.kw_last.val();
        self.res_valid.next = self.mac.res_valid.val();
        self.res.next = self.mac.res.val();
    }
}

/// rows x cols MAC cells in the SAC array's shell.
pub type MacArray<
    const W: usize,
    const KS: usize,
    const P: usize,
    const A: usize,
    const RES: usize,
> = GlueArray<MacCell<W, KS, P, A, RES>, MacWeights<W, P>, KS, A, RES>;

/// Every column's weight (sign-magnitude) and activation pointer: `kw_w[c]`, `kw_ptr[c]`.
#[derive(LogicBlock, Default)]
pub struct MacWeights<const W: usize, const P: usize> {
    pub kw_w: Vec<Signal<In, Bits<W>>>,
    pub kw_ptr: Vec<Signal<In, Bits<P>>>,
}

impl<const W: usize, const P: usize> Logic for MacWeights<W, P> {
    fn update(&mut self) {}
}

impl<const W: usize, const P: usize> WeightPorts for MacWeights<W, P> {
    fn new(cols: usize) -> Self {
        Self {
            kw_w: defaults(cols),
            kw_ptr: defaults(cols),
        }
    }
    fn put(&self, g: &mut GlueSim) {
        put_all(g, "kw_w_0", &self.kw_w);
        put_all(g, "kw_ptr_0", &self.kw_ptr);
    }
}

glue_pe!(MacCell<W, KS, P, A, RES>, "MAC cell", scalar [kw_w, kw_ptr], lanes []);
