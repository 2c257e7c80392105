//! rust-hdl RTL of the built-in approximate multipliers (`crates/tetris-approx/src/models.rs` is their
//! oracle). All are combinational: `y = a (x) b` with n-bit operands and a 2n-bit product.
//!
//! Const parameters: N = operand width, W2 = 2N (no generic_const_exprs on stable), D = number
//! of 2-bit digits (Kulkarni). Every operand width of the models (2..=16) is instantiated by
//! [`with_block`]; `--signed` multipliers wrap the unsigned core in a sign-magnitude block.
//! No block uses `*`: rust-hdl only multiplies Bits<16> x Bits<16>, so products are shift-add arrays.

use anyhow::{bail, Context, Result};
use rust_hdl::prelude::*;
use std::path::Path;
use tetris_approx::models::Multiplier;
use tetris_approx::spec::MultKind;
use tetris_blocks_derive::BlockDefault;
use tetris_fs::{publish_dir, Existing};
use tetris_netlist::design::emit_block;
use tetris_netlist::design::{Design, Header};

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

/// Leading-one detector: `pos` is the index of the highest set bit of `x` (0 when x = 0).
#[derive(LogicBlock, Default)]
pub struct LeadingOne<const N: usize> {
    pub x: Signal<In, Bits<N>>,
    pub pos: Signal<Out, Bits<8>>,
}

