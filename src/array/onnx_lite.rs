//! A minimal reader of what `tetris sim` needs from a weight file, kept private to the array
//! module until the shared loader (`src/weights/`, another branch) is merged: ONNX graphs
//! (nodes, attributes, float initializers, declared input shapes) via a hand-written protobuf
//! wire-format decoder, and little-endian float32 `.npy` arrays.

use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::path::Path;

/// A float tensor (initializer or Constant value).
#[derive(Debug, Clone, Default)]
pub struct Tensor {
    pub dims: Vec<i64>,
    pub data: Vec<f32>,
}

#[derive(Debug, Clone, Default)]
pub struct Attr {
    pub i: Option<i64>,
    pub ints: Vec<i64>,
    pub floats: Vec<f32>,
    pub t: Option<Tensor>,
}

#[derive(Debug, Clone, Default)]
pub struct Node {
    pub name: String,
    pub op: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attrs: HashMap<String, Attr>,
}

#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub init: HashMap<String, Tensor>,
    /// Declared graph inputs with their dims (-1 for a symbolic dimension).
    pub inputs: Vec<(String, Vec<i64>)>,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }
    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).context("truncated varint")?;
            self.pos += 1;
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        bail!("varint longer than 10 bytes")
    }
    fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).context("length overflow")?;
        if end > self.buf.len() {
            bail!("field of {n} bytes runs past the end of its message");
        }
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    /// Next (field number, value); length-delimited fields return their bytes.
    fn field(&mut self) -> Result<(u64, Value<'a>)> {
        let key = self.varint()?;
        let v = match key & 7 {
            0 => Value::Int(self.varint()?),
            1 => Value::Bytes(self.bytes(8)?),
            2 => {
                let n = self.varint()? as usize;
                Value::Bytes(self.bytes(n)?)
            }
            5 => Value::Bytes(self.bytes(4)?),
            w => bail!("unsupported protobuf wire type {w}"),
        };
        Ok((key >> 3, v))
    }
}

enum Value<'a> {
    Int(u64),
    Bytes(&'a [u8]),
}

impl<'a> Value<'a> {
    fn int(&self) -> Result<i64> {
        match self {
            Value::Int(v) => Ok(*v as i64),
            _ => bail!("expected an integer field"),
        }
    }
    fn bytes(&self) -> Result<&'a [u8]> {
        match self {
            Value::Bytes(b) => Ok(b),
            _ => bail!("expected a length-delimited field"),
        }
    }
    fn string(&self) -> Result<String> {
        Ok(String::from_utf8_lossy(self.bytes()?).into_owned())
    }
    /// A repeated int64: packed bytes or one varint.
    fn ints(&self, out: &mut Vec<i64>) -> Result<()> {
        match self {
            Value::Int(v) => out.push(*v as i64),
            Value::Bytes(b) => {
                let mut r = Reader::new(b);
                while !r.done() {
                    out.push(r.varint()? as i64);
                }
            }
        }
        Ok(())
    }
    fn floats(&self, out: &mut Vec<f32>) -> Result<()> {
        let b = self.bytes()?;
        out.extend(
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
        Ok(())
    }
}

fn parse_tensor(buf: &[u8]) -> Result<(String, Tensor)> {
    let mut r = Reader::new(buf);
    let (mut name, mut t, mut dtype, mut raw) = (String::new(), Tensor::default(), 1i64, None);
    let mut ints = Vec::new();
    while !r.done() {
        let (f, v) = r.field()?;
        match f {
            1 => v.ints(&mut t.dims)?,
            2 => dtype = v.int()?,
            4 => v.floats(&mut t.data)?,
            7 => v.ints(&mut ints)?,
            8 => name = v.string()?,
            9 => raw = Some(v.bytes()?),
            _ => {}
        }
    }
    match (dtype, raw) {
        (1, Some(b)) => {
            t.data = b
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        }
        (7, Some(b)) => {
            t.data = b
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as f32)
                .collect()
        }
        (7, None) => t.data = ints.iter().map(|&i| i as f32).collect(),
        _ => {}
    }
    Ok((name, t))
}

fn parse_attr(buf: &[u8]) -> Result<(String, Attr)> {
    let mut r = Reader::new(buf);
    let (mut name, mut a) = (String::new(), Attr::default());
    while !r.done() {
        let (f, v) = r.field()?;
        match f {
            1 => name = v.string()?,
            3 => a.i = Some(v.int()?),
            5 => a.t = Some(parse_tensor(v.bytes()?)?.1),
            7 => v.floats(&mut a.floats)?,
            8 => v.ints(&mut a.ints)?,
            _ => {}
        }
    }
    Ok((name, a))
}

fn parse_node(buf: &[u8]) -> Result<Node> {
    let mut r = Reader::new(buf);
    let mut n = Node::default();
    while !r.done() {
        let (f, v) = r.field()?;
        match f {
            1 => n.inputs.push(v.string()?),
            2 => n.outputs.push(v.string()?),
            3 => n.name = v.string()?,
            4 => n.op = v.string()?,
            5 => {
                let (k, a) = parse_attr(v.bytes()?)?;
                n.attrs.insert(k, a);
            }
            _ => {}
        }
    }
    Ok(n)
}

