//! ONNX reading with a small hand-written protobuf wire-format decoder (no protoc, no
//! generated code), for two users: weight extraction ([`parse`], `tetris knead`) and the graph
//! view ([`parse_model`], [`Graph`], [`Constants`]) that `tetris sim` walks to follow layer
//! shapes. Only the fields they need are read: ModelProto.graph; GraphProto node/initializer/
//! name/input; ValueInfoProto name/type (tensor_type.shape.dim.dim_value); NodeProto input/
//! output/name/op_type/attribute; AttributeProto name/i/ints/t; TensorProto dims/data_type/
//! float_data/int32_data/int64_data/raw_data/double_data/uint64_data/name/external_data/
//! data_location.
//!
//! Weights may be graph initializers or outputs of `Constant` nodes (attribute `value`), also
//! seen through `Identity` nodes, or `DequantizeLinear` of such constants (per-tensor or
//! per-axis; the dequantized real values are analysed). Every `Conv`, `ConvTranspose`, `Gemm` and `MatMul` whose
//! weight input is such a constant becomes one layer, rearranged so that each row (axis 0) is
//! one output filter:
//! - `Conv` (any `group`): W is (Cout, Cin/group, k...), already filter-major;
//! - `ConvTranspose`: W is (Cin, Cout/group, k...); output channel o = g*Cout/group + j reads
//!   input channels of group g, so row o is W[g*Cin/group + c][j][k...] over (c, k...) in that
//!   order (kernel not flipped);
//! - `Gemm`: B (K, N) is transposed to (N, K) unless `transB` = 1; if only A is constant, A
//!   (M, K) is the weight (transposed when `transA` = 1);
//! - `MatMul`: a constant B (..., K, N) becomes (batch*N, K); a constant A (M, K) is kept.

use super::{bf16_to_f32, element_count, f16_to_f32, transpose, Layer};
use anyhow::{anyhow, bail, Context, Result};
use std::collections::HashMap;

// ---------------------------------------------------------------- protobuf wire format

/// One field value as it appears on the wire.
#[derive(Debug, Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| anyhow!("truncated varint at byte {}", self.pos))?;
            self.pos += 1;
            if shift < 64 {
                v |= ((b & 0x7f) as u64) << shift;
            }
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        bail!("varint longer than 10 bytes at byte {}", self.pos)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| {
                anyhow!(
                    "field of {n} bytes at byte {} runs past the end ({} bytes)",
                    self.pos,
                    self.buf.len()
                )
            })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// The next (field number, value), or None at the end of the message. `names` names the
    /// message's known fields for error messages.
    fn field(&mut self, names: &[(u64, &str)]) -> Result<Option<(u64, Wire<'a>)>> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (num, wt) = (key >> 3, key & 7);
        if num == 0 {
            bail!("field number 0 at byte {}", self.pos);
        }
        let name = names
            .iter()
            .find(|(n, _)| *n == num)
            .map(|(_, s)| format!("field {s} (#{num})"))
            .unwrap_or_else(|| format!("field #{num}"));
        let v = match self.value(wt, num) {
            Ok(v) => v,
            Err(e) => return Err(e.context(name)),
        };
        Ok(Some((num, v)))
    }

    fn value(&mut self, wt: u64, num: u64) -> Result<Wire<'a>> {
        Ok(match wt {
            0 => Wire::Varint(self.varint()?),
            1 => Wire::Fixed64(u64::from_le_bytes(
                self.take(8)?.try_into().unwrap_or([0; 8]),
            )),
            2 => {
                let n = self.varint()?;
                let n = usize::try_from(n).map_err(|_| anyhow!("length {n} too large"))?;
                Wire::Bytes(self.take(n)?)
            }
            5 => Wire::Fixed32(u32::from_le_bytes(
                self.take(4)?.try_into().unwrap_or([0; 4]),
            )),
            _ => bail!(
                "unsupported wire type {wt} for field {num} at byte {}",
                self.pos
            ),
        })
    }
}

fn as_bytes<'a>(v: Wire<'a>, what: &str) -> Result<&'a [u8]> {
    match v {
        Wire::Bytes(b) => Ok(b),
        _ => bail!("{what}: expected a length-delimited field"),
    }
}

fn as_string(v: Wire<'_>, what: &str) -> Result<String> {
    let b = as_bytes(v, what)?;
    Ok(String::from_utf8_lossy(b).into_owned())
}

