//! The workload on the gate-level netlist: a mapped layer's pixel tiles streamed through the
//! array netlist exactly as the in-process host loop (`flow::rtl_driver`) and the Verilator
//! stream harness drive the RTL: one reset cycle, `start` in cycle 0, every cycle the next
//! activation beat and each column's next weight beat offered, `out_ready` high, transfers
//! counted from valid & ready before the edge, stop at `done`.
//!
//! The tiles are split into up to 64 contiguous chunks, one per simulation lane (see
//! [`super::gatesim`]); each lane is its own run from reset, like the Verilator engine's
//! parallel chunks. Toggles are counted from cycle 0 to each lane's `done` cycle.

use super::gatesim::GateSim;
use super::netlist::{Netlist, PortDir};
use crate::array::cycle_model::{layer_cycles_for_tiles, Engine, Timing};
use crate::array::host::{
    build_streams, check_layer_fits, signed_of, LayerData, RtlRun, Streams, WBeat,
};
use crate::config::Config;
use anyhow::{bail, Context, Result};

/// The array top's ports by role (names as `tetris gen` emits them).
struct ArrayPorts {
    reset: usize,
    start: usize,
    expected: usize,
    done: usize,
    cycles: usize,
    act_valid: usize,
    act_ready: usize,
    act_mask: usize,
    act: Vec<usize>,
    kw_valid: Vec<usize>,
    kw_ready: Vec<usize>,
    kw_group_end: Vec<usize>,
    kw_last: Vec<usize>,
    out_valid: Vec<usize>,
    out_ready: Vec<usize>,
    out_data: Vec<usize>,
    /// SAC: (valid, ptr, neg) per column lane `c * L + b`.
    lanes: Vec<(usize, usize, usize)>,
    /// MAC: (weight, ptr) per column.
    mac: Vec<(usize, usize)>,
}

impl ArrayPorts {
    fn find(
        nl: &Netlist,
        rows: usize,
        cols: usize,
        ks: usize,
        lanes: usize,
        mac: bool,
    ) -> Result<ArrayPorts> {
        let idx = |name: &str, dir: PortDir| -> Result<usize> {
            let i = nl
                .ports
                .iter()
                .position(|p| p.name == name)
                .with_context(|| {
                    format!(
                        "the netlist of {} has no port {name}: not an array top of this size",
                        nl.top
                    )
                })?;
            if nl.ports[i].dir != dir {
                bail!("port {name} of {} has the wrong direction", nl.top);
            }
            Ok(i)
        };
        let per = |base: &str, n: usize, dir: PortDir| -> Result<Vec<usize>> {
            (0..n).map(|i| idx(&format!("{base}_{i}"), dir)).collect()
        };
        use PortDir::{Input as I, Output as O};
        Ok(ArrayPorts {
            reset: idx("reset", I)?,
            start: idx("start", I)?,
            expected: idx("expected", I)?,
            done: idx("done", O)?,
            cycles: idx("cycles", O)?,
            act_valid: idx("act_valid", I)?,
            act_ready: idx("act_ready", O)?,
            act_mask: idx("act_mask", I)?,
            act: per("act", rows * ks, I)?,
            kw_valid: per("kw_valid", cols, I)?,
            kw_ready: per("kw_ready", cols, O)?,
            kw_group_end: per("kw_group_end", cols, I)?,
            kw_last: per("kw_last", cols, I)?,
            out_valid: per("out_valid", cols, O)?,
            out_ready: per("out_ready", cols, I)?,
            out_data: per("out_data", rows * cols, O)?,
            lanes: if mac {
                vec![]
            } else {
                let v = per("kw_lane_valid", cols * lanes, I)?;
                let p = per("kw_lane_ptr", cols * lanes, I)?;
                let n = per("kw_lane_neg", cols * lanes, I)?;
                (0..cols * lanes).map(|j| (v[j], p[j], n[j])).collect()
            },
            mac: if mac {
                let w = per("kw_w", cols, I)?;
                let p = per("kw_ptr", cols, I)?;
                w.into_iter().zip(p).collect()
            } else {
                vec![]
            },
        })
    }
}

/// The host side of one lane: its chunk's streams and how far they got.
struct Lane {
    s: Streams,
    tiles: usize,
    ai: usize,
    wi: Vec<usize>,
    ri: Vec<usize>,
    outputs: Vec<(usize, i128)>,
    /// The array's cycle counter when `done` rose.
    counter: Option<u64>,
    /// Last value put on each input port (only changes are written into the lane).
    driven: Vec<u64>,
}

