//! From a runtime config to the const-generic blocks.
//!
//! rust-hdl widths are const generics, so a width set must be compiled before it can be
//! instantiated. Two sources of compiled width sets, one lookup:
//! - the **built-in** table below (the common cases: equal 4/8/16-bit weights and activations
//!   and the mixed 4w/8a and 8w/16a, `ks` in {4, 8, 16}, `max_dot_len` in 4097..=8192);
//! - **specializations** registered at start-up by a binary that `tetris` builds on demand for
//!   any other valid config (`crate::specialize`, docs/rtl.md "Any width").
//!
//! A caller implements [`PeVisitor`] (a generic method per PE kind) and [`dispatch`] calls it
//! with the config's widths, or fails with [`NotBuiltIn`] (which the CLI turns into a
//! specialization build and a re-exec).

use crate::config::{Config, PeKind};
use crate::model::encoding::Encoding;
use anyhow::{Context, Result};
use std::sync::OnceLock;

/// Compile-time widths of one configuration.
/// W weight bits, A activation bits, L lanes, KS kneading stride, P pointer bits,
/// SEG segment bits, RES result bits.
pub trait PeVisitor: Sized {
    type Out;
    crate::sac_method!(fn sac(self, csd) -> Self::Out;);
    /// The MAC PE (`KS`, `P`: the activation group of the MAC array cell).
    fn mac<const W: usize, const A: usize, const KS: usize, const P: usize, const RES: usize>(
        self,
    ) -> Self::Out;
    /// Run `self` on a width set compiled in a specialization: `s.<this visitor's method>(self, kind)`.
    fn specialized(self, s: &dyn Specialized, kind: PeKind) -> Self::Out;
}

/// Writes a visitor's [`PeVisitor::sac`] with the width set's const generics in scope as
/// `W, A, L, KS, P, SEG, RES`, so the seven-generic signature is spelled once:
/// `sac_method!(fn sac(self, csd) -> Self::Out { ... });`
#[macro_export]
macro_rules! sac_method {
    // The declaration, in the trait.
    (fn sac($self:ident, $csd:ident) -> $out:ty;) => {
        $crate::sac_method!(@sig $self, $csd, $out, ;);
    };
    (fn sac($self:ident, $csd:ident) -> $out:ty $body:block) => {
        $crate::sac_method!(@sig $self, $csd, $out, $body);
    };
    (@sig $self:ident, $csd:ident, $out:ty, $($tail:tt)*) => {
        fn sac<
            const W: usize,
            const A: usize,
            const L: usize,
            const KS: usize,
            const P: usize,
            const SEG: usize,
            const RES: usize,
        >(
            $self,
            $csd: bool,
        ) -> $out $($tail)*
    };
}

/// What selects a compiled width set: every other width derives from these
/// (`Config::widths`). `csd` picks the lane count of the SAC PE (the MAC ignores it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WidthKey {
    pub weight_bits: u32,
    pub act_bits: u32,
    pub ks: u32,
    pub dot_len_bits: u32,
    pub csd: bool,
}

impl WidthKey {
    pub fn of(cfg: &Config) -> WidthKey {
        WidthKey {
            weight_bits: cfg.pe.weight_bits,
            act_bits: cfg.pe.act_bits,
            ks: cfg.pe.ks,
            dot_len_bits: cfg.widths().dot_len_bits,
            csd: cfg.pe.encoding == Encoding::Csd,
        }
    }

    /// Whether a width set compiled for `self` serves `want` for a PE of `kind` (a MAC needs
    /// no lane count, so either encoding's set serves it).
    pub fn serves(&self, want: &WidthKey, kind: PeKind) -> bool {
        self == want
            || (kind == PeKind::Mac
                && WidthKey {
                    csd: self.csd,
                    ..*want
                } == *self)
    }

    /// The const generics of this key, in [`Widths`] order: W, A, L, KS, P, SEG, RES.
    pub fn generics(&self) -> [u32; 7] {
        let (w, a) = (self.weight_bits, self.act_bits);
        let lanes = if self.csd { w } else { w - 1 };
        let ptr = crate::config::ceil_log2(self.ks as u64).max(1);
        [
            w,
            a,
            lanes,
            self.ks,
            ptr,
            a + self
                .dot_len_bits
                .min(crate::config::ceil_log2(self.ks as u64))
                + 1,
            a + w - 1 + self.dot_len_bits,
        ]
    }

    /// A short name for file names and messages: `w12a8k5d13csd`.
    pub fn tag(&self) -> String {
        format!(
            "w{}a{}k{}d{}{}",
            self.weight_bits,
            self.act_bits,
            self.ks,
            self.dot_len_bits,
            if self.csd { "csd" } else { "sm" }
        )
    }
}

