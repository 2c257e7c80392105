//! tetris-fs: output safety, the one way every command writes files and folders. Must not
//! import any other tetris crate (it sits beside the bottom layer: every writer uses it).
//!
//! Output safety: one policy for every file and folder a command writes.
//!
//! - A folder is replaced whole only when tetris wrote it (it holds the [`MARKER`] file) or it
//!   is empty, unless the user passed `--force`; never the working directory, one of its
//!   parents, `/`, the home folder, or a folder that holds one of the run's inputs.
//! - A file output is never an input, an existing folder, or another output of the same run.
//! - Every output path is checked before the work starts ([`OutputPlan::check`]).
//! - Files and folders are built under temporary sibling names and renamed into place; several
//!   files of one result go all-or-nothing ([`write_files_atomic`]). Temporaries are removed on
//!   failure and on SIGINT/SIGTERM ([`install_signal_cleanup`]); a killed run's leftovers are
//!   removed by the next run that writes next to them.
//! - Concurrent runs publishing the same folder serialize on a lock of the parent folder: the
//!   last one wins, none fails; a complete cache entry published by another run is a hit
//!   ([`publish_cache_entry`], used by `flow::build_cache`).

use anyhow::{bail, Context, Result};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

mod json;
pub use json::{parse_json, read_json};

/// The product every file and folder tetris writes is attributed to (file headers, manifests,
/// the marker). Each layer crate names it through this constant: its own package name
/// (`CARGO_PKG_NAME`) would be the layer's. All crates share the workspace's version.
pub const PRODUCT: &str = "tetris-hdl";

/// The file that marks a folder as written by tetris (and so replaceable by the next run).
pub const MARKER: &str = ".tetris-output";

const MARKER_TEXT: &str = "This folder was written by tetris-hdl. The next tetris run that \
writes here replaces it whole; delete this file to protect the folder from that.\n";

/// Temporaries of this process still in flight: removed by the signal handler.
static IN_FLIGHT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Remove the in-flight temporaries and exit on SIGINT, SIGTERM and SIGHUP (call once, from
/// `main`). A run killed harder (SIGKILL) leaves them; the next run sweeps them.
pub fn install_signal_cleanup() {
    let _ = ctrlc::set_handler(|| {
        // The handler runs on its own thread while the main thread keeps writing: a folder
        // being filled can reappear (a write that creates its parents) or refuse removal (a
        // file added meanwhile). Hold the lock so no new temporary starts, and remove until
        // the paths stay gone for a moment.
        let guard = IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner());
        let paths = guard.clone();
        for _ in 0..100 {
            paths.iter().for_each(|p| remove_any(p));
            std::thread::sleep(std::time::Duration::from_millis(20));
            if paths.iter().all(|p| std::fs::symlink_metadata(p).is_err()) {
                break;
            }
        }
        eprintln!("interrupted: temporary outputs removed, nothing half-written left");
        std::process::exit(130);
    });
}

fn remove_any(p: &Path) {
    let _ = match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p),
        Ok(_) => std::fs::remove_file(p),
        Err(_) => Ok(()),
    };
}

/// A temporary path that is removed when dropped unless [`Temp::keep`] was called (it was
/// renamed into place), and by the signal handler while it exists.
struct Temp(Option<PathBuf>);

impl Temp {
    fn new(path: PathBuf) -> Temp {
        if let Ok(mut v) = IN_FLIGHT.lock() {
            v.push(path.clone());
        }
        Temp(Some(path))
    }
    fn path(&self) -> &Path {
        self.0.as_deref().expect("live temp")
    }
    /// The path no longer names a temporary (it was renamed away): forget it.
    fn keep(mut self) {
        if let Some(p) = self.0.take() {
            unregister(&p);
        }
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            remove_any(&p);
            unregister(&p);
        }
    }
}

fn unregister(p: &Path) {
    if let Ok(mut v) = IN_FLIGHT.lock() {
        v.retain(|q| q != p);
    }
}

const TEMP_TAG: &str = ".tmp-";

/// A sibling of `path` with a unique temporary name in the same directory (same filesystem,
/// so the final rename is atomic): `.NAME.tmp-PID-NANOS-SEQ`. The sequence number keeps two
/// threads of one process apart even when the clock is coarse: with one name, the second
/// `create_dir` would fail and its cleanup would remove the first thread's folder.
fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let unique = format!(
        ".{name}{TEMP_TAG}{}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    path.with_file_name(unique)
}

