//! A small Liberty (.lib) reader: what the gate-level simulator and the area count need from a
//! standard-cell library (cell areas, pin directions, output functions, flip-flop next states).
//!
//! Timing and power tables are not read here: OpenSTA reads the same file for those. The
//! grammar subset is the one every Liberty file uses: groups `name (args) { ... }`, simple
//! attributes `name : value ;`, complex attributes `name (args) ;`, `/* */` comments and `\`
//! line continuations.

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// A boolean function of a cell, as written in the library (`function : "(!((A B)+C))"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Func {
    Var(String),
    Const(bool),
    Not(Box<Func>),
    And(Box<Func>, Box<Func>),
    Or(Box<Func>, Box<Func>),
    Xor(Box<Func>, Box<Func>),
}

impl Func {
    /// Evaluate with `var` giving each variable's value.
    pub fn eval(&self, var: &dyn Fn(&str) -> bool) -> bool {
        match self {
            Func::Var(v) => var(v),
            Func::Const(c) => *c,
            Func::Not(a) => !a.eval(var),
            Func::And(a, b) => a.eval(var) && b.eval(var),
            Func::Or(a, b) => a.eval(var) || b.eval(var),
            Func::Xor(a, b) => a.eval(var) ^ b.eval(var),
        }
    }

    /// Every variable the function reads.
    pub fn vars(&self, out: &mut Vec<String>) {
        match self {
            Func::Var(v) => {
                if !out.contains(v) {
                    out.push(v.clone())
                }
            }
            Func::Const(_) => {}
            Func::Not(a) => a.vars(out),
            Func::And(a, b) | Func::Or(a, b) | Func::Xor(a, b) => {
                a.vars(out);
                b.vars(out);
            }
        }
    }
}

/// A positive-edge flip-flop of a cell: internal state `state` loaded with `next_state` at
/// the rising edge of the pin `clock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlipFlop {
    pub state: String,
    pub inverted_state: Option<String>,
    pub next_state: Func,
    pub clock: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Copy)]
pub enum Dir {
    Input,
    Output,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub name: String,
    pub dir: Dir,
    pub function: Option<Func>,
    /// Tristate enable (`three_state`): the simulator does not model tristates.
    pub three_state: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub name: String,
    /// Area in the library's unit (square micrometres for osu018).
    pub area: f64,
    pub pins: Vec<Pin>,
    pub ff: Option<FlipFlop>,
    /// The cell has a latch, an asynchronous clear/preset or anything else sequential beyond
    /// a plain edge-triggered flip-flop (the gate-level simulator refuses those).
    pub unsupported: Option<String>,
}

