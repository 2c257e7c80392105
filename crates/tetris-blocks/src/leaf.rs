//! Small leaf blocks shared by the PEs and the kneading unit.
//!
//! They exist mostly because of rust-hdl 0.46 limits (see `docs/rtl.md`): widening casts do not
//! compile inside `for` loops, and a path may carry only one loop index, so per-lane and
//! per-weight logic lives in its own block that the parent instantiates as an array.

use rust_hdl::prelude::*;
use tetris_blocks_derive::BlockDefault;

/// One segment accumulator S_b of a SAC PE, with its slice of the final shift-add chain.
///
/// - `act` is the activation selected for this lane (zero when the lane is idle), `neg` its digit
///   sign; when `en` is high at a clock edge, S_b <= S_b +- act; when `clear` is high too, S_b <= 0
///   instead (end of a kneading group: the parent adds the segments to its running sum), so the
///   next group starts from zero with no bubble.
/// - `ext` is the *updated* segment S_b +- act in offset binary: its sign bit inverted, zero-
///   extended to RES bits, i.e. S + 2^(SEG-1) as an unsigned number. The parent shifts it by b,
///   sums the lanes and subtracts sum_b 2^(SEG-1) << b once (a constant), giving sum_b S_b << b
///   including the current beat. Sign-extending to RES bits instead made the upper bits of every
///   operand of the adder tree copies of the sign, toggling together (docs/synth.md "A leaner
///   SAC PE" (j)). (The shift lives in the parent so that every lane is the same Verilog module.)
#[derive(LogicBlock, BlockDefault)]
#[requires(A < SEG && SEG <= RES)]
pub struct SegLane<const A: usize, const SEG: usize, const RES: usize> {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub act: Signal<In, Bits<A>>,
    pub neg: Signal<In, Bit>,
    pub en: Signal<In, Bit>,
    pub clear: Signal<In, Bit>,
    /// High while the last beat of a group is offered (`ext` is read when it is taken).
    pub tap: Signal<In, Bit>,
    pub ext: Signal<Out, Bits<RES>>,
    seg: DFF<Bits<SEG>>,
    act_ext: Signal<Local, Bits<SEG>>,
    seg_next: Signal<Local, Bits<SEG>>,
    #[init(Constant::new(bits::<A>(1) << (A as u64 - 1)))]
    act_sign: Constant<Bits<A>>,
    #[init(Constant::new(!bits::<SEG>(0) << (A as u64)))]
    act_high: Constant<Bits<SEG>>,
    #[init(Constant::new(bits::<SEG>(1) << (SEG as u64 - 1)))]
    seg_sign: Constant<Bits<SEG>>,
    /// Operand isolation of the result adder: `ext` is 0 except when `tap` (see `set_isolation`).
    #[init(Constant::new(true))]
    isolate: Constant<Bit>,
}

impl<const A: usize, const SEG: usize, const RES: usize> SegLane<A, SEG, RES> {
    /// On (the default): `ext` is held at 0 except in the `tap` cycle, so the shift-add tree
    /// behind the lanes does not toggle on the beats whose sum nobody reads.
    pub fn set_isolation(&mut self, on: bool) {
        self.isolate = Constant::new(on);
    }
}

impl<const A: usize, const SEG: usize, const RES: usize> Logic for SegLane<A, SEG, RES> {
    #[hdl_gen]
    fn update(&mut self) {
        self.seg.clock.next = self.clock.val();
        // Sign-extend the activation to the segment width.
        self.act_ext.next = bit_cast::<SEG, A>(self.act.val());
        if (self.act.val() & self.act_sign.val()).any() {
            self.act_ext.next = bit_cast::<SEG, A>(self.act.val()) | self.act_high.val();
        }
        // seg +- act: written as two operators and a mux, Yosys (opt_share) already merges
        // them into one adder with a complemented operand; spelling out `seg + !act + neg`
        // instead made a 3-operand $macc (docs/synth.md, "A leaner SAC PE").
        self.seg_next.next = self.seg.q.val() + self.act_ext.val();
        if self.neg.val() {
            self.seg_next.next = self.seg.q.val() - self.act_ext.val();
        }
        self.seg.d.next = self.seg.q.val();
        if self.en.val() {
            self.seg.d.next = self.seg_next.val();
        }
        if self.clear.val() | self.reset.val() {
            self.seg.d.next = 0.into();
        }
        // The updated segment in offset binary (0 outside the tap cycle when isolated: the
        // result adder only sees operands on the beat it is read).
        self.ext.next = 0.into();
        if self.tap.val() | !self.isolate.val() {
            self.ext.next = bit_cast::<RES, SEG>(self.seg_next.val() ^ self.seg_sign.val());
        }
    }
}

