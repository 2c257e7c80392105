//! Energy per cycle of every cell from the measured activity and OpenSTA's arc energies, by the
//! power formula of current OpenSTA (`Power::findOutputInternalPower`, `findInputInternalPower`,
//! `findSwitchingPower`):
//!
//! - switching of an output: `0.5 C V^2` per transition;
//! - internal energy of an output: per transition, the average of its rise and fall table
//!   energies, over its arcs weighted by the share of the output's transitions each input
//!   causes (`t_in * P(df/d in) / sum`, the Boolean difference under independent inputs with
//!   the measured duties; an arc whose input is not in the function counts by its `when`
//!   probability, 1 for a clock, else 0.5);
//! - internal energy of an input pin with its own table (a flip-flop's D and CLK): average
//!   rise/fall energy times its transitions (times its `when` probability);
//! - leakage: the cell's leakage power over the clock period.
//!
//! Activities are transitions per clock cycle from the gate-level simulation; a clock net makes
//! two per cycle. The clock's part (the clock pins' own energy) is kept apart: it is paid every
//! cycle whatever the data.

use super::liberty::{parse_func, Func, Library};
use super::netlist::{Netlist, CONST1};
use super::sta::PinTable;
use anyhow::{Context, Result};
use std::collections::HashMap;

/// Energy of one cell per clock cycle (J), averaged over the simulated cycles.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CellEnergy {
    /// Internal energy of clock pins (data-independent).
    pub clock: f64,
    /// Internal energy of everything else.
    pub internal: f64,
    pub switching: f64,
    pub leakage: f64,
}

impl CellEnergy {
    pub fn dynamic(&self) -> f64 {
        self.clock + self.internal + self.switching
    }
    pub fn total(&self) -> f64 {
        self.dynamic() + self.leakage
    }
    pub fn add(&mut self, o: &CellEnergy) {
        self.clock += o.clock;
        self.internal += o.internal;
        self.switching += o.switching;
        self.leakage += o.leakage;
    }
}

/// Measured activity of every net.
pub struct Activity<'a> {
    pub toggles: &'a [u64],
    pub high: &'a [u64],
    /// Lane-cycles over which they were counted.
    pub cycles: u64,
}

/// A boolean function over a few cell pins, as a truth table for probability sums.
struct Truth {
    /// The pins it reads (cell pin indices), bit i of an assignment = pins[i].
    pins: Vec<usize>,
    /// Bit `a` set when the function is 1 under assignment `a`.
    table: u64,
}

impl Truth {
    fn new(f: &Func, pin_index: &dyn Fn(&str) -> Option<usize>) -> Option<Truth> {
        let mut vars = vec![];
        f.vars(&mut vars);
        let pins: Vec<usize> = vars.iter().map(|v| pin_index(v)).collect::<Option<_>>()?;
        if pins.len() > 6 {
            return None;
        }
        let mut table = 0u64;
        for a in 0..1u64 << pins.len() {
            let val = f.eval(&|name| {
                let i = vars.iter().position(|v| v == name).expect("var of f");
                a >> i & 1 == 1
            });
            table |= (val as u64) << a;
        }
        Some(Truth { pins, table })
    }

    /// P(f = 1) with independent inputs of the given duties.
    fn prob(&self, duty: &dyn Fn(usize) -> f64) -> f64 {
        self.sum(|a| self.table >> a & 1 == 1, duty)
    }

    /// P(df/dx = 1): the probability that a change of pin `x` changes f.
    fn diff_prob(&self, x: usize, duty: &dyn Fn(usize) -> f64) -> f64 {
        let Some(i) = self.pins.iter().position(|&p| p == x) else {
            return 0.0;
        };
        self.sum(
            |a| a >> i & 1 == 0 && (self.table >> a & 1) != (self.table >> (a | 1 << i) & 1),
            &|p| if p == x { 0.0 } else { duty(p) },
        )
    }

    fn sum(&self, pick: impl Fn(u64) -> bool, duty: &dyn Fn(usize) -> f64) -> f64 {
        let mut total = 0.0;
        for a in 0..1u64 << self.pins.len() {
            if !pick(a) {
                continue;
            }
            let mut p = 1.0;
            for (i, &pin) in self.pins.iter().enumerate() {
                let d = duty(pin);
                p *= if a >> i & 1 == 1 { d } else { 1.0 - d };
            }
            total += p;
        }
        total
    }
}

