//! Shape inference over an ONNX graph, as an inference runtime does it before it runs: the
//! graph inputs at the sizes used, then every node in file (topological) order. Small integer
//! tensors (the `Shape -> Gather -> Concat -> Reshape` chains exporters write) are evaluated
//! too, so reshapes computed at run time get their sizes. Where an operator is not covered
//! here, the output shapes a model declares (`value_info`, graph outputs) fill in, when static.
//!
//! Attributes that cannot describe a real operator (negative pads, zero strides, a kernel
//! larger than its padded input) are errors naming the node and the attribute.

use super::onnx::{is_float_type, is_integer_type, node_label, Attrs, Constants};
use super::onnx_pb::{
    tensor_shape_proto::dimension::Value as DimValue, type_proto::Value as TypeValue, GraphProto,
    NodeProto, ValueInfoProto,
};
use anyhow::{bail, Context, Result};
use std::collections::HashMap;

/// A tensor shape with every dimension known.
pub type Shape = Vec<usize>;

/// Largest tensor whose values are tracked (shape arithmetic only needs a few).
const MAX_VALUES: usize = 64;

/// The values of a small tensor: integers kept exact in f64.
#[derive(Debug, Clone, PartialEq)]
struct Values {
    v: Vec<f64>,
    int: bool,
}

/// Declared dims of a ValueInfoProto: `Some(v)` as written (may be <= 0, which means free),
/// `None` for a symbolic or unset dim. `None` overall when no tensor shape is declared.
pub fn declared_dims(v: &ValueInfoProto) -> Option<Vec<Option<i64>>> {
    let Some(TypeValue::TensorType(t)) = v.r#type.as_ref()?.value.as_ref() else {
        return None;
    };
    let shape = t.shape.as_ref()?;
    Some(
        shape
            .dim
            .iter()
            .map(|d| match d.value {
                Some(DimValue::DimValue(x)) => Some(x),
                _ => None,
            })
            .collect(),
    )
}

/// Declared dims as text, `?` for a free one: `[?, 3, 48, ?]` (a negative dim as written).
pub fn dims_text(dims: &[Option<i64>]) -> String {
    let d: Vec<String> = dims
        .iter()
        .map(|d| match d {
            Some(x) if *x > 0 => x.to_string(),
            Some(x) => format!("? ({x})"),
            None => "?".into(),
        })
        .collect();
    format!("[{}]", d.join(", "))
}

/// `1x3x48x320`.
pub fn shape_text(s: &[usize]) -> String {
    s.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("x")
}

/// Kernel, strides, dilations, pads and output size of a convolution or pooling window, from a
/// node's attributes and its input's spatial dims, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub kernel: Vec<usize>,
    pub strides: Vec<usize>,
    pub dilations: Vec<usize>,
    /// (begin, end) per spatial axis.
    pub pads: Vec<(usize, usize)>,
    /// ConvTranspose only (zeros otherwise).
    pub output_padding: Vec<usize>,
    pub out: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowKind {
    Conv,
    Pool,
    ConvTranspose,
}

/// A non-negative integer attribute list of length `n` (`default` when absent), or an error
/// naming the node and attribute.
fn sizes_attr(
    n: &NodeProto,
    label: &str,
    name: &str,
    len: usize,
    default: usize,
    min: usize,
) -> Result<Vec<usize>> {
    let v = n.ints_attr(name);
    if v.is_empty() {
        return Ok(vec![default; len]);
    }
    if v.len() != len {
        bail!(
            "node {label} ({}): attribute {name} = {v:?} has {} values, expected {len}",
            n.op_type(),
            v.len()
        );
    }
    v.iter()
        .map(|&x| {
            usize::try_from(x)
                .ok()
                .filter(|&u| u >= min)
                .with_context(|| {
                    format!(
                        "node {label} ({}): attribute {name} = {v:?}: every value must be >= {min}",
                        n.op_type()
                    )
                })
        })
        .collect()
}

/// Check a Conv/ConvTranspose/pool node's window attributes for a `k`-D window without
/// knowing its input size: the same errors [`window`] gives for out-of-range values.
pub fn check_window_attrs(n: &NodeProto, label: &str, k: usize, kind: WindowKind) -> Result<()> {
    sizes_attr(n, label, "strides", k, 1, 1)?;
    sizes_attr(n, label, "dilations", k, 1, 1)?;
    sizes_attr(n, label, "pads", 2 * k, 0, 0)?;
    if kind == WindowKind::ConvTranspose {
        sizes_attr(n, label, "output_padding", k, 0, 0)?;
    }
    Ok(())
}

