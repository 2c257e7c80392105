//! The fast RTL engine: a mapped layer run on the emitted array Verilog compiled by Verilator.
//!
//! Rust prepares the same host streams as the in-process driver (`rtl_driver::build_streams`),
//! writes them to a compact stimulus file, the stream harness (`testbenches/array_stream.cpp`)
//! drives the array's handshakes exactly like `rtl_driver`'s host loop, and Rust maps the
//! captured result beats back to output indices. The caller checks them against the golden
//! model and the array's cycle counter against the cycle model.

use crate::array::cycle_model::Engine;
use crate::array::host::{build_streams, check_layer_fits, signed_of, LayerData, RtlRun, Streams};
use crate::array::mapper::LayerMap;
use crate::config::{Config, PeKind};
use crate::flow::array_gen::emit_array;
use crate::flow::verilator::{build, stream_harness, top_ports, ArrayShape, RunLength, Wave};
use crate::flow::verilog::Design;
use crate::fsutil::write_atomic;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A Verilator build of one array design (SAC or MAC) with the stream harness.
#[derive(Debug, Clone)]
pub struct ArraySim {
    pub top: String,
    pub exe: PathBuf,
    pub shape: ArrayShape,
    pub act_bits: u32,
    pub weight_bits: u32,
    pub result_bits: usize,
    /// Seconds to emit the Verilog and to build (0 when cached).
    pub emit_s: f64,
    pub build_s: f64,
    pub cached: bool,
}

/// Emit `cfg`'s array for `engine` (the SAC array, or the MAC baseline of the same size) and
/// build it with the stream harness, reusing the cache under `cache`.
pub fn build_array_sim(cfg: &Config, engine: Engine, cache: &Path) -> Result<ArraySim> {
    if cfg.array.knead_on_chip {
        bail!(
            "field array.knead_on_chip = true: the Verilator engine drives the kneaded column \
             streams of host-kneaded arrays; simulate the on-chip kneading top with --engine rtl \
             or check it with `tetris cosim` (its cycles equal the host-kneaded array's)"
        );
    }
    let mut c = cfg.clone();
    c.pe.kind = match engine {
        Engine::Sac => PeKind::Sac,
        Engine::Mac => PeKind::Mac,
    };
    let t0 = Instant::now();
    let (design, _) = emit_array(&c)?;
    let emit_s = t0.elapsed().as_secs_f64();
    build_array_design(design, &c, engine, cache, emit_s)
}

/// Build the stream harness around an emitted array `design` of `c` (the design the config
/// emits, or another emission of it with the same ports: the old-emission benchmark).
pub fn build_array_design(
    design: Design,
    c: &Config,
    engine: Engine,
    cache: &Path,
    emit_s: f64,
) -> Result<ArraySim> {
    let ports = top_ports(&design)?;
    let shape = ArrayShape {
        rows: c.array.rows as usize,
        cols: c.array.cols as usize,
        ks: c.pe.ks as usize,
        lanes: c.widths().lanes as usize,
        mac: engine == Engine::Mac,
    };
    let result_bits = ports
        .iter()
        .find(|p| p.name == "out_data_0")
        .map(|p| p.width as usize)
        .context("the array top has no out_data_0 port")?;
    let harness = stream_harness(&design.top, &ports, shape)?;
    let built = build(
        &design,
        "array_stream",
        &harness,
        Wave::None,
        RunLength::Long,
        cache,
    )?;
    Ok(ArraySim {
        top: design.top.clone(),
        exe: built.exe,
        shape,
        act_bits: c.pe.act_bits,
        weight_bits: c.pe.weight_bits,
        result_bits,
        emit_s,
        build_s: built.build_s,
        cached: built.cached,
    })
}

/// Speed figures of one Verilator run.
#[derive(Debug, Clone, Copy)]
pub struct SimStats {
    /// Clock cycles the harness simulated (the array's counter plus the reset/done cycles).
    pub sim_cycles: u64,
    /// Seconds in the harness process (including reading the stimulus).
    pub sim_s: f64,
    /// Seconds to prepare the streams and write the stimulus.
    pub prepare_s: f64,
    pub stimulus_bytes: usize,
}

