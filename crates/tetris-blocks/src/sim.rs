//! Cycle-level drivers: run a block through whole dot products with the direct
//! `simulate()` loop (the threaded Simulation API is ~100x slower), and optionally record every
//! cycle's top-level port values for replay in an independent Verilog simulator.

use super::knead_unit::KneadUnit;
use super::mac_pe::MacPe;
use super::sac_pe::SacPe;
use rust_hdl::core::atom::{Atom, AtomKind};
use rust_hdl::core::probe::Probe;
use rust_hdl::prelude::*;
use tetris_core::model::knead::{KneadedWeight, Lane};

/// Settle iterations per half cycle (combinational chains need one per signal hop).
const SETTLE: usize = 1000;

pub use tetris_core::model::rng::SplitMix64;

/// Top-level port values of one cycle, as sized Verilog literals (`4'h3`), sampled after the
/// inputs settled and before the rising edge. Names are the emitted (sanitized) port names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortSample {
    /// (port name, is an input, value).
    pub values: Vec<(String, bool, String)>,
}

struct PortProbe {
    depth: usize,
    out: Vec<(String, bool, String)>,
}

impl Probe for PortProbe {
    fn visit_start_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.depth += 1;
    }
    fn visit_end_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.depth -= 1;
    }
    fn visit_atom(&mut self, name: &str, signal: &dyn Atom) {
        if self.depth == 1 && signal.kind().is_parameter() {
            self.out.push((
                name.replace('$', "_"),
                signal.kind() == AtomKind::InputParameter,
                signal.verilog().to_string(),
            ));
        }
    }
}

/// The current top-level port values of `uut`.
pub fn sample_ports<B: Block>(uut: &B) -> PortSample {
    let mut p = PortProbe {
        depth: 0,
        out: vec![],
    };
    uut.accept("top", &mut p);
    PortSample { values: p.out }
}

/// Per-cycle port samples of a run (for replay against the emitted Verilog).
pub type Trace = Vec<PortSample>;

fn to_bits_signed<const N: usize>(v: i64) -> Bits<N> {
    let mask = if N >= 64 { u64::MAX } else { (1u64 << N) - 1 };
    ((v as u64) & mask).to_bits()
}

fn from_bits_signed<const N: usize>(b: Bits<N>) -> i128 {
    let u: u64 = b.to_u64();
    let shift = 128 - N as u32;
    (((u as u128) << shift) as i128) >> shift
}

/// Element `i` of a group, 0 past its end or without a group (a zero-padded group).
fn padded(group: Option<&[i64]>, i: usize) -> i64 {
    group.and_then(|g| g.get(i)).copied().unwrap_or(0)
}

/// Sign-magnitude encoding of a weight on `W` bits.
pub fn sm_bits<const W: usize>(w: i64) -> Bits<W> {
    let m = w.unsigned_abs();
    let s = if w < 0 { 1u64 << (W - 1) } else { 0 };
    (m | s).to_bits()
}

/// One dot product for a SAC PE: kneaded groups with their activation groups.
#[derive(Debug, Clone)]
pub struct SacDot {
    pub groups: Vec<Vec<KneadedWeight>>,
    pub acts: Vec<Vec<i64>>,
}

/// One beat of the kneaded stream as the PE sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beat {
    pub lanes: Vec<Lane>,
    pub group_end: bool,
    pub last: bool,
}

/// The beats a dot product's kneaded groups become on the wire, and the activation groups the
/// PE must be loaded with (one per group that has beats). See `docs/rtl.md`.
pub fn sac_beats(dot: &SacDot, lanes: usize) -> (Vec<Beat>, Vec<Vec<i64>>) {
    let mut beats = vec![];
    let mut acts = vec![];
    let n = dot.groups.len();
    for (g, (kws, a)) in dot.groups.iter().zip(&dot.acts).enumerate() {
        let is_last = g + 1 == n;
        if kws.is_empty() && !is_last {
            continue;
        }
        acts.push(a.clone());
        if kws.is_empty() {
            beats.push(Beat {
                lanes: vec![Lane::default(); lanes],
                group_end: true,
                last: true,
            });
        }
        for (r, kw) in kws.iter().enumerate() {
            let end = r + 1 == kws.len();
            beats.push(Beat {
                lanes: kw.lanes.clone(),
                group_end: end,
                last: end && is_last,
            });
        }
    }
    (beats, acts)
}

