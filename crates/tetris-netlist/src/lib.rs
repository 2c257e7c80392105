//! tetris-netlist: the typed netlist and its Verilog writers. May import tetris-core only (the
//! config's reserved-name check) and rust-hdl (whose blocks it reads); must not import flows,
//! array evaluation or the CLI, which all sit above it.
//!
//! The typed netlist: the one structural form of every emitted design.
//!
//! rust-hdl blocks are read into it structurally ([`from_rust_hdl`]: the block tree, each
//! block's ports and signals, and the `Block::hdl()` statement AST), never by parsing Verilog.
//! Passes rewrite it ([`passes`]: registers from DFFs, combinational cones, legal names, merged
//! duplicates), and every writer reads it: module files ([`write`](mod@write)), array tops, file lists ([`design::Design::filelist`]),
//! constraints, harnesses and testbenches.
//!
//! Widths are bits (`u32`); values are unsigned big integers; all signals are unsigned
//! vectors (the designs use two's complement by convention, as rust-hdl's `Bits` do).

pub mod design;
pub mod eval;
pub mod from_rust_hdl;
pub mod passes;
pub mod width;
pub mod write;

use num_bigint::BigUint;
use serde::{Deserialize, Serialize};

/// A sized Verilog literal (`8'h3f`, `5'b101`, `4'd9`; `_` separators allowed) as (width,
/// value). rust-hdl writes its constants and case labels this way, and traces hold port
/// values this way; the error names the literal.
pub fn parse_sized_literal(text: &str) -> anyhow::Result<(u32, BigUint)> {
    use anyhow::Context;
    let bad = || format!("{text:?} is not a sized Verilog literal (like 8'h3f)");
    let (w, rest) = text.split_once('\'').with_context(bad)?;
    let width: u32 = w.parse().with_context(bad)?;
    let radix = match rest.get(..1) {
        Some("h") => 16,
        Some("b") => 2,
        Some("d") => 10,
        _ => anyhow::bail!(bad()),
    };
    let value =
        BigUint::parse_bytes(rest[1..].replace('_', "").as_bytes(), radix).with_context(bad)?;
    Ok((width, value))
}

/// A whole design: its modules in dependency order (children before parents, top last).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Netlist {
    pub top: String,
    pub modules: Vec<Module>,
    /// Block instances rust-hdl's tree held before identical modules were merged.
    pub instances: usize,
}

impl Netlist {
    pub fn module(&self, name: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.name == name)
    }
    pub fn module_mut(&mut self, name: &str) -> Option<&mut Module> {
        self.modules.iter_mut().find(|m| m.name == name)
    }
    pub fn top_module(&self) -> &Module {
        self.module(&self.top)
            .expect("a netlist always holds its top module")
    }
}

/// Direction of a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    In,
    Out,
}

/// A module port: the one `Port` type of the project.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Port {
    pub name: String,
    pub dir: Dir,
    pub width: u32,
    /// Two's-complement port (third-party multipliers may have them; the generated designs
    /// are all unsigned vectors).
    #[serde(default)]
    pub signed: bool,
}

impl Port {
    /// 32-bit words the port takes in the Verilator harness files.
    pub fn words(&self) -> usize {
        self.width.div_ceil(32) as usize
    }
    pub fn is_input(&self) -> bool {
        self.dir == Dir::In
    }
    pub fn new(name: impl Into<String>, dir: Dir, width: u32) -> Port {
        Port {
            name: name.into(),
            dir,
            width,
            signed: false,
        }
    }
}

/// A named signal inside a module (not a port).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Net {
    pub name: String,
    pub width: u32,
}

/// A named constant (`localparam`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Const {
    pub name: String,
    pub width: u32,
    pub value: BigUint,
}

/// A register: `q <= d` on the rising edge of `clock`, `init` at power-up.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Register {
    /// The register's output net (declared by the register itself).
    pub q: String,
    /// The net holding the next value.
    pub d: String,
    /// The clock port of the module.
    pub clock: String,
    pub width: u32,
    pub init: BigUint,
}

/// An instance of another module of the netlist; each port is connected to a net of the
/// parent (or, for a grid, an expression over the grid indices).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Instance {
    pub module: String,
    pub name: String,
    pub conns: Vec<(String, Expr)>,
}

/// A rows x cols grid of instances of one module (written as a `generate` loop): connection
/// expressions may use [`Expr::GridRow`] and [`Expr::GridCol`]; an output port connects to an
/// element of an array net indexed by the grid position.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grid {
    pub rows: u32,
    pub cols: u32,
    pub instance: Instance,
}

