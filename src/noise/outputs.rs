//! Writing a profile's files. Every path is checked before any work starts (no two outputs
//! the same file, none of them an input or inside the RTL folder, none a folder, each one's
//! folder creatable); every file is rendered first, staged next to its destination, and only
//! when all are staged moved into place, so a failure leaves none of them behind.

use super::lut::Lut8;
use super::plot::PlotFormat;
use super::profile::to_toml;
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Requested output files.
#[derive(Debug, Clone, Default)]
pub struct OutputPaths {
    pub json: Option<PathBuf>,
    pub toml: Option<PathBuf>,
    pub lut_bin: Option<PathBuf>,
    pub lut_npy: Option<PathBuf>,
    pub lut_header: Option<PathBuf>,
    pub plot: Option<PathBuf>,
}

/// What else a run reads or writes, for the path checks.
#[derive(Debug, Clone, Default)]
pub struct OtherPaths<'a> {
    /// Files the run reads (never written over).
    pub inputs: Vec<(&'a str, &'a Path)>,
    /// A folder the run writes as a whole (no output file may lie inside it).
    pub folder: Option<(&'a str, &'a Path)>,
}

/// `p` made absolute with `.`/`..` and symbolic links of its existing part resolved, so that two
/// spellings of one file compare equal.
fn identity(p: &Path) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    match (abs.parent(), abs.file_name()) {
        (Some(parent), Some(name)) => identity(parent).join(name),
        _ => abs,
    }
}

impl OutputPaths {
    pub fn wants_lut(&self) -> bool {
        self.lut_bin.is_some() || self.lut_npy.is_some() || self.lut_header.is_some()
    }

    /// The requested files with their flags.
    fn named(&self) -> Vec<(&'static str, &Path)> {
        [
            ("--json", &self.json),
            ("--toml", &self.toml),
            ("--lut-bin", &self.lut_bin),
            ("--lut-npy", &self.lut_npy),
            ("--lut-header", &self.lut_header),
            ("--plot", &self.plot),
        ]
        .into_iter()
        .filter_map(|(f, p)| p.as_deref().map(|p| (f, p)))
        .collect()
    }

    /// Check flag combinations and every path before any work is done.
    pub fn validate(&self, width: u32, signed: bool, other: &OtherPaths) -> Result<()> {
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
        let named = self.named();
        for (i, &(flag, p)) in named.iter().enumerate() {
            let id = identity(p);
            if let Some((other_flag, _)) = named[..i].iter().find(|(_, q)| identity(q) == id) {
                bail!(
                    "{flag} {} is the same file as {other_flag}: each output needs its own path",
                    p.display()
                );
            }
            if let Some((in_flag, _)) = other.inputs.iter().find(|(_, q)| identity(q) == id) {
                bail!(
                    "{flag} {} is the input file of {in_flag}: outputs never write over inputs",
                    p.display()
                );
            }
            if let Some((dir_flag, dir)) = other.folder {
                if id.starts_with(identity(dir)) {
                    bail!(
                        "{flag} {} lies inside the {dir_flag} folder {}: write it elsewhere",
                        p.display(),
                        dir.display()
                    );
                }
            }
            if p.is_dir() {
                bail!("{flag} {}: is a folder, expected a file name", p.display());
            }
            if p.file_name().is_none() {
                bail!("{flag} {}: not a file name", p.display());
            }
            // The nearest existing ancestor must be a folder (else the file cannot be created).
            if let Some(a) = id.ancestors().skip(1).find(|a| a.exists()) {
                if !a.is_dir() {
                    bail!(
                        "{flag} {}: {} is a file, so the output's folder cannot be created",
                        p.display(),
                        a.display()
                    );
                }
            }
        }
        Ok(())
    }

