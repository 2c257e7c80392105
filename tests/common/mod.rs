pub mod cli;
pub mod conv_oracle;
pub mod npy;
pub mod onnx_writer;
