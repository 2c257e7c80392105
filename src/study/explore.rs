//! `tetris explore`: a sweep over a design space on one layer of a weight file. Each design
//! point is an independent job (`tetris power` on the point's config) with its own folder and
//! JSON result, listed one shell line per point in `jobs.txt`: run here (a thread pool, progress
//! bar) or by GNU parallel (`parallel < jobs.txt`, also across hosts with `--sshlogin`). A
//! point whose `result.json` exists is done and not redone. The results are collected into a
//! table, a JSON and a Pareto plot (throughput per mm^2 against energy per MAC).

use crate::config::{Config, PeKind};
use crate::fsutil::write_atomic;
use crate::model::encoding::Encoding;
use crate::plot::{to_svg, Anchor, Rgb, Scene, BLACK};
use crate::power::report::PowerReport;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The axes of the sweep (every combination is a point; a MAC point ignores the encoding).
#[derive(Debug, Clone)]
pub struct Space {
    pub kinds: Vec<PeKind>,
    pub bits: Vec<u32>,
    pub ks: Vec<u32>,
    pub encodings: Vec<Encoding>,
    /// N of an NxN array (1: one PE as it sits in an array).
    pub sizes: Vec<u32>,
}

/// One design point: its name (also its folder and top module) and config.
#[derive(Debug, Clone)]
pub struct Point {
    pub id: String,
    pub cfg: Config,
}

/// Every point of `space`, each config validated (an error names the point).
pub fn points(space: &Space) -> Result<Vec<Point>> {
    let mut out = vec![];
    for &kind in &space.kinds {
        for &bits in &space.bits {
            for &size in &space.sizes {
                // The encoding only shapes the SAC PE. KS shapes both: it is the activation
                // group that each PE's double buffer holds (the MAC twin's largest block).
                let variants: Vec<(u32, Encoding)> = match kind {
                    PeKind::Sac => space
                        .ks
                        .iter()
                        .flat_map(|&k| space.encodings.iter().map(move |&e| (k, e)))
                        .collect(),
                    PeKind::Mac => space.ks.iter().map(|&k| (k, space.encodings[0])).collect(),
                };
                for (ks, enc) in variants {
                    let mut c = Config::default_config();
                    c.pe.kind = kind;
                    c.pe.weight_bits = bits;
                    c.pe.act_bits = bits;
                    c.pe.ks = ks;
                    c.pe.encoding = enc;
                    c.array.rows = size;
                    c.array.cols = size;
                    let id = match kind {
                        PeKind::Sac => format!("sac{bits}_ks{ks}_{}_a{size}", enc.name()),
                        PeKind::Mac => format!("mac{bits}_ks{ks}_a{size}"),
                    };
                    c.top.name = id.clone();
                    c.validate().with_context(|| format!("design point {id}"))?;
                    out.push(Point { id, cfg: c });
                }
            }
        }
    }
    if out.is_empty() {
        bail!("the design space is empty");
    }
    Ok(out)
}

/// What every job measures: the weight file, its layer, the input sizes and the tiles.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// The tetris binary the jobs run.
    pub exe: PathBuf,
    pub weights: PathBuf,
    pub layer: Option<String>,
    /// Extra arguments (input sizes) passed through to `tetris power`.
    pub input_args: Vec<String>,
    pub tiles: usize,
    pub seed: u64,
    pub liberty: Option<PathBuf>,
}

/// Single-quoted for sh.
fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn abs(p: &Path) -> Result<String> {
    Ok(std::path::absolute(p)?.display().to_string())
}

/// The point's folder under `out`.
pub fn point_dir(out: &Path, p: &Point) -> PathBuf {
    out.join("points").join(&p.id)
}

