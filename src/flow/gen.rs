//! `tetris gen`: build the configured design, self-check it in-process against the golden
//! model, emit it (one file per distinct module), check it with the external tools and write
//! the output directory atomically.
//!
//! Reuse for another top (the array): build a [`Design`] with [`emit_block`], then call
//! [`write_outputs`] with it.

use super::check::{self, SynthStats};
use super::constraints::{constraint_files, ice40_device};
use super::tools::Tool;
use super::verilog::{Design, Header};
use crate::config::{Config, PeKind};
use crate::flow::select::{dispatch, PeVisitor, Specialized};
use crate::fsutil::write_dir_atomic;
use crate::hdl::sim::{run_mac_pe, run_sac_design, MacDot, SplitMix64, StreamRun};
use crate::model::mac::mac_dot;
use anyhow::{bail, Result};
use rust_hdl::prelude::Block;
use std::time::Instant;
use tetris_core::progress::during;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use crate::netlist::design::emit_block;

/// Outcome of the in-process self-check.
#[derive(Debug, Clone)]
pub struct SelfCheck {
    pub dot_products: usize,
    pub mismatches: usize,
    /// Weight groups (SAC) or pairs (MAC) streamed.
    pub inputs: usize,
}

/// The built design with what gen knows about it.
#[derive(Debug)]
pub struct Built {
    pub design: Design,
    pub self_check: SelfCheck,
    pub description: String,
}

/// The self-check's (and `tetris cosim`'s) dot products: first the extremes, then seeded
/// random ones (1..=3 groups of KS, a quarter zero weights, magnitudes of every bit length).
/// `n` dot products in all (the first `n` extremes if `n` is smaller).
///
/// The extremes are what random vectors almost never hit (a max-magnitude weight has a 2^-15
/// chance per weight at 16 bits, the most negative activation 2^-16): max-magnitude weights
/// of both signs against the most negative and the most positive activations, over 3 groups
/// and over `max_dot_len` (the longest dot product the widths are derived for: the result's
/// top bit, past 32 bits from 8-bit operands on); all-zero groups first, last and throughout
/// (skipped groups, the null beat that carries `last`, a zero result); a single pair.
/// No dot product is longer than `max_dot_len` (the extremes are cut there).
pub fn self_check_vectors(cfg: &Config, n: usize, seed: u64) -> Vec<MacDot> {
    // The widths are exact up to max_dot_len pairs: no vector is longer.
    let full = cfg.pe.max_dot_len as usize;
    let mut dots = extreme_dots(cfg);
    dots.truncate(n);
    for d in &mut dots {
        d.weights.truncate(full);
        d.acts.truncate(full);
    }
    let mut r = SplitMix64(seed);
    let bits = cfg.pe.weight_bits;
    let ks = cfg.pe.ks as i64;
    let amax = 1i64 << (cfg.pe.act_bits - 1);
    while dots.len() < n {
        let len = r.range(1, (3 * ks).min(full as i64)) as usize;
        let weights = (0..len)
            .map(|_| {
                if r.chance(1, 4) {
                    0
                } else {
                    let l = r.range(1, bits as i64 - 1) as u32;
                    let m = r.range(0, (1i64 << l) - 1);
                    if r.chance(1, 2) {
                        -m
                    } else {
                        m
                    }
                }
            })
            .collect();
        let acts = (0..len).map(|_| r.range(-amax, amax - 1)).collect();
        dots.push(MacDot { weights, acts });
    }
    dots
}

/// The fixed extreme dot products of [`self_check_vectors`], in order.
fn extreme_dots(cfg: &Config) -> Vec<MacDot> {
    let m = crate::model::encoding::max_magnitude(cfg.pe.weight_bits);
    let (amin, amax) = (
        -(1i64 << (cfg.pe.act_bits - 1)),
        (1i64 << (cfg.pe.act_bits - 1)) - 1,
    );
    let ks = cfg.pe.ks as usize;
    let full = cfg.pe.max_dot_len as usize;
    let dot = |weights: Vec<i64>, acts: Vec<i64>| MacDot { weights, acts };
    let alternate = |a: i64, b: i64, len: usize| -> Vec<i64> {
        (0..len).map(|i| if i % 2 == 0 { a } else { b }).collect()
    };
    let zeros_then = |zeros: usize, w: i64, len: usize| -> Vec<i64> {
        (0..len).map(|i| if i < zeros { 0 } else { w }).collect()
    };
    let g3 = 3 * ks;
    vec![
        // Every product -m * 2^(A-1): the most negative sum of 3 groups.
        dot(vec![m; g3], vec![amin; g3]),
        // -m * -2^(A-1): the most positive (the negated most negative activation).
        dot(vec![-m; g3], vec![amin; g3]),
        dot(vec![m; g3], vec![amax; g3]),
        dot(alternate(m, -m, g3), alternate(amin, amax, g3)),
        // All-zero groups: everything, the first (skipped), the last (one null beat).
        dot(vec![0; 2 * ks], vec![amin; 2 * ks]),
        dot(zeros_then(ks, -m, 2 * ks), vec![amin; 2 * ks]),
        dot(
            zeros_then(0, m, ks)
                .into_iter()
                .chain(vec![0; ks])
                .collect(),
            vec![amin; 2 * ks],
        ),
        dot(vec![-m], vec![amin]),
        // The longest dot product the widths allow, at the largest |result|.
        dot(vec![-m; full], vec![amin; full]),
    ]
}

