//! Lint matrix (issue 12): every design the generator emits is clean under
//! `verilator --lint-only -Wall` with no waiver file: zero warnings of any kind (UNOPTFLAT
//! included), over PE designs and arrays, SAC and MAC, sm and csd, every built-in width and
//! kneading stride, odd array sizes and on-chip kneading. The designs come from the
//! generator itself (`flow::gen::build`) and are linted exactly as `tetris gen` writes them.

use tetris_hdl::config::{Config, PeKind};
use tetris_hdl::flow::tools::{run, Tool};
use tetris_hdl::model::encoding::Encoding;

struct Case {
    kind: PeKind,
    bits: u32,
    ks: u32,
    enc: Encoding,
    array: Option<(u32, u32, bool)>,
}

fn cases() -> Vec<Case> {
    let mut out = vec![];
    // PE-level designs: every built-in width x stride x encoding (SAC), every width (MAC).
    for bits in [4, 8, 16] {
        for ks in [4, 8, 16] {
            for enc in [Encoding::Sm, Encoding::Csd] {
                out.push(Case {
                    kind: PeKind::Sac,
                    bits,
                    ks,
                    enc,
                    array: None,
                });
            }
        }
        out.push(Case {
            kind: PeKind::Mac,
            bits,
            ks: 16,
            enc: Encoding::Sm,
            array: None,
        });
    }
    // Arrays: odd and square sizes, SAC and MAC, host and on-chip kneading.
    for (i, (rows, cols)) in [(1, 1), (2, 3), (3, 2), (4, 4), (1, 5), (16, 16)]
        .into_iter()
        .enumerate()
    {
        let bits = [4, 8, 16][i % 3];
        let ks = [4, 8, 16][(i + 1) % 3];
        let enc = if i % 2 == 0 {
            Encoding::Sm
        } else {
            Encoding::Csd
        };
        out.push(Case {
            kind: PeKind::Sac,
            bits,
            ks,
            enc,
            array: Some((rows, cols, false)),
        });
        out.push(Case {
            kind: PeKind::Sac,
            bits,
            ks,
            enc,
            array: Some((rows, cols, true)),
        });
        out.push(Case {
            kind: PeKind::Mac,
            bits,
            ks,
            enc: Encoding::Sm,
            array: Some((rows, cols, false)),
        });
    }
    out
}

fn config(c: &Case, i: usize) -> Config {
    let mut cfg = Config::default_config();
    cfg.pe.kind = c.kind;
    cfg.pe.weight_bits = c.bits;
    cfg.pe.act_bits = c.bits;
    cfg.pe.ks = c.ks;
    cfg.pe.encoding = c.enc;
    cfg.top.name = format!("lint{i}");
    if let Some((rows, cols, knead)) = c.array {
        cfg.array.rows = rows;
        cfg.array.cols = cols;
        cfg.array.knead_on_chip = knead;
    }
    cfg.validate().unwrap();
    cfg
}

#[test]
fn every_emitted_design_is_lint_clean_without_waivers() {
    let cases = cases();
    assert!(cases.len() >= 30, "{} configs", cases.len());
    let t = tempfile::tempdir().unwrap();
    let mut failures = vec![];
    for (i, c) in cases.iter().enumerate() {
        let cfg = config(c, i);
        let built = tetris_hdl::flow::gen::build(&cfg, 1)
            .unwrap_or_else(|e| panic!("{}: {e:#}", cfg.top.name));
        let dir = t.path().join(&cfg.top.name);
        std::fs::create_dir(&dir).unwrap();
        let mut files = vec![];
        for m in &built.design.modules {
            let f = format!("{}.v", m.name);
            std::fs::write(dir.join(&f), &m.text).unwrap();
            files.push(f);
        }
        let mut args = vec![
            "--lint-only",
            "-Wall",
            "--top-module",
            cfg.top.name.as_str(),
        ];
        args.extend(files.iter().map(String::as_str));
        let r = run(Tool::Verilator, &args, &dir).unwrap();
        let log = r.log();
        if !r.ok || log.contains("%Warning") || log.contains("%Error") {
            failures.push(format!("{} ({})\n{}", cfg.top.name, built.description, log));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} designs warn:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