/// Outcome of streaming dot products through a PE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRun {
    pub results: Vec<i128>,
    /// Cycles from the first accepted beat (or pair) to the last one, inclusive.
    pub busy_cycles: usize,
    /// Accepted beats (or pairs).
    pub beats: usize,
    /// Cycles from the last beat to its result being visible (the PE latency).
    pub result_latency: usize,
    pub trace: Option<Trace>,
}

/// What a PE stream counts as it runs: the cycle, the accepted beats (the index of the next
/// one), the cycles of the first and the last, and the results with the latency from the last
/// beat.
#[derive(Default)]
struct Tally {
    cycle: usize,
    beats: usize,
    first: Option<usize>,
    last_beat: usize,
    results: Vec<i128>,
    latency: usize,
}

impl Tally {
    /// Record the settled cycle's handshakes (a beat taken, a result delivered) and count the
    /// cycle; the caller then clocks the block.
    fn end_cycle(&mut self, beat_taken: bool, result: Option<i128>) {
        if beat_taken {
            self.first.get_or_insert(self.cycle);
            self.last_beat = self.cycle;
            self.beats += 1;
        }
        if let Some(value) = result {
            self.results.push(value);
            self.latency = self.cycle - self.last_beat;
        }
        self.cycle += 1;
    }

    fn finish(self, trace: Option<Trace>) -> StreamRun {
        StreamRun {
            busy_cycles: self.first.map_or(0, |f| self.last_beat - f + 1),
            beats: self.beats,
            results: self.results,
            result_latency: self.latency,
            trace,
        }
    }
}

/// Where a driven block's clock and reset inputs are.
type Pins<B> = fn(&mut B) -> (&mut Signal<In, Clock>, &mut Signal<In, Bit>);

/// A rising and a falling clock edge.
fn clock_edge<B: Block>(uut: &mut B, pins: Pins<B>) {
    for clk in [true, false] {
        pins(uut).0.next = Clock { clk };
        if clk {
            assert!(simulate(uut, SETTLE), "did not settle after the clock edge");
        }
    }
}

/// Connect `uut` and hold it in reset for one cycle.
fn start<B: Block>(uut: &mut B, pins: Pins<B>) {
    uut.connect_all();
    pins(uut).1.next = true;
    simulate(uut, SETTLE);
    clock_edge(uut, pins);
    pins(uut).1.next = false;
}

/// Settle this cycle's inputs and record the ports (if `trace`).
fn settle<B: Block>(uut: &mut B, trace: &mut Option<Trace>, what: &str) {
    assert!(simulate(uut, SETTLE), "{what} did not settle");
    if let Some(t) = trace.as_mut() {
        t.push(sample_ports(uut));
    }
}

/// Stream `dots` back to back through a SAC PE; `stall` makes the result consumer (res_ready)
/// and the producers randomly idle to exercise the handshakes (None: no stalls).
pub fn run_sac_pe<
    const L: usize,
    const KS: usize,
    const P: usize,
    const A: usize,
    const SEG: usize,
    const RES: usize,
>(
    dots: &[SacDot],
    mut stall: Option<&mut SplitMix64>,
    record: bool,
) -> StreamRun {
    let mut uut = SacPe::<L, KS, P, A, SEG, RES>::default();
    start(&mut uut, |u| (&mut u.clock, &mut u.reset));
    let mut beats = vec![];
    let mut acts = vec![];
    for d in dots {
        let (b, a) = sac_beats(d, L);
        beats.extend(b);
        acts.extend(a);
    }
    let mut trace = record.then(Vec::new);
    let mut ai = 0;
    let mut tally = Tally::default();
    while tally.results.len() < dots.len() {
        assert!(
            tally.cycle < 100 * (beats.len() + acts.len() + 10),
            "SAC PE stream stuck"
        );
        let stall_act = stall.as_deref_mut().is_some_and(|r| r.chance(1, 4));
        let stall_kw = stall.as_deref_mut().is_some_and(|r| r.chance(1, 4));
        let stall_res = stall.as_deref_mut().is_some_and(|r| r.chance(1, 3));
        uut.act_valid.next = ai < acts.len() && !stall_act;
        for i in 0..KS {
            let v = padded(acts.get(ai).map(Vec::as_slice), i);
            uut.act[i].next = to_bits_signed::<A>(v);
        }
        uut.kw_valid.next = tally.beats < beats.len() && !stall_kw;
        let beat = beats.get(tally.beats);
        for b in 0..L {
            let lane = beat.map(|x| x.lanes[b]).unwrap_or_default();
            uut.kw_lane_valid[b].next = lane.valid;
            uut.kw_lane_ptr[b].next = (lane.ptr as u64).to_bits();
            uut.kw_lane_neg[b].next = lane.neg;
        }
        uut.kw_group_end.next = beat.is_some_and(|x| x.group_end);
        uut.kw_last.next = beat.is_some_and(|x| x.last);
        uut.res_ready.next = !stall_res;
        settle(&mut uut, &mut trace, "SAC PE");
        if uut.act_valid.val() && uut.act_ready.val() {
            ai += 1;
        }
        let result = uut.res_valid.val() && uut.res_ready.val();
        tally.end_cycle(
            uut.kw_valid.val() && uut.kw_ready.val(),
            result.then(|| from_bits_signed::<RES>(uut.res.val())),
        );
        clock_edge(&mut uut, |u| (&mut u.clock, &mut u.reset));
    }
    tally.finish(trace)
}

