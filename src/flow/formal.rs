//! Formal equivalence of the emitted SAC design (`tetris prove`), with Yosys `sat`.
//!
//! A monolithic proof (kneading unit feeding the SAC PE, checked against sum w_i a_i) is far too
//! slow even at 4 bits, so the proof is compositional (the argument is in `docs/formal.md`):
//! 1. `formal_knead_unit`: for every weight group the emitted `<top>_knead_unit` accepts, its
//!    lanes rebuild every weight exactly (weight i = sum over the group's beats and lanes b with
//!    pointer i of +-2^b), the group ends after exactly max_b popcount_b beats (one null beat for
//!    an all-zero last group), `group_end`/`last`/`in_skip` and the handshakes are as documented.
//! 2. `formal_sac_pe`: the emitted `<top>_sac_pe` equals a behavioural reference (segment
//!    accumulators `S_b += +-a[ptr]` of the current activation group, result sum_b S_b << b) for
//!    every input stream, cycle by cycle on every output.
//!
//! Both harnesses are Verilog generated here from the config (the design modules they
//! instantiate are the ones `tetris gen` emits), proved by bounded model checking from the
//! power-up state with free inputs in every cycle: `sat -seq N -prove-asserts -set-init-zero`.
//! Every check is an `ok_*` wire; a counterexample names the ones that were false and the
//! inputs of every step, and is dumped as a VCD. The verdict is Yosys's exit status under
//! `sat -verify`, the false checks and their steps come from the counterexample it dumps as
//! WaveJSON (`-dump_json`); the printed table and the problem size only exist in its log.

use super::gen::{build, Built};
use super::tools::{run_with_timeout, Tool, ToolRun};
use super::verilog::Design;
use crate::config::{Config, PeKind};
use crate::fsutil::write_dir_atomic;
use crate::model::encoding::Encoding;
use crate::netlist::{BinOp, Expr, Stmt};
use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Widths the harnesses are written for (from `Config::widths`).
#[derive(Debug, Clone, Copy)]
struct Geom {
    /// Weight bits (sign-magnitude).
    w: u32,
    /// Activation bits (two's complement).
    a: u32,
    /// Lanes of a kneaded weight.
    l: u32,
    ks: u32,
    /// Pointer bits.
    p: u32,
    /// Result bits.
    res: u32,
    csd: bool,
}

impl Geom {
    fn of(cfg: &Config) -> Geom {
        let w = cfg.widths();
        Geom {
            w: cfg.pe.weight_bits,
            a: cfg.pe.act_bits,
            l: w.lanes,
            ks: cfg.pe.ks,
            p: w.ptr_bits,
            res: w.result_bits,
            csd: cfg.pe.encoding == Encoding::Csd,
        }
    }
}

/// A deliberate change to one module's netlist before the proof (for the mutation tests: the
/// proof must fail on a wrong design).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mutation {
    /// Module name, e.g. `tetris_top_seg_lane`.
    pub module: String,
    /// The signal whose assignments are edited (the first node that matches is changed).
    pub target: String,
    pub edit: Edit,
}

/// What a [`Mutation`] changes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub enum Edit {
    /// An operator (`-` becomes `+`).
    Op { from: BinOp, to: BinOp },
    /// A constant value (a pointer 2 becomes 3).
    Value { from: u64, to: u64 },
}

/// Options of a proof run.
#[derive(Debug, Clone, Default)]
pub struct ProveOptions {
    /// Time steps of the kneading-unit proof (default [`default_knead_steps`]).
    pub knead_steps: Option<u32>,
    /// Time steps of the SAC PE proof (default [`default_pe_steps`]).
    pub pe_steps: Option<u32>,
    pub mutations: Vec<Mutation>,
    /// Stop a Yosys run after this long (default [`DEFAULT_TIMEOUT`]).
    pub timeout: Option<Duration>,
    /// Run even when [`knead_proof_cost`] says the kneading-unit proof will not finish.
    pub allow_expensive: bool,
}

/// Time limit of one Yosys run of `tetris prove` unless `--timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Largest estimated SAT problem of the kneading-unit proof `tetris prove` starts without being
/// asked (`--knead-steps` or `--timeout`): 4-bit KS=4 is ~45 k variables (20 s), 4-bit csd
/// ~73 k (40 s), an 8-bit KS=8 run of only 6 steps ~149 k (90 s; docs/formal.md).
pub const MAX_DEFAULT_KNEAD_VARS: u64 = 200_000;

/// Estimated SAT variables of the kneading-unit BMC over `steps` cycles, fitted to measured
/// runs (docs/formal.md): steps x lanes x KS x (300 + 20 weight_bits).
pub fn knead_proof_cost(cfg: &Config, steps: u32) -> u64 {
    let w = cfg.widths();
    steps as u64 * w.lanes as u64 * cfg.pe.ks as u64 * (300 + 20 * cfg.pe.weight_bits as u64)
}

/// Default bound of the kneading-unit proof: a group with the most beats (KS), back to back
/// with a second one accepted at its final beat, and the power-up cycle: 2 KS + 2 steps.
pub fn default_knead_steps(cfg: &Config) -> u32 {
    2 * cfg.pe.ks + 2
}

/// Default bound of the SAC PE proof: an activation group loaded, a group of KS beats, a group
/// switch, a second group, the result cycle: 2 KS + 3 steps.
pub fn default_pe_steps(cfg: &Config) -> u32 {
    2 * cfg.pe.ks + 3
}

/// Outcome of one harness.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Obligation {
    /// Harness module, e.g. `formal_knead_unit`.
    pub harness: String,
    /// Design module it checks.
    pub module: String,
    /// What is claimed, in words.
    pub claim: String,
    /// How it is proved: a bounded model check over `steps` cycles from power-up, or an
    /// unbounded equivalence by induction (`steps` = None).
    pub method: String,
    pub steps: Option<u32>,
    pub proved: bool,
    pub seconds: f64,
    /// SAT problem size as Yosys reports it (variables, clauses), when found in the log.
    pub variables: Option<u64>,
    pub clauses: Option<u64>,
    /// Checks (`ok_*` wires) false in some step of the counterexample.
    pub failed_checks: Vec<String>,
    /// Steps at which a check was false.
    pub failed_steps: Vec<u32>,
    /// The counterexample table printed by Yosys (inputs and checks per step), empty if proved.
    pub counterexample: String,
    /// Files in the work dir: the Yosys script, its log, the counterexample VCD.
    pub script: String,
    pub log: String,
    pub vcd: Option<String>,
}

/// Everything `tetris prove` found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProveReport {
    pub top: String,
    pub description: String,
    pub work_dir: PathBuf,
    pub obligations: Vec<Obligation>,
    pub mutations: Vec<Mutation>,
    pub yosys: String,
    pub seconds: f64,
}

impl ProveReport {
    pub fn proved(&self) -> bool {
        self.obligations.iter().all(|o| o.proved)
    }
}