fn as_varint(v: Wire<'_>, what: &str) -> Result<u64> {
    match v {
        Wire::Varint(x) => Ok(x),
        _ => bail!("{what}: expected a varint field"),
    }
}

/// A repeated varint field, packed or not, appended to `out`.
fn push_varints(v: Wire<'_>, out: &mut Vec<u64>, what: &str) -> Result<()> {
    match v {
        Wire::Varint(x) => out.push(x),
        Wire::Bytes(b) => {
            let mut r = Reader::new(b);
            while r.pos < b.len() {
                out.push(r.varint().with_context(|| format!("{what} (packed)"))?);
            }
        }
        _ => bail!("{what}: expected varints"),
    }
    Ok(())
}

/// A repeated fixed32 field (floats), packed or not.
fn push_fixed32(v: Wire<'_>, out: &mut Vec<u32>, what: &str) -> Result<()> {
    match v {
        Wire::Fixed32(x) => out.push(x),
        Wire::Bytes(b) => {
            if b.len() % 4 != 0 {
                bail!("{what} (packed): {} bytes is not a multiple of 4", b.len());
            }
            out.extend(
                b.chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            );
        }
        _ => bail!("{what}: expected 32-bit values"),
    }
    Ok(())
}

/// A repeated fixed64 field (doubles), packed or not.
fn push_fixed64(v: Wire<'_>, out: &mut Vec<u64>, what: &str) -> Result<()> {
    match v {
        Wire::Fixed64(x) => out.push(x),
        Wire::Bytes(b) => {
            if b.len() % 8 != 0 {
                bail!("{what} (packed): {} bytes is not a multiple of 8", b.len());
            }
            out.extend(
                b.chunks_exact(8)
                    .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))),
            );
        }
        _ => bail!("{what}: expected 64-bit values"),
    }
    Ok(())
}

// ---------------------------------------------------------------- ONNX messages

/// TensorProto, data kept as read; [`Tensor::decode`] turns it into `f32` values.
#[derive(Debug, Default)]
pub struct Tensor<'a> {
    pub name: String,
    pub dims: Vec<u64>,
    data_type: u64,
    raw: Option<&'a [u8]>,
    float_data: Vec<u32>,
    double_data: Vec<u64>,
    int32_data: Vec<u64>,
    int64_data: Vec<u64>,
    uint64_data: Vec<u64>,
    external: bool,
}

impl Tensor<'_> {
    /// (shape, row-major `f32` data); an error names the tensor and the field at fault.
    pub fn decode(&self) -> Result<(Vec<usize>, Vec<f32>)> {
        decode(self)
    }
}

#[derive(Debug, Default)]
struct Attribute<'a> {
    name: String,
    i: Option<i64>,
    ints: Vec<i64>,
    t: Option<Tensor<'a>>,
}

/// NodeProto: an operator with its inputs, outputs and attributes.
#[derive(Debug, Default)]
pub struct Node<'a> {
    pub name: String,
    pub op_type: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    attrs: Vec<Attribute<'a>>,
}

impl<'a> Node<'a> {
    fn attr(&self, name: &str) -> Option<&Attribute<'a>> {
        self.attrs.iter().find(|a| a.name == name)
    }

    /// Integer attribute `name`, or `default` when absent.
    pub fn int_attr(&self, name: &str, default: i64) -> i64 {
        self.attr(name).and_then(|a| a.i).unwrap_or(default)
    }

    /// Integer-list attribute `name` (strides, pads, ...), empty when absent.
    pub fn ints_attr(&self, name: &str) -> &[i64] {
        self.attr(name).map_or(&[], |a| &a.ints)
    }

    /// Whether the node carries attribute `name` (of any type).
    pub fn has_attr(&self, name: &str) -> bool {
        self.attr(name).is_some()
    }
}

/// A declared graph input (ValueInfoProto) with its tensor dims; `None` where a dimension is
/// symbolic or unset.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct GraphInput {
    pub name: String,
    pub dims: Vec<Option<usize>>,
}

/// GraphProto: nodes in file order, initializers and declared inputs.
#[derive(Debug, Default)]
pub struct Graph<'a> {
    pub nodes: Vec<Node<'a>>,
    pub initializers: Vec<Tensor<'a>>,
    pub inputs: Vec<GraphInput>,
}

