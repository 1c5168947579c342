//! Fixed-point arithmetic of the q15 and i8 evaluators, and the activations as they compute them.
//!
//! Conventions (also in FORMAT.md):
//! - layer inputs are i16: coordinates and bounded activations in Q1.14, relu and identity
//!   outputs in Q3.12 ([`out_frac`]);
//! - a layer rounds its inputs to steps of `2^p` ([`input_shift`], from the inputs' bound
//!   [`in_bits`]), sums the products of each [`CHUNK`] of them exactly in i32 and adds each chunk
//!   sum shifted by `s − p`, `s` = [`acc_shift`] (⌈log₂ fan_in⌉ for q15), so no input can make
//!   the accumulator overflow and it keeps the units of a product sum shifted by `s`; biases
//!   are stored in those units and bounded by [`BIAS_LIMIT`];
//! - a [`Requant`] (an i32 multiplier and a right shift, derived once from the layer's weight
//!   scale), applied by the evaluator in 32-bit arithmetic as a [`Rescale`], maps the
//!   accumulator to the activation's argument: turns as a wrapping u32 for sine,
//!   `z/a` in Q16.16 for the Gaussian, `z` in Q16.16 otherwise;
//! - activations are tables with linear interpolation (built by `build.rs` from their formulas):
//!   a quarter-wave sine of 256 segments, `exp(−u²/2)`, `tanh` and `sin u/u` on steps of 1/64.
//!   Their error is below one Q1.14 step (6.1e-5) except `sinc` (≤ 1e-5 interpolation, plus
//!   rounding). No floating point is used in [`FixedAct::eval`].
//!
//! [`Fixed`] wraps an activation as the function the device computes of a real pre-activation,
//! so the statistics and the σ_p solver can be run on what the device really evaluates.

include!(concat!(env!("OUT_DIR"), "/tables.rs"));

use crate::model::NumberFormat;
use crate::{Act, Activation};
use core::f64::consts::TAU;

/// Fractional bits of the coordinates fed to the first layer (Q1.14: inputs in [−2, 2)).
pub const INPUT_FRAC: u32 = 14;
/// Largest magnitude of a stored bias (accumulator units).
pub const BIAS_LIMIT: u32 = 1 << 30;

/// Fractional bits of a layer's i16 outputs: 12 (Q3.12) for relu and the identity, 14 (Q1.14)
/// for the bounded activations.
pub fn out_frac(act: Option<Act>) -> u32 {
    match act {
        None | Some(Act::Relu) => 12,
        Some(_) => 14,
    }
}

/// `s`: the accumulator holds product sums shifted right by `s` (see [`input_shift`]), so that
/// `fan_in` products fit an i32 with the bias.
pub fn acc_shift(format: NumberFormat, fan_in: usize) -> u32 {
    let log2 = usize::BITS - fan_in.saturating_sub(1).leading_zeros();
    match format {
        NumberFormat::I8 => log2.saturating_sub(8),
        _ => log2,
    }
}

/// Bits of the largest magnitude of a layer's i16 inputs: `|x| ≤ 2^bits`. 14 for the outputs of
/// the bounded activations (Q1.14 values of magnitude ≤ 1) and for Fourier features, 15 for raw
/// coordinates (Q1.14 in [−2, 2)) and for relu and identity outputs (Q3.12).
pub fn in_bits(prev: Option<Option<Act>>, fourier: bool) -> u32 {
    match prev {
        None if fourier => 14,
        None => 15,
        Some(act) if out_frac(act) == 14 => 14,
        Some(_) => 15,
    }
}

/// Consecutive products a layer sums exactly in i32 before shifting the sum (one chunk for
/// layers up to 32 wide).
pub const CHUNK: usize = 32;