/// Build the PE-level SAC design exactly as `tetris gen` emits it (kneading unit + SAC PE).
pub fn emit_sac_design(cfg: &Config) -> Result<Built> {
    if cfg.pe.kind != PeKind::Sac {
        bail!(
            "field pe.kind = \"mac\": tetris prove covers the SAC design (kneading unit + SAC PE); \
             set pe.kind = \"sac\""
        );
    }
    let mut pe_cfg = cfg.clone();
    pe_cfg.array.rows = 1;
    pe_cfg.array.cols = 1;
    // No in-process self-check here: the proof is the check.
    build(&pe_cfg, 0)
}

fn apply_mutations(design: &mut Design, mutations: &[Mutation]) -> Result<()> {
    if mutations.is_empty() {
        return Ok(());
    }
    let names = design_module_names(design);
    let mut nl = design.netlist.clone();
    for mu in mutations {
        let module = nl.module_mut(&mu.module).with_context(|| {
            format!(
                "mutation: the design has no module {:?} (modules: {})",
                mu.module, names
            )
        })?;
        let mut done = false;
        for p in module
            .comb
            .iter_mut()
            .filter(|p| p.targets.contains(&mu.target))
        {
            for s in &mut p.body {
                done = done || edit_stmt(s, &mu.target, mu.edit);
            }
        }
        if !done {
            bail!(
                "mutation: no {:?} in the assignments of {} in module {}",
                mu.edit,
                mu.target,
                mu.module
            );
        }
    }
    *design = Design::from_netlist(nl)?;
    Ok(())
}

/// Apply `edit` to the first matching node in the assignments of `target`; whether it did.
fn edit_stmt(s: &mut Stmt, target: &str, edit: Edit) -> bool {
    match s {
        Stmt::Assign(lv, e) => lv.net() == target && edit_expr(e, edit),
        Stmt::If(_, a, b) => a
            .iter_mut()
            .chain(b.iter_mut())
            .any(|s| edit_stmt(s, target, edit)),
        Stmt::Case(_, arms, d) => arms
            .iter_mut()
            .flat_map(|(_, b)| b.iter_mut())
            .chain(d.iter_mut())
            .any(|s| edit_stmt(s, target, edit)),
    }
}

fn edit_expr(e: &mut Expr, edit: Edit) -> bool {
    match (e, edit) {
        (Expr::Binary(op, _, _), Edit::Op { from, to }) if *op == from => {
            *op = to;
            true
        }
        (Expr::Int(v), Edit::Value { from, to }) if *v == from as i64 => {
            *v = to as i64;
            true
        }
        (Expr::Lit(_, v), Edit::Value { from, to }) if *v == from.into() => {
            *v = to.into();
            true
        }
        (Expr::Unary(_, a) | Expr::Resize(a, _), edit) => edit_expr(a, edit),
        (Expr::Binary(_, a, b) | Expr::Bit(a, b) | Expr::Slice(a, _, b), edit) => {
            edit_expr(a, edit) || edit_expr(b, edit)
        }
        (Expr::ReplaceBit(a, b, c) | Expr::Mux(a, b, c), edit) => {
            edit_expr(a, edit) || edit_expr(b, edit) || edit_expr(c, edit)
        }
        (Expr::Concat(v), edit) => v.iter_mut().any(|x| edit_expr(x, edit)),
        _ => false,
    }
}

