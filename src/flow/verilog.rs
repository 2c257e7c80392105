//! Post-processing of rust-hdl's Verilog into a product a hardware engineer can use.
//!
//! rust-hdl 0.46 emits one string with one module per *instance*, named by its path joined
//! with `$` (`top$sac_core$seg_lane$3$seg`). This pass
//! 1. splits it into modules and finds each module's children;
//! 2. merges identical modules bottom-up (a module's identity is its text with its own name
//!    removed and its children replaced by their merged names), so the module count grows with
//!    the number of distinct blocks, not instances;
//! 3. names each distinct module `<top>_<block>` after the last named path segment (DFFs:
//!    `<top>_dff_w<width>`), with `_2`, `_3` .. only when distinct blocks share a name;
//! 4. replaces `$` in identifiers by `_` (refusing if that makes two names collide or hits a
//!    Verilog keyword);
//! 5. rewrites rust-hdl's width idioms that Verilator flags (`x = 32'h0` into a narrower x,
//!    `((x) & 16'hffff)` casts) into exactly sized Verilog with the same value;
//! 6. adds a header comment to each module (generator, version, config hash).

use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, HashMap};

/// One distinct module of the emitted design.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub name: String,
    /// Verilog text including the header comment.
    pub text: String,
    /// Names of the distinct modules it instantiates.
    pub children: Vec<String>,
}

/// A whole design after post-processing.
#[derive(Debug, Clone)]
pub struct Design {
    pub top: String,
    /// Distinct modules in dependency order (children before parents, top last).
    pub modules: Vec<Module>,
    /// Modules rust-hdl emitted (one per instance) before merging.
    pub instances: usize,
}

impl Design {
    pub fn verilog_bytes(&self) -> usize {
        self.modules.iter().map(|m| m.text.len()).sum()
    }
    pub fn file_name(m: &Module) -> String {
        format!("{}.v", m.name)
    }
}

/// What goes into every file header.
#[derive(Debug, Clone)]
pub struct Header {
    pub generator: String,
    pub config_hash: String,
    pub description: String,
}

impl Header {
    pub fn new(config_hash: &str, description: &str) -> Self {
        Header {
            generator: format!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
            config_hash: config_hash.to_string(),
            description: description.to_string(),
        }
    }
}

struct RawModule {
    path: String,
    body: String,
}

fn split_modules(raw: &str) -> Result<Vec<RawModule>> {
    let mut out = vec![];
    let mut cur: Option<(String, Vec<&str>)> = None;
    for line in raw.lines() {
        if let Some(rest) = line.strip_prefix("module ") {
            if cur.is_some() {
                bail!("rust-hdl output: module inside module at {line:?}");
            }
            let name = rest
                .split('(')
                .next()
                .context("rust-hdl output: module line without ports")?
                .trim()
                .to_string();
            cur = Some((name, vec![line]));
        } else if line.starts_with("endmodule") {
            let (path, mut lines) = cur
                .take()
                .context("rust-hdl output: endmodule without module")?;
            lines.push("endmodule");
            out.push(RawModule {
                path,
                body: lines.join("\n"),
            });
        } else if let Some((_, lines)) = cur.as_mut() {
            lines.push(line);
        }
    }
    if cur.is_some() {
        bail!("rust-hdl output: last module has no endmodule");
    }
    if out.is_empty() {
        bail!("rust-hdl output contains no module");
    }
    Ok(out)
}

/// Lines that instantiate a child: `    <type> <instance>(`.
fn child_types<'a>(body: &'a str, known: &HashMap<&str, usize>) -> Vec<&'a str> {
    body.lines()
        .filter_map(|l| {
            let t = l.trim();
            let mut it = t.split_whitespace();
            let ty = it.next()?;
            let inst = it.next()?;
            (inst.ends_with('(') && it.next().is_none() && known.contains_key(ty)).then_some(ty)
        })
        .collect()
}

