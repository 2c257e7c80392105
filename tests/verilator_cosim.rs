//! Verilator co-simulation: the emitted Verilog, compiled by Verilator, against the in-process
//! rust-hdl simulation (every output port, every cycle) and the golden model; the fast
//! Verilator engine on a whole small layer; a corrupted emitted file is caught.
//! Needs verilator (scripts/install-tools.sh); a missing tool fails the test.
//! Builds are cached by content hash under CARGO_TARGET_TMPDIR, so reruns skip them.

use std::path::PathBuf;
use tetris_hdl::array::cycle_model::{layer_cycles, layer_cycles_for_tiles, Engine, Timing};
use tetris_hdl::array::host::LayerData;
use tetris_hdl::array::mapper::{kneaded_lengths, map_layer};
use tetris_hdl::array::network::{run_rtl_with, PreparedLayer};
use tetris_hdl::config::{Config, PeKind};
use tetris_hdl::flow::array_gen::random_layer_data;
use tetris_hdl::flow::rtl_driver::run_layer_rtl;
use tetris_hdl::flow::select::SUPPORTED_BITS;
use tetris_hdl::flow::verilator_cosim::{cosim, run_stimulus, stimulus, CosimOptions, CosimReport};
use tetris_hdl::flow::verilator_driver::{build_array_sim, run_layer_verilator};
use tetris_hdl::hdl::sim::SplitMix64;
use tetris_hdl::model::conv::ConvParams;
use tetris_hdl::model::encoding::Encoding;

mod common;
use common::cli::{read_json, run_ok, tetris};
use common::configs::{single_pe_config, PE_DESIGNS};
use common::conv_oracle::{features, oracle};

fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("verilator-cache")
}

fn options(vectors: usize, work: &tempfile::TempDir) -> CosimOptions {
    CosimOptions {
        vectors,
        seed: 5,
        layer: None,
        cache: cache(),
        work: work.path().to_path_buf(),
        wave: None,
    }
}

/// Verilator co-simulation of `cfg` on `vectors` vectors: no mismatch against rust-hdl in any
/// port or cycle, none against the golden model, and `results` results checked (`what` names
/// the case in failures). The report.
fn cosim_matches(cfg: &Config, vectors: usize, results: usize, what: &str) -> CosimReport {
    let t = tempfile::tempdir().unwrap();
    let r = cosim(cfg, &options(vectors, &t)).unwrap();
    assert_eq!(r.mismatches, 0, "{what}: {:?}", r.first_mismatch);
    assert_eq!(r.golden_mismatches, 0, "{what}");
    assert_eq!(r.results_checked, results, "{what}");
    r
}

fn config(bits: u32, enc: Encoding, name: &str) -> Config {
    let mut c = single_pe_config(bits, enc);
    c.top.name = name.into();
    c
}

/// Every PE design at every supported width (SAC sm and csd, MAC) on the self-check stimulus,
/// whose first dot products are the extremes (max-magnitude weights x most negative
/// activations, results past 32 bits at 16-bit, the full `max_dot_len`, all-zero groups:
/// guarded in tests/extremes.rs): Verilator equals rust-hdl on every port in every cycle, and
/// rust-hdl equals the golden model.
#[test]
fn pe_designs_at_every_width_match_in_verilator() {
    for bits in SUPPORTED_BITS {
        for (kind, enc) in PE_DESIGNS {
            let mut cfg = config(bits, enc, &format!("vpe{bits}{enc}{kind:?}"));
            cfg.pe.kind = kind;
            let what = format!("{bits}-bit {kind:?} {enc}");
            let r = cosim_matches(&cfg, 30, 30, &what);
            // The full-length extreme alone streams max_dot_len pairs or kneaded beats.
            assert!(r.cycles > 4608, "{what}: {} cycles", r.cycles);
        }
    }
}

/// SAC and MAC arrays (2x2) at every supported width on the array stimulus with its planted
/// extremes (tests/extremes.rs): every port, every cycle, and the golden outputs.
#[test]
fn arrays_at_every_width_match_in_verilator() {
    for bits in SUPPORTED_BITS {
        for (kind, enc) in [(PeKind::Sac, Encoding::Csd), (PeKind::Mac, Encoding::Sm)] {
            let mut cfg = config(bits, enc, &format!("varr2w{bits}{kind:?}"));
            cfg.pe.kind = kind;
            (cfg.array.rows, cfg.array.cols) = (2, 2);
            // Two pixel tiles of the random layer (2 + 1 pixels) x 3 filters.
            cosim_matches(&cfg, 2, 9, &format!("{bits}-bit {kind:?} {enc}"));
        }
    }
}

