//! `tetris prove`: formal equivalence of the emitted SAC design (kneading unit + SAC PE) with
//! Yosys SAT. What is proved and why it implies sum w_i a_i: `docs/formal.md`.

use crate::flow::formal::{prove, ProveOptions};
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
#[command(
    mut_arg("config", |a| a.help("Design config (TOML); the built-in default when omitted. Small widths prove in seconds (configs/prove_w4.toml); the proof time grows quickly with weight_bits and ks")),
    mut_arg("work_dir", |a| a.help("Where the RTL, harnesses, Yosys scripts, logs and counterexample VCDs go (default: formal_out/<top name>). Replaced atomically when tetris wrote it (or it is empty); any other folder is refused unless --force")),
    mut_arg("force", |a| a.help("Let --work-dir replace a folder tetris did not write (its files are deleted)"))
)]
pub struct Args {
    #[command(flatten)]
    pub config: crate::cli::ConfigArg,
    #[command(flatten)]
    pub work: crate::cli::WorkDirArgs,
    /// Write the report as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Time steps of the kneading-unit proof (default 2 ks + 2).
    #[arg(long)]
    pub knead_steps: Option<u32>,
    /// Time steps of the SAC PE proof (default 2 ks + 3).
    #[arg(long)]
    pub pe_steps: Option<u32>,
    /// Stop each Yosys run after SECS seconds (default 1800). Giving it (or --knead-steps)
    /// also starts proofs that the cost estimate says will not finish in reasonable time.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=7 * 24 * 3600))]
    pub timeout: Option<u64>,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let (cfg, origin) = a.config.load_checked()?;
    if cfg.pe.kind != crate::config::PeKind::Sac {
        bail!("{origin}: field pe.kind = \"mac\": tetris prove covers the SAC design (kneading unit + SAC PE)");
    }
    let work_dir = a
        .work
        .or_else(|| Path::new("formal_out").join(&cfg.top.name));
    crate::fsutil::OutputPlan::new(a.work.force)
        .input("--config", a.config.path())
        .dir("--work-dir", Some(&work_dir))
        .file("--json", a.json.as_deref())
        .prepare()?;
    let opts = ProveOptions {
        knead_steps: a.knead_steps,
        pe_steps: a.pe_steps,
        mutations: vec![],
        timeout: a.timeout.map(std::time::Duration::from_secs),
        allow_expensive: a.knead_steps.is_some() || a.timeout.is_some(),
    };
    eprintln!(
        "proving {} ({}-bit weights, {}-bit activations, ks {}, {}) with yosys sat, work dir {} ..",
        cfg.top.name,
        cfg.pe.weight_bits,
        cfg.pe.act_bits,
        cfg.pe.ks,
        cfg.pe.encoding,
        work_dir.display()
    );
    let report = prove(&cfg, &work_dir, &opts)?;
    println!("design      {}: {}", report.top, report.description);
    for o in &report.obligations {
        let size = match (o.variables, o.clauses) {
            (Some(v), Some(c)) => format!(", {v} variables, {c} clauses"),
            _ => String::new(),
        };
        let bound = o
            .steps
            .map_or("unbounded".to_string(), |n| format!("over {n} steps"));
        println!(
            "{:<20}  {}  {} {bound}, {:.1} s{size}",
            o.harness,
            if o.proved { "PROVED" } else { "FAILED" },
            o.module,
            o.seconds
        );
        println!("                      method: {}", o.method);
        println!("                      claim: {}", o.claim);
        if !o.proved {
            println!(
                "                      false checks: {} at steps {:?}",
                o.failed_checks.join(", "),
                o.failed_steps
            );
            if let Some(v) = &o.vcd {
                println!(
                    "                      counterexample: {}",
                    work_dir.join(v).display()
                );
            }
            println!("{}", o.counterexample);
        }
    }
    println!("yosys       {}", report.yosys);
    println!(
        "files       {} (scripts *.ys, logs *.log)",
        work_dir.display()
    );
    println!("time        {:.1} s", report.seconds);
    if let Some(p) = &a.json {
        crate::fsutil::write_json(p, &report)
            .with_context(|| format!("cannot write the JSON report {}", p.display()))?;
    }
    if !report.proved() {
        bail!(
            "the proof FAILED: {}",
            report
                .obligations
                .iter()
                .filter(|o| !o.proved)
                .map(|o| format!("{} ({})", o.harness, o.failed_checks.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    Ok(())
}
