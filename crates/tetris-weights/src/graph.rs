//! The one walk from an ONNX graph to [`Layer`]s, as an inference runtime sees the network:
//! the graph inputs at the sizes used (`InputSpec`), shapes inferred over the whole graph
//! (`shapes`), batch norms folded into the convolution before them, and for every layer its
//! weights (output channel first) and the work the array does with them.
//!
//! Layers (every one whose weight operand is a constant, see `onnx::Constants`):
//! - `Conv`, `ConvInteger` (weights minus their zero point): W (Cout, Cin/group, k...) as is;
//!   1-D and 2-D convolutions map onto the array.
//! - `ConvTranspose`: W (Cin, Cout/group, k...) becomes the weights of the equivalent
//!   stride-1 convolution over the zero-inserted input: row o = g*Cout/group + j holds
//!   `W[g*Cin/group + c][j]` over c, with the kernel flipped (every spatial axis reversed), the
//!   order the array runs them in.
//! - `Gemm`: B (K, N) is transposed to (N, K) unless `transB` = 1, over M rows of A; if only A
//!   is constant, A (M, K) is the weight (transposed when `transA` = 1) over the N columns of B.
//! - `MatMul`, `MatMulInteger`: a constant B (K, N) becomes (N, K) over all rows of A (batch
//!   and sequence dims included); a batched B (b, K, N) becomes (b*N, K), b groups; a constant
//!   A (M, K) is kept, over all columns of B.
//! - `LSTM`, `GRU`, `RNN`: the input matrix W (D, G*H, I) as layer `NAME/W`, a GEMM over all
//!   seq x batch rows, and the recurrent matrix R (D, G*H, H) as `NAME/R`, D groups over the
//!   batch rows, repeated once per time step (G = 4, 3, 1 gates).
//!
//! A `BatchNormalization` that alone reads a Conv/ConvTranspose/Gemm output (directly or
//! through Identity nodes) is folded into its weights: row o is scaled by
//! `gamma[o] / sqrt(var[o] + epsilon)`, as runtimes fuse them before inference.
//! Other nodes holding constants are listed as not mapped, with their value counts.

use super::onnx::{is_float_type, node_label, Attrs, Constant, Constants};
use super::onnx_pb::{GraphProto, NodeProto};
use super::shapes::{
    check_window_attrs, declared_dims, dims_text, matmul_shape, shape_text, window, Shapes,
    WindowKind,
};
use super::{
    element_count, transpose, ArrayWork, Folded, InputSpec, InputUsed, Layer, LoadOptions, Loaded,
    NotMapped, OpKind, Work,
};
use anyhow::{bail, Context, Result};
use std::collections::{HashMap, HashSet};
use tetris_core::model::conv::ConvParams;

/// Whether a tensor's data_type is a quantized weight's (counted in the not-mapped list beside
/// floats).
fn is_int8(data_type: i32) -> bool {
    use super::onnx_pb::tensor_proto::DataType;
    matches!(
        DataType::try_from(data_type),
        Ok(DataType::Int8 | DataType::Uint8)
    )
}

/// Operators whose constant inputs are shapes, indices or scales, never weights.
const SHAPE_OPS: &[&str] = &[
    "Constant",
    "Identity",
    "DequantizeLinear",
    "Reshape",
    "Resize",
    "Upsample",
    "Slice",
    "Pad",
    "Expand",
    "Tile",
    "Squeeze",
    "Unsqueeze",
    "Split",
    "ConstantOfShape",
    "Range",
    "Clip",
    "TopK",
    "Shape",
    "Cast",
    "Gather",
    "ReduceMean",
    "ReduceSum",
    "ReduceMax",
    "ReduceMin",
];

