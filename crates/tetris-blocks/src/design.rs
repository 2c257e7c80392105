//! The design `tetris gen` emits while there is no array: for a SAC config the kneading unit
//! feeding a SAC PE, for a MAC config the MAC PE alone.

use super::knead_unit::KneadUnit;
use super::sac_pe::SacPe;
use rust_hdl::prelude::*;

/// Kneading unit -> SAC PE. Weight groups in (with `w_last` on a dot product's last group),
/// activation groups in (one per group that is not skipped: see `w_skip`), results out.
#[derive(LogicBlock)]
pub struct SacDesign<
    const W: usize,
    const L: usize,
    const KS: usize,
    const P: usize,
    const A: usize,
    const SEG: usize,
    const RES: usize,
> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub w_valid: Signal<In, Bit>,
    pub w_ready: Signal<Out, Bit>,
    pub w: [Signal<In, Bits<W>>; KS],
    pub w_last: Signal<In, Bit>,
    pub w_skip: Signal<Out, Bit>,
    pub act_valid: Signal<In, Bit>,
    pub act_ready: Signal<Out, Bit>,
    pub act: [Signal<In, Bits<A>>; KS],
    pub res_valid: Signal<Out, Bit>,
    pub res_ready: Signal<In, Bit>,
    pub res: Signal<Out, Bits<RES>>,
    knead_unit: KneadUnit<W, L, KS, P>,
    sac_pe: SacPe<L, KS, P, A, SEG, RES>,
}

impl<
        const W: usize,
        const L: usize,
        const KS: usize,
        const P: usize,
        const A: usize,
        const SEG: usize,
        const RES: usize,
    > SacDesign<W, L, KS, P, A, SEG, RES>
{
    pub fn new(csd: bool) -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            w_valid: Default::default(),
            w_ready: Default::default(),
            w: std::array::from_fn(|_| Default::default()),
            w_last: Default::default(),
            w_skip: Default::default(),
            act_valid: Default::default(),
            act_ready: Default::default(),
            act: std::array::from_fn(|_| Default::default()),
            res_valid: Default::default(),
            res_ready: Default::default(),
            res: Default::default(),
            knead_unit: KneadUnit::new(csd),
            sac_pe: Default::default(),
        }
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
    > Logic for SacDesign<W, L, KS, P, A, SEG, RES>
{
    #[hdl_gen]
    fn update(&mut self) {
        self.knead_unit.clock.next = self.clock.val();
        self.sac_pe.clock.next = self.clock.val();
        self.knead_unit.reset.next = self.reset.val();
        self.sac_pe.reset.next = self.reset.val();
        self.knead_unit.in_valid.next = self.w_valid.val();
        self.w_ready.next = self.knead_unit.in_ready.val();
        for i in 0..KS {
            self.knead_unit.w[i].next = self.w[i].val();
            self.sac_pe.act[i].next = self.act[i].val();
        }
        self.knead_unit.in_last.next = self.w_last.val();
        self.w_skip.next = self.knead_unit.in_skip.val();
        self.sac_pe.act_valid.next = self.act_valid.val();
        self.act_ready.next = self.sac_pe.act_ready.val();
        self.sac_pe.kw_valid.next = self.knead_unit.out_valid.val();
        self.knead_unit.out_ready.next = self.sac_pe.kw_ready.val();
        for b in 0..L {
            self.sac_pe.kw_lane_valid[b].next = self.knead_unit.out_lane_valid[b].val();
            self.sac_pe.kw_lane_ptr[b].next = self.knead_unit.out_lane_ptr[b].val();
            self.sac_pe.kw_lane_neg[b].next = self.knead_unit.out_lane_neg[b].val();
        }
        self.sac_pe.kw_group_end.next = self.knead_unit.out_group_end.val();
        self.sac_pe.kw_last.next = self.knead_unit.out_last.val();
        self.res_valid.next = self.sac_pe.res_valid.val();
        self.sac_pe.res_ready.next = self.res_ready.val();
        self.res.next = self.sac_pe.res.val();
    }
}
