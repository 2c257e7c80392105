//! The one configuration that feeds RTL generation, golden models, headers and reports.
//!
//! A config is a TOML file (see `configs/default.toml`, which is also embedded in the binary and
//! used when no `--config` is given). Every field is validated with a message that names the
//! file, the field, the value and the allowed range.

use crate::model::encoding::Encoding;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The built-in default design, embedded so `tetris gen` works with no arguments.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../../../configs/default.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub array: ArrayConfig,
    pub pe: PeConfig,
    pub top: TopConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrayConfig {
    /// PE rows. `rows x cols` is the design `tetris gen` emits; 1 x 1 is a single PE.
    pub rows: u32,
    /// PE columns.
    pub cols: u32,
    /// The SAC array kneads on chip: a kneading unit per column takes plain sign-magnitude
    /// weight groups (docs/array.md). Off by default (then left out of the TOML and its hash).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub knead_on_chip: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeKind {
    /// Split-and-accumulate PE fed with kneaded weights.
    Sac,
    /// Multiply-accumulate baseline, one weight per cycle.
    Mac,
}

impl PeKind {
    /// The name in a config file and in reports: `sac` or `mac`.
    pub fn name(self) -> &'static str {
        match self {
            PeKind::Sac => "sac",
            PeKind::Mac => "mac",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeConfig {
    pub kind: PeKind,
    /// Fixed-point weight width: sign-magnitude, 1 sign bit + weight_bits-1 magnitude bits.
    pub weight_bits: u32,
    /// Activation width, two's complement.
    pub act_bits: u32,
    /// Kneading stride: how many activations one kneaded group addresses.
    pub ks: u32,
    /// How the weight magnitudes are split into lanes: "sm" or "csd" ("tc" is analysis only).
    pub encoding: Encoding,
    /// Longest dot product (number of weight/activation pairs) one result may accumulate.
    /// Accumulator widths are derived from it so that no overflow is possible.
    #[serde(default = "default_max_dot_len")]
    pub max_dot_len: u32,
    /// SAC: the result adder behind the segment lanes sees its operands only on the last beat
    /// of a dot product (operand isolation, docs/synth.md). On by default (then left out of the
    /// TOML and its hash); off only to measure what it saves.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub operand_isolation: bool,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn default_max_dot_len() -> u32 {
    4608 // 3x3 kernel over 512 input channels: the largest dot product of VGG/ResNet layers
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopConfig {
    /// Top module name in the emitted Verilog; also the prefix of every module name.
    pub name: String,
    /// Target clock frequency for constraints (MHz).
    #[serde(default = "default_clock_mhz")]
    pub clock_mhz: f64,
}

fn default_clock_mhz() -> f64 {
    100.0
}

/// Widths that follow from the config. The formulas are documented in `docs/architecture.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DerivedWidths {
    /// Magnitude bits of a weight: weight_bits - 1.
    pub mag_bits: u32,
    /// Bit lanes of a kneaded weight: mag_bits for sm, mag_bits + 1 for csd
    /// (a non-adjacent form of an m-bit magnitude needs up to m+1 digits).
    pub lanes: u32,
    /// Bits of a lane pointer into the KS activations: ceil(log2 KS), at least 1.
    pub ptr_bits: u32,
    /// Bits of one kneaded weight on the wire: lanes * (1 valid + ptr_bits + 1 sign).
    pub kneaded_weight_bits: u32,
    /// ceil(log2(max_dot_len)): growth of a sum of max_dot_len terms.
    pub dot_len_bits: u32,
    /// Segment accumulator S_b: the SAC PE flushes the segments into its running sum at the
    /// end of every kneading group, so S_b sums up to min(ks, max_dot_len) activations, each of
    /// either sign (a negated most-negative activation is +2^(act_bits-1)):
    /// act_bits + ceil(log2(min(ks, max_dot_len))) + 1 (signed).
    pub segment_bits: u32,
    /// Result of one dot product: |sum w_i a_i| <= max_dot_len * (2^mag_bits - 1) * 2^(act_bits-1)
    /// so act_bits + mag_bits + dot_len_bits bits (signed) always suffice.
    pub result_bits: u32,
}

/// Clock range of the generated constraints: 1 kHz (a 1 ms period) to 2 GHz.
pub const MIN_CLOCK_MHZ: f64 = 0.001;
pub const MAX_CLOCK_MHZ: f64 = 2000.0;

/// Reserved words of Verilog-2005 (IEEE 1364-2005 Annex B) and SystemVerilog (IEEE 1800-2017
/// Annex B): none may name a module, port or net of the emitted Verilog.
pub const VERILOG_KEYWORDS: &[&str] = &[
    "accept_on",
    "alias",
    "always",
    "always_comb",
    "always_ff",
    "always_latch",
    "and",
    "assert",
    "assign",
    "assume",
    "automatic",
    "before",
    "begin",
    "bind",
    "bins",
    "binsof",
    "bit",
    "break",
    "buf",
    "bufif0",
    "bufif1",
    "byte",
    "case",
    "casex",
    "casez",
    "cell",
    "chandle",
    "checker",
    "class",
    "clocking",
    "cmos",
    "config",
    "const",
    "constraint",
    "context",
    "continue",
    "cover",
    "covergroup",
    "coverpoint",
    "cross",
    "deassign",
    "default",
    "defparam",
    "design",
    "disable",
    "dist",
    "do",
    "edge",
    "else",
    "end",
    "endcase",
    "endchecker",
    "endclass",
    "endclocking",
    "endconfig",
    "endfunction",
    "endgenerate",
    "endgroup",
    "endinterface",
    "endmodule",
    "endpackage",
    "endprimitive",
    "endprogram",
    "endproperty",
    "endsequence",
    "endspecify",
    "endtable",
    "endtask",
    "enum",
    "event",
    "eventually",
    "expect",
    "export",
    "extends",
    "extern",
    "final",
    "first_match",
    "for",
    "force",
    "foreach",
    "forever",
    "fork",
    "forkjoin",
    "function",
    "generate",
    "genvar",
    "global",
    "highz0",
    "highz1",
    "if",
    "iff",
    "ifnone",
    "ignore_bins",
    "illegal_bins",
    "implements",
    "implies",
    "import",
    "incdir",
    "include",
    "initial",
    "inout",
    "input",
    "inside",
    "instance",
    "int",
    "integer",
    "interconnect",
    "interface",
    "intersect",
    "join",
    "join_any",
    "join_none",
    "large",
    "let",
    "liblist",
    "library",
    "local",
    "localparam",
    "logic",
    "longint",
    "macromodule",
    "matches",
    "medium",
    "modport",
    "module",
    "nand",
    "negedge",
    "nettype",
    "new",
    "nexttime",
    "nmos",
    "nor",
    "noshowcancelled",
    "not",
    "notif0",
    "notif1",
    "null",
    "or",
    "output",
    "package",
    "packed",
    "parameter",
    "pmos",
    "posedge",
    "primitive",
    "priority",
    "program",
    "property",
    "protected",
    "pull0",
    "pull1",
    "pulldown",
    "pullup",
    "pulsestyle_ondetect",
    "pulsestyle_onevent",
    "pure",
    "rand",
    "randc",
    "randcase",
    "randsequence",
    "rcmos",
    "real",
    "realtime",
    "ref",
    "reg",
    "reject_on",
    "release",
    "repeat",
    "restrict",
    "return",
    "rnmos",
    "rpmos",
    "rtran",
    "rtranif0",
    "rtranif1",
    "s_always",
    "s_eventually",
    "s_nexttime",
    "s_until",
    "s_until_with",
    "scalared",
    "sequence",
    "shortint",
    "shortreal",
    "showcancelled",
    "signed",
    "small",
    "soft",
    "solve",
    "specify",
    "specparam",
    "static",
    "string",
    "strong",
    "strong0",
    "strong1",
    "struct",
    "super",
    "supply0",
    "supply1",
    "sync_accept_on",
    "sync_reject_on",
    "table",
    "tagged",
    "task",
    "this",
    "throughout",
    "time",
    "timeprecision",
    "timeunit",
    "tran",
    "tranif0",
    "tranif1",
    "tri",
    "tri0",
    "tri1",
    "triand",
    "trior",
    "trireg",
    "type",
    "typedef",
    "union",
    "unique",
    "unique0",
    "unsigned",
    "until",
    "until_with",
    "untyped",
    "use",
    "uwire",
    "var",
    "vectored",
    "virtual",
    "void",
    "wait",
    "wait_order",
    "wand",
    "weak",
    "weak0",
    "weak1",
    "while",
    "wildcard",
    "wire",
    "with",
    "within",
    "wor",
    "xnor",
    "xor",
];

/// Whether `name` is a reserved word of Verilog-2005 or SystemVerilog (they are case-sensitive).
pub fn is_verilog_keyword(name: &str) -> bool {
    VERILOG_KEYWORDS.contains(&name)
}

/// ceil(log2(n)) for n >= 1.
pub fn ceil_log2(n: u64) -> u32 {
    if n <= 1 {
        0
    } else {
        64 - (n - 1).leading_zeros()
    }
}

impl Config {
    /// The embedded default config.
    pub fn default_config() -> Config {
        Self::from_toml_str(DEFAULT_CONFIG_TOML, "<built-in default>")
            .expect("the embedded default config is valid (pinned by a test)")
    }

    /// Load and validate a config file; `None` gives the built-in default.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        match path {
            None => Ok(Self::default_config()),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read config file {}", p.display()))?;
                Self::from_toml_str(&text, &p.display().to_string())
            }
        }
    }

    /// Parse and validate; `origin` names the source in error messages.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Config> {
        refuse_removed_fields(text, origin)?;
        let cfg: Config =
            toml::from_str(text).map_err(|e| anyhow::anyhow!("{origin}: invalid config: {e}"))?;
        cfg.validate()
            .map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<()> {
        check_range("array.rows", self.array.rows, 1, MAX_ARRAY_DIM)?;
        check_range("array.cols", self.array.cols, 1, MAX_ARRAY_DIM)?;
        check_range("pe.weight_bits", self.pe.weight_bits, 2, 16)?;
        check_range("pe.act_bits", self.pe.act_bits, 2, 16)?;
        check_range("pe.ks", self.pe.ks, 1, 64)?;
        check_range("pe.max_dot_len", self.pe.max_dot_len, 1, 1 << 20)?;
        if self.pe.encoding == Encoding::Tc {
            bail!(
                "field pe.encoding = \"tc\": two's complement is for `tetris knead` analysis only; \
                 the hardware supports \"sm\" or \"csd\""
            );
        }
        if self.array.knead_on_chip && self.pe.kind == PeKind::Mac {
            bail!(
                "field array.knead_on_chip = true: only the SAC array kneads on chip \
                 (pe.kind = \"mac\" takes plain weights already)"
            );
        }
        let w = self.widths();
        if w.result_bits > 64 {
            bail!(
                "fields pe.act_bits/pe.weight_bits/pe.max_dot_len give a {}-bit result; at most 64 is supported",
                w.result_bits
            );
        }
        let name = &self.top.name;
        let ok_ident = !name.is_empty()
            && name.len() <= 64
            && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok_ident {
            bail!(
                "field top.name = {name:?}: must be a Verilog identifier of 1..=64 characters \
                 (a letter, then letters, digits or '_')"
            );
        }
        if is_verilog_keyword(name) {
            bail!(
                "field top.name = {name:?}: a reserved word of Verilog-2005/SystemVerilog cannot name a module"
            );
        }
        if !(self.top.clock_mhz.is_finite()
            && (MIN_CLOCK_MHZ..=MAX_CLOCK_MHZ).contains(&self.top.clock_mhz))
        {
            bail!(
                "field top.clock_mhz = {}: allowed range is {MIN_CLOCK_MHZ}..={MAX_CLOCK_MHZ} (MHz)",
                self.top.clock_mhz
            );
        }
        Ok(())
    }

    pub fn widths(&self) -> DerivedWidths {
        let mag_bits = self.pe.weight_bits - 1;
        let lanes = self.pe.encoding.lanes(self.pe.weight_bits) as u32;
        let ptr_bits = ceil_log2(self.pe.ks as u64).max(1);
        let dot_len_bits = ceil_log2(self.pe.max_dot_len as u64);
        DerivedWidths {
            mag_bits,
            lanes,
            ptr_bits,
            kneaded_weight_bits: lanes * (ptr_bits + 2),
            dot_len_bits,
            segment_bits: self.pe.act_bits + dot_len_bits.min(ceil_log2(self.pe.ks as u64)) + 1,
            result_bits: self.pe.act_bits + mag_bits + dot_len_bits,
        }
    }

    /// A short stable hash of the config (FNV-1a over its canonical TOML), for file headers.
    pub fn hash_hex(&self) -> String {
        let canonical = toml::to_string(self).expect("config serializes");
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in canonical.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

/// Largest `array.rows` / `array.cols` (issue 14: "any rows x cols up to 32x32"). The in-process
/// self-check of an array costs time in proportion to rows x cols (docs/array.md).
pub const MAX_ARRAY_DIM: u32 = 32;

/// Fields a config no longer has, refused with what to write instead (a plain "unknown field"
/// would not say that the meaning moved). `[array] emit` selected the array top; the array is
/// now always what `rows x cols` says, so a silent ignore would turn an `emit = false` 8x8 config
/// from a PE into an 8x8 array.
fn refuse_removed_fields(text: &str, origin: &str) -> Result<()> {
    let Ok(table) = text.parse::<toml::Table>() else {
        return Ok(()); // the typed parse below reports the syntax error
    };
    if let Some(v) = table
        .get("array")
        .and_then(|a| a.as_table())
        .and_then(|a| a.get("emit"))
    {
        bail!(
            "{origin}: field array.emit = {v} was removed: `tetris gen` always emits the \
             [array] rows x cols design (rows = cols = 1 is a single PE); delete the line"
        );
    }
    Ok(())
}

fn check_range(field: &str, value: u32, lo: u32, hi: u32) -> Result<()> {
    if value < lo || value > hi {
        bail!("field {field} = {value}: allowed range is {lo}..={hi}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in default is configs/default.toml as it is on disk now (read here, walked
    /// as a plain TOML table, every key compared with the field it sets), and its derived
    /// widths are the figures docs/architecture.md's formulas give by hand for 16-bit sm,
    /// KS=16, max_dot_len 4608 (ceil(log2 4608) = 13): the 44-bit result and 30-bit segments
    /// the docs and the committed hdl_out/ quote.
    #[test]
    fn default_config_is_the_file_on_disk_with_the_documented_widths() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs/default.toml");
        let file: toml::Table = std::fs::read_to_string(path).unwrap().parse().unwrap();
        let c = Config::default_config();
        let int = |t: &str, k: &str| file[t][k].as_integer().unwrap() as u32;
        let text = |t: &str, k: &str| file[t][k].as_str().unwrap().to_string();
        let pe_kind = c.pe.kind.name();
        let fields: [(&str, &str, bool); 10] = [
            ("array", "rows", int("array", "rows") == c.array.rows),
            ("array", "cols", int("array", "cols") == c.array.cols),
            ("pe", "kind", text("pe", "kind") == pe_kind),
            (
                "pe",
                "weight_bits",
                int("pe", "weight_bits") == c.pe.weight_bits,
            ),
            ("pe", "act_bits", int("pe", "act_bits") == c.pe.act_bits),
            ("pe", "ks", int("pe", "ks") == c.pe.ks),
            (
                "pe",
                "encoding",
                text("pe", "encoding") == c.pe.encoding.name(),
            ),
            (
                "pe",
                "max_dot_len",
                int("pe", "max_dot_len") == c.pe.max_dot_len,
            ),
            ("top", "name", text("top", "name") == c.top.name),
            (
                "top",
                "clock_mhz",
                file["top"]["clock_mhz"].as_float() == Some(c.top.clock_mhz),
            ),
        ];
        for (table, key, same) in fields {
            assert!(same, "default config {table}.{key} differs from {path}");
        }
        let in_file: usize = file.values().map(|t| t.as_table().unwrap().len()).sum();
        assert_eq!(
            in_file,
            fields.len(),
            "a key of {path} is not compared here"
        );
        let w = c.widths();
        assert_eq!(
            (w.mag_bits, w.lanes, w.ptr_bits, w.kneaded_weight_bits),
            (15, 15, 4, 15 * (1 + 4 + 1))
        );
        assert_eq!(
            (w.dot_len_bits, w.segment_bits, w.result_bits),
            (13, 21, 44)
        );
    }

    #[test]
    fn out_of_range_fields_are_named() {
        let mut c = Config::default_config();
        c.pe.ks = 0;
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("pe.ks") && e.contains("1..=64"), "{e}");
        let mut c = Config::default_config();
        c.top.name = "9bad".into();
        assert!(c.validate().unwrap_err().to_string().contains("top.name"));
        let mut c = Config::default_config();
        c.array.knead_on_chip = true;
        c.validate().unwrap();
        c.pe.kind = PeKind::Mac;
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("array.knead_on_chip"), "{e}");
    }

    /// `[array] emit` is gone: a config that still sets it is refused with what to do (the
    /// array is always rows x cols now), whatever its value.
    #[test]
    fn removed_emit_field_is_refused_with_the_fix() {
        for v in ["true", "false"] {
            let text = DEFAULT_CONFIG_TOML.replace("[array]\n", &format!("[array]\nemit = {v}\n"));
            let e = Config::from_toml_str(&text, "old.toml")
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("old.toml") && e.contains("array.emit") && e.contains("rows = cols = 1"),
                "{e}"
            );
        }
        let mut c = Config::default_config();
        c.array.rows = MAX_ARRAY_DIM + 1;
        assert!(c.validate().unwrap_err().to_string().contains("1..=32"));
    }

    #[test]
    fn malformed_toml_names_origin() {
        let e = Config::from_toml_str("[array]\nrows = \"x\"", "my.toml").unwrap_err();
        assert!(e.to_string().contains("my.toml"), "{e}");
        let e = Config::from_toml_str(
            "[array]\nrows=1\ncols=1\nbogus=2\n[pe]\nkind=\"sac\"\nweight_bits=8\nact_bits=8\nks=4\nencoding=\"sm\"\n[top]\nname=\"t\"",
            "x.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
    }

    #[test]
    fn widths_bound_the_worst_case_dot_product() {
        // Exhaustive over small configs: the worst-case |sum| fits in result_bits (signed),
        // the worst-case segment (a group of min(ks, len) terms: the PE flushes the segments
        // at every group end) fits in segment_bits (signed).
        for (wb, ks) in (2..=16u32).flat_map(|wb| [1u32, 3, 16, 64].map(|ks| (wb, ks))) {
            for ab in 2..=16u32 {
                for len in [1u32, 2, 3, 16, 4608, 1 << 20] {
                    let mut c = Config::default_config();
                    c.pe.weight_bits = wb;
                    c.pe.act_bits = ab;
                    c.pe.ks = ks;
                    c.pe.max_dot_len = len;
                    let w = c.widths();
                    let amax: i128 = 1 << (ab - 1); // |most negative activation|
                    let wmax: i128 = (1 << (wb - 1)) - 1;
                    let worst = len as i128 * amax * wmax;
                    assert!(
                        worst < (1i128 << (w.result_bits - 1)),
                        "wb={wb} ab={ab} len={len}"
                    );
                    let seg = len.min(ks) as i128 * amax;
                    assert!(
                        seg < (1i128 << (w.segment_bits - 1)),
                        "ab={ab} ks={ks} len={len}"
                    );
                    assert!(
                        seg >= (1i128 << (w.segment_bits - 3)),
                        "segment wider than needed"
                    );
                }
            }
        }
    }
}