/// One weight group for the kneading unit.
#[derive(Debug, Clone)]
pub struct KneadGroup {
    pub weights: Vec<i64>,
    pub last: bool,
}

/// Outcome of streaming groups through the kneading unit.
#[derive(Debug, Clone)]
pub struct KneadRun {
    pub beats: Vec<Beat>,
    /// Per input group, whether `in_skip` was high when it was accepted.
    pub skipped: Vec<bool>,
    /// Cycles from the first group's acceptance to the last beat, inclusive.
    pub cycles: usize,
    pub trace: Option<Trace>,
}

/// Stream `groups` through a kneading unit. `stall` randomly drops out_ready and in_valid.
pub fn run_knead_unit<const W: usize, const L: usize, const KS: usize, const P: usize>(
    groups: &[KneadGroup],
    csd: bool,
    mut stall: Option<&mut SplitMix64>,
    record: bool,
) -> KneadRun {
    let mut uut = KneadUnit::<W, L, KS, P>::new(csd);
    start(&mut uut, |u| (&mut u.clock, &mut u.reset));
    let mut trace = record.then(Vec::new);
    let (mut gi, mut cycle) = (0, 0usize);
    let mut beats = vec![];
    let mut skipped = vec![];
    let mut first = None;
    loop {
        assert!(
            cycle < 100 * (groups.len() * (L + 2) + 10),
            "kneading unit stuck"
        );
        let stall_in = stall.as_deref_mut().is_some_and(|r| r.chance(1, 4));
        let stall_out = stall.as_deref_mut().is_some_and(|r| r.chance(1, 4));
        let g = groups.get(gi);
        uut.in_valid.next = g.is_some() && !stall_in;
        for i in 0..KS {
            let w = padded(g.map(|g| g.weights.as_slice()), i);
            uut.w[i].next = sm_bits::<W>(w);
        }
        uut.in_last.next = g.is_some_and(|g| g.last);
        uut.out_ready.next = !stall_out;
        assert!(simulate(&mut uut, SETTLE), "kneading unit did not settle");
        if gi >= groups.len() && !uut.out_valid.val() {
            break; // everything accepted and emitted
        }
        if let Some(t) = trace.as_mut() {
            t.push(sample_ports(&uut));
        }
        if uut.out_valid.val() && uut.out_ready.val() {
            let lanes = (0..L)
                .map(|b| Lane {
                    valid: uut.out_lane_valid[b].val(),
                    ptr: uut.out_lane_ptr[b].val().to_u64() as u16,
                    neg: uut.out_lane_neg[b].val(),
                })
                .collect();
            beats.push(Beat {
                lanes,
                group_end: uut.out_group_end.val(),
                last: uut.out_last.val(),
            });
        }
        if uut.in_valid.val() && uut.in_ready.val() {
            first.get_or_insert(cycle);
            skipped.push(uut.in_skip.val());
            gi += 1;
        }
        clock_edge(&mut uut, |u| (&mut u.clock, &mut u.reset));
        cycle += 1;
    }
    KneadRun {
        beats,
        skipped,
        cycles: first.map_or(0, |f| cycle - f),
        trace,
    }
}

/// One dot product for the MAC PE.
#[derive(Debug, Clone)]
pub struct MacDot {
    pub weights: Vec<i64>,
    pub acts: Vec<i64>,
}

