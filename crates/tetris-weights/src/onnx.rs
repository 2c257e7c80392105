//! ONNX files as prost messages (`onnx_pb`, generated from `third_party/onnx/onnx.proto`), and the few
//! things every reader of the graph needs on top of them: tensor values as `f32`, node
//! attributes by name, and the graph's constants.
//!
//! Constants are graph initializers and outputs of `Constant` nodes (attribute `value`), also
//! seen through `Identity` nodes, and `DequantizeLinear` of such constants (per tensor or per
//! axis; the dequantized real values are what a weight means). The walk from the graph to
//! layers is `weights::graph`; shapes are `weights::shapes`.

use super::onnx_pb::tensor_proto::DataType;
use super::onnx_pb::{AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto};
use super::{bf16_to_f32, element_count, f16_to_f32};
use anyhow::{anyhow, bail, Context, Result};
use prost::Message;
use std::collections::HashMap;

/// Decode a whole model; an error names the protobuf field path where decoding failed.
pub fn parse_model(bytes: Vec<u8>) -> Result<GraphProto> {
    let m = ModelProto::decode(bytes::Bytes::from(bytes))
        .map_err(|e| anyhow!("corrupt ONNX protobuf: {e}"))?;
    m.graph
        .context("no ModelProto.graph found: not an ONNX model, or an empty one")
}

/// A node's name for messages: its own name, else `Op@index`.
pub fn node_label(n: &NodeProto, index: usize) -> String {
    match n.name.as_deref() {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => format!("{}@{index}", n.op_type()),
    }
}

/// Attribute access by name on a node.
pub trait Attrs {
    fn attr(&self, name: &str) -> Option<&AttributeProto>;

    /// Whether the node carries attribute `name` (of any type).
    fn has_attr(&self, name: &str) -> bool {
        self.attr(name).is_some()
    }

    /// Integer attribute `name`, or `default` when absent.
    fn int_attr(&self, name: &str, default: i64) -> i64 {
        self.attr(name).and_then(|a| a.i).unwrap_or(default)
    }

    /// Float attribute `name`, or `default` when absent.
    fn float_attr(&self, name: &str, default: f32) -> f32 {
        self.attr(name).and_then(|a| a.f).unwrap_or(default)
    }

    /// Integer-list attribute `name` (strides, pads, ...), empty when absent.
    fn ints_attr(&self, name: &str) -> &[i64] {
        self.attr(name).map_or(&[], |a| &a.ints)
    }

    /// String attribute `name` (lossy UTF-8), None when absent.
    fn str_attr(&self, name: &str) -> Option<String> {
        self.attr(name)
            .and_then(|a| a.s.as_ref())
            .map(|s| String::from_utf8_lossy(s).into_owned())
    }
}

impl Attrs for NodeProto {
    fn attr(&self, name: &str) -> Option<&AttributeProto> {
        self.attribute.iter().find(|a| a.name() == name)
    }
}

// ---------------------------------------------------------------- tensor decoding

/// Whether a tensor of this data_type holds integers (shape arithmetic keeps them exact).
pub fn is_integer_type(data_type: i32) -> bool {
    use DataType::*;
    matches!(
        DataType::try_from(data_type),
        Ok(Uint8 | Int8 | Uint16 | Int16 | Int32 | Int64 | Bool | Uint32 | Uint64)
    )
}

/// Whether a tensor of this data_type holds real numbers (weights, scales).
pub fn is_float_type(data_type: i32) -> bool {
    use DataType::*;
    matches!(
        DataType::try_from(data_type),
        Ok(Float | Float16 | Double | Bfloat16)
    )
}

/// A tensor's dims as sizes; a negative dim is an error that prints it as it is in the file.
pub fn tensor_dims(t: &TensorProto) -> Result<Vec<usize>> {
    t.dims
        .iter()
        .map(|&d| {
            usize::try_from(d).map_err(|_| {
                anyhow!(
                    "tensor {:?}: negative dimension {d} in dims {:?}",
                    t.name(),
                    t.dims
                )
            })
        })
        .collect()
}

