//! A tiny protobuf encoder for ONNX test fixtures, shared by the integration tests
//! (`knead_cli`, `sim_cli`): just the messages and fields the loader reads.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub fn varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

pub fn field_varint(out: &mut Vec<u8>, num: u64, v: u64) {
    varint(out, num << 3);
    varint(out, v);
}

pub fn field_bytes(out: &mut Vec<u8>, num: u64, b: &[u8]) {
    varint(out, num << 3 | 2);
    varint(out, b.len() as u64);
    out.extend(b);
}

pub enum Data<'a> {
    /// raw_data, little-endian f32
    Raw(&'a [f32]),
    /// packed float_data
    Packed(&'a [f32]),
    /// float_data, one unpacked fixed32 field per value
    Unpacked(&'a [f32]),
    /// data_location = EXTERNAL plus an external_data entry
    External,
}

pub fn tensor(name: &str, dims: &[usize], data: Data<'_>) -> Vec<u8> {
    let mut t = Vec::new();
    // dims unpacked (one varint each), as some exporters write them
    for &d in dims {
        field_varint(&mut t, 1, d as u64);
    }
    field_varint(&mut t, 2, 1); // FLOAT
    field_bytes(&mut t, 8, name.as_bytes());
    match data {
        Data::Raw(v) => {
            let raw: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
            field_bytes(&mut t, 9, &raw);
        }
        Data::Packed(v) => {
            let raw: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
            field_bytes(&mut t, 4, &raw);
        }
        Data::Unpacked(v) => {
            for x in v {
                varint(&mut t, 4 << 3 | 5);
                t.extend(x.to_le_bytes());
            }
        }
        Data::External => {
            let mut kv = Vec::new();
            field_bytes(&mut kv, 1, b"location");
            field_bytes(&mut kv, 2, b"weights.bin");
            field_bytes(&mut t, 13, &kv);
            field_varint(&mut t, 14, 1);
        }
    }
    t
}

/// A tensor of any data_type from its raw little-endian bytes.
pub fn tensor_raw(name: &str, dims: &[usize], data_type: u64, raw: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    let mut packed = Vec::new();
    for &d in dims {
        varint(&mut packed, d as u64);
    }
    field_bytes(&mut t, 1, &packed); // dims packed this time
    field_varint(&mut t, 2, data_type);
    field_bytes(&mut t, 8, name.as_bytes());
    field_bytes(&mut t, 9, raw);
    t
}

pub fn attr_int(name: &str, v: i64) -> Vec<u8> {
    let mut a = Vec::new();
    field_bytes(&mut a, 1, name.as_bytes());
    field_varint(&mut a, 3, v as u64);
    field_varint(&mut a, 20, 2); // type INT
    a
}

pub fn attr_float(name: &str, v: f32) -> Vec<u8> {
    let mut a = Vec::new();
    field_bytes(&mut a, 1, name.as_bytes());
    varint(&mut a, 2 << 3 | 5);
    a.extend(v.to_le_bytes());
    field_varint(&mut a, 20, 1); // type FLOAT
    a
}

/// An int64 tensor (shapes, axes, indices), raw little-endian.
pub fn tensor_i64(name: &str, dims: &[usize], v: &[i64]) -> Vec<u8> {
    let raw: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    tensor_raw(name, dims, 7, &raw)
}

pub fn attr_ints(name: &str, v: &[i64]) -> Vec<u8> {
    let mut a = Vec::new();
    field_bytes(&mut a, 1, name.as_bytes());
    let mut packed = Vec::new();
    for &x in v {
        varint(&mut packed, x as u64);
    }
    field_bytes(&mut a, 8, &packed);
    field_varint(&mut a, 20, 7); // type INTS
    a
}

pub fn attr_tensor(name: &str, t: Vec<u8>) -> Vec<u8> {
    let mut a = Vec::new();
    field_bytes(&mut a, 1, name.as_bytes());
    field_bytes(&mut a, 5, &t);
    field_varint(&mut a, 20, 4); // type TENSOR
    a
}

pub fn node(name: &str, op: &str, inputs: &[&str], outputs: &[&str], attrs: &[Vec<u8>]) -> Vec<u8> {
    let mut n = Vec::new();
    for i in inputs {
        field_bytes(&mut n, 1, i.as_bytes());
    }
    for o in outputs {
        field_bytes(&mut n, 2, o.as_bytes());
    }
    field_bytes(&mut n, 3, name.as_bytes());
    field_bytes(&mut n, 4, op.as_bytes());
    for a in attrs {
        field_bytes(&mut n, 5, a);
    }
    n
}

pub fn attr_string(name: &str, v: &str) -> Vec<u8> {
    let mut a = Vec::new();
    field_bytes(&mut a, 1, name.as_bytes());
    field_bytes(&mut a, 4, v.as_bytes());
    field_varint(&mut a, 20, 3); // type STRING
    a
}

/// A declared graph input (ValueInfoProto) of float tensor type; `None` dims are symbolic
/// (dim_param).
pub fn value_info(name: &str, dims: &[Option<u64>]) -> Vec<u8> {
    let mut shape = Vec::new();
    for (i, d) in dims.iter().enumerate() {
        let mut dim = Vec::new();
        match d {
            Some(v) => field_varint(&mut dim, 1, *v),
            None => field_bytes(&mut dim, 2, format!("d{i}").as_bytes()),
        }
        field_bytes(&mut shape, 1, &dim);
    }
    let mut tensor_type = Vec::new();
    field_varint(&mut tensor_type, 1, 1); // elem_type FLOAT
    field_bytes(&mut tensor_type, 2, &shape);
    let mut type_proto = Vec::new();
    field_bytes(&mut type_proto, 1, &tensor_type);
    let mut v = Vec::new();
    field_bytes(&mut v, 1, name.as_bytes());
    field_bytes(&mut v, 2, &type_proto);
    v
}

pub fn model(nodes: &[Vec<u8>], initializers: &[Vec<u8>]) -> Vec<u8> {
    model_with_inputs(nodes, initializers, &[])
}

/// A model whose graph also declares `inputs` (from [`value_info`]).
pub fn model_with_inputs(
    nodes: &[Vec<u8>],
    initializers: &[Vec<u8>],
    inputs: &[Vec<u8>],
) -> Vec<u8> {
    model_with_io(nodes, initializers, inputs, &[])
}

/// A model whose graph declares `inputs` and the graph outputs named `outputs`.
pub fn model_with_io(
    nodes: &[Vec<u8>],
    initializers: &[Vec<u8>],
    inputs: &[Vec<u8>],
    outputs: &[&str],
) -> Vec<u8> {
    let mut g = Vec::new();
    for n in nodes {
        field_bytes(&mut g, 1, n);
    }
    field_bytes(&mut g, 2, b"test_graph");
    for t in initializers {
        field_bytes(&mut g, 5, t);
    }
    for i in inputs {
        field_bytes(&mut g, 11, i);
    }
    for o in outputs {
        let mut v = Vec::new();
        field_bytes(&mut v, 1, o.as_bytes());
        field_bytes(&mut g, 12, &v);
    }
    let mut m = Vec::new();
    field_varint(&mut m, 1, 8); // ir_version
    field_bytes(&mut m, 2, b"tetris-test");
    field_bytes(&mut m, 7, &g);
    m
}
