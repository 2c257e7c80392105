//! Timing errors under voltage overscaling / near-threshold operation, as a noise profile.
//!
//! Model (all parameters on the command line, defaults in [`TimingModel::default`]):
//! 1. Logic depth of product bit i, in full-adder delays, from a static estimate of a
//!    ripple-carry array multiplier: the carry chain reaching bit i crosses at most i + 1
//!    adder stages, so d_i = i + 1 (the MSB of a 2n-bit product: 2n).
//! 2. Adder delay vs supply (alpha-power law, Sakurai-Newton):
//!    t(V) = t(V0) * (V / V0) * ((V0 - Vth) / (V - Vth))^alpha.
//! 3. The clock is set for the nominal supply with a guard band: T = 2n * t(V0) * (1 + slack).
//! 4. Path delays vary from cycle to cycle and die to die: D_i = d_i t(V) (1 + sigma Z), Z
//!    standard normal. Bit i is latched wrong when D_i > T:
//!    p_i = 1 - Phi((T / (d_i t(V)) - 1) / sigma).
//! 5. A wrong bit is flipped; bits fail independently. For each operand pair the flips are
//!    drawn from a hash of (seed, a, b), so exhaustive and sampled sweeps are reproducible.

use anyhow::{bail, Context, Result};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TimingModel {
    /// Supply voltage (V).
    pub vdd: f64,
    /// Nominal supply the clock was timed at (V).
    pub v0: f64,
    /// Threshold voltage (V).
    pub vth: f64,
    /// Velocity-saturation exponent of the alpha-power law.
    pub alpha: f64,
    /// Clock guard band over the nominal critical path (0.1 = 10 %).
    pub slack: f64,
    /// Relative standard deviation of path delays.
    pub sigma: f64,
    /// Seed of the per-pair flips.
    pub seed: u64,
}

impl Default for TimingModel {
    fn default() -> Self {
        TimingModel {
            vdd: 0.9,
            v0: 0.9,
            vth: 0.35,
            alpha: 1.3,
            slack: 0.2,
            sigma: 0.05,
            seed: 1,
        }
    }
}

impl TimingModel {
    /// Parse `vdd=0.6,vth=0.3,...` over the defaults.
    pub fn parse(s: &str) -> Result<Self> {
        let mut m = TimingModel::default();
        for item in s.split(',').filter(|x| !x.trim().is_empty()) {
            let (k, v) = item
                .split_once('=')
                .with_context(|| format!("--timing: `{item}` is not name=value"))?;
            let k = k.trim();
            if k == "seed" {
                m.seed = v
                    .trim()
                    .parse()
                    .with_context(|| format!("--timing: seed `{v}` is not a whole number"))?;
                continue;
            }
            let x: f64 = v
                .trim()
                .parse()
                .with_context(|| format!("--timing: {k} `{v}` is not a number"))?;
            match k {
                "vdd" => m.vdd = x,
                "v0" => m.v0 = x,
                "vth" => m.vth = x,
                "alpha" => m.alpha = x,
                "slack" => m.slack = x,
                "sigma" => m.sigma = x,
                _ => bail!(
                    "--timing: unknown parameter `{k}` (vdd, v0, vth, alpha, slack, sigma, seed)"
                ),
            }
        }
        if !(m.vth > 0.0 && m.vdd > m.vth && m.v0 > m.vth) {
            bail!(
                "--timing: need 0 < vth < vdd and vth < v0 (got vdd={} v0={} vth={})",
                m.vdd,
                m.v0,
                m.vth
            );
        }
        if !(m.alpha > 0.0 && m.slack >= 0.0 && m.sigma > 0.0) {
            bail!("--timing: need alpha > 0, slack >= 0, sigma > 0");
        }
        Ok(m)
    }

    /// Adder delay at vdd relative to v0 (alpha-power law).
    pub fn delay_scale(&self) -> f64 {
        (self.vdd / self.v0) * ((self.v0 - self.vth) / (self.vdd - self.vth)).powf(self.alpha)
    }

