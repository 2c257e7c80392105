//! The host side of an array run, shared by every engine that drives the array RTL (the
//! in-process simulation, Verilator, the gate-level workload of `tetris power`): the activation
//! stream carries the mapper's beats (masked per engine, `cycle_model::effective_beats`), each
//! column's weight stream carries its filters' kneaded groups (SAC) or one weight per beat with
//! its activation index (MAC); [`RtlRun`] is what a run returns.

use crate::cycle_model::{effective_beats, Engine};
use crate::mapper::LayerMap;
use anyhow::{bail, Result};
use tetris_blocks::sim::Trace;
use tetris_core::config::Config;
use tetris_core::model::knead::{knead_group, Lane};

/// One beat of a column's weight stream.
#[derive(Debug, Clone)]
pub struct WBeat {
    /// SAC: the kneaded weight's lanes.
    pub lanes: Vec<Lane>,
    /// MAC: the weight and the index of its activation in the group.
    pub w: i64,
    pub ptr: u16,
    pub group_end: bool,
    pub last: bool,
}

/// What the host prepares for one run.
pub struct Streams {
    /// (mask, rows*KS activations).
    pub acts: Vec<(u64, Vec<i64>)>,
    pub weights: Vec<Vec<WBeat>>,
    /// Per column, in order: (output index into `[N, Cout, OH, OW]` per row, None past P).
    pub results: Vec<Vec<Vec<Option<usize>>>>,
    pub expected: usize,
}

/// Outcome of an RTL run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtlRun {
    /// The array's cycle counter at `done`.
    pub cycles: u64,
    /// (output index, value) for every output the run produced.
    pub outputs: Vec<(usize, i128)>,
    /// Top-level ports of every cycle after reset (with `record`), for Verilog replay.
    pub trace: Option<Trace>,
    /// (pixel tiles, cycle counter) of each separately simulated run: one entry, or one per
    /// chunk when an engine splits the tiles over parallel simulations.
    pub chunks: Vec<(usize, u64)>,
}

/// One mapped layer's data, as every engine that drives the array reads it.
#[derive(Debug, Clone, Copy)]
pub struct LayerData<'a> {
    pub map: &'a LayerMap,
    /// Input activations, `[N, Cin, H, W]` flattened.
    pub input: &'a [i64],
    /// Quantized weights, output channel first (`[Cout, dot_len]`).
    pub qweights: &'a [i64],
    /// Kneaded length of every filter's weight groups (`mapper::kneaded_lengths`).
    pub lens: &'a [Vec<u32>],
}

impl<'a> LayerData<'a> {
    pub fn new(
        map: &'a LayerMap,
        input: &'a [i64],
        qweights: &'a [i64],
        lens: &'a [Vec<u32>],
    ) -> Self {
        LayerData {
            map,
            input,
            qweights,
            lens,
        }
    }
}

/// The streams of pixel tiles `tiles` of `d` for `engine`, at `cfg`'s widths.
pub fn build_streams(cfg: &Config, d: LayerData, engine: Engine, tiles: &[usize]) -> Streams {
    let LayerData {
        map,
        input,
        qweights,
        lens,
    } = d;
    let (bits, enc) = (cfg.pe.weight_bits, cfg.pe.encoding);
    let lanes = cfg.widths().lanes as usize;
    let p = &map.params;
    let (rows, cols, ks) = (map.rows, map.cols, map.ks);
    let plane = p.out_h() * p.out_w();
    let dot = p.dot_len();
    let mut acts = Vec::new();
    let mut weights = vec![Vec::new(); cols];
    let mut results = vec![Vec::new(); cols];
    let mut expected = 0;
    for pass in &map.passes {
        let beats = effective_beats(map, pass, lens, engine);
        for &t in tiles {
            let pixels: Vec<usize> = map.tile_pixels(t).collect();
            // im2col rows of this tile per conv group, computed once.
            let mut rows_of = std::collections::HashMap::new();
            for b in &beats {
                let im = rows_of.entry(b.conv_group).or_insert_with(|| {
                    pixels
                        .iter()
                        .map(|&px| p.im2col_row(input, px, b.conv_group))
                        .collect::<Vec<_>>()
                });
                let mut data = vec![0i64; rows * ks];
                for (r, row) in im.iter().enumerate() {
                    let g0 = b.kgroup * ks;
                    for i in 0..map.group_size(b.kgroup) {
                        data[r * ks + i] = row[g0 + i];
                    }
                }
                acts.push((b.mask, data));
                for (c, col) in weights.iter_mut().enumerate() {
                    if b.mask >> c & 1 == 0 {
                        continue;
                    }
                    let o = pass.slots[c][b.slot].expect("masked column has a filter");
                    let g0 = o * dot + b.kgroup * ks;
                    let group = &qweights[g0..g0 + map.group_size(b.kgroup)];
                    let last = b.kgroup + 1 == map.kgroups;
                    // (lanes, weight, ptr) per beat.
                    let mut kws: Vec<(Vec<Lane>, i64, u16)> = match engine {
                        Engine::Sac => knead_group(group, bits, enc)
                            .into_iter()
                            .map(|k| (k.lanes, 0, 0))
                            .collect(),
                        Engine::Mac => group
                            .iter()
                            .enumerate()
                            .map(|(i, &w)| (Vec::new(), w, i as u16))
                            .collect(),
                    };
                    if kws.is_empty() {
                        kws.push((vec![Lane::default(); lanes], 0, 0));
                    }
                    let n = kws.len();
                    for (k, (l, w, ptr)) in kws.into_iter().enumerate() {
                        col.push(WBeat {
                            lanes: l,
                            w,
                            ptr,
                            group_end: k + 1 == n,
                            last: last && k + 1 == n,
                        });
                    }
                    if last {
                        results[c].push(
                            (0..rows)
                                .map(|r| {
                                    pixels
                                        .get(r)
                                        .map(|&px| (px / plane * p.cout + o) * plane + px % plane)
                                })
                                .collect(),
                        );
                        expected += 1;
                    }
                }
            }
        }
    }
    Streams {
        acts,
        weights,
        results,
        expected,
    }
}

pub fn signed_of(u: u64, bits: usize) -> i128 {
    let shift = 128 - bits as u32;
    (((u as u128) << shift) as i128) >> shift
}

/// What every RTL engine (in-process and Verilator) checks before it drives a layer: the map is
/// for the config's array, the accumulators are wide enough for the layer's dot products (the
/// RTL would wrap silently otherwise), and the tiles exist.
pub fn check_layer_fits(cfg: &Config, map: &LayerMap, tiles: &[usize]) -> Result<()> {
    if map.rows != cfg.array.rows as usize || map.cols != cfg.array.cols as usize {
        bail!(
            "the layer was mapped for {}x{}, the config says {}x{}",
            map.rows,
            map.cols,
            cfg.array.rows,
            cfg.array.cols
        );
    }
    if map.params.dot_len() > cfg.pe.max_dot_len as usize {
        bail!(
            "the layer's dot products have {} terms, more than pe.max_dot_len = {} the RTL \
             accumulators are sized for: raise pe.max_dot_len",
            map.params.dot_len(),
            cfg.pe.max_dot_len
        );
    }
    if let Some(&t) = tiles.iter().find(|&&t| t >= map.pixel_tiles()) {
        bail!(
            "pixel tile {t} out of range (the layer has {})",
            map.pixel_tiles()
        );
    }
    Ok(())
}
