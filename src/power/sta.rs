//! OpenSTA on the flat netlist: the critical path, and the per-arc energies of its power model.
//!
//! Why not simply `set_power_activity` per pin and `report_power`: OpenSTA 2.0.17 (Debian) has
//! no `read_vcd`/`read_saif`, its `set_power_activity -pins` fails ("invalid command name
//! get_pins_error"), and the command underneath (`sta::set_power_pin_activity`) writes the table
//! that its activity propagation rebuilds from the inputs at the next power query: a cell
//! output keeps the probabilistic value computed from its inputs, not the measured one (an
//! all-zero annotation of every pin still reported 19 mW of combinational power on an 8-bit
//! 2x2 array). Its internal-power formula also counts a rise and a fall energy per transition
//! (later OpenSTA averages them).
//!
//! So OpenSTA is run once with a uniform activity at power debug level 3, which prints, for
//! every instance and pin, the load capacitance, the supply voltage and each internal-power
//! arc's rise and fall energy looked up in the library's tables at the slews OpenSTA computed
//! (`power:  ^ energy = E * duty = ...`). [`super::energy`] evaluates the power formula of
//! current OpenSTA with those energies and the measured activity of every net. The parse is
//! checked against OpenSTA's own `report_power` of that run ([`PinTable::opensta_check`]).

use super::netlist::Netlist;
use crate::flow::tools::Tool;
use anyhow::{bail, Context, Result};
use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};

/// Power of a group or an instance, in watts.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Power {
    pub internal: f64,
    pub switching: f64,
    pub leakage: f64,
    pub total: f64,
}

impl Power {
    pub fn dynamic(&self) -> f64 {
        self.internal + self.switching
    }
    pub fn add(&mut self, o: &Power) {
        self.internal += o.internal;
        self.switching += o.switching;
        self.leakage += o.leakage;
        self.total += o.total;
    }
}

/// One internal-power arc of a pin as OpenSTA printed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Arc {
    /// The related pin (index into the cell type's pins).
    pub from: usize,
    /// The `when` condition as OpenSTA prints it (`!(A*B)`), if any.
    pub when: Option<String>,
    /// Table energies (J) of a rising and a falling transition of the pin.
    pub rise: f64,
    pub fall: f64,
}

/// What OpenSTA knows about one pin of one instance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PinEnergy {
    /// Load capacitance (F) and supply voltage (V) of an output pin.
    pub cap: f64,
    pub volt: f64,
    pub arcs: Vec<Arc>,
}

/// Per instance: per pin (cell type order), plus the leakage (W).
#[derive(Debug, Clone, Default)]
pub struct PinTable {
    pub pins: Vec<Vec<PinEnergy>>,
    pub leakage: Vec<f64>,
    /// OpenSTA's `report_power` total of the uniform-activity run, and the same total
    /// recomputed from the parsed debug lines (must agree: nothing was missed).
    pub opensta_total: Power,
    pub parsed_total: Power,
}

impl PinTable {
    /// Relative difference between OpenSTA's own total and the one rebuilt from the parse.
    pub fn opensta_check(&self) -> f64 {
        let a = self.opensta_total.total;
        ((self.parsed_total.total - a) / a.max(1e-30)).abs()
    }
}

/// What OpenSTA reported.
#[derive(Debug, Clone)]
pub struct StaResult {
    pub table: PinTable,
    /// Worst setup slack at the analysis clock (ns), and the path's ends.
    pub slack_ns: Option<f64>,
    pub start: String,
    pub end: String,
    pub seconds: f64,
}

/// The uniform activity of the energy run (transitions per clock period); any value works.
const UNIFORM_ACTIVITY: f64 = 0.1;

