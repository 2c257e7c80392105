//! Analyses of weights (what the hardware would gain), built on the golden models.

pub mod knead_stats;