const VERILOG_KEYWORDS: &[&str] = &[
    "always",
    "and",
    "assign",
    "automatic",
    "begin",
    "buf",
    "bufif0",
    "bufif1",
    "case",
    "casex",
    "casez",
    "cell",
    "cmos",
    "config",
    "deassign",
    "default",
    "defparam",
    "design",
    "disable",
    "edge",
    "else",
    "end",
    "endcase",
    "endconfig",
    "endfunction",
    "endgenerate",
    "endmodule",
    "endprimitive",
    "endspecify",
    "endtable",
    "endtask",
    "event",
    "for",
    "force",
    "forever",
    "fork",
    "function",
    "generate",
    "genvar",
    "highz0",
    "highz1",
    "if",
    "ifnone",
    "incdir",
    "include",
    "initial",
    "inout",
    "input",
    "instance",
    "integer",
    "join",
    "large",
    "liblist",
    "library",
    "localparam",
    "macromodule",
    "medium",
    "module",
    "nand",
    "negedge",
    "nmos",
    "nor",
    "noshowcancelled",
    "not",
    "notif0",
    "notif1",
    "or",
    "output",
    "parameter",
    "pmos",
    "posedge",
    "primitive",
    "pull0",
    "pull1",
    "pulldown",
    "pullup",
    "pulsestyle_onevent",
    "pulsestyle_ondetect",
    "rcmos",
    "real",
    "realtime",
    "reg",
    "release",
    "repeat",
    "rnmos",
    "rpmos",
    "rtran",
    "rtranif0",
    "rtranif1",
    "scalared",
    "showcancelled",
    "signed",
    "small",
    "specify",
    "specparam",
    "strong0",
    "strong1",
    "supply0",
    "supply1",
    "table",
    "task",
    "time",
    "tran",
    "tranif0",
    "tranif1",
    "tri",
    "tri0",
    "tri1",
    "triand",
    "trior",
    "trireg",
    "unsigned",
    "use",
    "uwire",
    "vectored",
    "wait",
    "wand",
    "weak0",
    "weak1",
    "while",
    "wire",
    "wor",
    "xnor",
    "xor",
    "logic",
    "bit",
    "byte",
    "int",
    "shortint",
    "longint",
    "string",
    "type",
];

/// Declared names and widths of a module (ports, regs, wires, localparams).
fn declarations(body: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for l in body.lines() {
        let t = l.trim();
        let rest = [
            "input wire",
            "output reg",
            "output wire",
            "inout wire",
            "reg",
            "wire",
        ]
        .iter()
        .find_map(|k| t.strip_prefix(k).filter(|r| r.starts_with(' ')));
        if let Some(rest) = rest {
            let rest = rest.trim().trim_end_matches(';');
            let (width, name) = if let Some(r) = rest.strip_prefix('[') {
                let (range, name) = r.split_once(']').unwrap_or(("0:0", r));
                let hi: usize = range
                    .split(':')
                    .next()
                    .and_then(|h| h.trim().parse().ok())
                    .unwrap_or(0);
                (hi + 1, name.trim())
            } else {
                (1, rest)
            };
            if !name.is_empty() && !name.contains(' ') {
                out.insert(name.to_string(), width);
            }
        } else if let Some(rest) = t.strip_prefix("localparam") {
            if let Some((name, _)) = rest.split_once('=') {
                out.insert(name.trim().to_string(), 0);
            }
        }
    }
    out
}

fn sanitize_names(path: &str, body: &str) -> Result<String> {
    let decls = declarations(body);
    let mut seen: HashMap<String, &str> = HashMap::new();
    for name in decls.keys() {
        let clean = name.replace('$', "_");
        if VERILOG_KEYWORDS.contains(&clean.as_str()) {
            bail!("module {path}: signal `{name}` is a Verilog keyword; rename the Rust field");
        }
        if let Some(other) = seen.insert(clean.clone(), name) {
            bail!("module {path}: signals `{other}` and `{name}` both become `{clean}` once `$` is replaced");
        }
    }
    Ok(body.replace('$', "_"))
}

/// Parse a sized hex literal like `16'hffff` into (width, value).
fn parse_hex_literal(s: &str) -> Option<(usize, u128)> {
    let (w, v) = s.split_once("'h")?;
    let w: usize = w.parse().ok()?;
    let v = u128::from_str_radix(v, 16).ok()?;
    Some((w, v))
}

fn hex(width: usize, value: u128) -> String {
    format!("{width}'h{value:x}")
}

fn mask(width: usize) -> u128 {
    if width >= 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    }
}