/// ValueInfoProto -> (name, dims), dims -1 where symbolic.
fn parse_value_info(buf: &[u8]) -> Result<(String, Vec<i64>)> {
    let mut r = Reader::new(buf);
    let (mut name, mut dims) = (String::new(), Vec::new());
    while !r.done() {
        let (f, v) = r.field()?;
        match f {
            1 => name = v.string()?,
            2 => {
                // TypeProto.tensor_type(1) -> shape(2) -> dim(1) -> dim_value(1)
                let mut tr = Reader::new(v.bytes()?);
                while !tr.done() {
                    let (f, v) = tr.field()?;
                    if f != 1 {
                        continue;
                    }
                    let mut tt = Reader::new(v.bytes()?);
                    while !tt.done() {
                        let (f, v) = tt.field()?;
                        if f != 2 {
                            continue;
                        }
                        let mut sh = Reader::new(v.bytes()?);
                        while !sh.done() {
                            let (f, v) = sh.field()?;
                            if f != 1 {
                                continue;
                            }
                            let mut d = Reader::new(v.bytes()?);
                            let mut val = -1;
                            while !d.done() {
                                let (f, v) = d.field()?;
                                if f == 1 {
                                    val = v.int()?;
                                }
                            }
                            dims.push(if val > 0 { val } else { -1 });
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok((name, dims))
}

/// Read an ONNX model file.
pub fn read_onnx(path: &Path) -> Result<Graph> {
    let buf = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_onnx(&buf).with_context(|| format!("{}: not a readable ONNX model", path.display()))
}

pub fn parse_onnx(buf: &[u8]) -> Result<Graph> {
    let mut r = Reader::new(buf);
    let mut graph = None;
    while !r.done() {
        let (f, v) = r.field()?;
        if f == 7 {
            graph = Some(v.bytes()?);
        }
    }
    let gbuf = graph.context("no graph (ModelProto field 7)")?;
    let mut g = Graph::default();
    let mut r = Reader::new(gbuf);
    while !r.done() {
        let (f, v) = r.field()?;
        match f {
            1 => g.nodes.push(parse_node(v.bytes()?)?),
            5 => {
                let (name, t) = parse_tensor(v.bytes()?)?;
                g.init.insert(name, t);
            }
            11 => g.inputs.push(parse_value_info(v.bytes()?)?),
            _ => {}
        }
    }
    // Constant nodes become initializers (Resize scales often come from them).
    for n in &g.nodes {
        if n.op == "Constant" {
            if let (Some(out), Some(t)) = (
                n.outputs.first(),
                n.attrs.get("value").and_then(|a| a.t.clone()),
            ) {
                g.init.insert(out.clone(), t);
            }
        }
    }
    if g.nodes.is_empty() {
        bail!("the graph has no nodes");
    }
    Ok(g)
}

/// Read a little-endian float32 or float64 `.npy` array: (shape, values).
pub fn read_npy(path: &Path) -> Result<(Vec<usize>, Vec<f32>)> {
    let buf = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_npy(&buf).with_context(|| format!("{}: not a readable .npy array", path.display()))
}

pub fn parse_npy(buf: &[u8]) -> Result<(Vec<usize>, Vec<f32>)> {
    if buf.len() < 10 || &buf[..6] != b"\x93NUMPY" {
        bail!("missing the \\x93NUMPY magic");
    }
    let (hlen, hstart) = match buf[6] {
        1 => (u16::from_le_bytes([buf[8], buf[9]]) as usize, 10),
        2 | 3 if buf.len() >= 12 => (
            u32::from_le_bytes([buf[8], buf[9], buf[10], buf[11]]) as usize,
            12,
        ),
        v => bail!("unsupported .npy version {v}"),
    };
    let header = std::str::from_utf8(buf.get(hstart..hstart + hlen).context("truncated header")?)
        .context("header is not text")?;
    let descr = header
        .split("'descr':")
        .nth(1)
        .and_then(|s| s.split('\'').nth(1))
        .context("header field 'descr' missing")?;
    if header.contains("'fortran_order': True") {
        bail!("header field 'fortran_order' is True: only C order is supported");
    }
    let shape_txt = header
        .split("'shape':")
        .nth(1)
        .and_then(|s| s.split('(').nth(1))
        .and_then(|s| s.split(')').next())
        .context("header field 'shape' missing")?;
    let shape: Vec<usize> = shape_txt
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .with_context(|| format!("header field 'shape': bad dim {s:?}"))
        })
        .collect::<Result<_>>()?;
    let data = &buf[hstart + hlen..];
    let n: usize = shape.iter().product();
    let vals: Vec<f32> = match descr {
        "<f4" => data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        "<f8" => data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32)
            .collect(),
        d => bail!("header field 'descr' = {d:?}: only <f4 and <f8 are supported"),
    };
    if vals.len() < n {
        bail!(
            "data holds {} values, shape {:?} needs {n}",
            vals.len(),
            shape
        );
    }
    Ok((shape, vals[..n].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trip_and_errors() {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        let mut h = header.to_string();
        while !(10 + h.len() + 1).is_multiple_of(64) {
            h.push(' ');
        }
        h.push('\n');
        let mut buf = b"\x93NUMPY\x01\x00".to_vec();
        buf.extend((h.len() as u16).to_le_bytes());
        buf.extend(h.as_bytes());
        for i in 0..6 {
            buf.extend((i as f32).to_le_bytes());
        }
        let (s, v) = parse_npy(&buf).unwrap();
        assert_eq!(s, vec![2, 3]);
        assert_eq!(v, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!(parse_npy(&buf[..buf.len() - 4]).is_err());
        assert!(parse_npy(b"garbage").is_err());
    }

    #[test]
    fn truncated_onnx_is_an_error_not_a_panic() {
        assert!(parse_onnx(&[0x3a, 0x05, 0x0a]).is_err());
        assert!(parse_onnx(&[]).is_err());
    }
}
