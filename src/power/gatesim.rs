//! Zero-delay, cycle-based simulation of the flat gate-level netlist with toggle counting.
//!
//! Every net holds a `u64`: bit `l` is the net's value in *lane* `l`, an independent copy of
//! the circuit (64 simulations at the price of one: lanes run different chunks of the
//! workload). Cells are compiled once from their Liberty functions into a straight-line list
//! of bitwise operations in topological order; a cycle is one pass over that list, then the
//! flip-flops load their next state at the clock edge.
//!
//! Toggles are counted on the settled values of consecutive cycles (a zero-delay simulation:
//! glitches inside a cycle are not seen, as with SAIF/VCD activity from RTL simulation), per
//! net and only in the lanes marked active.

use super::liberty::{Func, Library};
use super::netlist::{CellType, Inst, Netlist, PortDir, CONST0, CONST1};
use anyhow::{bail, Result};

/// One bitwise operation over value slots.
#[derive(Debug, Clone, Copy)]
enum Op {
    Copy(u32, u32),
    Not(u32, u32),
    And(u32, u32, u32),
    Or(u32, u32, u32),
    Xor(u32, u32, u32),
    Nand(u32, u32, u32),
    Nor(u32, u32, u32),
    Xnor(u32, u32, u32),
    /// dst = !((a & b) | c)
    Aoi21(u32, u32, u32, u32),
    /// dst = !((a | b) & c)
    Oai21(u32, u32, u32, u32),
    /// dst = s ? a : b
    Mux(u32, u32, u32, u32),
}

#[inline(always)]
fn exec(v: &mut [u64], op: Op) {
    match op {
        Op::Copy(d, a) => v[d as usize] = v[a as usize],
        Op::Not(d, a) => v[d as usize] = !v[a as usize],
        Op::And(d, a, b) => v[d as usize] = v[a as usize] & v[b as usize],
        Op::Or(d, a, b) => v[d as usize] = v[a as usize] | v[b as usize],
        Op::Xor(d, a, b) => v[d as usize] = v[a as usize] ^ v[b as usize],
        Op::Nand(d, a, b) => v[d as usize] = !(v[a as usize] & v[b as usize]),
        Op::Nor(d, a, b) => v[d as usize] = !(v[a as usize] | v[b as usize]),
        Op::Xnor(d, a, b) => v[d as usize] = !(v[a as usize] ^ v[b as usize]),
        Op::Aoi21(d, a, b, c) => v[d as usize] = !((v[a as usize] & v[b as usize]) | v[c as usize]),
        Op::Oai21(d, a, b, c) => v[d as usize] = !((v[a as usize] | v[b as usize]) & v[c as usize]),
        Op::Mux(d, s, a, b) => {
            let s = v[s as usize];
            v[d as usize] = (s & v[a as usize]) | (!s & v[b as usize])
        }
    }
}

/// Compiles one cell function into ops; temporaries live in a scratch area reused by every
/// cell (cells are evaluated one after the other).
struct Compiler<'a> {
    ops: &'a mut Vec<Op>,
    temp_base: u32,
    next_temp: u32,
    max_temp: u32,
}

