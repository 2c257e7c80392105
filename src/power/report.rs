//! What `tetris power` reports (JSON and a short text table).

use super::sta::Power;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Energy of one module (its own cells, summed over its instances).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModuleEnergy {
    pub module: String,
    pub instances: usize,
    pub cells: usize,
    pub area_um2: f64,
    /// Energy per MAC of the simulated tiles (pJ): total, and the part above the clock's own.
    pub pj_per_mac: f64,
    pub data_pj_per_mac: f64,
    pub share: f64,
}

/// Energy figures in pJ per MAC (of the simulated tiles).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct EnergyPerMac {
    pub total: f64,
    pub dynamic: f64,
    pub leakage: f64,
    /// The clock alone (flip-flop clock pins at zero data activity).
    pub clock: f64,
    /// Dynamic energy of data switching: dynamic - clock.
    pub data: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PowerReport {
    pub design: String,
    pub description: String,
    pub kind: String,
    pub weight_bits: u32,
    pub act_bits: u32,
    pub ks: u32,
    pub encoding: String,
    pub rows: u32,
    pub cols: u32,
    pub library: String,
    pub weights: String,
    pub layer: String,
    /// `Cin->Cout KHxKW /stride groups G, HxW -> OHxOW`.
    pub layer_shape: String,
    pub activations: String,
    /// Pixel tiles simulated (evenly spaced) of the layer's tiles.
    pub tiles: usize,
    pub layer_tiles: usize,
    pub lanes: usize,
    pub sim_cycles: u64,
    pub lane_cycles: u64,
    /// Every output of the simulated tiles equals the golden model, and every lane took the
    /// cycle model's cycles.
    pub outputs_checked: usize,
    pub outputs_match: bool,
    pub cycles_match_model: bool,
    pub clock_mhz: f64,
    pub cells: usize,
    pub flip_flops: usize,
    pub area_um2: f64,
    pub max_fanout: usize,
    pub buffers_added: usize,
    pub critical_path_ns: Option<f64>,
    pub fmax_mhz: Option<f64>,
    pub critical_from: String,
    pub critical_to: String,
    /// Average power over the simulated cycles at `clock_mhz` (W).
    pub power_w: Power,
    pub clock_power_w: Power,
    pub sequential_w: Power,
    pub combinational_w: Power,
    /// OpenSTA's own `report_power` at a uniform activity of 0.1 per cycle (the run whose arc
    /// energies are used), and how far the parsed energies were from adding up to it.
    pub opensta_uniform_w: Power,
    pub opensta_parse_mismatch: f64,
    pub sim_macs: u64,
    pub energy_pj_per_mac: EnergyPerMac,
    /// The layer: its MACs, its cycles (cycle model, all tiles) and its energy at the average
    /// power of the simulated tiles (uJ).
    pub layer_macs: u64,
    pub layer_cycles: u64,
    pub layer_energy_uj: f64,
    pub macs_per_cycle: f64,
    /// Throughput per area at Fmax: MMAC/s per mm^2.
    pub mmacs_per_s_per_mm2: Option<f64>,
    pub modules: Vec<ModuleEnergy>,
    pub seconds: Seconds,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Seconds {
    pub generate: f64,
    pub yosys: f64,
    pub netlist: f64,
    pub simulation: f64,
    pub sta: f64,
    pub total: f64,
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".into(), |x| format!("{x:.digits$}"))
}

impl PowerReport {
    /// The human-readable summary `tetris power` prints.
    pub fn text(&self, top_modules: usize) -> String {
        let e = &self.energy_pj_per_mac;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "design      {} ({} {}-bit x {}-bit, KS={}, {}, {}x{}) on {}",
            self.design,
            self.kind,
            self.weight_bits,
            self.act_bits,
            self.ks,
            self.encoding,
            self.rows,
            self.cols,
            self.library
        );
        let _ = writeln!(
            s,
            "workload    layer {} ({}) of {}: {} of {} pixel tiles in {} lanes, {} cycles ({} lane-cycles), activations {}",
            self.layer,
            self.layer_shape,
            self.weights,
            self.tiles,
            self.layer_tiles,
            self.lanes,
            self.sim_cycles,
            self.lane_cycles,
            self.activations
        );
        let _ = writeln!(
            s,
            "check       {} outputs {}; cycles {} the cycle model",
            self.outputs_checked,
            if self.outputs_match {
                "equal the golden model"
            } else {
                "DIFFER from the golden model"
            },
            if self.cycles_match_model {
                "equal"
            } else {
                "DIFFER from"
            }
        );
        let _ = writeln!(
            s,
            "area        {:.0} um^2, {} cells ({} flip-flops, {} buffers for max fanout {})",
            self.area_um2, self.cells, self.flip_flops, self.buffers_added, self.max_fanout
        );
        let _ = writeln!(
            s,
            "timing      critical path {} ns ({} -> {}), Fmax {} MHz",
            opt(self.critical_path_ns, 3),
            self.critical_from,
            self.critical_to,
            opt(self.fmax_mhz, 1)
        );
        let _ = writeln!(
            s,
            "power       {:.3} mW at {} MHz: dynamic {:.3} mW (clock alone {:.3} mW), leakage {:.4} uW",
            self.power_w.total * 1e3,
            self.clock_mhz,
            self.power_w.dynamic() * 1e3,
            self.clock_power_w.dynamic() * 1e3,
            self.power_w.leakage * 1e6
        );
        let _ = writeln!(
            s,
            "energy/MAC  {:.3} pJ: dynamic {:.3} (clock {:.3} + data {:.3}), leakage {:.5}; {:.3} MACs/cycle",
            e.total, e.dynamic, e.clock, e.data, e.leakage, self.macs_per_cycle
        );
        let _ = writeln!(
            s,
            "layer       {} MACs in {} cycles: {:.3} uJ",
            self.layer_macs, self.layer_cycles, self.layer_energy_uj
        );
        let _ = writeln!(
            s,
            "throughput  {} MMAC/s per mm^2 at Fmax",
            opt(self.mmacs_per_s_per_mm2, 2)
        );
        let _ = writeln!(
            s,
            "\n| module | instances | cells | area um^2 | pJ/MAC | data pJ/MAC | share |\n|---|---|---|---|---|---|---|"
        );
        for m in self.modules.iter().take(top_modules) {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {:.0} | {:.4} | {:.4} | {:.1}% |",
                m.module,
                m.instances,
                m.cells,
                m.area_um2,
                m.pj_per_mac,
                m.data_pj_per_mac,
                100.0 * m.share
            );
        }
        let t = &self.seconds;
        let _ = writeln!(
            s,
            "\ntime        {:.1} s: gen {:.1}, yosys {:.1}, netlist {:.1}, gate-level simulation {:.1}, OpenSTA {:.1}",
            t.total, t.generate, t.yosys, t.netlist, t.simulation, t.sta
        );
        s
    }
}
