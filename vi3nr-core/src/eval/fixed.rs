//! The q15 and i8 evaluators, in integer arithmetic.
//!
//! Conventions (also in FORMAT.md):
//! - layer inputs are i16: coordinates and bounded activations in Q1.14, relu and identity
//!   outputs in Q3.12 ([`qformat`]);
//! - a layer rounds its inputs to steps of `2^p`, sums the products of each chunk of 32 of them
//!   exactly in i32 and adds each chunk sum shifted by `s − p`, so no input can make the
//!   accumulator overflow; biases are stored in the accumulator's units;
//! - a [`Requant`] (an i32 multiplier and a right shift, derived once from the layer's weight
//!   scale), applied in 32-bit arithmetic as a [`Rescale`], maps the accumulator to the
//!   activation's argument;
//! - the activations are tables with linear interpolation ([`FixedAct`]).
//!
//! Floating point is used only to quantise the input, compute Fourier phases, set up an i8
//! row's [`Requant`] (one f32 product) and scale the outputs.

pub(crate) mod dot;
pub(crate) mod qformat;
mod requant;
pub(crate) mod table;

pub use dot::{Lane, dot_i8, dot_portable, dot_q15};
pub use requant::{Requant, Rescale};
pub use table::FixedAct;

use crate::model::{LayerFault, Model, ModelError, Weights};
use dot::{Weight, lane, lanes, value};
use qformat::{CHUNK, in_bits, input_shift, out_frac};
use table::sine_turns;

/// `Σ_chunks (Σ w·x) >> post` over chunks of [`CHUNK`] products, exact in i32 when the inputs
/// are pre-shifted by [`input_shift`] (see FORMAT.md); each chunk's sum by the target's inner
/// loop ([`dot`]).
#[inline(always)]
fn dot_fixed<T: Weight>(w: &[T], x: &[Lane], post: u32) -> i32 {
    if w.len() <= CHUNK {
        return T::dot(w, x) >> post;
    }
    let mut acc = 0i32;
    for (w, x) in w.chunks(CHUNK).zip(x.chunks(CHUNK)) {
        acc = acc.wrapping_add(T::dot(w, x) >> post);
    }
    acc
}

/// Calls `emit(j, acc_j)` for each row `j` of `w` (rows of `fan_in` weights), `acc_j = bias_j
/// + Σ_chunks (Σ w·x) >> post`: by the target's whole-row loop where it has one for this shape
/// (Cortex-M: [`Weight::rows`]), else row by row with [`dot_fixed`].
#[inline(always)]
fn for_rows<T: Weight>(
    w: &[T],
    fan_in: usize,
    bias: &[i32],
    input: &[Lane],
    post: u32,
    mut emit: impl FnMut(usize, i32),
) {
    // Coordinates (1 to 3 inputs): the inputs in registers, each row unrolled.
    let small = match fan_in {
        1 => small_rows::<T, 1>(w, bias, input, post, &mut emit),
        2 => small_rows::<T, 2>(w, bias, input, post, &mut emit),
        3 => small_rows::<T, 3>(w, bias, input, post, &mut emit),
        _ => false,
    };
    if small {
        return;
    }
    if fan_in <= CHUNK && fan_in == input.len() {
        let whole = T::rows(w, input, |j, sum| {
            if let Some(&b) = bias.get(j) {
                emit(j, b.wrapping_add(sum >> post));
            }
        });
        if whole {
            return;
        }
    }
    for (j, (row, &b)) in w.chunks_exact(fan_in).zip(bias).enumerate() {
        emit(j, b.wrapping_add(dot_fixed(row, input, post)));
    }
}

/// [`for_rows`] for `N` inputs (`input.len() == N`, else `false` and nothing called): the
/// inputs held in registers and each row's `N` products unrolled (the same sum as
/// [`dot_portable`]).
#[inline(always)]
fn small_rows<T: Weight, const N: usize>(
    w: &[T],
    bias: &[i32],
    input: &[Lane],
    post: u32,
    emit: &mut impl FnMut(usize, i32),
) -> bool {
    let Ok(x) = <&[Lane; N]>::try_from(input) else {
        return false;
    };
    let x = x.map(value);
    for (j, (row, &b)) in w.as_chunks::<N>().0.iter().zip(bias).enumerate() {
        let mut sum = 0i32;
        for k in 0..N {
            sum = sum.wrapping_add(row[k].into().wrapping_mul(x[k]));
        }
        emit(j, b.wrapping_add(sum >> post));
    }
    true
}

