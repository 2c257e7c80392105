//! AxTrain (ISLPED 2018): training networks that tolerate the error of approximate
//! multipliers and timing errors, checked by bit-exact approximate inference.
//!
//! - [`area`]: generic-gate area of a built-in multiplier's emitted RTL (Yosys);
//! - [`data`]: CSV and MNIST IDX loaders;
//! - [`hardware`]: the multiplier as a quantized network sees it (built-in model or LUT file,
//!   explicit activation/weight operand roles, optional timing errors);
//! - [`net`]: MLP and LeNet-style CNN in candle, with a hook at every pre-activation;
//! - [`qnet`]: 8-bit quantization and bit-exact integer inference;
//! - [`noise`]: passive noise models (also the error of the active regularizer's erroneous pass);
//! - [`train`]: the training loop (baseline, passive, active, both);
//! - [`experiment`]: runs, sweeps and the paper-style summary; [`report`]: table, JSON, plot.
//!
//! See `docs/axtrain.md`.

pub mod area;
pub mod data;
pub mod experiment;
pub mod hardware;
pub mod net;
pub mod noise;
pub mod qnet;
pub mod report;
pub mod train;
