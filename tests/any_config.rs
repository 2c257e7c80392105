//! Every valid config generates (issue 14).
//! - Mixed precision in the built-in set (4-bit weights with 8-bit activations, 8 with 16): PE
//!   and array, SAC and MAC, self-checked in-process against the golden model, Verilator lint
//!   with no warning and a Verilator co-simulation (every port, every cycle).
//! - Widths outside the built-in set through a specialization binary (src/specialize.rs): a
//!   seeded sweep of random valid configs through `tetris gen` (its in-process self-check
//!   against the golden model at the config's own widths), Verilator lint and one `tetris
//!   cosim` each. `TETRIS_SWEEP_N` sets the count (default 24: the cold CI suite
//!   came to 44 of its 45 minutes with 40), `TETRIS_SWEEP_FROM` skips the
//!   first ones (reruns after a fix); the full 2..=16 x 2..=16 x ks
//!   matrix is `cargo test --release --test any_config -- --ignored` (long: docs/rtl.md).
//!
//! Needs cargo (the specialization build) and verilator; a missing one fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;
use tetris_hdl::config::{Config, PeKind};
use tetris_hdl::flow::check::verilator_lint;
use tetris_hdl::flow::gen::{build, write_outputs, ToolChecks};
use tetris_hdl::flow::select::{is_builtin, WidthKey};
use tetris_hdl::flow::verilator_cosim::{cosim, CosimOptions};
use tetris_hdl::hdl::sim::SplitMix64;
use tetris_hdl::model::encoding::Encoding;

mod common;
use common::cli::{read_json, tetris, CommandExt};
use common::configs::array_config;

fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("verilator-cache")
}

#[allow(clippy::too_many_arguments)]
fn config(
    kind: PeKind,
    w: u32,
    a: u32,
    ks: u32,
    enc: Encoding,
    rows: u32,
    cols: u32,
    name: &str,
) -> Config {
    let mut c = array_config(rows, cols, w, enc);
    c.pe.act_bits = a;
    c.pe.kind = kind;
    c.pe.ks = ks;
    c.top.name = name.into();
    c.validate().unwrap();
    c
}

/// Mixed precision at the built-in widths: every design's self-check, lint and a Verilator
/// co-simulation; the result width is A + (W-1) + ceil(log2 L), the segment width
/// A + log2(KS) + 1, with each width where it belongs (weights W, activations A) in params.json.
#[test]
fn mixed_precision_designs_match_golden_model_and_verilator() {
    let cases = [
        config(PeKind::Sac, 4, 8, 4, Encoding::Csd, 1, 1, "m4a8pe"),
        config(PeKind::Mac, 8, 16, 16, Encoding::Sm, 1, 1, "m8a16mac"),
        config(PeKind::Sac, 8, 16, 8, Encoding::Sm, 2, 2, "m8a16arr"),
        config(PeKind::Mac, 4, 8, 4, Encoding::Sm, 2, 2, "m4a8macarr"),
    ];
    for c in cases {
        assert!(is_builtin(&WidthKey::of(&c)));
        let built = build(&c, 60).unwrap();
        assert_eq!(built.self_check.mismatches, 0, "{}", c.top.name);
        assert!(built.self_check.dot_products > 0);
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("out");
        let checks = ToolChecks {
            verilator: true,
            ..ToolChecks::NONE
        };
        write_outputs(&out, &c, &built.design, &built.description, &[], checks)
            .unwrap_or_else(|e| panic!("{}: {e:#}", c.top.name));
        let params: serde_json::Value = read_json(&out.join("params.json"));
        let p = &params["params"];
        let (w, a) = (c.pe.weight_bits as u64, c.pe.act_bits as u64);
        assert_eq!(
            (p["weight_bits"].as_u64(), p["act_bits"].as_u64()),
            (Some(w), Some(a))
        );
        assert_eq!(p["result_bits"].as_u64(), Some(a + w - 1 + 13));
        // Segments hold one kneading group (ks terms, ks a power of two here).
        let ks_bits = c.pe.ks.trailing_zeros() as u64;
        assert_eq!(p["segment_bits"].as_u64(), Some(a + ks_bits + 1));
        let work = tempfile::tempdir().unwrap();
        let r = cosim(
            &c,
            &CosimOptions {
                vectors: 3,
                seed: 9,
                layer: None,
                cache: cache(),
                work: work.path().to_path_buf(),
                wave: None,
            },
        )
        .unwrap();
        assert_eq!(r.mismatches, 0, "{}: {:?}", c.top.name, r.first_mismatch);
        assert_eq!(r.golden_mismatches, 0, "{}", c.top.name);
        assert!(r.results_checked > 0);
    }
}

/// A random valid config: any widths, ks, encoding, kind, up to 4x4, on-chip kneading or not,
/// max_dot_len from 1 up (capped at 4096 so the self-check's longest dot product stays short).
fn random_config(r: &mut SplitMix64, i: usize) -> Config {
    let kind = if r.chance(1, 4) {
        PeKind::Mac
    } else {
        PeKind::Sac
    };
    let enc = if r.chance(1, 2) {
        Encoding::Csd
    } else {
        Encoding::Sm
    };
    let (rows, cols) = if r.chance(1, 3) {
        (1, 1)
    } else {
        (r.range(1, 4) as u32, r.range(1, 4) as u32)
    };
    let mut c = config(
        kind,
        r.range(2, 16) as u32,
        r.range(2, 16) as u32,
        // Small strides are the common case; up to 64 now and then.
        if r.chance(1, 5) {
            r.range(17, 64) as u32
        } else {
            r.range(1, 16) as u32
        },
        enc,
        rows,
        cols,
        &format!("sweep{i}"),
    );
    c.array.knead_on_chip = kind == PeKind::Sac && rows * cols > 1 && r.chance(1, 4);
    c.pe.max_dot_len = 1 << r.range(0, 12);
    c.pe.max_dot_len += r.range(0, c.pe.max_dot_len as i64 - 1) as u32;
    c.validate().unwrap();
    c
}

