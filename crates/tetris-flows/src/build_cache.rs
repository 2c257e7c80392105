//! The one Verilator build cache, shared by every command that builds a harness with Verilator
//! (`tetris cosim`, `tetris sim --engine verilator`: [`crate::verilator::build`];
//! `tetris characterize`: `noise::characterize::build` in the root crate).
//!
//! - Root: `--cache-dir` (`characterize --work-dir` is an alias), else [`default_root`]:
//!   `$TETRIS_CACHE_DIR`, `$XDG_CACHE_HOME/tetris-hdl`, `~/.cache/tetris-hdl`. Entries live in
//!   `<root>/verilator/`, a folder tetris owns (it holds the `.tetris-output` marker); nothing
//!   else under the root is touched, and a `verilator/` folder holding files tetris did not
//!   write is refused.
//! - Key ([`Key`]): SHA-256 over every input of a build, each part named and length-prefixed
//!   (sources, harness, flags, tool versions, the builder's own version), always with
//!   [`FORMAT_VERSION`]. An entry is `<root>/verilator/<name>-<first 16 hex digits>`.
//! - Publishing: an entry is built in a private temporary folder and renamed into place under
//!   a lock of `verilator/`; when another process published the same key first, its entry is
//!   kept and the call is a hit (a lost race is never an error).
//! - Completeness ([`is_complete`]): an entry counts only when it holds tetris's marker and the
//!   stamp `build.json` written last into it (the key and the files the builder produced), and
//!   those files are all there. A damaged entry (files removed by hand) is rebuilt and
//!   replaced; one tetris did not write never is.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tetris_fs::{content_hash, ensure_work_dir, publish_cache_entry, written_by_tetris};
use tetris_fs::{Published, MARKER};

/// Bumped whenever an entry's layout or the meaning of a key part changes; part of every key,
/// so entries of another format are never read.
pub const FORMAT_VERSION: u32 = 1;

/// The folder under the root that holds the entries (and is tetris's own).
const ENTRIES: &str = "verilator";

/// Written last into each entry: its key and the files the build produced.
const STAMP: &str = "build.json";

/// Default cache root: `$TETRIS_CACHE_DIR`, else `$XDG_CACHE_HOME/tetris-hdl`, else
/// `~/.cache/tetris-hdl`, else the system temp folder's `tetris-hdl`.
pub fn default_root() -> PathBuf {
    if let Some(d) = std::env::var_os("TETRIS_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })
        .unwrap_or_else(std::env::temp_dir);
    base.join("tetris-hdl")
}

/// The content key of one build: SHA-256 (hex) over [`FORMAT_VERSION`] and the named parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    /// Hash every input of a build. Part names matter (`("harness", x)` differs from
    /// `("verilog", x)`), and so does their order.
    pub fn new<'a>(parts: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Key {
        const FORMAT: &[u8] = &FORMAT_VERSION.to_le_bytes();
        Key(content_hash(
            std::iter::once(("build cache format", FORMAT)).chain(parts),
        ))
    }
    pub fn hex(&self) -> &str {
        &self.0
    }
}

/// A complete entry of the cache.
#[derive(Debug, Clone)]
pub struct Entry {
    pub dir: PathBuf,
    /// True when this call built it; false for a hit (also a lost race).
    pub built: bool,
    /// Seconds this call spent building (0 for a hit found before building).
    pub build_s: f64,
}

/// The cache, opened at a root.
#[derive(Debug, Clone)]
pub struct BuildCache {
    /// `<root>/verilator`, absolute (builds run inside their own folder).
    entries: PathBuf,
}

/// Whether `dir` holds only what tetris put into an entries folder: tetris's entries (each has
/// the marker), temporaries of publishing, the marker. An entries folder of a tetris version
/// from before the folder's own marker looks like that.
fn holds_only_entries(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|d| {
        d.flatten().all(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name == MARKER
                || (name.starts_with('.') && name.contains(".tmp-"))
                || (e.path().is_dir() && written_by_tetris(&e.path()))
        })
    })
}

impl BuildCache {
    /// Open (and create when missing) the cache under `root`; `flag` names the option the
    /// root came from, in errors.
    pub fn open(flag: &str, root: &Path) -> Result<BuildCache> {
        if root.as_os_str().is_empty() {
            bail!("{flag}: the folder name is empty");
        }
        let root = std::path::absolute(root)
            .with_context(|| format!("{flag} {}: cannot make it absolute", root.display()))?;
        if root.exists() && !root.is_dir() {
            bail!("{flag} {}: is a file, not a folder", root.display());
        }
        let entries = root.join(ENTRIES);
        let own = match std::fs::symlink_metadata(&entries) {
            Err(_) => false,
            Ok(m) if !m.is_dir() => bail!(
                "{flag} {}: {} is not a folder; the build cache keeps its builds there",
                root.display(),
                entries.display()
            ),
            Ok(_) if written_by_tetris(&entries) || holds_only_entries(&entries) => true,
            Ok(_) => bail!(
                "{flag} {}: {} holds files tetris did not write (no {MARKER} in it); the build \
                 cache keeps its builds there, so name another cache folder",
                root.display(),
                entries.display()
            ),
        };
        // Created with tetris's marker, or marked as the cache it already is.
        ensure_work_dir(flag, &entries, own)?;
        Ok(BuildCache { entries })
    }

