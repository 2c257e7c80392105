pub mod onnx_writer;