impl Compiler<'_> {
    fn temp(&mut self) -> u32 {
        let t = self.temp_base + self.next_temp;
        self.next_temp += 1;
        self.max_temp = self.max_temp.max(self.next_temp);
        t
    }

    /// Emit ops computing `f` into slot `dst`; `var` maps a variable to its slot.
    fn emit(&mut self, f: &Func, dst: u32, var: &dyn Fn(&str) -> Result<u32>) -> Result<()> {
        use Func::*;
        // A few fused shapes (the common standard-cell functions) save ops.
        match f {
            Var(x) => self.ops.push(Op::Copy(dst, var(x)?)),
            Const(c) => self
                .ops
                .push(Op::Copy(dst, if *c { CONST1 } else { CONST0 })),
            Not(a) => match &**a {
                And(x, y) => match &**x {
                    Or(p, q) => self.op3(Op::Oai21, dst, [p, q, y], var)?,
                    _ => self.op2(Op::Nand, dst, x, y, var)?,
                },
                Or(x, y) => match &**x {
                    And(p, q) => self.op3(Op::Aoi21, dst, [p, q, y], var)?,
                    _ => self.op2(Op::Nor, dst, x, y, var)?,
                },
                Xor(x, y) => self.op2(Op::Xnor, dst, x, y, var)?,
                _ => {
                    let s = self.operand(a, var)?;
                    self.ops.push(Op::Not(dst, s));
                }
            },
            And(x, y) => self.op2(Op::And, dst, x, y, var)?,
            Or(x, y) => match (&**x, &**y) {
                // (s a) + (!s b): a multiplexer.
                (And(s1, a), And(ns, b)) if matches!(&**ns, Not(s2) if s1 == s2) => {
                    self.op3(Op::Mux, dst, [s1, a, b], var)?
                }
                _ => self.op2(Op::Or, dst, x, y, var)?,
            },
            Xor(x, y) => self.op2(Op::Xor, dst, x, y, var)?,
        }
        Ok(())
    }

    /// Push `op(dst, x, y)` with the operands' slots.
    fn op2(
        &mut self,
        op: fn(u32, u32, u32) -> Op,
        dst: u32,
        x: &Func,
        y: &Func,
        var: &dyn Fn(&str) -> Result<u32>,
    ) -> Result<()> {
        let (sx, sy) = (self.operand(x, var)?, self.operand(y, var)?);
        self.ops.push(op(dst, sx, sy));
        Ok(())
    }

    /// Push `op(dst, a, b, c)` with the operands' slots.
    fn op3(
        &mut self,
        op: fn(u32, u32, u32, u32) -> Op,
        dst: u32,
        [a, b, c]: [&Func; 3],
        var: &dyn Fn(&str) -> Result<u32>,
    ) -> Result<()> {
        let (sa, sb, sc) = (
            self.operand(a, var)?,
            self.operand(b, var)?,
            self.operand(c, var)?,
        );
        self.ops.push(op(dst, sa, sb, sc));
        Ok(())
    }

    /// The slot holding `f`: a variable's own slot, else a temporary computed now.
    fn operand(&mut self, f: &Func, var: &dyn Fn(&str) -> Result<u32>) -> Result<u32> {
        match f {
            Func::Var(x) => var(x),
            Func::Const(c) => Ok(if *c { CONST1 } else { CONST0 }),
            _ => {
                let t = self.temp();
                self.emit(f, t, var)?;
                Ok(t)
            }
        }
    }
}

/// The slot of the net on pin `name` of `inst` (an unconnected pin reads 0).
fn net_slot(t: &CellType, inst: &Inst, name: &str) -> Result<u32> {
    let p = t
        .pins
        .iter()
        .position(|p| p == name)
        .ok_or_else(|| anyhow::anyhow!("{}: unknown variable {name}", t.name))?;
    Ok(inst.pins[p].unwrap_or(CONST0))
}

/// `f` with variable `name` replaced by `by`.
fn substitute(f: &Func, name: &str, by: &Func) -> Func {
    use Func::*;
    let sub = |g: &Func| Box::new(substitute(g, name, by));
    match f {
        Var(x) if x == name => by.clone(),
        Var(_) | Const(_) => f.clone(),
        Not(a) => Not(sub(a)),
        And(a, b) => And(sub(a), sub(b)),
        Or(a, b) => Or(sub(a), sub(b)),
        Xor(a, b) => Xor(sub(a), sub(b)),
    }
}

/// The compiled simulator of one netlist.
pub struct GateSim {
    /// Value slots: nets (0..nets), then flip-flop states, then next states, then temporaries.
    v: Vec<u64>,
    /// Settled net values of the previous cycle (for toggle counting).
    prev: Vec<u64>,
    nets: usize,
    comb: Vec<Op>,
    /// Compute every flip-flop's next state into its next slot (before any state changes).
    edge: Vec<Op>,
    /// (state slot, next slot) per flip-flop.
    ffs: Vec<(u32, u32)>,
    /// Per net: toggles and cycles spent high, summed over the active lanes.
    pub toggles: Vec<u64>,
    pub high: Vec<u64>,
    /// Lane-cycles counted.
    pub cycles: u64,
}

