//! `tetris characterize`: a multiplier given as Verilog, proved combinational by Yosys,
//! built with Verilator and swept.

use super::noise_profile::{OutArgs, SweepArgs};
use crate::flow::build_cache::BuildCache;
use crate::fsutil::OutputPlan;
use crate::noise::characterize::build;
use crate::noise::engine::{progress, Method, Operands, SampleAccumulator, SAMPLE_BLOCK};
use crate::noise::lut::{Lut8, Roles};
use crate::noise::metrics::Acc;
use crate::noise::outputs::{report_written, summary};
use crate::noise::profile::{Document, Profile, Source};
use crate::noise::sweep::{block_rows, exhaustive_rows, TableKernel};
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
    let paths = a.out.paths();
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
        &cache,
    )?;
    let fname = a.verilog.display();
    if h.ports.y.width < 2 * a.width && !a.truncate_output {
        bail!(
            "{fname}: output {} of module {} is {} bits, but an {n}x{n} product needs {}; \
             pass --truncate-output to characterize what the port holds (the dropped high bits \
             count as errors)",
            h.ports.y.name,
            h.ports.top,
            h.ports.y.width,
            2 * a.width,
            n = a.width
        );
    }
    if !a.signed {
        for p in h.elaborated.iter().filter(|p| p.signed) {
            eprintln!(
                "warning: {fname}: port {} of module {} is declared signed, but without --signed \
                 operands and product are read as unsigned",
                p.name, h.ports.top
            );
        }
    }
    let t_build = t.elapsed().as_secs_f64();
    let ops = Operands {
        width: a.width,
        signed: a.signed,
    };
    let label = format!("{} {}-bit", h.ports.top, a.width);
    let keep_table = paths.wants_lut() && a.width == 8;
    let mut table = Vec::new();
    let acc =
        match method {
            Method::Exhaustive => {
                // Streamed block by block, merged in order: the same figures as the engine's
                // exhaustive sweep of the same products, in bounded memory.
                let per_block = block_rows(a.width);
                let pb = progress(1 << a.width, 1 << (2 * a.width), &label);
                let mut total = Acc::new(a.width);
                h.sweep_rows(a.width, a.signed, per_block, |a0, products| {
                    let kernel = TableKernel {
                        width: ops.width,
                        first_row: a0,
                        table: products,
                    };
                    total = std::mem::replace(&mut total, Acc::new(ops.width))
                        .merge(exhaustive_rows(ops, &kernel, a0..a0 + per_block));
                    if keep_table {
                        table.extend_from_slice(products);
                    }
                    pb.inc(per_block as u64);
                    Ok(())
                })?;
                pb.finish_and_clear();
                total
            }
            Method::Samples { count, seed } => {
                let pb = progress(count.div_ceil(SAMPLE_BLOCK), count, &label);
                let mut acc = SampleAccumulator::new(ops, seed);
                h.sweep_samples(a.width, count, seed, a.signed, |products| {
                    acc.push(products);
                    pb.inc(1);
                    Ok(())
                })?;
                pb.finish_and_clear();
                acc.finish()
            }
        };
    let secs = t.elapsed().as_secs_f64();
    let roles = Roles::new(a.out.activation, &h.ports.a.name, &h.ports.b.name);
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
            "Verilator simulation of {}{} (ports a={} b={} y={}[{}]{})",
            a.verilog.display(),
            a.params
                .iter()
                .map(|(n, v)| format!(" -G{n}={v}"))
                .collect::<String>(),
            h.ports.a.name,
            h.ports.b.name,
            h.ports.y.name,
            h.ports.y.width,
            if h.ports.y.width < 2 * a.width {
                ", truncated output: high product bits dropped"
            } else {
                ""
            }
        ),
        roles: roles.clone(),
    };
    let mut doc = Profile::new(&src, method, &acc, None);
    doc.multiplier.parameters = Some(a.params.iter().cloned().collect());
    doc.multiplier.output_bits = Some(h.ports.y.width);
    print!("{}", summary(&doc));
    println!("  {}", roles.describe());
    println!(
        "  Verilator build {t_build:.2} s ({}), total {secs:.2} s",
        if h.built { "built" } else { "cached" }
    );
    let lut = keep_table.then_some(Lut8 {
        values: table,
        signed: a.signed,
        roles,
    });
    let written = paths.write(Document::Profile(&doc), lut.as_ref(), &h.ports.top)?;
    report_written(&written);
    Ok(())
}
