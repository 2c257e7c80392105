//! The multiply-accumulate reference: the plain dot product, one weight per cycle.

/// sum_i w_i * a_i, exact. Cycles of a MAC PE = number of weights.
pub fn mac_dot(weights: &[i64], acts: &[i64]) -> i128 {
    assert_eq!(weights.len(), acts.len(), "dot product of unequal lengths");
    weights
        .iter()
        .zip(acts)
        .map(|(&w, &a)| w as i128 * a as i128)
        .sum()
}
