//! Atomic output: nothing half-written is ever left behind.
//!
//! Files are written to a temporary sibling and renamed into place; directories are built
//! under a temporary sibling name and renamed as a whole.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// A sibling of `path` with a unique temporary name in the same directory (same filesystem,
/// so the final rename is atomic).
fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let unique = format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    path.with_file_name(unique)
}

/// `path` resolved as far as it exists (an output file usually does not yet): the
/// canonical parent joined with the file name.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => {
            let parent = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            parent
                .canonicalize()
                .map(|p| p.join(name))
                .unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

/// Before any work: refuse an output (flag name, path) that is one of the inputs or another
/// output, compared as resolved paths (so `./w.npy` and `w.npy` are the same file).
pub fn check_outputs(inputs: &[&Path], outputs: &[(&str, &Path)]) -> Result<()> {
    for (k, (flag, out)) in outputs.iter().enumerate() {
        let r = resolved(out);
        if let Some(i) = inputs.iter().find(|i| resolved(i) == r) {
            anyhow::bail!(
                "{flag} {}: that is the input {}; refusing to overwrite an input",
                out.display(),
                i.display()
            );
        }
        if let Some((other, _)) = outputs[..k].iter().find(|(_, o)| resolved(o) == r) {
            anyhow::bail!(
                "{flag} {}: {other} writes the same file; give different paths",
                out.display()
            );
        }
    }
    Ok(())
}

/// Write `bytes` to `path` atomically (temp file + rename). Creates missing parent folders.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create folder {}", parent.display()))?;
    }
    let tmp = temp_sibling(path);
    let res = std::fs::write(&tmp, bytes)
        .with_context(|| format!("cannot write {}", tmp.display()))
        .and_then(|_| {
            std::fs::rename(&tmp, path)
                .with_context(|| format!("cannot move output into place at {}", path.display()))
        });
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}

/// Build a directory atomically: `fill` writes into a fresh temporary folder, which then
/// replaces `dir` (an existing `dir` is removed only after `fill` succeeded).
pub fn write_dir_atomic(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create folder {}", parent.display()))?;
    }
    let tmp = temp_sibling(dir);
    std::fs::create_dir(&tmp).with_context(|| format!("cannot create folder {}", tmp.display()))?;
    if let Err(e) = fill(&tmp) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let old = if dir.exists() {
        let old = temp_sibling(dir).with_extension("old");
        std::fs::rename(dir, &old).with_context(|| format!("cannot replace {}", dir.display()))?;
        Some(old)
    } else {
        None
    };
    if let Err(e) = std::fs::rename(&tmp, dir) {
        if let Some(old) = &old {
            let _ = std::fs::rename(old, dir);
        }
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e)
            .with_context(|| format!("cannot move output into place at {}", dir.display()));
    }
    if let Some(old) = old {
        let _ = std::fs::remove_dir_all(old);
    }
    Ok(())
}

/// SHA-256 (hex) over named parts, each length-prefixed so that no two different part lists
/// hash alike: the cache key of builds made from these inputs.
pub fn content_hash<'a>(parts: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (name, bytes) in parts {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_directory_fill_leaves_nothing_and_keeps_old() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("out");
        write_dir_atomic(&d, |p| Ok(std::fs::write(p.join("a"), "1")?)).unwrap();
        let r = write_dir_atomic(&d, |p| {
            std::fs::write(p.join("b"), "2")?;
            anyhow::bail!("boom")
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_to_string(d.join("a")).unwrap(), "1");
        assert!(!d.join("b").exists());
        assert_eq!(
            std::fs::read_dir(t.path()).unwrap().count(),
            1,
            "no temp folders left"
        );
    }
}
