//! `tetris config`: validate a config and show what it derives.

use crate::config::Config;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Design config (TOML); the built-in default when omitted.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let cfg = Config::load(a.config.as_deref())?;
    print!("{}", toml::to_string(&cfg)?);
    let w = cfg.widths();
    println!("\n# derived widths");
    println!("{}", toml::to_string(&w)?);
    Ok(())
}
