//! The cycle model of the array schedule (the same schedule the RTL runs; see `docs/array.md`).
//!
//! Every column has an activation queue of `window` beats. Cycle semantics:
//! - the activation stream writes at most one beat per cycle; beat n is written in cycle
//!   `a_n = max(a_{n-1} + 1, max over its masked columns c of f_c(k_c - window))`, where
//!   `k_c` is the beat's position in column c's own sequence and `f_c(k)` the first cycle
//!   after column c finished its k-th beat (a queue slot is free from that cycle on);
//!   the first beat is written in cycle 0;
//! - column c starts its k-th beat at `s = max(f_c(k-1), a_n + 1)` and spends `cost` cycles on
//!   it: the kneaded length for a SAC column (all-zero groups are skipped, see
//!   [`effective_beats`], except a last one, which costs one null beat), the group size for a
//!   MAC column; `f_c(k) = s + cost`;
//! - the layer ends `latency` cycles after the last column finished: the result register is
//!   valid in cycle `f`, read in that cycle, and the host counter counts cycles 0..=f, so
//!   `cycles = max_c f_c(last) + latency` with latency 1.
//!
//! This is a recurrence over beats, not a cycle loop: its cost is one step per (beat, column).
//! Pixel tiles repeat the same beats and weight streams, so once the schedule's state (all
//! times relative to the last write) repeats with some period, the remaining tiles are
//! extrapolated exactly instead of simulated.

use super::mapper::LayerMap;

/// Fixed timing parameters of the array RTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Activation queue depth per column, in beats.
    pub window: usize,
    /// Cycles from the last column's last beat to `done`.
    pub latency: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            window: DEFAULT_WINDOW,
            latency: DONE_LATENCY,
        }
    }
}

/// Activation queue depth per PE: the SAC PE's two activation banks (current and next).
pub const DEFAULT_WINDOW: usize = 2;
/// Cycles from the last beat to `done` in the RTL.
pub const DONE_LATENCY: u64 = 1;

/// Which array the model times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sac,
    Mac,
}

/// The schedule state: last write time and, per column, the finish times of its last
/// `window` beats (oldest first) in a ring.
struct State {
    last_write: i64,
    ring: Vec<Vec<i64>>,
    head: Vec<usize>,
    filled: Vec<usize>,
    last_finish: Vec<i64>,
}

impl State {
    fn new(cols: usize, window: usize) -> State {
        State {
            last_write: -1,
            ring: vec![vec![0; window]; cols],
            head: vec![0; cols],
            filled: vec![0; cols],
            last_finish: vec![0; cols],
        }
    }

    /// The state relative to the last write, over the columns in `mask` (for period detection).
    fn normalized(&self, mask: u64) -> Vec<i64> {
        let mut v = Vec::new();
        for c in 0..self.ring.len() {
            if mask >> c & 1 == 1 {
                v.push(self.filled[c] as i64);
                v.push(self.head[c] as i64);
                v.push(self.last_finish[c] - self.last_write);
                v.extend(self.ring[c].iter().map(|&t| t - self.last_write));
            }
        }
        v
    }

    fn shift(&mut self, mask: u64, by: i64) {
        self.last_write += by;
        for c in 0..self.ring.len() {
            if mask >> c & 1 == 1 {
                self.last_finish[c] += by;
                for t in &mut self.ring[c] {
                    *t += by;
                }
            }
        }
    }
}

/// Cycles of a whole layer on the SAC or MAC array. `lens[o][g]` are the kneaded lengths of
/// filter o (only used for `Engine::Sac`).
pub fn layer_cycles(map: &LayerMap, lens: &[Vec<u32>], engine: Engine, timing: Timing) -> u64 {
    layer_cycles_for_tiles(map, lens, engine, timing, map.pixel_tiles())
}

