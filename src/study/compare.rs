//! SAC vs MAC comparison: area (generic cells and transistors, iCE40 LUTs/FFs), clock
//! (nextpnr-ice40 Fmax) and throughput per area, using the speedup the cycle model
//! (`tetris sim`) measures on a weight file; and on a real standard-cell library (osu018,
//! `tetris power`): area in um^2, OpenSTA Fmax, throughput per mm^2 and energy per MAC of a
//! real layer's tiles simulated gate by gate.
//!
//! Per weight width and level (one PE, an NxN array) both designs are generated, synthesized
//! for the generic and the iCE40 target, and timed. A 4x4 array does not fit any iCE40, so an
//! array's clock is the Fmax of its repeated PE module placed and routed on its own: the
//! array is systolic (PE to PE through registers), but nets between PEs are not timed then,
//! and the report says so.

use crate::array::cycle_model::Timing;
use crate::array::network::{evaluate_all, total};
use crate::config::{Config, PeKind};
use crate::flow::gen::{generate, ToolChecks};
use crate::flow::synth::{synthesize, Figures, SynthInput, SynthOptions, Target};
use crate::fsutil::write_atomic;
use crate::plot::{to_svg, Anchor, Rgb, Scene, Stroke, BLACK};
use crate::power::flow::{
    design_power, PowerOptions, Workload, DEFAULT_BUFFER, DEFAULT_MAX_FANOUT,
};
use crate::power::report::EnergyPerMac;
use crate::weights::Layer;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// Weight widths; activations are as wide unless `act_bits` says otherwise.
    pub bits: Vec<u32>,
    /// Activation width of every design (mixed precision), or None: equal to the weights.
    pub act_bits: Option<u32>,
    /// Array sizes (N for NxN); 1 is the single PE (with the SAC side's kneading unit).
    pub sizes: Vec<u32>,
    pub ks: u32,
    pub clock_mhz: f64,
    pub device: String,
    /// Stop each nextpnr run after this long (None: no limit); see `SynthOptions`.
    pub pnr_time_limit: Option<std::time::Duration>,
    /// Energy on a standard-cell library (`tetris power`); `None`: not measured.
    pub energy: Option<EnergyOptions>,
    pub progress: bool,
}

/// How `compare` measures energy: the weight file's layer with the most MACs, `tiles` of its
/// pixel tiles simulated gate by gate with seeded synthetic post-ReLU activations.
#[derive(Debug, Clone)]
pub struct EnergyOptions {
    pub liberty: PathBuf,
    pub tiles: usize,
    pub seed: u64,
}

/// One design on the standard-cell library (from its `tetris power` report).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Asic {
    pub library: String,
    /// The layer whose tiles were simulated, and how many of them.
    pub layer: String,
    pub tiles: usize,
    /// What was measured (a PE is measured as a 1x1 array: kneading offline).
    pub design: String,
    pub area_um2: f64,
    /// OpenSTA's critical path at the max-fanout rule of `tetris power`.
    pub fmax_mhz: Option<f64>,
    pub energy_pj_per_mac: EnergyPerMac,
    /// The network's useful MACs per cycle (the row's) x this Fmax, per mm^2.
    pub mmacs_per_s_per_mm2: Option<f64>,
    /// Where `tetris power` left its work (design, netlist, OpenSTA reports, report.json).
    pub report: String,
}

/// One design's measurements.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub kind: PeKind,
    /// Weight bits.
    pub bits: u32,
    /// Activation bits.
    pub act_bits: u32,
    /// N of the NxN array; 1 = a single PE design.
    pub size: u32,
    pub top: String,
    pub generic: Figures,
    pub ice40: Figures,
    pub fmax_mhz: Option<f64>,
    /// What the Fmax was measured on.
    pub fmax_of: String,
    /// Cycles of the weight file's layers on this design (cycle model).
    pub cycles: u64,
    pub macs: u64,
    /// Useful MACs per cycle over the network.
    pub macs_per_cycle: f64,
    /// macs_per_cycle x Fmax, in MMAC/s.
    pub mmacs_per_s: Option<f64>,
    /// Throughput per area: MMAC/s per 1000 iCE40 LUTs.
    pub mmacs_per_s_per_klut: Option<f64>,
    /// Clock-free throughput per area: MACs per cycle per million transistors (generic).
    pub macs_per_cycle_per_mtr: Option<f64>,
    /// On the standard-cell library, when energy was measured.
    pub asic: Option<Asic>,
    pub yosys_seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    pub weights: String,
    pub layers: usize,
    pub device: String,
    pub ks: u32,
    pub clock_mhz: f64,
    pub rows: Vec<Row>,
}

