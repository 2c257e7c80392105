//! The mapped gate-level netlist: read from Yosys' `write_json` (hierarchical, each module
//! mapped once), flattened here into one list of standard cells over numbered nets, with
//! buffer trees on high-fanout nets, and written back as a flat Verilog netlist for OpenSTA.
//!
//! One netlist feeds both the gate-level simulation (toggle counts per net) and OpenSTA (power
//! and timing), so the nets the simulator counts are exactly the nets OpenSTA annotates: cells
//! are named `c<index>`, internal nets `n<index>`, top ports keep their names.

use super::liberty::{Dir, Library};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;
use tetris_flows::yosys::{YosysJson, YosysModule, YosysPort};

/// Net 0 is constant 0, net 1 constant 1.
pub const CONST0: u32 = 0;
pub const CONST1: u32 = 1;

/// One standard-cell instance: its library cell and the net on each of the cell's pins (in the
/// order of `Library` pins; `None` for a pin left unconnected).
#[derive(Debug, Clone)]
pub struct Inst {
    pub cell: u16,
    pub pins: Vec<Option<u32>>,
    /// Index into [`Netlist::scopes`]: the module instance the cell belongs to.
    pub scope: u32,
}

/// A module instance of the original hierarchy (for energy per module).
#[derive(Debug, Clone)]
pub struct Scope {
    /// Instance path from the top, `.`-separated; "" for the top.
    pub path: String,
    /// The module's name (as emitted by `tetris gen`).
    pub module: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortDir {
    Input,
    Output,
}

/// A top-level port; `bits[i]` is the net of bit i (LSB first).
#[derive(Debug, Clone)]
pub struct Port {
    pub name: String,
    pub dir: PortDir,
    pub bits: Vec<u32>,
}

/// The pins of a library cell, as the netlist uses them.
#[derive(Debug, Clone)]
pub struct CellType {
    pub name: String,
    pub pins: Vec<String>,
    pub outputs: Vec<bool>,
    /// The pin clocking the cell's flip-flop, if it has one.
    pub clock_pin: Option<usize>,
    pub area: f64,
}

#[derive(Debug, Clone)]
pub struct Netlist {
    pub top: String,
    pub nets: u32,
    pub cell_types: Vec<CellType>,
    pub insts: Vec<Inst>,
    pub ports: Vec<Port>,
    pub scopes: Vec<Scope>,
    /// Buffers inserted by [`Netlist::buffer_fanout`].
    pub buffers_added: usize,
}

/// Union-find over net ids (a module port bit and the net it is connected to are one net).
struct Nets {
    parent: Vec<u32>,
}

impl Nets {
    fn fresh(&mut self) -> u32 {
        let id = self.parent.len() as u32;
        self.parent.push(id);
        id
    }
    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }
    fn union(&mut self, a: u32, b: u32) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            // Constants stay the representative so that they keep their ids.
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            self.parent[hi as usize] = lo;
        }
    }
}

struct Flattener<'a> {
    modules: HashMap<&'a str, &'a YosysModule>,
    lib: &'a Library,
    nets: Nets,
    cell_index: HashMap<String, u16>,
    cell_types: Vec<CellType>,
    insts: Vec<Inst>,
    scopes: Vec<Scope>,
}

/// A bit of a Yosys JSON `bits` array: a net number or a constant string.
fn json_bit(v: &Value) -> Result<Bit> {
    match v {
        Value::Number(n) => Ok(Bit::Net(n.as_u64().context("bad bit number")?)),
        Value::String(s) => match s.as_str() {
            "0" => Ok(Bit::Const(false)),
            "1" => Ok(Bit::Const(true)),
            // Undefined bits are driven as 0 (`setundef -zero` would do the same).
            "x" | "z" => Ok(Bit::Const(false)),
            _ => bail!("unknown bit value {s:?}"),
        },
        _ => bail!("unknown bit {v}"),
    }
}

#[derive(Debug, Clone, Copy)]
enum Bit {
    Net(u64),
    Const(bool),
}