/// The splitter of one lane: the activation its one-hot select picks, 0 when none is selected.
///
/// Written as an AND-OR (each candidate masked by its select bit, the masked terms ORed) rather
/// than an `if` per candidate: the `if` chain became a 16-deep priority mux that Yosys cannot
/// know to be one-hot, the largest block of the SAC core and on its critical path
/// (docs/synth.md, "A leaner SAC PE" (d)).
#[derive(LogicBlock, BlockDefault)]
pub struct LaneSelect<const KS: usize, const A: usize> {
    pub sel: Signal<In, Bits<KS>>,
    pub acts: [Signal<In, Bits<A>>; KS],
    pub act: Signal<Out, Bits<A>>,
    /// `acts[i]` where `sel[i]`, else 0.
    term: [Signal<Local, Bits<A>>; KS],
    /// OR of `term[0..=i]`.
    any: [Signal<Local, Bits<A>>; KS],
}

impl<const KS: usize, const A: usize> Logic for LaneSelect<KS, A> {
    #[hdl_gen]
    fn update(&mut self) {
        for i in 0..KS {
            self.term[i].next = 0.into();
            if self.sel.val().get_bit(i) {
                self.term[i].next = self.acts[i].val();
            }
        }
        self.any[0].next = self.term[0].val();
        for i in 1..KS {
            self.any[i].next = self.any[i - 1].val() | self.term[i].val();
        }
        for i in 0..KS {
            self.act.next = self.any[i].val(); // the last one wins: the OR of every term
        }
    }
}

/// Pointer decode of one lane: `onehot = valid ? 1 << ptr : 0`.
///
/// Factored out so that PEs sharing one kneaded stream (a column of an array) can share the
/// decode: the SAC core only sees one-hot selects.
#[derive(LogicBlock, BlockDefault)]
#[requires(KS <= 1 << P)]
pub struct PtrDecode<const KS: usize, const P: usize> {
    pub valid: Signal<In, Bit>,
    pub ptr: Signal<In, Bits<P>>,
    pub onehot: Signal<Out, Bits<KS>>,
    #[init(Constant::new(bits::<KS>(1)))]
    one: Constant<Bits<KS>>,
}

impl<const KS: usize, const P: usize> Logic for PtrDecode<KS, P> {
    #[hdl_gen]
    fn update(&mut self) {
        self.onehot.next = 0.into();
        if self.valid.val() {
            self.onehot.next = self.one.val() << self.ptr.val();
        }
    }
}

/// Digits of one sign-magnitude weight: `nz` = non-zero digit positions, `neg` = the -1 digits.
///
/// sm: the magnitude bits, all carrying the weight's sign. csd (non-adjacent form, computed in
/// hardware): with x the magnitude, xh = x >> 1, x3 = x + xh, c = xh ^ x3, the +1 digits of x
/// are x3 & c and the -1 digits are xh & c; a negative weight swaps them. W weight bits, L lanes
/// (W-1 for sm, W for csd).
#[derive(LogicBlock)]
pub struct DigitEncode<const W: usize, const L: usize> {
    pub w: Signal<In, Bits<W>>,
    pub nz: Signal<Out, Bits<L>>,
    pub neg: Signal<Out, Bits<L>>,
    mag: Signal<Local, Bits<L>>,
    half: Signal<Local, Bits<L>>,
    x3: Signal<Local, Bits<L>>,
    diff: Signal<Local, Bits<L>>,
    plus: Signal<Local, Bits<L>>,
    minus: Signal<Local, Bits<L>>,
    negative: Signal<Local, Bit>,
    sign_mask: Constant<Bits<W>>,
    mag_mask: Constant<Bits<L>>,
    csd: Constant<Bit>,
}

impl<const W: usize, const L: usize> DigitEncode<W, L> {
    pub fn new(csd: bool) -> Self {
        assert!(L == if csd { W } else { W - 1 });
        Self {
            w: Default::default(),
            nz: Default::default(),
            neg: Default::default(),
            mag: Default::default(),
            half: Default::default(),
            x3: Default::default(),
            diff: Default::default(),
            plus: Default::default(),
            minus: Default::default(),
            negative: Default::default(),
            sign_mask: Constant::new(bits::<W>(1) << (W as u64 - 1)),
            mag_mask: Constant::new(bits::<L>((1u64 << (W - 1)) - 1)),
            csd: Constant::new(csd),
        }
    }
}

