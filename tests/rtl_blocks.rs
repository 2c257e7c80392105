//! In-process simulation of the RTL blocks against the golden models, bit- and cycle-exact.
//! Exhaustive where small (weight_bits = 4, KS = 4), seeded random otherwise.

use tetris_hdl::hdl::cycles;
use tetris_hdl::hdl::sim::{
    run_knead_unit, run_mac_pe, run_sac_pe, Beat, KneadGroup, MacDot, SacDot, SplitMix64,
};
use tetris_hdl::model::encoding::{max_magnitude, Encoding};
use tetris_hdl::model::knead::{knead_group, Lane};
use tetris_hdl::model::mac::mac_dot;
use tetris_hdl::model::sac::sac_dot;

/// Every group of 4 weights of 4 bits (15^4 groups).
fn all_w4_groups() -> Vec<Vec<i64>> {
    let m = max_magnitude(4);
    let mut out = vec![];
    for a in -m..=m {
        for b in -m..=m {
            for c in -m..=m {
                for d in -m..=m {
                    out.push(vec![a, b, c, d]);
                }
            }
        }
    }
    out
}

/// A weight with a realistic spread of bit lengths, zero a quarter of the time.
fn random_weight(r: &mut SplitMix64, bits: u32) -> i64 {
    if r.chance(1, 4) {
        return 0;
    }
    let len = r.range(1, bits as i64 - 1) as u32;
    let m = r.range(0, (1i64 << len) - 1);
    if r.chance(1, 2) {
        -m
    } else {
        m
    }
}