/// Remove the temporaries that killed runs left next to `path` (`.NAME.tmp-PID-*` whose
/// process is gone). Only where `/proc` tells which processes live.
fn sweep_stale(path: &Path) {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    if !Path::new("/proc/self").exists() {
        return;
    }
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let prefix = format!(".{}{TEMP_TAG}", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&prefix) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            remove_any(&e.path());
        }
    }
}

fn create_parent(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create folder {}", parent.display()))?;
    }
    Ok(())
}

/// A report as JSON text: pretty-printed with a final newline, the one form of every JSON file
/// the tool writes.
///
/// Every JSON file is a typed document that reads back as the type that wrote it ([`read_json`]),
/// so a program can load any report the tool writes. The bound makes the compiler hold each
/// document type to that, and the text is read back here before it is returned: serde_json
/// writes a NaN or infinite `f64` as `null`, which no `f64` field accepts, so a figure that can
/// be undefined must be an `Option<f64>`. A document that does not read back is an error naming
/// the type and the field, not a file that no reader can load.
pub fn json_text<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> Result<String> {
    let text = serde_json::to_string_pretty(value)? + "\n";
    check_reads_back::<T>(&text)?;
    Ok(text)
}

/// Check that `text`, written from a `T`, reads back as a `T` (see [`json_text`]).
pub fn check_reads_back<T: serde::de::DeserializeOwned>(text: &str) -> Result<()> {
    parse_json::<T>(text, std::any::type_name::<T>())
        .context("internal error: this report would not read back (please report it)")?;
    Ok(())
}

/// Write a report to `path` as [`json_text`], atomically.
pub fn write_json<T: serde::Serialize + serde::de::DeserializeOwned>(
    path: &Path,
    value: &T,
) -> Result<()> {
    write_atomic(path, json_text(value)?.as_bytes())
}

/// Write `bytes` to `path` atomically (temp file + rename). Creates missing parent folders.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_files_atomic(&[(path, bytes)])
}

/// Write several files all-or-nothing: every file goes to a temporary sibling first; only when
/// all are written are they renamed into place. On any failure none of them is touched.
pub fn write_files_atomic(files: &[(&Path, &[u8])]) -> Result<()> {
    let mut temps = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        create_parent(path)?;
        sweep_stale(path);
        let tmp = Temp::new(temp_sibling(path));
        std::fs::write(tmp.path(), bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        temps.push(tmp);
    }
    for (tmp, (path, _)) in temps.into_iter().zip(files) {
        std::fs::rename(tmp.path(), path)
            .with_context(|| format!("cannot move output into place at {}", path.display()))?;
        tmp.keep();
    }
    Ok(())
}

/// What [`publish_dir`] does when the folder already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Replace it only if tetris wrote it (it holds [`MARKER`]) or it is empty.
    ReplaceOwn,
    /// Replace it whatever it holds (`--force`).
    Replace,
    /// Keep it and discard the new build: a cache entry another run published first.
    Keep,
}

impl Existing {
    /// `--force` given or not.
    pub fn from_force(force: bool) -> Existing {
        if force {
            Existing::Replace
        } else {
            Existing::ReplaceOwn
        }
    }
}

/// Whether [`publish_dir`] put the new folder in place or kept one that was already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    Written,
    AlreadyThere,
}

/// Build a directory atomically: `fill` writes into a fresh temporary folder, which then
/// replaces `dir` (an existing `dir` tetris wrote is removed only after `fill` succeeded).
/// A folder tetris did not write is never replaced (see [`publish_dir`] for `--force`).
pub fn write_dir_atomic(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    publish_dir(dir, Existing::ReplaceOwn, fill).map(|_| ())
}

