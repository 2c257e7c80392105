//! `tetris axtrain`: bit-exact approximate inference against an independent per-product
//! computation, LUT files against the built-in models, seeded reproducibility, the passive
//! noise and the data loaders, the CLI end to end on data written here, and bad input.

use std::path::Path;
use tetris_hdl::axtrain::data::{self, Dataset, LabelColumn};
use tetris_hdl::axtrain::experiment::{evaluate, Setup};
use tetris_hdl::axtrain::hardware::{ActOperand, Hardware};
use tetris_hdl::axtrain::net::{init, layers, Arch, LayerSpec, Params};
use tetris_hdl::axtrain::noise::{ErrorModel, NoiseModel};
use tetris_hdl::axtrain::qnet::{gemm, Arith, QNet};
use tetris_hdl::axtrain::train::{sensitivity_kl, Mode, TrainConfig};
use tetris_hdl::model::rng::SplitMix64;
use tetris_hdl::noise::lut::{Lut8, Roles};
use tetris_hdl::noise::models::Multiplier;

mod common;
use common::cli::{
    assert_clean_error, assert_contains_all, noise_profile, read_json, run_fails, run_ok,
    run_ok_stdout, tetris, write_file, CommandExt,
};
use common::train::adam_lut_train_config;

/// Three classes of 8x8 images: a bright bar in the top, middle or bottom rows, plus noise.
fn toy_rows(n: usize, seed: u64) -> Vec<(u32, Vec<f32>)> {
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|i| {
            let c = (i % 3) as u32;
            let px = (0..64)
                .map(|p| {
                    let row = p / 8;
                    let on = (row / 3) as u32 == c || (c == 2 && row == 7);
                    let base = if on { 12.0 } else { 1.0 };
                    (base + 4.0 * rng.uniform()).floor() as f32
                })
                .collect();
            (c, px)
        })
        .collect()
}

fn toy_csv(n: usize, seed: u64, label_last: bool) -> String {
    let mut s = String::new();
    for (c, px) in toy_rows(n, seed) {
        let p: Vec<String> = px.iter().map(|v| format!("{v}")).collect();
        if label_last {
            s += &format!("{},{c}\n", p.join(","));
        } else {
            s += &format!("{c},{}\n", p.join(","));
        }
    }
    s
}

fn toy_dataset(n: usize, seed: u64) -> Dataset {
    let rows = toy_rows(n, seed);
    let labels = rows.iter().map(|r| r.0).collect();
    let pixels = rows.into_iter().flat_map(|r| r.1).collect();
    Dataset::new(pixels, labels, (1, 8, 8), "toy").unwrap()
}

fn cfg(epochs: usize) -> TrainConfig {
    adam_lut_train_config(epochs, 16)
}

// ------------------------------------------------------------- independent reference

/// Inference written out from the definitions, one product at a time through
/// `Multiplier::eval` (no table, no im2col): direct 3x3 convolution with zero padding,
/// sign-magnitude weights on an unsigned multiplier, exact i64 sums.
fn reference_logits(q: &QNet, m: &Multiplier, act_b: bool, pixels: &[f32], n: usize) -> Vec<f64> {
    let prod = |a: u8, w: i8| -> i64 {
        let (x, y) = (a as u32, w.unsigned_abs() as u32);
        let p = if act_b { m.eval(y, x) } else { m.eval(x, y) };
        if w < 0 {
            -p
        } else {
            p
        }
    };
    reference_logits_with(q, &prod, pixels, n)
}

/// [`reference_logits`] with the signed product `prod(activation code, weight code)` given.
fn reference_logits_with(
    q: &QNet,
    prod: &dyn Fn(u8, i8) -> i64,
    pixels: &[f32],
    n: usize,
) -> Vec<f64> {
    let amax = q.act_max as f64;
    let mut out = Vec::new();
    for s in 0..n {
        let img = &pixels[s * 64..(s + 1) * 64];
        let mut x: Vec<u8> = img
            .iter()
            .map(|&v| (v as f64 / q.layers[0].in_scale).round().clamp(0.0, amax) as u8)
            .collect();
        for (l, ql) in q.layers.iter().enumerate() {
            let sp: &LayerSpec = &ql.spec;
            let (h, w) = sp.in_hw;
            let mut y = vec![0f64; sp.cout * h * w];
            for co in 0..sp.cout {
                for oy in 0..h {
                    for ox in 0..w {
                        let mut acc = 0i64;
                        if sp.conv {
                            for ci in 0..sp.cin {
                                for ky in 0..3 {
                                    for kx in 0..3 {
                                        let (iy, ix) = (oy as isize + ky - 1, ox as isize + kx - 1);
                                        let a = if iy < 0
                                            || ix < 0
                                            || iy >= h as isize
                                            || ix >= w as isize
                                        {
                                            0
                                        } else {
                                            x[(ci * h + iy as usize) * w + ix as usize]
                                        };
                                        let wi = ((co * sp.cin + ci) * 3 + ky as usize) * 3
                                            + kx as usize;
                                        acc += prod(a, ql.w[wi]);
                                    }
                                }
                            }
                        } else {
                            for (i, &a) in x.iter().enumerate().take(sp.cin) {
                                acc += prod(a, ql.w[co * sp.cin + i]);
                            }
                        }
                        y[(co * h + oy) * w + ox] =
                            (acc + ql.bias[co]) as f64 * ql.in_scale * ql.w_scale[co];
                    }
                }
            }
            if l + 1 == q.layers.len() {
                out.extend(y);
                break;
            }
            let next = q.layers[l + 1].in_scale;
            let codes: Vec<u8> = y
                .iter()
                .map(|&v| (v.max(0.0) / next).round().clamp(0.0, amax) as u8)
                .collect();
            x = if sp.pool {
                let mut p = vec![0u8; sp.cout * (h / 2) * (w / 2)];
                for c in 0..sp.cout {
                    for yy in 0..h / 2 {
                        for xx in 0..w / 2 {
                            let mut mx = 0u8;
                            for d in 0..4 {
                                mx = mx.max(codes[(c * h + 2 * yy + d / 2) * w + 2 * xx + d % 2]);
                            }
                            p[(c * (h / 2) + yy) * (w / 2) + xx] = mx;
                        }
                    }
                }
                p
            } else {
                codes
            };
        }
    }
    out
}

