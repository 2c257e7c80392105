//! The sweep's table (terminal), JSON document and plot (a tetris-plot scene, written as SVG:
//! approximate-inference accuracy against the multiplier's mean relative error, per mode, with
//! the exact-inference level; with areas, a second panel against the transistor estimate).

use super::experiment::{HwSummary, RunRecord, Stat};
use super::hardware::ActOperand;
use super::net::{Arch, LayerSpec};
use super::noise::NoiseModel;
use super::train::{Mode, Optim};
use crate::plot::{log_ticks, to_svg, Anchor, Rgb, Scene, Stroke};
use serde::{Deserialize, Serialize};

fn pm(s: &Stat) -> String {
    format!("{:6.2} ±{:4.2}", s.mean, s.sd)
}

fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Baseline => "conventional",
        Mode::Passive => "passive",
        Mode::Active => "active",
        Mode::Both => "both",
    }
}

/// The paper-style table: per multiplier its error metrics, the conventional network's
/// exact and approximate accuracy, each AxTrain mode's approximate accuracy and the share of
/// the loss it recovered, and the measured sensitivity cut of the active mode.
pub fn table(s: &[HwSummary]) -> String {
    let mut out = String::new();
    let modes: Vec<Mode> = s
        .first()
        .map(|h| h.approx_accuracy.iter().map(|(m, _)| *m).collect())
        .unwrap_or_default();
    let area = s.iter().any(|h| h.area.is_some());
    out += &format!(
        "{:<28} {:>8} {:>8} {:>7}",
        "multiplier", "MAE%", "MRE%", "EP%"
    );
    if area {
        out += &format!(" {:>6} {:>6}", "cells", "trans");
    }
    out += &format!(" | {:>13}", "exact acc");
    for m in &modes {
        out += &format!(" | {:>13}", format!("{} acc", mode_name(*m)));
    }
    for m in modes.iter().skip(1) {
        out += &format!(" | {:>9}", format!("rec {}", mode_name(*m)));
    }
    out += " | sens cut\n";
    for h in s {
        out += &format!(
            "{:<28} {:8.4} {:8.3} {:7.2}",
            h.hardware, h.mae_percent, h.mre_percent, h.ep_percent,
        );
        if area {
            match &h.area {
                Some(a) => out += &format!(" {:>6} {:>6}", a.cells, a.transistors),
                None => out += &format!(" {:>6} {:>6}", "-", "-"),
            }
        }
        out += &format!(" | {:>13}", pm(&h.exact_accuracy));
        for (_, a) in &h.approx_accuracy {
            out += &format!(" | {:>13}", pm(a));
        }
        for (_, r) in &h.recovered_percent {
            match r {
                Some(r) => out += &format!(" | {:>8.1}%", r),
                None => out += &format!(" | {:>9}", "-"),
            }
        }
        match h.sensitivity_cut_percent {
            Some(c) => out += &format!(" | {c:7.1}%\n"),
            None => out += " |       -\n",
        }
    }
    if area {
        out += "cells, trans: generic gates and CMOS transistor estimate of the multiplier's emitted RTL (yosys, tetris synth --target generic)\n";
    }
    out += "acc: test accuracy % (mean ±sd over seeds); rec: share of the conventional network's loss (exact - approx) recovered ('-': it lost < 0.5 points); sens cut: 1 - sensitivity(active)/sensitivity(conventional), sensitivity = test loss increase from exact to approximate products\n";
    out
}

/// The JSON document of a sweep: how it was run, a summary per multiplier, every run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepDoc {
    pub config: SweepConfig,
    pub summary: Vec<HwSummary>,
    pub runs: Vec<RunRecord>,
}

/// How an axtrain sweep was run: data, network, training and quantization (its JSON's `config`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepConfig {
    pub data: String,
    pub test_data: Option<String>,
    pub train_images: usize,
    pub test_images: usize,
    pub arch: Arch,
    pub hidden: u64,
    pub layers: Vec<LayerSpec>,
    pub modes: Vec<Mode>,
    pub noise: NoiseModel,
    pub active_weight: f64,
    pub ste: bool,
    pub epochs: u64,
    pub seeds: Vec<u64>,
    pub batch: u64,
    pub lr: f64,
    pub optim: Optim,
    pub quantization: Quantization,
    /// The timing profile the multiplier's errors were drawn from, if any.
    pub timing: Option<String>,
    /// How areas were measured (`--area`).
    pub area: Option<String>,
}

/// How the trained network is quantized for bit-exact approximate inference.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Quantization {
    pub weights: String,
    pub activations: String,
    pub act_operand: ActOperand,
    pub sign_convention: String,
}

