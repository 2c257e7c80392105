//! `tetris power` end to end: generate, map, flatten and buffer, simulate the workload gate by
//! gate, OpenSTA, report.

use super::energy::{cell_energies, Activity, CellEnergy};
use super::gatesim::GateSim;
use super::liberty::Library;
use super::netlist::Netlist;
use super::report::{EnergyPerMac, ModuleEnergy, PowerReport, Seconds};
use super::sta::{analyse, Power};
use super::synth::map_to_cells;
use super::workload::run_tiles;
use crate::array::cycle_model::{layer_cycles, Engine, Timing};
use crate::array::network::{check_run, prepare, sample_tiles};
use crate::config::{Config, PeKind};
use crate::flow::array_gen::build_array;
use crate::flow::gen::{write_checked, ToolChecks};
use crate::flow::synth::SynthInput;
use crate::weights::Layer;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How to measure.
#[derive(Debug, Clone)]
pub struct PowerOptions {
    pub liberty: PathBuf,
    /// Pixel tiles to simulate (evenly spaced over the layer; all when it has fewer).
    pub tiles: usize,
    /// Max-fanout rule: nets with more loads get a buffer tree of `buffer` cells.
    pub max_fanout: usize,
    pub buffer: String,
    /// Analysis clock; `None`: the config's `[top] clock_mhz`.
    pub clock_mhz: Option<f64>,
    pub progress: bool,
}

/// Default max fanout (chosen by measurement, docs/power.md).
pub const DEFAULT_MAX_FANOUT: usize = 16;
/// Buffer cell of the fanout trees (the strongest osu018 buffer).
pub const DEFAULT_BUFFER: &str = "BUFX4";

/// What the design computes: one layer of a weight file with its input activations.
pub struct Workload<'a> {
    /// Where the weights came from (for the report).
    pub weights: String,
    pub layer: &'a Layer,
    /// Quantized input activations of the layer (`[N, Cin, H, W]`).
    pub input: Vec<i64>,
    /// How they were made (for the report).
    pub activations: String,
}

/// `tetris power` measures `cfg`'s array top (a 1x1 array is the PE as it sits in an array,
/// kneading offline); only host-kneaded arrays can be driven.
pub fn check_power_config(cfg: &Config) -> Result<()> {
    if cfg.array.knead_on_chip {
        bail!(
            "field array.knead_on_chip = true: tetris power drives the kneaded column streams of \
             host-kneaded arrays (the on-chip kneading top takes plain weight groups)"
        );
    }
    Ok(())
}

