use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = tetris_hdl::cli::Cli::parse();
    tetris_hdl::fsutil::install_signal_cleanup();
    match tetris_hdl::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