/// Read the layers of a decoded ONNX graph.
pub fn read(g: &GraphProto, opts: &LoadOptions) -> Result<Loaded> {
    let consts = Constants::new(g);
    let inputs = resolve_inputs(g, &consts, &opts.inputs)?;
    let at_sizes: HashMap<String, Vec<usize>> = inputs
        .iter()
        .filter_map(|i| Some((i.name.clone(), i.used.clone()?)))
        .collect();
    let shapes = Shapes::infer(g, &consts, &at_sizes)?;
    let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (k, n) in g.node.iter().enumerate() {
        for i in &n.input {
            consumers.entry(i.as_str()).or_default().push(k);
        }
    }
    let mut w = Walk {
        g,
        consts,
        shapes,
        consumers,
        outputs: g.output.iter().map(|o| o.name()).collect(),
        fold_bn: opts.fold_bn,
        loaded: Loaded {
            inputs,
            ..Loaded::default()
        },
        claimed_nodes: HashSet::new(),
        claimed_inputs: HashSet::new(),
        skipped: Vec::new(),
    };
    for (i, n) in g.node.iter().enumerate() {
        let label = node_label(n, i);
        let at = format!("node {label} ({})", n.op_type());
        match n.op_type() {
            "Conv" | "ConvInteger" | "ConvTranspose" => w.conv(i, n, &label).with_context(|| at)?,
            "Gemm" => w.gemm(i, n, &label).with_context(|| at)?,
            "MatMul" | "MatMulInteger" => w.matmul(i, n, &label).with_context(|| at)?,
            "LSTM" | "GRU" | "RNN" => w.recurrent(i, n, &label).with_context(|| at)?,
            _ => {}
        }
    }
    w.not_mapped();
    if !w.skipped.is_empty() {
        w.loaded.notes.push(format!(
            "{} weighted node(s) have run-time (non-constant) weights and were skipped: {}",
            w.skipped.len(),
            w.skipped.join(", ")
        ));
    }
    Ok(w.loaded)
}

/// The shape each graph input is used at (see `InputSpec`): a declared static dim as it is;
/// a free batch dim (dim 0) is 1; the free height and width of a 4-D input come from
/// `--input-hw`; `--input-shape NAME=...` gives a whole shape (and must agree with the
/// declared static dims). Inputs with free dims left get `used: None`.
pub fn resolve_inputs(
    g: &GraphProto,
    consts: &Constants,
    spec: &InputSpec,
) -> Result<Vec<InputUsed>> {
    let mut out = Vec::new();
    for v in &g.input {
        let name = v.name();
        // Old exporters also list initializers as graph inputs.
        if consts.contains(name) {
            continue;
        }
        let declared = declared_dims(v);
        let given = spec.shapes.iter().find(|(n, _)| n == name).map(|(_, s)| s);
        let (used, how) = match (given, &declared) {
            (Some(s), Some(d)) => {
                if s.len() != d.len() {
                    bail!(
                        "--input-shape {name}={}: {} dims, the model declares {} {}",
                        shape_text(s),
                        s.len(),
                        d.len(),
                        dims_text(d)
                    );
                }
                for (k, (&x, &want)) in s.iter().zip(d).enumerate() {
                    if let Some(want) = want.filter(|&w| w > 0) {
                        if x as i64 != want {
                            bail!(
                                "--input-shape {name}={}: dim {k} is declared {want} {}",
                                shape_text(s),
                                dims_text(d)
                            );
                        }
                    }
                }
                (Some(s.clone()), "--input-shape".to_string())
            }
            (Some(s), None) => (Some(s.clone()), "--input-shape".to_string()),
            (None, None) => (
                None,
                format!("no shape declared: give --input-shape {name}=D0xD1x..."),
            ),
            (None, Some(d)) => {
                let rank = d.len();
                let mut used = Vec::with_capacity(rank);
                let mut notes = Vec::new();
                let mut missing = Vec::new();
                for (k, &x) in d.iter().enumerate() {
                    match x.and_then(|x| usize::try_from(x).ok()).filter(|&x| x > 0) {
                        Some(x) => {
                            if let (Some((h, w)), true) = (spec.hw, rank == 4 && k >= 2) {
                                let asked = if k == 2 { h } else { w };
                                if asked != x {
                                    notes.push(format!(
                                        "dim {k} declared {x} (kept over --input-hw)"
                                    ));
                                }
                            }
                            used.push(x)
                        }
                        None if k == 0 && rank > 1 => {
                            notes.push("batch 1 (the default for a free batch dim)".into());
                            used.push(1)
                        }
                        None => match spec.hw {
                            Some((h, w)) if rank == 4 && k >= 2 => {
                                notes.push(format!("dim {k} from --input-hw"));
                                used.push(if k == 2 { h } else { w })
                            }
                            _ => missing.push(k),
                        },
                    }
                }
                if missing.is_empty() {
                    let how = if notes.is_empty() {
                        "declared".to_string()
                    } else {
                        notes.join("; ")
                    };
                    (Some(used), how)
                } else {
                    let hint = if rank == 4 && missing.iter().all(|&k| k >= 2) {
                        format!("give --input-hw H,W or --input-shape {name}=...")
                    } else {
                        format!("give --input-shape {name}=D0xD1x...")
                    };
                    (
                        None,
                        format!("free dim(s) {missing:?} of {}: {hint}", dims_text(d)),
                    )
                }
            }
        };
        out.push(InputUsed {
            name: name.to_string(),
            declared,
            used,
            how,
        });
    }
    for (n, _) in &spec.shapes {
        if !out.iter().any(|i| &i.name == n) {
            let names: Vec<&str> = out.iter().map(|i| i.name.as_str()).collect();
            bail!(
                "--input-shape {n}=...: the model has no input named {n:?} (inputs: {})",
                names.join(", ")
            );
        }
    }
    Ok(out)
}

