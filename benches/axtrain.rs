//! AxTrain speed. Run: `cargo bench --bench axtrain`.
//! Targets: bit-exact approximate inference >= 100 M approximate MACs/s on one core (the
//! LUT path, checked against the exact path on the same data); a digits-sized training run
//! (1,437 images of 8x8, 10 classes, MLP 64-64-10, 30 epochs) < 60 s in every mode.
//! Reports wall time; the machine may be shared.

use std::time::Instant;
use tetris_hdl::axtrain::data::Dataset;
use tetris_hdl::axtrain::experiment::Setup;
use tetris_hdl::axtrain::hardware::{ActOperand, Hardware};
use tetris_hdl::axtrain::net::Arch;
use tetris_hdl::axtrain::noise::ErrorModel;
use tetris_hdl::axtrain::qnet::{gemm_row, Arith};
use tetris_hdl::axtrain::train::Mode;
use tetris_hdl::model::rng::SplitMix64;

#[path = "../tests/common/train.rs"]
mod train;
use train::adam_lut_train_config;

/// MACs per second of `arith` on one core over `rows` rows of a (k, m) layer.
fn one_core(arith: Arith, x: &[u8], w: &[i8], k: usize, m: usize) -> (f64, i64) {
    let rows = x.len() / k;
    let mut out = vec![0i64; m];
    let mut best = f64::MAX;
    let mut check = 0i64;
    for _ in 0..5 {
        let t = Instant::now();
        check = 0;
        for (r, xr) in x.chunks_exact(k).enumerate() {
            gemm_row(arith, xr, w, k, &mut out, r as u64);
            check = check.wrapping_add(out.iter().sum::<i64>());
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    ((rows * k * m) as f64 / best, check)
}

fn main() {
    let mut rng = SplitMix64::new(1);
    println!("bit-exact inference, one core (best of 5), MACs/s:");
    println!(
        "{:<22} {:>10} {:>14} {:>14}",
        "multiplier", "layer", "approx (LUT)", "exact"
    );
    for spec in ["trunc:t=11", "drum:k=2", "mitchell"] {
        let hw = Hardware::from_spec(spec, false, ActOperand::A).unwrap();
        for (k, m, rows) in [(64usize, 64usize, 20_000usize), (576, 16, 4_000)] {
            let x: Vec<u8> = (0..rows * k).map(|_| rng.below(256) as u8).collect();
            let w: Vec<i8> = (0..k * m)
                .map(|_| (rng.below(255) as i64 - 127) as i8)
                .collect();
            let (approx, ca) = one_core(Arith::Approx(&hw), &x, &w, k, m);
            let (exact, ce) = one_core(Arith::Exact, &x, &w, k, m);
            assert_ne!(ca, ce, "{spec}: approximate and exact sums must differ");
            println!(
                "{spec:<22} {:>10} {:>12.1} M {:>12.1} M{}",
                format!("{k}x{m}"),
                approx / 1e6,
                exact / 1e6,
                if approx >= 100e6 {
                    ""
                } else {
                    "  (below the 100 M target)"
                }
            );
        }
    }
    let timed = Hardware::from_spec("exact", false, ActOperand::A)
        .unwrap()
        .with_timing("vdd=0.7")
        .unwrap();
    let x: Vec<u8> = (0..2000 * 64).map(|_| rng.below(256) as u8).collect();
    let w: Vec<i8> = (0..64 * 64)
        .map(|_| (rng.below(255) as i64 - 127) as i8)
        .collect();
    let (t, _) = one_core(Arith::Timed(&timed, 1), &x, &w, 64, 64);
    println!(
        "{:<22} {:>10} {:>12.1} M  (timing errors: one draw per multiply)",
        "exact+timing vdd=0.7",
        "64x64",
        t / 1e6
    );

    // Digits-sized training: random 8x8 images in 10 noisy prototypes.
    let protos: Vec<Vec<f32>> = (0..10)
        .map(|_| (0..64).map(|_| (rng.below(17)) as f32).collect())
        .collect();
    let mut px = Vec::new();
    let mut labels = Vec::new();
    for i in 0..1797 {
        let c = i % 10;
        labels.push(c as u32);
        px.extend(
            protos[c]
                .iter()
                .map(|&p| (p + 6.0 * rng.normal() as f32).clamp(0.0, 16.0).round()),
        );
    }
    let (train, test) = Dataset::new(px, labels, (1, 8, 8), "bench")
        .unwrap()
        .split(0.2, 1)
        .unwrap();
    let cfg = adam_lut_train_config(30, 32);
    let em = ErrorModel::new(Hardware::from_spec("trunc:t=11", false, ActOperand::A).unwrap());
    println!(
        "training on {} digits-sized images, 30 epochs, trunc:t=11:",
        train.len()
    );
    for arch in [Arch::Mlp, Arch::Cnn] {
        let setup = Setup::new(arch, 64, train.clone(), test.clone(), cfg.clone()).unwrap();
        for mode in [Mode::Baseline, Mode::Passive, Mode::Active, Mode::Both] {
            let em = (mode != Mode::Baseline).then_some(&em);
            let t = setup
                .train(mode, em, 1, &indicatif::ProgressBar::hidden())
                .unwrap();
            println!(
                "  {arch:?} {:<10} {:6.1} s{}",
                format!("{mode:?}"),
                t.seconds,
                if t.seconds < 60.0 {
                    ""
                } else {
                    "  (above the 60 s target)"
                }
            );
        }
    }
}
