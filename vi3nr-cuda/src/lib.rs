//! The vi3nr trainer and command line.
//!
//! - [`cuda`]: the CUDA backend (PTX kernels through cudarc) and a PTX interpreter;
//! - [`compare`]: `vi3nr compare`, every initialisation on the same signal;
//! - [`export`]: host-side MLPs, their exact f64 forward pass and `.vi3` export;
//! - [`fitting`]: `vi3nr fit` — load, initialise, train, export, render, report;
//! - [`search`]: `--sigma-p search`, trial fits raced by successive halving;
//! - [`init_report`]: the `vi3nr init` plan as JSON and as a table;
//! - [`train`]: initialisation schemes, the backend trait, the CPU backend, the loop;
//! - [`toy`]: the paper's toy experiment (`vi3nr toy`);
//! - [`gemm`]: the safe matrix-product wrapper the CPU code uses.

pub mod compare;
pub mod cuda;
pub mod export;
pub mod fitting;
pub mod gemm;
pub mod init_report;
pub mod report;
pub mod search;
pub mod signal;
pub mod toy;
pub mod train;