struct Walk<'g> {
    g: &'g GraphProto,
    consts: Constants<'g>,
    shapes: Shapes,
    /// The nodes reading each tensor (a node once per input that reads it).
    consumers: HashMap<&'g str, Vec<usize>>,
    outputs: HashSet<&'g str>,
    fold_bn: bool,
    loaded: Loaded,
    /// Nodes whose constants a layer carries (the layers' own nodes, folded batch norms).
    claimed_nodes: HashSet<usize>,
    /// Constant tensors a layer carries (weights, biases, zero points, folded parameters).
    claimed_inputs: HashSet<&'g str>,
    /// Weighted nodes whose weight is computed at run time.
    skipped: Vec<String>,
}

fn input(n: &NodeProto, i: usize) -> &str {
    n.input.get(i).map(String::as_str).unwrap_or("")
}

fn rows(shape: &[usize]) -> Option<usize> {
    element_count(shape.get(..shape.len().checked_sub(1)?)?)
}

impl<'g> Walk<'g> {
    fn constant(&self, n: &NodeProto, i: usize) -> Option<Constant<'g>> {
        self.consts.get(input(n, i))
    }

    fn claim(&mut self, i: usize, n: &'g NodeProto, inputs: &[usize]) {
        self.claimed_nodes.insert(i);
        for &k in inputs {
            if let Some(s) = n.input.get(k) {
                self.claimed_inputs.insert(s);
            }
        }
    }

    fn push(&mut self, layer: Layer) {
        self.loaded.layers.push(layer);
    }

    /// A constant's values minus the zero point in input `zp` (ConvInteger, MatMulInteger):
    /// one zero point, or one per index of `axis` of the constant.
    fn minus_zero_point(
        &self,
        n: &NodeProto,
        zp: usize,
        shape: &[usize],
        data: &mut [f32],
        axis: usize,
    ) -> Result<()> {
        let Some(z) = self.constant(n, zp) else {
            if input(n, zp).is_empty() {
                return Ok(());
            }
            bail!("zero point {:?} is not a constant", input(n, zp));
        };
        let (_, z) = z.decode()?;
        let inner: usize = shape.get(axis + 1..).map_or(1, |s| s.iter().product());
        match z.len() {
            1 => data.iter_mut().for_each(|v| *v -= z[0]),
            len if Some(&len) == shape.get(axis) => {
                for (k, v) in data.iter_mut().enumerate() {
                    *v -= z[k / inner.max(1) % len];
                }
            }
            len => bail!("{len} zero points do not fit weight shape {shape:?}"),
        }
        Ok(())
    }

    fn conv(&mut self, i: usize, n: &'g NodeProto, label: &str) -> Result<()> {
        let op = n.op_type();
        let Some(w) = self.constant(n, 1) else {
            self.skipped.push(label.to_string());
            return Ok(());
        };
        self.claim(i, n, &[1, 2, 3]);
        let (wshape, mut data) = w.decode()?;
        if wshape.len() < 3 {
            bail!(
                "weight has shape {wshape:?}: need ({}, k...)",
                if op == "ConvTranspose" {
                    "Cin, Cout/group"
                } else {
                    "Cout, Cin/group"
                }
            );
        }
        let group = n.int_attr("group", 1);
        let g = usize::try_from(group)
            .ok()
            .filter(|&g| g >= 1)
            .with_context(|| format!("attribute group = {group} must be >= 1"))?;
        if op == "ConvInteger" {
            self.minus_zero_point(n, 3, &wshape, &mut data, 0)?;
        }
        let (shape, mut data) = if op == "ConvTranspose" {
            conv_transpose_weight(&wshape, &data, g)?
        } else {
            (wshape, data)
        };
        let window_kind = if op == "ConvTranspose" {
            WindowKind::ConvTranspose
        } else {
            WindowKind::Conv
        };
        // Out-of-range attributes are errors whether or not the input size is known.
        check_window_attrs(n, label, shape.len() - 2, window_kind)?;
        let folded = if self.fold_bn && op != "ConvInteger" {
            self.fold_bn(n, label, shape[0], &mut data)?
        } else {
            None
        };
        let work = self.conv_work(n, label, &shape, g)?;
        let kind = if op == "ConvTranspose" {
            OpKind::ConvTranspose
        } else {
            OpKind::Conv
        };
        self.push(Layer {
            folded_bn: folded,
            ..layer(label.into(), n, kind, (shape, data), work)
        });
        Ok(())
    }

    /// The array work of a conv whose weights (output first) have `shape`.
    fn conv_work(&self, n: &NodeProto, label: &str, shape: &[usize], g: usize) -> Result<Work> {
        let Some(x) = self.shapes.shape(input(n, 0)) else {
            return Ok(Work::NotMapped("input shape unknown".into()));
        };
        let k = shape.len() - 2;
        if x.len() != k + 2 {
            return Ok(Work::NotMapped(format!(
                "input shape {x:?} does not fit a {k}-D convolution"
            )));
        }
        if k > 2 {
            return Ok(Work::NotMapped(format!(
                "{k}-D convolution: the array runs 1-D and 2-D ones"
            )));
        }
        if Some(x[1]) != shape[1].checked_mul(g) {
            return Ok(Work::NotMapped(format!(
                "input {} has {} channels, the weight {shape:?} with group {g} does not fit",
                shape_text(x),
                x[1],
            )));
        }
        let transposed = n.op_type() == "ConvTranspose";
        let kind = if transposed {
            WindowKind::ConvTranspose
        } else {
            WindowKind::Conv
        };
        let win = window(n, label, &x[2..], &shape[2..], kind)?;
        // 1-D convolutions run as 2-D ones of height 1.
        let two = |v: &[usize], one: usize| if k == 2 { (v[0], v[1]) } else { (one, v[0]) };
        let (ih, iw) = two(&x[2..], 1);
        let (kh, kw) = two(&shape[2..], 1);
        let (sh, sw) = two(&win.strides, 1);
        let dilation = two(&win.dilations, 1);
        let pads: Vec<usize> = win.pads.iter().map(|p| p.0).collect();
        let ends: Vec<usize> = win.pads.iter().map(|p| p.1).collect();
        let (pt, pl) = two(&pads, 0);
        let (pb, pr) = two(&ends, 0);
        let params = if !transposed {
            ConvParams {
                batch: x[0],
                cin: x[1],
                cout: shape[0],
                in_h: ih,
                in_w: iw,
                kh,
                kw,
                stride: (sh, sw),
                pad: (pt, pl, pb, pr),
                dilation,
                groups: g,
            }
        } else {
            // y = conv(zero-insert(x, stride), flipped W^T), stride 1, pads dil*(k-1) - p
            // (plus output_padding at the end).
            let (oph, opw) = two(&win.output_padding, 0);
            let (Some(eh), Some(ew)) = (
                dilation.0.checked_mul(kh - 1),
                dilation.1.checked_mul(kw - 1),
            ) else {
                bail!("dilations {:?} x kernel overflow", win.dilations);
            };
            let (Some(t), Some(l), Some(b), Some(r)) = (
                eh.checked_sub(pt),
                ew.checked_sub(pl),
                eh.checked_add(oph).and_then(|v| v.checked_sub(pb)),
                ew.checked_add(opw).and_then(|v| v.checked_sub(pr)),
            ) else {
                return Ok(Work::NotMapped(format!(
                    "pads {:?} exceed the dilated kernel: the equivalent convolution would crop",
                    win.pads
                )));
            };
            let inserted =
                |d: usize, s: usize| (d - 1).checked_mul(s).and_then(|v| v.checked_add(1));
            let (Some(zh), Some(zw)) = (inserted(ih, sh), inserted(iw, sw)) else {
                bail!(
                    "input {} with strides {:?} overflows",
                    shape_text(x),
                    win.strides
                );
            };
            ConvParams {
                batch: x[0],
                cin: x[1],
                cout: shape[0],
                in_h: zh,
                in_w: zw,
                kh,
                kw,
                stride: (1, 1),
                pad: (t, l, b, r),
                dilation,
                groups: g,
            }
        };
        params.validate()?;
        let want = two(&win.out, 1);
        if (params.out_h(), params.out_w()) != want {
            bail!(
                "the array mapping gives output {}x{}, the operator {}x{} (internal error)",
                params.out_h(),
                params.out_w(),
                want.0,
                want.1
            );
        }
        Ok(Work::Array(ArrayWork { params, repeat: 1 }))
    }

    /// Fold the batch norm that alone reads `n`'s output into `data` (rows = output
    /// channels): the BN node's label, or None if there is none to fold.
    fn fold_bn(
        &mut self,
        n: &'g NodeProto,
        label: &str,
        cout: usize,
        data: &mut [f32],
    ) -> Result<Option<String>> {
        let Some(out) = n.output.first() else {
            return Ok(None);
        };
        let Some(b) = self.bn_after(out) else {
            return Ok(None);
        };
        let bn = &self.g.node[b];
        if bn.int_attr("training_mode", 0) != 0 || bn.int_attr("spatial", 1) == 0 {
            return Ok(None);
        }
        let params: Option<Vec<Constant>> = (1..=4).map(|k| self.constant(bn, k)).collect();
        let Some(params) = params.filter(|p| p.iter().all(|c| c.len() == cout)) else {
            return Ok(None);
        };
        let bn_label = node_label(bn, b);
        let at = || format!("folding batch norm {bn_label}");
        let (_, gamma) = params[0].decode().with_context(at)?;
        let (_, var) = params[3].decode().with_context(at)?;
        // In f32, as runtimes fuse them (onnxruntime's Conv+BatchNormalization fusion).
        let eps = bn.float_attr("epsilon", 1e-5);
        let per = data.len() / cout.max(1);
        for (o, row) in data.chunks_mut(per.max(1)).enumerate().take(cout) {
            let v = var[o] + eps;
            if v.is_nan() || v <= 0.0 {
                bail!(
                    "{}: variance {} + epsilon {eps} at channel {o} is not positive",
                    at(),
                    var[o]
                );
            }
            let f = gamma[o] / v.sqrt();
            row.iter_mut().for_each(|w| *w *= f);
        }
        self.claim(b, bn, &[1, 2, 3, 4]);
        self.loaded.folded.push(Folded {
            layer: label.to_string(),
            batch_norm: bn_label.clone(),
        });
        Ok(Some(bn_label))
    }

    /// The BatchNormalization node that alone reads `t` (through Identity nodes), if any.
    fn bn_after(&self, t: &str) -> Option<usize> {
        let mut t = t;
        for _ in 0..64 {
            let readers = self.consumers.get(t)?;
            if self.outputs.contains(t) || readers.len() != 1 {
                return None;
            }
            let k = readers[0];
            let c = &self.g.node[k];
            match c.op_type() {
                "Identity" => t = c.output.first()?,
                "BatchNormalization" if input(c, 0) == t => return Some(k),
                _ => return None,
            }
        }
        None
    }

    fn gemm(&mut self, i: usize, n: &'g NodeProto, label: &str) -> Result<()> {
        let (ta, tb) = (n.int_attr("transA", 0) != 0, n.int_attr("transB", 0) != 0);
        let matrix = |c: Constant| -> Result<(Vec<usize>, Vec<f32>)> {
            let (s, d) = c.decode()?;
            if s.len() != 2 {
                bail!("Gemm operand has shape {s:?}: need a matrix");
            }
            Ok((s, d))
        };
        let a_shape = self.shapes.shape(input(n, 0)).map(<[usize]>::to_vec);
        let b_shape = self.shapes.shape(input(n, 1)).map(<[usize]>::to_vec);
        if let Some(b) = self.constant(n, 1) {
            self.claim(i, n, &[1, 2]);
            let (s, d) = matrix(b)?;
            // Output-first (N, K).
            let (shape, mut data) = if tb {
                (s, d)
            } else {
                (vec![s[1], s[0]], transpose(&d, s[0], s[1]))
            };
            let folded = if self.fold_bn {
                self.fold_bn(n, label, shape[0], &mut data)?
            } else {
                None
            };
            // The activation is A (M, K): M rows of results.
            let work = gemm_activation_work(a_shape, ta, ActSide::A, &shape)?;
            self.push(Layer {
                folded_bn: folded,
                ..layer(label.into(), n, OpKind::Gemm, (shape, data), work)
            });
        } else if let Some(a) = self.constant(n, 0) {
            self.claim(i, n, &[0, 2]);
            let (s, d) = matrix(a)?;
            // Output-first (M, K).
            let (shape, data) = if ta {
                (vec![s[1], s[0]], transpose(&d, s[0], s[1]))
            } else {
                (s, d)
            };
            // The activation is B (K, N): N columns of results.
            let work = gemm_activation_work(b_shape, tb, ActSide::B, &shape)?;
            self.push(layer(label.into(), n, OpKind::Gemm, (shape, data), work));
        } else {
            self.skipped.push(label.to_string());
        }
        Ok(())
    }

    fn matmul(&mut self, i: usize, n: &'g NodeProto, label: &str) -> Result<()> {
        let integer = n.op_type() == "MatMulInteger";
        let a_shape = self.shapes.shape(input(n, 0)).map(<[usize]>::to_vec);
        let b_shape = self.shapes.shape(input(n, 1)).map(<[usize]>::to_vec);
        if let Some(b) = self.constant(n, 1) {
            self.claim(i, n, &[1, 3]);
            let (s, mut d) = b.decode()?;
            if integer {
                // b_zero_point: one, or one per column N.
                let axis = s.len().saturating_sub(1);
                self.minus_zero_point(n, 3, &s, &mut d, axis)?;
            }
            let r = s.len();
            let (shape, data, groups) = match r {
                0 => bail!("MatMul operand is a scalar"),
                1 => (vec![1, s[0]], d, 1),
                _ => {
                    let (kd, nd) = (s[r - 2], s[r - 1]);
                    let batch: usize = s[..r - 2].iter().product();
                    let mut out = Vec::with_capacity(d.len());
                    for b in 0..batch {
                        out.extend(transpose(&d[b * kd * nd..(b + 1) * kd * nd], kd, nd));
                    }
                    (vec![batch * nd, kd], out, batch)
                }
            };
            let work = match a_shape.as_ref().and_then(|a| matmul_shape(a, &s)) {
                Some(out) => {
                    let total = if r == 1 {
                        element_count(&out)
                    } else {
                        rows(&out)
                    };
                    match total {
                        Some(t) if t % groups == 0 => {
                            gemm_work(t / groups, shape[1], shape[0], groups)?
                        }
                        _ => Work::NotMapped("activation rows unknown".into()),
                    }
                }
                None => Work::NotMapped("activation shape unknown".into()),
            };
            self.push(layer(label.into(), n, OpKind::MatMul, (shape, data), work));
        } else if let Some(a) = self.constant(n, 0) {
            self.claim(i, n, &[0, 2]);
            let (s, mut d) = a.decode()?;
            if integer {
                // a_zero_point: one, or one per row M.
                let axis = s.len().saturating_sub(2);
                self.minus_zero_point(n, 2, &s, &mut d, axis)?;
            }
            let (shape, work) = match s.len() {
                0 => bail!("MatMul operand is a scalar"),
                1 => (vec![1, s[0]], None),
                2 => (s.clone(), Some(())),
                _ => {
                    let m: usize = s[..s.len() - 1].iter().product();
                    (vec![m, s[s.len() - 1]], None)
                }
            };
            let work = match (work, b_shape.as_ref().and_then(|b| matmul_shape(&s, b))) {
                (Some(()), Some(out)) => match element_count(&out) {
                    Some(t) if shape[0] > 0 && t % shape[0] == 0 => {
                        gemm_work(t / shape[0], shape[1], shape[0], 1)?
                    }
                    _ => Work::NotMapped("activation columns unknown".into()),
                },
                (None, _) => Work::NotMapped(
                    "a constant first operand of rank other than 2 is not mapped".into(),
                ),
                (_, None) => Work::NotMapped("activation shape unknown".into()),
            };
            self.push(layer(label.into(), n, OpKind::MatMul, (shape, d), work));
        } else {
            self.skipped.push(label.to_string());
        }
        Ok(())
    }

    fn recurrent(&mut self, i: usize, n: &'g NodeProto, label: &str) -> Result<()> {
        let (Some(w), Some(r)) = (self.constant(n, 1), self.constant(n, 2)) else {
            self.skipped.push(label.to_string());
            return Ok(());
        };
        self.claim(i, n, &[1, 2, 3, 5, 6, 7]);
        let (ws, wd) = w.decode()?;
        let (rs, rd) = r.decode()?;
        if ws.len() != 3 || rs.len() != 3 || ws[0] != rs[0] || ws[1] != rs[1] {
            bail!("weights W {ws:?} and R {rs:?} are not (D, G*H, I) and (D, G*H, H)");
        }
        let (d, gh, inp, h) = (ws[0], ws[1], ws[2], rs[2]);
        if h == 0 || gh % h != 0 {
            bail!("R {rs:?}: {gh} gate rows are not a multiple of hidden size {h}");
        }
        let x = self.shapes.shape(input(n, 0)).map(<[usize]>::to_vec);
        let (w_work, r_work) = match x.filter(|x| x.len() == 3 && x[2] == inp) {
            Some(x) => {
                let (seq, batch) = if n.int_attr("layout", 0) == 0 {
                    (x[0], x[1])
                } else {
                    (x[1], x[0])
                };
                let all_rows = seq.checked_mul(batch).context("seq x batch overflows")?;
                let w_work = gemm_work(all_rows, inp, d * gh, 1)?;
                let r_work = match gemm_work(batch, h, d * gh, d)? {
                    Work::Array(a) => Work::Array(ArrayWork { repeat: seq, ..a }),
                    other => other,
                };
                (w_work, r_work)
            }
            None => (
                Work::NotMapped("input sequence shape unknown".into()),
                Work::NotMapped("input sequence shape unknown".into()),
            ),
        };
        self.push(layer(
            format!("{label}/W"),
            n,
            OpKind::Recurrent,
            (vec![d * gh, inp], wd),
            w_work,
        ));
        self.push(layer(
            format!("{label}/R"),
            n,
            OpKind::Recurrent,
            (vec![d * gh, h], rd),
            r_work,
        ));
        Ok(())
    }

    /// Every other node holding float (or int8/uint8) constants of two values or more.
    fn not_mapped(&mut self) {
        for (i, n) in self.g.node.iter().enumerate() {
            let op = n.op_type();
            if self.claimed_nodes.contains(&i) || SHAPE_OPS.contains(&op) {
                continue;
            }
            let count: usize = n
                .input
                .iter()
                .filter(|s| !self.claimed_inputs.contains(s.as_str()))
                .filter_map(|s| self.consts.get(s))
                .filter(|c| {
                    let dt = c.tensor().data_type();
                    (is_float_type(dt) || is_int8(dt)) && c.len() >= 2
                })
                .map(|c| c.len())
                .sum();
            if count > 0 {
                self.loaded.not_mapped.push(NotMapped {
                    name: node_label(n, i),
                    op: op.to_string(),
                    weights: count,
                    reason: match op {
                        "BatchNormalization" => "batch norm not folded (per-channel scale and shift)".into(),
                        "Conv" | "ConvTranspose" | "Gemm" | "MatMul" => "weights computed at run time".into(),
                        _ => "not an operator the array runs (elementwise, normalization or unsupported)".into(),
                    },
                });
            }
        }
    }
}

