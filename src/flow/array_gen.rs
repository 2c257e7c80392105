//! `tetris gen` for a rows x cols array (`[array]` with more than one PE): the `SacArray` top
//! (docs/array.md) emitted through the shared emitter, self-checked in-process on a small
//! random layer against the golden convolution.

use super::array_top::{scale_array, scale_knead_array};
use super::gen::{emit_block, Built, SelfCheck};
use super::verilog::Header;
use crate::array::cycle_model::Engine;
use crate::array::mapper::{kneaded_lengths, map_layer};
use crate::array::rtl_driver::run_layer_rtl;
use crate::config::{Config, PeKind};
use crate::hdl::array::SacArray;
use crate::hdl::array_knead::SacArrayKnead;
use crate::hdl::mac_array::MacArray;
use crate::hdl::select::{check_supported, dispatch, PeVisitor};
use crate::hdl::sim::SplitMix64;
use crate::model::conv::{conv2d, ConvParams};
use crate::model::encoding::max_magnitude;
use anyhow::{bail, Result};

/// Whether `tetris gen` emits the array rather than a single PE: `[array] emit = true`.
pub fn wants_array(cfg: &Config) -> bool {
    cfg.array.emit
}

struct EmitArray<'a> {
    cfg: &'a Config,
}

impl PeVisitor for EmitArray<'_> {
    type Out = Result<(super::verilog::Design, String)>;

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
    ) -> Self::Out {
        let (rows, cols) = (self.cfg.array.rows as usize, self.cfg.array.cols as usize);
        let kneading = if self.cfg.array.knead_on_chip {
            "on-chip kneading units"
        } else {
            "host-kneaded weights"
        };
        let description = format!(
            "Tetris SAC array {rows}x{cols}, {kneading} (docs/array.md): weight_bits={W} act_bits={A} ks={KS} encoding={} lanes={L} segment_bits={SEG} result_bits={RES}",
            self.cfg.pe.encoding
        );
        let header = Header::new(&self.cfg.hash_hex(), &description);
        let top = &self.cfg.top.name;
        // rust-hdl emits the PE (and kneading unit) from a 1x1 array; the rows x cols tops
        // are generate loops (src/flow/array_top.rs).
        let design = if self.cfg.array.knead_on_chip {
            let mut uut = SacArrayKnead::<W, L, KS, P, A, SEG, RES>::new(1, 1, csd);
            scale_knead_array(emit_block(&mut uut, top, &header)?, rows, cols, KS, &header)?
        } else {
            let mut uut = SacArray::<L, KS, P, A, SEG, RES>::new(1, 1);
            scale_array(emit_block(&mut uut, top, &header)?, rows, cols, KS, &header)?
        };
        Ok((design, description))
    }

    fn mac<const W: usize, const A: usize, const RES: usize>(self) -> Self::Out {
        unreachable!("the array is dispatched as SAC")
    }
}

fn mac_array<const W: usize, const KS: usize, const P: usize, const A: usize, const RES: usize>(
    cfg: &Config,
) -> Result<(super::verilog::Design, String)> {
    let (rows, cols) = (cfg.array.rows as usize, cfg.array.cols as usize);
    let description = format!(
        "MAC baseline array {rows}x{cols} (docs/array.md): weight_bits={W} act_bits={A} ks={KS} result_bits={RES}"
    );
    let header = Header::new(&cfg.hash_hex(), &description);
    let mut uut = MacArray::<W, KS, P, A, RES>::new(1, 1);
    let one = emit_block(&mut uut, &cfg.top.name, &header)?;
    Ok((scale_array(one, rows, cols, KS, &header)?, description))
}

/// The MAC array's compile-time widths (the same supported set as the SAC designs).
fn emit_mac_array(cfg: &Config) -> Result<(super::verilog::Design, String)> {
    let mut c = cfg.clone();
    c.pe.kind = PeKind::Sac;
    check_supported(&c)?;
    match (cfg.pe.weight_bits, cfg.pe.ks) {
        (4, 4) => mac_array::<4, 4, 2, 4, 20>(cfg),
        (4, 8) => mac_array::<4, 8, 3, 4, 20>(cfg),
        (4, _) => mac_array::<4, 16, 4, 4, 20>(cfg),
        (8, 4) => mac_array::<8, 4, 2, 8, 28>(cfg),
        (8, 8) => mac_array::<8, 8, 3, 8, 28>(cfg),
        (8, _) => mac_array::<8, 16, 4, 8, 28>(cfg),
        (16, 4) => mac_array::<16, 4, 2, 16, 44>(cfg),
        (16, 8) => mac_array::<16, 8, 3, 16, 44>(cfg),
        (_, _) => mac_array::<16, 16, 4, 16, 44>(cfg),
    }
}

