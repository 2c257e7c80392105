//! Finding a combinational multiplier's top module and ports in Verilog source: enough of a
//! parser for flat netlists (ANSI and non-ANSI port lists, `input [7:0] A, B;`), not a
//! Verilog front end. Verilator then elaborates the design for real.

use anyhow::{bail, Result};

/// One port of the top module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub name: String,
    pub input: bool,
    pub width: u32,
}

/// A module found in the source.
#[derive(Debug, Clone)]
pub struct ModuleInfo {
    pub name: String,
    pub ports: Vec<Port>,
    /// Names of the modules it instantiates (identifier followed by an instance name and `(`).
    pub body: String,
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
            let mut width = 1u32;
            if k < body.len() && body[k] == "[" {
                let close = body[k..].iter().position(|t| t == "]").map(|p| k + p);
                let Some(close) = close else {
                    bail!("{file}: module {name}: unterminated range in a port declaration");
                };
                let inner = &body[k + 1..close];
                let (msb, lsb) = match inner {
                    [m, c, l] if c == ":" => (m.parse::<i64>(), l.parse::<i64>()),
                    _ => bail!(
                        "{file}: module {name}: port range `[{}]` is not two integer literals (parameters are not supported)",
                        inner.join("")
                    ),
                };
                let (Ok(msb), Ok(lsb)) = (msb, lsb) else {
                    bail!(
                        "{file}: module {name}: port range `[{}]` is not two integer literals",
                        inner.join("")
                    );
                };
                width = ((msb - lsb).abs() + 1) as u32;
                k = close + 1;
            }
            // Names until ; or ) or the next direction keyword.
            while k < body.len() {
                let t = body[k].as_str();
                if t == ";" || t == ")" || t == "input" || t == "output" || t == "inout" {
                    break;
                }
                if t != ","
                    && t.chars()
                        .next()
                        .is_some_and(|c| c.is_alphabetic() || c == '_')
                {
                    ports.push(Port {
                        name: t.to_string(),
                        input: dir == "input",
                        width,
                    });
                }
                k += 1;
            }
        }
        mods.push(ModuleInfo {
            name,
            ports,
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
/// ports (given, or auto-detected when it has exactly two inputs and one output).
pub fn detect(
    src: &str,
    file: &str,
    top: Option<&str>,
    names: (Option<&str>, Option<&str>, Option<&str>),
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
    let find = |n: &str, input: bool, flag: &str| -> Result<Port> {
        match m.ports.iter().find(|p| p.name == n) {
            Some(p) if p.input == input => Ok(p.clone()),
            Some(_) => bail!(
                "{file}: {flag} {n} of module {} is an {}, expected an {}",
                m.name,
                if input { "output" } else { "input" },
                if input { "input" } else { "output" }
            ),
            None => bail!("{file}: module {} has no port {n} ({flag})", m.name),
        }
    };
    let ins: Vec<&Port> = m.ports.iter().filter(|p| p.input).collect();
    let outs: Vec<&Port> = m.ports.iter().filter(|p| !p.input).collect();
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
    fn ansi_and_non_ansi() {
        let src = "// c\nmodule ha(input a, b, output s, c); assign s=a^b; assign c=a&b; endmodule\n\
                   module m (A, B, O); input [7:0] A; input [7:0] B; output [15:0] O; ha h0 (.a(A[0]), .b(B[0]), .s(O[0]), .c(O[1])); endmodule";
        let t = detect(src, "x.v", None, (None, None, None)).unwrap();
        assert_eq!(t.top, "m");
        assert_eq!((t.a.name.as_str(), t.a.width), ("A", 8));
        assert_eq!((t.y.name.as_str(), t.y.width), ("O", 16));
        let t = detect(
            "module q(input wire [3:0] x, input [3:0] y, output reg [7:0] p, output v); endmodule",
            "q.v",
            None,
            (None, None, Some("p")),
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
            (None, None, None)
        )
        .is_err());
        assert!(detect(
            "module q(input [W-1:0] x); endmodule",
            "q.v",
            None,
            (None, None, None)
        )
        .is_err());
    }
}