const MODEL_FIELDS: &[(u64, &str)] = &[(1, "ir_version"), (7, "graph"), (8, "opset_import")];
const GRAPH_FIELDS: &[(u64, &str)] = &[(1, "node"), (2, "name"), (5, "initializer"), (11, "input")];
const NODE_FIELDS: &[(u64, &str)] = &[
    (1, "input"),
    (2, "output"),
    (3, "name"),
    (4, "op_type"),
    (5, "attribute"),
];
const ATTRIBUTE_FIELDS: &[(u64, &str)] = &[(1, "name"), (3, "i"), (5, "t"), (8, "ints")];
const VALUE_INFO_FIELDS: &[(u64, &str)] = &[(1, "name"), (2, "type")];
const TYPE_FIELDS: &[(u64, &str)] = &[(1, "tensor_type")];
const TENSOR_TYPE_FIELDS: &[(u64, &str)] = &[(1, "elem_type"), (2, "shape")];
const SHAPE_FIELDS: &[(u64, &str)] = &[(1, "dim")];
const DIM_FIELDS: &[(u64, &str)] = &[(1, "dim_value"), (2, "dim_param")];
const TENSOR_FIELDS: &[(u64, &str)] = &[
    (1, "dims"),
    (2, "data_type"),
    (4, "float_data"),
    (5, "int32_data"),
    (7, "int64_data"),
    (8, "name"),
    (9, "raw_data"),
    (10, "double_data"),
    (11, "uint64_data"),
    (13, "external_data"),
    (14, "data_location"),
];

fn parse_tensor<'a>(b: &'a [u8], at: &str) -> Result<Tensor<'a>> {
    let mut t = Tensor::default();
    let mut r = Reader::new(b);
    while let Some((num, v)) = r.field(TENSOR_FIELDS).with_context(|| at.to_string())? {
        match num {
            1 => push_varints(v, &mut t.dims, &format!("{at}.dims"))?,
            2 => t.data_type = as_varint(v, &format!("{at}.data_type"))?,
            4 => push_fixed32(v, &mut t.float_data, &format!("{at}.float_data"))?,
            5 => push_varints(v, &mut t.int32_data, &format!("{at}.int32_data"))?,
            7 => push_varints(v, &mut t.int64_data, &format!("{at}.int64_data"))?,
            8 => t.name = as_string(v, &format!("{at}.name"))?,
            9 => t.raw = Some(as_bytes(v, &format!("{at}.raw_data"))?),
            10 => push_fixed64(v, &mut t.double_data, &format!("{at}.double_data"))?,
            11 => push_varints(v, &mut t.uint64_data, &format!("{at}.uint64_data"))?,
            13 => t.external = true,
            14 => t.external |= as_varint(v, &format!("{at}.data_location"))? == 1,
            _ => {}
        }
    }
    Ok(t)
}

fn parse_attribute<'a>(b: &'a [u8], at: &str) -> Result<Attribute<'a>> {
    let mut a = Attribute::default();
    let mut r = Reader::new(b);
    while let Some((num, v)) = r.field(ATTRIBUTE_FIELDS).with_context(|| at.to_string())? {
        match num {
            1 => a.name = as_string(v, &format!("{at}.name"))?,
            3 => a.i = Some(as_varint(v, &format!("{at}.i"))? as i64),
            8 => {
                let mut ints = Vec::new();
                push_varints(v, &mut ints, &format!("{at}.ints"))?;
                a.ints.extend(ints.into_iter().map(|x| x as i64));
            }
            5 => {
                a.t = Some(parse_tensor(
                    as_bytes(v, &format!("{at}.t"))?,
                    &format!("{at}.t"),
                )?)
            }
            _ => {}
        }
    }
    Ok(a)
}

fn parse_node<'a>(b: &'a [u8], at: &str) -> Result<Node<'a>> {
    let mut n = Node::default();
    let mut r = Reader::new(b);
    while let Some((num, v)) = r.field(NODE_FIELDS).with_context(|| at.to_string())? {
        match num {
            1 => n.inputs.push(as_string(v, &format!("{at}.input"))?),
            2 => n.outputs.push(as_string(v, &format!("{at}.output"))?),
            3 => n.name = as_string(v, &format!("{at}.name"))?,
            4 => n.op_type = as_string(v, &format!("{at}.op_type"))?,
            5 => {
                let at = format!("{at}.attribute[{}]", n.attrs.len());
                n.attrs.push(parse_attribute(as_bytes(v, &at)?, &at)?);
            }
            _ => {}
        }
    }
    Ok(n)
}

