//! Verilator builds of an emitted design: the C++ harnesses of `testbenches/` specialised to the
//! design's top-level ports, built once per content hash (Verilog + harness + Verilator version
//! + flags) into a cache folder, so a second run with the same design does not rebuild.
//!
//! Two harnesses:
//! - `replay.cpp`: applies a recorded in-process port trace cycle by cycle and dumps every
//!   output; [`replay`] compares them with the trace (co-simulation, `tetris cosim`).
//! - `array_stream.cpp`: drives the array's stream protocol itself from a compact stimulus
//!   file (the fast engine of `tetris sim --engine verilator`, see `array::verilator_driver`).

use super::tools::{run, Tool};
use super::verilog::Design;
use crate::fsutil::{content_hash, write_atomic, write_dir_atomic};
use crate::hdl::sim::Trace;
use anyhow::{bail, Context, Result};
use num_bigint::BigUint;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

const REPLAY_TEMPLATE: &str = include_str!("../../testbenches/replay.cpp");
const STREAM_TEMPLATE: &str = include_str!("../../testbenches/array_stream.cpp");
const GENERATED_MARK: &str = "// ---- GENERATED ----";

/// One top-level port of the emitted Verilog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub name: String,
    pub input: bool,
    pub width: usize,
}

impl Port {
    /// 32-bit words of the port in the harness files.
    pub fn words(&self) -> usize {
        self.width.div_ceil(32)
    }
}

/// The top module's ports, from its declarations (`input wire [15:0] act_0;`).
pub fn top_ports(design: &Design) -> Result<Vec<Port>> {
    let top = design
        .modules
        .iter()
        .find(|m| m.name == design.top)
        .with_context(|| format!("the design has no module named {}", design.top))?;
    let mut ports = Vec::new();
    for line in top.text.lines() {
        let t = line.trim();
        let (input, rest) = if let Some(r) = t.strip_prefix("input ") {
            (true, r)
        } else if let Some(r) = t.strip_prefix("output ") {
            (false, r)
        } else {
            continue;
        };
        let rest = rest
            .trim_start()
            .trim_start_matches("wire")
            .trim_start_matches("reg")
            .trim();
        let (width, name) = if let Some(r) = rest.strip_prefix('[') {
            let (range, name) = r
                .split_once(']')
                .with_context(|| format!("{}: unreadable port line {t:?}", design.top))?;
            let (hi, lo) = range
                .split_once(':')
                .with_context(|| format!("{}: unreadable port range in {t:?}", design.top))?;
            let hi: usize = hi
                .trim()
                .parse()
                .with_context(|| format!("port line {t:?}"))?;
            if lo.trim() != "0" {
                bail!("{}: port range must end at 0 in {t:?}", design.top);
            }
            (hi + 1, name)
        } else {
            (1, rest)
        };
        let name = name.trim().trim_end_matches(';').trim().to_string();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            bail!("{}: unreadable port name in {t:?}", design.top);
        }
        ports.push(Port { name, input, width });
    }
    for needed in ["clock", "reset"] {
        if !ports.iter().any(|p| p.name == needed && p.input) {
            bail!("{}: the top has no `{needed}` input", design.top);
        }
    }
    Ok(ports)
}

/// Waveform format of a harness build (part of the cache key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wave {
    None,
    Vcd,
    Fst,
}

impl Wave {
    /// From a `--trace` file name: `.fst` is FST, anything else VCD.
    pub fn for_path(p: &Path) -> Wave {
        if p.extension().is_some_and(|e| e == "fst") {
            Wave::Fst
        } else {
            Wave::Vcd
        }
    }
    fn flag(self) -> Option<&'static str> {
        match self {
            Wave::None => None,
            Wave::Vcd => Some("--trace"),
            Wave::Fst => Some("--trace-fst"),
        }
    }
}

/// A built harness executable.
#[derive(Debug, Clone)]
pub struct Built {
    pub exe: PathBuf,
    /// Seconds spent building (0 when taken from the cache).
    pub build_s: f64,
    pub cached: bool,
}

