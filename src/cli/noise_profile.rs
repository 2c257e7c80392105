//! `tetris noise-profile`: characterize a built-in approximate multiplier and write its profile.

use crate::noise::engine::{characterize_model, Method};
use crate::noise::lut::Lut8;
use crate::noise::models::Multiplier;
use crate::noise::outputs::{report_written, summary, OutputPaths};
use crate::noise::profile::{profile_json, Source};
use anyhow::Result;
use std::path::PathBuf;

/// Output flags shared by `noise-profile` and `characterize`.
#[derive(clap::Args, Debug, Clone)]
pub struct OutArgs {
    /// Write the profile as JSON.
    #[arg(long, value_name = "OUT")]
    pub json: Option<PathBuf>,
    /// Write the profile as TOML.
    #[arg(long, value_name = "OUT")]
    pub toml: Option<PathBuf>,
    /// TFApprox/ALWANN table: raw little-endian uint16[65536], index (a<<8)|b (8-bit unsigned).
    #[arg(long, value_name = "OUT")]
    pub lut_bin: Option<PathBuf>,
    /// 256x256 int32 NumPy table indexed by the operands' byte patterns (8-bit).
    #[arg(long, value_name = "OUT")]
    pub lut_npy: Option<PathBuf>,
    /// AdaPT-style C header lut[256][256] (int16_t signed, uint16_t unsigned; 8-bit).
    #[arg(long, value_name = "OUT")]
    pub lut_header: Option<PathBuf>,
    /// Plot of the error distribution and error vs operand magnitude (.svg).
    #[arg(long, value_name = "OUT")]
    pub plot: Option<PathBuf>,
}

impl OutArgs {
    pub fn paths(&self) -> OutputPaths {
        OutputPaths {
            json: self.json.clone(),
            toml: self.toml.clone(),
            lut_bin: self.lut_bin.clone(),
            lut_npy: self.lut_npy.clone(),
            lut_header: self.lut_header.clone(),
            plot: self.plot.clone(),
        }
    }
}

/// Sweep flags shared by `noise-profile` and `characterize`.
#[derive(clap::Args, Debug, Clone)]
pub struct SweepArgs {
    /// Sweep all 2^(2n) operand pairs (the default up to --width 12).
    #[arg(long, conflicts_with = "samples")]
    pub exhaustive: bool,
    /// Characterize on K uniform random pairs (default above --width 12: 1000000).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..=10_000_000_000))]
    pub samples: Option<u64>,
    /// Seed of the sampled pairs.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
}

/// Widths swept exhaustively unless told otherwise.
pub const DEFAULT_EXHAUSTIVE_MAX_WIDTH: u32 = 12;
pub const DEFAULT_SAMPLES: u64 = 1_000_000;

impl SweepArgs {
    pub fn method(&self, width: u32) -> Method {
        match self.samples {
            Some(count) => Method::Samples {
                count,
                seed: self.seed,
            },
            None if self.exhaustive || width <= DEFAULT_EXHAUSTIVE_MAX_WIDTH => Method::Exhaustive,
            None => Method::Samples {
                count: DEFAULT_SAMPLES,
                seed: self.seed,
            },
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Multiplier spec: exact, trunc:t=T[,corr], bam:hbl=H,vbl=V, drum:k=K, mitchell, kulkarni.
    #[arg(long, value_name = "SPEC")]
    pub mult: String,
    /// Operand width n (2..=16).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..=16))]
    pub width: u32,
    /// Two's-complement operands (sign-magnitude wrapper around the unsigned core).
    #[arg(long)]
    pub signed: bool,
    #[command(flatten)]
    pub sweep: SweepArgs,
    #[command(flatten)]
    pub out: OutArgs,
}

pub fn run(a: Args) -> Result<()> {
    let m = Multiplier::from_spec(&a.mult, a.width, a.signed)?;
    let paths = a.out.paths();
    paths.validate(a.width, a.signed)?;
    let method = a.sweep.method(a.width);
    let t = std::time::Instant::now();
    let acc = characterize_model(&m, method, true);
    let secs = t.elapsed().as_secs_f64();
    let src = Source {
        spec: m.kind.to_string(),
        width: m.width,
        signed: m.signed,
        signed_convention: m.signed_convention().into(),
        origin: "built-in bit-exact Rust model (src/noise/models.rs)".into(),
    };
    let doc = profile_json(&src, method, &acc, None);
    print!("{}", summary(&doc));
    println!("  sweep time {secs:.3} s");
    let lut =
        (paths.wants_lut() && a.width == 8).then(|| Lut8::build(m.signed, |x, y| m.eval(x, y)));
    let written = paths.write(&doc, lut.as_ref(), &m.kind.slug())?;
    report_written(&written);
    Ok(())
}
