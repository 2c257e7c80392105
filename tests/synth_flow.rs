//! `tetris synth` and `tetris compare` on small designs (4-bit, KS=4): PE and 4x4 arrays on the
//! generic, iCE40 and Xilinx targets; hierarchical totals against Yosys' own flattened count;
//! constraints and the iCE40 wrapper; clean errors. Needs yosys, nextpnr-ice40 and verilator
//! (scripts/install-tools.sh); a missing tool fails the test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tetris_hdl::config::{Config, PeKind};
use tetris_hdl::flow::check::verilator_lint;
use tetris_hdl::flow::gen::{generate, ToolChecks};
use tetris_hdl::flow::synth::{synthesize, SynthInput, SynthOptions, SynthReport, Target};

mod common;
use common::cli::{read_json, run_fails, run_ok, run_ok_stdout, tetris, CommandExt};
use common::npy::write_npy_f32 as npy;

fn small(kind: PeKind, size: u32) -> Config {
    let mut c = Config::default_config();
    c.pe.kind = kind;
    c.pe.weight_bits = 4;
    c.pe.act_bits = 4;
    c.pe.ks = 4;
    c.array.rows = size;
    c.array.cols = size;
    c.top.name = format!(
        "{}4_{}",
        if kind == PeKind::Sac { "sac" } else { "mac" },
        if size > 1 { "a4" } else { "pe" }
    );
    c.top.clock_mhz = 40.0;
    c
}

fn emit(cfg: &Config, dir: &Path) -> SynthInput {
    let d = dir.join("design");
    let (built, _) = generate(cfg, &d, 10, ToolChecks::NONE).unwrap();
    SynthInput::from_filelist(&d.join("files.f"), &built.design.top).unwrap()
}

fn opts(target: Target, pnr: bool) -> SynthOptions {
    SynthOptions {
        target,
        device: None,
        clock_mhz: 40.0,
        place_and_route: pnr,
        pnr_time_limit: None,
        progress: false,
    }
}

/// Yosys' own total of the whole design (the `design` section `stat -top` appends), which the
/// hierarchical sum in Rust must reproduce.
fn yosys_design_total(stat_json: &Path, key: &str) -> u64 {
    let text = std::fs::read_to_string(stat_json).unwrap();
    let design = &text[text.rfind("\"design\"").expect("design section")..];
    let line = design.lines().find(|l| l.contains(key)).unwrap();
    line.split(':')
        .nth(1)
        .unwrap()
        .trim()
        .trim_matches(|c| c == '"' || c == ',')
        .parse()
        .unwrap()
}

/// Every module's own cells by type, read from Yosys' `stat -json` here (its text also holds a
/// hierarchy listing that is not JSON: only the JSON-looking lines are kept).
fn stat_modules(stat_json: &Path) -> BTreeMap<String, BTreeMap<String, u64>> {
    let text = std::fs::read_to_string(stat_json).unwrap();
    let json: String = text
        .lines()
        .filter(|l| {
            let t = l.trim_start();
            t.is_empty() || t.starts_with(['"', '{', '}', '[', ']'])
        })
        .collect::<Vec<_>>()
        .join("\n");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["modules"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, m)| {
            let cells = m["num_cells_by_type"]
                .as_object()
                .map(|c| {
                    c.iter()
                        .map(|(t, n)| (t.trim_start_matches('\\').to_string(), n.as_u64().unwrap()))
                        .collect()
                })
                .unwrap_or_default();
            (name.trim_start_matches('\\').to_string(), cells)
        })
        .collect()
}

/// The primitive cells of `module` with every submodule instance expanded (instances times
/// the submodule's own expansion), computed here from the raw stat.
fn expanded(stat: &BTreeMap<String, BTreeMap<String, u64>>, module: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (t, &n) in &stat[module] {
        if stat.contains_key(t) {
            for (ct, cn) in expanded(stat, t) {
                *out.entry(ct).or_default() += cn * n;
            }
        } else {
            *out.entry(t.clone()).or_default() += n;
        }
    }
    out
}

