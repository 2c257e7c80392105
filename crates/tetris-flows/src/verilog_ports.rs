//! Modules and ports of Verilog written by others, as Yosys reads them: `read_verilog -sv;
//! proc; write_json` lists every module with its ports (parameters at their defaults), its
//! overridable parameters (`parameter_default_values`: a `localparam` is not one) and the
//! modules it instantiates (the JSON's types are `crate::yosys`'s); `super::structure`
//! elaborates the chosen top with the overrides (`hierarchy -chparam`) for its final port
//! widths. Yosys is the Verilog front end, so any Verilog it reads is understood the same way
//! as by the synthesis and the checks after it.

use crate::tools::{run, Tool};
use crate::yosys::{YosysJson, YosysModule};
use anyhow::{bail, Context, Result};
use std::path::Path;

use tetris_netlist::Dir;
/// Ports of the top module are the project's one `Port` type.
pub use tetris_netlist::Port;

impl YosysModule {
    /// The ports as the project's `Port`s, in port order.
    pub fn ports(&self, name: &str, label: &str) -> Result<Vec<Port>> {
        self.ports
            .iter()
            .map(|(p, y)| {
                let dir = match y.direction.as_str() {
                    "input" => Dir::In,
                    "output" => Dir::Out,
                    _ => bail!(
                        "{label}: module {name} has an {} port {p}; only combinational \
                         input/output ports are supported",
                        y.direction
                    ),
                };
                Ok(Port {
                    name: p.clone(),
                    dir,
                    width: y.bits.len() as u32,
                    signed: y.signed == 1,
                })
            })
            .collect()
    }

    /// Check `overrides` (`--param NAME=VALUE`): each must name a parameter of this module.
    pub fn check_overrides(
        &self,
        name: &str,
        overrides: &[(String, i64)],
        label: &str,
    ) -> Result<()> {
        for (n, _) in overrides {
            if !self.parameter_default_values.contains_key(n) {
                let known: Vec<&str> = self
                    .parameter_default_values
                    .keys()
                    .map(String::as_str)
                    .collect();
                bail!(
                    "{label}: --param {n}: module {name} has no parameter `{n}` (parameters: {}; \
                     a localparam cannot be overridden)",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                );
            }
        }
        Ok(())
    }
}

/// The modules of `files` as Yosys reads them (`read_verilog`, with `-sv` when `sv`), before
/// elaboration; Yosys runs in `dir` and writes its JSON there. Each file is a pair (the name
/// given to Yosys, the name shown to the user in its errors); `label` names the design.
pub fn read_modules(
    dir: &Path,
    files: &[(&str, &str)],
    sv: bool,
    label: &str,
) -> Result<Vec<(String, YosysModule)>> {
    let quoted: Vec<String> = files.iter().map(|(f, _)| format!("\"{f}\"")).collect();
    // `proc`: the JSON backend writes no module that still holds processes (`always` blocks).
    let script = format!(
        "read_verilog{} {}; proc; write_json modules.json",
        if sv { " -sv" } else { "" },
        quoted.join(" ")
    );
    let r = run(Tool::Yosys, &["-q", "-p", &script], dir)?;
    if !r.ok {
        bail!(
            "{label}: yosys cannot read the Verilog:\n{}",
            yosys_errors(&r.log(), files)
        );
    }
    let doc = YosysJson::read(&dir.join("modules.json"), label)?;
    if doc.modules.is_empty() {
        bail!("{label}: no module found");
    }
    Ok(doc.modules)
}

/// The ERROR lines of a Yosys log (the whole log when there are none), each file name given
/// to Yosys replaced by the one the user knows (`files`: pairs as in [`read_modules`]).
pub fn yosys_errors(log: &str, files: &[(&str, &str)]) -> String {
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).collect();
    let mut text = if errors.is_empty() {
        log.trim().to_string()
    } else {
        errors.join("\n")
    };
    for (given, shown) in files {
        if given != shown {
            text = text.replace(given, shown);
        }
    }
    text
}

/// The top module: `top` if given, else the one module no other module instantiates.
pub fn pick_top<'a>(
    mods: &'a [(String, YosysModule)],
    top: Option<&str>,
    label: &str,
) -> Result<&'a (String, YosysModule)> {
    let sorted = |mut v: Vec<&str>| {
        v.sort_unstable();
        v.join(", ")
    };
    let names = || sorted(mods.iter().map(|(n, _)| n.as_str()).collect());
    if let Some(t) = top {
        return mods
            .iter()
            .find(|(n, _)| n == t)
            .with_context(|| format!("{label}: --top {t} not found; modules: {}", names()));
    }
    let roots: Vec<&(String, YosysModule)> = mods
        .iter()
        .filter(|(n, _)| {
            !mods
                .iter()
                .any(|(o, m)| o != n && m.cells.values().any(|c| &c.ty == n))
        })
        .collect();
    match roots.as_slice() {
        [one] => Ok(one),
        _ => bail!(
            "{label}: cannot tell the top module ({} candidates: {}); give --top",
            roots.len(),
            sorted(roots.iter().map(|(n, _)| n.as_str()).collect())
        ),
    }
}

/// The chosen top module and its multiplier ports.
#[derive(Debug, Clone)]
pub struct TopPorts {
    pub top: String,
    pub a: Port,
    pub b: Port,
    pub y: Port,
}

