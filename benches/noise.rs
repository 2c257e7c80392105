//! Noise-profile extractor speed, measured against a plain C program of the same sweep.
//!
//! Run: `cargo bench --bench noise` (`-- --skip-16` leaves out the 16-bit sweeps, `-- --width N`
//! runs the C comparison and the scaling at N bits instead of 16).
//!
//! 1. Exhaustive 8x8 sweep of every built-in, best of 5 (target < 20 ms each).
//! 2. Exhaustive 16x16 DRUM(6) and Mitchell side by side with `benches/noise_ref.c` (one loop
//!    over all pairs, the model called per pair, a division per pair, every sum and histogram
//!    updated per pair), built here with the system `cc -O2` and with `cc -O3 -march=native`.
//!    Both run in this process's time window; CPU time comes from getrusage (self for the
//!    engine, children for the C program). Target: engine CPU <= 0.5 x the C program's. The C
//!    program's figures are also checked against the engine's (integers exactly, float sums to
//!    1e-9: the C program sums 2^32 doubles in one running sum and drifts).
//! 3. The engine's instruction-set versions (AVX-512, AVX2, baseline) on one thread, and its
//!    multi-core scaling: 1 thread, then every core.
//! 4. Verilator characterize of an 8x8 netlist including its build (target < 15 s).

#[path = "../tests/common/cli.rs"]
mod cli;
#[path = "common/cpu_time.rs"]
mod cpu_time;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;
use tetris_hdl::hdl::approx_mult::{emit, verilog_text};
use tetris_hdl::noise::characterize::build;
use tetris_hdl::noise::engine::{characterize_model, exhaustive_table, Method, Operands};
use tetris_hdl::noise::kernels::{with_kernel, KernelUser};
use tetris_hdl::noise::metrics::{Acc, ERR_LOG_BINS};
use tetris_hdl::noise::models::Multiplier;
use tetris_hdl::noise::sweep::{exhaustive_on, Isa, RowKernel};

/// The exhaustive sweep of a built-in's row kernel on one instruction-set version.
struct OnIsa(Isa, Operands);
impl KernelUser<Acc> for OnIsa {
    fn run<K: RowKernel>(self, k: &K) -> Acc {
        exhaustive_on(self.0, self.1, k, &indicatif::ProgressBar::hidden())
    }
}

fn self_cpu() -> f64 {
    cpu_time::cpu_seconds().expect("CPU time of the bench")
}

fn children_cpu() -> f64 {
    cpu_time::children_cpu_seconds().expect("CPU time of the C reference")
}

/// Build `benches/noise_ref.c` with `cc` and `flags` into `dir`.
fn build_c(dir: &Path, name: &str, flags: &[&str]) -> std::path::PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/noise_ref.c");
    let exe = dir.join(name);
    cli::run_required(
        Command::new("cc")
            .args(flags)
            .arg("-o")
            .arg(&exe)
            .arg(&src)
            .arg("-lm"),
        "the system C compiler `cc` must be installed for this bench",
    );
    exe
}

/// Run the C program; returns (its figures by name, CPU s, wall s).
fn run_c(exe: &Path, spec: &str, width: u32) -> (BTreeMap<String, String>, f64, f64) {
    let args: Vec<String> = match spec.strip_prefix("drum:k=") {
        Some(k) => vec!["drum".into(), k.into(), width.to_string()],
        None => vec!["mitchell".into(), width.to_string()],
    };
    let (c0, t) = (children_cpu(), Instant::now());
    let out = Command::new(exe).args(&args).output().unwrap();
    let (cpu, wall) = (children_cpu() - c0, t.elapsed().as_secs_f64());
    cli::assert_succeeded(&out, "the C reference");
    let mut figures = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // "name value...": the key is everything up to the value(s) of the known shapes.
        let parts: Vec<&str> = line.split_whitespace().collect();
        let (key, value) = match parts.as_slice() {
            ["mag", i, j, rest @ ..] if rest.len() == 2 => {
                (format!("mag {i} {j} {}", rest[0]), rest[1].to_string())
            }
            ["mag", i, j, "count", c, "rel_count", r, "sum_abs_rel", s] => {
                figures.insert(format!("mag {i} {j} count"), c.to_string());
                figures.insert(format!("mag {i} {j} rel_count"), r.to_string());
                (format!("mag {i} {j} sum_abs_rel"), s.to_string())
            }
            [name, bin, count] if name.ends_with("_hist") => {
                (format!("{name} {bin}"), count.to_string())
            }
            [name, rest @ ..] => (name.to_string(), rest.join(" ")),
            [] => continue,
        };
        figures.insert(key, value);
    }
    (figures, cpu, wall)
}

