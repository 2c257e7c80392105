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
    out += &format!(
        "{:<28} {:>8} {:>8} {:>7} | {:>13}",
        "multiplier", "MAE%", "MRE%", "EP%", "exact acc"
    );
    for m in &modes {
        out += &format!(" | {:>13}", format!("{} acc", mode_name(*m)));
    }
    for m in modes.iter().skip(1) {
        out += &format!(" | {:>9}", format!("rec {}", mode_name(*m)));
    }
    out += " | sens cut\n";
    for h in s {
        out += &format!(
            "{:<28} {:8.4} {:8.3} {:7.2} | {:>13}",
            h.hardware,
            h.mae_percent,
            h.mre_percent,
            h.ep_percent,
            pm(&h.exact_accuracy)
        );
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
pub fn svg(s: &[HwSummary]) -> String {
    let (w, h, left, right, top, bottom) = (760.0, 460.0, 70.0, 170.0, 50.0, 60.0);
    let xs: Vec<f64> = s.iter().map(|h| h.mre_percent.max(1e-3).log10()).collect();
    let (xmin, xmax) = xs
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    let (xmin, xmax) = if xmax - xmin < 0.5 {
        (xmin - 0.5, xmax + 0.5)
    } else {
        (xmin - 0.1 * (xmax - xmin), xmax + 0.1 * (xmax - xmin))
    };
    let ymin = s
        .iter()
        .flat_map(|h| h.approx_accuracy.iter().map(|(_, a)| a.mean - a.sd))
        .fold(100.0f64, f64::min)
        .floor()
        .max(0.0);
    let px = |x: f64| left + (w - left - right) * (x - xmin) / (xmax - xmin);
    let py = |y: f64| top + (h - top - bottom) * (1.0 - (y - ymin) / (100.0 - ymin).max(1e-9));
    let mut o = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{left}\" y=\"24\" font-size=\"14\">AxTrain: test accuracy with approximate products vs multiplier error</text>\n"
    );
    for k in 0..=5 {
        let y = ymin + (100.0 - ymin) * k as f64 / 5.0;
        o += &format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{y:.1}%</text>\n",
            w - right, py(y), py(y), left - 4.0, py(y) + 4.0
        );
    }
    let mut d = xmin.ceil();
    while d <= xmax {
        o += &format!(
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{top}\" y2=\"{}\" stroke=\"#eee\"/><text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}%</text>\n",
            h - bottom, h - bottom + 14.0, 10f64.powf(d), x = px(d)
        );
        d += 1.0;
    }
    o += &format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">mean relative error of the multiplier (MRE %, log scale)</text>\n",
        (left + w - right) / 2.0,
        h - 20.0
    );
    let colours = ["#d04a4a", "#4a7bd0", "#3a9a4a", "#9a4ad0"];
    for (hi, hs) in s.iter().enumerate() {
        let x = px(xs[hi]);
        o += &format!(
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#888\" stroke-width=\"2\"><title>{}: exact {:.2}%</title></line>\n",
            x - 8.0, x + 8.0, esc(&hs.hardware), hs.exact_accuracy.mean, y = py(hs.exact_accuracy.mean)
        );
        o += &format!(
            "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"9\">{}</text>\n",
            top - 4.0 + 10.0 * (hi % 2) as f64,
            esc(&hs.hardware)
        );
        for (mi, (m, a)) in hs.approx_accuracy.iter().enumerate() {
            let c = colours[mi % colours.len()];
            let xm = x + 4.0 * (mi as f64 - 1.5);
            o += &format!(
                "<line x1=\"{xm:.1}\" x2=\"{xm:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"{c}\"/><circle cx=\"{xm:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{c}\"><title>{} {}: {:.2} ± {:.2}%</title></circle>\n",
                py(a.mean - a.sd), py(a.mean + a.sd), py(a.mean), esc(&hs.hardware), mode_name(*m), a.mean, a.sd
            );
        }
    }
    if let Some(hs) = s.first() {
        for (mi, (m, _)) in hs.approx_accuracy.iter().enumerate() {
            let y = top + 20.0 + 18.0 * mi as f64;
            o += &format!(
                "<circle cx=\"{}\" cy=\"{y:.1}\" r=\"4\" fill=\"{}\"/><text x=\"{}\" y=\"{:.1}\">{}</text>\n",
                w - right + 16.0, colours[mi % colours.len()], w - right + 26.0, y + 4.0, mode_name(*m)
            );
        }
        let y = top + 20.0 + 18.0 * hs.approx_accuracy.len() as f64;
        o += &format!(
            "<line x1=\"{}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#888\" stroke-width=\"2\"/><text x=\"{}\" y=\"{:.1}\">exact products</text>\n",
            w - right + 8.0, w - right + 24.0, w - right + 26.0, y + 4.0
        );
    }
    o += "</svg>\n";
    o
}