/// Default cache folder: `$TETRIS_CACHE_DIR`, else `$XDG_CACHE_HOME/tetris-hdl`, else
/// `~/.cache/tetris-hdl`, else the system temp folder.
pub fn default_cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("TETRIS_CACHE_DIR") {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("tetris-hdl")
}

fn c_type(width: usize) -> &'static str {
    match width {
        0..=8 => "CData",
        9..=16 => "SData",
        17..=32 => "IData",
        33..=64 => "QData",
        _ => "VlWide",
    }
}

fn prelude(top: &str) -> String {
    format!(
        "// Generated by {} {} for top module `{top}`.\n#define VTOP V{top}\n#define VTOP_HEADER \"V{top}.h\"\n",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION")
    )
}

/// The replay harness for `ports` of `top`.
pub fn replay_harness(top: &str, ports: &[Port]) -> String {
    let mut g = String::new();
    let ins: Vec<&Port> = ports
        .iter()
        .filter(|p| p.input && p.name != "clock")
        .collect();
    let outs: Vec<&Port> = ports.iter().filter(|p| !p.input).collect();
    let words = |v: &[&Port]| v.iter().map(|p| p.words()).sum::<usize>();
    let _ = writeln!(g, "#define IN_WORDS {}", words(&ins));
    let _ = writeln!(g, "#define OUT_WORDS {}", words(&outs));
    g += "static void set_inputs(VTOP& t, const uint32_t* w) {\n";
    let mut k = 0;
    for p in &ins {
        match p.words() {
            1 => {
                let _ = writeln!(g, "    t.{} = w[{k}];", p.name);
            }
            2 => {
                let _ = writeln!(
                    g,
                    "    t.{} = (uint64_t)w[{k}] | ((uint64_t)w[{}] << 32);",
                    p.name,
                    k + 1
                );
            }
            n => {
                for i in 0..n {
                    let _ = writeln!(g, "    t.{}[{i}] = w[{}];", p.name, k + i);
                }
            }
        }
        k += p.words();
    }
    g += "}\nstatic void get_outputs(VTOP& t, uint32_t* w) {\n";
    k = 0;
    for p in &outs {
        match p.words() {
            1 => {
                let _ = writeln!(g, "    w[{k}] = (uint32_t)t.{};", p.name);
            }
            2 => {
                let _ = writeln!(
                    g,
                    "    w[{k}] = (uint32_t)t.{n}; w[{k1}] = (uint32_t)(t.{n} >> 32);",
                    n = p.name,
                    k1 = k + 1
                );
            }
            n => {
                for i in 0..n {
                    let _ = writeln!(g, "    w[{}] = t.{}[{i}];", k + i, p.name);
                }
            }
        }
        k += p.words();
    }
    g += "}\n";
    prelude(top) + &REPLAY_TEMPLATE.replace(GENERATED_MARK, &g)
}

/// Groups of indexed ports `<base>_<i>` (i = 0..n-1, all of one width).
fn indexed(ports: &[Port], base: &str) -> Result<Vec<Port>> {
    let mut v: Vec<(usize, &Port)> = ports
        .iter()
        .filter_map(|p| {
            let idx = p.name.strip_prefix(base)?.strip_prefix('_')?;
            Some((idx.parse().ok()?, p))
        })
        .collect();
    v.sort_by_key(|(i, _)| *i);
    if v.is_empty() || v.iter().enumerate().any(|(k, (i, _))| k != *i) {
        bail!("the top has no ports {base}_0..{base}_N");
    }
    if v.iter()
        .any(|(_, p)| p.width != v[0].1.width || p.width > 64)
    {
        bail!("ports {base}_*: differing widths or wider than 64 bits");
    }
    Ok(v.into_iter().map(|(_, p)| p.clone()).collect())
}

/// Sizes the stream harness is specialised to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrayShape {
    pub rows: usize,
    pub cols: usize,
    pub ks: usize,
    pub lanes: usize,
    pub mac: bool,
}