/// The engine's figures in the C program's names.
fn engine_figures(acc: &Acc) -> BTreeMap<String, String> {
    let mut f = BTreeMap::new();
    let mut put = |k: String, v: String| {
        f.insert(k, v);
    };
    put("pairs".into(), acc.count.to_string());
    put("err_count".into(), acc.err_count.to_string());
    put("rel_count".into(), acc.rel_count.to_string());
    put("sum_err".into(), acc.sum_err.to_string());
    put("sum_abs".into(), acc.sum_abs.to_string());
    put("sum_sq".into(), acc.sum_sq.to_string());
    put(
        "max_abs".into(),
        format!(
            "{} {} {}",
            acc.max_abs, acc.max_abs_pair.0, acc.max_abs_pair.1
        ),
    );
    put(
        "max_rel".into(),
        format!(
            "{:e} {} {}",
            acc.max_rel.0 as f64 / acc.max_rel.1 as f64,
            acc.max_rel_pair.0,
            acc.max_rel_pair.1
        ),
    );
    put("sum_rel".into(), format!("{:e}", acc.sum_rel));
    put("sum_abs_rel".into(), format!("{:e}", acc.sum_abs_rel));
    put("sum_sq_rel".into(), format!("{:e}", acc.sum_sq_rel));
    for (i, &c) in acc.err_hist.iter().enumerate() {
        if c != 0 {
            put(
                format!("err_hist {}", i as i64 - ERR_LOG_BINS as i64),
                c.to_string(),
            );
        }
    }
    for (i, &c) in acc.rel_hist.iter().enumerate() {
        if c != 0 {
            put(format!("rel_hist {i}"), c.to_string());
        }
    }
    let m = acc.width as usize + 1;
    for (idx, c) in acc.mag.iter().enumerate() {
        if c.count == 0 {
            continue;
        }
        let (i, j) = (idx / m, idx % m);
        put(format!("mag {i} {j} count"), c.count.to_string());
        put(format!("mag {i} {j} rel_count"), c.rel_count.to_string());
        put(
            format!("mag {i} {j} sum_abs_rel"),
            format!("{:e}", c.sum_abs_rel),
        );
        put(format!("mag {i} {j} sum_err"), c.sum_err.to_string());
        put(format!("mag {i} {j} sum_abs"), c.sum_abs.to_string());
        put(format!("mag {i} {j} sum_sq"), c.sum_sq.to_string());
    }
    f
}

/// Differences between the two sets of figures: integers (and pairs) exactly, floats to 1e-9.
fn differences(c: &BTreeMap<String, String>, rust: &BTreeMap<String, String>) -> Vec<String> {
    let mut bad = Vec::new();
    let keys: std::collections::BTreeSet<&String> = c.keys().chain(rust.keys()).collect();
    for k in keys {
        let (x, y) = (c.get(k), rust.get(k));
        let same = match (x, y) {
            (Some(x), Some(y)) => {
                let (xs, ys): (Vec<&str>, Vec<&str>) = (
                    x.split_whitespace().collect(),
                    y.split_whitespace().collect(),
                );
                xs.len() == ys.len()
                    && xs.iter().zip(&ys).all(|(a, b)| {
                        a == b
                            || match (a.parse::<f64>(), b.parse::<f64>()) {
                                (Ok(p), Ok(q))
                                    if a.contains(['.', 'e']) || b.contains(['.', 'e']) =>
                                {
                                    (p - q).abs() <= 1e-9 * p.abs().max(q.abs())
                                }
                                _ => false,
                            }
                    })
            }
            _ => false,
        };
        if !same {
            bad.push(format!("{k}: C {x:?} vs engine {y:?}"));
        }
    }
    bad
}