/// Decode a tensor to (shape, row-major f32 data); an error names the tensor and the field
/// at fault.
pub fn decode_tensor(t: &TensorProto) -> Result<(Vec<usize>, Vec<f32>)> {
    let what = format!("tensor {:?}", t.name());
    if t.data_location == Some(1) || !t.external_data.is_empty() {
        bail!("{what} keeps its data in an external file (external data is unsupported; re-export with the weights inside the .onnx)");
    }
    let shape = tensor_dims(t)?;
    let count = element_count(&shape).ok_or_else(|| anyhow!("{what}: dims overflow"))?;
    let code = t.data_type();
    let unsupported = || anyhow!("{what}: unsupported data_type {code} for weights");
    let dt = DataType::try_from(code).map_err(|_| unsupported())?;
    use DataType::*;
    let data: Vec<f32> = if let Some(raw) = &t.raw_data {
        let size = match dt {
            Uint8 | Int8 | Bool => 1,
            Uint16 | Int16 | Float16 | Bfloat16 => 2,
            Float | Int32 | Uint32 => 4,
            Int64 | Uint64 | Double => 8,
            _ => return Err(unsupported()),
        };
        if Some(raw.len()) != count.checked_mul(size) {
            bail!(
                "{what}: raw_data has {} bytes but dims {shape:?} of data_type {code} need {}",
                raw.len(),
                count.saturating_mul(size)
            );
        }
        raw.chunks_exact(size)
            .map(|c| {
                let mut b = [0u8; 8];
                b[..size].copy_from_slice(c);
                let u = u64::from_le_bytes(b);
                match dt {
                    Uint8 | Bool | Uint16 | Uint32 | Uint64 => u as f32,
                    Int8 => u as u8 as i8 as f32,
                    Int16 => u as u16 as i16 as f32,
                    Int32 => u as u32 as i32 as f32,
                    Int64 => u as i64 as f32,
                    Float16 => f16_to_f32(u as u16),
                    Bfloat16 => bf16_to_f32(u as u16),
                    Float => f32::from_bits(u as u32),
                    _ => f64::from_bits(u) as f32,
                }
            })
            .collect()
    } else {
        let (field, v): (&str, Vec<f32>) = match dt {
            Float => ("float_data", t.float_data.clone()),
            Double => (
                "double_data",
                t.double_data.iter().map(|&x| x as f32).collect(),
            ),
            Uint8 | Uint16 | Bool => (
                "int32_data",
                t.int32_data.iter().map(|&x| x as u32 as f32).collect(),
            ),
            Int8 | Int16 | Int32 => (
                "int32_data",
                t.int32_data.iter().map(|&x| x as f32).collect(),
            ),
            Float16 => (
                "int32_data",
                t.int32_data.iter().map(|&x| f16_to_f32(x as u16)).collect(),
            ),
            Bfloat16 => (
                "int32_data",
                t.int32_data
                    .iter()
                    .map(|&x| bf16_to_f32(x as u16))
                    .collect(),
            ),
            Int64 => (
                "int64_data",
                t.int64_data.iter().map(|&x| x as f32).collect(),
            ),
            Uint32 | Uint64 => (
                "uint64_data",
                t.uint64_data.iter().map(|&x| x as f32).collect(),
            ),
            _ => return Err(unsupported()),
        };
        if v.len() != count {
            bail!(
                "{what}: {field} has {} values but dims {shape:?} need {count}",
                v.len()
            );
        }
        v
    };
    Ok((shape, data))
}

// ---------------------------------------------------------------- constants of a graph

/// The constant values of a graph by tensor name (see the module doc).
pub struct Constants<'g> {
    tensors: HashMap<&'g str, &'g TensorProto>,
    alias: HashMap<&'g str, &'g str>,
    dequantize: HashMap<&'g str, &'g NodeProto>,
}

/// Identity chains longer than this are treated as not constant (a cycle in a bad file).
const MAX_ALIAS_DEPTH: usize = 64;

