//! The activations as the integer evaluators compute them: tables with linear interpolation
//! (built by `build.rs` from their formulas): a full-wave sine of 1,024 segments indexed by
//! the top bits of a wrapping u32 phase,
//! `exp(−u²/2)`, `tanh` and `sin u/u` on steps of 1/64. Their error is below one Q1.14 step
//! (6.1e-5) except `sinc` (≤ 1e-5 interpolation, plus rounding). No floating point is used in
//! [`FixedAct::eval`]. Arguments: turns as a wrapping u32 for sine, `z/a` in Q16.16 for the
//! Gaussian, `z` in Q16.16 otherwise.

include!(concat!(env!("OUT_DIR"), "/tables.rs"));

use super::Requant;
use crate::Act;
use core::f64::consts::TAU;

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
    /// `out_frac` (Q1.14 for the bounded activations, Q3.12 for relu and the identity) fractional bits.
    pub fn eval(self, arg: i64) -> i16 {
        match self {
            FixedAct::Sine => sine_turns(arg as u32),
            _ => self.eval_q16(arg.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32),
        }
    }

    /// [`FixedAct::eval`] of an argument that fits 32 bits: the sine's turns as the u32's
    /// bits, the other activations' Q16.16 values.
    #[inline]
    pub(crate) fn eval_q16(self, q16: i32) -> i16 {
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

/// `sin(2π·θ/2³²)` in Q1.14 from the full-wave table: the top 10 bits of the phase pick the
/// segment (always in range: no bounds check, no quadrant logic), the next 16 interpolate.
///
/// ```
/// use vi3nr_core::eval::parts::sine_q14;
/// assert_eq!(sine_q14(0), 0);
/// assert_eq!(sine_q14(1 << 30), 16_384); // a quarter turn
/// assert_eq!(sine_q14(3 << 30), -16_384);
/// ```
#[inline(always)]
pub fn sine_turns(theta: u32) -> i16 {
    let i = (theta >> 22) as usize;
    let f = ((theta >> 6) & 0xFFFF) as i32;
    let (a, b) = (i32::from(SINE[i]), i32::from(SINE[i + 1]));
    (a + (((b - a) * f) >> 16)) as i16
}