/// Build `dir` in a temporary sibling with `fill`, mark it as tetris's, and rename it into
/// place under a lock of the parent folder; `existing` says what happens to a folder already
/// at `dir`. The folder is checked by [`check_dir_target`] first.
pub fn publish_dir(
    dir: &Path,
    existing: Existing,
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<Published> {
    publish(dir, existing, &|_| true, fill)
}

/// Publish a cache entry: [`publish_dir`] with [`Existing::Keep`] for an existing folder that
/// `complete` accepts (another run published it first: a hit), while one it rejects (damaged,
/// e.g. files deleted by hand) is replaced, but only if tetris wrote it. The decision is taken
/// under the parent's lock, so concurrent publishers never remove each other's entries.
pub fn publish_cache_entry(
    dir: &Path,
    complete: &dyn Fn(&Path) -> bool,
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<Published> {
    publish(dir, Existing::Keep, complete, fill)
}

fn publish(
    dir: &Path,
    existing: Existing,
    keep: &dyn Fn(&Path) -> bool,
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<Published> {
    check_dir_target("output folder", dir, existing != Existing::ReplaceOwn)?;
    create_parent(dir)?;
    sweep_stale(dir);
    let tmp = Temp::new(temp_sibling(dir));
    std::fs::create_dir(tmp.path())
        .with_context(|| format!("cannot create folder {}", tmp.path().display()))?;
    fill(tmp.path())?;
    std::fs::write(tmp.path().join(MARKER), MARKER_TEXT)
        .with_context(|| format!("cannot write {}", tmp.path().join(MARKER).display()))?;

    let _lock = lock_parent(dir)?;
    let old = match std::fs::symlink_metadata(dir) {
        Err(_) => None,
        Ok(_) if existing == Existing::Keep && keep(dir) => return Ok(Published::AlreadyThere),
        Ok(_) => {
            // Another run may have published meanwhile: check again under the lock (a cache
            // entry that is not kept is replaced only if tetris wrote it).
            check_dir_target("output folder", dir, existing == Existing::Replace)?;
            let old = Temp::new(temp_sibling(dir).with_extension("old"));
            std::fs::rename(dir, old.path())
                .with_context(|| format!("cannot replace {}", dir.display()))?;
            Some(old)
        }
    };
    if let Err(e) = std::fs::rename(tmp.path(), dir) {
        if let Some(old) = old {
            if std::fs::rename(old.path(), dir).is_ok() {
                old.keep();
            }
        }
        return Err(e)
            .with_context(|| format!("cannot move output into place at {}", dir.display()));
    }
    tmp.keep();
    drop(old);
    Ok(Published::Written)
}

/// Make sure `dir` exists as a work folder of tetris (files are added to it, nothing is
/// removed): created with the marker, or already tetris's, or empty. Anything else is refused
/// unless `force`.
pub fn ensure_work_dir(flag: &str, dir: &Path, force: bool) -> Result<()> {
    check_dir_target(flag, dir, force)?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))?;
    let marker = dir.join(MARKER);
    if !marker.exists() {
        std::fs::write(&marker, MARKER_TEXT)
            .with_context(|| format!("cannot write {}", marker.display()))?;
    }
    Ok(())
}

/// A scratch folder of this run under the system temp folder: removed when dropped, on
/// SIGINT/SIGTERM, and (after a SIGKILL) by the next run that makes one with the same prefix.
pub struct ScratchDir(Temp);

impl ScratchDir {
    pub fn new(prefix: &str) -> Result<ScratchDir> {
        let base = std::env::temp_dir().join(prefix);
        sweep_stale(&base);
        let t = Temp::new(temp_sibling(&base));
        std::fs::create_dir_all(t.path())
            .with_context(|| format!("cannot create folder {}", t.path().display()))?;
        Ok(ScratchDir(t))
    }
    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

/// Hold an exclusive lock of `path`'s parent folder while alive (serializes concurrent
/// publishers of the same folder).
fn lock_parent(path: &Path) -> Result<std::fs::File> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let f = std::fs::File::open(parent)
        .with_context(|| format!("cannot open folder {} to lock it", parent.display()))?;
    f.lock()
        .with_context(|| format!("cannot lock folder {}", parent.display()))?;
    Ok(f)
}

/// Whether tetris wrote `dir`: it holds the marker (or, from versions before the marker, a
/// `manifest.json` naming this generator).
pub fn written_by_tetris(dir: &Path) -> bool {
    if dir.join(MARKER).is_file() {
        return true;
    }
    /// The one field of a manifest this check reads.
    #[derive(serde::Deserialize)]
    struct Generator {
        generator: String,
    }
    read_json::<Generator>(&dir.join("manifest.json")).is_ok_and(|m| m.generator == PRODUCT)
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}

/// The absolute, symlink-free form of `path`, also for paths that do not exist yet: the
/// longest existing ancestor is canonicalized and the rest appended lexically.
pub fn resolve(path: &Path) -> Result<PathBuf> {
    let abs = std::path::absolute(path)
        .with_context(|| format!("cannot make {} absolute", path.display()))?;
    let mut existing = abs.clone();
    let mut rest = vec![];
    while std::fs::symlink_metadata(&existing).is_err() {
        match (existing.file_name(), existing.parent()) {
            (Some(n), Some(p)) => {
                rest.push(n.to_os_string());
                existing = p.to_path_buf();
            }
            _ => break,
        }
    }
    let mut out = existing.canonicalize().unwrap_or(existing);
    for c in rest.iter().rev() {
        out.push(c);
    }
    // Lexical `..` left in a not-yet-existing tail.
    let mut norm = PathBuf::new();
    for c in out.components() {
        match c {
            Component::ParentDir => {
                norm.pop();
            }
            Component::CurDir => {}
            c => norm.push(c),
        }
    }
    Ok(norm)
}

/// The nearest existing ancestor of a new output must be a folder (not a file).
fn check_ancestors(flag: &str, path: &Path) -> Result<()> {
    let mut p = path.parent();
    while let Some(a) = p.filter(|a| !a.as_os_str().is_empty()) {
        match std::fs::metadata(a) {
            Ok(m) if m.is_dir() => return Ok(()),
            Ok(_) => bail!(
                "{flag} {}: {} is a file, not a folder",
                path.display(),
                a.display()
            ),
            Err(_) => p = a.parent(),
        }
    }
    Ok(())
}

/// Check a folder that a run will replace whole (or fill): never `/`, the working directory,
/// one of its parents or the home folder; not a file; not a symbolic link; and, unless `force`,
/// empty or written by tetris.
pub fn check_dir_target(flag: &str, dir: &Path, force: bool) -> Result<()> {
    if dir.as_os_str().is_empty() {
        bail!("{flag}: the folder name is empty");
    }
    let abs = resolve(dir)?;
    if abs.parent().is_none() {
        bail!(
            "{flag} {}: the root folder is never an output folder",
            dir.display()
        );
    }
    let cwd = resolve(Path::new("."))?;
    if cwd.starts_with(&abs) {
        bail!(
            "{flag} {}: that is the working directory or one of its parents, and an output folder is replaced whole; name a new folder, e.g. {}",
            dir.display(),
            dir.join("out").display()
        );
    }
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        if resolve(Path::new(&home))?.starts_with(&abs) {
            bail!(
                "{flag} {}: that is the home folder or one of its parents; name a new folder",
                dir.display()
            );
        }
    }
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => bail!(
            "{flag} {}: is a symbolic link; name the folder itself",
            dir.display()
        ),
        Ok(m) if !m.is_dir() => bail!(
            "{flag} {}: is a file, not a folder; tetris does not replace it",
            dir.display()
        ),
        // Emptiness first, the marker second: another process creating this folder writes
        // the marker as its first file, so "not empty, then no marker" is a real refusal,
        // while the other order saw "no marker yet, then the marker" and refused a folder
        // being made by a concurrent tetris (found by build_cache's lost-race test).
        Ok(_) if !force && !is_empty_dir(dir) && !written_by_tetris(dir) => bail!(
            "{flag} {}: the folder holds files tetris did not write (no {MARKER} in it), and an output folder is replaced whole; name a new or empty folder, or pass --force to replace it",
            dir.display()
        ),
        _ => {}
    }
    check_ancestors(flag, dir)
}

