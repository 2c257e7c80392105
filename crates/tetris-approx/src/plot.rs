//! The profile's plot: the error distribution (signed power-of-two bins, each labelled by the
//! range it counts) and the mean relative error by the operands' magnitudes (heatmap over
//! leading-one positions on a log colour scale with its legend; cells without a relative error,
//! where an operand is 0, are grey and crossed). A family sweep's plot: each metric against the
//! family's parameter on a log axis.
//!
//! Only the layouts live here: the scene they are drawn on, its SVG and PNG renderers and the
//! colour scales are tetris-plot's, re-exported here so `noise::plot::{Scene, to_svg, ...}`
//! keeps naming them.

use super::metrics::Metrics;
use super::profile::{Document, Family, Profile};
use anyhow::Result;
pub use tetris_plot::*;

/// Lay out the plot of a profile.
fn profile_scene(p: &Profile) -> Scene {
    let mut s = Scene::new(1000, 480);
    let (mult, mt) = (&p.multiplier, &p.metrics);
    let title = format!(
        "{} {}-bit {}: MAE {:.4}% WCE {:.4}% EP {:.2}% MRE {:.4}%",
        mult.spec,
        mult.width,
        if mult.signed { "signed" } else { "unsigned" },
        mt.mae_percent,
        mt.wce_percent,
        mt.ep_percent,
        mt.mre_percent,
    );
    s.text(20.0, 20.0, 14.0, Anchor::Start, title);
    // Panel 1: error histogram, share of pairs per signed power-of-two bin.
    let bins = &p.histograms.error_log2.bins;
    let total: f64 = bins.iter().map(|b| b.count as f64).sum::<f64>().max(1.0);
    let (x0, y0, pw, ph) = (60.0, 60.0, 420.0, 280.0);
    s.text(
        x0,
        y0 - 10.0,
        11.0,
        Anchor::Start,
        "share of pairs by error e = approx - exact (signed 2^k bins)",
    );
    s.frame(x0, y0, pw, ph, Rgb(0x88, 0x88, 0x88));
    let maxshare = bins
        .iter()
        .map(|b| b.count as f64 / total)
        .fold(0.0f64, f64::max)
        .max(1e-12);
    let nb = bins.len().max(1) as f64;
    let bw = pw / nb;
    for (i, b) in bins.iter().enumerate() {
        let share = b.count as f64 / total;
        let bh = ph * share / maxshare;
        let x = x0 + i as f64 * bw;
        let (lo, hi) = (b.lo, b.hi);
        let color = if lo < 0.0 {
            Rgb(0xc0, 0x50, 0x4d)
        } else if lo == 0.0 {
            Rgb(0x4f, 0x81, 0xbd)
        } else {
            Rgb(0x9b, 0xbb, 0x59)
        };
        s.rect(
            x + 1.0,
            y0 + ph - bh,
            (bw - 2.0).max(1.0),
            bh,
            color,
            Some(format!("{lo}..={hi}: {:.4}%", 100.0 * share)),
        );
        // Every bar is labelled while its label fits (9 px per rotated line of text).
        if bw >= 9.0 || i % 2 == 0 {
            s.rotated_text(
                x + bw / 2.0 - 4.0,
                y0 + ph + 6.0,
                9.0,
                Anchor::Start,
                90.0,
                bin_label(lo, hi),
            );
        }
    }
    s.text(
        x0 - 4.0,
        y0 + 10.0,
        11.0,
        Anchor::End,
        format!("{:.1}%", 100.0 * maxshare),
    );
    s.text(x0 - 4.0, y0 + ph, 11.0, Anchor::End, "0");
    // Panel 2: heatmap of MRE% by bit length of |a| and |b|, log colour scale.
    let mre = &p.by_magnitude.mre_percent;
    let rel_count = &p.by_magnitude.rel_count;
    let m = mre.len().max(1);
    let (hx, hy, hs) = (560.0, 60.0, 280.0);
    let cs = hs / m as f64;
    let defined = |i: usize, j: usize| {
        rel_count
            .get(i)
            .and_then(|r| r.get(j))
            .is_some_and(|&c| c > 0)
    };
    let positive: Vec<f64> = (0..m)
        .flat_map(|i| (0..m).map(move |j| (i, j)))
        .filter(|&(i, j)| defined(i, j))
        .map(|(i, j)| mre[i][j])
        .filter(|&v| v > 0.0)
        .collect();
    let scale = LogScale::over(&positive);
    s.text(
        hx,
        hy - 10.0,
        11.0,
        Anchor::Start,
        "MRE % by bit length of |a| (rows) and |b| (columns)",
    );
    for (i, row) in mre.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            let (x, y) = (hx + j as f64 * cs, hy + i as f64 * cs);
            if !defined(i, j) {
                // No relative error here (a zero operand): grey with a cross, not a colour of
                // the scale.
                s.rect(
                    x,
                    y,
                    cs,
                    cs,
                    UNDEFINED,
                    Some(format!(
                        "|a| bits {i}, |b| bits {j}: undefined (exact product 0)"
                    )),
                );
                s.line(
                    x + 2.0,
                    y + 2.0,
                    x + cs - 2.0,
                    y + cs - 2.0,
                    Rgb(0x99, 0x99, 0x99),
                );
                s.line(
                    x + 2.0,
                    y + cs - 2.0,
                    x + cs - 2.0,
                    y + 2.0,
                    Rgb(0x99, 0x99, 0x99),
                );
            } else {
                s.rect(
                    x,
                    y,
                    cs,
                    cs,
                    scale.colour(v),
                    Some(format!("|a| bits {i}, |b| bits {j}: MRE {v:.4}%")),
                );
            }
            s.frame(x, y, cs, cs, Rgb(0xee, 0xee, 0xee));
        }
        s.text(
            hx - 3.0,
            hy + (i as f64 + 0.7) * cs,
            9.0,
            Anchor::End,
            i.to_string(),
        );
        s.text(
            hx + (i as f64 + 0.5) * cs,
            hy + hs + 12.0,
            9.0,
            Anchor::Middle,
            i.to_string(),
        );
    }
    scale.legend(&mut s, hx + hs + 20.0, hy, hs);
    s
}

