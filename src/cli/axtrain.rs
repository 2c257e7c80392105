//! `tetris axtrain`: train conventional and AxTrain networks, evaluate them with bit-exact
//! approximate inference on one or several multipliers, print the paper-style table.

use crate::axtrain::area::multiplier_area;
use crate::axtrain::data::{self, LabelColumn};
use crate::axtrain::experiment::{sweep, Setup};
use crate::axtrain::hardware::{ActOperand, Hardware};
use crate::axtrain::net::Arch;
use crate::axtrain::noise::{ErrorModel, NoiseModel};
use crate::axtrain::report;
use crate::axtrain::train::{Mode, Optim, TrainConfig};
use crate::fsutil::{publish_dir, write_files_atomic, Existing, OutputPlan};
use anyhow::{bail, Context, Result};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Training data: CSV (label + pixels, .gz allowed) or an MNIST `*images-idx3-ubyte[.gz]`
    /// file (its `*labels-idx1-ubyte` file next to it).
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Test data in the same format; without it, --test-fraction of --data is held out.
    #[arg(long, value_name = "FILE")]
    pub test_data: Option<PathBuf>,
    /// Share of --data held out for testing (per class, seeded) when --test-data is absent.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// CSV column holding the label (scikit-learn's digits.csv.gz: last; MNIST CSVs: first).
    #[arg(long, value_enum, default_value_t = LabelColumn::First)]
    pub label_col: LabelColumn,
    #[arg(long, value_enum, default_value_t = Arch::Mlp)]
    pub arch: Arch,
    /// Width of the hidden dense layer.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub hidden: u64,
    /// Built-in multiplier (8-bit), repeatable for a sweep: exact, trunc:t=T[,corr],
    /// bam:hbl=H,vbl=V, drum:k=K, mitchell, kulkarni.
    #[arg(long = "mult", value_name = "SPEC")]
    pub mults: Vec<String>,
    /// Lookup table of a multiplier, repeatable: `--lut-bin` (TFApprox uint16) or `--lut-npy`
    /// (256x256) output of `tetris noise-profile` / `tetris characterize`.
    #[arg(long = "lut", value_name = "FILE")]
    pub luts: Vec<PathBuf>,
    /// Built-in multipliers take two's-complement operands (sign-magnitude wrapper);
    /// activations are then quantized to 0..=127.
    #[arg(long)]
    pub signed: bool,
    /// The --lut tables are indexed by two's-complement byte patterns (a signed multiplier).
    #[arg(long)]
    pub lut_signed: bool,
    /// Which port of a --mult multiplier takes the activation: a or b (the weight takes the
    /// other), as `tetris noise-profile --activation`, with the same default. --lut tables
    /// need no choice: they are indexed [activation][weight].
    #[arg(long, value_enum, default_value_t = ActOperand::B)]
    pub act_operand: ActOperand,
    /// Timing errors on every multiplier (voltage overscaling): vdd=V[,v0=..,vth=..,alpha=..,
    /// slack=..,sigma=..,seed=..], the model of `tetris noise-profile --timing`.
    #[arg(long, value_name = "PARAMS")]
    pub timing: Option<String>,
    /// Modes to train besides the conventional baseline (always trained): passive, active,
    /// both (passive + active); comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "passive,active,both"
    )]
    pub mode: Vec<Mode>,
    /// Passive noise: lut (exact error of every product), magnitude (the profile's
    /// error-by-operand-magnitude table), gauss (the profile's Gaussian, fan-in scaled).
    #[arg(long, value_enum, default_value_t = NoiseModel::Lut)]
    pub noise: NoiseModel,
    /// Weight lambda of the active sensitivity regularizer R: the mean KL divergence of the
    /// class distribution with the hardware's error (drawn from --noise) from the one without,
    /// on each training batch (active: L_clean + lambda R; both: L_noisy + L_clean + lambda R);
    /// active with 0 trains the conventional network.
    #[arg(long, default_value_t = 1.0)]
    pub active_weight: f64,
    /// Train every mode (not the baseline) through the quantized approximate arithmetic
    /// itself, with a straight-through gradient.
    #[arg(long)]
    pub ste: bool,
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub epochs: u64,
    /// Seeds 1..=K (each: initialization, shuffling, noise draws).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub seeds: u64,
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub batch: u64,
    #[arg(long, default_value_t = 3e-3)]
    pub lr: f64,
    #[arg(long, value_enum, default_value_t = Optim::Adam)]
    pub optim: Optim,
    /// Weight scales per output channel instead of per tensor.
    #[arg(long)]
    pub per_channel: bool,
    /// Write every run and the summary as JSON.
    #[arg(long, value_name = "OUT")]
    pub json: Option<PathBuf>,
    /// Plot of accuracy vs multiplier error (.svg); with --area a second panel: accuracy vs
    /// the multiplier's transistor estimate.
    #[arg(long, value_name = "OUT")]
    pub plot: Option<PathBuf>,
    /// Synthesize each --mult multiplier's emitted RTL (as `noise-profile --emit-rtl` writes
    /// it) with Yosys, generic target as `tetris synth --target generic`: cells and CMOS
    /// transistor estimate in the table, the JSON and the plot. Needs yosys on PATH.
    #[arg(long)]
    pub area: bool,
    /// Write every trained network as `.npz` (`<name>.weight`, `<name>.bias`) into DIR, for
    /// `tetris knead` and `tetris sim`.
    #[arg(long, value_name = "DIR")]
    pub npz_dir: Option<PathBuf>,
    /// Let --npz-dir replace a folder tetris did not write (its files are deleted).
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: Args) -> Result<()> {
    if a.mults.is_empty() && a.luts.is_empty() {
        bail!("give at least one multiplier: --mult SPEC or --lut FILE");
    }
    if let Some(p) = &a.plot {
        if p.extension().and_then(|e| e.to_str()) != Some("svg") {
            bail!("--plot {}: the plot is written as SVG (.svg)", p.display());
        }
    }
    if !(a.lr > 0.0 && a.lr.is_finite() && a.active_weight >= 0.0 && a.active_weight.is_finite()) {
        bail!("--lr must be > 0 and --active-weight >= 0");
    }
    let mut plan = OutputPlan::new(a.force);
    plan.input("--data", Some(&a.data))
        .input("--test-data", a.test_data.as_deref());
    for l in &a.luts {
        plan.input("--lut", Some(l));
    }
    plan.file("--json", a.json.as_deref())
        .file("--plot", a.plot.as_deref())
        .dir("--npz-dir", a.npz_dir.as_deref())
        .check()?;
    if a.area && a.mults.is_empty() {
        bail!("--area synthesizes the RTL of --mult multipliers; --lut tables have none, give at least one --mult");
    }
    // Synthesized before training, so that a missing Yosys fails before any work.
    let mut areas = Vec::new();
    if a.area {
        for m in &a.mults {
            eprintln!("yosys: synthesizing {m}");
            let ar = multiplier_area(m, a.signed)?;
            eprintln!(
                "yosys: {m}: {} cells, {} transistors ({:.1} s)",
                ar.cells, ar.transistors, ar.yosys_seconds
            );
            areas.push(ar);
        }
    }
    let mut hws = Vec::new();
    for m in &a.mults {
        hws.push(Hardware::from_spec(m, a.signed, a.act_operand)?);
    }
    for l in &a.luts {
        hws.push(Hardware::from_lut(l, a.lut_signed)?);
    }
    if let Some(t) = &a.timing {
        hws = hws
            .into_iter()
            .map(|h| h.with_timing(t))
            .collect::<Result<_>>()?;
    }
    let full = data::load(&a.data, a.label_col)?;
    let (train, test) = match &a.test_data {
        Some(p) => (full, data::load(p, a.label_col)?),
        None => full.split(a.test_fraction, 1)?,
    };
    eprintln!(
        "data: {} training and {} test images of {}x{}x{}, {} classes",
        train.len(),
        test.len(),
        train.shape.0,
        train.shape.1,
        train.shape.2,
        train.classes
    );
    let cfg = TrainConfig {
        epochs: a.epochs as usize,
        batch: a.batch as usize,
        lr: a.lr,
        optim: a.optim,
        per_channel: a.per_channel,
        noise: a.noise,
        active_weight: a.active_weight,
        ste: a.ste,
    };
    let setup = Setup::new(a.arch, a.hidden as usize, train, test, cfg)?;
    let ems: Vec<ErrorModel> = hws.into_iter().map(ErrorModel::new).collect();
    let seeds: Vec<u64> = (1..=a.seeds).collect();
    let mut res = sweep(&setup, &ems, &a.mode, &seeds, true)?;
    for (s, ar) in res.summaries.iter_mut().zip(areas) {
        s.area = Some(ar);
    }
    print!("{}", report::table(&res.summaries));
    let secs: Vec<f64> = res.runs.iter().map(|r| r.train_seconds).collect();
    println!(
        "training time per run: {:.1}..{:.1} s",
        secs.iter().cloned().fold(f64::MAX, f64::min),
        secs.iter().cloned().fold(0.0, f64::max)
    );
    let config = report::SweepConfig {
        data: a.data.display().to_string(),
        test_data: a.test_data.as_ref().map(|p| p.display().to_string()),
        train_images: setup.train.len(),
        test_images: setup.test.len(),
        arch: a.arch,
        hidden: a.hidden,
        layers: setup.specs.clone(),
        modes: a.mode.clone(),
        noise: a.noise,
        active_weight: a.active_weight,
        ste: a.ste,
        epochs: a.epochs,
        seeds: seeds.clone(),
        batch: a.batch,
        lr: a.lr,
        optim: a.optim,
        quantization: report::Quantization {
            weights: format!(
                "8-bit symmetric max-abs {} (crates/tetris-core/src/model/quant.rs, as tetris knead)",
                if a.per_channel { "per output channel" } else { "per tensor" }
            ),
            activations: "unsigned, max over the training set -> act_max (255 unsigned multiplier, 127 signed)".into(),
            act_operand: a.act_operand,
            sign_convention: "unsigned multiplier: activation x |weight|, product negated for a negative weight (sign-magnitude weights); signed multiplier: two's-complement operands through its sign-magnitude wrapper".into(),
        },
        timing: a.timing.clone(),
        area: a.area.then(|| "yosys generic target (tetris synth --target generic) of the --mult multiplier's emitted RTL (noise-profile --emit-rtl): cells and stat -tech cmos transistors".into()),
    };
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    if let Some(p) = &a.json {
        let doc = report::SweepDoc {
            config,
            summary: res.summaries.clone(),
            runs: res.runs.clone(),
        };
        files.push((p.clone(), crate::fsutil::json_text(&doc)?.into_bytes()));
    }
    if let Some(p) = &a.plot {
        files.push((p.clone(), report::svg(&res.summaries).into_bytes()));
    }
    let nets = match a.npz_dir {
        Some(_) => res.networks_npz(&setup.specs)?,
        None => vec![],
    };
    let refs: Vec<(&std::path::Path, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_path(), b.as_slice()))
        .collect();
    write_files_atomic(&refs)?;
    for (p, _) in &files {
        eprintln!("wrote {}", p.display());
    }
    if let Some(dir) = &a.npz_dir {
        publish_dir(dir, Existing::from_force(a.force), |tmp| {
            for (name, bytes) in &nets {
                std::fs::write(tmp.join(name), bytes)
                    .with_context(|| format!("cannot write {name}"))?;
            }
            Ok(())
        })?;
        eprintln!("wrote {} networks into {}", nets.len(), dir.display());
    }
    Ok(())
}