/// The layer `compare` measures energy on: the one with the most MACs.
pub fn energy_layer(layers: &[Layer]) -> Option<&Layer> {
    layers
        .iter()
        .filter(|l| l.array().is_some())
        .max_by_key(|l| l.array().map_or(0, |w| w.params.macs()))
}

fn config(kind: PeKind, bits: u32, size: u32, o: &CompareOptions) -> Config {
    let mut c = Config::default_config();
    c.pe.kind = kind;
    c.pe.weight_bits = bits;
    c.pe.act_bits = o.act_bits.unwrap_or(bits);
    c.pe.ks = o.ks;
    c.array.rows = size;
    c.array.cols = size;
    let kind = kind.name();
    let width = match o.act_bits {
        Some(a) if a != bits => format!("{bits}x{a}"),
        _ => bits.to_string(),
    };
    c.top.name = if size > 1 {
        format!("{kind}{width}_a{size}")
    } else {
        format!("{kind}{width}_pe")
    };
    c.top.clock_mhz = o.clock_mhz;
    c
}

/// Place and route of the parts of a design too large for the iCE40 part: a module that
/// fits is timed whole; one that does not is split into its submodules, but only when its own
/// logic is at most 5% of it (that logic is left untimed, and the note says so; more would
/// make the figure optimistic).
/// Modules without LUTs (plain registers) do not limit the clock.
struct Parts<'a> {
    files: &'a [std::path::PathBuf],
    modules: &'a std::collections::BTreeMap<String, Figures>,
    capacity: u64,
    o: &'a CompareOptions,
    dir: std::path::PathBuf,
    /// "module: Fmax" of every part timed.
    timed: Vec<String>,
    seconds: f64,
}

/// What placing a module (or its parts) gave.
enum Timed {
    /// No LUTs: does not limit the clock.
    Free,
    Mhz(f64),
    /// Cannot be timed on this part; the reason.
    Untimed(String),
}

impl Timed {
    fn min(self, other: Timed) -> Timed {
        match (self, other) {
            (Timed::Untimed(r), _) | (_, Timed::Untimed(r)) => Timed::Untimed(r),
            (Timed::Free, t) | (t, Timed::Free) => t,
            (Timed::Mhz(a), Timed::Mhz(b)) => Timed::Mhz(a.min(b)),
        }
    }
}

impl Parts<'_> {
    /// `whole`: try the module as a whole first (false when it is known not to fit).
    fn fmax(&mut self, module: &str, whole: bool, depth: usize) -> Result<Timed> {
        let fig = self.modules[module].clone();
        let luts = fig.luts.unwrap_or(0);
        if luts == 0 {
            return Ok(Timed::Free);
        }
        if whole && luts.max(fig.ffs) <= self.capacity {
            let input = SynthInput {
                files: self.files.to_vec(),
                top: module.to_string(),
            };
            let opts = SynthOptions {
                target: Target::Ice40,
                device: Some(self.o.device.clone()),
                clock_mhz: self.o.clock_mhz,
                place_and_route: true,
                pnr_time_limit: self.o.pnr_time_limit,
                progress: self.o.progress,
            };
            let r = synthesize(&input, &opts, &self.dir.join(module))?;
            self.seconds += r.yosys_seconds;
            if let Some(f) = r.design.fmax_mhz {
                self.timed.push(format!("{module}: {f:.2} MHz"));
                return Ok(Timed::Mhz(f));
            }
            // Not timed whole (packed larger than the part, or stopped at the time limit):
            // its parts are tried below, and the note says why.
            if let Some(p) = &r.pnr {
                self.timed.push(format!("{module} as a whole: {}", p.note));
            }
        }
        let child_luts: u64 = fig
            .instances
            .iter()
            .map(|(c, n)| n * self.modules[c].luts.unwrap_or(0))
            .sum();
        let own = luts.saturating_sub(child_luts);
        // Glue of up to 5% of a module (an array's output collection) is left untimed and
        // named in the note; more would make the figure a guess.
        if own * 20 > luts || depth > 8 {
            return Ok(Timed::Untimed(format!(
                "{module} ({luts} LUTs, {own} of them outside its submodules) does not fit the {}",
                self.o.device.to_uppercase()
            )));
        }
        if own > 0 {
            self.timed
                .push(format!("{module}: {own} own LUTs of {luts} not timed"));
        }
        let mut t = Timed::Free;
        for child in fig.instances.keys() {
            t = t.min(self.fmax(child, true, depth + 1)?);
        }
        Ok(t)
    }
}