/// A layer of node `n`.
/// The layer of node `n` with weights `(shape, data)`; no batch norm folded into it.
fn layer(
    name: String,
    n: &NodeProto,
    kind: OpKind,
    (shape, data): (Vec<usize>, Vec<f32>),
    work: Work,
) -> Layer {
    Layer {
        name,
        op: n.op_type().to_string(),
        kind,
        shape,
        data,
        work,
        folded_bn: None,
    }
}

/// Which Gemm operand carries the activation (the other is the constant weight).
#[derive(Clone, Copy)]
enum ActSide {
    /// A (M, K): the weight is B.
    A,
    /// B (K, N): the weight is A.
    B,
}

/// The work of a Gemm whose activation has shape `act` (`transposed` by transA/transB) against
/// the weight `weight` (output-first (M, K)).
fn gemm_activation_work(
    act: Option<Vec<usize>>,
    transposed: bool,
    side: ActSide,
    weight: &[usize],
) -> Result<Work> {
    let Some(a) = act.filter(|a| a.len() == 2) else {
        return Ok(Work::NotMapped("activation shape unknown".into()));
    };
    let (d0, d1) = if transposed {
        (a[1], a[0])
    } else {
        (a[0], a[1])
    };
    let (rows, k) = match side {
        ActSide::A => (d0, d1),
        ActSide::B => (d1, d0),
    };
    if k == weight[1] {
        gemm_work(rows, k, weight[0], 1)
    } else {
        Ok(Work::NotMapped(format!(
            "activation {a:?} does not fit weight {weight:?}"
        )))
    }
}