/// Built-in (weight_bits, act_bits) pairs: equal widths, and the mixed cases of today's
/// quantized networks (4-bit weights with 8-bit activations, 8-bit weights with 16-bit ones).
pub const BUILTIN_BITS: [(u32, u32); 5] = [(4, 4), (8, 8), (16, 16), (4, 8), (8, 16)];
/// Equal weight/activation widths of the built-in set (tests sweep these).
pub const SUPPORTED_BITS: [u32; 3] = [4, 8, 16];
/// Built-in kneading strides.
pub const SUPPORTED_KS: [u32; 3] = [4, 8, 16];
/// Built-in ceil(log2(max_dot_len)): max_dot_len in 4097..=8192 (the default is 4608).
pub const SUPPORTED_DOT_LEN_BITS: [u32; 1] = [13];

/// Whether `key` is in the built-in table.
pub fn is_builtin(key: &WidthKey) -> bool {
    BUILTIN_BITS.contains(&(key.weight_bits, key.act_bits))
        && SUPPORTED_KS.contains(&key.ks)
        && SUPPORTED_DOT_LEN_BITS.contains(&key.dot_len_bits)
}

/// The config needs a width set this binary does not have. Displayed as the fields that are
/// outside the built-in set; `crate::cli::main` builds a specialization for it.
#[derive(Debug, Clone)]
pub struct NotBuiltIn {
    pub key: WidthKey,
    pub kind: PeKind,
    pub max_dot_len: u32,
}

impl std::fmt::Display for NotBuiltIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let k = &self.key;
        let mut bad = vec![];
        if !BUILTIN_BITS.contains(&(k.weight_bits, k.act_bits)) {
            bad.push(format!(
                "pe.weight_bits = {}, pe.act_bits = {} (built in: (weight, act) in {BUILTIN_BITS:?})",
                k.weight_bits, k.act_bits
            ));
        }
        if !SUPPORTED_KS.contains(&k.ks) {
            bad.push(format!("pe.ks = {} (built in: {SUPPORTED_KS:?})", k.ks));
        }
        if !SUPPORTED_DOT_LEN_BITS.contains(&k.dot_len_bits) {
            bad.push(format!(
                "pe.max_dot_len = {} (built in: 4097..=8192)",
                self.max_dot_len
            ));
        }
        write!(
            f,
            "the RTL widths are compile-time constants and this binary does not have width set {} \
             (src/flow/select.rs; `tetris specialize` builds one); outside the built-in set: {}",
            k.tag(),
            bad.join("; ")
        )
    }
}

impl std::error::Error for NotBuiltIn {}

/// Width sets registered by a specialization binary (its `main` calls [`register`]).
static REGISTERED: OnceLock<Vec<&'static dyn Specialized>> = OnceLock::new();

/// Register the width sets compiled into this binary (once, before any dispatch).
pub fn register(sets: Vec<&'static dyn Specialized>) {
    let _ = REGISTERED.set(sets);
}

/// The keys registered by [`register`] (empty in the plain `tetris` binary).
pub fn registered_keys() -> Vec<WidthKey> {
    REGISTERED
        .get()
        .map(|v| v.iter().map(|s| s.key()).collect())
        .unwrap_or_default()
}

fn find_registered(key: &WidthKey, kind: PeKind) -> Option<&'static dyn Specialized> {
    REGISTERED
        .get()?
        .iter()
        .copied()
        .find(|s| s.key().serves(key, kind))
}

/// Check that `cfg` can be instantiated by this binary; else a [`NotBuiltIn`] error.
pub fn check_supported(cfg: &Config) -> Result<()> {
    let key = WidthKey::of(cfg);
    if is_builtin(&key) || find_registered(&key, cfg.pe.kind).is_some() {
        return Ok(());
    }
    Err(NotBuiltIn {
        key,
        kind: cfg.pe.kind,
        max_dot_len: cfg.pe.max_dot_len,
    }
    .into())
}

/// [`check_supported`], the error prefixed by `origin` (the config file) and still a
/// [`NotBuiltIn`] underneath (the CLI looks for it to build a specialization).
pub fn check_config(cfg: &Config, origin: &str) -> Result<()> {
    check_supported(cfg).with_context(|| origin.to_string())
}

/// Call the visitor of the PE kind `cfg.pe.kind` with the compile-time widths of `cfg`.
pub fn dispatch<V: PeVisitor>(cfg: &Config, v: V) -> Result<V::Out> {
    let key = WidthKey::of(cfg);
    let kind = cfg.pe.kind;
    let v = match builtin(&key, kind, v) {
        Ok(out) => return Ok(out),
        Err(v) => v,
    };
    match find_registered(&key, kind) {
        Some(s) => Ok(v.specialized(s, kind)),
        None => {
            check_supported(cfg)?;
            unreachable!("check_supported fails when no width set is found")
        }
    }
}

/// The visitor method of `kind` at one width set.
pub fn visit<
    V: PeVisitor,
    const W: usize,
    const A: usize,
    const L: usize,
    const KS: usize,
    const P: usize,
    const SEG: usize,
    const RES: usize,