/// The report's figures of the top and of every module below it equal the expansion of
/// Yosys' per-module stat done here; flip-flops are the cells the target names as such.
fn check_common(r: &SynthReport, target: Target) {
    let stat = stat_modules(&r.work_dir.join("stat.json"));
    assert!(r.modules.contains_key(&r.top), "top {} missing", r.top);
    for (name, fig) in r.modules.iter().chain([(&r.top, &r.design)]) {
        let want = expanded(&stat, name);
        assert_eq!(fig.cells_by_type, want, "{name}: cells by type");
        assert_eq!(fig.cells, want.values().sum::<u64>(), "{name}: cells");
        let is_ff = |t: &str| match target {
            Target::Generic => t.starts_with("$_DFF") || t.starts_with("$_SDFF"),
            Target::Ice40 => t.starts_with("SB_DFF"),
            Target::Xilinx => t.starts_with("FD"),
        };
        let ffs: u64 = want.iter().filter(|(t, _)| is_ff(t)).map(|(_, n)| n).sum();
        assert_eq!(fig.ffs, ffs, "{name}: flip-flops");
    }
    assert!(r.design.cells > 0 && r.design.ffs > 0, "{:?}", r.design);
    for f in [
        &r.work_dir.join("synth.ys"),
        &r.work_dir.join("yosys.log"),
        &r.work_dir.join("report.json"),
    ] {
        assert!(f.is_file(), "{} missing", f.display());
    }
}

#[test]
fn synth_pe_and_4x4_arrays_on_all_targets() {
    let t = tempfile::tempdir().unwrap();
    for (kind, size) in [
        (PeKind::Sac, 1),
        (PeKind::Mac, 1),
        (PeKind::Sac, 4),
        (PeKind::Mac, 4),
    ] {
        let cfg = small(kind, size);
        let dir = t.path().join(&cfg.top.name);
        let input = emit(&cfg, &dir);

        let g = synthesize(&input, &opts(Target::Generic, false), &dir.join("generic")).unwrap();
        check_common(&g, Target::Generic);
        let stat = dir.join("generic/stat.json");
        assert_eq!(
            Some(yosys_design_total(&stat, "estimated_num_transistors")),
            g.design.transistors
        );
        assert_eq!(yosys_design_total(&stat, "\"num_cells\""), g.design.cells);
        assert_eq!(g.design.luts, None);

        let x = synthesize(&input, &opts(Target::Xilinx, false), &dir.join("xilinx")).unwrap();
        check_common(&x, Target::Xilinx);
        assert!(x.design.luts.unwrap() > 0);
        assert_eq!(x.design.transistors, None);
        assert_eq!(x.device, "xc7");

        // Place and route only the single PEs: a 4x4 array does not fit an HX8K.
        let i = synthesize(&input, &opts(Target::Ice40, size == 1), &dir.join("ice40")).unwrap();
        check_common(&i, Target::Ice40);
        assert!(i.design.luts.unwrap() > 0);
        if size == 1 {
            let f = i.design.fmax_mhz.expect("a 4-bit PE fits an HX8K");
            assert!(f > 5.0 && f < 500.0, "{f}");
            assert!(dir.join("ice40/nextpnr.log").is_file());
            let p = i.pnr.as_ref().unwrap();
            assert!(p.logic_cells_used.unwrap() >= i.design.luts.unwrap());
        } else {
            // The array repeats its PE 16 times; the PE module is synthesized once.
            let (pe, n) = i.design.instances.iter().max_by_key(|(_, n)| **n).unwrap();
            assert_eq!(*n, 16, "{:?}", i.design.instances);
            assert!(i.modules[pe].luts.unwrap() * 16 <= i.design.luts.unwrap());
        }
        eprintln!(
            "{}: generic {} cells {} transistors ({:.1} s); xilinx {} LUTs ({:.1} s); ice40 {} LUTs, Fmax {:?} ({:.1} s)",
            cfg.top.name,
            g.design.cells,
            g.design.transistors.unwrap(),
            g.yosys_seconds,
            x.design.luts.unwrap(),
            x.yosys_seconds,
            i.design.luts.unwrap(),
            i.design.fmax_mhz,
            i.yosys_seconds
        );
    }
}

/// Mixed precision (issue 14) through Yosys: 4-bit weights with 8-bit activations synthesize on
/// the generic target with consistent totals, and cost more than 4/4 (wider activation path).
#[test]
fn mixed_precision_designs_synthesize_and_grow_with_the_activations() {
    let t = tempfile::tempdir().unwrap();
    for (kind, size) in [(PeKind::Sac, 1), (PeKind::Mac, 2)] {
        let narrow = small(kind, size);
        let mut wide = narrow.clone();
        wide.pe.act_bits = 8;
        wide.top.name = format!("{}_a8", narrow.top.name);
        let cells = |cfg: &Config| {
            let dir = t.path().join(&cfg.top.name);
            let input = emit(cfg, &dir);
            let g =
                synthesize(&input, &opts(Target::Generic, false), &dir.join("generic")).unwrap();
            check_common(&g, Target::Generic);
            g.design.transistors.unwrap()
        };
        let (n, w) = (cells(&narrow), cells(&wide));
        assert!(
            w > n,
            "{}: 4w/8a {w} transistors vs 4w/4a {n}",
            wide.top.name
        );
    }
}