    /// Render everything, then write all files or none. `name` names the multiplier in the
    /// C header's comment.
    pub fn write(&self, doc: &Value, lut: Option<&Lut8>, name: &str) -> Result<Vec<PathBuf>> {
        let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
        if let Some(p) = &self.json {
            files.push((
                p.clone(),
                (serde_json::to_string_pretty(doc)? + "\n").into_bytes(),
            ));
        }
        if let Some(p) = &self.toml {
            files.push((
                p.clone(),
                to_toml(doc)
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
        write_all_or_nothing(&files)?;
        Ok(files.into_iter().map(|(p, _)| p).collect())
    }
}

/// Check that `--emit-rtl DIR` may be written: DIR is a new folder, or one that an earlier
/// `--emit-rtl` wrote (it holds the marker file). A user's folder, a file, the working
/// directory, one of its parents or `/` is refused before any work starts.
pub fn check_rtl_folder(dir: &Path) -> Result<()> {
    let id = identity(dir);
    let cwd = std::env::current_dir().map(|c| identity(&c)).ok();
    if id.parent().is_none() || cwd.as_ref().is_some_and(|c| c.starts_with(&id)) {
        bail!(
            "--emit-rtl {}: refusing to replace the working directory, one of its parents or /",
            dir.display()
        );
    }
    if dir.exists() {
        if !dir.is_dir() {
            bail!("--emit-rtl {}: is a file, expected a folder", dir.display());
        }
        let empty = std::fs::read_dir(dir)
            .with_context(|| format!("--emit-rtl {}: cannot read the folder", dir.display()))?
            .next()
            .is_none();
        if !empty && !dir.join(crate::hdl::approx_mult::RTL_MARKER).is_file() {
            bail!(
                "--emit-rtl {}: the folder exists and was not written by --emit-rtl; it is left \
                 alone (choose a new or empty folder)",
                dir.display()
            );
        }
    }
    if let Some(a) = id.ancestors().skip(1).find(|a| a.exists()) {
        if !a.is_dir() {
            bail!(
                "--emit-rtl {}: {} is a file, so the folder cannot be created",
                dir.display(),
                a.display()
            );
        }
    }
    Ok(())
}

/// Stage every file as a temporary sibling of its destination, then move them all into place.
/// A failure while staging removes the staged files (the temporaries delete themselves).
fn write_all_or_nothing(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    let mut staged = Vec::new();
    for (p, bytes) in files {
        let parent = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create folder {}", parent.display()))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(
                ".{}.tmp-",
                p.file_name().unwrap_or_default().to_string_lossy()
            ))
            .tempfile_in(&parent)
            .with_context(|| format!("cannot write into {}", parent.display()))?;
        tmp.write_all(bytes)
            .and_then(|_| tmp.flush())
            .with_context(|| format!("cannot write {}", p.display()))?;
        staged.push((tmp, p));
    }
    for (tmp, p) in staged {
        tmp.persist(p)
            .with_context(|| format!("cannot move output into place at {}", p.display()))?;
    }
    Ok(())
}

/// A one-screen summary for the terminal.
pub fn summary(doc: &Value) -> String {
    let m = &doc["metrics"];
    let lb = if m["wce_is_lower_bound"].as_bool() == Some(true) {
        " (lower bound)"
    } else {
        ""
    };
    let f = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
    format!(
        "{} {}-bit {} over {} pairs\n  MAE {:.6} ({:.6}%)  WCE {}{lb} ({:.6}%)  WCRE {:.4}%{lb}\n  EP {:.4}%  MRE {:.6}%  MSE {:.6e}\n  mean error {:.6}  std {:.6}  mean rel {:.6e}  std rel {:.6e}\n",
        doc["multiplier"]["spec"].as_str().unwrap_or("?"),
        doc["multiplier"]["width"],
        if doc["multiplier"]["signed"].as_bool() == Some(true) { "signed" } else { "unsigned" },
        m["pairs"],
        f("mae"), f("mae_percent"), m["wce"], f("wce_percent"), f("wcre_percent"),
        f("ep_percent"), f("mre_percent"), f("mse"), f("mean_error"), f("std_error"),
        f("mean_rel_error"), f("std_rel_error"),
    )
}

/// Report the written files on stderr.
pub fn report_written(paths: &[PathBuf]) {
    for p in paths {
        eprintln!("wrote {}", Path::new(p).display());
    }
}