/// The PE-level design `tetris gen` emits, with its in-process run over `dots` (recording
/// every cycle's ports when `record`): `gen`'s self-check and `cosim`'s PE stimulus both come
/// from it, so the co-simulated design is the emitted one.
pub struct RunPe<'a> {
    pub cfg: &'a Config,
    pub dots: &'a [MacDot],
    pub record: bool,
}

/// What [`RunPe`] returns.
pub struct PeRun {
    pub design: Design,
    pub description: String,
    pub run: StreamRun,
    /// Seconds of the in-process run.
    pub rust_s: f64,
}

impl RunPe<'_> {
    fn emit_and_run<B: Block>(
        &self,
        description: String,
        uut: &mut B,
        run: impl FnOnce() -> StreamRun,
    ) -> Result<PeRun> {
        let header = Header::new(&self.cfg.hash_hex(), &description);
        let design = emit_block(uut, &self.cfg.top.name, &header)?;
        let t0 = Instant::now();
        let run = run();
        Ok(PeRun {
            design,
            description,
            run,
            rust_s: t0.elapsed().as_secs_f64(),
        })
    }
}

impl PeVisitor for RunPe<'_> {
    type Out = Result<PeRun>;

    crate::sac_method!(fn sac(self, csd) -> Result<PeRun> {
        let description = format!(
            "SAC PE fed by a hardware kneading unit: weight_bits={W} act_bits={A} ks={KS} encoding={} lanes={L} segment_bits={SEG} result_bits={RES}",
            self.cfg.pe.encoding
        );
        let mut uut = crate::hdl::design::SacDesign::<W, L, KS, P, A, SEG, RES>::new(csd);
        self.emit_and_run(description, &mut uut, || {
            run_sac_design::<W, L, KS, P, A, SEG, RES>(self.dots, csd, self.record)
        })
    });

    fn mac<const W: usize, const A: usize, const KS: usize, const P: usize, const RES: usize>(
        self,
    ) -> Result<PeRun> {
        let description =
            format!("MAC PE baseline: weight_bits={W} act_bits={A} result_bits={RES}");
        let mut uut = crate::hdl::mac_pe::MacPe::<W, A, RES>::default();
        self.emit_and_run(description, &mut uut, || {
            run_mac_pe::<W, A, RES>(self.dots, None, self.record)
        })
    }

    fn specialized(self, s: &dyn Specialized, kind: PeKind) -> Result<PeRun> {
        s.run_pe(self, kind)
    }
}

fn compare(dots: &[MacDot], got: &[i128], inputs: usize) -> SelfCheck {
    let mismatches = dots
        .iter()
        .zip(got)
        .filter(|(d, &g)| mac_dot(&d.weights, &d.acts) != g)
        .count()
        + dots.len().abs_diff(got.len());
    SelfCheck {
        dot_products: dots.len(),
        mismatches,
        inputs,
    }
}

/// Build the configured design (PE level until an array exists) and self-check it.
pub fn build(cfg: &Config, self_check_dots: usize) -> Result<Built> {
    if super::array_gen::wants_array(cfg) {
        return super::array_gen::build_array(cfg, self_check_dots);
    }
    let dots = self_check_vectors(cfg, self_check_dots, 0x7e7);
    let pe = dispatch(
        cfg,
        RunPe {
            cfg,
            dots: &dots,
            record: false,
        },
    )??;
    Ok(Built {
        design: pe.design,
        self_check: compare(&dots, &pe.run.results, pe.run.beats),
        description: pe.description,
    })
}

/// Which external checks to run after writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolChecks {
    pub verilator: bool,
    pub yosys: bool,
    pub iverilog: bool,
    /// A spinner on stderr while each tool runs (a 16x16 array takes minutes); the CLI sets it.
    pub progress: bool,
}

