//! The split-and-accumulate (SAC) PE. Interface and timing: `docs/rtl.md`.
//!
//! `SacCore` is the datapath fed with one-hot lane selects; `SacPe` adds the pointer decode so
//! its input is the kneaded-weight lane format (valid, ptr, neg). An array whose column shares
//! one kneaded stream can instantiate one `KneadDecode` per column and a `SacCore` per PE.

use super::act_bank::ActBank;
use super::leaf::{LaneSelect, PtrDecode, SegLane};
use rust_hdl::prelude::*;
use tetris_blocks_derive::BlockDefault;

/// Lane pointer decode for a whole kneaded weight: `sel[b] = valid[b] ? 1 << ptr[b] : 0`.
#[derive(LogicBlock, BlockDefault)]
pub struct KneadDecode<const L: usize, const KS: usize, const P: usize> {
    pub lane_valid: [Signal<In, Bit>; L],
    pub lane_ptr: [Signal<In, Bits<P>>; L],
    pub sel: [Signal<Out, Bits<KS>>; L],
    ptr_decode: [PtrDecode<KS, P>; L],
}

impl<const L: usize, const KS: usize, const P: usize> Logic for KneadDecode<L, KS, P> {
    #[hdl_gen]
    fn update(&mut self) {
        for b in 0..L {
            self.ptr_decode[b].valid.next = self.lane_valid[b].val();
            self.ptr_decode[b].ptr.next = self.lane_ptr[b].val();
            self.sel[b].next = self.ptr_decode[b].onehot.val();
        }
    }
}

/// -sum_{b < lanes} 2^(seg-1) << b modulo 2^RES, as the SAC core adds it to the lanes'
/// offset-binary segments.
fn lane_offset<const RES: usize>(lanes: usize, seg: usize) -> Bits<RES> {
    assert!(RES <= 64, "results are at most 64 bits");
    let biases = ((1u128 << lanes) - 1) << (seg - 1);
    bits::<RES>((biases.wrapping_neg() & ((1u128 << RES) - 1)) as u64)
}

/// SAC datapath with double-buffered activation groups, one-hot lane selects.
///
/// Parameters: L lanes, KS activations per group, A activation bits, SEG segment bits,
/// RES result bits (all from `Config::widths`).
#[derive(LogicBlock, BlockDefault)]
pub struct SacCore<
    const L: usize,
    const KS: usize,
    const A: usize,
    const SEG: usize,
    const RES: usize,
> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // Activation group load (into the free bank).
    pub act_valid: Signal<In, Bit>,
    pub act_ready: Signal<Out, Bit>,
    pub act: [Signal<In, Bits<A>>; KS],
    // Kneaded weight stream, one per cycle.
    pub kw_valid: Signal<In, Bit>,
    pub kw_ready: Signal<Out, Bit>,
    pub kw_lane_sel: [Signal<In, Bits<KS>>; L],
    pub kw_lane_neg: [Signal<In, Bit>; L],
    pub kw_group_end: Signal<In, Bit>,
    pub kw_last: Signal<In, Bit>,
    // Result.
    pub res_valid: Signal<Out, Bit>,
    pub res_ready: Signal<In, Bit>,
    pub res: Signal<Out, Bits<RES>>,
    /// The current activation group and the waiting one.
    act_bank: ActBank<KS, A>,
    /// The dot product so far: each group's segments are added here at its last beat. After
    /// the last group it holds the result (`res`) until the next group's last beat.
    acc: DFF<Bits<RES>>,
    /// `acc` holds a finished dot product: the next group adds to zero. (No beat is taken
    /// while a result waits unread, so `acc` is the result register too.)
    done: DFF<Bit>,
    res_v: DFF<Bit>,
    /// What a group's segments are added to: `acc`, or zero after a finished dot product.
    acc_base: Signal<Local, Bits<RES>>,
    lane_select: [LaneSelect<KS, A>; L],
    seg_lane: [SegLane<A, SEG, RES>; L],
    fire: Signal<Local, Bit>,
    bank_release: Signal<Local, Bit>,
    last_fire: Signal<Local, Bit>,
    group_offered: Signal<Local, Bit>,
    sum: [Signal<Local, Bits<RES>>; L],
    total: Signal<Local, Bits<RES>>,
    /// -sum_b 2^(SEG-1) << b modulo 2^RES: removes the offset of the lanes' offset-binary
    /// segments (`SegLane::ext`).
    #[init(Constant::new(lane_offset(L, SEG)))]
    offset: Constant<Bits<RES>>,
}