fn random_act(r: &mut SplitMix64, bits: u32) -> i64 {
    r.range(-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
}

/// [`all_w4_groups`], each with 4 random 4-bit activations drawn from `seed`.
fn all_w4_groups_with_random_acts(seed: u64) -> Vec<(Vec<i64>, Vec<i64>)> {
    let mut r = SplitMix64(seed);
    all_w4_groups()
        .into_iter()
        .map(|w| {
            let a = (0..4).map(|_| random_act(&mut r, 4)).collect();
            (w, a)
        })
        .collect()
}

/// (weights, activations) pairs as the MAC dot products the simulation runs.
fn mac_dots(vecs: &[(Vec<i64>, Vec<i64>)]) -> Vec<MacDot> {
    vecs.iter()
        .map(|(w, a)| MacDot {
            weights: w.clone(),
            acts: a.clone(),
        })
        .collect()
}

/// The kneading unit's expected output for a group: the model's kneaded weights with the
/// group/dot-product flags, a null beat for an all-zero last group.
fn expected_beats(weights: &[i64], bits: u32, enc: Encoding, last: bool) -> Vec<Beat> {
    let k = knead_group(weights, bits, enc);
    let lanes = enc.lanes(bits);
    if k.is_empty() {
        return if last {
            vec![Beat {
                lanes: vec![Lane::default(); lanes],
                group_end: true,
                last: true,
            }]
        } else {
            vec![]
        };
    }
    let n = k.len();
    k.into_iter()
        .enumerate()
        .map(|(r, kw)| Beat {
            lanes: kw.lanes,
            group_end: r + 1 == n,
            last: r + 1 == n && last,
        })
        .collect()
}

fn check_knead<const W: usize, const L: usize, const KS: usize, const P: usize>(
    groups: &[KneadGroup],
    enc: Encoding,
    stall: bool,
) {
    let mut rng = SplitMix64(7);
    let run = run_knead_unit::<W, L, KS, P>(
        groups,
        enc == Encoding::Csd,
        stall.then_some(&mut rng),
        false,
    );
    let mut want = vec![];
    let mut model_groups = vec![];
    for g in groups {
        want.extend(expected_beats(&g.weights, W as u32, enc, g.last));
        model_groups.push((knead_group(&g.weights, W as u32, enc), g.last));
    }
    assert_eq!(
        run.beats.len(),
        want.len(),
        "{enc}: number of kneaded weights"
    );
    for (i, (got, exp)) in run.beats.iter().zip(&want).enumerate() {
        assert_eq!(got, exp, "{enc}: beat {i}");
    }
    let skips: Vec<bool> = model_groups
        .iter()
        .map(|(k, last)| k.is_empty() && !last)
        .collect();
    assert_eq!(run.skipped, skips, "{enc}: in_skip");
    if !stall {
        assert_eq!(
            run.cycles,
            cycles::knead_unit_cycles(&model_groups),
            "{enc}: kneading unit cycles"
        );
    }
}

#[test]
fn knead_unit_exhaustive_w4_ks4() {
    let mut r = SplitMix64(1);
    let groups: Vec<KneadGroup> = all_w4_groups()
        .into_iter()
        .map(|w| KneadGroup {
            weights: w,
            last: r.chance(1, 3),
        })
        .collect();
    check_knead::<4, 3, 4, 2>(&groups, Encoding::Sm, false);
    check_knead::<4, 4, 4, 2>(&groups, Encoding::Csd, false);
    // Back-pressure and idle inputs on a slice.
    check_knead::<4, 3, 4, 2>(&groups[..5000], Encoding::Sm, true);
    check_knead::<4, 4, 4, 2>(&groups[..5000], Encoding::Csd, true);
}

#[test]
fn knead_unit_random_w8_w16() {
    for (bits, enc) in [
        (8u32, Encoding::Sm),
        (8, Encoding::Csd),
        (16, Encoding::Sm),
        (16, Encoding::Csd),
    ] {
        let mut r = SplitMix64(bits as u64 * 31 + enc as u64);
        let groups: Vec<KneadGroup> = (0..3000)
            .map(|_| KneadGroup {
                weights: (0..16).map(|_| random_weight(&mut r, bits)).collect(),
                last: r.chance(1, 2),
            })
            .collect();
        match (bits, enc) {
            (8, Encoding::Sm) => check_knead::<8, 7, 16, 4>(&groups, enc, false),
            (8, _) => check_knead::<8, 8, 16, 4>(&groups, enc, true),
            (16, Encoding::Sm) => check_knead::<16, 15, 16, 4>(&groups, enc, true),
            _ => check_knead::<16, 16, 16, 4>(&groups, enc, false),
        }
    }
}

/// Build SAC dot products from weight/activation vectors; returns them with the expected
/// results and PE cycles from the golden models.
fn sac_dots(
    vecs: &[(Vec<i64>, Vec<i64>)],
    bits: u32,
    enc: Encoding,
    ks: usize,
) -> (Vec<SacDot>, Vec<i128>, usize) {
    let mut dots = vec![];
    let mut want = vec![];
    let mut cyc = 0;
    for (w, a) in vecs {
        let groups: Vec<_> = w.chunks(ks).map(|g| knead_group(g, bits, enc)).collect();
        let acts: Vec<Vec<i64>> = a.chunks(ks).map(|g| g.to_vec()).collect();
        let act_refs: Vec<&[i64]> = acts.iter().map(|x| x.as_slice()).collect();
        let (sac, _) = sac_dot(&groups, &act_refs, enc.lanes(bits));
        let exact = mac_dot(w, a);
        assert_eq!(sac, exact, "model self-consistency");
        want.push(exact);
        cyc += cycles::sac_pe_cycles(&groups);
        dots.push(SacDot { groups, acts });
    }
    (dots, want, cyc)
}

fn check_sac<
    const L: usize,
    const KS: usize,
    const P: usize,
    const A: usize,
    const SEG: usize,
    const RES: usize,
>(
    vecs: &[(Vec<i64>, Vec<i64>)],
    bits: u32,
    enc: Encoding,
    stall_seed: Option<u64>,
) {
    let (dots, want, model_cycles) = sac_dots(vecs, bits, enc, KS);
    let mut rng = SplitMix64(stall_seed.unwrap_or(0));
    let run =
        run_sac_pe::<L, KS, P, A, SEG, RES>(&dots, stall_seed.is_some().then_some(&mut rng), false);
    assert_eq!(run.results.len(), want.len());
    for (i, (g, w)) in run.results.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "{enc} {bits}-bit: dot product {i}: {:?}", vecs[i]);
    }
    assert_eq!(run.beats, model_cycles, "{enc}: beats");
    if stall_seed.is_none() {
        // Full throughput: one beat every cycle across group and dot-product boundaries.
        assert_eq!(run.busy_cycles, model_cycles, "{enc}: PE cycles");
        assert_eq!(run.result_latency, cycles::PE_RESULT_LATENCY);
    }
}

#[test]
fn sac_pe_exhaustive_w4_ks4() {
    let vecs = all_w4_groups_with_random_acts(2);
    check_sac::<3, 4, 2, 4, 18, 20>(&vecs, 4, Encoding::Sm, None);
    check_sac::<4, 4, 2, 4, 18, 20>(&vecs, 4, Encoding::Csd, None);
    check_sac::<3, 4, 2, 4, 18, 20>(&vecs[..5000], 4, Encoding::Sm, Some(3));
    check_sac::<4, 4, 2, 4, 18, 20>(&vecs[..5000], 4, Encoding::Csd, Some(4));
}

/// Random dot products of 1..=3 groups of `ks`.
fn random_vecs(seed: u64, n: usize, bits: u32, ks: usize) -> Vec<(Vec<i64>, Vec<i64>)> {
    let mut r = SplitMix64(seed);
    (0..n)
        .map(|_| {
            let len = r.range(1, 3 * ks as i64) as usize;
            let w = (0..len).map(|_| random_weight(&mut r, bits)).collect();
            let a = (0..len).map(|_| random_act(&mut r, bits)).collect();
            (w, a)
        })
        .collect()
}

