//! The training loop: conventional (baseline), passive (the hardware's error injected into
//! every weighted layer's pre-activation), active (a sensitivity regularizer), or both.
//!
//! Active regularizer: the expected loss increase when every pre-activation z_j gets the
//! multiplier's accumulated error e_j (second moment V_j from the by-magnitude table at the
//! current quantized operands), to second order with the Fisher (outer-product) curvature:
//! S = mean over samples of sum_j 1/2 g_j^2 V_j, g = dL_n/dz (per sample). (A first-order
//! term sum_j g_j mu_j for the error's mean was tried and made training collapse: the linear
//! term is unbounded below.) Its gradient needs d/dtheta of g: instead of second-order
//! autograd (candle's backward detaches), the finite-difference identity
//! grad S = grad_theta [L(theta, +eps c) - L(theta, -eps c)] / (2 eps), c = g V held fixed,
//! i.e. two extra forward passes with the pre-activations shifted by +-eps c and one backward
//! of L + lambda * that difference (V is held fixed within a step).

use super::data::Dataset;
use super::net::{Net, Params};
use super::noise::{ErrorModel, NoiseModel};
use super::qnet::{
    act_scale, gemm, input_maxima, patches, quantize_acts, quantize_weights, rows_to_nchw, Arith,
};
use super::rng::Rng;
use anyhow::{bail, Result};
use candle_core::{Device, Tensor, Var};
use candle_nn::optim::{AdamW, Optimizer, ParamsAdamW, SGD};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Baseline,
    Passive,
    Active,
    Both,
}