/// A hidden q15 layer: each row's accumulator, rescaled by `r`, through `act` into `out`.
/// Kept out of line so that the row loop has the registers to itself; the sine (the common
/// case) has its own copy of the loop.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn hidden_q15(
    w: &[i16],
    fan_in: usize,
    bias: &[i32],
    input: &[Lane],
    post: u32,
    r: Rescale,
    act: FixedAct,
    out: &mut [Lane],
) {
    let mut store = |j: usize, v: i16| {
        if let Some(y) = out.get_mut(j) {
            *y = lane(v);
        }
    };
    match act {
        FixedAct::Sine => {
            for_rows(w, fan_in, bias, input, post, |j, acc| store(j, sine_turns(r.turns(acc))));
        }
        _ => for_rows(w, fan_in, bias, input, post, |j, acc| store(j, act.eval_q16(r.q16(acc)))),
    }
}

/// `round(v · 2¹⁴)` saturated to i16 (a coordinate in Q1.14), ties away from zero, NaN → 0:
/// `libm::roundf(v * 16_384.0).clamp(-32_768.0, 32_767.0) as i16` by integer operations on
/// the bits (a Cortex-M0 does every f32 operation in software).
#[inline]
fn q14(v: f32) -> i16 {
    let bits = v.to_bits();
    let exp = (bits >> 23) & 0xFF;
    let negative = bits >> 31 != 0;
    if exp == 0xFF && bits & 0x7F_FFFF != 0 {
        return 0; // NaN
    }
    // |v| · 2¹⁴ = m · 2^(exp − 136) with m the 24-bit significand.
    let m = (bits & 0x7F_FFFF) | 0x80_0000;
    let mag = if exp >= 136 {
        u32::MAX // |v| ≥ 2²³ · 2⁻¹⁴: saturates (∞ too)
    } else if exp < 112 {
        0 // |v| · 2¹⁴ < 2⁻¹ (subnormals and zero included): rounds to 0
    } else {
        let s = 136 - exp; // 1..=24
        (m + (1 << (s - 1))) >> s
    };
    if negative { -(mag.min(32_768) as i32) as i16 } else { mag.min(32_767) as i16 }
}

/// `v · 2^−k` for a `v` converted from an integer (zero or at least 1 in magnitude, so the
/// result stays normal for `k ≤ 126`): the exponent lowered by `k`, exactly the product
/// `v * 2^−k` without a (software, on a Cortex-M0) multiplication.
#[inline]
fn scaled(v: f32, k: u32) -> f32 {
    if v == 0.0 { v } else { f32::from_bits(v.to_bits() - (k << 23)) }
}

/// The activation of accumulator `acc` rescaled by `r` into its argument units.
#[inline(always)]
fn activate(act: FixedAct, acc: i32, r: Rescale) -> i16 {
    match act {
        FixedAct::Sine => sine_turns(r.turns(acc)),
        _ => act.eval_q16(r.q16(acc)),
    }
}