/// An array net: `count` elements of `width` bits (an unpacked Verilog array). Element i is
/// driven by `drive[i]`, or, when `drive` is empty, by the outputs of a grid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ArrayNet {
    pub name: String,
    pub width: u32,
    pub count: u32,
    pub drive: Vec<Expr>,
}

/// One process of combinational logic: statements executed in order, as one `always @(*)`
/// block (or one `assign` when it is a single unconditional assignment). `targets` are the
/// nets it drives, each driven by no other process.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Process {
    pub targets: Vec<String>,
    pub body: Vec<Stmt>,
}

/// A module: ports, constants, nets, registers, instances, grids and combinational processes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Module {
    pub name: String,
    /// What the module is (one line each), for its header comment.
    pub doc: Vec<String>,
    pub ports: Vec<Port>,
    pub consts: Vec<Const>,
    pub nets: Vec<Net>,
    pub arrays: Vec<ArrayNet>,
    pub regs: Vec<Register>,
    pub instances: Vec<Instance>,
    pub grids: Vec<Grid>,
    pub comb: Vec<Process>,
}

impl Module {
    pub fn new(name: impl Into<String>) -> Module {
        Module {
            name: name.into(),
            doc: vec![],
            ports: vec![],
            consts: vec![],
            nets: vec![],
            arrays: vec![],
            regs: vec![],
            instances: vec![],
            grids: vec![],
            comb: vec![],
        }
    }
    pub fn port(&self, name: &str) -> Option<&Port> {
        self.ports.iter().find(|p| p.name == name)
    }
    /// Width of a port, net, register, constant or array element of this module.
    pub fn width_of(&self, name: &str) -> Option<u32> {
        self.ports
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.width)
            .or_else(|| self.nets.iter().find(|n| n.name == name).map(|n| n.width))
            .or_else(|| self.regs.iter().find(|r| r.q == name).map(|r| r.width))
            .or_else(|| self.consts.iter().find(|c| c.name == name).map(|c| c.width))
            .or_else(|| self.arrays.iter().find(|a| a.name == name).map(|a| a.width))
    }
    /// Names of the modules instantiated (instances and grids), in order, each once.
    pub fn children(&self) -> Vec<String> {
        let mut out: Vec<String> = vec![];
        for i in self
            .instances
            .iter()
            .chain(self.grids.iter().map(|g| &g.instance))
        {
            if !out.contains(&i.module) {
                out.push(i.module.clone());
            }
        }
        out
    }
}

/// A statement of a combinational process.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Stmt {
    Assign(LValue, Expr),
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    /// `case (subject)`: arms of labels and statements, then the default arm.
    Case(Expr, Vec<(Vec<Expr>, Vec<Stmt>)>, Vec<Stmt>),
}

/// The target of an assignment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LValue {
    Net(String),
    /// `net[offset +: width]`.
    Slice(String, u32, Expr),
}