/// The window of a Conv, ConvTranspose or pooling node over spatial input dims `input`.
/// `kernel`: from the weight (conv) or `kernel_shape` (pool).
pub fn window(
    n: &NodeProto,
    label: &str,
    input: &[usize],
    kernel: &[usize],
    kind: WindowKind,
) -> Result<Window> {
    let k = input.len();
    let op = n.op_type();
    if kernel.len() != k {
        bail!(
            "node {label} ({op}): kernel {kernel:?} does not match the input's {k} spatial dims {input:?}"
        );
    }
    if let Some(i) = kernel.iter().position(|&x| x == 0) {
        bail!("node {label} ({op}): kernel dim {i} is 0");
    }
    let strides = sizes_attr(n, label, "strides", k, 1, 1)?;
    let dilations = sizes_attr(n, label, "dilations", k, 1, 1)?;
    let pads_flat = sizes_attr(n, label, "pads", 2 * k, 0, 0)?;
    let output_padding = if kind == WindowKind::ConvTranspose {
        sizes_attr(n, label, "output_padding", k, 0, 0)?
    } else {
        vec![0; k]
    };
    let auto_pad = n.str_attr("auto_pad").unwrap_or_else(|| "NOTSET".into());
    if !matches!(
        auto_pad.as_str(),
        "NOTSET" | "SAME_UPPER" | "SAME_LOWER" | "VALID" | ""
    ) {
        bail!("node {label} ({op}): attribute auto_pad = {auto_pad:?} is not NOTSET, SAME_UPPER, SAME_LOWER or VALID");
    }
    let same = auto_pad.starts_with("SAME");
    let ceil_mode = kind == WindowKind::Pool && n.int_attr("ceil_mode", 0) != 0;
    let too_big = |what: String| -> anyhow::Error {
        anyhow::anyhow!("node {label} ({op}): {what} (input spatial size {input:?})")
    };
    let mut pads = Vec::with_capacity(k);
    let mut out = Vec::with_capacity(k);
    for i in 0..k {
        let (d, s, dl) = (input[i], strides[i], dilations[i]);
        let eff = (kernel[i] - 1)
            .checked_mul(dl)
            .and_then(|x| x.checked_add(1))
            .ok_or_else(|| too_big("kernel x dilation overflows".into()))?;
        if kind == WindowKind::ConvTranspose {
            let full = d
                .checked_sub(1)
                .and_then(|x| x.checked_mul(s))
                .and_then(|x| x.checked_add(output_padding[i]))
                .and_then(|x| x.checked_add(eff))
                .ok_or_else(|| too_big("output size overflows".into()))?;
            let given = n.ints_attr("output_shape");
            let target = if !given.is_empty() {
                let o = given.len().checked_sub(k).map(|b| given[b + i]);
                Some(
                    o.and_then(|o| usize::try_from(o).ok())
                        .filter(|&o| o > 0)
                        .with_context(|| {
                            format!("node {label} ({op}): attribute output_shape = {given:?} is not {k} positive sizes")
                        })?,
                )
            } else if same {
                Some(
                    d.checked_mul(s)
                        .ok_or_else(|| too_big("output size overflows".into()))?,
                )
            } else {
                None
            };
            let (pb, pe, o) = match target {
                Some(o) => {
                    let total = full.checked_sub(o).with_context(|| {
                        format!("node {label} ({op}): output size {o} needs negative padding")
                    })?;
                    let (a, b) = (total - total / 2, total / 2);
                    let (pb, pe) = if auto_pad == "SAME_UPPER" {
                        (b, a)
                    } else {
                        (a, b)
                    };
                    (pb, pe, o)
                }
                None => {
                    let (pb, pe) = (pads_flat[i], pads_flat[i + k]);
                    let o = full
                        .checked_sub(pb + pe)
                        .filter(|&o| o > 0)
                        .ok_or_else(|| {
                            too_big(format!("pads {pb}+{pe} remove the whole output {full}"))
                        })?;
                    (pb, pe, o)
                }
            };
            pads.push((pb, pe));
            out.push(o);
            continue;
        }
        let (pb, pe) = if same {
            let o = d.div_ceil(s);
            let total = ((o - 1) * s).saturating_add(eff).saturating_sub(d);
            let (a, b) = (total / 2, total - total / 2);
            if auto_pad == "SAME_UPPER" {
                (a, b)
            } else {
                (b, a)
            }
        } else if auto_pad == "VALID" {
            (0, 0)
        } else {
            (pads_flat[i], pads_flat[i + k])
        };
        let padded = d
            .checked_add(pb)
            .and_then(|x| x.checked_add(pe))
            .ok_or_else(|| too_big("padded size overflows".into()))?;
        if padded < eff {
            return Err(too_big(format!(
                "kernel {:?} (dilations {dilations:?}, pads {:?}) is larger than the padded input",
                kernel,
                n.ints_attr("pads")
            )));
        }
        let span = padded - eff;
        let mut o = if ceil_mode {
            span.div_ceil(s) + 1
        } else {
            span / s + 1
        };
        // A ceil-mode window must start inside the input or its begin padding.
        if ceil_mode && (o - 1) * s >= d + pb {
            o -= 1;
        }
        pads.push((pb, pe));
        out.push(o);
    }
    Ok(Window {
        kernel: kernel.to_vec(),
        strides,
        dilations,
        pads,
        output_padding,
        out,
    })
}

/// Shapes (and small values) of a graph's tensors.
#[derive(Debug, Default)]
pub struct Shapes {
    shapes: HashMap<String, Shape>,
    values: HashMap<String, Values>,
}