/// Cycles of a run of `tiles` pixel tiles of the layer (the timing does not depend on which
/// tiles: every tile streams the same beats and weights). Used for sampled RTL runs.
pub fn layer_cycles_for_tiles(
    map: &LayerMap,
    lens: &[Vec<u32>],
    engine: Engine,
    timing: Timing,
    tiles: usize,
) -> u64 {
    let cols = map.cols;
    let w = timing.window.max(1);
    let mut st = State::new(cols, w);
    let cost = |o: usize, g: usize| -> i64 {
        match engine {
            Engine::Sac => lens[o][g].max(1) as i64,
            Engine::Mac => map.group_size(g) as i64,
        }
    };
    for pass in &map.passes {
        // Per beat, the columns that take it and their costs (the same for every tile).
        let beats = effective_beats(map, pass, lens, engine);
        let costs: Vec<Vec<i64>> = beats
            .iter()
            .map(|b| {
                (0..cols)
                    .map(|c| match pass.slots[c][b.slot] {
                        Some(o) if b.mask >> c & 1 == 1 => cost(o, b.kgroup),
                        _ => 0,
                    })
                    .collect()
            })
            .collect();
        let mask = pass.column_mask();
        let mut history: Vec<(Vec<i64>, i64)> = Vec::new();
        let mut t = 0;
        while t < tiles {
            for (b, cost) in beats.iter().zip(&costs) {
                let mut a = st.last_write + 1;
                let mut m = b.mask;
                while m != 0 {
                    let c = m.trailing_zeros() as usize;
                    m &= m - 1;
                    if st.filled[c] == w {
                        a = a.max(st.ring[c][st.head[c]]);
                    }
                }
                let mut m = b.mask;
                while m != 0 {
                    let c = m.trailing_zeros() as usize;
                    m &= m - 1;
                    let f = st.last_finish[c].max(a + 1) + cost[c];
                    st.last_finish[c] = f;
                    let h = st.head[c];
                    st.ring[c][h] = f;
                    st.head[c] = (h + 1) % w;
                    st.filled[c] = (st.filled[c] + 1).min(w);
                }
                st.last_write = a;
            }
            t += 1;
            // Period detection: if the relative state equals the one `k` tiles ago, every
            // further block of k tiles adds the same number of cycles.
            let norm = st.normalized(mask);
            if let Some(k) = history
                .iter()
                .rev()
                .position(|(n, _)| *n == norm)
                .map(|i| i + 1)
            {
                let delta = st.last_write - history[history.len() - k].1;
                let blocks = (tiles - t) / k;
                st.shift(mask, delta * blocks as i64);
                t += blocks * k;
                history.clear();
            } else {
                history.push((norm, st.last_write));
                if history.len() > 4 {
                    history.remove(0);
                }
            }
        }
    }
    let end = st.last_finish.iter().copied().max().unwrap_or(0);
    end as u64 + timing.latency
}

/// The beats of one pixel tile as the array sees them: a SAC column skips a kneading group
/// whose weights are all zero (it would contribute nothing) unless it is the last group of the
/// dot product (which carries the `last` flag in one null beat); a beat no column takes is not
/// sent. The MAC array takes every beat of its filters.
pub fn effective_beats(
    map: &LayerMap,
    pass: &super::mapper::Pass,
    lens: &[Vec<u32>],
    engine: Engine,
) -> Vec<super::mapper::Beat> {
    pass.beats
        .iter()
        .filter_map(|b| {
            let mut mask = b.mask;
            if engine == Engine::Sac && b.kgroup + 1 < map.kgroups {
                for c in 0..map.cols {
                    if let Some(o) = pass.slots[c][b.slot] {
                        if lens[o][b.kgroup] == 0 {
                            mask &= !(1u64 << c);
                        }
                    }
                }
            }
            (mask != 0).then_some(super::mapper::Beat { mask, ..*b })
        })
        .collect()
}