/// Run the whole comparison into `out` (designs, synthesis folders, compare.{md,json,svg}).
pub fn compare(
    layers: &[Layer],
    weights: &str,
    o: &CompareOptions,
    out: &Path,
) -> Result<Comparison> {
    let mut rows = vec![];
    for &bits in &o.bits {
        for &size in &o.sizes {
            for kind in [PeKind::Sac, PeKind::Mac] {
                rows.push(measure(layers, weights, kind, bits, size, o, out)?);
            }
        }
    }
    let c = Comparison {
        weights: weights.to_string(),
        layers: layers.len(),
        device: o.device.clone(),
        ks: o.ks,
        clock_mhz: o.clock_mhz,
        rows,
    };
    crate::fsutil::write_json(&out.join("compare.json"), &c)?;
    write_atomic(&out.join("compare.md"), markdown(&c).as_bytes())?;
    write_atomic(&out.join("compare.svg"), svg(&c).as_bytes())?;
    Ok(c)
}

fn measure(
    layers: &[Layer],
    weights: &str,
    kind: PeKind,
    bits: u32,
    size: u32,
    o: &CompareOptions,
    out: &Path,
) -> Result<Row> {
    let cfg = config(kind, bits, size, o);
    let top = cfg.top.name.clone();
    let dir = out.join(&top);
    if o.progress {
        eprintln!("== {top}");
    }
    let design_dir = dir.join("design");
    generate(&cfg, &design_dir, 20, ToolChecks::NONE)
        .with_context(|| format!("generating {top}"))?;
    let input = SynthInput::from_filelist(&design_dir.join("files.f"), &top)?;
    let opts = |target, pnr| SynthOptions {
        target,
        device: match target {
            Target::Ice40 => Some(o.device.clone()),
            _ => None,
        },
        clock_mhz: o.clock_mhz,
        place_and_route: pnr,
        pnr_time_limit: o.pnr_time_limit,
        progress: o.progress,
    };
    let generic = synthesize(&input, &opts(Target::Generic, false), &dir.join("generic"))?;
    let ice40 = synthesize(&input, &opts(Target::Ice40, true), &dir.join("ice40"))?;
    let mut yosys_seconds = generic.yosys_seconds + ice40.yosys_seconds;
    let (fmax_mhz, fmax_of) = match ice40.design.fmax_mhz {
        Some(f) => {
            let note = ice40.pnr.as_ref().map_or(String::new(), |p| p.note.clone());
            (Some(f), format!("{top} as a whole ({note})"))
        }
        None => {
            // Too large for the part: time its parts on their own, the slowest sets the clock.
            let mut parts = Parts {
                files: &input.files,
                modules: &ice40.modules,
                capacity: crate::flow::constraints::ice40_device(&o.device)?.logic_cells,
                o,
                dir: dir.join("ice40_parts"),
                timed: vec![],
                seconds: 0.0,
            };
            let t = parts.fmax(&top, false, 0)?;
            yosys_seconds += parts.seconds;
            let timed = parts.timed.join(", ");
            match t {
                Timed::Mhz(f) => (
                    Some(f),
                    format!(
                        "{top} does not fit the {}: slowest of its parts placed and routed one by one ({timed}); nets between the parts are not timed",
                        o.device.to_uppercase()
                    ),
                ),
                Timed::Untimed(why) => (None, format!("not measured: {why}")),
                Timed::Free => (None, "not measured: no LUTs".into()),
            }
        }
    };
    let reports = evaluate_all(layers, &cfg, Timing::default())?;
    let t = total(&reports).run;
    let cycles = match kind {
        PeKind::Sac => t.tetris_cycles,
        PeKind::Mac => t.mac_cycles,
    };
    let macs_per_cycle = t.macs as f64 / cycles.max(1) as f64;
    let mmacs_per_s = fmax_mhz.map(|f| macs_per_cycle * f);
    let luts = ice40.design.luts.unwrap_or(0).max(1) as f64;
    let asic = match &o.energy {
        Some(e) => Some(asic(layers, weights, &cfg, macs_per_cycle, e, o, &dir)?),
        None => None,
    };
    Ok(Row {
        kind,
        bits,
        act_bits: o.act_bits.unwrap_or(bits),
        size,
        top,
        fmax_mhz,
        fmax_of,
        cycles,
        macs: t.macs,
        macs_per_cycle,
        mmacs_per_s,
        mmacs_per_s_per_klut: mmacs_per_s.map(|m| m / luts * 1000.0),
        macs_per_cycle_per_mtr: generic
            .design
            .transistors
            .map(|tr| macs_per_cycle / tr as f64 * 1e6),
        generic: generic.design,
        ice40: ice40.design,
        asic,
        yosys_seconds,
    })
}