impl Mode {
    pub fn passive(self) -> bool {
        matches!(self, Mode::Passive | Mode::Both)
    }
    pub fn active(self) -> bool {
        matches!(self, Mode::Active | Mode::Both)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Optim {
    Adam,
    Sgd,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub optim: Optim,
    pub per_channel: bool,
    pub noise: NoiseModel,
    /// lambda of the active regularizer.
    pub active_weight: f64,
    /// Forward through the quantized approximate arithmetic (straight-through gradient).
    pub ste: bool,
}

/// A trained network with the activation calibration of its last epoch.
#[derive(Debug, Clone)]
pub struct Trained {
    pub params: Vec<Params>,
    /// Largest input of each layer over the training set (float network).
    pub input_max: Vec<f64>,
    pub seconds: f64,
    /// Mean training loss of the last epoch (without the regularizer).
    pub last_loss: f64,
    /// Mean regularizer R of the last epoch (0 unless active).
    pub last_reg: f64,
}

/// Per-step view of one layer's quantized operands (for noise, V and the STE).
struct LayerOps {
    rows: Vec<u8>,
    w: Vec<i8>,
    scale: Vec<f32>, // s_a * s_w per output channel
}

fn layer_ops(
    net: &Net,
    l: usize,
    input: &Tensor,
    in_scale: f64,
    act_max: u32,
    per_channel: bool,
) -> Result<LayerOps> {
    let s = &net.specs[l];
    let n = input.dim(0)?;
    let x: Vec<f32> = input.flatten_all()?.to_vec1()?;
    let codes = quantize_acts(&x, in_scale, act_max);
    let wf: Vec<f32> = net.w[l].as_tensor().flatten_all()?.to_vec1()?;
    let (w, sw) = quantize_weights(s, &wf, per_channel);
    Ok(LayerOps {
        rows: patches(s, &codes, n),
        w,
        scale: sw.iter().map(|&v| (v * in_scale) as f32).collect(),
    })
}

/// Values per GEMM output (rows x cout, product units) scaled to float and shaped like `z`.
fn to_tensor(net: &Net, l: usize, ops: &LayerOps, v: &[f64], z: &Tensor) -> Result<Tensor> {
    let s = &net.specs[l];
    let m = s.cout;
    let scaled: Vec<f32> = v
        .iter()
        .enumerate()
        .map(|(i, &e)| e as f32 * ops.scale[i % m])
        .collect();
    let n = z.dim(0)?;
    Ok(Tensor::from_vec(
        rows_to_nchw(s, &scaled, n),
        z.shape(),
        z.device(),
    )?)
}

/// One optimizer step on a gradient store.
type StepFn = dyn FnMut(&candle_core::backprop::GradStore) -> Result<()>;

/// Train one network. `hw` is required for passive, active and `ste`.
pub fn train(
    ds: &Dataset,
    net: &Net,
    mode: Mode,
    hw: Option<&ErrorModel>,
    cfg: &TrainConfig,
    seed: u64,
    pb: &indicatif::ProgressBar,
) -> Result<Trained> {
    // The conventional baseline never sees the hardware (not even with --ste).
    let need_hw = mode != Mode::Baseline;
    if need_hw && hw.is_none() {
        bail!("mode {mode:?} needs a multiplier (--mult or --lut)");
    }
    if cfg.batch == 0 || cfg.epochs == 0 {
        bail!("--batch and --epochs must be at least 1");
    }
    let t0 = std::time::Instant::now();
    let dev = Device::Cpu;
    let act_max = hw.map(|h| h.hw.act_max).unwrap_or(255);
    let mut opt: Box<StepFn> = match cfg.optim {
        Optim::Adam => {
            let mut o = AdamW::new(
                net.vars(),
                ParamsAdamW {
                    lr: cfg.lr,
                    weight_decay: 0.0,
                    ..Default::default()
                },
            )?;
            Box::new(move |g| Ok(o.step(g)?))
        }
        Optim::Sgd => {
            let mut o = SGD::new(net.vars(), cfg.lr)?;
            Box::new(move |g| Ok(o.step(g)?))
        }
    };
    let mut rng = Rng::new(seed ^ 0x7a11_0000);
    let (c, h, w) = ds.shape;
    let f = ds.features();
    let mut order: Vec<usize> = (0..ds.len()).collect();
    let (mut last_loss, mut last_reg) = (0.0, 0.0);
    let nl = net.specs.len();
    let mut input_max = vec![0.0; nl];
    for _epoch in 0..cfg.epochs {
        // Activation scales of this epoch: calibrated on the training set, as inference does.
        input_max = input_maxima(net, ds, &dev)?;
        let in_scales: Vec<f64> = input_max.iter().map(|&m| act_scale(m, act_max)).collect();
        rng.shuffle(&mut order);
        let (mut sum_loss, mut sum_reg, mut batches) = (0.0, 0.0, 0usize);
        for chunk in order.chunks(cfg.batch) {
            let n = chunk.len();
            let mut px = Vec::with_capacity(n * f);
            for &i in chunk {
                px.extend_from_slice(ds.image(i));
            }
            let x = Tensor::from_vec(px, (n, c, h, w), &dev)?;
            let y = Tensor::from_vec(
                chunk.iter().map(|&i| ds.labels[i]).collect::<Vec<u32>>(),
                n,
                &dev,
            )?;
            // Pass 1: noise / STE fixed for this step, probes to read dL/dz.
            let mut fixed: Vec<Option<Tensor>> = vec![None; nl];
            let mut second: Vec<Option<(Tensor, Tensor)>> = vec![None; nl];
            let mut probes: Vec<Option<Var>> = vec![None; nl];
            let logits = net.forward(&x, &mut |l, input, z| {
                let mut add: Option<Tensor> = None;
                if need_hw {
                    let em = hw.expect("checked above");
                    let ops = layer_ops(net, l, input, in_scales[l], act_max, cfg.per_channel)?;
                    let (k, m) = (net.specs[l].fan_in(), net.specs[l].cout);
                    if cfg.ste && need_hw {
                        // Straight-through: the forward value is the quantized approximate
                        // layer, the gradient is the float layer's.
                        let acc = gemm(Arith::Approx(&em.hw), &ops.rows, &ops.w, k, m);
                        let approx = to_tensor(
                            net,
                            l,
                            &ops,
                            &acc.iter().map(|&v| v as f64).collect::<Vec<_>>(),
                            &z,
                        )?;
                        let bias = net.b[l].as_tensor();
                        let bias = if net.specs[l].conv {
                            bias.reshape((1, m, 1, 1))?
                        } else {
                            bias.reshape((1, m))?
                        };
                        let approx = approx.broadcast_add(&bias)?;
                        add = Some((approx - &z)?.detach());
                    } else if mode.passive() {
                        let e = em.passive(cfg.noise, &ops.rows, &ops.w, k, m, &mut rng);
                        add = Some(to_tensor(net, l, &ops, &e, &z)?.detach());
                    }
                    if mode.active() {
                        let mo = em.moments(&ops.rows, &ops.w, k, m);
                        let (mut mu, mut v) = (Vec::new(), Vec::new());
                        for (i, (a, b)) in mo.iter().enumerate() {
                            let sc = ops.scale[i % m] as f64;
                            mu.push((a * sc) as f32);
                            v.push((b * sc * sc) as f32);
                        }
                        let spec = &net.specs[l];
                        let shape = |x: Vec<f32>| {
                            Tensor::from_vec(rows_to_nchw(spec, &x, n), z.shape(), &dev)
                        };
                        second[l] = Some((shape(mu)?, shape(v)?));
                        let p = Var::zeros(z.shape(), z.dtype(), &dev)?;
                        let zp = (&z + p.as_tensor())?;
                        probes[l] = Some(p);
                        fixed[l] = add.clone();
                        return Ok(match add {
                            Some(a) => (zp + a)?,
                            None => zp,
                        });
                    }
                }
                fixed[l] = add.clone();
                Ok(match add {
                    Some(a) => (z + a)?,
                    None => z,
                })
            })?;
            let loss0 = candle_nn::loss::cross_entropy(&logits, &y)?;
            sum_loss += loss0.to_scalar::<f32>()? as f64;
            let grads = if mode.active() {
                let g0 = loss0.backward()?;
                // c = dS/dg = g V per layer, g the per-sample dL/dz (the batch loss is a mean).
                let mut cs: Vec<Option<Tensor>> = vec![None; nl];
                let (mut reg, mut c2, mut cn) = (0.0f64, 0.0f64, 0usize);
                for l in 0..nl {
                    if let (Some(p), Some((_mu, v))) = (&probes[l], &second[l]) {
                        let g = match g0.get(p.as_tensor()) {
                            Some(g) => (g * n as f64)?,
                            None => continue,
                        };
                        let gv = (&g * v)?;
                        let s_l = ((&gv * &g)? * 0.5)?;
                        reg += s_l.sum_all()?.to_scalar::<f32>()? as f64 / n as f64;
                        let cl = gv;
                        c2 += cl.sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
                        cn += cl.elem_count();
                        cs[l] = Some(cl);
                    }
                }
                sum_reg += reg;
                let rms = (c2 / cn.max(1) as f64).sqrt();
                if rms > 0.0 && cfg.active_weight > 0.0 {
                    let eps = 1e-2 / rms;
                    let shifted = |sign: f64| -> Result<Tensor> {
                        let logits = net.forward(&x, &mut |l, _input, z| {
                            let mut z = z;
                            if let Some(a) = &fixed[l] {
                                z = (z + a)?;
                            }
                            if let Some(cl) = &cs[l] {
                                z = (z + (cl * (sign * eps))?)?;
                            }
                            Ok(z)
                        })?;
                        Ok(candle_nn::loss::cross_entropy(&logits, &y)?)
                    };
                    let lp = shifted(1.0)?;
                    let lm = shifted(-1.0)?;
                    let j = (&loss0 + ((lp - lm)? * (cfg.active_weight / (2.0 * eps)))?)?;
                    j.backward()?
                } else {
                    g0
                }
            } else {
                loss0.backward()?
            };
            opt(&grads)?;
            batches += 1;
        }
        last_loss = sum_loss / batches as f64;
        last_reg = sum_reg / batches as f64;
        if !last_loss.is_finite() {
            bail!("training diverged (loss {last_loss}); lower --lr or --active-weight");
        }
        pb.inc(1);
    }
    input_max = input_maxima(net, ds, &dev).unwrap_or(input_max);
    Ok(Trained {
        params: net.params()?,
        input_max,
        seconds: t0.elapsed().as_secs_f64(),
        last_loss,
        last_reg,
    })
}