impl ToolChecks {
    pub const ALL: ToolChecks = ToolChecks {
        verilator: true,
        yosys: true,
        iverilog: true,
        progress: false,
    };
    pub const NONE: ToolChecks = ToolChecks {
        verilator: false,
        yosys: false,
        iverilog: false,
        progress: false,
    };
}

/// What was written and checked.
#[derive(Debug, Clone)]
pub struct Written {
    pub dir: PathBuf,
    /// (relative path, SHA-256 hex, bytes), in the order of `files.f` then the rest.
    pub files: Vec<(String, String, usize)>,
    /// (tool, version) of the tools that checked the design.
    pub checked_with: Vec<(String, String)>,
    pub synth: Option<SynthStats>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `DIR/params.vh`: the widths as macros prefixed by the upper-case top name.
pub fn params_vh(cfg: &Config, extra: &[(&str, u64)]) -> String {
    let p = cfg.top.name.to_uppercase();
    let w = cfg.widths();
    let mut s = format!(
        "// Widths and sizes of {}: generated by {} {}, config hash {}.\n`ifndef {p}_PARAMS_VH\n`define {p}_PARAMS_VH\n",
        cfg.top.name,
        crate::fsutil::PRODUCT,
        env!("CARGO_PKG_VERSION"),
        cfg.hash_hex()
    );
    for (k, v) in params_list(cfg, &w, extra) {
        s += &format!("`define {p}_{} {v}\n", k.to_uppercase());
    }
    s += "`endif\n";
    s
}

fn params_list(
    cfg: &Config,
    w: &crate::config::DerivedWidths,
    extra: &[(&str, u64)],
) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = vec![
        ("weight_bits".into(), cfg.pe.weight_bits as u64),
        ("act_bits".into(), cfg.pe.act_bits as u64),
        ("ks".into(), cfg.pe.ks as u64),
        (
            "encoding_csd".into(),
            (cfg.pe.encoding == crate::model::encoding::Encoding::Csd) as u64,
        ),
        ("pe_sac".into(), (cfg.pe.kind == PeKind::Sac) as u64),
        ("rows".into(), cfg.array.rows as u64),
        ("cols".into(), cfg.array.cols as u64),
        ("knead_on_chip".into(), cfg.array.knead_on_chip as u64),
        ("max_dot_len".into(), cfg.pe.max_dot_len as u64),
        ("mag_bits".into(), w.mag_bits as u64),
        ("lanes".into(), w.lanes as u64),
        ("ptr_bits".into(), w.ptr_bits as u64),
        ("kneaded_weight_bits".into(), w.kneaded_weight_bits as u64),
        ("segment_bits".into(), w.segment_bits as u64),
        ("result_bits".into(), w.result_bits as u64),
    ];
    v.extend(extra.iter().map(|(k, x)| (k.to_string(), *x)));
    v
}

/// `DIR/params.json`.
pub fn params_json(cfg: &Config, extra: &[(&str, u64)]) -> String {
    let w = cfg.widths();
    let doc = Params {
        top: cfg.top.name.clone(),
        params: params_list(cfg, &w, extra).into_iter().collect(),
    };
    crate::fsutil::json_text(&doc).expect("params.json holds only strings and integers")
}

/// `DIR/params.json`: the top and every width parameter, by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub top: String,
    pub params: BTreeMap<String, u64>,
}

/// `DIR/manifest.json`: what generated the folder, from which config, its modules and files
/// (with their hashes) and the tools that checked it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub generator: String,
    pub generator_version: String,
    pub config_hash: String,
    pub top: String,
    pub description: String,
    pub config: Config,
    pub derived_widths: crate::config::DerivedWidths,
    pub modules: Vec<String>,
    pub instances_before_merge: usize,
    pub files: Vec<ManifestFile>,
    /// Tool name to its version.
    pub checked_with: BTreeMap<String, String>,
    pub checks: String,
}

/// One emitted file in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub path: String,
    pub sha256: String,
    pub bytes: usize,
}

/// The constraint files of an emitted design (crates/tetris-flows/src/constraints.rs): SDC, XDC and the
/// iCE40 timing wrapper with its PCF for the HX8K, clocked at `[top] clock_mhz`.
pub fn design_constraints(cfg: &Config, design: &Design) -> Result<Vec<(String, String)>> {
    let ports = &design.netlist.top_module().ports;
    let dev = ice40_device("hx8k")?;
    constraint_files(&design.top, ports, cfg.top.clock_mhz, &dev)
}

