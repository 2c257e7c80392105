//! Generates the ONNX protobuf message types (`$OUT_DIR/onnx.rs`, included by
//! `crates/tetris-weights/src/onnx_pb.rs`) from `third_party/onnx/onnx.proto` (the file the `onnx` Python package ships,
//! Apache-2.0). protox compiles the .proto in pure Rust, so no system `protoc` is needed.

fn main() {
    println!("cargo:rerun-if-changed=third_party/onnx/onnx.proto");
    let fds = match protox::compile(["onnx.proto"], ["third_party/onnx"]) {
        Ok(f) => f,
        Err(e) => panic!("third_party/onnx/onnx.proto: {e}"),
    };
    let mut config = prost_build::Config::new();
    // `bytes` fields (raw_data) as `bytes::Bytes`: decoding from a `Bytes` buffer then keeps
    // them as views into the file instead of copying every weight tensor.
    config.bytes(["."]);
    if let Err(e) = config.compile_fds(fds) {
        panic!("generating ONNX types from third_party/onnx/onnx.proto: {e}");
    }
}
