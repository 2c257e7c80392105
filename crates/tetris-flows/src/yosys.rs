//! Running Yosys scripts and reading `stat -json` and `write_json` back.
//!
//! Yosys 0.23 (Debian) writes the hierarchy tree as plain text into the middle of
//! `tee -o FILE stat -json` when a top is set, so the file is not valid JSON as is: lines that
//! cannot belong to the pretty-printed JSON are dropped before parsing. Hierarchical totals
//! (own cells + instances x child totals) are then computed here rather than read from the
//! `design` section, so every module gets its figures, not only the top.

use super::tools::{run, Tool, ToolRun};
use anyhow::{bail, Context, Result};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// `yosys -q -l LOG -s SCRIPT` in `dir`; on failure the error quotes the log's tail.
pub fn run_script(dir: &Path, script: &str, log: &str) -> Result<ToolRun> {
    let r = run(Tool::Yosys, &["-q", "-l", log, "-s", script], dir)?;
    if !r.ok {
        let text = std::fs::read_to_string(dir.join(log)).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(25).collect();
        bail!(
            "yosys -s {script} failed in {} (log {}):\n{}\n{}",
            dir.display(),
            dir.join(log).display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
            r.stderr.trim()
        );
    }
    Ok(r)
}

/// The parts of Yosys's `write_json` this crate reads.
#[derive(Debug, Deserialize)]
pub struct YosysJson {
    #[serde(deserialize_with = "in_order")]
    pub modules: Vec<(String, YosysModule)>,
}

#[derive(Debug, Deserialize)]
pub struct YosysModule {
    #[serde(default)]
    pub attributes: BTreeMap<String, Value>,
    /// Overridable parameters and their default values (no `localparam`).
    #[serde(default)]
    pub parameter_default_values: BTreeMap<String, Value>,
    /// In the module's port order.
    #[serde(default, deserialize_with = "in_order")]
    pub ports: Vec<(String, YosysPort)>,
    #[serde(default)]
    pub cells: BTreeMap<String, YosysCell>,
}

#[derive(Debug, Deserialize)]
pub struct YosysPort {
    pub direction: String,
    /// One entry per bit (a net number or a constant such as "0").
    pub bits: Vec<Value>,
    #[serde(default)]
    pub signed: u8,
}

#[derive(Debug, Deserialize)]
pub struct YosysCell {
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub parameters: BTreeMap<String, Value>,
    #[serde(default)]
    pub attributes: BTreeMap<String, Value>,
    /// "input" or "output" per port (cells of known types).
    #[serde(default)]
    pub port_directions: BTreeMap<String, String>,
    /// The bits of each port: net numbers or constants such as "0".
    #[serde(default)]
    pub connections: BTreeMap<String, Vec<Value>>,
}

