pub mod cli;
pub mod configs;
pub mod conv_layers;
pub mod conv_oracle;
pub mod npy;
pub mod onnx_writer;
pub mod pseudo_random;
pub mod train;