/// The engine on `threads` threads: (figures, CPU s, wall s).
fn run_engine(m: &Multiplier, threads: usize) -> (Acc, f64, f64) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let (c0, t) = (self_cpu(), Instant::now());
    let acc = pool.install(|| characterize_model(m, Method::Exhaustive, false));
    (acc, self_cpu() - c0, t.elapsed().as_secs_f64())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let skip16 = args.iter().any(|a| a == "--skip-16");
    let width: u32 = args
        .iter()
        .position(|a| a == "--width")
        .and_then(|i| args.get(i + 1))
        .map(|w| w.parse().expect("--width N"))
        .unwrap_or(16);
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
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let tmp = tempfile::tempdir().unwrap();
        let c_o2 = build_c(tmp.path(), "ref_o2", &["-O2"]);
        let c_native = build_c(tmp.path(), "ref_native", &["-O3", "-march=native"]);
        println!(
            "exhaustive {width}x{width} (2^{} pairs), engine ({:?}) vs plain C, CPU seconds:",
            2 * width,
            Isa::detect()
        );
        println!(
            "  {:<10} {:>9} {:>9} {:>11} {:>9} {:>9} {:>11} {:>11}",
            "spec",
            "C -O2",
            "C native",
            "engine",
            "ratio O2",
            "ratio nat",
            "engine wall",
            "C O2 wall"
        );
        for spec in ["drum:k=6", "mitchell"] {
            let m = Multiplier::from_spec(spec, width, false).unwrap();
            let (c_figs, c_cpu, c_wall) = run_c(&c_o2, spec, width);
            let (acc, e_cpu, e_wall) = run_engine(&m, cores);
            let (n_figs, n_cpu, _) = run_c(&c_native, spec, width);
            let rust = engine_figures(&acc);
            for (name, figs) in [("cc -O2", &c_figs), ("cc -O3 -march=native", &n_figs)] {
                let bad = differences(figs, &rust);
                assert!(
                    bad.is_empty(),
                    "{spec}: {name} and the engine disagree:\n{}",
                    bad.join("\n")
                );
            }
            println!(
                "  {spec:<10} {c_cpu:>9.2} {n_cpu:>9.2} {e_cpu:>11.2} {:>9.3} {:>9.3} {e_wall:>11.2} {c_wall:>11.2}",
                e_cpu / c_cpu,
                e_cpu / n_cpu
            );
        }
        println!("  (every figure of the C program equals the engine's: integers exactly, float sums to 1e-9)");
        let w = width - 2;
        println!("instruction-set versions of the engine, drum:k=6 at {w} bits, one thread:");
        let m = Multiplier::from_spec("drum:k=6", w, false).unwrap();
        let ops = Operands {
            width: w,
            signed: false,
        };
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let mut first: Option<Acc> = None;
        for isa in Isa::available() {
            let (c0, t) = (self_cpu(), Instant::now());
            let acc = one.install(|| with_kernel(&m, OnIsa(isa, ops)));
            let cpu = self_cpu() - c0;
            println!(
                "  {:<10} CPU {cpu:7.2} s (wall {:.2} s)",
                format!("{isa:?}"),
                t.elapsed().as_secs_f64()
            );
            assert!(first.get_or_insert(acc.clone()) == &acc, "{isa:?} differs");
        }
        println!("multi-core scaling of the engine ({width}-bit, wall / CPU seconds):");
        let threads: Vec<usize> = if cores > 1 { vec![1, cores] } else { vec![1] };
        for spec in ["drum:k=6", "mitchell"] {
            let m = Multiplier::from_spec(spec, width, false).unwrap();
            let mut base = 0.0;
            for &n in &threads {
                let (_, cpu, wall) = run_engine(&m, n);
                if n == 1 {
                    base = wall;
                }
                println!(
                    "  {spec:<10} {n} thread(s): wall {wall:7.2} s, CPU {cpu:7.2} s, speedup {:.2}x",
                    base / wall
                );
            }
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
    let acc = exhaustive_table(ops, &table, &indicatif::ProgressBar::hidden());
    let model = characterize_model(&m, Method::Exhaustive, false);
    assert_eq!(acc, model, "the netlist's figures differ from the model's");
    println!(
        "  build {:.2} s, build + sweep + metrics {:.2} s (MRE {:.4}%, equal to the model's)",
        t_build,
        t.elapsed().as_secs_f64(),
        acc.metrics(true).mre_percent
    );
}