/// Right shift `p` (rounding) applied to a layer's inputs before its products, so that a sum
/// of [`CHUNK`] products of unshifted weights (`|q_w| < 2¹⁵` for q15, `< 2⁷` for i8) and
/// inputs `|x| ≤ 2^bits` ([`in_bits`]) stays below 2³¹: `max(0, c + bits + 15 − 31)` for q15
/// (`+ 7` for i8: always 0 for `bits ≤ 15`), `c = ⌈log₂ min(fan_in, CHUNK)⌉`. Below
/// [`acc_shift`] `s`; each chunk's sum is shifted right by `s − p` before it is added, which
/// keeps the accumulator in the units of [`acc_shift`] and within ±2³⁰ with the bias.
pub fn input_shift(format: NumberFormat, fan_in: usize, bits: u32) -> u32 {
    let log2 = usize::BITS - fan_in.min(CHUNK).saturating_sub(1).leading_zeros();
    let w_bits = if format == NumberFormat::I8 { 7 } else { 15 };
    (log2 + bits + w_bits).saturating_sub(31).min(acc_shift(format, fan_in))
}

/// Activation-argument units per unit of real pre-activation.
pub fn arg_units(act: Option<Act>) -> f64 {
    match act {
        Some(Act::Sine { omega }) => omega / TAU * 4_294_967_296.0,
        Some(Act::Gaussian { a }) => 65_536.0 / a,
        _ => 65_536.0,
    }
}

/// Argument units per accumulator unit for a layer with weight scale `scale`, product shift
/// `shift` and inputs with `in_frac` fractional bits.
pub fn arg_scale(act: Option<Act>, scale: f64, shift: u32, in_frac: u32) -> f64 {
    libm::ldexp(scale, shift as i32 - in_frac as i32) * arg_units(act)
}

/// An i8 layer's argument units per accumulator unit per unit of row scale, in f32: a row
/// with scale `s` maps its accumulator by [`Requant::from_f32`]`(s · row_unit(…))`, one f32
/// product per row and point (the f32 product rounds the same way on every target).
pub fn row_unit(act: Option<Act>, shift: u32, in_frac: u32) -> f32 {
    arg_scale(act, 1.0, shift, in_frac) as f32
}

/// Multiplication by a positive real `k ≈ mult · 2^−shift` in integer arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requant {
    mult: i32,
    shift: u32,
}

impl Requant {
    /// The nearest representation of `k` (relative error below 2⁻³⁰); `None` when `k` is not
    /// finite and positive or lies outside `[2⁻³², 2³¹)`.
    pub fn new(k: f64) -> Option<Self> {
        if !(k.is_finite() && k > 0.0) {
            return None;
        }
        let (m, e) = libm::frexp(k); // k = m · 2^e, m ∈ [0.5, 1)
        let (mut mult, mut e) = (libm::round(m * 2_147_483_648.0), e);
        if mult >= 2_147_483_648.0 {
            mult = 1_073_741_824.0;
            e += 1;
        }
        let shift = 31 - e;
        if !(0..=62).contains(&shift) {
            return None;
        }
        Some(Requant { mult: mult as i32, shift: shift as u32 })
    }

    /// The exact representation of an f32 `k` by bit operations alone (no floating point:
    /// cheap on an FPU-less core), equal to `Requant::new(f64::from(k))`; `None` under the same
    /// conditions.
    #[inline]
    pub fn from_f32(k: f32) -> Option<Self> {
        let bits = k.to_bits();
        let exp = (bits >> 23) & 0xFF;
        if bits >> 31 != 0 || exp == 0 || exp == 0xFF {
            return None; // negative, zero, subnormal (far below 2⁻³²), infinite or NaN
        }
        // k = (2²³ + m) · 2^(exp − 150) = mult · 2^−(157 − exp) with mult ∈ [2³⁰, 2³¹).
        let mult = (((bits & 0x7F_FFFF) | 0x80_0000) << 7) as i32;
        let shift = 157u32.checked_sub(exp).filter(|s| *s <= 62)?;
        Some(Requant { mult, shift })
    }

    /// `acc · k`, rounded towards −∞.
    pub fn apply(self, acc: i32) -> i64 {
        (i64::from(acc) * i64::from(self.mult)) >> self.shift
    }