>(
    v: V,
    kind: PeKind,
) -> V::Out {
    match kind {
        PeKind::Sac => v.sac::<W, A, L, KS, P, SEG, RES>(L == W),
        PeKind::Mac => v.mac::<W, A, KS, P, RES>(),
    }
}

/// The built-in table: `Ok(out)` when `key` is in it, else the visitor back.
fn builtin<V: PeVisitor>(key: &WidthKey, kind: PeKind, v: V) -> Result<V::Out, V> {
    macro_rules! arm {
        ($w:literal, $a:literal, $ks:literal, $p:literal) => {
            if (key.weight_bits, key.act_bits, key.ks, key.dot_len_bits) == ($w, $a, $ks, 13) {
                return Ok(if key.csd {
                    visit::<V, $w, $a, $w, $ks, $p, { $a + $p + 1 }, { $a + $w - 1 + 13 }>(v, kind)
                } else {
                    visit::<V, $w, $a, { $w - 1 }, $ks, $p, { $a + $p + 1 }, { $a + $w - 1 + 13 }>(
                        v, kind,
                    )
                });
            }
        };
    }
    macro_rules! pair {
        ($w:literal, $a:literal) => {
            arm!($w, $a, 4, 2);
            arm!($w, $a, 8, 3);
            arm!($w, $a, 16, 4);
        };
    }
    pair!(4, 4);
    pair!(8, 8);
    pair!(16, 16);
    pair!(4, 8);
    pair!(8, 16);
    Err(v)
}

/// One compiled width set, as a type: a specialization binary registers
/// `&Widths::<W, A, L, KS, P, SEG, RES>` (its generics from [`WidthKey::generics`]).
pub struct Widths<
    const W: usize,
    const A: usize,
    const L: usize,
    const KS: usize,
    const P: usize,
    const SEG: usize,
    const RES: usize,
>;

/// Every [`PeVisitor`] of the crate, each a method of [`Specialized`]: a width set compiled in
/// another crate can run any of them. A new visitor adds one line here (and its `specialized`
/// calls that method).
macro_rules! visitors {
    ($($name:ident: $ty:ty => $out:ty;)*) => {
        /// A width set compiled into a specialization binary (see [`Widths`]).
        pub trait Specialized: Sync {
            fn key(&self) -> WidthKey;
            $(fn $name(&self, v: $ty, kind: PeKind) -> $out;)*
        }

        impl<
                const W: usize,
                const A: usize,
                const L: usize,
                const KS: usize,
                const P: usize,
                const SEG: usize,
                const RES: usize,
            > Specialized for Widths<W, A, L, KS, P, SEG, RES>
        {
            fn key(&self) -> WidthKey {
                WidthKey {
                    weight_bits: W as u32,
                    act_bits: A as u32,
                    ks: KS as u32,
                    dot_len_bits: (RES - A - (W - 1)) as u32,
                    csd: L == W,
                }
            }
            $(fn $name(&self, v: $ty, kind: PeKind) -> $out {
                visit::<_, W, A, L, KS, P, SEG, RES>(v, kind)
            })*
        }
    };
}

visitors! {
    run_pe: crate::flow::gen::RunPe<'_> => Result<crate::flow::gen::PeRun>;
    array_emit: crate::flow::array_gen::EmitArray<'_> => Result<(crate::flow::verilog::Design, String)>;
    array_run: crate::flow::rtl_driver::Runner<'_> => Result<crate::array::host::RtlRun>;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generics a key derives are the widths `Config::widths` derives, at every width,
    /// stride and encoding (the built-in table writes the same formulas as literals).
    #[test]
    fn key_generics_match_the_config_widths() {
        let mut c = Config::default_config();
        for wb in 2..=16 {
            for ab in 2..=16 {
                for ks in [1, 2, 3, 5, 16, 33, 64] {
                    for enc in [Encoding::Sm, Encoding::Csd] {
                        for len in [1, 2, 300, 4608, 1 << 20] {
                            c.pe.weight_bits = wb;
                            c.pe.act_bits = ab;
                            c.pe.ks = ks;
                            c.pe.encoding = enc;
                            c.pe.max_dot_len = len;
                            let w = c.widths();
                            let g = WidthKey::of(&c).generics();
                            assert_eq!(
                                g,
                                [
                                    wb,
                                    ab,
                                    w.lanes,
                                    ks,
                                    w.ptr_bits,
                                    w.segment_bits,
                                    w.result_bits
                                ]
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn widths_type_reports_its_key() {
        let k = Widths::<12, 8, 12, 5, 3, 12, 32>.key();
        assert_eq!(
            k,
            WidthKey {
                weight_bits: 12,
                act_bits: 8,
                ks: 5,
                dot_len_bits: 13,
                csd: true
            }
        );
        assert_eq!(k.generics(), [12, 8, 12, 5, 3, 12, 32]);
    }
}
