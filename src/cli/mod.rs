//! The command-line front end: argument parsing and printing only; the work lives in the
//! library layers.

use clap::{Parser, Subcommand};

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
    if let Some(nb) = e.downcast_ref::<crate::hdl::select::NotBuiltIn>() {
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
