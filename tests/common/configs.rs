//! Small [`Config`]s for the tests and benches: the built-in default with the few fields a test
//! varies set, and every other field as built in.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use tetris_hdl::config::{Config, PeKind};
use tetris_hdl::model::encoding::Encoding;

/// Every PE design the generator emits: the SAC PE in sign-magnitude and in CSD, the MAC PE.
pub const PE_DESIGNS: [(PeKind, Encoding); 3] = [
    (PeKind::Sac, Encoding::Sm),
    (PeKind::Sac, Encoding::Csd),
    (PeKind::Mac, Encoding::Sm),
];

/// The built-in default config on a `rows` x `cols` array.
pub fn default_on_array(rows: u32, cols: u32) -> Config {
    let mut c = Config::default_config();
    c.array.rows = rows;
    c.array.cols = cols;
    c
}

/// The built-in default config on a `rows` x `cols` array with `bits`-bit weights and
/// activations in `enc` (PE kind, kneading stride and top name as built in).
pub fn array_config(rows: u32, cols: u32, bits: u32, enc: Encoding) -> Config {
    let mut c = default_on_array(rows, cols);
    c.pe.weight_bits = bits;
    c.pe.act_bits = bits;
    c.pe.encoding = enc;
    c
}

/// [`array_config`] of a single PE (a 1x1 array: the PE-level design).
pub fn single_pe_config(bits: u32, enc: Encoding) -> Config {
    array_config(1, 1, bits, enc)
}