/// `cfg`'s design through `tetris power` in `dir/asic`.
fn asic(
    layers: &[Layer],
    weights: &str,
    cfg: &Config,
    macs_per_cycle: f64,
    e: &EnergyOptions,
    o: &CompareOptions,
    dir: &Path,
) -> Result<Asic> {
    let layer = energy_layer(layers).context("no layer maps onto the array")?;
    let input = crate::array::network::synthetic_relu_activations(
        layer.params()?.input_len(),
        cfg.pe.act_bits,
        e.seed,
    );
    let w = Workload {
        weights: weights.to_string(),
        layer,
        input,
        activations: format!("seeded synthetic post-ReLU Gaussian (seed {})", e.seed),
    };
    let opts = PowerOptions {
        liberty: e.liberty.clone(),
        tiles: e.tiles,
        max_fanout: DEFAULT_MAX_FANOUT,
        buffer: DEFAULT_BUFFER.to_string(),
        clock_mhz: None,
        progress: o.progress,
    };
    let work = dir.join("asic");
    std::fs::create_dir_all(&work)?;
    let r = design_power(cfg, &w, &opts, &work)?;
    crate::fsutil::write_json(&work.join("report.json"), &r)?;
    if !r.outputs_match || !r.cycles_match_model {
        bail!(
            "{}: the gate-level run does not match the golden model / cycle model (see {})",
            cfg.top.name,
            work.display()
        );
    }
    Ok(Asic {
        library: r.library.clone(),
        layer: r.layer.clone(),
        tiles: r.tiles,
        design: if cfg.array.rows * cfg.array.cols == 1 {
            "1x1 array (the PE as it sits in an array, kneading offline)".into()
        } else {
            format!("{}x{} array", cfg.array.rows, cfg.array.cols)
        },
        area_um2: r.area_um2,
        fmax_mhz: r.fmax_mhz,
        energy_pj_per_mac: r.energy_pj_per_mac,
        mmacs_per_s_per_mm2: r.fmax_mhz.map(|f| macs_per_cycle * f / (r.area_um2 / 1e6)),
        report: work.join("report.json").display().to_string(),
    })
}

fn f2(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.2}"))
}

fn level(size: u32) -> String {
    if size == 1 {
        "PE".into()
    } else {
        format!("{size}x{size} array")
    }
}

/// SAC over MAC of a figure, when both exist.
fn ratio(sac: Option<f64>, mac: Option<f64>) -> Option<f64> {
    match (sac, mac) {
        (Some(s), Some(m)) if m > 0.0 => Some(s / m),
        _ => None,
    }
}

/// (SAC row, MAC row) pairs in the order measured.
fn pairs(c: &Comparison) -> Vec<(&Row, &Row)> {
    c.rows
        .chunks(2)
        .filter(|p| p.len() == 2)
        .map(|p| (&p[0], &p[1]))
        .collect()
}

