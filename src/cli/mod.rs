//! The command-line front end: argument parsing and printing only; the work lives in the
//! library layers.

use clap::{Parser, Subcommand};

pub mod characterize;
pub mod compare;
pub mod config_cmd;
pub mod cosim;
pub mod gen;
pub mod knead;
pub mod noise_profile;
pub mod power;
pub mod prove_cmd;
pub mod sim;
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
    /// Synthesize the design with Yosys (generic, iCE40, Xilinx): cells, LUTs, FFs, transistors, Fmax.
    Synth(synth_cmd::Args),
    /// SAC vs MAC area, Fmax and throughput per area (PE and arrays): table, JSON and plot.
    Compare(compare::Args),
    /// Energy per layer and per MAC, area and Fmax on a standard-cell library (gate-level activity, OpenSTA).
    Power(power::Args),
    /// Formal proof (Yosys SAT) that the emitted kneading unit + SAC PE compute sum w_i a_i exactly.
    Prove(prove_cmd::Args),
    /// Noise profile of a built-in approximate multiplier (metrics, histograms, LUTs, plot).
    NoiseProfile(noise_profile::Args),
    /// Noise profile of a combinational multiplier given as Verilog (built with Verilator).
    Characterize(characterize::Args),
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Config(a) => config_cmd::run(a),
        Command::Cosim(a) => cosim::run(a),
        Command::Knead(a) => knead::run(a),
        Command::Gen(a) => gen::run(a),
        Command::Sim(a) => sim::run(a),
        Command::Synth(a) => synth_cmd::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Power(a) => power::run(a),
        Command::Prove(a) => prove_cmd::run(a),
        Command::NoiseProfile(a) => noise_profile::run(a),
        Command::Characterize(a) => characterize::run(a),
    }
}