impl LValue {
    pub fn net(&self) -> &str {
        match self {
            LValue::Net(n) | LValue::Slice(n, _, _) => n,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UnOp {
    Not,
    Neg,
    /// Reduction AND.
    All,
    /// Reduction OR.
    Any,
    /// Reduction XOR.
    Xor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BinOp {
    Add,
    Sub,
    /// Full-width product: the result is as wide as both operands together.
    Mul,
    And,
    Or,
    Xor,
    LogicalAnd,
    LogicalOr,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl BinOp {
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        )
    }
}

/// An expression. Every expression has the width of its Rust type ([`width::width_of`]): the
/// writer keeps Verilog's context-dependent widths from changing a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Expr {
    /// A port, net, register output or constant of the module.
    Ref(String),
    /// A sized literal.
    Lit(u32, BigUint),
    /// A plain integer (loop index): used as a bit index, shift amount or sized by context.
    Int(i64),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// One bit: `e[index]`.
    Bit(Box<Expr>, Box<Expr>),
    /// `e[offset +: width]`.
    Slice(Box<Expr>, u32, Box<Expr>),
    /// Zero-extend or truncate to a width (rust-hdl's `bit_cast`).
    Resize(Box<Expr>, u32),
    /// `e` with bit `index` replaced by the one-bit `value`.
    ReplaceBit(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `if c then a else b` (both arms of one width).
    Mux(Box<Expr>, Box<Expr>, Box<Expr>),
    /// Concatenation, most significant first.
    Concat(Vec<Expr>),
    /// An element of an array net: `name[index]`.
    Elem(String, Box<Expr>),
    /// The row / column index of the enclosing grid.
    GridRow,
    GridCol,
}

impl Expr {
    pub fn r(name: impl Into<String>) -> Expr {
        Expr::Ref(name.into())
    }
    pub fn lit(width: u32, value: u64) -> Expr {
        Expr::Lit(width, BigUint::from(value))
    }
    pub fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
        Expr::Binary(op, Box::new(a), Box::new(b))
    }
    pub fn un(op: UnOp, a: Expr) -> Expr {
        Expr::Unary(op, Box::new(a))
    }
    pub fn and(a: Expr, b: Expr) -> Expr {
        Expr::bin(BinOp::And, a, b)
    }
    pub fn or(a: Expr, b: Expr) -> Expr {
        Expr::bin(BinOp::Or, a, b)
    }
    pub fn invert(a: Expr) -> Expr {
        Expr::un(UnOp::Not, a)
    }
    pub fn elem(array: impl Into<String>, index: Expr) -> Expr {
        Expr::Elem(array.into(), Box::new(index))
    }
    pub fn bit(e: Expr, index: Expr) -> Expr {
        Expr::Bit(Box::new(e), Box::new(index))
    }

    /// The direct sub-expressions, in order of appearance (an `Elem`'s index; none for leaves).
    /// Walks over the tree (`reads`, `rename`) go through this, so a new variant is matched
    /// here once.
    pub fn children(&self) -> impl Iterator<Item = &Expr> {
        let (fixed, list): ([Option<&Expr>; 3], &[Expr]) = match self {
            Expr::Ref(_) | Expr::Lit(..) | Expr::Int(_) | Expr::GridRow | Expr::GridCol => {
                ([None, None, None], &[])
            }
            Expr::Unary(_, a) | Expr::Resize(a, _) | Expr::Elem(_, a) => {
                ([Some(a), None, None], &[])
            }
            Expr::Binary(_, a, b) | Expr::Bit(a, b) | Expr::Slice(a, _, b) => {
                ([Some(a), Some(b), None], &[])
            }
            Expr::ReplaceBit(a, b, c) | Expr::Mux(a, b, c) => ([Some(a), Some(b), Some(c)], &[]),
            Expr::Concat(v) => ([None, None, None], v),
        };
        fixed.into_iter().flatten().chain(list)
    }

    /// [`Expr::children`], mutable.
    pub fn children_mut(&mut self) -> impl Iterator<Item = &mut Expr> {
        let (fixed, list): ([Option<&mut Expr>; 3], &mut [Expr]) = match self {
            Expr::Ref(_) | Expr::Lit(..) | Expr::Int(_) | Expr::GridRow | Expr::GridCol => {
                ([None, None, None], &mut [])
            }
            Expr::Unary(_, a) | Expr::Resize(a, _) | Expr::Elem(_, a) => {
                ([Some(a), None, None], &mut [])
            }
            Expr::Binary(_, a, b) | Expr::Bit(a, b) | Expr::Slice(a, _, b) => {
                ([Some(a), Some(b), None], &mut [])
            }
            Expr::ReplaceBit(a, b, c) | Expr::Mux(a, b, c) => {
                ([Some(a), Some(b), Some(c)], &mut [])
            }
            Expr::Concat(v) => ([None, None, None], v),
        };
        fixed.into_iter().flatten().chain(list)
    }

    /// Every name the expression reads (refs and arrays), in order of appearance.
    pub fn reads(&self, out: &mut Vec<String>) {
        if let Expr::Ref(n) | Expr::Elem(n, _) = self {
            out.push(n.clone());
        }
        self.children().for_each(|e| e.reads(out));
    }

    /// Rename every reference through `f` (arrays too).
    pub fn rename(&mut self, f: &dyn Fn(&str) -> Option<String>) {
        if let Expr::Ref(n) | Expr::Elem(n, _) = self {
            if let Some(m) = f(n) {
                *n = m;
            }
        }
        self.children_mut().for_each(|e| e.rename(f));
    }
}

impl Stmt {
    /// Names the statement reads (conditions, right-hand sides, slice offsets).
    pub fn reads(&self, out: &mut Vec<String>) {
        match self {
            Stmt::Assign(lv, e) => {
                if let LValue::Slice(_, _, off) = lv {
                    off.reads(out);
                }
                e.reads(out);
            }
            Stmt::If(c, a, b) => {
                c.reads(out);
                a.iter().chain(b).for_each(|s| s.reads(out));
            }
            Stmt::Case(s, arms, d) => {
                s.reads(out);
                for (labels, body) in arms {
                    labels.iter().for_each(|l| l.reads(out));
                    body.iter().for_each(|s| s.reads(out));
                }
                d.iter().for_each(|s| s.reads(out));
            }
        }
    }
    /// Names the statement assigns.
    pub fn writes(&self, out: &mut Vec<String>) {
        match self {
            Stmt::Assign(lv, _) => out.push(lv.net().to_string()),
            Stmt::If(_, a, b) => a.iter().chain(b).for_each(|s| s.writes(out)),
            Stmt::Case(_, arms, d) => {
                arms.iter()
                    .flat_map(|(_, b)| b)
                    .chain(d)
                    .for_each(|s| s.writes(out));
            }
        }
    }
    pub fn rename(&mut self, f: &dyn Fn(&str) -> Option<String>) {
        match self {
            Stmt::Assign(lv, e) => {
                match lv {
                    LValue::Net(n) => {
                        if let Some(m) = f(n) {
                            *n = m;
                        }
                    }
                    LValue::Slice(n, _, off) => {
                        if let Some(m) = f(n) {
                            *n = m;
                        }
                        off.rename(f);
                    }
                }
                e.rename(f);
            }
            Stmt::If(c, a, b) => {
                c.rename(f);
                a.iter_mut().chain(b.iter_mut()).for_each(|s| s.rename(f));
            }
            Stmt::Case(s, arms, d) => {
                s.rename(f);
                for (labels, body) in arms {
                    labels.iter_mut().for_each(|l| l.rename(f));
                    body.iter_mut().for_each(|s| s.rename(f));
                }
                d.iter_mut().for_each(|s| s.rename(f));
            }
        }
    }
}

/// Read a rust-hdl block into a netlist whose top module is `top_name`; `doc` heads every
/// module's comment.
pub fn from_block<B: rust_hdl::prelude::Block>(
    uut: &mut B,
    top_name: &str,
    doc: &[String],
) -> anyhow::Result<Netlist> {
    uut.connect_all();
    let (raw, instances) = from_rust_hdl::read_block(uut)?;
    let mut nl = passes::assemble(raw, top_name, doc)?;
    nl.instances = instances;
    Ok(nl)
}

impl Netlist {
    /// Rename module `from` (and every instance of it) to `to`; the top follows.
    pub fn rename_module(&mut self, from: &str, to: &str) -> anyhow::Result<()> {
        if self.module(to).is_some() {
            anyhow::bail!("the netlist has a module {to} already");
        }
        for m in &mut self.modules {
            if m.name == from {
                m.name = to.to_string();
            }
            for i in m
                .instances
                .iter_mut()
                .chain(m.grids.iter_mut().map(|g| &mut g.instance))
            {
                if i.module == from {
                    i.module = to.to_string();
                }
            }
        }
        if self.top == from {
            self.top = to.to_string();
        }
        Ok(())
    }

    /// Add the modules of `other` (a module of the same name must be the same module).
    pub fn merge(&mut self, other: Netlist) -> anyhow::Result<()> {
        for m in other.modules {
            match self.module(&m.name) {
                Some(x) if *x == m => {}
                Some(_) => anyhow::bail!("two different modules are named {}", m.name),
                None => self.modules.push(m),
            }
        }
        Ok(())
    }

    /// Add `m` as the new top module (after the modules it instantiates).
    pub fn add_top(&mut self, m: Module) -> anyhow::Result<()> {
        for c in m.children() {
            if self.module(&c).is_none() {
                anyhow::bail!("top {} instantiates {c}, which the netlist lacks", m.name);
            }
        }
        if self.module(&m.name).is_some() {
            anyhow::bail!("the netlist has a module {} already", m.name);
        }
        self.top = m.name.clone();
        self.modules.push(m);
        Ok(())
    }

    /// Every module as (file name, Verilog text), children before parents.
    pub fn files(&self) -> anyhow::Result<Vec<(String, String)>> {
        self.modules
            .iter()
            .map(|m| Ok((format!("{}.v", m.name), write::module_text(self, m)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sized_literals_parse_and_bad_ones_are_errors() {
        let v = |t: &str| parse_sized_literal(t).unwrap();
        assert_eq!(v("8'h3f"), (8, BigUint::from(0x3fu32)));
        assert_eq!(v("5'b1_01"), (5, BigUint::from(5u32)));
        assert_eq!(v("4'd9"), (4, BigUint::from(9u32)));
        let wide = v("72'hff_0000_0000_0000_0001");
        assert_eq!(wide.0, 72);
        assert_eq!(wide.1, (BigUint::from(0xffu32) << 64u32) + 1u32);
        // Truncated, no width, unknown base, bad digits: an error naming the literal, no panic.
        for bad in ["8'", "'h3", "8h3f", "8'o7", "8'hzz", ""] {
            let e = parse_sized_literal(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("{bad:?}")), "{bad}: {e}");
        }
    }
}
