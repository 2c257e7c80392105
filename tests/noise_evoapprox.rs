//! `characterize` reproduces the figures EvoApprox publishes in its netlists' headers
//! (`// MAE% = 0.037 %`, `// WCE = 79`, ...) to the printed precision.
//!
//! Always run: a netlist in EvoApprox's layout made here (the emitted RTL of an asymmetric
//! broken-array multiplier) with a header whose figures are computed in this file from the
//! multiplier's definition, printed at EvoApprox's precision; and the same header with one
//! figure off, which the comparison must report.
//!
//! The published figures themselves (EvoApprox's files are not redistributed here):
//! `TETRIS_EVOAPPROX_DIR=DIR cargo test --release --test noise_evoapprox -- --ignored` with DIR
//! a folder of its 8x8 unsigned netlists (`mul8u_*.v`, e.g. from its
//! `multiplers/8x8_unsigned/pareto_pwr_mae` folder); run without the variable it fails.

use std::path::Path;
use tetris_hdl::hdl::approx_mult::{emit, verilog_text};
use tetris_hdl::noise::characterize::build;
use tetris_hdl::noise::engine::{exhaustive_table, Operands};
use tetris_hdl::noise::models::Multiplier;

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
    let acc = exhaustive_table(ops, &table, &indicatif::ProgressBar::hidden());
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

/// Broken-array multiplier from its definition (rows j < hbl of b, columns i + j < vbl dropped).
fn bam(a: u64, b: u64, hbl: u32, vbl: u32) -> u64 {
    let mut s = 0;
    for i in 0..8 {
        for j in hbl..8 {
            if i + j >= vbl {
                s += (((a >> i) & (b >> j)) & 1) << (i + j);
            }
        }
    }
    s
}

/// EvoApprox's header lines for `f`, computed pair by pair, printed at its precision.
fn evoapprox_header(f: impl Fn(u64, u64) -> u64) -> String {
    let (mut sum_abs, mut sum_sq, mut wce, mut wrong, mut sum_rel, mut wcre) =
        (0f64, 0f64, 0f64, 0u64, 0f64, 0f64);
    for a in 0..256u64 {
        for b in 0..256u64 {
            let e = (f(a, b) as f64 - (a * b) as f64).abs();
            sum_abs += e;
            sum_sq += e * e;
            wce = wce.max(e);
            wrong += (e != 0.0) as u64;
            if a * b != 0 {
                sum_rel += e / (a * b) as f64;
                wcre = wcre.max(e / (a * b) as f64);
            }
        }
    }
    let mae = sum_abs / 65536.0;
    format!(
        "// MAE% = {:.3} %\n// MAE = {:.0}\n// WCE% = {:.2} %\n// WCE = {wce:.0}\n// WCRE% = {:.2} %\n// EP% = {:.2} %\n// MRE% = {:.2} %\n// MSE = {:.0}\n",
        100.0 * mae / 65536.0,
        mae,
        100.0 * wce / 65536.0,
        100.0 * wcre,
        100.0 * wrong as f64 / 65536.0,
        100.0 * sum_rel / (255.0 * 255.0),
        sum_sq / 65536.0,
    )
}

#[test]
fn evoapprox_style_headers_are_reproduced() {
    let t = tempfile::tempdir().unwrap();
    let m = Multiplier::from_spec("bam:hbl=2,vbl=6", 8, false).unwrap();
    let netlist = verilog_text(&emit(&m).unwrap());
    let header = evoapprox_header(|a, b| bam(a, b, 2, 6));
    let good = t.path().join("mul8u_good.v");
    std::fs::write(&good, header.clone() + &netlist).unwrap();
    let bad = check_file(&good, &t.path().join("w"));
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // One figure off: the comparison reports exactly that one.
    let wce_line = header.lines().find(|l| l.starts_with("// WCE =")).unwrap();
    let wce: u64 = wce_line.rsplit(' ').next().unwrap().parse().unwrap();
    let off = t.path().join("mul8u_off.v");
    std::fs::write(
        &off,
        header.replace(wce_line, &format!("// WCE = {}", wce + 1)) + &netlist,
    )
    .unwrap();
    let bad = check_file(&off, &t.path().join("w"));
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].contains("WCE published"), "{bad:?}");
}

#[test]
#[ignore = "needs EvoApprox's netlists: TETRIS_EVOAPPROX_DIR=DIR ... -- --ignored"]
fn evoapprox_published_figures() {
    let dir = std::env::var_os("TETRIS_EVOAPPROX_DIR").expect(
        "TETRIS_EVOAPPROX_DIR must name a folder of EvoApprox mul8u_*.v netlists (see the file header)",
    );
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
