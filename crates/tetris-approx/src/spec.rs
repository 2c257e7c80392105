//! Multiplier spec strings (`exact`, `trunc:t=8,corr`, `bam:hbl=2,vbl=8`, `drum:k=6`,
//! `mitchell`, `kulkarni`) and their validation against an operand width.

use anyhow::{bail, Context, Result};
use std::fmt;

/// Operand widths the built-in models support (products fit in 32 bits, sums in u128).
pub const MIN_WIDTH: u32 = 2;
pub const MAX_WIDTH: u32 = 16;

/// Most members a family spec may expand to.
pub const MAX_FAMILY: usize = 64;

/// A spec with one parameter swept over a range (or a single multiplier).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    pub spec: String,
    /// The swept parameter, None for a single multiplier.
    pub parameter: Option<String>,
    /// (parameter value, multiplier), in increasing order of the value.
    pub members: Vec<(u32, MultKind)>,
}

/// One built-in approximate multiplier family with its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultKind {
    Exact,
    /// Drop partial-product bits with i + j < t; `corr` adds the rounding constant back.
    Trunc {
        t: u32,
        corr: bool,
    },
    /// Broken array: drop rows j < hbl and columns i + j < vbl.
    Bam {
        hbl: u32,
        vbl: u32,
    },
    /// DRUM(k): k-bit dynamic-range mantissas with the LSB forced to one.
    Drum {
        k: u32,
    },
    /// Mitchell logarithmic multiplier with n-1 fraction bits.
    Mitchell,
    /// Kulkarni: approximate 2x2 block (3*3 = 7), exact adders, built recursively.
    Kulkarni,
}

impl MultKind {
    /// Parse a spec string; parameters are `name=value`, separated by commas.
    pub fn parse(spec: &str) -> Result<Self> {
        let spec = spec.trim();
        let (name, params) = match spec.split_once(':') {
            Some((n, p)) => (n, p),
            None => (spec, ""),
        };
        let mut kv: Vec<(String, Option<u32>)> = Vec::new();
        for item in params.split(',').filter(|s| !s.trim().is_empty()) {
            let item = item.trim();
            match item.split_once('=') {
                Some((k, v)) => {
                    let v: u32 = v.trim().parse().with_context(|| {
                        format!("multiplier spec `{spec}`: parameter `{k}` needs a whole number, got `{v}`")
                    })?;
                    kv.push((k.trim().to_string(), Some(v)));
                }
                None => kv.push((item.to_string(), None)),
            }
        }
        if let Some((k, _)) = kv
            .iter()
            .enumerate()
            .find_map(|(i, p)| kv[..i].iter().any(|q| q.0 == p.0).then_some(p))
        {
            bail!("multiplier spec `{spec}`: parameter `{k}` is given more than once");
        }
        let allowed: &[&str] = match name {
            "exact" | "mitchell" | "kulkarni" => &[],
            "trunc" => &["t", "corr"],
            "bam" => &["hbl", "vbl"],
            "drum" => &["k"],
            _ => bail!(
                "unknown multiplier `{name}` in spec `{spec}`; known: exact, trunc:t=T[,corr], \
                 bam:hbl=H,vbl=V, drum:k=K, mitchell, kulkarni"
            ),
        };
        for (k, _) in &kv {
            if !allowed.contains(&k.as_str()) {
                bail!("multiplier spec `{spec}`: unknown parameter `{k}` (allowed: {allowed:?})");
            }
        }
        let get = |k: &str| -> Result<u32> {
            match kv.iter().find(|(n, _)| n == k) {
                Some((_, Some(v))) => Ok(*v),
                Some((_, None)) => bail!("multiplier spec `{spec}`: parameter `{k}` needs a value"),
                None => bail!("multiplier spec `{spec}`: parameter `{k}` is missing"),
            }
        };
        Ok(match name {
            "exact" => MultKind::Exact,
            "mitchell" => MultKind::Mitchell,
            "kulkarni" => MultKind::Kulkarni,
            "trunc" => {
                let corr = match kv.iter().find(|(n, _)| n == "corr") {
                    Some((_, None)) | Some((_, Some(1))) => true,
                    Some((_, Some(0))) | None => false,
                    Some((_, Some(v))) => {
                        bail!("multiplier spec `{spec}`: `corr` is a flag (or corr=0/1), got {v}")
                    }
                };
                MultKind::Trunc { t: get("t")?, corr }
            }
            "bam" => MultKind::Bam {
                hbl: get("hbl")?,
                vbl: get("vbl")?,
            },
            "drum" => MultKind::Drum { k: get("k")? },
            _ => unreachable!(),
        })
    }