/// The modes' colours, in the order of a summary's `approx_accuracy`.
const COLOURS: [Rgb; 4] = [
    Rgb(0xd0, 0x4a, 0x4a),
    Rgb(0x4a, 0x7b, 0xd0),
    Rgb(0x3a, 0x9a, 0x4a),
    Rgb(0x9a, 0x4a, 0xd0),
];
const EXACT: Rgb = Rgb(0x88, 0x88, 0x88);

/// Approximate-inference accuracy (mean, ±sd bars) against log10 of the multiplier's MRE,
/// one colour per mode; grey ticks: the conventional network's exact-inference accuracy.
/// When the summaries carry an area (`--area`), a second panel plots the same accuracies
/// against the multiplier's transistor estimate (multipliers without an area are left out).
/// The panels are the groups `mre` and `area` of the SVG.
pub fn scene(s: &[HwSummary]) -> Scene {
    let (pw, h, top, bottom, right) = (590.0, 460.0, 50.0, 60.0, 150.0);
    let has_area = s.iter().any(|h| h.area.is_some());
    let w = if has_area {
        2.0 * pw - 80.0 + right
    } else {
        pw + right
    };
    let ymin = s
        .iter()
        .flat_map(|h| h.approx_accuracy.iter().map(|(_, a)| a.mean - a.sd))
        .fold(100.0f64, f64::min)
        .floor()
        .max(0.0);
    let mut sc = Scene::new(w as u32, h as u32);
    sc.title(
        70.0,
        24.0,
        format!(
            "AxTrain: test accuracy with approximate products vs multiplier error{}",
            if has_area { " and area" } else { "" }
        ),
    );
    let mre: Vec<Option<f64>> = s.iter().map(|h| Some(h.mre_percent.max(1e-3))).collect();
    sc.group("mre", |sc| {
        panel(
            sc,
            s,
            &mre,
            (70.0, pw - 20.0, top, h - bottom),
            ymin,
            "mean relative error of the multiplier (MRE %, log scale)",
            "%",
            false,
        )
    });
    if has_area {
        let tr: Vec<Option<f64>> = s
            .iter()
            .map(|h| h.area.as_ref().map(|a| a.transistors.max(1) as f64))
            .collect();
        sc.group("area", |sc| {
            panel(
                sc,
                s,
                &tr,
                (pw + 30.0, 2.0 * pw - 100.0, top, h - bottom),
                ymin,
                "area: CMOS transistor estimate of the multiplier's RTL (yosys generic, log scale)",
                "",
                true,
            )
        });
    }
    if let Some(hs) = s.first() {
        let lx = w - right;
        for (mi, (m, _)) in hs.approx_accuracy.iter().enumerate() {
            let y = top + 20.0 + 18.0 * mi as f64;
            sc.circle(lx + 16.0, y, 4.0, COLOURS[mi % COLOURS.len()], None);
            sc.text(lx + 26.0, y + 4.0, 11.0, Anchor::Start, mode_name(*m));
        }
        let y = top + 20.0 + 18.0 * hs.approx_accuracy.len() as f64;
        sc.stroke_line(
            lx + 8.0,
            y,
            lx + 24.0,
            y,
            Stroke::new(EXACT).width(2.0),
            None,
        );
        sc.text(lx + 26.0, y + 4.0, 11.0, Anchor::Start, "exact products");
    }
    sc
}

/// [`scene`] as SVG.
pub fn svg(s: &[HwSummary]) -> String {
    to_svg(&scene(s))
}

