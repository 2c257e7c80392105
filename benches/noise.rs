//! Noise-profile extractor speed.
//! Run: `cargo bench --bench noise` (add `-- --skip-16` to leave out the 16-bit sweeps).
//! Targets: exhaustive 8x8 sweep < 20 ms per built-in; exhaustive 16x16 of drum:k=6 and
//! mitchell < 60 s each on 2 cores; Verilator `characterize` of an 8x8 netlist including its
//! build < 15 s. Reports wall time and process CPU time (the machine may be shared).

use std::time::Instant;
use tetris_hdl::hdl::approx_mult::{emit, verilog_text};
use tetris_hdl::noise::characterize::build;
use tetris_hdl::noise::engine::{characterize_model, exhaustive, Method, Operands};
use tetris_hdl::noise::models::Multiplier;

fn cpu_seconds() -> f64 {
    // utime + stime of this process from /proc (Linux), in clock ticks of 100 Hz.
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = s.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

fn main() {
    let skip16 = std::env::args().any(|a| a == "--skip-16");
    println!("exhaustive 8x8 (65536 pairs), best of 5:");
    for spec in [
        "exact",
        "trunc:t=8,corr",
        "bam:hbl=2,vbl=8",
        "drum:k=4",
        "mitchell",
        "kulkarni",
    ] {
        let m = Multiplier::from_spec(spec, 8, false).unwrap();
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            let acc = characterize_model(&m, Method::Exhaustive, false);
            best = best.min(t.elapsed().as_secs_f64());
            assert_eq!(acc.count, 65536);
        }
        println!("  {spec:<18} {:8.2} ms", best * 1e3);
    }
    if !skip16 {
        println!("exhaustive 16x16 (2^32 pairs):");
        for spec in ["drum:k=6", "mitchell"] {
            let m = Multiplier::from_spec(spec, 16, false).unwrap();
            let (t, c) = (Instant::now(), cpu_seconds());
            let acc = characterize_model(&m, Method::Exhaustive, false);
            println!(
                "  {spec:<18} wall {:7.1} s, cpu {:7.1} s, MRE {:.4}%",
                t.elapsed().as_secs_f64(),
                cpu_seconds() - c,
                acc.metrics(true).mre_percent
            );
        }
    }
    println!("Verilator characterize of an 8x8 netlist (emitted mitchell), fresh build:");
    let m = Multiplier::from_spec("mitchell", 8, false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("mitchell8.v");
    std::fs::write(&f, verilog_text(&emit(&m).unwrap())).unwrap();
    let t = Instant::now();
    let h = build(
        &f,
        None,
        (None, None, None),
        &[],
        8,
        &dir.path().join("work"),
    )
    .unwrap();
    let t_build = t.elapsed().as_secs_f64();
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
    println!(
        "  build {:.2} s, build + sweep + metrics {:.2} s (MRE {:.4}%)",
        t_build,
        t.elapsed().as_secs_f64(),
        acc.metrics(true).mre_percent
    );
}