impl Flattener<'_> {
    fn cell_type(&mut self, name: &str) -> Result<u16> {
        if let Some(&i) = self.cell_index.get(name) {
            return Ok(i);
        }
        let c = self.lib.cell(name)?;
        if let Some(why) = &c.unsupported {
            bail!("cell {name} has {why}: the gate-level simulator models combinational cells and plain edge-triggered flip-flops only");
        }
        let pins: Vec<String> = c.pins.iter().map(|p| p.name.clone()).collect();
        let clock_pin =
            c.ff.as_ref()
                .and_then(|ff| pins.iter().position(|p| *p == ff.clock));
        let t = CellType {
            name: name.to_string(),
            outputs: c.pins.iter().map(|p| p.dir == Dir::Output).collect(),
            pins,
            clock_pin,
            area: c.area,
        };
        let i = self.cell_types.len() as u16;
        self.cell_types.push(t);
        self.cell_index.insert(name.to_string(), i);
        Ok(i)
    }

    /// Instantiate module `name` whose port bits are already bound in `map`.
    fn module(&mut self, name: &str, path: &str, map: &mut HashMap<u64, u32>) -> Result<()> {
        let m = *self
            .modules
            .get(name)
            .with_context(|| format!("module {name} is not in the netlist"))?;
        let scope = self.scopes.len() as u32;
        self.scopes.push(Scope {
            path: path.to_string(),
            module: name.to_string(),
        });
        for (cname, c) in &m.cells {
            let (ctype, conns) = (c.ty.as_str(), &c.connections);
            let child = self
                .modules
                .get(ctype)
                .copied()
                .filter(|m| !m.attributes.contains_key("blackbox"));
            if let Some(child) = child {
                // Bind the child's port bits to this module's nets, then descend.
                let mut cmap = HashMap::new();
                for (pname, p) in by_name(&child.ports) {
                    let Some(outer) = conns.get(pname) else {
                        continue; // unconnected port: its bits become private nets
                    };
                    for (pb, ob) in p.bits.iter().zip(outer) {
                        let outer_net = self.net(map, json_bit(ob)?);
                        match json_bit(pb)? {
                            Bit::Net(id) => match cmap.get(&id) {
                                Some(&n) => self.nets.union(n, outer_net),
                                None => {
                                    cmap.insert(id, outer_net);
                                }
                            },
                            Bit::Const(v) => {
                                self.nets.union(outer_net, if v { CONST1 } else { CONST0 })
                            }
                        }
                    }
                }
                let child_path = if path.is_empty() {
                    cname.clone()
                } else {
                    format!("{path}.{cname}")
                };
                self.module(ctype, &child_path, &mut cmap)?;
            } else {
                let cell = self.cell_type(ctype)?;
                let pins = self.cell_types[cell as usize].pins.clone();
                let mut nets = vec![None; pins.len()];
                for (pname, bits) in conns {
                    let idx = pins.iter().position(|p| p == pname).with_context(|| {
                        format!("cell {cname} ({ctype}) has no pin {pname} in the library")
                    })?;
                    if bits.len() != 1 {
                        bail!("cell {cname} ({ctype}) pin {pname} has {} bits", bits.len());
                    }
                    nets[idx] = Some(self.net(map, json_bit(&bits[0])?));
                }
                self.insts.push(Inst {
                    cell,
                    pins: nets,
                    scope,
                });
            }
        }
        Ok(())
    }

    fn net(&mut self, map: &mut HashMap<u64, u32>, b: Bit) -> u32 {
        match b {
            Bit::Const(false) => CONST0,
            Bit::Const(true) => CONST1,
            Bit::Net(id) => match map.get(&id) {
                Some(&n) => n,
                None => {
                    let n = self.nets.fresh();
                    map.insert(id, n);
                    n
                }
            },
        }
    }
}