    /// The same `k` in the evaluator's 32-bit form ([`Rescale`]).
    pub fn rescale(self) -> Rescale {
        // k = mult · 2^−shift = f · 2^(e − 32) with f = 2·mult ∈ [2³¹, 2³²), e = 31 − shift.
        let f = (self.mult as u32) << 1;
        let e = 31 - self.shift as i32;
        let (int, frac, right) = if e >= 0 {
            let int = if e == 0 { 0 } else { f >> (32 - e) };
            (int, f.wrapping_shl(e as u32), 0)
        } else {
            (0, f, (-e) as u32)
        };
        let limit = (i32::MAX as u32).checked_div(int).unwrap_or(u32::MAX);
        Rescale { int, frac, right, limit }
    }
}

/// `k = int + frac · 2⁻³²`, then a right shift: the multiplier of a [`Requant`] split so that
/// the evaluator applies it with three or four 32-bit multiplies and no 64-bit arithmetic (the
/// Cortex-M0 has neither a long multiply nor 64-bit shifts). The fractional product
/// `acc · frac · 2⁻³²` is taken from 16-bit halves, dropping the low×low term and flooring each
/// of the other two: it lies between the exact value and 3 below it, and the result is the
/// same on every target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rescale {
    int: u32,
    frac: u32,
    right: u32,
    /// Largest `|acc|` whose product with `int` fits an i32 (saturation of [`Rescale::q16`]).
    limit: u32,
}

impl Rescale {
    /// `⌊acc · frac · 2⁻³²⌋`, within 3 below (see the type's docs).
    #[inline(always)]
    fn frac_product(self, acc: i32) -> i32 {
        let (ah, al) = (acc >> 16, acc as u32 & 0xFFFF);
        let (fh, fl) = (self.frac >> 16, self.frac & 0xFFFF);
        // |ah| ≤ 2¹⁵ and fh, fl < 2¹⁶: every product fits its type.
        let high = ah.wrapping_mul(fh as i32);
        let mid = (ah.wrapping_mul(fl as i32) >> 16).wrapping_add(((al * fh) >> 16) as i32);
        high.wrapping_add(mid)
    }

    /// `acc · k` as a wrapping u32 (the sine's turns).
    #[inline(always)]
    pub fn turns(self, acc: i32) -> u32 {
        let v = acc.wrapping_mul(self.int as i32).wrapping_add(self.frac_product(acc));
        (v >> self.right) as u32
    }

    /// `acc · k` saturated to i32 (a Q16.16 argument).
    #[inline(always)]
    pub fn q16(self, acc: i32) -> i32 {
        if acc.unsigned_abs() > self.limit {
            return if acc < 0 { i32::MIN } else { i32::MAX };
        }
        // |acc · int| ≤ i32::MAX; the fractional part adds less than |acc|, so only the sum
        // can leave the range: saturate it.
        let v = (acc * self.int as i32).saturating_add(self.frac_product(acc));
        v >> self.right
    }
}

/// An activation prepared for integer evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixedAct {
    /// No activation: Q16.16 argument to Q3.12.
    Identity,
    /// `max(z, 0)` in Q3.12.
    Relu,
    /// tanh.
    Tanh,
    /// `(1 + tanh(z/2))/2`.
    Sigmoid,
    /// Argument in turns (u32, wrapping).
    Sine,
    /// Argument `z/a` in Q16.16.
    Gaussian,
    /// `sin z / z`: table below |z| = 32, sine table and a division above.
    Sinc,
    /// `cos(ωz)·exp(−(z/s)²)` from `z` in Q16.16.
    Wavelet {
        /// Q16.16 `z` → turns of `ωz`.
        turns: Requant,
        /// Q16.16 `z` → Q16.16 `√2·z/s`.
        gauss: Requant,
    },
}

impl FixedAct {
    /// Prepares `act`; `None` when a wavelet's constants are out of range.
    pub fn new(act: Option<Act>) -> Option<Self> {
        Some(match act {
            None => FixedAct::Identity,
            Some(Act::Relu) => FixedAct::Relu,
            Some(Act::Tanh) => FixedAct::Tanh,
            Some(Act::Sigmoid) => FixedAct::Sigmoid,
            Some(Act::Sine { .. }) => FixedAct::Sine,
            Some(Act::Gaussian { .. }) => FixedAct::Gaussian,
            Some(Act::Sinc) => FixedAct::Sinc,
            Some(Act::Wavelet { omega, s }) => FixedAct::Wavelet {
                turns: Requant::new(omega / TAU * 65_536.0)?,
                gauss: Requant::new(core::f64::consts::SQRT_2 / s)?,
            },
        })
    }