/// The shell line of one job: nothing when its result exists, else `tetris power` on its
/// config, result written last (atomically) so that a result means a finished point.
pub fn job_line(out: &Path, p: &Point, j: &JobSpec) -> Result<String> {
    let d = point_dir(out, p);
    let result = abs(&d.join("result.json"))?;
    let mut cmd = vec![
        sh(&abs(&j.exe)?),
        "power".into(),
        "--config".into(),
        sh(&abs(&d.join("config.toml"))?),
        "--weights".into(),
        sh(&abs(&j.weights)?),
        "--tiles".into(),
        j.tiles.to_string(),
        "--seed".into(),
        j.seed.to_string(),
        "--work-dir".into(),
        sh(&abs(&d.join("work"))?),
        "--force".into(),
        "--json".into(),
        sh(&result),
    ];
    if let Some(l) = &j.layer {
        cmd.extend(["--layer".into(), sh(l)]);
    }
    if let Some(l) = &j.liberty {
        cmd.extend(["--liberty".into(), sh(&abs(l)?)]);
    }
    cmd.extend(j.input_args.iter().map(|a| sh(a)));
    Ok(format!(
        "test -f {} || {} > {} 2>&1",
        sh(&result),
        cmd.join(" "),
        sh(&abs(&d.join("log.txt"))?)
    ))
}

/// Write every point's folder and config, and `jobs.txt`. A point whose config changed since
/// its result was measured loses that result (it is redone).
pub fn write_jobs(out: &Path, points: &[Point], j: &JobSpec) -> Result<Vec<String>> {
    let mut lines = vec![];
    for p in points {
        let d = point_dir(out, p);
        std::fs::create_dir_all(&d).with_context(|| format!("cannot create {}", d.display()))?;
        let text = toml::to_string(&p.cfg)?;
        let cfg_path = d.join("config.toml");
        if std::fs::read_to_string(&cfg_path).ok().as_deref() != Some(text.as_str()) {
            let stale = d.join("result.json");
            if stale.exists() {
                std::fs::remove_file(&stale)?;
            }
            write_atomic(&cfg_path, text.as_bytes())?;
        }
        lines.push(job_line(out, p, j)?);
    }
    write_atomic(&out.join("jobs.txt"), (lines.join("\n") + "\n").as_bytes())?;
    Ok(lines)
}

/// A point is done when its result exists.
pub fn is_done(out: &Path, p: &Point) -> bool {
    point_dir(out, p).join("result.json").is_file()
}

/// Run the jobs not done yet here, `jobs` at a time, with a progress bar. Returns the failed
/// points' ids (their log is in their folder).
pub fn run_local(
    out: &Path,
    points: &[Point],
    lines: &[String],
    jobs: usize,
) -> Result<Vec<String>> {
    use rayon::prelude::*;
    let todo: Vec<usize> = (0..points.len())
        .filter(|&i| !is_done(out, &points[i]))
        .collect();
    eprintln!(
        "{} design points, {} done, {} to run",
        points.len(),
        points.len() - todo.len(),
        todo.len()
    );
    let bar = tetris_core::progress::bar(
        true,
        todo.len() as u64,
        "{bar:40} {pos}/{len} points {elapsed} {msg}",
    );
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build()?;
    let failed: Vec<String> = pool.install(|| {
        todo.par_iter()
            .filter_map(|&i| {
                let ok = std::process::Command::new("sh")
                    .arg("-c")
                    .arg(&lines[i])
                    .status()
                    .map(|s| s.success())
                    .unwrap_or(false);
                bar.inc(1);
                bar.set_message(points[i].id.clone());
                (!ok).then(|| points[i].id.clone())
            })
            .collect()
    });
    bar.finish_and_clear();
    Ok(failed)
}

/// Run `jobs.txt` through GNU parallel (`parallel` must be installed).
pub fn run_parallel(out: &Path, jobs: usize) -> Result<bool> {
    let file = std::fs::File::open(out.join("jobs.txt"))?;
    let status = std::process::Command::new("parallel")
        .args(["--will-cite", "-j", &jobs.to_string(), "--joblog"])
        .arg(out.join("joblog.txt"))
        .stdin(file)
        .status()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot run GNU parallel ({e}): install it (Debian package `parallel`, \
                 scripts/install-tools.sh) or use --run local"
            )
        })?;
    Ok(status.success())
}