/// The label of an error bin [lo, hi] (inclusive integers): the numbers while they are short,
/// else the power-of-two interval they span.
fn bin_label(lo: f64, hi: f64) -> String {
    if lo == hi {
        return format!("{lo}");
    }
    if lo.abs().max(hi.abs()) < 1000.0 {
        return format!("{lo}..{hi}");
    }
    if lo > 0.0 {
        let k = lo.log2().round() as i64;
        format!("[2^{k},2^{})", k + 1)
    } else {
        let k = (-hi).log2().round() as i64;
        format!("(-2^{},-2^{k}]", k + 1)
    }
}

/// The plot of a family of multipliers: each metric against the family's parameter, log y.
fn family_scene(doc: &Family) -> Scene {
    let mut s = Scene::new(1000, 420);
    let members = &doc.members;
    let param = doc.family.parameter.clone();
    let xs: Vec<f64> = members.iter().map(|m| f64::from(m.family_value)).collect();
    s.title(
        20.0,
        20.0,
        format!(
            "{} {}-bit {} over {param} (log scale)",
            doc.family.spec,
            doc.family.width,
            if doc.family.signed {
                "signed"
            } else {
                "unsigned"
            }
        ),
    );
    type Figure = fn(&Metrics) -> f64;
    let series: [(Figure, &str, Rgb); 4] = [
        (|m| m.mre_percent, "MRE %", Rgb(0x1f, 0x77, 0xb4)),
        (|m| m.mae_percent, "MAE %", Rgb(0xd6, 0x27, 0x28)),
        (|m| m.wce_percent, "WCE %", Rgb(0x2c, 0xa0, 0x2c)),
        (|m| m.ep_percent, "EP %", Rgb(0x94, 0x67, 0xbd)),
    ];
    let positive: Vec<f64> = members
        .iter()
        .flat_map(|m| series.iter().map(move |(f, _, _)| f(&m.profile.metrics)))
        .filter(|&v| v > 0.0)
        .collect();
    let max = positive.iter().cloned().fold(f64::MIN_POSITIVE, f64::max);
    let min = positive.iter().cloned().fold(max, f64::min);
    let (hi_d, lo_d) = (max.log10().ceil() as i32, min.log10().floor() as i32);
    let lo_d = lo_d.min(hi_d - 1);
    let (x0, y0, pw, ph) = (80.0, 50.0, 720.0, 310.0);
    s.frame(x0, y0, pw, ph, Rgb(0x88, 0x88, 0x88));
    let (xmin, xmax) = (
        xs.iter().cloned().fold(f64::MAX, f64::min),
        xs.iter().cloned().fold(f64::MIN, f64::max),
    );
    let px = |x: f64| {
        if xmax > xmin {
            x0 + 20.0 + (pw - 40.0) * (x - xmin) / (xmax - xmin)
        } else {
            x0 + pw / 2.0
        }
    };
    let py = |v: f64| y0 + ph * (1.0 - (v.log10() - lo_d as f64) / (hi_d - lo_d) as f64);
    for d in lo_d..=hi_d {
        let y = py(10f64.powi(d));
        s.line(x0, y, x0 + pw, y, Rgb(0xee, 0xee, 0xee));
        s.text(
            x0 - 4.0,
            y + 3.0,
            9.0,
            Anchor::End,
            format!("{}%", decade(d)),
        );
    }
    for &x in &xs {
        s.line(px(x), y0 + ph, px(x), y0 + ph + 4.0, BLACK);
        s.text(px(x), y0 + ph + 16.0, 9.0, Anchor::Middle, format!("{x}"));
    }
    s.text(
        x0 + pw / 2.0,
        y0 + ph + 34.0,
        11.0,
        Anchor::Middle,
        param.clone(),
    );
    for (n, (figure, label, colour)) in series.iter().enumerate() {
        let pts: Vec<(f64, f64)> = members
            .iter()
            .zip(&xs)
            .map(|(m, &x)| (x, figure(&m.profile.metrics)))
            .filter(|&(_, v)| v > 0.0)
            .map(|(x, v)| (px(x), py(v)))
            .collect();
        for w in pts.windows(2) {
            s.line(w[0].0, w[0].1, w[1].0, w[1].1, *colour);
        }
        for &(x, y) in &pts {
            s.rect(x - 2.5, y - 2.5, 5.0, 5.0, *colour, None);
        }
        let ly = y0 + 10.0 + 18.0 * n as f64;
        s.rect(x0 + pw + 16.0, ly - 5.0, 10.0, 10.0, *colour, None);
        s.text(x0 + pw + 32.0, ly + 4.0, 11.0, Anchor::Start, *label);
    }
    s.text(
        x0 + pw + 16.0,
        y0 + 100.0,
        9.0,
        Anchor::Start,
        "0 is not drawn",
    );
    s
}

/// The plot of a document: a family sweep or one profile.
fn scene(doc: Document) -> Scene {
    match doc {
        Document::Family(f) => family_scene(f),
        Document::Profile(p) => profile_scene(p),
    }
}

/// The plot of a profile (or family) document as SVG.
pub fn profile_svg(doc: Document) -> String {
    to_svg(&scene(doc))
}

/// The plot of a profile (or family) document as PNG (RGB, 8 bits per channel).
pub fn profile_png(doc: Document) -> Result<Vec<u8>> {
    to_png(&scene(doc))
}

/// Plot formats, chosen by the output file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotFormat {
    Svg,
    Png,
}

impl PlotFormat {
    pub fn from_path(p: &std::path::Path) -> Option<Self> {
        match p
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("svg") => Some(PlotFormat::Svg),
            Some("png") => Some(PlotFormat::Png),
            _ => None,
        }
    }

    pub fn render(self, doc: Document) -> Result<Vec<u8>> {
        match self {
            PlotFormat::Svg => Ok(profile_svg(doc).into_bytes()),
            PlotFormat::Png => profile_png(doc),
        }
    }
}
