//! Activations: `f` and `f'` in `f64` and `f32`.
//!
//! [`Act`] holds the built-in activations of INR practice; the [`Activation`] trait is what
//! every statistic and solver of this crate is written against, so a user activation (any
//! `f`, `f'` pair) works everywhere a built-in does.
//!
//! | name | `f(z)` | default parameters |
//! |---|---|---|
//! | `relu` | `max(z, 0)` | |
//! | `tanh` | `tanh z` | |
//! | `sigmoid` | `1 / (1 + e^{-z})` | |
//! | `sine:ω` | `sin(ω z)` | ω = 30 |
//! | `gaussian:a` | `exp(-z² / (2a²))` | a = 0.05 |
//! | `sinc` | `sin(z) / z`, 1 at 0 | |
//! | `wavelet:ω,s` | `cos(ω z) · exp(-(z/s)²)` | ω = s = 1 |

use core::fmt;
use core::str::FromStr;

use crate::Error;
use crate::error::positive;
use crate::stats::Moments;

/// An activation function with its derivative.
///
/// Only [`f`](Activation::f) and [`df`](Activation::df) are required. The statistics use
/// [`scale`](Activation::scale) to place quadrature panels and
/// [`closed_form`](Activation::closed_form) when the moments are known exactly.
///
/// ```
/// use vi3nr_core::{Activation, stats};
/// /// Softplus, brought by the user.
/// struct Softplus;
/// impl Activation for Softplus {
///     fn f(&self, z: f64) -> f64 { libm::log1p(libm::exp(-z.abs())) + z.max(0.0) }
///     fn df(&self, z: f64) -> f64 { 1.0 / (1.0 + libm::exp(-z)) }
/// }
/// let m = stats::quadrature(&Softplus, 1.0)?;
/// assert!(m.f2 > m.f * m.f);
/// # Ok::<(), vi3nr_core::Error>(())
/// ```
pub trait Activation {
    /// `f(z)`.
    fn f(&self, z: f64) -> f64;
    /// `f'(z)`.
    fn df(&self, z: f64) -> f64;
    /// `(f(z), f'(z))` together; override when they share work (the statistics call this).
    fn f_df(&self, z: f64) -> (f64, f64) {
        (self.f(z), self.df(z))
    }
    /// `f(z)` in single precision (defaults to the `f64` form, rounded).
    fn f_f32(&self, z: f32) -> f32 {
        self.f(f64::from(z)) as f32
    }
    /// `f'(z)` in single precision (defaults to the `f64` form, rounded).
    fn df_f32(&self, z: f32) -> f32 {
        self.df(f64::from(z)) as f32
    }
    /// The length in `z` over which `f` changes shape (a period, a width); features are
    /// assumed to sit near `z = 0`. Quadrature refines geometrically from this scale.
    fn scale(&self) -> f64 {
        1.0
    }
    /// The σ_p an init plan uses when the backward condition has no root or any σ_p works.
    fn default_sigma_p(&self) -> f64 {
        1.0
    }
    /// A recommended spread σ_0 of the first layer's pre-activations for inputs of fan-in
    /// `fan_in` and mean square `input_second_moment`; `None` keeps σ_p (the textbook plan).
    fn default_first_sigma(&self, fan_in: usize, input_second_moment: f64) -> Option<f64> {
        let _ = (fan_in, input_second_moment);
        None
    }
    /// The exact moments for `z ~ N(0, σ²)`, when known; `None` means "integrate numerically".
    fn closed_form(&self, sigma: f64) -> Option<Moments> {
        let _ = sigma;
        None
    }
}

/// The built-in activations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Act {
    /// `max(z, 0)`.
    Relu,
    /// `tanh z`.
    Tanh,
    /// `1 / (1 + e^{-z})`.
    Sigmoid,
    /// `sin(ω z)`.
    Sine {
        /// Frequency ω.
        omega: f64,
    },
    /// `exp(-z² / (2a²))`.
    Gaussian {
        /// Width a.
        a: f64,
    },
    /// `sin(z) / z`, with `f(0) = 1`.
    Sinc,
    /// `cos(ω z) · exp(-(z/s)²)`; the paper's wavelet is ω = s = 1.
    Wavelet {
        /// Frequency ω.
        omega: f64,
        /// Width s.
        s: f64,
    },
}

