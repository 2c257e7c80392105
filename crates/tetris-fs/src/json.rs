//! Reading typed JSON documents (noise profiles, Yosys netlists, build stamps): a malformed
//! document is an error naming the file and the field it fails at, never a silent default.

use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use std::path::Path;

/// Parse `text` as a `T`; `label` names the document (usually its file) in the error, which
/// also names the field, e.g. `p.json: metrics.mae: invalid type: string "x", expected f64`.
pub fn parse_json<T: DeserializeOwned>(text: &str, label: &str) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let doc = serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        if field == "." {
            anyhow::anyhow!("{label}: {inner}")
        } else {
            anyhow::anyhow!("{label}: field {field}: {inner}")
        }
    })?;
    Ok(doc)
}

/// Read the file at `path` as a `T` (errors as [`parse_json`], naming the file).
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_json(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Doc {
        metrics: Metrics,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Metrics {
        mae: f64,
    }

    #[test]
    fn errors_name_the_document_and_the_field() {
        let e = parse_json::<Doc>(r#"{"metrics": {"mae": "x"}}"#, "p.json").unwrap_err();
        let e = e.to_string();
        assert!(
            e.starts_with("p.json: field metrics.mae: invalid type"),
            "{e}"
        );
        let e = parse_json::<Doc>(r#"{"metrics": {}}"#, "p.json").unwrap_err();
        assert!(e.to_string().contains("missing field `mae`"), "{e}");
        let e = parse_json::<Doc>("{", "p.json").unwrap_err().to_string();
        assert!(e.starts_with("p.json: "), "{e}");
        assert_eq!(
            parse_json::<Doc>(r#"{"metrics": {"mae": 1.5}}"#, "p")
                .unwrap()
                .metrics
                .mae,
            1.5
        );
    }
}