/// Run OpenSTA in `dir` (which holds `netlist.v`) at a clock `period_ns` on port `clock`.
pub fn analyse(
    dir: &Path,
    nl: &Netlist,
    liberty: &Path,
    clock: &str,
    period_ns: f64,
) -> Result<StaResult> {
    let t0 = std::time::Instant::now();
    let lib = std::path::absolute(liberty)?;
    let script = format!(
        "read_liberty {{{lib}}}\n\
         read_verilog netlist.v\n\
         link_design {top}\n\
         create_clock -name clk -period {period_ns} [get_ports {clock}]\n\
         set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports {clock}]]\n\
         set_output_delay 0 -clock clk [all_outputs]\n\
         report_checks -path_delay max -digits 4 > timing.rpt\n\
         sta::set_power_global_activity {UNIFORM_ACTIVITY} 0.5\n\
         sta::set_debug power 3\n\
         report_power -digits 8 > power_uniform.rpt\n\
         exit\n",
        lib = lib.display(),
        top = nl.top,
    );
    std::fs::write(dir.join("sta.tcl"), &script)?;
    let log_path = dir.join("sta.log");
    let log = std::fs::File::create(&log_path)?;
    let status = Command::new(Tool::Sta.find()?)
        .args(["-no_splash", "-exit", "sta.tcl"])
        .current_dir(dir)
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .status()
        .context("cannot run OpenSTA (sta)")?;
    let read = |f: &str| {
        std::fs::read_to_string(dir.join(f)).with_context(|| format!("OpenSTA wrote no {f}"))
    };
    let errors = error_lines(&log_path)?;
    if !status.success() || !errors.is_empty() {
        bail!(
            "OpenSTA failed on {} (log {}):\n{}",
            dir.join("netlist.v").display(),
            log_path.display(),
            errors.join("\n")
        );
    }
    // The debug lines go to the report's stream: into the redirected report file.
    let mut table = parse_debug(&dir.join("power_uniform.rpt"), nl)?;
    table.opensta_total = parse_total(&read("power_uniform.rpt")?)?;
    let (slack_ns, start, end) = parse_timing(&read("timing.rpt")?);
    Ok(StaResult {
        table,
        slack_ns,
        start,
        end,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

fn error_lines(log: &Path) -> Result<Vec<String>> {
    let f = std::io::BufReader::new(std::fs::File::open(log)?);
    let mut out = vec![];
    for line in f.lines() {
        let line = line?;
        if !line.starts_with("power:") && line.contains("Error") {
            out.push(line);
            if out.len() >= 10 {
                break;
            }
        }
    }
    Ok(out)
}

fn num(w: Option<&str>, line: &str) -> Result<f64> {
    w.and_then(|w| w.parse::<f64>().ok())
        .with_context(|| format!("OpenSTA debug line not understood: {line}"))
}

/// Read the power debug lines (level 3) of OpenSTA 2.0.17's `report_power`.
fn parse_debug(report: &Path, nl: &Netlist) -> Result<PinTable> {
    let n = nl.insts.len();
    let mut t = PinTable {
        pins: nl
            .insts
            .iter()
            .map(|i| vec![PinEnergy::default(); i.pins.len()])
            .collect(),
        leakage: vec![f64::NAN; n],
        ..Default::default()
    };
    let f = std::io::BufReader::new(std::fs::File::open(report)?);
    // The instance and pin of the current `internal` block; the supply voltage of the
    // `switching` line, which precedes its pin's block; the ^/v energies of the next arc.
    let (mut inst, mut pin) = (usize::MAX, usize::MAX);
    let mut volt = 0.0;
    let mut pending: [Option<f64>; 2] = [None, None];
    for line in f.lines() {
        let line = line?;
        let Some(rest) = line.strip_prefix("power:") else {
            continue;
        };
        let w: Vec<&str> = rest.split_whitespace().collect();
        match w.first().copied() {
            Some("internal") if w.len() == 3 => {
                let (name, p) = w[1]
                    .split_once('/')
                    .with_context(|| format!("OpenSTA debug line not understood: {line}"))?;
                inst = name
                    .strip_prefix('c')
                    .and_then(|k| k.parse::<usize>().ok())
                    .filter(|&k| k < n)
                    .with_context(|| format!("OpenSTA names an unknown instance: {line}"))?;
                let types = &nl.cell_types[nl.insts[inst].cell as usize];
                // Internal state pins of flip-flops (DS0000, P0002) are not cell pins.
                pin = types.pins.iter().position(|x| x == p).unwrap_or(usize::MAX);
                if pin != usize::MAX && types.outputs[pin] {
                    t.pins[inst][pin].volt = volt;
                }
                pending = [None, None];
            }
            // Picofarads (the library's capacitive_load_unit).
            Some("cap") if pin != usize::MAX => {
                t.pins[inst][pin].cap = num(w.get(2).copied(), &line)? * 1e-12;
            }
            Some("switching") => {
                // `switching CELL/PIN activity = A volt = V P`
                volt = num(w.get(7).copied(), &line)?;
                t.parsed_total.switching += num(w.get(8).copied(), &line)?;
            }
            Some("^") | Some("v") => {
                let e = num(w.get(3).copied(), &line)?;
                pending[(w[0] == "v") as usize] = Some(e);
            }
            Some("leakage") if w.get(1) == Some(&"cell") && inst < n => {
                let l = num(w.get(3).copied(), &line)?;
                t.leakage[inst] = l;
                t.parsed_total.leakage += l;
            }
            Some(_) if w.get(1) == Some(&"->") && w.len() >= 8 => {
                // `FROM -> TO [WHEN] ACT DUTY ENERGY POWER PG...`
                let pg = if w[w.len() - 2] == "no" { 2 } else { 1 };
                let numbers = w.len() - 3 - pg;
                let when = (numbers == 5).then(|| w[3].to_string());
                let printed_power = num(w.get(w.len() - pg - 1).copied(), &line)?;
                t.parsed_total.internal += printed_power;
                if pin == usize::MAX {
                    continue;
                }
                let types = &nl.cell_types[nl.insts[inst].cell as usize];
                let from = types
                    .pins
                    .iter()
                    .position(|x| x == w[0])
                    .with_context(|| format!("OpenSTA names an unknown pin: {line}"))?;
                let (Some(rise), Some(fall)) = (pending[0], pending[1]) else {
                    bail!(
                        "OpenSTA debug output: an arc without its rise and fall energies: {line}"
                    );
                };
                pending = [None, None];
                t.pins[inst][pin].arcs.push(Arc {
                    from,
                    when,
                    rise,
                    fall,
                });
            }
            _ => {}
        }
    }
    t.parsed_total.total =
        t.parsed_total.internal + t.parsed_total.switching + t.parsed_total.leakage;
    if let Some(k) = t.leakage.iter().position(|l| l.is_nan()) {
        bail!(
            "OpenSTA's power debug output has no entry for cell c{k} (of {n}): not the output format of OpenSTA 2.0.17, or a truncated log"
        );
    }
    Ok(t)
}

/// The `Total` line of `report_power`.
fn parse_total(text: &str) -> Result<Power> {
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some("Total"))
        .context("report_power has no Total line")?;
    let w: Vec<&str> = line.split_whitespace().collect();
    let v: Vec<f64> = w[1..5]
        .iter()
        .map(|x| x.parse::<f64>())
        .collect::<std::result::Result<_, _>>()
        .with_context(|| format!("report_power: {line}"))?;
    Ok(Power {
        internal: v[0],
        switching: v[1],
        leakage: v[2],
        total: v[3],
    })
}

/// (worst slack, startpoint, endpoint) from `report_checks`.
fn parse_timing(text: &str) -> (Option<f64>, String, String) {
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .map(|r| r.split_whitespace().next().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    let slack = text
        .lines()
        .find(|l| l.contains("slack ("))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|w| w.parse::<f64>().ok());
    (slack, field("Startpoint:"), field("Endpoint:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_opensta_reports() {
        let g = "Group   Internal  Switching    Leakage      Total\n----\n\
                 Sequential  2.37e-05   1.51e-07   1.61e-10   2.39e-05  96.7%\n\
                 Total       2.44e-05   3.02e-07   2.05e-10   2.47e-05 100.0%\n";
        let t = parse_total(g).unwrap();
        assert_eq!(t.total, 2.47e-5);
        assert_eq!(t.switching, 3.02e-7);
        let t = "Startpoint: c12 (rising edge-triggered flip-flop clocked by clk)\n\
                 Endpoint: c40 (rising edge-triggered flip-flop clocked by clk)\n\
                 ...\n             9.716   slack (MET)\n";
        assert_eq!(
            parse_timing(t),
            (Some(9.716), "c12".to_string(), "c40".to_string())
        );
    }
}