/// A JSON object as a list of its entries in file order: Yosys writes ports in the module's
/// port order, which auto-detection of the operands relies on (serde_json's map sorts keys).
fn in_order<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> std::result::Result<Vec<(String, T)>, D::Error> {
    struct Entries<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Entries<T> {
        type Value = Vec<(String, T)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(
            self,
            mut m: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(entry) = m.next_entry()? {
                out.push(entry);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Entries(std::marker::PhantomData))
}

impl YosysJson {
    /// Read the JSON Yosys wrote to `path`; `label` names the user's design in errors.
    pub fn read(path: &Path, label: &str) -> Result<Self> {
        tetris_fs::read_json(path).with_context(|| format!("{label}: the JSON Yosys wrote"))
    }
}

/// One module's own figures from `stat -json` (its submodule instances are cells too).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModuleStat {
    pub cells_by_type: BTreeMap<String, u64>,
    /// `stat -tech cmos` estimate of the module's own gates (submodules excluded), if run.
    pub transistors: Option<u64>,
}

/// Keep only lines that belong to pretty-printed JSON (see the module doc).
fn json_lines(text: &str) -> String {
    text.lines()
        .filter(|l| {
            let t = l.trim_start();
            t.is_empty() || t.starts_with(['"', '{', '}', '[', ']'])
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Module name as Yosys prints it, without the leading `\` of public names.
fn clean_name(n: &str) -> String {
    n.strip_prefix('\\').unwrap_or(n).to_string()
}

/// The parts of `stat -json [-tech cmos]` this crate reads.
#[derive(Debug, Deserialize)]
struct StatJson {
    modules: BTreeMap<String, StatModule>,
}

#[derive(Debug, Deserialize)]
struct StatModule {
    #[serde(default)]
    num_cells_by_type: BTreeMap<String, u64>,
    /// With `-tech cmos`: the module's own estimate, "10826+" when it has submodules (which
    /// the hierarchy walk adds).
    estimated_num_transistors: Option<String>,
}

/// Parse a `stat -json [-tech cmos]` file into per-module own figures.
pub fn parse_stat_json(text: &str) -> Result<BTreeMap<String, ModuleStat>> {
    let doc: StatJson = tetris_fs::parse_json(&json_lines(text), "stat -json output")?;
    let mut out = BTreeMap::new();
    for (name, m) in doc.modules {
        let transistors = m
            .estimated_num_transistors
            .map(|s| s.trim_end_matches('+').parse::<u64>())
            .transpose()
            .with_context(|| format!("transistor estimate of {name}"))?;
        let cells_by_type = m
            .num_cells_by_type
            .into_iter()
            .map(|(t, n)| (clean_name(&t), n))
            .collect();
        out.insert(
            clean_name(&name),
            ModuleStat {
                cells_by_type,
                transistors,
            },
        );
    }
    Ok(out)
}

/// A module's figures including everything below it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HierStat {
    /// Primitive cells by type over the whole subtree (submodule instances expanded).
    pub cells_by_type: BTreeMap<String, u64>,
    pub transistors: Option<u64>,
    /// Direct submodule instances: module name -> count.
    pub instances: BTreeMap<String, u64>,
}

impl HierStat {
    pub fn cells(&self) -> u64 {
        self.cells_by_type.values().sum()
    }
    pub fn count(&self, f: impl Fn(&str) -> bool) -> u64 {
        self.cells_by_type
            .iter()
            .filter(|(t, _)| f(t))
            .map(|(_, n)| n)
            .sum()
    }
}

/// Subtree totals of every module reachable from `top`.
pub fn hierarchy_totals(
    stats: &BTreeMap<String, ModuleStat>,
    top: &str,
) -> Result<BTreeMap<String, HierStat>> {
    fn visit(
        name: &str,
        stats: &BTreeMap<String, ModuleStat>,
        done: &mut BTreeMap<String, HierStat>,
        depth: usize,
    ) -> Result<HierStat> {
        if let Some(h) = done.get(name) {
            return Ok(h.clone());
        }
        if depth > 64 {
            bail!("module hierarchy deeper than 64 at {name} (recursive instantiation?)");
        }
        let m = stats
            .get(name)
            .with_context(|| format!("module {name} is missing from stat -json"))?;
        let mut h = HierStat {
            transistors: m.transistors,
            ..HierStat::default()
        };
        for (t, &n) in &m.cells_by_type {
            if stats.contains_key(t) {
                h.instances.insert(t.clone(), n);
                let child = visit(t, stats, done, depth + 1)?;
                for (ct, cn) in &child.cells_by_type {
                    *h.cells_by_type.entry(ct.clone()).or_default() += cn * n;
                }
                h.transistors = match (h.transistors, child.transistors) {
                    (Some(a), Some(b)) => Some(a + b * n),
                    _ => None,
                };
            } else {
                *h.cells_by_type.entry(t.clone()).or_default() += n;
            }
        }
        done.insert(name.to_string(), h.clone());
        Ok(h)
    }
    let mut done = BTreeMap::new();
    visit(top, stats, &mut done, 0)?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The shape Yosys 0.23 writes, hierarchy text included.
    const STAT: &str = r#"{
   "creator": "Yosys 0.23",
   "modules": {
      "\\top": {
         "num_cells":         3,
         "num_cells_by_type": {
            "$_AND_": 1,
            "leaf": 2
         },
         "estimated_num_transistors": "6+"
      },
      "\\leaf": {
         "num_cells":         2,
         "num_cells_by_type": {
            "$_DFF_P_": 1,
            "$_XOR_": 1
         },
         "estimated_num_transistors": "28"
      }
   },
   top                              1
     leaf                           2
   "design": {
         "num_cells":         5
   }
}
"#;

    #[test]
    fn totals_expand_instances() {
        let s = parse_stat_json(STAT).unwrap();
        assert_eq!(s["top"].transistors, Some(6));
        let h = hierarchy_totals(&s, "top").unwrap();
        let t = &h["top"];
        assert_eq!(t.cells(), 5);
        assert_eq!(t.cells_by_type["$_DFF_P_"], 2);
        assert_eq!(t.transistors, Some(6 + 2 * 28));
        assert_eq!(t.instances["leaf"], 2);
        assert_eq!(h["leaf"].cells(), 2);
    }

    #[test]
    fn missing_module_is_an_error() {
        let s = parse_stat_json(STAT).unwrap();
        assert!(hierarchy_totals(&s, "nope").is_err());
        assert!(parse_stat_json("not json").is_err());
        let e = parse_stat_json(&STAT.replace(r#""$_AND_": 1"#, r#""$_AND_": "x""#));
        let e = e.unwrap_err().to_string();
        assert!(e.starts_with("stat -json output: field modules"), "{e}");
    }
}
