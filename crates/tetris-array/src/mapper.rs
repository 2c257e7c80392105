//! Host mapper: how a convolution layer (or GEMM) runs on a rows x cols array.
//!
//! The mapping (see `docs/array.md` for the diagram and the reasons):
//! - im2col: every output pixel is one GEMM row of `dot_len` activations in (ci, ky, kx) order,
//!   cut into kneading groups of KS consecutive values (the last group may be shorter);
//! - **row r = output pixel** of the current pixel tile (`rows` pixels per tile, the last tile
//!   may be partial); all rows of a column run in lock-step on the same weight stream;
//! - **column c = output filter**: a column owns a list of filters ("slots") and streams their
//!   kneaded weights one after the other; columns are *not* in lock-step with each other;
//! - filters are assigned to columns by longest-processing-time-first with equal slot counts,
//!   using the kneaded length of each filter, so that every column carries about the same work;
//! - the activation stream is a sequence of *beats*; a beat carries one kneading group for all
//!   rows plus a column mask; every masked column queues it and consumes it when its own weight
//!   stream reaches that group. Order: pass, pixel tile, slot, kneading group, conv group.
//!
//! A layer whose conv groups have at least `cols` filters each is mapped one conv group per
//! pass; smaller conv groups (depthwise) are packed side by side into one pass, each on its own
//! columns, with beats masked to the columns of their conv group.

use anyhow::{bail, Result};
use tetris_core::model::conv::ConvParams;
use tetris_core::model::encoding::{encode, Encoding};

/// Per-filter, per-kneading-group kneaded length (SAC cycles of the group; 0 when all zero).
/// `weights` holds `filters * dot_len` values, filter-major.
pub fn kneaded_lengths(
    weights: &[i64],
    dot_len: usize,
    bits: u32,
    enc: Encoding,
    ks: usize,
) -> Vec<Vec<u32>> {
    let lanes = enc.lanes(bits);
    weights
        .chunks(dot_len)
        .map(|filter| {
            filter
                .chunks(ks)
                .map(|group| {
                    let mut count = [0u32; 64];
                    for &w in group {
                        let mut nz = encode(w, bits, enc).nonzero;
                        while nz != 0 {
                            count[nz.trailing_zeros() as usize] += 1;
                            nz &= nz - 1;
                        }
                    }
                    count[..lanes].iter().copied().max().unwrap_or(0)
                })
                .collect()
        })
        .collect()
}

/// One beat of the activation stream: kneading group `kgroup` of conv group `conv_group`
/// for every row of the current pixel tile, queued by the columns in `mask`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Beat {
    pub conv_group: usize,
    pub kgroup: usize,
    pub slot: usize,
    pub mask: u64,
}

/// A set of filters resident on the columns while every pixel tile streams through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pass {
    /// `slots[c][j]`: the global output channel column c computes in slot j, if any.
    pub slots: Vec<Vec<Option<usize>>>,
    /// The activation beats of one pixel tile, in stream order.
    pub beats: Vec<Beat>,
}

impl Pass {
    /// Columns that take part in this pass.
    pub fn column_mask(&self) -> u64 {
        self.beats.iter().fold(0, |m, b| m | b.mask)
    }
}

/// A layer mapped onto the array.
#[derive(Debug, Clone)]
pub struct LayerMap {
    pub params: ConvParams,
    pub rows: usize,
    pub cols: usize,
    pub ks: usize,
    /// Kneading groups per dot product: ceil(dot_len / KS).
    pub kgroups: usize,
    pub passes: Vec<Pass>,
}

impl LayerMap {
    pub fn pixel_tiles(&self) -> usize {
        self.params.pixels().div_ceil(self.rows)
    }

    /// Pixels (rows in use) of pixel tile `t`.
    pub fn tile_pixels(&self, t: usize) -> std::ops::Range<usize> {
        let p = self.params.pixels();
        t * self.rows..((t + 1) * self.rows).min(p)
    }

    /// Weights of kneading group `g` of a dot product (KS, or fewer for the last group).
    pub fn group_size(&self, g: usize) -> usize {
        (self.params.dot_len() - g * self.ks).min(self.ks)
    }

    /// Conv group of global output channel `o`.
    pub fn conv_group_of(&self, o: usize) -> usize {
        o / self.params.cout_g()
    }
}

