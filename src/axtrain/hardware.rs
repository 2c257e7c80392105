//! The approximate multiplier as a quantized network sees it: an activation (unsigned byte)
//! times a weight (sign-magnitude byte), from a built-in bit-exact model or a LUT file, with
//! optional timing errors.
//!
//! Sign convention (the project's, `crates/tetris-approx/src/models.rs`): an *unsigned* n-bit multiplier gets
//! the activation a in 0..=255 and the weight's magnitude |w| <= 127; the product takes the
//! weight's sign (sign-magnitude weights, as the Tetris PE stores them). A *signed* multiplier
//! (built-in `--signed`, or a signed LUT) gets both operands as two's-complement bytes, so
//! activations are quantized to 0..=127 and the multiplier's own sign-magnitude wrapper
//! handles the weight's sign.
//!
//! Operand roles are explicit: [`ActOperand`] says which multiplier operand (a = the LUT row,
//! the high byte of the TFApprox index; b = the column, the low byte) takes the activation.

use crate::noise::lut::Lut8;
use crate::noise::metrics::{bit_len, Acc};
use crate::noise::models::Multiplier;
use crate::noise::timing::{BitDepths, Flipper, TimingModel};
use anyhow::{bail, Result};
use std::path::Path;

/// Which multiplier operand takes the activation (the other takes the weight): the same
/// choice as `tetris noise-profile --activation`.
pub use crate::noise::lut::ActivationOperand as ActOperand;

/// Where the products come from.
#[derive(Clone)]
pub enum Source {
    Model(Multiplier),
    Lut(std::sync::Arc<Lut8>),
}

/// Largest weight magnitude (symmetric 8-bit quantization, as `tetris knead`).
pub const WEIGHT_QMAX: i64 = 127;

/// An 8-bit approximate multiplier ready for inference: `products[w_code << 8 | a]` with
/// `w_code` the weight's two's-complement byte, so one weight's 256 products are contiguous.
#[derive(Clone)]
pub struct Hardware {
    /// Spec string or LUT file name, plus `+timing(...)` when timing errors are on.
    pub name: String,
    pub signed: bool,
    pub act_operand: ActOperand,
    /// Largest activation code: 255 for an unsigned multiplier, 127 for a signed one.
    pub act_max: u32,
    pub source: Source,
    products: Vec<i32>,
    /// Timing errors, flipping bits of the multiplier's output port (16 bits).
    pub timing: Option<(TimingModel, Flipper)>,
}

impl std::fmt::Debug for Hardware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hardware({})", self.name)
    }
}

impl Hardware {
    /// A built-in multiplier (8-bit operands).
    pub fn from_spec(spec: &str, signed: bool, act: ActOperand) -> Result<Self> {
        let m = Multiplier::from_spec(spec, 8, signed)?;
        Self::build(m.kind.to_string(), signed, act, Source::Model(m))
    }

    /// A LUT file (`--lut-bin` / `--lut-npy` of `tetris noise-profile` or `tetris characterize`).
    /// Those tables are indexed `[activation][weight]` whichever port took the activation when
    /// they were written, so the rows are the activation operand.
    pub fn from_lut(path: &Path, signed: bool) -> Result<Self> {
        let act = ActOperand::A;
        let lut = Lut8::read(path, signed)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self::build(
            format!("lut:{name}"),
            signed,
            act,
            Source::Lut(std::sync::Arc::new(lut)),
        )
    }

    fn build(name: String, signed: bool, act: ActOperand, source: Source) -> Result<Self> {
        let mut hw = Hardware {
            name,
            signed,
            act_operand: act,
            act_max: if signed { 127 } else { 255 },
            source,
            products: vec![0; 1 << 16],
            timing: None,
        };
        for wc in 0..256u32 {
            let w = wc as u8 as i8 as i64;
            for a in 0..256u32 {
                let p = hw.product_direct(a, w);
                if p < i32::MIN as i64 || p > i32::MAX as i64 {
                    bail!(
                        "{}: product {p} of activation {a} and weight {w} does not fit 32 bits",
                        hw.name
                    );
                }
                hw.products[((wc as usize) << 8) | a as usize] = p as i32;
            }
        }
        Ok(hw)
    }

    /// Add timing errors (the `--timing` model of `tetris noise-profile`, static ripple depths
    /// of the 16-bit product port).
    pub fn with_timing(mut self, params: &str) -> Result<Self> {
        let tm = TimingModel::parse(params)?;
        let flip = tm.flipper(&BitDepths::static_ripple(16).full_adder_delays);
        self.name = format!("{}+timing({params})", self.name);
        self.timing = Some((tm, flip));
        Ok(self)
    }

    /// The multiplier's output for operand patterns (x on port a, y on port b).
    fn port(&self, x: u32, y: u32) -> i64 {
        match &self.source {
            Source::Model(m) => m.eval(x, y),
            Source::Lut(l) => l.get(x, y),
        }
    }

    /// One product computed from the multiplier itself (its model or its LUT), by the sign
    /// convention above: the independent path the table is checked against.
    pub fn product_direct(&self, a: u32, w: i64) -> i64 {
        let (x, y, sign) = if self.signed {
            (a & 255, (w as i8 as u8) as u32, 1)
        } else {
            (
                a & 255,
                w.unsigned_abs() as u32 & 255,
                if w < 0 { -1 } else { 1 },
            )
        };
        let p = match self.act_operand {
            ActOperand::A => self.port(x, y),
            ActOperand::B => self.port(y, x),
        };
        sign * p
    }

    /// All products, `[w_code << 8 | a]`.
    #[inline(always)]
    pub fn table(&self) -> &[i32] {
        &self.products
    }

    /// The 256 products of one weight (indexed by the activation code).
    #[inline(always)]
    pub fn row(&self, w: i8) -> &[i32] {
        let o = (w as u8 as usize) << 8;
        &self.products[o..o + 256]
    }

    /// Product with timing errors for one multiply; `draw` must differ per multiply.
    #[inline(always)]
    pub fn product_timed(&self, flip: &Flipper, draw: u64, a: u8, w: i8) -> i64 {
        let p = self.row(w)[a as usize] as i64;
        if self.signed {
            flip.apply_hashed(draw, p, true)
        } else {
            // The port outputs the unsigned core product; the sign is applied after it.
            let core = if w < 0 { -p } else { p };
            let f = flip.apply_hashed(draw, core, false);
            if w < 0 {
                -f
            } else {
                f
            }
        }
    }

    /// Error statistics over every product the network can produce, by weight magnitude
    /// (activation 0..=act_max, |weight| 0..=127; a negative weight's product is the negated
    /// product of its magnitude under the sign-magnitude convention), in the noise engine's
    /// accumulator: EvoApprox metrics and the by-magnitude table (row = bit length of the
    /// activation, column = of |weight|). With timing errors, each pair gets one seeded draw.
    pub fn characterize(&self) -> Acc {
        let mut acc = Acc::new(8);
        for a in 0..=self.act_max {
            for w in 0..=WEIGHT_QMAX as u32 {
                let p = match &self.timing {
                    Some((_, f)) => {
                        self.product_timed(f, ((a as u64) << 16) | w as u64, a as u8, w as i8)
                    }
                    None => self.row(w as i8)[a as usize] as i64,
                };
                let (la, lw) = (bit_len(a as u64), bit_len(w as u64));
                acc.add_pair((a, w), la, lw, a as i64 * w as i64, p);
            }
        }
        acc
    }
}