fn design_module_names(d: &Design) -> String {
    d.modules
        .iter()
        .map(|m| m.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Prove the configured SAC design; writes RTL, harnesses, scripts, logs and counterexample
/// VCDs into `work_dir` (replaced atomically). A failed proof is a report with `proved ==
/// false`, not an error; errors are for what prevents a verdict (missing Yosys, a design or
/// harness that does not elaborate, a mutation that does not apply).
pub fn prove(cfg: &Config, work_dir: &Path, opts: &ProveOptions) -> Result<ProveReport> {
    let t0 = Instant::now();
    let built = emit_sac_design(cfg)?;
    let mut design = built.design;
    apply_mutations(&mut design, &opts.mutations)?;
    let top = design.top.clone();
    let g = Geom::of(cfg);
    for suffix in ["knead_unit", "sac_pe"] {
        let name = format!("{top}_{suffix}");
        if !design.modules.iter().any(|m| m.name == name) {
            bail!(
                "the emitted design has no module {name} (modules: {})",
                design_module_names(&design)
            );
        }
    }
    let yosys = Tool::Yosys.version()?;
    let knead_steps = opts.knead_steps.unwrap_or_else(|| default_knead_steps(cfg));
    let pe_steps = opts.pe_steps.unwrap_or_else(|| default_pe_steps(cfg));
    for (what, n) in [("--knead-steps", knead_steps), ("--pe-steps", pe_steps)] {
        if !(1..=200).contains(&n) {
            bail!("{what} = {n}: allowed range is 1..=200");
        }
    }
    let cost = knead_proof_cost(cfg, knead_steps);
    if cost > MAX_DEFAULT_KNEAD_VARS && !opts.allow_expensive {
        bail!(
            "the kneading-unit proof of this design ({} bits, ks {}, {} steps) is a SAT problem of ~{:.1} M variables and will not finish in reasonable time (the built-in 16-bit KS=16 default ran 17 min at 4 GB without an answer); \
             configs that prove in under a minute: weight_bits = act_bits = 4, ks = 4, sm or csd (configs/prove_w4.toml, ~45 k variables). \
             Pass --knead-steps N for a partial bounded check, or --timeout SECS to try anyway",
            cfg.pe.weight_bits,
            cfg.pe.ks,
            knead_steps,
            cost as f64 / 1e6
        );
    }
    let limit = opts.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let mut obligations = vec![];
    write_dir_atomic(work_dir, |tmp| {
        let rtl = design.write_files(tmp, "rtl")?;
        // 1. The kneading unit: bounded model check of the digit-accounting harness.
        std::fs::write(tmp.join("formal_knead_unit.v"), knead_harness(&top, &g))?;
        let mut o = run_sat(tmp, "formal_knead_unit", &rtl, knead_steps, limit)?;
        o.module = format!("{top}_knead_unit");
        o.claim = knead_claim(&g);
        obligations.push(o);
        // 2. The SAC PE: unbounded equivalence with the reference (register correspondence,
        // induction); when it fails, a bounded search with the result-level harness gives a
        // counterexample with values.
        std::fs::write(
            tmp.join("formal_ref_sac_pe.v"),
            sac_pe_reference(&top, &g, &cfg.widths()),
        )?;
        std::fs::write(tmp.join("formal_sac_pe.v"), sac_pe_harness(&top, &g))?;
        let mut o = run_equiv(tmp, &top, &rtl, limit)?;
        if !o.proved {
            let bmc = run_sat(tmp, "formal_sac_pe", &rtl, pe_steps, limit)?;
            o.counterexample = bmc.counterexample;
            o.vcd = bmc.vcd;
            o.failed_steps = bmc.failed_steps;
            o.failed_checks.extend(bmc.failed_checks);
            o.seconds += bmc.seconds;
        }
        o.claim = sac_pe_claim(&g);
        obligations.push(o);
        Ok(())
    })?;
    Ok(ProveReport {
        top,
        description: built.description,
        work_dir: work_dir.to_path_buf(),
        obligations,
        mutations: opts.mutations.clone(),
        yosys,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// The `ok_*` check wires of a harness, in order of appearance.
/// The block asserting every check (`ok_*` wire) declared in `harness_text`.
fn assert_checks(harness_text: &str) -> String {
    let mut s = "    always @* begin\n".to_string();
    for c in check_names(harness_text) {
        let _ = writeln!(s, "        assert({c});");
    }
    s + "    end\n\n"
}

fn check_names(harness_text: &str) -> Vec<String> {
    harness_text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("wire ok_"))
        .filter_map(|rest| rest.split([' ', '=']).next())
        .map(|n| format!("ok_{n}"))
        .collect()
}

fn run_sat(
    dir: &Path,
    harness: &str,
    rtl: &[String],
    steps: u32,
    limit: Duration,
) -> Result<Obligation> {
    let harness_file = format!("{harness}.v");
    let text = std::fs::read_to_string(dir.join(&harness_file))?;
    let checks = check_names(&text);
    let vcd = format!("{harness}_cex.vcd");
    let cex_json = format!("{harness}_cex.json");
    let shows: String = checks.iter().map(|c| format!(" -show {c}")).collect();
    let script = format!(
        "# Proof of {harness}: generated by tetris-hdl; run with `yosys -s {harness}.ys`.\n\
         read_verilog {rtl}\n\
         read_verilog -formal {harness_file}\n\
         prep -flatten -top {harness}\n\
         sat -seq {steps} -prove-asserts -set-init-zero -show-inputs{shows} -verify -dump_vcd {vcd} -dump_json {cex_json} {harness}\n",
        rtl = rtl.join(" "),
    );
    let y = run_yosys_script(dir, harness, &script, limit)?;
    let log = y.log.as_str();
    // The verdict without reading the log: with -verify, Yosys exits 0 only when the proof
    // holds; a model (counterexample) is dumped to the WaveJSON file before the failing exit,
    // and its false checks are read from there. Any other end (an error, the time limit) has
    // no counterexample file and is no verdict.
    let proved = y.run.ok;
    let cex = if proved {
        None
    } else {
        let path = dir.join(&cex_json);
        path.is_file()
            .then(|| crate::fsutil::read_json::<WaveJson>(&path))
            .transpose()?
    };
    let (failed_checks, failed_steps) = cex
        .as_ref()
        .map(|w| false_checks(w, &checks))
        .unwrap_or_default();
    if !proved && failed_checks.is_empty() {
        return Err(y.no_verdict(dir, &format!("verdict for {harness}")));
    }
    // The table of inputs and checks per step is printed by Yosys only (the WaveJSON and VCD
    // hold the same values, but not in this readable form): taken from the log.
    let counterexample = if proved {
        String::new()
    } else {
        model_table(log)
    };
    let vcd = (!proved && dir.join(&vcd).exists()).then_some(vcd);
    Ok(Obligation {
        harness: harness.to_string(),
        module: String::new(),
        claim: String::new(),
        method: format!(
            "bounded model check from power-up, free inputs every cycle: sat -seq {steps} -prove-asserts -set-init-zero"
        ),
        steps: Some(steps),
        proved,
        seconds: y.seconds,
        // The SAT problem's size is reported in the log only.
        variables: sat_size(log, "variables"),
        clauses: sat_size(log, "clauses"),
        failed_checks,
        failed_steps,
        counterexample,
        script: y.script_file,
        log: y.log_file,
        vcd,
    })
}

/// One Yosys script run of a proof: the script, its log and how long it took.
struct YosysRun {
    script_file: String,
    log_file: String,
    run: ToolRun,
    seconds: f64,
    log: String,
}

impl YosysRun {
    /// The error of a run that ended without a verdict (an error, the time limit): the script,
    /// the log and the log's last lines.
    fn no_verdict(&self, dir: &Path, what: &str) -> anyhow::Error {
        anyhow!(
            "yosys gave no {what} (script {}, log {}):\n{}{}",
            dir.join(&self.script_file).display(),
            self.log_file,
            self.run.log(),
            tail(&self.log, 40)
        )
    }
}

/// Write `script` to `<name>.ys` in `dir` and run it with Yosys, logging to `<name>.log`,
/// within `limit`.
fn run_yosys_script(dir: &Path, name: &str, script: &str, limit: Duration) -> Result<YosysRun> {
    let script_file = format!("{name}.ys");
    let log_file = format!("{name}.log");
    std::fs::write(dir.join(&script_file), script)?;
    let t = Instant::now();
    let run = run_with_timeout(
        Tool::Yosys,
        &["-q", "-l", &log_file, "-s", &script_file],
        dir,
        limit,
    )?;
    let seconds = t.elapsed().as_secs_f64();
    let log = std::fs::read_to_string(dir.join(&log_file)).unwrap_or_default();
    Ok(YosysRun {
        script_file,
        log_file,
        run,
        seconds,
        log,
    })
}

/// `equiv_make` the reference (gold) against the emitted SAC PE (gate), matching ports and the
/// registers by name, then `equiv_simple` and `equiv_induct`: every matched signal is proved
/// equal in every reachable cycle, unbounded.
fn run_equiv(dir: &Path, top: &str, rtl: &[String], limit: Duration) -> Result<Obligation> {
    let name = "formal_equiv_sac_pe";
    let script = format!(
        "# Equivalence of {top}_sac_pe with formal_ref_sac_pe: generated by tetris-hdl; run with `yosys -s {name}.ys`.\n\
         read_verilog {rtl}\n\
         read_verilog formal_ref_sac_pe.v\n\
         hierarchy -check\n\
         proc\n\
         flatten\n\
         opt_clean\n\
         equiv_make formal_ref_sac_pe {top}_sac_pe {name}\n\
         hierarchy -top {name}\n\
         equiv_simple -seq 2\n\
         equiv_induct -seq 2\n\
         equiv_status\n",
        rtl = rtl.join(" "),
    );
    let y = run_yosys_script(dir, name, &script, limit)?;
    let log = y.log.as_str();
    // `equiv_status` reports only in the log: its `-assert` would turn the verdict into an
    // exit status, which cannot tell unproven cells from a failed run, and the counts and the
    // unproven signals are printed nowhere else.
    // "Found 117 $equiv cells in formal_equiv_sac_pe:" / "Of those cells 117 are proven and 0 are unproven."
    let counts = log.lines().rev().find_map(|l| {
        let w: Vec<&str> = l.split_whitespace().collect();
        (l.trim_start().starts_with("Of those cells") && w.len() >= 9)
            .then(|| Some((w[3].parse::<u64>().ok()?, w[7].parse::<u64>().ok()?)))
            .flatten()
    });
    let all_proven = log.contains("Equivalence successfully proven!");
    let Some((proven, unproven)) = counts.or(all_proven.then_some((0, 0))) else {
        return Err(y.no_verdict(dir, &format!("equivalence verdict for {top}_sac_pe")));
    };
    // "  Unproven $equiv $auto$equiv_make.cc:..: \sig_gold \sig_gate"
    // One line per unproven bit: keep each signal once, without equiv_make's `_gold` suffix.
    let mut failed_checks: Vec<String> = vec![];
    for l in log
        .lines()
        .filter(|l| l.trim_start().starts_with("Unproven $equiv"))
    {
        if let Some(n) = l.split_whitespace().nth(3) {
            let n = n
                .trim_start_matches('\\')
                .trim_end_matches("_gold")
                .to_string();
            if !failed_checks.contains(&n) {
                failed_checks.push(n);
            }
        }
    }
    Ok(Obligation {
        harness: name.to_string(),
        module: format!("{top}_sac_pe"),
        claim: String::new(),
        method: format!(
            "unbounded equivalence: equiv_make (ports and registers matched by name), equiv_simple, equiv_induct; {proven} of {} signals proven",
            proven + unproven
        ),
        steps: None,
        proved: unproven == 0 && (all_proven || proven > 0),
        seconds: y.seconds,
        variables: None,
        clauses: None,
        failed_checks,
        failed_steps: vec![],
        counterexample: String::new(),
        script: y.script_file,
        log: y.log_file,
        vcd: None,
    })
}

fn tail(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// "Solving problem with 12345 variables and 67890 clauses.."
fn sat_size(log: &str, what: &str) -> Option<u64> {
    log.lines()
        .rev()
        .find(|l| l.contains("Solving problem with"))
        .and_then(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words
                .iter()
                .position(|w| w.trim_end_matches('.') == what)
                .and_then(|i| i.checked_sub(1))
                .and_then(|i| words[i].parse().ok())
        })
}

/// The model table Yosys prints after a failed proof: rows `\[step] \signal dec hex bin`.
fn model_table(log: &str) -> String {
    let mut table = String::new();
    let mut in_table = false;
    for line in log.lines() {
        let t = line.trim();
        if t.starts_with("Time") && t.contains("Signal") {
            in_table = true;
        }
        if !in_table {
            continue;
        }
        if t.starts_with("Dumping") {
            break;
        }
        if t.is_empty() {
            if !table.is_empty() {
                break;
            }
            continue;
        }
        let _ = writeln!(table, "{line}");
    }
    table
}

/// A counterexample as `sat -dump_json` writes it (WaveDrom's WaveJSON): one wave per shown
/// signal, character 0 the initial state and character i step i.
#[derive(Debug, Deserialize)]
struct WaveJson {
    signal: Vec<WaveSignal>,
}

#[derive(Debug, Deserialize)]
struct WaveSignal {
    name: String,
    /// One character per step: `0`/`1` a bit's value, `.` the previous one again, anything
    /// else (`=` with `data`, `4`, `x`) a value that is not a known bit.
    wave: String,
}

/// The checks (in harness order) that are 0 in some step of the counterexample, and those
/// steps (sorted).
fn false_checks(w: &WaveJson, checks: &[String]) -> (Vec<String>, Vec<u32>) {
    let mut failed = vec![];
    let mut steps = vec![];
    for c in checks {
        let Some(sig) = w
            .signal
            .iter()
            .find(|s| s.name.trim_start_matches('\\') == c)
        else {
            continue;
        };
        let mut value = None;
        for (step, ch) in sig.wave.chars().enumerate() {
            if ch != '.' {
                value = Some(ch);
            }
            if step > 0 && value == Some('0') {
                if !failed.contains(c) {
                    failed.push(c.clone());
                }
                if !steps.contains(&(step as u32)) {
                    steps.push(step as u32);
                }
            }
        }
    }
    steps.sort_unstable();
    (failed, steps)
}

fn knead_claim(g: &Geom) -> String {
    format!(
        "for every group of {ks} {enc} weights the kneading unit accepts (any input, any back-pressure, reset any time): \
         its lanes rebuild each weight exactly (sum of +-2^b at its pointer), the group has exactly max_b popcount_b beats \
         (one null beat for an all-zero last group, none for an all-zero group that is not last), group_end on its final beat only, \
         last = group_end & in_last, in_skip and in_ready/out_valid as in docs/rtl.md",
        ks = g.ks,
        enc = if g.csd { "csd" } else { "sm" }
    )
}

fn sac_pe_claim(g: &Geom) -> String {
    format!(
        "for every input stream (activation groups, kneaded beats with any valid/ptr/neg per lane, group_end/last, any \
         back-pressure, reset any time) the SAC PE's act_ready, kw_ready, res_valid and res (and every register) equal those of \
         the reference formal_ref_sac_pe: a current and a waiting activation bank, segment accumulators S_b += +-a[ptr_b] \
         of the current group, and on `last` the result sum_b S_b << b ({res} bits, two's complement)",
        res = g.res
    )
}

/// `x_0, x_1, ..` for a port list.
fn list(prefix: &str, n: u32) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}_{i}")).collect()
}

/// The header of a harness module: what it is, its port list, and the ports' declarations
/// (both from `ports`, so a port is named once).
fn harness_header(name: &str, top: &str, what: &str, ports: &[Sig]) -> String {
    let list: Vec<&str> = ports.iter().map(|x| x.name.as_str()).collect();
    format!(
        "// {name}: proof harness generated by {} {} for the design {top}. Not part of the design.\n\
         // {what}\n\
         // Checked by Yosys `sat -prove-asserts` (see {name}.ys); every check is a wire ok_*.\n\
         module {name}({});\n{}",
        crate::fsutil::PRODUCT,
        env!("CARGO_PKG_VERSION"),
        list.join(", "),
        decls(ports),
    )
}

/// A signal a harness declares: its kind (`input wire`, `output wire`, `wire`), width (None:
/// one bit, declared without a range) and name.
#[derive(Clone)]
struct Sig {
    kind: &'static str,
    width: Option<u32>,
    name: String,
}

const IN: &str = "input wire";
const OUT: &str = "output wire";

/// Signals of one kind and width.
fn sigs(kind: &'static str, width: Option<u32>, names: Vec<String>) -> Vec<Sig> {
    let sig = |name| Sig { kind, width, name };
    names.into_iter().map(sig).collect()
}

/// One-bit signals of one kind.
fn scalars(kind: &'static str, names: Vec<String>) -> Vec<Sig> {
    sigs(kind, None, names)
}

/// `width`-bit signals of one kind.
fn vectors(kind: &'static str, width: u32, names: Vec<String>) -> Vec<Sig> {
    sigs(kind, Some(width), names)
}

/// The declarations of `sigs`, one a line.
fn decls(sigs: &[Sig]) -> String {
    sigs.iter()
        .map(|x| match x.width {
            None => format!("    {} {};\n", x.kind, x.name),
            Some(w) => format!("    {} [{}:0] {};\n", x.kind, w - 1, x.name),
        })
        .collect()
}

/// Verilog wires `<p>_nz` (non-zero digits, one bit per lane) and `<p>_neg` (the -1 digits) of
/// the sign-magnitude weight `w`, written independently of the design's `DigitEncode`:
/// sm = the magnitude bits, all negative for a negative weight; csd = the non-adjacent form
/// from h = 3m (m the magnitude): +1 digits at ((h & ~m) >> 1), -1 digits at ((~h & m) >> 1),
/// swapped for a negative weight.
fn digit_wires(g: &Geom, p: &str, w: &str) -> String {
    let (mb, lm) = (g.w - 1, g.l - 1);
    let sign = format!("{w}[{mb}]");
    if g.csd {
        let x = mb + 2;
        format!(
            "    wire [{xm}:0] {p}_m = {{2'b00, {w}[{mm}:0]}};\n\
             \x20   wire [{xm}:0] {p}_h = {p}_m * {x}'d3;\n\
             \x20   wire [{xm}:0] {p}_plus_x = (({p}_h & ~{p}_m) >> 1);\n\
             \x20   wire [{xm}:0] {p}_minus_x = ((~{p}_h & {p}_m) >> 1);\n\
             \x20   wire [{lm}:0] {p}_plus = {p}_plus_x[{lm}:0];\n\
             \x20   wire [{lm}:0] {p}_minus = {p}_minus_x[{lm}:0];\n\
             \x20   wire [{lm}:0] {p}_nz = {p}_plus | {p}_minus;\n\
             \x20   wire [{lm}:0] {p}_neg = {sign} ? {p}_plus : {p}_minus;\n",
            xm = x - 1,
            mm = mb - 1,
        )
    } else {
        format!(
            "    wire [{lm}:0] {p}_nz = {w}[{mm}:0];\n    wire [{lm}:0] {p}_neg = {sign} ? {w}[{mm}:0] : {lm1}'d0;\n",
            mm = mb - 1,
            lm1 = g.l
        )
    }
}

/// `{i}` repeated for each of `n` indices, joined.
/// Port names written as one space-separated list.
fn names(list: &str) -> Vec<String> {
    list.split(' ').map(String::from).collect()
}

/// The lane ports of a kneaded-weight stream, `<prefix>_lane_{valid,ptr,neg}_<b>` lane by lane.
fn lane_ports(prefix: &str, l: u32) -> Vec<String> {
    (0..l)
        .flat_map(|b| ["valid", "ptr", "neg"].map(|f| format!("{prefix}_lane_{f}_{b}")))
        .collect()
}

/// [`lane_ports`] as signals of one kind, `p`-bit pointers.
fn lane_sigs(kind: &'static str, prefix: &str, l: u32, p: u32) -> Vec<Sig> {
    let widths = [None, Some(p), None].into_iter().cycle();
    lane_ports(prefix, l)
        .into_iter()
        .zip(widths)
        .map(|(name, width)| Sig { kind, width, name })
        .collect()
}

fn join_map(n: u32, sep: &str, f: impl Fn(u32) -> String) -> String {
    (0..n).map(f).collect::<Vec<_>>().join(sep)
}

/// One line (or group of lines) of harness text per index in `range`.
fn lines(range: std::ops::Range<u32>, f: impl Fn(u32) -> String) -> String {
    range.map(|i| f(i) + "\n").collect()
}

fn knead_harness(top: &str, g: &Geom) -> String {
    let (w, l, ks, p) = (g.w, g.l, g.ks, g.p);
    let lm = l - 1;
    // Beat counts fit CB bits; the digit-value lemma is computed modulo 2^VB (no wrap).
    let cb = crate::config::ceil_log2(ks as u64 + 2) + 1;
    let vb = l + 2;
    let ws = list("w", ks);
    let ports = [
        scalars(IN, names("clock reset in_valid in_last out_ready")),
        vectors(IN, w, ws.clone()),
    ]
    .concat();
    let mut s = harness_header(
        "formal_knead_unit",
        top,
        "Claim: every group's kneaded lanes carry each digit of each weight exactly once, with its sign, in max_b popcount_b beats.",
        &ports,
    );
    s += "\n    // The design under proof.\n";
    s += "    wire in_ready, in_skip, out_valid, out_group_end, out_last;\n";
    s += &decls(&lane_sigs("wire", "out", l, p));
    let mut dut_ports = names(
        "clock reset in_valid in_ready in_last in_skip out_valid out_ready out_group_end out_last",
    );
    dut_ports.extend(ws.iter().cloned());
    dut_ports.extend(lane_ports("out", l));
    s += &instance_by_name(&format!("{top}_knead_unit"), &dut_ports);
    s += "    // Digits of the offered weights.\n";
    for i in 0..ks {
        s += &digit_wires(g, &format!("in{i}"), &format!("w_{i}"));
    }
    let _ = writeln!(
        s,
        "    wire in_zero = ~|{{{}}};",
        join_map(ks, ", ", |i| format!("in{i}_nz"))
    );
    s += "\n    // Reference state of the group in flight: its digits (`grp_nz`), those not emitted yet\n";
    s += "    // (`rem`), the -1 digits (`negd`), whether it ends a dot product, beats so far.\n";
    let _ = writeln!(
        s,
        "    reg busy;\n    reg ref_last;\n    reg [{}:0] beats;",
        cb - 1
    );
    s += &lines(0..ks, |i| {
        format!(
            "    reg [{lm}:0] grp_nz_{i};\n    reg [{lm}:0] rem_{i};\n    reg [{lm}:0] negd_{i};"
        )
    });
    s += "    wire fire = out_valid & out_ready;\n    wire accept = in_valid & in_ready;\n";
    s += "\n    // Per lane: the digit the beat claims (the pointed-at weight's bit b) must be one not yet\n";
    s += "    // emitted, with its sign; and every column with digits left must emit one.\n";
    for b in 0..l {
        let mut rem_at = "1'b0".to_string();
        let mut neg_at = "1'b0".to_string();
        for i in (0..ks).rev() {
            rem_at = format!("(out_lane_ptr_{b} == {p}'d{i}) ? rem_{i}[{b}] : {rem_at}");
            neg_at = format!("(out_lane_ptr_{b} == {p}'d{i}) ? negd_{i}[{b}] : {neg_at}");
        }
        let _ = writeln!(
            s,
            "    wire column_left_{b} = |{{{}}};\n    wire rem_at_{b} = {rem_at};\n    wire neg_at_{b} = {neg_at};",
            join_map(ks, ", ", |i| format!("rem_{i}[{b}]"))
        );
    }
    s += "    // Digits this beat takes from each weight, and what is left after it.\n";
    for i in 0..ks {
        let bits = join_map(l, ", ", |b| {
            format!("out_lane_valid_{b} & (out_lane_ptr_{b} == {p}'d{i})")
        });
        // Concatenation lists the highest lane first.
        let bits_rev = {
            let mut v: Vec<&str> = bits.split(", ").collect();
            v.reverse();
            v.join(", ")
        };
        let _ = writeln!(
            s,
            "    wire [{lm}:0] taken_{i} = {{{bits_rev}}};\n    wire [{lm}:0] rem_after_{i} = rem_{i} & ~taken_{i};"
        );
    }
    let _ = writeln!(
        s,
        "    wire final_beat = ~|{{{}}};",
        join_map(ks, ", ", |i| format!("rem_after_{i}"))
    );
    s += "    // Beats a group needs: the largest column popcount (rows of the kneaded matrix); an\n";
    s += "    // all-zero group that ends a dot product still needs one (null) beat to carry `last`.\n";
    for b in 0..l {
        let terms = join_map(ks, " + ", |i| {
            format!("{{{{{}{{1'b0}}}}, grp_nz_{i}[{b}]}}", cb - 1)
        });
        let _ = writeln!(s, "    wire [{}:0] pop_{b} = {terms};", cb - 1);
    }
    let _ = writeln!(s, "    wire [{}:0] max_pop_0 = pop_0;", cb - 1);
    s += &lines(1..l, |b| {
        format!(
            "    wire [{c}:0] max_pop_{b} = (pop_{b} > max_pop_{pb}) ? pop_{b} : max_pop_{pb};",
            c = cb - 1,
            pb = b - 1
        )
    });
    let _ = writeln!(
        s,
        "    wire [{c}:0] expected_beats = (max_pop_{lm} == {cb}'d0) ? {{{{{c}{{1'b0}}}}, ref_last}} : max_pop_{lm};",
        c = cb - 1,
    );
    s += "    // The digits represent the weight: sum_b +-2^b over them == its value (a lemma on the\n";
    s += "    // offered weights, so that carrying every digit once carries the weight exactly).\n";
    for i in 0..ks {
        let terms = join_map(l, "\n        + ", |b| {
            format!(
                "(in{i}_nz[{b}] ? (in{i}_neg[{b}] ? {vb}'d{neg} : {vb}'d{pos}) : {vb}'d0)",
                pos = 1u64 << b,
                neg = (1u64 << vb) - (1u64 << b),
            )
        });
        let _ = writeln!(
            s,
            "    wire [{v}:0] in{i}_mag = {{{{{pad}{{1'b0}}}}, w_{i}[{m}:0]}};\n    wire [{v}:0] in{i}_value = w_{i}[{sb}] ? {vb}'d0 - in{i}_mag : in{i}_mag;\n    wire [{v}:0] in{i}_digit_sum = {terms};",
            v = vb - 1,
            pad = vb - (w - 1),
            m = w - 2,
            sb = w - 1
        );
    }
    s += "\n    // The checks.\n";
    s += &lines(0..ks, |i| {
        format!("    wire ok_digits_{i} = in{i}_digit_sum == in{i}_value;")
    });
    s += "    wire ok_skip = !in_valid | (in_skip == (in_zero & !in_last));\n";
    s += "    wire ok_out_valid = out_valid == busy;\n";
    s += "    wire ok_in_ready = in_ready == (!busy | (fire & final_beat));\n";
    s += &lines(0..l, |b| {
        format!("    wire ok_lane_valid_{b} = !fire | (out_lane_valid_{b} == column_left_{b});\n    wire ok_lane_digit_{b} = !(fire & out_lane_valid_{b}) | (rem_at_{b} & (out_lane_neg_{b} == neg_at_{b}));")
    });
    s += "    wire ok_group_end = !fire | (out_group_end == final_beat);\n";
    s += "    wire ok_last = !fire | (out_last == (final_beat & ref_last));\n";
    let _ = writeln!(
        s,
        "    wire ok_beats = !(fire & final_beat) | (beats + {cb}'d1 == expected_beats);"
    );
    s += &assert_checks(&s);
    s += "    always @(posedge clock) begin\n        if (fire) begin\n            beats <= beats + 1'b1;\n";
    s += &lines(0..ks, |i| format!("            rem_{i} <= rem_after_{i};"));
    s += "            if (final_beat) busy <= 1'b0;\n        end\n        if (accept) begin\n";
    s += "            // An all-zero group that is not last is taken and emits nothing.\n";
    s += "            busy <= !in_zero | in_last;\n            ref_last <= in_last;\n            beats <= 0;\n";
    s += &lines(0..ks, |i| {
        format!("            grp_nz_{i} <= in{i}_nz;\n            rem_{i} <= in{i}_nz;\n            negd_{i} <= in{i}_neg;")
    });
    s += "        end\n        if (reset) busy <= 1'b0;\n    end\nendmodule\n";
    s
}

/// The reference the emitted SAC PE is proved equal to (`formal_ref_sac_pe`), written here from
/// the SAC semantics (docs/rtl.md): a current and a waiting activation bank, per lane a segment
/// accumulator S_b += +-a[ptr_b] (the activation picked by index, not by the design's one-hot
/// AND-OR), at each group end acc += sum_b S_b << b and the segments restart, on `last` the
/// result acc + sum_b S_b << b, held in acc (the next dot product starts from zero). Its
/// registers carry the names the design's registers have after `flatten`
/// (`\sac_core.act_bank.cur_0_q`, ..): that is the register correspondence `equiv_make` pairs
/// them by.
fn sac_pe_reference(top: &str, g: &Geom, w: &crate::config::DerivedWidths) -> String {
    let (a, l, ks, p, res) = (g.a, g.l, g.ks, g.p, g.res);
    let seg = w.segment_bits;
    // Registers (`<dff>_q`, rust-hdl's DFFs as the netlist writes them) and cut points, by the
    // names they have in the flattened design.
    let r = |n: &str| format!("\\sac_core.{n}_q ");
    let sc = |n: &str| format!("\\sac_core.{n} ");
    let ports = [
        scalars(IN, names("clock reset act_valid")),
        scalars(OUT, names("act_ready")),
        vectors(IN, a, list("act", ks)),
        scalars(IN, names("kw_valid")),
        scalars(OUT, names("kw_ready")),
        lane_sigs(IN, "kw", l, p),
        scalars(IN, names("kw_group_end kw_last")),
        scalars(OUT, names("res_valid")),
        scalars(IN, names("res_ready")),
        vectors(OUT, res, names("res")),
    ]
    .concat();
    let mut s = harness_header(
        "formal_ref_sac_pe",
        top,
        &format!("Reference of {top}_sac_pe: S_b += +-a[ptr_b] of the current group; at its end acc += sum_b S_b << b; on `last`, result = acc + sum_b S_b << b."),
        &ports,
    );
    s += "\n    // State (named as the design's registers): the current and the waiting activation group,\n";
    s += "    // whether each holds one, the segment accumulators, the dot product so far (acc, after\n";
    s += "    // the last group the result), whether acc holds a finished one (done), the result's valid flag.\n";
    s += &lines(0..ks, |i| {
        format!(
            "    reg [{m}:0] {} = 0;\n    reg [{m}:0] {} = 0;",
            r(&format!("act_bank.cur_{i}")),
            r(&format!("act_bank.nxt_{i}")),
            m = a - 1
        )
    });
    let (cur_full, nxt_full, done, res_v) = (
        r("act_bank.cur_full"),
        r("act_bank.nxt_full"),
        r("done"),
        r("res_v"),
    );
    let acc = r("acc");
    let _ = writeln!(
        s,
        "    reg {cur_full} = 0;\n    reg {nxt_full} = 0;\n    reg {done} = 0;\n    reg {res_v} = 0;\n    reg [{m}:0] {acc} = 0;",
        m = res - 1
    );
    s += &lines(0..l, |b| {
        format!(
            "    reg [{}:0] {} = 0;",
            seg - 1,
            r(&format!("seg_lane_{b}.seg"))
        )
    });
    s += "\n    // Handshakes: a group is taken while the waiting bank is free; a beat while a group is\n";
    s += "    // current and no result waits in acc (none, or it is being read).\n";
    let _ = writeln!(s, "    assign act_ready = !{nxt_full};");
    let _ = writeln!(
        s,
        "    assign kw_ready = {cur_full} & (!{res_v} | res_ready);"
    );
    s += "    wire take_act = act_valid & act_ready;\n    wire take_kw = kw_valid & kw_ready;\n";
    s += "    wire group_done = take_kw & (kw_group_end | kw_last);\n    wire dot_done = take_kw & kw_last;\n";
    let _ = writeln!(s, "    wire cur_free = !{cur_full} | group_done;");
    s += "\n    // Lane b adds or subtracts a[ptr_b] of the current group (sign-extended) to S_b; its\n";
    s += "    // term of the group sum is 0 except while a group's last beat is offered (operand isolation,\n";
    s += "    // docs/rtl.md).\n";
    for b in 0..l {
        let mut pick = format!("{a}'d0");
        for i in (0..ks).rev() {
            pick = format!(
                "(kw_lane_ptr_{b} == {p}'d{i}) ? {} : {pick}",
                r(&format!("act_bank.cur_{i}"))
            );
        }
        let sb = r(&format!("seg_lane_{b}.seg"));
        let (a_b, s_next, s_res) = (
            sc(&format!("seg_lane_{b}.act")),
            sc(&format!("seg_lane_{b}.seg_next")),
            sc(&format!("seg_lane_{b}.ext")),
        );
        let _ = writeln!(
            s,
            "    wire [{am}:0] {a_b} = !kw_lane_valid_{b} ? {a}'d0 : {pick};\n    wire [{sm}:0] a_ext_{b} = {{{{{pad}{{{a_b}[{am}]}}}}, {a_b}}};\n    wire [{sm}:0] {s_next} = kw_lane_neg_{b} ? {sb} - a_ext_{b} : {sb} + a_ext_{b};\n    wire [{rm}:0] {s_res} = (kw_valid & (kw_group_end | kw_last)) ? {{{{{rpad}{{1'b0}}}}, ~{s_next}[{sm}], {s_next}[{sm1}:0]}} : {res}'d0;",
            am = a - 1,
            sm = seg - 1,
            rm = res - 1,
            sm1 = seg - 2,
            pad = seg - a,
            rpad = res - seg
        );
    }
    let sum = join_map(l, " + ", |b| {
        let e = sc(&format!("seg_lane_{b}.ext"));
        if b == 0 {
            e
        } else {
            format!("({e} << {b})")
        }
    });
    // The lanes' terms are offset binary (S_b + 2^(SEG-1), docs/rtl.md): the sum carries
    // 2^(SEG-1) << b once per lane, taken off here.
    let _ = writeln!(
        s,
        "    wire [{rm}:0] total = ({done} ? {res}'d0 : {acc}) + {sum} - (((({res}'d1 << {l}) - {res}'d1)) << {});",
        seg - 1,
        rm = res - 1
    );
    let _ = writeln!(
        s,
        "    assign res_valid = {res_v};\n    assign res = {acc};\n"
    );
    s += "    always @(posedge clock) begin\n";
    s += "        // The current bank takes the waiting group, else the offered one (its content is a\n";
    s += "        // don't-care while the bank is empty); otherwise an offered group waits.\n";
    let _ = writeln!(s, "        if (cur_free) begin");
    s += &lines(0..ks, |i| {
        format!(
            "            {} <= {nxt_full} ? {} : act_{i};",
            r(&format!("act_bank.cur_{i}")),
            r(&format!("act_bank.nxt_{i}"))
        )
    });
    let _ = writeln!(
        s,
        "            {cur_full} <= {nxt_full} | take_act;\n            {nxt_full} <= 1'b0;\n        end else begin"
    );
    s += &lines(0..ks, |i| {
        format!(
            "            if (take_act) {} <= act_{i};",
            r(&format!("act_bank.nxt_{i}"))
        )
    });
    let _ = writeln!(
        s,
        "            {nxt_full} <= {nxt_full} | take_act;\n        end"
    );
    for b in 0..l {
        let sb = r(&format!("seg_lane_{b}.seg"));
        let _ = writeln!(
            s,
            "        {sb} <= (group_done | reset) ? {seg}'d0 : take_kw ? {} : {sb};",
            sc(&format!("seg_lane_{b}.seg_next"))
        );
    }
    let _ = writeln!(
        s,
        "        {res_v} <= dot_done | ({res_v} & !res_ready);\n        {acc} <= reset ? {res}'d0 : group_done ? total : {acc};\n        {done} <= reset ? 1'b0 : group_done ? kw_last : {done};"
    );
    let _ = writeln!(
        s,
        "        if (reset) begin\n            {cur_full} <= 1'b0;\n            {nxt_full} <= 1'b0;\n            {res_v} <= 1'b0;\n        end\n    end\nendmodule"
    );
    s
}

fn sac_pe_harness(top: &str, g: &Geom) -> String {
    let (a, l, ks, p, res) = (g.a, g.l, g.ks, g.p, g.res);
    let acts = list("act", ks);
    let ports = [
        scalars(IN, names("clock reset act_valid kw_valid")),
        vectors(IN, a, acts.clone()),
        lane_sigs(IN, "kw", l, p),
        scalars(IN, names("kw_group_end kw_last res_ready")),
    ]
    .concat();
    let mut s = harness_header(
        "formal_sac_pe",
        top,
        "Claim: the SAC PE equals a behavioural reference (S_b += +-a[ptr_b], result sum_b S_b << b) on every output, every cycle.",
        &ports,
    );
    s += "\n    // The design under proof.\n    wire act_ready, kw_ready, res_valid;\n";
    let _ = writeln!(s, "    wire [{}:0] res;", res - 1);
    let mut dut_ports =
        names("clock reset act_valid act_ready kw_valid kw_ready kw_group_end kw_last res_valid res_ready res");
    dut_ports.extend(acts.iter().cloned());
    dut_ports.extend(lane_ports("kw", l));
    s += &instance_by_name(&format!("{top}_sac_pe"), &dut_ports);
    s += "    // Reference: the accepted activation groups not yet released (a FIFO of depth 2: head is\n";
    s += "    // the group the beats use), one accumulator per lane, the result register.\n";
    s += "    reg [1:0] groups;\n    reg ref_pending;\n";
    let _ = writeln!(s, "    reg [{}:0] ref_res;", res - 1);
    s += &lines(0..ks, |i| {
        format!(
            "    reg [{m}:0] head_{i};\n    reg [{m}:0] tail_{i};",
            m = a - 1
        )
    });
    s += &lines(0..l, |b| format!("    reg [{}:0] seg_{b};", res - 1));
    s += "    wire act_fire = act_valid & act_ready;\n    wire fire = kw_valid & kw_ready;\n";
    s += "    wire release_head = fire & (kw_group_end | kw_last);\n";
    s += "    // Lane b: the activation its pointer picks from the head group, sign-extended, added or\n";
    s += "    // subtracted.\n";
    for b in 0..l {
        let mut pick = format!("{a}'d0");
        for i in (0..ks).rev() {
            pick = format!("(kw_lane_ptr_{b} == {p}'d{i}) ? head_{i} : {pick}");
        }
        let _ = writeln!(
            s,
            "    wire [{am}:0] pick_{b} = {pick};\n    wire [{r}:0] pick_ext_{b} = {{{{{pad}{{pick_{b}[{am}]}}}}, pick_{b}}};\n    wire [{r}:0] seg_next_{b} = !kw_lane_valid_{b} ? seg_{b} : kw_lane_neg_{b} ? seg_{b} - pick_ext_{b} : seg_{b} + pick_ext_{b};",
            am = a - 1,
            r = res - 1,
            pad = res - a
        );
    }
    let sum: Vec<String> = (0..l)
        .map(|b| {
            if b == 0 {
                "seg_next_0".to_string()
            } else {
                format!("(seg_next_{b} << {b})")
            }
        })
        .collect();
    let _ = writeln!(s, "    wire [{}:0] total = {};", res - 1, sum.join(" + "));
    s += "\n    // The checks.\n";
    s += "    wire ok_act_ready = act_ready == (groups != 2'd2);\n";
    s += "    wire ok_kw_ready = kw_ready == ((groups != 2'd0) & (!ref_pending | res_ready));\n";
    s += "    wire ok_res_valid = res_valid == ref_pending;\n";
    s += "    wire ok_res = !ref_pending | (res == ref_res);\n";
    s += &assert_checks(&s);
    s += "    always @(posedge clock) begin\n        if (fire) begin\n";
    s += &lines(0..l, |b| {
        format!("            seg_{b} <= kw_last ? 0 : seg_next_{b};")
    });
    s += "        end\n";
    s += "        if (fire & kw_last) begin\n            ref_res <= total;\n            ref_pending <= 1'b1;\n        end else if (res_ready) begin\n            ref_pending <= 1'b0;\n        end\n";
    s += "        case ({release_head, act_fire})\n";
    let mv = |dst: &str, src: &str| -> String {
        (0..ks)
            .map(|i| format!("{dst}_{i} <= {src}_{i}; "))
            .collect()
    };
    let _ = writeln!(
        s,
        "            2'b10: begin {}groups <= groups - 2'd1; end",
        mv("head", "tail")
    );
    let _ = writeln!(
        s,
        "            2'b01: begin if (groups == 2'd0) begin {}end else begin {}end groups <= groups + 2'd1; end",
        mv("head", "act"),
        mv("tail", "act")
    );
    let _ = writeln!(
        s,
        "            2'b11: begin if (groups == 2'd1) begin {}end else begin {}{}end end",
        mv("head", "act"),
        mv("head", "tail"),
        mv("tail", "act")
    );
    s += "            default: ;\n        endcase\n";
    s +=
        "        if (reset) begin\n            groups <= 2'd0;\n            ref_pending <= 1'b0;\n";
    s += &lines(0..l, |b| format!("            seg_{b} <= 0;"));
    s += "        end\n    end\nendmodule\n";
    s
}

/// `module dut(.p(p), ...);` with every port connected to the harness net of the same name.
fn instance_by_name(module: &str, ports: &[String]) -> String {
    let conns: Vec<String> = ports.iter().map(|p| format!(".{p}({p})")).collect();
    format!(
        "    {module} dut(\n        {}\n    );\n\n",
        conns.join(",\n        ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_table_and_false_checks() {
        let log = "\n  Time Signal                                  Dec        Hex             Bin\n  ---- -------------------- --------- --------- -----\n     1 \\in_valid                              1         1               1\n     1 \\ok_rebuild_2                          1         1               1\n     3 \\ok_rebuild_2                          0         0               0\n     3 \\ok_last                               0         0               0\n\nDumping SAT model to VCD file x.vcd\n";
        let table = model_table(log);
        assert!(
            table.contains("\\in_valid") && !table.contains("Dumping"),
            "{table}"
        );
        // As `sat -seq 4 -dump_json` writes it: step 0 is the initial state.
        let json = r#"{ "signal": [
            { "name": "w_2", "wave": "4===.", "data": ["", "10", "11", "00"] },
            { "name": "ok_rebuild_2", "wave": "41.0." },
            { "name": "ok_last", "wave": "4101." },
            { "name": "ok_fine", "wave": "41..." }
          ], "config": { "hscale": 0.75 } }"#;
        let w: WaveJson = crate::fsutil::parse_json(json, "x_cex.json").unwrap();
        let checks: Vec<String> = ["ok_fine", "ok_last", "ok_rebuild_2"]
            .map(String::from)
            .to_vec();
        let (failed, steps) = false_checks(&w, &checks);
        assert_eq!(failed, ["ok_last", "ok_rebuild_2"]);
        assert_eq!(steps, [2, 3, 4]);
    }

    #[test]
    fn sat_size_reads_the_problem_line() {
        let log = "Solving problem with 4711 variables and 12345 clauses..\n";
        assert_eq!(sat_size(log, "variables"), Some(4711));
        assert_eq!(sat_size(log, "clauses"), Some(12345));
    }
}
