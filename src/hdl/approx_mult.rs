//! rust-hdl RTL of the built-in approximate multipliers (`src/noise/models.rs` is their
//! oracle). All are combinational: `y = a (x) b` with n-bit operands and a 2n-bit product.
//!
//! Const parameters: N = operand width, W2 = 2N (no generic_const_exprs on stable), D = number
//! of 2-bit digits (Kulkarni). Instantiated widths: N = 8 and N = 16 (see [`emit`]).
//! Signed multipliers (the sign-magnitude wrapper of the models) have no RTL yet.
//! No block uses `*`: rust-hdl only multiplies Bits<16> x Bits<16>, so products are shift-add arrays.

use crate::flow::gen::emit_block;
use crate::flow::verilog::{Design, Header};
use crate::noise::models::Multiplier;
use crate::noise::spec::MultKind;
use anyhow::{bail, Result};
use rust_hdl::prelude::*;

/// Exact, truncated and broken-array multipliers: the partial-product array with per-row
/// masks (row j = (a << j) & mask_j, kept when b_j = 1), plus a correction constant.
#[derive(LogicBlock)]
pub struct MaskedArrayMult<const N: usize, const W2: usize> {
    pub a: Signal<In, Bits<N>>,
    pub b: Signal<In, Bits<N>>,
    pub y: Signal<Out, Bits<W2>>,
    a_wide: Signal<Local, Bits<W2>>,
    sum: [Signal<Local, Bits<W2>>; N],
    row_mask: [Constant<Bits<W2>>; N],
    row_shift: [Constant<Bits<8>>; N],
    corr: Constant<Bits<W2>>,
}

impl<const N: usize, const W2: usize> MaskedArrayMult<N, W2> {
    pub fn new(row_masks: &[u64], corr: u64) -> Self {
        assert!(W2 == 2 * N && row_masks.len() == N);
        Self {
            a: Default::default(),
            b: Default::default(),
            y: Default::default(),
            a_wide: Default::default(),
            sum: std::array::from_fn(|_| Default::default()),
            row_mask: std::array::from_fn(|j| Constant::new(bits::<W2>(row_masks[j]))),
            row_shift: std::array::from_fn(|j| Constant::new(bits::<8>(j as u64))),
            corr: Constant::new(bits::<W2>(corr)),
        }
    }
}

impl<const N: usize, const W2: usize> Logic for MaskedArrayMult<N, W2> {
    #[hdl_gen]
    fn update(&mut self) {
        self.a_wide.next = bit_cast::<W2, N>(self.a.val());
        // Running sum down the rows; the last row's sum is the product.
        self.sum[0].next = self.corr.val();
        if self.b.val().get_bit(0) {
            self.sum[0].next = self.corr.val()
                + ((self.a_wide.val() << self.row_shift[0].val()) & self.row_mask[0].val());
        }
        for j in 1..N {
            self.sum[j].next = self.sum[j - 1].val();
            if self.b.val().get_bit(j) {
                self.sum[j].next = self.sum[j - 1].val()
                    + ((self.a_wide.val() << self.row_shift[j].val()) & self.row_mask[j].val());
            }
        }
        for j in 0..N {
            self.y.next = self.sum[j].val(); // the last row wins
        }
    }
}

/// DRUM(k): per operand, the k bits from the leading one with the lowest forced to 1 when the
/// operand has more than k bits; a shift-add multiply of the mantissas; the product shifted back.
#[derive(LogicBlock)]
pub struct DrumMult<const N: usize, const W2: usize> {
    pub a: Signal<In, Bits<N>>,
    pub b: Signal<In, Bits<N>>,
    pub y: Signal<Out, Bits<W2>>,
    lead_a: Signal<Local, Bits<8>>,
    lead_b: Signal<Local, Bits<8>>,
    s_a: Signal<Local, Bits<8>>,
    s_b: Signal<Local, Bits<8>>,
    a_w: Signal<Local, Bits<W2>>,
    m_a: Signal<Local, Bits<W2>>,
    m_b: Signal<Local, Bits<N>>,
    sum: [Signal<Local, Bits<W2>>; N],
    row_shift: [Constant<Bits<8>>; N],
    k: Constant<Bits<8>>,
    k_minus_1: Constant<Bits<8>>,
    one: Constant<Bits<W2>>,
    one_n: Constant<Bits<N>>,
}