/// The stream-driving harness for an array top (SAC or MAC), checked against `shape`.
pub fn stream_harness(top: &str, ports: &[Port], shape: ArrayShape) -> Result<String> {
    let mut groups = vec![
        ("act", shape.rows * shape.ks),
        ("kw_valid", shape.cols),
        ("kw_ready", shape.cols),
        ("kw_group_end", shape.cols),
        ("kw_last", shape.cols),
        ("out_valid", shape.cols),
        ("out_ready", shape.cols),
        ("out_data", shape.rows * shape.cols),
    ];
    if shape.mac {
        groups.extend([("kw_w", shape.cols), ("kw_ptr", shape.cols)]);
    } else {
        let n = shape.cols * shape.lanes;
        groups.extend([("kw_lane_valid", n), ("kw_lane_ptr", n), ("kw_lane_neg", n)]);
    }
    let mut g = String::new();
    let _ = writeln!(
        g,
        "#define ROWS {}\n#define COLS {}\n#define KS {}\n#define LANES {}\n#define MAC_ARRAY {}",
        shape.rows,
        shape.cols,
        shape.ks,
        shape.lanes,
        u8::from(shape.mac)
    );
    g += "struct Ports {\n";
    let mut ctor = String::new();
    for (base, n) in &groups {
        let ps = indexed(ports, base)?;
        if ps.len() != *n {
            bail!(
                "ports {base}_*: the top has {}, a {}x{} array with ks={} lanes={} needs {n}",
                ps.len(),
                shape.rows,
                shape.cols,
                shape.ks,
                shape.lanes
            );
        }
        let _ = writeln!(g, "    {}* {base}[{n}];", c_type(ps[0].width));
        for (i, p) in ps.iter().enumerate() {
            let _ = writeln!(ctor, "        {base}[{i}] = &t.{};", p.name);
        }
    }
    let _ = write!(g, "    explicit Ports(VTOP& t) {{\n{ctor}    }}\n}};\n");
    for scalar in [
        "start",
        "expected",
        "done",
        "cycles",
        "act_valid",
        "act_ready",
        "act_mask",
    ] {
        if !ports.iter().any(|p| p.name == scalar) {
            bail!("the top has no `{scalar}` port: not an array design");
        }
    }
    Ok(prelude(top) + &STREAM_TEMPLATE.replace(GENERATED_MARK, &g))
}

/// Build `harness` (C++ source) against `design` with Verilator, or reuse the cached build
/// with the same content hash under `cache`.
pub fn build(
    design: &Design,
    kind: &str,
    harness: &str,
    wave: Wave,
    cache: &Path,
) -> Result<Built> {
    let version = Tool::Verilator.version()?;
    let mut flags = vec![
        "--cc",
        "--exe",
        "--build",
        "-O3",
        "-j",
        "2",
        "--x-assign",
        "fast",
        "--x-initial",
        "fast",
        // The emitted Verilog is lint-clean under the project's waivers (tetris gen checks
        // that); the harness build must not stop on warnings Verilator reports per instance.
        "-Wno-fatal",
        "-Wno-lint",
        "-Wno-style",
        "-Wno-UNOPTFLAT",
    ];
    flags.extend(wave.flag());
    let flag_text = flags.join(" ");
    let mut parts: Vec<(&str, &[u8])> = vec![
        ("kind", kind.as_bytes()),
        ("verilator", version.as_bytes()),
        ("flags", flag_text.as_bytes()),
        ("harness", harness.as_bytes()),
    ];
    for m in &design.modules {
        parts.push((&m.name, m.text.as_bytes()));
    }
    let hash = content_hash(parts);
    let dir = cache
        .join("verilator")
        .join(format!("{}-{kind}-{}", design.top, &hash[..16]));
    let exe = dir.join("obj").join(format!("{kind}_sim"));
    if exe.is_file() {
        return Ok(Built {
            exe,
            build_s: 0.0,
            cached: true,
        });
    }
    let t0 = Instant::now();
    write_dir_atomic(&dir, |tmp| {
        let mut files = Vec::new();
        for m in &design.modules {
            let f = tmp.join(Design::file_name(m));
            std::fs::write(&f, &m.text).with_context(|| format!("writing {}", f.display()))?;
            files.push(f);
        }
        let cpp = tmp.join(format!("{kind}.cpp"));
        std::fs::write(&cpp, harness).with_context(|| format!("writing {}", cpp.display()))?;
        let obj = tmp.join("obj");
        let exe_name = format!("{kind}_sim");
        let mut args: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
        args.extend(["--top-module".into(), design.top.clone()]);
        args.extend(["-Mdir".into(), obj.display().to_string()]);
        args.extend(["-o".into(), exe_name]);
        args.extend(files.iter().map(|f| f.display().to_string()));
        args.push(cpp.display().to_string());
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run(Tool::Verilator, &argv, tmp)?;
        std::fs::write(tmp.join("build.log"), r.log())?;
        if !r.ok {
            let log = r.log();
            let errors: Vec<&str> = log
                .lines()
                .filter(|l| l.contains("%Error") || l.contains("error:"))
                .take(20)
                .collect();
            bail!(
                "Verilator could not build the {kind} harness for {} (verilator {}):\n{}",
                design.top,
                flag_text,
                errors.join("\n")
            );
        }
        // Keep the executable and the log; the object files are large and not needed again.
        for e in std::fs::read_dir(&obj)? {
            let p = e?.path();
            let keep = p
                .file_name()
                .is_some_and(|n| n == format!("{kind}_sim").as_str());
            if !keep {
                let _ = if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
            }
        }
        Ok(())
    })?;
    Ok(Built {
        exe,
        build_s: t0.elapsed().as_secs_f64(),
        cached: false,
    })
}

