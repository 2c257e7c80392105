//! The timing-error model is plain Rust (`tetris_approx::timing`, re-exported here); what
//! needs Yosys and the multipliers' RTL, the per-bit depths of a synthesized netlist, sits
//! here above both.

use crate::flow::logic_depth::synthesized_output_depths;
use crate::flow::verilog::Design;
use crate::hdl::approx_mult;
use crate::noise::models::Multiplier;
use anyhow::{bail, Context, Result};
pub use tetris_approx::timing::*;

/// Synthesize the multiplier's emitted RTL with Yosys (in a scratch folder under the system
/// temp dir, removed afterwards) and count the gate levels of each product bit.
pub fn netlist_depths(m: &Multiplier) -> Result<BitDepths> {
    let design = approx_mult::emit(m)?;
    let dir = std::env::temp_dir().join(format!(
        "tetris-depth-{}-{}",
        std::process::id(),
        design.top
    ));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))?;
    let res = (|| {
        let mut files = vec![];
        for module in &design.modules {
            let f = Design::file_name(module);
            std::fs::write(dir.join(&f), &module.text)?;
            files.push(f);
        }
        synthesized_output_depths(&dir, &files, &design.top, "y")
    })();
    let _ = std::fs::remove_dir_all(&dir);
    let levels = res.with_context(|| format!("logic depths of {}", design.top))?;
    if levels.len() != 2 * m.width as usize {
        bail!(
            "{}: product port has {} bits, expected {}",
            design.top,
            levels.len(),
            2 * m.width
        );
    }
    Ok(BitDepths::from_gate_levels(levels))
}