fn random_qnet(arch: Arch, seed: u64, act_max: u32) -> QNet {
    let specs = layers(arch, (1, 8, 8), 3, 16).unwrap();
    let mut params: Vec<Params> = init(&specs, seed);
    let mut rng = SplitMix64::new(seed + 99);
    for p in &mut params {
        p.b.iter_mut()
            .for_each(|b| *b = (rng.uniform() - 0.5) as f32);
    }
    let scales: Vec<f64> = (0..specs.len())
        .map(|l| [1.0, 0.6, 0.4, 0.3][l] / act_max as f64)
        .collect();
    QNet::new(&specs, &params, &scales, seed.is_multiple_of(2), act_max)
}

#[test]
fn approximate_inference_is_bit_exact_against_per_product_evaluation() {
    let ds = toy_dataset(12, 5);
    for arch in [Arch::Mlp, Arch::Cnn] {
        for (spec, act) in [
            ("trunc:t=9,corr", ActOperand::A),
            ("bam:hbl=3,vbl=6", ActOperand::A),
            ("bam:hbl=3,vbl=6", ActOperand::B),
            ("drum:k=3", ActOperand::A),
            ("mitchell", ActOperand::B),
            ("kulkarni", ActOperand::A),
        ] {
            let hw = Hardware::from_spec(spec, false, act).unwrap();
            let m = Multiplier::from_spec(spec, 8, false).unwrap();
            for seed in [1, 2] {
                let q = random_qnet(arch, seed, 255);
                let got = q.logits(&ds.pixels, ds.len(), Arith::Approx(&hw));
                let want = reference_logits(&q, &m, act == ActOperand::B, &ds.pixels, ds.len());
                assert_eq!(got, want, "{arch:?} {spec} {act:?} seed {seed}");
                // The exact path is the exact multiplier, and the approximate one differs.
                let exact = q.logits(&ds.pixels, ds.len(), Arith::Exact);
                let em = Multiplier::from_spec("exact", 8, false).unwrap();
                assert_eq!(
                    exact,
                    reference_logits(&q, &em, false, &ds.pixels, ds.len())
                );
                assert_ne!(got, exact, "{spec}: the approximate run must not be exact");
            }
        }
    }
}

#[test]
fn lut_files_equal_the_models_and_roles_are_explicit() {
    let dir = tempfile::tempdir().unwrap();
    // bam is asymmetric: the activation on port a or b gives different products.
    let m = Multiplier::from_spec("bam:hbl=3,vbl=6", 8, false).unwrap();
    // The tables are written [activation][weight] whichever port takes the activation, so a
    // table read back equals the model with the same roles.
    for act in [ActOperand::A, ActOperand::B] {
        let lut = Lut8::build(false, Roles::new(act, "a", "b"), |a, b| m.eval(a, b));
        let bin = dir.path().join(format!("bam{act:?}.bin"));
        let npy = dir.path().join(format!("bam{act:?}.npy"));
        std::fs::write(&bin, lut.tfapprox_bin().unwrap()).unwrap();
        std::fs::write(&npy, lut.npy().unwrap()).unwrap();
        let model = Hardware::from_spec("bam:hbl=3,vbl=6", false, act).unwrap();
        for f in [&bin, &npy] {
            let h = Hardware::from_lut(f, false).unwrap();
            assert_eq!(h.table(), model.table(), "{} {act:?}", f.display());
        }
    }
    let a = Hardware::from_spec("bam:hbl=3,vbl=6", false, ActOperand::A).unwrap();
    let b = Hardware::from_spec("bam:hbl=3,vbl=6", false, ActOperand::B).unwrap();
    assert_ne!(a.table(), b.table());
    // Activation 200 on port a, weight 5 on port b: bam drops rows j < 3 of the b operand.
    assert_eq!(a.row(5)[200] as i64, m.eval(200, 5));
    assert_eq!(b.row(5)[200] as i64, m.eval(5, 200));
    assert_eq!(a.row(-5)[200] as i64, -m.eval(200, 5));
    // Signed multiplier: two's-complement operands through its sign-magnitude wrapper.
    let ms = Multiplier::from_spec("drum:k=3", 8, true).unwrap();
    let s = Hardware::from_spec("drum:k=3", true, ActOperand::A).unwrap();
    assert_eq!(s.act_max, 127);
    for (a, w) in [(100u32, -77i64), (127, 127), (3, -1)] {
        assert_eq!(
            s.row(w as i8)[a as usize] as i64,
            ms.eval(a, w as i8 as u8 as u32)
        );
    }
    let slut = Lut8::build(true, Roles::new(ActOperand::A, "a", "b"), |a, b| {
        ms.eval(a, b)
    });
    let snpy = dir.path().join("s.npy");
    std::fs::write(&snpy, slut.npy().unwrap()).unwrap();
    assert_eq!(Hardware::from_lut(&snpy, true).unwrap().table(), s.table());
}

