//! Runs a mapped layer (or a sample of its pixel tiles) on the in-process RTL of the array
//! (`hdl::array::SacArray` for SAC streams, `hdl::mac_array::MacArray` for the MAC baseline)
//! and collects every output and the array's own cycle counter. The streams it feeds are
//! `array::host`'s, the same every engine feeds.

use super::select::{dispatch, PeVisitor, Specialized};
use crate::array::cycle_model::{Engine, Timing};
use crate::array::host::{
    build_streams, check_layer_fits, signed_of, LayerData, RtlRun, Streams, WBeat,
};
use crate::array::network::{run_rtl_with, PreparedLayer, RtlLayerRun};
use crate::config::{Config, PeKind};
use crate::hdl::array::SacArray;
use crate::hdl::array_knead::SacArrayKnead;
use crate::hdl::array_shell::ArrayIo;
use crate::hdl::mac_array::MacArray;
use crate::hdl::sim::{sample_ports, sm_bits};
use anyhow::{bail, Result};
use rust_hdl::prelude::*;

fn clock_edge<B: Block>(uut: &mut B, set: impl Fn(&mut B, bool)) -> Result<()> {
    set(uut, true);
    if !simulate(uut, 10_000) {
        bail!("the array did not settle after a clock edge");
    }
    set(uut, false);
    Ok(())
}

/// Where an array top keeps its host side.
type Io<U, const A: usize, const RES: usize> = fn(&mut U) -> &mut ArrayIo<A, RES>;

impl Runner<'_> {
    /// The host loop shared by the SAC and the MAC array and the SAC array with on-chip
    /// kneading: they share the host side `io` and differ only in the weight streams: column
    /// c's next item of `wstreams[c]` (None past its end) is put on its ports by `set_col`,
    /// `col_fired` says it was taken.
    #[allow(clippy::needless_range_loop)] // per-column streams indexed in parallel
    fn drive_array<U: Block, G, const A: usize, const RES: usize>(
        &self,
        mut uut: U,
        io: Io<U, A, RES>,
        wstreams: &[Vec<G>],
        set_col: impl Fn(&mut U, usize, Option<&G>),
        col_fired: impl Fn(&U, usize) -> bool,
    ) -> Result<RtlRun> {
        let s = self.streams;
        let cols = self.cols;
        uut.connect_all();
        let bar = tetris_core::progress::bar(
            self.progress,
            s.expected as u64,
            "rtl {bar:30} {pos}/{len} result beats, {per_sec} ({eta} left)",
        );
        let amask = if A >= 64 { u64::MAX } else { (1u64 << A) - 1 };
        let tick = |u: &mut U, c: bool| io(u).clock.next = Clock { clk: c };
        io(&mut uut).reset.next = true;
        simulate(&mut uut, 10_000);
        clock_edge(&mut uut, tick)?;
        io(&mut uut).reset.next = false;
        io(&mut uut).expected.next = (s.expected as u64).to_bits();
        let (mut ai, mut wi) = (0usize, vec![0usize; cols]);
        let mut ri = vec![0usize; cols];
        let mut outputs = Vec::new();
        let total_beats: usize = s.acts.len() + s.weights.iter().map(Vec::len).sum::<usize>();
        let mut cycle = 0usize;
        let mut trace = self.record.then(Vec::new);
        loop {
            if cycle > 4 * total_beats + 1000 {
                bail!("the array made no progress for too long (cycle {cycle})");
            }
            let p = io(&mut uut);
            p.start.next = cycle == 0;
            p.act_valid.next = ai < s.acts.len();
            let (mask, data) = s.acts.get(ai).map_or((0, None), |(m, d)| (*m, Some(d)));
            p.act_mask.next = mask.to_bits();
            // `act[r * KS + i]`, as the streams lay out a beat's data.
            for (k, a) in p.act.iter_mut().enumerate() {
                let v = data.map_or(0, |d| d[k]);
                a.next = ((v as u64) & amask).to_bits();
            }
            p.out_ready.iter_mut().for_each(|r| r.next = true);
            for c in 0..cols {
                set_col(&mut uut, c, wstreams[c].get(wi[c]));
            }
            if !simulate(&mut uut, 10_000) {
                bail!("the array did not settle in cycle {cycle}");
            }
            if let Some(t) = trace.as_mut() {
                let mut sample = sample_ports(&uut);
                io(&mut uut).fit_sample_to_top(&mut sample);
                t.push(sample);
            }
            for c in 0..cols {
                if col_fired(&uut, c) {
                    wi[c] += 1;
                }
            }
            let p = io(&mut uut);
            if p.done.val() {
                bar.finish_and_clear();
                return Ok(RtlRun {
                    cycles: p.cycles.val().to_u64(),
                    outputs,
                    trace,
                    chunks: Vec::new(), // filled by run_layer_rtl_traced
                });
            }
            if p.act_valid.val() && p.act_ready.val() {
                ai += 1;
            }
            for c in 0..cols {
                if p.out_valid[c].val() {
                    let Some(dest) = s.results[c].get(ri[c]) else {
                        bail!("column {c} produced more results than the schedule has");
                    };
                    for (r, d) in dest.iter().enumerate() {
                        if let Some(idx) = d {
                            let v = p.out_data[r * cols + c].val().to_u64();
                            outputs.push((*idx, signed_of(v, RES)));
                        }
                    }
                    ri[c] += 1;
                    bar.inc(1);
                }
            }
            clock_edge(&mut uut, tick)?;
            cycle += 1;
        }
    }
}

