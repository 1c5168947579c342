//! The vi3nr trainer: from a signal file to a `.vi3` model a microcontroller evaluates.
//!
//! A fit reads a [`signal`], builds an [`mlp::Mlp`] with one of the [`schemes`] (VI3NR's plan
//! from vi3nr-core, or a baseline), optionally races candidate plans in the [`search`], trains
//! it through the [`train`] loop on a backend (the CPU, or [`cuda`]), and [`export`]s it;
//! [`render`] evaluates the exported file with the vi3nr-core evaluator and measures it.
//!
//! - [`signal`]: images, audio and meshes as training data, and back
//!   (`signal/{image,audio,mesh}.rs`);
//! - [`sdf`]: signed distances of meshes (BVH, winding number), their training samples;
//! - [`mlp`]: the network, its flat parameters, Fourier features, the exact f64 forward pass;
//! - [`schemes`]: VI3NR's options and the baselines (Xavier, PyTorch, SIREN);
//! - [`train`]: shared training settings, the [`train::Backend`] trait, the CPU backend, the
//!   loop;
//! - [`cuda`]: the CUDA backend (PTX kernels through cudarc);
//! - [`search`]: `--sigma-p search`, trial fits raced by successive halving;
//! - [`fitting`]: `vi3nr fit` — load, initialise, train, export, render, report;
//! - [`compare`]: `vi3nr compare`, every initialisation on the same signal;
//! - [`export`]: `.vi3` and safetensors bytes, atomic file writes;
//! - [`marching_cubes`]: the zero level set of a sampled function as a mesh;
//! - [`mesh_metrics`]: Chamfer-L1, Hausdorff and volumetric IoU of two meshes;
//! - [`render`]: evaluation with vi3nr-core, MSE and PSNR;
//! - [`curves`]: loss and PSNR curves as a PNG;
//! - [`checkpoint`]: a fit's whole state in one file, for `--resume`;
//! - [`stop`]: SIGINT/SIGTERM as a request the loop polls between steps;
//! - [`limits`]: the model format's limits and the memory a fit needs, checked first;
//! - [`init_report`]: the `vi3nr init` plan as JSON and as a table;
//! - [`toy`]: the paper's toy experiment (`vi3nr toy`);
//! - [`gemm`]: the safe matrix-product wrapper the CPU code uses.

pub mod budget;
pub mod checkpoint;
pub mod codecs;
pub mod compare;
pub mod cuda;
pub mod curves;
pub mod export;
pub mod fitting;
pub mod gemm;
pub mod init_report;
pub mod limits;
pub mod marching_cubes;
pub mod mesh_metrics;
pub mod mlp;
pub mod rd;
pub mod render;
pub mod schemes;
pub mod sdf;
pub mod search;
pub mod seeds;
pub mod signal;
pub mod stop;
pub mod toy;
pub mod train;
