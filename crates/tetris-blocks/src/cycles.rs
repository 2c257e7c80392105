//! The analytic cycle model of the blocks, as specified in `docs/rtl.md` and asserted equal to
//! the RTL by `tests/rtl_blocks.rs`. An array-level model builds on these.

use tetris_core::model::knead::KneadedWeight;

/// Result latency of the SAC and MAC PEs: cycles from the cycle the last beat is accepted to
/// the first cycle `res_valid` is high.
pub const PE_RESULT_LATENCY: usize = 1;

/// Beats (= PE cycles at full throughput) of one dot product on a SAC PE: the kneaded weights
/// of all groups, plus one null beat when the last group is all zero (it carries `last`).
pub fn sac_pe_cycles(groups: &[Vec<KneadedWeight>]) -> usize {
    let kneaded: usize = groups.iter().map(Vec::len).sum();
    let null_beat = groups.last().is_none_or(|g| g.is_empty());
    kneaded + null_beat as usize
}

/// Activation groups a SAC PE loads for a dot product: one per group that has beats.
pub fn sac_pe_act_loads(groups: &[Vec<KneadedWeight>]) -> usize {
    let n = groups.len();
    groups
        .iter()
        .enumerate()
        .filter(|(g, k)| !k.is_empty() || g + 1 == n)
        .count()
}

/// Cycles of a dot product of `n` pairs on a MAC PE.
pub fn mac_pe_cycles(n: usize) -> usize {
    n
}

/// Cycles the kneading unit needs for a stream of groups with no back-pressure, from the cycle
/// the first group is accepted to the cycle of the last beat (inclusive): one load cycle, then
/// per group its beats; a non-empty group's load overlaps the previous group's final beat, an
/// all-zero non-last group costs one cycle of its own.
pub fn knead_unit_cycles(groups: &[(Vec<KneadedWeight>, bool)]) -> usize {
    let mut cycles = 1; // the cycle the first group is accepted
    let mut prev_emitted = false; // the previous group ended with a beat in whose cycle we load
    for (i, (k, last)) in groups.iter().enumerate() {
        let beats = if k.is_empty() {
            *last as usize
        } else {
            k.len()
        };
        if i > 0 && !prev_emitted {
            cycles += 1; // loaded in a cycle of its own
        }
        cycles += beats;
        prev_emitted = beats > 0;
    }
    cycles
}
