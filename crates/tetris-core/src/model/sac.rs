//! Split-and-accumulate (SAC) evaluation, the golden model of the SAC PE.
//!
//! Per cycle one kneaded weight arrives; each valid lane b adds the activation its pointer
//! selects (negated for a -1 digit) to segment accumulator S_b. At the end of the dot product
//! the result is sum_b S_b << b.

use super::knead::KneadedWeight;

/// Cycle-level state of a SAC PE: one segment accumulator per digit lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SacState {
    pub segments: Vec<i128>,
}

impl SacState {
    pub fn new(lanes: usize) -> Self {
        SacState {
            segments: vec![0; lanes],
        }
    }

    /// One cycle: consume one kneaded weight against the group's activations.
    pub fn step(&mut self, kw: &KneadedWeight, acts: &[i64]) {
        for (b, lane) in kw.lanes.iter().enumerate() {
            if lane.valid {
                let a = acts[lane.ptr as usize] as i128;
                self.segments[b] += if lane.neg { -a } else { a };
            }
        }
    }

    /// The shift-add tree: sum_b S_b * 2^b.
    pub fn result(&self) -> i128 {
        self.segments.iter().enumerate().map(|(b, &s)| s << b).sum()
    }
}

/// Evaluate a dot product given as kneaded groups and the matching activation groups.
/// Returns (result, cycles) where cycles is the number of kneaded weights consumed.
pub fn sac_dot(
    groups: &[Vec<KneadedWeight>],
    act_groups: &[&[i64]],
    lanes: usize,
) -> (i128, usize) {
    let mut st = SacState::new(lanes);
    let mut cycles = 0;
    for (g, acts) in groups.iter().zip(act_groups) {
        for kw in g {
            st.step(kw, acts);
            cycles += 1;
        }
    }
    (st.result(), cycles)
}