impl Model<'_> {
    /// Evaluates one point with a q15 or i8 model in integer arithmetic (floating point only to
    /// quantise the input, compute Fourier phases, and scale the outputs).
    ///
    /// The scratch holds [`Model::scratch_len`] i32 (4 bytes per value of twice the widest
    /// layer): layer inputs as i32 on most targets, as packed i16 pairs on thumbv7em
    /// (`eval::parts::Lane`).
    ///
    /// Errors: a floating-point model ([`ModelError::WrongEvaluator`]: use
    /// [`Model::eval_f32`]), or buffer lengths ([`ModelError::BufferLength`]).
    pub fn eval_fixed(
        &self,
        x: &[f32],
        out: &mut [f32],
        scratch: &mut [i32],
    ) -> Result<(), ModelError> {
        let (a, b) = self.open(true, x, out, scratch)?;
        let (mut a, mut b) = (lanes(a), lanes(b));
        let n_freq = self.n_freq();
        if n_freq == 0 {
            for (q, &v) in a.iter_mut().zip(x) {
                *q = lane(q14(v));
            }
        } else {
            for (k, f) in self.fourier.chunks_exact(self.in_dim).enumerate() {
                let t: f32 = f.iter().zip(x).map(|(f, x)| f * x).sum();
                let theta = ((t - libm::floorf(t)) * 4_294_967_296.0) as u64 as u32;
                a[k] = lane(sine_turns(theta));
                a[n_freq + k] = lane(sine_turns(theta.wrapping_add(1 << 30)));
            }
        }
        let last = self.layers.len() - 1;
        let mut bits = in_bits(None, n_freq > 0);
        for (i, layer) in self.layers.iter().enumerate() {
            let fi = layer.fan_in;
            // Inputs rounded to `2^pre` steps (in place: they are not needed again), each chunk's
            // exact product sum shifted by `post` (FORMAT.md):
            // `acc = bias + Σ_chunks (Σ q_w · round(x / 2^pre)) >> post`.
            let shift = u32::from(layer.acc_shift);
            let pre = input_shift(self.format, fi, bits);
            let post = shift - pre;
            if pre > 0 {
                let half = 1i32 << (pre - 1);
                for v in &mut a[..fi] {
                    *v = lane(((value(*v) + half) >> pre) as i16);
                }
            }
            bits = in_bits(Some(layer.act), false);
            let input = &a[..fi];
            let index = i as u8;
            let fixed_act = FixedAct::new(layer.act)
                .ok_or(ModelError::Layer { index, what: LayerFault::FixedActivation })?;
            let to_out = i == last;
            let mut emit = |j: usize, acc: i32, r: Rescale| {
                if to_out && layer.act.is_none() {
                    // Q16.16 of the real output.
                    out[j] = scaled(r.q16(acc) as f32, 16);
                } else if to_out {
                    out[j] = f32::from(activate(fixed_act, acc, r))
                        / (1u32 << out_frac(layer.act)) as f32;
                } else {
                    b[j] = lane(activate(fixed_act, acc, r));
                }
            };
            match layer.weights {
                Weights::Q15 { w, b: bias, .. } if !to_out => {
                    hidden_q15(w, fi, bias, input, post, layer.rescale, fixed_act, b);
                }
                Weights::Q15 { w, b: bias, .. } => {
                    let r = layer.rescale;
                    for_rows(w, fi, bias, input, post, |j, acc| emit(j, acc, r));
                }
                Weights::I8 { scales, w, b: bias } => {
                    // One f32 product and bit operations per row (see `qformat::row_unit`).
                    let unit = layer.row_unit;
                    let mut bad_scale = false;
                    // The sine wraps its argument: no saturation limit (a division) to set up.
                    let turns = fixed_act == FixedAct::Sine;
                    for_rows(w, fi, bias, input, post, |j, acc| {
                        match scales.get(j).and_then(|&s| Requant::from_f32(s * unit)) {
                            Some(q) if turns => emit(j, acc, q.rescale_turns()),
                            Some(q) => emit(j, acc, q.rescale()),
                            None => bad_scale = true,
                        }
                    });
                    if bad_scale {
                        return Err(ModelError::Layer { index, what: LayerFault::ScaleRange });
                    }
                }
                _ => return Err(ModelError::WrongEvaluator(self.format)),
            }
            core::mem::swap(&mut a, &mut b);
        }
        for (y, [scale, offset]) in out.iter_mut().zip(self.affine) {
            *y = scale * *y + offset;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{q14, scaled};

    #[test]
    fn q14_by_bits_equals_the_float_rounding() {
        let reference = |v: f32| libm::roundf(v * 16_384.0).clamp(-32_768.0, 32_767.0) as i16;
        let check = |v: f32| assert_eq!(q14(v), reference(v), "v = {v:e} ({:#x})", v.to_bits());
        for v in [0.0, -0.0, f32::NAN, -f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            check(v);
        }
        for v in [f32::MIN_POSITIVE, 1e-40, -1e-40, 2.0, -2.0, 1.999_99, 3e38, -3e38] {
            check(v);
        }
        for k in -70_000..=70_000 {
            // Every tie k/2 · 2⁻¹⁴ and its neighbours, over [−2.1, 2.1].
            let t = k as f32 * (0.5 / 16_384.0);
            for v in
                [t, f32::from_bits(t.to_bits() + 1), f32::from_bits(t.to_bits().wrapping_sub(1))]
            {
                check(v);
            }
        }
        let mut bits = 1u32;
        while bits < u32::MAX / 3 {
            check(f32::from_bits(bits));
            check(f32::from_bits(bits | 0x8000_0000));
            bits = bits * 3 + 7;
        }
    }

    #[test]
    fn scaling_by_the_exponent_equals_the_product() {
        let mut n = 1i64;
        for v in [0i32, 1, -1, i32::MAX, i32::MIN, 65_536, -65_537] {
            assert_eq!(scaled(v as f32, 16).to_bits(), (v as f32 * (1.0 / 65_536.0)).to_bits());
        }
        while n < i64::from(i32::MAX) {
            for v in [n as i32, -(n as i32)] {
                assert_eq!(scaled(v as f32, 16), v as f32 * (1.0 / 65_536.0), "{v}");
            }
            n = n * 5 / 3 + 1;
        }
    }
}