/// One point's measured figures (from its `tetris power` result).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measured {
    pub area_um2: f64,
    pub fmax_mhz: Option<f64>,
    pub macs_per_cycle: f64,
    pub mmacs_per_s_per_mm2: Option<f64>,
    pub energy_pj_per_mac: f64,
    /// The gate-level run equals the golden model and the cycle model.
    pub checked: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PointResult {
    pub id: String,
    pub kind: PeKind,
    pub bits: u32,
    pub ks: u32,
    pub encoding: String,
    pub size: u32,
    /// `None`: not done (or failed: see the point's log.txt).
    pub measured: Option<Measured>,
    /// On the Pareto front: no other point has at least its throughput per mm^2 at no more
    /// energy per MAC, better in one of the two.
    pub pareto: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Exploration {
    pub weights: String,
    pub layer: Option<String>,
    pub tiles: usize,
    pub points: Vec<PointResult>,
}

/// A point's figures, from its `tetris power --json` report (a malformed report is an error
/// naming the file and the field).
fn read_measured(path: &Path) -> Result<Measured> {
    let r: PowerReport = crate::fsutil::read_json(path)?;
    Ok(Measured {
        area_um2: r.area_um2,
        fmax_mhz: r.fmax_mhz,
        macs_per_cycle: r.macs_per_cycle,
        mmacs_per_s_per_mm2: r.mmacs_per_s_per_mm2,
        energy_pj_per_mac: r.energy_pj_per_mac.total,
        checked: r.outputs_match && r.cycles_match_model,
    })
}

/// Gather the results of every point and mark the Pareto front.
pub fn collect(out: &Path, points: &[Point], weights: &str, j: &JobSpec) -> Result<Exploration> {
    let mut rows = vec![];
    for p in points {
        let r = point_dir(out, p).join("result.json");
        let measured = if r.is_file() {
            Some(read_measured(&r)?)
        } else {
            None
        };
        rows.push(PointResult {
            id: p.id.clone(),
            kind: p.cfg.pe.kind,
            bits: p.cfg.pe.weight_bits,
            ks: p.cfg.pe.ks,
            encoding: p.cfg.pe.encoding.name().into(),
            size: p.cfg.array.rows,
            measured,
            pareto: false,
        });
    }
    mark_pareto(&mut rows);
    Ok(Exploration {
        weights: weights.to_string(),
        layer: j.layer.clone(),
        tiles: j.tiles,
        points: rows,
    })
}

/// (throughput per mm^2, energy per MAC) of a checked, timed point.
fn xy(r: &PointResult) -> Option<(f64, f64)> {
    let m = r.measured.as_ref().filter(|m| m.checked)?;
    Some((m.mmacs_per_s_per_mm2?, m.energy_pj_per_mac))
}

pub fn mark_pareto(rows: &mut [PointResult]) {
    let all: Vec<Option<(f64, f64)>> = rows.iter().map(xy).collect();
    for (i, r) in rows.iter_mut().enumerate() {
        r.pareto = false;
        let Some((t, e)) = all[i] else { continue };
        r.pareto = !all.iter().enumerate().any(|(k, o)| match o {
            Some((t2, e2)) if k != i => *t2 >= t && *e2 <= e && (*t2 > t || *e2 < e),
            _ => false,
        });
    }
}

fn opt(v: Option<f64>, d: usize) -> String {
    v.map_or("-".into(), |x| format!("{x:.d$}"))
}

pub fn markdown(x: &Exploration) -> String {
    let mut s = format!(
        "Design space on {} (layer {}, {} pixel tiles per point, `tetris power` on osu018).\n\n\
         | point | kind | bits | KS | enc | array | area um^2 | Fmax MHz | MACs/cycle | MMAC/s per mm^2 | energy pJ/MAC | Pareto |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
        x.weights,
        x.layer.as_deref().unwrap_or("with the most MACs"),
        x.tiles
    );
    for r in &x.points {
        let (area, fmax, mpc, thr, e) = match &r.measured {
            Some(m) if m.checked => (
                format!("{:.0}", m.area_um2),
                opt(m.fmax_mhz, 1),
                format!("{:.3}", m.macs_per_cycle),
                opt(m.mmacs_per_s_per_mm2, 2),
                format!("{:.3}", m.energy_pj_per_mac),
            ),
            Some(_) => (
                "does not match the golden model".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
            ),
            None => (
                "not done".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
            ),
        };
        s += &format!(
            "| {} | {} | {} | {} | {} | {}x{} | {area} | {fmax} | {mpc} | {thr} | {e} | {} |\n",
            r.id,
            r.kind.name(),
            r.bits,
            r.ks,
            if r.kind == PeKind::Sac {
                r.encoding.as_str()
            } else {
                "-"
            },
            r.size,
            r.size,
            if r.pareto { "yes" } else { "" }
        );
    }
    s
}

/// Throughput per mm^2 (up) against energy per MAC (right): SAC filled red squares, MAC hollow
/// blue squares, the Pareto front joined and labelled.
pub fn svg(x: &Exploration) -> String {
    let (w, h, left, top, pw, ph) = (900u32, 520u32, 80.0, 50.0, 760.0, 400.0);
    let mut s = Scene::new(w, h);
    s.title(
        left,
        24.0,
        format!(
            "Pareto: throughput per area vs energy per MAC ({}, {} tiles); SAC filled, MAC hollow",
            x.weights, x.tiles
        ),
    );
    let pts: Vec<(&PointResult, (f64, f64))> = x
        .points
        .iter()
        .filter_map(|r| xy(r).map(|p| (r, p)))
        .collect();
    let grey = Rgb(0x88, 0x88, 0x88);
    s.frame(left, top, pw, ph, grey);
    if pts.is_empty() {
        s.text(
            left + pw / 2.0,
            top + ph / 2.0,
            12.0,
            Anchor::Middle,
            "no measured point",
        );
        return to_svg(&s);
    }
    let emax = pts.iter().map(|p| p.1 .1).fold(0.0f64, f64::max) * 1.1;
    let tmax = pts.iter().map(|p| p.1 .0).fold(0.0f64, f64::max) * 1.1;
    let px = |e: f64| left + pw * e / emax;
    let py = |t: f64| top + ph * (1.0 - t / tmax);
    for k in 0..=5 {
        let f = k as f64 / 5.0;
        s.line(px(emax * f), top + ph, px(emax * f), top + ph + 4.0, BLACK);
        s.text(
            px(emax * f),
            top + ph + 16.0,
            10.0,
            Anchor::Middle,
            format!("{:.0}", emax * f),
        );
        s.line(left - 4.0, py(tmax * f), left, py(tmax * f), BLACK);
        s.text(
            left - 6.0,
            py(tmax * f) + 4.0,
            10.0,
            Anchor::End,
            format!("{:.0}", tmax * f),
        );
    }
    s.text(
        left + pw / 2.0,
        top + ph + 36.0,
        12.0,
        Anchor::Middle,
        "energy per MAC (pJ), lower is better",
    );
    s.rotated_text(
        20.0,
        top + ph / 2.0,
        12.0,
        Anchor::Middle,
        -90.0,
        "MMAC/s per mm^2 at Fmax, higher is better",
    );
    let mut front: Vec<(f64, f64, &str)> = pts
        .iter()
        .filter(|p| p.0.pareto)
        .map(|p| (p.1 .1, p.1 .0, p.0.id.as_str()))
        .collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0));
    for w2 in front.windows(2) {
        s.line(px(w2[0].0), py(w2[0].1), px(w2[1].0), py(w2[1].1), grey);
    }
    for (r, (t, e)) in &pts {
        let (cx, cy) = (px(*e), py(*t));
        let title = Some(format!("{}: {t:.2} MMAC/s/mm^2, {e:.3} pJ/MAC", r.id));
        match r.kind {
            PeKind::Sac => s.rect(cx - 4.0, cy - 4.0, 8.0, 8.0, Rgb(0xd6, 0x27, 0x28), title),
            PeKind::Mac => s.frame(cx - 4.0, cy - 4.0, 8.0, 8.0, Rgb(0x1f, 0x77, 0xb4)),
        }
        if r.pareto {
            s.text(cx + 7.0, cy - 6.0, 10.0, Anchor::Start, r.id.clone());
        }
    }
    to_svg(&s)
}