impl<const W: usize, const L: usize> Logic for DigitEncode<W, L> {
    #[hdl_gen]
    fn update(&mut self) {
        self.negative.next = (self.w.val() & self.sign_mask.val()).any();
        self.mag.next = bit_cast::<L, W>(self.w.val()) & self.mag_mask.val();
        self.half.next = self.mag.val() >> 1;
        self.x3.next = self.mag.val() + self.half.val();
        self.diff.next = self.half.val() ^ self.x3.val();
        self.plus.next = self.x3.val() & self.diff.val();
        self.minus.next = self.half.val() & self.diff.val();
        if self.csd.val() {
            self.nz.next = self.plus.val() | self.minus.val();
            if self.negative.val() {
                self.neg.next = self.plus.val();
            } else {
                self.neg.next = self.minus.val();
            }
        } else {
            self.nz.next = self.mag.val();
            self.neg.next = 0.into();
            if self.negative.val() {
                self.neg.next = self.mag.val();
            }
        }
    }
}

/// Sign-magnitude weight times two's-complement activation, sign-extended to RES bits.
/// rust-hdl only multiplies Bits<16> by Bits<16>, so both magnitudes are widened to 16 bits.
#[derive(LogicBlock, BlockDefault)]
#[requires(W <= 17 && A <= 16)]
pub struct SmMul<const W: usize, const A: usize, const RES: usize> {
    pub w: Signal<In, Bits<W>>,
    pub a: Signal<In, Bits<A>>,
    /// The magnitude |w * a| (RES bits) ...
    pub mag: Signal<Out, Bits<RES>>,
    /// ... and its sign.
    pub negative: Signal<Out, Bit>,
    a_neg: Signal<Local, Bit>,
    a_abs: Signal<Local, Bits<A>>,
    w_mag: Signal<Local, Bits<W>>,
    prod: Signal<Local, Bits<32>>,
    /// Product bits above RES (always zero) are consumed here so that lint sees every bit of
    /// `prod` used; Verilator does not report signals named `*unused*`.
    prod_high_unused: Signal<Local, Bit>,
    #[init(Constant::new((RES as u64).to_bits()))]
    res_bits: Constant<Bits<8>>,
    #[init(Constant::new(bits::<W>(1) << (W as u64 - 1)))]
    w_sign: Constant<Bits<W>>,
    #[init(Constant::new(bits::<A>(1) << (A as u64 - 1)))]
    a_sign: Constant<Bits<A>>,
}

impl<const W: usize, const A: usize, const RES: usize> Logic for SmMul<W, A, RES> {
    #[hdl_gen]
    fn update(&mut self) {
        self.a_neg.next = (self.a.val() & self.a_sign.val()).any();
        // |a| as an unsigned A-bit value: 0 - (-2^(A-1)) wraps to 2^(A-1), which is right.
        self.a_abs.next = self.a.val();
        if self.a_neg.val() {
            self.a_abs.next = bits::<A>(0) - self.a.val();
        }
        self.w_mag.next = self.w.val() & !self.w_sign.val();
        self.prod.next = bit_cast::<16, W>(self.w_mag.val()) * bit_cast::<16, A>(self.a_abs.val());
        self.mag.next = bit_cast::<RES, 32>(self.prod.val());
        self.prod_high_unused.next = (self.prod.val() >> self.res_bits.val()).any();
        self.negative.next = self.a_neg.val() ^ (self.w.val() & self.w_sign.val()).any();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `#[requires]` of a derived `Default` holds the block to its parameters.
    #[test]
    #[should_panic(expected = "SegLane requires A < SEG && SEG <= RES")]
    fn a_block_with_broken_parameters_is_refused() {
        let _ = SegLane::<8, 8, 16>::default();
    }

    /// `#[init]` sets a constant; a plain field is its default.
    #[test]
    fn derived_default_sets_the_constants() {
        let lane = SegLane::<8, 12, 16>::default();
        assert_eq!(lane.seg_sign.val(), bits::<12>(1 << 11));
        assert_eq!(lane.act_high.val(), bits::<12>(0xf00));
        assert!(lane.isolate.val());
        assert_eq!(lane.ext.val(), bits::<16>(0));
    }
}