/// Run `cmd`; it must succeed without a panic message (`what` and its stderr are the
/// failure message). Its stdout.
fn run_ok(cmd: &mut Command, what: &str) -> String {
    let o = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{what}: {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `configs` through the CLI: one `tetris specialize` for all of them, then per config
/// `tetris gen` (self-check against the golden model), Verilator lint of what it wrote and one
/// `tetris cosim`.
fn sweep(configs: &[Config], dir: &Path) {
    let paths: Vec<PathBuf> = configs
        .iter()
        .map(|c| {
            let p = dir.join(format!("{}.toml", c.top.name));
            std::fs::write(&p, toml::to_string(c).unwrap()).unwrap();
            p
        })
        .collect();
    let mut spec = tetris();
    spec.arg("specialize");
    for p in &paths {
        spec.opt("--config", p);
    }
    let t0 = std::time::Instant::now();
    let out = run_ok(&mut spec, "tetris specialize");
    eprintln!("specialize: {:.1} s\n{out}", t0.elapsed().as_secs_f64());
    for (c, p) in configs.iter().zip(&paths) {
        check_one(c, p, dir);
    }
}

/// `tetris gen` (its self-check), Verilator lint and `tetris cosim` of one config.
fn check_one(c: &Config, p: &Path, dir: &Path) {
    let what = format!(
        "{} ({} {} w{} a{} ks{} {} {}x{} knead_on_chip={} max_dot_len={})",
        c.top.name,
        p.display(),
        if c.pe.kind == PeKind::Sac {
            "sac"
        } else {
            "mac"
        },
        c.pe.weight_bits,
        c.pe.act_bits,
        c.pe.ks,
        c.pe.encoding,
        c.array.rows,
        c.array.cols,
        c.array.knead_on_chip,
        c.pe.max_dot_len
    );
    let out_dir = dir.join(&c.top.name);
    let t0 = std::time::Instant::now();
    let stdout = run_ok(
        tetris()
            .args(["gen", "--no-tool-checks", "--self-check", "40", "--config"])
            .arg(p)
            .opt("--out", &out_dir),
        &format!("gen {what}"),
    );
    assert!(stdout.contains(": 0 mismatches"), "{what}: {stdout}");
    let files: Vec<String> = std::fs::read_to_string(out_dir.join("files.f"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    verilator_lint(&out_dir, &c.top.name, &files).unwrap_or_else(|e| panic!("lint {what}: {e:#}"));
    let t1 = std::time::Instant::now();
    let json = dir.join(format!("{}_cosim.json", c.top.name));
    run_ok(
        tetris()
            .args(["cosim", "--vectors", "3", "--config"])
            .arg(p)
            .opt("--cache-dir", cache())
            .opt("--work-dir", dir.join(format!("{}_work", c.top.name)))
            .opt("--json", &json),
        &format!("cosim {what}"),
    );
    eprintln!(
        "{what}: gen + lint {:.1} s, cosim {:.1} s",
        (t1 - t0).as_secs_f64(),
        t1.elapsed().as_secs_f64()
    );
    let r: serde_json::Value = read_json(&json);
    assert_eq!(r["mismatches"].as_u64(), Some(0), "cosim {what}: {r}");
    assert_eq!(
        r["golden_mismatches"].as_u64(),
        Some(0),
        "cosim {what}: {r}"
    );
    assert!(r["results_checked"].as_u64().unwrap() > 0, "{what}: {r}");
}

#[test]
fn seeded_sweep_of_random_configs() {
    let n: usize = std::env::var("TETRIS_SWEEP_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let mut r = SplitMix64(0x5eed_0014);
    let mut configs: Vec<Config> = (0..n).map(|i| random_config(&mut r, i)).collect();
    let outside = configs
        .iter()
        .filter(|c| !is_builtin(&WidthKey::of(c)))
        .count();
    assert!(
        outside * 2 > n,
        "the sweep should mostly leave the built-in set"
    );
    // TETRIS_SWEEP_FROM=k reruns configs k.. of the same seeded sequence (after a fix).
    let from: usize = std::env::var("TETRIS_SWEEP_FROM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    configs.drain(..from.min(n));
    let t = tempfile::tempdir().unwrap();
    sweep(&configs, t.path());
}

/// The full matrix: every weight/activation width pair 2..=16 at ks 1, 5 and 64, sm and csd
/// alternating, 1x1 SAC and 2x2 MAC alternating. Long (one specialization of ~450 width sets,
/// then ~450 gens and cosims): run by hand, docs/rtl.md.
#[test]
#[ignore]
fn full_width_matrix() {
    let mut configs = vec![];
    for w in 2..=16 {
        for a in 2..=16 {
            for (j, ks) in [1, 5, 64].into_iter().enumerate() {
                let i = configs.len();
                let (kind, size) = if i % 2 == 0 {
                    (PeKind::Sac, 1)
                } else {
                    (PeKind::Mac, 2)
                };
                let enc = if (w + a + j as u32).is_multiple_of(2) {
                    Encoding::Sm
                } else {
                    Encoding::Csd
                };
                configs.push(config(kind, w, a, ks, enc, size, size, &format!("m{i}")));
            }
        }
    }
    let t = tempfile::tempdir().unwrap();
    sweep(&configs, t.path());
}