/// Parse a sized Verilog literal (`16'h3f`, `1'b1`, `8'd5`) into little-endian 32-bit words.
pub fn literal_words(lit: &str, width: usize) -> Result<Vec<u32>> {
    let (w, rest) = lit
        .split_once('\'')
        .with_context(|| format!("not a sized literal: {lit}"))?;
    let lw: usize = w.parse().with_context(|| format!("literal {lit}"))?;
    if lw != width {
        bail!("literal {lit} has {lw} bits, the port has {width}");
    }
    let (radix, digits) = match rest.split_at(1) {
        ("h", d) => (16, d),
        ("b", d) => (2, d),
        ("d", d) => (10, d),
        _ => bail!("literal {lit}: unknown base"),
    };
    let v = BigUint::parse_bytes(digits.replace('_', "").as_bytes(), radix)
        .with_context(|| format!("literal {lit}: bad digits"))?;
    let mut words = v.to_u32_digits();
    words.resize(width.div_ceil(32), 0);
    Ok(words)
}

fn words_hex(w: &[u32], width: usize) -> String {
    let mut v = BigUint::from(0u32);
    for &x in w.iter().rev() {
        v = (v << 32) + BigUint::from(x);
    }
    format!("{width}'h{v:x}")
}

/// First difference between the Verilator run and the in-process trace.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Mismatch {
    /// Cycle after reset (0 = first recorded cycle).
    pub cycle: usize,
    pub port: String,
    /// In-process rust-hdl value.
    pub expected: String,
    /// Verilator value.
    pub actual: String,
}

/// Outcome of a replay.
#[derive(Debug, Clone)]
pub struct ReplayReport {
    pub cycles: usize,
    /// (cycle, port) pairs that differ.
    pub mismatches: usize,
    pub first_mismatch: Option<Mismatch>,
    pub build: Built,
    pub sim_s: f64,
}

