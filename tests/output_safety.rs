//! Output safety (issue 11): no command deletes or overwrites what tetris did not write, writes
//! over an input, lets two outputs collide, or leaves half-written results behind; concurrent
//! runs into one folder all succeed. Every case runs the release binary on files made here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::cli::{assert_succeeded, tetris};
use common::npy::write_npy_f32;

fn run_in(dir: &Path, args: &[&str]) -> Output {
    tetris().current_dir(dir).args(args).output().unwrap()
}

/// The run must fail, leave no temporaries and say `what` on stderr.
fn refused(dir: &Path, args: &[&str], what: &str) {
    let o = run_in(dir, args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{args:?} was accepted");
    assert!(
        err.contains(what),
        "{args:?}: stderr lacks {what:?}:\n{err}"
    );
    assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
    assert_eq!(
        temporaries(dir),
        Vec::<PathBuf>::new(),
        "{args:?} left temporaries"
    );
}

fn ok(dir: &Path, args: &[&str]) {
    assert_succeeded(&run_in(dir, args), &format!("{args:?}"));
}

/// Temporary names of tetris (`.NAME.tmp-PID-N`) anywhere under `dir`.
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_name().to_string_lossy().contains(".tmp-") {
                out.push(p.clone());
            }
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            }
        }
    }
    out
}

/// A folder of the user's with one file in it.
fn user_folder(dir: &Path, name: &str) -> PathBuf {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("mine.txt"), "the user's work").unwrap();
    d
}

fn still_there(d: &Path) {
    assert_eq!(
        std::fs::read_to_string(d.join("mine.txt")).unwrap(),
        "the user's work",
        "{} lost the user's file",
        d.display()
    );
}

const QUICK_GEN: &[&str] = &["gen", "--no-tool-checks", "--self-check", "2"];

fn gen_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    QUICK_GEN
        .iter()
        .copied()
        .chain(extra.iter().copied())
        .collect()
}

/// `noise-profile --mult mult --width 8` and `extra`.
fn noise_profile_args<'a>(mult: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["noise-profile", "--mult", mult, "--width", "8"];
    args.extend(extra);
    args
}

#[test]
fn gen_never_replaces_a_folder_it_did_not_write() {
    let t = tempfile::tempdir().unwrap();
    let d = user_folder(t.path(), "user");
    refused(t.path(), &gen_args(&["--out", "user"]), "--force");
    still_there(&d);
    // Written by tetris: replaced on the next run, marker and all.
    ok(t.path(), &gen_args(&["--out", "fresh"]));
    assert!(t.path().join("fresh/.tetris-output").is_file());
    ok(t.path(), &gen_args(&["--out", "fresh"]));
    // An empty folder of the user's is fine.
    std::fs::create_dir(t.path().join("empty")).unwrap();
    ok(t.path(), &gen_args(&["--out", "empty"]));
    // --force replaces the user's folder.
    ok(t.path(), &gen_args(&["--out", "user", "--force"]));
    assert!(!d.join("mine.txt").exists() && d.join("files.f").is_file());
}

#[test]
fn gen_refuses_files_the_working_directory_its_parents_and_root() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("afile"), "data").unwrap();
    refused(t.path(), &gen_args(&["--out", "afile"]), "is a file");
    assert_eq!(
        std::fs::read_to_string(t.path().join("afile")).unwrap(),
        "data"
    );
    refused(
        t.path(),
        &gen_args(&["--out", "afile/sub"]),
        "is a file, not a folder",
    );
    for (out, force) in [
        (".", false),
        ("..", false),
        ("/", false),
        (".", true),
        ("..", true),
    ] {
        let mut args = gen_args(&["--out", out]);
        if force {
            args.push("--force");
        }
        let what = if out == "/" {
            "root"
        } else {
            "working directory"
        };
        refused(t.path(), &args, what);
    }
    let deep = t.path().join("a/b");
    std::fs::create_dir_all(&deep).unwrap();
    refused(&deep, &gen_args(&["--out", "../.."]), "working directory");
    assert!(deep.is_dir());
    // The config file itself as the output folder's content.
    let cfgdir = t.path().join("cfg");
    std::fs::create_dir(&cfgdir).unwrap();
    std::fs::write(
        cfgdir.join("c.toml"),
        tetris_hdl::config::DEFAULT_CONFIG_TOML,
    )
    .unwrap();
    std::fs::write(cfgdir.join(".tetris-output"), "").unwrap();
    refused(
        t.path(),
        &gen_args(&["--config", "cfg/c.toml", "--out", "cfg"]),
        "holds the input",
    );
    assert!(cfgdir.join("c.toml").is_file());
}

