//! `tetris knead`: bit-level sparsity of a weight file and what kneading would buy.
//!
//! Loading is `weights::load`, the report is `study::knead`; this module only parses flags,
//! prints the table and writes the JSON/CSV reports (atomically, after all work succeeded, so a
//! failure never leaves a partial file).

use crate::analysis::knead_stats::{Settings, Stats};
use crate::model::encoding::Encoding;
use crate::study::knead::{
    analyse, report_doc, to_csv, total, totals_by_op, LayerReport, ReportContext,
};
use crate::weights::shapes::shape_text;
use crate::weights::{self, Layer, OpKind};
use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Weight file: .npy, .npz or .onnx.
    #[arg(long, value_name = "FILE")]
    pub weights: PathBuf,
    /// Fixed-point weight width (sign-magnitude: 1 sign + bits-1 magnitude bits).
    #[arg(long, value_name = "N", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(2..=32))]
    pub bits: u32,
    /// Kneading stride: consecutive weights of one output filter per group.
    #[arg(long, value_name = "N", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub ks: u32,
    /// Digit encoding: sm (sign-magnitude), csd (canonical signed digits), tc (two's complement).
    #[arg(long, default_value = "sm", value_parser = parse_encoding)]
    pub encoding: Encoding,
    /// One quantization scale per output channel (default: one per tensor).
    #[arg(long)]
    pub per_channel: bool,
    /// Write the report as JSON to this file.
    #[arg(long, value_name = "OUT")]
    pub json: Option<PathBuf>,
    /// Write the report as CSV (one row per layer, then per-op TOTAL rows and a TOTAL row)
    /// to this file.
    #[arg(long, value_name = "OUT")]
    pub csv: Option<PathBuf>,
    #[command(flatten)]
    pub model: crate::cli::ModelArgs,
}

fn parse_encoding(s: &str) -> Result<Encoding, String> {
    s.parse()
}

pub fn run(a: Args) -> Result<()> {
    let settings = Settings {
        bits: a.bits,
        ks: a.ks as usize,
        encoding: a.encoding,
        per_channel: a.per_channel,
    };
    settings.validate()?;
    let outputs: Vec<(&str, &std::path::Path)> = [("--json", &a.json), ("--csv", &a.csv)]
        .into_iter()
        .filter_map(|(f, p)| Some((f, p.as_deref()?)))
        .collect();
    let mut plan = crate::fsutil::OutputPlan::new(false);
    plan.input("--weights", Some(&a.weights));
    for (flag, p) in &outputs {
        plan.file(flag, Some(p));
    }
    plan.check()?;
    let file = a.weights.display().to_string();
    let opts = a.model.load_options(Default::default());
    let loaded = weights::load_with(&a.weights, &opts)?;
    for n in &loaded.notes {
        eprintln!("note: {n}");
    }
    let ops = OpKind::selection(&a.model.ops);
    let layers: Vec<&Layer> = loaded
        .layers
        .iter()
        .filter(|l| ops.contains(&l.kind))
        .collect();
    if layers.is_empty() {
        let names: Vec<&str> = ops.iter().map(|k| k.name()).collect();
        bail!("{file}: no layer of --ops {}", names.join(","));
    }
    let reports = analyse(&layers, &settings, &file)?;
    let context = ReportContext {
        loaded: &loaded,
        ops: &ops,
        fold_bn: !a.model.no_fold_bn,
    };

    print_table(&reports, &settings, &file);
    print_context(&context);
    print_longest_dot(&reports);
    // Render both reports before writing either, so an error leaves no file behind.
    let json_text = a
        .json
        .as_ref()
        .map(|_| crate::fsutil::json_text(&report_doc(&reports, &settings, &file, &context)))
        .transpose()?;
    let csv_text = a.csv.as_ref().map(|_| to_csv(&reports, &settings));
    let mut files: Vec<(&std::path::Path, Vec<u8>)> = vec![];
    if let (Some(p), Some(t)) = (&a.json, json_text) {
        files.push((p, (t + "\n").into_bytes()));
    }
    if let (Some(p), Some(t)) = (&a.csv, csv_text) {
        files.push((p, t.into_bytes()));
    }
    let refs: Vec<(&std::path::Path, &[u8])> =
        files.iter().map(|(p, b)| (*p, b.as_slice())).collect();
    crate::fsutil::write_files_atomic(&refs)
}

