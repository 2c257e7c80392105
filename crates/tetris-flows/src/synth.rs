//! `tetris synth`: Yosys synthesis of an emitted design for a generic, iCE40 or Xilinx target,
//! figures per module and for the top, and on iCE40 the Fmax from nextpnr-ice40.
//!
//! The Yosys scripts are the templates in `scripts/yosys/` (embedded), filled with the design's
//! filelist and top. The hierarchy is kept, so a module instantiated 256 times in a 16x16
//! array is synthesized once; per-module and top totals are summed in [`super::yosys`].
//! Everything a run produces (filled script, logs, stat output, netlist, P&R report,
//! `report.json`) is written atomically into one folder.

use super::constraints::{ice40_device, ice40_pcf, ice40_wrapper, wrapper_name, Ice40Device};
use super::ports::top_ports;
use super::tools::{run_within, Tool};
use super::yosys::{hierarchy_totals, parse_stat_json, run_script, HierStat};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tetris_fs::write_dir_atomic;

pub const GENERIC_YS: &str = include_str!("../../../scripts/yosys/generic.ys");
pub const ICE40_YS: &str = include_str!("../../../scripts/yosys/ice40.ys");
pub const XILINX_YS: &str = include_str!("../../../scripts/yosys/xilinx.ys");

/// Xilinx families `synth_xilinx -family` accepts that the flow offers.
pub const XILINX_FAMILIES: [&str; 5] = ["xc7", "xcu", "xcup", "xc6s", "xc6v"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Generic,
    Ice40,
    Xilinx,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Generic => "generic",
            Target::Ice40 => "ice40",
            Target::Xilinx => "xilinx",
        }
    }
}

/// The design to synthesize: Verilog files (in filelist order) and the top module.
#[derive(Debug, Clone)]
pub struct SynthInput {
    pub files: Vec<PathBuf>,
    pub top: String,
}

impl SynthInput {
    /// Read a filelist (one path per line, relative to the filelist's folder; `//` and `#`
    /// comments and blank lines skipped).
    pub fn from_filelist(filelist: &Path, top: &str) -> Result<SynthInput> {
        let text = std::fs::read_to_string(filelist)
            .with_context(|| format!("cannot read filelist {}", filelist.display()))?;
        let base = filelist.parent().unwrap_or(Path::new("."));
        let mut files = vec![];
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || l.starts_with("//") || l.starts_with('#') {
                continue;
            }
            let p = base.join(l);
            if !p.is_file() {
                bail!(
                    "{} line {}: file {} does not exist",
                    filelist.display(),
                    i + 1,
                    p.display()
                );
            }
            files.push(std::path::absolute(&p)?);
        }
        if files.is_empty() {
            bail!("{}: the filelist names no file", filelist.display());
        }
        Ok(SynthInput {
            files,
            top: top.to_string(),
        })
    }
}

#[derive(Debug, Clone)]
pub struct SynthOptions {
    pub target: Target,
    /// iCE40 part (hx8k, hx1k, up5k) or Xilinx family (xc7, ...); target default when None.
    pub device: Option<String>,
    /// Target clock for place and route (iCE40) in MHz.
    pub clock_mhz: f64,
    /// Run nextpnr-ice40 for the Fmax (iCE40 only).
    pub place_and_route: bool,
    /// Stop nextpnr after this long (None: no limit). Routing a design that nearly fills the
    /// part can take hours; a stopped run is reported (the note says so) with no Fmax.
    pub pnr_time_limit: Option<Duration>,
    /// Show a spinner per phase on stderr.
    pub progress: bool,
}