/// The valid/group_end/last ports of a kneaded (SAC) or one-weight (MAC) column stream.
macro_rules! set_stream_flags {
    ($u:expr, $c:expr, $beat:expr) => {
        $u.kw_valid[$c].next = $beat.is_some();
        $u.kw_group_end[$c].next = $beat.is_some_and(|x| x.group_end);
        $u.kw_last[$c].next = $beat.is_some_and(|x| x.last);
    };
}

/// One unkneaded weight group for the on-chip kneading unit (KS weights, zero padded).
#[derive(Debug, Clone)]
struct RawGroup {
    w: Vec<i64>,
    last: bool,
}

/// The weight groups a column's kneaded stream was made from, rebuilt from its lanes (each
/// valid lane b of a kneaded weight adds +-2^b to the weight its pointer names), so the
/// on-chip run sends exactly the groups the host-kneaded run streams, in the same order.
fn raw_groups(beats: &[WBeat], ks: usize) -> Vec<RawGroup> {
    let mut out = Vec::new();
    let mut w = vec![0i64; ks];
    for beat in beats {
        for (b, l) in beat.lanes.iter().enumerate() {
            if l.valid {
                w[l.ptr as usize] += if l.neg { -1 } else { 1 } << b;
            }
        }
        if beat.group_end {
            out.push(RawGroup {
                w: std::mem::replace(&mut w, vec![0; ks]),
                last: beat.last,
            });
        }
    }
    out
}

/// The [`PeVisitor`] that runs a layer's streams on the in-process array RTL.
pub struct Runner<'a> {
    streams: &'a Streams,
    rows: usize,
    cols: usize,
    progress: bool,
    record: bool,
    /// Run the SAC array behind per-column kneading units (`[array] knead_on_chip`).
    knead_on_chip: bool,
}

