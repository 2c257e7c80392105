pub mod conv_oracle;
pub mod onnx_writer;