/// What a workload run produced.
pub struct WorkloadRun {
    /// Outputs and per-lane cycle counts (`chunks`), as the other RTL engines report them.
    pub rtl: RtlRun,
    /// Clock cycles simulated (the longest lane).
    pub sim_cycles: u64,
    /// Lane-cycles over which toggles were counted (sum of the lanes' cycles to `done`).
    pub lane_cycles: u64,
    pub lanes: usize,
}

/// Put `value` on input port `p` in lane `l` (`driven` holds the lane's current port values:
/// only a change is written, bit by bit).
fn put(sim: &mut GateSim, nl: &Netlist, driven: &mut [u64], l: usize, p: usize, value: u64) {
    if driven[p] == value {
        return;
    }
    driven[p] = value;
    for (i, &net) in nl.ports[p].bits.iter().enumerate() {
        if net > super::netlist::CONST1 {
            sim.set(net, l, value >> i & 1 == 1);
        }
    }
}

fn read(sim: &GateSim, nl: &Netlist, l: usize, p: usize) -> u64 {
    let mut v = 0u64;
    for (i, &net) in nl.ports[p].bits.iter().enumerate().take(64) {
        let bit = match net {
            super::netlist::CONST0 => false,
            super::netlist::CONST1 => true,
            n => sim.get(n, l),
        };
        v |= (bit as u64) << i;
    }
    v
}

fn sm(w: i64, bits: u32) -> u64 {
    w.unsigned_abs() | if w < 0 { 1u64 << (bits - 1) } else { 0 }
}

