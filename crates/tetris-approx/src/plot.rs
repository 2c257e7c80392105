//! The profile's plot: the error distribution (signed power-of-two bins, each labelled by the
//! range it counts) and the mean relative error by the operands' magnitudes (heatmap over
//! leading-one positions on a log colour scale with its legend; cells without a relative error,
//! where an operand is 0, are grey and crossed). A family sweep's plot: each metric against the
//! family's parameter on a log axis.
//!
//! The layout is built once as a list of rectangles and text labels ([`Scene`]) and rendered
//! either as SVG or as PNG. The PNG is rasterized here (rectangles are axis-aligned, text uses
//! the public-domain 8x8 bitmap font of the `font8x8` crate) and encoded with `png`: a plotting
//! library's bitmap backend cannot draw text without a TrueType font from the system or a
//! font file shipped with the project, and the plot needs nothing but boxes and labels.

use anyhow::{Context, Result};
use serde_json::Value;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rgb(pub u8, pub u8, pub u8);

pub const WHITE: Rgb = Rgb(255, 255, 255);
pub const BLACK: Rgb = Rgb(0, 0, 0);

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

#[derive(Debug, Clone)]
enum Shape {
    Rect {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        fill: Option<Rgb>,
        stroke: Option<Rgb>,
        /// Hover text (SVG only).
        title: Option<String>,
    },
    /// A straight line, one pixel wide.
    Line {
        x1: f64,
        y1: f64,
        x2: f64,
        y2: f64,
        stroke: Rgb,
    },
    /// Text with its baseline at (x, y), rotated clockwise by `rotate` degrees about (x, y).
    Text {
        x: f64,
        y: f64,
        size: f64,
        anchor: Anchor,
        rotate: f64,
        text: String,
    },
}

/// A plot as drawing primitives, in pixels (also `tetris explore`'s Pareto plot).
#[derive(Debug, Clone)]
pub struct Scene {
    w: u32,
    h: u32,
    shapes: Vec<Shape>,
}

impl Scene {
    /// An empty plot of w x h pixels on a white background.
    pub fn new(w: u32, h: u32) -> Self {
        let mut s = Scene {
            w,
            h,
            shapes: vec![],
        };
        s.rect(0.0, 0.0, w as f64, h as f64, WHITE, None);
        s
    }

    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Rgb, title: Option<String>) {
        self.shapes.push(Shape::Rect {
            x,
            y,
            w,
            h,
            fill: Some(fill),
            stroke: None,
            title,
        });
    }
    pub fn frame(&mut self, x: f64, y: f64, w: f64, h: f64, stroke: Rgb) {
        self.shapes.push(Shape::Rect {
            x,
            y,
            w,
            h,
            fill: None,
            stroke: Some(stroke),
            title: None,
        });
    }
    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: Rgb) {
        self.shapes.push(Shape::Line {
            x1,
            y1,
            x2,
            y2,
            stroke,
        });
    }
    pub fn text(&mut self, x: f64, y: f64, size: f64, anchor: Anchor, text: impl Into<String>) {
        self.rotated_text(x, y, size, anchor, 0.0, text);
    }
    pub fn rotated_text(
        &mut self,
        x: f64,
        y: f64,
        size: f64,
        anchor: Anchor,
        rotate: f64,
        text: impl Into<String>,
    ) {
        self.shapes.push(Shape::Text {
            x,
            y,
            size,
            anchor,
            rotate,
            text: text.into(),
        });
    }
}