impl<const L: usize, const KS: usize, const A: usize, const SEG: usize, const RES: usize>
    SacCore<L, KS, A, SEG, RES>
{
    /// Operand isolation of the shift-add result adder (on by default, `SegLane::set_isolation`).
    pub fn set_isolation(&mut self, on: bool) {
        for lane in self.seg_lane.iter_mut() {
            lane.set_isolation(on);
        }
    }
}

impl<const L: usize, const KS: usize, const A: usize, const SEG: usize, const RES: usize> Logic
    for SacCore<L, KS, A, SEG, RES>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, acc, done, res_v);
        // Activation banks: groups are loaded into the free bank, the current one is consumed.
        self.act_bank.clock.next = self.clock.val();
        self.act_bank.reset.next = self.reset.val();
        self.act_bank.act_valid.next = self.act_valid.val();
        self.act_ready.next = self.act_bank.act_ready.val();
        for i in 0..KS {
            self.act_bank.act[i].next = self.act[i].val();
        }
        // Handshakes. A beat may be taken when an activation group is loaded and no result
        // waits in `acc` (none, or it is being read in this cycle).
        self.kw_ready.next =
            self.act_bank.full.val() & (!self.res_v.q.val() | self.res_ready.val());
        self.fire.next = self.kw_valid.val() & self.kw_ready.val();
        self.last_fire.next = self.fire.val() & self.kw_last.val();
        // The current bank is released by the last beat of its group (or of the dot product).
        self.bank_release.next = self.fire.val() & (self.kw_group_end.val() | self.kw_last.val());
        self.act_bank.bank_release.next = self.bank_release.val();
        // The segments are flushed into `acc` at the end of every group, so a segment sums at
        // most KS activations, not a whole dot product (segment_bits, Config::widths). The
        // result adder's operands are let through while a group's last beat is offered,
        // whether or not it is taken (only a taken beat loads acc or the result): gating them
        // with `fire` put the column's ready handshake in front of the adder tree.
        self.group_offered.next =
            self.kw_valid.val() & (self.kw_group_end.val() | self.kw_last.val());
        // Splitter: each lane takes the activation its one-hot select picks.
        for b in 0..L {
            self.seg_lane[b].clock.next = self.clock.val();
            self.seg_lane[b].reset.next = self.reset.val();
            self.seg_lane[b].neg.next = self.kw_lane_neg[b].val();
            self.seg_lane[b].en.next = self.fire.val();
            self.seg_lane[b].clear.next = self.bank_release.val();
            self.seg_lane[b].tap.next = self.group_offered.val();
            self.lane_select[b].sel.next = self.kw_lane_sel[b].val();
            self.seg_lane[b].act.next = self.lane_select[b].act.val();
        }
        // Two loop indices in one path: rust-hdl's own Verilog writer gets this wrong, the
        // typed netlist (crates/tetris-netlist) evaluates every index.
        for i in 0..KS {
            for b in 0..L {
                self.lane_select[b].acts[i].next = self.act_bank.current[i].val();
            }
        }
        // Shift-add chain onto the dot product so far: lane b adds S_b << b to the sum of acc
        // and the lanes below it (one chain, so Yosys builds one carry-save tree).
        self.acc_base.next = self.acc.q.val();
        if self.done.q.val() {
            self.acc_base.next = 0.into();
        }
        self.sum[0].next = self.acc_base.val() + self.offset.val() + self.seg_lane[0].ext.val();
        for b in 1..L {
            self.sum[b].next =
                self.sum[b - 1].val() + (self.seg_lane[b].ext.val() << b.to_bits::<8>());
        }
        for b in 0..L {
            self.total.next = self.sum[b].val(); // the last lane's wins
        }
        // acc takes each group's total; after the last group that total is the result, held
        // until the next group's last beat (which adds to zero: `done`).
        if self.bank_release.val() {
            self.acc.d.next = self.total.val();
            self.done.d.next = self.kw_last.val();
        }
        if self.reset.val() {
            self.acc.d.next = 0.into();
            self.done.d.next = false;
        }
        // Result valid: set by the last beat, held until read.
        self.res_v.d.next = self.res_v.q.val() & !self.res_ready.val();
        if self.last_fire.val() {
            self.res_v.d.next = true;
        }
        self.res_valid.next = self.res_v.q.val();
        self.res.next = self.acc.q.val();
        if self.reset.val() {
            self.res_v.d.next = false;
        }
    }
}

