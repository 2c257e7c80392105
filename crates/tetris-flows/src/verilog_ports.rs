//! Finding a combinational multiplier's top module and ports in Verilog source: enough of a
//! parser for flat netlists (ANSI and non-ANSI port lists, `input [7:0] A, B;`), not a
//! Verilog front end. Verilator then elaborates the design for real.

use anyhow::{bail, Result};

use tetris_netlist::Dir;
/// Ports of the top module are the project's one `Port` type.
pub use tetris_netlist::Port;

/// A port as declared: its range is evaluated only for the top, with the parameters in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredPort {
    pub name: String,
    pub input: bool,
    /// Tokens of the msb and lsb expressions of `[msb:lsb]`, or None for one bit.
    pub range: Option<(Vec<String>, Vec<String>)>,
}

/// A `parameter` (overridable) or `localparam` with its default expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub local: bool,
    pub expr: Vec<String>,
}

/// A module found in the source.
#[derive(Debug, Clone)]
pub struct ModuleInfo {
    pub name: String,
    pub ports: Vec<DeclaredPort>,
    pub params: Vec<Param>,
    /// The module's tokens joined by spaces (instantiated module names are searched in it).
    pub body: String,
}

fn is_ident(t: &str) -> bool {
    t.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// `parameter` / `localparam` declarations, in the header `#(...)` or the body:
/// `parameter [integer|signed|[r]] A = expr {, B = expr}` up to `;` or the closing `)`.
fn params(body: &[String]) -> Vec<Param> {
    let mut out = vec![];
    let mut k = 0;
    while k < body.len() {
        let kw = body[k].as_str();
        if kw != "parameter" && kw != "localparam" {
            k += 1;
            continue;
        }
        let local = kw == "localparam";
        k += 1;
        loop {
            // Skip a type and a range: the value is what matters here.
            while k < body.len()
                && ["integer", "signed", "unsigned", "int"].contains(&body[k].as_str())
            {
                k += 1;
            }
            if k < body.len() && body[k] == "[" {
                while k < body.len() && body[k] != "]" {
                    k += 1;
                }
                k += 1;
            }
            if !(k + 1 < body.len() && is_ident(&body[k]) && body[k + 1] == "=") {
                break;
            }
            let name = body[k].clone();
            k += 2;
            let mut depth = 0i32;
            let mut expr = vec![];
            while k < body.len() {
                let t = body[k].as_str();
                if depth == 0 && (t == "," || t == ";" || t == ")") {
                    break;
                }
                depth += match t {
                    "(" => 1,
                    ")" => -1,
                    _ => 0,
                };
                expr.push(body[k].clone());
                k += 1;
            }
            out.push(Param { name, local, expr });
            // `, NEXT = ...` continues the same declaration; `, parameter ...` starts anew.
            if k < body.len() && body[k] == "," && k + 2 < body.len() && body[k + 2] == "=" {
                k += 1;
                continue;
            }
            break;
        }
    }
    out
}

/// Integer value of a constant expression over integer literals and parameters:
/// + - * / % and parentheses, unary minus.
fn eval(
    toks: &[String],
    vars: &dyn Fn(&str) -> std::result::Result<i64, String>,
) -> std::result::Result<i64, String> {
    fn expr(
        t: &[String],
        i: &mut usize,
        v: &dyn Fn(&str) -> std::result::Result<i64, String>,
    ) -> std::result::Result<i64, String> {
        let mut x = term(t, i, v)?;
        while *i < t.len() && (t[*i] == "+" || t[*i] == "-") {
            let op = t[*i].clone();
            *i += 1;
            let y = term(t, i, v)?;
            x = if op == "+" { x + y } else { x - y };
        }
        Ok(x)
    }
    fn term(
        t: &[String],
        i: &mut usize,
        v: &dyn Fn(&str) -> std::result::Result<i64, String>,
    ) -> std::result::Result<i64, String> {
        let mut x = atom(t, i, v)?;
        while *i < t.len() && (t[*i] == "*" || t[*i] == "/" || t[*i] == "%") {
            let op = t[*i].clone();
            *i += 1;
            let y = atom(t, i, v)?;
            x = match op.as_str() {
                "*" => x * y,
                _ if y == 0 => return Err("division by zero".into()),
                "/" => x / y,
                _ => x % y,
            };
        }
        Ok(x)
    }
    fn atom(
        t: &[String],
        i: &mut usize,
        v: &dyn Fn(&str) -> std::result::Result<i64, String>,
    ) -> std::result::Result<i64, String> {
        let Some(tok) = t.get(*i) else {
            return Err("expression ends early".into());
        };
        *i += 1;
        match tok.as_str() {
            "(" => {
                let x = expr(t, i, v)?;
                if t.get(*i).map(String::as_str) != Some(")") {
                    return Err("missing `)`".into());
                }
                *i += 1;
                Ok(x)
            }
            "-" => Ok(-atom(t, i, v)?),
            s if s.chars().all(|c| c.is_ascii_digit() || c == '_') => s
                .replace('_', "")
                .parse()
                .map_err(|_| format!("`{s}` is not a number")),
            s if s.contains('\'') => based_literal(s),
            s if is_ident(s) => v(s),
            s => Err(format!("`{s}` is not supported in a constant expression")),
        }
    }
    let mut i = 0;
    let x = expr(toks, &mut i, vars)?;
    if i != toks.len() {
        return Err(format!("unexpected `{}`", toks[i]));
    }
    Ok(x)
}

fn lookup(
    vals: &[(String, std::result::Result<i64, String>)],
    n: &str,
) -> std::result::Result<i64, String> {
    match vals.iter().find(|(k, _)| k == n) {
        Some((_, v)) => v.clone(),
        None => Err(format!("`{n}` is not a parameter of the module")),
    }
}

/// A based literal such as `8'hff`, `7'b1000000`, `'d12`, `4'sd3`.
fn based_literal(s: &str) -> std::result::Result<i64, String> {
    let bad = || format!("`{s}` is not a number this parser reads");
    let (_, rest) = s.split_once('\'').ok_or_else(bad)?;
    let rest = rest.trim_start_matches(['s', 'S']);
    let mut chars = rest.chars();
    let radix = match chars.next().map(|c| c.to_ascii_lowercase()) {
        Some('b') => 2,
        Some('o') => 8,
        Some('d') => 10,
        Some('h') => 16,
        _ => return Err(bad()),
    };
    i64::from_str_radix(&chars.as_str().replace('_', ""), radix).map_err(|_| bad())
}

impl ModuleInfo {
    /// Values of the module's parameters with `overrides` (NAME, value) in force; an override
    /// must name a `parameter` (not a `localparam`) of this module.
    pub fn param_values(
        &self,
        overrides: &[(String, i64)],
        file: &str,
    ) -> Result<Vec<(String, std::result::Result<i64, String>)>> {
        for (n, _) in overrides {
            match self.params.iter().find(|p| &p.name == n) {
                Some(p) if p.local => bail!("{file}: --param {n}: `{n}` is a localparam of module {}, which cannot be overridden", self.name),
                Some(_) => {}
                None => bail!(
                    "{file}: --param {n}: module {} has no parameter `{n}` (parameters: {})",
                    self.name,
                    if self.params.iter().any(|p| !p.local) {
                        self.params.iter().filter(|p| !p.local).map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
                    } else {
                        "none".to_string()
                    }
                ),
            }
        }
        // In declaration order, each over the ones before it. A parameter this parser cannot
        // evaluate is an error only where a port range uses it (Verilator elaborates the rest).
        let mut vals: Vec<(String, std::result::Result<i64, String>)> = vec![];
        for p in &self.params {
            let v = match overrides.iter().find(|(n, _)| n == &p.name) {
                Some(&(_, v)) => Ok(v),
                None => eval(&p.expr, &|n: &str| lookup(&vals, n))
                    .map_err(|e| format!("parameter {} = {}: {e}", p.name, p.expr.join(" "))),
            };
            vals.push((p.name.clone(), v));
        }
        Ok(vals)
    }

    /// The ports with their widths, the parameters in force.
    pub fn ports_with(&self, overrides: &[(String, i64)], file: &str) -> Result<Vec<Port>> {
        let vals = self.param_values(overrides, file)?;
        let lookup = |n: &str| lookup(&vals, n);
        self.ports
            .iter()
            .map(|p| {
                let width = match &p.range {
                    None => 1,
                    Some((m, l)) => {
                        let ev = |t: &[String]| {
                            eval(t, &lookup).map_err(|e| {
                                anyhow::anyhow!(
                                    "{file}: module {}: range `[{}:{}]` of port {}: {e}",
                                    self.name,
                                    m.join(""),
                                    l.join(""),
                                    p.name
                                )
                            })
                        };
                        let (msb, lsb) = (ev(m)?, ev(l)?);
                        ((msb - lsb).abs() + 1) as u32
                    }
                };
                let dir = if p.input { Dir::In } else { Dir::Out };
                Ok(Port::new(p.name.clone(), dir, width))
            })
            .collect()
    }
}

/// Remove // and /* */ comments.
pub fn strip_comments(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && i + 1 < b.len() && b[i + 1] == b'/' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && i + 1 < b.len() && b[i + 1] == b'*' {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
            out.push(' ');
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

fn tokens(s: &str) -> Vec<String> {
    let mut t = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if c.is_alphanumeric() || c == '_' || c == '$' || c == '\'' {
            cur.push(c);
        } else {
            if !cur.is_empty() {
                t.push(std::mem::take(&mut cur));
            }
            if !c.is_whitespace() {
                t.push(c.to_string());
            }
        }
    }
    if !cur.is_empty() {
        t.push(cur);
    }
    t
}

/// All modules of a source file with their ports.
pub fn modules(src: &str, file: &str) -> Result<Vec<ModuleInfo>> {
    let clean = strip_comments(src);
    let toks = tokens(&clean);
    let mut mods = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if toks[i] != "module" {
            i += 1;
            continue;
        }
        let Some(name) = toks.get(i + 1).cloned() else {
            bail!("{file}: `module` without a name");
        };
        let end = toks[i..]
            .iter()
            .position(|t| t == "endmodule")
            .map(|p| i + p)
            .ok_or_else(|| anyhow::anyhow!("{file}: module {name} has no endmodule"))?;
        let body = &toks[i + 2..end];
        let mut ports = Vec::new();
        let mut k = 0;
        while k < body.len() {
            let dir = body[k].as_str();
            if dir != "input" && dir != "output" && dir != "inout" {
                k += 1;
                continue;
            }
            if dir == "inout" {
                bail!("{file}: module {name} has an inout port; only combinational input/output ports are supported");
            }
            k += 1;
            while k < body.len()
                && ["wire", "reg", "logic", "signed", "unsigned"].contains(&body[k].as_str())
            {
                k += 1;
            }
            let mut range = None;
            if k < body.len() && body[k] == "[" {
                let close = body[k..].iter().position(|t| t == "]").map(|p| k + p);
                let Some(close) = close else {
                    bail!("{file}: module {name}: unterminated range in a port declaration");
                };
                let inner = &body[k + 1..close];
                let Some(colon) = inner.iter().position(|t| t == ":") else {
                    bail!(
                        "{file}: module {name}: port range `[{}]` is not msb:lsb",
                        inner.join("")
                    );
                };
                range = Some((inner[..colon].to_vec(), inner[colon + 1..].to_vec()));
                k = close + 1;
            }
            // Names until ; or ) or the next direction keyword.
            while k < body.len() {
                let t = body[k].as_str();
                if t == ";" || t == ")" || t == "input" || t == "output" || t == "inout" {
                    break;
                }
                if t != "," && is_ident(t) {
                    ports.push(DeclaredPort {
                        name: t.to_string(),
                        input: dir == "input",
                        range: range.clone(),
                    });
                }
                k += 1;
            }
        }
        mods.push(ModuleInfo {
            name,
            ports,
            params: params(body),
            body: body.join(" "),
        });
        i = end + 1;
    }
    if mods.is_empty() {
        bail!("{file}: no module found");
    }
    Ok(mods)
}

/// The chosen top module and its multiplier ports.
#[derive(Debug, Clone)]
pub struct TopPorts {
    pub top: String,
    pub a: Port,
    pub b: Port,
    pub y: Port,
}

/// Pick the top (given, the only module, or the one no other module instantiates) and its
/// ports (given, or auto-detected when it has exactly two inputs and one output), with the
/// top's port widths evaluated under the parameter `overrides` (`--param NAME=VALUE`).
pub fn detect(
    src: &str,
    file: &str,
    top: Option<&str>,
    names: (Option<&str>, Option<&str>, Option<&str>),
    overrides: &[(String, i64)],
) -> Result<TopPorts> {
    let mods = modules(src, file)?;
    let m = match top {
        Some(t) => mods.iter().find(|m| m.name == t).ok_or_else(|| {
            anyhow::anyhow!(
                "{file}: --top {t} not found; modules: {}",
                mods.iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?,
        None => {
            let roots: Vec<&ModuleInfo> = mods
                .iter()
                .filter(|m| {
                    !mods
                        .iter()
                        .any(|o| o.name != m.name && o.body.split(' ').any(|t| t == m.name))
                })
                .collect();
            match roots.as_slice() {
                [one] => *one,
                _ => bail!(
                    "{file}: cannot tell the top module ({} candidates: {}); give --top",
                    roots.len(),
                    roots
                        .iter()
                        .map(|m| m.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
    };
    let ports = m.ports_with(overrides, file)?;
    let find = |n: &str, input: bool, flag: &str| -> Result<Port> {
        match ports.iter().find(|p| p.name == n) {
            Some(p) if p.is_input() == input => Ok(p.clone()),
            Some(_) => bail!(
                "{file}: {flag} {n} of module {} is an {}, expected an {}",
                m.name,
                if input { "output" } else { "input" },
                if input { "input" } else { "output" }
            ),
            None => bail!("{file}: module {} has no port {n} ({flag})", m.name),
        }
    };
    let ins: Vec<&Port> = ports.iter().filter(|p| p.is_input()).collect();
    let outs: Vec<&Port> = ports.iter().filter(|p| !p.is_input()).collect();
    // Inputs are inferred when there are exactly two, the output when there is exactly one.
    let auto_in = ins.len() == 2;
    let auto_out = outs.len() == 1;
    let pick = |given: Option<&str>,
                auto_port: Option<&Port>,
                input: bool,
                flag: &str|
     -> Result<Port> {
        match (given, auto_port) {
            (Some(n), _) => find(n, input, flag),
            (None, Some(p)) if (input && auto_in) || (!input && auto_out) => Ok(p.clone()),
            _ => bail!(
                "{file}: module {} has {} inputs and {} outputs, so ports cannot be auto-detected; give {flag}",
                m.name,
                ins.len(),
                outs.len()
            ),
        }
    };
    Ok(TopPorts {
        top: m.name.clone(),
        a: pick(names.0, ins.first().copied(), true, "--port-a")?,
        b: pick(names.1, ins.get(1).copied(), true, "--port-b")?,
        y: pick(names.2, outs.first().copied(), false, "--port-out")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameterized_ports() {
        let src =
            "module pm #(parameter W = 4, parameter integer P = 2 * W, localparam L = P - 1)\n\
                   (input [W-1:0] a, input [W - 1 : 0] b, output [L:0] y);\n\
                   parameter Q = 3, R = Q + 1; assign y = a * b; endmodule";
        let m = &modules(src, "p.v").unwrap()[0];
        let names: Vec<(&str, bool)> = m
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.local))
            .collect();
        assert_eq!(
            names,
            [
                ("W", false),
                ("P", false),
                ("L", true),
                ("Q", false),
                ("R", false)
            ]
        );
        let t = detect(src, "p.v", None, (None, None, None), &[]).unwrap();
        assert_eq!((t.a.width, t.y.width), (4, 8));
        let w6 = [("W".to_string(), 6)];
        let t = detect(src, "p.v", None, (None, None, None), &w6).unwrap();
        assert_eq!((t.a.width, t.b.width, t.y.width), (6, 6, 12));
        assert_eq!(
            m.param_values(&w6, "p.v").unwrap()[4],
            ("R".to_string(), Ok(4))
        );
        let e = detect(src, "p.v", None, (None, None, None), &[("L".into(), 3)]).unwrap_err();
        assert!(e.to_string().contains("localparam"), "{e}");
        let e = detect(src, "p.v", None, (None, None, None), &[("Z".into(), 3)]).unwrap_err();
        assert!(
            e.to_string()
                .contains("no parameter `Z` (parameters: W, P, Q, R)"),
            "{e}"
        );
        let e = detect(
            "module q(input [W-1:0] x); endmodule",
            "q.v",
            None,
            (None, None, None),
            &[],
        )
        .unwrap_err();
        assert!(e.to_string().contains("`W` is not a parameter"), "{e}");
        let no = |x: &str| eval(&tokens(x), &|n: &str| Err(format!("no {n}")));
        assert_eq!(no("(3 + 4) * 2 - -1"), Ok(15));
        assert_eq!(no("16 / 4 % 3"), Ok(1));
        assert!(no("3 +").is_err() && no("1 / 0").is_err() && no("(1").is_err());
        assert_eq!(
            no("7'b1000000 + 8'hF_f - 'd3 + 4'sd2"),
            Ok(64 + 255 - 3 + 2)
        );
        assert!(no("4'bx0").is_err());
        // A parameter that no port range uses may be beyond this parser.
        let odd = "module o #(parameter S = \"txt\", parameter W = 3)(input [W:0] a, output y); endmodule";
        let m = &modules(odd, "o.v").unwrap()[0];
        assert_eq!(m.ports_with(&[], "o.v").unwrap()[0].width, 4);
    }

    #[test]
    fn ansi_and_non_ansi() {
        let src = "// c\nmodule ha(input a, b, output s, c); assign s=a^b; assign c=a&b; endmodule\n\
                   module m (A, B, O); input [7:0] A; input [7:0] B; output [15:0] O; ha h0 (.a(A[0]), .b(B[0]), .s(O[0]), .c(O[1])); endmodule";
        let t = detect(src, "x.v", None, (None, None, None), &[]).unwrap();
        assert_eq!(t.top, "m");
        assert_eq!((t.a.name.as_str(), t.a.width), ("A", 8));
        assert_eq!((t.y.name.as_str(), t.y.width), ("O", 16));
        let t = detect(
            "module q(input wire [3:0] x, input [3:0] y, output reg [7:0] p, output v); endmodule",
            "q.v",
            None,
            (None, None, Some("p")),
            &[],
        )
        .unwrap();
        assert_eq!(
            (t.a.name.as_str(), t.b.name.as_str(), t.y.width),
            ("x", "y", 8)
        );
        assert!(detect(
            "module q(input [3:0] x, input [3:0] y, output [7:0] p, output v); endmodule",
            "q.v",
            None,
            (None, None, None),
            &[]
        )
        .is_err());
        assert!(detect(
            "module q(input [W-1:0] x); endmodule",
            "q.v",
            None,
            (None, None, None),
            &[]
        )
        .is_err());
    }
}