const RANDOM_DOTS: usize = 100_000;

#[test]
fn sac_pe_random_8bit_sm() {
    check_sac::<7, 4, 2, 8, 22, 28>(&random_vecs(10, RANDOM_DOTS, 8, 4), 8, Encoding::Sm, None);
    check_sac::<7, 16, 4, 8, 22, 28>(&random_vecs(11, 2000, 8, 16), 8, Encoding::Sm, Some(5));
}

#[test]
fn sac_pe_random_8bit_csd() {
    check_sac::<8, 4, 2, 8, 22, 28>(&random_vecs(12, RANDOM_DOTS, 8, 4), 8, Encoding::Csd, None);
    check_sac::<8, 16, 4, 8, 22, 28>(&random_vecs(13, 2000, 8, 16), 8, Encoding::Csd, Some(6));
}

#[test]
fn sac_pe_random_16bit_sm() {
    check_sac::<15, 4, 2, 16, 30, 44>(&random_vecs(14, RANDOM_DOTS, 16, 4), 16, Encoding::Sm, None);
    check_sac::<15, 16, 4, 16, 30, 44>(&random_vecs(15, 2000, 16, 16), 16, Encoding::Sm, Some(7));
}

#[test]
fn sac_pe_random_16bit_csd() {
    check_sac::<16, 4, 2, 16, 30, 44>(
        &random_vecs(16, RANDOM_DOTS, 16, 4),
        16,
        Encoding::Csd,
        None,
    );
    check_sac::<16, 16, 4, 16, 30, 44>(&random_vecs(17, 2000, 16, 16), 16, Encoding::Csd, Some(8));
}

/// Extreme values: most negative activations, largest weights, longest sums within the test
/// budget, so the segment and result widths are exercised at their edges.
#[test]
fn sac_pe_extremes_16bit() {
    let m = max_magnitude(16);
    let amin = -(1i64 << 15);
    let vecs = vec![
        (vec![m; 48], vec![amin; 48]),
        (vec![-m; 48], vec![amin; 48]),
        (vec![m; 48], vec![(1 << 15) - 1; 48]),
        (vec![0; 16], vec![amin; 16]),
        (vec![0; 5], vec![1; 5]),
    ];
    check_sac::<15, 16, 4, 16, 30, 44>(&vecs, 16, Encoding::Sm, None);
    check_sac::<16, 16, 4, 16, 30, 44>(&vecs, 16, Encoding::Csd, None);
}

fn check_mac<const W: usize, const A: usize, const RES: usize>(
    vecs: &[(Vec<i64>, Vec<i64>)],
    stall_seed: Option<u64>,
) {
    let dots = mac_dots(vecs);
    let mut rng = SplitMix64(stall_seed.unwrap_or(0));
    let run = run_mac_pe::<W, A, RES>(&dots, stall_seed.is_some().then_some(&mut rng), false);
    for (i, ((w, a), g)) in vecs.iter().zip(&run.results).enumerate() {
        assert_eq!(*g, mac_dot(w, a), "MAC dot product {i}");
    }
    let pairs: usize = vecs.iter().map(|v| cycles::mac_pe_cycles(v.0.len())).sum();
    assert_eq!(run.beats, pairs);
    if stall_seed.is_none() {
        assert_eq!(run.busy_cycles, pairs);
        assert_eq!(run.result_latency, cycles::PE_RESULT_LATENCY);
    }
}

#[test]
fn mac_pe_exhaustive_w4_and_random() {
    let vecs = all_w4_groups_with_random_acts(20);
    check_mac::<4, 4, 20>(&vecs, None);
    check_mac::<4, 4, 20>(&vecs[..3000], Some(1));
    check_mac::<8, 8, 28>(&random_vecs(21, RANDOM_DOTS, 8, 4), None);
    check_mac::<16, 16, 44>(&random_vecs(22, RANDOM_DOTS, 16, 4), None);
    check_mac::<16, 16, 44>(&random_vecs(23, 2000, 16, 16), Some(2));
}

/// The emitted design (kneading unit feeding the SAC PE) computes the golden dot products.
#[test]
fn sac_design_matches_golden_model() {
    use tetris_hdl::hdl::sim::run_sac_design;
    let vecs = random_vecs(30, 1500, 16, 16);
    let dots = mac_dots(&vecs);
    let sm = run_sac_design::<16, 15, 16, 4, 16, 30, 44>(&dots, false, false);
    let csd = run_sac_design::<16, 16, 16, 4, 16, 30, 44>(&dots, true, false);
    for (i, (w, a)) in vecs.iter().enumerate() {
        assert_eq!(sm.results[i], mac_dot(w, a), "sm dot {i}");
        assert_eq!(csd.results[i], mac_dot(w, a), "csd dot {i}");
    }
}
