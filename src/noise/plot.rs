//! The profile's plot: the error distribution (signed power-of-two bins) and the mean relative
//! error by the operands' magnitudes (heatmap over leading-one positions).
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
struct Rgb(u8, u8, u8);

const WHITE: Rgb = Rgb(255, 255, 255);
const BLACK: Rgb = Rgb(0, 0, 0);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Anchor {
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

/// A plot as drawing primitives, in pixels.
#[derive(Debug, Clone)]
struct Scene {
    w: u32,
    h: u32,
    shapes: Vec<Shape>,
}

impl Scene {
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Rgb, title: Option<String>) {
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
    fn frame(&mut self, x: f64, y: f64, w: f64, h: f64, stroke: Rgb) {
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
    fn text(&mut self, x: f64, y: f64, size: f64, anchor: Anchor, text: impl Into<String>) {
        self.rotated_text(x, y, size, anchor, 0.0, text);
    }
    fn rotated_text(
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
    let mut s = Scene {
        w: 1000,
        h: 420,
        shapes: vec![],
    };
    s.rect(0.0, 0.0, s.w as f64, s.h as f64, WHITE, None);
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
        if bins.len() <= 24 || i % 2 == 0 {
            let label = if lo == 0.0 {
                "0".to_string()
            } else {
                let k = (lo.abs().max(b["hi"].as_f64().unwrap_or(0.0).abs()) + 1.0)
                    .log2()
                    .round();
                format!("{}2^{}", if lo < 0.0 { "-" } else { "" }, k)
            };
            s.rotated_text(
                x + bw / 2.0 - 4.0,
                y0 + ph + 6.0,
                9.0,
                Anchor::Start,
                90.0,
                label,
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
    s.text(
        hx,
        hy - 10.0,
        11.0,
        Anchor::Start,
        "MRE % by bit length of |a| (rows) and |b| (columns)",
    );
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
            let c = Rgb(
                (255.0 - 60.0 * t).round() as u8,
                (255.0 - 200.0 * t).round() as u8,
                (255.0 - 230.0 * t).round() as u8,
            );
            let (x, y) = (hx + j as f64 * cs, hy + i as f64 * cs);
            s.rect(
                x,
                y,
                cs,
                cs,
                c,
                Some(format!("|a| bits {i}, |b| bits {j}: MRE {v:.4}%")),
            );
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
    s.text(
        hx,
        hy + hs + 30.0,
        11.0,
        Anchor::Start,
        format!("darkest = {maxv:.3}% (SVG: hover a cell for its value)"),
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

fn to_svg(scene: &Scene) -> String {
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

/// The plot of a profile document as SVG.
pub fn profile_svg(doc: &Value) -> String {
    to_svg(&profile_scene(doc))
}

/// The plot of a profile document as PNG (RGB, 8 bits per channel).
pub fn profile_png(doc: &Value) -> Result<Vec<u8>> {
    to_png(&profile_scene(doc))
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
