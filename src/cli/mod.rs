//! The command-line front end: argument parsing and printing only; the work lives in the
//! library layers.
//!
//! The doc comments of the argument structs are clap's `--help` texts, written for a terminal
//! (`[top] clock_mhz`, `trunc:t=T[,corr]`), not for rustdoc: escaping them would print the
//! escapes in the help, so rustdoc's link and HTML checks are off for them.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]

use crate::config::Config;
use crate::weights::{Layout, LoadOptions, OpKind};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

pub mod axtrain;
pub mod characterize;
pub mod compare;
pub mod config_cmd;
pub mod cosim;
pub mod explore;
pub mod gen;
pub mod knead;
pub mod noise_profile;
pub mod power;
pub mod prove_cmd;
pub mod sim;
pub mod specialize_cmd;
pub mod synth_cmd;

#[derive(Parser, Debug)]
#[command(
    name = "tetris",
    version,
    about = "Tetris bit-sparse accelerator RTL generator and approximate-multiplier noise-profile extractor"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Validate a design config and print it with its derived widths.
    Config(config_cmd::Args),
    /// Bit-level sparsity of a weight file (.npy/.npz/.onnx) and the ideal kneading speedup.
    Knead(knead::Args),
    /// Generate the configured design's Verilog (checked, with manifest) into hdl_out/<top>.
    Gen(gen::Args),
    /// Co-simulate the emitted Verilog in Verilator against the in-process simulation.
    Cosim(cosim::Args),
    /// Run a network's layers on the Tetris array and the MAC array: cycles, speedup, share of ideal.
    Sim(sim::Args),
    /// Prebuild the width sets of configs outside the built-in set (other commands build them on demand).
    Specialize(specialize_cmd::Args),
    /// Synthesize the design with Yosys (generic, iCE40, Xilinx): cells, LUTs, FFs, transistors, Fmax.
    Synth(synth_cmd::Args),
    /// SAC vs MAC area, Fmax and throughput per area (PE and arrays): table, JSON and plot.
    Compare(compare::Args),
    /// Energy per layer and per MAC, area and Fmax on a standard-cell library (gate-level activity, OpenSTA).
    Power(power::Args),
    /// Sweep a design space (kinds, widths, KS, encodings, array sizes) through `tetris power`:
    /// a job list GNU parallel can run, table, JSON and a Pareto plot.
    Explore(explore::Args),
    /// Formal proof (Yosys SAT) that the emitted kneading unit + SAC PE compute sum w_i a_i exactly.
    Prove(prove_cmd::Args),
    /// Noise profile of a built-in approximate multiplier (metrics, histograms, LUTs, plot).
    NoiseProfile(noise_profile::Args),
    /// Noise profile of a combinational multiplier given as Verilog (built with Verilator).
    Characterize(characterize::Args),
    /// Train networks that tolerate an approximate multiplier (AxTrain passive/active) and
    /// evaluate them with bit-exact approximate inference.
    Axtrain(axtrain::Args),
}

/// The input-size flags of the commands that run a network on the array (`sim`, `compare`,
/// `cosim`): free input dims are never guessed.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct InputArgs {
    /// Height,width of a 4-D (image) model input where the model leaves them free, and the
    /// input size of a .npy conv. Static sizes declared in the model are kept; a free batch
    /// dim is 1.
    #[arg(long, value_name = "H,W", value_parser = parse_hw)]
    pub input_hw: Option<(usize, usize)>,
    /// The whole shape of one named model input, e.g. `--input-shape x=1x3x48x320`
    /// (repeatable; must agree with the dims the model declares).
    #[arg(long, value_name = "NAME=D0xD1x...", value_parser = parse_input_shape)]
    pub input_shape: Vec<(String, Vec<usize>)>,
}

impl InputArgs {
    pub fn spec(&self) -> crate::weights::InputSpec {
        crate::weights::InputSpec {
            hw: self.input_hw,
            shapes: self.input_shape.clone(),
        }
    }
}

/// `--config` of the commands that work on one design. A command whose config says more
/// (what it builds from it) rewrites the help with `#[command(mut_arg("config", ..))]`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ConfigArg {
    /// Design config (TOML); the built-in default when omitted.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

