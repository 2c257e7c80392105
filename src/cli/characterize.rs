//! `tetris characterize`: a multiplier given as Verilog, proved combinational by Yosys,
//! built with Verilator and swept.

use super::noise_profile::{OutArgs, SweepArgs};
use crate::flow::build_cache::BuildCache;
use crate::fsutil::OutputPlan;
use crate::noise::characterize::{characterize_verilog, VerilogRequest};
use crate::noise::engine::Method;
use crate::noise::outputs::{report_written, summary};
use crate::noise::profile::Document;
use anyhow::{bail, Result};
use std::path::PathBuf;

/// Widest operands swept exhaustively with --exhaustive (the default up to
/// `noise_profile::DEFAULT_EXHAUSTIVE_MAX_WIDTH`, like noise-profile).
pub const FORCED_EXHAUSTIVE_MAX: u32 = 16;

#[derive(clap::Args, Debug)]
#[command(mut_arg("cache_dir", |a| a.visible_alias("work-dir")))]
pub struct Args {
    /// Verilog file of a combinational multiplier (submodules in the same file). Yosys checks
    /// that it holds no flip-flop, latch or combinational loop.
    #[arg(long, value_name = "FILE")]
    pub verilog: PathBuf,
    /// Top module (default: the one module no other module instantiates).
    #[arg(long, value_name = "NAME")]
    pub top: Option<String>,
    /// First operand port (default: auto-detected when the top has two inputs, one output).
    #[arg(long, value_name = "A")]
    pub port_a: Option<String>,
    /// Second operand port.
    #[arg(long, value_name = "B")]
    pub port_b: Option<String>,
    /// Product port.
    #[arg(long, value_name = "Y")]
    pub port_out: Option<String>,
    /// Override a parameter of the top module (repeatable): passed to Verilator as
    /// -GNAME=VALUE, used for the port widths, part of the build cache key and of the profile.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, i64)>,
    /// Operand width n (both inputs must be this wide).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..=16))]
    pub width: u32,
    /// Two's-complement operands and product.
    #[arg(long)]
    pub signed: bool,
    /// Accept a product port narrower than 2 x --width: its value is what the port holds, so
    /// the dropped high bits count as errors.
    #[arg(long)]
    pub truncate_output: bool,
    #[command(flatten)]
    pub cache: crate::cli::CacheDirArg,
    #[command(flatten)]
    pub sweep: SweepArgs,
    #[command(flatten)]
    pub out: OutArgs,
}

/// `NAME=VALUE` with a Verilog identifier and a whole number.
fn parse_param(s: &str) -> std::result::Result<(String, i64), String> {
    let (n, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=VALUE"))?;
    let n = n.trim();
    let ident = n
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if !ident {
        return Err(format!("`{n}` is not a Verilog parameter name"));
    }
    let v: i64 = v
        .trim()
        .parse()
        .map_err(|_| format!("value `{}` of {n} is not a whole number", v.trim()))?;
    Ok((n.to_string(), v))
}

pub fn run(a: Args) -> Result<()> {
    if let Some((n, _)) = a
        .params
        .iter()
        .enumerate()
        .find_map(|(i, p)| a.params[..i].iter().any(|q| q.0 == p.0).then_some(p))
    {
        bail!("--param {n} is given more than once");
    }
    let paths = a.out.paths.clone();
    let cache = a.cache.root();
    paths.validate(a.width, a.signed)?;
    // The cache's own folder (created with tetris's marker) takes no outputs and holds no input.
    let entries = BuildCache::open("--cache-dir", &cache)?;
    let mut plan = OutputPlan::new(false);
    plan.input("--verilog", Some(&a.verilog));
    paths.plan(&mut plan);
    plan.dir("--cache-dir", Some(entries.entries_dir()))
        .check()?;
    let method = match (a.sweep.samples, a.sweep.exhaustive) {
        (Some(count), _) => Method::Samples {
            count,
            seed: a.sweep.seed,
        },
        (None, true) if a.width > FORCED_EXHAUSTIVE_MAX => {
            bail!("--exhaustive: at most --width {FORCED_EXHAUSTIVE_MAX}")
        }
        _ => a.sweep.method(a.width),
    };
    let c = characterize_verilog(&VerilogRequest {
        verilog: &a.verilog,
        top: a.top.as_deref(),
        ports: (
            a.port_a.as_deref(),
            a.port_b.as_deref(),
            a.port_out.as_deref(),
        ),
        params: &a.params,
        width: a.width,
        signed: a.signed,
        truncate_output: a.truncate_output,
        method,
        activation: a.out.activation,
        keep_table: paths.wants_lut() && a.width == 8,
        cache: &cache,
    })?;
    for w in &c.warnings {
        eprintln!("warning: {w}");
    }
    let doc = &c.profile;
    print!("{}", summary(doc));
    println!("  {}", c.roles.describe());
    println!(
        "  Verilator build {:.2} s ({}), total {:.2} s",
        c.build_s,
        if c.built { "built" } else { "cached" },
        c.total_s
    );
    let written = paths.write(Document::Profile(doc), c.lut.as_ref(), &c.top)?;
    report_written(&written);
    Ok(())
}