/// Rewrite `((inner) & N'hMASK)` (rust-hdl's bit_cast) into exactly sized Verilog.
fn fix_casts(line: &str, decls: &BTreeMap<String, usize>) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("((") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let rewritten = (|| {
            let close = after.find(") & ")?;
            let inner = &after[..close];
            let tail = &after[close + 4..];
            let lit_end = tail.find(')')?;
            let (n, m) = parse_hex_literal(&tail[..lit_end])?;
            if m != mask(n) {
                return None;
            }
            let consumed = 2 + close + 4 + lit_end + 1;
            let repl = if let Some((w, v)) = parse_hex_literal(inner) {
                let _ = w;
                hex(n, v & mask(n))
            } else {
                let w = *decls.get(inner)?;
                if w == 0 {
                    return None;
                }
                match w.cmp(&n) {
                    std::cmp::Ordering::Equal => inner.to_string(),
                    std::cmp::Ordering::Less => format!("{{{{{}{{1'b0}}}}, {inner}}}", n - w),
                    std::cmp::Ordering::Greater if n == 1 => format!("{inner}[0]"),
                    std::cmp::Ordering::Greater => format!("{inner}[{}:0]", n - 1),
                }
            };
            Some((repl, consumed))
        })();
        match rewritten {
            Some((repl, consumed)) => {
                out.push_str(&repl);
                rest = &rest[start + consumed..];
            }
            None => {
                out.push_str("((");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `x = 32'h0;` into a narrower (or wider) x: size the literal to x.
fn fix_assign_literal(line: &str, decls: &BTreeMap<String, usize>) -> String {
    let t = line.trim_start();
    let indent = &line[..line.len() - t.len()];
    if let Some((lhs, rhs)) = t.split_once(" = ") {
        if let Some(lit) = rhs.strip_suffix(';') {
            if let (Some(&w), Some((n, v))) = (decls.get(lhs), parse_hex_literal(lit)) {
                if w > 0 && w != n && v <= mask(w) {
                    return format!("{indent}{lhs} = {};", hex(w, v));
                }
            }
        }
    }
    line.to_string()
}

fn fix_widths(body: &str) -> String {
    let decls = declarations(body);
    body.lines()
        .map(|l| fix_assign_literal(&fix_casts(l, &decls), &decls))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Replace whole-word occurrences of `word` (identifier characters around it do not match).
fn replace_word(line: &str, word: &str, with: &str) -> String {
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let bytes = line.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < line.len() {
        if line[i..].starts_with(word)
            && (i == 0 || !is_word(bytes[i - 1]))
            && bytes.get(i + word.len()).is_none_or(|&c| !is_word(c))
        {
            out.push_str(with);
            i += word.len();
        } else {
            let c = line[i..].chars().next().expect("char");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Make every output of a combinational block change at most once per evaluation.
///
/// rust-hdl's idiom "default, then override" (`x = 0; if (c) x = y;`) makes an output glitch
/// inside one evaluation. Two modules that glitch at each other (a parent driving a child's
/// input and reading its output in one block) then re-trigger each other forever in an
/// event-driven simulator (Icarus hangs at one time step), although synthesis and Verilator
/// are fine. The block therefore computes `<out>_comb` and assigns each output once, at its end.
fn single_assignment_outputs(path: &str, body: &str) -> Result<String> {
    if !body.contains("    always @(*) begin") {
        return Ok(body.to_string());
    }
    let decls = declarations(body);
    let outputs: Vec<(String, usize)> = body
        .lines()
        .filter_map(|l| {
            let r = l
                .trim()
                .strip_prefix("output reg")?
                .trim()
                .trim_end_matches(';');
            let name = r.rsplit(' ').next()?.to_string();
            Some((name.clone(), decls.get(&name).copied().unwrap_or(1)))
        })
        .collect();
    for (o, _) in &outputs {
        if decls.contains_key(&format!("{o}_comb")) {
            bail!("module {path}: `{o}_comb` already exists; rename the Rust field");
        }
    }
    let lines: Vec<&str> = body.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == "    always @(*) begin")
        .context("always block")?;
    let end = lines
        .iter()
        .rposition(|l| *l == "    end")
        .filter(|&e| e > start)
        .with_context(|| format!("module {path}: end of the always block not found"))?;
    let mut out = vec![];
    for (i, l) in lines.iter().enumerate() {
        if i == start {
            // Declare the shadows just before the block.
            for (o, w) in &outputs {
                if *w > 1 {
                    out.push(format!("    reg  [{}:0] {o}_comb;", w - 1));
                } else {
                    out.push(format!("    reg  {o}_comb;"));
                }
            }
            out.push(l.to_string());
        } else if i > start && i < end {
            let mut x = l.to_string();
            for (o, _) in &outputs {
                x = replace_word(&x, o, &format!("{o}_comb"));
            }
            out.push(x);
        } else if i == end {
            for (o, _) in &outputs {
                out.push(format!("        {o} = {o}_comb;"));
            }
            out.push(l.to_string());
        } else {
            out.push(l.to_string());
        }
    }
    Ok(out.join("\n") + "\n")
}

fn is_dff(body: &str) -> Option<usize> {
    if !body.contains("always @(posedge clock) begin\n       q <= d;") {
        return None;
    }
    declarations(body).get("d").copied()
}

fn readable_base(path: &str) -> String {
    path.split('$')
        .rev()
        .find(|s| !s.chars().all(|c| c.is_ascii_digit()))
        .unwrap_or("block")
        .to_string()
}

/// Post-process rust-hdl output whose top module is `top` into a [`Design`] named `top_name`.
pub fn postprocess(raw: &str, top_name: &str, header: &Header) -> Result<Design> {
    let raws = split_modules(raw)?;
    let index: HashMap<&str, usize> = raws
        .iter()
        .enumerate()
        .map(|(i, m)| (m.path.as_str(), i))
        .collect();
    let root = *index
        .get("top")
        .context("rust-hdl output has no `top` module")?;
    // Post-order traversal from the root.
    let mut order = vec![];
    let mut state = vec![0u8; raws.len()]; // 0 new, 1 open, 2 done
    fn visit(
        i: usize,
        raws: &[RawModule],
        index: &HashMap<&str, usize>,
        state: &mut [u8],
        order: &mut Vec<usize>,
    ) -> Result<()> {
        match state[i] {
            2 => return Ok(()),
            1 => bail!("module {} instantiates itself", raws[i].path),
            _ => {}
        }
        state[i] = 1;
        for c in child_types(&raws[i].body, index) {
            visit(index[c], raws, index, state, order)?;
        }
        state[i] = 2;
        order.push(i);
        Ok(())
    }
    visit(root, &raws, &index, &mut state, &mut order)?;

    let mut final_name: HashMap<&str, String> = HashMap::new();
    let mut by_key: HashMap<String, String> = HashMap::new();
    let mut taken: HashMap<String, ()> = HashMap::new();
    let mut modules: Vec<Module> = vec![];
    for &i in &order {
        let m = &raws[i];
        // Canonical text: own name removed, children renamed to their merged names.
        let mut body = String::new();
        let mut children = vec![];
        for (k, line) in m.body.lines().enumerate() {
            let mut l = line.to_string();
            if k == 0 {
                l = l.replacen(&m.path, "__SELF__", 1);
            } else if let Some(ty) = child_types(line, &index).first() {
                let n = &final_name[ty];
                if !children.contains(n) {
                    children.push(n.clone());
                }
                l = l.replacen(ty, n, 1);
            }
            body.push_str(&l);
            body.push('\n');
        }
        let body = fix_widths(&sanitize_names(&m.path, &body)?);
        let body = single_assignment_outputs(&m.path, &body)?;
        if let Some(n) = by_key.get(&body) {
            final_name.insert(&m.path, n.clone());
            continue;
        }
        let base = if i == root {
            top_name.to_string()
        } else if let Some(w) = is_dff(&body) {
            format!("{top_name}_dff_w{w}")
        } else {
            format!("{top_name}_{}", readable_base(&m.path))
        };
        let mut name = base.clone();
        let mut k = 2;
        while taken.contains_key(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        taken.insert(name.clone(), ());
        let text = format!(
            "// {name}: generated by {gen}, config hash {hash}. Do not edit.\n// {desc}\n// rust-hdl instance path of the first instance: {path}\n{body}",
            gen = header.generator,
            hash = header.config_hash,
            desc = header.description,
            path = m.path.replace('$', "."),
            body = body
                .replace("__SELF__(", &format!("{name}("))
                .replace("endmodule", &format!("endmodule // {name}")),
        );
        let text = text.trim_end().to_string() + "\n";
        by_key.insert(body, name.clone());
        final_name.insert(&m.path, name.clone());
        modules.push(Module {
            name,
            text,
            children,
        });
    }
    Ok(Design {
        top: top_name.to_string(),
        modules,
        instances: raws.len(),
    })
}
