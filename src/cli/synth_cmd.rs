//! `tetris synth`: synthesize the configured design (or an emitted filelist) with Yosys for a
//! generic, iCE40 or Xilinx target and report cells, LUTs, FFs, carries, DSPs, BRAMs,
//! transistors and (iCE40) Fmax per module and for the top.

use crate::flow::gen::{generate, ToolChecks};
use crate::flow::synth::{synthesize, SynthInput, SynthOptions, SynthReport, Target};
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetArg {
    Generic,
    Ice40,
    Xilinx,
}

impl From<TargetArg> for Target {
    fn from(t: TargetArg) -> Target {
        match t {
            TargetArg::Generic => Target::Generic,
            TargetArg::Ice40 => Target::Ice40,
            TargetArg::Xilinx => Target::Xilinx,
        }
    }
}

#[derive(clap::Args, Debug)]
#[command(
    mut_arg("config", |a| a.conflicts_with("filelist").help("Design config (TOML): the design is generated into WORK_DIR/design first. The built-in default when neither --config nor --filelist is given")),
    mut_arg("work_dir", |a| a.help("Folder for the design, scripts, logs and reports (default synth_out/<top>); the run writes WORK_DIR/<target>/ atomically")),
    mut_arg("force", |a| a.help("Let the run replace WORK_DIR/<target> and WORK_DIR/design even when tetris did not write them"))
)]
pub struct Args {
    #[command(flatten)]
    pub config: crate::cli::ConfigArg,
    /// An emitted filelist (e.g. hdl_out/<top>/files.f) instead of a config; needs --top.
    #[arg(long, requires = "top")]
    pub filelist: Option<PathBuf>,
    /// Top module of --filelist.
    #[arg(long, requires = "filelist")]
    pub top: Option<String>,
    #[arg(long, value_enum)]
    pub target: TargetArg,
    /// iCE40 part: hx8k (default), hx1k, up5k; Xilinx family: xc7 (default), xcu, xcup, xc6s, xc6v.
    #[arg(long)]
    pub device: Option<String>,
    /// Also write the report (report.json) here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub work: crate::cli::WorkDirArgs,
    /// Place-and-route clock target in MHz (default: [top] clock_mhz of the config, 100 with --filelist).
    #[arg(long)]
    pub clock_mhz: Option<f64>,
    /// iCE40: skip nextpnr (no Fmax).
    #[arg(long)]
    pub no_pnr: bool,
    #[command(flatten)]
    pub pnr: crate::cli::PnrLimitArg,
}

pub fn run(a: Args) -> Result<()> {
    let target: Target = a.target.into();
    let plan_outputs = |work: &Path, design: Option<&Path>| {
        crate::fsutil::OutputPlan::new(a.work.force)
            .input("--config", a.config.path())
            .input("--filelist", a.filelist.as_deref())
            .dir("--work-dir", Some(&work.join(target.name())))
            .dir("--work-dir", design)
            .file("--json", a.json.as_deref())
            .prepare()
    };
    let (input, work, clock_mhz) = match &a.filelist {
        Some(f) => {
            let top = a.top.clone().expect("clap requires --top with --filelist");
            let work = a.work.or_else(|| Path::new("synth_out").join(&top));
            plan_outputs(&work, None)?;
            (SynthInput::from_filelist(f, &top)?, work, 100.0)
        }
        None => {
            let (cfg, _) = a.config.load_checked()?;
            let work = a
                .work
                .or_else(|| Path::new("synth_out").join(&cfg.top.name));
            let design_dir = work.join("design");
            plan_outputs(&work, Some(&design_dir))?;
            eprintln!("generating {} into {}", cfg.top.name, design_dir.display());
            let (built, _) = generate(&cfg, &design_dir, 20, ToolChecks::NONE)?;
            let input = SynthInput::from_filelist(&design_dir.join("files.f"), &built.design.top)?;
            (input, work, cfg.top.clock_mhz)
        }
    };
    let clock_mhz = a.clock_mhz.unwrap_or(clock_mhz);
    if !(clock_mhz.is_finite() && clock_mhz > 0.0 && clock_mhz <= 2000.0) {
        bail!("--clock-mhz {clock_mhz}: allowed range is (0, 2000]");
    }
    let opts = SynthOptions {
        target,
        device: a.device.clone(),
        clock_mhz,
        place_and_route: !a.no_pnr,
        pnr_time_limit: a.pnr.limit(),
        progress: true,
    };
    let out = work.join(target.name());
    let rep = synthesize(&input, &opts, &out)?;
    if let Some(j) = &a.json {
        crate::fsutil::write_json(j, &rep)?;
    }
    print_report(&rep);
    Ok(())
}

fn opt(v: Option<u64>) -> String {
    v.map_or("-".into(), |x| x.to_string())
}

fn print_report(r: &SynthReport) {
    println!(
        "synthesis   {} for {} ({}) in {:.1} s of yosys",
        r.top,
        r.target.name(),
        r.device,
        r.yosys_seconds
    );
    println!(
        "{:<32} {:>5} {:>9} {:>8} {:>7} {:>7} {:>5} {:>5} {:>11}",
        "module (totals incl. submodules)",
        "uses",
        "cells",
        "LUTs",
        "FFs",
        "carries",
        "DSPs",
        "BRAMs",
        "transistors"
    );
    let mut uses = std::collections::BTreeMap::new();
    for f in r.modules.values() {
        for (c, n) in &f.instances {
            *uses.entry(c.clone()).or_insert(0u64) += n;
        }
    }
    let mut rows: Vec<_> = r.modules.iter().collect();
    rows.sort_by_key(|(n, f)| (n.as_str() == r.top, f.cells));
    for (name, f) in rows {
        println!(
            "{:<32} {:>5} {:>9} {:>8} {:>7} {:>7} {:>5} {:>5} {:>11}",
            name,
            if name == &r.top {
                "top".to_string()
            } else {
                uses.get(name).map_or("-".into(), |n| n.to_string())
            },
            f.cells,
            opt(f.luts),
            f.ffs,
            opt(f.carries),
            opt(f.dsps),
            opt(f.brams),
            opt(f.transistors)
        );
    }
    if let Some(p) = &r.pnr {
        match p.fmax_mhz {
            Some(f) => println!(
                "fmax        {f:.2} MHz on iCE40 {} {} (nextpnr-ice40, target {} MHz, {} of {} logic cells incl. the IO wrapper; {}) in {:.1} s",
                p.device.to_uppercase(),
                p.package,
                p.target_mhz,
                opt(p.logic_cells_used),
                p.logic_cells_available,
                p.note,
                p.seconds
            ),
            None => println!("fmax        - ({})", p.note),
        }
    }
    println!(
        "outputs     {} (synth.ys, yosys.log, stat.json, report.json)",
        r.work_dir.display()
    );
}
