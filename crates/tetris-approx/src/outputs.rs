//! Writing a profile's files: the flags are checked and every path is added to the run's
//! output plan before any work starts (`tetris_fs::OutputPlan`: no two outputs on one
//! file, none on an input, none inside a folder the run replaces, none a folder or under a
//! file); every file is rendered first, then all are written or none
//! (`tetris_fs::write_files_atomic`).

use super::lut::Lut8;
use super::plot::PlotFormat;
use super::profile::{Document, Profile};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use tetris_fs::{write_files_atomic, OutputPlan};

/// Requested output files (also the output flags of `noise-profile` and `characterize`).
// The field docs are the flags' `--help` texts (`uint16[65536]`, `lut[activation][weight]`):
// written for a terminal, so rustdoc's link check is off for them.
#[allow(rustdoc::broken_intra_doc_links)]
#[derive(clap::Args, Debug, Clone, Default)]
pub struct OutputPaths {
    /// Write the profile as JSON.
    #[arg(long, value_name = "OUT")]
    pub json: Option<PathBuf>,
    /// Write the profile as TOML.
    #[arg(long, value_name = "OUT")]
    pub toml: Option<PathBuf>,
    /// TFApprox/ALWANN table: raw little-endian uint16[65536] at index (activation << 8) | weight
    /// (8-bit unsigned).
    #[arg(long, value_name = "OUT")]
    pub lut_bin: Option<PathBuf>,
    /// TorchApprox table: 256x256 int32 NumPy array lut[activation][weight] by the operands'
    /// byte patterns (8-bit).
    #[arg(long, value_name = "OUT")]
    pub lut_npy: Option<PathBuf>,
    /// AdaPT C header: static const lut[256][256], lut[activation][weight] (int16_t signed,
    /// uint16_t unsigned; 8-bit).
    #[arg(long, value_name = "OUT")]
    pub lut_header: Option<PathBuf>,
    /// Plot of the error distribution and error vs operand magnitude (.svg or .png, by extension);
    /// for a family, the metrics against the swept parameter.
    #[arg(long, value_name = "OUT")]
    pub plot: Option<PathBuf>,
}

impl OutputPaths {
    pub fn wants_lut(&self) -> bool {
        self.lut_bin.is_some() || self.lut_npy.is_some() || self.lut_header.is_some()
    }

    /// Check flag combinations before any work is done.
    pub fn validate(&self, width: u32, signed: bool) -> Result<()> {
        if self.wants_lut() && width != 8 {
            bail!("--lut-bin/--lut-npy/--lut-header need --width 8 (got --width {width})");
        }
        if self.lut_bin.is_some() && signed {
            bail!("--lut-bin: the TFApprox table is unsigned 8-bit only (drop --signed or use --lut-npy/--lut-header)");
        }
        if let Some(p) = &self.plot {
            if PlotFormat::from_path(p).is_none() {
                bail!(
                    "--plot {}: the file name must end in .svg or .png (the format follows it)",
                    p.display()
                );
            }
        }
        Ok(())
    }

    /// Add every requested file to the run's output plan (checked before any work).
    pub fn plan(&self, plan: &mut OutputPlan) {
        plan.file("--json", self.json.as_deref())
            .file("--toml", self.toml.as_deref())
            .file("--lut-bin", self.lut_bin.as_deref())
            .file("--lut-npy", self.lut_npy.as_deref())
            .file("--lut-header", self.lut_header.as_deref())
            .file("--plot", self.plot.as_deref());
    }

    /// Render everything, then write all files or none. `name` names the multiplier in the
    /// C header's comment.
    pub fn write(&self, doc: Document, lut: Option<&Lut8>, name: &str) -> Result<Vec<PathBuf>> {
        let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
        if let Some(p) = &self.json {
            files.push((p.clone(), doc.to_json()?.into_bytes()));
        }
        if let Some(p) = &self.toml {
            files.push((
                p.clone(),
                doc.to_toml()
                    .context("cannot render the profile as TOML")?
                    .into_bytes(),
            ));
        }
        if self.wants_lut() {
            let Some(lut) = lut else {
                bail!("lookup tables need an exhaustive 8-bit sweep (drop --samples)");
            };
            if let Some(p) = &self.lut_bin {
                files.push((p.clone(), lut.tfapprox_bin()?));
            }
            if let Some(p) = &self.lut_npy {
                files.push((p.clone(), lut.npy()?));
            }
            if let Some(p) = &self.lut_header {
                let desc = format!("approximate multiplier {name}");
                files.push((p.clone(), lut.c_header(&desc)?.into_bytes()));
            }
        }
        if let Some(p) = &self.plot {
            let format = PlotFormat::from_path(p)
                .with_context(|| format!("--plot {}: not .svg or .png", p.display()))?;
            files.push((p.clone(), format.render(doc)?));
        }
        let refs: Vec<(&Path, &[u8])> = files
            .iter()
            .map(|(p, b)| (p.as_path(), b.as_slice()))
            .collect();
        write_files_atomic(&refs)?;
        Ok(files.into_iter().map(|(p, _)| p).collect())
    }
}

/// A one-screen summary for the terminal.
pub fn summary(p: &Profile) -> String {
    let m = &p.metrics;
    let lb = if m.wce_is_lower_bound {
        " (lower bound)"
    } else {
        ""
    };
    format!(
        "{} {}-bit {} over {} pairs\n  MAE {:.6} ({:.6}%)  WCE {}{lb} ({:.6}%)  WCRE {:.4}%{lb}\n  EP {:.4}%  MRE {:.6}%  MSE {:.6e}\n  mean error {:.6}  std {:.6}  mean rel {:.6e}  std rel {:.6e}\n",
        p.multiplier.spec,
        p.multiplier.width,
        if p.multiplier.signed { "signed" } else { "unsigned" },
        m.pairs,
        m.mae, m.mae_percent, m.wce, m.wce_percent, m.wcre_percent,
        m.ep_percent, m.mre_percent, m.mse, m.mean_error, m.std_error,
        m.mean_rel_error, m.std_rel_error,
    )
}

/// Report the written files on stderr.
pub fn report_written(paths: &[PathBuf]) {
    for p in paths {
        eprintln!("wrote {}", Path::new(p).display());
    }
}
