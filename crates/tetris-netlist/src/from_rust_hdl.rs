//! Reading a rust-hdl block tree into the netlist, structurally.
//!
//! A [`Probe`] walks the tree (`Block::accept`) the way rust-hdl's own Verilog generator does,
//! collecting for every block instance its ports, constants, local signals, sub-blocks and its
//! `Block::hdl()` statement AST. Each instance becomes a [`Module`] (one per instance; the
//! passes merge identical ones): statements are converted node by node, `for` loops unrolled,
//! identifiers resolved to the names rust-hdl gives them (`child$port`, `array$3`). rust-hdl's
//! `DFF` (a leaf whose `hdl()` is its fixed custom Verilog) becomes a [`Register`] of the
//! parent. Any other custom Verilog is refused: it would be text the netlist cannot see into.

use super::{BinOp, Const, UnOp};
use super::{Dir, Expr, Instance, LValue, Module, Net, Port, Register, Stmt};
use anyhow::{bail, Context, Result};
use num_bigint::BigUint;
use rust_hdl::core::ast::{
    VerilogBlock, VerilogBlockOrConditional, VerilogExpression, VerilogLiteral, VerilogOp,
    VerilogOpUnary, VerilogStatement,
};
use rust_hdl::prelude::*;
use std::collections::BTreeMap;

/// What the probe saw of one block instance.
struct RawBlock {
    atoms: Vec<RawAtom>,
    /// Child instance names (`seg_lane$3`), in visiting order.
    children: Vec<String>,
    code: Verilog,
}

struct RawAtom {
    name: String,
    kind: AtomKind,
    width: u32,
    value: VerilogLiteral,
}

#[derive(Default)]
struct Collector {
    /// Instance path of the block being visited (`top`, `top$sac_core`, ..).
    path: Vec<String>,
    namespace: Vec<String>,
    blocks: BTreeMap<String, RawBlock>,
}

impl Collector {
    fn current(&self) -> String {
        self.path.join("$")
    }
}

impl Probe for Collector {
    fn visit_start_scope(&mut self, name: &str, node: &dyn Block) {
        if let Some(parent) = self.blocks.get_mut(&self.current()) {
            parent.children.push(name.to_string());
        }
        self.path.push(name.to_string());
        self.namespace.clear();
        self.blocks.insert(
            self.current(),
            RawBlock {
                atoms: vec![],
                children: vec![],
                code: node.hdl(),
            },
        );
    }
    fn visit_start_namespace(&mut self, name: &str, _node: &dyn Block) {
        self.namespace.push(name.to_string());
    }
    fn visit_atom(&mut self, name: &str, signal: &dyn Atom) {
        let name = if self.namespace.is_empty() {
            name.to_string()
        } else {
            format!("{}${name}", self.namespace.join("$"))
        };
        let path = self.current();
        if let Some(b) = self.blocks.get_mut(&path) {
            b.atoms.push(RawAtom {
                name,
                kind: signal.kind(),
                width: signal.bits() as u32,
                value: signal.verilog(),
            });
        }
    }
    fn visit_end_namespace(&mut self, _name: &str, _node: &dyn Block) {
        self.namespace.pop();
    }
    fn visit_end_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.path.pop();
    }
}

/// Read `uut` (after `connect_all`) into one module per block instance, keyed by instance path
/// (`top`, `top$sac_core`, ..), children before parents; the root is `top`. Also the number
/// of block instances in the tree (registers included).
pub fn read_block<B: Block>(uut: &B) -> Result<(Vec<(String, Module)>, usize)> {
    let mut c = Collector::default();
    uut.accept("top", &mut c);
    let mut out = vec![];
    let mut visiting = vec![];
    visit("top", &c.blocks, &mut out, &mut visiting)?;
    Ok((out, c.blocks.len()))
}

fn visit(
    path: &str,
    blocks: &BTreeMap<String, RawBlock>,
    out: &mut Vec<(String, Module)>,
    visiting: &mut Vec<String>,
) -> Result<()> {
    let b = blocks
        .get(path)
        .with_context(|| format!("rust-hdl block {path} was not visited"))?;
    if visiting.iter().any(|p| p == path) {
        bail!("rust-hdl block {path} contains itself");
    }
    visiting.push(path.to_string());
    for child in &b.children {
        let cp = format!("{path}${child}");
        if register_of(blocks.get(&cp).context("child block")?).is_none() {
            visit(&cp, blocks, out, visiting)?;
        }
    }
    visiting.pop();
    let m = convert(path, b, blocks).with_context(|| format!("rust-hdl block {path}"))?;
    out.push((path.to_string(), m));
    Ok(())
}

