//! Exact moments for `z ~ N(0, σ²)`.
//!
//! All follow from the characteristic function `E[cos(kz)] = e^{−k²σ²/2}` and Gaussian
//! products (`e^{−z²/s²}` times the N(0, σ²) density is a N(0, τ²) density times `τ/σ`,
//! `1/τ² = 1/σ² + 2/s²`):
//!
//! - relu: `E[f] = σ/√(2π)`, `E[f²] = σ²/2`, `E[f'] = E[f'²] = 1/2`.
//! - sine `sin(ωz)`, `x = ω²σ²`: `E[f] = 0`, `E[f²] = (1 − e^{−2x})/2`,
//!   `E[f'] = ω e^{−x/2}`, `E[f'²] = ω²(1 + e^{−2x})/2`.
//! - Gaussian `e^{−z²/(2a²)}`, `r = σ²/a²`: `E[f] = (1+r)^{−1/2}`, `E[f²] = (1+2r)^{−1/2}`,
//!   `E[f'] = 0`, `E[f'²] = r/a² · (1+2r)^{−3/2}`.
//! - sinc: `sinc z = ∫₀¹ cos(tz) dt` gives `E[f] = ∫₀¹ e^{−t²σ²/2} dt`,
//!   `E[f²] = ∫₀² (1 − p/2) e^{−p²σ²/2} dp`, and `E[f'²] = ½∫₀² (2/3 − p + p³/6) e^{−p²σ²/2} dp`;
//!   each integral is an erf plus elementary terms. `E[f'²]` cancels to O(σ²) for small σ,
//!   where its Taylor series is used instead.
//! - wavelet `cos(ωz) e^{−(z/s)²}`: Gaussian product with the sine identities above.

use crate::{Act, Moments};
use core::f64::consts::{FRAC_2_SQRT_PI, PI, SQRT_2};

/// Exact moments of a built-in activation at `σ`, or `None` where no closed form exists
/// (tanh, sigmoid). `σ` is assumed finite and positive.
pub fn closed_form(act: &Act, sigma: f64) -> Option<Moments> {
    let s2 = sigma * sigma;
    Some(match *act {
        Act::Relu => Moments { f: sigma / libm::sqrt(2.0 * PI), f2: 0.5 * s2, df: 0.5, df2: 0.5 },
        Act::Sine { omega } => {
            let x = omega * omega * s2;
            Moments {
                f: 0.0,
                f2: -0.5 * libm::expm1(-2.0 * x),
                df: omega * libm::exp(-0.5 * x),
                df2: 0.5 * omega * omega * (1.0 + libm::exp(-2.0 * x)),
            }
        }
        Act::Gaussian { a } => {
            let r = s2 / (a * a);
            Moments {
                f: 1.0 / libm::sqrt(1.0 + r),
                f2: 1.0 / libm::sqrt(1.0 + 2.0 * r),
                df: 0.0,
                df2: r / (a * a) / libm::pow(1.0 + 2.0 * r, 1.5),
            }
        }
        Act::Sinc => sinc(sigma),
        Act::Wavelet { omega, s } => wavelet(omega, s, sigma),
        Act::Tanh | Act::Sigmoid => return None,
    })
}

/// `∫₀^L e^{−p²σ²/2} dp = √(π/2)/σ · erf(Lσ/√2)`.
fn gauss_integral(sigma: f64, l: f64) -> f64 {
    // erf(x)/x → 2/√π as x → 0; write it so that small σ loses nothing.
    let x = l * sigma / SQRT_2;
    if x < 1e-8 { l * (1.0 - x * x / 3.0) } else { l * libm::erf(x) / (x * FRAC_2_SQRT_PI) }
}

/// Taylor series of `E[sinc'(z)²] = ½ Σ_{k≥1} (−σ²/2)^k/k! · c_k`,
/// `c_k = ∫₀² (2/3 − p + p³/6) p^{2k} dp`.
fn sinc_df2_series(sigma: f64) -> f64 {
    let h = -0.5 * sigma * sigma;
    let mut sum = 0.0;
    let mut power = 1.0; // h^k / k!
    let mut two_pow = 1.0; // 2^{2k}
    for k in 1..=40 {
        power *= h / f64::from(k);
        two_pow *= 4.0;
        let n = f64::from(2 * k);
        let c = (2.0 / 3.0) * 2.0 * two_pow / (n + 1.0) - 4.0 * two_pow / (n + 2.0)
            + 16.0 * two_pow / (6.0 * (n + 4.0));
        let term = power * c;
        sum += term;
        if term.abs() < 1e-18 * sum.abs() {
            break;
        }
    }
    0.5 * sum
}

fn sinc(sigma: f64) -> Moments {
    let s2 = sigma * sigma;
    let w = 2.0 * s2; // p²σ²/2 at p = 2
    let i0 = gauss_integral(sigma, 2.0);
    // ∫₀² p e^{−p²σ²/2} dp = (1 − e^{−2σ²})/σ²
    let i1 = if w < 1e-300 { 2.0 } else { -libm::expm1(-w) / s2 };
    let df2 = if sigma < 0.6 {
        sinc_df2_series(sigma)
    } else {
        // ∫₀² p³ e^{−p²σ²/2} dp = 2/σ⁴ · (1 − (1 + w) e^{−w})
        let i3 = 2.0 / (s2 * s2) * (1.0 - (1.0 + w) * libm::exp(-w));
        i0 / 3.0 - i1 / 2.0 + i3 / 12.0
    };
    Moments { f: gauss_integral(sigma, 1.0), f2: i0 - 0.5 * i1, df: 0.0, df2 }
}

fn wavelet(omega: f64, s: f64, sigma: f64) -> Moments {
    let s2 = s * s;
    let sig2 = sigma * sigma;
    // One Gaussian factor e^{−z²/s²}: N(0, τ1²) with τ1² = σ²s²/(s² + 2σ²).
    let t1 = sig2 * s2 / (s2 + 2.0 * sig2);
    // Two factors (f², f'²): τ2² = σ²s²/(s² + 4σ²).
    let t2 = sig2 * s2 / (s2 + 4.0 * sig2);
    let r1 = libm::sqrt(t1 / sig2);
    let r2 = libm::sqrt(t2 / sig2);
    let e = libm::exp(-2.0 * omega * omega * t2); // E_τ2[cos 2ωz]
    let w2 = omega * omega;
    Moments {
        f: r1 * libm::exp(-0.5 * w2 * t1),
        f2: r2 * 0.5 * (1.0 + e),
        df: 0.0,
        // f'² = e^{−2z²/s²}[ω² sin² + (4z²/s⁴) cos² + (4ωz/s²) sin cos]
        df2: r2
            * (0.5 * w2 * (1.0 - e)
                + 2.0 / (s2 * s2) * (t2 + (t2 - 4.0 * w2 * t2 * t2) * e)
                + 4.0 * w2 * t2 / s2 * e),
    }
}