/// Stream `dots` back to back through a MAC PE.
pub fn run_mac_pe<const W: usize, const A: usize, const RES: usize>(
    dots: &[MacDot],
    mut stall: Option<&mut SplitMix64>,
    record: bool,
) -> StreamRun {
    let mut uut = MacPe::<W, A, RES>::default();
    start(&mut uut, |u| (&mut u.clock, &mut u.reset));
    let pairs: Vec<(i64, i64, bool)> = dots
        .iter()
        .flat_map(|d| {
            let n = d.weights.len();
            d.weights
                .iter()
                .zip(&d.acts)
                .enumerate()
                .map(move |(k, (&w, &a))| (w, a, k + 1 == n))
        })
        .collect();
    let mut trace = record.then(Vec::new);
    let mut tally = Tally::default();
    while tally.results.len() < dots.len() {
        assert!(
            tally.cycle < 100 * (pairs.len() + 10),
            "MAC PE stream stuck"
        );
        let stall_in = stall.as_deref_mut().is_some_and(|r| r.chance(1, 4));
        let stall_res = stall.as_deref_mut().is_some_and(|r| r.chance(1, 3));
        let p = pairs.get(tally.beats);
        uut.in_valid.next = p.is_some() && !stall_in;
        uut.w.next = sm_bits::<W>(p.map_or(0, |p| p.0));
        uut.a.next = to_bits_signed::<A>(p.map_or(0, |p| p.1));
        uut.in_last.next = p.is_some_and(|p| p.2);
        uut.res_ready.next = !stall_res;
        settle(&mut uut, &mut trace, "MAC PE");
        let result = uut.res_valid.val() && uut.res_ready.val();
        tally.end_cycle(
            uut.in_valid.val() && uut.in_ready.val(),
            result.then(|| from_bits_signed::<RES>(uut.res.val())),
        );
        clock_edge(&mut uut, |u| (&mut u.clock, &mut u.reset));
    }
    tally.finish(trace)
}

/// Stream dot products (weights, activations) through a [`SacDesign`](crate::design::SacDesign) (kneading unit + SAC PE)
/// with no stalls. Activation groups are sent for every group except all-zero groups that do
/// not end their dot product (those the kneading unit skips).
pub fn run_sac_design<
    const W: usize,
    const L: usize,
    const KS: usize,
    const P: usize,
    const A: usize,
    const SEG: usize,
    const RES: usize,
>(
    dots: &[MacDot],
    csd: bool,
    record: bool,
) -> StreamRun {
    let mut uut = super::design::SacDesign::<W, L, KS, P, A, SEG, RES>::new(csd);
    start(&mut uut, |u| (&mut u.clock, &mut u.reset));
    let mut wgroups: Vec<(Vec<i64>, bool)> = vec![];
    let mut agroups: Vec<Vec<i64>> = vec![];
    for d in dots {
        let n = d.weights.len().div_ceil(KS);
        for (g, (w, a)) in d.weights.chunks(KS).zip(d.acts.chunks(KS)).enumerate() {
            let last = g + 1 == n;
            if last || w.iter().any(|&x| x != 0) {
                agroups.push(a.to_vec());
            }
            wgroups.push((w.to_vec(), last));
        }
    }
    let mut trace = record.then(Vec::new);
    let (mut wi, mut ai, mut cycle) = (0, 0, 0usize);
    let mut results = vec![];
    let mut first = None;
    let mut latency = 0;
    while results.len() < dots.len() {
        assert!(
            cycle < 100 * (wgroups.len() * (L + 2) + 10),
            "SAC design stuck"
        );
        let g = wgroups.get(wi);
        uut.w_valid.next = g.is_some();
        for i in 0..KS {
            let w = padded(g.map(|g| g.0.as_slice()), i);
            uut.w[i].next = sm_bits::<W>(w);
            let a = padded(agroups.get(ai).map(Vec::as_slice), i);
            uut.act[i].next = to_bits_signed::<A>(a);
        }
        uut.w_last.next = g.is_some_and(|g| g.1);
        uut.act_valid.next = ai < agroups.len();
        uut.res_ready.next = true;
        settle(&mut uut, &mut trace, "SAC design");
        if uut.w_valid.val() && uut.w_ready.val() {
            first.get_or_insert(cycle);
            wi += 1;
        }
        if uut.act_valid.val() && uut.act_ready.val() {
            ai += 1;
        }
        if uut.res_valid.val() {
            results.push(from_bits_signed::<RES>(uut.res.val()));
            latency = cycle;
        }
        clock_edge(&mut uut, |u| (&mut u.clock, &mut u.reset));
        cycle += 1;
    }
    StreamRun {
        results,
        busy_cycles: first.map_or(0, |f| latency - f + 1),
        beats: wi,
        result_latency: 0,
        trace,
    }
}
