//! `tetris explore`: a design-space sweep on one layer of a weight file (src/study/explore.rs).

use crate::config::PeKind;
use crate::model::encoding::Encoding;
use crate::study::explore::{
    collect, points, run_local, run_parallel, write_jobs, write_outputs, JobSpec, Space,
};
use anyhow::{bail, Result};
use std::path::PathBuf;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunWith {
    /// Here, --jobs points at a time, with a progress bar.
    Local,
    /// GNU parallel on the job list (`parallel -j JOBS < jobs.txt`).
    Parallel,
    /// Only write the job list (run it elsewhere, e.g. `parallel --sshlogin ... < jobs.txt`),
    /// and collect the results already there.
    None,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Weight file (.onnx, .npy, .npz).
    #[arg(long)]
    pub weights: PathBuf,
    /// The layer every point runs (default: the one with the most MACs).
    #[arg(long)]
    pub layer: Option<String>,
    #[command(flatten)]
    pub input: crate::cli::InputArgs,
    /// PE kinds: sac, mac.
    #[arg(long, value_delimiter = ',', default_value = "sac,mac", value_parser = parse_kind)]
    pub kinds: Vec<PeKind>,
    /// Weight (= activation) widths.
    #[arg(long, value_delimiter = ',', default_value = "8,16")]
    pub bits: Vec<u32>,
    /// Kneading strides: of the SAC points, and the activation group of the MAC points (one
    /// MAC point per KS).
    #[arg(long, value_delimiter = ',', default_value = "16")]
    pub ks: Vec<u32>,
    /// Weight encodings of the SAC points: sm, csd.
    #[arg(long, value_delimiter = ',', default_value = "sm", value_parser = parse_encoding)]
    pub encodings: Vec<Encoding>,
    /// Array sizes N (NxN; 1 = one PE as it sits in an array).
    #[arg(long, value_delimiter = ',', default_value = "1,4")]
    pub sizes: Vec<u32>,
    /// Pixel tiles of the layer each point simulates gate by gate.
    #[arg(long, default_value_t = 16)]
    pub tiles: usize,
    /// Seed of the synthetic post-ReLU activations.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Liberty library (default: osu018).
    #[arg(long)]
    pub liberty: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "local")]
    pub run: RunWith,
    /// Points run at the same time (local and parallel).
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Output folder: jobs.txt, points/<id>/{config.toml,result.json,log.txt,work/},
    /// explore.{md,json,svg}. Finished points in it are not redone.
    #[arg(long, default_value = "explore_out")]
    pub out: PathBuf,
    /// Let --out be a folder tetris did not write.
    #[arg(long)]
    pub force: bool,
}

fn parse_kind(s: &str) -> Result<PeKind, String> {
    match s.trim() {
        "sac" => Ok(PeKind::Sac),
        "mac" => Ok(PeKind::Mac),
        _ => Err(format!("{s:?}: expected sac or mac")),
    }
}

fn parse_encoding(s: &str) -> Result<Encoding, String> {
    match s.trim() {
        "sm" => Ok(Encoding::Sm),
        "csd" => Ok(Encoding::Csd),
        _ => Err(format!("{s:?}: expected sm or csd")),
    }
}

pub fn run(a: Args) -> Result<()> {
    if a.tiles == 0 {
        bail!("--tiles 0: give at least 1");
    }
    if a.jobs == 0 {
        bail!("--jobs 0: give at least 1");
    }
    for (flag, empty) in [
        ("--kinds", a.kinds.is_empty()),
        ("--bits", a.bits.is_empty()),
        ("--ks", a.ks.is_empty()),
        ("--encodings", a.encodings.is_empty()),
        ("--sizes", a.sizes.is_empty()),
    ] {
        if empty {
            bail!("{flag}: give at least one value");
        }
    }
    let space = Space {
        kinds: a.kinds.clone(),
        bits: a.bits.clone(),
        ks: a.ks.clone(),
        encodings: a.encodings.clone(),
        sizes: a.sizes.clone(),
    };
    let pts = points(&space)?;
    let liberty = match &a.liberty {
        Some(_) => Some(crate::power::synth::liberty_path(a.liberty.as_deref())?),
        None => None,
    };
    crate::cli::prepare_out_folder(&a.weights, liberty.as_deref(), &a.out, a.force)?;
    // The weight file and the layer are checked once here, not once per job.
    let layers = crate::array::network::load_array_layers(&a.weights, &a.input.spec())?;
    if let Some(l) = &a.layer {
        if !layers.iter().any(|x| &x.name == l) {
            bail!("{}: no layer named {l:?}", a.weights.display());
        }
    }
    let mut input_args = vec![];
    if let Some((h, w)) = a.input.input_hw {
        input_args.extend(["--input-hw".to_string(), format!("{h},{w}")]);
    }
    for (name, dims) in &a.input.input_shape {
        let d: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
        input_args.extend([
            "--input-shape".to_string(),
            format!("{name}={}", d.join("x")),
        ]);
    }
    let spec = JobSpec {
        exe: std::env::current_exe()?,
        weights: a.weights.clone(),
        layer: a.layer.clone(),
        input_args,
        tiles: a.tiles,
        seed: a.seed,
        liberty,
    };
    let lines = write_jobs(&a.out, &pts, &spec)?;
    let failed = match a.run {
        RunWith::Local => run_local(&a.out, &pts, &lines, a.jobs)?,
        RunWith::Parallel => {
            if run_parallel(&a.out, a.jobs)? {
                vec![]
            } else {
                vec!["(see joblog.txt)".to_string()]
            }
        }
        RunWith::None => vec![],
    };
    let name = crate::cli::file_label(&a.weights);
    let x = collect(&a.out, &pts, &name, &spec)?;
    write_outputs(&a.out, &x)?;
    print!("{}", crate::study::explore::markdown(&x));
    println!(
        "outputs     {}/explore.{{md,json,svg}}, job list {}/jobs.txt",
        a.out.display(),
        a.out.display()
    );
    if !failed.is_empty() {
        bail!(
            "design points failed: {} (their log.txt under {}/points)",
            failed.join(", "),
            a.out.display()
        );
    }
    Ok(())
}
