//! The `tetris knead` report: per-layer bit-level sparsity of a weight file and what kneading
//! would buy (the statistics are `analysis::knead_stats`), its totals, and its JSON and CSV
//! documents. `cli::knead` parses the flags and prints the table.

use crate::analysis::knead_stats::{layer_stats_with_progress, Settings, Stats};
use crate::weights::shapes::shape_text;
use crate::weights::{self, Layer, Loaded, OpKind};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One analysed layer.
pub struct LayerReport {
    pub name: String,
    pub op: String,
    pub kind: OpKind,
    pub shape: Vec<usize>,
    /// Terms of one dot product (weights per output channel).
    pub dot_len: usize,
    pub stats: Stats,
}

/// Models above this many weights get a progress bar.
const PROGRESS_MIN_WEIGHTS: usize = 1_000_000;

/// What the report says besides the layers: the ops counted, batch norms folded, what holds
/// constants but is not counted, the numpy layout.
pub struct ReportContext<'a> {
    pub loaded: &'a Loaded,
    pub ops: &'a [OpKind],
    pub fold_bn: bool,
}

/// Statistics of every layer, with a progress bar on stderr for large models.
pub fn analyse(layers: &[&Layer], s: &Settings, file: &str) -> Result<Vec<LayerReport>> {
    let total: usize = layers.iter().map(|l| l.data.len()).sum();
    let bar = tetris_core::progress::bar(
        total >= PROGRESS_MIN_WEIGHTS,
        total as u64,
        "knead {bar:40} {human_pos}/{human_len} weights {elapsed}",
    );
    let mut out = Vec::with_capacity(layers.len());
    for l in layers {
        let stats = layer_stats_with_progress(&l.data, l.out_channels(), s, &|n| bar.inc(n as u64))
            .with_context(|| format!("{file}: layer {:?}", l.name))?;
        out.push(LayerReport {
            name: l.name.clone(),
            op: l.op.clone(),
            kind: l.kind,
            shape: l.shape.clone(),
            dot_len: l.per_filter(),
            stats,
        });
    }
    bar.finish_and_clear();
    Ok(out)
}

pub fn total(reports: &[LayerReport]) -> Stats {
    let mut t = Stats::default();
    for r in reports {
        t.add(&r.stats);
    }
    t
}

/// Totals per operator family (`OpKind` order).
pub fn totals_by_op(reports: &[LayerReport]) -> BTreeMap<OpKind, Stats> {
    let mut m: BTreeMap<OpKind, Stats> = BTreeMap::new();
    for r in reports {
        m.entry(r.kind).or_default().add(&r.stats);
    }
    m
}

/// One set of kneading figures in the JSON report (a layer's, a total's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsDoc {
    pub weights: u64,
    pub zero_weight_fraction: f64,
    pub zero_bit_fraction: f64,
    pub essential_bits: u64,
    pub baseline_cycles: u64,
    pub tetris_cycles: u64,
    pub ideal_speedup: Option<f64>,
}

impl StatsDoc {
    fn new(st: &Stats, s: &Settings) -> StatsDoc {
        StatsDoc {
            weights: st.weights,
            zero_weight_fraction: st.zero_weight_fraction(),
            zero_bit_fraction: st.zero_bit_fraction(s),
            essential_bits: st.essential_bits,
            baseline_cycles: st.baseline_cycles(),
            tetris_cycles: st.tetris_cycles,
            ideal_speedup: st.ideal_speedup(),
        }
    }
}

/// One layer of the report: its name, operator and shape, and its figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerDoc {
    pub name: String,
    pub op: String,
    pub kind: OpKind,
    pub shape: Vec<usize>,
    pub dot_len: usize,
    #[serde(flatten)]
    pub stats: StatsDoc,
}

/// How the weights were counted (the flags of the run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsDoc {
    pub weights_file: String,
    pub bits: u32,
    pub ks: usize,
    pub encoding: String,
    pub per_channel: bool,
    pub digit_budget: u64,
    pub ops: Vec<String>,
    pub fold_bn: bool,
    pub numpy_layout: Option<String>,
    pub ideal_speedup_is: String,
}

/// The `--json` report of `tetris knead`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KneadDoc {
    pub settings: SettingsDoc,
    pub layers: Vec<LayerDoc>,
    /// The longest dot product of the counted layers: the `pe.max_dot_len` a design for this
    /// network needs (segment and result widths are derived from it).
    pub max_dot_len: usize,
    pub total: StatsDoc,
    pub total_by_op: BTreeMap<String, StatsDoc>,
    pub folded_batch_norms: Vec<weights::Folded>,
    pub not_mapped: Vec<weights::NotMapped>,
}

/// The JSON document of the analysed layers.
pub fn report_doc(
    reports: &[LayerReport],
    s: &Settings,
    file: &str,
    c: &ReportContext<'_>,
) -> KneadDoc {
    KneadDoc {
        settings: SettingsDoc {
            weights_file: file.into(),
            bits: s.bits,
            ks: s.ks,
            encoding: s.encoding.name().into(),
            per_channel: s.per_channel,
            digit_budget: s.digit_budget(),
            ops: c.ops.iter().map(|k| k.name().into()).collect(),
            fold_bn: c.fold_bn,
            numpy_layout: c.loaded.layout.clone(),
            ideal_speedup_is:
                "weighted by weights: baseline_cycles / tetris_cycles summed over the layers".into(),
        },
        layers: reports
            .iter()
            .map(|r| LayerDoc {
                name: r.name.clone(),
                op: r.op.clone(),
                kind: r.kind,
                shape: r.shape.clone(),
                dot_len: r.dot_len,
                stats: StatsDoc::new(&r.stats, s),
            })
            .collect(),
        max_dot_len: reports.iter().map(|r| r.dot_len).max().unwrap_or(0),
        total: StatsDoc::new(&total(reports), s),
        total_by_op: totals_by_op(reports)
            .iter()
            .map(|(k, st)| (k.name().into(), StatsDoc::new(st, s)))
            .collect(),
        folded_batch_norms: c.loaded.folded.clone(),
        not_mapped: c.loaded.not_mapped.clone(),
    }
}

const CSV_HEADER: &str = "name,op,shape,weights,zero_weight_fraction,zero_bit_fraction,essential_bits,baseline_cycles,tetris_cycles,ideal_speedup";

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_row(name: &str, op: &str, shape: &str, st: &Stats, s: &Settings) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{},{}\n",
        csv_field(name),
        csv_field(op),
        shape,
        st.weights,
        st.zero_weight_fraction(),
        st.zero_bit_fraction(s),
        st.essential_bits,
        st.baseline_cycles(),
        st.tetris_cycles,
        st.ideal_speedup()
            .map(|v| v.to_string())
            .unwrap_or_default()
    )
}

/// CSV with the JSON's columns; the shape is written as `64x3x3x3`, a missing speedup (no
/// non-zero weight) as an empty field; with more than one operator family, `TOTAL:conv`,
/// `TOTAL:gemm`, ... rows; the last row is `TOTAL`.
pub fn to_csv(reports: &[LayerReport], s: &Settings) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for r in reports {
        out += &csv_row(&r.name, &r.op, &shape_text(&r.shape), &r.stats, s);
    }
    let by_op = totals_by_op(reports);
    if by_op.len() > 1 {
        for (k, st) in &by_op {
            out += &csv_row(&format!("TOTAL:{k}"), "", "", st, s);
        }
    }
    out += &csv_row("TOTAL", "", "", &total(reports), s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_separators_are_quoted() {
        assert_eq!(csv_field("conv1"), "conv1");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
