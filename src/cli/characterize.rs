//! `tetris characterize`: a multiplier given as Verilog, built with Verilator and swept.

use super::noise_profile::{OutArgs, SweepArgs};
use crate::noise::characterize::{build, default_work_dir};
use crate::noise::engine::{exhaustive, over_pairs, progress, sample_pairs, Method, Operands};
use crate::noise::lut::Lut8;
use crate::noise::outputs::{report_written, summary};
use crate::noise::profile::{profile_json, Source};
use anyhow::{bail, Result};
use indicatif::ProgressBar;
use std::path::PathBuf;

/// Widest operands swept exhaustively by default, and with --exhaustive.
pub const DEFAULT_EXHAUSTIVE_MAX: u32 = 8;
pub const FORCED_EXHAUSTIVE_MAX: u32 = 12;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Verilog file of a combinational multiplier (submodules in the same file).
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
    /// Folder for cached Verilator builds (default: <tmp>/tetris-characterize).
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
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
    let paths = a.out.paths();
    paths.validate(a.width, a.signed)?;
    let mut plan = crate::fsutil::OutputPlan::new(false);
    plan.input("--verilog", Some(&a.verilog));
    paths.plan(&mut plan);
    plan.check()?;
    let method = match (a.sweep.samples, a.sweep.exhaustive) {
        (Some(count), _) => Method::Samples { count, seed: a.sweep.seed },
        (None, true) if a.width <= FORCED_EXHAUSTIVE_MAX => Method::Exhaustive,
        (None, true) => bail!("--exhaustive: Verilator sweeps are limited to --width {FORCED_EXHAUSTIVE_MAX} (2^24 pairs); use --samples"),
        (None, false) if a.width <= DEFAULT_EXHAUSTIVE_MAX => Method::Exhaustive,
        (None, false) => Method::Samples { count: super::noise_profile::DEFAULT_SAMPLES, seed: a.sweep.seed },
    };
    let work = a.work_dir.clone().unwrap_or_else(default_work_dir);
    let t = std::time::Instant::now();
    let h = build(
        &a.verilog,
        a.top.as_deref(),
        (
            a.port_a.as_deref(),
            a.port_b.as_deref(),
            a.port_out.as_deref(),
        ),
        &a.params,
        a.width,
        &work,
    )?;
    let t_build = t.elapsed().as_secs_f64();
    let ops = Operands {
        width: a.width,
        signed: a.signed,
    };
    let label = format!("{} {}-bit", h.ports.top, a.width);
    let (acc, table) = match method {
        Method::Exhaustive => {
            let table = h.sweep_all(a.width, a.signed)?;
            let pb = progress(1 << a.width, 1 << (2 * a.width), &label);
            let n = a.width;
            let acc = exhaustive(ops, |x, y| table[((x as usize) << n) | y as usize], &pb);
            (acc, Some(table))
        }
        Method::Samples { count, seed } => {
            let pairs = sample_pairs(a.width, count, seed);
            std::fs::create_dir_all(&work)?;
            let out = h.sweep_pairs(&pairs, a.signed, &work)?;
            let acc = over_pairs(ops, &pairs, |i, _, _| out[i], &ProgressBar::hidden());
            (acc, None)
        }
    };
    let secs = t.elapsed().as_secs_f64();
    let src = Source {
        spec: format!("verilog:{}#{}", a.verilog.display(), h.ports.top),
        width: a.width,
        signed: a.signed,
        signed_convention: if a.signed {
            "the netlist's own: operands and product read as two's complement".into()
        } else {
            "unsigned".into()
        },
        origin: format!(
            "Verilator simulation of {}{} (ports a={} b={} y={}[{}])",
            a.verilog.display(),
            a.params
                .iter()
                .map(|(n, v)| format!(" -G{n}={v}"))
                .collect::<String>(),
            h.ports.a.name,
            h.ports.b.name,
            h.ports.y.name,
            h.ports.y.width
        ),
    };
    let mut doc = profile_json(&src, method, &acc, None);
    let params: serde_json::Map<String, serde_json::Value> = a
        .params
        .iter()
        .map(|(n, v)| (n.clone(), serde_json::json!(v)))
        .collect();
    doc["multiplier"]["parameters"] = serde_json::Value::Object(params);
    print!("{}", summary(&doc));
    println!(
        "  Verilator build {t_build:.2} s ({}), total {secs:.2} s",
        if h.built { "built" } else { "cached" }
    );
    let lut = match (&table, a.width) {
        (Some(t), 8) => Some(Lut8 {
            values: t.clone(),
            signed: a.signed,
        }),
        _ => None,
    };
    let written = paths.write(&doc, lut.as_ref(), &h.ports.top)?;
    report_written(&written);
    Ok(())
}