/// Per cell type: the truth table of each output's function.
fn output_functions(nl: &Netlist, lib: &Library) -> Result<Vec<Vec<Option<Truth>>>> {
    nl.cell_types
        .iter()
        .map(|t| {
            let cell = lib.cell(&t.name)?;
            Ok(cell
                .pins
                .iter()
                .map(|p| {
                    let f = p.function.as_ref()?;
                    Truth::new(f, &|v| t.pins.iter().position(|x| x == v))
                })
                .collect())
        })
        .collect()
}

/// Energy per cycle of every cell of `nl`.
pub fn cell_energies(
    nl: &Netlist,
    lib: &Library,
    table: &PinTable,
    act: &Activity,
    period_s: f64,
) -> Result<Vec<CellEnergy>> {
    let funcs = output_functions(nl, lib)?;
    let clocks = nl.clock_nets();
    let cyc = act.cycles.max(1) as f64;
    let rate = |n: Option<u32>| -> f64 {
        match n {
            None => 0.0,
            Some(n) if n <= CONST1 => 0.0,
            Some(n) if clocks.contains(&n) => 2.0,
            Some(n) => act.toggles[n as usize] as f64 / cyc,
        }
    };
    let duty = |n: Option<u32>| -> f64 {
        match n {
            None => 0.0,
            Some(n) if n <= CONST1 => n as f64,
            Some(n) if clocks.contains(&n) => 0.5,
            Some(n) => act.high[n as usize] as f64 / cyc,
        }
    };
    let mut whens: HashMap<(u16, String), Option<Truth>> = HashMap::new();
    let mut out = Vec::with_capacity(nl.insts.len());
    for (k, inst) in nl.insts.iter().enumerate() {
        let t = &nl.cell_types[inst.cell as usize];
        let pin_duty = |p: usize| duty(inst.pins[p]);
        let mut e = CellEnergy {
            leakage: table.leakage[k] * period_s,
            ..Default::default()
        };
        for (p, pe) in table.pins[k].iter().enumerate() {
            let net = inst.pins[p];
            let r = rate(net);
            let mut when_prob = |w: &Option<String>| -> Result<Option<f64>> {
                let Some(w) = w else { return Ok(None) };
                let key = (inst.cell, w.clone());
                if !whens.contains_key(&key) {
                    let f = parse_func(w).with_context(|| format!("when condition {w:?}"))?;
                    whens.insert(
                        key.clone(),
                        Truth::new(&f, &|v| t.pins.iter().position(|x| x == v)),
                    );
                }
                Ok(whens[&key].as_ref().map(|tr| tr.prob(&pin_duty)))
            };
            if t.outputs[p] {
                e.switching += 0.5 * pe.cap * pe.volt * pe.volt * r;
                if r == 0.0 || pe.arcs.is_empty() {
                    continue;
                }
                let f = funcs[inst.cell as usize][p].as_ref();
                let mut duties = Vec::with_capacity(pe.arcs.len());
                for arc in &pe.arcs {
                    let d = match f.filter(|f| f.pins.contains(&arc.from)) {
                        Some(f) => rate(inst.pins[arc.from]) * f.diff_prob(arc.from, &pin_duty),
                        None => match when_prob(&arc.when)? {
                            Some(p) => p,
                            None if inst.pins[arc.from].is_some_and(|n| clocks.contains(&n)) => 1.0,
                            None => 0.5,
                        },
                    };
                    duties.push(d);
                }
                let sum: f64 = duties.iter().sum();
                if sum > 0.0 {
                    let per_transition: f64 = pe
                        .arcs
                        .iter()
                        .zip(&duties)
                        .map(|(a, d)| d / sum * (a.rise + a.fall) / 2.0)
                        .sum();
                    e.internal += per_transition * r;
                }
            } else {
                for arc in &pe.arcs {
                    let d = when_prob(&arc.when)?.unwrap_or(1.0);
                    let energy = (arc.rise + arc.fall) / 2.0 * d * r;
                    if net.is_some_and(|n| clocks.contains(&n)) {
                        e.clock += energy;
                    } else {
                        e.internal += energy;
                    }
                }
            }
        }
        out.push(e);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::power::sta::{Arc, PinEnergy};

    /// clock -> DFF (D = a) -> q -> INV -> y; the energies follow the formula by hand.
    #[test]
    fn cell_energy_follows_the_formula() {
        let lib = Library::parse(
            r#"library(t) {
              cell (INV) { area : 16; pin(A) { direction : input; } pin(Y) { direction : output; function : "(!A)"; } }
              cell (DFF) { area : 96; ff (IQ,IQN) { next_state : "D"; clocked_on : "CLK"; }
                pin(CLK) { direction : input; } pin(D) { direction : input; }
                pin(Q) { direction : output; function : "IQ"; } }
            }"#,
        )
        .unwrap();
        let json = r#"{"modules": {"top": {"attributes": {}, "ports": {
              "clock": {"direction": "input", "bits": [2]}, "a": {"direction": "input", "bits": [3]},
              "y": {"direction": "output", "bits": [5]}},
            "cells": {"r": {"type": "DFF", "connections": {"CLK": [2], "D": [3], "Q": [4]}},
                      "u": {"type": "INV", "connections": {"A": [4], "Y": [5]}}}}}}"#;
        let nl = Netlist::from_yosys_json(json, "top", &lib).unwrap();
        // Cells in name order: r (DFF: CLK, D, Q), u (INV: A, Y).
        let (clk, a, q, y) = (
            nl.port("clock").unwrap().bits[0],
            nl.port("a").unwrap().bits[0],
            nl.insts[0].pins[2].unwrap(),
            nl.port("y").unwrap().bits[0],
        );
        let arc = |from, rise, fall| Arc {
            from,
            when: None,
            rise,
            fall,
        };
        let table = PinTable {
            pins: vec![
                vec![
                    PinEnergy {
                        arcs: vec![arc(0, 1e-14, 3e-14)],
                        ..Default::default()
                    },
                    PinEnergy {
                        arcs: vec![arc(1, 4e-15, 6e-15)],
                        ..Default::default()
                    },
                    PinEnergy {
                        cap: 2e-15,
                        volt: 1.8,
                        arcs: vec![arc(0, 5e-15, 7e-15)],
                    },
                ],
                vec![
                    PinEnergy::default(),
                    PinEnergy {
                        cap: 1e-15,
                        volt: 1.8,
                        arcs: vec![arc(0, 2e-15, 4e-15)],
                    },
                ],
            ],
            leakage: vec![1e-9, 2e-9],
            ..Default::default()
        };
        let mut toggles = vec![0u64; nl.nets as usize];
        let mut high = vec![0u64; nl.nets as usize];
        // Over 100 cycles: a toggles 40 times, q and y 30 times; a high half the time.
        toggles[a as usize] = 40;
        toggles[q as usize] = 30;
        toggles[y as usize] = 30;
        high[a as usize] = 50;
        high[q as usize] = 50;
        high[y as usize] = 50;
        let act = Activity {
            toggles: &toggles,
            high: &high,
            cycles: 100,
        };
        let e = cell_energies(&nl, &lib, &table, &act, 1e-8).unwrap();
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * y.abs().max(1e-30);
        // DFF: the clock pin twice a cycle at the mean rise/fall energy; D at 0.4/cycle; Q at 0.3.
        assert_eq!(nl.clock_nets(), vec![clk]);
        assert!(close(e[0].clock, 2.0 * 2e-14), "{:?}", e[0]);
        assert!(
            close(e[0].internal, 0.4 * 5e-15 + 0.3 * 6e-15),
            "{:?}",
            e[0]
        );
        assert!(
            close(e[0].switching, 0.5 * 2e-15 * 1.8 * 1.8 * 0.3),
            "{:?}",
            e[0]
        );
        assert!(close(e[0].leakage, 1e-9 * 1e-8));
        // INV: one arc, weight 1.
        assert!(close(e[1].internal, 0.3 * 3e-15), "{:?}", e[1]);
        assert!(close(e[1].switching, 0.5 * 1e-15 * 1.8 * 1.8 * 0.3));
        assert_eq!(e[1].clock, 0.0);
    }

    #[test]
    fn boolean_difference_probabilities() {
        let f = parse_func("(!(A B))").unwrap();
        let names = ["A", "B"];
        let t = Truth::new(&f, &|v| names.iter().position(|x| *x == v)).unwrap();
        // NAND: A matters when B = 1.
        let d = |p: usize| [0.3, 0.8][p];
        assert!((t.diff_prob(0, &d) - 0.8).abs() < 1e-12);
        assert!((t.diff_prob(1, &d) - 0.3).abs() < 1e-12);
        assert!((t.prob(&d) - (1.0 - 0.24)).abs() < 1e-12);
        // XOR: every change of either input changes the output.
        let x = parse_func("A^B").unwrap();
        let t = Truth::new(&x, &|v| names.iter().position(|n| *n == v)).unwrap();
        assert!((t.diff_prob(0, &d) - 1.0).abs() < 1e-12);
    }
}
