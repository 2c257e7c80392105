//! The training loop: conventional (baseline), passive (the hardware's error injected into
//! every weighted layer's pre-activation), active (a sensitivity regularizer), or both.
//!
//! Active regularizer: what the measured sensitivity measures is the loss increase when every
//! product goes through the multiplier. The regularizer estimates the hardware's effect
//! directly on each training batch: one forward pass without and one with the hardware's
//! error at every weighted layer (the error drawn from the `--noise` model at the current
//! quantized operands: by default the exact LUT error of every product; each layer's error
//! computed on the inputs it receives in the erroneous pass, held fixed within a step), and
//! penalizes R = mean over samples of KL(p_clean || p_noisy), the divergence between the two
//! class distributions, the error-free one the (detached) reference: the gradient pulls the
//! erroneous outputs to the error-free ones. Active: J = L_clean + lambda R, lambda =
//! `--active-weight`; both: the passive and the active objectives summed,
//! J = L_noisy + L_clean + lambda R (one erroneous pass serves both). R >= 0, zero exactly
//! when the error does not change the outputs: it rewards insensitivity and works on the
//! network's outputs, not the labels (passive fits the labels under the error).
//!
//! Earlier version (commit 924721d): a second-order Fisher estimate sum_j 1/2 g_j^2 V_j with
//! V the by-magnitude table's second moment; it estimated a loss increase 10-100x below the
//! measured one (the real errors are large and biased) and did not cut the measured
//! sensitivity (docs/axtrain.md).