/// Stream pixel tiles `tiles` of a mapped layer through the array netlist `nl` (simulated by
/// `sim`, counting toggles) for `engine`'s weight streams.
pub fn run_tiles(
    sim: &mut GateSim,
    nl: &Netlist,
    cfg: &Config,
    d: LayerData,
    engine: Engine,
    tiles: &[usize],
    progress: bool,
) -> Result<WorkloadRun> {
    let map = d.map;
    let (rows, cols, ks) = (map.rows, map.cols, map.ks);
    let lanes_per_col = cfg.widths().lanes as usize;
    let mac = engine == Engine::Mac;
    let ports = ArrayPorts::find(nl, rows, cols, ks, lanes_per_col, mac)?;
    if tiles.is_empty() {
        bail!("no pixel tile to simulate");
    }
    check_layer_fits(cfg, map, tiles)?;
    let n_lanes = tiles.len().min(64);
    let per = tiles.len().div_ceil(n_lanes);
    let mut lanes: Vec<Lane> = tiles
        .chunks(per)
        .map(|chunk| Lane {
            s: build_streams(cfg, d, engine, chunk),
            tiles: chunk.len(),
            ai: 0,
            wi: vec![0; cols],
            ri: vec![0; cols],
            outputs: vec![],
            counter: None,
            driven: vec![u64::MAX; nl.ports.len()],
        })
        .collect();
    let n_lanes = lanes.len();
    let res_bits = nl.ports[ports.out_data[0]].bits.len();
    let amask = (1u64 << cfg.pe.act_bits) - 1;
    let longest = lanes.iter().map(|l| l.tiles).max().unwrap_or(1);
    let expect_cycles = layer_cycles_for_tiles(map, d.lens, engine, Timing::default(), longest);
    let bar = tetris_core::progress::bar(
        progress,
        expect_cycles,
        "gate-level {bar:30} {pos}/{len} cycles x {msg} lanes, {per_sec} ({eta} left)",
    );
    bar.set_message(n_lanes.to_string());
    // Every input low, reset high for one cycle, then the idle inputs as the baseline.
    for (l, lane) in lanes.iter_mut().enumerate() {
        for p in 0..nl.ports.len() {
            if nl.ports[p].dir == PortDir::Input {
                put(sim, nl, &mut lane.driven, l, p, 0);
            }
        }
        put(sim, nl, &mut lane.driven, l, ports.reset, 1);
        put(
            sim,
            nl,
            &mut lane.driven,
            l,
            ports.expected,
            lane.s.expected as u64,
        );
    }
    sim.eval();
    sim.clock();
    for (l, lane) in lanes.iter_mut().enumerate() {
        put(sim, nl, &mut lane.driven, l, ports.reset, 0);
    }
    sim.eval();
    sim.baseline();
    let mut active: u64 = if n_lanes == 64 {
        u64::MAX
    } else {
        (1u64 << n_lanes) - 1
    };
    let total_beats: usize = lanes
        .iter()
        .map(|l| l.s.acts.len() + l.s.weights.iter().map(Vec::len).sum::<usize>())
        .max()
        .unwrap_or(0);
    let mut cycle = 0u64;
    let mut lane_cycles = 0u64;
    while active != 0 {
        if cycle as usize > 4 * total_beats + 1000 {
            bail!("the array netlist made no progress for too long (cycle {cycle})");
        }
        for (l, lane) in lanes.iter_mut().enumerate() {
            if active >> l & 1 == 0 {
                continue;
            }
            put(
                sim,
                nl,
                &mut lane.driven,
                l,
                ports.start,
                (cycle == 0) as u64,
            );
            let driven = &mut lane.driven;
            let beat = lane.s.acts.get(lane.ai);
            put(sim, nl, driven, l, ports.act_valid, beat.is_some() as u64);
            put(sim, nl, driven, l, ports.act_mask, beat.map_or(0, |b| b.0));
            for k in 0..rows * ks {
                let v = beat.map_or(0, |b| b.1[k]);
                put(sim, nl, driven, l, ports.act[k], (v as u64) & amask);
            }
            for c in 0..cols {
                let b: Option<&WBeat> = lane.s.weights[c].get(lane.wi[c]);
                put(sim, nl, driven, l, ports.kw_valid[c], b.is_some() as u64);
                put(
                    sim,
                    nl,
                    driven,
                    l,
                    ports.kw_group_end[c],
                    b.is_some_and(|x| x.group_end) as u64,
                );
                put(
                    sim,
                    nl,
                    driven,
                    l,
                    ports.kw_last[c],
                    b.is_some_and(|x| x.last) as u64,
                );
                put(sim, nl, driven, l, ports.out_ready[c], 1);
                if mac {
                    let (pw, pp) = ports.mac[c];
                    put(
                        sim,
                        nl,
                        driven,
                        l,
                        pw,
                        sm(b.map_or(0, |x| x.w), cfg.pe.weight_bits),
                    );
                    put(sim, nl, driven, l, pp, b.map_or(0, |x| x.ptr) as u64);
                } else {
                    for j in 0..lanes_per_col {
                        let ln = b.map(|x| x.lanes[j]).unwrap_or_default();
                        let (pv, pp, pn) = ports.lanes[c * lanes_per_col + j];
                        put(sim, nl, driven, l, pv, ln.valid as u64);
                        put(sim, nl, driven, l, pp, ln.ptr as u64);
                        put(sim, nl, driven, l, pn, ln.neg as u64);
                    }
                }
            }
        }
        sim.eval();
        sim.count(active);
        lane_cycles += active.count_ones() as u64;
        for (l, lane) in lanes.iter_mut().enumerate() {
            if active >> l & 1 == 0 {
                continue;
            }
            if read(sim, nl, l, ports.done) == 1 {
                lane.counter = Some(read(sim, nl, l, ports.cycles));
                active &= !(1u64 << l);
                continue;
            }
            if read(sim, nl, l, ports.act_ready) == 1 && lane.ai < lane.s.acts.len() {
                lane.ai += 1;
            }
            for c in 0..cols {
                if lane.wi[c] < lane.s.weights[c].len() && read(sim, nl, l, ports.kw_ready[c]) == 1
                {
                    lane.wi[c] += 1;
                }
                if read(sim, nl, l, ports.out_valid[c]) == 1 {
                    let Some(dest) = lane.s.results[c].get(lane.ri[c]) else {
                        bail!("column {c} produced more results than the schedule has");
                    };
                    for (r, d) in dest.iter().enumerate() {
                        if let Some(idx) = d {
                            let v = read(sim, nl, l, ports.out_data[r * cols + c]);
                            lane.outputs.push((*idx, signed_of(v, res_bits)));
                        }
                    }
                    lane.ri[c] += 1;
                }
            }
        }
        sim.clock();
        cycle += 1;
        if cycle.is_multiple_of(64) {
            bar.set_position(cycle.min(expect_cycles));
        }
    }
    bar.finish_and_clear();
    let mut rtl = RtlRun {
        cycles: 0,
        outputs: vec![],
        trace: None,
        chunks: vec![],
    };
    for lane in lanes {
        let counter = lane.counter.context("a lane never raised done")?;
        rtl.cycles += counter;
        rtl.chunks.push((lane.tiles, counter));
        rtl.outputs.extend(lane.outputs);
    }
    Ok(WorkloadRun {
        rtl,
        sim_cycles: cycle,
        lane_cycles,
        lanes: n_lanes,
    })
}