#[test]
fn passive_lut_noise_is_the_exact_error_and_the_magnitude_model_its_mean() {
    let hw = Hardware::from_spec("trunc:t=8", false, ActOperand::A).unwrap();
    let em = ErrorModel::new(hw);
    let mut rng = SplitMix64::new(3);
    let (k, m, rows) = (20, 4, 6);
    let x: Vec<u8> = (0..rows * k).map(|_| rng.below(256) as u8).collect();
    let w: Vec<i8> = (0..m * k)
        .map(|_| (rng.below(255) as i64 - 127) as i8)
        .collect();
    let e = em.passive(NoiseModel::Lut, &x, &w, k, m, &mut rng);
    let mult = Multiplier::from_spec("trunc:t=8", 8, false).unwrap();
    for r in 0..rows {
        for j in 0..m {
            let want: i64 = (0..k)
                .map(|i| {
                    let (a, b) = (x[r * k + i] as u32, w[j * k + i]);
                    let p = mult.eval(a, b.unsigned_abs() as u32);
                    (if b < 0 { -p } else { p }) - a as i64 * b as i64
                })
                .sum();
            assert_eq!(e[r * m + j], want as f64);
        }
    }
    // Truncation only ever drops bits: the magnitude model's mean error of a positive weight
    // is <= 0 and the LUT error of a positive-weight dot product too.
    let pos: Vec<i8> = w.iter().map(|b| b.unsigned_abs().min(127) as i8).collect();
    let mo = em.moments(&x, &pos, k, m);
    assert!(mo.iter().all(|(mu, v)| *mu <= 0.0 && *v >= mu * mu));
    let el = em.passive(NoiseModel::Lut, &x, &pos, k, m, &mut rng);
    assert!(el.iter().all(|&v| v <= 0.0));
    // The Gaussian model with fan-in scaling: sample mean close to mu * (K+ - K-).
    let g: Vec<f64> = (0..2000)
        .flat_map(|_| em.passive(NoiseModel::Gauss, &x[..k], &pos[..k], k, 1, &mut rng))
        .collect();
    let mean = g.iter().sum::<f64>() / g.len() as f64;
    let kp = pos[..k].iter().filter(|&&b| b > 0).count() as f64;
    let want = em.metrics.mean_error * kp;
    let sd = em.metrics.std_error * (k as f64).sqrt() / (g.len() as f64).sqrt();
    assert!((mean - want).abs() < 5.0 * sd, "{mean} vs {want}");
}

#[test]
fn timing_errors_are_seeded_and_grow_as_the_supply_drops() {
    let hw = Hardware::from_spec("exact", false, ActOperand::A).unwrap();
    let low = hw.clone().with_timing("vdd=0.7").unwrap();
    let nominal = hw.clone().with_timing("vdd=0.9,sigma=0.01").unwrap();
    let x: Vec<u8> = (0..64 * 16).map(|i| (i * 37 % 256) as u8).collect();
    let w: Vec<i8> = (0..64 * 8)
        .map(|i| ((i * 53 % 255) as i64 - 127) as i8)
        .collect();
    let exact = gemm(Arith::Exact, &x, &w, 64, 8);
    let a1 = gemm(Arith::Timed(&low, 7), &x, &w, 64, 8);
    assert_eq!(a1, gemm(Arith::Timed(&low, 7), &x, &w, 64, 8));
    assert_ne!(a1, gemm(Arith::Timed(&low, 8), &x, &w, 64, 8));
    assert_ne!(a1, exact);
    assert_eq!(gemm(Arith::Timed(&nominal, 7), &x, &w, 64, 8), exact);
}