impl ConfigArg {
    pub fn path(&self) -> Option<&Path> {
        self.config.as_deref()
    }

    /// The config, or the built-in default.
    pub fn load(&self) -> anyhow::Result<Config> {
        Config::load(self.path())
    }

    /// The config, checked against the width sets this binary holds, and where it came from.
    pub fn load_checked(&self) -> anyhow::Result<(Config, String)> {
        load_checked_config(self.path())
    }
}

/// Load a config (the built-in default without a path), check that this binary can build its
/// widths, and return it with its origin for messages.
pub fn load_checked_config(path: Option<&Path>) -> anyhow::Result<(Config, String)> {
    let cfg = Config::load(path)?;
    let origin = path.map_or("<built-in default>".to_string(), |p| {
        p.display().to_string()
    });
    crate::flow::select::check_config(&cfg, &origin)?;
    Ok((cfg, origin))
}

/// `--work-dir` and `--force` of the commands with a work folder. Each command says where the
/// folder defaults to and what --force allows with `#[command(mut_arg(..))]` where the generic
/// help below does not say enough.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct WorkDirArgs {
    /// Work folder.
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Let --work-dir replace a folder tetris did not write.
    #[arg(long)]
    pub force: bool,
}

impl WorkDirArgs {
    /// --work-dir, or the command's default.
    pub fn or_else(&self, default: impl FnOnce() -> PathBuf) -> PathBuf {
        self.work_dir.clone().unwrap_or_else(default)
    }
}

/// `--cache-dir`: the root of the one Verilator build cache (`cosim`, `sim`, `characterize`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CacheDirArg {
    /// Root of the Verilator build cache, shared by cosim, sim and characterize (default:
    /// $TETRIS_CACHE_DIR, else $XDG_CACHE_HOME/tetris-hdl, else ~/.cache/tetris-hdl).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

impl CacheDirArg {
    /// --cache-dir, or the default root.
    pub fn root(&self) -> PathBuf {
        self.cache_dir
            .clone()
            .unwrap_or_else(crate::flow::build_cache::default_root)
    }
}

/// The time limit of each nextpnr-ice40 run (`synth`, `compare`).
#[derive(clap::Args, Debug, Clone)]
pub struct PnrLimitArg {
    /// Stop a place and route that has not finished after SECS seconds (0: no limit); its
    /// Fmax is then reported as not measured, with a note. A design that nearly fills the
    /// part can take the router an hour or more.
    #[arg(long = "pnr-timeout", value_name = "SECS", default_value_t = 1800)]
    pub secs: u64,
}

impl PnrLimitArg {
    pub fn limit(&self) -> Option<std::time::Duration> {
        (self.secs > 0).then(|| std::time::Duration::from_secs(self.secs))
    }
}

/// How `knead` and `sim` read a weight file: operator families, batch-norm folding, numpy axis
/// order.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ModelArgs {
    /// Operator families to count: conv,convtranspose,gemm,matmul,recurrent,tensor (default:
    /// all).
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = OpKind::parse)]
    pub ops: Vec<OpKind>,
    /// Keep BatchNormalization separate instead of folding it into the conv before it (as
    /// inference runtimes do).
    #[arg(long)]
    pub no_fold_bn: bool,
    /// Axis order of numpy arrays, e.g. oihw (the default: axis 0 is the output channel),
    /// iohw (PyTorch ConvTranspose), hwio (TensorFlow).
    #[arg(long, value_name = "LETTERS")]
    pub layout: Option<Layout>,
}

impl ModelArgs {
    pub fn load_options(&self, inputs: crate::weights::InputSpec) -> LoadOptions {
        LoadOptions {
            fold_bn: !self.no_fold_bn,
            inputs,
            layout: self.layout.clone(),
        }
    }
}

/// The file name of a path, for titles (the whole path where it has none).
pub fn file_label(p: &Path) -> String {
    p.file_name().map_or(p.display().to_string(), |n| {
        n.to_string_lossy().into_owned()
    })
}