#[test]
fn prove_and_emit_rtl_never_replace_a_user_folder_or_file() {
    let t = tempfile::tempdir().unwrap();
    let d = user_folder(t.path(), "rtl");
    refused(
        t.path(),
        &noise_profile_args("drum:k=4", &["--emit-rtl", "rtl"]),
        "--force",
    );
    still_there(&d);
    std::fs::write(t.path().join("f.v"), "module m; endmodule").unwrap();
    refused(
        t.path(),
        &noise_profile_args("drum:k=4", &["--emit-rtl", "f.v"]),
        "is a file",
    );
    assert_eq!(
        std::fs::read_to_string(t.path().join("f.v")).unwrap(),
        "module m; endmodule"
    );
    ok(
        t.path(),
        &noise_profile_args("drum:k=4", &["--emit-rtl", "rtl", "--force"]),
    );
    assert!(t.path().join("rtl/files.f").is_file());
    let p = user_folder(t.path(), "proofs");
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/prove_w4.toml");
    refused(
        t.path(),
        &[
            "prove",
            "--config",
            cfg.to_str().unwrap(),
            "--work-dir",
            "proofs",
        ],
        "--force",
    );
    still_there(&p);
}

/// Weights [4, 2, 3, 3] in `dir/w.npy`; its path.
fn write_small_weights(dir: &Path) -> PathBuf {
    let w = dir.join("w.npy");
    write_npy_f32(
        &w,
        &[4, 2, 3, 3],
        &(0..72).map(|i| (i as f32 - 30.0) / 7.0).collect::<Vec<_>>(),
    );
    w
}

#[test]
fn no_output_overwrites_an_input_or_another_output() {
    let t = tempfile::tempdir().unwrap();
    let w = write_small_weights(t.path());
    let before = std::fs::read(&w).unwrap();
    refused(
        t.path(),
        &["knead", "--weights", "w.npy", "--json", "w.npy"],
        "input",
    );
    refused(
        t.path(),
        &["knead", "--weights", "w.npy", "--csv", "./w.npy"],
        "input",
    );
    std::fs::hard_link(&w, t.path().join("link.npy")).unwrap();
    refused(
        t.path(),
        &["knead", "--weights", "w.npy", "--json", "link.npy"],
        "input",
    );
    refused(
        t.path(),
        &[
            "sim",
            "--weights",
            "w.npy",
            "--input-hw",
            "4,4",
            "--json",
            "w.npy",
        ],
        "input",
    );
    // The plot next to --json defaults to the .svg name.
    std::fs::write(t.path().join("r.svg"), "").unwrap();
    refused(
        t.path(),
        &[
            "sim",
            "--weights",
            "r.svg",
            "--input-hw",
            "4,4",
            "--json",
            "r.json",
        ],
        "input",
    );
    assert_eq!(std::fs::read(&w).unwrap(), before);
    refused(
        t.path(),
        &noise_profile_args("exact", &["--json", "x", "--toml", "x"]),
        "both name",
    );
    refused(
        t.path(),
        &noise_profile_args("exact", &["--emit-rtl", "r", "--json", "r/p.json"]),
        "inside the output folder",
    );
    assert!(!t.path().join("x").exists() && !t.path().join("r").exists());
}