/// Replay `trace` (recorded in-process, reset excluded) on `design` in Verilator and compare
/// every output port in every cycle. `wave`: write a waveform of the run there.
pub fn replay(
    design: &Design,
    trace: &Trace,
    cache: &Path,
    work: &Path,
    wave: Option<&Path>,
) -> Result<ReplayReport> {
    let ports = top_ports(design)?;
    let harness = replay_harness(&design.top, &ports);
    let fmt = wave.map_or(Wave::Vcd, Wave::for_path);
    let built = build(design, "replay", &harness, fmt, cache)?;
    let ins: Vec<&Port> = ports
        .iter()
        .filter(|p| p.input && p.name != "clock")
        .collect();
    let outs: Vec<&Port> = ports.iter().filter(|p| !p.input).collect();
    let first = trace.first().context("empty trace: nothing to compare")?;
    let pos: HashMap<&str, usize> = first
        .values
        .iter()
        .enumerate()
        .map(|(i, (n, _, _))| (n.as_str(), i))
        .collect();
    let index = |p: &Port| -> Result<usize> {
        pos.get(p.name.as_str()).copied().with_context(|| {
            format!(
                "port {} of {} is not in the in-process trace",
                p.name, design.top
            )
        })
    };
    let in_idx: Vec<usize> = ins.iter().map(|p| index(p)).collect::<Result<_>>()?;
    let out_idx: Vec<usize> = outs.iter().map(|p| index(p)).collect::<Result<_>>()?;
    let in_words: usize = ins.iter().map(|p| p.words()).sum();
    let out_words: usize = outs.iter().map(|p| p.words()).sum();
    let mut stim = Vec::with_capacity(16 + trace.len() * in_words * 4);
    stim.extend_from_slice(b"TRPL");
    for v in [trace.len(), in_words, out_words] {
        stim.extend_from_slice(&(v as u32).to_le_bytes());
    }
    let mut expected = Vec::with_capacity(trace.len() * out_words);
    for s in trace {
        for (p, &i) in ins.iter().zip(&in_idx) {
            for w in literal_words(&s.values[i].2, p.width)? {
                stim.extend_from_slice(&w.to_le_bytes());
            }
        }
        for (p, &i) in outs.iter().zip(&out_idx) {
            expected.extend(literal_words(&s.values[i].2, p.width)?);
        }
    }
    std::fs::create_dir_all(work).with_context(|| format!("creating {}", work.display()))?;
    let stim_path = work.join("replay_stim.bin");
    let out_path = work.join("replay_out.bin");
    write_atomic(&stim_path, &stim)?;
    let t0 = Instant::now();
    let mut cmd = std::process::Command::new(&built.exe);
    cmd.arg(&stim_path).arg(&out_path);
    if let Some(w) = wave {
        cmd.arg(w);
    }
    let r = cmd
        .output()
        .with_context(|| format!("cannot run {}", built.exe.display()))?;
    let sim_s = t0.elapsed().as_secs_f64();
    if !r.status.success() {
        bail!(
            "the Verilator replay of {} failed: {}",
            design.top,
            String::from_utf8_lossy(&r.stderr)
        );
    }
    let got =
        std::fs::read(&out_path).with_context(|| format!("reading {}", out_path.display()))?;
    if got.len() != expected.len() * 4 {
        bail!(
            "{}: {} bytes, expected {} ({} cycles)",
            out_path.display(),
            got.len(),
            expected.len() * 4,
            trace.len()
        );
    }
    let got: Vec<u32> = got
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let mut mismatches = 0;
    let mut first_mismatch = None;
    for cycle in 0..trace.len() {
        let mut k = cycle * out_words;
        for p in &outs {
            let n = p.words();
            let (e, a) = (&expected[k..k + n], &got[k..k + n]);
            if e != a {
                mismatches += 1;
                first_mismatch.get_or_insert_with(|| Mismatch {
                    cycle,
                    port: p.name.clone(),
                    expected: words_hex(e, p.width),
                    actual: words_hex(a, p.width),
                });
            }
            k += n;
        }
    }
    Ok(ReplayReport {
        cycles: trace.len(),
        mismatches,
        first_mismatch,
        build: built,
        sim_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_to_words() {
        assert_eq!(literal_words("1'b1", 1).unwrap(), vec![1]);
        assert_eq!(literal_words("16'hbeef", 16).unwrap(), vec![0xbeef]);
        assert_eq!(
            literal_words("64'h123456789abcdef0", 64).unwrap(),
            vec![0x9abcdef0, 0x12345678]
        );
        assert_eq!(literal_words("44'h0", 44).unwrap(), vec![0, 0]);
        assert!(literal_words("8'h1", 16).is_err());
        assert!(literal_words("zz", 1).is_err());
        assert_eq!(
            words_hex(&[0x9abcdef0, 0x12345678], 64),
            "64'h123456789abcdef0"
        );
    }
}
