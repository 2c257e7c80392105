//! `tetris noise-profile`: characterize a built-in approximate multiplier (or a family of
//! them, one parameter swept over a range) and write its profile.

use crate::fsutil::{Existing, OutputPlan};
use crate::hdl::approx_mult;
use crate::noise::engine::{characterize_model, Method};
use crate::noise::lut::{ActivationOperand, Lut8, Roles};
use crate::noise::models::Multiplier;
use crate::noise::outputs::{report_written, summary, OutputPaths};
use crate::noise::profile::{Document, Family, FamilyInfo, Member, Profile, Source};
use crate::noise::spec::MultKind;
use crate::noise::timing::{characterize_with_timing, netlist_depths, BitDepths, TimingModel};
use anyhow::{bail, Result};
use std::path::PathBuf;

/// Output flags shared by `noise-profile` and `characterize`.
#[derive(clap::Args, Debug, Clone)]
pub struct OutArgs {
    #[command(flatten)]
    pub paths: OutputPaths,
    /// Which operand takes the activation in the tables (the other takes the weight). The
    /// default, b, is TFApprox's assignment for EvoApprox circuits (weight on port A).
    #[arg(long, value_enum, value_name = "OPERAND", default_value_t = ActivationOperand::B)]
    pub activation: ActivationOperand,
}

/// Sweep flags shared by `noise-profile` and `characterize`.
#[derive(clap::Args, Debug, Clone)]
pub struct SweepArgs {
    /// Sweep all 2^(2n) operand pairs. The default when there are at most 2^24 pairs
    /// (--width 12 and below); wider operands are sampled unless this is given.
    #[arg(long, conflicts_with = "samples")]
    pub exhaustive: bool,
    /// Characterize on K uniform random pairs instead (default above --width 12: 1000000).
    /// Streamed: memory does not grow with K.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..=10_000_000_000))]
    pub samples: Option<u64>,
    /// Seed of the sampled pairs.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
}

/// Widths swept exhaustively unless told otherwise: at most 2^24 pairs.
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
    /// One parameter may be a range, e.g. drum:k=2..15: a family, one profile per value, with
    /// a table, and a plot of the metrics against the parameter.
    #[arg(long, value_name = "SPEC")]
    pub mult: String,
    /// Operand width n (2..=16).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..=16))]
    pub width: u32,
    /// Two's-complement operands (sign-magnitude wrapper around the unsigned core).
    #[arg(long)]
    pub signed: bool,
    /// Add timing errors of voltage overscaling: vdd=V[,v0=V][,vth=V][,alpha=A][,slack=S][,sigma=S][,seed=N]
    /// (see docs/noise-profile.md; defaults vdd=v0=0.9 vth=0.35 alpha=1.3 slack=0.2 sigma=0.05).
    #[arg(long, value_name = "PARAMS")]
    pub timing: Option<String>,
    /// Depth of each product bit for --timing: `static` (ripple-array estimate d_i = i + 1) or
    /// `netlist` (longest gate path in the Yosys-synthesized emitted RTL; needs Yosys).
    #[arg(long, value_enum, default_value_t = TimingDepths::Static, requires = "timing")]
    pub timing_depths: TimingDepths,
    /// Also write the multiplier's rust-hdl RTL into DIR: one Verilog file per module,
    /// and files.f (any --width, unsigned or --signed). DIR must be new, empty or written by
    /// tetris.
    #[arg(long, value_name = "DIR")]
    pub emit_rtl: Option<PathBuf>,
    /// Let --emit-rtl replace a folder tetris did not write (its files are deleted).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub sweep: SweepArgs,
    #[command(flatten)]
    pub out: OutArgs,
}

/// Values of `--timing-depths`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimingDepths {
    Static,
    Netlist,
}