#[test]
fn a_bad_output_fails_before_any_output_is_written() {
    let t = tempfile::tempdir().unwrap();
    write_small_weights(t.path());
    std::fs::create_dir(t.path().join("D")).unwrap();
    refused(
        t.path(),
        &[
            "knead",
            "--weights",
            "w.npy",
            "--json",
            "ok.json",
            "--csv",
            "D",
        ],
        "is a folder",
    );
    assert!(!t.path().join("ok.json").exists());
    refused(
        t.path(),
        &noise_profile_args("exact", &["--json", "ok.json", "--plot", "D"]),
        "D",
    );
    assert!(!t.path().join("ok.json").exists());
    // cosim --trace into a folder or under a file: refused before the build.
    std::fs::write(t.path().join("afile"), "x").unwrap();
    std::fs::create_dir(t.path().join("wave.vcd")).unwrap();
    refused(t.path(), &["cosim", "--trace", "wave.vcd"], "is a folder");
    refused(
        t.path(),
        &["cosim", "--trace", "afile/w.vcd"],
        "is a file, not a folder",
    );
}

#[test]
fn an_interrupted_run_leaves_nothing_and_a_killed_runs_leftovers_are_swept() {
    let t = tempfile::tempdir().unwrap();
    // A temporary left by a process that no longer exists (pid above any pid_max).
    let stale = t.path().join(".out.tmp-4294967295-1");
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("x.v"), "").unwrap();
    ok(t.path(), &gen_args(&["--out", "out"]));
    assert!(!stale.exists(), "the stale temporary was not swept");
    // SIGINT and SIGTERM in the middle of a run with tool checks (seconds long).
    for sig in ["INT", "TERM"] {
        let mut child = tetris()
            .current_dir(t.path())
            .args(["gen", "--out", "sig"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Wait until the run has its temporary folder, then interrupt it.
        let t0 = std::time::Instant::now();
        while temporaries(t.path()).is_empty() && t0.elapsed().as_secs() < 60 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(!temporaries(t.path()).is_empty(), "no temporary seen");
        let st = Command::new("kill")
            .args([&format!("-{sig}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let code = child.wait().unwrap();
        assert!(!code.success(), "SIG{sig}: the run finished anyway");
        assert_eq!(temporaries(t.path()), Vec::<PathBuf>::new(), "SIG{sig}");
        assert!(!t.path().join("sig").exists(), "SIG{sig}: a half output");
    }
}

#[test]
fn concurrent_runs_into_one_folder_all_succeed() {
    let t = tempfile::tempdir().unwrap();
    for round in 0..6 {
        let children: Vec<_> = (0..3)
            .map(|_| {
                tetris()
                    .current_dir(t.path())
                    .args(gen_args(&["--out", "race"]))
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            assert_succeeded(&c.wait_with_output().unwrap(), &format!("round {round}"));
        }
        assert!(t.path().join("race/files.f").is_file());
        assert_eq!(temporaries(t.path()), Vec::<PathBuf>::new());
    }
}

#[test]
fn nonsense_config_and_flags_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let base = tetris_hdl::config::DEFAULT_CONFIG_TOML;
    for (from, to, what) in [
        (
            "name = \"tetris_top\"",
            "name = \"module\"",
            "reserved word",
        ),
        (
            "name = \"tetris_top\"",
            "name = \"always_ff\"",
            "reserved word",
        ),
        ("clock_mhz = 100.0", "clock_mhz = 1e-300", "top.clock_mhz"),
        ("clock_mhz = 100.0", "clock_mhz = 2500.0", "top.clock_mhz"),
    ] {
        let c = t.path().join("c.toml");
        std::fs::write(&c, base.replace(from, to)).unwrap();
        refused(t.path(), &["config", "--config", "c.toml"], what);
        refused(
            t.path(),
            &["gen", "--config", "c.toml", "--no-tool-checks"],
            what,
        );
    }
    refused(t.path(), &["gen", "--self-check", "0"], "--self-check");
    // The built-in 16-bit KS=16 default: the kneading-unit proof would not finish; said at once.
    let o = run_in(t.path(), &["prove", "--work-dir", "p"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("prove_w4.toml") && err.contains("--knead-steps"),
        "{err}"
    );
    assert!(!t.path().join("p").exists());
}
