//! Evaluating a module's combinational logic in-process: the glue of the arrays is written
//! once, as a netlist module, and both the in-process simulation (rust-hdl blocks call
//! [`Eval::settle`] from `update`) and the generated Verilog (the writer) come from it.
//!
//! Values are `u128` (every glue signal is at most 128 bits); every operation wraps at the
//! width of its Rust type, which is also what the writer makes the Verilog compute.

use super::width::{operand_width, width_of};
use super::{BinOp, Expr, LValue, Module, Stmt, UnOp};
use anyhow::{bail, Context, Result};
use std::collections::HashMap;

/// A name's place among the values: `count` consecutive slots (1 for a scalar).
#[derive(Debug, Clone, Copy)]
struct Place {
    base: usize,
    count: usize,
    width: u32,
}

#[derive(Debug, Clone)]
enum C {
    Slot(usize),
    Lit(u128),
    Row,
    Col,
    Un(UnOp, Box<C>, u32),
    Bin(BinOp, Box<C>, Box<C>, u32),
    Bit(Box<C>, Box<C>),
    Slice(Box<C>, u32, Box<C>),
    Resize(Box<C>, u32),
    ReplaceBit(Box<C>, Box<C>, Box<C>, u32),
    Mux(Box<C>, Box<C>, Box<C>),
    Concat(Vec<(C, u32)>),
    Elem(usize, usize, Box<C>),
}

#[derive(Debug, Clone)]
enum S {
    Set(usize, u32, C),
    SetSlice(usize, u32, u32, C),
    If(C, Vec<S>, Vec<S>),
    Case(C, Vec<(Vec<C>, Vec<S>)>, Vec<S>),
}

#[derive(Debug, Clone)]
enum Item {
    Proc(Vec<S>),
    Array(usize, u32, Vec<C>),
}

/// A compiled module: its combinational processes and driven arrays in dependency order,
/// and its grid's connection expressions.
#[derive(Debug, Clone)]
pub struct Eval {
    values: Vec<u128>,
    places: HashMap<String, Place>,
    items: Vec<Item>,
    grid: Vec<(String, C, u32)>,
}

/// Every one of `xs` compiled, and the names they read (what orders the item they make).
fn compile_all<X, T>(
    xs: &[X],
    compile: impl Fn(&X) -> Result<T>,
    reads: impl Fn(&X, &mut Vec<String>),
) -> Result<(Vec<T>, Vec<String>)> {
    let compiled = xs.iter().map(compile).collect::<Result<Vec<_>>>()?;
    let mut names = vec![];
    xs.iter().for_each(|x| reads(x, &mut names));
    Ok((compiled, names))
}

fn mask(width: u32) -> u128 {
    if width >= 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    }
}

impl Eval {
    /// Compile `m` (ports, nets, registers' outputs, arrays; processes; its first grid).
    pub fn new(m: &Module) -> Result<Eval> {
        let mut places = HashMap::new();
        let mut n = 0usize;
        let mut add = |name: &str, count: usize, width: u32| -> Result<()> {
            if width > 128 {
                bail!("{name}: {width} bits (the in-process glue holds at most 128)");
            }
            places.insert(
                name.to_string(),
                Place {
                    base: n,
                    count,
                    width,
                },
            );
            n += count;
            Ok(())
        };
        for p in &m.ports {
            add(&p.name, 1, p.width)?;
        }
        for x in &m.nets {
            add(&x.name, 1, x.width)?;
        }
        for r in &m.regs {
            add(&r.q, 1, r.width)?;
        }
        for a in &m.arrays {
            add(&a.name, a.count as usize, a.width)?;
        }
        let mut e = Eval {
            values: vec![0; n],
            places,
            items: vec![],
            grid: vec![],
        };
        for c in &m.consts {
            let v = c.value.iter_u64_digits().next().unwrap_or(0) as u128;
            e.places.insert(
                c.name.clone(),
                Place {
                    base: e.values.len(),
                    count: 1,
                    width: c.width,
                },
            );
            e.values.push(v);
        }
        // Items and what each writes/reads, then a topological order.
        let mut items: Vec<(Item, Vec<String>, Vec<String>)> = vec![];
        for p in &m.comb {
            let (body, reads) = compile_all(&p.body, |s| e.stmt(s, m), Stmt::reads)?;
            items.push((Item::Proc(body), p.targets.clone(), reads));
        }
        for a in m.arrays.iter().filter(|a| !a.drive.is_empty()) {
            let pl = e.place(&a.name)?;
            let (exprs, reads) = compile_all(&a.drive, |x| e.expr(x, m), Expr::reads)?;
            items.push((
                Item::Array(pl.base, a.width, exprs),
                vec![a.name.clone()],
                reads,
            ));
        }
        let mut done = vec![false; items.len()];
        let writer: HashMap<&str, usize> = items
            .iter()
            .enumerate()
            .flat_map(|(i, it)| it.1.iter().map(move |w| (w.as_str(), i)))
            .collect();
        let mut order = vec![];
        while order.len() < items.len() {
            let before = order.len();
            for i in 0..items.len() {
                if done[i] {
                    continue;
                }
                let ready = items[i]
                    .2
                    .iter()
                    .all(|r| writer.get(r.as_str()).is_none_or(|&w| w == i || done[w]));
                if ready {
                    done[i] = true;
                    order.push(i);
                }
            }
            if order.len() == before {
                bail!("module {}: combinational loop among its processes", m.name);
            }
        }
        e.items = order.into_iter().map(|i| items[i].0.clone()).collect();
        if let Some(g) = m.grids.first() {
            for (port, x) in &g.instance.conns {
                e.grid.push((port.clone(), e.expr(x, m)?, width_of(x, m)));
            }
        }
        Ok(e)
    }

