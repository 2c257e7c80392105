//! The timing-error model is plain Rust (`tetris_approx::timing`, re-exported here); what
//! needs Yosys and the multipliers' RTL, the per-bit depths of a synthesized netlist, sits
//! here above both, with the sweep of a built-in model through the timing errors.

use crate::flow::logic_depth::synthesized_output_depths;
use crate::fsutil::ScratchDir;
use crate::hdl::approx_mult;
use crate::noise::engine::{characterize_fn, Method, Operands};
use crate::noise::metrics::Acc;
use crate::noise::models::Multiplier;
use crate::noise::profile::TimingSection;
use anyhow::{bail, Context, Result};
pub use tetris_approx::timing::*;

/// Every operand pair of `m` (or the sample of `method`) with `tm`'s timing errors at
/// `depths`: the error figures and the profile's timing section.
pub fn characterize_with_timing(
    m: &Multiplier,
    method: Method,
    tm: &TimingModel,
    depths: &BitDepths,
) -> (Acc, TimingSection) {
    let flip = tm.flipper(&depths.full_adder_delays);
    let ops = Operands {
        width: m.width,
        signed: m.signed,
    };
    let label = format!("{} {}-bit with timing errors", m.kind, m.width);
    let acc = characterize_fn(ops, method, &label, true, |x, y| {
        flip.apply(x, y, m.eval(x, y), m.signed)
    });
    (acc, TimingSection::new(tm, depths))
}

/// Synthesize the multiplier's emitted RTL with Yosys (in a scratch folder under the system
/// temp dir, removed afterwards) and count the gate levels of each product bit.
pub fn netlist_depths(m: &Multiplier) -> Result<BitDepths> {
    let design = approx_mult::emit(m)?;
    let scratch = ScratchDir::new(&format!("tetris-depth-{}", design.top))?;
    let dir = scratch.path();
    let levels = design
        .write_files(dir, "")
        .and_then(|files| synthesized_output_depths(dir, &files, &design.top, "y"))
        .with_context(|| format!("logic depths of {}", design.top))?;
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
