//! Filling weight and bias slices from a caller's RNG.
//!
//! Weights are stored row-major, `fan_out` rows of `fan_in` (PyTorch's `nn.Linear` layout);
//! draws are i.i.d., so the layout only fixes the expected length.

use super::plan::{BiasInit, LayerPlan};
use crate::Error;
use crate::stats::normal_pair;
use rand_core::RngCore;

fn check(layer: &LayerPlan, len: usize) -> Result<(), Error> {
    match layer.fan_in.checked_mul(layer.fan_out) {
        Some(n) if n == len => Ok(()),
        _ => Err(Error::SliceLength),
    }
}

/// A uniform draw on [−1, 1).
fn symmetric<R: RngCore + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (2.0 / (1u64 << 53) as f64) - 1.0
}

/// Fills `out` with i.i.d. `U(±bound)` draws.
pub fn sample_uniform<R: RngCore + ?Sized>(bound: f64, out: &mut [f32], rng: &mut R) {
    for w in out {
        *w = (bound * symmetric(rng)) as f32;
    }
}

/// Fills `out` with i.i.d. `N(0, std²)` draws (Box–Muller, both outputs used).
pub fn sample_normal<R: RngCore + ?Sized>(std: f64, out: &mut [f32], rng: &mut R) {
    let mut chunks = out.chunks_exact_mut(2);
    for pair in &mut chunks {
        let (a, b) = normal_pair(rng);
        pair[0] = (std * a) as f32;
        pair[1] = (std * b) as f32;
    }
    for w in chunks.into_remainder() {
        *w = (std * normal_pair(rng).0) as f32;
    }
}

/// Fills `weights` (length `fan_in · fan_out`) with `U(±bound)` of the layer.
pub fn fill_uniform<R: RngCore + ?Sized>(
    layer: &LayerPlan,
    weights: &mut [f32],
    rng: &mut R,
) -> Result<(), Error> {
    check(layer, weights.len())?;
    sample_uniform(layer.bound, weights, rng);
    Ok(())
}

/// Fills `weights` (length `fan_in · fan_out`) with `N(0, std²)` of the layer.
pub fn fill_normal<R: RngCore + ?Sized>(
    layer: &LayerPlan,
    weights: &mut [f32],
    rng: &mut R,
) -> Result<(), Error> {
    check(layer, weights.len())?;
    sample_normal(layer.std, weights, rng);
    Ok(())
}

/// Fills `bias` (length `fan_out`) as the plan says.
pub fn fill_bias<R: RngCore + ?Sized>(
    layer: &LayerPlan,
    bias: &mut [f32],
    rng: &mut R,
) -> Result<(), Error> {
    if bias.len() != layer.fan_out {
        return Err(Error::SliceLength);
    }
    match layer.bias {
        BiasInit::Zero => bias.fill(0.0),
        BiasInit::Uniform { bound } => sample_uniform(bound, bias, rng),
    }
    Ok(())
}