/// Figures of one module including its submodules (or of the top).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Figures {
    /// Primitive cells after mapping.
    pub cells: u64,
    /// LUTs (SB_LUT4 / LUT1..6); null on the generic target (no LUTs).
    pub luts: Option<u64>,
    /// Flip-flops.
    pub ffs: u64,
    /// Carry cells (SB_CARRY / CARRY4/8); null on the generic target.
    pub carries: Option<u64>,
    /// DSP blocks (SB_MAC16 / DSP48*); null on the generic target.
    pub dsps: Option<u64>,
    /// Block RAMs (SB_RAM40_4K / RAMB*); null on the generic target.
    pub brams: Option<u64>,
    /// `stat -tech cmos` estimate; only on the generic target (it counts generic gates).
    pub transistors: Option<u64>,
    /// Place-and-route maximum clock (iCE40, top only).
    pub fmax_mhz: Option<f64>,
    pub cells_by_type: BTreeMap<String, u64>,
    /// Direct submodule instances: module -> count.
    pub instances: BTreeMap<String, u64>,
}

/// Whether a cell type belongs to a class (LUT, FF, carry, DSP, BRAM) on a target.
type CellClass = fn(&str) -> bool;

fn figures(target: Target, h: &HierStat) -> Figures {
    let fpga = |f: &dyn Fn(&str) -> bool| match target {
        Target::Generic => None,
        _ => Some(h.count(f)),
    };
    let [lut, ff, carry, dsp, bram]: [CellClass; 5] = match target {
        Target::Generic => [
            |_| false,
            |t| t.contains("DFF"),
            |_| false,
            |_| false,
            |_| false,
        ],
        Target::Ice40 => [
            |t| t == "SB_LUT4",
            |t| t.starts_with("SB_DFF"),
            |t| t == "SB_CARRY",
            |t| t == "SB_MAC16",
            |t| t.starts_with("SB_RAM40"),
        ],
        Target::Xilinx => [
            |t| t.starts_with("LUT"),
            |t| t.starts_with("FD"),
            |t| t.starts_with("CARRY"),
            |t| t.starts_with("DSP48"),
            |t| t.starts_with("RAMB"),
        ],
    };
    Figures {
        cells: h.cells(),
        luts: fpga(&lut),
        ffs: h.count(ff),
        carries: fpga(&carry),
        dsps: fpga(&dsp),
        brams: fpga(&bram),
        transistors: match target {
            Target::Generic => h.transistors,
            _ => None,
        },
        fmax_mhz: None,
        cells_by_type: h.cells_by_type.clone(),
        instances: h.instances.clone(),
    }
}

/// Place and route of the iCE40 timing wrapper.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PnrResult {
    pub device: String,
    pub package: String,
    pub target_mhz: f64,
    /// Null when the design does not fit the device (see `note`).
    pub fmax_mhz: Option<f64>,
    /// Logic cells used / available, from nextpnr's report.
    pub logic_cells_used: Option<u64>,
    pub logic_cells_available: u64,
    /// Figures of the wrapper including the design (shift registers added).
    pub wrapper: Figures,
    pub note: String,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SynthReport {
    pub top: String,
    pub target: Target,
    pub device: String,
    pub tools: BTreeMap<String, String>,
    /// The design top with everything below it.
    pub design: Figures,
    /// Every distinct module below (and including) the top, totals over its subtree.
    pub modules: BTreeMap<String, Figures>,
    pub pnr: Option<PnrResult>,
    pub yosys_seconds: f64,
    /// Folder with the filled script, logs, stat output and this report.
    pub work_dir: PathBuf,
}

/// Check the device for the target; returns the device name used.
pub fn resolve_device(target: Target, device: Option<&str>) -> Result<String> {
    match (target, device) {
        (Target::Generic, None) => Ok("generic".into()),
        (Target::Generic, Some(d)) => {
            bail!("--device {d}: the generic target has no device (use ice40 or xilinx)")
        }
        (Target::Ice40, d) => Ok(ice40_device(d.unwrap_or("hx8k"))?.name.to_string()),
        (Target::Xilinx, d) => {
            let d = d.unwrap_or("xc7").to_ascii_lowercase();
            if !XILINX_FAMILIES.contains(&d.as_str()) {
                bail!(
                    "--device {d}: unknown Xilinx family; known: {}",
                    XILINX_FAMILIES.join(", ")
                );
            }
            Ok(d)
        }
    }
}

/// Fill a script template.
pub fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut s = template.to_string();
    for (k, v) in vars {
        s = s.replace(&format!("@{k}@"), v);
    }
    s
}