/// Measure `cfg`'s design on `work` (a folder the caller owns; it is filled with the design,
/// the Yosys run, the netlist and the OpenSTA run).
pub fn design_power(
    cfg: &Config,
    w: &Workload,
    o: &PowerOptions,
    work: &Path,
) -> Result<PowerReport> {
    let t0 = Instant::now();
    check_power_config(cfg)?;
    let engine = match cfg.pe.kind {
        PeKind::Sac => Engine::Sac,
        PeKind::Mac => Engine::Mac,
    };
    let clock_mhz = o.clock_mhz.unwrap_or(cfg.top.clock_mhz);
    let period_ns = 1000.0 / clock_mhz;
    let lib = Library::read(&o.liberty)?;
    let pl = prepare(w.layer, cfg)?;
    let say = |m: &str| {
        if o.progress {
            eprintln!("{m}");
        }
    };
    // 1. The array design (also at 1x1, where `tetris gen` emits the bare PE), self-checked.
    say(&format!("== {}: generating", cfg.top.name));
    let design_dir = work.join("design");
    let built = build_array(cfg, 20)
        .and_then(|b| write_checked(cfg, &design_dir, &b, ToolChecks::NONE).map(|_| b))
        .with_context(|| format!("generating {}", cfg.top.name))?;
    let t_gen = t0.elapsed().as_secs_f64();
    // 2. Mapped to the library's cells.
    say(&format!(
        "== {}: Yosys mapping to {}",
        cfg.top.name, lib.name
    ));
    let t1 = Instant::now();
    let synth_dir = work.join("synth");
    std::fs::create_dir_all(&synth_dir)?;
    let input = SynthInput::from_filelist(&design_dir.join("files.f"), &built.design.top)?;
    let json = map_to_cells(&input, &o.liberty, &synth_dir)?;
    let t_yosys = t1.elapsed().as_secs_f64();
    // 3. Flat, buffered netlist.
    let t2 = Instant::now();
    let mut nl = Netlist::from_yosys_json(&json, &built.design.top, &lib)?;
    drop(json);
    nl.buffer_fanout(&lib, &o.buffer, o.max_fanout)?;
    let sta_dir = work.join("sta");
    std::fs::create_dir_all(&sta_dir)?;
    std::fs::write(sta_dir.join("netlist.v"), nl.to_verilog())?;
    let mut sim = GateSim::new(&nl, &lib)?;
    let t_netlist = t2.elapsed().as_secs_f64();
    // 4. The workload, gate by gate.
    say(&format!(
        "== {}: {} cells, {} ops per cycle; simulating",
        cfg.top.name,
        nl.insts.len(),
        sim.ops()
    ));
    let t3 = Instant::now();
    let picked = sample_tiles(&pl.map, o.tiles);
    let run = run_tiles(
        &mut sim,
        &nl,
        cfg,
        pl.data(&w.input),
        engine,
        &picked,
        o.progress,
    )?;
    let check = check_run(&pl, &w.input, &picked, engine, Timing::default(), &run.rtl);
    let t_sim = t3.elapsed().as_secs_f64();
    // 5. OpenSTA: timing, and the energies of its power model; evaluated with the activity.
    say(&format!("== {}: OpenSTA", cfg.top.name));
    let clock_port = "clock";
    if nl.port(clock_port).is_none() {
        bail!("the netlist of {} has no `{clock_port}` port", nl.top);
    }
    let sta = analyse(&sta_dir, &nl, &o.liberty, clock_port, period_ns)?;
    let mismatch = sta.table.opensta_check();
    if mismatch.is_nan() || mismatch > 0.01 {
        bail!(
            "the OpenSTA power debug output does not add up to its report_power total ({:.2}% off): see {}",
            100.0 * mismatch,
            sta_dir.join("sta.log").display()
        );
    }
    let act = Activity {
        toggles: &sim.toggles,
        high: &sim.high,
        cycles: sim.cycles,
    };
    std::fs::write(sta_dir.join("activity.tsv"), activity_table(&nl, &act))?;
    let period_s = period_ns * 1e-9;
    let cells = cell_energies(&nl, &lib, &sta.table, &act, period_s)?;
    // 6. Figures.
    let dot = pl.map.params.dot_len() as u64;
    let sim_macs = run.rtl.outputs.len() as u64 * dot;
    let layer_macs = pl.map.params.macs();
    let layer_cyc = layer_cycles(&pl.map, &pl.lens, engine, Timing::default());
    let mut total = CellEnergy::default();
    let (mut seq, mut comb) = (CellEnergy::default(), CellEnergy::default());
    for (k, e) in cells.iter().enumerate() {
        total.add(e);
        if nl.cell_types[nl.insts[k].cell as usize].clock_pin.is_some() {
            seq.add(e);
        } else {
            comb.add(e);
        }
    }
    // Energy per cycle (J) of the simulated lane-cycles, per MAC, in pJ.
    let per_mac = |e_cycle: f64| e_cycle * run.lane_cycles as f64 / sim_macs.max(1) as f64 * 1e12;
    let energy = EnergyPerMac {
        total: per_mac(total.total()),
        dynamic: per_mac(total.dynamic()),
        leakage: per_mac(total.leakage),
        clock: per_mac(total.clock),
        data: per_mac(total.internal + total.switching),
    };
    let modules = module_energy(&nl, &cells, &per_mac);
    let critical = sta.slack_ns.map(|s| period_ns - s);
    let fmax = critical.filter(|&c| c > 0.0).map(|c| 1000.0 / c);
    let macs_per_cycle = layer_macs as f64 / layer_cyc.max(1) as f64;
    let area = nl.area();
    Ok(PowerReport {
        design: nl.top.clone(),
        description: built.description.clone(),
        kind: cfg.pe.kind.name().into(),
        weight_bits: cfg.pe.weight_bits,
        act_bits: cfg.pe.act_bits,
        ks: cfg.pe.ks,
        encoding: cfg.pe.encoding.to_string(),
        rows: cfg.array.rows,
        cols: cfg.array.cols,
        library: lib.name.clone(),
        weights: w.weights.clone(),
        layer: w.layer.name.clone(),
        layer_shape: layer_shape(&pl.map.params),
        activations: w.activations.clone(),
        tiles: picked.len(),
        layer_tiles: pl.map.pixel_tiles(),
        lanes: run.lanes,
        sim_cycles: run.sim_cycles,
        lane_cycles: run.lane_cycles,
        outputs_checked: check.checked_outputs,
        outputs_match: check.outputs_match,
        cycles_match_model: check.model_agrees,
        clock_mhz,
        cells: nl.insts.len(),
        flip_flops: nl.flip_flops(),
        area_um2: area,
        max_fanout: nl.max_fanout(),
        buffers_added: nl.buffers_added,
        critical_path_ns: critical,
        fmax_mhz: fmax,
        critical_from: describe_cell(&nl, &sta.start),
        critical_to: describe_cell(&nl, &sta.end),
        power_w: as_power(&total, period_s),
        clock_power_w: as_power(
            &CellEnergy {
                clock: total.clock,
                ..Default::default()
            },
            period_s,
        ),
        sequential_w: as_power(&seq, period_s),
        combinational_w: as_power(&comb, period_s),
        opensta_uniform_w: sta.table.opensta_total,
        opensta_parse_mismatch: mismatch,
        sim_macs,
        energy_pj_per_mac: energy,
        layer_macs,
        layer_cycles: layer_cyc,
        layer_energy_uj: total.total() * layer_cyc as f64 * 1e6,
        macs_per_cycle,
        mmacs_per_s_per_mm2: fmax.map(|f| macs_per_cycle * f / (area / 1e6)),
        modules,
        seconds: Seconds {
            generate: t_gen,
            yosys: t_yosys,
            netlist: t_netlist,
            simulation: t_sim,
            sta: sta.seconds,
            total: t0.elapsed().as_secs_f64(),
        },
    })
}

