//! tetris-plot: the plot scene every SVG/PNG of tetris is drawn with. Owns the drawing
//! primitives ([`Scene`]: rectangles, frames, lines (width, dashes), circles, text, named
//! groups, hover titles), their two renderers ([`to_svg`], [`to_png`]), colours ([`Rgb`],
//! [`ramp`]) and the generic scale helpers ([`LogScale`], [`log_ticks`], [`decade`]). What a
//! plot shows (a noise profile, a SAC/MAC comparison, an AxTrain sweep, a Pareto front) is laid
//! out by the crate that owns the data. Must not import any other tetris crate (it sits beside
//! the bottom layer, like tetris-fs: any layer may draw).
//!
//! The layout is built once as a list of primitives and rendered either as SVG or as PNG. The
//! PNG is rasterized here (rectangles are axis-aligned, text uses the public-domain 8x8 bitmap
//! font of the `font8x8` crate, at its one size) and encoded with `png`: a plotting library's
//! bitmap backend cannot draw text without a TrueType font from the system or a font file
//! shipped with the project, and the plots need nothing but boxes, lines, dots and labels.

use anyhow::{Context, Result};
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rgb(pub u8, pub u8, pub u8);

pub const WHITE: Rgb = Rgb(255, 255, 255);
pub const BLACK: Rgb = Rgb(0, 0, 0);

/// Colour of cells without a value (grey, outside any colour scale).
pub const UNDEFINED: Rgb = Rgb(0xd8, 0xd8, 0xd8);
/// Colour of an exact 0 on a log scale (which has no place for it).
pub const ZERO: Rgb = Rgb(0xff, 0xff, 0xff);

/// Where a text's (x, y) sits along its baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// How a line is drawn: colour, width in pixels, and an optional dash pattern (on, off).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stroke {
    pub colour: Rgb,
    pub width: f64,
    pub dash: Option<(f64, f64)>,
}

impl Stroke {
    /// A solid line one pixel wide.
    pub fn new(colour: Rgb) -> Self {
        Stroke {
            colour,
            width: 1.0,
            dash: None,
        }
    }
    pub fn width(self, width: f64) -> Self {
        Stroke { width, ..self }
    }
    /// Dashes of `on` pixels drawn, `off` pixels skipped.
    pub fn dashed(self, on: f64, off: f64) -> Self {
        Stroke {
            dash: Some((on, off)),
            ..self
        }
    }
}

impl From<Rgb> for Stroke {
    fn from(c: Rgb) -> Self {
        Stroke::new(c)
    }
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
    /// A straight line.
    Line {
        x1: f64,
        y1: f64,
        x2: f64,
        y2: f64,
        stroke: Stroke,
        title: Option<String>,
    },
    /// A filled disc.
    Circle {
        cx: f64,
        cy: f64,
        r: f64,
        fill: Rgb,
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
    /// The shapes up to the matching `GroupEnd` form one named group (an SVG `<g id>`, so a
    /// reader can find a panel; nothing in the PNG).
    GroupStart(String),
    GroupEnd,
}

/// A plot as drawing primitives, in pixels.
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

    pub fn width(&self) -> u32 {
        self.w
    }
    pub fn height(&self) -> u32 {
        self.h
    }

    /// A filled rectangle, with an optional hover text.
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
    /// The outline of a rectangle.
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
    /// A solid line, one pixel wide.
    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: Rgb) {
        self.stroke_line(x1, y1, x2, y2, Stroke::new(stroke), None);
    }
    /// A line of any [`Stroke`], with an optional hover text.
    pub fn stroke_line(
        &mut self,
        x1: f64,
        y1: f64,
        x2: f64,
        y2: f64,
        stroke: impl Into<Stroke>,
        title: Option<String>,
    ) {
        self.shapes.push(Shape::Line {
            x1,
            y1,
            x2,
            y2,
            stroke: stroke.into(),
            title,
        });
    }
    /// A filled disc of radius r centred at (cx, cy), with an optional hover text.
    pub fn circle(&mut self, cx: f64, cy: f64, r: f64, fill: Rgb, title: Option<String>) {
        self.shapes.push(Shape::Circle {
            cx,
            cy,
            r,
            fill,
            title,
        });
    }
    /// A plot's title: left-aligned at (x, y), in the one title size every plot uses.
    pub fn title(&mut self, x: f64, y: f64, text: impl Into<String>) {
        self.text(x, y, 14.0, Anchor::Start, text);
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
    /// What `draw` adds forms one group named `id` (SVG `<g id="...">`).
    pub fn group(&mut self, id: &str, draw: impl FnOnce(&mut Scene)) {
        self.shapes.push(Shape::GroupStart(id.to_string()));
        draw(self);
        self.shapes.push(Shape::GroupEnd);
    }
}