    fn place(&self, name: &str) -> Result<Place> {
        self.places
            .get(name)
            .copied()
            .with_context(|| format!("no signal {name}"))
    }

    fn expr(&self, x: &Expr, m: &Module) -> Result<C> {
        let w = width_of(x, m);
        let b = |e: &Expr| -> Result<Box<C>> { Ok(Box::new(self.expr(e, m)?)) };
        Ok(match x {
            Expr::Ref(n) => {
                let p = self.place(n)?;
                C::Slot(p.base)
            }
            Expr::Lit(_, v) => C::Lit(v.iter_u64_digits().next().unwrap_or(0) as u128),
            Expr::Int(v) => C::Lit(*v as u128),
            Expr::GridRow => C::Row,
            Expr::GridCol => C::Col,
            Expr::Unary(op, a) => C::Un(*op, b(a)?, width_of(a, m)),
            Expr::Binary(op, a, c) => {
                let ow = if op.is_comparison() {
                    operand_width(a, c, m)
                } else {
                    w
                };
                C::Bin(*op, b(a)?, b(c)?, ow)
            }
            Expr::Bit(a, i) => C::Bit(b(a)?, b(i)?),
            Expr::Slice(a, sw, off) => C::Slice(b(a)?, *sw, b(off)?),
            Expr::Resize(a, rw) => C::Resize(b(a)?, *rw),
            Expr::ReplaceBit(a, i, v) => C::ReplaceBit(b(a)?, b(i)?, b(v)?, w),
            Expr::Mux(c, a, d) => C::Mux(b(c)?, b(a)?, b(d)?),
            Expr::Concat(v) => C::Concat(
                v.iter()
                    .map(|e| Ok((self.expr(e, m)?, width_of(e, m))))
                    .collect::<Result<Vec<_>>>()?,
            ),
            Expr::Elem(n, i) => {
                let p = self.place(n)?;
                C::Elem(p.base, p.count, b(i)?)
            }
        })
    }

    fn stmt(&self, s: &Stmt, m: &Module) -> Result<S> {
        let block = |v: &[Stmt]| {
            v.iter()
                .map(|s| self.stmt(s, m))
                .collect::<Result<Vec<_>>>()
        };
        Ok(match s {
            Stmt::Assign(LValue::Net(n), x) => {
                let p = self.place(n)?;
                S::Set(p.base, p.width, self.expr(x, m)?)
            }
            Stmt::Assign(LValue::Slice(n, w, off), x) => {
                let Expr::Int(o) = off else {
                    bail!("slice assignment to {n}: only a constant offset is supported in-process")
                };
                S::SetSlice(self.place(n)?.base, *w, *o as u32, self.expr(x, m)?)
            }
            Stmt::If(c, a, b) => S::If(self.expr(c, m)?, block(a)?, block(b)?),
            Stmt::Case(x, arms, d) => S::Case(
                self.expr(x, m)?,
                arms.iter()
                    .map(|(l, b)| {
                        Ok((
                            l.iter().map(|e| self.expr(e, m)).collect::<Result<_>>()?,
                            block(b)?,
                        ))
                    })
                    .collect::<Result<Vec<_>>>()?,
                block(d)?,
            ),
        })
    }

    /// The slot of a scalar, or the first slot of an array.
    pub fn slot(&self, name: &str) -> Result<usize> {
        Ok(self.place(name)?.base)
    }

    pub fn set(&mut self, slot: usize, v: u128) {
        self.values[slot] = v;
    }
    pub fn get(&self, slot: usize) -> u128 {
        self.values[slot]
    }

    /// Evaluate every process and driven array once, in dependency order.
    pub fn settle(&mut self) {
        let items = std::mem::take(&mut self.items);
        for it in &items {
            match it {
                Item::Proc(body) => self.run(body),
                Item::Array(base, w, exprs) => {
                    for (i, x) in exprs.iter().enumerate() {
                        self.values[base + i] = self.eval(x, 0, 0) & mask(*w);
                    }
                }
            }
        }
        self.items = items;
    }