/// rust-hdl's `DFF<T>`: ports `d`, `q`, `clock` and exactly the custom Verilog its `hdl()`
/// writes (power-up value `T::default()`, zero). The width of `q`, or None for anything else.
fn register_of(b: &RawBlock) -> Option<u32> {
    let Verilog::Custom(text) = &b.code else {
        return None;
    };
    if !b.children.is_empty() || b.atoms.len() != 3 {
        return None;
    }
    let find = |n: &str| b.atoms.iter().find(|a| a.name == n);
    let (d, q, clock) = (find("d")?, find("q")?, find("clock")?);
    let ok = d.kind == AtomKind::InputParameter
        && q.kind == AtomKind::OutputParameter
        && clock.kind == AtomKind::InputParameter
        && clock.width == 1
        && d.width == q.width;
    // DFF::hdl() prints the power-up value with `{:x}` of a zero VerilogLiteral: `W'h0`.
    let expected = format!(
        "initial begin\n   q = {}'h0;\nend\n\nalways @(posedge clock) begin\n   q <= d;\nend\n      ",
        q.width
    );
    (ok && *text == expected).then_some(q.width)
}

/// A rust-hdl literal (`8'h3f`, `5'b101`) as (width, value).
fn literal(l: &VerilogLiteral) -> Result<(u32, BigUint)> {
    super::parse_sized_literal(&l.to_string())
}

fn convert(path: &str, b: &RawBlock, blocks: &BTreeMap<String, RawBlock>) -> Result<Module> {
    let mut m = Module::new(path);
    for a in &b.atoms {
        match a.kind {
            AtomKind::InputParameter => m.ports.push(Port::new(&a.name, Dir::In, a.width)),
            AtomKind::OutputParameter | AtomKind::OutputPassthrough => {
                m.ports.push(Port::new(&a.name, Dir::Out, a.width))
            }
            AtomKind::InOutParameter => bail!("inout port {} is not supported", a.name),
            AtomKind::Constant => {
                let (_, value) = literal(&a.value)?;
                m.consts.push(Const {
                    name: a.name.clone(),
                    width: a.width,
                    value,
                })
            }
            AtomKind::LocalSignal => m.nets.push(Net {
                name: a.name.clone(),
                width: a.width,
            }),
            AtomKind::StubInputSignal | AtomKind::StubOutputSignal => {}
        }
    }
    for child in &b.children {
        let cb = &blocks[&format!("{path}${child}")];
        if let Some(width) = register_of(cb) {
            // The clock is resolved to a port by passes::registers (it is assigned in the body).
            m.nets.push(Net {
                name: format!("{child}$d"),
                width,
            });
            m.nets.push(Net {
                name: format!("{child}$clock"),
                width: 1,
            });
            m.regs.push(Register {
                q: format!("{child}$q"),
                d: format!("{child}$d"),
                clock: format!("{child}$clock"),
                width,
                init: BigUint::default(),
            });
            continue;
        }
        let mut conns = vec![];
        for a in cb.atoms.iter().filter(|a| a.kind.is_parameter()) {
            let net = format!("{child}${}", a.name);
            m.nets.push(Net {
                name: net.clone(),
                width: a.width,
            });
            conns.push((a.name.clone(), Expr::Ref(net)));
        }
        m.instances.push(Instance {
            module: format!("{path}${child}"),
            name: child.clone(),
            conns,
        });
    }
    match &b.code {
        Verilog::Combinatorial(block) => {
            let body = block_stmts(block, &mut vec![])?;
            if !body.is_empty() {
                m.comb.push(super::Process {
                    targets: vec![],
                    body,
                });
            }
        }
        Verilog::Empty => {}
        Verilog::Custom(_) | Verilog::Blackbox(_) | Verilog::Wrapper(_) => {
            bail!("custom Verilog (other than rust-hdl's DFF) cannot be read into the netlist")
        }
    }
    Ok(m)
}

type LoopEnv = Vec<(String, i64)>;

fn block_stmts(b: &VerilogBlock, env: &mut LoopEnv) -> Result<Vec<Stmt>> {
    let mut out = vec![];
    for s in b {
        statement(s, env, &mut out)?;
    }
    Ok(out)
}