use super::data::Dataset;
use super::net::{Net, Params};
use super::noise::{ErrorModel, NoiseModel};
use super::qnet::{
    act_scale, gemm, input_maxima, patches, quantize_acts, quantize_weights, rows_to_nchw, Arith,
};
use crate::model::rng::SplitMix64;
use anyhow::{bail, Result};
use candle_core::{Device, Tensor, D};
use candle_nn::optim::{AdamW, Optimizer, ParamsAdamW, SGD};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
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

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Optim {
    Adam,
    Sgd,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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
    /// Mean training loss of the last epoch (without the regularizer): on the erroneous pass
    /// when passive or both, else on the error-free pass.
    pub last_loss: f64,
    /// Mean regularizer R of the last epoch (0 unless active).
    pub last_reg: f64,
    /// Mean training loss increase from the error-free to the erroneous forward pass over
    /// the last epoch (the measured sensitivity, on training batches; 0 unless active).
    pub last_loss_rise: f64,
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
    let mut rng = SplitMix64::new(seed ^ 0x7a11_0000);
    let (c, h, w) = ds.shape;
    let f = ds.features();
    let mut order: Vec<usize> = (0..ds.len()).collect();
    let (mut last_loss, mut last_reg, mut last_rise) = (0.0, 0.0, 0.0);
    let nl = net.specs.len();
    let mut input_max = vec![0.0; nl];
    for _epoch in 0..cfg.epochs {
        // Activation scales of this epoch: calibrated on the training set, as inference does.
        input_max = input_maxima(net, ds, &dev)?;
        let in_scales: Vec<f64> = input_max.iter().map(|&m| act_scale(m, act_max)).collect();
        rng.shuffle(&mut order);
        let (mut sum_loss, mut sum_reg, mut sum_rise, mut batches) = (0.0, 0.0, 0.0, 0usize);
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
            // The hardware's error at one layer's pre-activation for this step (product
            // units scaled to float, detached): the STE's approx - z, or a passive draw.
            let hw_error = |l: usize,
                            input: &Tensor,
                            z: &Tensor,
                            ste: bool,
                            rng: &mut SplitMix64|
             -> Result<Tensor> {
                let em = hw.expect("checked above");
                let ops = layer_ops(net, l, input, in_scales[l], act_max, cfg.per_channel)?;
                let (k, m) = (net.specs[l].fan_in(), net.specs[l].cout);
                if ste {
                    // Straight-through: the forward value is the quantized approximate
                    // layer, the gradient is the float layer's.
                    let acc = gemm(Arith::Approx(&em.hw), &ops.rows, &ops.w, k, m);
                    let acc: Vec<f64> = acc.iter().map(|&v| v as f64).collect();
                    let approx = to_tensor(net, l, &ops, &acc, z)?;
                    let bias = net.b[l].as_tensor();
                    let bias = if net.specs[l].conv {
                        bias.reshape((1, m, 1, 1))?
                    } else {
                        bias.reshape((1, m))?
                    };
                    Ok((approx.broadcast_add(&bias)? - z)?.detach())
                } else {
                    let e = em.passive(cfg.noise, &ops.rows, &ops.w, k, m, rng);
                    Ok(to_tensor(net, l, &ops, &e, z)?.detach())
                }
            };
            // The erroneous pass (passive's training pass, the active regularizer's
            // comparison pass): the hardware's error at every weighted layer, computed on the
            // inputs that layer receives in this pass; through the STE when --ste.
            let noisy = if need_hw {
                Some(net.forward(&x, &mut |l, input, z| {
                    let e = hw_error(l, input, &z, cfg.ste, &mut rng)?;
                    Ok((z + e)?)
                })?)
            } else {
                None
            };
            // The error-free pass (conventional training; active's loss and reference).
            let clean = if mode == Mode::Passive {
                None
            } else {
                Some(net.forward(&x, &mut |_, _, z| Ok(z))?)
            };
            // J = [passive] L_noisy + [active] (L_clean + lambda R); both is the sum.
            let ce = |logits: &Option<Tensor>| -> Result<Option<Tensor>> {
                Ok(match logits {
                    Some(z) => Some(candle_nn::loss::cross_entropy(z, &y)?),
                    None => None,
                })
            };
            let (l_noisy, l_clean) = (ce(&noisy)?, ce(&clean)?);
            let mut objective = match (mode.passive(), &l_noisy, &l_clean) {
                (true, Some(ln), _) => ln.clone(),
                (false, _, Some(lc)) => lc.clone(),
                _ => bail!("internal: mode {mode:?} without its forward pass"),
            };
            sum_loss += objective.to_scalar::<f32>()? as f64;
            if let (true, Some(nz), Some(cl), Some(ln), Some(lc)) =
                (mode.active(), &noisy, &clean, &l_noisy, &l_clean)
            {
                if mode.passive() {
                    objective = (objective + lc)?;
                }
                let r = sensitivity_kl(cl, nz)?;
                sum_reg += r.to_scalar::<f32>()? as f64;
                sum_rise += (ln - lc)?.to_scalar::<f32>()? as f64;
                objective = (objective + (r * cfg.active_weight)?)?;
            }
            let grads = objective.backward()?;
            opt(&grads)?;
            batches += 1;
        }
        last_loss = sum_loss / batches as f64;
        last_reg = sum_reg / batches as f64;
        last_rise = sum_rise / batches as f64;
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
        last_loss_rise: last_rise,
    })
}

/// The active regularizer R: the mean over the batch of KL(p_reference || p_other) between
/// the class distributions of two passes over the same batch, the reference detached (the
/// gradient moves `other` toward it, never the reference toward `other`).
///
/// In training the reference is the error-free pass. Tried first and dropped (measured in
/// docs/axtrain.md): gradient through both passes (the network lowered R by saturating or
/// corrupting its error-free outputs), and in both mode the erroneous pass as the reference
/// with the error-free one pulled to it (same collapse).
pub fn sensitivity_kl(reference: &Tensor, other: &Tensor) -> Result<Tensor> {
    let lp = candle_nn::ops::log_softmax(&reference.detach(), D::Minus1)?;
    let lq = candle_nn::ops::log_softmax(other, D::Minus1)?;
    let n = reference.dim(0)? as f64;
    Ok(((lp.exp()? * (&lp - lq)?)?.sum_all()? / n)?)
}