impl TopPorts {
    /// The operand and product ports of `top` among its `ports` (in port order): given by
    /// name, or auto-detected when it has exactly two inputs (a, then b) and one output.
    pub fn pick(
        top: &str,
        ports: &[Port],
        names: (Option<&str>, Option<&str>, Option<&str>),
        label: &str,
    ) -> Result<TopPorts> {
        let find = |n: &str, input: bool, flag: &str| -> Result<Port> {
            match ports.iter().find(|p| p.name == n) {
                Some(p) if p.is_input() == input => Ok(p.clone()),
                Some(_) => bail!(
                    "{label}: {flag} {n} of module {top} is an {}, expected an {}",
                    if input { "output" } else { "input" },
                    if input { "input" } else { "output" }
                ),
                None => bail!("{label}: module {top} has no port {n} ({flag})"),
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
                    "{label}: module {top} has {} inputs and {} outputs, so ports cannot be \
                     auto-detected; give {flag}",
                    ins.len(),
                    outs.len()
                ),
            }
        };
        Ok(TopPorts {
            top: top.to_string(),
            a: pick(names.0, ins.first().copied(), true, "--port-a")?,
            b: pick(names.1, ins.get(1).copied(), true, "--port-b")?,
            y: pick(names.2, outs.first().copied(), false, "--port-out")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The modules of `src`, read by Yosys in a scratch folder.
    fn read(src: &str) -> Result<Vec<(String, YosysModule)>> {
        let dir = tetris_fs::ScratchDir::new("tetris-ports-test")?;
        std::fs::write(dir.path().join("t.v"), src)?;
        read_modules(dir.path(), &[("t.v", "p.v")], true, "p.v")
    }

    #[test]
    fn parameters_localparams_and_port_order() {
        let src =
            "module pm #(parameter W = 4, parameter integer P = 2 * W, localparam L = P - 1)\n\
                   (input [W-1:0] a, input [W - 1 : 0] b, output [L:0] y);\n\
                   parameter Q = 3, R = Q + 1; assign y = a * b; endmodule";
        let mods = read(src).unwrap();
        let (name, m) = pick_top(&mods, None, "p.v").unwrap();
        let names: Vec<&str> = m
            .parameter_default_values
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(names, ["P", "Q", "R", "W"]);
        let ports = m.ports(name, "p.v").unwrap();
        let t = TopPorts::pick(name, &ports, (None, None, None), "p.v").unwrap();
        assert_eq!((t.a.width, t.y.width), (4, 8));
        m.check_overrides(name, &[("W".into(), 6)], "p.v").unwrap();
        let e = m
            .check_overrides(name, &[("L".into(), 3)], "p.v")
            .unwrap_err();
        assert!(e.to_string().contains("localparam"), "{e}");
        let e = m
            .check_overrides(name, &[("Z".into(), 3)], "p.v")
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("no parameter `Z` (parameters: P, Q, R, W;"),
            "{e}"
        );
        // A width over a name that is not a parameter: Yosys's error, naming the file.
        let e = read("module q(input [W-1:0] x); endmodule")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("p.v: yosys cannot read") && e.contains("p.v:1: ERROR"),
            "{e}"
        );
    }

    #[test]
    fn ansi_and_non_ansi_tops_and_ports() {
        let src = "// c\nmodule ha(input a, b, output s, c); assign s=a^b; assign c=a&b; endmodule\n\
                   module m (A, B, O); input [7:0] A; input signed [7:0] B; output [15:0] O; ha h0 (.a(A[0]), .b(B[0]), .s(O[0]), .c(O[1])); endmodule";
        let mods = read(src).unwrap();
        let (name, m) = pick_top(&mods, None, "x.v").unwrap();
        assert_eq!(name, "m");
        let ports = m.ports(name, "x.v").unwrap();
        let t = TopPorts::pick(name, &ports, (None, None, None), "x.v").unwrap();
        assert_eq!((t.a.name.as_str(), t.a.width, t.a.signed), ("A", 8, false));
        assert_eq!((t.b.name.as_str(), t.b.signed), ("B", true));
        assert_eq!((t.y.name.as_str(), t.y.width), ("O", 16));
        let e = pick_top(&mods, Some("nope"), "x.v")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--top nope not found; modules: ha, m"), "{e}");
        // Two roots: the top must be given.
        let mods =
            read("module u(input a, output y); endmodule\nmodule v(input a, output y); endmodule")
                .unwrap();
        let e = pick_top(&mods, None, "x.v").unwrap_err().to_string();
        assert!(e.contains("2 candidates: u, v"), "{e}");
        let mods = read(
            "module q(input wire [3:0] x, input [3:0] y, output reg [7:0] p, output v); endmodule",
        )
        .unwrap();
        let ports = mods[0].1.ports("q", "q.v").unwrap();
        let t = TopPorts::pick("q", &ports, (None, None, Some("p")), "q.v").unwrap();
        assert_eq!(
            (t.a.name.as_str(), t.b.name.as_str(), t.y.width),
            ("x", "y", 8)
        );
        let e = TopPorts::pick("q", &ports, (None, None, None), "q.v").unwrap_err();
        assert!(
            e.to_string()
                .contains("2 outputs, so ports cannot be auto-detected; give --port-out"),
            "{e}"
        );
        let e = TopPorts::pick("q", &ports, (Some("p"), None, Some("p")), "q.v").unwrap_err();
        assert!(
            e.to_string()
                .contains("--port-a p of module q is an output"),
            "{e}"
        );
        let mods = read("module io(inout a, output y); endmodule").unwrap();
        let e = mods[0].1.ports("io", "io.v").unwrap_err().to_string();
        assert!(e.contains("inout port a"), "{e}");
    }
}