#[test]
fn seeded_training_is_reproducible_and_learns() {
    let (train, test) = toy_dataset(90, 1).split(0.3, 1).unwrap();
    let setup = Setup::new(Arch::Mlp, 16, train, test, cfg(8)).unwrap();
    let pb = indicatif::ProgressBar::hidden();
    let hw = ErrorModel::new(Hardware::from_spec("trunc:t=9", false, ActOperand::A).unwrap());
    for mode in [Mode::Baseline, Mode::Passive, Mode::Active, Mode::Both] {
        let em = (mode != Mode::Baseline).then_some(&hw);
        let a = setup.train(mode, em, 4, &pb).unwrap();
        let b = setup.train(mode, em, 4, &pb).unwrap();
        assert_eq!(a.params, b.params, "{mode:?}");
        let c = setup.train(mode, em, 5, &pb).unwrap();
        assert_ne!(a.params, c.params, "{mode:?}");
        let q = setup.quantize(&a, 255);
        let acc = q.evaluate(&setup.test, Arith::Exact).accuracy;
        assert!(acc > 80.0, "{mode:?}: {acc}% on separable toy data");
        if mode.active() {
            assert!(a.last_reg > 0.0 && a.last_reg.is_finite(), "{}", a.last_reg);
        }
    }
    // The CNN trains too.
    let setup = Setup::new(Arch::Cnn, 16, setup.train, setup.test, cfg(6)).unwrap();
    let t = setup.train(Mode::Passive, Some(&hw), 1, &pb).unwrap();
    assert!(
        setup
            .quantize(&t, 255)
            .evaluate(&setup.test, Arith::Exact)
            .accuracy
            > 80.0
    );
}

/// The regularizer is KL(p_reference || p_other) over softmax distributions: zero for equal
/// logits (and for logits shifted by a constant per sample), the textbook sum otherwise; its
/// gradient reaches only `other`.
#[test]
fn sensitivity_kl_is_the_kl_divergence_of_the_two_softmaxes() {
    use candle_core::{Device, Tensor};
    let dev = Device::Cpu;
    let a = [0.5f32, -1.0, 2.0, 0.0, 0.3, -0.7];
    let b = [1.5f32, -1.0, 0.0, 0.2, 0.1, 0.4];
    let ta = Tensor::from_slice(&a, (2, 3), &dev).unwrap();
    let tb = Tensor::from_slice(&b, (2, 3), &dev).unwrap();
    let kl =
        |x: &Tensor, y: &Tensor| sensitivity_kl(x, y).unwrap().to_scalar::<f32>().unwrap() as f64;
    assert_eq!(kl(&ta, &ta), 0.0);
    let shifted = (&ta + 3.0).unwrap();
    assert!(kl(&ta, &shifted).abs() < 1e-6);
    let softmax = |r: &[f32]| {
        let z: f64 = r.iter().map(|&v| (v as f64).exp()).sum();
        r.iter().map(|&v| (v as f64).exp() / z).collect::<Vec<_>>()
    };
    let mut want = 0.0;
    for i in 0..2 {
        let (p, q) = (softmax(&a[3 * i..3 * i + 3]), softmax(&b[3 * i..3 * i + 3]));
        want += p.iter().zip(&q).map(|(p, q)| p * (p / q).ln()).sum::<f64>() / 2.0;
    }
    assert!(
        (kl(&ta, &tb) - want).abs() < 1e-5,
        "{} vs {want}",
        kl(&ta, &tb)
    );
    assert!((kl(&tb, &ta) - want).abs() > 1e-3, "KL is not symmetric");
    // Gradient: none into the error-free (reference) logits; (softmax(noisy) - p_clean) / n
    // into the erroneous ones.
    let (va, vb) = (
        candle_core::Var::from_tensor(&ta).unwrap(),
        candle_core::Var::from_tensor(&tb).unwrap(),
    );
    let g = sensitivity_kl(va.as_tensor(), vb.as_tensor())
        .unwrap()
        .backward()
        .unwrap();
    if let Some(ga) = g.get(va.as_tensor()) {
        let ga: Vec<f32> = ga.flatten_all().unwrap().to_vec1().unwrap();
        assert!(ga.iter().all(|&v| v == 0.0), "{ga:?}");
    }
    let gb: Vec<f32> = g
        .get(vb.as_tensor())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    for i in 0..2 {
        let (p, q) = (softmax(&a[3 * i..3 * i + 3]), softmax(&b[3 * i..3 * i + 3]));
        for j in 0..3 {
            let want = (q[j] - p[j]) / 2.0;
            assert!((gb[3 * i + j] as f64 - want).abs() < 1e-6, "{gb:?}");
        }
    }
}