impl<const N: usize, const W2: usize> DrumMult<N, W2> {
    pub fn new(k: u32) -> Self {
        assert!(W2 == 2 * N && k >= 2 && k as usize <= N);
        Self {
            a: Default::default(),
            b: Default::default(),
            y: Default::default(),
            lead_a: Default::default(),
            lead_b: Default::default(),
            s_a: Default::default(),
            s_b: Default::default(),
            a_w: Default::default(),
            m_a: Default::default(),
            m_b: Default::default(),
            sum: std::array::from_fn(|_| Default::default()),
            row_shift: std::array::from_fn(|j| Constant::new(bits::<8>(j as u64))),
            k: Constant::new(bits::<8>(k as u64)),
            k_minus_1: Constant::new(bits::<8>(k as u64 - 1)),
            one: Constant::new(bits::<W2>(1)),
            one_n: Constant::new(bits::<N>(1)),
        }
    }
}

impl<const N: usize, const W2: usize> Logic for DrumMult<N, W2> {
    #[hdl_gen]
    fn update(&mut self) {
        // Leading-one positions (the highest set bit wins).
        self.lead_a.next = 0.into();
        self.lead_b.next = 0.into();
        for i in 0..N {
            if self.a.val().get_bit(i) {
                self.lead_a.next = i.to_bits::<8>();
            }
            if self.b.val().get_bit(i) {
                self.lead_b.next = i.to_bits::<8>();
            }
        }
        self.a_w.next = bit_cast::<W2, N>(self.a.val());
        self.s_a.next = 0.into();
        self.m_a.next = self.a_w.val();
        if self.lead_a.val() >= self.k.val() {
            self.s_a.next = self.lead_a.val() - self.k_minus_1.val();
            self.m_a.next = (self.a_w.val() >> self.s_a.val()) | self.one.val();
        }
        self.s_b.next = 0.into();
        self.m_b.next = self.b.val();
        if self.lead_b.val() >= self.k.val() {
            self.s_b.next = self.lead_b.val() - self.k_minus_1.val();
            self.m_b.next = (self.b.val() >> self.s_b.val()) | self.one_n.val();
        }
        // Mantissa product (at most k x k bits) by shift-add over the bits of m_b.
        self.sum[0].next = 0.into();
        if self.m_b.val().get_bit(0) {
            self.sum[0].next = self.m_a.val() << self.row_shift[0].val();
        }
        for i in 1..N {
            self.sum[i].next = self.sum[i - 1].val();
            if self.m_b.val().get_bit(i) {
                self.sum[i].next =
                    self.sum[i - 1].val() + (self.m_a.val() << self.row_shift[i].val());
            }
        }
        for i in 0..N {
            self.y.next = self.sum[i].val() << (self.s_a.val() + self.s_b.val());
            // last wins
        }
    }
}

/// Mitchell's logarithmic multiplier: leading-one detectors, fractions aligned to n-1 bits,
/// one adder, and the antilog as a shift of the mantissa.
#[derive(LogicBlock)]
pub struct MitchellMult<const N: usize, const W2: usize> {
    pub a: Signal<In, Bits<N>>,
    pub b: Signal<In, Bits<N>>,
    pub y: Signal<Out, Bits<W2>>,
    lead_a: Signal<Local, Bits<8>>,
    lead_b: Signal<Local, Bits<8>>,
    f_a: Signal<Local, Bits<N>>,
    f_b: Signal<Local, Bits<N>>,
    fsum: Signal<Local, Bits<W2>>,
    mant: Signal<Local, Bits<W2>>,
    e: Signal<Local, Bits<8>>,
    n_minus_1: Constant<Bits<8>>,
    frac_mask: Constant<Bits<N>>,
    half: Constant<Bits<W2>>,
}