fn layer_shape(p: &crate::model::conv::ConvParams) -> String {
    format!(
        "{}->{} {}x{} /{} groups {}, {}x{} -> {}x{}",
        p.cin,
        p.cout,
        p.kh,
        p.kw,
        p.stride.0,
        p.groups,
        p.in_h,
        p.in_w,
        p.out_h(),
        p.out_w()
    )
}

/// `c<k>` (a cell of the flat netlist) as `module instance-path (cell type)`; ports as is.
fn describe_cell(nl: &Netlist, name: &str) -> String {
    let Some(k) = name.strip_prefix('c').and_then(|k| k.parse::<usize>().ok()) else {
        return name.to_string();
    };
    let Some(inst) = nl.insts.get(k) else {
        return name.to_string();
    };
    let scope = &nl.scopes[inst.scope as usize];
    format!(
        "{} in {} ({})",
        nl.cell_types[inst.cell as usize].name,
        if scope.path.is_empty() {
            "the top"
        } else {
            &scope.path
        },
        scope.module
    )
}

/// Every net's measured activity: name, driving cell and its module instance, transitions per
/// cycle, share of cycles high.
fn activity_table(nl: &Netlist, act: &Activity) -> String {
    let names = nl.net_names();
    let mut driver = vec![String::new(); nl.nets as usize];
    for (k, inst) in nl.insts.iter().enumerate() {
        let t = &nl.cell_types[inst.cell as usize];
        for (p, n) in inst.pins.iter().enumerate() {
            if let (true, Some(n)) = (t.outputs[p], n) {
                let scope = &nl.scopes[inst.scope as usize].path;
                driver[*n as usize] = format!("c{k}/{} {}", t.pins[p], scope);
            }
        }
    }
    let cyc = act.cycles.max(1) as f64;
    let mut s = String::from("net\tdriver\tscope\ttransitions_per_cycle\tduty\n");
    for n in 2..nl.nets as usize {
        let (d, scope) = driver[n].split_once(' ').unwrap_or(("port", ""));
        s += &format!(
            "{}\t{d}\t{scope}\t{:.6}\t{:.6}\n",
            names[n],
            act.toggles[n] as f64 / cyc,
            act.high[n] as f64 / cyc
        );
    }
    s
}

/// Average power (W) of a per-cycle energy.
fn as_power(e: &CellEnergy, period_s: f64) -> Power {
    Power {
        internal: (e.clock + e.internal) / period_s,
        switching: e.switching / period_s,
        leakage: e.leakage / period_s,
        total: e.total() / period_s,
    }
}

/// Energy per module (its own cells over all its instances), largest first.
fn module_energy(
    nl: &Netlist,
    cells: &[CellEnergy],
    per_mac: &dyn Fn(f64) -> f64,
) -> Vec<ModuleEnergy> {
    let mut by_module: BTreeMap<&str, (usize, usize, f64, CellEnergy)> = BTreeMap::new();
    for s in &nl.scopes {
        by_module.entry(s.module.as_str()).or_default().0 += 1;
    }
    for (k, inst) in nl.insts.iter().enumerate() {
        let m = by_module
            .get_mut(nl.scopes[inst.scope as usize].module.as_str())
            .expect("every scope's module is listed");
        m.1 += 1;
        m.2 += nl.cell_types[inst.cell as usize].area;
        m.3.add(&cells[k]);
    }
    let all: f64 = cells.iter().map(CellEnergy::total).sum();
    let mut out: Vec<ModuleEnergy> = by_module
        .into_iter()
        .filter(|(_, m)| m.1 > 0)
        .map(|(name, (instances, cells, area, e))| ModuleEnergy {
            module: name.to_string(),
            instances,
            cells,
            area_um2: area,
            pj_per_mac: per_mac(e.total()),
            data_pj_per_mac: per_mac(e.internal + e.switching),
            share: if all > 0.0 { e.total() / all } else { 0.0 },
        })
        .collect();
    out.sort_by(|a, b| b.pj_per_mac.total_cmp(&a.pj_per_mac));
    out
}
