//! `tetris explore` on a tiny space (4-bit KS=4 SAC and MAC, 1x1, 2 tiles of a 2->2 3x3 conv):
//! the job list runs through GNU parallel (a missing `parallel` is a failure, never a skip),
//! every point's figures are its own `tetris power` result, the Pareto flags follow the
//! numbers, and a second run redoes only the points without a result.

use std::path::Path;
use std::process::Command;

mod common;
use common::cli::{read_json, tetris, CommandExt};
use common::npy::write_npy_f32;

/// `tetris explore` of the tiny space on `w` into `out` with `--run run`; it must succeed.
/// Its stdout and stderr.
fn explore(w: &Path, out: &Path, run: &str) -> String {
    let o = tetris()
        .args([
            "explore",
            "--bits",
            "4",
            "--ks",
            "4",
            "--sizes",
            "1",
            "--tiles",
            "2",
            "--input-hw",
            "4,4",
            "--jobs",
            "2",
            "--run",
            run,
            "--weights",
        ])
        .arg(w)
        .opt("--out", out)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{text}");
    text
}

fn mtime(p: &Path) -> std::time::SystemTime {
    std::fs::metadata(p).unwrap().modified().unwrap()
}

#[test]
fn a_tiny_sweep_through_gnu_parallel_is_collected_and_resumable() {
    let has_parallel = Command::new("parallel")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        has_parallel,
        "GNU parallel is needed (Debian package `parallel`, scripts/install-tools.sh)"
    );
    let d = tempfile::tempdir().unwrap();
    let w = d.path().join("w.npy");
    let data: Vec<f32> = (0..2 * 2 * 9)
        .map(|i| ((i * 7 % 11) as f32 - 5.0) / 8.0)
        .collect();
    write_npy_f32(&w, &[2, 2, 3, 3], &data);
    let out = d.path().join("ex");
    explore(&w, &out, "parallel");
    let jobs = std::fs::read_to_string(out.join("jobs.txt")).unwrap();
    assert_eq!(jobs.lines().count(), 2, "{jobs}");
    assert!(
        out.join("joblog.txt").is_file(),
        "parallel ran the job list"
    );
    let x: serde_json::Value = read_json(&out.join("explore.json"));
    let pts = x["points"].as_array().unwrap();
    assert_eq!(pts.len(), 2);
    let f = |v: &serde_json::Value| v.as_f64().unwrap();
    let mut xy = vec![];
    for p in pts {
        let id = p["id"].as_str().unwrap();
        let r: serde_json::Value = serde_json::from_slice(
            &std::fs::read(out.join("points").join(id).join("result.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(r["outputs_match"], true, "{id}");
        assert_eq!(r["cycles_match_model"], true, "{id}");
        let m = &p["measured"];
        assert_eq!(
            f(&m["energy_pj_per_mac"]),
            f(&r["energy_pj_per_mac"]["total"])
        );
        assert_eq!(f(&m["area_um2"]), f(&r["area_um2"]));
        let thr = f(&r["macs_per_cycle"]) * f(&r["fmax_mhz"]) / (f(&r["area_um2"]) / 1e6);
        assert!((f(&m["mmacs_per_s_per_mm2"]) - thr).abs() <= 1e-9 * thr);
        xy.push((thr, f(&m["energy_pj_per_mac"]), p["pareto"] == true));
    }
    // Two points: the front is both unless one dominates the other.
    let (a, b) = (xy[0], xy[1]);
    let dominates = |p: (f64, f64, bool), q: (f64, f64, bool)| {
        p.0 >= q.0 && p.1 <= q.1 && (p.0 > q.0 || p.1 < q.1)
    };
    assert_eq!(a.2, !dominates(b, a));
    assert_eq!(b.2, !dominates(a, b));
    let svg = std::fs::read_to_string(out.join("explore.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("sac4_ks4_sm_a1"));

    // Resumable: nothing is redone; a point without its result is redone alone.
    let sac = out.join("points/sac4_ks4_sm_a1/result.json");
    let mac = out.join("points/mac4_ks4_a1/result.json");
    let (t_sac, t_mac) = (mtime(&sac), mtime(&mac));
    let text = explore(&w, &out, "local");
    assert!(text.contains("2 done, 0 to run"), "{text}");
    assert_eq!((mtime(&sac), mtime(&mac)), (t_sac, t_mac));
    std::fs::remove_file(&mac).unwrap();
    let text = explore(&w, &out, "local");
    assert!(text.contains("1 done, 1 to run"), "{text}");
    assert_eq!(mtime(&sac), t_sac);
    assert!(mac.is_file());
}
