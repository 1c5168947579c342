//! # vi3nr-core
//!
//! Variance-stable initialisation for implicit neural representations, after
//! *VI3NR: Variance Informed Initialization for Implicit Neural Representations*
//! (Koneputugodage, Ben-Shabat, Ramasinghe, Gould, CVPR 2025).
//!
//! A coordinate MLP computes `z_i = W_i x_i + b_i`, `x_{i+1} = f(z_i)`. With pre-activations
//! `z ~ N(0, σ_p²)`, the forward condition fixes the weight variance
//! (`gain² = σ_p² / E[f²]`, `std = gain / √fan_in`) and the backward condition
//! `cond(σ_p) = σ_p² · (fan_out / fan_in) · E[f'²] / E[f²] = 1` fixes σ_p.
//!
//! - [`activation`]: the activations (and the [`Activation`] trait for your own);
//! - [`stats`]: `E[f]`, `E[f²]`, `E[f']`, `E[f'²]` in closed form, by adaptive quadrature,
//!   or by Monte Carlo, of the float activations or of their fixed-point forms
//!   ([`stats::Fixed`]);
//! - [`init`]: the condition, the σ_p solver, the per-layer plan and weight sampling;
//! - [`model`]: the `.vi3` file format: checked zero-copy parser, writer, dequantiser;
//! - [`eval`]: the evaluators, f32 (f32 and f16 weights) and fixed point (q15 and i8).
//!
//! The crate is `no_std`, never allocates and never panics on input: anything that can be
//! wrong returns an [`Error`].
//!
//! ```
//! use vi3nr_core::{Act, init::{solve_sigma_p, SolveOptions, Solution}};
//! let gauss = Act::gaussian(0.05)?;
//! let Solution::Root { sigma_p, .. } = solve_sigma_p(&gauss, 1.0, &SolveOptions::default())? else {
//!     panic!("the Gaussian has a root");
//! };
//! // Closed form of the root: a·√(1+√2).
//! let exact = 0.05 * (1.0 + 2f64.sqrt()).sqrt();
//! assert!((sigma_p - exact).abs() < 1e-10 * exact);
//! # Ok::<(), vi3nr_core::Error>(())
//! ```
#![no_std]
#![deny(unsafe_code)] // allowed in one module: `eval::arm` (Cortex-M asm)
#![deny(missing_docs)]

pub mod activation;
#[cfg(feature = "defmt")]
mod defmt;
mod error;
pub mod eval;
pub mod init;
pub mod model;
pub mod stats;

pub use activation::{Act, Activation};
pub use error::Error;
pub use stats::Moments;