pub fn run(a: Args) -> Result<()> {
    let family = MultKind::parse_family(&a.mult)?;
    if family.parameter.is_some() {
        return run_family(
            &a,
            &family.members,
            family.parameter.as_deref().unwrap_or(""),
        );
    }
    let m = Multiplier::from_spec(&a.mult, a.width, a.signed)?;
    let paths = a.out.paths.clone();
    paths.validate(a.width, a.signed)?;
    let mut plan = OutputPlan::new(a.force);
    paths.plan(&mut plan);
    plan.dir("--emit-rtl", a.emit_rtl.as_deref()).check()?;
    // Built before the sweep so that a multiplier without RTL fails before any work.
    let rtl = a
        .emit_rtl
        .as_ref()
        .map(|_| approx_mult::emit(&m))
        .transpose()?;
    let method = a.sweep.method(a.width);
    let timing = a.timing.as_deref().map(TimingModel::parse).transpose()?;
    if timing.is_some() && paths.wants_lut() {
        bail!("lookup tables are not written with --timing (timing errors are random, not a function of the operands)");
    }
    let roles = Roles::new(a.out.activation, "a", "b");
    let t = std::time::Instant::now();
    let (acc, extra, spec) = match &timing {
        None => (
            characterize_model(&m, method, true),
            None,
            m.kind.to_string(),
        ),
        Some(tm) => {
            let depths = match a.timing_depths {
                TimingDepths::Static => BitDepths::static_ripple(2 * m.width),
                TimingDepths::Netlist => netlist_depths(&m)?,
            };
            let (acc, section) = characterize_with_timing(&m, method, tm, &depths);
            (acc, Some(section), format!("{}+timing", m.kind))
        }
    };
    let secs = t.elapsed().as_secs_f64();
    let src = Source::model(&m, spec, roles.clone());
    let doc = Profile::new(&src, method, &acc, extra);
    print!("{}", summary(&doc));
    println!("  {}", roles.describe());
    println!("  sweep time {secs:.3} s");
    let lut = (paths.wants_lut() && a.width == 8)
        .then(|| Lut8::build(m.signed, roles, |x, y| m.eval(x, y)));
    let mut written = paths.write(Document::Profile(&doc), lut.as_ref(), &m.kind.slug())?;
    if let (Some(dir), Some(design)) = (&a.emit_rtl, &rtl) {
        approx_mult::write_rtl_dir(dir, design, Existing::from_force(a.force))?;
        written.push(dir.clone());
    }
    report_written(&written);
    Ok(())
}

/// `--mult` with a range: every member characterized, a table, one document and one plot.
fn run_family(a: &Args, members: &[(u32, MultKind)], parameter: &str) -> Result<()> {
    let paths = a.out.paths.clone();
    if paths.wants_lut() || a.emit_rtl.is_some() || a.timing.is_some() {
        bail!("--mult {}: a family writes --json/--toml/--plot only (tables, --emit-rtl and --timing take one multiplier)", a.mult);
    }
    paths.validate(a.width, a.signed)?;
    let mut plan = OutputPlan::new(false);
    paths.plan(&mut plan);
    plan.check()?;
    // Every member is validated before the first sweep.
    let ms = members
        .iter()
        .map(|(v, k)| Ok((*v, Multiplier::new(*k, a.width, a.signed)?)))
        .collect::<Result<Vec<_>>>()?;
    let method = a.sweep.method(a.width);
    let roles = Roles::new(a.out.activation, "a", "b");
    let mut members = Vec::new();
    println!(
        "{:<16} {:>12} {:>12} {:>14} {:>12} {:>10} {:>9}",
        "spec", "MAE %", "MRE %", "WCE", "WCE %", "EP %", "time s"
    );
    for (v, m) in &ms {
        let t = std::time::Instant::now();
        let acc = characterize_model(m, method, true);
        let src = Source::model(m, m.kind.to_string(), roles.clone());
        let profile = Profile::new(&src, method, &acc, None);
        let mt = &profile.metrics;
        println!(
            "{:<16} {:>12.6} {:>12.6} {:>14}{} {:>12.6} {:>10.4} {:>9.2}",
            m.kind.to_string(),
            mt.mae_percent,
            mt.mre_percent,
            mt.wce,
            if method.is_exhaustive() { " " } else { "+" },
            mt.wce_percent,
            mt.ep_percent,
            t.elapsed().as_secs_f64()
        );
        members.push(Member {
            profile,
            family_value: *v,
        });
    }
    if !method.is_exhaustive() {
        println!("(+: sampled, WCE is a lower bound)");
    }
    let family = Family {
        family: FamilyInfo {
            spec: a.mult.clone(),
            parameter: parameter.into(),
            width: a.width,
            signed: a.signed,
        },
        members,
    };
    let written = paths.write(Document::Family(&family), None, &a.mult)?;
    report_written(&written);
    Ok(())
}
