//! Property tests of the golden models: SAC over kneaded weights equals the exact dot
//! product for every encoding, width 2..=16 and kneading stride 1..=64, and a group's kneaded
//! length is the largest column popcount.

use proptest::prelude::*;
use tetris_hdl::model::encoding::{encode, max_magnitude, Encoding};
use tetris_hdl::model::knead::{knead_group, knead_vector};
use tetris_hdl::model::mac::mac_dot;
use tetris_hdl::model::sac::sac_dot;

fn case() -> impl Strategy<Value = (u32, usize, Encoding, Vec<(i64, i64)>)> {
    (
        2u32..=16,
        1usize..=64,
        prop_oneof![Just(Encoding::Sm), Just(Encoding::Csd), Just(Encoding::Tc)],
        0usize..=200,
    )
        .prop_flat_map(|(bits, ks, enc, len)| {
            let m = max_magnitude(bits);
            let pair = (-m..=m, -(1i64 << 15)..(1i64 << 15));
            (
                Just(bits),
                Just(ks),
                Just(enc),
                proptest::collection::vec(pair, len),
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn sac_of_kneaded_equals_dot_product((bits, ks, enc, pairs) in case()) {
        let w: Vec<i64> = pairs.iter().map(|p| p.0).collect();
        let a: Vec<i64> = pairs.iter().map(|p| p.1).collect();
        let groups = knead_vector(&w, bits, enc, ks);
        let act_groups: Vec<&[i64]> = a.chunks(ks).collect();
        let (r, cycles) = sac_dot(&groups, &act_groups, enc.lanes(bits));
        prop_assert_eq!(r, mac_dot(&w, &a));
        // Cycles: sum over groups of the largest column popcount, computed independently here.
        let expect: usize = w.chunks(ks).map(|g| {
            (0..64).map(|b| g.iter().filter(|&&x| encode(x, bits, enc).nonzero >> b & 1 == 1).count()).max().unwrap()
        }).sum();
        prop_assert_eq!(cycles, expect);
    }

    #[test]
    fn kneaded_length_is_max_column_popcount((bits, ks, enc, pairs) in case()) {
        let w: Vec<i64> = pairs.iter().take(ks).map(|p| p.0).collect();
        let k = knead_group(&w, bits, enc);
        let max_pop = (0..enc.lanes(bits))
            .map(|b| w.iter().filter(|&&x| encode(x, bits, enc).nonzero >> b & 1 == 1).count())
            .max()
            .unwrap_or(0);
        prop_assert_eq!(k.len(), max_pop);
        // Every kneaded weight has at least one valid lane and lanes point inside the group.
        for kw in &k {
            prop_assert!(kw.lanes.iter().any(|l| l.valid));
            prop_assert!(kw.lanes.iter().all(|l| !l.valid || (l.ptr as usize) < w.len()));
        }
    }
}