/// A GEMM of `rows` input rows of length `k` (per group) against `cout` filters in `groups`
/// groups, as a 1x1 convolution.
fn gemm_work(rows: usize, k: usize, cout: usize, groups: usize) -> Result<Work> {
    if rows == 0 {
        return Ok(Work::NotMapped("no activation rows".into()));
    }
    if groups == 0 || !cout.is_multiple_of(groups) {
        bail!("{cout} filters do not split into {groups} groups");
    }
    let params = ConvParams {
        cin: k.checked_mul(groups).context("input width overflows")?,
        cout,
        groups,
        ..ConvParams::gemm(rows, k, cout)
    };
    params.validate()?;
    Ok(Work::Array(ArrayWork { params, repeat: 1 }))
}

/// ConvTranspose weights (Cin, Cout/group, k...) as the weights (Cout, Cin/group, k...) of the
/// equivalent convolution, kernel flipped (see the module doc).
fn conv_transpose_weight(
    shape: &[usize],
    data: &[f32],
    g: usize,
) -> Result<(Vec<usize>, Vec<f32>)> {
    let cin = shape[0];
    if !cin.is_multiple_of(g) {
        bail!("attribute group = {g} does not divide Cin = {cin}");
    }
    let (cin_g, cout_g) = (cin / g, shape[1]);
    let k: usize = shape[2..].iter().product();
    let mut out = Vec::with_capacity(data.len());
    for o in 0..g * cout_g {
        let (gi, j) = (o / cout_g, o % cout_g);
        for c in 0..cin_g {
            let src = ((gi * cin_g + c) * cout_g + j) * k;
            // Reversing every spatial axis reverses the flattened kernel.
            out.extend(data[src..src + k].iter().rev());
        }
    }
    let mut s = vec![g * cout_g, cin_g];
    s.extend_from_slice(&shape[2..]);
    Ok((s, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_transpose_weights_are_regrouped_and_flipped() {
        // (Cin=4, Cout/group=1, 1, 2), group 2: value = 10*ci + kx.
        let data: Vec<f32> = (0..4)
            .flat_map(|ci| [10.0 * ci as f32, 10.0 * ci as f32 + 1.0])
            .collect();
        let (s, w) = conv_transpose_weight(&[4, 1, 1, 2], &data, 2).unwrap();
        assert_eq!(s, vec![2, 2, 1, 2]);
        // Output 0 reads input channels 0, 1; output 1 reads 2, 3; each kernel reversed.
        assert_eq!(w, vec![1., 0., 11., 10., 21., 20., 31., 30.]);
        assert!(conv_transpose_weight(&[3, 1, 1, 1], &[0.; 3], 2).is_err());
    }
}
