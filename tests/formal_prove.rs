//! `tetris prove`: the formal proof of the emitted SAC design passes at 4 bits (sm and csd),
//! and fails, naming what failed with a counterexample, on deliberately wrong designs.
//! Needs Yosys (scripts/install-tools.sh); a missing tool fails the test.

use std::path::{Path, PathBuf};
use tetris_hdl::config::Config;
use tetris_hdl::flow::formal::{prove, Edit, Mutation, ProveOptions, ProveReport};
use tetris_hdl::model::encoding::Encoding;
use tetris_hdl::netlist::BinOp;

mod common;
use common::cli::{read_json, run_fails, run_ok_stdout, tetris, CommandExt};

/// The committed 4-bit proof config, configs/prove_w4.toml.
fn prove_w4_toml() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/prove_w4.toml")
}

fn config(enc: Encoding) -> Config {
    let text = std::fs::read_to_string(prove_w4_toml()).unwrap();
    let mut c = Config::from_toml_str(&text, "configs/prove_w4.toml").unwrap();
    c.pe.encoding = enc;
    c
}

fn run(cfg: &Config, mutations: Vec<Mutation>) -> (ProveReport, tempfile::TempDir) {
    let t = tempfile::tempdir().unwrap();
    let opts = ProveOptions {
        mutations,
        ..Default::default()
    };
    let r = prove(cfg, &t.path().join("formal"), &opts).unwrap();
    (r, t)
}

/// The proof of the 4-bit sm design with `edit` made to `target` in `module` (the summary
/// printed).
fn prove_sm_mutated(module: &str, target: &str, edit: Edit) -> (ProveReport, tempfile::TempDir) {
    let mutation = Mutation {
        module: module.into(),
        target: target.into(),
        edit,
    };
    let (r, t) = run(&config(Encoding::Sm), vec![mutation]);
    eprintln!("{}", summary(&r));
    (r, t)
}

fn summary(r: &ProveReport) -> String {
    r.obligations
        .iter()
        .map(|o| {
            format!(
                "{} proved={} failed={:?} steps={:?}\n{}",
                o.harness, o.proved, o.failed_checks, o.failed_steps, o.counterexample
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn proof_fails_on_a_subtraction_turned_into_an_addition() {
    let sub_to_add = Edit::Op {
        from: BinOp::Sub,
        to: BinOp::Add,
    };
    let (r, _t) = prove_sm_mutated("tetris_w4_seg_lane", "seg_next", sub_to_add);
    assert!(r.obligations[0].proved, "the kneading unit is untouched");
    let pe = &r.obligations[1];
    assert!(!pe.proved);
    assert!(!r.proved());
    // The unproven signals name the segment accumulators ...
    assert!(
        pe.failed_checks.iter().any(|c| c.contains("seg_lane")),
        "{:?}",
        pe.failed_checks
    );
    // ... and the bounded search gives a counterexample where the result differs.
    assert!(
        pe.failed_checks.iter().any(|c| c == "ok_res"),
        "{:?}",
        pe.failed_checks
    );
    assert!(pe.counterexample.contains("kw_lane_neg"));
    assert!(pe.vcd.is_some());
}

#[test]
fn proof_fails_on_a_flipped_pointer_bit() {
    let edit = Edit::Value { from: 2, to: 3 };
    let (r, _t) = prove_sm_mutated("tetris_w4_knead_unit", "out_lane_ptr_1", edit);
    let k = &r.obligations[0];
    assert!(!k.proved);
    assert!(
        k.failed_checks.iter().any(|c| c == "ok_lane_digit_1"),
        "{:?}",
        k.failed_checks
    );
    assert!(k.counterexample.contains("\\w_2"), "{}", k.counterexample);
    assert!(r.obligations[1].proved, "the SAC PE is untouched");
}

#[test]
fn proof_passes_w4_ks4_csd() {
    let cfg = config(Encoding::Csd);
    let (r, _t) = run(&cfg, vec![]);
    assert!(r.proved(), "{}", summary(&r));
}

/// Mixed precision (issue 14): 4-bit weights with 8-bit activations, both obligations at the
/// config's own widths.
#[test]
fn proof_passes_w4_a8_mixed_precision() {
    let mut cfg = config(Encoding::Sm);
    cfg.pe.act_bits = 8;
    let (r, _t) = run(&cfg, vec![]);
    assert!(r.proved(), "{}", summary(&r));
    assert!(
        r.description.contains("weight_bits=4 act_bits=8"),
        "{}",
        r.description
    );
}

#[test]
fn cli_prove_refuses_a_mac_config_and_writes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let cfg_path = t.path().join("mac.toml");
    let text = std::fs::read_to_string(prove_w4_toml())
        .unwrap()
        .replace("kind = \"sac\"", "kind = \"mac\"");
    std::fs::write(&cfg_path, text).unwrap();
    let work = t.path().join("work");
    let json = t.path().join("r.json");
    let err = run_fails(
        tetris()
            .args(["prove", "--config"])
            .arg(&cfg_path)
            .opt("--work-dir", &work)
            .opt("--json", &json),
    );
    assert!(err.contains("mac.toml") && err.contains("pe.kind"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!work.exists() && !json.exists());
}

/// The 4-bit sm proof, through the CLI: passes, prints PROVED, writes the JSON report and
/// keeps the harnesses, scripts and logs in the work dir.
#[test]
fn cli_proof_passes_w4_ks4_sm() {
    let t = tempfile::tempdir().unwrap();
    let json = t.path().join("r.json");
    let stdout = run_ok_stdout(
        tetris()
            .args(["prove", "--config"])
            .arg(prove_w4_toml())
            .opt("--work-dir", t.path().join("work"))
            .opt("--json", &json),
    );
    assert!(stdout.contains("PROVED"), "{stdout}");
    let v = read_json(&json);
    let obs = v["obligations"].as_array().unwrap();
    assert_eq!(obs.len(), 2);
    assert!(obs.iter().all(|o| o["proved"] == true));
    assert_eq!(obs[1]["module"], "tetris_w4_sac_pe");
    assert!(obs[1]["steps"].is_null(), "the PE equivalence is unbounded");
    let dir = t.path().join("work");
    for f in [
        "formal_knead_unit.v",
        "formal_knead_unit.ys",
        "formal_knead_unit.log",
        "formal_ref_sac_pe.v",
        "formal_equiv_sac_pe.ys",
        "formal_equiv_sac_pe.log",
        "rtl/tetris_w4_sac_pe.v",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
}