impl Act {
    /// Every built-in with its default parameters, in the order of the paper's tables.
    pub const ALL: [Act; 7] = [
        Act::Tanh,
        Act::Sigmoid,
        Act::Relu,
        Act::Sine { omega: 30.0 },
        Act::Gaussian { a: 0.05 },
        Act::Sinc,
        Act::Wavelet { omega: 1.0, s: 1.0 },
    ];

    /// `sin(ω z)`; ω must be finite and positive.
    pub fn sine(omega: f64) -> Result<Self, Error> {
        Ok(Act::Sine { omega: positive(omega, "sine ω")? })
    }

    /// `exp(-z²/(2a²))`; a must be finite and positive.
    pub fn gaussian(a: f64) -> Result<Self, Error> {
        Ok(Act::Gaussian { a: positive(a, "gaussian a")? })
    }

    /// `cos(ω z)·exp(-(z/s)²)`; ω and s must be finite and positive.
    pub fn wavelet(omega: f64, s: f64) -> Result<Self, Error> {
        Ok(Act::Wavelet { omega: positive(omega, "wavelet ω")?, s: positive(s, "wavelet s")? })
    }

    /// Checks the parameters of a value built directly from the enum.
    pub fn validate(self) -> Result<Self, Error> {
        match self {
            Act::Sine { omega } => Act::sine(omega),
            Act::Gaussian { a } => Act::gaussian(a),
            Act::Wavelet { omega, s } => Act::wavelet(omega, s),
            other => Ok(other),
        }
    }

    /// The short name used on the command line (`sine`, `gaussian`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Act::Relu => "relu",
            Act::Tanh => "tanh",
            Act::Sigmoid => "sigmoid",
            Act::Sine { .. } => "sine",
            Act::Gaussian { .. } => "gaussian",
            Act::Sinc => "sinc",
            Act::Wavelet { .. } => "wavelet",
        }
    }
}

/// Parses `relu`, `tanh`, `sigmoid`, `sine[:ω]`, `gaussian[:a]`, `sinc`, `wavelet[:ω[,s]]`.
///
/// ```
/// use vi3nr_core::Act;
/// assert_eq!("gaussian:0.1".parse::<Act>()?, Act::Gaussian { a: 0.1 });
/// assert_eq!("sine".parse::<Act>()?, Act::Sine { omega: 30.0 });
/// assert!("gaussian:-1".parse::<Act>().is_err());
/// # Ok::<(), vi3nr_core::Error>(())
/// ```
impl FromStr for Act {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let (name, params) = match s.split_once(':') {
            Some((n, p)) => (n.trim(), Some(p)),
            None => (s.trim(), None),
        };
        let mut values = [0.0f64; 2];
        let mut count = 0;
        if let Some(p) = params {
            for part in p.split(',') {
                let slot = values.get_mut(count).ok_or(Error::UnknownActivation)?;
                *slot = part.trim().parse().map_err(|_| Error::UnknownActivation)?;
                count += 1;
            }
        }
        // Names and aliases, matched without regard to ASCII case.
        const NAMES: [(&str, &str); 9] = [
            ("relu", "relu"),
            ("tanh", "tanh"),
            ("sigmoid", "sigmoid"),
            ("sinc", "sinc"),
            ("sine", "sine"),
            ("sin", "sine"),
            ("gaussian", "gaussian"),
            ("gauss", "gaussian"),
            ("wavelet", "wavelet"),
        ];
        let canonical = NAMES
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
            .map(|&(_, canonical)| canonical)
            .ok_or(Error::UnknownActivation)?;
        match (canonical, &values[..count]) {
            ("relu", []) => Ok(Act::Relu),
            ("tanh", []) => Ok(Act::Tanh),
            ("sigmoid", []) => Ok(Act::Sigmoid),
            ("sinc", []) => Ok(Act::Sinc),
            ("sine", []) => Act::sine(30.0),
            ("sine", [w]) => Act::sine(*w),
            ("gaussian", []) => Act::gaussian(0.05),
            ("gaussian", [a]) => Act::gaussian(*a),
            ("wavelet", []) => Act::wavelet(1.0, 1.0),
            ("wavelet", [w]) => Act::wavelet(*w, 1.0),
            ("wavelet", [w, s]) => Act::wavelet(*w, *s),
            _ => Err(Error::UnknownActivation),
        }
    }
}