/// 10^d as a short decimal: 1e-3 -> "0.001", 100 -> "100", 1e6 -> "1e6".
pub fn decade(d: i32) -> String {
    match d {
        -4..=0 => format!("{}", 10f64.powi(d)),
        1..=4 => format!("{}", 10i64.pow(d as u32)),
        _ => format!("1e{d}"),
    }
}

/// Tick positions (log10 values) of a log axis spanning log10 values `lo..=hi`: the decades,
/// and 2x / 5x between them when the axis spans less than two decades.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut ticks = vec![];
    let mut d = lo.floor();
    while d <= hi {
        for (f, major) in [(1.0, true), (2.0, false), (5.0, false)] {
            let t = d + f64::log10(f);
            if t >= lo && t <= hi && (major || hi - lo < 2.0) {
                ticks.push(t);
            }
        }
        d += 1.0;
    }
    ticks
}

/// Sequential colour ramp (light yellow to dark purple), t in 0..=1.
pub fn ramp(t: f64) -> Rgb {
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

/// A logarithmic colour scale over whole decades, light (small) to dark (large).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogScale {
    pub lo_decade: i32,
    pub hi_decade: i32,
}

impl LogScale {
    /// At most this many decades; smaller values get the lightest colour (the legend says so).
    pub const MAX_DECADES: i32 = 6;

    /// The scale over the positive values given (at least one decade).
    pub fn over(positive: &[f64]) -> Self {
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
    pub fn position(&self, v: f64) -> f64 {
        let span = (self.hi_decade - self.lo_decade) as f64;
        ((v.log10() - self.lo_decade as f64) / span).clamp(0.0, 1.0)
    }

    /// The colour of v ([`ZERO`] for v <= 0).
    pub fn colour(&self, v: f64) -> Rgb {
        if v <= 0.0 {
            ZERO
        } else {
            ramp(self.position(v))
        }
    }

    /// A colour bar of height h at (x, y) with one tick per decade (labelled in %), plus the
    /// two special colours ([`ZERO`]: "0", [`UNDEFINED`]: "n/a") below it.
    pub fn legend(&self, s: &mut Scene, x: f64, y: f64, h: f64) {
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

/// Text escaped for SVG character data and attribute values.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn css(c: Rgb) -> String {
    format!("rgb({},{},{})", c.0, c.1, c.2)
}

/// Close an element: with its hover text as a `<title>` child, or empty.
fn close(s: &mut String, tag: &str, title: &Option<String>) {
    match title {
        Some(t) => {
            let _ = writeln!(s, "><title>{}</title></{tag}>", esc(t));
        }
        None => s.push_str("/>\n"),
    }
}

/// The scene as an SVG document.
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
                close(&mut s, "rect", title);
            }
            Shape::Line {
                x1,
                y1,
                x2,
                y2,
                stroke,
                title,
            } => {
                let _ = write!(
                    s,
                    "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{}\"",
                    css(stroke.colour)
                );
                if stroke.width != 1.0 {
                    let _ = write!(s, " stroke-width=\"{}\"", stroke.width);
                }
                if let Some((on, off)) = stroke.dash {
                    let _ = write!(s, " stroke-dasharray=\"{on} {off}\"");
                }
                close(&mut s, "line", title);
            }
            Shape::Circle {
                cx,
                cy,
                r,
                fill,
                title,
            } => {
                let _ = write!(
                    s,
                    "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{r}\" fill=\"{}\"",
                    css(*fill)
                );
                close(&mut s, "circle", title);
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
            Shape::GroupStart(id) => {
                let _ = writeln!(s, "<g id=\"{}\">", esc(id));
            }
            Shape::GroupEnd => s.push_str("</g>\n"),
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
    fn new(w: u32, h: u32) -> Self {
        Raster {
            w,
            h,
            px: vec![255; 3 * w as usize * h as usize],
        }
    }

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

    /// A line: one square brush of the stroke's width per step along the longer axis, steps
    /// inside a dash's gap skipped.
    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &Stroke) {
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = dx.hypot(dy);
        let steps = dx.abs().max(dy.abs()).round().max(1.0) as i64;
        let brush = stroke.width.round().max(1.0) as i64;
        let lo = -(brush - 1) / 2;
        for k in 0..=steps {
            let t = k as f64 / steps as f64;
            if let Some((on, off)) = stroke.dash {
                if on + off > 0.0 && (t * len) % (on + off) >= on {
                    continue;
                }
            }
            let (x, y) = ((x1 + dx * t).round() as i64, (y1 + dy * t).round() as i64);
            for by in lo..lo + brush {
                for bx in lo..lo + brush {
                    self.put(x + bx, y + by, stroke.colour);
                }
            }
        }
    }