    /// The activation of argument `arg` (see the module docs for its units), as i16 with
    /// [`out_frac`] fractional bits.
    pub fn eval(self, arg: i64) -> i16 {
        match self {
            FixedAct::Sine => sine_turns(arg as u32),
            _ => self.eval_q16(arg.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32),
        }
    }

    /// [`FixedAct::eval`] of an argument that fits 32 bits: the sine's turns as the u32's
    /// bits, the other activations' Q16.16 values.
    #[inline]
    pub fn eval_q16(self, q16: i32) -> i16 {
        let mag = q16.unsigned_abs();
        // Table positions (Q.16 indices) of `mag` scaled by 2^k, k ≤ 6, capped beyond the
        // longest table (2,049 entries) so that they fit a u32.
        let at = |k: u32| mag.min(1 << 25) << k;
        let signed = |v: i16| if q16 < 0 { -v } else { v };
        match self {
            FixedAct::Identity => saturate(i64::from(q16 >> 4)),
            FixedAct::Relu => saturate(i64::from(q16.max(0) >> 4)),
            FixedAct::Tanh => signed(interp(&TANH, at(6))),
            FixedAct::Sigmoid => {
                let t = i32::from(interp(&TANH, at(5)));
                let t = if q16 < 0 { -t } else { t };
                ((16_384 + t) >> 1) as i16
            }
            FixedAct::Sine => sine_turns(q16 as u32),
            FixedAct::Gaussian => interp(&GAUSS, at(6)),
            FixedAct::Sinc => {
                if mag < 32 << 16 {
                    interp(&SINC, at(6))
                } else {
                    // 2³²/2π turns per radian, applied to Q16.16 radians.
                    let turns = ((mag as i64 * 683_565_276) >> 16) as u32;
                    saturate((i64::from(sine_turns(turns)) << 16) / mag as i64)
                }
            }
            FixedAct::Wavelet { turns, gauss } => {
                let z = q16;
                let c = sine_turns((turns.apply(z) as u32).wrapping_add(1 << 30));
                // Capped: beyond |u| = 2²⁵ (index 512) the Gaussian is 0 anyway.
                let u = gauss.apply(z).unsigned_abs().min(1 << 25) as u32;
                let g = interp(&GAUSS, u << 6);
                ((i32::from(c) * i32::from(g)) >> 14) as i16
            }
        }
    }
}

fn saturate(v: i64) -> i16 {
    v.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16
}

/// Linear interpolation in `table` at `pos`, a Q.16 index; the last entry beyond the end.
#[inline(always)]
fn interp(table: &[i16], pos: u32) -> i16 {
    let i = (pos >> 16) as usize;
    match (table.get(i), table.get(i + 1)) {
        (Some(&a), Some(&b)) => {
            let f = (pos & 0xFFFF) as i32;
            (i32::from(a) + (((i32::from(b) - i32::from(a)) * f) >> 16)) as i16
        }
        _ => table.last().copied().unwrap_or(0),
    }
}

/// `sin(2π·θ/2³²)` in Q1.14 from the quarter-wave table.
#[inline]
pub fn sine_turns(theta: u32) -> i16 {
    let quadrant = theta >> 30;
    let x = theta & 0x3FFF_FFFF;
    let x = if quadrant & 1 == 1 { (1 << 30) - x } else { x };
    let v = interp(&SINE, x >> 6);
    if quadrant >= 2 { -v } else { v }
}

