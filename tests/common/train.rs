//! The training configuration the axtrain tests and bench start from.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use tetris_hdl::axtrain::noise::NoiseModel;
use tetris_hdl::axtrain::train::{Optim, TrainConfig};

/// Adam at lr 3e-3 on the LUT noise model, shared scales, active weight 1, no STE: `epochs`
/// epochs of `batch` images.
pub fn adam_lut_train_config(epochs: usize, batch: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch,
        lr: 3e-3,
        optim: Optim::Adam,
        per_channel: false,
        noise: NoiseModel::Lut,
        active_weight: 1.0,
        ste: false,
    }
}