/// The array design of `cfg` (SAC or MAC by `pe.kind`) and its one-line description, without
/// the in-process self-check.
pub fn emit_array(cfg: &Config) -> Result<(super::verilog::Design, String)> {
    if cfg.array.cols > 64 {
        bail!(
            "field array.cols = {}: the array supports at most 64 columns",
            cfg.array.cols
        );
    }
    match cfg.pe.kind {
        PeKind::Sac => dispatch(cfg, EmitArray { cfg })?,
        PeKind::Mac => emit_mac_array(cfg),
    }
}

/// Build the array design and self-check it: a random small conv layer (`dots` bounds the
/// number of output values checked) through the in-process array RTL vs `conv2d`.
pub fn build_array(cfg: &Config, dots: usize) -> Result<Built> {
    let (design, description) = emit_array(cfg)?;
    let engine = match cfg.pe.kind {
        PeKind::Sac => Engine::Sac,
        PeKind::Mac => Engine::Mac,
    };
    let (rows, cols) = (cfg.array.rows as usize, cfg.array.cols as usize);
    let bits = cfg.pe.weight_bits;
    let ks = cfg.pe.ks as usize;
    let mut r = SplitMix64(0x7e7);
    let p = ConvParams {
        batch: 1,
        cin: 3,
        cout: cols + 1,
        in_h: 3,
        in_w: rows.max(2) + 1,
        kh: 2,
        kw: 2,
        stride: (1, 1),
        pad: (0, 0, 1, 0),
        dilation: (1, 1),
        groups: 1,
    };
    let (w, x) = random_layer_data(cfg, &p, &mut r);
    let lens = kneaded_lengths(&w, p.dot_len(), bits, cfg.pe.encoding, ks);
    let map = map_layer(&p, rows, cols, ks, &lens)?;
    let golden = conv2d(&p, &x, &w)?;
    let tiles: Vec<usize> = (0..map.pixel_tiles().min(dots.max(1).div_ceil(rows * cols))).collect();
    let run = run_layer_rtl(cfg, &map, &x, &w, &lens, engine, &tiles, false)?;
    let mismatches = run.outputs.iter().filter(|(i, v)| golden[*i] != *v).count();
    Ok(Built {
        design,
        self_check: SelfCheck {
            dot_products: run.outputs.len(),
            mismatches,
            inputs: tiles.len(),
        },
        description,
    })
}

/// Seeded weights and activations of `cfg`'s widths for a test layer `p`: the gen self-check's
/// and `tetris cosim`'s stimulus, with the extremes random values almost never hit planted in.
/// Filters by index mod 4: all +max magnitude; all -max magnitude; random with the first and
/// the last kneading group all zero (a skipped group, the null beat that carries `last`; the
/// whole filter is zero when it has one group); random (a quarter zero). Activations: the most
/// negative value under every kernel tap of output pixel 0 (in the first pixel tile, which
/// every run includes), so filters 0 and 1 give the largest |result| the layer allows there
/// (past 32 bits at 16-bit widths); elsewhere a quarter most negative, an eighth most
/// positive, an eighth zero, the rest uniform.
pub fn random_layer_data(cfg: &Config, p: &ConvParams, r: &mut SplitMix64) -> (Vec<i64>, Vec<i64>) {
    let m = max_magnitude(cfg.pe.weight_bits);
    let (amin, amax) = (
        -(1i64 << (cfg.pe.act_bits - 1)),
        (1i64 << (cfg.pe.act_bits - 1)) - 1,
    );
    let (dot, ks) = (p.dot_len(), cfg.pe.ks as usize);
    let last_group = (dot - 1) / ks * ks;
    let mut w = Vec::with_capacity(p.weight_len());
    for o in 0..p.cout {
        for i in 0..dot {
            w.push(match o % 4 {
                0 => m,
                1 => -m,
                2 if i < ks || i >= last_group => 0,
                _ if r.chance(1, 4) => 0,
                _ => r.range(-m, m),
            });
        }
    }
    let mut x: Vec<i64> = (0..p.input_len())
        .map(|_| match r.range(0, 7) {
            0 | 1 => amin,
            2 => amax,
            3 => 0,
            _ => r.range(amin, amax),
        })
        .collect();
    for c in 0..p.cin {
        for ky in 0..p.kh {
            for kx in 0..p.kw {
                let y = (ky * p.dilation.0).checked_sub(p.pad.0);
                let xx = (kx * p.dilation.1).checked_sub(p.pad.1);
                if let (Some(y), Some(xx)) = (y, xx) {
                    if y < p.in_h && xx < p.in_w {
                        x[(c * p.in_h + y) * p.in_w + xx] = amin;
                    }
                }
            }
        }
    }
    (w, x)
}
