//! The hardware kneading unit: a group of KS sign-magnitude weights in, its kneaded weights out,
//! one per cycle, in exactly the order of `model::knead` (row r of lane b holds the r-th
//! weight, in increasing weight index, whose digit b is non-zero). Interface and timing:
//! `docs/rtl.md`.
//!
//! Per lane the next digit to emit is the lowest-index weight that still has that digit; it is
//! found as `take[i] = nz[i] & !(nz[0] | .. | nz[i-1])` (a priority chain over the weights,
//! all lanes at once), emitted, and cleared (`nz[i] &= !take[i]`).

use super::leaf::DigitEncode;
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct KneadUnit<const W: usize, const L: usize, const KS: usize, const P: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    // Weight group in.
    pub in_valid: Signal<In, Bit>,
    pub in_ready: Signal<Out, Bit>,
    pub w: [Signal<In, Bits<W>>; KS],
    /// The group ends a dot product.
    pub in_last: Signal<In, Bit>,
    /// The group on `w` is all zero and not last: it is accepted and emits nothing (a
    /// controller uses this to drop the paired activation group).
    pub in_skip: Signal<Out, Bit>,
    // Kneaded weights out.
    pub out_valid: Signal<Out, Bit>,
    pub out_ready: Signal<In, Bit>,
    pub out_lane_valid: [Signal<Out, Bit>; L],
    pub out_lane_ptr: [Signal<Out, Bits<P>>; L],
    pub out_lane_neg: [Signal<Out, Bit>; L],
    pub out_group_end: Signal<Out, Bit>,
    pub out_last: Signal<Out, Bit>,
    digit_encode: [DigitEncode<W, L>; KS],
    nz: [DFF<Bits<L>>; KS],
    ng: [DFF<Bits<L>>; KS],
    loaded: DFF<Bit>,
    last: DFF<Bit>,
    seen: [Signal<Local, Bits<L>>; KS],
    take: [Signal<Local, Bits<L>>; KS],
    more: Signal<Local, Bit>,
    in_nonzero: Signal<Local, Bit>,
    out_fire: Signal<Local, Bit>,
    accept: Signal<Local, Bit>,
}

impl<const W: usize, const L: usize, const KS: usize, const P: usize> KneadUnit<W, L, KS, P> {
    pub fn new(csd: bool) -> Self {
        assert!(KS <= 1 << P && KS >= 1);
        Self {
            clock: Default::default(),
            reset: Default::default(),
            in_valid: Default::default(),
            in_ready: Default::default(),
            w: std::array::from_fn(|_| Default::default()),
            in_last: Default::default(),
            in_skip: Default::default(),
            out_valid: Default::default(),
            out_ready: Default::default(),
            out_lane_valid: std::array::from_fn(|_| Default::default()),
            out_lane_ptr: std::array::from_fn(|_| Default::default()),
            out_lane_neg: std::array::from_fn(|_| Default::default()),
            out_group_end: Default::default(),
            out_last: Default::default(),
            digit_encode: std::array::from_fn(|_| DigitEncode::new(csd)),
            nz: std::array::from_fn(|_| Default::default()),
            ng: std::array::from_fn(|_| Default::default()),
            loaded: Default::default(),
            last: Default::default(),
            seen: std::array::from_fn(|_| Default::default()),
            take: std::array::from_fn(|_| Default::default()),
            more: Default::default(),
            in_nonzero: Default::default(),
            out_fire: Default::default(),
            accept: Default::default(),
        }
    }
}

impl<const W: usize, const L: usize, const KS: usize, const P: usize> Logic
    for KneadUnit<W, L, KS, P>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, loaded, last);
        // Which weight each lane emits now: the lowest-index one still holding that digit.
        self.seen[0].next = 0.into();
        for i in 1..KS {
            self.seen[i].next = self.seen[i - 1].val() | self.nz[i - 1].q.val();
        }
        for i in 0..KS {
            self.take[i].next = self.nz[i].q.val() & !self.seen[i].val();
        }
        for b in 0..L {
            self.out_lane_valid[b].next = false;
            self.out_lane_ptr[b].next = 0.into();
            self.out_lane_neg[b].next = false;
            for i in 0..KS {
                if self.take[i].val().get_bit(b) {
                    self.out_lane_valid[b].next = true;
                    self.out_lane_ptr[b].next = i.to_bits();
                    self.out_lane_neg[b].next = self.ng[i].q.val().get_bit(b);
                }
            }
        }
        // Does anything remain after this beat?
        self.more.next = false;
        for i in 0..KS {
            if (self.nz[i].q.val() & !self.take[i].val()).any() {
                self.more.next = true;
            }
        }
        self.out_valid.next = self.loaded.q.val();
        self.out_group_end.next = !self.more.val();
        self.out_last.next = !self.more.val() & self.last.q.val();
        self.out_fire.next = self.loaded.q.val() & self.out_ready.val();
        // A new group is taken when the unit is empty or emits its final beat now.
        self.in_ready.next = !self.loaded.q.val() | (self.out_fire.val() & !self.more.val());
        self.accept.next = self.in_valid.val() & self.in_ready.val();
        self.in_nonzero.next = false;
        for i in 0..KS {
            self.digit_encode[i].w.next = self.w[i].val();
            if self.digit_encode[i].nz.val().any() {
                self.in_nonzero.next = true;
            }
        }
        self.in_skip.next = self.in_valid.val() & !self.in_nonzero.val() & !self.in_last.val();
        for i in 0..KS {
            self.nz[i].clock.next = self.clock.val();
            self.ng[i].clock.next = self.clock.val();
            self.nz[i].d.next = self.nz[i].q.val();
            self.ng[i].d.next = self.ng[i].q.val();
            if self.accept.val() {
                self.nz[i].d.next = self.digit_encode[i].nz.val();
                self.ng[i].d.next = self.digit_encode[i].neg.val();
            } else if self.out_fire.val() {
                self.nz[i].d.next = self.nz[i].q.val() & !self.take[i].val();
            }
        }
        self.loaded.d.next = self.loaded.q.val();
        self.last.d.next = self.last.q.val();
        if self.accept.val() {
            // An all-zero group emits nothing, unless it ends a dot product: then one beat with
            // no valid lane carries `last`.
            self.loaded.d.next = self.in_nonzero.val() | self.in_last.val();
            self.last.d.next = self.in_last.val();
        } else if self.out_fire.val() & !self.more.val() {
            self.loaded.d.next = false;
        }
        if self.reset.val() {
            self.loaded.d.next = false;
        }
    }
}
