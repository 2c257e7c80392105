//! The Verilog writer: one Verilog-2005 module text per netlist module.
//!
//! - Ports in an ANSI header; `output reg` only where an `always` block drives the port.
//! - A process that is one unconditional assignment is an `assign`; any other is an
//!   `always @(*)` block assigning only its own targets; registers are `always @(posedge clk)`
//!   with their power-up values in one `initial` block.
//! - Every expression is written at exactly the width of its Rust type ([`super::width`]):
//!   narrower operands are zero-extended by concatenation (whose operands Verilog evaluates
//!   at their own width), wider ones are sliced, literals are sized to their use. So the
//!   Verilog computes what the in-process simulation computes, and lint sees no width change.
//! - Grids are `generate` loops with named blocks; array nets are unpacked arrays.

use super::width::{index_bits, operand_width, width_of};
use super::{BinOp, Dir, Expr, LValue, Module, Netlist, Process, Stmt, UnOp};
use anyhow::{bail, Context, Result};
use num_bigint::BigUint;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The Verilog text of module `m` of `nl`.
pub fn module_text(nl: &Netlist, m: &Module) -> Result<String> {
    Writer { nl, m }
        .module()
        .with_context(|| format!("writing module {}", m.name))
}

struct Writer<'a> {
    nl: &'a Netlist,
    m: &'a Module,
}

fn range(width: u32) -> String {
    if width == 1 {
        String::new()
    } else {
        format!("[{}:0] ", width - 1)
    }
}

fn mask(width: u32) -> BigUint {
    (BigUint::from(1u8) << width) - 1u8
}

/// A sized literal: binary up to 3 bits, hex above.
pub fn literal(width: u32, value: &BigUint) -> String {
    let v = value & mask(width);
    if width < 4 {
        format!("{width}'b{v:b}")
    } else {
        format!("{width}'h{v:x}")
    }
}

/// Whether a process is written as a continuous assignment.
fn as_assign(p: &Process) -> Option<(&str, &Expr)> {
    match p.body.as_slice() {
        [Stmt::Assign(LValue::Net(t), e)] if p.targets.len() == 1 => Some((t, e)),
        _ => None,
    }
}

