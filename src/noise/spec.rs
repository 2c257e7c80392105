//! Multiplier spec strings (`exact`, `trunc:t=8,corr`, `bam:hbl=2,vbl=8`, `drum:k=6`,
//! `mitchell`, `kulkarni`) and their validation against an operand width.

use anyhow::{bail, Context, Result};
use std::fmt;

/// Operand widths the built-in models support (products fit in 32 bits, sums in u128).
pub const MIN_WIDTH: u32 = 2;
pub const MAX_WIDTH: u32 = 16;

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
    }
}