impl<const N: usize, const W2: usize> Default for MitchellMult<N, W2> {
    fn default() -> Self {
        assert!(W2 == 2 * N);
        Self {
            a: Default::default(),
            b: Default::default(),
            y: Default::default(),
            lead_a: Default::default(),
            lead_b: Default::default(),
            f_a: Default::default(),
            f_b: Default::default(),
            fsum: Default::default(),
            mant: Default::default(),
            e: Default::default(),
            n_minus_1: Constant::new(bits::<8>(N as u64 - 1)),
            frac_mask: Constant::new(bits::<N>((1u64 << (N - 1)) - 1)),
            half: Constant::new(bits::<W2>(1u64 << (N - 1))),
        }
    }
}

impl<const N: usize, const W2: usize> Logic for MitchellMult<N, W2> {
    #[hdl_gen]
    fn update(&mut self) {
        self.lead_a.next = 0.into();
        self.lead_b.next = 0.into();
        for i in 0..N {
            if self.a.val().get_bit(i) {
                self.lead_a.next = i.to_bits::<8>();
            }
            if self.b.val().get_bit(i) {
                self.lead_b.next = i.to_bits::<8>();
            }
        }
        // Fractions: the bits below the leading one, left-aligned to n-1 bits.
        self.f_a.next =
            (self.a.val() << (self.n_minus_1.val() - self.lead_a.val())) & self.frac_mask.val();
        self.f_b.next =
            (self.b.val() << (self.n_minus_1.val() - self.lead_b.val())) & self.frac_mask.val();
        self.fsum.next = bit_cast::<W2, N>(self.f_a.val()) + bit_cast::<W2, N>(self.f_b.val());
        // Antilog mantissa: 1 + x1 + x2 below one, else 2 (x1 + x2) one exponent up.
        self.mant.next = self.fsum.val() << 1;
        if self.fsum.val() < self.half.val() {
            self.mant.next = self.half.val() + self.fsum.val();
        }
        self.e.next = self.lead_a.val() + self.lead_b.val();
        if self.e.val() >= self.n_minus_1.val() {
            self.y.next = self.mant.val() << (self.e.val() - self.n_minus_1.val());
        } else {
            self.y.next = self.mant.val() >> (self.n_minus_1.val() - self.e.val());
        }
        if !self.a.val().any() | !self.b.val().any() {
            self.y.next = 0.into();
        }
    }
}

/// Kulkarni: 2x2 blocks with 3x3 = 7 and exact adders. Per 2-bit digit of b the row is
/// 0, a, 2a, or 3a - 2 m3 where m3 marks a's digits equal to 3 (each loses 9 - 7 = 2).
#[derive(LogicBlock)]
pub struct KulkarniMult<const N: usize, const W2: usize, const D: usize> {
    pub a: Signal<In, Bits<N>>,
    pub b: Signal<In, Bits<N>>,
    pub y: Signal<Out, Bits<W2>>,
    a_w: Signal<Local, Bits<W2>>,
    b_w: Signal<Local, Bits<W2>>,
    m3: Signal<Local, Bits<W2>>,
    r3: Signal<Local, Bits<W2>>,
    b_digit: [Signal<Local, Bits<W2>>; D],
    row: [Signal<Local, Bits<W2>>; D],
    sum: [Signal<Local, Bits<W2>>; D],
    digit_shift: [Constant<Bits<8>>; D],
    low_bits: Constant<Bits<W2>>,
    one: Constant<Bits<W2>>,
    two: Constant<Bits<W2>>,
    three: Constant<Bits<W2>>,
}

