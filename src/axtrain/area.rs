//! Area of a built-in multiplier for the sweep's accuracy-vs-area plot: its RTL as
//! `tetris noise-profile --emit-rtl` writes it (`crates/tetris-blocks/src/approx_mult.rs`), synthesized by
//! `tetris synth --target generic` (Yosys `synth`, technology-neutral gates, `stat -tech cmos`
//! transistor estimate), in a scratch folder under the system temp dir, removed afterwards.

use crate::flow::synth::{synthesize, SynthInput, SynthOptions, Target};
use crate::flow::tools::Tool;
use crate::fsutil::ScratchDir;
use crate::hdl::approx_mult;
use crate::noise::models::Multiplier;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// Generic-target synthesis figures of one multiplier's emitted RTL.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Area {
    /// Emitted top module, e.g. `axm_trunc_t11_u8`.
    pub module: String,
    /// Generic gate cells after `synth` (whole hierarchy).
    pub cells: u64,
    /// Yosys `stat -tech cmos` transistor estimate.
    pub transistors: u64,
    pub yosys_seconds: f64,
}

/// Synthesize the 8-bit multiplier `spec` (unsigned, or with its sign-magnitude wrapper when
/// `signed`). Fails with the install hint when Yosys is not on PATH.
pub fn multiplier_area(spec: &str, signed: bool) -> Result<Area> {
    Tool::Yosys
        .find()
        .context("--area synthesizes each --mult multiplier's RTL with Yosys")?;
    let m = Multiplier::from_spec(spec, 8, signed)?;
    let design = approx_mult::emit(&m)?;
    let scratch = ScratchDir::new(&format!("tetris-area-{}", design.top))?;
    let base = scratch.path();
    let r = design
        .write_files(base, "")
        .and_then(|files| {
            let input = SynthInput {
                files: files.iter().map(|f| base.join(f)).collect(),
                top: design.top.clone(),
            };
            let opts = SynthOptions {
                target: Target::Generic,
                device: None,
                clock_mhz: 100.0,
                place_and_route: false,
                pnr_time_limit: None,
                progress: false,
            };
            synthesize(&input, &opts, &base.join("generic"))
        })
        .with_context(|| format!("yosys synthesis of {spec} ({})", design.top))?;
    let Some(transistors) = r.design.transistors else {
        bail!("{spec}: yosys reported no transistor estimate");
    };
    Ok(Area {
        module: design.top,
        cells: r.design.cells,
        transistors,
        yosys_seconds: r.yosys_seconds,
    })
}
