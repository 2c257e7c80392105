//! Weight kneading (Tetris, ICCAD 2018), the golden model.
//!
//! A group of KS weights is aligned by digit position; the essential digits of each column
//! "fall down" (keeping their order) to fill the zero holes; the rows that remain are the
//! kneaded weights. Each lane of a kneaded weight remembers which of the KS activations its
//! digit belongs to (`ptr`) and the digit's sign (`neg`).

use super::encoding::{encode, Digits, Encoding};

/// One digit lane of a kneaded weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lane {
    pub valid: bool,
    /// Index of the weight (and so the activation) within the group, 0..KS.
    pub ptr: u16,
    /// The digit is -1 (the activation is subtracted).
    pub neg: bool,
}

/// One kneaded weight: a lane per digit position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KneadedWeight {
    pub lanes: Vec<Lane>,
}

/// Knead a group of already-encoded weights into `lanes`-wide kneaded weights.
/// The result has exactly max over lanes of the column popcount entries (none when all zero).
pub fn knead_digits(group: &[Digits], lanes: usize) -> Vec<KneadedWeight> {
    let depth = kneaded_len(group, lanes);
    let mut out = vec![
        KneadedWeight {
            lanes: vec![Lane::default(); lanes]
        };
        depth
    ];
    for b in 0..lanes {
        let mut row = 0;
        for (i, d) in group.iter().enumerate() {
            if d.nonzero >> b & 1 == 1 {
                out[row].lanes[b] = Lane {
                    valid: true,
                    ptr: i as u16,
                    neg: d.negative >> b & 1 == 1,
                };
                row += 1;
            }
        }
    }
    out
}

/// Knead a group of integer weights of `bits` bits under `enc`.
pub fn knead_group(weights: &[i64], bits: u32, enc: Encoding) -> Vec<KneadedWeight> {
    let digits: Vec<Digits> = weights.iter().map(|&w| encode(w, bits, enc)).collect();
    knead_digits(&digits, enc.lanes(bits))
}

/// Number of kneaded weights (= SAC cycles) of a group: max over digit positions of how many
/// weights have a non-zero digit there.
pub fn kneaded_len(group: &[Digits], lanes: usize) -> usize {
    (0..lanes)
        .map(|b| group.iter().filter(|d| d.nonzero >> b & 1 == 1).count())
        .max()
        .unwrap_or(0)
}

/// Split a whole dot product's weights into groups of `ks` (the last may be shorter) and knead
/// each. Returns the kneaded stream per group.
pub fn knead_vector(
    weights: &[i64],
    bits: u32,
    enc: Encoding,
    ks: usize,
) -> Vec<Vec<KneadedWeight>> {
    weights
        .chunks(ks)
        .map(|g| knead_group(g, bits, enc))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::encoding::max_magnitude;

    #[test]
    fn the_paper_example_shape() {
        // Three weights whose bits overlap only partly knead into two rows.
        // 0b101, 0b010, 0b001: column 0 has two ones, columns 1 and 2 one each.
        let k = knead_group(&[5, 2, 1], 4, Encoding::Sm);
        assert_eq!(k.len(), 2);
        assert_eq!(
            k[0].lanes[0],
            Lane {
                valid: true,
                ptr: 0,
                neg: false
            }
        );
        assert_eq!(
            k[1].lanes[0],
            Lane {
                valid: true,
                ptr: 2,
                neg: false
            }
        );
        assert_eq!(
            k[0].lanes[1],
            Lane {
                valid: true,
                ptr: 1,
                neg: false
            }
        );
        assert!(!k[1].lanes[1].valid);
        assert_eq!(
            k[0].lanes[2],
            Lane {
                valid: true,
                ptr: 0,
                neg: false
            }
        );
    }

    #[test]
    fn all_zero_group_costs_nothing() {
        assert!(knead_group(&[0; 16], 16, Encoding::Sm).is_empty());
        assert!(knead_group(&[0; 16], 16, Encoding::Csd).is_empty());
    }

    #[test]
    fn kneaded_lanes_keep_every_essential_digit_once() {
        let bits = 5;
        let m = max_magnitude(bits);
        // Every pair and triple of 5-bit weights.
        for a in -m..=m {
            for b in -m..=m {
                for enc in [Encoding::Sm, Encoding::Csd] {
                    let ws = [a, b, a.wrapping_mul(3) % (m + 1)];
                    let k = knead_group(&ws, bits, enc);
                    let total: u32 = ws.iter().map(|&w| encode(w, bits, enc).essential()).sum();
                    let lanes: u32 = k
                        .iter()
                        .map(|kw| kw.lanes.iter().filter(|l| l.valid).count() as u32)
                        .sum();
                    assert_eq!(total, lanes);
                }
            }
        }
    }
}
