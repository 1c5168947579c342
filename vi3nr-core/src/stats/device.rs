//! The activations as the fixed-point evaluator computes them, as real functions.
//!
//! [`Fixed`] evaluates the device's quantised tables with the same linear interpolation at a
//! real pre-activation, so that the statistics and the σ_p solver run on what the device
//! evaluates (see `eval`'s fixed-point path for the integer side).

use crate::eval::fixed::table::{GAUSS, SINC, SINE, TANH};
use crate::{Act, Activation};
use core::f64::consts::TAU;

/// An activation as the fixed-point evaluator computes it: the same quantised tables with the
/// same linear interpolation, as a function of the real pre-activation, so that the statistics
/// and the σ_p solver can run on what the device evaluates. Two roundings of the device are
/// left out because they are far below the tables' own error and would turn `f` into a
/// staircase no quadrature can resolve: the argument's (2⁻¹⁶ or 2⁻³² turn steps) and the
/// output's (a zero-mean error of variance 2⁻²⁸/12 in Q1.14). `f'` is the exact slope of the
/// interpolated segment.
///
/// ```
/// use vi3nr_core::{Act, stats::{self, Fixed}};
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

/// `(sin 2πt, d/dt)` from the full-wave table, `t` in turns.
fn sine_real(t: f64) -> (f64, f64) {
    let t = t - libm::floor(t);
    let (v, slope) = interp_real(&SINE, 1024.0 * t);
    (v, slope * 1024.0)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::fixed::FixedAct;
    use crate::eval::fixed::qformat::{arg_units, out_frac};

    /// The device's integer result at a real pre-activation `z`.
    fn device(act: Act, z: f64) -> f64 {
        let raw = libm::floor(z * arg_units(Some(act)));
        let arg = match act {
            Act::Sine { .. } => (raw - libm::floor(raw / 4_294_967_296.0) * 4_294_967_296.0) as i64,
            _ => raw as i64,
        };
        let v = FixedAct::new(Some(act)).unwrap().eval(arg);
        f64::from(v) / f64::from(1u32 << out_frac(Some(act)))
    }

    #[test]
    fn statistics_model_matches_the_integer_evaluator() {
        // Within the roundings the model leaves out (argument and output) and one table step's
        // worth of interpolation rounding.
        for act in Act::ALL {
            let s = act.scale();
            for k in -3000..=3000 {
                let z = s * f64::from(k) * 0.0137 + 1e-7;
                let (d, m) = (device(act, z), Fixed(act).f(z));
                let tol = 3.0 / 16_384.0
                    + Fixed(act).df(z).abs() / arg_units(Some(act))
                    + if act == Act::Relu { 1.0 / 4096.0 } else { 0.0 };
                assert!((d - m).abs() <= tol, "{act} z={z}: device {d}, model {m}");
            }
        }
    }
}