/// The `n` x `n` array of `bits`-bit `enc` PEs (top `name`) through [`cosim_matches`] on two
/// vectors with `results` results, over more than 30 cycles.
fn square_array_matches(bits: u32, enc: Encoding, name: &str, n: u32, results: usize) {
    let mut cfg = config(bits, enc, name);
    (cfg.array.rows, cfg.array.cols) = (n, n);
    let r = cosim_matches(&cfg, 2, results, name);
    assert!(r.cycles > 30, "{} cycles", r.cycles);
}

#[test]
fn array_4x4_matches_in_verilator() {
    // Two pixel tiles of the random layer (4 + 1 pixels) x 5 filters.
    square_array_matches(16, Encoding::Sm, "varr4", 4, 25);
}

/// The generate-loop top at 8x8 (8-bit csd): every port, every cycle, against rust-hdl.
#[test]
fn array_8x8_matches_in_verilator() {
    // Two pixel tiles of the random layer (8 + 1 pixels) x 9 filters.
    square_array_matches(8, Encoding::Csd, "varr8", 8, 81);
}

/// The on-chip kneading top (a generate row of kneading units feeding the array grid), 3x3
/// 8-bit sm: every port, every cycle. The stream engine refuses it with a clear error.
#[test]
fn array_knead_on_chip_matches_in_verilator() {
    let mut cfg = config(8, Encoding::Sm, "varrk3");
    (cfg.array.rows, cfg.array.cols) = (3, 3);
    cfg.array.knead_on_chip = true;
    // Two pixel tiles of the random layer (3 + 1 pixels) x 4 filters.
    cosim_matches(&cfg, 2, 16, "3x3 on-chip kneading");
    let e = build_array_sim(&cfg, Engine::Sac, &cache()).unwrap_err();
    assert!(e.to_string().contains("knead_on_chip"), "{e}");
}

/// An operator flipped in one emitted module (the segment accumulator adds -> subtracts) must
/// show up as a mismatch with its first cycle, port and values, and a waveform.
#[test]
fn corrupted_verilog_is_caught() {
    let cfg = config(8, Encoding::Csd, "vpe8csd");
    let t = tempfile::tempdir().unwrap();
    let o = options(60, &t);
    let mut s = stimulus(&cfg, &o).unwrap();
    let m = s
        .design
        .modules
        .iter_mut()
        .find(|m| m.name.ends_with("_seg_lane"))
        .expect("a segment lane module");
    assert!(m.text.contains("seg_q + act_ext"), "{}", m.text);
    m.text = m.text.replace("seg_q + act_ext", "seg_q - act_ext");
    let r = run_stimulus(&s, &o).unwrap();
    assert!(r.mismatches > 0);
    let first = r.first_mismatch.expect("first mismatch reported");
    assert_ne!(first.expected, first.actual);
    assert!(!first.port.is_empty());
    let wave = PathBuf::from(r.waveform.expect("waveform written on mismatch"));
    let vcd = std::fs::read_to_string(&wave).unwrap();
    assert!(
        vcd.contains("$enddefinitions"),
        "not a VCD: {}",
        wave.display()
    );
}