fn stimulus(sim: &ArraySim, s: &Streams) -> Result<Vec<u8>> {
    let sh = sim.shape;
    let mut b = Vec::new();
    let u32s = |b: &mut Vec<u8>, v: usize| b.extend_from_slice(&(v as u32).to_le_bytes());
    b.extend_from_slice(b"TSTM");
    for v in [
        sh.rows,
        sh.cols,
        sh.ks,
        sh.lanes,
        usize::from(sh.mac),
        s.expected,
        s.acts.len(),
    ] {
        u32s(&mut b, v);
    }
    let amask = (1u64 << sim.act_bits) - 1;
    for (mask, data) in &s.acts {
        b.extend_from_slice(&mask.to_le_bytes());
        for &v in data {
            b.extend_from_slice(&(((v as u64) & amask) as u16).to_le_bytes());
        }
    }
    for col in &s.weights {
        u32s(&mut b, col.len());
        for beat in col {
            let flags = u8::from(beat.group_end) | u8::from(beat.last) << 1;
            if sh.mac {
                let m = beat.w.unsigned_abs()
                    | if beat.w < 0 {
                        1u64 << (sim.weight_bits - 1)
                    } else {
                        0
                    };
                b.extend_from_slice(&(m as u32).to_le_bytes());
                b.push(beat.ptr as u8);
            } else {
                if beat.lanes.len() != sh.lanes {
                    bail!(
                        "a kneaded weight has {} lanes, the array {}",
                        beat.lanes.len(),
                        sh.lanes
                    );
                }
                for l in &beat.lanes {
                    b.push(u8::from(l.valid) | u8::from(l.neg) << 1 | (l.ptr as u8) << 2);
                }
            }
            b.push(flags);
        }
    }
    Ok(b)
}

struct OutReader<'a> {
    buf: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl OutReader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.pos + n;
        if end > self.buf.len() {
            bail!("{}: truncated harness output", self.path.display());
        }
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into()?))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into()?))
    }
}

/// Run pixel tiles `tiles` of a mapped layer on the Verilator build `sim` (its engine must
/// match `engine`). Files go to `work`.
///
/// With `jobs` > 1 the tiles are split into that many contiguous chunks, each simulated by
/// its own harness process from reset (the array's timing depends only on the number of
/// tiles, so each chunk's cycle counter has its own cycle-model figure: `RtlRun::chunks`).
/// Outputs are the union of the chunks'; `cycles` is then the sum over the chunks.
pub fn run_layer_verilator(
    sim: &ArraySim,
    cfg: &Config,
    d: LayerData,
    engine: Engine,
    tiles: &[usize],
    work: &Path,
    jobs: usize,
) -> Result<(RtlRun, SimStats)> {
    check_layer_fits(cfg, d.map, tiles)?;
    check_build_fits(sim, d.map, engine)?;
    let jobs = jobs.clamp(1, tiles.len().max(1));
    let per = tiles.len().div_ceil(jobs).max(1);
    let results: Vec<Result<(RtlRun, SimStats)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = tiles
            .chunks(per)
            .enumerate()
            .map(|(i, chunk)| {
                scope.spawn(move || {
                    let t0 = Instant::now();
                    let streams = build_streams(cfg, d, engine, chunk);
                    let streams_s = t0.elapsed().as_secs_f64();
                    let (run, mut stats) =
                        run_chunk(sim, &streams, chunk.len(), &work.join(format!("chunk{i}")))?;
                    stats.prepare_s += streams_s;
                    Ok((run, stats))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| bail!("a simulation thread panicked"))
            })
            .collect()
    });
    let mut total = RtlRun {
        cycles: 0,
        outputs: Vec::new(),
        trace: None,
        chunks: Vec::new(),
    };
    let mut stats = SimStats {
        sim_cycles: 0,
        sim_s: 0.0,
        prepare_s: 0.0,
        stimulus_bytes: 0,
    };
    for r in results {
        let (run, st) = r?;
        total.cycles += run.cycles;
        total.outputs.extend(run.outputs);
        total.chunks.extend(run.chunks);
        stats.sim_cycles += st.sim_cycles;
        stats.stimulus_bytes += st.stimulus_bytes;
        // The chunks run at the same time: the slowest one is the wall-clock.
        stats.prepare_s = stats.prepare_s.max(st.prepare_s);
        stats.sim_s = stats.sim_s.max(st.sim_s);
    }
    Ok((total, stats))
}