/// Synthesize `input` for `opts.target` into `work_dir` (replaced atomically).
pub fn synthesize(input: &SynthInput, opts: &SynthOptions, work_dir: &Path) -> Result<SynthReport> {
    let device = resolve_device(opts.target, opts.device.as_deref())?;
    let ports = top_ports(&input.files, &input.top)?;
    let files = input
        .files
        .iter()
        .map(|f| format!("\"{}\"", f.display()))
        .collect::<Vec<_>>()
        .join(" ");
    let mut tools = BTreeMap::new();
    tools.insert("yosys".to_string(), Tool::Yosys.version()?);
    if opts.target == Target::Ice40 && opts.place_and_route {
        tools.insert("nextpnr-ice40".to_string(), Tool::NextpnrIce40.version()?);
    }
    let abs_work = std::path::absolute(work_dir)?;
    let mut report = None;
    write_dir_atomic(work_dir, |tmp| {
        let wrapper = wrapper_name(&input.top);
        let script = match opts.target {
            Target::Generic => fill(GENERIC_YS, &[("TOP", &input.top), ("FILES", &files)]),
            Target::Xilinx => fill(
                XILINX_YS,
                &[("TOP", &input.top), ("FILES", &files), ("FAMILY", &device)],
            ),
            Target::Ice40 => {
                std::fs::write(
                    tmp.join(format!("{wrapper}.v")),
                    ice40_wrapper(&input.top, &ports)?,
                )?;
                fill(
                    ICE40_YS,
                    &[
                        ("TOP", &input.top),
                        ("FILES", &files),
                        ("WRAPPER", &wrapper),
                        ("WRAPPER_FILE", &format!("{wrapper}.v")),
                        ("DSP", if device == "up5k" { "-dsp" } else { "" }),
                    ],
                )
            }
        };
        std::fs::write(tmp.join("synth.ys"), &script)?;
        let t0 = Instant::now();
        tetris_core::progress::during(
            opts.progress,
            format!("yosys {} synthesis of {}", opts.target.name(), input.top),
            || run_script(tmp, "synth.ys", "yosys.log"),
        )?;
        let yosys_seconds = t0.elapsed().as_secs_f64();
        let log = std::fs::read_to_string(tmp.join("yosys.log")).unwrap_or_default();
        let stat_text =
            std::fs::read_to_string(tmp.join("stat.json")).context("yosys wrote no stat.json")?;
        let stats = parse_stat_json(&stat_text).context("stat.json")?;
        let hier_top = if opts.target == Target::Ice40 {
            wrapper.as_str()
        } else {
            input.top.as_str()
        };
        let totals = hierarchy_totals(&stats, hier_top)?;
        let latches: Vec<String> = totals[hier_top]
            .cells_by_type
            .keys()
            .filter(|t| t.contains("LATCH") || t.contains("dlatch") || t.starts_with("LD"))
            .cloned()
            .collect();
        if !latches.is_empty()
            || log
                .lines()
                .any(|l| l.trim_start().starts_with("Latch inferred"))
        {
            bail!(
                "yosys inferred latches in {} ({}): see {}",
                input.top,
                latches.join(", "),
                abs_work.join("yosys.log").display()
            );
        }
        let design_tree = hierarchy_totals(&stats, &input.top)?;
        let mut modules: BTreeMap<String, Figures> = design_tree
            .iter()
            .map(|(k, h)| (k.clone(), figures(opts.target, h)))
            .collect();
        let mut design = modules[&input.top].clone();
        let pnr = if opts.target == Target::Ice40 && opts.place_and_route {
            let dev = ice40_device(&device)?;
            let wfig = figures(opts.target, &totals[&wrapper]);
            let p = place_and_route(tmp, &input.top, &dev, opts, wfig)?;
            design.fmax_mhz = p.fmax_mhz;
            Some(p)
        } else {
            None
        };
        modules.insert(input.top.clone(), design.clone());
        let rep = SynthReport {
            top: input.top.clone(),
            target: opts.target,
            device: device.clone(),
            tools: tools.clone(),
            design,
            modules,
            pnr,
            yosys_seconds,
            work_dir: abs_work.clone(),
        };
        tetris_fs::write_json(&tmp.join("report.json"), &rep)?;
        report = Some(rep);
        Ok(())
    })
    .with_context(|| format!("synthesis of {} into {}", input.top, work_dir.display()))?;
    Ok(report.expect("set on success"))
}

