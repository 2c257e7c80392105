//! The axis order of numpy weight arrays (`--layout`), and numpy arrays as layers.
//!
//! A numpy file says nothing about which axis is the output channel. The default takes axis 0
//! (PyTorch's Conv `oihw`, Linear `oi`). Other frameworks differ: a PyTorch ConvTranspose
//! weight is `iohw` (`iok` in 1-D), a TensorFlow conv kernel `hwio`, a Keras Dense kernel `io`.
//! A layout names every axis: `o` the output channel, `i` the input channel, any other letter
//! a spatial axis. Arrays are rearranged to `o`, `i`, then the spatial axes in the order given.

use super::npy::NpyArray;
use super::{element_count, ArrayWork, InputSpec, Layer, LoadOptions, Loaded, OpKind, Work};
use anyhow::{bail, Result};
use tetris_core::model::conv::ConvParams;

/// A parsed `--layout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    letters: Vec<char>,
}

impl std::str::FromStr for Layout {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let letters: Vec<char> = s.trim().to_ascii_lowercase().chars().collect();
        let bad = |why: &str| {
            Err(format!(
                "--layout {s:?}: {why} (e.g. oihw, iohw, hwio, oi, io)"
            ))
        };
        if letters.is_empty() || letters.len() > 8 {
            return bad("give one letter per axis, at most 8");
        }
        if !letters.iter().all(|c| c.is_ascii_lowercase()) {
            return bad("letters only");
        }
        for (k, c) in letters.iter().enumerate() {
            if letters[..k].contains(c) {
                return bad(&format!("letter {c:?} appears twice"));
            }
        }
        if !letters.contains(&'o') {
            return bad("no 'o' (output channel) axis");
        }
        Ok(Layout { letters })
    }
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s: String = self.letters.iter().collect();
        f.write_str(&s)
    }
}

impl Layout {
    /// The default layout of a rank-r array: axis 0 is `o`, axis 1 `i`, then spatial axes
    /// (`oihw` for 4-D, `oi` for 2-D, `oik` for 3-D).
    pub fn default_for(rank: usize) -> String {
        match rank {
            0 => String::new(),
            1 => "o".into(),
            2 => "oi".into(),
            3 => "oik".into(),
            4 => "oihw".into(),
            r => format!("oi{}", "abcdefgh".chars().take(r - 2).collect::<String>()),
        }
    }

    pub fn rank(&self) -> usize {
        self.letters.len()
    }

    /// The permutation that puts `o`, then `i`, then the spatial axes first.
    fn order(&self) -> Vec<usize> {
        let pos = |c: char| self.letters.iter().position(|&l| l == c);
        let mut p: Vec<usize> = pos('o').into_iter().chain(pos('i')).collect();
        let rest: Vec<usize> = (0..self.letters.len()).filter(|k| !p.contains(k)).collect();
        p.extend(rest);
        p
    }

    /// Rearrange a row-major array of `shape` to output-channel-first order.
    pub fn apply(&self, shape: &[usize], data: &[f32]) -> Result<(Vec<usize>, Vec<f32>)> {
        if shape.len() != self.rank() {
            bail!(
                "--layout {self} has {} axes, the array has {} (shape {shape:?})",
                self.rank(),
                shape.len()
            );
        }
        Ok(permute(shape, data, &self.order()))
    }
}