/// Formats as the command-line syntax, e.g. `gaussian:0.05`.
impl fmt::Display for Act {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Act::Sine { omega } => write!(f, "sine:{omega}"),
            Act::Gaussian { a } => write!(f, "gaussian:{a}"),
            Act::Wavelet { omega, s } => write!(f, "wavelet:{omega},{s}"),
            other => f.write_str(other.name()),
        }
    }
}

/// Taylor coefficients of `sinc'(z) = Σ_{k≥1} c_k z^{2k−1}`, `c_k = (−1)^k · 2k / (2k+1)!`.
const SINC_DERIVATIVE_SERIES: [f64; 10] = {
    let mut c = [0.0; 10];
    let mut k = 1;
    let mut factorial = 6.0; // (2k+1)! for k = 1
    while k <= 10 {
        let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
        c[k - 1] = sign * 2.0 * k as f64 / factorial;
        factorial *= ((2 * k + 2) * (2 * k + 3)) as f64;
        k += 1;
    }
    c
};

/// `sinc'(z) = (z cos z − sin z)/z²`, by its Taylor series below |z| = 0.5 where the formula
/// cancels (the ten terms leave a truncation error below 1e-24 there).
fn sinc_derivative(z: f64) -> f64 {
    if z.abs() < 0.5 {
        let z2 = z * z;
        z * SINC_DERIVATIVE_SERIES.iter().rev().fold(0.0, |acc, c| acc * z2 + c)
    } else {
        (z * libm::cos(z) - libm::sin(z)) / (z * z)
    }
}

/// Single-precision `sinc'`, series below 0.5 as in [`sinc_derivative`].
fn sinc_derivative_f32(z: f32) -> f32 {
    if z.abs() < 0.5 {
        let z2 = z * z;
        // −z/3 + z³/30 − z⁵/840 + z⁷/45360: truncation below 1e-8 relative for |z| < 0.5.
        z * (-1.0 / 3.0 + z2 * (1.0 / 30.0 + z2 * (-1.0 / 840.0 + z2 * (1.0 / 45360.0))))
    } else {
        (z * libm::cosf(z) - libm::sinf(z)) / (z * z)
    }
}

/// `(tanh z, 1 − tanh² z)`, the derivative as `4e/(1+e)²` with `e = e^{−2|z|}`: `1 − tanh²`
/// would cancel for large `|z|`.
fn tanh_pair(z: f64) -> (f64, f64) {
    let e = libm::exp(-2.0 * z.abs());
    (libm::tanh(z), 4.0 * e / ((1.0 + e) * (1.0 + e)))
}

/// `(σ(z), σ(z)(1 − σ(z)))` from `e = e^{−|z|}`, accurate in both tails.
fn sigmoid_pair(z: f64) -> (f64, f64) {
    let e = libm::exp(-z.abs());
    let small = e / (1.0 + e); // σ(−|z|)
    let s = if z >= 0.0 { 1.0 - small } else { small };
    (s, small * (1.0 - small))
}

/// Single-precision [`tanh_pair`].
fn tanh_pair_f32(z: f32) -> (f32, f32) {
    let e = libm::expf(-2.0 * z.abs());
    (libm::tanhf(z), 4.0 * e / ((1.0 + e) * (1.0 + e)))
}

/// Single-precision [`sigmoid_pair`].
fn sigmoid_pair_f32(z: f32) -> (f32, f32) {
    let e = libm::expf(-z.abs());
    let small = e / (1.0 + e);
    let s = if z >= 0.0 { 1.0 - small } else { small };
    (s, small * (1.0 - small))
}

impl Activation for Act {
    fn f(&self, z: f64) -> f64 {
        match *self {
            Act::Relu => z.max(0.0),
            Act::Tanh => libm::tanh(z),
            Act::Sigmoid => sigmoid_pair(z).0,
            Act::Sine { omega } => libm::sin(omega * z),
            Act::Gaussian { a } => libm::exp(-0.5 * (z / a) * (z / a)),
            Act::Sinc => {
                if z == 0.0 {
                    1.0
                } else {
                    libm::sin(z) / z
                }
            }
            Act::Wavelet { omega, s } => libm::cos(omega * z) * libm::exp(-(z / s) * (z / s)),
        }
    }