    /// The grid connections (port names, in order) of the compiled module.
    pub fn grid_ports(&self) -> Vec<&str> {
        self.grid.iter().map(|g| g.0.as_str()).collect()
    }

    /// The value of grid connection `i` (see [`Eval::grid_ports`]) for the instance at (row, col).
    pub fn grid_value(&self, i: usize, row: usize, col: usize) -> u128 {
        let (_, x, w) = &self.grid[i];
        self.eval(x, row, col) & mask(*w)
    }

    /// The array element a grid output connects to at (row, col): its slot.
    pub fn grid_output_slot(&self, i: usize, row: usize, col: usize) -> Option<usize> {
        match &self.grid[i].1 {
            C::Elem(base, count, idx) => {
                let k = self.eval(idx, row, col) as usize;
                (k < *count).then_some(base + k)
            }
            C::Slot(s) => Some(*s),
            _ => None,
        }
    }

    fn run(&mut self, body: &[S]) {
        for s in body {
            match s {
                S::Set(slot, w, x) => self.values[*slot] = self.eval(x, 0, 0) & mask(*w),
                S::SetSlice(slot, w, off, x) => {
                    let m = mask(*w) << off;
                    let v = (self.eval(x, 0, 0) & mask(*w)) << off;
                    self.values[*slot] = (self.values[*slot] & !m) | v;
                }
                S::If(c, a, b) => {
                    if self.eval(c, 0, 0) != 0 {
                        self.run(a)
                    } else {
                        self.run(b)
                    }
                }
                S::Case(x, arms, d) => {
                    let v = self.eval(x, 0, 0);
                    match arms
                        .iter()
                        .find(|(l, _)| l.iter().any(|l| self.eval(l, 0, 0) == v))
                    {
                        Some((_, b)) => self.run(b),
                        None => self.run(d),
                    }
                }
            }
        }
    }

    fn eval(&self, x: &C, row: usize, col: usize) -> u128 {
        let ev = |e: &C| self.eval(e, row, col);
        match x {
            C::Slot(s) => self.values[*s],
            C::Lit(v) => *v,
            C::Row => row as u128,
            C::Col => col as u128,
            C::Un(op, a, w) => {
                let v = ev(a);
                match op {
                    UnOp::Not => !v & mask(*w),
                    UnOp::Neg => v.wrapping_neg() & mask(*w),
                    UnOp::All => u128::from(v == mask(*w)),
                    UnOp::Any => u128::from(v != 0),
                    UnOp::Xor => u128::from(v.count_ones() % 2 == 1),
                }
            }
            C::Bin(op, a, b, w) => {
                let (x, y) = (ev(a), ev(b));
                let m = mask(*w);
                match op {
                    BinOp::Add => x.wrapping_add(y) & m,
                    BinOp::Sub => x.wrapping_sub(y) & m,
                    BinOp::Mul => x.wrapping_mul(y) & m,
                    BinOp::And => x & y,
                    BinOp::Or => x | y,
                    BinOp::Xor => x ^ y,
                    BinOp::LogicalAnd => u128::from(x != 0 && y != 0),
                    BinOp::LogicalOr => u128::from(x != 0 || y != 0),
                    BinOp::Shl => {
                        if y >= 128 {
                            0
                        } else {
                            (x << y) & m
                        }
                    }
                    BinOp::Shr => {
                        if y >= 128 {
                            0
                        } else {
                            x >> y
                        }
                    }
                    BinOp::Eq => u128::from(x & m == y & m),
                    BinOp::Ne => u128::from(x & m != y & m),
                    BinOp::Lt => u128::from(x & m < y & m),
                    BinOp::Le => u128::from(x & m <= y & m),
                    BinOp::Gt => u128::from(x & m > y & m),
                    BinOp::Ge => u128::from(x & m >= y & m),
                }
            }
            C::Bit(a, i) => {
                let k = ev(i);
                if k >= 128 {
                    0
                } else {
                    (ev(a) >> k) & 1
                }
            }
            C::Slice(a, w, off) => {
                let o = ev(off);
                if o >= 128 {
                    0
                } else {
                    (ev(a) >> o) & mask(*w)
                }
            }
            C::Resize(a, w) => ev(a) & mask(*w),
            C::ReplaceBit(a, i, v, w) => {
                let k = ev(i);
                if k >= 128 {
                    ev(a)
                } else {
                    ((ev(a) & !(1u128 << k)) | ((ev(v) & 1) << k)) & mask(*w)
                }
            }
            C::Mux(c, a, b) => {
                if ev(c) != 0 {
                    ev(a)
                } else {
                    ev(b)
                }
            }
            C::Concat(parts) => parts
                .iter()
                .fold(0u128, |acc, (p, w)| (acc << w) | (ev(p) & mask(*w))),
            C::Elem(base, count, idx) => {
                let k = ev(idx) as usize;
                if k < *count {
                    self.values[base + k]
                } else {
                    0
                }
            }
        }
    }
}