    /// The folder holding the entries (`<root>/verilator`).
    pub fn entries_dir(&self) -> &Path {
        &self.entries
    }

    /// The folder of the entry `name` with `key`.
    pub fn entry_dir(&self, name: &str, key: &Key) -> PathBuf {
        self.entries.join(format!("{name}-{}", &key.hex()[..16]))
    }

    /// The complete entry `name`/`key`, or build it with `fill` (which writes into the empty
    /// folder it is given and must produce every file of `outputs`, relative paths) and
    /// publish it. Several processes may do this at once: one build is kept, every call
    /// succeeds.
    pub fn get_or_build(
        &self,
        name: &str,
        key: &Key,
        outputs: &[&str],
        fill: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<Entry> {
        let dir = self.entry_dir(name, key);
        if is_complete(&dir, key, outputs) {
            return Ok(Entry {
                dir,
                built: false,
                build_s: 0.0,
            });
        }
        let t0 = Instant::now();
        let stamp = Stamp {
            format: FORMAT_VERSION,
            key: key.hex().to_string(),
            outputs: outputs.iter().map(|o| o.to_string()).collect(),
        };
        let published = publish_cache_entry(&dir, &|d| is_complete(d, key, outputs), |tmp| {
            fill(tmp)?;
            for o in outputs {
                if !tmp.join(o).is_file() {
                    bail!("the build of {name} did not produce {o}");
                }
            }
            std::fs::write(tmp.join(STAMP), serde_json::to_string_pretty(&stamp)?)
                .with_context(|| format!("cannot write {}", tmp.join(STAMP).display()))
        })?;
        Ok(Entry {
            dir,
            built: published == Published::Written,
            build_s: t0.elapsed().as_secs_f64(),
        })
    }
}

/// Whether `dir` is a complete entry for `key`: tetris's marker, the stamp naming `key`, every
/// file of `outputs`.
pub fn is_complete(dir: &Path, key: &Key, outputs: &[&str]) -> bool {
    // An unreadable or malformed stamp means an incomplete entry, which is rebuilt: not an
    // error, as a killed build leaves exactly that.
    let Ok(stamp) = tetris_fs::read_json::<Stamp>(&dir.join(STAMP)) else {
        return false;
    };
    dir.join(MARKER).is_file()
        && stamp.format == FORMAT_VERSION
        && stamp.key == key.hex()
        && outputs.iter().all(|o| dir.join(o).is_file())
}

/// The stamp of a complete entry (`build.json`), written last.
#[derive(Serialize, Deserialize)]
struct Stamp {
    format: u32,
    key: String,
    /// The files the build produced besides the stamp.
    outputs: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;

    fn key(harness: &str) -> Key {
        Key::new([
            ("kind", "sweep".as_bytes()),
            ("verilator", b"Verilator 5.020".as_slice()),
            ("flags", b"--cc --exe".as_slice()),
            ("harness", harness.as_bytes()),
            ("verilog", b"module m; endmodule".as_slice()),
        ])
    }

    #[test]
    fn key_covers_every_input() {
        assert_eq!(key("int main() {}"), key("int main() {}"));
        assert_ne!(key("int main() {}"), key("int main() { return 1; }"));
        assert_eq!(key("x").hex().len(), 64);
        // Part boundaries and names are hashed: moving bytes from one part to the next, or
        // renaming a part, changes the key.
        let k = |a: &str, b: &str, n: &str| Key::new([("a", a.as_bytes()), (n, b.as_bytes())]);
        assert_ne!(k("ab", "c", "b"), k("a", "bc", "b"));
        assert_ne!(k("a", "b", "b"), k("a", "b", "c"));
        // The format version is in every key: no key equals the bare content hash.
        assert_ne!(
            Key::new([("a", b"x".as_slice())]).hex(),
            content_hash([("a", b"x".as_slice())])
        );
    }

    fn fill_ok(tmp: &Path) -> Result<()> {
        std::fs::create_dir(tmp.join("obj"))?;
        std::fs::write(tmp.join("obj").join("sim"), "exe")?;
        Ok(())
    }