/// The active regularizer acts only through --active-weight: at 0 the active mode trains the
/// conventional network bit for bit; with a positive weight it lowers what it penalizes (the
/// training KL between the error-free and erroneous passes) and the measured sensitivity
/// (test loss increase under bit-exact approximate inference) below the conventional one.
#[test]
fn active_regularizer_weight_zero_is_conventional_and_positive_cuts_sensitivity() {
    let (train, test) = toy_dataset(240, 2).split(0.3, 1).unwrap();
    // Truncation with a constant correction: a large, biased error (on digits it costs a
    // conventional MLP 85 points).
    let em = ErrorModel::new(Hardware::from_spec("trunc:t=11,corr", false, ActOperand::A).unwrap());
    let pb = indicatif::ProgressBar::hidden();
    let mut c = cfg(12);
    c.active_weight = 0.0;
    let setup = Setup::new(Arch::Mlp, 16, train.clone(), test.clone(), c.clone()).unwrap();
    let base = setup.train(Mode::Baseline, None, 3, &pb).unwrap();
    let zero = setup.train(Mode::Active, Some(&em), 3, &pb).unwrap();
    assert_eq!(base.params, zero.params);
    assert!(
        zero.last_reg > 0.0,
        "the regularizer is measured even at weight 0"
    );
    c.active_weight = 1.0;
    let setup = Setup::new(Arch::Mlp, 16, train, test, c).unwrap();
    let act = setup.train(Mode::Active, Some(&em), 3, &pb).unwrap();
    assert!(
        act.last_reg < 0.5 * zero.last_reg,
        "training KL {} (weight 1) vs {} (weight 0)",
        act.last_reg,
        zero.last_reg
    );
    let rb = evaluate(&setup, &base, &em, Mode::Baseline, 3).unwrap();
    let ra = evaluate(&setup, &act, &em, Mode::Active, 3).unwrap();
    assert!(rb.sensitivity > 0.02, "{}", rb.sensitivity);
    // A real cut: the active network still works with exact products.
    assert!(ra.exact.accuracy > 80.0, "{:?}", ra.exact);
    assert!(
        ra.sensitivity < 0.75 * rb.sensitivity,
        "measured sensitivity {} (active) vs {} (conventional)",
        ra.sensitivity,
        rb.sensitivity
    );
}

#[test]
fn loaders_read_csv_gz_headers_and_idx() {
    let dir = tempfile::tempdir().unwrap();
    let header: Vec<String> = (0..64).map(|i| format!("p{i}")).collect();
    let text = format!("label,{}\n{}", header.join(","), toy_csv(9, 2, false));
    let csv = write_file(dir.path(), "d.csv", text.as_bytes());
    let d = data::load(&csv, LabelColumn::First).unwrap();
    assert_eq!((d.len(), d.shape, d.classes), (9, (1, 8, 8), 3));
    assert_eq!(d, toy_dataset(9, 2));
    let gz = dir.path().join("d.csv.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut e, toy_csv(9, 2, true).as_bytes()).unwrap();
    std::fs::write(&gz, e.finish().unwrap()).unwrap();
    assert_eq!(data::load(&gz, LabelColumn::Last).unwrap(), d);
    // IDX: 9 images of 8x8 bytes and their labels.
    let rows = toy_rows(9, 2);
    let mut img = vec![0, 0, 8, 3, 0, 0, 0, 9, 0, 0, 0, 8, 0, 0, 0, 8];
    img.extend(rows.iter().flat_map(|r| r.1.iter().map(|&v| v as u8)));
    let mut lab = vec![0, 0, 8, 1, 0, 0, 0, 9];
    lab.extend(rows.iter().map(|r| r.0 as u8));
    std::fs::write(dir.path().join("t-images-idx3-ubyte"), &img).unwrap();
    std::fs::write(dir.path().join("t-labels-idx1-ubyte"), &lab).unwrap();
    let idx = data::load(&dir.path().join("t-images-idx3-ubyte"), LabelColumn::First).unwrap();
    assert_eq!(idx, d);
}

// ------------------------------------------------------------------------ CLI

/// `tetris noise-profile` of the 8-bit `spec` multiplier, writing its table to `lut` (`--lut-bin`).
fn write_lut_bin(lut: &Path, spec: &str) {
    run_ok(noise_profile(spec, "8").opt("--lut-bin", lut));
}

#[test]
fn cli_sweep_writes_table_json_plot_and_npz_that_knead_reads() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_file(dir.path(), "toy.csv", toy_csv(60, 3, true).as_bytes());
    let lut = dir.path().join("m.bin");
    write_lut_bin(&lut, "drum:k=3");
    let (json, plot, npz) = (
        dir.path().join("r.json"),
        dir.path().join("r.svg"),
        dir.path().join("nets"),
    );
    let mut cmd = tetris();
    cmd.args(["axtrain", "--data"])
        .arg(&data)
        .args(["--label-col", "last", "--mult", "trunc:t=10", "--lut"])
        .arg(&lut)
        .args([
            "--mode",
            "passive,active",
            "--epochs",
            "3",
            "--seeds",
            "2",
            "--json",
        ])
        .arg(&json)
        .opt("--plot", &plot)
        .opt("--npz-dir", &npz);
    assert_contains_all(&run_ok_stdout(&mut cmd), &["trunc:t=10", "lut:m.bin"]);
    let doc = read_json(&json);
    // 2 seeds x (baseline on 2 multipliers + 2 modes x 2 multipliers) runs.
    assert_eq!(doc["runs"].as_array().unwrap().len(), 12);
    let s = &doc["summary"][1];
    assert_eq!(s["hardware"], "lut:m.bin");
    // The LUT is drum:k=3: its metrics equal the built-in's.
    let em = ErrorModel::new(Hardware::from_spec("drum:k=3", false, ActOperand::A).unwrap());
    assert_eq!(s["mre_percent"].as_f64().unwrap(), em.metrics.mre_percent);
    for r in doc["runs"].as_array().unwrap() {
        let (e, a) = (&r["exact"], &r["approx"]);
        let d = a["loss"].as_f64().unwrap() - e["loss"].as_f64().unwrap();
        assert!((r["sensitivity"].as_f64().unwrap() - d).abs() < 1e-12);
    }
    assert!(std::fs::read_to_string(&plot).unwrap().starts_with("<svg"));
    let files: Vec<_> = std::fs::read_dir(&npz)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "npz")
        })
        .collect();
    assert_eq!(files.len(), 2 + 2 * 2 * 2);
    let one = npz.join("trunc_t_10_passive_s1.npz");
    let layers = tetris_hdl::weights::load(&one).unwrap();
    let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
    assert_eq!(layers[0].shape, vec![64, 64]);
    run_ok(tetris().args(["knead", "--weights"]).arg(&one));
}

