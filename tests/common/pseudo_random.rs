//! Seeded pseudo-random weights for test and bench fixtures: a xorshift64 stream, so the
//! fixtures need no generator from the code under test.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

/// The successive states of a xorshift64 generator (13, 7, 17) started from `seed`
/// scrambled by the golden ratio (never 0).
pub fn xorshift_states(seed: u64) -> impl Iterator<Item = u64> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    std::iter::repeat_with(move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    })
}

/// `n` values spread evenly over [-width/2, width/2) in steps of width / 2^24 (the top 24 bits
/// of [`xorshift_states`]`(seed)`).
pub fn uniform_values(n: usize, seed: u64, width: f32) -> Vec<f32> {
    xorshift_states(seed)
        .take(n)
        .map(|x| ((x >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * width)
        .collect()
}