    /// Error probability of each of the `out_bits` product bits.
    pub fn bit_error_probs(&self, out_bits: u32) -> Vec<f64> {
        let period = out_bits as f64 * (1.0 + self.slack); // in nominal adder delays
        let scale = self.delay_scale();
        (0..out_bits)
            .map(|i| {
                let d = (i + 1) as f64 * scale;
                1.0 - normal_cdf((period / d - 1.0) / self.sigma)
            })
            .collect()
    }

    /// Per-bit thresholds for [`Flipper`].
    pub fn flipper(&self, out_bits: u32) -> Flipper {
        let thresholds = self
            .bit_error_probs(out_bits)
            .iter()
            .map(|&p| (p.clamp(0.0, 1.0) * u64::MAX as f64) as u64)
            .collect();
        Flipper {
            thresholds,
            seed: self.seed,
            out_bits,
        }
    }
}

/// Applies the per-bit flips to products.
#[derive(Debug, Clone)]
pub struct Flipper {
    thresholds: Vec<u64>,
    seed: u64,
    out_bits: u32,
}

#[inline(always)]
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Flipper {
    /// The product `value` of pair (a, b) after timing errors (two's complement if `signed`).
    #[inline(always)]
    pub fn apply(&self, a: u32, b: u32, value: i64, signed: bool) -> i64 {
        let w = self.out_bits;
        let mask = if w >= 64 { u64::MAX } else { (1u64 << w) - 1 };
        let mut bits = (value as u64) & mask;
        let mut h = mix(self.seed ^ ((a as u64) << 32) ^ b as u64);
        for (i, &t) in self.thresholds.iter().enumerate() {
            if t == 0 {
                continue;
            }
            h = mix(h);
            if h < t {
                bits ^= 1 << i;
            }
        }
        if signed && w < 64 {
            let sh = 64 - w;
            ((bits as i64) << sh) >> sh
        } else {
            bits as i64
        }
    }
}

/// Standard normal CDF (Abramowitz-Stegun 7.1.26 erf, |error| < 1.5e-7).
pub fn normal_cdf(x: f64) -> f64 {
    let z = x / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z.abs());
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t
            + 0.254_829_592)
            * t
            * (-z * z).exp();
    let erf = if z >= 0.0 { y } else { -y };
    0.5 * (1.0 + erf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nominal_is_almost_error_free_and_overscaling_hurts_the_msbs() {
        let nominal = TimingModel::default().bit_error_probs(16);
        assert!(nominal.iter().all(|&p| p < 0.03), "{nominal:?}");
        let low = TimingModel::parse("vdd=0.7").unwrap().bit_error_probs(16);
        assert!(low[15] > 0.5 && low[0] < 1e-6, "{low:?}");
        assert!(low.windows(2).all(|w| w[0] <= w[1]));
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7 && (normal_cdf(1.96) - 0.975).abs() < 1e-4);
        assert!(TimingModel::parse("vdd=0.2").is_err());
        assert!(TimingModel::parse("foo=1").is_err());
    }

    #[test]
    fn flip_rate_matches_probability() {
        let m = TimingModel::parse("vdd=0.72").unwrap();
        let p = m.bit_error_probs(16);
        let f = m.flipper(16);
        let mut flips = [0u64; 16];
        for a in 0..256u32 {
            for b in 0..256u32 {
                let v = f.apply(a, b, 0, false) as u64;
                for (i, c) in flips.iter_mut().enumerate() {
                    *c += (v >> i) & 1;
                }
            }
        }
        for i in 0..16 {
            let rate = flips[i] as f64 / 65536.0;
            let sd = (p[i] * (1.0 - p[i]) / 65536.0).sqrt();
            assert!(
                (rate - p[i]).abs() <= 5.0 * sd + 1e-9,
                "bit {i}: {rate} vs {}",
                p[i]
            );
        }
    }
}