impl<const N: usize, const W2: usize, const D: usize> Default for KulkarniMult<N, W2, D> {
    fn default() -> Self {
        assert!(W2 == 2 * N && D == N.div_ceil(2));
        let mut low = 0u64;
        for i in 0..D {
            low |= 1 << (2 * i);
        }
        Self {
            a: Default::default(),
            b: Default::default(),
            y: Default::default(),
            a_w: Default::default(),
            b_w: Default::default(),
            m3: Default::default(),
            r3: Default::default(),
            b_digit: std::array::from_fn(|_| Default::default()),
            row: std::array::from_fn(|_| Default::default()),
            sum: std::array::from_fn(|_| Default::default()),
            digit_shift: std::array::from_fn(|j| Constant::new(bits::<8>(2 * j as u64))),
            low_bits: Constant::new(bits::<W2>(low)),
            one: Constant::new(bits::<W2>(1)),
            two: Constant::new(bits::<W2>(2)),
            three: Constant::new(bits::<W2>(3)),
        }
    }
}

impl<const N: usize, const W2: usize, const D: usize> Logic for KulkarniMult<N, W2, D> {
    #[hdl_gen]
    fn update(&mut self) {
        self.a_w.next = bit_cast::<W2, N>(self.a.val());
        self.b_w.next = bit_cast::<W2, N>(self.b.val());
        self.m3.next = self.a_w.val() & (self.a_w.val() >> 1) & self.low_bits.val();
        self.r3.next = self.a_w.val() + (self.a_w.val() << 1) - (self.m3.val() << 1);
        for j in 0..D {
            // Digit j of b, compared whole (no unused bits for lint).
            self.b_digit[j].next = (self.b_w.val() >> self.digit_shift[j].val()) & self.three.val();
            self.row[j].next = 0.into();
            if self.b_digit[j].val() == self.one.val() {
                self.row[j].next = self.a_w.val();
            }
            if self.b_digit[j].val() == self.two.val() {
                self.row[j].next = self.a_w.val() << 1;
            }
            if self.b_digit[j].val() == self.three.val() {
                self.row[j].next = self.r3.val();
            }
        }
        self.sum[0].next = self.row[0].val();
        for j in 1..D {
            self.sum[j].next =
                self.sum[j - 1].val() + (self.row[j].val() << self.digit_shift[j].val());
        }
        for j in 0..D {
            self.y.next = self.sum[j].val(); // the last digit's sum wins
        }
    }
}

/// Widths with RTL instances.
pub const RTL_WIDTHS: [u32; 2] = [8, 16];

/// Module name of a multiplier's emitted top, e.g. `axm_drum_k6_u8`.
pub fn top_name(m: &Multiplier) -> String {
    format!("axm_{}_u{}", m.kind.slug(), m.width)
}

/// Emit the RTL of a built-in unsigned multiplier (widths 8 and 16).
pub fn emit(m: &Multiplier) -> Result<Design> {
    if m.signed {
        bail!(
            "RTL of signed (sign-magnitude) multipliers is not implemented; use the unsigned core"
        );
    }
    let name = top_name(m);
    let header = Header::new(
        &m.kind.slug(),
        &format!(
            "approximate multiplier {} ({}-bit unsigned operands, {}-bit product)",
            m.kind,
            m.width,
            2 * m.width
        ),
    );
    macro_rules! at {
        ($n:literal, $w2:literal, $d:literal) => {
            match m.kind {
                MultKind::Exact | MultKind::Trunc { .. } | MultKind::Bam { .. } => emit_block(
                    &mut MaskedArrayMult::<$n, $w2>::new(m.row_masks(), m.correction()),
                    &name,
                    &header,
                ),
                MultKind::Drum { k } => {
                    emit_block(&mut DrumMult::<$n, $w2>::new(k), &name, &header)
                }
                MultKind::Mitchell => {
                    emit_block(&mut MitchellMult::<$n, $w2>::default(), &name, &header)
                }
                MultKind::Kulkarni => {
                    emit_block(&mut KulkarniMult::<$n, $w2, $d>::default(), &name, &header)
                }
            }
        };
    }
    match m.width {
        8 => at!(8, 16, 4),
        16 => at!(16, 32, 8),
        w => bail!("RTL is instantiated for widths {RTL_WIDTHS:?}, not {w}"),
    }
}

/// The emitted design as one Verilog file (children before parents).
pub fn verilog_text(d: &Design) -> String {
    d.modules
        .iter()
        .map(|m| m.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}