/// Whether the layer was mapped for this Verilator build (its engine, rows, cols and ks).
fn check_build_fits(sim: &ArraySim, map: &LayerMap, engine: Engine) -> Result<()> {
    if (engine == Engine::Mac) != sim.shape.mac {
        bail!("the Verilator build of {} is for the other engine", sim.top);
    }
    if map.rows != sim.shape.rows || map.cols != sim.shape.cols || map.ks != sim.shape.ks {
        bail!(
            "the layer was mapped for {}x{} ks={}, the Verilator build of {} is {}x{} ks={}",
            map.rows,
            map.cols,
            map.ks,
            sim.top,
            sim.shape.rows,
            sim.shape.cols,
            sim.shape.ks
        );
    }
    Ok(())
}

/// One harness process over the streams `s` of `tiles` pixel tiles (checked by the caller:
/// `check_layer_fits`, `check_build_fits`).
fn run_chunk(sim: &ArraySim, s: &Streams, tiles: usize, work: &Path) -> Result<(RtlRun, SimStats)> {
    let t0 = Instant::now();
    let stim = stimulus(sim, s)?;
    crate::fsutil::ensure_work_dir("work folder", work, false)?;
    let kind = if sim.shape.mac { "mac" } else { "sac" };
    let stim_path = work.join(format!("{kind}_stim.bin"));
    let out_path = work.join(format!("{kind}_out.bin"));
    write_atomic(&stim_path, &stim)?;
    let prepare_s = t0.elapsed().as_secs_f64();
    let what = format!("the Verilator run of {}", sim.top);
    let sim_s = crate::flow::verilator::run_harness(&sim.exe, &[&stim_path, &out_path], &what)?;
    let buf =
        std::fs::read(&out_path).with_context(|| format!("reading {}", out_path.display()))?;
    let mut rd = OutReader {
        buf: &buf,
        pos: 0,
        path: &out_path,
    };
    if rd.take(4)? != b"TOUT" {
        bail!("{}: not a harness output file", out_path.display());
    }
    let done = rd.u32()?;
    let cycles = rd.u32()? as u64;
    let sim_cycles = rd.u64()?;
    if done != 1 {
        bail!("{}: the array never raised done", sim.top);
    }
    let rows = sim.shape.rows;
    let mut outputs = Vec::new();
    for (c, dests) in s.results.iter().enumerate() {
        let n = rd.u32()? as usize;
        if n != dests.len() {
            bail!(
                "column {c} of {} produced {n} result beats, the schedule has {}",
                sim.top,
                dests.len()
            );
        }
        for dest in dests {
            let raw = rd.take(8 * rows)?;
            for (r, d) in dest.iter().enumerate() {
                if let Some(idx) = d {
                    let v = u64::from_le_bytes(raw[8 * r..8 * r + 8].try_into()?);
                    outputs.push((*idx, signed_of(v, sim.result_bits)));
                }
            }
        }
    }
    if rd.pos != buf.len() {
        bail!("{}: trailing bytes", out_path.display());
    }
    Ok((
        RtlRun {
            cycles,
            outputs,
            trace: None,
            chunks: vec![(tiles, cycles)],
        },
        SimStats {
            sim_cycles,
            sim_s,
            prepare_s,
            stimulus_bytes: stim.len(),
        },
    ))
}
