//! The noise profile document (JSON/TOML): multiplier, method, metrics, histograms, the
//! by-magnitude table and the noise model a passive AxTrain-style training loop injects.

use super::engine::Method;
use super::lut::Roles;
use super::metrics::{Acc, Metrics, ERR_LOG_BINS, REL_BINS};
use serde_json::{json, Value};

/// Who produced the products.
#[derive(Debug, Clone)]
pub struct Source {
    /// Spec string of a built-in, or `verilog:<file>#<top>` for third-party netlists.
    pub spec: String,
    pub width: u32,
    pub signed: bool,
    /// How signed operands are handled.
    pub signed_convention: String,
    /// Free text: where the numbers come from (model, netlist, timing model).
    pub origin: String,
    /// Which operand carries the activation and which the weight (tables follow it).
    pub roles: Roles,
}

/// Fan-in values at which the noise model's accumulated figures are tabulated.
pub const FAN_INS: [u64; 5] = [1, 9, 64, 576, 4608];

/// Build the profile document.
pub fn profile_json(src: &Source, method: Method, acc: &Acc, extra: Option<Value>) -> Value {
    let m = acc.metrics(method.is_exhaustive());
    let method_v = match method {
        Method::Exhaustive => json!({"exhaustive": true, "pairs": m.pairs}),
        Method::Samples { count, seed } => json!({
            "exhaustive": false, "samples": count, "seed": seed,
            "sampling": "uniform operand patterns with replacement (SplitMix64)",
            "note": "wce and wcre_percent are lower bounds; ci95 gives 95% intervals"
        }),
    };
    let mut doc = json!({
        "multiplier": {
            "spec": src.spec,
            "width": src.width,
            "signed": src.signed,
            "signed_convention": src.signed_convention,
            "operand_roles": src.roles.json(),
            "origin": src.origin,
        },
        "method": method_v,
        "metrics": serde_json::to_value(&m).unwrap_or(Value::Null),
        "histograms": histograms(acc),
        "by_magnitude": by_magnitude(acc),
        "noise_model": noise_model(&m, src.width),
    });
    if let (Some(extra), Some(obj)) = (extra, doc.as_object_mut()) {
        obj.insert("timing_model".into(), extra);
    }
    doc
}

fn histograms(acc: &Acc) -> Value {
    let mut bins = Vec::new();
    for (i, &c) in acc.err_hist.iter().enumerate() {
        if c == 0 {
            continue;
        }
        let k = i as i64 - ERR_LOG_BINS as i64;
        let (lo, hi) = match k {
            0 => (0i128, 0i128),
            k if k > 0 => (1i128 << (k - 1), (1i128 << k) - 1),
            k => (-(1i128 << -k) + 1, -(1i128 << (-k - 1))),
        };
        bins.push(json!({"lo": lo as f64, "hi": hi as f64, "count": c}));
    }
    json!({
        "error_log2": {
            "description": "signed power-of-two bins of e = approx - exact; lo..=hi inclusive",
            "bins": bins,
        },
        "relative_error": {
            "description": "r = e / exact over pairs with exact != 0: counts[i] covers [lo + i*width, lo + (i+1)*width), i.e. floor(100 r) = i - 100 computed exactly; below: r < -1, above: r >= 1",
            "lo": -1.0, "width": 2.0 / REL_BINS as f64,
            "counts": &acc.rel_hist[1..=REL_BINS],
            "below": acc.rel_hist[0],
            "above": acc.rel_hist[REL_BINS + 1],
        }
    })
}

fn by_magnitude(acc: &Acc) -> Value {
    let m = acc.width as usize + 1;
    let mut count = vec![vec![0u64; m]; m];
    let mut mean = vec![vec![0f64; m]; m];
    let mut std = vec![vec![0f64; m]; m];
    let mut mae = vec![vec![0f64; m]; m];
    let mut mre = vec![vec![0f64; m]; m];
    let mut rel_count = vec![vec![0u64; m]; m];
    for i in 0..m {
        for j in 0..m {
            let c = &acc.mag[i * m + j];
            count[i][j] = c.count;
            if c.count > 0 {
                let n = c.count as f64;
                let mu = c.sum_err as f64 / n;
                mean[i][j] = mu;
                std[i][j] = (c.sum_sq as f64 / n - mu * mu).max(0.0).sqrt();
                mae[i][j] = c.sum_abs as f64 / n;
            }
            rel_count[i][j] = c.rel_count;
            if c.rel_count > 0 {
                mre[i][j] = 100.0 * c.sum_abs_rel / c.rel_count as f64;
            }
        }
    }
    json!({
        "description": "row i = bit length of |a| (leading-one position + 1, 0 for a == 0), column j = the same for |b|; mre_percent is undefined (0 here) where rel_count is 0 (a zero operand)",
        "count": count, "rel_count": rel_count, "mean_error": mean, "std_error": std, "mae": mae, "mre_percent": mre,
    })
}

fn noise_model(m: &Metrics, width: u32) -> Value {
    let fan: Vec<Value> = FAN_INS
        .iter()
        .map(|&k| {
            let kf = k as f64;
            json!({"fan_in": k, "mean": kf * m.mean_error, "std": kf.sqrt() * m.std_error})
        })
        .collect();
    json!({
        "kind": "additive_gaussian",
        "integer": {
            "form": "approx = exact + e, e ~ N(mean, std^2) in product LSBs",
            "mean": m.mean_error, "std": m.std_error,
            "std_full_scale": m.std_error / (1u64 << (2 * width)) as f64,
        },
        "relative": {
            "form": "approx = exact * (1 + r), r ~ N(mean, std^2), for exact != 0",
            "mean": m.mean_rel_error, "std": m.std_rel_error,
        },
        "fan_in_scaling": {
            "rule": "a sum of K products with independent errors has mean K*mean and std sqrt(K)*std",
            "caveat": "errors of products sharing an operand are correlated; by_magnitude shows how the error depends on the operands",
            "table": fan,
        },
    })
}

/// The same document as TOML (tables after values, as TOML requires).
pub fn to_toml(doc: &Value) -> anyhow::Result<String> {
    let v = toml::Value::try_from(doc)?;
    Ok(toml::to_string(&v)?)
}