/// Numpy-style broadcast of two shapes, None if they do not broadcast.
fn broadcast(a: &[usize], b: &[usize]) -> Option<Shape> {
    let r = a.len().max(b.len());
    let mut out = vec![0; r];
    for i in 0..r {
        let x = if i + a.len() >= r {
            a[i + a.len() - r]
        } else {
            1
        };
        let y = if i + b.len() >= r {
            b[i + b.len() - r]
        } else {
            1
        };
        out[i] = match (x, y) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// An axis attribute/value in `-rank..rank` as an index.
fn axis_index(axis: i64, rank: usize) -> Option<usize> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    (0..r).contains(&a).then_some(a as usize)
}

fn product(s: &[usize]) -> Option<usize> {
    super::element_count(s)
}

/// Operators whose (first) output has the shape of their first input.
const SAME_SHAPE: &[&str] = &[
    "Relu",
    "LeakyRelu",
    "PRelu",
    "Sigmoid",
    "HardSigmoid",
    "HardSwish",
    "Tanh",
    "Clip",
    "Elu",
    "Selu",
    "Celu",
    "Gelu",
    "Mish",
    "Softplus",
    "Softsign",
    "ThresholdedRelu",
    "Exp",
    "Log",
    "Sqrt",
    "Reciprocal",
    "Neg",
    "Abs",
    "Sign",
    "Erf",
    "Sin",
    "Cos",
    "Floor",
    "Ceil",
    "Round",
    "Not",
    "IsNaN",
    "IsInf",
    "Identity",
    "Dropout",
    "Softmax",
    "LogSoftmax",
    "Hardmax",
    "BatchNormalization",
    "InstanceNormalization",
    "LayerNormalization",
    "GroupNormalization",
    "LpNormalization",
    "MeanVarianceNormalization",
    "LRN",
    "QuantizeLinear",
    "DequantizeLinear",
    "DynamicQuantizeLinear",
    "Shrink",
    "CumSum",
    "Trilu",
    "Swish",
    "QuickGelu",
    "BiasGelu",
    "FastGelu",
];

/// Elementwise operators with numpy broadcasting over all inputs.
const BROADCAST: &[&str] = &[
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Pow",
    "Max",
    "Min",
    "Sum",
    "Mean",
    "Equal",
    "Less",
    "Greater",
    "LessOrEqual",
    "GreaterOrEqual",
    "And",
    "Or",
    "Xor",
    "Where",
    "Mod",
    "BitShift",
    "BitwiseAnd",
    "BitwiseOr",
    "BitwiseXor",
];

impl Shapes {
    /// Infer the graph's shapes with the graph inputs at `inputs` (name -> shape; inputs not
    /// listed stay unknown, and so does everything computed from them).
    pub fn infer(
        g: &GraphProto,
        consts: &Constants,
        inputs: &HashMap<String, Shape>,
    ) -> Result<Shapes> {
        let mut s = Shapes::default();
        for (name, shape) in inputs {
            s.shapes.insert(name.clone(), shape.clone());
        }
        // Shapes the model declares for intermediate tensors and outputs: used only where
        // inference has nothing (they were computed at one export size).
        let mut declared: HashMap<&str, Shape> = HashMap::new();
        for v in g.value_info.iter().chain(&g.output) {
            if let Some(d) = declared_dims(v) {
                let dims: Option<Shape> = d
                    .iter()
                    .map(|x| x.and_then(|x| usize::try_from(x).ok()).filter(|&x| x > 0))
                    .collect();
                if let Some(dims) = dims {
                    declared.insert(v.name(), dims);
                }
            }
        }
        for (i, n) in g.node.iter().enumerate() {
            let label = node_label(n, i);
            s.node(n, &label, consts)?;
            for o in &n.output {
                if !o.is_empty() && !s.shapes.contains_key(o) {
                    if let Some(d) = declared.get(o.as_str()) {
                        s.shapes.insert(o.clone(), d.clone());
                    }
                }
            }
        }
        Ok(s)
    }

    /// The shape of tensor `name`, None where it is not known.
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.shapes.get(name).map(|v| v.as_slice())
    }

    /// Known shape of `name`: inferred, or a constant's dims.
    fn shape_of(&self, name: &str, c: &Constants) -> Option<Shape> {
        if name.is_empty() {
            return None;
        }
        if let Some(s) = self.shapes.get(name) {
            return Some(s.clone());
        }
        c.get(name).and_then(|t| t.dims().ok())
    }

    /// Known values of `name`: computed, or a small constant's.
    fn values_of(&self, name: &str, c: &Constants) -> Option<Values> {
        if let Some(v) = self.values.get(name) {
            return Some(v.clone());
        }
        let t = c.get(name)?;
        if t.len() > MAX_VALUES {
            return None;
        }
        let dt = t.tensor().data_type();
        let (_, v) = t.decode().ok()?;
        let int = is_integer_type(dt) && matches!(t, super::onnx::Constant::Plain(_));
        if !int && !is_float_type(dt) && !is_integer_type(dt) {
            return None;
        }
        // Decoded as f32: integer shape values above 2^24 would round; take them from the
        // integer fields instead.
        let v = if int {
            int_values(t.tensor())?
        } else {
            v.iter().map(|&x| x as f64).collect()
        };
        Some(Values { v, int })
    }

    /// The `axes` of a node: its attribute (opsets before 13), else its constant second input;
    /// None when it has neither or the input is not constant.
    fn axes(&self, n: &NodeProto, c: &Constants) -> Option<Vec<i64>> {
        match n.input.get(1).map(String::as_str) {
            _ if n.has_attr("axes") => Some(n.ints_attr("axes").to_vec()),
            None | Some("") => None,
            Some(name) => self.ints_of(name, c),
        }
    }

    fn ints_of(&self, name: &str, c: &Constants) -> Option<Vec<i64>> {
        let v = self.values_of(name, c)?;
        v.v.iter()
            .map(|&x| (x.fract() == 0.0 && x.abs() < 9e15).then_some(x as i64))
            .collect()
    }

    fn set(&mut self, name: Option<&String>, shape: Shape) {
        if let Some(n) = name.filter(|n| !n.is_empty()) {
            self.shapes.insert(n.clone(), shape);
        }
    }

    fn set_values(&mut self, name: Option<&String>, shape: Shape, v: Values) {
        if let Some(n) = name.filter(|n| !n.is_empty()) {
            if v.v.len() <= MAX_VALUES {
                self.values.insert(n.clone(), v);
            }
            self.shapes.insert(n.clone(), shape);
        }
    }

    /// Infer one node's outputs.
    fn node(&mut self, n: &NodeProto, label: &str, c: &Constants) -> Result<()> {
        let op = n.op_type();
        let input = |i: usize| n.input.get(i).map(String::as_str).unwrap_or("");
        let x = self.shape_of(input(0), c);
        let out0 = n.output.first();
        match op {
            "Constant" => {
                if let Some(o) = out0 {
                    if let Some(sh) = self.shape_of(o, c) {
                        match self.values_of(o, c) {
                            Some(v) => self.set_values(out0, sh, v),
                            None => self.set(out0, sh),
                        }
                    }
                }
            }
            "Conv" | "ConvInteger" | "ConvTranspose" | "MaxPool" | "AveragePool" | "LpPool" => {
                let Some(x) = x.filter(|x| x.len() >= 3) else {
                    return Ok(());
                };
                let (kind, kernel, cout) = match op {
                    "Conv" | "ConvInteger" | "ConvTranspose" => {
                        let Some(w) = self.shape_of(input(1), c).filter(|w| w.len() == x.len())
                        else {
                            return Ok(());
                        };
                        let group = n.int_attr("group", 1);
                        let g = usize::try_from(group)
                            .ok()
                            .filter(|&g| g >= 1)
                            .with_context(|| {
                                format!(
                                    "node {label} ({op}): attribute group = {group} must be >= 1"
                                )
                            })?;
                        if op == "ConvTranspose" {
                            (WindowKind::ConvTranspose, w[2..].to_vec(), w[1] * g)
                        } else {
                            (WindowKind::Conv, w[2..].to_vec(), w[0])
                        }
                    }
                    _ => {
                        let k = sizes_attr(n, label, "kernel_shape", x.len() - 2, 0, 1)?;
                        if k.contains(&0) {
                            bail!("node {label} ({op}): attribute kernel_shape is missing");
                        }
                        (WindowKind::Pool, k, x[1])
                    }
                };
                let w = window(n, label, &x[2..], &kernel, kind)?;
                let mut out = vec![x[0], cout];
                out.extend(&w.out);
                if op == "MaxPool" {
                    self.set(n.output.get(1), out.clone());
                }
                self.set(out0, out);
            }
            "DynamicQuantizeLinear" => {
                // y like x; scale and zero point are scalars.
                if let Some(x) = x {
                    self.set(out0, x);
                }
                self.set(n.output.get(1), vec![]);
                self.set(n.output.get(2), vec![]);
            }
            "GlobalAveragePool" | "GlobalMaxPool" | "GlobalLpPool" => {
                if let Some(x) = x.filter(|x| x.len() >= 2) {
                    let mut out = x[..2].to_vec();
                    out.resize(x.len(), 1);
                    self.set(out0, out);
                }
            }
            "Flatten" => {
                if let Some(x) = x {
                    let axis = n.int_attr("axis", 1);
                    let r = x.len() as i64;
                    let a = if axis < 0 { axis + r } else { axis };
                    if (0..=r).contains(&a) {
                        let a = a as usize;
                        if let (Some(p), Some(q)) = (product(&x[..a]), product(&x[a..])) {
                            self.set(out0, vec![p, q]);
                        }
                    }
                }
            }
            "Reshape" => {
                if let (Some(x), Some(t)) = (x, self.ints_of(input(1), c)) {
                    let allowzero = n.int_attr("allowzero", 0) != 0;
                    if let Some(out) = reshape(&x, &t, allowzero) {
                        match self.values_of(input(0), c) {
                            Some(v) => self.set_values(out0, out, v),
                            None => self.set(out0, out),
                        }
                    }
                }
            }
            "Transpose" => {
                if let Some(x) = x {
                    let perm: Vec<i64> = if n.has_attr("perm") {
                        n.ints_attr("perm").to_vec()
                    } else {
                        (0..x.len() as i64).rev().collect()
                    };
                    let out: Option<Shape> = perm
                        .iter()
                        .map(|&p| usize::try_from(p).ok().and_then(|p| x.get(p).copied()))
                        .collect();
                    if let Some(out) = out.filter(|o| o.len() == x.len()) {
                        self.set(out0, out);
                    }
                }
            }
            "Squeeze" | "Unsqueeze" => {
                let axes = self.axes(n, c);
                if let Some(x) = x {
                    let out = if op == "Squeeze" {
                        squeeze(&x, axes.as_deref())
                    } else {
                        axes.and_then(|a| unsqueeze(&x, &a))
                    };
                    if let Some(out) = out {
                        match self.values_of(input(0), c) {
                            Some(v) => self.set_values(out0, out, v),
                            None => self.set(out0, out),
                        }
                    }
                }
            }
            "Concat" => {
                let shapes: Option<Vec<Shape>> =
                    n.input.iter().map(|i| self.shape_of(i, c)).collect();
                if let Some(shapes) = shapes.filter(|s| !s.is_empty()) {
                    let r = shapes[0].len();
                    let same_rank = shapes.iter().all(|s| s.len() == r);
                    let axis = axis_index(n.int_attr("axis", 0), r).filter(|_| same_rank);
                    let total = axis
                        .and_then(|a| shapes.iter().try_fold(0usize, |t, s| t.checked_add(s[a])));
                    if let (Some(a), Some(total)) = (axis, total) {
                        let mut out = shapes[0].clone();
                        out[a] = total;
                        {
                            let vals: Option<Vec<Values>> =
                                n.input.iter().map(|i| self.values_of(i, c)).collect();
                            match vals.filter(|_| r == 1) {
                                Some(vals) => {
                                    let v = Values {
                                        v: vals.iter().flat_map(|v| v.v.clone()).collect(),
                                        int: vals.iter().all(|v| v.int),
                                    };
                                    self.set_values(out0, out, v)
                                }
                                None => self.set(out0, out),
                            }
                        }
                    }
                }
            }
            "Split" => {
                if let Some(x) = x {
                    if let Some(a) = axis_index(n.int_attr("axis", 0), x.len()) {
                        let parts: Option<Vec<i64>> = if n.has_attr("split") {
                            Some(n.ints_attr("split").to_vec())
                        } else if !input(1).is_empty() {
                            self.ints_of(input(1), c)
                        } else {
                            let k = n.output.len().max(1);
                            let each = x[a].div_ceil(k);
                            Some(
                                (0..k)
                                    .map(|i| each.min(x[a].saturating_sub(i * each)) as i64)
                                    .collect(),
                            )
                        };
                        if let Some(parts) = parts.filter(|p| p.len() == n.output.len()) {
                            for (o, &len) in n.output.iter().zip(&parts) {
                                if let Ok(len) = usize::try_from(len) {
                                    let mut s = x.clone();
                                    s[a] = len;
                                    self.set(Some(o), s);
                                }
                            }
                        }
                    }
                }
            }
            "Slice" => self.slice(n, c, x),
            "Gather" => {
                let idx_shape = self.shape_of(input(1), c);
                if let (Some(x), Some(is)) = (x, idx_shape) {
                    if let Some(a) = axis_index(n.int_attr("axis", 0), x.len()) {
                        let mut out = x[..a].to_vec();
                        out.extend(&is);
                        out.extend(&x[a + 1..]);
                        let data = self.values_of(input(0), c).filter(|_| x.len() == 1);
                        let idx = self.ints_of(input(1), c);
                        match (data, idx) {
                            (Some(d), Some(idx)) => {
                                let len = d.v.len() as i64;
                                let v: Option<Vec<f64>> = idx
                                    .iter()
                                    .map(|&i| {
                                        let i = if i < 0 { i + len } else { i };
                                        d.v.get(usize::try_from(i).ok()?).copied()
                                    })
                                    .collect();
                                match v {
                                    Some(v) => self.set_values(out0, out, Values { v, int: d.int }),
                                    None => self.set(out0, out),
                                }
                            }
                            _ => self.set(out0, out),
                        }
                    }
                }
            }
            "Shape" => {
                if let Some(x) = x {
                    let r = x.len() as i64;
                    let clampi = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
                    let start = clampi(n.int_attr("start", 0));
                    let end = clampi(n.int_attr("end", r));
                    let v: Vec<f64> = x[start..end.max(start)].iter().map(|&d| d as f64).collect();
                    self.set_values(out0, vec![v.len()], Values { v, int: true });
                }
            }
            "Size" => {
                if let Some(p) = x.and_then(|x| product(&x)) {
                    self.set_values(
                        out0,
                        vec![],
                        Values {
                            v: vec![p as f64],
                            int: true,
                        },
                    );
                }
            }
            "ConstantOfShape" => {
                if let Some(t) = self.ints_of(input(0), c) {
                    let out: Option<Shape> = t.iter().map(|&d| usize::try_from(d).ok()).collect();
                    if let Some(out) = out {
                        self.set(out0, out);
                    }
                }
            }
            "Expand" => {
                if let (Some(x), Some(t)) = (x, self.ints_of(input(1), c)) {
                    let t: Option<Shape> = t.iter().map(|&d| usize::try_from(d).ok()).collect();
                    if let Some(out) = t.and_then(|t| broadcast(&x, &t)) {
                        self.set(out0, out);
                    }
                }
            }
            "Tile" => {
                if let (Some(x), Some(r)) = (x, self.ints_of(input(1), c)) {
                    if r.len() == x.len() {
                        let out: Option<Shape> = x
                            .iter()
                            .zip(&r)
                            .map(|(&d, &k)| usize::try_from(k).ok().and_then(|k| d.checked_mul(k)))
                            .collect();
                        if let Some(out) = out {
                            self.set(out0, out);
                        }
                    }
                }
            }
            "Range" => {
                let v = |i| {
                    self.values_of(input(i), c)
                        .and_then(|v| v.v.first().copied())
                };
                if let (Some(a), Some(b), Some(d)) = (v(0), v(1), v(2)) {
                    if d != 0.0 {
                        let len = ((b - a) / d).ceil().max(0.0);
                        if len <= 1e9 {
                            self.set(out0, vec![len as usize]);
                        }
                    }
                }
            }
            "Pad" => {
                let pads = if n.has_attr("pads") {
                    Some(n.ints_attr("pads").to_vec())
                } else {
                    self.ints_of(input(1), c)
                };
                if let (Some(x), Some(p)) = (x, pads) {
                    if p.len() == 2 * x.len() {
                        let r = x.len();
                        let out: Option<Shape> = (0..r)
                            .map(|i| {
                                let v = (x[i] as i64).checked_add(p[i])?.checked_add(p[i + r])?;
                                usize::try_from(v).ok()
                            })
                            .collect();
                        if let Some(out) = out {
                            self.set(out0, out);
                        }
                    }
                }
            }
            "Resize" | "Upsample" => self.resize(n, c, x),
            "ReduceMean" | "ReduceSum" | "ReduceMax" | "ReduceMin" | "ReduceProd" | "ReduceL1"
            | "ReduceL2" | "ReduceLogSum" | "ReduceLogSumExp" | "ReduceSumSquare" => {
                if let Some(x) = x {
                    let axes = self.axes(n, c);
                    if !input(1).is_empty() && axes.is_none() {
                        return Ok(());
                    }
                    let keep = n.int_attr("keepdims", 1) != 0;
                    let noop = n.int_attr("noop_with_empty_axes", 0) != 0;
                    let axes: Option<Vec<usize>> = match axes {
                        Some(a) if !a.is_empty() => {
                            a.iter().map(|&a| axis_index(a, x.len())).collect()
                        }
                        _ if noop => Some(vec![]),
                        _ => Some((0..x.len()).collect()),
                    };
                    if let Some(axes) = axes {
                        let mut out = Vec::new();
                        for (i, &d) in x.iter().enumerate() {
                            if axes.contains(&i) {
                                if keep {
                                    out.push(1);
                                }
                            } else {
                                out.push(d);
                            }
                        }
                        self.set(out0, out);
                    }
                }
            }
            "ArgMax" | "ArgMin" => {
                if let Some(x) = x {
                    if let Some(a) = axis_index(n.int_attr("axis", 0), x.len()) {
                        let mut out = x.clone();
                        if n.int_attr("keepdims", 1) != 0 {
                            out[a] = 1;
                        } else {
                            out.remove(a);
                        }
                        self.set(out0, out);
                    }
                }
            }
            "MatMul" | "MatMulInteger" => {
                if let (Some(a), Some(b)) = (x, self.shape_of(input(1), c)) {
                    if let Some(out) = matmul_shape(&a, &b) {
                        self.set(out0, out);
                    }
                }
            }
            "Gemm" => {
                if let (Some(a), Some(b)) = (x, self.shape_of(input(1), c)) {
                    if a.len() == 2 && b.len() == 2 {
                        let m = if n.int_attr("transA", 0) != 0 {
                            a[1]
                        } else {
                            a[0]
                        };
                        let nn = if n.int_attr("transB", 0) != 0 {
                            b[0]
                        } else {
                            b[1]
                        };
                        self.set(out0, vec![m, nn]);
                    }
                }
            }
            "LSTM" | "GRU" | "RNN" | "DynamicQuantizeLSTM" => {
                if let Some(x) = x.filter(|x| x.len() == 3) {
                    let h = n.int_attr("hidden_size", 0);
                    let d = if n.str_attr("direction").as_deref() == Some("bidirectional") {
                        2
                    } else {
                        1
                    };
                    if let Ok(h) = usize::try_from(h) {
                        let (seq, batch) = if n.int_attr("layout", 0) == 0 {
                            (x[0], x[1])
                        } else {
                            (x[1], x[0])
                        };
                        let (y, yh) = if n.int_attr("layout", 0) == 0 {
                            (vec![seq, d, batch, h], vec![d, batch, h])
                        } else {
                            (vec![batch, seq, d, h], vec![batch, d, h])
                        };
                        self.set(out0, y);
                        self.set(n.output.get(1), yh.clone());
                        self.set(n.output.get(2), yh);
                    }
                }
            }
            "DepthToSpace" | "SpaceToDepth" => {
                if let Some(x) = x.filter(|x| x.len() == 4) {
                    let b = n.int_attr("blocksize", 0);
                    let b = usize::try_from(b).map(|b| b.max(1)).ok();
                    let bb = b.and_then(|b| b.checked_mul(b));
                    if let (Some(b), Some(bb)) = (b, bb) {
                        let out = if op == "DepthToSpace" {
                            [
                                Some(x[0]),
                                Some(x[1] / bb),
                                x[2].checked_mul(b),
                                x[3].checked_mul(b),
                            ]
                        } else {
                            [
                                Some(x[0]),
                                x[1].checked_mul(bb),
                                Some(x[2] / b),
                                Some(x[3] / b),
                            ]
                        };
                        if let Some(out) = out.into_iter().collect::<Option<Shape>>() {
                            self.set(out0, out);
                        }
                    }
                }
            }
            "Cast" | "Identity" | "Floor" | "Ceil" | "Round" | "Neg" | "Abs" | "Sqrt" => {
                if let Some(x) = x {
                    let v = self.values_of(input(0), c).map(|v| {
                        let f = |a: f64| match op {
                            "Floor" => a.floor(),
                            "Ceil" => a.ceil(),
                            "Round" => a.round_ties_even(),
                            "Neg" => -a,
                            "Abs" => a.abs(),
                            "Sqrt" => a.sqrt(),
                            _ => a,
                        };
                        let int = if op == "Cast" {
                            is_integer_type(n.int_attr("to", 1) as i32)
                        } else {
                            v.int
                        };
                        Values {
                            v: v.v
                                .iter()
                                .map(|&a| if int { f(a).trunc() } else { f(a) })
                                .collect(),
                            int,
                        }
                    });
                    match v {
                        Some(v) => self.set_values(out0, x, v),
                        None => self.set(out0, x),
                    }
                }
            }
            _ if BROADCAST.contains(&op) => {
                let shapes: Option<Vec<Shape>> =
                    n.input.iter().map(|i| self.shape_of(i, c)).collect();
                let Some(out) = shapes.and_then(|s| {
                    s.iter()
                        .skip(1)
                        .try_fold(s.first()?.clone(), |a, b| broadcast(&a, b))
                }) else {
                    return Ok(());
                };
                let vals: Option<Vec<Values>> =
                    n.input.iter().map(|i| self.values_of(i, c)).collect();
                match vals.and_then(|v| elementwise(op, &v)) {
                    Some(v) if v.v.len() == product(&out).unwrap_or(0) => {
                        self.set_values(out0, out, v)
                    }
                    _ => self.set(out0, out),
                }
            }
            _ if SAME_SHAPE.contains(&op) => {
                if let Some(x) = x {
                    self.set(out0, x);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn slice(&mut self, n: &NodeProto, c: &Constants, x: Option<Shape>) {
        let Some(x) = x else { return };
        let input = |i: usize| n.input.get(i).map(String::as_str).unwrap_or("");
        // Opset 1 keeps starts/ends/axes in attributes; later opsets in inputs 1..=4.
        let get = |i: usize, attr: Option<&str>| -> Option<Option<Vec<i64>>> {
            if let Some(a) = attr.filter(|a| n.has_attr(a)) {
                return Some(Some(n.ints_attr(a).to_vec()));
            }
            if input(i).is_empty() {
                return Some(None);
            }
            self.ints_of(input(i), c).map(Some)
        };
        let (Some(Some(starts)), Some(Some(ends)), Some(axes), Some(steps)) = (
            get(1, Some("starts")),
            get(2, Some("ends")),
            get(3, Some("axes")),
            get(4, None),
        ) else {
            return;
        };
        if starts.len() != ends.len() {
            return;
        }
        let axes: Vec<i64> = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
        let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
        if axes.len() != starts.len() || steps.len() != starts.len() {
            return;
        }
        let mut out = x.clone();
        let mut picks: Vec<(usize, i64, i64, i64)> = Vec::new();
        for k in 0..starts.len() {
            let Some(a) = axis_index(axes[k], x.len()) else {
                return;
            };
            let d = x[a] as i64;
            let step = steps[k];
            if step == 0 {
                return;
            }
            let norm = |v: i64| if v < 0 { v.saturating_add(d) } else { v };
            let (s, e) = if step > 0 {
                (norm(starts[k]).clamp(0, d), norm(ends[k]).clamp(0, d))
            } else {
                (
                    norm(starts[k]).clamp(-1, d - 1),
                    norm(ends[k]).clamp(-1, d - 1),
                )
            };
            let len = if step > 0 {
                (e - s).max(0).div_ceil_i(step)
            } else {
                let Some(back) = step.checked_neg() else {
                    return;
                };
                (s - e).max(0).div_ceil_i(back)
            };
            out[a] = len as usize;
            picks.push((a, s, step, len));
        }
        let vals = self.values_of(input(0), c).filter(|_| x.len() == 1);
        match (vals, picks.first()) {
            (Some(v), Some(&(_, s, step, len))) => {
                let sel: Option<Vec<f64>> = (0..len)
                    .map(|i| {
                        usize::try_from(s + i * step)
                            .ok()
                            .and_then(|j| v.v.get(j).copied())
                    })
                    .collect();
                match sel {
                    Some(sel) => {
                        self.set_values(n.output.first(), out, Values { v: sel, int: v.int })
                    }
                    None => self.set(n.output.first(), out),
                }
            }
            _ => self.set(n.output.first(), out),
        }
    }

    fn resize(&mut self, n: &NodeProto, c: &Constants, x: Option<Shape>) {
        let Some(x) = x else { return };
        let input = |i: usize| n.input.get(i).map(String::as_str).unwrap_or("");
        let r = x.len();
        if n.has_attr("axes") {
            return;
        }
        let (scales_in, sizes_in) = if n.op_type() == "Upsample" || n.input.len() == 2 {
            (input(1), "")
        } else {
            (input(2), input(3))
        };
        if let Some(sz) = (!sizes_in.is_empty())
            .then(|| self.ints_of(sizes_in, c))
            .flatten()
            .filter(|v| v.len() == r)
        {
            let out: Option<Shape> = sz.iter().map(|&d| usize::try_from(d).ok()).collect();
            if let Some(out) = out {
                self.set(n.output.first(), out);
            }
            return;
        }
        let scales: Option<Vec<f64>> = if n.has_attr("scales") {
            n.attr("scales")
                .map(|a| a.floats.iter().map(|&f| f as f64).collect())
        } else if scales_in.is_empty() {
            None
        } else {
            self.values_of(scales_in, c).map(|v| v.v)
        };
        if let Some(s) = scales.filter(|s| s.len() == r) {
            let out: Option<Shape> = x
                .iter()
                .zip(&s)
                .map(|(&d, &f)| {
                    let o = (d as f64 * f).floor();
                    (0.0..1e12).contains(&o).then_some(o as usize)
                })
                .collect();
            if let Some(out) = out {
                self.set(n.output.first(), out);
            }
        }
    }
}

trait DivCeil {
    fn div_ceil_i(self, d: i64) -> i64;
}
impl DivCeil for i64 {
    /// Ceiling division of a non-negative value by a positive one, without overflow.
    fn div_ceil_i(self, d: i64) -> i64 {
        if self <= 0 {
            0
        } else {
            (self - 1) / d + 1
        }
    }
}

/// The integer values of a plain integer tensor, exact (not through f32).
fn int_values(t: &super::onnx_pb::TensorProto) -> Option<Vec<f64>> {
    let count = product(&super::onnx::tensor_dims(t).ok()?)?;
    let v: Vec<f64> = if let Some(raw) = &t.raw_data {
        let dt = t.data_type();
        let size = match dt {
            7 | 13 => 8,
            6 | 12 => 4,
            _ => return t_decode_f64(t),
        };
        raw.chunks_exact(size)
            .map(|c| {
                let mut b = [0u8; 8];
                b[..size].copy_from_slice(c);
                match dt {
                    7 => i64::from_le_bytes(b) as f64,
                    13 => u64::from_le_bytes(b) as f64,
                    6 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
                    _ => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
                }
            })
            .collect()
    } else if !t.int64_data.is_empty() {
        t.int64_data.iter().map(|&x| x as f64).collect()
    } else {
        return t_decode_f64(t);
    };
    (v.len() == count).then_some(v)
}

fn t_decode_f64(t: &super::onnx_pb::TensorProto) -> Option<Vec<f64>> {
    super::onnx::decode_tensor(t)
        .ok()
        .map(|(_, v)| v.iter().map(|&x| x as f64).collect())
}

/// Elementwise arithmetic on small value tensors (scalars or equal lengths).
fn elementwise(op: &str, vals: &[Values]) -> Option<Values> {
    if vals.len() != 2 {
        return None;
    }
    let (a, b) = (&vals[0], &vals[1]);
    let n = a.v.len().max(b.v.len());
    if !(a.v.len() == n || a.v.len() == 1) || !(b.v.len() == n || b.v.len() == 1) {
        return None;
    }
    let int = a.int && b.int;
    let at = |v: &Values, i: usize| v.v[if v.v.len() == 1 { 0 } else { i }];
    let v: Option<Vec<f64>> = (0..n)
        .map(|i| {
            let (x, y) = (at(a, i), at(b, i));
            let r = match op {
                "Add" => x + y,
                "Sub" => x - y,
                "Mul" => x * y,
                "Div" if y != 0.0 => {
                    if int {
                        (x / y).trunc()
                    } else {
                        x / y
                    }
                }
                "Max" => x.max(y),
                "Min" => x.min(y),
                _ => return None,
            };
            r.is_finite().then_some(r)
        })
        .collect();
    Some(Values { v: v?, int })
}

/// Reshape `x` to target `t` (0 copies the input dim unless `allowzero`, -1 is inferred).
fn reshape(x: &[usize], t: &[i64], allowzero: bool) -> Option<Shape> {
    let total = product(x)?;
    let mut out = Vec::with_capacity(t.len());
    let mut infer = None;
    for (i, &d) in t.iter().enumerate() {
        match d {
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            0 if !allowzero => out.push(*x.get(i)?),
            d => out.push(usize::try_from(d).ok()?),
        }
    }
    if let Some(i) = infer {
        let rest = product(&out)?;
        if rest == 0 || total % rest != 0 {
            return None;
        }
        out[i] = total / rest;
    }
    (product(&out)? == total).then_some(out)
}

fn squeeze(x: &[usize], axes: Option<&[i64]>) -> Option<Shape> {
    match axes {
        None => Some(x.iter().copied().filter(|&d| d != 1).collect()),
        Some(a) => {
            let idx: Option<Vec<usize>> = a.iter().map(|&a| axis_index(a, x.len())).collect();
            let idx = idx?;
            if idx.iter().any(|&i| x[i] != 1) {
                return None;
            }
            Some(
                x.iter()
                    .enumerate()
                    .filter(|(i, _)| !idx.contains(i))
                    .map(|(_, &d)| d)
                    .collect(),
            )
        }
    }
}

fn unsqueeze(x: &[usize], axes: &[i64]) -> Option<Shape> {
    let r = x.len() + axes.len();
    let idx: Option<Vec<usize>> = axes.iter().map(|&a| axis_index(a, r)).collect();
    let idx = idx?;
    let mut out = Vec::with_capacity(r);
    let mut it = x.iter();
    for i in 0..r {
        if idx.contains(&i) {
            out.push(1);
        } else {
            out.push(*it.next()?);
        }
    }
    Some(out)
}

/// numpy.matmul shapes: (..., M, K) x (..., K, N) -> (broadcast ..., M, N); 1-D operands are
/// promoted and the added axis dropped again.
pub fn matmul_shape(a: &[usize], b: &[usize]) -> Option<Shape> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let a2: Shape = if a.len() == 1 {
        vec![1, a[0]]
    } else {
        a.to_vec()
    };
    let b2: Shape = if b.len() == 1 {
        vec![b[0], 1]
    } else {
        b.to_vec()
    };
    let (m, k1) = (a2[a2.len() - 2], a2[a2.len() - 1]);
    let (k2, n) = (b2[b2.len() - 2], b2[b2.len() - 1]);
    if k1 != k2 {
        return None;
    }
    let mut out = broadcast(&a2[..a2.len() - 2], &b2[..b2.len() - 2])?;
    if a.len() > 1 {
        out.push(m);
    }
    if b.len() > 1 {
        out.push(n);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reshape_infers_and_copies() {
        assert_eq!(reshape(&[2, 3, 4], &[0, -1], false), Some(vec![2, 12]));
        assert_eq!(reshape(&[2, 3, 4], &[4, 0, 2], false), Some(vec![4, 3, 2]));
        assert_eq!(reshape(&[2, 3, 4], &[5, -1], false), None);
        assert_eq!(reshape(&[2, 3, 4], &[-1, -1], false), None);
    }

    #[test]
    fn matmul_broadcasts_like_numpy() {
        assert_eq!(
            matmul_shape(&[80, 1, 512], &[512, 96]),
            Some(vec![80, 1, 96])
        );
        assert_eq!(
            matmul_shape(&[2, 1, 5, 3], &[4, 3, 7]),
            Some(vec![2, 4, 5, 7])
        );
        assert_eq!(matmul_shape(&[3], &[3, 7]), Some(vec![7]));
        assert_eq!(matmul_shape(&[5, 3], &[4, 7]), None);
    }

    #[test]
    fn squeeze_and_unsqueeze() {
        assert_eq!(squeeze(&[1, 3, 1, 5], None), Some(vec![3, 5]));
        assert_eq!(squeeze(&[1, 3, 1, 5], Some(&[-2])), Some(vec![1, 3, 5]));
        assert_eq!(squeeze(&[1, 3], Some(&[1])), None);
        assert_eq!(unsqueeze(&[3, 5], &[0, -1]), Some(vec![1, 3, 5, 1]));
    }
}