/// Lay out the plot of a profile document (as built by `profile_json`).
fn profile_scene(doc: &Value) -> Scene {
    let mut s = Scene::new(1000, 480);
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
    s.text(20.0, 20.0, 14.0, Anchor::Start, title);
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
            Some(format!("{}..={}: {:.4}%", lo, b["hi"], 100.0 * share)),
        );
        // Every bar is labelled while its label fits (9 px per rotated line of text).
        if bw >= 9.0 || i % 2 == 0 {
            let hi = b["hi"].as_f64().unwrap_or(0.0);
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
    let matrix = |key: &str| -> Vec<Vec<f64>> {
        doc["by_magnitude"][key]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .map(|r| {
                        r.as_array()
                            .map(|c| c.iter().map(|v| v.as_f64().unwrap_or(0.0)).collect())
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let mre = matrix("mre_percent");
    let rel_count = matrix("rel_count");
    let m = mre.len().max(1);
    let (hx, hy, hs) = (560.0, 60.0, 280.0);
    let cs = hs / m as f64;
    let defined = |i: usize, j: usize| {
        rel_count
            .get(i)
            .and_then(|r| r.get(j))
            .copied()
            .unwrap_or(0.0)
            > 0.0
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

/// Colour of cells without a value (grey, outside the colour scale).
const UNDEFINED: Rgb = Rgb(0xd8, 0xd8, 0xd8);
/// Colour of an exact 0 on a log scale (which has no place for it).
const ZERO: Rgb = Rgb(0xff, 0xff, 0xff);

/// A logarithmic colour scale over whole decades, light (small) to dark (large).
struct LogScale {
    lo_decade: i32,
    hi_decade: i32,
}

impl LogScale {
    /// At most this many decades; smaller values get the lightest colour (the legend says so).
    const MAX_DECADES: i32 = 6;

    fn over(positive: &[f64]) -> Self {
        let max = positive.iter().cloned().fold(f64::MIN_POSITIVE, f64::max);
        let min = positive.iter().cloned().fold(max, f64::min);
        let hi_decade = max.log10().ceil() as i32;
        let lo_decade = (min.log10().floor() as i32)
            .max(hi_decade - Self::MAX_DECADES)
            .min(hi_decade - 1);
        LogScale {
            lo_decade,
            hi_decade,
        }
    }

    /// Position 0..=1 of value v on the scale.
    fn position(&self, v: f64) -> f64 {
        let span = (self.hi_decade - self.lo_decade) as f64;
        ((v.log10() - self.lo_decade as f64) / span).clamp(0.0, 1.0)
    }

    fn colour(&self, v: f64) -> Rgb {
        if v <= 0.0 {
            ZERO
        } else {
            ramp(self.position(v))
        }
    }

    /// A colour bar with one tick per decade, plus the two special colours.
    fn legend(&self, s: &mut Scene, x: f64, y: f64, h: f64) {
        let steps = 56;
        for k in 0..steps {
            // Dark (large) at the top.
            let t = 1.0 - (k as f64 + 0.5) / steps as f64;
            s.rect(
                x,
                y + h * k as f64 / steps as f64,
                14.0,
                h / steps as f64 + 0.5,
                ramp(t),
                None,
            );
        }
        s.frame(x, y, 14.0, h, Rgb(0x88, 0x88, 0x88));
        let span = self.hi_decade - self.lo_decade;
        for d in self.lo_decade..=self.hi_decade {
            let ty = y + h * (1.0 - (d - self.lo_decade) as f64 / span as f64);
            s.line(x + 14.0, ty, x + 18.0, ty, BLACK);
            let label = if d == self.lo_decade && span == Self::MAX_DECADES {
                format!("<={}%", decade(d))
            } else {
                format!("{}%", decade(d))
            };
            s.text(x + 20.0, ty + 3.0, 9.0, Anchor::Start, label);
        }
        s.text(x - 6.0, y + h + 30.0, 9.0, Anchor::Start, "log scale");
        s.rect(x - 6.0, y + h + 38.0, 10.0, 10.0, ZERO, None);
        s.frame(x - 6.0, y + h + 38.0, 10.0, 10.0, Rgb(0x88, 0x88, 0x88));
        s.text(x + 8.0, y + h + 47.0, 9.0, Anchor::Start, "0");
        s.rect(x + 22.0, y + h + 38.0, 10.0, 10.0, UNDEFINED, None);
        s.text(x + 36.0, y + h + 47.0, 9.0, Anchor::Start, "n/a");
    }
}

/// 10^d as a short decimal: 1e-3 -> "0.001", 100 -> "100", 1e6 -> "1e6".
fn decade(d: i32) -> String {
    match d {
        -4..=0 => format!("{}", 10f64.powi(d)),
        1..=4 => format!("{}", 10i64.pow(d as u32)),
        _ => format!("1e{d}"),
    }
}

/// Sequential colour ramp (light yellow to dark purple), t in 0..=1.
fn ramp(t: f64) -> Rgb {
    const STOPS: [(f64, f64, f64); 5] = [
        (255.0, 247.0, 188.0),
        (254.0, 196.0, 79.0),
        (236.0, 112.0, 20.0),
        (174.0, 1.0, 126.0),
        (63.0, 0.0, 125.0),
    ];
    let x = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * f).round() as u8;
    Rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
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
fn family_scene(doc: &Value) -> Scene {
    let mut s = Scene::new(1000, 420);
    let members = doc["members"].as_array().cloned().unwrap_or_default();
    let param = doc["family"]["parameter"]
        .as_str()
        .unwrap_or("k")
        .to_string();
    let xs: Vec<f64> = members
        .iter()
        .map(|m| m["family_value"].as_f64().unwrap_or(0.0))
        .collect();
    s.text(
        20.0,
        20.0,
        14.0,
        Anchor::Start,
        format!(
            "{} {}-bit {} over {param} (log scale)",
            doc["family"]["spec"].as_str().unwrap_or("?"),
            doc["family"]["width"],
            if doc["family"]["signed"].as_bool() == Some(true) {
                "signed"
            } else {
                "unsigned"
            }
        ),
    );
    let series: [(&str, &str, Rgb); 4] = [
        ("mre_percent", "MRE %", Rgb(0x1f, 0x77, 0xb4)),
        ("mae_percent", "MAE %", Rgb(0xd6, 0x27, 0x28)),
        ("wce_percent", "WCE %", Rgb(0x2c, 0xa0, 0x2c)),
        ("ep_percent", "EP %", Rgb(0x94, 0x67, 0xbd)),
    ];
    let value = |m: &Value, k: &str| m["metrics"][k].as_f64().unwrap_or(0.0);
    let positive: Vec<f64> = members
        .iter()
        .flat_map(|m| series.iter().map(move |(k, _, _)| value(m, k)))
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
    for (n, (key, label, colour)) in series.iter().enumerate() {
        let pts: Vec<(f64, f64)> = members
            .iter()
            .zip(&xs)
            .map(|(m, &x)| (x, value(m, key)))
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

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn css(c: Rgb) -> String {
    format!("rgb({},{},{})", c.0, c.1, c.2)
}

pub fn to_svg(scene: &Scene) -> String {
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"11\">\n",
        scene.w, scene.h
    );
    for sh in &scene.shapes {
        match sh {
            Shape::Rect {
                x,
                y,
                w,
                h,
                fill,
                stroke,
                title,
            } => {
                let fill = fill.map_or("none".to_string(), css);
                let stroke = stroke.map_or(String::new(), |c| format!(" stroke=\"{}\"", css(c)));
                let _ = write!(
                    s,
                    "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\"{stroke}"
                );
                match title {
                    Some(t) => {
                        let _ = writeln!(s, "><title>{}</title></rect>", esc(t));
                    }
                    None => s.push_str("/>\n"),
                }
            }
            Shape::Line {
                x1,
                y1,
                x2,
                y2,
                stroke,
            } => {
                let _ = writeln!(
                    s,
                    "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{}\"/>",
                    css(*stroke)
                );
            }
            Shape::Text {
                x,
                y,
                size,
                anchor,
                rotate,
                text,
            } => {
                let anchor = match anchor {
                    Anchor::Start => "",
                    Anchor::Middle => " text-anchor=\"middle\"",
                    Anchor::End => " text-anchor=\"end\"",
                };
                let rot = if *rotate != 0.0 {
                    format!(" transform=\"rotate({rotate} {x:.1} {y:.1})\"")
                } else {
                    String::new()
                };
                let _ = writeln!(
                    s,
                    "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{size}\"{anchor}{rot}>{}</text>",
                    esc(text)
                );
            }
        }
    }
    s.push_str("</svg>\n");
    s
}

/// An RGB pixel buffer.
struct Raster {
    w: u32,
    h: u32,
    px: Vec<u8>,
}

/// Horizontal advance of one glyph of the 8x8 font (its glyphs leave the 8th column empty).
const GLYPH_ADVANCE: f64 = 7.0;

impl Raster {
    fn put(&mut self, x: i64, y: i64, c: Rgb) {
        if x >= 0 && y >= 0 && (x as u32) < self.w && (y as u32) < self.h {
            let i = 3 * (y as usize * self.w as usize + x as usize);
            self.px[i..i + 3].copy_from_slice(&[c.0, c.1, c.2]);
        }
    }

    fn fill(&mut self, x: f64, y: f64, w: f64, h: f64, c: Rgb) {
        let (x0, y0) = (x.round() as i64, y.round() as i64);
        let (x1, y1) = ((x + w).round() as i64, (y + h).round() as i64);
        for yy in y0..y1 {
            for xx in x0..x1 {
                self.put(xx, yy, c);
            }
        }
    }

    fn frame(&mut self, x: f64, y: f64, w: f64, h: f64, c: Rgb) {
        let (x0, y0) = (x.round() as i64, y.round() as i64);
        let (x1, y1) = ((x + w).round() as i64, (y + h).round() as i64);
        for xx in x0..=x1 {
            self.put(xx, y0, c);
            self.put(xx, y1, c);
        }
        for yy in y0..=y1 {
            self.put(x0, yy, c);
            self.put(x1, yy, c);
        }
    }

    /// A line, one pixel wide: one pixel per step along the longer axis.
    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, c: Rgb) {
        let steps = (x2 - x1).abs().max((y2 - y1).abs()).round().max(1.0) as i64;
        for k in 0..=steps {
            let t = k as f64 / steps as f64;
            self.put(
                (x1 + (x2 - x1) * t).round() as i64,
                (y1 + (y2 - y1) * t).round() as i64,
                c,
            );
        }
    }

    /// Text in the 8x8 font at its natural size (the font has one size), baseline at (x, y),
    /// rotated clockwise by `deg` about (x, y): every destination pixel of the rotated box is
    /// mapped back into the unrotated text and takes the glyph bit found there.
    fn text(&mut self, x: f64, y: f64, anchor: Anchor, deg: f64, text: &str) {
        let glyphs: Vec<[u8; 8]> = text
            .chars()
            .map(|ch| {
                let i = ch as usize;
                if i < 128 {
                    font8x8::legacy::BASIC_LEGACY[i]
                } else {
                    font8x8::legacy::BASIC_LEGACY[b'?' as usize]
                }
            })
            .collect();
        let len = glyphs.len() as f64 * GLYPH_ADVANCE;
        let u0 = match anchor {
            Anchor::Start => 0.0,
            Anchor::Middle => -len / 2.0,
            Anchor::End => -len,
        };
        // Text space: u along the baseline from the anchor, v down from the baseline; the
        // glyph rows 0..8 sit at v = -7..1.
        let (sin, cos) = deg.to_radians().sin_cos();
        let corners = [(u0, -7.0), (u0 + len, -7.0), (u0, 1.0), (u0 + len, 1.0)];
        let (mut xmin, mut xmax, mut ymin, mut ymax) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for (u, v) in corners {
            let (px, py) = (x + u * cos - v * sin, y + u * sin + v * cos);
            xmin = xmin.min(px);
            xmax = xmax.max(px);
            ymin = ymin.min(py);
            ymax = ymax.max(py);
        }
        for py in ymin.floor() as i64..=ymax.ceil() as i64 {
            for px in xmin.floor() as i64..=xmax.ceil() as i64 {
                let (dx, dy) = (px as f64 + 0.5 - x, py as f64 + 0.5 - y);
                let (u, v) = (dx * cos + dy * sin - u0, -dx * sin + dy * cos + 7.0);
                if u < 0.0 || v < 0.0 || u >= len || v >= 8.0 {
                    continue;
                }
                let g = (u / GLYPH_ADVANCE) as usize;
                let col = (u - g as f64 * GLYPH_ADVANCE) as usize;
                let row = v as usize;
                if glyphs[g][row] >> col & 1 == 1 {
                    self.put(px, py, BLACK);
                }
            }
        }
    }
}

fn to_png(scene: &Scene) -> Result<Vec<u8>> {
    let mut r = Raster {
        w: scene.w,
        h: scene.h,
        px: vec![255; 3 * scene.w as usize * scene.h as usize],
    };
    for sh in &scene.shapes {
        match sh {
            Shape::Rect {
                x,
                y,
                w,
                h,
                fill,
                stroke,
                ..
            } => {
                if let Some(c) = fill {
                    r.fill(*x, *y, *w, *h, *c);
                }
                if let Some(c) = stroke {
                    r.frame(*x, *y, *w, *h, *c);
                }
            }
            Shape::Line {
                x1,
                y1,
                x2,
                y2,
                stroke,
            } => r.line(*x1, *y1, *x2, *y2, *stroke),
            Shape::Text {
                x,
                y,
                anchor,
                rotate,
                text,
                ..
            } => r.text(*x, *y, *anchor, *rotate, text),
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, r.w, r.h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().context("PNG header")?;
        wr.write_image_data(&r.px).context("PNG image data")?;
        wr.finish().context("PNG end")?;
    }
    Ok(out)
}

/// The plot of a document: a family sweep (`family` + `members`) or one profile.
fn scene(doc: &Value) -> Scene {
    if doc["members"].is_array() {
        family_scene(doc)
    } else {
        profile_scene(doc)
    }
}

/// The plot of a profile (or family) document as SVG.
pub fn profile_svg(doc: &Value) -> String {
    to_svg(&scene(doc))
}

/// The plot of a profile (or family) document as PNG (RGB, 8 bits per channel).
pub fn profile_png(doc: &Value) -> Result<Vec<u8>> {
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

    pub fn render(self, doc: &Value) -> Result<Vec<u8>> {
        match self {
            PlotFormat::Svg => Ok(profile_svg(doc).into_bytes()),
            PlotFormat::Png => profile_png(doc),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_text_lands_where_rotated() {
        // "I" drawn straight and rotated by 90 degrees: the vertical stroke becomes horizontal.
        let mut r = Raster {
            w: 40,
            h: 40,
            px: vec![255; 3 * 40 * 40],
        };
        r.text(20.0, 20.0, Anchor::Start, 90.0, "I");
        let dark: Vec<(usize, usize)> = (0..40 * 40)
            .filter(|i| r.px[3 * i] == 0)
            .map(|i| (i % 40, i / 40))
            .collect();
        assert!(!dark.is_empty());
        let (xs, ys): (Vec<usize>, Vec<usize>) = dark.iter().cloned().unzip();
        let span = |v: &[usize]| v.iter().max().unwrap() - v.iter().min().unwrap();
        // Rotated clockwise by 90 degrees about (20, 20): the glyph, 8 tall above the
        // baseline, now extends to the right of x = 20 ... 28 and below y = 20.
        assert!(span(&xs) > span(&ys), "{dark:?}");
        assert!(
            xs.iter().all(|&x| x >= 12) && ys.iter().all(|&y| y >= 19),
            "{dark:?}"
        );
    }
}