impl Cell {
    pub fn pin(&self, name: &str) -> Option<&Pin> {
        self.pins.iter().find(|p| p.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct Library {
    pub name: String,
    pub cells: BTreeMap<String, Cell>,
}

impl Library {
    pub fn read(path: &Path) -> Result<Library> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read Liberty file {}", path.display()))?;
        Library::parse(&text).with_context(|| format!("Liberty file {}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Library> {
        let toks = tokenize(text)?;
        let mut p = Parser { toks, pos: 0 };
        let root = p.group()?;
        if root.kind != "library" {
            bail!("the file's top group is `{}`, not `library`", root.kind);
        }
        let mut cells = BTreeMap::new();
        for g in root.groups.iter().filter(|g| g.kind == "cell") {
            let cell = read_cell(g)?;
            cells.insert(cell.name.clone(), cell);
        }
        if cells.is_empty() {
            bail!("the library defines no cell");
        }
        Ok(Library {
            name: root.args.first().cloned().unwrap_or_default(),
            cells,
        })
    }

    pub fn cell(&self, name: &str) -> Result<&Cell> {
        self.cells
            .get(name)
            .with_context(|| format!("cell {name} is not in library {}", self.name))
    }
}

fn read_cell(g: &Group) -> Result<Cell> {
    let name = g
        .args
        .first()
        .cloned()
        .context("a cell group without a name")?;
    let area = g
        .attr("area")
        .map(|a| a.parse::<f64>())
        .transpose()
        .with_context(|| format!("cell {name}: area"))?
        .unwrap_or(0.0);
    let mut pins = vec![];
    for pg in g.groups.iter().filter(|p| p.kind == "pin") {
        for pname in &pg.args {
            let dir = match pg.attr("direction") {
                Some("input") => Dir::Input,
                Some("output") => Dir::Output,
                _ => Dir::Other,
            };
            let function = pg
                .attr("function")
                .map(parse_func)
                .transpose()
                .with_context(|| format!("cell {name} pin {pname}: function"))?;
            pins.push(Pin {
                name: pname.clone(),
                dir,
                function,
                three_state: pg.attr("three_state").is_some(),
            });
        }
    }
    let mut unsupported = None;
    let mut ff = None;
    for sg in &g.groups {
        match sg.kind.as_str() {
            "ff" => {
                if sg.attr("clear").is_some() || sg.attr("preset").is_some() {
                    unsupported = Some("a flip-flop with asynchronous clear/preset".into());
                }
                let clock = sg.attr("clocked_on").context("ff without clocked_on")?;
                let clock = match parse_func(clock)? {
                    Func::Var(v) => v,
                    _ => {
                        unsupported = Some(format!("a flip-flop clocked on {clock}"));
                        String::new()
                    }
                };
                ff = Some(FlipFlop {
                    state: sg.args.first().cloned().unwrap_or_default(),
                    inverted_state: sg.args.get(1).cloned(),
                    next_state: parse_func(sg.attr("next_state").context("ff without next_state")?)
                        .with_context(|| format!("cell {name}: next_state"))?,
                    clock,
                });
            }
            "latch" | "ff_bank" | "latch_bank" | "statetable" => {
                unsupported = Some(format!("a {}", sg.kind))
            }
            _ => {}
        }
    }
    if pins.iter().any(|p| p.three_state) {
        unsupported = Some("a tristate output".into());
    }
    Ok(Cell {
        name,
        area,
        pins,
        ff,
        unsupported,
    })
}

// ---- tokens and groups ----

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Sym(char),
}

fn tokenize(text: &str) -> Result<Vec<Tok>> {
    let b = text.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        if c.is_whitespace() || c == '\\' {
            i += 1;
        } else if text[i..].starts_with("/*") {
            let end = text[i + 2..]
                .find("*/")
                .context("a /* comment is never closed")?;
            i += end + 4;
        } else if text[i..].starts_with("//") {
            i += text[i..].find('\n').unwrap_or(text.len() - i);
        } else if c == '"' {
            let mut s = String::new();
            i += 1;
            while i < b.len() && b[i] != b'"' {
                // A backslash-newline inside a string continues it.
                if b[i] == b'\\' && i + 1 < b.len() && (b[i + 1] == b'\n' || b[i + 1] == b'\r') {
                    i += 2;
                    continue;
                }
                s.push(b[i] as char);
                i += 1;
            }
            if i >= b.len() {
                bail!("a string is never closed");
            }
            i += 1;
            out.push(Tok::Str(s));
        } else if "(){};:,".contains(c) {
            out.push(Tok::Sym(c));
            i += 1;
        } else {
            let start = i;
            while i < b.len() {
                let d = b[i] as char;
                if d.is_whitespace() || "(){};:,\"".contains(d) {
                    break;
                }
                i += 1;
            }
            out.push(Tok::Word(text[start..i].to_string()));
        }
    }
    Ok(out)
}

#[derive(Debug, Default)]
struct Group {
    kind: String,
    args: Vec<String>,
    attrs: Vec<(String, String)>,
    groups: Vec<Group>,
}

impl Group {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn next(&mut self) -> Result<Tok> {
        let t = self
            .toks
            .get(self.pos)
            .cloned()
            .context("unexpected end of file")?;
        self.pos += 1;
        Ok(t)
    }
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn word(&mut self) -> Result<String> {
        match self.next()? {
            Tok::Word(w) | Tok::Str(w) => Ok(w),
            t => bail!("expected a name, found {t:?} (token {})", self.pos),
        }
    }

    /// `( a, b, ... )`
    fn args(&mut self) -> Result<Vec<String>> {
        let mut args = vec![];
        loop {
            match self.next()? {
                Tok::Sym(')') => return Ok(args),
                Tok::Sym(',') => {}
                Tok::Word(w) | Tok::Str(w) => args.push(w),
                t => bail!("unexpected {t:?} in an argument list (token {})", self.pos),
            }
        }
    }

    /// `kind (args) { body }`
    fn group(&mut self) -> Result<Group> {
        let kind = self.word()?;
        if self.next()? != Tok::Sym('(') {
            bail!("expected `(` after group `{kind}`");
        }
        let args = self.args()?;
        if self.next()? != Tok::Sym('{') {
            bail!("expected `{{` to open group `{kind}`");
        }
        let mut g = Group {
            kind,
            args,
            ..Default::default()
        };
        self.body(&mut g)?;
        Ok(g)
    }

    /// The body of a group whose `{` was consumed.
    fn body(&mut self, g: &mut Group) -> Result<()> {
        loop {
            if self.peek() == Some(&Tok::Sym('}')) {
                self.pos += 1;
                return Ok(());
            }
            if self.peek() == Some(&Tok::Sym(';')) {
                self.pos += 1;
                continue;
            }
            let name = self.word()?;
            match self.next()? {
                Tok::Sym(':') => {
                    let value = self.value()?;
                    g.attrs.push((name, value));
                }
                Tok::Sym('(') => {
                    let args = self.args()?;
                    if self.peek() == Some(&Tok::Sym('{')) {
                        self.pos += 1;
                        let mut sub = Group {
                            kind: name,
                            args,
                            ..Default::default()
                        };
                        self.body(&mut sub)?;
                        g.groups.push(sub);
                    } else {
                        g.attrs.push((name, args.join(",")));
                    }
                }
                t => bail!("unexpected {t:?} after `{name}` (token {})", self.pos),
            }
        }
    }

    /// The value of a simple attribute, after its `:`, up to the `;` (or the group's end).
    fn value(&mut self) -> Result<String> {
        let mut val = vec![];
        while let Some(t) = self.peek() {
            match t {
                Tok::Sym(';') => {
                    self.pos += 1;
                    break;
                }
                Tok::Sym('}') => break,
                _ => val.push(match self.next()? {
                    Tok::Word(w) | Tok::Str(w) => w,
                    Tok::Sym(c) => c.to_string(),
                }),
            }
        }
        Ok(val.join(" "))
    }
}

// ---- boolean functions ----

/// Parse a Liberty function. Precedence, highest first: `!x` / `x'`, `^`, AND (`&`, `*` or
/// juxtaposition), OR (`+`, `|`).
pub fn parse_func(s: &str) -> Result<Func> {
    let toks: Vec<char> = s.chars().collect();
    let mut p = FuncParser { s: toks, pos: 0 };
    let f = p.or()?;
    p.skip_ws();
    if p.pos != p.s.len() {
        bail!("cannot parse function {s:?} at character {}", p.pos);
    }
    Ok(f)
}

struct FuncParser {
    s: Vec<char>,
    pos: usize,
}

impl FuncParser {
    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_whitespace() {
            self.pos += 1;
        }
    }
    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.s.get(self.pos).copied()
    }
    fn or(&mut self) -> Result<Func> {
        let mut a = self.and()?;
        while matches!(self.peek(), Some('+') | Some('|')) {
            self.pos += 1;
            let b = self.and()?;
            a = Func::Or(Box::new(a), Box::new(b));
        }
        Ok(a)
    }
    fn and(&mut self) -> Result<Func> {
        let mut a = self.xor()?;
        loop {
            match self.peek() {
                Some('&') | Some('*') => {
                    self.pos += 1;
                }
                // Juxtaposition: another operand starts right here.
                Some(c) if c == '(' || c == '!' || c.is_alphanumeric() || c == '_' => {}
                _ => return Ok(a),
            }
            let b = self.xor()?;
            a = Func::And(Box::new(a), Box::new(b));
        }
    }
    fn xor(&mut self) -> Result<Func> {
        let mut a = self.unary()?;
        while self.peek() == Some('^') {
            self.pos += 1;
            let b = self.unary()?;
            a = Func::Xor(Box::new(a), Box::new(b));
        }
        Ok(a)
    }
    fn unary(&mut self) -> Result<Func> {
        let mut f = match self.peek() {
            Some('!') => {
                self.pos += 1;
                Func::Not(Box::new(self.unary()?))
            }
            Some('(') => {
                self.pos += 1;
                let f = self.or()?;
                if self.peek() != Some(')') {
                    bail!("missing `)` at character {}", self.pos);
                }
                self.pos += 1;
                f
            }
            Some(c) if c.is_alphanumeric() || c == '_' => {
                let start = self.pos;
                while self.pos < self.s.len()
                    && (self.s[self.pos].is_alphanumeric() || "_[].".contains(self.s[self.pos]))
                {
                    self.pos += 1;
                }
                let w: String = self.s[start..self.pos].iter().collect();
                match w.as_str() {
                    "0" => Func::Const(false),
                    "1" => Func::Const(true),
                    _ => Func::Var(w),
                }
            }
            c => bail!("unexpected {c:?} at character {}", self.pos),
        };
        // Postfix complement.
        while self.s.get(self.pos) == Some(&'\'') {
            self.pos += 1;
            f = Func::Not(Box::new(f));
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_follow_liberty_precedence() {
        let f = parse_func("(!((A B)+C))").unwrap();
        for a in [false, true] {
            for b in [false, true] {
                for c in [false, true] {
                    let v = |n: &str| match n {
                        "A" => a,
                        "B" => b,
                        _ => c,
                    };
                    assert_eq!(f.eval(&v), !((a && b) || c));
                    let g = parse_func("A^B C + A'").unwrap();
                    // ^ binds tighter than AND, AND tighter than OR.
                    assert_eq!(g.eval(&v), ((a ^ b) && c) || !a);
                }
            }
        }
        assert!(parse_func("(A B").is_err());
    }

    #[test]
    fn reads_cells_pins_and_flip_flops() {
        let lib = Library::parse(
            r#"library(x) {
              /* comment */ time_unit : "1ns";
              lu_table_template(t) { variable_1 : a; index_1 ("1, 2"); }
              cell (NAND2) { area : 24; pin(A) { direction : input; }
                pin(B) { direction : input; }
                pin(Y) { direction : output; function : "(!(A B))"; } }
              cell (DFF) { area : 96; ff (IQ,IQN) { next_state : "D"; clocked_on : "CLK"; }
                pin(D) { direction : input; } pin(CLK) { direction : input; clock : true; }
                pin(Q) { direction : output; function : "IQ"; } }
              cell (L) { area : 0; latch (S,SN) { data_in : "D"; enable : "G"; }
                pin(D) { direction : input; } pin(G) { direction : input; }
                pin(Q) { direction : output; function : "S"; } }
            }"#,
        )
        .unwrap();
        let n = lib.cell("NAND2").unwrap();
        assert_eq!(n.area, 24.0);
        assert_eq!(n.pin("Y").unwrap().dir, Dir::Output);
        let d = lib.cell("DFF").unwrap();
        let ff = d.ff.as_ref().unwrap();
        assert_eq!((ff.state.as_str(), ff.clock.as_str()), ("IQ", "CLK"));
        assert!(d.unsupported.is_none());
        assert!(lib.cell("L").unwrap().unsupported.is_some());
        assert!(lib.cell("NOPE").is_err());
    }
}