impl Netlist {
    /// Read and flatten Yosys' JSON netlist of `top`, mapped to the cells of `lib`.
    pub fn from_yosys_json(text: &str, top: &str, lib: &Library) -> Result<Netlist> {
        let doc: YosysJson = tetris_fs::parse_json(text, "the Yosys netlist")?;
        let modules: HashMap<&str, &YosysModule> =
            doc.modules.iter().map(|(n, m)| (n.as_str(), m)).collect();
        let tm = *modules
            .get(top)
            .with_context(|| format!("the Yosys netlist has no module {top}"))?;
        let mut f = Flattener {
            modules,
            lib,
            nets: Nets {
                parent: vec![CONST0, CONST1],
            },
            cell_index: HashMap::new(),
            cell_types: vec![],
            insts: vec![],
            scopes: vec![],
        };
        let mut map = HashMap::new();
        let mut ports = vec![];
        for (pname, p) in by_name(&tm.ports) {
            let dir = match p.direction.as_str() {
                "input" => PortDir::Input,
                "output" => PortDir::Output,
                d => bail!(
                    "top port {pname} has direction {d:?}: only input and output are supported"
                ),
            };
            let mut bits = vec![];
            for b in &p.bits {
                bits.push(f.net(&mut map, json_bit(b)?));
            }
            ports.push(Port {
                name: pname.clone(),
                dir,
                bits,
            });
        }
        f.module(top, "", &mut map)?;
        // Canonical net ids: union-find roots, renumbered densely (constants stay 0 and 1).
        let mut dense = HashMap::new();
        dense.insert(CONST0, CONST0);
        dense.insert(CONST1, CONST1);
        let mut next = 2u32;
        let mut canon = |nets: &mut Nets, n: u32| -> u32 {
            let r = nets.find(n);
            *dense.entry(r).or_insert_with(|| {
                next += 1;
                next - 1
            })
        };
        for p in &mut ports {
            for b in &mut p.bits {
                *b = canon(&mut f.nets, *b);
            }
        }
        for i in &mut f.insts {
            for n in i.pins.iter_mut().flatten() {
                *n = canon(&mut f.nets, *n);
            }
        }
        let nl = Netlist {
            top: top.to_string(),
            nets: next,
            cell_types: f.cell_types,
            insts: f.insts,
            ports,
            scopes: f.scopes,
            buffers_added: 0,
        };
        nl.check_drivers()?;
        Ok(nl)
    }

    /// Every net has at most one driver (a cell output or an input port).
    fn check_drivers(&self) -> Result<()> {
        let mut driven = vec![false; self.nets as usize];
        driven[CONST0 as usize] = true;
        driven[CONST1 as usize] = true;
        for p in self.ports.iter().filter(|p| p.dir == PortDir::Input) {
            for &b in &p.bits {
                if b > CONST1 {
                    driven[b as usize] = true;
                }
            }
        }
        for (k, i) in self.insts.iter().enumerate() {
            let t = &self.cell_types[i.cell as usize];
            for (pin, n) in i.pins.iter().enumerate() {
                if let (true, Some(n)) = (t.outputs[pin], n) {
                    if driven[*n as usize] {
                        bail!(
                            "net n{n} has more than one driver (cell c{k} {} pin {}); the netlist is not a legal gate-level netlist",
                            t.name,
                            t.pins[pin]
                        );
                    }
                    driven[*n as usize] = true;
                }
            }
        }
        Ok(())
    }

    pub fn port(&self, name: &str) -> Option<&Port> {
        self.ports.iter().find(|p| p.name == name)
    }

