//! The sweep's table (terminal), JSON document and plot (SVG: approximate-inference accuracy
//! against the multiplier's mean relative error, per mode, with the exact-inference level).

use super::experiment::{HwSummary, Stat, SweepResult};
use super::train::Mode;
use serde_json::{json, Value};

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

/// The JSON document of a sweep.
pub fn to_json(r: &SweepResult, config: Value) -> Value {
    json!({
        "config": config,
        "summary": r.summaries,
        "runs": r.runs,
    })
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Approximate-inference accuracy (mean, ±sd bars) against log10 of the multiplier's MRE,
/// one colour per mode; grey ticks: the conventional network's exact-inference accuracy.
/// When the summaries carry an area (`--area`), a second panel plots the same accuracies
/// against the multiplier's transistor estimate (multipliers without an area are left out).
pub fn svg(s: &[HwSummary]) -> String {
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
    let mut o = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"70\" y=\"24\" font-size=\"14\">AxTrain: test accuracy with approximate products vs multiplier error{}</text>\n",
        if has_area { " and area" } else { "" }
    );
    let mre: Vec<Option<f64>> = s.iter().map(|h| Some(h.mre_percent.max(1e-3))).collect();
    o += &panel(
        s,
        &mre,
        (70.0, pw - 20.0, top, h - bottom),
        ymin,
        "mean relative error of the multiplier (MRE %, log scale)",
        "%",
        "mre",
    );
    if has_area {
        let tr: Vec<Option<f64>> = s
            .iter()
            .map(|h| h.area.as_ref().map(|a| a.transistors.max(1) as f64))
            .collect();
        o += &panel(
            s,
            &tr,
            (pw + 30.0, 2.0 * pw - 100.0, top, h - bottom),
            ymin,
            "area: CMOS transistor estimate of the multiplier's RTL (yosys generic, log scale)",
            "",
            "area",
        );
    }
    let colours = ["#d04a4a", "#4a7bd0", "#3a9a4a", "#9a4ad0"];
    if let Some(hs) = s.first() {
        let lx = w - right;
        for (mi, (m, _)) in hs.approx_accuracy.iter().enumerate() {
            let y = top + 20.0 + 18.0 * mi as f64;
            o += &format!(
                "<circle cx=\"{}\" cy=\"{y:.1}\" r=\"4\" fill=\"{}\"/><text x=\"{}\" y=\"{:.1}\">{}</text>\n",
                lx + 16.0, colours[mi % colours.len()], lx + 26.0, y + 4.0, mode_name(*m)
            );
        }
        let y = top + 20.0 + 18.0 * hs.approx_accuracy.len() as f64;
        o += &format!(
            "<line x1=\"{}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#888\" stroke-width=\"2\"/><text x=\"{}\" y=\"{:.1}\">exact products</text>\n",
            lx + 8.0, lx + 24.0, lx + 26.0, y + 4.0
        );
    }
    o += "</svg>\n";
    o
}

/// One panel: accuracy (y, from `ymin` to 100 %) against log10 of `xs` (None: not drawn),
/// inside `(x0, x1, y0, y1)`; `unit` follows the decade tick labels; `id` names the panel's
/// group.
fn panel(
    s: &[HwSummary],
    xs: &[Option<f64>],
    (x0, x1, y0, y1): (f64, f64, f64, f64),
    ymin: f64,
    label: &str,
    unit: &str,
    id: &str,
) -> String {
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
    let mut o = format!("<g id=\"{id}\">\n");
    for k in 0..=5 {
        let y = ymin + (100.0 - ymin) * k as f64 / 5.0;
        o += &format!(
            "<line x1=\"{x0}\" x2=\"{x1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{y:.1}%</text>\n",
            py(y), py(y), x0 - 4.0, py(y) + 4.0
        );
    }
    // Decades, and 2x / 5x between them when the axis spans less than two decades.
    let mut ticks = vec![];
    let mut d = xmin.floor();
    while d <= xmax {
        for (f, major) in [(1.0, true), (2.0, false), (5.0, false)] {
            let t = d + f64::log10(f);
            if t >= xmin && t <= xmax && (major || xmax - xmin < 2.0) {
                ticks.push(t);
            }
        }
        d += 1.0;
    }
    for t in ticks {
        let v = 10f64.powf(t);
        let txt = if v >= 1.0 {
            format!("{:.0}{unit}", v)
        } else {
            format!("{}{unit}", (v * 1e6).round() / 1e6)
        };
        o += &format!(
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{y0}\" y2=\"{y1}\" stroke=\"#eee\"/><text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{txt}</text>\n",
            y1 + 14.0, x = px(t)
        );
    }
    o += &format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
        (x0 + x1) / 2.0,
        y1 + 40.0,
        esc(label)
    );
    let colours = ["#d04a4a", "#4a7bd0", "#3a9a4a", "#9a4ad0"];
    for (hi, hs) in s.iter().enumerate() {
        let Some(xv) = lx[hi] else { continue };
        let x = px(xv);
        o += &format!(
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#888\" stroke-width=\"2\"><title>{}: exact {:.2}%</title></line>\n",
            x - 8.0, x + 8.0, esc(&hs.hardware), hs.exact_accuracy.mean, y = py(hs.exact_accuracy.mean)
        );
        o += &format!(
            "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"9\">{}</text>\n",
            y0 - 4.0 + 10.0 * (hi % 2) as f64,
            esc(&hs.hardware)
        );
        let at = match &hs.area {
            Some(a) if id == "area" => {
                format!(" ({} transistors, {} cells)", a.transistors, a.cells)
            }
            _ => String::new(),
        };
        for (mi, (m, a)) in hs.approx_accuracy.iter().enumerate() {
            let c = colours[mi % colours.len()];
            let xm = x + 4.0 * (mi as f64 - 1.5);
            o += &format!(
                "<line x1=\"{xm:.1}\" x2=\"{xm:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"{c}\"/><circle cx=\"{xm:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{c}\"><title>{}{at} {}: {:.2} ± {:.2}%</title></circle>\n",
                py(a.mean - a.sd), py(a.mean + a.sd), py(a.mean), esc(&hs.hardware), mode_name(*m), a.mean, a.sd
            );
        }
    }
    o += "</g>\n";
    o
}
