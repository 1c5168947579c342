//! The crate's one error type.

use core::fmt;

/// Everything that can be wrong with the input of a vi3nr-core function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A parameter that must be finite and positive is not (σ, σ_p, a, ω, a width ratio…).
    /// The payload names the parameter.
    NotPositive(&'static str),
    /// A parameter that must be finite is NaN or infinite. The payload names the parameter.
    NotFinite(&'static str),
    /// An activation name that is not one of the built-ins, or malformed parameters.
    UnknownActivation,
    /// A network with fewer than two widths (input and output).
    EmptyNetwork,
    /// A layer width of zero.
    ZeroWidth,
    /// More layers than the caller's capacity (the `const` generic of the plan).
    TooManyLayers,
    /// The number of activations is neither 1 nor the number of hidden layers.
    ActivationCount,
    /// The number of input statistics does not match the input width.
    InputStatsCount,
    /// A weight slice whose length is not `fan_in · fan_out` (or a bias slice not `fan_out`).
    SliceLength,
    /// A statistic needed by the computation is zero or not finite (e.g. `E[f²] = 0`).
    Degenerate,
    /// A Monte Carlo estimate was asked for with fewer than two samples.
    NoSamples,
    /// Adaptive quadrature needed more pieces than its bound allows.
    NotConverged,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotPositive(what) => write!(f, "{what} must be finite and > 0"),
            Error::NotFinite(what) => write!(f, "{what} must be finite"),
            Error::UnknownActivation => f.write_str(
                "unknown activation: expected relu, tanh, sigmoid, sine[:ω], gaussian[:a], sinc or wavelet[:ω[,s]]",
            ),
            Error::EmptyNetwork => f.write_str("a network needs at least an input and an output width"),
            Error::ZeroWidth => f.write_str("layer widths must be > 0"),
            Error::TooManyLayers => f.write_str("more layers than the plan's capacity"),
            Error::ActivationCount => {
                f.write_str("give one activation, or one per hidden layer")
            }
            Error::InputStatsCount => {
                f.write_str("input statistics must be given once, or once per input dimension")
            }
            Error::SliceLength => f.write_str("slice length does not match the layer shape"),
            Error::Degenerate => {
                f.write_str("a statistic is zero or not finite: the activation is degenerate here")
            }
            Error::NoSamples => f.write_str("Monte Carlo needs at least two samples"),
            Error::NotConverged => f.write_str("quadrature did not converge within its bound"),
        }
    }
}

impl core::error::Error for Error {}

/// `Ok(x)` when `x` is finite and positive, otherwise [`Error::NotPositive`] naming `what`.
pub(crate) fn positive(x: f64, what: &'static str) -> Result<f64, Error> {
    if x.is_finite() && x > 0.0 { Ok(x) } else { Err(Error::NotPositive(what)) }
}