    /// Nets that clock a flip-flop (never buffered: the clock is ideal in the timing analysis).
    pub fn clock_nets(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .insts
            .iter()
            .filter_map(|i| {
                let t = &self.cell_types[i.cell as usize];
                t.clock_pin.and_then(|p| i.pins[p])
            })
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Total cell area (library units, um^2 for osu018).
    pub fn area(&self) -> f64 {
        self.insts
            .iter()
            .map(|i| self.cell_types[i.cell as usize].area)
            .sum()
    }

    /// Cells per flip-flop / other, for the report.
    pub fn flip_flops(&self) -> usize {
        self.insts
            .iter()
            .filter(|i| self.cell_types[i.cell as usize].clock_pin.is_some())
            .count()
    }

    /// Loads of every net: (instance, pin) of each cell input it feeds.
    fn loads(&self) -> Vec<Vec<(u32, u16)>> {
        let mut loads = vec![vec![]; self.nets as usize];
        for (k, i) in self.insts.iter().enumerate() {
            let t = &self.cell_types[i.cell as usize];
            for (pin, n) in i.pins.iter().enumerate() {
                if let (false, Some(n)) = (t.outputs[pin], n) {
                    loads[*n as usize].push((k as u32, pin as u16));
                }
            }
        }
        loads
    }

    /// Split every net that feeds more than `max_fanout` cell inputs into a tree of `buffer`
    /// cells (each driving at most `max_fanout` loads), as a synthesis flow's max-fanout rule
    /// does. Clock nets and constants are left alone. Yosys/ABC insert no such buffers, and
    /// without them a broadcast net's delay (one gate driving hundreds of loads) dominates the
    /// critical path.
    pub fn buffer_fanout(&mut self, lib: &Library, buffer: &str, max_fanout: usize) -> Result<()> {
        if max_fanout < 2 {
            bail!("max fanout {max_fanout}: at least 2");
        }
        let b = lib.cell(buffer)?;
        let input = b
            .pins
            .iter()
            .position(|p| p.dir == Dir::Input)
            .context("buffer cell without input")?;
        let output = b
            .pins
            .iter()
            .position(|p| p.dir == Dir::Output)
            .context("buffer cell without output")?;
        if b.pins.len() != 2 || b.ff.is_some() {
            bail!("{buffer} is not a buffer (one input, one output)");
        }
        let bufcell = match self.cell_types.iter().position(|t| t.name == buffer) {
            Some(i) => i as u16,
            None => {
                self.cell_types.push(CellType {
                    name: buffer.to_string(),
                    pins: b.pins.iter().map(|p| p.name.clone()).collect(),
                    outputs: b.pins.iter().map(|p| p.dir == Dir::Output).collect(),
                    clock_pin: None,
                    area: b.area,
                });
                (self.cell_types.len() - 1) as u16
            }
        };
        let clocks = self.clock_nets();
        let mut loads = self.loads();
        // The scope of a buffer is the scope of the net's driver (or the top for a port).
        let mut driver_scope = vec![0u32; self.nets as usize];
        for i in &self.insts {
            let t = &self.cell_types[i.cell as usize];
            for (pin, n) in i.pins.iter().enumerate() {
                if let (true, Some(n)) = (t.outputs[pin], n) {
                    driver_scope[*n as usize] = i.scope;
                }
            }
        }
        let mut work: Vec<u32> = (CONST1 + 1..self.nets)
            .filter(|n| loads[*n as usize].len() > max_fanout && !clocks.contains(n))
            .collect();
        while let Some(net) = work.pop() {
            let these = std::mem::take(&mut loads[net as usize]);
            for chunk in these.chunks(max_fanout) {
                let out = self.nets;
                self.nets += 1;
                loads.push(chunk.to_vec());
                for &(k, pin) in chunk {
                    self.insts[k as usize].pins[pin as usize] = Some(out);
                }
                let mut pins = vec![None; 2];
                pins[input] = Some(net);
                pins[output] = Some(out);
                let k = self.insts.len() as u32;
                self.insts.push(Inst {
                    cell: bufcell,
                    pins,
                    scope: driver_scope[net as usize],
                });
                loads[net as usize].push((k, input as u16));
                self.buffers_added += 1;
            }
            if loads[net as usize].len() > max_fanout {
                work.push(net);
            }
        }
        Ok(())
    }

    /// The largest fanout of any non-clock net (cell inputs it feeds).
    pub fn max_fanout(&self) -> usize {
        let clocks = self.clock_nets();
        self.loads()
            .iter()
            .enumerate()
            .filter(|(n, _)| *n as u32 > CONST1 && !clocks.contains(&(*n as u32)))
            .map(|(_, l)| l.len())
            .max()
            .unwrap_or(0)
    }

    /// Verilog name of every net: top port bits keep the port's name (`act_0[3]`), other nets
    /// are `n<id>`; constants are `1'b0` / `1'b1`.
    pub fn net_names(&self) -> Vec<String> {
        let mut names: Vec<String> = (0..self.nets).map(|n| format!("n{n}")).collect();
        names[CONST0 as usize] = "1'b0".into();
        names[CONST1 as usize] = "1'b1".into();
        let mut named = vec![false; self.nets as usize];
        // Inputs first: an input port bit is its net's name whatever else it feeds.
        for dir in [PortDir::Input, PortDir::Output] {
            for p in self.ports.iter().filter(|p| p.dir == dir) {
                for (i, &b) in p.bits.iter().enumerate() {
                    if b > CONST1 && !named[b as usize] {
                        names[b as usize] = port_bit(p, i);
                        named[b as usize] = true;
                    }
                }
            }
        }
        names
    }

    /// The flat Verilog netlist OpenSTA reads: `c<k>` cells, `n<id>` nets, the top's ports.
    /// An output port bit whose net is named otherwise (a feed-through, a constant, a second
    /// output on the same net) is connected by an `assign`.
    pub fn to_verilog(&self) -> String {
        let names = self.net_names();
        let mut s = String::with_capacity(self.insts.len() * 60);
        let _ = writeln!(
            s,
            "// Flat gate-level netlist of {} written by {} {} for OpenSTA.",
            self.top,
            crate::fsutil::PRODUCT,
            env!("CARGO_PKG_VERSION")
        );
        let plist: Vec<&str> = self.ports.iter().map(|p| p.name.as_str()).collect();
        let _ = writeln!(s, "module {} ({});", self.top, plist.join(", "));
        for p in &self.ports {
            let dir = match p.dir {
                PortDir::Input => "input",
                PortDir::Output => "output",
            };
            if p.bits.len() == 1 {
                let _ = writeln!(s, "  {dir} {};", p.name);
            } else {
                let _ = writeln!(s, "  {dir} [{}:0] {};", p.bits.len() - 1, p.name);
            }
        }
        let mut is_port_name = vec![false; self.nets as usize];
        for p in &self.ports {
            for &b in &p.bits {
                is_port_name[b as usize] = true;
            }
        }
        for n in CONST1 + 1..self.nets {
            if !is_port_name[n as usize] {
                let _ = writeln!(s, "  wire n{n};");
            }
        }
        for p in self.ports.iter().filter(|p| p.dir == PortDir::Output) {
            for (i, &b) in p.bits.iter().enumerate() {
                let own = port_bit(p, i);
                if names[b as usize] != own {
                    let _ = writeln!(s, "  assign {own} = {};", names[b as usize]);
                }
            }
        }
        for (k, i) in self.insts.iter().enumerate() {
            let t = &self.cell_types[i.cell as usize];
            let conns: Vec<String> = i
                .pins
                .iter()
                .enumerate()
                .filter_map(|(pin, n)| {
                    n.map(|n| format!(".{}({})", t.pins[pin], names[n as usize]))
                })
                .collect();
            let _ = writeln!(s, "  {} c{k} ({});", t.name, conns.join(", "));
        }
        s.push_str("endmodule\n");
        s
    }
}

/// A module's ports sorted by name: nets are numbered in this order, as they were when the
/// netlist was read through serde_json's (sorted) map, so the flat netlist stays the same.
fn by_name(ports: &[(String, YosysPort)]) -> Vec<(&String, &YosysPort)> {
    let mut v: Vec<_> = ports.iter().map(|(n, p)| (n, p)).collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

fn port_bit(p: &Port, i: usize) -> String {
    if p.bits.len() == 1 {
        p.name.clone()
    } else {
        format!("{}[{i}]", p.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const LIB: &str = r#"library(t) {
      cell (INV) { area : 16; pin(A) { direction : input; } pin(Y) { direction : output; function : "(!A)"; } }
      cell (BUF) { area : 24; pin(A) { direction : input; } pin(Y) { direction : output; function : "A"; } }
      cell (NAND2) { area : 24; pin(A) { direction : input; } pin(B) { direction : input; }
        pin(Y) { direction : output; function : "(!(A B))"; } }
      cell (DFF) { area : 96; ff (IQ,IQN) { next_state : "D"; clocked_on : "CLK"; }
        pin(CLK) { direction : input; } pin(D) { direction : input; }
        pin(Q) { direction : output; function : "IQ"; } }
    }"#;

    /// top: clock, a[1:0] in, y out; a child module `inv2` instantiated twice.
    pub(crate) const JSON: &str = r#"{"modules": {
      "INV": {"attributes": {"blackbox": "00000000000000000000000000000001"}, "ports": {}, "cells": {}},
      "inv2": {"attributes": {}, "ports": {"i": {"direction": "input", "bits": [2]}, "o": {"direction": "output", "bits": [3]}},
        "cells": {"u1": {"type": "INV", "connections": {"A": [2], "Y": [4]}},
                  "u2": {"type": "INV", "connections": {"A": [4], "Y": [3]}}}},
      "top": {"attributes": {}, "ports": {"clock": {"direction": "input", "bits": [2]},
                  "a": {"direction": "input", "bits": [3, 4]},
                  "y": {"direction": "output", "bits": [5, 6, "0"]}},
        "cells": {"x": {"type": "inv2", "connections": {"i": [3], "o": [7]}},
                  "z": {"type": "inv2", "connections": {"i": [7], "o": [8]}},
                  "g": {"type": "NAND2", "connections": {"A": [8], "B": [4], "Y": [9]}},
                  "r": {"type": "DFF", "connections": {"CLK": [2], "D": [9], "Q": [5]}},
                  "s": {"type": "DFF", "connections": {"CLK": [2], "D": [5], "Q": [6]}}}}
    }}"#;

    #[test]
    fn flattens_hierarchy_and_names_ports() {
        let lib = Library::parse(LIB).unwrap();
        let nl = Netlist::from_yosys_json(JSON, "top", &lib).unwrap();
        assert_eq!(nl.insts.len(), 4 + 3);
        assert_eq!(nl.scopes.len(), 3);
        assert_eq!(nl.scopes[1].path, "x");
        assert_eq!(nl.area(), 4.0 * 16.0 + 24.0 + 2.0 * 96.0);
        assert_eq!(nl.flip_flops(), 2);
        let v = nl.to_verilog();
        assert!(v.contains("module top (a, clock, y);"), "{v}");
        assert!(v.contains("input [1:0] a;"), "{v}");
        assert!(v.contains("assign y[2] = 1'b0;"), "{v}");
        assert!(
            v.contains("DFF c1 (.CLK(clock), .D(") && v.contains(".Q(y[0]))"),
            "{v}"
        );
        assert_eq!(nl.clock_nets().len(), 1);
    }

    #[test]
    fn buffer_trees_bound_the_fanout() {
        let lib = Library::parse(LIB).unwrap();
        let mut nl = Netlist::from_yosys_json(JSON, "top", &lib).unwrap();
        // Make input a[0] feed 40 inverters.
        let a0 = nl.port("a").unwrap().bits[0];
        for _ in 0..40 {
            let out = nl.nets;
            nl.nets += 1;
            nl.insts.push(Inst {
                cell: 0,
                pins: vec![Some(a0), Some(out)],
                scope: 0,
            });
        }
        assert!(nl.max_fanout() > 40);
        nl.buffer_fanout(&lib, "BUF", 4).unwrap();
        assert!(nl.max_fanout() <= 4, "{}", nl.max_fanout());
        // 41 loads -> 11 buffers -> 3 buffers (a[0] then drives 3): 14 buffers.
        assert_eq!(nl.buffers_added, 14);
        // The clock (2 loads) is never buffered.
        nl.buffer_fanout(&lib, "BUF", 2).unwrap();
        let clk = nl.port("clock").unwrap().bits[0];
        assert_eq!(nl.clock_nets(), vec![clk]);
        assert!(nl.buffer_fanout(&lib, "NAND2", 4).is_err());
    }

    #[test]
    fn a_malformed_netlist_names_the_field() {
        let lib = Library::parse(LIB).unwrap();
        let bad = JSON.replace(r#""a": {"direction": "input", "bits""#, r#""a": {"bits""#);
        let e = Netlist::from_yosys_json(&bad, "top", &lib).unwrap_err();
        let e = format!("{e:#}");
        assert!(e.starts_with("the Yosys netlist: field modules"), "{e}");
        assert!(e.contains("missing field `direction`"), "{e}");
        let e = Netlist::from_yosys_json(JSON, "nope", &lib).unwrap_err();
        assert_eq!(e.to_string(), "the Yosys netlist has no module nope");
    }
}
