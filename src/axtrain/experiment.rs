//! Runs and sweeps: train the conventional network once per seed, then for every multiplier
//! the AxTrain modes, and evaluate each network with bit-exact exact and approximate
//! inference on the test set.

use super::data::Dataset;
use super::net::{init, layers, Arch, LayerSpec, Net, Params};
use super::noise::ErrorModel;
use super::qnet::{act_scale, Arith, Eval, QNet};
use super::train::{train, Mode, TrainConfig, Trained};
use anyhow::Result;
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// Everything a sweep needs besides the hardware.
pub struct Setup {
    pub arch: Arch,
    pub hidden: usize,
    pub train: Dataset,
    pub test: Dataset,
    pub cfg: TrainConfig,
    pub specs: Vec<LayerSpec>,
}

impl Setup {
    pub fn new(
        arch: Arch,
        hidden: usize,
        train: Dataset,
        test: Dataset,
        cfg: TrainConfig,
    ) -> Result<Self> {
        test.check_classes(train.classes, "test set")?;
        if test.shape != train.shape {
            anyhow::bail!(
                "test images are {:?}, training images {:?}",
                test.shape,
                train.shape
            );
        }
        let specs = layers(arch, train.shape, train.classes, hidden)?;
        Ok(Setup {
            arch,
            hidden,
            train,
            test,
            cfg,
            specs,
        })
    }

    /// Train one network from the seed's initialization.
    pub fn train(
        &self,
        mode: Mode,
        em: Option<&ErrorModel>,
        seed: u64,
        pb: &indicatif::ProgressBar,
    ) -> Result<Trained> {
        let net = Net::new(self.specs.clone(), &init(&self.specs, seed), &Device::Cpu)?;
        train(&self.train, &net, mode, em, &self.cfg, seed, pb)
    }

    /// The quantized network for a multiplier's activation range.
    pub fn quantize(&self, t: &Trained, act_max: u32) -> QNet {
        let scales: Vec<f64> = t.input_max.iter().map(|&m| act_scale(m, act_max)).collect();
        QNet::new(
            &self.specs,
            &t.params,
            &scales,
            self.cfg.per_channel,
            act_max,
        )
    }

    /// Test accuracy of the float network.
    pub fn float_accuracy(&self, params: &[Params]) -> Result<f64> {
        let dev = Device::Cpu;
        let net = Net::new(self.specs.clone(), params, &dev)?;
        let (c, h, w) = self.test.shape;
        let x = Tensor::from_slice(&self.test.pixels, (self.test.len(), c, h, w), &dev)?;
        let z = net.forward(&x, &mut |_, _, z| Ok(z))?;
        let pred: Vec<u32> = z.argmax(1)?.to_vec1()?;
        let ok = pred
            .iter()
            .zip(&self.test.labels)
            .filter(|(a, b)| a == b)
            .count();
        Ok(100.0 * ok as f64 / self.test.len() as f64)
    }
}

/// One trained network evaluated on one multiplier.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    pub hardware: String,
    pub mode: Mode,
    pub seed: u64,
    pub train_seconds: f64,
    pub float_accuracy: f64,
    /// Quantized, exact products.
    pub exact: Eval,
    /// Quantized, every product through the approximate multiplier.
    pub approx: Eval,
    /// Measured sensitivity: test loss increase from exact to approximate products.
    pub sensitivity: f64,
    /// The active regularizer R (mean KL between the error-free and the erroneous class
    /// distributions over the last epoch's training batches; 0 unless active).
    pub regularizer: f64,
    /// Training loss increase from the error-free to the erroneous forward pass over the last
    /// epoch (the measured sensitivity's training-set counterpart; 0 unless active).
    pub train_loss_rise: f64,
}

/// Evaluate a trained network on a multiplier (timing errors: one seeded draw per multiply).
pub fn evaluate(
    setup: &Setup,
    t: &Trained,
    em: &ErrorModel,
    mode: Mode,
    seed: u64,
) -> Result<RunRecord> {
    let q = setup.quantize(t, em.hw.act_max);
    let exact = q.evaluate(&setup.test, Arith::Exact);
    let arith = match em.hw.timing {
        Some(_) => Arith::Timed(&em.hw, seed ^ 0xe7a1),
        None => Arith::Approx(&em.hw),
    };
    let approx = q.evaluate(&setup.test, arith);
    Ok(RunRecord {
        hardware: em.hw.name.clone(),
        mode,
        seed,
        train_seconds: t.seconds,
        float_accuracy: setup.float_accuracy(&t.params)?,
        exact,
        approx,
        sensitivity: approx.loss - exact.loss,
        regularizer: t.last_reg,
        train_loss_rise: t.last_loss_rise,
    })
}

/// Mean and sample standard deviation.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Stat {
    pub mean: f64,
    pub sd: f64,
    pub n: usize,
}