/// The output folder of `compare` and `explore` (--out, which they fill file by file): checked
/// with their inputs, then created or adopted (--force).
pub fn prepare_out_folder(
    weights: &Path,
    liberty: Option<&Path>,
    out: &Path,
    force: bool,
) -> anyhow::Result<()> {
    crate::fsutil::OutputPlan::new(force)
        .input("--weights", Some(weights))
        .input("--liberty", liberty)
        .dir("--out", Some(out))
        .prepare()?;
    crate::fsutil::ensure_work_dir("--out", out, force)
}

/// `H,W`: two positive sizes.
pub fn parse_hw(s: &str) -> Result<(usize, usize), String> {
    let v: Vec<&str> = s.split(',').collect();
    match v[..] {
        [h, w] => match (h.trim().parse::<usize>(), w.trim().parse::<usize>()) {
            (Ok(h), Ok(w)) if h > 0 && w > 0 => Ok((h, w)),
            _ => Err(format!("{s:?}: expected two positive integers H,W")),
        },
        _ => Err(format!("{s:?}: expected H,W")),
    }
}

/// `NAME=D0xD1x...`: an input name and its positive dims.
pub fn parse_input_shape(s: &str) -> Result<(String, Vec<usize>), String> {
    let (name, dims) = s
        .rsplit_once('=')
        .ok_or_else(|| format!("{s:?}: expected NAME=D0xD1x... (e.g. x=1x3x48x320)"))?;
    let dims: Result<Vec<usize>, String> = dims
        .split(['x', 'X', ','])
        .map(|d| {
            d.trim()
                .parse::<usize>()
                .ok()
                .filter(|&d| d > 0)
                .ok_or_else(|| format!("{s:?}: dim {d:?} is not a positive integer"))
        })
        .collect();
    if name.is_empty() {
        return Err(format!("{s:?}: no input name before '='"));
    }
    Ok((name.to_string(), dims?))
}

/// The `tetris` binary (and every specialization binary, after it registers its width sets):
/// parse, run, print the error. A config whose widths this binary lacks (`NotBuiltIn`) is
/// handed to a specialization built on demand (`crate::specialize`), unless
/// `TETRIS_SPECIALIZE=off`.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    crate::fsutil::install_signal_cleanup();
    let Err(e) = run(cli) else {
        return std::process::ExitCode::SUCCESS;
    };
    if let Some(nb) = e.downcast_ref::<crate::flow::select::NotBuiltIn>() {
        if crate::specialize::auto_enabled() {
            let why = crate::specialize::reexec_for(nb.key);
            eprintln!("error: {e:#}\nerror: the specialization for it failed: {why:#}");
            return std::process::ExitCode::FAILURE;
        }
    }
    eprintln!("error: {e:#}");
    std::process::ExitCode::FAILURE
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Config(a) => config_cmd::run(a),
        Command::Cosim(a) => cosim::run(a),
        Command::Knead(a) => knead::run(a),
        Command::Gen(a) => gen::run(a),
        Command::Sim(a) => sim::run(a),
        Command::Specialize(a) => specialize_cmd::run(a),
        Command::Synth(a) => synth_cmd::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Power(a) => power::run(a),
        Command::Explore(a) => explore::run(a),
        Command::Prove(a) => prove_cmd::run(a),
        Command::NoiseProfile(a) => noise_profile::run(a),
        Command::Characterize(a) => characterize::run(a),
        Command::Axtrain(a) => axtrain::run(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_or_say_what_is_wrong() {
        assert_eq!(parse_hw("48, 320"), Ok((48, 320)));
        assert!(parse_hw("0,5").is_err() && parse_hw("5").is_err() && parse_hw("-1,5").is_err());
        assert_eq!(
            parse_input_shape("x=1x3x48x320"),
            Ok(("x".into(), vec![1, 3, 48, 320]))
        );
        assert_eq!(parse_input_shape("a=b=2x3"), Ok(("a=b".into(), vec![2, 3])));
        assert!(parse_input_shape("x=1x0").unwrap_err().contains("\"0\""));
        assert!(parse_input_shape("=4").is_err() && parse_input_shape("x").is_err());
    }
}