/// The report table and one verdict line per pair, worded by the numbers.
pub fn markdown(c: &Comparison) -> String {
    let mut s = format!(
        "SAC (Tetris) vs MAC, weights {} ({} layers, cycle model), KS={}, iCE40 {} at a {} MHz target.\n\n\
         | design | bits | level | cells | transistors | iCE40 LUTs | FFs | carries | Fmax MHz | MACs/cycle | MMAC/s | MMAC/s per kLUT | MACs/cycle per M transistors |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        c.weights,
        c.layers,
        c.ks,
        c.device.to_uppercase(),
        c.clock_mhz
    );
    for r in &c.rows {
        s += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.3} | {} | {} | {} |\n",
            r.kind.name().to_uppercase(),
            width(r),
            level(r.size),
            r.generic.cells,
            r.generic.transistors.map_or("-".into(), |t| t.to_string()),
            r.ice40.luts.map_or("-".into(), |t| t.to_string()),
            r.ice40.ffs,
            r.ice40.carries.map_or("-".into(), |t| t.to_string()),
            f2(r.fmax_mhz),
            r.macs_per_cycle,
            f2(r.mmacs_per_s),
            f2(r.mmacs_per_s_per_klut),
            f2(r.macs_per_cycle_per_mtr),
        );
    }
    s += "\nSAC / MAC:\n\n| bits | level | speedup (cycles) | area (LUTs) | area (transistors) | Fmax | throughput per LUT | throughput per transistor (per cycle) | verdict |\n|---|---|---|---|---|---|---|---|---|\n";
    for (a, m) in pairs(c) {
        let speed = m.cycles as f64 / a.cycles.max(1) as f64;
        let luts = ratio(
            a.ice40.luts.map(|x| x as f64),
            m.ice40.luts.map(|x| x as f64),
        );
        let tr = ratio(
            a.generic.transistors.map(|x| x as f64),
            m.generic.transistors.map(|x| x as f64),
        );
        let per_lut = ratio(a.mmacs_per_s_per_klut, m.mmacs_per_s_per_klut);
        let per_tr = ratio(a.macs_per_cycle_per_mtr, m.macs_per_cycle_per_mtr);
        let verdict = match (per_lut, per_tr) {
            (Some(x), _) if x < 1.0 => format!(
                "SAC loses: {x:.2}x MAC's throughput per LUT at Fmax ({speed:.2}x fewer cycles, {}x the LUTs, {}x the clock)",
                f2(luts),
                f2(ratio(a.fmax_mhz, m.fmax_mhz))
            ),
            (Some(x), _) => format!(
                "SAC wins: {x:.2}x MAC's throughput per LUT at Fmax ({speed:.2}x fewer cycles, {}x the LUTs, {}x the clock)",
                f2(luts),
                f2(ratio(a.fmax_mhz, m.fmax_mhz))
            ),
            (None, Some(x)) => format!(
                "SAC {}: {x:.2}x MAC's MACs per cycle per transistor ({speed:.2}x fewer cycles, {}x the transistors); Fmax not measured",
                if x < 1.0 { "loses" } else { "wins" },
                f2(tr)
            ),
            (None, None) => "no throughput-per-area figure".into(),
        };
        s += &format!(
            "| {} | {} | {speed:.3} | {} | {} | {} | {} | {} | {verdict} |\n",
            width(a),
            level(a.size),
            f2(luts),
            f2(tr),
            f2(ratio(a.fmax_mhz, m.fmax_mhz)),
            f2(per_lut),
            f2(per_tr),
        );
    }
    s += &asic_markdown(c);
    s += "\nFmax measured on:\n\n";
    for r in &c.rows {
        s += &format!("- {}: {}\n", r.top, r.fmax_of);
    }
    s
}

/// `ratio` of SAC over MAC with who is better by it (`lower_wins`: area, energy).
fn judged(ratio: Option<f64>, lower_wins: bool) -> String {
    match ratio {
        Some(x) => {
            let sac = if lower_wins { x <= 1.0 } else { x >= 1.0 };
            format!("{x:.2}x, {}", if sac { "SAC wins" } else { "MAC wins" })
        }
        None => "-".into(),
    }
}

