//! Labelled image data: CSV (plain or .gz) with one label column and pixel columns, and MNIST
//! IDX files. Pixels are kept as read (f32, non-negative) and scaled to [0, 1] by the data
//! set's largest pixel, so that digits (0..16) and MNIST (0..255) train alike.

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Images of one shape (channels, height, width) with integer class labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Flat `n * c * h * w` pixels in [0, 1].
    pub pixels: Vec<f32>,
    pub labels: Vec<u32>,
    /// (channels, height, width)
    pub shape: (usize, usize, usize),
    pub classes: usize,
}

/// Which CSV column holds the label.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum LabelColumn {
    First,
    Last,
}

/// Largest class count accepted (labels are 0..classes).
pub const MAX_CLASSES: u32 = 1000;

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    pub fn features(&self) -> usize {
        self.shape.0 * self.shape.1 * self.shape.2
    }
    pub fn image(&self, i: usize) -> &[f32] {
        let f = self.features();
        &self.pixels[i * f..(i + 1) * f]
    }

    /// Build from raw pixels: checks sizes and labels, scales pixels by the largest one.
    pub fn new(
        mut pixels: Vec<f32>,
        labels: Vec<u32>,
        shape: (usize, usize, usize),
        what: &str,
    ) -> Result<Self> {
        if labels.is_empty() {
            bail!("{what}: the data set is empty (no samples)");
        }
        let f = shape.0 * shape.1 * shape.2;
        if f == 0 || pixels.len() != labels.len() * f {
            bail!(
                "{what}: {} pixels do not make {} images of {}x{}x{}",
                pixels.len(),
                labels.len(),
                shape.0,
                shape.1,
                shape.2
            );
        }
        if let Some(i) = pixels.iter().position(|p| !p.is_finite() || *p < 0.0) {
            bail!(
                "{what}: pixel #{} of sample #{} is {} (pixels must be finite and >= 0)",
                i % f,
                i / f,
                pixels[i]
            );
        }
        if let Some((i, &l)) = labels.iter().enumerate().find(|(_, &l)| l >= MAX_CLASSES) {
            bail!("{what}: label of sample #{i} is {l}, out of range 0..{MAX_CLASSES}");
        }
        let max = pixels.iter().cloned().fold(0.0f32, f32::max);
        if max > 0.0 {
            pixels.iter_mut().for_each(|p| *p /= max);
        }
        let classes = *labels.iter().max().unwrap_or(&0) as usize + 1;
        Ok(Dataset {
            pixels,
            labels,
            shape,
            classes,
        })
    }

    /// Check that every label is below `classes` (e.g. a test set against its training set).
    pub fn check_classes(&self, classes: usize, what: &str) -> Result<()> {
        if let Some((i, &l)) = self
            .labels
            .iter()
            .enumerate()
            .find(|(_, &l)| l as usize >= classes)
        {
            bail!("{what}: label of sample #{i} is {l}, out of range 0..{classes} (the training set's classes)");
        }
        Ok(())
    }

    /// The samples at `idx`, in that order.
    pub fn subset(&self, idx: &[usize]) -> Dataset {
        let f = self.features();
        let mut pixels = Vec::with_capacity(idx.len() * f);
        for &i in idx {
            pixels.extend_from_slice(self.image(i));
        }
        Dataset {
            pixels,
            labels: idx.iter().map(|&i| self.labels[i]).collect(),
            shape: self.shape,
            classes: self.classes,
        }
    }

    /// Seeded split into (train, test): a shuffled `test_fraction` of every class goes to test.
    pub fn split(&self, test_fraction: f64, seed: u64) -> Result<(Dataset, Dataset)> {
        if !(0.0..1.0).contains(&test_fraction) || test_fraction <= 0.0 {
            bail!("--test-fraction {test_fraction}: must be in (0, 1)");
        }
        let mut rng = crate::model::rng::SplitMix64::new(seed ^ 0x5eed_da7a);
        let (mut train, mut test) = (Vec::new(), Vec::new());
        for c in 0..self.classes as u32 {
            let mut idx: Vec<usize> = (0..self.len()).filter(|&i| self.labels[i] == c).collect();
            rng.shuffle(&mut idx);
            let k = (idx.len() as f64 * test_fraction).round() as usize;
            test.extend_from_slice(&idx[..k]);
            train.extend_from_slice(&idx[k..]);
        }
        if train.is_empty() || test.is_empty() {
            bail!(
                "{} samples cannot be split into non-empty training and test sets with --test-fraction {test_fraction}",
                self.len()
            );
        }
        train.sort_unstable();
        test.sort_unstable();
        Ok((self.subset(&train), self.subset(&test)))
    }
}

fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .with_context(|| format!("{}: corrupt gzip data", path.display()))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// CSV: one sample per line, comma-separated numbers; the label in the first or last column.
/// A first line that is not all numbers is taken as a header. Square pixel counts become
/// one-channel square images (8x8 digits, 28x28 MNIST); others a 1 x 1 x N strip.
pub fn load_csv(path: &Path, label: LabelColumn) -> Result<Dataset> {
    let bytes = read_maybe_gz(path)?;
    let text = String::from_utf8(bytes)
        .with_context(|| format!("{}: not a UTF-8 text (CSV) file", path.display()))?;
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    let mut width: Option<usize> = None;
    for (ln, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let nums: Result<Vec<f64>, _> = fields.iter().map(|f| f.parse::<f64>()).collect();
        let nums = match nums {
            Ok(n) => n,
            Err(_) if ln == 0 => continue, // header
            Err(_) => {
                let (col, bad) = fields
                    .iter()
                    .enumerate()
                    .find(|(_, f)| f.parse::<f64>().is_err())
                    .unwrap_or((0, &""));
                bail!(
                    "{}: line {}, column {}: `{bad}` is not a number",
                    path.display(),
                    ln + 1,
                    col + 1
                );
            }
        };
        if nums.len() < 2 {
            bail!(
                "{}: line {}: needs a label and at least one pixel",
                path.display(),
                ln + 1
            );
        }
        match width {
            None => width = Some(nums.len()),
            Some(w) if w != nums.len() => bail!(
                "{}: line {} has {} columns, earlier lines have {w} (ragged row)",
                path.display(),
                ln + 1,
                nums.len()
            ),
            _ => {}
        }
        let (l, px) = match label {
            LabelColumn::First => (nums[0], &nums[1..]),
            LabelColumn::Last => (nums[nums.len() - 1], &nums[..nums.len() - 1]),
        };
        if l < 0.0 || l.fract() != 0.0 || l >= MAX_CLASSES as f64 {
            bail!(
                "{}: line {}: label {l} is not a class number in 0..{MAX_CLASSES} (label column: {:?})",
                path.display(),
                ln + 1,
                label
            );
        }
        labels.push(l as u32);
        pixels.extend(px.iter().map(|&p| p as f32));
    }
    let n = width.map(|w| w - 1).unwrap_or(0);
    let side = (n as f64).sqrt().round() as usize;
    let shape = if side * side == n {
        (1, side, side)
    } else {
        (1, 1, n)
    };
    Dataset::new(pixels, labels, shape, &path.display().to_string())
}

/// The labels file that goes with an IDX images file (`...-images-idx3-ubyte[.gz]` ->
/// `...-labels-idx1-ubyte[.gz]`).
pub fn idx_labels_path(images: &Path) -> Option<PathBuf> {
    let name = images.file_name()?.to_str()?;
    name.contains("images-idx3")
        .then(|| images.with_file_name(name.replace("images-idx3", "labels-idx1")))
}

fn idx_header(bytes: &[u8], dims: usize, path: &Path) -> Result<(Vec<usize>, usize)> {
    let need = 4 + 4 * dims;
    if bytes.len() < need || bytes[0] != 0 || bytes[1] != 0 {
        bail!("{}: not an IDX file (bad magic number)", path.display());
    }
    if bytes[2] != 0x08 {
        bail!(
            "{}: IDX element type 0x{:02x}: only unsigned bytes (0x08) are supported",
            path.display(),
            bytes[2]
        );
    }
    if bytes[3] as usize != dims {
        bail!(
            "{}: IDX file has {} dimensions, expected {dims}",
            path.display(),
            bytes[3]
        );
    }
    let d: Vec<usize> = (0..dims)
        .map(|i| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize)
        .collect();
    let count: usize = d.iter().product();
    if bytes.len() != need + count {
        bail!(
            "{}: IDX dimensions {:?} need {} data bytes, the file has {}",
            path.display(),
            d,
            count,
            bytes.len() - need
        );
    }
    Ok((d, need))
}

/// MNIST IDX: an images file (u8, n x h x w) and its labels file (u8, n).
pub fn load_idx(images: &Path, labels: &Path) -> Result<Dataset> {
    let ib = read_maybe_gz(images)?;
    let lb = read_maybe_gz(labels)?;
    let (d, off) = idx_header(&ib, 3, images)?;
    let (dl, offl) = idx_header(&lb, 1, labels)?;
    if dl[0] != d[0] {
        bail!(
            "{} has {} images but {} has {} labels",
            images.display(),
            d[0],
            labels.display(),
            dl[0]
        );
    }
    let pixels = ib[off..].iter().map(|&b| b as f32).collect();
    let labels_v = lb[offl..].iter().map(|&b| b as u32).collect();
    Dataset::new(
        pixels,
        labels_v,
        (1, d[1], d[2]),
        &images.display().to_string(),
    )
}

/// Load by file name: IDX images (`*images-idx3*`) or CSV (anything else, .gz allowed).
pub fn load(path: &Path, label: LabelColumn) -> Result<Dataset> {
    match idx_labels_path(path) {
        Some(l) => load_idx(path, &l),
        None => load_csv(path, label),
    }
}
