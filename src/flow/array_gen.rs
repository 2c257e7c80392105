//! `tetris gen` for a rows x cols array (`[array]` with more than one PE): the `SacArray` top
//! (docs/array.md) emitted through the shared emitter, self-checked in-process on a small
//! random layer against the golden convolution.

use super::gen::{Built, SelfCheck};
use super::verilog::{Design, Header};
use crate::array::cycle_model::Engine;
use crate::array::host::LayerData;
use crate::array::mapper::{kneaded_lengths, map_layer};
use crate::config::{Config, PeKind};
use crate::flow::rtl_driver::run_layer_rtl;
use crate::flow::select::{dispatch, PeVisitor, Specialized};
use crate::hdl::array_glue::{array_top, knead_array_top};
use crate::hdl::knead_unit::KneadUnit;
use crate::hdl::mac_array::MacCell;
use crate::hdl::sac_pe::SacCore;
use crate::hdl::sim::SplitMix64;
use crate::model::conv::{conv2d, ConvParams};
use crate::model::encoding::max_magnitude;
use crate::netlist::{from_block, Netlist};
use anyhow::{Context, Result};

/// Whether `tetris gen` emits the array top: the config's `rows x cols` is the design, and
/// a 1 x 1 array is the single-PE design (kneading unit + SAC PE, or the MAC PE).
pub fn wants_array(cfg: &Config) -> bool {
    cfg.array.rows * cfg.array.cols > 1
}

/// The [`PeVisitor`] of the array designs (SAC and MAC).
pub struct EmitArray<'a> {
    cfg: &'a Config,
}

/// The netlist of one rust-hdl block whose root module is named `root` (its sub-modules
/// `<top>_<block>`).
fn block_netlist<B: rust_hdl::prelude::Block>(
    b: &mut B,
    cfg: &Config,
    root: &str,
    header: &Header,
) -> Result<Netlist> {
    let mut nl = from_block(b, &cfg.top.name, &header.doc())?;
    nl.rename_module(&cfg.top.name, root)?;
    Ok(nl)
}

/// The array top over `pe` (the PE netlist), written with `pe`'s modules.
fn with_array_top(mut pe: Netlist, cfg: &Config, name: &str, header: &Header) -> Result<Netlist> {
    let (rows, cols) = (cfg.array.rows, cfg.array.cols);
    let mut doc = header.doc();
    doc.push(format!(
        "Array top: a generate grid of {} {rows}x{cols}, glue from crates/tetris-blocks/src/array_glue.rs.",
        pe.top
    ));
    let top = array_top(name, pe.top_module(), rows, cols, doc)?;
    pe.instances = 1 + (rows * cols) as usize * pe.instances;
    pe.add_top(top)?;
    Ok(pe)
}

impl PeVisitor for EmitArray<'_> {
    type Out = Result<(Design, String)>;

    crate::sac_method!(fn sac(self, csd) -> Self::Out {
        let cfg = self.cfg;
        let (rows, cols) = (cfg.array.rows, cfg.array.cols);
        let kneading = if cfg.array.knead_on_chip {
            "on-chip kneading units"
        } else {
            "host-kneaded weights"
        };
        let description = format!(
            "Tetris SAC array {rows}x{cols}, {kneading} (docs/array.md): weight_bits={W} act_bits={A} ks={KS} encoding={} lanes={L} segment_bits={SEG} result_bits={RES}",
            cfg.pe.encoding
        );
        let header = Header::new(&cfg.hash_hex(), &description);
        let top = &cfg.top.name;
        // The grid's PE is the SAC core; the glue decodes each column's pointers once.
        let mut pe = SacCore::<L, KS, A, SEG, RES>::default();
        pe.set_isolation(cfg.pe.operand_isolation);
        let pe = block_netlist(&mut pe, cfg, &format!("{top}_pe"), &header)?;
        let nl = if cfg.array.knead_on_chip {
            let mut array = with_array_top(pe, cfg, &format!("{top}_array"), &header)?;
            let mut unit = KneadUnit::<W, L, KS, P>::new(csd);
            let knead = block_netlist(&mut unit, cfg, &format!("{top}_knead_unit"), &header)?;
            let knead_instances = knead.instances;
            let knead_top = knead.top.clone();
            array.merge(knead)?;
            let mut doc = header.doc();
            doc.push(format!(
                "On-chip kneading array top: a row of {cols} {knead_top} in front of {top}_array."
            ));
            let t = knead_array_top(
                top,
                array.module(&knead_top).context("kneading unit")?,
                array.top_module(),
                cols,
                doc,
            )?;
            array.instances += cols as usize * knead_instances + 1;
            array.add_top(t)?;
            array
        } else {
            with_array_top(pe, cfg, top, &header)?
        };
        Ok((Design::from_netlist(nl)?, description))
    });

    fn mac<const W: usize, const A: usize, const KS: usize, const P: usize, const RES: usize>(
        self,
    ) -> Self::Out {
        let cfg = self.cfg;
        let (rows, cols) = (cfg.array.rows, cfg.array.cols);
        let description = format!(
            "MAC baseline array {rows}x{cols} (docs/array.md): weight_bits={W} act_bits={A} ks={KS} result_bits={RES}"
        );
        let header = Header::new(&cfg.hash_hex(), &description);
        let top = &cfg.top.name;
        let mut cell = MacCell::<W, KS, P, A, RES>::default();
        let pe = block_netlist(&mut cell, cfg, &format!("{top}_pe"), &header)?;
        let nl = with_array_top(pe, cfg, top, &header)?;
        Ok((Design::from_netlist(nl)?, description))
    }

    fn specialized(self, s: &dyn Specialized, kind: PeKind) -> Self::Out {
        s.array_emit(self, kind)
    }
}

/// The array design of `cfg` (SAC or MAC by `pe.kind`) and its one-line description, without
/// the in-process self-check.
pub fn emit_array(cfg: &Config) -> Result<(Design, String)> {
    dispatch(cfg, EmitArray { cfg })?
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
    let (cin, kh, kw) = fit_kernel(cfg, (3, 2, 2));
    let p = ConvParams {
        pad: (0, 0, 1, 0),
        ..ConvParams::plain(cin, cols + 1, (3, rows.max(2) + 1), (kh, kw))
    };
    let (w, x) = random_layer_data(cfg, &p, &mut r);
    let lens = kneaded_lengths(&w, p.dot_len(), bits, cfg.pe.encoding, ks);
    let map = map_layer(&p, rows, cols, ks, &lens)?;
    let golden = conv2d(&p, &x, &w)?;
    let tiles: Vec<usize> = (0..map.pixel_tiles().min(dots.max(1).div_ceil(rows * cols))).collect();
    let data = LayerData::new(&map, &x, &w, &lens);
    let run = run_layer_rtl(cfg, data, engine, &tiles, false)?;
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

/// A test layer's (cin, kh, kw), shrunk (channels first) until its dot product fits
/// `max_dot_len`: the widths are only exact up to that length.
pub fn fit_kernel(
    cfg: &Config,
    (mut c, mut h, mut w): (usize, usize, usize),
) -> (usize, usize, usize) {
    let max = (cfg.pe.max_dot_len as usize).max(1);
    while c * h * w > max {
        if c > 1 {
            c -= 1;
        } else if h > 1 {
            h -= 1;
        } else {
            w -= 1;
        }
    }
    (c, h, w)
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