    fn df(&self, z: f64) -> f64 {
        match *self {
            Act::Relu => {
                if z > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Act::Tanh => tanh_pair(z).1,
            Act::Sigmoid => sigmoid_pair(z).1,
            Act::Sine { omega } => omega * libm::cos(omega * z),
            Act::Gaussian { a } => -z / (a * a) * libm::exp(-0.5 * (z / a) * (z / a)),
            Act::Sinc => sinc_derivative(z),
            Act::Wavelet { omega, s } => {
                let (sn, cs) = libm::sincos(omega * z);
                -(omega * sn + 2.0 * z / (s * s) * cs) * libm::exp(-(z / s) * (z / s))
            }
        }
    }

    fn f_f32(&self, z: f32) -> f32 {
        match *self {
            Act::Relu => z.max(0.0),
            Act::Tanh => libm::tanhf(z),
            Act::Sigmoid => sigmoid_pair_f32(z).0,
            Act::Sine { omega } => libm::sinf(omega as f32 * z),
            Act::Gaussian { a } => {
                let u = z / a as f32;
                libm::expf(-0.5 * u * u)
            }
            Act::Sinc => {
                if z == 0.0 {
                    1.0
                } else {
                    libm::sinf(z) / z
                }
            }
            Act::Wavelet { omega, s } => {
                let u = z / s as f32;
                libm::cosf(omega as f32 * z) * libm::expf(-u * u)
            }
        }
    }

    fn df_f32(&self, z: f32) -> f32 {
        match *self {
            Act::Relu => {
                if z > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Act::Tanh => tanh_pair_f32(z).1,
            Act::Sigmoid => sigmoid_pair_f32(z).1,
            Act::Sine { omega } => omega as f32 * libm::cosf(omega as f32 * z),
            Act::Gaussian { a } => {
                let a = a as f32;
                let u = z / a;
                -u / a * libm::expf(-0.5 * u * u)
            }
            Act::Sinc => sinc_derivative_f32(z),
            Act::Wavelet { omega, s } => {
                let (omega, s) = (omega as f32, s as f32);
                let (sn, cs) = libm::sincosf(omega * z);
                let u = z / s;
                -(omega * sn + 2.0 * u / s * cs) * libm::expf(-u * u)
            }
        }
    }

    fn scale(&self) -> f64 {
        match *self {
            Act::Sine { omega } => 1.0 / omega,
            Act::Gaussian { a } => a,
            Act::Wavelet { omega, s } => s.min(1.0 / omega),
            _ => 1.0,
        }
    }

    fn f_df(&self, z: f64) -> (f64, f64) {
        match *self {
            Act::Tanh => tanh_pair(z),
            Act::Sigmoid => sigmoid_pair(z),
            Act::Sine { omega } => {
                let (s, c) = libm::sincos(omega * z);
                (s, omega * c)
            }
            Act::Gaussian { a } => {
                let g = libm::exp(-0.5 * (z / a) * (z / a));
                (g, -z / (a * a) * g)
            }
            _ => (self.f(z), self.df(z)),
        }
    }

    /// Sine: 1/ω, SIREN's scale (pre-activations spanning one radian after ω).
    fn default_sigma_p(&self) -> f64 {
        match *self {
            Act::Sine { omega } => 1.0 / omega,
            _ => 1.0,
        }
    }

    /// Sine: SIREN's first-layer spread, `√(E[x²]/(3·fan_in))` (its `U(±1/fan_in)` weights;
    /// 0.236 for coordinates on [−1, 1]²). Gaussian: `12a` (from a sweep on the bundled
    /// photograph, see README). Others: σ_p.
    fn default_first_sigma(&self, fan_in: usize, input_second_moment: f64) -> Option<f64> {
        match *self {
            Act::Sine { .. } if fan_in > 0 => {
                Some(libm::sqrt(input_second_moment / (3.0 * fan_in as f64)))
            }
            Act::Gaussian { a } => Some(12.0 * a),
            _ => None,
        }
    }

    fn closed_form(&self, sigma: f64) -> Option<Moments> {
        crate::stats::closed_form(self, sigma)
    }
}
