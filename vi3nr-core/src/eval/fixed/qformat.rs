//! The Q formats of the fixed-point evaluators: which fraction each layer's i16 inputs carry,
//! how far its accumulator is shifted, and how accumulator units map to activation arguments.
//!
//! - Layer inputs are i16: coordinates and bounded activations in Q1.14 ([`INPUT_FRAC`]), relu
//!   and identity outputs in Q3.12 ([`out_frac`]); [`layer_q`] gives a layer's pair
//!   `(in_frac, s)`, the one rule the writer, the parser and the dequantiser share.
//! - A layer rounds its inputs to steps of `2^p` ([`input_shift`], from the inputs' bound
//!   [`in_bits`]), sums the products of each [`CHUNK`] of them exactly in i32 and adds each
//!   chunk sum shifted by `s − p`, `s` = [`acc_shift`] (⌈log₂ fan_in⌉ for q15), so no input can
//!   make the accumulator overflow and it keeps the units of a product sum shifted by `s`;
//!   biases are stored in those units and bounded by [`BIAS_LIMIT`].
//! - The accumulator maps to the activation's argument ([`arg_scale`], [`arg_units`]): turns as
//!   a wrapping u32 for sine, `z/a` in Q16.16 for the Gaussian, `z` in Q16.16 otherwise.

use crate::Act;
use crate::model::NumberFormat;
use core::f64::consts::TAU;

/// Fractional bits of the coordinates fed to the first layer (Q1.14: inputs in [−2, 2)).
pub(crate) const INPUT_FRAC: u32 = 14;
/// Largest magnitude of a stored bias (accumulator units).
pub(crate) const BIAS_LIMIT: u32 = 1 << 30;

/// Fractional bits of a layer's i16 outputs: 12 (Q3.12) for relu and the identity, 14 (Q1.14)
/// for the bounded activations.
pub(crate) fn out_frac(act: Option<Act>) -> u32 {
    match act {
        None | Some(Act::Relu) => 12,
        Some(_) => 14,
    }
}

/// `s`: the accumulator holds product sums shifted right by `s` (see [`input_shift`]), so that
/// `fan_in` products fit an i32 with the bias.
pub(crate) fn acc_shift(format: NumberFormat, fan_in: usize) -> u32 {
    let log2 = usize::BITS - fan_in.saturating_sub(1).leading_zeros();
    match format {
        NumberFormat::I8 => log2.saturating_sub(8),
        _ => log2,
    }
}

/// `(in_frac, s)` of a fixed-point layer: the fractional bits of its inputs ([`INPUT_FRAC`]
/// for the first layer, `prev`'s [`out_frac`] after it) and its [`acc_shift`]. `prev` is the
/// previous layer's activation, `None` for the first layer. One accumulator unit is worth
/// `scale · 2^(s − in_frac)` of the real pre-activation.
pub(crate) fn layer_q(
    format: NumberFormat,
    fan_in: usize,
    prev: Option<Option<Act>>,
) -> (u32, u32) {
    let in_frac = match prev {
        None => INPUT_FRAC,
        Some(act) => out_frac(act),
    };
    (in_frac, acc_shift(format, fan_in))
}

/// Bits of the largest magnitude of a layer's i16 inputs: `|x| ≤ 2^bits`. 14 for the outputs of
/// the bounded activations (Q1.14 values of magnitude ≤ 1) and for Fourier features, 15 for raw
/// coordinates (Q1.14 in [−2, 2)) and for relu and identity outputs (Q3.12).
pub(crate) fn in_bits(prev: Option<Option<Act>>, fourier: bool) -> u32 {
    match prev {
        None if fourier => 14,
        None => 15,
        Some(act) if out_frac(act) == 14 => 14,
        Some(_) => 15,
    }
}

/// Consecutive products a layer sums exactly in i32 before shifting the sum (one chunk for
/// layers up to 32 wide).
pub(crate) const CHUNK: usize = 32;

