//! From a runtime config to the const-generic blocks.
//!
//! rust-hdl widths are const generics, so only a fixed set of configs can be instantiated; this
//! is the one list of them. A caller implements [`PeVisitor`] (a generic method per PE kind)
//! and [`dispatch`] calls it with the config's widths, or returns a clear error naming the
//! fields and the supported values.

use crate::config::{Config, PeKind};
use crate::model::encoding::Encoding;
use anyhow::{bail, Result};

/// Compile-time widths of one supported configuration.
/// W weight bits, A activation bits, L lanes, KS kneading stride, P pointer bits,
/// SEG segment bits, RES result bits.
pub trait PeVisitor {
    type Out;
    #[allow(clippy::too_many_arguments)]
    fn sac<
        const W: usize,
        const A: usize,
        const L: usize,
        const KS: usize,
        const P: usize,
        const SEG: usize,
        const RES: usize,
    >(
        self,
        csd: bool,
    ) -> Self::Out;
    fn mac<const W: usize, const A: usize, const RES: usize>(self) -> Self::Out;
}

/// Weight/activation widths `gen` can instantiate (weight_bits = act_bits).
pub const SUPPORTED_BITS: [u32; 3] = [4, 8, 16];
/// Kneading strides `gen` can instantiate.
pub const SUPPORTED_KS: [u32; 3] = [4, 8, 16];
/// Supported ceil(log2(max_dot_len)): max_dot_len in 4097..=8192 (the default is 4608).
pub const SUPPORTED_DOT_LEN_BITS: [u32; 1] = [13];

/// Check that `cfg` is instantiable; the error names every offending field.
pub fn check_supported(cfg: &Config) -> Result<()> {
    let w = cfg.widths();
    let mut bad = vec![];
    if !SUPPORTED_BITS.contains(&cfg.pe.weight_bits) {
        bad.push(format!(
            "pe.weight_bits = {} (supported: {:?})",
            cfg.pe.weight_bits, SUPPORTED_BITS
        ));
    }
    if cfg.pe.act_bits != cfg.pe.weight_bits {
        bad.push(format!(
            "pe.act_bits = {} (supported: equal to pe.weight_bits)",
            cfg.pe.act_bits
        ));
    }
    if cfg.pe.kind == PeKind::Sac && !SUPPORTED_KS.contains(&cfg.pe.ks) {
        bad.push(format!(
            "pe.ks = {} (supported: {:?})",
            cfg.pe.ks, SUPPORTED_KS
        ));
    }
    if !SUPPORTED_DOT_LEN_BITS.contains(&w.dot_len_bits) {
        bad.push(format!(
            "pe.max_dot_len = {} (supported: 4097..=8192, i.e. ceil(log2) in {:?})",
            cfg.pe.max_dot_len, SUPPORTED_DOT_LEN_BITS
        ));
    }
    if !bad.is_empty() {
        bail!(
            "this config cannot be generated: the RTL widths are compile-time constants and only a \
             fixed set is built in (src/hdl/select.rs); unsupported: {}",
            bad.join("; ")
        );
    }
    Ok(())
}

macro_rules! sac_arm {
    ($v:expr, $csd:expr, $w:literal, $ks:literal, $p:literal, $dlb:literal) => {
        if $csd {
            $v.sac::<$w, $w, $w, $ks, $p, { $w + $dlb + 1 }, { $w + $w - 1 + $dlb }>(true)
        } else {
            $v.sac::<$w, $w, { $w - 1 }, $ks, $p, { $w + $dlb + 1 }, { $w + $w - 1 + $dlb }>(false)
        }
    };
}

/// Call the visitor with the compile-time widths of `cfg` (after [`check_supported`]).
pub fn dispatch<V: PeVisitor>(cfg: &Config, v: V) -> Result<V::Out> {
    check_supported(cfg)?;
    let csd = cfg.pe.encoding == Encoding::Csd;
    let w = cfg.pe.weight_bits;
    let out = match cfg.pe.kind {
        PeKind::Mac => match w {
            4 => v.mac::<4, 4, { 4 + 3 + 13 }>(),
            8 => v.mac::<8, 8, { 8 + 7 + 13 }>(),
            _ => v.mac::<16, 16, { 16 + 15 + 13 }>(),
        },
        PeKind::Sac => match (w, cfg.pe.ks) {
            (4, 4) => sac_arm!(v, csd, 4, 4, 2, 13),
            (4, 8) => sac_arm!(v, csd, 4, 8, 3, 13),
            (4, _) => sac_arm!(v, csd, 4, 16, 4, 13),
            (8, 4) => sac_arm!(v, csd, 8, 4, 2, 13),
            (8, 8) => sac_arm!(v, csd, 8, 8, 3, 13),
            (8, _) => sac_arm!(v, csd, 8, 16, 4, 13),
            (16, 4) => sac_arm!(v, csd, 16, 4, 2, 13),
            (16, 8) => sac_arm!(v, csd, 16, 8, 3, 13),
            (_, _) => sac_arm!(v, csd, 16, 16, 4, 13),
        },
    };
    Ok(out)
}
