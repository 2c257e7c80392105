//! `tetris config`: validate a config and show what it derives.

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub config: crate::cli::ConfigArg,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let cfg = a.config.load()?;
    print!("{}", toml::to_string(&cfg)?);
    let w = cfg.widths();
    println!("\n# derived widths");
    println!("{}", toml::to_string(&w)?);
    Ok(())
}