/// Write the output directory atomically: `rtl/*.v`, `files.f`,
/// `params.vh`, `params.json`, `constraints/*`, then run the tool checks inside it and write `manifest.json`.
/// Any failure (including a failed check) leaves no directory behind and the old one intact.
pub fn write_outputs(
    out_dir: &Path,
    cfg: &Config,
    design: &Design,
    description: &str,
    extra_params: &[(&str, u64)],
    checks: ToolChecks,
) -> Result<Written> {
    let mut written = Written {
        dir: out_dir.to_path_buf(),
        files: vec![],
        checked_with: vec![],
        synth: None,
    };
    write_dir_atomic(out_dir, |tmp| {
        std::fs::create_dir(tmp.join("rtl"))?;
        let put = |rel: String, bytes: &[u8], w: &mut Written| -> Result<()> {
            std::fs::write(tmp.join(&rel), bytes)?;
            w.files.push((rel, sha256_hex(bytes), bytes.len()));
            Ok(())
        };
        let mut rel_files = vec![];
        for (rel, text) in design.module_files("rtl") {
            put(rel.clone(), text.as_bytes(), &mut written)?;
            rel_files.push(rel);
        }
        put(
            "files.f".into(),
            design.filelist("rtl").as_bytes(),
            &mut written,
        )?;
        put(
            "params.vh".into(),
            params_vh(cfg, extra_params).as_bytes(),
            &mut written,
        )?;
        put(
            "params.json".into(),
            params_json(cfg, extra_params).as_bytes(),
            &mut written,
        )?;
        std::fs::create_dir(tmp.join("constraints"))?;
        for (name, text) in design_constraints(cfg, design)? {
            put(format!("constraints/{name}"), text.as_bytes(), &mut written)?;
        }
        let mut checked = vec![];
        let (top, files, show) = (&design.top, &rel_files, checks.progress);
        let msg = |what: &str| format!("{what} of {top}");
        if checks.verilator {
            let lint = || check::verilator_lint(tmp, top, files);
            during(show, msg("verilator --lint-only -Wall"), lint)?;
            checked.push(("verilator".to_string(), Tool::Verilator.version()?));
        }
        if checks.iverilog {
            let compile = || check::iverilog_compile(tmp, top, files);
            during(show, msg("iverilog -g2005"), compile)?;
            checked.push(("iverilog".to_string(), Tool::Iverilog.version()?));
        }
        if checks.yosys {
            let synth = || check::yosys_synth(tmp, top, files);
            written.synth = Some(during(show, msg("yosys loop check and synthesis"), synth)?);
            checked.push(("yosys".to_string(), Tool::Yosys.version()?));
        }
        written.checked_with = checked.clone();
        let manifest = Manifest {
            generator: crate::fsutil::PRODUCT.into(),
            generator_version: env!("CARGO_PKG_VERSION").into(),
            config_hash: cfg.hash_hex(),
            top: design.top.clone(),
            description: description.into(),
            config: cfg.clone(),
            derived_widths: cfg.widths(),
            modules: design.modules.iter().map(|m| m.name.clone()).collect(),
            instances_before_merge: design.instances,
            files: written
                .files
                .iter()
                .map(|(path, sha256, bytes)| ManifestFile {
                    path: path.clone(),
                    sha256: sha256.clone(),
                    bytes: *bytes,
                })
                .collect(),
            checked_with: checked.iter().cloned().collect(),
            checks: check::CHECKS.into(),
        };
        crate::fsutil::write_json(&tmp.join("manifest.json"), &manifest)?;
        Ok(())
    })?;
    Ok(written)
}

/// Default output directory: `hdl_out/<top name>`.
pub fn default_out_dir(cfg: &Config) -> PathBuf {
    Path::new("hdl_out").join(&cfg.top.name)
}

/// Everything `tetris gen` does, minus printing.
pub fn generate(
    cfg: &Config,
    out_dir: &Path,
    self_check_dots: usize,
    checks: ToolChecks,
) -> Result<(Built, Written)> {
    let built = build(cfg, self_check_dots)?;
    let written = write_checked(cfg, out_dir, &built, checks)?;
    Ok((built, written))
}

/// Write `built` (a design of `cfg`) to `out_dir` after its self-check passed.
pub fn write_checked(
    cfg: &Config,
    out_dir: &Path,
    built: &Built,
    checks: ToolChecks,
) -> Result<Written> {
    if built.self_check.mismatches > 0 {
        bail!(
            "self-check failed: {} of {} dot products differ from the golden model; nothing written",
            built.self_check.mismatches,
            built.self_check.dot_products
        );
    }
    write_outputs(out_dir, cfg, &built.design, &built.description, &[], checks)
}
