//! The profile's plot as SVG: the error distribution (signed power-of-two bins) and the mean
//! relative error by the operands' magnitudes (heatmap over leading-one positions).

use serde_json::Value;
use std::fmt::Write;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Render a profile document (as built by `profile_json`).
pub fn profile_svg(doc: &Value) -> String {
    let (w, h) = (980.0, 420.0);
    let mut s = String::new();
    let title = format!(
        "{} {}-bit {}: MAE {:.4}% WCE {:.4}% EP {:.2}% MRE {:.4}%",
        doc["multiplier"]["spec"].as_str().unwrap_or("?"),
        doc["multiplier"]["width"],
        if doc["multiplier"]["signed"].as_bool() == Some(true) {
            "signed"
        } else {
            "unsigned"
        },
        doc["metrics"]["mae_percent"].as_f64().unwrap_or(0.0),
        doc["metrics"]["wce_percent"].as_f64().unwrap_or(0.0),
        doc["metrics"]["ep_percent"].as_f64().unwrap_or(0.0),
        doc["metrics"]["mre_percent"].as_f64().unwrap_or(0.0),
    );
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"20\" y=\"20\" font-size=\"14\">{}</text>",
        esc(&title)
    );
    // Panel 1: error histogram, share of pairs per signed power-of-two bin.
    let bins = doc["histograms"]["error_log2"]["bins"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let total: f64 = bins
        .iter()
        .map(|b| b["count"].as_f64().unwrap_or(0.0))
        .sum::<f64>()
        .max(1.0);
    let (x0, y0, pw, ph) = (60.0, 60.0, 420.0, 280.0);
    let _ = writeln!(s, "<text x=\"{x0}\" y=\"{}\">share of pairs by error e = approx - exact (signed power-of-two bins)</text>", y0 - 10.0);
    let _ = writeln!(s, "<rect x=\"{x0}\" y=\"{y0}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#888\"/>");
    let maxshare = bins
        .iter()
        .map(|b| b["count"].as_f64().unwrap_or(0.0) / total)
        .fold(0.0f64, f64::max)
        .max(1e-12);
    let nb = bins.len().max(1) as f64;
    let bw = pw / nb;
    for (i, b) in bins.iter().enumerate() {
        let share = b["count"].as_f64().unwrap_or(0.0) / total;
        let bh = ph * share / maxshare;
        let x = x0 + i as f64 * bw;
        let lo = b["lo"].as_f64().unwrap_or(0.0);
        let color = if lo < 0.0 {
            "#c0504d"
        } else if lo == 0.0 {
            "#4f81bd"
        } else {
            "#9bbb59"
        };
        let _ = writeln!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{color}\"><title>{}..={}: {:.4}%</title></rect>",
            x + 1.0, y0 + ph - bh, (bw - 2.0).max(1.0), bh, lo, b["hi"], 100.0 * share
        );
        if bins.len() <= 24 || i % 2 == 0 {
            let label = if lo == 0.0 {
                "0".to_string()
            } else {
                let k = (lo.abs().max(b["hi"].as_f64().unwrap_or(0.0).abs()) + 1.0)
                    .log2()
                    .round();
                format!("{}2^{}", if lo < 0.0 { "-" } else { "" }, k)
            };
            let _ = writeln!(s, "<text x=\"{:.1}\" y=\"{:.1}\" transform=\"rotate(60 {:.1} {:.1})\" font-size=\"9\">{label}</text>",
                x + bw / 2.0, y0 + ph + 10.0, x + bw / 2.0, y0 + ph + 10.0);
        }
    }
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{:.1}%</text>",
        x0 - 4.0,
        y0 + 10.0,
        100.0 * maxshare
    );
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>",
        x0 - 4.0,
        y0 + ph
    );
    // Panel 2: heatmap of MRE% by bit length of |a| and |b|.
    let mre = doc["by_magnitude"]["mre_percent"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let m = mre.len().max(1);
    let (hx, hy, hs) = (560.0, 60.0, 280.0);
    let cs = hs / m as f64;
    let maxv = mre
        .iter()
        .flat_map(|r| r.as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_f64())
        .fold(0.0f64, f64::max)
        .max(1e-12);
    let _ = writeln!(s, "<text x=\"{hx}\" y=\"{}\">mean relative error % by bit length of |a| (rows) and |b| (cols)</text>", hy - 10.0);
    for (i, row) in mre.iter().enumerate() {
        for (j, v) in row
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let v = v.as_f64().unwrap_or(0.0);
            let t = (v / maxv).clamp(0.0, 1.0);
            let (r, g, b) = (255.0 - 60.0 * t, 255.0 - 200.0 * t, 255.0 - 230.0 * t);
            let _ = writeln!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{cs:.1}\" height=\"{cs:.1}\" fill=\"rgb({:.0},{:.0},{:.0})\" stroke=\"#eee\"><title>|a| bits {i}, |b| bits {j}: MRE {v:.4}%</title></rect>",
                hx + j as f64 * cs, hy + i as f64 * cs, r, g, b
            );
        }
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"9\">{i}</text>",
            hx - 3.0,
            hy + (i as f64 + 0.7) * cs
        );
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"9\">{i}</text>",
            hx + (i as f64 + 0.5) * cs,
            hy + hs + 12.0
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{hx}\" y=\"{}\">darkest = {:.3}% (hover a cell for its value)</text>",
        hy + hs + 30.0,
        maxv
    );
    s.push_str("</svg>\n");
    s
}