/// Check a file a run will write: not an existing folder, its nearest existing ancestor a
/// folder. An existing regular file is overwritten (atomically).
pub fn check_file_target(flag: &str, path: &Path) -> Result<()> {
    if path.file_name().is_none() || path.as_os_str().to_string_lossy().ends_with('/') {
        bail!("{flag} {}: needs a file name", path.display());
    }
    if let Ok(m) = std::fs::metadata(path) {
        if m.is_dir() {
            bail!(
                "{flag} {}: is a folder; give a file name (e.g. {})",
                path.display(),
                path.join("out").display()
            );
        }
    }
    check_ancestors(flag, path)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
}

/// All the paths of one run, checked against each other before the work starts.
#[derive(Debug, Default)]
pub struct OutputPlan {
    force: bool,
    inputs: Vec<(String, PathBuf)>,
    outputs: Vec<(String, PathBuf, Kind)>,
}

impl OutputPlan {
    /// `force`: folders tetris did not write may be replaced (`--force`).
    pub fn new(force: bool) -> OutputPlan {
        OutputPlan {
            force,
            ..Default::default()
        }
    }
    /// A file the run reads (never written over, never inside a replaced folder).
    pub fn input(&mut self, flag: &str, path: Option<&Path>) -> &mut Self {
        if let Some(p) = path {
            self.inputs.push((flag.to_string(), p.to_path_buf()));
        }
        self
    }
    /// A file the run writes.
    pub fn file(&mut self, flag: &str, path: Option<&Path>) -> &mut Self {
        if let Some(p) = path {
            self.outputs
                .push((flag.to_string(), p.to_path_buf(), Kind::File));
        }
        self
    }
    /// A folder the run replaces whole (or fills as its work folder).
    pub fn dir(&mut self, flag: &str, path: Option<&Path>) -> &mut Self {
        if let Some(p) = path {
            self.outputs
                .push((flag.to_string(), p.to_path_buf(), Kind::Dir));
        }
        self
    }