impl<'g> Constants<'g> {
    pub fn new(g: &'g GraphProto) -> Self {
        let mut c = Constants {
            tensors: HashMap::new(),
            alias: HashMap::new(),
            dequantize: HashMap::new(),
        };
        for t in &g.initializer {
            c.tensors.insert(t.name(), t);
        }
        for n in &g.node {
            let Some(out) = n.output.first() else {
                continue;
            };
            match n.op_type() {
                "Constant" => {
                    if let Some(t) = n.attr("value").and_then(|a| a.t.as_ref()) {
                        c.tensors.insert(out, t);
                    }
                }
                "Identity" => {
                    if let Some(i) = n.input.first() {
                        c.alias.insert(out, i);
                    }
                }
                "DequantizeLinear" => {
                    c.dequantize.insert(out, n);
                }
                _ => {}
            }
        }
        c
    }

    /// An initializer or Constant value, through Identity nodes.
    pub fn plain(&self, name: &str) -> Option<&'g TensorProto> {
        let mut name = name;
        for _ in 0..MAX_ALIAS_DEPTH {
            if let Some(t) = self.tensors.get(name) {
                return Some(t);
            }
            name = self.alias.get(name)?;
        }
        None
    }

    /// Whether `name` is a constant (plain or dequantized).
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The constant named `name`, or None if it is computed at run time.
    pub fn get(&self, name: &str) -> Option<Constant<'g>> {
        if name.is_empty() {
            return None;
        }
        if let Some(t) = self.plain(name) {
            return Some(Constant::Plain(t));
        }
        let mut name = name;
        for _ in 0..MAX_ALIAS_DEPTH {
            if let Some(n) = self.dequantize.get(name) {
                let x = self.plain(n.input.first()?)?;
                let scale = self.plain(n.input.get(1)?)?;
                let zero = match n.input.get(2).filter(|s| !s.is_empty()) {
                    Some(z) => Some(self.plain(z)?),
                    None => None,
                };
                return Some(Constant::Dequantized {
                    x,
                    scale,
                    zero,
                    axis: n.int_attr("axis", 1),
                    blocked: n.int_attr("block_size", 0) != 0,
                });
            }
            name = self.alias.get(name)?;
        }
        None
    }
}

/// A constant operand: a tensor, or a dequantized integer tensor.
#[derive(Clone, Copy)]
pub enum Constant<'g> {
    Plain(&'g TensorProto),
    /// DequantizeLinear(x, scale, zero_point) of constants: w = (x - zero) * scale, per tensor
    /// or per `axis`.
    Dequantized {
        x: &'g TensorProto,
        scale: &'g TensorProto,
        zero: Option<&'g TensorProto>,
        axis: i64,
        blocked: bool,
    },
}

