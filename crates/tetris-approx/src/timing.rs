//! Timing errors under voltage overscaling / near-threshold operation, as a noise profile.
//!
//! Model (all parameters on the command line, defaults in [`TimingModel::default`]):
//! 1. Logic depth d_i of product bit i, in full-adder delays ([`BitDepths`]), either
//!    - `static`: an estimate for a ripple-carry array multiplier: the carry chain reaching
//!      bit i crosses at most i + 1 adder stages, so d_i = i + 1 (the MSB of a 2n-bit
//!      product: 2n); or
//!    - `netlist`: the multiplier's emitted RTL synthesized by Yosys onto two-input gates
//!      (`crates/tetris-flows/src/logic_depth.rs`, run by the root crate's
//!      `noise::timing::netlist_depths`), d_i = (gates on the longest path into bit i) / 2, a full
//!      adder being two gate levels (sum: XOR, XOR; carry: XOR or AND, then MUX or OR).
//!      Constant bits (truncated columns) have depth 0 and never fail.
//! 2. Adder delay vs supply (alpha-power law, Sakurai-Newton):
//!    t(V) = t(V0) * (V / V0) * ((V0 - Vth) / (V - Vth))^alpha.
//! 3. The clock is set for the nominal supply with a guard band over the critical path:
//!    T = max_i d_i * t(V0) * (1 + slack).
//! 4. Path delays vary from cycle to cycle and die to die: D_i = d_i t(V) (1 + sigma Z), Z
//!    standard normal. Bit i is latched wrong when D_i > T:
//!    p_i = 1 - Phi((T / (d_i t(V)) - 1) / sigma).
//! 5. A wrong bit is flipped; bits fail independently. For each operand pair the flips are
//!    drawn from a hash of (seed, a, b), so exhaustive and sampled sweeps are reproducible.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use tetris_core::model::rng::SplitMix64;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
        let mut seen: Vec<&str> = Vec::new();
        for item in s.split(',').filter(|x| !x.trim().is_empty()) {
            let (k, v) = item
                .split_once('=')
                .with_context(|| format!("--timing: `{item}` is not name=value"))?;
            let k = k.trim();
            if seen.contains(&k) {
                bail!("--timing {s}: parameter `{k}` is given more than once");
            }
            seen.push(k);
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

    /// Error probability of each product bit, from its depth in full-adder delays (the
    /// clock is timed on the deepest bit).
    pub fn bit_error_probs(&self, depths: &[f64]) -> Vec<f64> {
        let critical = depths.iter().cloned().fold(0.0, f64::max);
        let period = critical * (1.0 + self.slack); // in nominal adder delays
        let scale = self.delay_scale();
        depths
            .iter()
            .map(|&d| {
                if d <= 0.0 {
                    0.0 // a constant bit has no path to be late on
                } else {
                    1.0 - normal_cdf((period / (d * scale) - 1.0) / self.sigma)
                }
            })
            .collect()
    }

    /// Per-bit thresholds for [`Flipper`].
    pub fn flipper(&self, depths: &[f64]) -> Flipper {
        let thresholds = self
            .bit_error_probs(depths)
            .iter()
            .map(|&p| (p.clamp(0.0, 1.0) * u64::MAX as f64) as u64)
            .collect();
        Flipper {
            thresholds,
            seed: self.seed,
            out_bits: depths.len() as u32,
        }
    }
}

/// Where the per-bit depths come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DepthSource {
    /// d_i = i + 1: ripple-carry array estimate.
    Static,
    /// Longest gate path in the Yosys-synthesized netlist of the emitted RTL.
    Netlist,
}

/// Gate levels of one full-adder delay (sum: two XOR levels; carry: two levels).
pub const GATE_LEVELS_PER_FULL_ADDER: f64 = 2.0;

/// Depth of each product bit (LSB first) in full-adder delays.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BitDepths {
    pub source: DepthSource,
    pub full_adder_delays: Vec<f64>,
    /// Netlist only: the longest path into each bit, in two-input gates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate_levels: Option<Vec<u32>>,
}

impl BitDepths {
    /// d_i = i + 1 for the `out_bits` product bits.
    pub fn static_ripple(out_bits: u32) -> Self {
        BitDepths {
            source: DepthSource::Static,
            full_adder_delays: (1..=out_bits).map(f64::from).collect(),
            gate_levels: None,
        }
    }

    /// From gate levels counted on a synthesized netlist.
    pub fn from_gate_levels(levels: Vec<u32>) -> Self {
        BitDepths {
            source: DepthSource::Netlist,
            full_adder_delays: levels
                .iter()
                .map(|&l| f64::from(l) / GATE_LEVELS_PER_FULL_ADDER)
                .collect(),
            gate_levels: Some(levels),
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

/// A hash of `z`: SplitMix64's first output from state z (counter-based, like the sample).
#[inline(always)]
fn mix(z: u64) -> u64 {
    SplitMix64(z).next_u64()
}

impl Flipper {
    /// The product `value` of pair (a, b) after timing errors (two's complement if `signed`).
    #[inline(always)]
    pub fn apply(&self, a: u32, b: u32, value: i64, signed: bool) -> i64 {
        self.apply_hashed(self.seed ^ ((a as u64) << 32) ^ b as u64, value, signed)
    }

    /// The product `value` after timing errors drawn from `draw` instead of the operand
    /// pair: a fresh draw per multiply (e.g. a counter) gives independent flips per cycle,
    /// as in inference where the same operands fail differently each time.
    #[inline(always)]
    pub fn apply_hashed(&self, draw: u64, value: i64, signed: bool) -> i64 {
        let w = self.out_bits;
        let mask = if w >= 64 { u64::MAX } else { (1u64 << w) - 1 };
        let mut bits = (value as u64) & mask;
        let mut h = mix(draw);
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
        let d16 = BitDepths::static_ripple(16).full_adder_delays;
        let nominal = TimingModel::default().bit_error_probs(&d16);
        assert!(nominal.iter().all(|&p| p < 0.03), "{nominal:?}");
        let low = TimingModel::parse("vdd=0.7").unwrap().bit_error_probs(&d16);
        assert!(low[15] > 0.5 && low[0] < 1e-6, "{low:?}");
        assert!(low.windows(2).all(|w| w[0] <= w[1]));
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7 && (normal_cdf(1.96) - 0.975).abs() < 1e-4);
        // Constant bits (depth 0) never fail; the clock follows the deepest bit.
        let p = TimingModel::parse("vdd=0.7")
            .unwrap()
            .bit_error_probs(&[0.0, 0.0, 5.0, 10.0]);
        assert_eq!(&p[..2], &[0.0, 0.0]);
        assert!((p[3] - low[15]).abs() < 1e-12, "{p:?} vs {low:?}");
        assert!(TimingModel::parse("vdd=0.2").is_err());
        assert!(TimingModel::parse("foo=1").is_err());
    }

    #[test]
    fn flip_rate_matches_probability() {
        let m = TimingModel::parse("vdd=0.72").unwrap();
        let d16 = BitDepths::static_ripple(16).full_adder_delays;
        let p = m.bit_error_probs(&d16);
        let f = m.flipper(&d16);
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