impl GateSim {
    pub fn new(nl: &Netlist, lib: &Library) -> Result<GateSim> {
        let nets = nl.nets as usize;
        let n_ff = nl
            .insts
            .iter()
            .filter(|i| nl.cell_types[i.cell as usize].clock_pin.is_some())
            .count();
        let state_base = nets as u32;
        let next_base = state_base + n_ff as u32;
        let temp_base = next_base + n_ff as u32;
        // Which nets are ready (driven by a source) and who reads each net.
        let mut ready = vec![false; nets];
        ready[CONST0 as usize] = true;
        ready[CONST1 as usize] = true;
        for p in nl.ports.iter().filter(|p| p.dir == PortDir::Input) {
            for &b in &p.bits {
                ready[b as usize] = true;
            }
        }
        let clocks = nl.clock_nets();
        for &c in &clocks {
            ready[c as usize] = true;
        }
        let mut comb = vec![];
        let mut edge = vec![];
        let mut ffs = vec![];
        let mut max_temp = 0;
        // Flip-flop outputs first: they are functions of the state only.
        let mut pending: Vec<usize> = vec![];
        for (k, inst) in nl.insts.iter().enumerate() {
            let t = &nl.cell_types[inst.cell as usize];
            if t.clock_pin.is_none() {
                pending.push(k);
                continue;
            }
            let cell = lib.cell(&t.name)?;
            let ff = cell.ff.as_ref().expect("clock pin implies a flip-flop");
            let state = state_base + ffs.len() as u32;
            let next = next_base + ffs.len() as u32;
            ffs.push((state, next));
            let pin_slot = |name: &str| -> Result<u32> {
                if name == ff.state {
                    return Ok(state);
                }
                net_slot(t, inst, name)
            };
            let mut c = Compiler {
                ops: &mut edge,
                temp_base,
                next_temp: 0,
                max_temp: 0,
            };
            c.emit(&ff.next_state, next, &pin_slot)?;
            max_temp = max_temp.max(c.max_temp);
            for (pin, p) in cell.pins.iter().enumerate() {
                let (Some(f), true, Some(out)) = (&p.function, t.outputs[pin], inst.pins[pin])
                else {
                    continue;
                };
                // An output of the inverted state is the complement of the state.
                let f = match &ff.inverted_state {
                    Some(inv) => {
                        substitute(f, inv, &Func::Not(Box::new(Func::Var(ff.state.clone()))))
                    }
                    None => f.clone(),
                };
                let mut vars = vec![];
                f.vars(&mut vars);
                if vars.iter().any(|x| *x != ff.state) {
                    bail!(
                        "{}: output {} depends on more than the flip-flop state",
                        t.name,
                        p.name
                    );
                }
                let mut c = Compiler {
                    ops: &mut comb,
                    temp_base,
                    next_temp: 0,
                    max_temp: 0,
                };
                c.emit(&f, out, &pin_slot)?;
                max_temp = max_temp.max(c.max_temp);
                ready[out as usize] = true;
            }
        }
        // Combinational cells in topological order (Kahn: a cell is evaluated once all its
        // inputs are ready).
        let mut readers: Vec<Vec<u32>> = vec![vec![]; nets];
        let mut missing = vec![0u32; nl.insts.len()];
        for &k in &pending {
            let inst = &nl.insts[k];
            let t = &nl.cell_types[inst.cell as usize];
            for (pin, n) in inst.pins.iter().enumerate() {
                if let (false, Some(n)) = (t.outputs[pin], n) {
                    if !ready[*n as usize] {
                        readers[*n as usize].push(k as u32);
                        missing[k] += 1;
                    }
                }
            }
        }
        // Nets nobody drives count as ready (constant 0).
        let mut driven = vec![false; nets];
        for inst in &nl.insts {
            let t = &nl.cell_types[inst.cell as usize];
            for (pin, n) in inst.pins.iter().enumerate() {
                if let (true, Some(n)) = (t.outputs[pin], n) {
                    driven[*n as usize] = true;
                }
            }
        }
        let mut queue: Vec<u32> = vec![];
        for n in 0..nets {
            if !ready[n] && !driven[n] {
                for &k in &readers[n] {
                    missing[k as usize] -= 1;
                }
                readers[n].clear();
            }
        }
        for &k in &pending {
            if missing[k] == 0 {
                queue.push(k as u32);
            }
        }
        let mut done = 0;
        while let Some(k) = queue.pop() {
            done += 1;
            let inst = &nl.insts[k as usize];
            let t = &nl.cell_types[inst.cell as usize];
            let cell = lib.cell(&t.name)?;
            let slot = |name: &str| net_slot(t, inst, name);
            for (pin, p) in cell.pins.iter().enumerate() {
                let (Some(f), true, Some(out)) = (&p.function, t.outputs[pin], inst.pins[pin])
                else {
                    continue;
                };
                let mut c = Compiler {
                    ops: &mut comb,
                    temp_base,
                    next_temp: 0,
                    max_temp: 0,
                };
                c.emit(f, out, &slot)?;
                max_temp = max_temp.max(c.max_temp);
                for r in std::mem::take(&mut readers[out as usize]) {
                    missing[r as usize] -= 1;
                    if missing[r as usize] == 0 {
                        queue.push(r);
                    }
                }
            }
        }
        if done != pending.len() {
            let stuck = pending
                .iter()
                .find(|&&k| missing[k] > 0)
                .copied()
                .unwrap_or(0);
            bail!(
                "the netlist has a combinational loop (through cell c{stuck} {}): it cannot be simulated cycle by cycle",
                nl.cell_types[nl.insts[stuck].cell as usize].name
            );
        }
        let slots = temp_base as usize + max_temp as usize;
        let mut v = vec![0u64; slots];
        v[CONST1 as usize] = u64::MAX;
        Ok(GateSim {
            prev: vec![0; nets],
            v,
            nets,
            comb,
            edge,
            ffs,
            toggles: vec![0; nets],
            high: vec![0; nets],
            cycles: 0,
        })
    }

