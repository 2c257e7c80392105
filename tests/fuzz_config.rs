//! Fuzzing the config reader (issue 11): malformed TOML (truncated, bytes flipped, values
//! replaced by other types and extreme numbers) never panics: a config either validates or is
//! an error that names its origin. Bounded here; the long run:
//! `cargo test --release --test fuzz_config -- --ignored`.

use proptest::prelude::*;
use tetris_hdl::config::{Config, DEFAULT_CONFIG_TOML};

const ORIGIN: &str = "fuzz.toml";

/// Values a hostile user may put on the right-hand side of any field.
fn any_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        any::<u64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| format!("{v:?}")),
        Just("nan".to_string()),
        Just("-inf".to_string()),
        Just("1e-300".to_string()),
        Just("\"\"".to_string()),
        Just("\"module\"".to_string()),
        Just("[1, 2]".to_string()),
        Just("{ a = 1 }".to_string()),
        Just("true".to_string()),
        "\"[a-z_$0-9 ]{0,80}\"".prop_map(|s| s),
        "[^\n]{0,20}".prop_map(|s| s),
    ]
}

fn check(text: &str) {
    match Config::from_toml_str(text, ORIGIN) {
        Ok(cfg) => {
            cfg.validate().expect("a returned config validates");
            let _ = cfg.widths();
        }
        Err(e) => assert!(
            format!("{e:#}").contains(ORIGIN),
            "error without origin: {e:#}"
        ),
    }
}

fn field_lines() -> Vec<usize> {
    DEFAULT_CONFIG_TOML
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(" = "))
        .map(|(i, _)| i)
        .collect()
}

fn replace_value(line_no: usize, value: &str) -> String {
    DEFAULT_CONFIG_TOML
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == line_no {
                let key = l.split(" = ").next().unwrap_or(l);
                format!("{key} = {value}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cases(2000))]
    #[test]
    fn any_value_in_any_field_is_an_error_or_valid(line in proptest::sample::select(field_lines()), v in any_value()) {
        check(&replace_value(line, &v));
    }

    #[test]
    fn truncated_or_flipped_text_never_panics(cut in 0usize..DEFAULT_CONFIG_TOML.len(), flips in proptest::collection::vec((0usize..DEFAULT_CONFIG_TOML.len(), any::<u8>()), 0..8)) {
        let mut bytes = DEFAULT_CONFIG_TOML.as_bytes()[..cut].to_vec();
        for (i, b) in flips {
            if i < bytes.len() {
                bytes[i] = b;
            }
        }
        check(&String::from_utf8_lossy(&bytes));
    }
}

proptest! {
    #![proptest_config(cases(200_000))]
    #[test]
    #[ignore = "long fuzz run: cargo test --release --test fuzz_config -- --ignored"]
    fn long_any_value_in_any_field(line in proptest::sample::select(field_lines()), v in any_value()) {
        check(&replace_value(line, &v));
    }
}