impl<const N: usize> Logic for LeadingOne<N> {
    #[hdl_gen]
    fn update(&mut self) {
        self.pos.next = 0.into();
        for i in 0..N {
            if self.x.val().get_bit(i) {
                self.pos.next = i.to_bits::<8>(); // the highest set bit wins
            }
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
    /// The leading ones of `a` and `b`.
    lead: [LeadingOne<N>; 2],
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
            lead: Default::default(),
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
        // Leading-one positions.
        self.lead[0].x.next = self.a.val();
        self.lead[1].x.next = self.b.val();
        self.lead_a.next = self.lead[0].pos.val();
        self.lead_b.next = self.lead[1].pos.val();
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
#[derive(LogicBlock, BlockDefault)]
#[requires(W2 == 2 * N)]
pub struct MitchellMult<const N: usize, const W2: usize> {
    pub a: Signal<In, Bits<N>>,
    pub b: Signal<In, Bits<N>>,
    pub y: Signal<Out, Bits<W2>>,
    /// The leading ones of `a` and `b`.
    lead: [LeadingOne<N>; 2],
    lead_a: Signal<Local, Bits<8>>,
    lead_b: Signal<Local, Bits<8>>,
    f_a: Signal<Local, Bits<N>>,
    f_b: Signal<Local, Bits<N>>,
    fsum: Signal<Local, Bits<W2>>,
    mant: Signal<Local, Bits<W2>>,
    e: Signal<Local, Bits<8>>,
    #[init(Constant::new(bits::<8>(N as u64 - 1)))]
    n_minus_1: Constant<Bits<8>>,
    #[init(Constant::new(bits::<N>((1u64 << (N - 1)) - 1)))]
    frac_mask: Constant<Bits<N>>,
    #[init(Constant::new(bits::<W2>(1u64 << (N - 1))))]
    half: Constant<Bits<W2>>,
}

impl<const N: usize, const W2: usize> Logic for MitchellMult<N, W2> {
    #[hdl_gen]
    fn update(&mut self) {
        self.lead[0].x.next = self.a.val();
        self.lead[1].x.next = self.b.val();
        self.lead_a.next = self.lead[0].pos.val();
        self.lead_b.next = self.lead[1].pos.val();
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
#[derive(LogicBlock, BlockDefault)]
#[requires(W2 == 2 * N && D == N.div_ceil(2))]
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
    #[init(std::array::from_fn(|j| Constant::new(bits::<8>(2 * j as u64))))]
    digit_shift: [Constant<Bits<8>>; D],
    /// The low bit of every digit: 0b0101...01.
    #[init(Constant::new(bits::<W2>((0..D).map(|i| 1u64 << (2 * i)).sum())))]
    low_bits: Constant<Bits<W2>>,
    #[init(Constant::new(bits::<W2>(1)))]
    one: Constant<Bits<W2>>,
    #[init(Constant::new(bits::<W2>(2)))]
    two: Constant<Bits<W2>>,
    #[init(Constant::new(bits::<W2>(3)))]
    three: Constant<Bits<W2>>,
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

/// The sign-magnitude wrapper of `crates/tetris-approx/src/models.rs` around an unsigned core, as rust-hdl:
/// two's-complement n-bit operands, |a| and |b| into the core (the most negative value
/// -2^(n-1) becomes the magnitude 2^(n-1), which fits the core's n-bit unsigned input),
/// product negated (mod 2^(2n)) when exactly one operand is negative. The 2n-bit output is
/// two's complement. One struct per core type: hdl_gen needs the core's concrete fields.
macro_rules! sign_magnitude_wrapper {
    ($(#[$doc:meta])* $name:ident, $core:ident $(, $extra:ident)*) => {
        $(#[$doc])*
        #[derive(LogicBlock)]
        pub struct $name<const N: usize, const W2: usize $(, const $extra: usize)*> {
            pub a: Signal<In, Bits<N>>,
            pub b: Signal<In, Bits<N>>,
            pub y: Signal<Out, Bits<W2>>,
            pub core: $core<N, W2 $(, $extra)*>,
            neg_a: Signal<Local, Bit>,
            neg_b: Signal<Local, Bit>,
            /// 2^(n-1): the smallest negative operand pattern.
            sign_min: Constant<Bits<N>>,
            zero_n: Constant<Bits<N>>,
            zero_w: Constant<Bits<W2>>,
        }

        impl<const N: usize, const W2: usize $(, const $extra: usize)*> $name<N, W2 $(, $extra)*> {
            pub fn new(core: $core<N, W2 $(, $extra)*>) -> Self {
                Self {
                    a: Default::default(),
                    b: Default::default(),
                    y: Default::default(),
                    core,
                    neg_a: Default::default(),
                    neg_b: Default::default(),
                    sign_min: Constant::new(bits::<N>(1u64 << (N - 1))),
                    zero_n: Constant::new(bits::<N>(0)),
                    zero_w: Constant::new(bits::<W2>(0)),
                }
            }
        }

        impl<const N: usize, const W2: usize $(, const $extra: usize)*> Logic
            for $name<N, W2 $(, $extra)*>
        {
            #[hdl_gen]
            fn update(&mut self) {
                self.neg_a.next = self.a.val() >= self.sign_min.val();
                self.neg_b.next = self.b.val() >= self.sign_min.val();
                self.core.a.next = self.a.val();
                if self.neg_a.val() {
                    self.core.a.next = self.zero_n.val() - self.a.val();
                }
                self.core.b.next = self.b.val();
                if self.neg_b.val() {
                    self.core.b.next = self.zero_n.val() - self.b.val();
                }
                self.y.next = self.core.y.val();
                if self.neg_a.val() ^ self.neg_b.val() {
                    self.y.next = self.zero_w.val() - self.core.y.val();
                }
            }
        }
    };
}

sign_magnitude_wrapper!(
    /// Signed exact / truncated / broken-array multiplier.
    SignedMaskedArrayMult, MaskedArrayMult
);
sign_magnitude_wrapper!(
    /// Signed DRUM(k).
    SignedDrumMult, DrumMult
);
sign_magnitude_wrapper!(
    /// Signed Mitchell.
    SignedMitchellMult, MitchellMult
);
sign_magnitude_wrapper!(
    /// Signed Kulkarni.
    SignedKulkarniMult, KulkarniMult, D
);

/// Operand and product ports of every multiplier block, for simulation drivers.
pub trait MultPorts: Block {
    fn set_operands(&mut self, a: u64, b: u64);
    /// The product's bit pattern.
    fn product(&self) -> u64;
}

macro_rules! mult_ports {
    ($($block:ident $(, $extra:ident)*);*) => {$(
        impl<const N: usize, const W2: usize $(, const $extra: usize)*> MultPorts
            for $block<N, W2 $(, $extra)*>
        {
            fn set_operands(&mut self, a: u64, b: u64) {
                self.a.next = bits::<N>(a);
                self.b.next = bits::<N>(b);
            }
            fn product(&self) -> u64 {
                self.y.val().to_u64()
            }
        }
    )*};
}

mult_ports!(MaskedArrayMult; DrumMult; MitchellMult; KulkarniMult, D;
    SignedMaskedArrayMult; SignedDrumMult; SignedMitchellMult; SignedKulkarniMult, D);

/// Something done with the block of one multiplier, whatever its widths (rust-hdl widths are
/// const generics: [`with_block`] picks the instance).
pub trait MultVisitor {
    type Out;
    fn visit<B: MultPorts>(self, block: B) -> Self::Out;
}

/// Operand widths with RTL instances: every width of the models.
pub const RTL_WIDTHS: std::ops::RangeInclusive<u32> =
    tetris_approx::spec::MIN_WIDTH..=tetris_approx::spec::MAX_WIDTH;

/// Build the block of `m` (unsigned core, or the sign-magnitude wrapper around it when
/// `m.signed`) at its width and hand it to `v`.
pub fn with_block<V: MultVisitor>(m: &Multiplier, v: V) -> Result<V::Out> {
    check_product_fits(m)?;
    // N operand bits, W2 = 2N product bits, D = ceil(N / 2) Kulkarni digits.
    macro_rules! at {
        ($n:literal, $w2:literal, $d:literal) => {{
            type Masked = MaskedArrayMult<$n, $w2>;
            let masked = || Masked::new(m.row_masks(), m.correction());
            Ok(match (m.kind, m.signed) {
                (MultKind::Exact | MultKind::Trunc { .. } | MultKind::Bam { .. }, false) => {
                    v.visit(masked())
                }
                (MultKind::Exact | MultKind::Trunc { .. } | MultKind::Bam { .. }, true) => {
                    v.visit(SignedMaskedArrayMult::new(masked()))
                }
                (MultKind::Drum { k }, false) => v.visit(DrumMult::<$n, $w2>::new(k)),
                (MultKind::Drum { k }, true) => {
                    v.visit(SignedDrumMult::new(DrumMult::<$n, $w2>::new(k)))
                }
                (MultKind::Mitchell, false) => v.visit(MitchellMult::<$n, $w2>::default()),
                (MultKind::Mitchell, true) => {
                    v.visit(SignedMitchellMult::new(MitchellMult::<$n, $w2>::default()))
                }
                (MultKind::Kulkarni, false) => v.visit(KulkarniMult::<$n, $w2, $d>::default()),
                (MultKind::Kulkarni, true) => {
                    v.visit(SignedKulkarniMult::new(
                        KulkarniMult::<$n, $w2, $d>::default(),
                    ))
                }
            })
        }};
    }
    match m.width {
        2 => at!(2, 4, 1),
        3 => at!(3, 6, 2),
        4 => at!(4, 8, 2),
        5 => at!(5, 10, 3),
        6 => at!(6, 12, 3),
        7 => at!(7, 14, 4),
        8 => at!(8, 16, 4),
        9 => at!(9, 18, 5),
        10 => at!(10, 20, 5),
        11 => at!(11, 22, 6),
        12 => at!(12, 24, 6),
        13 => at!(13, 26, 7),
        14 => at!(14, 28, 7),
        15 => at!(15, 30, 8),
        16 => at!(16, 32, 8),
        w => bail!("RTL exists for operand widths {RTL_WIDTHS:?}, not {w}"),
    }
}

/// The largest product magnitude the model's unsigned core returns for the operands the RTL
/// feeds it (all n-bit patterns; magnitudes up to 2^(n-1) when signed). Exact, truncated and
/// broken-array products only grow when an operand bit is set, and DRUM's rounded operands
/// grow with the operands, so their maximum sits at the largest operands (signed: 2^(n-1) or
/// the all-ones 2^(n-1) - 1, which covers every smaller magnitude bit by bit); Mitchell and
/// Kulkarni never exceed the exact product, which the same candidates bound.
pub fn max_core_product(m: &Multiplier) -> u64 {
    let n = m.width;
    let cands: Vec<u32> = if m.signed {
        vec![1 << (n - 1), (1 << (n - 1)) - 1]
    } else {
        vec![(1 << n) - 1]
    };
    let exact_max = cands.iter().map(|&c| c as u64).max().unwrap_or(0).pow(2);
    cands
        .iter()
        .flat_map(|&a| cands.iter().map(move |&b| (a, b)))
        .map(|(a, b)| m.core(a, b))
        .max()
        .unwrap_or(0)
        .max(exact_max)
}

/// The RTL has a 2n-bit product (two's complement when signed); refuse multipliers whose model
/// products need more (e.g. `trunc:t=16,corr` at 8 bits: the correction alone is 245760).
pub fn check_product_fits(m: &Multiplier) -> Result<()> {
    let w2 = 2 * m.width;
    let limit = if m.signed {
        (1u64 << (w2 - 1)) - 1
    } else {
        (1u64 << w2) - 1
    };
    let max = max_core_product(m);
    if max > limit {
        bail!(
            "{} at --width {}{}: the model's products reach {max}, beyond the RTL's {w2}-bit {} product (max {limit})",
            m.kind,
            m.width,
            if m.signed { " --signed" } else { "" },
            if m.signed { "signed" } else { "unsigned" }
        );
    }
    Ok(())
}

/// Module name of a multiplier's emitted top, e.g. `axm_drum_k6_u8` or `axm_mitchell_s12`.
pub fn top_name(m: &Multiplier) -> String {
    format!(
        "axm_{}_{}{}",
        m.kind.slug(),
        if m.signed { "s" } else { "u" },
        m.width
    )
}

/// Emit the RTL of a built-in multiplier (any width of the models, unsigned or signed).
pub fn emit(m: &Multiplier) -> Result<Design> {
    struct Emit {
        name: String,
        header: Header,
    }
    impl MultVisitor for Emit {
        type Out = Result<Design>;
        fn visit<B: MultPorts>(self, mut block: B) -> Result<Design> {
            emit_block(&mut block, &self.name, &self.header)
        }
    }
    let header = Header::new(
        &m.kind.slug(),
        &format!(
            "approximate multiplier {} ({}-bit {} operands, {}-bit {} product){}",
            m.kind,
            m.width,
            if m.signed {
                "two's-complement"
            } else {
                "unsigned"
            },
            2 * m.width,
            if m.signed {
                "two's-complement"
            } else {
                "unsigned"
            },
            if m.signed {
                "; sign-magnitude wrapper around the unsigned core"
            } else {
                ""
            }
        ),
    );
    with_block(
        m,
        Emit {
            name: top_name(m),
            header,
        },
    )?
}

/// Run the rust-hdl block of `m` in-process on `pairs` (operand bit patterns) and return the
/// products as values (two's complement when signed), like `Multiplier::eval`.
pub fn simulate_products(m: &Multiplier, pairs: &[(u32, u32)]) -> Result<Vec<i64>> {
    struct Sim<'a> {
        pairs: &'a [(u32, u32)],
        out_bits: u32,
        signed: bool,
    }
    impl MultVisitor for Sim<'_> {
        type Out = Result<Vec<i64>>;
        fn visit<B: MultPorts>(self, mut block: B) -> Result<Vec<i64>> {
            block.connect_all();
            let sh = 64 - self.out_bits;
            let mut out = Vec::with_capacity(self.pairs.len());
            for &(a, b) in self.pairs {
                block.set_operands(a as u64, b as u64);
                if !simulate(&mut block, 1000) {
                    bail!("rust-hdl simulation did not settle at a={a} b={b}");
                }
                let y = block.product() << sh;
                out.push(if self.signed {
                    (y as i64) >> sh
                } else {
                    (y >> sh) as i64
                });
            }
            Ok(out)
        }
    }
    with_block(
        m,
        Sim {
            pairs,
            out_bits: 2 * m.width,
            signed: m.signed,
        },
    )?
}

/// Write an emitted design into `dir` atomically: `<module>.v` per module, `files.f` (children
/// first), as `tetris gen` lays out its `rtl/`.
pub fn write_rtl_dir(dir: &Path, d: &Design, existing: Existing) -> Result<()> {
    publish_dir(dir, existing, |tmp| d.write_files(tmp, "").map(drop))
        .map(|_| ())
        .with_context(|| format!("cannot write the RTL into {}", dir.display()))
}

/// The emitted design as one Verilog file (children before parents).
pub fn verilog_text(d: &Design) -> String {
    d.modules
        .iter()
        .map(|m| m.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}