    /// Parse a spec that may name a family: one parameter given as a range `lo..hi`
    /// (`drum:k=2..15`) expands to one member per value, in order.
    pub fn parse_family(spec: &str) -> Result<Family> {
        let spec = spec.trim();
        let (name, params) = spec.split_once(':').unwrap_or((spec, ""));
        let items: Vec<&str> = params.split(',').map(str::trim).collect();
        let ranged: Vec<usize> = (0..items.len())
            .filter(|&i| items[i].contains(".."))
            .collect();
        let i = match ranged.as_slice() {
            [] => {
                return Ok(Family {
                    spec: spec.to_string(),
                    parameter: None,
                    members: vec![(0, MultKind::parse(spec)?)],
                })
            }
            [i] => *i,
            _ => bail!("multiplier spec `{spec}`: only one parameter may be a range"),
        };
        let (key, range) = items[i].split_once('=').with_context(|| {
            format!(
                "multiplier spec `{spec}`: `{}` is not name=lo..hi",
                items[i]
            )
        })?;
        let (lo, hi) = range.split_once("..").unwrap_or((range, ""));
        let bound = |x: &str| -> Result<u32> {
            x.trim().parse().with_context(|| {
                format!("multiplier spec `{spec}`: range `{range}` of `{key}` needs whole numbers lo..hi")
            })
        };
        let (lo, hi) = (bound(lo)?, bound(hi)?);
        if lo > hi || hi - lo >= MAX_FAMILY as u32 {
            bail!(
                "multiplier spec `{spec}`: range {lo}..{hi} of `{key}` must be increasing and hold at most {MAX_FAMILY} values"
            );
        }
        let members = (lo..=hi)
            .map(|v| {
                let mut it = items.clone();
                let item = format!("{}={v}", key.trim());
                it[i] = &item;
                Ok((v, MultKind::parse(&format!("{name}:{}", it.join(",")))?))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Family {
            spec: spec.to_string(),
            parameter: Some(key.trim().to_string()),
            members,
        })
    }

    /// Check the parameters against the operand width.
    pub fn validate(&self, width: u32) -> Result<()> {
        if !(MIN_WIDTH..=MAX_WIDTH).contains(&width) {
            bail!("--width {width} is out of range: built-in multipliers support {MIN_WIDTH}..={MAX_WIDTH} bits");
        }
        match *self {
            MultKind::Trunc { t, .. } if t > 2 * width => {
                bail!(
                    "trunc: t={t} exceeds the product width {} (2 x --width)",
                    2 * width
                )
            }
            MultKind::Bam { hbl, .. } if hbl > width => {
                bail!("bam: hbl={hbl} exceeds the number of partial-product rows ({width})")
            }
            MultKind::Bam { vbl, .. } if vbl > 2 * width => {
                bail!("bam: vbl={vbl} exceeds the product width {}", 2 * width)
            }
            MultKind::Drum { k } if k < 2 || k > width => {
                bail!("drum: k={k} must be in 2..={width} (the operand width)")
            }
            _ => Ok(()),
        }
    }

    /// A short name usable in file and module names, e.g. `trunc_t8_corr`.
    pub fn slug(&self) -> String {
        match *self {
            MultKind::Exact => "exact".into(),
            MultKind::Trunc { t, corr } => format!("trunc_t{t}{}", if corr { "_corr" } else { "" }),
            MultKind::Bam { hbl, vbl } => format!("bam_hbl{hbl}_vbl{vbl}"),
            MultKind::Drum { k } => format!("drum_k{k}"),
            MultKind::Mitchell => "mitchell".into(),
            MultKind::Kulkarni => "kulkarni".into(),
        }
    }
}

impl fmt::Display for MultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MultKind::Exact => write!(f, "exact"),
            MultKind::Trunc { t, corr } => {
                write!(f, "trunc:t={t}{}", if corr { ",corr" } else { "" })
            }
            MultKind::Bam { hbl, vbl } => write!(f, "bam:hbl={hbl},vbl={vbl}"),
            MultKind::Drum { k } => write!(f, "drum:k={k}"),
            MultKind::Mitchell => write!(f, "mitchell"),
            MultKind::Kulkarni => write!(f, "kulkarni"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_errors() {
        for s in [
            "exact",
            "trunc:t=8",
            "trunc:t=8,corr",
            "bam:hbl=2,vbl=8",
            "drum:k=6",
            "mitchell",
            "kulkarni",
        ] {
            assert_eq!(MultKind::parse(s).unwrap().to_string(), s);
        }
        assert!(MultKind::parse("trunc").is_err());
        assert!(MultKind::parse("trunc:t=x").is_err());
        assert!(MultKind::parse("drum:q=3").is_err());
        assert!(MultKind::parse("booth").is_err());
        assert!(MultKind::parse("drum:k=9").unwrap().validate(8).is_err());
        assert!(MultKind::parse("bam:hbl=9,vbl=0")
            .unwrap()
            .validate(8)
            .is_err());
        assert!(MultKind::parse("exact").unwrap().validate(17).is_err());
        let e = MultKind::parse("drum:k=4,k=5").unwrap_err().to_string();
        assert!(e.contains("`k` is given more than once"), "{e}");
        assert!(MultKind::parse("trunc:t=4,corr,corr").is_err());
    }

    #[test]
    fn families() {
        let f = MultKind::parse_family("drum:k=2..5").unwrap();
        assert_eq!(f.parameter.as_deref(), Some("k"));
        let ks: Vec<String> = f.members.iter().map(|(_, m)| m.to_string()).collect();
        assert_eq!(ks, ["drum:k=2", "drum:k=3", "drum:k=4", "drum:k=5"]);
        let f = MultKind::parse_family("trunc:t=3..4,corr").unwrap();
        assert_eq!(f.members[1], (4, MultKind::Trunc { t: 4, corr: true }));
        assert_eq!(MultKind::parse_family("mitchell").unwrap().members.len(), 1);
        for bad in [
            "drum:k=5..2",
            "drum:k=2..x",
            "bam:hbl=1..2,vbl=1..3",
            "drum:k=0..100",
        ] {
            assert!(MultKind::parse_family(bad).is_err(), "{bad}");
        }
    }
}