/// Calls `f` on every field of the message `b`; errors name the message (`at`).
fn each_field<'a>(
    b: &'a [u8],
    names: &[(u64, &str)],
    at: &str,
    mut f: impl FnMut(u64, Wire<'a>) -> Result<()>,
) -> Result<()> {
    let mut r = Reader::new(b);
    while let Some((num, v)) = r.field(names).with_context(|| at.to_string())? {
        f(num, v)?;
    }
    Ok(())
}

/// ValueInfoProto -> name and the dims of type.tensor_type.shape.
fn parse_value_info(b: &[u8], at: &str) -> Result<GraphInput> {
    let mut input = GraphInput::default();
    each_field(b, VALUE_INFO_FIELDS, at, |num, v| {
        match num {
            1 => input.name = as_string(v, &format!("{at}.name"))?,
            2 => {
                let at = format!("{at}.type");
                each_field(as_bytes(v, &at)?, TYPE_FIELDS, &at, |num, v| {
                    if num != 1 {
                        return Ok(());
                    }
                    let at = format!("{at}.tensor_type");
                    each_field(as_bytes(v, &at)?, TENSOR_TYPE_FIELDS, &at, |num, v| {
                        if num != 2 {
                            return Ok(());
                        }
                        let at = format!("{at}.shape");
                        each_field(as_bytes(v, &at)?, SHAPE_FIELDS, &at, |num, v| {
                            if num == 1 {
                                let at = format!("{at}.dim[{}]", input.dims.len());
                                input.dims.push(parse_dim(as_bytes(v, &at)?, &at)?);
                            }
                            Ok(())
                        })
                    })
                })?;
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(input)
}

/// TensorShapeProto.Dimension: its dim_value when positive, None when symbolic or unset.
fn parse_dim(b: &[u8], at: &str) -> Result<Option<usize>> {
    let mut value = None;
    each_field(b, DIM_FIELDS, at, |num, v| {
        if num == 1 {
            let d = as_varint(v, &format!("{at}.dim_value"))? as i64;
            value = usize::try_from(d).ok().filter(|&d| d > 0);
        }
        Ok(())
    })?;
    Ok(value)
}

fn parse_graph<'a>(b: &'a [u8]) -> Result<Graph<'a>> {
    let at = "ModelProto.graph";
    let mut g = Graph::default();
    let mut r = Reader::new(b);
    while let Some((num, v)) = r.field(GRAPH_FIELDS).with_context(|| at.to_string())? {
        match num {
            1 => {
                let at = format!("{at}.node[{}]", g.nodes.len());
                g.nodes.push(parse_node(as_bytes(v, &at)?, &at)?);
            }
            5 => {
                let at = format!("{at}.initializer[{}]", g.initializers.len());
                g.initializers.push(parse_tensor(as_bytes(v, &at)?, &at)?);
            }
            11 => {
                let at = format!("{at}.input[{}]", g.inputs.len());
                g.inputs.push(parse_value_info(as_bytes(v, &at)?, &at)?);
            }
            _ => {}
        }
    }
    Ok(g)
}

// ---------------------------------------------------------------- tensor decoding

const FLOAT: u64 = 1;
const UINT8: u64 = 2;
const INT8: u64 = 3;
const UINT16: u64 = 4;
const INT16: u64 = 5;
const INT32: u64 = 6;
const INT64: u64 = 7;
const BOOL: u64 = 9;
const FLOAT16: u64 = 10;
const DOUBLE: u64 = 11;
const UINT32: u64 = 12;
const UINT64: u64 = 13;
const BFLOAT16: u64 = 16;

/// Decode a tensor to (shape, row-major f32 data).
fn decode(t: &Tensor<'_>) -> Result<(Vec<usize>, Vec<f32>)> {
    let what = format!("tensor {:?}", t.name);
    if t.external {
        bail!("{what} keeps its data in an external file (external data is unsupported; re-export with the weights inside the .onnx)");
    }
    let shape: Vec<usize> = t
        .dims
        .iter()
        .map(|&d| {
            usize::try_from(d as i64)
                .map_err(|_| anyhow!("{what}: negative dimension in dims {:?}", t.dims))
        })
        .collect::<Result<_>>()?;
    let count = element_count(&shape).ok_or_else(|| anyhow!("{what}: dims overflow"))?;
    let data: Vec<f32> = if let Some(raw) = t.raw {
        let size = match t.data_type {
            UINT8 | INT8 | BOOL => 1,
            UINT16 | INT16 | FLOAT16 | BFLOAT16 => 2,
            FLOAT | INT32 | UINT32 => 4,
            INT64 | UINT64 | DOUBLE => 8,
            dt => bail!("{what}: unsupported data_type {dt} for weights"),
        };
        if raw.len() != count * size {
            bail!(
                "{what}: raw_data has {} bytes but dims {:?} of data_type {} need {}",
                raw.len(),
                shape,
                t.data_type,
                count * size
            );
        }
        raw.chunks_exact(size)
            .map(|c| {
                let mut b = [0u8; 8];
                b[..size].copy_from_slice(c);
                let u = u64::from_le_bytes(b);
                match t.data_type {
                    UINT8 | BOOL | UINT16 | UINT32 | UINT64 => u as f32,
                    INT8 => u as u8 as i8 as f32,
                    INT16 => u as u16 as i16 as f32,
                    INT32 => u as u32 as i32 as f32,
                    INT64 => u as i64 as f32,
                    FLOAT16 => f16_to_f32(u as u16),
                    BFLOAT16 => bf16_to_f32(u as u16),
                    FLOAT => f32::from_bits(u as u32),
                    _ => f64::from_bits(u) as f32,
                }
            })
            .collect()
    } else {
        let (field, v): (&str, Vec<f32>) = match t.data_type {
            FLOAT => (
                "float_data",
                t.float_data.iter().map(|&b| f32::from_bits(b)).collect(),
            ),
            DOUBLE => (
                "double_data",
                t.double_data
                    .iter()
                    .map(|&b| f64::from_bits(b) as f32)
                    .collect(),
            ),
            UINT8 | UINT16 | BOOL => (
                "int32_data",
                t.int32_data.iter().map(|&x| x as u32 as f32).collect(),
            ),
            INT8 | INT16 | INT32 => (
                "int32_data",
                t.int32_data.iter().map(|&x| x as i32 as f32).collect(),
            ),
            FLOAT16 => (
                "int32_data",
                t.int32_data.iter().map(|&x| f16_to_f32(x as u16)).collect(),
            ),
            BFLOAT16 => (
                "int32_data",
                t.int32_data
                    .iter()
                    .map(|&x| bf16_to_f32(x as u16))
                    .collect(),
            ),
            INT64 => (
                "int64_data",
                t.int64_data.iter().map(|&x| x as i64 as f32).collect(),
            ),
            UINT32 | UINT64 => (
                "uint64_data",
                t.uint64_data.iter().map(|&x| x as f32).collect(),
            ),
            dt => bail!("{what}: unsupported data_type {dt} for weights"),
        };
        if v.len() != count {
            bail!(
                "{what}: {field} has {} values but dims {:?} need {count}",
                v.len(),
                shape
            );
        }
        v
    };
    Ok((shape, data))
}

// ---------------------------------------------------------------- weights from the graph

/// Weights of an ONNX model.
#[derive(Debug, Default)]
pub struct OnnxWeights {
    pub layers: Vec<Layer>,
    /// Names of weighted nodes whose weight is not a constant (computed at run time).
    pub skipped: Vec<String>,
}

/// Parse an ONNX model held in memory and return one layer per weighted operator.
pub fn parse(bytes: &[u8]) -> Result<Vec<Layer>> {
    Ok(parse_full(bytes)?.layers)
}

/// Read the graph of an ONNX model held in memory.
pub fn parse_model(bytes: &[u8]) -> Result<Graph<'_>> {
    let mut graph_bytes = None;
    let mut r = Reader::new(bytes);
    while let Some((num, v)) = r
        .field(MODEL_FIELDS)
        .context("corrupt ONNX protobuf in ModelProto")?
    {
        if num == 7 {
            graph_bytes = Some(as_bytes(v, "ModelProto.graph")?);
        }
    }
    let graph_bytes =
        graph_bytes.context("no ModelProto.graph found: not an ONNX model, or an empty one")?;
    parse_graph(graph_bytes).context("corrupt ONNX protobuf")
}

/// The constant values of a graph by tensor name: initializers and `Constant` node outputs,
/// also seen through `Identity` nodes, and `DequantizeLinear` of such constants (QDQ models
/// keep integer weights in front of one).
pub struct Constants<'g, 'a> {
    tensors: HashMap<&'g str, &'g Tensor<'a>>,
    alias: HashMap<&'g str, &'g str>,
    dequantize: HashMap<&'g str, &'g Node<'a>>,
}

impl<'g, 'a> Constants<'g, 'a> {
    pub fn new(g: &'g Graph<'a>) -> Self {
        let mut c = Constants {
            tensors: HashMap::new(),
            alias: HashMap::new(),
            dequantize: HashMap::new(),
        };
        for t in &g.initializers {
            c.tensors.insert(&t.name, t);
        }
        for n in &g.nodes {
            let out = match n.outputs.first() {
                Some(o) => o.as_str(),
                None => continue,
            };
            match n.op_type.as_str() {
                "Constant" => {
                    if let Some(t) = n.attr("value").and_then(|a| a.t.as_ref()) {
                        c.tensors.insert(out, t);
                    }
                }
                "Identity" => {
                    if let Some(i) = n.inputs.first() {
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
    fn plain(&self, name: &str) -> Option<&'g Tensor<'a>> {
        let mut name = name;
        for _ in 0..64 {
            if let Some(t) = self.tensors.get(name) {
                return Some(t);
            }
            name = self.alias.get(name)?;
        }
        None
    }

    /// The constant named `name`, or None if it is computed at run time.
    pub fn get(&self, name: &str) -> Option<Constant<'g, 'a>> {
        if let Some(t) = self.plain(name) {
            return Some(Constant::Plain(t));
        }
        let mut name = name;
        for _ in 0..64 {
            if let Some(n) = self.dequantize.get(name) {
                let x = self.plain(n.inputs.first()?)?;
                let scale = self.plain(n.inputs.get(1)?)?;
                let zero = match n.inputs.get(2).filter(|s| !s.is_empty()) {
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

/// [`parse`], also naming the weighted nodes that were skipped.
pub fn parse_full(bytes: &[u8]) -> Result<OnnxWeights> {
    let g = parse_model(bytes)?;
    let constants = Constants::new(&g);
    let mut out = OnnxWeights::default();
    for (k, n) in g.nodes.iter().enumerate() {
        let op = n.op_type.as_str();
        if !matches!(op, "Conv" | "ConvTranspose" | "Gemm" | "MatMul") {
            continue;
        }
        let input = |i: usize| n.inputs.get(i).and_then(|s| constants.get(s));
        // The constant operand and whether it is the second (B / W) input.
        let (src, second) = match (input(1), input(0)) {
            (Some(t), _) => (t, true),
            (None, Some(t)) if matches!(op, "Gemm" | "MatMul") => (t, false),
            _ => {
                // Weights computed at run time: nothing to analyse statically.
                out.skipped.push(if n.name.is_empty() {
                    format!("{op}_{k}")
                } else {
                    n.name.clone()
                });
                continue;
            }
        };
        let at = format!("node[{k}] {:?} ({op})", n.name);
        let (shape, data) = src.decode().with_context(|| at.clone())?;
        let (shape, data) = rearrange(n, op, second, shape, data).with_context(|| at.clone())?;
        let tensor_name = &src.tensor().name;
        let name = if !n.name.is_empty() {
            n.name.clone()
        } else if !tensor_name.is_empty() {
            tensor_name.clone()
        } else {
            format!("{op}_{k}")
        };
        out.layers.push(Layer {
            name,
            op: op.to_string(),
            shape,
            data,
        });
    }
    Ok(out)
}

/// A constant operand: a tensor, or a dequantized integer tensor.
pub enum Constant<'g, 'a> {
    Plain(&'g Tensor<'a>),
    /// DequantizeLinear(x, scale, zero_point) of constants: w = (x - zero) * scale, per tensor
    /// or per `axis`.
    Dequantized {
        x: &'g Tensor<'a>,
        scale: &'g Tensor<'a>,
        zero: Option<&'g Tensor<'a>>,
        axis: i64,
        blocked: bool,
    },
}

impl Constant<'_, '_> {
    /// The stored tensor (the integer one for a dequantized constant); its dims are the
    /// constant's shape.
    pub fn tensor(&self) -> &Tensor<'_> {
        match self {
            Constant::Plain(t) => t,
            Constant::Dequantized { x, .. } => x,
        }
    }

    /// (shape, row-major real values).
    pub fn decode(&self) -> Result<(Vec<usize>, Vec<f32>)> {
        let (x, scale, zero, axis, blocked) = match self {
            Constant::Plain(t) => return decode(t),
            Constant::Dequantized {
                x,
                scale,
                zero,
                axis,
                blocked,
            } => (x, scale, zero, *axis, *blocked),
        };
        let what = format!("DequantizeLinear of tensor {:?}", x.name);
        if blocked {
            bail!("{what}: blocked quantization (block_size) is unsupported");
        }
        let (shape, q) = decode(x)?;
        let (_, s) = decode(scale)?;
        let z = match zero {
            Some(z) => decode(z)?.1,
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

/// Put the output-channel axis first (see the module doc).
fn rearrange(
    n: &Node<'_>,
    op: &str,
    second: bool,
    shape: Vec<usize>,
    data: Vec<f32>,
) -> Result<(Vec<usize>, Vec<f32>)> {
    match op {
        "Conv" => {
            if shape.len() < 2 {
                bail!("Conv weight has shape {shape:?}: need (Cout, Cin/group, k...)");
            }
            Ok((shape, data))
        }
        "ConvTranspose" => {
            if shape.len() < 2 {
                bail!("ConvTranspose weight has shape {shape:?}: need (Cin, Cout/group, k...)");
            }
            let group = n.int_attr("group", 1);
            let cin = shape[0];
            if group < 1 || !cin.is_multiple_of(group as usize) {
                bail!("ConvTranspose attribute group = {group} does not divide Cin = {cin}");
            }
            let g = group as usize;
            let (cin_g, cout_g) = (cin / g, shape[1]);
            let k: usize = shape[2..].iter().product();
            let mut out = Vec::with_capacity(data.len());
            for o in 0..g * cout_g {
                let (gi, j) = (o / cout_g, o % cout_g);
                for c in 0..cin_g {
                    let ci = gi * cin_g + c;
                    let src = (ci * cout_g + j) * k;
                    out.extend_from_slice(&data[src..src + k]);
                }
            }
            let mut s = vec![g * cout_g, cin_g];
            s.extend_from_slice(&shape[2..]);
            Ok((s, out))
        }
        "Gemm" => {
            if shape.len() != 2 {
                bail!("Gemm operand has shape {shape:?}: need a matrix");
            }
            let trans = if second {
                n.int_attr("transB", 0) == 0
            } else {
                n.int_attr("transA", 0) != 0
            };
            Ok(if trans {
                (
                    vec![shape[1], shape[0]],
                    transpose(&data, shape[0], shape[1]),
                )
            } else {
                (shape, data)
            })
        }
        _ => {
            // MatMul
            match (shape.len(), second) {
                (0, _) => bail!("MatMul operand is a scalar"),
                (1, _) => Ok((vec![1, shape[0]], data)),
                (2, false) => Ok((shape, data)),
                (_, false) => {
                    bail!("MatMul with a constant batched first operand {shape:?} is unsupported")
                }
                (r, true) => {
                    let (kd, nd) = (shape[r - 2], shape[r - 1]);
                    let batch: usize = shape[..r - 2].iter().product();
                    let mut out = Vec::with_capacity(data.len());
                    for b in 0..batch {
                        out.extend(transpose(&data[b * kd * nd..(b + 1) * kd * nd], kd, nd));
                    }
                    Ok((vec![batch * nd, kd], out))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(data_type: u64, dims: &[u64]) -> Tensor<'static> {
        Tensor {
            name: "w".into(),
            dims: dims.to_vec(),
            data_type,
            ..Tensor::default()
        }
    }

    #[test]
    fn typed_fields_decode() {
        let mut a = t(DOUBLE, &[2]);
        a.double_data = vec![1.5f64.to_bits(), (-2.0f64).to_bits()];
        assert_eq!(decode(&a).unwrap().1, vec![1.5, -2.0]);
        let mut a = t(INT8, &[2]);
        a.int32_data = vec![(-3i64) as u64, 7];
        assert_eq!(decode(&a).unwrap().1, vec![-3.0, 7.0]);
        let mut a = t(FLOAT16, &[1]);
        a.int32_data = vec![0xc000];
        assert_eq!(decode(&a).unwrap().1, vec![-2.0]);
        let mut a = t(INT64, &[1, 1]);
        a.int64_data = vec![(-9i64) as u64];
        assert_eq!(decode(&a).unwrap(), (vec![1, 1], vec![-9.0]));
        let mut a = t(UINT64, &[1]);
        a.uint64_data = vec![12];
        assert_eq!(decode(&a).unwrap().1, vec![12.0]);
    }

    #[test]
    fn raw_data_of_every_width_decodes() {
        let raw: &[u8] = &[0xfe, 0xff, 0x00, 0x3c];
        let mut a = t(INT16, &[2]);
        a.raw = Some(raw);
        assert_eq!(decode(&a).unwrap().1, vec![-2.0, 15360.0]);
        a.data_type = FLOAT16;
        assert_eq!(decode(&a).unwrap().1[1], 1.0);
        a.data_type = UINT8;
        a.dims = vec![4];
        assert_eq!(decode(&a).unwrap().1, vec![254.0, 255.0, 0.0, 60.0]);
        let raw8 = 0.25f64.to_le_bytes();
        let mut d = t(DOUBLE, &[1]);
        d.raw = Some(&raw8);
        assert_eq!(decode(&d).unwrap().1, vec![0.25]);
    }

    #[test]
    fn inconsistent_tensors_are_errors() {
        let mut a = t(FLOAT, &[3]);
        a.float_data = vec![0; 2];
        assert!(decode(&a).unwrap_err().to_string().contains("float_data"));
        let a = t(FLOAT, &[(-1i64) as u64]);
        assert!(decode(&a).unwrap_err().to_string().contains("negative"));
        let a = t(8, &[1]); // STRING
        assert!(decode(&a).unwrap_err().to_string().contains("data_type"));
        let mut a = t(FLOAT, &[1]);
        a.external = true;
        assert!(decode(&a).unwrap_err().to_string().contains("external"));
    }

    #[test]
    fn truncated_or_empty_models_are_errors_not_panics() {
        // ModelProto.graph announced with 5 bytes, 1 present.
        let e = parse_model(&[0x3a, 0x05, 0x0a]).unwrap_err();
        assert!(format!("{e:#}").contains("graph"), "{e:#}");
        let e = parse_model(&[]).unwrap_err();
        assert!(format!("{e:#}").contains("no ModelProto.graph"), "{e:#}");
    }

    #[test]
    fn graph_input_dims_keep_values_and_mark_symbolic_ones() {
        // ValueInfoProto{name "x", type.tensor_type.shape: dim_value 1, dim_param "h", dim_value 0}
        let dims = [vec![0x08, 0x01], vec![0x12, 0x01, b'h'], vec![0x08, 0x00]];
        let mut shape = vec![];
        for d in &dims {
            shape.extend([0x0a, d.len() as u8]);
            shape.extend(d);
        }
        let mut tensor_type = vec![0x08, 0x01, 0x12, shape.len() as u8];
        tensor_type.extend(&shape);
        let mut ty = vec![0x0a, tensor_type.len() as u8];
        ty.extend(&tensor_type);
        let mut vi = vec![0x0a, 0x01, b'x', 0x12, ty.len() as u8];
        vi.extend(&ty);
        let input = parse_value_info(&vi, "input").unwrap();
        assert_eq!(input.name, "x");
        assert_eq!(input.dims, vec![Some(1), None, None]);
        let e = parse_value_info(&vi[..vi.len() - 1], "input").unwrap_err();
        assert!(format!("{e:#}").contains("input"), "{e:#}");
    }

    #[test]
    fn reader_handles_packed_and_overlong_varints() {
        let mut r = Reader::new(&[
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ]);
        assert!(r.varint().is_err());
        let mut out = vec![];
        push_varints(Wire::Bytes(&[0x01, 0xac, 0x02]), &mut out, "x").unwrap();
        assert_eq!(out, vec![1, 300]);
        assert!(push_varints(Wire::Bytes(&[0x80]), &mut out, "x").is_err());
        assert!(push_fixed32(Wire::Bytes(&[0; 5]), &mut vec![], "x").is_err());
    }
}