fn statement(s: &VerilogStatement, env: &mut LoopEnv, out: &mut Vec<Stmt>) -> Result<()> {
    match s {
        VerilogStatement::Assignment(l, r) => {
            out.push(Stmt::Assign(LValue::Net(target(l, env)?), expr(r, env)?));
        }
        VerilogStatement::SliceAssignment {
            base,
            width,
            offset,
            replacement,
        } => out.push(Stmt::Assign(
            LValue::Slice(target(base, env)?, *width as u32, expr(offset, env)?),
            expr(replacement, env)?,
        )),
        VerilogStatement::If(c) => {
            let then = block_stmts(&c.then, env)?;
            let otherwise = match &c.otherwise {
                VerilogBlockOrConditional::Block(b) => block_stmts(b, env)?,
                VerilogBlockOrConditional::Conditional(s) => {
                    let mut v = vec![];
                    statement(s, env, &mut v)?;
                    v
                }
                VerilogBlockOrConditional::None => vec![],
            };
            out.push(Stmt::If(expr(&c.test, env)?, then, otherwise));
        }
        VerilogStatement::Match(m) => {
            let mut arms = vec![];
            let mut default = vec![];
            for case in &m.cases {
                let body = block_stmts(&case.block, env)?;
                let c = case.condition.trim();
                if c == "_" || c == "default" {
                    default = body;
                } else {
                    arms.push((vec![case_label(c)?], body));
                }
            }
            out.push(Stmt::Case(expr(&m.test, env)?, arms, default));
        }
        VerilogStatement::Loop(l) => {
            for i in l.from.as_usize()..l.to.as_usize() {
                env.push((l.index.clone(), i as i64));
                let r = block_stmts(&l.block, env);
                env.pop();
                out.extend(r?);
            }
        }
        VerilogStatement::Comment(_) => {}
        VerilogStatement::Macro(b) => out.extend(block_stmts(b, env)?),
        VerilogStatement::Link(_) => bail!("signal links (join) are not supported"),
    }
    Ok(())
}

/// A match arm label: a sized literal (`4'h3`, `2'b01`) or a decimal integer.
fn case_label(c: &str) -> Result<Expr> {
    if c.contains('\'') {
        let (width, v) = super::parse_sized_literal(c).context("case label")?;
        return Ok(Expr::Lit(width, v));
    }
    let v: i64 = c
        .parse()
        .with_context(|| format!("case label {c:?}: only literal labels are supported"))?;
    Ok(Expr::Int(v))
}

fn target(e: &VerilogExpression, env: &LoopEnv) -> Result<String> {
    match e {
        VerilogExpression::Signal(s) => ident(s, env),
        other => bail!("assignment target {other:?} is not a signal"),
    }
}

fn expr(e: &VerilogExpression, env: &LoopEnv) -> Result<Expr> {
    Ok(match e {
        VerilogExpression::Signal(s) => match env.iter().rev().find(|(v, _)| v == s) {
            Some((_, i)) => Expr::Int(*i),
            None => Expr::Ref(ident(s, env)?),
        },
        VerilogExpression::Literal(l) => {
            let (w, v) = literal(l)?;
            Expr::Lit(w, v)
        }
        VerilogExpression::Cast(a, w) => Expr::Resize(Box::new(expr(a, env)?), *w as u32),
        VerilogExpression::Paren(a) => expr(a, env)?,
        VerilogExpression::Signed(_) | VerilogExpression::Unsigned(_) => {
            bail!("signed/unsigned casts are not supported")
        }
        VerilogExpression::Binary(a, op, b) => {
            let op = match op {
                VerilogOp::Add => BinOp::Add,
                VerilogOp::Sub => BinOp::Sub,
                VerilogOp::Mul => BinOp::Mul,
                VerilogOp::LogicalAnd => BinOp::LogicalAnd,
                VerilogOp::LogicalOr => BinOp::LogicalOr,
                VerilogOp::BitXor => BinOp::Xor,
                VerilogOp::BitAnd => BinOp::And,
                VerilogOp::BitOr => BinOp::Or,
                VerilogOp::Shl => BinOp::Shl,
                VerilogOp::Shr => BinOp::Shr,
                VerilogOp::Eq => BinOp::Eq,
                VerilogOp::Lt => BinOp::Lt,
                VerilogOp::Le => BinOp::Le,
                VerilogOp::Ne => BinOp::Ne,
                VerilogOp::Ge => BinOp::Ge,
                VerilogOp::Gt => BinOp::Gt,
            };
            Expr::bin(op, expr(a, env)?, expr(b, env)?)
        }
        VerilogExpression::Unary(op, a) => {
            let op = match op {
                VerilogOpUnary::Not => UnOp::Not,
                VerilogOpUnary::Neg => UnOp::Neg,
                VerilogOpUnary::All => UnOp::All,
                VerilogOpUnary::Any => UnOp::Any,
                VerilogOpUnary::Xor => UnOp::Xor,
            };
            Expr::un(op, expr(a, env)?)
        }
        VerilogExpression::Index(a, i) => Expr::bit(expr(a, env)?, expr(i, env)?),
        VerilogExpression::Slice(a, w, off) => Expr::Slice(
            Box::new(expr(a, env)?),
            *w as u32,
            Box::new(expr(off, env)?),
        ),
        VerilogExpression::IndexReplace(a, i, v) => Expr::ReplaceBit(
            Box::new(expr(a, env)?),
            Box::new(expr(i, env)?),
            Box::new(expr(v, env)?),
        ),
    })
}