/// The standard-cell rows and the SAC/MAC table with a verdict in every column (empty when
/// energy was not measured).
fn asic_markdown(c: &Comparison) -> String {
    let Some(first) = c.rows.iter().find_map(|r| r.asic.as_ref()) else {
        return String::new();
    };
    let mut s = format!(
        "\nOn {} (`tetris power`: Yosys mapping, max fanout {DEFAULT_MAX_FANOUT}, OpenSTA; energy of \
         layer {} with {} of its pixel tiles simulated gate by gate, seeded synthetic post-ReLU \
         activations). A PE is measured as a 1x1 array (kneading offline, no kneading unit). \
         Throughput = the network's MACs/cycle above x OpenSTA Fmax.\n\n\
         | design | bits | level | area um^2 | Fmax MHz | MMAC/s per mm^2 | energy pJ/MAC | of it clock | leakage |\n\
         |---|---|---|---|---|---|---|---|---|\n",
        first.library, first.layer, first.tiles
    );
    for r in &c.rows {
        let Some(a) = &r.asic else { continue };
        let e = &a.energy_pj_per_mac;
        s += &format!(
            "| {} | {} | {} | {:.0} | {} | {} | {:.3} | {:.3} | {:.5} |\n",
            r.kind.name().to_uppercase(),
            width(r),
            level(r.size),
            a.area_um2,
            f2(a.fmax_mhz),
            f2(a.mmacs_per_s_per_mm2),
            e.total,
            e.clock,
            e.leakage
        );
    }
    s += "\nSAC / MAC on the standard-cell library, each column judged on its own (area and \
          energy: lower wins; Fmax and throughput per area: higher wins):\n\n\
          | bits | level | area um^2 | Fmax | throughput per mm^2 | energy per MAC |\n\
          |---|---|---|---|---|---|\n";
    for (a, m) in pairs(c) {
        let (Some(x), Some(y)) = (&a.asic, &m.asic) else {
            continue;
        };
        s += &format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            width(a),
            level(a.size),
            judged(ratio(Some(x.area_um2), Some(y.area_um2)), true),
            judged(ratio(x.fmax_mhz, y.fmax_mhz), false),
            judged(ratio(x.mmacs_per_s_per_mm2, y.mmacs_per_s_per_mm2), false),
            judged(
                ratio(
                    Some(x.energy_pj_per_mac.total),
                    Some(y.energy_pj_per_mac.total)
                ),
                true
            ),
        );
    }
    s
}

/// "8", or "8w/16a" for mixed precision.
fn width(r: &Row) -> String {
    if r.act_bits == r.bits {
        r.bits.to_string()
    } else {
        format!("{}w/{}a", r.bits, r.act_bits)
    }
}