    #[test]
    fn builds_once_then_hits_and_rebuilds_a_damaged_entry() {
        let t = tempfile::tempdir().unwrap();
        let c = BuildCache::open("--cache-dir", &t.path().join("c")).unwrap();
        assert!(t.path().join("c/verilator").join(MARKER).is_file());
        let k = key("h");
        let e = c
            .get_or_build("m-sweep", &k, &["obj/sim"], fill_ok)
            .unwrap();
        assert!(e.built && is_complete(&e.dir, &k, &["obj/sim"]));
        let e2 = c
            .get_or_build("m-sweep", &k, &["obj/sim"], |_| panic!("no rebuild"))
            .unwrap();
        assert!(!e2.built && e2.dir == e.dir);
        // A builder that does not produce its outputs fails and publishes nothing.
        let k2 = key("other");
        let err = c
            .get_or_build("m-sweep", &k2, &["obj/sim"], |_| Ok(()))
            .unwrap_err();
        assert!(err.to_string().contains("did not produce obj/sim"), "{err}");
        assert!(!c.entry_dir("m-sweep", &k2).exists());
        // Damaged by hand: rebuilt in place.
        std::fs::remove_file(e.dir.join("obj/sim")).unwrap();
        let e3 = c
            .get_or_build("m-sweep", &k, &["obj/sim"], fill_ok)
            .unwrap();
        assert!(e3.built && e3.dir.join("obj/sim").is_file());
        // Only the entry and the marker: no temporaries left.
        assert_eq!(std::fs::read_dir(c.entries_dir()).unwrap().count(), 2);
    }

    #[test]
    fn a_lost_race_is_a_hit() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("c");
        let n = 4;
        let inside = Arc::new(AtomicUsize::new(0));
        let runs: Vec<_> = (0..n)
            .map(|_| {
                let (root, inside) = (root.clone(), inside.clone());
                std::thread::spawn(move || -> Result<Entry> {
                    let c = BuildCache::open("--cache-dir", &root)?;
                    c.get_or_build("m-sweep", &key("h"), &["obj/sim"], |tmp| {
                        // Every builder is inside its build before any publishes. Not a
                        // Barrier: a builder that fails before arriving must fail the test,
                        // not hang it.
                        inside.fetch_add(1, SeqCst);
                        let t0 = Instant::now();
                        while inside.load(SeqCst) < n {
                            if t0.elapsed().as_secs() > 30 {
                                bail!("only {} of {n} builders started", inside.load(SeqCst));
                            }
                            std::thread::sleep(std::time::Duration::from_millis(5));
                        }
                        fill_ok(tmp)
                    })
                })
            })
            .collect();
        let results: Vec<Result<Entry>> = runs.into_iter().map(|r| r.join().unwrap()).collect();
        let errors: Vec<String> = results
            .iter()
            .filter_map(|r| r.as_ref().err().map(|e| format!("{e:#}")))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        let entries: Vec<Entry> = results.into_iter().map(Result::unwrap).collect();
        assert_eq!(entries.iter().filter(|e| e.built).count(), 1);
        assert!(entries.iter().all(|e| e.dir == entries[0].dir));
        assert_eq!(
            std::fs::read_dir(root.join("verilator")).unwrap().count(),
            2
        );
    }

    #[test]
    fn never_takes_over_a_folder_tetris_did_not_write() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("c");
        std::fs::create_dir_all(root.join("verilator")).unwrap();
        std::fs::write(root.join("verilator/notes.txt"), "mine").unwrap();
        let e = BuildCache::open("--cache-dir", &root).unwrap_err();
        assert!(e.to_string().contains("tetris did not write"), "{e}");
        assert!(!root.join("verilator").join(MARKER).exists());
        // A file as the root.
        std::fs::write(t.path().join("f"), "x").unwrap();
        let e = BuildCache::open("--cache-dir", &t.path().join("f")).unwrap_err();
        assert!(e.to_string().contains("is a file"), "{e}");
        // The root itself may hold the user's files: only verilator/ is the cache's.
        let root2 = t.path().join("mine");
        std::fs::create_dir(&root2).unwrap();
        std::fs::write(root2.join("notes.txt"), "mine").unwrap();
        let c = BuildCache::open("--cache-dir", &root2).unwrap();
        c.get_or_build("m", &key("h"), &["obj/sim"], fill_ok)
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(root2.join("notes.txt")).unwrap(),
            "mine"
        );
        assert!(!root2.join(MARKER).exists());
        // An entries folder of an older tetris (entries with markers, no marker of its own)
        // is the cache: taken over.
        let root3 = t.path().join("old");
        let old_entry = root3.join("verilator/top-replay-0123456789abcdef");
        std::fs::create_dir_all(&old_entry).unwrap();
        std::fs::write(old_entry.join(MARKER), "").unwrap();
        BuildCache::open("--cache-dir", &root3).unwrap();
        assert!(root3.join("verilator").join(MARKER).is_file());
        // A damaged entry tetris did not write is never replaced.
        let c = BuildCache::open("--cache-dir", &root2).unwrap();
        let k = key("foreign");
        let d = c.entry_dir("m", &k);
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("keep.txt"), "mine").unwrap();
        assert!(c.get_or_build("m", &k, &["obj/sim"], fill_ok).is_err());
        assert_eq!(std::fs::read_to_string(d.join("keep.txt")).unwrap(), "mine");
    }
}