/// Write explore.md, explore.json and explore.svg.
pub fn write_outputs(out: &Path, x: &Exploration) -> Result<()> {
    write_atomic(&out.join("explore.md"), markdown(x).as_bytes())?;
    crate::fsutil::write_json(&out.join("explore.json"), x)?;
    write_atomic(&out.join("explore.svg"), svg(x).as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(id: &str, kind: PeKind, t: f64, e: f64) -> PointResult {
        PointResult {
            id: id.into(),
            kind,
            bits: 8,
            ks: 16,
            encoding: "sm".into(),
            size: 1,
            measured: Some(Measured {
                area_um2: 1.0,
                fmax_mhz: Some(1.0),
                macs_per_cycle: 1.0,
                mmacs_per_s_per_mm2: Some(t),
                energy_pj_per_mac: e,
                checked: true,
            }),
            pareto: false,
        }
    }

    #[test]
    fn the_pareto_front_keeps_only_undominated_points() {
        let mut rows = vec![
            r("a", PeKind::Sac, 10.0, 5.0), // dominated by b (more energy, less throughput)
            r("b", PeKind::Mac, 12.0, 4.0),
            r("c", PeKind::Sac, 20.0, 9.0), // fastest
            r("d", PeKind::Mac, 5.0, 1.0),  // least energy
            r("e", PeKind::Sac, 12.0, 4.0), // ties b: neither dominates
        ];
        rows[4].measured.as_mut().unwrap().checked = true;
        mark_pareto(&mut rows);
        let front: Vec<&str> = rows
            .iter()
            .filter(|r| r.pareto)
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(front, ["b", "c", "d", "e"]);
        // An unchecked point is never on the front and dominates nothing.
        rows[2].measured.as_mut().unwrap().checked = false;
        mark_pareto(&mut rows);
        assert!(!rows[2].pareto);
        let x = Exploration {
            weights: "w".into(),
            layer: None,
            tiles: 1,
            points: rows,
        };
        let svg = svg(&x);
        assert!(svg.starts_with("<svg") && svg.contains("e: 12.00"), "{svg}");
        // A MAC point has a KS (its activation group) and no encoding.
        assert!(markdown(&x).contains("| b | mac | 8 | 16 | - | 1x1 |"));
    }

    #[test]
    fn mac_points_follow_ks_and_ignore_the_encoding() {
        let space = Space {
            kinds: vec![PeKind::Sac, PeKind::Mac],
            bits: vec![8],
            ks: vec![4, 8],
            encodings: vec![Encoding::Sm, Encoding::Csd],
            sizes: vec![1, 2],
        };
        let p = points(&space).unwrap();
        // SAC: 2 KS x 2 encodings x 2 sizes; MAC: 2 KS x 2 sizes.
        assert_eq!(p.len(), 2 * 4 + 2 * 2);
        let ids: std::collections::BTreeSet<&str> = p.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids.len(), p.len(), "ids are unique");
        assert!(ids.contains("sac8_ks8_csd_a2") && ids.contains("mac8_ks4_a1"));
        let mac = p.iter().find(|p| p.id == "mac8_ks8_a2").unwrap();
        assert_eq!(mac.cfg.pe.ks, 8);
    }
}