/// The fast engine on a whole small layer (every pixel tile, SAC and MAC arrays) with a
/// per-axis stride and dilation, asymmetric pads and two groups: outputs == the ONNX Conv
/// oracle, cycles == cycle model == in-process RTL counter on the same tiles.
#[test]
fn verilator_engine_runs_a_whole_layer() {
    // 2x3 keeps the two Verilator builds (SAC, MAC) short; 4x4 is co-simulated above.
    let mut cfg = config(8, Encoding::Sm, "veng");
    cfg.array.rows = 2;
    cfg.array.cols = 3;
    let p = ConvParams {
        stride: (1, 2),
        pad: (2, 1, 0, 2),
        dilation: (2, 1),
        groups: 2,
        ..ConvParams::plain(10, 6, (7, 6), (3, 2))
    };
    assert_eq!(features(&p), [true, true, true, true, false]);
    let (w, x) = random_layer_data(&cfg, &p, &mut SplitMix64(77));
    let lens = kneaded_lengths(&w, p.dot_len(), 8, Encoding::Sm, 16);
    let map = map_layer(&p, 2, 3, 16, &lens).unwrap();
    let golden = oracle(&p, &x, &w);
    let pl = PreparedLayer {
        name: "random".into(),
        op: tetris_hdl::weights::OpKind::Conv,
        repeat: 1,
        qweights: w.clone(),
        lens: lens.clone(),
        map: map.clone(),
    };
    let t = tempfile::tempdir().unwrap();
    let timing = Timing::default();
    let mut runs = Vec::new();
    let res = run_rtl_with(&pl, &x, usize::MAX, timing, true, |engine, tiles| {
        let sim = build_array_sim(&cfg, engine, &cache())?;
        let (run, _) = run_layer_verilator(
            &sim,
            &cfg,
            LayerData::new(&map, &x, &w, &lens),
            engine,
            tiles,
            t.path(),
            1,
        )?;
        for &(i, v) in &run.outputs {
            assert_eq!(golden[i], v, "{engine:?} output {i}");
        }
        runs.push((engine, run.cycles, tiles.to_vec()));
        Ok(run)
    })
    .unwrap();
    assert!(res.outputs_match && res.model_agrees);
    assert_eq!(res.checked_outputs, 2 * golden.len());
    for (engine, cycles, tiles) in runs {
        assert_eq!(tiles.len(), map.pixel_tiles());
        assert_eq!(
            cycles,
            layer_cycles(&map, &lens, engine, timing),
            "{engine:?}"
        );
        // The in-process RTL on the first two tiles agrees with Verilator on the same tiles.
        let mut c = cfg.clone();
        c.pe.kind = if engine == Engine::Mac {
            PeKind::Mac
        } else {
            PeKind::Sac
        };
        let mut inproc = run_layer_rtl(
            &c,
            LayerData::new(&map, &x, &w, &lens),
            engine,
            &[0, 1],
            false,
        )
        .unwrap();
        let sim = build_array_sim(&cfg, engine, &cache()).unwrap();
        assert!(sim.cached);
        let (mut vrun, _) = run_layer_verilator(
            &sim,
            &cfg,
            LayerData::new(&map, &x, &w, &lens),
            engine,
            &[0, 1],
            t.path(),
            1,
        )
        .unwrap();
        assert_eq!(vrun.cycles, inproc.cycles, "{engine:?}");
        // Same outputs; the two drivers collect columns in a different order within a cycle.
        vrun.outputs.sort_unstable();
        inproc.outputs.sort_unstable();
        assert_eq!(vrun.outputs, inproc.outputs, "{engine:?}");

        // Split over two parallel harness processes: every output again, and each chunk's
        // cycle counter equals the model's count for its number of tiles.
        let all: Vec<usize> = (0..map.pixel_tiles()).collect();
        let (mut split, _) = run_layer_verilator(
            &sim,
            &cfg,
            LayerData::new(&map, &x, &w, &lens),
            engine,
            &all,
            t.path(),
            2,
        )
        .unwrap();
        assert_eq!(split.chunks.len(), 2, "{engine:?}");
        assert_eq!(split.chunks.iter().map(|c| c.0).sum::<usize>(), all.len());
        for &(n, cycles) in &split.chunks {
            assert_eq!(
                cycles,
                layer_cycles_for_tiles(&map, &lens, engine, timing, n),
                "{engine:?} chunk of {n} tiles"
            );
        }
        split.outputs.sort_unstable();
        let mut want: Vec<(usize, i128)> = golden.iter().copied().enumerate().collect();
        want.sort_unstable();
        assert_eq!(split.outputs, want, "{engine:?}");
    }
}

/// `tetris sim --engine verilator` with a relative `--cache-dir` (Verilator runs inside the
/// build folder, where a relative path names nothing), outputs checked by the command.
#[test]
fn sim_engine_verilator_with_a_relative_cache_dir() {
    let t = tempfile::tempdir().unwrap();
    let w: Vec<f32> = (0..3 * 2 * 3 * 3)
        .map(|i| ((i * 7 % 11) as f32 - 5.0) / 5.0)
        .collect();
    common::npy::write_npy_f32(&t.path().join("w.npy"), &[3, 2, 3, 3], &w);
    std::fs::write(
        t.path().join("c.toml"),
        "[array]\nrows = 2\ncols = 2\n[pe]\nkind = \"sac\"\nweight_bits = 8\nact_bits = 8\nks = 8\nencoding = \"sm\"\n[top]\nname = \"rel\"\n",
    )
    .unwrap();
    run_ok(tetris().current_dir(t.path()).args([
        "sim",
        "--engine",
        "verilator",
        "--weights",
        "w.npy",
        "--config",
        "c.toml",
        "--input-hw",
        "4,4",
        "--no-mac-rtl",
        "--cache-dir",
        "cache",
        "--json",
        "r.json",
    ]));
    let v = read_json(&t.path().join("r.json"));
    assert_eq!(v["layers"][0]["outputs_match"], true);
    assert!(t.path().join("cache/verilator").is_dir());
}
