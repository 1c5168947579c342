//! The variance equations, the σ_p solver, the per-layer plan and weight sampling.
//!
//! With pre-activations `z ~ N(0, σ_p²)` and `M` the fan-in of a weight matrix:
//!
//! - forward condition: `Var(W) = σ_p² / (M · E[f²])`, i.e. `gain² = σ_p² / E[f²]`,
//!   `std = gain / √M`, uniform bound `√3 · std`. The first layer sees data, not `f(z)`:
//!   `E[f²]` is replaced by the mean over input dimensions of `mean² + var`;
//! - backward condition: `fan_out · Var(W) · E[f'²] = 1`;
//! - both at once: [`condition`]`(σ_p) = σ_p² · (fan_out / fan_in) · E[f'²] / E[f²] = 1`,
//!   solved by [`solve_sigma_p`].

mod plan;
mod sample;
mod solver;

pub use plan::{
    BiasInit, BiasScheme, FirstSigma, InputStats, LayerPlan, Plan, PlanSpec, SigmaP, Status,
};
pub use sample::{fill_bias, fill_normal, fill_uniform, sample_normal, sample_uniform};
pub use solver::{GridSolution, Limit, Solution, SolveOptions, solve_grid, solve_sigma_p};

use crate::error::positive;
use crate::{Activation, Error, stats};

/// The backward-condition value `σ_p² · ratio · E[f'²] / E[f²]`, `ratio = fan_out / fan_in`.
///
/// ```
/// use vi3nr_core::{Act, init::condition};
/// // Sine: cond = x·coth(x) with x = (ω σ_p)².
/// let x: f64 = (30.0 * 0.05f64).powi(2);
/// let c = condition(&Act::Sine { omega: 30.0 }, 0.05, 1.0)?;
/// assert!((c - x / x.tanh()).abs() < 1e-12);
/// # Ok::<(), vi3nr_core::Error>(())
/// ```
pub fn condition<A: Activation + ?Sized>(act: &A, sigma_p: f64, ratio: f64) -> Result<f64, Error> {
    positive(sigma_p, "σ_p")?;
    positive(ratio, "fan_out/fan_in")?;
    let m = stats::moments(act, sigma_p)?;
    finite_ratio(sigma_p * sigma_p * ratio * m.df2, m.f2)
}

/// Hidden-layer `gain² = σ_p² / E[f²]` for an activation fed by `z ~ N(0, σ_p²)`.
pub fn hidden_gain2<A: Activation + ?Sized>(act: &A, sigma_p: f64) -> Result<f64, Error> {
    positive(sigma_p, "σ_p")?;
    finite_ratio(sigma_p * sigma_p, stats::moments(act, sigma_p)?.f2)
}

/// `num / den`, or [`Error::Degenerate`] when the quotient is not finite or `den ≤ 0`.
fn finite_ratio(num: f64, den: f64) -> Result<f64, Error> {
    let q = num / den;
    if den > 0.0 && q.is_finite() { Ok(q) } else { Err(Error::Degenerate) }
}
