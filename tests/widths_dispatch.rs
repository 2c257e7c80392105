//! Widths are derived once, in `Config::widths()`: the const generics `select::dispatch`
//! instantiates for a config must equal them, for every configuration it accepts.

use tetris_hdl::config::{Config, PeConfig, PeKind};
use tetris_hdl::flow::select::{check_supported, dispatch, PeVisitor, Specialized};
use tetris_hdl::model::encoding::Encoding;

/// The const generics a dispatch chose, as plain numbers.
#[derive(Debug, PartialEq)]
struct Chosen {
    weight_bits: usize,
    act_bits: usize,
    lanes: Option<usize>,
    ks: Option<usize>,
    ptr_bits: Option<usize>,
    segment_bits: Option<usize>,
    result_bits: usize,
    csd: Option<bool>,
}

struct Capture;

impl PeVisitor for Capture {
    type Out = Chosen;
    tetris_hdl::sac_method!(fn sac(self, csd) -> Chosen {
        Chosen {
            weight_bits: W,
            act_bits: A,
            lanes: Some(L),
            ks: Some(KS),
            ptr_bits: Some(P),
            segment_bits: Some(SEG),
            result_bits: RES,
            csd: Some(csd),
        }
    });
    fn mac<const W: usize, const A: usize, const KS: usize, const P: usize, const RES: usize>(
        self,
    ) -> Chosen {
        Chosen {
            weight_bits: W,
            act_bits: A,
            lanes: None,
            ks: Some(KS),
            ptr_bits: Some(P),
            segment_bits: None,
            result_bits: RES,
            csd: None,
        }
    }
    fn specialized(self, _: &dyn Specialized, _: PeKind) -> Chosen {
        unreachable!("a test binary registers no specialization")
    }
}

/// What `Config::widths()` says the same config needs.
fn expected(cfg: &Config) -> Chosen {
    let w = cfg.widths();
    let sac = cfg.pe.kind == PeKind::Sac;
    Chosen {
        weight_bits: cfg.pe.weight_bits as usize,
        act_bits: cfg.pe.act_bits as usize,
        lanes: sac.then_some(w.lanes as usize),
        // The MAC array cell takes a group of KS activations too.
        ks: Some(cfg.pe.ks as usize),
        ptr_bits: Some(w.ptr_bits as usize),
        segment_bits: sac.then_some(w.segment_bits as usize),
        result_bits: w.result_bits as usize,
        csd: sac.then_some(cfg.pe.encoding == Encoding::Csd),
    }
}

#[test]
fn dispatched_const_generics_equal_the_derived_widths() {
    let mut accepted = 0;
    for kind in [PeKind::Sac, PeKind::Mac] {
        for encoding in [Encoding::Sm, Encoding::Csd] {
            for weight_bits in 2..=16u32 {
                for act_bits in 2..=16u32 {
                    for ks in [1u32, 2, 4, 8, 16, 32] {
                        for max_dot_len in [16u32, 4608, 8192] {
                            let mut cfg = Config::default_config();
                            cfg.pe = PeConfig {
                                kind,
                                encoding,
                                weight_bits,
                                act_bits,
                                ks,
                                max_dot_len,
                                ..cfg.pe
                            };
                            if cfg.validate().is_err() {
                                continue;
                            }
                            let what = format!("{:?}", cfg.pe);
                            if check_supported(&cfg).is_err() {
                                assert!(dispatch(&cfg, Capture).is_err(), "{what}");
                                continue;
                            }
                            let got = dispatch(&cfg, Capture).unwrap();
                            assert_eq!(got, expected(&cfg), "{what}");
                            accepted += 1;
                        }
                    }
                }
            }
        }
    }
    // Not vacuous: every built-in configuration was reached (5 width pairs x 3 strides x 2
    // lengths in 4097..=8192 x 2 encodings x 2 kinds).
    assert_eq!(accepted, 5 * 3 * 2 * 2 * 2, "configurations dispatched");
}
