//! `characterize` reproduces the figures EvoApprox publishes in its netlists' headers
//! (`// MAE% = 0.037 %`, `// WCE = 79`, ...) to the printed precision.
//!
//! Opt-in: EvoApprox's files are not redistributed in this repository. Point
//! `TETRIS_EVOAPPROX_DIR` at a folder of its 8x8 unsigned netlists (`mul8u_*.v`, e.g. from
//! its `multiplers/8x8_unsigned/pareto_pwr_mae` folder); without it the test only says so.

use std::path::Path;
use tetris_hdl::noise::characterize::build;
use tetris_hdl::noise::engine::{exhaustive, Operands};

/// Published (name, value text) pairs from the header comments.
fn published(src: &str) -> Vec<(String, String)> {
    src.lines()
        .filter_map(|l| l.trim().strip_prefix("//"))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_string(),
                v.trim().trim_end_matches('%').trim().to_string(),
            )
        })
        .filter(|(k, _)| {
            ["MAE%", "MAE", "WCE%", "WCE", "WCRE%", "EP%", "MRE%", "MSE"].contains(&k.as_str())
        })
        .collect()
}

/// `ours` rounded to as many decimals as `printed` has equals it.
fn same_at_printed_precision(ours: f64, printed: &str) -> bool {
    let decimals = printed.split_once('.').map(|(_, d)| d.len()).unwrap_or(0) as i32;
    let p: f64 = printed.parse().unwrap();
    let scale = 10f64.powi(decimals);
    ((ours * scale).round() - (p * scale).round()).abs() < 0.5
}

pub fn check_file(f: &Path, work: &Path) -> Vec<String> {
    let src = std::fs::read_to_string(f).unwrap();
    let h = build(f, None, (None, None, None), &[], 8, work).unwrap();
    let table = h.sweep_all(8, false).unwrap();
    let ops = Operands {
        width: 8,
        signed: false,
    };
    let acc = exhaustive(
        ops,
        |a, b| table[((a as usize) << 8) | b as usize],
        &indicatif::ProgressBar::hidden(),
    );
    let m = acc.metrics(true);
    let mut bad = Vec::new();
    for (k, v) in published(&src) {
        let ours = match k.as_str() {
            "MAE%" => m.mae_percent,
            "MAE" => m.mae,
            "WCE%" => m.wce_percent,
            "WCE" => m.wce as f64,
            "WCRE%" => m.wcre_percent,
            "EP%" => m.ep_percent,
            "MRE%" => m.mre_percent,
            "MSE" => m.mse,
            _ => continue,
        };
        if !same_at_printed_precision(ours, &v) {
            bad.push(format!(
                "{}: {k} published {v}, measured {ours}",
                f.display()
            ));
        }
    }
    bad
}

#[test]
fn evoapprox_published_figures() {
    let Some(dir) = std::env::var_os("TETRIS_EVOAPPROX_DIR") else {
        eprintln!(
            "TETRIS_EVOAPPROX_DIR not set: skipping the EvoApprox comparison (see the file header)"
        );
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("mul8u_"))
                && p.extension().is_some_and(|e| e == "v")
        })
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no mul8u_*.v in {}",
        Path::new(&dir).display()
    );
    let bad: Vec<String> = files
        .iter()
        .flat_map(|f| check_file(f, work.path()))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