/// An activation as the fixed-point evaluator computes it: the same quantised tables with the
/// same linear interpolation, as a function of the real pre-activation, so that the statistics
/// and the σ_p solver can run on what the device evaluates. Two roundings of the device are
/// left out because they are far below the tables' own error and would turn `f` into a
/// staircase no quadrature can resolve: the argument's (2⁻¹⁶ or 2⁻³² turn steps) and the
/// output's (a zero-mean error of variance 2⁻²⁸/12 in Q1.14). `f'` is the exact slope of the
/// interpolated segment.
///
/// ```
/// use vi3nr_core::{Act, fixed::Fixed, stats};
/// let exact = stats::moments(&Act::Sine { omega: 30.0 }, 1.0 / 30.0)?;
/// let device = stats::quadrature_with(&Fixed(Act::Sine { omega: 30.0 }), 1.0 / 30.0, 1e-9)?;
/// assert!((device.moments.f2 / exact.f2 - 1.0).abs() < 1e-4);
/// # Ok::<(), vi3nr_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fixed(pub Act);

/// `(value, slope per index step)` of the Q1.14 table at a real index, as reals.
fn interp_real(table: &[i16], pos: f64) -> (f64, f64) {
    let last = table.len() - 1;
    if pos.is_nan() || pos >= last as f64 {
        return (f64::from(table[last]) / 16_384.0, 0.0);
    }
    let i = pos as usize;
    let (a, b) = (f64::from(table[i]), f64::from(table[i + 1]));
    let slope = (b - a) / 16_384.0;
    (a / 16_384.0 + slope * (pos - i as f64), slope)
}

/// `(sin 2πt, d/dt)` from the quarter-wave table, `t` in turns.
fn sine_real(t: f64) -> (f64, f64) {
    let t = t - libm::floor(t);
    let quadrant = (t * 4.0) as u32 & 3;
    let x = t * 4.0 - f64::from(quadrant); // position in the quadrant, [0, 1)
    let (pos, dir) = if quadrant & 1 == 1 { (256.0 * (1.0 - x), -1.0) } else { (256.0 * x, 1.0) };
    let (v, slope) = interp_real(&SINE, pos);
    let sign = if quadrant >= 2 { -1.0 } else { 1.0 };
    (sign * v, sign * dir * slope * 1024.0)
}

impl Fixed {
    /// `(f(z), f'(z))`.
    fn eval(&self, z: f64) -> (f64, f64) {
        let sign = if z < 0.0 { -1.0 } else { 1.0 };
        let m = z.abs();
        match self.0 {
            Act::Relu => {
                // Q3.12 saturates just below 8.
                let top = 32_767.0 / 4_096.0;
                (z.clamp(0.0, top), if z > 0.0 && z < top { 1.0 } else { 0.0 })
            }
            Act::Tanh => {
                let (v, s) = interp_real(&TANH, m * 64.0);
                (sign * v, s * 64.0)
            }
            Act::Sigmoid => {
                let (v, s) = interp_real(&TANH, m * 32.0);
                (0.5 * (1.0 + sign * v), 16.0 * s)
            }
            Act::Sine { omega } => {
                let (v, s) = sine_real(omega * z / TAU);
                (v, s * omega / TAU)
            }
            Act::Gaussian { a } => {
                let (v, s) = interp_real(&GAUSS, m / a * 64.0);
                (v, sign * s * 64.0 / a)
            }
            Act::Sinc => {
                if m < 32.0 {
                    let (v, s) = interp_real(&SINC, m * 64.0);
                    (v, sign * s * 64.0)
                } else {
                    let (sn, ds) = sine_real(m / TAU);
                    (sn / m, sign * (ds / TAU * m - sn) / (m * m))
                }
            }
            Act::Wavelet { omega, s } => {
                let (c, dc) = sine_real(omega * z / TAU + 0.25);
                let k = core::f64::consts::SQRT_2 / s;
                let (g, dg) = interp_real(&GAUSS, m * k * 64.0);
                (c * g, dc * omega / TAU * g + c * sign * dg * k * 64.0)
            }
        }
    }
}

impl Activation for Fixed {
    fn f(&self, z: f64) -> f64 {
        self.eval(z).0
    }

    fn df(&self, z: f64) -> f64 {
        self.eval(z).1
    }

    fn f_df(&self, z: f64) -> (f64, f64) {
        self.eval(z)
    }

    fn scale(&self) -> f64 {
        self.0.scale()
    }

    fn default_sigma_p(&self) -> f64 {
        self.0.default_sigma_p()
    }
}