fn assert_clean_failure(args: &[&str], data: &Path, extra: &[&Path], mention: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let mut c = tetris();
    c.args(["axtrain", "--data"]).arg(data).args(args);
    for p in extra {
        c.arg(p);
    }
    let err = run_fails(c.opt("--json", &json));
    assert_clean_error(&err, mention);
    assert!(!json.exists(), "no output on failure");
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = write_file(d, "good.csv", toy_csv(30, 1, true).as_bytes());
    let base = [
        "--label-col",
        "last",
        "--epochs",
        "1",
        "--seeds",
        "1",
        "--mult",
        "exact",
    ];
    let ragged = write_file(d, "ragged.csv", b"1,2,3,0\n4,5,0\n");
    assert_clean_failure(&base, &ragged, &[], &["ragged.csv", "line 2", "ragged"]);
    let label = write_file(d, "label.csv", b"1,2,3,0\n4,5,6,2.5\n");
    assert_clean_failure(&base, &label, &[], &["label.csv", "line 2", "label 2.5"]);
    let neg = write_file(d, "neg.csv", b"1,2,3,-1\n");
    assert_clean_failure(&base, &neg, &[], &["neg.csv", "line 1", "label -1"]);
    let empty = write_file(d, "empty.csv", b"");
    assert_clean_failure(&base, &empty, &[], &["empty.csv", "empty"]);
    let text = write_file(d, "text.csv", b"1,2,3,0\n1,x,3,0\n");
    assert_clean_failure(&base, &text, &[], &["text.csv", "line 2, column 2", "`x`"]);
    let short = write_file(d, "short.bin", &[0u8; 1000]);
    assert_clean_failure(
        &["--label-col", "last", "--lut"],
        &good,
        &[&short],
        &["short.bin", "131072 bytes", "1000"],
    );
    let m = Multiplier::from_spec("exact", 8, false).unwrap();
    let big = Lut8::build(false, Roles::new(ActOperand::A, "a", "b"), |a, b| {
        m.eval(a, b)
    });
    let npy = write_file(
        d,
        "wrong.npy",
        &tetris_hdl::weights::npy::write_f32(
            &[128, 512],
            &big.values.iter().map(|&v| v as f32).collect::<Vec<_>>(),
        ),
    );
    assert_clean_failure(
        &["--label-col", "last", "--lut"],
        &good,
        &[&npy],
        &["wrong.npy", "(256, 256)"],
    );
    assert_clean_failure(&["--label-col", "last"], &good, &[], &["--mult", "--lut"]);
    assert_clean_failure(
        &["--label-col", "last", "--mult", "drum:k=12"],
        &good,
        &[],
        &["drum"],
    );
    let test_more = write_file(d, "test.csv", b"1,2,3,7\n");
    let train3 = write_file(d, "train.csv", b"1,2,3,0\n4,5,6,1\n");
    assert_clean_failure(
        &["--label-col", "last", "--mult", "exact", "--test-data"],
        &train3,
        &[&test_more],
        &["test set", "label", "7"],
    );
    let idx = write_file(
        d,
        "x-images-idx3-ubyte",
        &[0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3],
    );
    write_file(d, "x-labels-idx1-ubyte", &[0, 0, 8, 1, 0, 0, 0, 2, 0, 1]);
    assert_clean_failure(
        &["--mult", "exact"],
        &idx,
        &[],
        &["x-images-idx3-ubyte", "8 data bytes", "3"],
    );
}

// ------------------------------------------------ a third-party Verilog multiplier