/// rust-hdl's identifier of a field path (`seg_lane[b]$act$next`, `.x.y`, `sum[b-1]`) as the
/// name it declares (`seg_lane$3$act`, `x$y`, `sum$2`): every `[index]` evaluated with the
/// loop variables.
fn ident(s: &str, env: &LoopEnv) -> Result<String> {
    let s = s.strip_prefix('.').unwrap_or(s);
    let s = s.replace("::", "$").replace('.', "$");
    let s = s.strip_suffix("$next").unwrap_or(&s).to_string();
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let close = rest[open..]
            .find(']')
            .with_context(|| format!("identifier {s:?}: unbalanced ["))?
            + open;
        let v = IndexExpr::new(&rest[open + 1..close], env).eval()?;
        out.push_str(&format!("${v}"));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `b - 1`, `(i+1)*2`: integer arithmetic over loop variables inside an index.
struct IndexExpr<'a> {
    toks: Vec<String>,
    pos: usize,
    env: &'a LoopEnv,
    text: &'a str,
}

impl<'a> IndexExpr<'a> {
    fn new(text: &'a str, env: &'a LoopEnv) -> Self {
        let mut toks = vec![];
        let mut cur = String::new();
        for ch in text.chars() {
            if ch.is_ascii_alphanumeric() || ch == '_' {
                cur.push(ch);
            } else {
                if !cur.is_empty() {
                    toks.push(std::mem::take(&mut cur));
                }
                if !ch.is_whitespace() {
                    toks.push(ch.to_string());
                }
            }
        }
        if !cur.is_empty() {
            toks.push(cur);
        }
        IndexExpr {
            toks,
            pos: 0,
            env,
            text,
        }
    }
    fn eval(mut self) -> Result<i64> {
        let v = self.sum()?;
        if self.pos != self.toks.len() {
            bail!(
                "index {:?}: unexpected {:?}",
                self.text,
                self.toks[self.pos]
            );
        }
        Ok(v)
    }
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.pos).map(String::as_str)
    }
    fn sum(&mut self) -> Result<i64> {
        let mut v = self.product()?;
        while let Some(op) = self.peek().filter(|t| *t == "+" || *t == "-") {
            let add = op == "+";
            self.pos += 1;
            let r = self.product()?;
            v = if add { v + r } else { v - r };
        }
        Ok(v)
    }
    fn product(&mut self) -> Result<i64> {
        let mut v = self.atom()?;
        while self.peek() == Some("*") {
            self.pos += 1;
            v *= self.atom()?;
        }
        Ok(v)
    }
    fn atom(&mut self) -> Result<i64> {
        let t = self
            .toks
            .get(self.pos)
            .cloned()
            .with_context(|| format!("index {:?}: incomplete", self.text))?;
        self.pos += 1;
        if t == "(" {
            let v = self.sum()?;
            if self.peek() != Some(")") {
                bail!("index {:?}: missing )", self.text);
            }
            self.pos += 1;
            return Ok(v);
        }
        if let Ok(v) = t.parse::<i64>() {
            return Ok(v);
        }
        self.env
            .iter()
            .rev()
            .find(|(n, _)| *n == t)
            .map(|(_, v)| *v)
            .with_context(|| format!("index {:?}: {t:?} is not a loop variable", self.text))
    }
}

/// The ports of a rust-hdl block (its own inputs and outputs, in declaration order).
pub fn block_ports<B: Block>(b: &B) -> Result<Vec<Port>> {
    let mut c = Collector::default();
    b.accept("top", &mut c);
    let top = c.blocks.get("top").context("the block was not visited")?;
    let mut out = vec![];
    for a in &top.atoms {
        let dir = match a.kind {
            AtomKind::InputParameter => Dir::In,
            AtomKind::OutputParameter | AtomKind::OutputPassthrough => Dir::Out,
            AtomKind::InOutParameter => bail!("inout port {} is not supported", a.name),
            _ => continue,
        };
        out.push(Port::new(a.name.replace('$', "_"), dir, a.width));
    }
    Ok(out)
}