fn write_config(dir: &Path, cfg: &Config) -> PathBuf {
    let p = dir.join(format!("{}.toml", cfg.top.name));
    std::fs::write(&p, toml::to_string(cfg).unwrap()).unwrap();
    p
}

/// A place and route stopped at its time limit is a result, not a hang or an error: no Fmax,
/// a note that says why, the rest of the report as usual.
#[test]
fn a_place_and_route_stopped_at_the_time_limit_reports_no_fmax_and_says_why() {
    let t = tempfile::tempdir().unwrap();
    let input = emit(&small(PeKind::Mac, 1), t.path());
    let o = SynthOptions {
        // nextpnr needs longer than this just to load the chip database.
        pnr_time_limit: Some(std::time::Duration::from_millis(1)),
        ..opts(Target::Ice40, true)
    };
    let r = synthesize(&input, &o, &t.path().join("w")).unwrap();
    let pnr = r.pnr.as_ref().expect("place and route was run");
    assert_eq!(r.design.fmax_mhz, None);
    assert_eq!(pnr.fmax_mhz, None);
    assert!(
        pnr.note.contains("stopped at the time limit"),
        "{}",
        pnr.note
    );
    assert!(r.design.luts.unwrap() > 0);
    // Without the limit the same design is routed and timed.
    let r = synthesize(&input, &opts(Target::Ice40, true), &t.path().join("w2")).unwrap();
    assert!(r.design.fmax_mhz.unwrap() > 0.0);
}

#[test]
fn cli_synth_writes_the_json_report_with_the_issue_keys() {
    let t = tempfile::tempdir().unwrap();
    let cfg = small(PeKind::Mac, 1);
    let c = write_config(t.path(), &cfg);
    let json = t.path().join("r.json");
    let text = run_ok_stdout(
        tetris()
            .args(["synth", "--target", "ice40", "--config"])
            .arg(&c)
            .opt("--work-dir", t.path().join("w"))
            .opt("--json", &json),
    );
    assert!(text.contains("fmax") && text.contains("MHz"), "{text}");
    let v = read_json(&json);
    for key in [
        "cells",
        "luts",
        "ffs",
        "carries",
        "transistors",
        "fmax_mhz",
        "dsps",
        "brams",
    ] {
        assert!(v["design"].get(key).is_some(), "design.{key} missing");
        assert!(
            v["modules"]["mac4_pe"].get(key).is_some(),
            "modules.mac4_pe.{key}"
        );
    }
    assert!(v["design"]["fmax_mhz"].as_f64().unwrap() > 0.0);
    assert!(t.path().join("w/ice40/nextpnr.log").is_file());
    assert!(t.path().join("w/ice40/mac4_pe_ice40_wrapper.pcf").is_file());
    // The design was generated next to the reports, constraints included.
    assert!(t.path().join("w/design/constraints/mac4_pe.sdc").is_file());
}

#[test]
fn cli_synth_bad_inputs_are_clear_errors_without_output() {
    let t = tempfile::tempdir().unwrap();
    // `tetris synth --target target args` must fail without a panic; its stderr.
    let synth = |target: &str, args: &[&str]| {
        let e = run_fails(tetris().args(["synth", "--target", target]).args(args));
        assert!(!e.contains("panicked"), "{e}");
        e
    };
    let w = t.path().join("w");
    let ws = w.to_str().unwrap();
    let e = synth("ice40", &["--device", "xc7", "--work-dir", ws]);
    assert!(e.contains("--device xc7") && e.contains("hx8k"), "{e}");
    let e = synth("generic", &["--device", "hx8k", "--work-dir", ws]);
    assert!(e.contains("generic target has no device"), "{e}");
    assert!(!w.join("generic").exists() && !w.join("ice40").exists());

    let missing = t.path().join("nope.f");
    let e = synth(
        "generic",
        &["--filelist", missing.to_str().unwrap(), "--top", "x"],
    );
    assert!(e.contains("nope.f"), "{e}");

    // Verilog that does not elaborate: yosys' complaint names the file, nothing written.
    std::fs::write(t.path().join("bad.v"), "module bad(clock, y);\n input wire clock;\n output wire y;\n assign y = undefined_sig +;\nendmodule\n").unwrap();
    std::fs::write(t.path().join("files.f"), "bad.v\n").unwrap();
    let fl = t.path().join("files.f");
    let fls = fl.to_str().unwrap();
    let e = synth(
        "generic",
        &["--filelist", fls, "--top", "bad", "--work-dir", ws],
    );
    assert!(e.contains("yosys") && e.contains("bad.v"), "{e}");
    assert!(
        !w.join("generic").exists(),
        "half-written output left behind"
    );

    // A top the files do not define (in files Yosys reads: it is the Verilog front end).
    std::fs::write(
        t.path().join("good.v"),
        "module good(clock, y);\n input wire clock;\n output wire y;\n assign y = clock;\nendmodule\n",
    )
    .unwrap();
    std::fs::write(t.path().join("good.f"), "good.v\n").unwrap();
    let good = t.path().join("good.f");
    let e = synth(
        "generic",
        &[
            "--filelist",
            good.to_str().unwrap(),
            "--top",
            "other",
            "--work-dir",
            ws,
        ],
    );
    assert!(e.contains("top module other"), "{e}");
}