/// `ICESTORM_LC: used/ available` of nextpnr's device utilisation in its log.
fn packed_logic_cells(log: &str) -> Option<(u64, u64)> {
    let rest = log.split("ICESTORM_LC:").nth(1)?;
    let (used, avail) = rest.lines().next()?.split_once('/')?;
    let avail = avail.split_whitespace().next()?;
    Some((used.trim().parse().ok()?, avail.parse().ok()?))
}

/// nextpnr-ice40 on the wrapper netlist; a design larger than the part is reported, not run.
fn place_and_route(
    dir: &Path,
    top: &str,
    dev: &Ice40Device,
    opts: &SynthOptions,
    wrapper: Figures,
) -> Result<PnrResult> {
    let pcf = format!("{}.pcf", wrapper_name(top));
    std::fs::write(dir.join(&pcf), ice40_pcf(top, dev, opts.clock_mhz))?;
    // A logic cell holds one LUT4 and one flip-flop: needing more than the part has cannot fit.
    let need = wrapper.luts.unwrap_or(0).max(wrapper.ffs);
    let mut res = PnrResult {
        device: dev.name.to_string(),
        package: dev.package.to_string(),
        target_mhz: opts.clock_mhz,
        fmax_mhz: None,
        logic_cells_used: None,
        logic_cells_available: dev.logic_cells,
        wrapper,
        note: String::new(),
        seconds: 0.0,
    };
    if need > dev.logic_cells {
        res.note = format!(
            "not placed: needs at least {need} logic cells (LUTs or FFs incl. the wrapper's shift registers), the {} has {}",
            dev.name.to_uppercase(),
            dev.logic_cells
        );
        return Ok(res);
    }
    let sp = tetris_core::progress::spinner(
        opts.progress,
        format!("nextpnr-ice40 place and route of {top} on {}", dev.name),
    );
    let t0 = Instant::now();
    let dev_flag = format!("--{}", dev.name);
    let clock = format!("{}", opts.clock_mhz);
    let r = run_within(
        Tool::NextpnrIce40,
        &[
            &dev_flag,
            "--package",
            dev.package,
            "--json",
            "netlist.json",
            "--pcf",
            &pcf,
            "--freq",
            &clock,
            "--timing-allow-fail",
            "--seed",
            "1",
            "--report",
            "pnr_report.json",
            "-l",
            "nextpnr.log",
            "-q",
        ],
        dir,
        opts.pnr_time_limit.unwrap_or(Duration::MAX),
    );
    sp.finish_and_clear();
    let r = r?;
    res.seconds = t0.elapsed().as_secs_f64();
    let Some(r) = r else {
        let log = std::fs::read_to_string(dir.join("nextpnr.log")).unwrap_or_default();
        res.logic_cells_used = packed_logic_cells(&log).map(|(used, _)| used);
        res.note = format!(
            "not routed: nextpnr-ice40 was stopped at the time limit ({:.0} s){}",
            res.seconds,
            res.logic_cells_used.map_or(String::new(), |u| format!(
                " with {u} of {} logic cells packed",
                dev.logic_cells
            ))
        );
        return Ok(res);
    };
    if !r.ok {
        let log = std::fs::read_to_string(dir.join("nextpnr.log")).unwrap_or_default();
        // The count above is a lower bound: a LUT and a flip-flop that do not belong together
        // take a logic cell each. nextpnr's packer then needs more than the part has.
        if let Some((used, avail)) = packed_logic_cells(&log).filter(|(u, a)| u > a) {
            res.logic_cells_used = Some(used);
            res.note = format!(
                "not placed: packed into {used} logic cells, the {} has {avail}",
                dev.name.to_uppercase()
            );
            return Ok(res);
        }
        bail!(
            "nextpnr-ice40 failed on {top}:\n{}",
            log.lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    let rep: PnrReport =
        tetris_fs::read_json(&dir.join("pnr_report.json")).context("the report nextpnr wrote")?;
    res.fmax_mhz = rep.fmax();
    res.logic_cells_used = rep.utilization.get("ICESTORM_LC").map(|u| u.used);
    res.note = match res.fmax_mhz {
        Some(f) if f < opts.clock_mhz => {
            format!("timing not met: {f:.2} MHz < {} MHz target", opts.clock_mhz)
        }
        Some(_) => "timing met".into(),
        None => "nextpnr reported no clock".into(),
    };
    Ok(res)
}

/// The parts of nextpnr's `--report` JSON this flow reads.
#[derive(Debug, Deserialize)]
struct PnrReport {
    /// Per clock net: the frequency reached.
    #[serde(default)]
    fmax: BTreeMap<String, ClockFmax>,
    /// Per cell type (`ICESTORM_LC`, ...): how many the design uses.
    #[serde(default)]
    utilization: BTreeMap<String, Utilization>,
}

#[derive(Debug, Deserialize)]
struct ClockFmax {
    achieved: f64,
}

#[derive(Debug, Deserialize)]
struct Utilization {
    used: u64,
}

impl PnrReport {
    /// The achieved frequency of the design clock (the first clock if none is named so).
    fn fmax(&self) -> Option<f64> {
        let pick = self
            .fmax
            .iter()
            .find(|(k, _)| k.contains("clock"))
            .or_else(|| self.fmax.iter().next())?;
        Some(pick.1.achieved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_checked_per_target() {
        assert_eq!(resolve_device(Target::Ice40, None).unwrap(), "hx8k");
        assert_eq!(
            resolve_device(Target::Xilinx, Some("XCUP")).unwrap(),
            "xcup"
        );
        assert!(resolve_device(Target::Generic, Some("hx8k")).is_err());
        let e = resolve_device(Target::Xilinx, Some("hx8k")).unwrap_err();
        assert!(e.to_string().contains("xc7"), "{e}");
    }

    #[test]
    fn packed_logic_cells_are_read_from_the_nextpnr_log() {
        // The lines of a real failure (16-bit SAC PE on an HX8K).
        let log = "Info: Device utilisation:\nInfo: \t         ICESTORM_LC:  8567/ 7680   111%\n\
                   Info: \t        ICESTORM_RAM:     0/   32     0%\n\
                   ERROR: Failed to expand region (0, 0) |_> (33, 33) of 8567 ICESTORM_LCs\n";
        assert_eq!(packed_logic_cells(log), Some((8567, 7680)));
        assert_eq!(packed_logic_cells("ERROR: something else"), None);
    }

    #[test]
    fn fmax_is_read_from_the_clock_entry() {
        let rep = r#"{"fmax": {"clock$SB_IO_IN_$glb_clk": {"achieved": 41.5, "constraint": 50.0}},
            "utilization": {"ICESTORM_LC": {"used": 120, "available": 7680}}}"#;
        let rep: PnrReport = tetris_fs::parse_json(rep, "r").unwrap();
        assert_eq!(rep.fmax(), Some(41.5));
        assert_eq!(rep.utilization["ICESTORM_LC"].used, 120);
        let none: PnrReport = tetris_fs::parse_json("{}", "r").unwrap();
        assert_eq!(none.fmax(), None);
    }

    #[test]
    fn templates_have_their_placeholders() {
        for (t, keys) in [
            (GENERIC_YS, &["TOP", "FILES"][..]),
            (ICE40_YS, &["FILES", "WRAPPER", "WRAPPER_FILE", "DSP"][..]),
            (XILINX_YS, &["TOP", "FILES", "FAMILY"][..]),
        ] {
            for k in keys {
                assert!(t.contains(&format!("@{k}@")), "{k}");
            }
        }
    }
}