impl Stat {
    pub fn of(v: &[f64]) -> Stat {
        let n = v.len();
        let mean = v.iter().sum::<f64>() / n.max(1) as f64;
        let sd = if n > 1 {
            (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Stat { mean, sd, n }
    }
}

/// Accuracy points a multiplier must cost before a recovered share is reported.
pub const MIN_LOSS: f64 = 0.5;

/// One multiplier's row of the paper-style table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HwSummary {
    pub hardware: String,
    pub mae_percent: f64,
    pub mre_percent: f64,
    pub ep_percent: f64,
    pub mean_error: f64,
    pub std_error: f64,
    /// Conventional network, quantized, exact products.
    pub exact_accuracy: Stat,
    /// Per mode (baseline first): accuracy with approximate products.
    pub approx_accuracy: Vec<(Mode, Stat)>,
    /// Per AxTrain mode: 100 * (approx_mode - approx_baseline) / (exact_baseline -
    /// approx_baseline); None when the conventional network lost less than 0.5 points.
    pub recovered_percent: Vec<(Mode, Option<f64>)>,
    /// Per mode: measured sensitivity (test loss increase).
    pub sensitivity: Vec<(Mode, Stat)>,
    /// 100 * (1 - sensitivity_active / sensitivity_baseline), when active ran.
    pub sensitivity_cut_percent: Option<f64>,
    /// Yosys generic-target area of the multiplier's emitted RTL (`--area`, built-in
    /// multipliers only; null otherwise).
    pub area: Option<super::area::Area>,
}

/// Summarize the runs of one multiplier.
pub fn summarize(em: &ErrorModel, runs: &[RunRecord], modes: &[Mode]) -> HwSummary {
    let pick = |mode: Mode, f: &dyn Fn(&RunRecord) -> f64| -> Vec<f64> {
        runs.iter()
            .filter(|r| r.hardware == em.hw.name && r.mode == mode)
            .map(f)
            .collect()
    };
    let exact = Stat::of(&pick(Mode::Baseline, &|r| r.exact.accuracy));
    let base_approx = Stat::of(&pick(Mode::Baseline, &|r| r.approx.accuracy));
    let base_sens = Stat::of(&pick(Mode::Baseline, &|r| r.sensitivity));
    let lost = exact.mean - base_approx.mean;
    let mut approx = vec![(Mode::Baseline, base_approx)];
    let mut sens = vec![(Mode::Baseline, base_sens)];
    let mut rec = vec![];
    for &m in modes.iter().filter(|&&m| m != Mode::Baseline) {
        let a = Stat::of(&pick(m, &|r| r.approx.accuracy));
        approx.push((m, a));
        sens.push((m, Stat::of(&pick(m, &|r| r.sensitivity))));
        rec.push((
            m,
            (lost >= MIN_LOSS).then(|| 100.0 * (a.mean - base_approx.mean) / lost),
        ));
    }
    let cut = sens
        .iter()
        .find(|(m, _)| *m == Mode::Active)
        .map(|(_, s)| 100.0 * (1.0 - s.mean / base_sens.mean));
    let mt = &em.metrics;
    HwSummary {
        hardware: em.hw.name.clone(),
        mae_percent: mt.mae_percent,
        mre_percent: mt.mre_percent,
        ep_percent: mt.ep_percent,
        mean_error: mt.mean_error,
        std_error: mt.std_error,
        exact_accuracy: exact,
        approx_accuracy: approx,
        recovered_percent: rec,
        sensitivity: sens,
        sensitivity_cut_percent: cut,
        area: None,
    }
}

/// Everything a sweep produced.
pub struct SweepResult {
    pub runs: Vec<RunRecord>,
    pub summaries: Vec<HwSummary>,
    /// (hardware name or "conventional", mode, seed, network), for export.
    pub networks: Vec<(String, Mode, u64, Trained)>,
}

impl SweepResult {
    /// Every trained network as an .npz (`<layer>.weight`, `<layer>.bias`), named
    /// `<hardware>_<mode>_s<seed>.npz`.
    pub fn networks_npz(&self, specs: &[LayerSpec]) -> Result<Vec<(String, Vec<u8>)>> {
        let slug = |s: &str| -> String {
            s.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect()
        };
        let mut nets = Vec::new();
        for (hw, mode, seed, t) in &self.networks {
            let mut entries = Vec::new();
            for (s, p) in specs.iter().zip(&t.params) {
                entries.push((format!("{}.weight", s.name), s.weight_shape(), p.w.clone()));
                entries.push((format!("{}.bias", s.name), vec![s.cout], p.b.clone()));
            }
            let name = format!("{}_{:?}_s{seed}.npz", slug(hw), mode).to_lowercase();
            nets.push((name, crate::weights::npz::write_f32(&entries)?));
        }
        Ok(nets)
    }
}

/// Baseline once per seed, then every other mode per multiplier and seed; each network
/// evaluated with exact and approximate products. A progress bar counts epochs.
pub fn sweep(
    setup: &Setup,
    ems: &[ErrorModel],
    modes: &[Mode],
    seeds: &[u64],
    show_progress: bool,
) -> Result<SweepResult> {
    let others: Vec<Mode> = modes
        .iter()
        .cloned()
        .filter(|&m| m != Mode::Baseline)
        .collect();
    let trainings = seeds.len() * (1 + ems.len() * others.len());
    let pb = tetris_core::progress::bar(
        show_progress,
        (trainings * setup.cfg.epochs) as u64,
        "{msg} [{bar:40}] {pos}/{len} epochs {elapsed_precise} (eta {eta})",
    );
    let mut runs = Vec::new();
    let mut networks = Vec::new();
    for &seed in seeds {
        pb.set_message(format!("conventional seed {seed}"));
        let t = setup.train(Mode::Baseline, None, seed, &pb)?;
        for em in ems {
            runs.push(evaluate(setup, &t, em, Mode::Baseline, seed)?);
        }
        networks.push(("conventional".to_string(), Mode::Baseline, seed, t));
    }
    for em in ems {
        for &mode in &others {
            for &seed in seeds {
                pb.set_message(format!("{} {mode:?} seed {seed}", em.hw.name));
                let t = setup.train(mode, Some(em), seed, &pb)?;
                runs.push(evaluate(setup, &t, em, mode, seed)?);
                networks.push((em.hw.name.clone(), mode, seed, t));
            }
        }
    }
    pb.finish_and_clear();
    let summaries = ems.iter().map(|em| summarize(em, &runs, modes)).collect();
    Ok(SweepResult {
        runs,
        summaries,
        networks,
    })
}
