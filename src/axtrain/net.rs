//! The two architectures (a small MLP and a LeNet-style CNN), their parameters, and the
//! float forward pass in candle with a hook at every weighted layer's pre-activation (where
//! passive noise, the straight-through approximate op and the active regularizer's probes act).

use crate::model::rng::SplitMix64;
use anyhow::{bail, Result};
use candle_core::{Device, Tensor, Var};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// input -> hidden (ReLU) -> classes
    Mlp,
    /// conv3x3(8) ReLU maxpool2, conv3x3(16) ReLU maxpool2, dense(hidden) ReLU, dense(classes)
    Cnn,
}

/// One weighted layer.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LayerSpec {
    pub name: String,
    /// Dense: kh = kw = 1, in spatial 1x1. Conv: 3x3, padding 1, stride 1.
    pub conv: bool,
    pub cin: usize,
    pub cout: usize,
    pub k: usize,
    /// Input height/width (1 for dense).
    pub in_hw: (usize, usize),
    pub relu: bool,
    /// 2x2 max pooling after the ReLU (conv only).
    pub pool: bool,
}

impl LayerSpec {
    /// Products per output value (the dot-product length).
    pub fn fan_in(&self) -> usize {
        self.cin * self.k * self.k
    }
    pub fn weight_shape(&self) -> Vec<usize> {
        if self.conv {
            vec![self.cout, self.cin, self.k, self.k]
        } else {
            vec![self.cout, self.cin]
        }
    }
    /// Output rows of the layer's GEMM per sample (output pixels; 1 for dense).
    pub fn out_pixels(&self) -> usize {
        self.in_hw.0 * self.in_hw.1
    }
}

/// The layers of `arch` for images of `shape` (c, h, w) and `classes` outputs.
pub fn layers(
    arch: Arch,
    shape: (usize, usize, usize),
    classes: usize,
    hidden: usize,
) -> Result<Vec<LayerSpec>> {
    let (c, h, w) = shape;
    let dense = |name: &str, cin, cout, relu| LayerSpec {
        name: name.into(),
        conv: false,
        cin,
        cout,
        k: 1,
        in_hw: (1, 1),
        relu,
        pool: false,
    };
    Ok(match arch {
        Arch::Mlp => vec![
            dense("fc1", c * h * w, hidden, true),
            dense("fc2", hidden, classes, false),
        ],
        Arch::Cnn => {
            if h < 4 || w < 4 || h % 4 != 0 || w % 4 != 0 {
                bail!("--arch cnn needs images whose height and width are multiples of 4 (two 2x2 poolings); got {h}x{w}");
            }
            let conv = |name: &str, cin, cout, hw| LayerSpec {
                name: name.into(),
                conv: true,
                cin,
                cout,
                k: 3,
                in_hw: hw,
                relu: true,
                pool: true,
            };
            vec![
                conv("conv1", c, 8, (h, w)),
                conv("conv2", 8, 16, (h / 2, w / 2)),
                dense("fc1", 16 * (h / 4) * (w / 4), hidden, true),
                dense("fc2", hidden, classes, false),
            ]
        }
    })
}

/// Float parameters of one layer (weights in `weight_shape` order, C order).
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub w: Vec<f32>,
    pub b: Vec<f32>,
}

/// Seeded He-uniform initialization.
pub fn init(specs: &[LayerSpec], seed: u64) -> Vec<Params> {
    let mut rng = SplitMix64::new(seed);
    specs
        .iter()
        .map(|s| {
            let bound = (6.0 / s.fan_in() as f64).sqrt();
            let n = s.cout * s.fan_in();
            Params {
                w: (0..n)
                    .map(|_| ((2.0 * rng.uniform() - 1.0) * bound) as f32)
                    .collect(),
                b: vec![0.0; s.cout],
            }
        })
        .collect()
}

/// The trainable network: specs and candle variables.
pub struct Net {
    pub specs: Vec<LayerSpec>,
    pub w: Vec<Var>,
    pub b: Vec<Var>,
}

impl Net {
    pub fn new(specs: Vec<LayerSpec>, params: &[Params], dev: &Device) -> Result<Self> {
        let mut w = Vec::new();
        let mut b = Vec::new();
        for (s, p) in specs.iter().zip(params) {
            w.push(Var::from_tensor(&Tensor::from_slice(
                &p.w,
                s.weight_shape(),
                dev,
            )?)?);
            b.push(Var::from_tensor(&Tensor::from_slice(&p.b, s.cout, dev)?)?);
        }
        Ok(Net { specs, w, b })
    }

    pub fn vars(&self) -> Vec<Var> {
        self.w.iter().chain(&self.b).cloned().collect()
    }

    pub fn params(&self) -> Result<Vec<Params>> {
        self.w
            .iter()
            .zip(&self.b)
            .map(|(w, b)| {
                Ok(Params {
                    w: w.as_tensor().flatten_all()?.to_vec1()?,
                    b: b.as_tensor().to_vec1()?,
                })
            })
            .collect()
    }

    /// Logits of a batch `x` (n, c, h, w). `hook(layer, input, z)` returns the pre-activation
    /// to use in place of `z` (the layer's exact float output, bias included).
    pub fn forward(
        &self,
        x: &Tensor,
        hook: &mut dyn FnMut(usize, &Tensor, Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let mut h = x.clone();
        for (l, s) in self.specs.iter().enumerate() {
            let (w, b) = (self.w[l].as_tensor(), self.b[l].as_tensor());
            let z = if s.conv {
                h.conv2d(w, 1, 1, 1, 1)?
                    .broadcast_add(&b.reshape((1, s.cout, 1, 1))?)?
            } else {
                if h.rank() != 2 {
                    h = h.flatten_from(1)?;
                }
                h.matmul(&w.t()?)?.broadcast_add(b)?
            };
            let mut z = hook(l, &h, z)?;
            if s.relu {
                z = z.relu()?;
            }
            if s.pool {
                z = z.max_pool2d(2)?;
            }
            h = z;
        }
        Ok(h)
    }
}
