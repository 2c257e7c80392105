//! The noise profile document (JSON/TOML): multiplier, method, metrics, histograms, the
//! by-magnitude table and the noise model a passive AxTrain-style training loop injects.
//! One typed structure, written and read back through serde (docs/noise-profile.md "JSON
//! schema"); a malformed profile is an error naming the file and the field.

use super::engine::Method;
use super::lut::{OperandRoles, Roles};
use super::metrics::{Acc, Metrics, ERR_LOG_BINS, REL_BINS};
use super::timing::{BitDepths, DepthSource, TimingModel};
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Who produced the products.
#[derive(Debug, Clone)]
pub struct Source {
    /// Spec string of a built-in, or `verilog:<file>#<top>` for third-party netlists.
    pub spec: String,
    pub width: u32,
    pub signed: bool,
    /// How signed operands are handled.
    pub signed_convention: String,
    /// Free text: where the numbers come from (model, netlist, timing model).
    pub origin: String,
    /// Which operand carries the activation and which the weight (tables follow it).
    pub roles: Roles,
}

impl Source {
    /// A built-in bit-exact model (`spec`: its spec string, with `+timing` when timing errors
    /// are added).
    pub fn model(m: &super::models::Multiplier, spec: String, roles: Roles) -> Source {
        Source {
            spec,
            width: m.width,
            signed: m.signed,
            signed_convention: m.signed_convention().into(),
            origin: "built-in bit-exact Rust model (crates/tetris-approx/src/models.rs)".into(),
            roles,
        }
    }
}

/// Fan-in values at which the noise model's accumulated figures are tabulated.
pub const FAN_INS: [u64; 5] = [1, 9, 64, 576, 4608];

/// A noise profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub multiplier: MultiplierInfo,
    pub method: MethodInfo,
    pub metrics: Metrics,
    pub histograms: Histograms,
    pub by_magnitude: ByMagnitude,
    pub noise_model: NoiseModel,
    /// Built-ins with `--timing` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing_model: Option<TimingSection>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiplierInfo {
    pub spec: String,
    pub width: u32,
    pub signed: bool,
    pub signed_convention: String,
    pub operand_roles: OperandRoles,
    pub origin: String,
    /// `characterize`: the `--param` overrides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<BTreeMap<String, i64>>,
    /// `characterize`: the product port's width.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_bits: Option<u32>,
}

/// `{"exhaustive": true, "pairs"}` or `{"exhaustive": false, "samples", "seed", "sampling",
/// "note"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodInfo {
    pub exhaustive: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pairs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samples: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampling: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histograms {
    pub error_log2: ErrorLog2,
    pub relative_error: RelativeError,
}

/// Signed power-of-two bins of e = approx - exact (empty bins left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorLog2 {
    pub description: String,
    pub bins: Vec<ErrorBin>,
}

/// Pairs with lo <= e <= hi (whole numbers, as floats: they reach beyond 2^64 in principle).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBin {
    pub lo: f64,
    pub hi: f64,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelativeError {
    pub description: String,
    pub lo: f64,
    pub width: f64,
    pub counts: Vec<u64>,
    pub below: u64,
    pub above: u64,
}

/// (n+1) x (n+1) tables, row = bit length of |a|, column = bit length of |b|.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ByMagnitude {
    pub description: String,
    pub count: Vec<Vec<u64>>,
    pub rel_count: Vec<Vec<u64>>,
    pub mean_error: Vec<Vec<f64>>,
    pub std_error: Vec<Vec<f64>>,
    pub mae: Vec<Vec<f64>>,
    pub mre_percent: Vec<Vec<f64>>,
}