/// Grouped bars: SAC/MAC ratios of area, Fmax, speedup, throughput per area and energy per MAC
/// per configuration, each bar labelled with its value ("n/a" where a figure is missing), with
/// the parity line at 1.
pub fn scene(c: &Comparison) -> Scene {
    let groups: Vec<(String, [Option<f64>; 5])> = pairs(c)
        .into_iter()
        .map(|(a, m)| {
            (
                format!("{}-bit {}", width(a), level(a.size)),
                [
                    ratio(
                        a.ice40.luts.map(|x| x as f64),
                        m.ice40.luts.map(|x| x as f64),
                    ),
                    ratio(a.fmax_mhz, m.fmax_mhz),
                    Some(m.cycles as f64 / a.cycles.max(1) as f64),
                    ratio(a.mmacs_per_s_per_klut, m.mmacs_per_s_per_klut),
                    match (&a.asic, &m.asic) {
                        (Some(x), Some(y)) => ratio(
                            Some(x.energy_pj_per_mac.total),
                            Some(y.energy_pj_per_mac.total),
                        ),
                        _ => None,
                    },
                ],
            )
        })
        .collect();
    let names = [
        "area (iCE40 LUTs)",
        "Fmax",
        "speedup (cycles)",
        "throughput per LUT",
        "energy per MAC (osu018)",
    ];
    let colors = [
        Rgb(0xd6, 0x27, 0x28),
        Rgb(0x94, 0x67, 0xbd),
        Rgb(0x1f, 0x77, 0xb4),
        Rgb(0x2c, 0xa0, 0x2c),
        Rgb(0xff, 0x7f, 0x0e),
    ];
    let ymax = groups
        .iter()
        .flat_map(|g| g.1.iter().flatten())
        .fold(1.0f64, |a, &b| a.max(b))
        * 1.15;
    let (w, h, left, top, bottom) = (940.0, 420.0, 60.0, 50.0, 60.0);
    let plot_h = h - top - bottom;
    let y = |v: f64| top + plot_h * (1.0 - v / ymax);
    let gw = (w - left - 20.0) / groups.len().max(1) as f64;
    let bw = gw / 6.5;
    let mut s = Scene::new(w as u32, h as u32);
    s.title(
        left,
        20.0,
        format!(
            "SAC / MAC ratios (above 1: SAC larger, faster, better per area, or more energy per MAC), weights {}",
            c.weights
        ),
    );
    for (i, n) in names.iter().enumerate() {
        let x = left + i as f64 * 172.0;
        s.rect(x, 28.0, 10.0, 10.0, colors[i], None);
        s.text(x + 14.0, 37.0, 11.0, Anchor::Start, *n);
    }
    let steps = 5;
    for k in 0..=steps {
        let v = ymax * k as f64 / steps as f64;
        s.line(left, y(v), w - 20.0, y(v), Rgb(0xdd, 0xdd, 0xdd));
        s.text(left - 4.0, y(v) + 4.0, 11.0, Anchor::End, format!("{v:.1}"));
    }
    for (gi, (label, vals)) in groups.iter().enumerate() {
        let x0 = left + gi as f64 * gw + bw * 0.5;
        for (i, v) in vals.iter().enumerate() {
            let x = x0 + i as f64 * bw;
            match v {
                Some(v) => {
                    s.rect(
                        x,
                        y(*v),
                        bw * 0.9,
                        y(0.0) - y(*v),
                        colors[i],
                        Some(format!("{}: {v:.3}", names[i])),
                    );
                    s.text(
                        x + bw * 0.45,
                        y(*v) - 3.0,
                        9.0,
                        Anchor::Middle,
                        format!("{v:.2}"),
                    );
                }
                None => s.text(x + bw * 0.45, y(0.0) - 3.0, 9.0, Anchor::Middle, "n/a"),
            }
        }
        s.text(
            x0 + 2.5 * bw,
            h - bottom + 18.0,
            11.0,
            Anchor::Middle,
            label.clone(),
        );
    }
    s.stroke_line(
        left,
        y(1.0),
        w - 20.0,
        y(1.0),
        Stroke::new(BLACK).dashed(4.0, 3.0),
        Some("parity: SAC = MAC".into()),
    );
    s.line(left, y(0.0), w - 20.0, y(0.0), BLACK);
    s
}