    /// [`OutputPlan::check`], then, under `--force`, mark the existing folders the run may
    /// replace as tetris's, so that the writers (which replace only tetris's folders) may.
    pub fn prepare(&self) -> Result<()> {
        self.check()?;
        if self.force {
            for (flag, p, kind) in &self.outputs {
                if *kind == Kind::Dir && p.is_dir() && !written_by_tetris(p) {
                    std::fs::write(p.join(MARKER), MARKER_TEXT)
                        .with_context(|| format!("{flag} {}: cannot mark it", p.display()))?;
                }
            }
        }
        Ok(())
    }

    /// Every check, before any work: each output alone, then outputs against inputs and
    /// against each other.
    pub fn check(&self) -> Result<()> {
        let mut outs = vec![];
        for (flag, p, kind) in &self.outputs {
            match kind {
                Kind::File => check_file_target(flag, p)?,
                Kind::Dir => check_dir_target(flag, p, self.force)?,
            }
            outs.push((flag, p, *kind, resolve(p)?));
        }
        for (iflag, ip) in &self.inputs {
            let ir = resolve(ip)?;
            for (flag, p, kind, r) in &outs {
                let same = r == &ir || same_file(ip, p);
                if same {
                    bail!(
                        "{flag} {}: is the input given to {iflag}; tetris never writes over an input",
                        p.display()
                    );
                }
                if *kind == Kind::Dir && ir.starts_with(r) {
                    bail!(
                        "{flag} {}: holds the input {} ({iflag}), and an output folder is replaced whole; name another folder",
                        p.display(),
                        ip.display()
                    );
                }
            }
        }
        for (i, (f1, p1, k1, r1)) in outs.iter().enumerate() {
            for (j, (f2, p2, _, r2)) in outs.iter().enumerate() {
                if i < j && r1 == r2 {
                    bail!(
                        "{f1} and {f2} both name {}: one output would overwrite the other",
                        p1.display()
                    );
                }
                if *k1 == Kind::Dir && r2 != r1 && r2.starts_with(r1) {
                    bail!(
                        "{f2} {} lies inside the output folder {} ({f1}), which is replaced whole",
                        p2.display(),
                        p1.display()
                    );
                }
            }
        }
        Ok(())
    }
}

/// Same file on disk (hard links, bind mounts): same device and inode.
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
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

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Figures {
        speedup: f64,
        fmax_mhz: Option<f64>,
    }

    #[test]
    fn a_report_is_written_only_when_it_reads_back() {
        let ok = Figures {
            speedup: 1.25,
            fmax_mhz: None,
        };
        let text = json_text(&ok).unwrap();
        assert_eq!(parse_json::<Figures>(&text, "r").unwrap(), ok);
        // A NaN figure would be written as null, which the f64 field cannot read back.
        let nan = Figures {
            speedup: f64::NAN,
            fmax_mhz: Some(1.0),
        };
        let e = format!("{:#}", json_text(&nan).unwrap_err());
        assert!(e.contains("would not read back"), "{e}");
        assert!(
            e.contains("Figures: field speedup: invalid type: null"),
            "{e}"
        );
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("r.json");
        assert!(write_json(&p, &nan).is_err());
        assert!(
            !p.exists(),
            "no file is written for a document that does not read back"
        );
    }
}