/// Kneaded weights (SAC) or weights (MAC) the PEs actually process for real pixels, counted
/// per PE: the numerator of utilization.
pub fn useful_pe_cycles(map: &LayerMap, lens: &[Vec<u32>], engine: Engine) -> u64 {
    let per_filter: u64 = match engine {
        Engine::Sac => lens.iter().flatten().map(|&l| l as u64).sum(),
        Engine::Mac => map.params.weight_len() as u64,
    };
    per_filter * map.params.pixels() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapper::map_layer;
    use tetris_core::model::conv::ConvParams;

    #[allow(clippy::needless_range_loop)] // index-parallel arrays read more plainly here
    /// A plain cycle-by-cycle simulation of the same queue semantics, to check the recurrence
    /// and the period extrapolation. It applies the beat rules of the module doc itself (not
    /// through `effective_beats`): a SAC column does not queue a kneading group whose kneaded
    /// length is 0 unless it is the last group of the dot product (that one costs a null
    /// beat), and a beat no column queues is not written.
    fn stepped(map: &LayerMap, lens: &[Vec<u32>], engine: Engine, timing: Timing) -> u64 {
        let cols = map.cols;
        // The written beats in stream order, each with (column, cost) of the columns queueing it.
        let mut beats: Vec<Vec<(usize, i64)>> = Vec::new();
        for pass in &map.passes {
            for _ in 0..map.pixel_tiles() {
                for b in &pass.beats {
                    let last_group = b.kgroup == map.kgroups - 1;
                    let takers: Vec<(usize, i64)> = (0..cols)
                        .filter(|&c| b.mask >> c & 1 == 1)
                        .filter_map(|c| {
                            let o = pass.slots[c][b.slot].expect("a masked column has a filter");
                            let cost = match engine {
                                Engine::Mac => map.group_size(b.kgroup) as i64,
                                Engine::Sac => match lens[o][b.kgroup] {
                                    0 if !last_group => return None,
                                    0 => 1,
                                    l => l as i64,
                                },
                            };
                            Some((c, cost))
                        })
                        .collect();
                    if !takers.is_empty() {
                        beats.push(takers);
                    }
                }
            }
        }
        // Per column: its beats' costs in order.
        let mut seq: Vec<Vec<(usize, i64)>> = vec![Vec::new(); cols];
        for (n, takers) in beats.iter().enumerate() {
            for &(c, cost) in takers {
                seq[c].push((n, cost));
            }
        }
        let mut written = 0usize; // beats written so far
        let mut queue: Vec<std::collections::VecDeque<usize>> = vec![Default::default(); cols];
        let mut pos = vec![0usize; cols]; // next beat of the column's sequence
        let mut left = vec![0i64; cols]; // cycles left on the current beat
        let mut last = 0i64;
        let mut cycle = 0i64;
        loop {
            // Start of cycle: decisions on start-of-cycle state.
            let can_write = written < beats.len()
                && beats[written]
                    .iter()
                    .all(|&(c, _)| queue[c].len() < timing.window);
            let mut pops = Vec::new();
            for c in 0..cols {
                if left[c] == 0 && pos[c] < seq[c].len() && !queue[c].is_empty() {
                    left[c] = seq[c][pos[c]].1;
                }
                if left[c] > 0 {
                    left[c] -= 1;
                    if left[c] == 0 {
                        pops.push(c);
                        pos[c] += 1;
                        last = last.max(cycle + 1);
                    }
                }
            }
            for c in pops {
                queue[c].pop_front();
            }
            if can_write {
                for &(c, _) in &beats[written] {
                    queue[c].push_back(written);
                }
                written += 1;
            }
            cycle += 1;
            if written == beats.len() && (0..cols).all(|c| pos[c] == seq[c].len()) {
                break;
            }
        }
        last as u64 + timing.latency
    }

    #[test]
    fn recurrence_and_extrapolation_equal_a_stepped_simulation() {
        let mut r = tetris_core::model::rng::SplitMix64::new(99);
        let mut rnd = |n: u64| r.next_u64() % n;
        for _ in 0..60 {
            let cols = 1 + rnd(5) as usize;
            let rows = 1 + rnd(3) as usize;
            let groups = [1, 1, 2][rnd(3) as usize];
            let cout = groups * (1 + rnd(6) as usize);
            let k = groups * (1 + rnd(40) as usize);
            let mut p = ConvParams::gemm(1 + rnd(20) as usize, k, cout);
            p.groups = groups;
            let ks = 1 + rnd(8) as usize;
            let kg = p.dot_len().div_ceil(ks);
            let lens: Vec<Vec<u32>> = (0..cout)
                .map(|_| (0..kg).map(|_| rnd(ks as u64 + 1) as u32).collect())
                .collect();
            let map = map_layer(&p, rows, cols, ks, &lens).unwrap();
            let timing = Timing {
                window: 1 + rnd(4) as usize,
                latency: 3,
            };
            for e in [Engine::Sac, Engine::Mac] {
                assert_eq!(
                    layer_cycles(&map, &lens, e, timing),
                    stepped(&map, &lens, e, timing),
                    "{p:?} cols={cols} rows={rows} ks={ks} {timing:?} {e:?}"
                );
            }
        }
    }

    #[test]
    fn mac_array_on_a_dense_layer_is_tiles_times_slots_times_dot_len() {
        let p = ConvParams::gemm(10, 40, 12);
        let lens = vec![vec![1u32; 3]; 12];
        let map = map_layer(&p, 4, 4, 16, &lens).unwrap();
        // 3 pixel tiles, 3 slots, 40 cycles per dot product, +1 for the first write.
        let c = layer_cycles(&map, &lens, Engine::Mac, Timing::default());
        assert_eq!(c, 3 * 3 * 40 + 1 + DONE_LATENCY);
    }
}