/// One panel: accuracy (y, from `ymin` to 100 %) against log10 of `xs` (None: not drawn),
/// inside `(x0, x1, y0, y1)`; `unit` follows the decade tick labels; `area`: the hover texts
/// name each multiplier's area.
#[allow(clippy::too_many_arguments)]
fn panel(
    sc: &mut Scene,
    s: &[HwSummary],
    xs: &[Option<f64>],
    (x0, x1, y0, y1): (f64, f64, f64, f64),
    ymin: f64,
    label: &str,
    unit: &str,
    area: bool,
) {
    let lx: Vec<Option<f64>> = xs.iter().map(|x| x.map(f64::log10)).collect();
    let (xmin, xmax) = lx
        .iter()
        .flatten()
        .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    let (xmin, xmax) = if xmax - xmin < 0.5 {
        (xmin - 0.5, xmax + 0.5)
    } else {
        (xmin - 0.1 * (xmax - xmin), xmax + 0.1 * (xmax - xmin))
    };
    let px = |x: f64| x0 + (x1 - x0) * (x - xmin) / (xmax - xmin);
    let py = |y: f64| y0 + (y1 - y0) * (1.0 - (y - ymin) / (100.0 - ymin).max(1e-9));
    for k in 0..=5 {
        let y = ymin + (100.0 - ymin) * k as f64 / 5.0;
        sc.line(x0, py(y), x1, py(y), Rgb(0xdd, 0xdd, 0xdd));
        sc.text(x0 - 4.0, py(y) + 4.0, 11.0, Anchor::End, format!("{y:.1}%"));
    }
    for t in log_ticks(xmin, xmax) {
        let v = 10f64.powf(t);
        let txt = if v >= 1.0 {
            format!("{:.0}{unit}", v)
        } else {
            format!("{}{unit}", (v * 1e6).round() / 1e6)
        };
        sc.line(px(t), y0, px(t), y1, Rgb(0xee, 0xee, 0xee));
        sc.text(px(t), y1 + 14.0, 11.0, Anchor::Middle, txt);
    }
    sc.text((x0 + x1) / 2.0, y1 + 40.0, 11.0, Anchor::Middle, label);
    for (hi, hs) in s.iter().enumerate() {
        let Some(xv) = lx[hi] else { continue };
        let x = px(xv);
        let ye = py(hs.exact_accuracy.mean);
        sc.stroke_line(
            x - 8.0,
            ye,
            x + 8.0,
            ye,
            Stroke::new(EXACT).width(2.0),
            Some(format!(
                "{}: exact {:.2}%",
                hs.hardware, hs.exact_accuracy.mean
            )),
        );
        sc.text(
            x,
            y0 - 4.0 + 10.0 * (hi % 2) as f64,
            9.0,
            Anchor::Middle,
            hs.hardware.clone(),
        );
        let at = match &hs.area {
            Some(a) if area => format!(" ({} transistors, {} cells)", a.transistors, a.cells),
            _ => String::new(),
        };
        for (mi, (m, a)) in hs.approx_accuracy.iter().enumerate() {
            let c = COLOURS[mi % COLOURS.len()];
            let xm = x + 4.0 * (mi as f64 - 1.5);
            sc.line(xm, py(a.mean - a.sd), xm, py(a.mean + a.sd), c);
            sc.circle(
                xm,
                py(a.mean),
                3.5,
                c,
                Some(format!(
                    "{}{at} {}: {:.2} ± {:.2}%",
                    hs.hardware,
                    mode_name(*m),
                    a.mean,
                    a.sd
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::axtrain::area::Area;

    fn hw(name: &str, mre: f64, area: Option<u64>) -> HwSummary {
        let st = |mean| Stat {
            mean,
            sd: 0.5,
            n: 2,
        };
        HwSummary {
            hardware: name.into(),
            mae_percent: 0.1,
            mre_percent: mre,
            ep_percent: 50.0,
            mean_error: 0.0,
            std_error: 1.0,
            exact_accuracy: st(97.0),
            approx_accuracy: vec![(Mode::Baseline, st(90.0)), (Mode::Active, st(95.0))],
            recovered_percent: vec![(Mode::Active, Some(70.0))],
            sensitivity: vec![],
            sensitivity_cut_percent: None,
            area: area.map(|t| Area {
                module: "m".into(),
                cells: t / 10,
                transistors: t,
                yosys_seconds: 0.0,
            }),
        }
    }

    #[test]
    fn the_plot_keeps_its_panels_points_and_legend() {
        let s = [hw("drum:k=3", 2.0, Some(900)), hw("trunc<t>", 0.5, None)];
        let doc = svg(&s);
        assert!(doc.starts_with("<svg") && doc.trim_end().ends_with("</svg>"));
        assert!(doc.contains("<g id=\"mre\">") && doc.contains("<g id=\"area\">"));
        assert!(doc.contains("vs multiplier error and area"), "{doc}");
        // Hover texts: the exact level and every mode's mean ± sd, the area in its panel only.
        assert!(doc.contains("drum:k=3: exact 97.00%"), "{doc}");
        assert!(doc.contains("drum:k=3 (900 transistors, 90 cells) active: 95.00 ± 0.50%"));
        assert!(doc.contains("drum:k=3 active: 95.00 ± 0.50%"));
        assert!(doc.contains("trunc&lt;t&gt; conventional: 90.00 ± 0.50%"));
        assert!(doc.contains(">exact products</text>") && doc.contains(">active</text>"));
        assert!(doc.contains("stroke-width=\"2\""));
        // Without areas: one panel.
        let one = svg(&[hw("a", 1.0, None)]);
        assert!(one.contains("<g id=\"mre\">") && !one.contains("<g id=\"area\">"));
        // The same scene as PNG.
        assert_eq!(&crate::plot::to_png(&scene(&s)).unwrap()[1..4], b"PNG");
    }
}