impl Writer<'_> {
    fn width(&self, e: &Expr) -> u32 {
        width_of(e, self.m)
    }

    fn module(&self) -> Result<String> {
        let m = self.m;
        let mut out = String::new();
        for (i, line) in m.doc.iter().enumerate() {
            if i == 0 {
                writeln!(out, "// {}: {line}", m.name)?;
            } else {
                writeln!(out, "// {line}")?;
            }
        }
        let always_driven: BTreeSet<&str> = m
            .comb
            .iter()
            .filter(|p| as_assign(p).is_none())
            .flat_map(|p| p.targets.iter().map(String::as_str))
            .chain(m.regs.iter().map(|r| r.q.as_str()))
            .collect();
        writeln!(out, "module {} (", m.name)?;
        let ports: Vec<String> = m
            .ports
            .iter()
            .map(|p| {
                let kind = match p.dir {
                    Dir::In => "input  wire",
                    Dir::Out if always_driven.contains(p.name.as_str()) => "output reg ",
                    Dir::Out => "output wire",
                };
                let signed = if p.signed { "signed " } else { "" };
                format!("    {kind} {signed}{}{}", range(p.width), p.name)
            })
            .collect();
        writeln!(out, "{}\n);", ports.join(",\n"))?;
        for c in &m.consts {
            writeln!(
                out,
                "    localparam {}{} = {};",
                range(c.width),
                c.name,
                literal(c.width, &c.value)
            )?;
        }
        for n in &m.nets {
            let kind = if always_driven.contains(n.name.as_str()) {
                "reg "
            } else {
                "wire"
            };
            writeln!(out, "    {kind} {}{};", range(n.width), n.name)?;
        }
        for a in &m.arrays {
            writeln!(
                out,
                "    wire {}{} [0:{}];",
                range(a.width),
                a.name,
                a.count - 1
            )?;
        }
        for r in &m.regs {
            writeln!(out, "    reg  {}{};", range(r.width), r.q)?;
        }
        for a in m.arrays.iter().filter(|a| !a.drive.is_empty()) {
            for (i, e) in a.drive.iter().enumerate() {
                writeln!(
                    out,
                    "    assign {}[{i}] = {};",
                    a.name,
                    self.ex(e, a.width)?
                )?;
            }
        }
        for i in &m.instances {
            out += &self.instance(i, "    ")?;
        }
        for g in &m.grids {
            writeln!(out, "    genvar r, c;")?;
            writeln!(out, "    generate")?;
            writeln!(
                out,
                "        for (r = 0; r < {}; r = r + 1) begin : g_row",
                g.rows
            )?;
            writeln!(
                out,
                "            for (c = 0; c < {}; c = c + 1) begin : g_col",
                g.cols
            )?;
            out += &self.instance(&g.instance, "                ")?;
            writeln!(out, "            end\n        end\n    endgenerate")?;
        }
        for p in &m.comb {
            match as_assign(p) {
                Some((t, e)) => {
                    let w = self.m.width_of(t).context("assigned name")?;
                    writeln!(out, "    assign {t} = {};", self.ex(e, w)?)?;
                }
                None => {
                    writeln!(out, "    always @(*) begin")?;
                    for s in &p.body {
                        self.stmt(s, 2, &mut out)?;
                    }
                    writeln!(out, "    end")?;
                }
            }
        }
        if !m.regs.is_empty() {
            writeln!(out, "    initial begin")?;
            for r in &m.regs {
                writeln!(out, "        {} = {};", r.q, literal(r.width, &r.init))?;
            }
            writeln!(out, "    end")?;
            let clocks: BTreeSet<&str> = m.regs.iter().map(|r| r.clock.as_str()).collect();
            for clk in clocks {
                writeln!(out, "    always @(posedge {clk}) begin")?;
                for r in m.regs.iter().filter(|r| r.clock == clk) {
                    let d = self.ex(&Expr::Ref(r.d.clone()), r.width)?;
                    writeln!(out, "        {} <= {d};", r.q)?;
                }
                writeln!(out, "    end")?;
            }
        }
        writeln!(out, "endmodule")?;
        Ok(out)
    }

    fn instance(&self, i: &super::Instance, indent: &str) -> Result<String> {
        let child = self
            .nl
            .module(&i.module)
            .with_context(|| format!("instance {}: no module {}", i.name, i.module))?;
        let mut conns = vec![];
        for p in &child.ports {
            let (_, e) = i
                .conns
                .iter()
                .find(|(n, _)| *n == p.name)
                .with_context(|| format!("instance {}: port {} unconnected", i.name, p.name))?;
            let text = match p.dir {
                Dir::In => self.ex(e, p.width)?,
                Dir::Out => match e {
                    Expr::Ref(_) | Expr::Elem(..) => self.natural(e)?,
                    _ => bail!(
                        "instance {}: output {} drives an expression",
                        i.name,
                        p.name
                    ),
                },
            };
            conns.push(format!("{indent}    .{}({text})", p.name));
        }
        Ok(format!(
            "{indent}{} {} (\n{}\n{indent});\n",
            i.module,
            i.name,
            conns.join(",\n")
        ))
    }

    fn stmt(&self, s: &Stmt, depth: usize, out: &mut String) -> Result<()> {
        let ind = "    ".repeat(depth);
        match s {
            Stmt::Assign(lv, e) => match lv {
                LValue::Net(n) => {
                    let w = self.m.width_of(n).context("assigned name")?;
                    writeln!(out, "{ind}{n} = {};", self.ex(e, w)?)?;
                }
                LValue::Slice(n, w, off) => {
                    let target = match off {
                        Expr::Int(o) => format!("{n}[{}:{o}]", *o + *w as i64 - 1),
                        off => format!("{n}[{} +: {w}]", self.natural(off)?),
                    };
                    writeln!(out, "{ind}{target} = {};", self.ex(e, *w)?)?;
                }
            },
            Stmt::If(c, a, b) => {
                writeln!(out, "{ind}if ({}) begin", self.cond(c)?)?;
                for s in a {
                    self.stmt(s, depth + 1, out)?;
                }
                if b.is_empty() {
                    writeln!(out, "{ind}end")?;
                } else {
                    writeln!(out, "{ind}end else begin")?;
                    for s in b {
                        self.stmt(s, depth + 1, out)?;
                    }
                    writeln!(out, "{ind}end")?;
                }
            }
            Stmt::Case(subject, arms, default) => {
                let w = self.width(subject);
                writeln!(out, "{ind}case ({})", self.natural(subject)?)?;
                for (labels, body) in arms {
                    let l: Result<Vec<String>> = labels.iter().map(|l| self.ex(l, w)).collect();
                    self.case_arm(&l?.join(", "), body, depth + 1, out)?;
                }
                self.case_arm("default", default, depth + 1, out)?;
                writeln!(out, "{ind}endcase")?;
            }
        }
        Ok(())
    }

    /// One arm of a case: `label: ;` when empty, `label: x = e;` for one assignment, else
    /// `label: begin .. end`.
    fn case_arm(&self, label: &str, body: &[Stmt], depth: usize, out: &mut String) -> Result<()> {
        let ind = "    ".repeat(depth);
        match body {
            [] => writeln!(out, "{ind}{label}: ;")?,
            [s @ Stmt::Assign(..)] => {
                let mut text = String::new();
                self.stmt(s, 0, &mut text)?;
                write!(out, "{ind}{label}: {text}")?;
            }
            _ => {
                writeln!(out, "{ind}{label}: begin")?;
                for s in body {
                    self.stmt(s, depth + 1, out)?;
                }
                writeln!(out, "{ind}end")?;
            }
        }
        Ok(())
    }

    /// A condition: a one-bit value, or `|x` for a wider one (true when non-zero).
    fn cond(&self, c: &Expr) -> Result<String> {
        if self.width(c) == 1 {
            self.natural(c)
        } else {
            Ok(format!("|{}", self.paren(c)?))
        }
    }

    fn paren(&self, e: &Expr) -> Result<String> {
        let t = self.natural(e)?;
        Ok(match e {
            Expr::Ref(_) | Expr::Lit(..) | Expr::Elem(..) | Expr::Bit(..) | Expr::Slice(..) => t,
            _ if t.starts_with('(') || t.starts_with('{') => t,
            _ => format!("({t})"),
        })
    }

    /// `e` written at exactly `want` bits.
    fn ex(&self, e: &Expr, want: u32) -> Result<String> {
        match e {
            Expr::Lit(_, v) => return Ok(literal(want, v)),
            Expr::Int(v) => return Ok(literal(want, &int_value(*v, want))),
            _ => {}
        }
        let w = self.width(e);
        if w == want {
            return self.natural(e);
        }
        if w < want {
            return Ok(format!(
                "{{{{{}{{1'b0}}}}, {}}}",
                want - w,
                self.natural(e)?
            ));
        }
        // Truncation: only names can be sliced (the hoist pass spilled everything else).
        let base = match e {
            Expr::Ref(_) | Expr::Elem(..) => self.natural(e)?,
            Expr::Resize(a, _) if matches!(**a, Expr::Ref(_) | Expr::Elem(..)) => {
                self.natural(a)?
            }
            _ => bail!("cannot truncate {e:?} to {want} bits (not a name)"),
        };
        Ok(if want == 1 {
            format!("{base}[0]")
        } else {
            format!("{base}[{}:0]", want - 1)
        })
    }

    /// `e` at its own width.
    fn natural(&self, e: &Expr) -> Result<String> {
        let w = self.width(e);
        Ok(match e {
            Expr::Ref(n) => n.clone(),
            Expr::Lit(w, v) => literal(*w, v),
            Expr::Int(v) => v.to_string(),
            Expr::GridRow => "r".into(),
            Expr::GridCol => "c".into(),
            Expr::Elem(n, i) => format!("{n}[{}]", self.index(i)?),
            Expr::Unary(op, a) => match op {
                UnOp::Not => format!("(~{})", self.ex(a, w)?),
                UnOp::Neg => format!("(-{})", self.ex(a, w)?),
                UnOp::All => format!("(&{})", self.paren(a)?),
                UnOp::Any => format!("(|{})", self.paren(a)?),
                UnOp::Xor => format!("(^{})", self.paren(a)?),
            },
            Expr::Binary(op, a, b) => {
                let sym = match op {
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    BinOp::Mul => "*",
                    BinOp::And => "&",
                    BinOp::Or => "|",
                    BinOp::Xor => "^",
                    BinOp::LogicalAnd => "&&",
                    BinOp::LogicalOr => "||",
                    BinOp::Shl => "<<",
                    BinOp::Shr => ">>",
                    BinOp::Eq => "==",
                    BinOp::Ne => "!=",
                    BinOp::Lt => "<",
                    BinOp::Le => "<=",
                    BinOp::Gt => ">",
                    BinOp::Ge => ">=",
                };
                match op {
                    BinOp::Shl | BinOp::Shr => {
                        format!("({} {sym} {})", self.ex(a, w)?, self.shift_amount(b)?)
                    }
                    BinOp::LogicalAnd | BinOp::LogicalOr => {
                        format!("({} {sym} {})", self.cond(a)?, self.cond(b)?)
                    }
                    op if op.is_comparison() => {
                        let ow = operand_width(a, b, self.m);
                        format!("({} {sym} {})", self.ex(a, ow)?, self.ex(b, ow)?)
                    }
                    _ => format!("({} {sym} {})", self.ex(a, w)?, self.ex(b, w)?),
                }
            }
            Expr::Bit(a, i) => {
                let aw = self.width(a);
                match (&**a, &**i) {
                    (Expr::Lit(_, v), Expr::Int(k)) => {
                        format!("1'b{}", u8::from(v.bit(*k as u64)))
                    }
                    (_, Expr::Int(0)) if aw == 1 => self.natural(a)?,
                    (_, Expr::Int(k)) => format!("{}[{k}]", self.natural(a)?),
                    _ => format!("{}[{}]", self.natural(a)?, self.ex(i, index_bits(aw))?),
                }
            }
            Expr::Slice(a, sw, off) => {
                let aw = self.width(a);
                match &**off {
                    Expr::Int(0) if *sw == aw => self.natural(a)?,
                    Expr::Int(o) if *sw == 1 => format!("{}[{o}]", self.natural(a)?),
                    Expr::Int(o) => {
                        format!("{}[{}:{o}]", self.natural(a)?, *o + *sw as i64 - 1)
                    }
                    off => format!(
                        "{}[{} +: {sw}]",
                        self.natural(a)?,
                        self.ex(off, index_bits(aw))?
                    ),
                }
            }
            Expr::Resize(a, want) => self.ex(a, *want)?,
            Expr::ReplaceBit(a, i, v) => match &**i {
                Expr::Int(k) => {
                    let k = *k as u32;
                    let base = self.natural(a)?;
                    let mut parts = vec![];
                    if k + 1 < w {
                        parts.push(format!("{base}[{}:{}]", w - 1, k + 1));
                    }
                    parts.push(self.ex(v, 1)?);
                    if k > 0 {
                        parts.push(if k == 1 {
                            format!("{base}[0]")
                        } else {
                            format!("{base}[{}:0]", k - 1)
                        });
                    }
                    format!("{{{}}}", parts.join(", "))
                }
                idx => {
                    let one = literal(w, &BigUint::from(1u8));
                    let sh = self.shift_amount(idx)?;
                    format!(
                        "(({} & ~({one} << {sh})) | ({} << {sh}))",
                        self.ex(a, w)?,
                        self.ex(v, w)?
                    )
                }
            },
            Expr::Mux(c, a, b) => format!(
                "({} ? {} : {})",
                self.cond(c)?,
                self.ex(a, w)?,
                self.ex(b, w)?
            ),
            Expr::Concat(v) => {
                let parts: Result<Vec<String>> = v.iter().map(|x| self.natural(x)).collect();
                format!("{{{}}}", parts?.join(", "))
            }
        })
    }

    /// A shift amount: self-determined in Verilog, written at its own width.
    fn shift_amount(&self, e: &Expr) -> Result<String> {
        match e {
            Expr::Int(v) => Ok(v.to_string()),
            e => self.natural(e),
        }
    }

    /// An array index over integers and grid indices, as plain integer arithmetic.
    fn index(&self, e: &Expr) -> Result<String> {
        Ok(match e {
            Expr::Int(v) => v.to_string(),
            Expr::GridRow => "r".into(),
            Expr::GridCol => "c".into(),
            Expr::Binary(op @ (BinOp::Add | BinOp::Sub | BinOp::Mul), a, b) => {
                let sym = match op {
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    _ => "*",
                };
                format!("({} {sym} {})", self.index(a)?, self.index(b)?)
            }
            other => self.natural(other)?,
        })
    }
}

/// `v` as an unsigned value of `width` bits (two's complement for a negative `v`).
fn int_value(v: i64, width: u32) -> BigUint {
    if v >= 0 {
        BigUint::from(v as u64)
    } else {
        (BigUint::from(1u8) << width) - BigUint::from(v.unsigned_abs())
    }
}