/// [`scene`] as SVG.
pub fn svg(c: &Comparison) -> String {
    to_svg(&scene(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(luts: u64, transistors: u64) -> Figures {
        Figures {
            cells: luts,
            luts: Some(luts),
            ffs: 1,
            carries: Some(0),
            dsps: Some(0),
            brams: Some(0),
            transistors: Some(transistors),
            fmax_mhz: None,
            cells_by_type: Default::default(),
            instances: Default::default(),
        }
    }

    fn row(kind: PeKind, luts: u64, fmax: Option<f64>, cycles: u64) -> Row {
        let macs = 1000;
        let mpc = macs as f64 / cycles as f64;
        Row {
            kind,
            bits: 8,
            act_bits: 8,
            size: 1,
            top: "t".into(),
            generic: fig(luts, luts * 10),
            ice40: fig(luts, 0),
            fmax_mhz: fmax,
            fmax_of: String::new(),
            cycles,
            macs,
            macs_per_cycle: mpc,
            mmacs_per_s: fmax.map(|f| f * mpc),
            mmacs_per_s_per_klut: fmax.map(|f| f * mpc / luts as f64 * 1000.0),
            macs_per_cycle_per_mtr: Some(mpc / (luts * 10) as f64 * 1e6),
            asic: None,
            yosys_seconds: 0.0,
        }
    }

    fn report(rows: Vec<Row>) -> String {
        markdown(&Comparison {
            weights: "w.npy".into(),
            layers: 1,
            device: "hx8k".into(),
            ks: 16,
            clock_mhz: 50.0,
            rows,
        })
    }

    #[test]
    fn the_verdict_follows_the_numbers_both_ways() {
        // 2x fewer cycles for 4x the LUTs at the same clock: SAC loses (0.5x).
        let md = report(vec![
            row(PeKind::Sac, 400, Some(50.0), 500),
            row(PeKind::Mac, 100, Some(50.0), 1000),
        ]);
        assert!(
            md.contains("SAC loses: 0.50x MAC's throughput per LUT"),
            "{md}"
        );
        // 2x fewer cycles for 1.6x the LUTs: SAC wins (1.25x).
        let md = report(vec![
            row(PeKind::Sac, 160, Some(50.0), 500),
            row(PeKind::Mac, 100, Some(50.0), 1000),
        ]);
        assert!(md.contains("SAC wins: 1.25x"), "{md}");
        // No Fmax: the clock-free per-transistor figure decides, and the report says so.
        let md = report(vec![
            row(PeKind::Sac, 400, None, 500),
            row(PeKind::Mac, 100, Some(50.0), 1000),
        ]);
        assert!(
            md.contains("SAC loses: 0.50x MAC's MACs per cycle per transistor"),
            "{md}"
        );
        assert!(md.contains("Fmax not measured"), "{md}");
        let svg = svg(&Comparison {
            weights: "w".into(),
            layers: 1,
            device: "hx8k".into(),
            ks: 16,
            clock_mhz: 50.0,
            rows: vec![
                row(PeKind::Sac, 400, None, 500),
                row(PeKind::Mac, 100, Some(50.0), 1000),
            ],
        });
        assert!(
            svg.starts_with("<svg") && svg.contains("n/a") && svg.trim_end().ends_with("</svg>")
        );
        assert!(svg.contains("stroke-dasharray") && svg.contains("area (iCE40 LUTs): 4.000"));
    }

    fn with_asic(mut r: Row, area: f64, fmax: f64, pj: f64) -> Row {
        r.asic = Some(Asic {
            library: "lib".into(),
            layer: "l".into(),
            tiles: 4,
            design: String::new(),
            area_um2: area,
            fmax_mhz: Some(fmax),
            energy_pj_per_mac: EnergyPerMac {
                total: pj,
                dynamic: pj,
                leakage: 0.0,
                clock: 0.0,
                data: pj,
            },
            mmacs_per_s_per_mm2: Some(r.macs_per_cycle * fmax / (area / 1e6)),
            report: String::new(),
        });
        r
    }

    #[test]
    fn every_standard_cell_column_has_its_own_verdict() {
        // (SAC cycles, area, Fmax, energy; MAC area) against a MAC of 1000 cycles at 100 MHz
        // and 10 pJ per MAC.
        let cases = [
            // SAC: 2x the cycles' throughput, 3x the area, 0.9x the clock, 0.8x the energy:
            // MAC wins area, Fmax and throughput per area (2 x 0.9 / 3 = 0.6), SAC wins energy.
            (
                (500, 3e6, 90.0, 8.0, 1e6),
                "| 8 | PE | 3.00x, MAC wins | 0.90x, MAC wins | 0.60x, MAC wins | 0.80x, SAC wins |",
            ),
            // The other way round in every column.
            (
                (250, 1e6, 120.0, 12.0, 2e6),
                "| 8 | PE | 0.50x, SAC wins | 1.20x, SAC wins | 9.60x, SAC wins | 1.20x, MAC wins |",
            ),
        ];
        for ((cycles, area, fmax, energy, mac_area), want) in cases {
            let sac = row(PeKind::Sac, 400, Some(50.0), cycles);
            let mac = row(PeKind::Mac, 100, Some(50.0), 1000);
            let md = report(vec![
                with_asic(sac, area, fmax, energy),
                with_asic(mac, mac_area, 100.0, 10.0),
            ]);
            assert!(md.contains(want), "{md}");
        }
        // No energy measured: no standard-cell table at all.
        let md = report(vec![
            row(PeKind::Sac, 400, Some(50.0), 500),
            row(PeKind::Mac, 100, Some(50.0), 1000),
        ]);
        assert!(!md.contains("energy per MAC"), "{md}");
    }
}