/// Transpose a row-major array: output axis k is input axis `perm[k]`.
pub(crate) fn permute(shape: &[usize], data: &[f32], perm: &[usize]) -> (Vec<usize>, Vec<f32>) {
    let n = shape.len();
    let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    if perm.iter().enumerate().all(|(k, &p)| k == p) {
        return (out_shape, data.to_vec());
    }
    let mut stride = vec![1usize; n];
    for k in (0..n.saturating_sub(1)).rev() {
        stride[k] = stride[k + 1] * shape[k + 1];
    }
    let in_stride: Vec<usize> = perm.iter().map(|&p| stride[p]).collect();
    let mut idx = vec![0usize; n];
    let mut out = Vec::with_capacity(data.len());
    for _ in 0..data.len() {
        let off: usize = idx.iter().zip(&in_stride).map(|(i, s)| i * s).sum();
        out.push(data[off]);
        for k in (0..n).rev() {
            idx[k] += 1;
            if idx[k] < out_shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    (out_shape, out)
}

/// The array work of a numpy layer (after layout): a 4-D `[Cout, Cin, KH, KW]` conv with
/// "same" padding and stride 1 over an `--input-hw` input, or a 2-D `[Cout, K]` GEMM of one
/// input row.
fn numpy_work(shape: &[usize], inputs: &InputSpec) -> Result<Work> {
    Ok(match *shape {
        [co, ci, kh, kw] => match inputs.hw {
            None => Work::NeedsInput(
                "a numpy conv has no input size: give --input-hw H,W".into(),
            ),
            Some((h, w)) => {
                let params = ConvParams {
                    pad: (kh / 2, kw / 2, kh.saturating_sub(1) / 2, kw.saturating_sub(1) / 2),
                    ..ConvParams::plain(ci, co, (h, w), (kh, kw))
                };
                params.validate()?;
                Work::Array(ArrayWork { params, repeat: 1 })
            }
        },
        [co, k] => Work::Array(ArrayWork {
            params: ConvParams::gemm(1, k, co),
            repeat: 1,
        }),
        _ => Work::NotMapped(format!(
            "a {}-D numpy array: the array runs 4-D [Cout, Cin, KH, KW] convs and 2-D [Cout, K] matrices",
            shape.len()
        )),
    })
}

/// Named numpy arrays as layers, rearranged by `opts.layout` where the rank matches.
pub fn numpy_layers(arrays: Vec<(String, NpyArray)>, opts: &LoadOptions) -> Result<Loaded> {
    let mut loaded = Loaded::default();
    if let Some(l) = &opts.layout {
        if !arrays.iter().any(|(_, a)| a.shape.len() == l.rank()) {
            let shapes: Vec<String> = arrays
                .iter()
                .map(|(n, a)| format!("{n} {:?}", a.shape))
                .collect();
            bail!(
                "--layout {l} has {} axes and no array has that many ({})",
                l.rank(),
                shapes.join(", ")
            );
        }
    }
    let mut kept = Vec::new();
    for (name, a) in arrays {
        let (shape, data) = match &opts.layout {
            Some(l) if l.rank() == a.shape.len() => l.apply(&a.shape, &a.data)?,
            Some(_) => {
                kept.push(name.clone());
                (a.shape, a.data)
            }
            None => (a.shape, a.data),
        };
        if element_count(&shape) != Some(data.len()) {
            bail!(
                "{name}: shape {shape:?} does not match its {} values",
                data.len()
            );
        }
        let work = numpy_work(&shape, &opts.inputs).map_err(|e| e.context(name.clone()))?;
        loaded.layers.push(Layer {
            name,
            op: "tensor".into(),
            kind: OpKind::Tensor,
            shape,
            data,
            work,
            folded_bn: None,
        });
    }
    loaded.layout = Some(match &opts.layout {
        Some(l) => format!("numpy layout {l} (--layout), rearranged to output channel first"),
        None => "numpy layout: axis 0 taken as the output channel (oihw / oi; --layout iohw for a PyTorch ConvTranspose weight, hwio for TensorFlow)".into(),
    });
    if !kept.is_empty() {
        loaded.notes.push(format!(
            "--layout applies to arrays of its rank; {} other array(s) kept with axis 0 as the output channel: {}",
            kept.len(),
            kept.join(", ")
        ));
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_parse_and_reject_nonsense() {
        assert_eq!("oihw".parse::<Layout>().unwrap().order(), vec![0, 1, 2, 3]);
        assert_eq!("iohw".parse::<Layout>().unwrap().order(), vec![1, 0, 2, 3]);
        assert_eq!("hwio".parse::<Layout>().unwrap().order(), vec![3, 2, 0, 1]);
        assert_eq!("io".parse::<Layout>().unwrap().order(), vec![1, 0]);
        for bad in ["", "ihw", "oo", "o1", "oihwabcde"] {
            assert!(bad.parse::<Layout>().is_err(), "{bad}");
        }
    }

    /// A row-major 3-D array whose element [a][b][c] is 100a + 10b + c: each value names its
    /// place, so a permuted array shows where every element went.
    fn digits(shape: [usize; 3]) -> Vec<f32> {
        let mut data = vec![];
        for a in 0..shape[0] {
            for b in 0..shape[1] {
                for c in 0..shape[2] {
                    data.push((100 * a + 10 * b + c) as f32);
                }
            }
        }
        data
    }

    #[test]
    fn iok_conv_transpose_weight_becomes_output_first() {
        // (Cin=2, Cout=3, k=2): element [i][o][k] = 100i + 10o + k.
        let data = digits([2, 3, 2]);
        let l: Layout = "iok".parse().unwrap();
        let (shape, out) = l.apply(&[2, 3, 2], &data).unwrap();
        assert_eq!(shape, vec![3, 2, 2]);
        // Row o holds [i][k] for that o.
        assert_eq!(&out[4..8], &[10., 11., 110., 111.]);
        assert!(l.apply(&[6, 2], &data[..12]).is_err());
    }

    #[test]
    fn hwio_kernel_is_permuted() {
        // (h=1, w=2, i=2, o=3): value = 100w + 10i + o (h is always 0).
        let data = digits([2, 2, 3]);
        let (shape, out) = "hwio"
            .parse::<Layout>()
            .unwrap()
            .apply(&[1, 2, 2, 3], &data)
            .unwrap();
        assert_eq!(shape, vec![3, 2, 1, 2]);
        // [o=2][i=1][h=0][w=*] = 12, 112.
        assert_eq!(&out[2 * 4 + 2..2 * 4 + 4], &[12., 112.]);
    }
}