/// An 8x8 multiplier that ignores bit 0 of port b: y = a * (b & ~1). Asymmetric, so which
/// port took the activation changes every product of an odd operand.
const DROP_B0_V: &str = "// test multiplier: ignores the LSB of port b
module mul8_dropb0(input [7:0] a, input [7:0] b, output [15:0] y);
  assign y = a * {b[7:1], 1'b0};
endmodule
";

/// activation x |weight| through a multiplier in one operand assignment.
type Role = dyn Fn(i64, i64) -> i64;

fn drop_b0(a: i64, b: i64) -> i64 {
    a * (b & !1)
}

/// Accuracy (%) and mean cross-entropy of logits, written out here.
fn accuracy_and_loss(z: &[f64], labels: &[u32], classes: usize) -> (f64, f64) {
    let (mut ok, mut loss) = (0usize, 0.0);
    for (row, &l) in z.chunks(classes).zip(labels) {
        let mut best = 0;
        for j in 1..classes {
            if row[j] > row[best] {
                best = j;
            }
        }
        ok += (best == l as usize) as usize;
        let mx = row.iter().cloned().fold(f64::MIN, f64::max);
        let lse = mx + row.iter().map(|v| (v - mx).exp()).sum::<f64>().ln();
        loss += lse - row[l as usize];
    }
    (
        100.0 * ok as f64 / labels.len() as f64,
        loss / labels.len() as f64,
    )
}

fn npz_params(path: &Path) -> Vec<Params> {
    let e = tetris_hdl::weights::npz::parse(&std::fs::read(path).unwrap()).unwrap();
    e.chunks(2)
        .map(|c| {
            assert!(c[0].0.ends_with(".weight") && c[1].0.ends_with(".bias"));
            Params {
                w: c[0].1.data.clone(),
                b: c[1].1.data.clone(),
            }
        })
        .collect()
}

/// `tetris characterize` of a Verilog multiplier written here, its `--lut-bin` and `--lut-npy`
/// fed to `tetris axtrain --lut`: the tables axtrain uses are the Verilog's function in the
/// roles characterize wrote them, and the approximate accuracy and loss axtrain reports for
/// the conventional and the passive network equal a re-computation here, one product at a
/// time through that function (the swapped roles give other figures).
#[test]
fn characterized_verilog_multiplier_drives_axtrain() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let v = write_file(d, "mul8_dropb0.v", DROP_B0_V.as_bytes());
    // Activation on port b (characterize's default) -> ab.bin; on port a -> aa.npy.
    let (ab, aa) = (d.join("ab.bin"), d.join("aa.npy"));
    for (act, flag, out) in [("b", "--lut-bin", &ab), ("a", "--lut-npy", &aa)] {
        run_ok(
            tetris()
                .args(["characterize", "--verilog"])
                .arg(&v)
                .args(["--width", "8", "--activation", act, flag])
                .arg(out)
                .opt("--work-dir", d.join("vl")),
        );
    }
    // activation x weight through the Verilog, in each role.
    let act_on_b = |a: i64, w: i64| drop_b0(w, a);
    let act_on_a = |a: i64, w: i64| drop_b0(a, w);
    let roles: [(&Path, &Role, &Role); 2] =
        [(&ab, &act_on_b, &act_on_a), (&aa, &act_on_a, &act_on_b)];
    for (f, right, _) in roles {
        let hw = Hardware::from_lut(f, false).unwrap();
        for w in -127i64..=127 {
            for a in 0..=255i64 {
                let want = w.signum() * right(a, w.abs());
                assert_eq!(
                    hw.row(w as i8)[a as usize] as i64,
                    want,
                    "{} a={a} w={w}",
                    f.display()
                );
            }
        }
    }
    // Train and evaluate on the characterized tables.
    let csv = write_file(d, "toy.csv", toy_csv(60, 3, true).as_bytes());
    let (json, nets) = (d.join("r.json"), d.join("nets"));
    run_ok(
        tetris()
            .args(["axtrain", "--data"])
            .arg(&csv)
            .args(["--label-col", "last", "--hidden", "16", "--lut"])
            .arg(&ab)
            .opt("--lut", &aa)
            .args([
                "--mode", "passive", "--epochs", "3", "--seeds", "1", "--json",
            ])
            .arg(&json)
            .opt("--npz-dir", &nets),
    );
    let doc = read_json(&json);
    // The same data, split and training as the CLI (seed 1), in-process.
    let (train, test) = data::load(&csv, LabelColumn::Last)
        .unwrap()
        .split(0.2, 1)
        .unwrap();
    let mut c = cfg(3);
    c.batch = 32;
    let setup = Setup::new(Arch::Mlp, 16, train, test, c).unwrap();
    let pb = indicatif::ProgressBar::hidden();
    let conventional = setup.train(Mode::Baseline, None, 1, &pb).unwrap();
    assert_eq!(
        npz_params(&nets.join("conventional_baseline_s1.npz")),
        conventional.params
    );
    let mut checked = 0;
    for (f, right, swapped) in roles {
        let name = format!("lut:{}", f.file_name().unwrap().to_string_lossy());
        let em = ErrorModel::new(Hardware::from_lut(f, false).unwrap());
        let passive = setup.train(Mode::Passive, Some(&em), 1, &pb).unwrap();
        let slug: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        assert_eq!(
            npz_params(&nets.join(format!("{slug}_passive_s1.npz"))),
            passive.params
        );
        for (mode, t) in [("baseline", &conventional), ("passive", &passive)] {
            let run = doc["runs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["hardware"] == name.as_str() && r["mode"] == mode)
                .unwrap_or_else(|| panic!("no {mode} run on {name}"));
            let q = setup.quantize(t, 255);
            let n = setup.test.len();
            let eval = |g: &dyn Fn(i64, i64) -> i64| {
                let prod = |a: u8, w: i8| (w as i64).signum() * g(a as i64, (w as i64).abs());
                let z = reference_logits_with(&q, &prod, &setup.test.pixels, n);
                (accuracy_and_loss(&z, &setup.test.labels, 3), z)
            };
            let ((acc, loss), z) = eval(right);
            let ((_, swapped_loss), zs) = eval(swapped);
            assert_ne!(
                z, zs,
                "{name} {mode}: the roles must matter on this network"
            );
            let got_acc = run["approx"]["accuracy"].as_f64().unwrap();
            let got_loss = run["approx"]["loss"].as_f64().unwrap();
            assert_eq!(got_acc, acc, "{name} {mode}: approximate accuracy");
            assert!(
                (got_loss - loss).abs() <= 1e-12 * loss.abs().max(1.0),
                "{name} {mode}: approximate loss {got_loss} vs the Verilog's {loss} (swapped roles: {swapped_loss})"
            );
            assert!((got_loss - swapped_loss).abs() > 1e-9, "{name} {mode}");
            checked += 1;
        }
    }
    assert_eq!(checked, 4);
}

// ------------------------------------------------------------- area (--area)

/// `--area`: each --mult multiplier's emitted RTL synthesized by Yosys; the exact multiplier
/// is larger than a truncated one, the figures equal `tetris synth --target generic` of the
/// RTL `noise-profile --emit-rtl` writes, and they reach the table, the JSON and the plot.
#[test]
fn area_of_each_multiplier_in_table_json_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = write_file(d, "toy.csv", toy_csv(45, 4, true).as_bytes());
    let (json, plot) = (d.join("a.json"), d.join("a.svg"));
    // One passive epoch of one seed, 8 hidden units, with `args` (the multipliers), to `json`.
    let quick_sweep = |args: &[&str], json: &Path| {
        let mut c = tetris();
        c.args(["axtrain", "--data"])
            .arg(&csv)
            .args(["--label-col", "last", "--hidden", "8"])
            .args(args)
            .args(["--mode", "passive", "--epochs", "1", "--seeds", "1"])
            .opt("--json", json);
        c
    };
    let areas = ["--mult", "exact", "--mult", "trunc:t=8", "--area"];
    let stdout = run_ok_stdout(quick_sweep(&areas, &json).opt("--plot", &plot));
    assert_contains_all(&stdout, &["trans", "cells"]);
    let doc = read_json(&json);
    let area = |i: usize| {
        let a = &doc["summary"][i]["area"];
        (
            a["module"].as_str().unwrap().to_string(),
            a["cells"].as_u64().unwrap(),
            a["transistors"].as_u64().unwrap(),
        )
    };
    let (exact, trunc) = (area(0), area(1));
    assert_eq!(exact.0, "axm_exact_u8");
    assert!(
        exact.1 > trunc.1 && exact.2 > trunc.2,
        "{exact:?} vs {trunc:?}"
    );
    // The same figure from `tetris synth` of the RTL `noise-profile --emit-rtl` writes.
    let rtl = d.join("rtl");
    run_ok(
        noise_profile("trunc:t=8", "8")
            .args(["--samples", "1000", "--emit-rtl"])
            .arg(&rtl),
    );
    let rep = d.join("synth.json");
    run_ok(
        tetris()
            .args(["synth", "--target", "generic", "--filelist"])
            .arg(rtl.join("files.f"))
            .args(["--top", &trunc.0, "--work-dir"])
            .arg(d.join("synth"))
            .opt("--json", &rep),
    );
    let r = read_json(&rep);
    assert_eq!(r["design"]["cells"].as_u64().unwrap(), trunc.1);
    assert_eq!(r["design"]["transistors"].as_u64().unwrap(), trunc.2);
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.contains("<g id=\"mre\">") && svg.contains("<g id=\"area\">"));
    assert!(svg.contains(&format!("({} transistors, {} cells)", exact.2, exact.1)));
    assert!(svg.contains("CMOS transistor estimate"));
    // Without --area: no area anywhere.
    let json2 = d.join("b.json");
    run_ok(&mut quick_sweep(&["--mult", "exact"], &json2));
    let doc2 = read_json(&json2);
    assert!(doc2["summary"][0]["area"].is_null());
    // --area with LUTs only, or without yosys on PATH: clear errors, nothing written.
    let lut = d.join("e.bin");
    write_lut_bin(&lut, "exact");
    assert_clean_failure(
        &["--label-col", "last", "--area", "--lut"],
        &csv,
        &[&lut],
        &["--area", "--mult"],
    );
    let empty = d.join("no-tools");
    std::fs::create_dir(&empty).unwrap();
    let json3 = d.join("c.json");
    let err = run_fails(
        tetris()
            .env("PATH", &empty)
            .args(["axtrain", "--data"])
            .arg(&csv)
            .args(["--label-col", "last", "--mult", "exact", "--area", "--json"])
            .arg(&json3),
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("yosys") && err.contains("--area"), "{err}");
    assert!(!json3.exists());
}
