pub mod npy;
pub mod onnx_writer;