/// Map a layer. `lens[o][g]` are the kneaded lengths of filter `o` (from [`kneaded_lengths`]);
/// they only steer the filter-to-column balance, the mapping is valid for any values.
pub fn map_layer(
    p: &ConvParams,
    rows: usize,
    cols: usize,
    ks: usize,
    lens: &[Vec<u32>],
) -> Result<LayerMap> {
    p.validate()?;
    if rows == 0 || cols == 0 || cols > 64 || ks == 0 {
        bail!("array {rows}x{cols} with KS={ks}: rows, cols and KS must be >= 1, cols <= 64");
    }
    if lens.len() != p.cout {
        bail!("{} kneaded-length rows for {} filters", lens.len(), p.cout);
    }
    let kgroups = p.dot_len().div_ceil(ks);
    let cost = |o: usize| lens[o].iter().map(|&l| l.max(1) as u64).sum::<u64>();
    let mut passes = Vec::new();
    let per_group = p.cout_g();
    if per_group >= cols || p.groups == 1 {
        for q in 0..p.groups {
            let filters: Vec<usize> = (q * per_group..(q + 1) * per_group).collect();
            let slots = balance(&filters, cols, &cost);
            let nslots = slots[0].len();
            let mut beats = Vec::new();
            for j in 0..nslots {
                let mask = slots
                    .iter()
                    .enumerate()
                    .filter(|(_, col)| col[j].is_some())
                    .fold(0u64, |m, (c, _)| m | 1 << c);
                for g in 0..kgroups {
                    beats.push(Beat {
                        conv_group: q,
                        kgroup: g,
                        slot: j,
                        mask,
                    });
                }
            }
            passes.push(Pass { slots, beats });
        }
    } else {
        // Small conv groups side by side: `fit` conv groups per pass, one slot each.
        let fit = cols / per_group;
        for first in (0..p.groups).step_by(fit) {
            let qs: Vec<usize> = (first..(first + fit).min(p.groups)).collect();
            let mut slots = vec![vec![None]; cols];
            for (i, &q) in qs.iter().enumerate() {
                for f in 0..per_group {
                    slots[i * per_group + f][0] = Some(q * per_group + f);
                }
            }
            let mut beats = Vec::new();
            for g in 0..kgroups {
                for (i, &q) in qs.iter().enumerate() {
                    let mask = (i * per_group..(i + 1) * per_group).fold(0u64, |m, c| m | 1 << c);
                    beats.push(Beat {
                        conv_group: q,
                        kgroup: g,
                        slot: 0,
                        mask,
                    });
                }
            }
            passes.push(Pass { slots, beats });
        }
    }
    Ok(LayerMap {
        params: p.clone(),
        rows,
        cols,
        ks,
        kgroups,
        passes,
    })
}

/// Longest-processing-time-first with equal slot counts: ceil(n/cols) slots per column, each
/// filter (heaviest first) to the least-loaded column that still has a free slot.
fn balance(filters: &[usize], cols: usize, cost: &dyn Fn(usize) -> u64) -> Vec<Vec<Option<usize>>> {
    let nslots = filters.len().div_ceil(cols).max(1);
    let mut order: Vec<usize> = filters.to_vec();
    order.sort_by_key(|&o| (std::cmp::Reverse(cost(o)), o));
    let mut load = vec![0u64; cols];
    let mut assigned: Vec<Vec<usize>> = vec![Vec::new(); cols];
    for o in order {
        let c = (0..cols)
            .filter(|&c| assigned[c].len() < nslots)
            .min_by_key(|&c| (load[c], c))
            .expect("enough slots by construction");
        load[c] += cost(o);
        assigned[c].push(o);
    }
    assigned
        .into_iter()
        .map(|mut fs| {
            // Slot order inside a column: heaviest first (keeps columns' progress similar).
            fs.sort_by_key(|&o| (std::cmp::Reverse(cost(o)), o));
            let mut s: Vec<Option<usize>> = fs.into_iter().map(Some).collect();
            s.resize(nslots, None);
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tetris_core::model::knead::knead_group;

    #[test]
    fn kneaded_lengths_match_the_knead_model() {
        let mut r = tetris_core::model::rng::SplitMix64::new(12345);
        let w: Vec<i64> = (0..3 * 40).map(|_| r.range(-255, 255)).collect();
        for enc in [Encoding::Sm, Encoding::Csd] {
            let l = kneaded_lengths(&w, 40, 9, enc, 16);
            for (o, filt) in w.chunks(40).enumerate() {
                for (g, grp) in filt.chunks(16).enumerate() {
                    assert_eq!(l[o][g] as usize, knead_group(grp, 9, enc).len());
                }
            }
        }
    }

    #[test]
    fn every_filter_is_mapped_once_and_beats_cover_all_groups() {
        for (cout, groups, cols) in [(10, 1, 4), (3, 1, 8), (16, 16, 4), (12, 3, 8), (8, 2, 3)] {
            let mut p = ConvParams::gemm(5, 2 * groups, cout);
            p.groups = groups;
            let lens = vec![vec![1u32; 1]; cout];
            let m = map_layer(&p, 2, cols, 16, &lens).unwrap();
            let mut seen = vec![0; cout];
            for pass in &m.passes {
                for (c, col) in pass.slots.iter().enumerate() {
                    for (j, f) in col.iter().enumerate() {
                        if let Some(o) = f {
                            seen[*o] += 1;
                            // The column receives exactly the beats of its filter's conv group.
                            let n = pass
                                .beats
                                .iter()
                                .filter(|b| b.mask >> c & 1 == 1 && b.slot == j)
                                .inspect(|b| assert_eq!(b.conv_group, m.conv_group_of(*o)))
                                .count();
                            assert_eq!(n, m.kgroups);
                        }
                    }
                }
            }
            assert!(
                seen.iter().all(|&s| s == 1),
                "{cout} {groups} {cols}: {seen:?}"
            );
        }
    }

    #[test]
    fn balancing_evens_out_column_loads() {
        // Filters of cost 8,7,...,1 on 2 columns with 4 slots each: LPT gives 18 and 18.
        let lens: Vec<Vec<u32>> = (1..=8).rev().map(|c| vec![c]).collect();
        let p = ConvParams::gemm(1, 1, 8);
        let m = map_layer(&p, 1, 2, 16, &lens).unwrap();
        let load: Vec<u32> = m.passes[0]
            .slots
            .iter()
            .map(|s| s.iter().map(|o| lens[o.unwrap()][0]).sum())
            .collect();
        assert_eq!(load, vec![18, 18]);
    }
}
