//! The mapped layer computed the way the array computes it: per pass, pixel tile, column slot
//! and row, a SAC over the filter's kneaded groups against the row's im2col activation groups.
//! Checked against the direct convolution; the RTL driver feeds the array the same streams.

use super::mapper::LayerMap;
use anyhow::{bail, Result};
use tetris_core::model::encoding::Encoding;
use tetris_core::model::knead::{knead_vector, KneadedWeight};
use tetris_core::model::sac::sac_dot;

/// Kneaded streams of every filter: `[filter][kneading group] -> kneaded weights`.
pub fn knead_filters(
    weights: &[i64],
    dot_len: usize,
    bits: u32,
    enc: Encoding,
    ks: usize,
) -> Vec<Vec<Vec<KneadedWeight>>> {
    weights
        .chunks(dot_len)
        .map(|f| knead_vector(f, bits, enc, ks))
        .collect()
}

/// Output `[N, Cout, OH, OW]` of the mapped layer.
pub fn run_mapped(
    map: &LayerMap,
    input: &[i64],
    weights: &[i64],
    bits: u32,
    enc: Encoding,
) -> Result<Vec<i128>> {
    let p = &map.params;
    if input.len() != p.input_len() || weights.len() != p.weight_len() {
        bail!("mapped layer: input or weight length does not match the layer shape");
    }
    let kneaded = knead_filters(weights, p.dot_len(), bits, enc, map.ks);
    let lanes = enc.lanes(bits);
    let plane = p.out_h() * p.out_w();
    let mut out = vec![0i128; p.batch * p.cout * plane];
    let mut written = vec![false; out.len()];
    for pass in &map.passes {
        for t in 0..map.pixel_tiles() {
            for pixel in map.tile_pixels(t) {
                for col in &pass.slots {
                    for o in col.iter().flatten() {
                        let row = p.im2col_row(input, pixel, map.conv_group_of(*o));
                        let acts: Vec<&[i64]> = row.chunks(map.ks).collect();
                        let (y, _) = sac_dot(&kneaded[*o], &acts, lanes);
                        let idx = (pixel / plane * p.cout + o) * plane + pixel % plane;
                        if written[idx] {
                            bail!("output {idx} computed twice by the mapping");
                        }
                        written[idx] = true;
                        out[idx] = y;
                    }
                }
            }
        }
    }
    if let Some(i) = written.iter().position(|w| !w) {
        bail!("output {i} not computed by the mapping");
    }
    Ok(out)
}