#[allow(clippy::needless_range_loop)] // per-column streams indexed in parallel
impl PeVisitor for Runner<'_> {
    type Out = Result<RtlRun>;

    crate::sac_method!(fn sac(self, csd) -> Result<RtlRun> {
        if self.knead_on_chip {
            let uut = SacArrayKnead::<W, L, KS, P, A, SEG, RES>::new(self.rows, self.cols, csd);
            let groups: Vec<Vec<RawGroup>> = self
                .streams
                .weights
                .iter()
                .map(|col| raw_groups(col, KS))
                .collect();
            let set = |u: &mut SacArrayKnead<W, L, KS, P, A, SEG, RES>,
                       c: usize,
                       g: Option<&RawGroup>| {
                u.w_valid[c].next = g.is_some();
                u.w_last[c].next = g.is_some_and(|g| g.last);
                for i in 0..KS {
                    u.w[c * KS + i].next = sm_bits::<W>(g.map_or(0, |g| g.w[i]));
                }
            };
            let fired = |u: &SacArrayKnead<W, L, KS, P, A, SEG, RES>, c: usize| {
                u.w_valid[c].val() && u.w_ready[c].val()
            };
            self.drive_array(uut, |u| &mut *u.io, &groups, set, fired)
        } else {
            let uut = SacArray::<L, KS, P, A, SEG, RES>::new(self.rows, self.cols);
            let set = |u: &mut SacArray<L, KS, P, A, SEG, RES>, c: usize, beat: Option<&WBeat>| {
                set_stream_flags!(u, c, beat);
                for b in 0..L {
                    let l = beat.map(|x| x.lanes[b]).unwrap_or_default();
                    u.weights.kw_lane_valid[c * L + b].next = l.valid;
                    u.weights.kw_lane_ptr[c * L + b].next = (l.ptr as u64).to_bits();
                    u.weights.kw_lane_neg[c * L + b].next = l.neg;
                }
            };
            let fired = |u: &SacArray<L, KS, P, A, SEG, RES>, c: usize| {
                u.kw_valid[c].val() && u.kw_ready[c].val()
            };
            self.drive_array(uut, |u| &mut *u.io, &self.streams.weights, set, fired)
        }
    });

    fn mac<const W: usize, const A: usize, const KS: usize, const P: usize, const RES: usize>(
        self,
    ) -> Result<RtlRun> {
        let uut = MacArray::<W, KS, P, A, RES>::new(self.rows, self.cols);
        let set = |u: &mut MacArray<W, KS, P, A, RES>, c: usize, beat: Option<&WBeat>| {
            set_stream_flags!(u, c, beat);
            let w = beat.map_or(0, |x| x.w);
            let m = w.unsigned_abs() | if w < 0 { 1u64 << (W - 1) } else { 0 };
            u.weights.kw_w[c].next = m.to_bits();
            u.weights.kw_ptr[c].next = (beat.map_or(0, |x| x.ptr) as u64).to_bits();
        };
        let fired =
            |u: &MacArray<W, KS, P, A, RES>, c: usize| u.kw_valid[c].val() && u.kw_ready[c].val();
        self.drive_array(uut, |u| &mut *u.io, &self.streams.weights, set, fired)
    }

    fn specialized(self, s: &dyn Specialized, kind: PeKind) -> Result<RtlRun> {
        s.array_run(self, kind)
    }
}

/// Run pixel tiles `tiles` of a mapped layer on the RTL array of `cfg`'s widths and size.
/// `engine` picks the weight streams (kneaded, or one weight per beat for the MAC timing).
pub fn run_layer_rtl(
    cfg: &Config,
    d: LayerData,
    engine: Engine,
    tiles: &[usize],
    progress: bool,
) -> Result<RtlRun> {
    run_layer_rtl_traced(cfg, d, engine, tiles, progress, false)
}

/// [`run_layer_rtl`], optionally recording every cycle's top-level ports (`RtlRun::trace`).
pub fn run_layer_rtl_traced(
    cfg: &Config,
    d: LayerData,
    engine: Engine,
    tiles: &[usize],
    progress: bool,
    record: bool,
) -> Result<RtlRun> {
    check_layer_fits(cfg, d.map, tiles)?;
    let streams = build_streams(cfg, d, engine, tiles);
    let runner = Runner {
        streams: &streams,
        rows: d.map.rows,
        cols: d.map.cols,
        progress,
        record,
        knead_on_chip: cfg.array.knead_on_chip,
    };
    // The engine, not `pe.kind`, picks the array: `sim` runs both on one config.
    let mut engine_cfg = cfg.clone();
    engine_cfg.pe.kind = match engine {
        Engine::Sac => PeKind::Sac,
        Engine::Mac => PeKind::Mac,
    };
    let mut run = dispatch(&engine_cfg, runner)??;
    run.chunks = vec![(tiles.len(), run.cycles)];
    Ok(run)
}

/// Run `tiles` evenly spaced pixel tiles of a prepared layer on the in-process RTL (SAC
/// weight streams and MAC weight streams), compare every output with the exact dot product of
/// the golden im2col row and filter, and the cycles with the cycle model.
pub fn run_rtl(
    pl: &PreparedLayer,
    cfg: &Config,
    input: &[i64],
    tiles: usize,
    timing: Timing,
    progress: bool,
    mac_on_rtl: bool,
) -> Result<RtlLayerRun> {
    run_rtl_with(pl, input, tiles, timing, mac_on_rtl, |engine, picked| {
        run_layer_rtl(cfg, pl.data(input), engine, picked, progress)
    })
}
