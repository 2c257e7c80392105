//! Yosys mapping of an emitted design onto a Liberty library (`scripts/yosys/asic.ys`).

use crate::flow::synth::{fill, SynthInput};
use crate::flow::yosys::run_script;
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

pub const ASIC_YS: &str = include_str!("../../scripts/yosys/asic.ys");

/// The osu018 library of Debian's `qflow-tech-osu018` (installed by scripts/install-tools.sh).
pub const DEFAULT_LIBERTY: &str = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";

/// The library to use: `given`, else the default, with a clear error when it is missing.
pub fn liberty_path(given: Option<&Path>) -> Result<PathBuf> {
    let p = given.map_or_else(|| PathBuf::from(DEFAULT_LIBERTY), Path::to_path_buf);
    if !p.is_file() {
        bail!(
            "Liberty file {} not found{}",
            p.display(),
            if given.is_none() {
                ": run scripts/install-tools.sh (Debian package qflow-tech-osu018) or pass --liberty FILE"
            } else {
                ""
            }
        );
    }
    Ok(p)
}

/// Map `input` to `liberty`'s cells in `dir`; returns the Yosys JSON netlist text.
pub fn map_to_cells(input: &SynthInput, liberty: &Path, dir: &Path) -> Result<String> {
    let files: Vec<String> = input
        .files
        .iter()
        .map(|f| format!("\"{}\"", f.display()))
        .collect();
    let lib = format!("\"{}\"", std::path::absolute(liberty)?.display());
    let script = fill(
        ASIC_YS,
        &[
            ("LIB", &lib),
            ("TOP", &input.top),
            ("FILES", &files.join(" ")),
        ],
    );
    std::fs::write(dir.join("asic.ys"), script)?;
    run_script(dir, "asic.ys", "yosys.log")?;
    Ok(std::fs::read_to_string(dir.join("netlist.json"))?)
}