/// The SAC PE with the kneaded-weight lane format on its input: per lane (valid, ptr, neg).
#[derive(LogicBlock, BlockDefault)]
pub struct SacPe<
    const L: usize,
    const KS: usize,
    const P: usize,
    const A: usize,
    const SEG: usize,
    const RES: usize,
> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub act_valid: Signal<In, Bit>,
    pub act_ready: Signal<Out, Bit>,
    pub act: [Signal<In, Bits<A>>; KS],
    pub kw_valid: Signal<In, Bit>,
    pub kw_ready: Signal<Out, Bit>,
    pub kw_lane_valid: [Signal<In, Bit>; L],
    pub kw_lane_ptr: [Signal<In, Bits<P>>; L],
    pub kw_lane_neg: [Signal<In, Bit>; L],
    pub kw_group_end: Signal<In, Bit>,
    pub kw_last: Signal<In, Bit>,
    pub res_valid: Signal<Out, Bit>,
    pub res_ready: Signal<In, Bit>,
    pub res: Signal<Out, Bits<RES>>,
    knead_decode: KneadDecode<L, KS, P>,
    sac_core: SacCore<L, KS, A, SEG, RES>,
}

impl<
        const L: usize,
        const KS: usize,
        const P: usize,
        const A: usize,
        const SEG: usize,
        const RES: usize,
    > SacPe<L, KS, P, A, SEG, RES>
{
    /// Operand isolation of the result adder (on by default; `[pe] operand_isolation`).
    pub fn set_isolation(&mut self, on: bool) {
        self.sac_core.set_isolation(on);
    }
}

impl<
        const L: usize,
        const KS: usize,
        const P: usize,
        const A: usize,
        const SEG: usize,
        const RES: usize,
    > Logic for SacPe<L, KS, P, A, SEG, RES>
{
    #[hdl_gen]
    fn update(&mut self) {
        self.sac_core.clock.next = self.clock.val();
        self.sac_core.reset.next = self.reset.val();
        self.sac_core.act_valid.next = self.act_valid.val();
        self.act_ready.next = self.sac_core.act_ready.val();
        for i in 0..KS {
            self.sac_core.act[i].next = self.act[i].val();
        }
        self.sac_core.kw_valid.next = self.kw_valid.val();
        self.kw_ready.next = self.sac_core.kw_ready.val();
        for b in 0..L {
            self.knead_decode.lane_valid[b].next = self.kw_lane_valid[b].val();
            self.knead_decode.lane_ptr[b].next = self.kw_lane_ptr[b].val();
            self.sac_core.kw_lane_sel[b].next = self.knead_decode.sel[b].val();
            self.sac_core.kw_lane_neg[b].next = self.kw_lane_neg[b].val();
        }
        self.sac_core.kw_group_end.next = self.kw_group_end.val();
        self.sac_core.kw_last.next = self.kw_last.val();
        self.res_valid.next = self.sac_core.res_valid.val();
        self.sac_core.res_ready.next = self.res_ready.val();
        self.res.next = self.sac_core.res.val();
    }
}
