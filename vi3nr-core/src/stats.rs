//! Statistics of an activation under Gaussian pre-activations.
//!
//! For `z ~ N(0, σ²)` the variance equations need four expectations, collected in
//! [`Moments`]: `E[f(z)]`, `E[f(z)²]`, `E[f'(z)]` and `E[f'(z)²]`. Three ways to get them:
//!
//! - [`closed_form`]: exact expressions for relu, sine, Gaussian, sinc and the wavelet
//!   (derivations in that module);
//! - [`quadrature`]: adaptive Gauss–Kronrod integration for any [`Activation`], accurate to
//!   about 1e-12 relative to `E[|g|]` for each integrand `g`;
//! - [`monte_carlo`]: sample means with standard errors, from a caller's RNG, as the
//!   paper's reference code does.
//!
//! [`moments`] picks the closed form when the activation has one and integrates otherwise.
//! [`Fixed`] is an activation as the fixed-point evaluator computes it, so that all of the
//! above can be run on what a device evaluates.

mod closed_form;
mod device;
mod monte_carlo;
mod quadrature;

pub use closed_form::closed_form;
pub use device::Fixed;
pub(crate) use monte_carlo::normal_pair;
pub use monte_carlo::{MonteCarlo, monte_carlo};
pub use quadrature::{Quadrature, quadrature, quadrature_with};

use crate::{Activation, Error};

/// `E[f]`, `E[f²]`, `E[f']`, `E[f'²]` for `z ~ N(0, σ²)`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Moments {
    /// `E[f(z)]`.
    pub f: f64,
    /// `E[f(z)²]`.
    pub f2: f64,
    /// `E[f'(z)]`.
    pub df: f64,
    /// `E[f'(z)²]`.
    pub df2: f64,
}

impl Moments {
    /// The four values in the order `[E[f], E[f²], E[f'], E[f'²]]`.
    pub fn to_array(self) -> [f64; 4] {
        [self.f, self.f2, self.df, self.df2]
    }

    /// Builds from `[E[f], E[f²], E[f'], E[f'²]]`.
    pub fn from_array([f, f2, df, df2]: [f64; 4]) -> Self {
        Moments { f, f2, df, df2 }
    }

    /// `true` when all four values are finite.
    pub fn is_finite(&self) -> bool {
        self.to_array().iter().all(|x| x.is_finite())
    }
}

/// The moments at `σ`: closed form when the activation has one, adaptive quadrature otherwise.
///
/// ```
/// use vi3nr_core::{Act, stats::moments};
/// let m = moments(&Act::Relu, 2.0)?;
/// assert!((m.f2 - 2.0).abs() < 1e-15); // E[relu(z)²] = σ²/2
/// # Ok::<(), vi3nr_core::Error>(())
/// ```
pub fn moments<A: Activation + ?Sized>(act: &A, sigma: f64) -> Result<Moments, Error> {
    crate::error::positive(sigma, "σ")?;
    match act.closed_form(sigma) {
        Some(m) if m.is_finite() => Ok(m),
        Some(_) => Err(Error::Degenerate),
        None => quadrature(act, sigma),
    }
}