fn print_context(c: &ReportContext) {
    if let Some(l) = &c.loaded.layout {
        println!("# {l}");
    }
    if !c.fold_bn {
        println!("# batch norm: not folded (--no-fold-bn)");
    } else if !c.loaded.folded.is_empty() {
        println!(
            "# batch norm folded into the layer before it (as inference runtimes do; --no-fold-bn to keep them apart): {}",
            c.loaded.folded.len()
        );
    }
    let excluded: Vec<&Layer> = c
        .loaded
        .layers
        .iter()
        .filter(|l| !c.ops.contains(&l.kind))
        .collect();
    if !excluded.is_empty() {
        let n: usize = excluded.iter().map(|l| l.data.len()).sum();
        println!(
            "# left out by --ops: {} layer(s), {n} weights",
            excluded.len()
        );
    }
    if !c.loaded.not_mapped.is_empty() {
        let mut by_op: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for n in &c.loaded.not_mapped {
            let e = by_op.entry(&n.op).or_default();
            e.0 += 1;
            e.1 += n.weights;
        }
        let list: Vec<String> = by_op
            .iter()
            .map(|(op, (n, w))| format!("{op} x{n}: {w}"))
            .collect();
        println!(
            "# not counted (constants of other operators: biases, scales, tables): {}",
            list.join(", ")
        );
    }
    println!("# TOTAL ideal speedup: weighted by weights (sum of baseline cycles / sum of kneaded lengths); `tetris sim` also weights by work");
}

/// The `pe.max_dot_len` this network needs: its widths size the SAC segments and the results,
/// so a design built for the network alone is leaner than one for the default 4608 terms.
fn print_longest_dot(reports: &[LayerReport]) {
    if let Some(r) = reports.iter().max_by_key(|r| r.dot_len) {
        println!(
            "# longest dot product: {} terms ({}): a design for these layers needs pe.max_dot_len >= {}",
            r.dot_len, r.name, r.dot_len
        );
    }
}

fn print_table(reports: &[LayerReport], s: &Settings, file: &str) {
    println!(
        "{file}: {} layers, {}-bit {} weights, KS={}, {} scale",
        reports.len(),
        s.bits,
        s.encoding,
        s.ks,
        if s.per_channel {
            "per-channel"
        } else {
            "per-tensor"
        }
    );
    // Wide enough for the names and the per-op TOTAL rows.
    let w = reports
        .iter()
        .map(|r| r.name.chars().count())
        .chain([19])
        .max()
        .unwrap_or(5)
        .clamp(5, 48);
    println!(
        "{:<w$}  {:<13} {:<16} {:>10} {:>7} {:>7} {:>12} {:>10} {:>8}",
        "layer", "op", "shape", "weights", "zero_w", "zero_b", "tetris_cyc", "base_cyc", "speedup"
    );
    let row = |name: &str, op: &str, shape: &str, st: &Stats| {
        let name: String = if name.chars().count() > w {
            let tail: String = name.chars().skip(name.chars().count() - (w - 1)).collect();
            format!("~{tail}")
        } else {
            name.to_string()
        };
        println!(
            "{:<w$}  {:<13} {:<16} {:>10} {:>6.1}% {:>6.1}% {:>12} {:>10} {:>8}",
            name,
            op,
            shape,
            st.weights,
            100.0 * st.zero_weight_fraction(),
            100.0 * st.zero_bit_fraction(s),
            st.tetris_cycles,
            st.baseline_cycles(),
            st.ideal_speedup()
                .map(|v| format!("{v:.3}x"))
                .unwrap_or_else(|| "-".into())
        );
    };
    for r in reports {
        row(&r.name, &r.op, &shape_text(&r.shape), &r.stats);
    }
    let by_op = totals_by_op(reports);
    if by_op.len() > 1 {
        for (k, st) in &by_op {
            row(&format!("TOTAL {k}"), "", "", st);
        }
    }
    row("TOTAL", "", "", &total(reports));
}