/// Right shift `p` (rounding) applied to a layer's inputs before its products, so that a sum
/// of [`CHUNK`] products of unshifted weights (`|q_w| < 2¹⁵` for q15, `< 2⁷` for i8) and
/// inputs `|x| ≤ 2^bits` ([`in_bits`]) stays below 2³¹: `max(0, c + bits + 15 − 31)` for q15
/// (`+ 7` for i8: always 0 for `bits ≤ 15`), `c = ⌈log₂ min(fan_in, CHUNK)⌉`. Below
/// [`acc_shift`] `s`; each chunk's sum is shifted right by `s − p` before it is added, which
/// keeps the accumulator in the units of [`acc_shift`] and within ±2³⁰ with the bias.
pub(crate) fn input_shift(format: NumberFormat, fan_in: usize, bits: u32) -> u32 {
    let log2 = usize::BITS - fan_in.min(CHUNK).saturating_sub(1).leading_zeros();
    let w_bits = if format == NumberFormat::I8 { 7 } else { 15 };
    (log2 + bits + w_bits).saturating_sub(31).min(acc_shift(format, fan_in))
}

/// The step, in real units, of the grid a fixed-point layer's inputs lie on when its products
/// are taken: `2^(p − in_frac)`, with `in_frac` the inputs' fractional bits (14 for
/// coordinates and bounded activations, 12 after relu) and `p` the layer's input shift
/// (FORMAT.md, "Fixed-point conventions"). `prev` is the previous layer's activation (`None`
/// for the first layer), `fourier` whether the first layer sees Fourier features. Quantisation-aware
/// training rounds each layer's inputs to this grid so that it trains the function the
/// evaluator computes.
///
/// ```
/// use vi3nr_core::{Act, model::NumberFormat};
/// use vi3nr_core::eval::parts::input_step;
/// // Coordinates in Q1.14; a 32-wide q15 layer after a sine reads its inputs in Q1.11.
/// assert_eq!(input_step(NumberFormat::Q15, 2, None, false), 2f32.powi(-14));
/// let sine = Some(Some(Act::Sine { omega: 30.0 }));
/// assert_eq!(input_step(NumberFormat::Q15, 32, sine, false), 2f32.powi(-11));
/// assert_eq!(input_step(NumberFormat::I8, 32, sine, false), 2f32.powi(-14));
/// ```
pub fn input_step(
    format: NumberFormat,
    fan_in: usize,
    prev: Option<Option<Act>>,
    fourier: bool,
) -> f32 {
    let (in_frac, _) = layer_q(format, fan_in, prev);
    let p = input_shift(format, fan_in, in_bits(prev, fourier));
    libm::ldexpf(1.0, p as i32 - in_frac as i32)
}

/// Activation-argument units per unit of real pre-activation.
pub(crate) fn arg_units(act: Option<Act>) -> f64 {
    match act {
        Some(Act::Sine { omega }) => omega / TAU * 4_294_967_296.0,
        Some(Act::Gaussian { a }) => 65_536.0 / a,
        _ => 65_536.0,
    }
}

/// Argument units per accumulator unit for a layer with weight scale `scale`, product shift
/// `shift` and inputs with `in_frac` fractional bits.
pub(crate) fn arg_scale(act: Option<Act>, scale: f64, shift: u32, in_frac: u32) -> f64 {
    libm::ldexp(scale, shift as i32 - in_frac as i32) * arg_units(act)
}

/// An i8 layer's argument units per accumulator unit per unit of row scale, in f32: a row
/// with scale `s` maps its accumulator by `Requant::from_f32(s · row_unit(…))`, one f32
/// product per row and point (the f32 product rounds the same way on every target).
pub fn row_unit(act: Option<Act>, shift: u32, in_frac: u32) -> f32 {
    arg_scale(act, 1.0, shift, in_frac) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_q_follows_the_previous_activation() {
        let sine = Some(Act::Sine { omega: 30.0 });
        for (format, fan_in, prev, want) in [
            (NumberFormat::Q15, 2, None, (14, 1)),
            (NumberFormat::Q15, 32, Some(sine), (14, 5)),
            (NumberFormat::Q15, 33, Some(Some(Act::Relu)), (12, 6)),
            (NumberFormat::I8, 32, Some(sine), (14, 0)),
            (NumberFormat::I8, 1024, Some(None), (12, 2)),
        ] {
            assert_eq!(layer_q(format, fan_in, prev), want, "{format:?} {fan_in} {prev:?}");
        }
    }
}
