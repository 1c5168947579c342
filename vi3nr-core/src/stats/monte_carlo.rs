//! Monte Carlo moments with standard errors, as the paper's reference code computes them.
//!
//! Normal samples come from the caller's [`RngCore`] through the Box–Muller transform (both
//! outputs used); means and variances are accumulated with Welford's update, so the standard
//! errors are as accurate as the means.

use crate::error::positive;
use crate::{Activation, Error, Moments};
use core::f64::consts::PI;
use rand_core::RngCore;

/// Monte Carlo estimates and their standard errors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonteCarlo {
    /// Sample means of `f`, `f²`, `f'`, `f'²`.
    pub mean: Moments,
    /// Standard error of each mean (sample standard deviation / √n).
    pub std_error: Moments,
    /// Number of samples.
    pub samples: u64,
}

/// A uniform draw in (0, 1], 53 random bits.
fn uniform<R: RngCore + ?Sized>(rng: &mut R) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A pair of independent N(0, 1) draws.
pub(crate) fn normal_pair<R: RngCore + ?Sized>(rng: &mut R) -> (f64, f64) {
    let r = libm::sqrt(-2.0 * libm::log(uniform(rng)));
    let (s, c) = libm::sincos(2.0 * PI * uniform(rng));
    (r * c, r * s)
}

/// Estimates the moments at `σ` from `samples` draws of `z ~ N(0, σ²)`.
///
/// ```
/// use rand_xoshiro::{Xoshiro256PlusPlus, rand_core::SeedableRng};
/// use vi3nr_core::{Act, stats};
/// let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
/// let mc = stats::monte_carlo(&Act::Relu, 1.0, 100_000, &mut rng)?;
/// assert!((mc.mean.f2 - 0.5).abs() < 5.0 * mc.std_error.f2);
/// # Ok::<(), vi3nr_core::Error>(())
/// ```
pub fn monte_carlo<A: Activation + ?Sized, R: RngCore + ?Sized>(
    act: &A,
    sigma: f64,
    samples: u64,
    rng: &mut R,
) -> Result<MonteCarlo, Error> {
    positive(sigma, "σ")?;
    if samples < 2 {
        return Err(Error::NoSamples);
    }
    let mut mean = [0.0f64; 4];
    let mut m2 = [0.0f64; 4];
    let mut n = 0u64;
    let mut add = |z: f64| {
        let (f, d) = act.f_df(z);
        n += 1;
        for (j, x) in [f, f * f, d, d * d].into_iter().enumerate() {
            let delta = x - mean[j];
            mean[j] += delta / n as f64;
            m2[j] += delta * (x - mean[j]);
        }
    };
    for _ in 0..samples / 2 {
        let (a, b) = normal_pair(rng);
        add(sigma * a);
        add(sigma * b);
    }
    if samples % 2 == 1 {
        add(sigma * normal_pair(rng).0);
    }
    let mean = Moments::from_array(mean);
    if !mean.is_finite() {
        return Err(Error::NotFinite("activation value"));
    }
    let nf = samples as f64;
    Ok(MonteCarlo {
        mean,
        std_error: Moments::from_array(m2.map(|v| libm::sqrt(v / (nf - 1.0) / nf))),
        samples,
    })
}