    /// Set bit `lane` of net `net`.
    #[inline]
    pub fn set(&mut self, net: u32, lane: usize, value: bool) {
        let w = &mut self.v[net as usize];
        if value {
            *w |= 1 << lane;
        } else {
            *w &= !(1 << lane);
        }
    }

    #[inline]
    pub fn get(&self, net: u32, lane: usize) -> bool {
        self.v[net as usize] >> lane & 1 == 1
    }

    /// Settle the combinational logic for the current inputs and flip-flop states.
    pub fn eval(&mut self) {
        let v = &mut self.v[..];
        for &op in &self.comb {
            exec(v, op);
        }
    }

    /// Count the toggles since the previous `count` in the lanes of `active` (call after
    /// `eval`, once per cycle).
    pub fn count(&mut self, active: u64) {
        for n in 2..self.nets {
            let x = self.v[n];
            self.toggles[n] += ((x ^ self.prev[n]) & active).count_ones() as u64;
            self.high[n] += (x & active).count_ones() as u64;
            self.prev[n] = x;
        }
        self.cycles += active.count_ones() as u64;
    }

    /// Take the settled values as the reference for the next `count`, counting nothing (after
    /// reset).
    pub fn baseline(&mut self) {
        self.prev.copy_from_slice(&self.v[..self.nets]);
    }

    /// The rising clock edge: every flip-flop loads its next state.
    pub fn clock(&mut self) {
        let v = &mut self.v[..];
        for &op in &self.edge {
            exec(v, op);
        }
        for &(s, n) in &self.ffs {
            v[s as usize] = v[n as usize];
        }
    }

    pub fn ops(&self) -> usize {
        self.comb.len() + self.edge.len()
    }

    pub fn flip_flops(&self) -> usize {
        self.ffs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::power::liberty::parse_func;

    #[test]
    fn fused_ops_equal_the_function() {
        let funcs = [
            "(!((A B)+C))",
            "(!((A+B) C))",
            "(!((S A) + (!S B)))",
            "((S A) + (!S B))",
            "(((A B)+(B C))+(C A))",
            "((A^B)^C)",
            "(!(A^B))",
            "(!((A B)+(C D)))",
            "A",
            "(!A)",
        ];
        for text in funcs {
            let f = parse_func(text).unwrap();
            let mut ops = vec![];
            let mut c = Compiler {
                ops: &mut ops,
                temp_base: 10,
                next_temp: 0,
                max_temp: 0,
            };
            let names = ["A", "B", "C", "D", "S"];
            let var = |n: &str| Ok(2 + names.iter().position(|x| *x == n).unwrap() as u32);
            c.emit(&f, 7, &var).unwrap();
            // All 32 input combinations at once, one per lane.
            let mut v = vec![0u64; 20];
            v[1] = u64::MAX;
            for l in 0..32 {
                for (i, _) in names.iter().enumerate() {
                    if l >> i & 1 == 1 {
                        v[2 + i] |= 1 << l;
                    }
                }
            }
            for &op in &ops {
                exec(&mut v, op);
            }
            for l in 0..32u64 {
                let want = f.eval(&|n| l >> names.iter().position(|x| *x == n).unwrap() & 1 == 1);
                assert_eq!(v[7] >> l & 1 == 1, want, "{text} lane {l}");
            }
        }
    }
}
