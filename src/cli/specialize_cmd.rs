//! `tetris specialize`: prebuild the specialization binary of configs whose widths are not
//! built in (other commands build it on demand; src/specialize.rs).

use crate::config::Config;
use crate::specialize::{build, keys_of};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Design configs (TOML), one per flag; their width sets go into one binary.
    #[arg(long = "config", required = true)]
    pub configs: Vec<PathBuf>,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let configs = a
        .configs
        .iter()
        .map(|p| Config::load(Some(p)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let keys = keys_of(&configs);
    if keys.is_empty() {
        println!("every config's width set is built in: nothing to build");
        return Ok(());
    }
    let b = build(&keys)?;
    let tags: Vec<String> = b.spec.keys.iter().map(|k| k.tag()).collect();
    println!("width sets  {}", tags.join(", "));
    println!("crate       {}", b.spec.dir.display());
    println!("binary      {}", b.spec.exe.display());
    println!(
        "build       {:.1} s ({})",
        b.seconds,
        if b.cached {
            "cached: cargo found it fresh or rebuilt what changed"
        } else {
            "first build"
        }
    );
    Ok(())
}
