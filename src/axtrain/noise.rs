//! The hardware's error as seen by training: passive noise for a layer's outputs (also the
//! error the active regularizer's erroneous pass draws), and the by-magnitude moments of
//! the accumulated error.
//!
//! All figures are in product units (LSBs of the integer accumulator); the trainer scales
//! them by s_a * s_w to the float pre-activation.

use super::hardware::Hardware;
use super::qnet::{gemm, Arith};
use crate::model::rng::SplitMix64;
use crate::noise::metrics::{Acc, Metrics};

/// How passive training draws the multiplier's error.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum NoiseModel {
    /// The profile's additive Gaussian per product, fan-in scaled: an output with K products
    /// gets N(mu * (K+ - K-), K sigma^2) (K+/K- = positive/negative weights: the
    /// sign-magnitude convention negates a negative weight's error).
    Gauss,
    /// The profile's error-by-operand-magnitude table: each product adds the mean and
    /// variance of its (bit length of a, bit length of |w|) cell; the sum is drawn Gaussian.
    Magnitude,
    /// The exact error of every product (the LUT minus the exact product); with timing
    /// errors, a fresh draw per multiply.
    Lut,
}

/// Error statistics of one piece of hardware, derived once from its exhaustive
/// characterization.
pub struct ErrorModel {
    pub hw: Hardware,
    pub metrics: Metrics,
    pub acc: Acc,
    /// Mean and variance of the product error per (weight code, activation) from the
    /// by-magnitude table, sign-adjusted for negative weights.
    mag_mean: Vec<f64>,
    mag_var: Vec<f64>,
}

impl ErrorModel {
    pub fn new(hw: Hardware) -> Self {
        let acc = hw.characterize();
        let metrics = acc.metrics(true);
        let m = acc.width as usize + 1;
        let mut mag_mean = vec![0.0; 1 << 16];
        let mut mag_var = vec![0.0; 1 << 16];
        for wc in 0..256usize {
            let w = wc as u8 as i8 as i64;
            let lw = crate::noise::metrics::bit_len(w.unsigned_abs());
            for a in 0..256usize {
                let la = crate::noise::metrics::bit_len(a as u64);
                let c = &acc.mag[la.min(m - 1) * m + lw.min(m - 1)];
                if c.count == 0 {
                    continue;
                }
                let n = c.count as f64;
                let mu = c.sum_err as f64 / n;
                let var = (c.sum_sq as f64 / n - mu * mu).max(0.0);
                mag_mean[(wc << 8) | a] = if w < 0 { -mu } else { mu };
                mag_var[(wc << 8) | a] = var;
            }
        }
        ErrorModel {
            hw,
            metrics,
            acc,
            mag_mean,
            mag_var,
        }
    }

    /// Sum over i of (mean, variance) of the product errors of each output.
    fn magnitude_sums(&self, rows: &[u8], w: &[i8], k: usize, m: usize) -> Vec<(f64, f64)> {
        let mut out = Vec::with_capacity(rows.len() / k * m);
        for xr in rows.chunks_exact(k) {
            for wr in w.chunks_exact(k) {
                let (mut mu, mut var) = (0.0, 0.0);
                for (&a, &b) in xr.iter().zip(wr) {
                    let i = ((b as u8 as usize) << 8) | a as usize;
                    mu += self.mag_mean[i];
                    var += self.mag_var[i];
                }
                out.push((mu, var));
            }
        }
        out
    }

    /// Passive noise (product units) for every output of a layer: `rows` are the GEMM rows
    /// of activation codes (length k), `w` the (m, k) weight codes.
    pub fn passive(
        &self,
        model: NoiseModel,
        rows: &[u8],
        w: &[i8],
        k: usize,
        m: usize,
        rng: &mut SplitMix64,
    ) -> Vec<f64> {
        match model {
            NoiseModel::Gauss => {
                let (mu, sd) = (self.metrics.mean_error, self.metrics.std_error);
                let signs: Vec<f64> = w
                    .chunks_exact(k)
                    .map(|wr| wr.iter().map(|&b| (b.signum()) as f64).sum())
                    .collect();
                let sk = sd * (k as f64).sqrt();
                (0..rows.len() / k * m)
                    .map(|i| mu * signs[i % m] + sk * rng.normal())
                    .collect()
            }
            NoiseModel::Magnitude => self
                .magnitude_sums(rows, w, k, m)
                .into_iter()
                .map(|(mu, var)| mu + var.sqrt() * rng.normal())
                .collect(),
            NoiseModel::Lut => {
                let approx = match self.hw.timing {
                    Some(_) => gemm(Arith::Timed(&self.hw, rng.next_u64()), rows, w, k, m),
                    None => gemm(Arith::Approx(&self.hw), rows, w, k, m),
                };
                let exact = gemm(Arith::Exact, rows, w, k, m);
                approx
                    .iter()
                    .zip(&exact)
                    .map(|(a, e)| (a - e) as f64)
                    .collect()
            }
        }
    }

    /// Mean and second moment of the accumulated error of every output (product units,
    /// product units^2) from the by-magnitude table: the mean is the sum of the products'
    /// means; the second moment (sum of means)^2 + sum of variances (a bias adds up coherently
    /// over the dot product, the random part does not).
    pub fn moments(&self, rows: &[u8], w: &[i8], k: usize, m: usize) -> Vec<(f64, f64)> {
        self.magnitude_sums(rows, w, k, m)
            .into_iter()
            .map(|(mu, var)| (mu, mu * mu + var))
            .collect()
    }
}