    /// A disc: every pixel whose centre is within r of (cx, cy).
    fn circle(&mut self, cx: f64, cy: f64, r: f64, c: Rgb) {
        for py in (cy - r).floor() as i64..=(cy + r).ceil() as i64 {
            for px in (cx - r).floor() as i64..=(cx + r).ceil() as i64 {
                let (dx, dy) = (px as f64 + 0.5 - cx, py as f64 + 0.5 - cy);
                if dx * dx + dy * dy <= r * r {
                    self.put(px, py, c);
                }
            }
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

fn rasterize(scene: &Scene) -> Raster {
    let mut r = Raster::new(scene.w, scene.h);
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
                ..
            } => r.line(*x1, *y1, *x2, *y2, stroke),
            Shape::Circle {
                cx,
                cy,
                r: rad,
                fill,
                ..
            } => r.circle(*cx, *cy, *rad, *fill),
            Shape::Text {
                x,
                y,
                anchor,
                rotate,
                text,
                ..
            } => r.text(*x, *y, *anchor, *rotate, text),
            Shape::GroupStart(_) | Shape::GroupEnd => {}
        }
    }
    r
}

/// The scene as a PNG image (RGB, 8 bits per channel).
pub fn to_png(scene: &Scene) -> Result<Vec<u8>> {
    let r = rasterize(scene);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn dark(r: &Raster) -> Vec<(usize, usize)> {
        (0..(r.w * r.h) as usize)
            .filter(|i| r.px[3 * i] == 0)
            .map(|i| (i % r.w as usize, i / r.w as usize))
            .collect()
    }

    #[test]
    fn rotated_text_lands_where_rotated() {
        // "I" drawn straight and rotated by 90 degrees: the vertical stroke becomes horizontal.
        let mut r = Raster::new(40, 40);
        r.text(20.0, 20.0, Anchor::Start, 90.0, "I");
        let dark = dark(&r);
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

    #[test]
    fn dashes_widths_and_discs_in_both_renderers() {
        let mut s = Scene::new(40, 20);
        s.group("g<1>", |s| {
            s.stroke_line(
                0.0,
                5.0,
                39.0,
                5.0,
                Stroke::new(BLACK).dashed(4.0, 3.0),
                None,
            );
            s.stroke_line(
                0.0,
                12.0,
                39.0,
                12.0,
                Stroke::new(BLACK).width(3.0),
                Some("a & b".into()),
            );
            s.circle(30.0, 17.0, 2.0, BLACK, None);
        });
        let svg = to_svg(&s);
        assert!(
            svg.contains("<g id=\"g&lt;1&gt;\">") && svg.contains("</g>\n</svg>"),
            "{svg}"
        );
        assert!(svg.contains("stroke-dasharray=\"4 3\"/>"), "{svg}");
        assert!(
            svg.contains("stroke-width=\"3\"><title>a &amp; b</title></line>"),
            "{svg}"
        );
        assert!(
            svg.contains("<circle cx=\"30.0\" cy=\"17.0\" r=\"2\""),
            "{svg}"
        );
        // A plain line is written as before the strokes existed.
        let mut p = Scene::new(4, 4);
        p.line(0.0, 0.0, 3.0, 3.0, BLACK);
        assert!(to_svg(&p).contains("stroke=\"rgb(0,0,0)\"/>\n"));

        let r = rasterize(&s);
        let at = |x: usize, y: usize| r.px[3 * (y * 40 + x)] == 0;
        // Dashed: 0..=3 on, 4..=6 off, 7.. on again.
        assert!(at(0, 5) && at(3, 5) && !at(5, 5) && at(8, 5));
        // 3 pixels wide around y = 12.
        assert!(at(10, 11) && at(10, 12) && at(10, 13) && !at(10, 10) && !at(10, 14));
        // The disc and nothing far from it.
        assert!(at(30, 17) && at(29, 16) && !at(26, 17));
        assert_eq!(dark(&r).iter().filter(|p| p.1 >= 15).count(), 12);
        let png = to_png(&s).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
