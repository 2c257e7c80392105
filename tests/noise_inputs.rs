//! `noise-profile` and `characterize` against inputs that must not get through and outputs
//! that must not be lost (issue 11), and what a user reads from them: family sweeps, plots,
//! help text that matches the behaviour (issue 18). Needs Verilator and Yosys for the
//! `characterize` cases (a missing tool fails the test).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::cli::{
    assert_succeeded, characterize, noise_profile, read_json, read_text, run_ok,
    temp_dir_with_file, tetris, CommandExt,
};

/// A 5x5-bit multiplier whose product has bit 0 forced to 1.
const OR_ONE_MUL5_V: &str =
    "module m(input [4:0] a, input [4:0] b, output [9:0] y); assign y = (a * b) | 10'd1; endmodule\n";

/// An exact 6x6-bit multiplier (ports x, w, p).
const MUL6_V: &str =
    "module mul(input [5:0] x, input [5:0] w, output [11:0] p); assign p = x * w; endmodule\n";

/// Run, expect failure with `msg` in stderr.
fn run_err(cmd: &mut Command, msg: &str) -> String {
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "expected a failure containing {msg:?}"
    );
    assert!(err.contains(msg), "expected {msg:?} in:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// Resident memory of a running process, in kB (Linux /proc).
fn rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Start `cmd`, wait until `ready()` (or 180 s), let it run 3 s more, check it is still running
/// in less than 200 MB, and stop it. A sampled sweep that collected its pairs first died at once
/// with "memory allocation of 80000000000 bytes failed".
fn runs_in_bounded_memory(cmd: &mut Command, ready: impl Fn() -> bool) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !ready() && start.elapsed() < Duration::from_secs(180) {
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(3));
    let alive = child.try_wait().unwrap().is_none();
    let rss = rss_kb(child.id());
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert!(
        alive,
        "the sweep ended early: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rss = rss.expect("VmRSS of the running sweep");
    assert!(rss < 200_000, "resident memory {rss} kB");
}

#[test]
fn ten_billion_samples_stream_in_bounded_memory() {
    runs_in_bounded_memory(
        noise_profile("drum:k=4", "16").args(["--samples", "10000000000"]),
        || true,
    );
    let t = tempfile::tempdir().unwrap();
    let v = t.path().join("m.v");
    std::fs::write(
        &v,
        "module m(input [5:0] a, input [5:0] b, output [11:0] y); assign y = a * b; endmodule\n",
    )
    .unwrap();
    let work = t.path().join("w");
    let built = {
        let work = work.clone();
        move || {
            std::fs::read_dir(work.join("verilator")).is_ok_and(|d| {
                d.flatten()
                    .any(|e| e.path().join("obj").join("sweep").is_file())
            })
        }
    };
    runs_in_bounded_memory(
        tetris()
            .args(["characterize", "--width", "6", "--samples", "10000000000"])
            .opt("--verilog", &v)
            .opt("--work-dir", &work),
        built,
    );
}

/// Designs that are not a combinational function of their two operands, and ports that do
/// not make a multiplier, are refused with the reason; nothing is written.
#[test]
fn characterize_refuses_what_is_not_a_multiplier() {
    let t = tempfile::tempdir().unwrap();
    let j = t.path().join("out.json");
    let case = |name: &str, body: &str, extra: &[&str], msg: &str| {
        let f = t.path().join(format!("{name}.v"));
        std::fs::write(&f, body).unwrap();
        run_err(
            characterize(&f, "4")
                .args(extra)
                .opt("--work-dir", t.path().join("w"))
                .opt("--json", &j),
            msg,
        );
        assert!(!j.exists(), "{name} wrote output");
    };
    let ports = ["--port-a", "a", "--port-b", "b", "--port-out", "y"];
    case(
        "clocked",
        "module clocked(input clk, input [3:0] a, input [3:0] b, output reg [7:0] y);\n  always @(posedge clk) y <= a * b;\nendmodule\n",
        &ports,
        "a flip-flop",
    );
    case(
        "latch",
        "module latch(input [3:0] a, input [3:0] b, output reg [7:0] y);\n  always @(a or b) if (a[0]) y = a * b;\nendmodule\n",
        &[],
        "a latch",
    );
    case(
        "loop",
        "module loop(input [3:0] a, input [3:0] b, output [7:0] y);\n  wire [7:0] t = t ^ (a * b);\n  assign y = t;\nendmodule\n",
        &[],
        "combinational loop",
    );
    case(
        "state",
        "module state(input [3:0] a, input [3:0] b, output reg [7:0] y);\n  always @(a) y = y + a * b;\nendmodule\n",
        &[],
        "not a function of its inputs",
    );
    case(
        "same",
        "module same(input [3:0] a, input [3:0] b, output [7:0] y); assign y = a * b; endmodule\n",
        &["--port-a", "a", "--port-b", "a"],
        "two distinct ports",
    );
    case(
        "narrow",
        "module narrow(input [3:0] a, input [3:0] b, output [5:0] y); assign y = a * b; endmodule\n",
        &[],
        "--truncate-output",
    );
    case(
        "finish",
        "module finish(input [3:0] a, input [3:0] b, output [7:0] y);\n  assign y = a * b;\n  always @(a) if (a == 4'd9) $finish;\nendmodule\n",
        &[],
        "$finish",
    );
    // In an initial block Yosys runs it (and stops); the sweep harness would also stop on it.
    case(
        "initial_finish",
        "module initial_finish(input [3:0] a, input [3:0] b, output [7:0] y);\n  assign y = a * b;\n  initial $finish;\nendmodule\n",
        &[],
        "$finish",
    );
}

/// What a design may do and still be characterized: print with $display (kept out of the
/// products), declare signed ports (a warning without --signed), drop product bits when told.
#[test]
fn characterize_isolates_output_warns_and_truncates_on_request() {
    let t = tempfile::tempdir().unwrap();
    let p = |n: &str| t.path().join(n);
    let run = |name: &str, body: &str, extra: &[&str]| -> (Value, String) {
        let f = p(&format!("{name}.v"));
        std::fs::write(&f, body).unwrap();
        let j = p(&format!("{name}.json"));
        let out = run_ok(
            characterize(&f, "4")
                .args(extra)
                .opt("--work-dir", p("w"))
                .opt("--json", &j),
        );
        (
            read_json(&j),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Prints a line for every pair: the products still arrive intact.
    let (chatty, _) = run(
        "chatty",
        "module chatty(input [3:0] a, input [3:0] b, output [7:0] y);\n  assign y = a * b;\n  always @(a or b) $display(\"a=%d b=%d\", a, b);\nendmodule\n",
        &[],
    );
    assert_eq!(chatty["metrics"]["pairs"], 256);
    assert_eq!(chatty["metrics"]["ep_percent"], 0.0);
    let signed_src = "module sm(input signed [3:0] a, input signed [3:0] b, output signed [7:0] y);\n  assign y = a * b;\nendmodule\n";
    let (_, err) = run("sm", signed_src, &[]);
    assert!(err.contains("declared signed"), "{err}");
    let (s, err) = run("sm2", signed_src, &["--signed"]);
    assert!(!err.contains("declared signed"), "{err}");
    assert_eq!(s["metrics"]["ep_percent"], 0.0);
    // A 6-bit product port holds a * b mod 64: the error is minus the dropped high bits.
    let (narrow, _) = run(
        "narrow",
        "module narrow(input [3:0] a, input [3:0] b, output [5:0] y); assign y = a * b; endmodule\n",
        &["--truncate-output"],
    );
    let (mut wrong, mut worst) = (0u64, 0u64);
    for a in 0..16u64 {
        for b in 0..16u64 {
            let dropped = (a * b) & !63;
            wrong += (dropped != 0) as u64;
            worst = worst.max(dropped);
        }
    }
    assert_eq!(narrow["metrics"]["wce"], worst);
    assert_eq!(
        narrow["metrics"]["ep_percent"],
        100.0 * wrong as f64 / 256.0
    );
    assert_eq!(narrow["multiplier"]["output_bits"], 6);
}

#[test]
fn duplicated_parameters_are_errors() {
    run_err(
        &mut noise_profile("drum:k=4,k=5", "8"),
        "`k` is given more than once",
    );
    run_err(
        noise_profile("exact", "8").args(["--timing", "vdd=0.7,vdd=0.9"]),
        "`vdd` is given more than once",
    );
}

/// Output paths are checked before any work: two outputs on one file, an output on the
/// input, an output under a file; a failure while rendering leaves no file at all.
#[test]
fn outputs_never_collide_and_are_all_or_nothing() {
    let t = tempfile::tempdir().unwrap();
    let p = |n: &str| t.path().join(n);
    let np = || noise_profile("drum:k=4", "8");
    run_err(
        np().opt("--json", p("x")).opt("--toml", p("x")),
        "both name",
    );
    // The same file spelled two ways.
    run_err(
        np().opt("--json", p("x"))
            .opt("--toml", t.path().join(".").join("x")),
        "both name",
    );
    assert!(!p("x").exists());
    std::fs::write(p("afile"), "keep").unwrap();
    run_err(
        np().opt("--json", p("ok.json"))
            .opt("--plot", p("afile").join("p.svg")),
        "is a file",
    );
    assert!(!p("ok.json").exists());
    // The header cannot hold the corrected product (245760 > int16): nothing is written,
    // not even the JSON that rendered fine.
    run_err(
        noise_profile("trunc:t=16,corr", "8")
            .arg("--signed")
            .opt("--json", p("ok.json"))
            .opt("--lut-header", p("h.h")),
        "does not fit",
    );
    assert!(!p("ok.json").exists() && !p("h.h").exists());
    let leftovers: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // characterize never writes over its input.
    std::fs::write(
        p("m.v"),
        "module m(input [3:0] a, input [3:0] b, output [7:0] y); assign y = a * b; endmodule\n",
    )
    .unwrap();
    run_err(
        characterize(&p("m.v"), "4").opt("--json", p("m.v")),
        "is the input given to --verilog",
    );
    assert!(read_text(&p("m.v")).contains("module m"));
}

/// `--emit-rtl DIR` replaces only a folder tetris wrote (the output policy of
/// `crate::fsutil`; tests/output_safety.rs covers `--force`).
#[test]
fn emit_rtl_never_deletes_a_users_folder() {
    let t = tempfile::tempdir().unwrap();
    let p = |n: &str| t.path().join(n);
    let emit = |dir: &Path| {
        let mut c = noise_profile("drum:k=3", "4");
        c.current_dir(t.path()).opt("--emit-rtl", dir);
        c
    };
    std::fs::create_dir(p("mine")).unwrap();
    std::fs::write(p("mine/notes.txt"), "mine").unwrap();
    run_err(&mut emit(&p("mine")), "holds files tetris did not write");
    assert_eq!(
        std::fs::read_to_string(p("mine/notes.txt")).unwrap(),
        "mine"
    );
    std::fs::write(p("file"), "keep").unwrap();
    run_err(&mut emit(&p("file")), "is a file");
    assert_eq!(std::fs::read_to_string(p("file")).unwrap(), "keep");
    run_err(&mut emit(Path::new(".")), "working directory");
    run_err(&mut emit(Path::new("..")), "working directory");
    assert!(p("mine/notes.txt").is_file() && p("file").is_file());
    // A folder of its own: written, then replaced by the next run.
    run_ok(&mut emit(&p("rtl")));
    run_ok(&mut emit(&p("rtl")));
    assert!(p("rtl/files.f").is_file());
}

/// Three `characterize` runs of one file into one fresh build cache at the same time: all
/// succeed with the same figures (a lost race is a cache hit).
#[test]
fn concurrent_characterize_runs_share_the_cache() {
    let t = temp_dir_with_file("m.v", OR_ONE_MUL5_V);
    let p = |n: &str| t.path().join(n);
    let children: Vec<_> = (0..3)
        .map(|i| {
            characterize(&p("m.v"), "5")
                .opt("--work-dir", p("w"))
                .opt("--json", p(&format!("{i}.json")))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        assert_succeeded(&c.wait_with_output().unwrap(), "characterize");
    }
    let docs: Vec<Value> = (0..3)
        .map(|i| read_json(&p(&format!("{i}.json"))))
        .collect();
    assert!(docs.iter().all(|d| d["metrics"] == docs[0]["metrics"]));
    // One build in the cache (besides tetris's marker file), no temporary folders left.
    assert_eq!(cache_entries(&p("w")).len(), 1);
}

/// The builds in the Verilator build cache rooted at `root` (`<root>/verilator/*`, without
/// tetris's marker), failing on anything else there (a temporary left behind).
fn cache_entries(root: &Path) -> Vec<PathBuf> {
    let entries: Vec<PathBuf> = std::fs::read_dir(root.join("verilator"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|e| !e.ends_with(".tetris-output"))
        .collect();
    for e in &entries {
        let name = e.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !name.starts_with('.')
                && e.join("obj/sweep").is_file()
                && e.join("build.json").is_file(),
            "not a complete build: {entries:?}"
        );
    }
    entries
}

/// The one build cache, with no option: two `characterize` processes build the same multiplier
/// at once into an empty cache named by TETRIS_CACHE_DIR (the root `cosim` and `sim` use too).
/// Both succeed with the same figures, one of them reports the build, and the cache holds one
/// complete entry; a third run is a hit. Fails if a lost publishing race is an error.
#[test]
fn two_processes_building_one_design_both_succeed() {
    let t = temp_dir_with_file("mul.v", MUL6_V);
    let p = |n: &str| t.path().join(n);
    let root = p("cache");
    let run = |i: usize| {
        tetris()
            .env("TETRIS_CACHE_DIR", &root)
            .args(["characterize", "--width", "6", "--verilog"])
            .arg(p("mul.v"))
            .opt("--json", p(&format!("{i}.json")))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let both: Vec<_> = (0..2).map(run).collect();
    let outs: Vec<_> = both
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for o in &outs {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let (a, b) = (read_json(&p("0.json")), read_json(&p("1.json")));
    assert_eq!(a["metrics"], b["metrics"]);
    assert_eq!(a["metrics"]["pairs"], 4096);
    assert_eq!(a["metrics"]["ep_percent"], 0.0);
    let said =
        |o: &std::process::Output, what: &str| String::from_utf8_lossy(&o.stdout).contains(what);
    assert!(outs.iter().any(|o| said(o, "(built)")), "nobody built");
    assert!(outs
        .iter()
        .all(|o| said(o, "(built)") || said(o, "(cached)")));
    let entries = cache_entries(&root);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(entries[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("mul-sweep-"));
    let third = run(2).wait_with_output().unwrap();
    assert!(third.status.success() && said(&third, "(cached)"));
    assert_eq!(cache_entries(&root), entries);
}

/// `--mult drum:k=2..6`: one command, a table, one document with a profile per member (each
/// equal to its own run) and a plot of the metrics against k.
#[test]
fn family_sweep_in_one_command() {
    let t = tempfile::tempdir().unwrap();
    let p = |n: &str| t.path().join(n);
    let out = run_ok(
        noise_profile("drum:k=2..6", "8")
            .opt("--json", p("f.json"))
            .opt("--toml", p("f.toml"))
            .opt("--plot", p("f.svg")),
    );
    let table = String::from_utf8_lossy(&out.stdout);
    for k in 2..=6 {
        assert!(table.contains(&format!("drum:k={k} ")), "{table}");
    }
    let f = read_json(&p("f.json"));
    let members = f["members"].as_array().unwrap();
    assert_eq!(members.len(), 5);
    assert_eq!(f["family"]["parameter"], "k");
    run_ok(noise_profile("drum:k=4", "8").opt("--json", p("k4.json")));
    let k4 = read_json(&p("k4.json"));
    assert_eq!(members[2]["family_value"], 4);
    assert_eq!(members[2]["metrics"], k4["metrics"]);
    assert_eq!(members[2]["histograms"], k4["histograms"]);
    // Fewer kept bits, larger error.
    let mre: Vec<f64> = members
        .iter()
        .map(|m| m["metrics"]["mre_percent"].as_f64().unwrap())
        .collect();
    assert!(mre.windows(2).all(|w| w[0] > w[1]), "{mre:?}");
    let svg = std::fs::read_to_string(p("f.svg")).unwrap();
    assert!(
        svg.matches("<line").count() >= 4 * 4,
        "one segment per pair of members and metric"
    );
    assert!(svg.contains("MRE %") && svg.contains(">k<"));
    assert!(read_text(&p("f.toml")).contains("[[members]]"));
    run_err(
        noise_profile("drum:k=2..6", "8").opt("--lut-bin", p("x.bin")),
        "a family writes",
    );
}

/// The plot labels each histogram bar with the range it counts, colours the heatmap on a
/// log scale with a legend, and marks cells without a relative error instead of colouring
/// them as 0.
#[test]
fn plots_label_real_ranges_and_mark_undefined_cells() {
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("p.svg");
    run_ok(noise_profile("drum:k=3", "8").opt("--plot", &f));
    let svg = std::fs::read_to_string(&f).unwrap();
    let texts: Vec<&str> = svg
        .split("<text")
        .skip(1)
        .filter_map(|x| {
            x.split_once('>')
                .map(|(_, r)| r.split('<').next().unwrap_or(""))
        })
        .collect();
    // e = 1 is labelled 1, e in 2..3 is "2..3", never "2^1".
    for label in ["0", "1", "2..3", "4..7", "-3..-2"] {
        assert!(
            texts.contains(&label),
            "no bar label {label:?} in {texts:?}"
        );
    }
    assert!(
        !texts.iter().any(|t| *t == "2^1" || *t == "-2^1"),
        "{texts:?}"
    );
    // Every label is a range the bins hold (checked against the profile's own bins).
    assert!(texts.contains(&"log scale"));
    // Row 0 and column 0 (a zero operand): 17 crossed grey cells, titled undefined.
    let undefined = svg.matches("undefined (exact product 0)").count();
    assert_eq!(undefined, 17);
    assert_eq!(
        svg.matches("fill=\"rgb(216,216,216)\"><title>|a| bits")
            .count(),
        17
    );
    // Defined cells of very different MRE get different colours (a linear scale washed all
    // but the largest to white).
    let cell = |i: usize, j: usize| -> String {
        let key = format!("<title>|a| bits {i}, |b| bits {j}: MRE");
        let at = svg.find(&key).unwrap();
        let rect = &svg[svg[..at].rfind("<rect").unwrap()..at];
        rect.split("fill=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    assert_ne!(cell(4, 4), cell(8, 8));
    assert_ne!(cell(8, 8), "rgb(255,255,255)");
}

/// `--help` and the default sweep agree: exhaustive up to 2^24 pairs, for both commands. A
/// 10-bit netlist is swept on every pair by default (it was sampled), and its figures equal the
/// model's; a sampled characterize draws the same pairs as a sampled noise-profile.
#[test]
fn default_sweep_matches_help_and_samples_match_the_model() {
    for cmd in ["noise-profile", "characterize"] {
        let out = run_ok(tetris().args([cmd, "--help"]));
        // clap wraps long lines: compare with the whitespace collapsed.
        let help = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            help.contains("at most 2^24 pairs") && help.contains("--width 12"),
            "{help}"
        );
    }
    let t = tempfile::tempdir().unwrap();
    let p = |n: &str| t.path().join(n);
    run_ok(
        noise_profile("drum:k=4", "10")
            .opt("--emit-rtl", p("rtl"))
            .opt("--json", p("model.json")),
    );
    let files = std::fs::read_to_string(p("rtl/files.f")).unwrap();
    let all: String = files
        .lines()
        .map(|f| std::fs::read_to_string(p("rtl").join(f)).unwrap())
        .collect();
    std::fs::write(p("all.v"), all).unwrap();
    let characterize_all = |extra: &[&str], json: &str| {
        run_ok(
            characterize(&p("all.v"), "10")
                .args(extra)
                .opt("--work-dir", p("w"))
                .opt("--json", p(json)),
        );
        read_json(&p(json))
    };
    let rtl = characterize_all(&[], "rtl.json");
    let model = read_json(&p("model.json"));
    assert_eq!(rtl["method"]["exhaustive"], true);
    assert_eq!(rtl["metrics"]["pairs"], 1 << 20);
    assert_eq!(rtl["metrics"]["wce_is_lower_bound"], false);
    // The same products in the same block order: every figure identical, floats included.
    for k in ["metrics", "histograms", "by_magnitude", "noise_model"] {
        assert_eq!(rtl[k], model[k], "{k}");
    }
    let sampled = characterize_all(&["--samples", "150000", "--seed", "9"], "rtl_s.json");
    run_ok(
        noise_profile("drum:k=4", "10")
            .args(["--samples", "150000", "--seed", "9", "--json"])
            .arg(p("model_s.json")),
    );
    let model_s = read_json(&p("model_s.json"));
    for k in ["metrics", "histograms", "by_magnitude"] {
        assert_eq!(sampled[k], model_s[k], "{k}");
    }
    assert_eq!(sampled["metrics"]["wce_is_lower_bound"], true);
}
