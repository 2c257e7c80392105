//! The root crate's modules form layers too (docs/architecture.md): each may name only the
//! modules below it and the layer crates. Cargo enforces the order of the crates in `crates/`;
//! inside one crate the compiler allows any cycle, so this test reads the root's sources and
//! fails on a `crate::<module>` path that points up the order.

use std::path::{Path, PathBuf};

/// The root's modules, bottom up (a module not listed fails the test). `hdl` and `array` only
/// re-export the layer crates tetris-blocks and tetris-array.
const ORDER: [&str; 9] = [
    "hdl",
    "array",
    "flow",
    "power",
    "study",
    "noise",
    "axtrain",
    "specialize",
    "cli",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The root module a file of `src/` belongs to (`src/flow/gen.rs` -> `flow`, `src/specialize.rs`
/// -> `specialize`); None for lib.rs and main.rs.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// Every root module named by a `crate::<module>` path in code (comments skipped).
fn named_modules(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let tail = &rest[at + "crate::".len()..];
            let name: String = tail
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            // `$crate` in a macro is not a path of ours.
            if !rest[..at].ends_with('$') {
                out.push((i + 1, name));
            }
            rest = tail;
        }
    }
    out
}

/// Whether module `from` naming module `to` points up the order (modules not in it, like the
/// re-exported `config` or `weights`, are layer crates below every module).
fn points_up(from: &str, to: &str) -> bool {
    let rank = |m: &str| ORDER.iter().position(|o| *o == m);
    matches!((rank(from), rank(to)), (Some(here), Some(there)) if there > here)
}

#[test]
fn root_modules_only_name_modules_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for f in &files {
        let Some(m) = module_of(&src, f) else {
            continue;
        };
        assert!(
            ORDER.contains(&m.as_str()),
            "{}: module `{m}` is not in ORDER of tests/layers.rs",
            f.display()
        );
        let text = std::fs::read_to_string(f).unwrap();
        for (line, name) in named_modules(&text) {
            if points_up(&m, &name) {
                wrong.push(format!("{}:{line}: `{m}` names `{name}`", f.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "upward imports:\n{}", wrong.join("\n"));
}

#[test]
fn the_check_sees_an_upward_path_and_skips_comments() {
    assert!(points_up("flow", "power") && points_up("power", "study"));
    assert!(!points_up("study", "power") && !points_up("flow", "config"));
    let found = named_modules(
        "use crate::power::flow; // crate::cli\nlet x = crate::array::host::f(); $crate::cli",
    );
    assert_eq!(
        found,
        vec![(1, "power".to_string()), (2, "array".to_string())]
    );
}