/// The additive Gaussian a passive training loop injects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseModel {
    pub kind: String,
    pub integer: IntegerNoise,
    pub relative: RelativeNoise,
    pub fan_in_scaling: FanInScaling,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegerNoise {
    pub form: String,
    pub mean: f64,
    pub std: f64,
    pub std_full_scale: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelativeNoise {
    pub form: String,
    pub mean: f64,
    pub std: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanInScaling {
    pub rule: String,
    pub caveat: String,
    pub table: Vec<FanIn>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanIn {
    pub fan_in: u64,
    pub mean: f64,
    pub std: f64,
}

/// The `--timing` model's figures (`super::timing`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimingSection {
    pub parameters: TimingModel,
    pub delay_scale: f64,
    pub depth_source: DepthSource,
    /// Full-adder delays per product bit, LSB first.
    pub bit_depth: Vec<f64>,
    /// Netlist depths only (left out for the static estimate: TOML has no null).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_gate_levels: Option<Vec<u32>>,
    pub clock_period: f64,
    pub bit_error_probability: Vec<f64>,
    pub model: String,
}

impl TimingSection {
    pub fn new(tm: &TimingModel, depths: &BitDepths) -> Self {
        let critical = depths.full_adder_delays.iter().cloned().fold(0.0, f64::max);
        let depth_rule = match depths.source {
            DepthSource::Static => "static ripple-array depth d_i = i + 1",
            DepthSource::Netlist => "depth d_i = longest two-input-gate path into bit i in the Yosys-synthesized RTL / 2 gates per full adder",
        };
        TimingSection {
            parameters: *tm,
            delay_scale: tm.delay_scale(),
            depth_source: depths.source,
            bit_depth: depths.full_adder_delays.clone(),
            bit_gate_levels: depths.gate_levels.clone(),
            clock_period: critical * (1.0 + tm.slack),
            bit_error_probability: tm.bit_error_probs(&depths.full_adder_delays),
            model: format!("alpha-power-law adder delay, {depth_rule} (full-adder delays), clock timed on the deepest bit, Gaussian path-delay variation, independent bit flips (docs/noise-profile.md)"),
        }
    }
}

/// A family sweep: `--mult` with one parameter over a range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Family {
    pub family: FamilyInfo,
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyInfo {
    /// The `--mult` spec with its range.
    pub spec: String,
    pub parameter: String,
    pub width: u32,
    pub signed: bool,
}

/// One member's profile and its value of the swept parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    #[serde(flatten)]
    pub profile: Profile,
    pub family_value: u32,
}

/// What a `noise-profile` or `characterize` run writes: one profile or a family.
#[derive(Debug, Clone, Copy)]
pub enum Document<'a> {
    Profile(&'a Profile),
    Family(&'a Family),
}

impl Document<'_> {
    /// The document as a JSON value. Its objects keep their keys sorted (serde_json's map),
    /// the order every profile has been written in, in JSON and in TOML.
    pub fn to_value(self) -> Result<serde_json::Value> {
        Ok(match self {
            Document::Profile(p) => serde_json::to_value(p)?,
            Document::Family(f) => serde_json::to_value(f)?,
        })
    }

    /// Pretty JSON with a final newline, checked to read back as its type (as every JSON
    /// report, `tetris_fs::json_text`).
    pub fn to_json(self) -> Result<String> {
        let text = serde_json::to_string_pretty(&self.to_value()?)? + "\n";
        match self {
            Document::Profile(_) => tetris_fs::check_reads_back::<Profile>(&text)?,
            Document::Family(_) => tetris_fs::check_reads_back::<Family>(&text)?,
        }
        Ok(text)
    }

    /// The same document as TOML (tables after values, as TOML requires).
    pub fn to_toml(self) -> Result<String> {
        let v = toml::Value::try_from(self.to_value()?)?;
        Ok(toml::to_string(&v)?)
    }
}

impl Profile {
    /// Build the profile of the products summarised in `acc`.
    pub fn new(src: &Source, method: Method, acc: &Acc, timing: Option<TimingSection>) -> Self {
        let m = acc.metrics(method.is_exhaustive());
        let method = match method {
            Method::Exhaustive => MethodInfo {
                exhaustive: true,
                pairs: Some(m.pairs),
                samples: None,
                seed: None,
                sampling: None,
                note: None,
            },
            Method::Samples { count, seed } => MethodInfo {
                exhaustive: false,
                pairs: None,
                samples: Some(count),
                seed: Some(seed),
                sampling: Some("uniform operand patterns with replacement (SplitMix64)".into()),
                note: Some(
                    "wce and wcre_percent are lower bounds; ci95 gives 95% intervals".into(),
                ),
            },
        };
        Profile {
            multiplier: MultiplierInfo {
                spec: src.spec.clone(),
                width: src.width,
                signed: src.signed,
                signed_convention: src.signed_convention.clone(),
                operand_roles: src.roles.profile_entry(),
                origin: src.origin.clone(),
                parameters: None,
                output_bits: None,
            },
            method,
            histograms: histograms(acc),
            by_magnitude: by_magnitude(acc),
            noise_model: noise_model(&m, src.width),
            metrics: m,
            timing_model: timing,
        }
    }

    /// Read a profile file (`--json`); errors name the file and the field.
    pub fn read(path: &Path) -> Result<Self> {
        tetris_fs::read_json(path)
    }
}

impl Family {
    /// Read a family file (`--json` of a `--mult` range); errors name the file and the field.
    pub fn read(path: &Path) -> Result<Self> {
        tetris_fs::read_json(path)
    }
}

fn histograms(acc: &Acc) -> Histograms {
    let mut bins = Vec::new();
    for (i, &c) in acc.err_hist.iter().enumerate() {
        if c == 0 {
            continue;
        }
        let k = i as i64 - ERR_LOG_BINS as i64;
        let (lo, hi) = match k {
            0 => (0i128, 0i128),
            k if k > 0 => (1i128 << (k - 1), (1i128 << k) - 1),
            k => (-(1i128 << -k) + 1, -(1i128 << (-k - 1))),
        };
        bins.push(ErrorBin {
            lo: lo as f64,
            hi: hi as f64,
            count: c,
        });
    }
    Histograms {
        error_log2: ErrorLog2 {
            description: "signed power-of-two bins of e = approx - exact; lo..=hi inclusive".into(),
            bins,
        },
        relative_error: RelativeError {
            description: "r = e / exact over pairs with exact != 0: counts[i] covers [lo + i*width, lo + (i+1)*width), i.e. floor(100 r) = i - 100 computed exactly; below: r < -1, above: r >= 1".into(),
            lo: -1.0,
            width: 2.0 / REL_BINS as f64,
            counts: acc.rel_hist[1..=REL_BINS].to_vec(),
            below: acc.rel_hist[0],
            above: acc.rel_hist[REL_BINS + 1],
        },
    }
}

fn by_magnitude(acc: &Acc) -> ByMagnitude {
    let m = acc.width as usize + 1;
    let mut count = vec![vec![0u64; m]; m];
    let mut mean = vec![vec![0f64; m]; m];
    let mut std = vec![vec![0f64; m]; m];
    let mut mae = vec![vec![0f64; m]; m];
    let mut mre = vec![vec![0f64; m]; m];
    let mut rel_count = vec![vec![0u64; m]; m];
    for i in 0..m {
        for j in 0..m {
            let c = &acc.mag[i * m + j];
            count[i][j] = c.count;
            if c.count > 0 {
                let n = c.count as f64;
                let mu = c.sum_err as f64 / n;
                mean[i][j] = mu;
                std[i][j] = (c.sum_sq as f64 / n - mu * mu).max(0.0).sqrt();
                mae[i][j] = c.sum_abs as f64 / n;
            }
            rel_count[i][j] = c.rel_count;
            if c.rel_count > 0 {
                mre[i][j] = 100.0 * c.sum_abs_rel / c.rel_count as f64;
            }
        }
    }
    ByMagnitude {
        description: "row i = bit length of |a| (leading-one position + 1, 0 for a == 0), column j = the same for |b|; mre_percent is undefined (0 here) where rel_count is 0 (a zero operand)".into(),
        count,
        rel_count,
        mean_error: mean,
        std_error: std,
        mae,
        mre_percent: mre,
    }
}

fn noise_model(m: &Metrics, width: u32) -> NoiseModel {
    let table = FAN_INS
        .iter()
        .map(|&k| {
            let kf = k as f64;
            FanIn {
                fan_in: k,
                mean: kf * m.mean_error,
                std: kf.sqrt() * m.std_error,
            }
        })
        .collect();
    NoiseModel {
        kind: "additive_gaussian".into(),
        integer: IntegerNoise {
            form: "approx = exact + e, e ~ N(mean, std^2) in product LSBs".into(),
            mean: m.mean_error,
            std: m.std_error,
            std_full_scale: m.std_error / (1u64 << (2 * width)) as f64,
        },
        relative: RelativeNoise {
            form: "approx = exact * (1 + r), r ~ N(mean, std^2), for exact != 0".into(),
            mean: m.mean_rel_error,
            std: m.std_rel_error,
        },
        fan_in_scaling: FanInScaling {
            rule: "a sum of K products with independent errors has mean K*mean and std sqrt(K)*std".into(),
            caveat: "errors of products sharing an operand are correlated; by_magnitude shows how the error depends on the operands".into(),
            table,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::characterize_model;
    use crate::lut::ActivationOperand;
    use crate::models::Multiplier;

    fn profile() -> Profile {
        let m = Multiplier::from_spec("drum:k=3", 5, false).unwrap();
        let acc = characterize_model(&m, Method::Exhaustive, false);
        let src = Source {
            spec: "drum:k=3".into(),
            width: 5,
            signed: false,
            signed_convention: "unsigned".into(),
            origin: "test".into(),
            roles: Roles::new(ActivationOperand::B, "a", "b"),
        };
        Profile::new(&src, Method::Exhaustive, &acc, None)
    }

    #[test]
    fn a_written_profile_reads_back_and_a_malformed_one_names_file_and_field() {
        let p = profile();
        let dir = std::env::temp_dir().join(format!("tetris-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("p.json");
        let text = Document::Profile(&p).to_json().unwrap();
        std::fs::write(&f, &text).unwrap();
        let back = Profile::read(&f).unwrap();
        // Against the file read as untyped JSON (the same float parsing: serde_json's default
        // parser may be an ulp off the printed digits, both ways alike).
        let untyped: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(Document::Profile(&back).to_value().unwrap(), untyped);
        // A wrong type and a missing field: the file and the field are named.
        let mut v = Document::Profile(&p).to_value().unwrap();
        v["metrics"]["mae"] = "x".into();
        std::fs::write(&f, v.to_string()).unwrap();
        let e = Profile::read(&f).unwrap_err().to_string();
        assert!(e.contains("p.json: field metrics.mae: invalid type"), "{e}");
        let mut v = Document::Profile(&p).to_value().unwrap();
        v["noise_model"]["integer"]
            .as_object_mut()
            .unwrap()
            .remove("std");
        std::fs::write(&f, v.to_string()).unwrap();
        let e = Profile::read(&f).unwrap_err().to_string();
        assert!(
            e.contains("p.json: field noise_model.integer: missing field `std`"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