impl<'g> Constant<'g> {
    /// The stored tensor (the integer one for a dequantized constant); its dims are the
    /// constant's shape.
    pub fn tensor(&self) -> &'g TensorProto {
        match self {
            Constant::Plain(t) => t,
            Constant::Dequantized { x, .. } => x,
        }
    }

    /// The constant's shape, without decoding its data.
    pub fn dims(&self) -> Result<Vec<usize>> {
        tensor_dims(self.tensor())
    }

    /// Number of values, without decoding (0 when the dims are bad).
    pub fn len(&self) -> usize {
        self.dims()
            .ok()
            .and_then(|d| element_count(&d))
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (shape, row-major real values).
    pub fn decode(&self) -> Result<(Vec<usize>, Vec<f32>)> {
        let (x, scale, zero, axis, blocked) = match *self {
            Constant::Plain(t) => return decode_tensor(t),
            Constant::Dequantized {
                x,
                scale,
                zero,
                axis,
                blocked,
            } => (x, scale, zero, axis, blocked),
        };
        let what = format!("DequantizeLinear of tensor {:?}", x.name());
        if blocked {
            bail!("{what}: blocked quantization (block_size) is unsupported");
        }
        let (shape, q) = decode_tensor(x)?;
        let (_, s) = decode_tensor(scale)?;
        let z = match zero {
            Some(z) => decode_tensor(z)?.1,
            None => vec![0.0; s.len()],
        };
        if z.len() != s.len() || s.is_empty() {
            bail!(
                "{what}: {} scales and {} zero points do not match",
                s.len(),
                z.len()
            );
        }
        if s.len() == 1 {
            return Ok((shape, q.iter().map(|&v| (v - z[0]) * s[0]).collect()));
        }
        let rank = shape.len() as i64;
        let ax = if axis < 0 { axis + rank } else { axis };
        if !(0..rank).contains(&ax) || shape[ax as usize] != s.len() {
            bail!(
                "{what}: attribute axis = {axis} with {} scales does not fit shape {shape:?}",
                s.len()
            );
        }
        let inner: usize = shape[ax as usize + 1..].iter().product();
        let w = q
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let c = (i / inner.max(1)) % s.len();
                (v - z[c]) * s[c]
            })
            .collect();
        Ok((shape, w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(data_type: DataType, dims: &[i64]) -> TensorProto {
        TensorProto {
            name: Some("w".into()),
            dims: dims.to_vec(),
            data_type: Some(data_type as i32),
            ..TensorProto::default()
        }
    }

    #[test]
    fn typed_fields_decode() {
        let mut a = t(DataType::Double, &[2]);
        a.double_data = vec![1.5, -2.0];
        assert_eq!(decode_tensor(&a).unwrap().1, vec![1.5, -2.0]);
        let mut a = t(DataType::Int8, &[2]);
        a.int32_data = vec![-3, 7];
        assert_eq!(decode_tensor(&a).unwrap().1, vec![-3.0, 7.0]);
        let mut a = t(DataType::Float16, &[1]);
        a.int32_data = vec![0xc000];
        assert_eq!(decode_tensor(&a).unwrap().1, vec![-2.0]);
        let mut a = t(DataType::Int64, &[1, 1]);
        a.int64_data = vec![-9];
        assert_eq!(decode_tensor(&a).unwrap(), (vec![1, 1], vec![-9.0]));
        let mut a = t(DataType::Uint64, &[1]);
        a.uint64_data = vec![12];
        assert_eq!(decode_tensor(&a).unwrap().1, vec![12.0]);
    }

    #[test]
    fn raw_data_of_every_width_decodes() {
        let raw: &[u8] = &[0xfe, 0xff, 0x00, 0x3c];
        let mut a = t(DataType::Int16, &[2]);
        a.raw_data = Some(bytes::Bytes::from_static(raw));
        assert_eq!(decode_tensor(&a).unwrap().1, vec![-2.0, 15360.0]);
        a.data_type = Some(DataType::Float16 as i32);
        assert_eq!(decode_tensor(&a).unwrap().1[1], 1.0);
        a.data_type = Some(DataType::Uint8 as i32);
        a.dims = vec![4];
        assert_eq!(decode_tensor(&a).unwrap().1, vec![254.0, 255.0, 0.0, 60.0]);
        let mut d = t(DataType::Double, &[1]);
        d.raw_data = Some(bytes::Bytes::copy_from_slice(&0.25f64.to_le_bytes()));
        assert_eq!(decode_tensor(&d).unwrap().1, vec![0.25]);
    }

    #[test]
    fn inconsistent_tensors_are_errors() {
        let mut a = t(DataType::Float, &[3]);
        a.float_data = vec![0.0; 2];
        assert!(decode_tensor(&a)
            .unwrap_err()
            .to_string()
            .contains("float_data"));
        // A negative dim is printed as the file has it (issue 11: not 18446744073709551615).
        let e = decode_tensor(&t(DataType::Float, &[2, -1]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("negative dimension -1 in dims [2, -1]"), "{e}");
        let e = decode_tensor(&t(DataType::String, &[1]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("data_type"), "{e}");
        let mut a = t(DataType::Float, &[1]);
        a.data_location = Some(1);
        assert!(decode_tensor(&a)
            .unwrap_err()
            .to_string()
            .contains("external"));
        let mut a = t(DataType::Float, &[1 << 40, 1 << 40]);
        a.raw_data = Some(bytes::Bytes::from_static(&[0; 4]));
        assert!(decode_tensor(&a).is_err());
    }

    #[test]
    fn truncated_or_empty_models_are_errors_not_panics() {
        // ModelProto.graph announced with 5 bytes, 1 present.
        let e = parse_model(vec![0x3a, 0x05, 0x0a]).unwrap_err();
        assert!(format!("{e:#}").contains("graph"), "{e:#}");
        let e = parse_model(vec![]).unwrap_err();
        assert!(format!("{e:#}").contains("no ModelProto.graph"), "{e:#}");
    }
}
