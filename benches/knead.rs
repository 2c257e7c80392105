//! Throughput of the `tetris knead` statistics (quantize + encode + kneaded length) on 10 M
//! seeded synthetic weights: one layer of 10,000 output filters x 1,000 weights.
//! Run: `cargo bench --bench knead`. Target: >= 50 M weights/s per core at one setting.

#[path = "common/cpu_time.rs"]
mod cpu_time;

use std::time::Instant;
use tetris_hdl::analysis::knead_stats::{layer_stats, Settings};
use tetris_hdl::model::encoding::Encoding;
use tetris_hdl::model::rng::SplitMix64;

const FILTERS: usize = 10_000;
const PER_FILTER: usize = 1_000;

fn gaussian(n: usize, seed: u64) -> Vec<f32> {
    let mut r = SplitMix64::new(seed);
    (0..n).map(|_| (r.normal() * 0.05) as f32).collect()
}

fn laplace(n: usize, seed: u64) -> Vec<f32> {
    let mut r = SplitMix64::new(seed);
    (0..n)
        .map(|_| {
            let u = r.uniform() - 0.5;
            // u = -0.5 (a zero draw) would give ln(0).
            let tail = (1.0 - 2.0 * u.abs()).max(f64::MIN_POSITIVE);
            (-0.05 * u.signum() * tail.ln()) as f32
        })
        .collect()
}

fn main() {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it,
    // and then a small smoke run keeps the test suite quick.
    let full = std::env::args().any(|a| a == "--bench");
    let filters = if full { FILTERS } else { 100 };
    let n = filters * PER_FILTER;
    let inputs = [("gaussian", gaussian(n, 1)), ("laplace", laplace(n, 2))];
    let settings = [
        (16, Encoding::Sm),
        (16, Encoding::Csd),
        (16, Encoding::Tc),
        (8, Encoding::Sm),
    ];
    println!("knead statistics throughput, {n} weights ({filters} filters x {PER_FILTER}), KS=16, per-tensor scale, wall: best of 3 runs, CPU: total of the 3 runs");
    println!(
        "| weights | setting | threads | wall s | M weights/s | M weights/s per thread | M weights per CPU-s | zero bits | ideal speedup |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (dist, data) in &inputs {
        for &(bits, encoding) in &settings {
            let s = Settings {
                bits,
                ks: 16,
                encoding,
                per_channel: false,
            };
            for threads in [1, cores] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .expect("thread pool");
                let mut best = f64::INFINITY;
                let mut cpu = 0.0;
                let cpu_seconds = || cpu_time::cpu_seconds().expect("CPU time of the bench");
                let mut stats = None;
                for _ in 0..3 {
                    let (t, c) = (Instant::now(), cpu_seconds());
                    let st = pool.install(|| layer_stats(data, filters, &s).expect("stats"));
                    best = best.min(t.elapsed().as_secs_f64());
                    cpu += cpu_seconds() - c;
                    stats = Some(st);
                }
                let st = stats.expect("ran");
                let rate = n as f64 / best / 1e6;
                // The smoke run can be too short for the CPU clock: say so, never print 0.
                let per_cpu = if cpu > 0.0 {
                    format!("{:.0}", 3.0 * n as f64 / cpu / 1e6)
                } else {
                    "under 1 us of CPU".into()
                };
                let ideal = st
                    .ideal_speedup()
                    .expect("the Gaussian/Laplace weights have non-zero digits");
                println!(
                    "| {dist} | {bits}-bit {encoding} | {threads} | {best:.3} | {rate:.1} | {:.1} | {per_cpu} | {:.1}% | {ideal:.3}x |",
                    rate / threads as f64,
                    100.0 * st.zero_bit_fraction(&s),
                );
            }
        }
    }
}
