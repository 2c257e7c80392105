//! `tetris gen` for a width set outside the built-in table (src/specialize.rs): the first run
//! (specialization crate written and built with cargo, then the command re-executed through
//! it), a cached run (cargo finds it fresh, re-exec), and a built-in config for reference.
//! Run: `cargo bench --bench specialize` (wall times on a shared machine; one run).
//!
//! The first run builds a key set of its own (12-bit weights, 6-bit activations, a ks in 17..=56
//! picked from the clock, so an earlier run has most likely not cached it; the table says).

use std::process::Command;
use std::time::Instant;
use tetris_hdl::config::Config;

fn gen(cfg: &Config, dir: &std::path::Path) -> (f64, String) {
    let path = dir.join(format!("{}.toml", cfg.top.name));
    std::fs::write(&path, toml::to_string(cfg).unwrap()).unwrap();
    let t0 = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_tetris"))
        .args(["gen", "--no-tool-checks", "--config"])
        .arg(&path)
        .arg("--out")
        .arg(dir.join(&cfg.top.name))
        .output()
        .unwrap();
    let s = t0.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    (s, err)
}

fn main() {
    let t = tempfile::tempdir().unwrap();
    let mut c = Config::default_config();
    c.array.rows = 2;
    c.array.cols = 2;
    c.pe.weight_bits = 12;
    c.pe.act_bits = 6;
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    c.pe.ks = 17 + (secs % 40) as u32;
    c.top.name = "spec_bench".into();
    c.validate().unwrap();
    let key = tetris_hdl::flow::select::WidthKey::of(&c);
    let spec = tetris_hdl::specialize::Spec::of(&tetris_hdl::specialize::for_key(key));
    let first_is_cold = !spec.exe.is_file();
    let (first, log) = gen(&c, t.path());
    let (cached, _) = gen(&c, t.path());
    let mut b = Config::default_config();
    b.array.rows = 2;
    b.array.cols = 2;
    b.pe.weight_bits = 8;
    b.pe.act_bits = 8;
    b.pe.ks = 8;
    b.top.name = "builtin_bench".into();
    let (builtin, _) = gen(&b, t.path());
    println!("| run | config | wall (s) |");
    println!("|---|---|---|");
    println!(
        "| first ({}) | {} 2x2 | {first:.1} |",
        if first_is_cold {
            "specialization built"
        } else {
            "already cached by an earlier run"
        },
        key.tag()
    );
    println!("| cached | {} 2x2 | {cached:.2} |", key.tag());
    println!("| built in | w8a8k8d13sm 2x2 | {builtin:.2} |");
    eprintln!("{log}");
}