#[test]
fn ice40_wrapper_is_lint_clean_and_committed_constraints_are_fresh() {
    let t = tempfile::tempdir().unwrap();
    let cfg = small(PeKind::Sac, 1);
    let d = t.path().join("d");
    generate(&cfg, &d, 10, ToolChecks::NONE).unwrap();
    let mut files: Vec<String> = std::fs::read_to_string(d.join("files.f"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    files.push("constraints/sac4_pe_ice40_wrapper.v".into());
    assert!(!d.join("verilator_waivers.vlt").exists(), "no waiver file");
    verilator_lint(&d, "sac4_pe_ice40_wrapper", &files).unwrap();
    let sdc = std::fs::read_to_string(d.join("constraints/sac4_pe.sdc")).unwrap();
    assert!(
        sdc.contains("create_clock -name clock -period 25.000 [get_ports clock]"),
        "{sdc}"
    );
    let xdc = std::fs::read_to_string(d.join("constraints/sac4_pe.xdc")).unwrap();
    assert!(
        xdc.contains("create_clock -name clock -period 25.000"),
        "{xdc}"
    );
    let pcf = std::fs::read_to_string(d.join("constraints/sac4_pe_ice40_wrapper.pcf")).unwrap();
    assert!(pcf.contains("set_frequency clock 40"), "{pcf}");

    // constraints/ holds the default design's constraint files exactly as gen writes them;
    // the iCE40 wrapper is Verilog and has its one copy in hdl_out/ (pinned by rtl_emit).
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fresh = t.path().join("default");
    generate(&Config::default_config(), &fresh, 5, ToolChecks::NONE).unwrap();
    let mut compared = 0;
    for e in std::fs::read_dir(fresh.join("constraints")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap();
        if p.extension().is_some_and(|x| x == "v") {
            assert!(root
                .join("hdl_out/tetris_top/constraints")
                .join(name)
                .is_file());
            continue;
        }
        compared += 1;
        let committed = std::fs::read(root.join("constraints").join(name))
            .unwrap_or_else(|_| panic!("constraints/{name:?} missing: see constraints/README.md"));
        assert!(
            committed == std::fs::read(&p).unwrap(),
            "constraints/{name:?} is stale: see constraints/README.md"
        );
    }
    assert_eq!(compared, 3, "sdc, xdc and pcf");
}

/// `tetris compare` on 4-bit PEs: its speedup is the one `tetris sim` reports for the same
/// design and weights, and the files are written.
#[test]
fn cli_compare_uses_the_sim_speedup_and_writes_table_json_plot() {
    let t = tempfile::tempdir().unwrap();
    let w = t.path().join("conv.npy");
    // 6 filters of 3x3x3, a third of the weights zero, the rest spread over magnitudes.
    let data: Vec<f32> = (0..6 * 27)
        .map(|i| {
            if i % 3 == 0 {
                0.0
            } else {
                ((i * 37 % 17) as f32 - 8.0) / 8.0
            }
        })
        .collect();
    npy(&w, &[6, 3, 3, 3], &data);
    let out = t.path().join("cmp");
    run_ok(
        tetris()
            .args([
                "compare",
                "--bits",
                "4",
                "--sizes",
                "1",
                "--ks",
                "4",
                "--clock-mhz",
                "40",
                "--input-hw",
                "8,8",
                "--energy-tiles",
                "8",
                "--weights",
            ])
            .arg(&w)
            .opt("--out", &out),
    );
    for f in ["compare.md", "compare.json", "compare.svg"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let v = read_json(&out.join("compare.json"));
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let (sac, mac) = (&rows[0], &rows[1]);
    assert_eq!(sac["kind"], "sac");
    let speedup = mac["cycles"].as_f64().unwrap() / sac["cycles"].as_f64().unwrap();

    // The same design through `tetris sim`: a 1x1 array of the 4-bit KS=4 SAC PE.
    let cfg = small(PeKind::Sac, 1);
    let c = write_config(t.path(), &cfg);
    let sim_json = t.path().join("sim.json");
    run_ok(
        tetris()
            .args(["sim", "--input-hw", "8,8", "--weights"])
            .arg(&w)
            .opt("--config", &c)
            .opt("--json", &sim_json),
    );
    let s = read_json(&sim_json);
    let sim_speedup = s["total"]["speedup"].as_f64().unwrap();
    assert!(
        (speedup - sim_speedup).abs() < 1e-9,
        "compare {speedup} vs sim {sim_speedup}"
    );

    // The verdict follows the measured throughput per LUT, recomputed here from the rows'
    // raw figures (useful MACs / cycles x Fmax / iCE40 LUTs). A 4-bit PE fits the iCE40, so
    // both Fmax are measured: a missing one is a failure, not a skipped check.
    let per_lut = |r: &serde_json::Value| {
        let fmax = r["fmax_mhz"]
            .as_f64()
            .expect("Fmax measured (a 4-bit PE fits)");
        let macs = r["macs"].as_f64().unwrap();
        let cycles = r["cycles"].as_f64().unwrap();
        let luts = r["ice40"]["luts"].as_f64().unwrap();
        let want = macs / cycles * fmax / luts * 1000.0;
        let got = r["mmacs_per_s_per_klut"]
            .as_f64()
            .expect("throughput per LUT");
        assert!((got - want).abs() <= 1e-9 * want, "{got} vs {want}");
        want
    };
    let (a, b) = (per_lut(sac), per_lut(mac));
    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    let verdict = format!(
        "SAC {}: {:.2}x MAC's throughput per LUT",
        if a < b { "loses" } else { "wins" },
        a / b
    );
    assert!(md.contains(&verdict), "{verdict} missing from:\n{md}");
    assert!(sac["generic"]["transistors"].as_u64().unwrap() > 0);

    // Energy on osu018: each design's energy per MAC is the one `tetris power` measures for
    // the same design, layer, tiles and activations; throughput per mm^2 is recomputed from the
    // raw figures; each column's verdict follows its ratio.
    let f = |v: &serde_json::Value| v.as_f64().expect("a number");
    let mut asic = vec![];
    for r in [sac, mac] {
        let a = &r["asic"];
        assert!(a.is_object(), "energy measured by default: {r}");
        assert_eq!(a["tiles"], 8);
        let want = f(&r["macs"]) / f(&r["cycles"]) * f(&a["fmax_mhz"]) / (f(&a["area_um2"]) / 1e6);
        let got = f(&a["mmacs_per_s_per_mm2"]);
        assert!((got - want).abs() <= 1e-9 * want, "{got} vs {want}");
        let kind = if r["kind"] == "sac" {
            PeKind::Sac
        } else {
            PeKind::Mac
        };
        let mut cfg = small(kind, 1);
        cfg.top.name = r["top"].as_str().unwrap().to_string();
        let c = write_config(t.path(), &cfg);
        let pj = t.path().join(format!("{}.power.json", cfg.top.name));
        run_ok(
            tetris()
                .args(["power", "--input-hw", "8,8", "--tiles", "8", "--weights"])
                .arg(&w)
                .opt("--config", &c)
                .opt("--json", &pj)
                .opt(
                    "--work-dir",
                    t.path().join(format!("{}.power", cfg.top.name)),
                ),
        );
        let p = read_json(&pj);
        let (e, pe) = (
            f(&a["energy_pj_per_mac"]["total"]),
            f(&p["energy_pj_per_mac"]["total"]),
        );
        assert!(
            e > 0.0 && (e - pe).abs() <= 1e-9 * pe,
            "compare {e} vs power {pe}"
        );
        assert_eq!(f(&a["area_um2"]), f(&p["area_um2"]));
        asic.push((f(&a["area_um2"]), f(&a["fmax_mhz"]), got, e));
    }
    let judge = |x: f64, y: f64, lower_wins: bool| {
        let r = x / y;
        let sac = if lower_wins { r <= 1.0 } else { r >= 1.0 };
        format!("{r:.2}x, {}", if sac { "SAC wins" } else { "MAC wins" })
    };
    let (s, m) = (asic[0], asic[1]);
    let line = format!(
        "| 4 | PE | {} | {} | {} | {} |",
        judge(s.0, m.0, true),
        judge(s.1, m.1, false),
        judge(s.2, m.2, false),
        judge(s.3, m.3, true)
    );
    assert!(md.contains(&line), "{line} missing from:\n{md}");
}
