//! Single-precision activations for the f32 and f16 evaluators.
//!
//! The sine reduces its argument by multiples of π/2 with a three-part Cody–Waite constant
//! (exact products for |x| < 6,400) and evaluates degree-9 / degree-8 Taylor polynomials on
//! [−π/4, π/4] (truncation below 2e-9): about 2 ulp of [`libm::sinf`] at a fraction of its
//! cost on an FPU-less or single-precision core, where `sinf` computes in f64. Larger arguments
//! fall back to `libm::sinf`. Exponentials use `libm::expf`, which is pure f32.

use crate::Act;

const P1: f32 = 1.570_312_5;
const P2: f32 = 4.837_513e-4;
const P3: f32 = 7.549_79e-8;

/// Nearest multiple `k` of π/2 (as `x·2/π + 1.5·2²³`, whose low bits hold `k mod 4`) and the
/// remainder `x − k·π/2` in three exact steps.
#[inline(always)]
fn reduce(x: f32) -> (f32, u32) {
    const MAGIC: f32 = 12_582_912.0; // 1.5 · 2²³
    let y = x * core::f32::consts::FRAC_2_PI + MAGIC;
    let k = y - MAGIC;
    (((x - k * P1) - k * P2) - k * P3, y.to_bits())
}

#[inline(always)]
fn sin_poly(r: f32, r2: f32) -> f32 {
    r + r * r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362_880.0))))
}

#[inline(always)]
fn cos_poly(r2: f32) -> f32 {
    1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0 + r2 * (1.0 / 40_320.0))))
}

/// `sin x` (`shift` 0) or `cos x` (`shift` 1) by quadrant.
fn sin_quadrant(x: f32, shift: u32) -> f32 {
    if !in_range(x) {
        return if shift == 0 { libm::sinf(x) } else { libm::cosf(x) };
    }
    quadrant_unchecked(x, shift)
}

/// Whether `x` lies where the polynomial path is exact-reduction accurate (|x| ≤ 6,400, not
/// NaN); elsewhere [`sin`] and [`cos`] fall back to libm.
#[inline(always)]
fn in_range(x: f32) -> bool {
    x.abs() <= 6_400.0
}

/// The bits of a bound `L` on |z| below which `w·z` is [`in_range`] for sure: `L` is
/// 6,400/|w| less 2⁻²⁰ of it (a margin above the two roundings, 2⁻²³ together), capped at
/// `f32::MAX` so that an infinite `z` fails; a NaN `z` fails too (its bits exceed any finite
/// bound's), and a non-finite `w` gives 0, which nothing is below. Compared as integers: for
/// non-negative floats the bits order like the values. Where some `|z|` reaches it, the caller
/// takes the checked path, so the outputs never depend on the margin.
#[inline(always)]
fn range_bits(w: f32) -> u32 {
    if !w.is_finite() {
        return 0;
    }
    (6_400.0 / w.abs() * (1.0 - 1.0 / 1_048_576.0)).min(f32::MAX).to_bits()
}

/// [`sin_quadrant`] without the range check: for |x| ≤ 6,400 only.
#[inline(always)]
fn quadrant_unchecked(x: f32, shift: u32) -> f32 {
    let (r, q) = reduce(x);
    let r2 = r * r;
    match q.wrapping_add(shift) & 3 {
        0 => sin_poly(r, r2),
        1 => cos_poly(r2),
        2 => -sin_poly(r, r2),
        _ => -cos_poly(r2),
    }
}

/// Fast `sin x` in f32.
pub fn sin(x: f32) -> f32 {
    sin_quadrant(x, 0)
}

/// Fast `cos x` in f32.
pub fn cos(x: f32) -> f32 {
    sin_quadrant(x, 1)
}

/// Fast `(sin x, cos x)` in f32, sharing the argument reduction.
pub fn sin_cos(x: f32) -> (f32, f32) {
    if x.abs() > 6_400.0 || x.is_nan() {
        return (libm::sinf(x), libm::cosf(x));
    }
    sin_cos_lanes(x)
}

/// An activation with its parameters converted to f32 once per layer, for fast evaluation
/// (the evaluator) and fast evaluation with derivative (the trainer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FastAct {
    /// `z`.
    Identity,
    /// `max(z, 0)`.
    Relu,
    /// `tanh z`.
    Tanh,
    /// `1/(1 + e^{−z})`.
    Sigmoid,
    /// `sin(ω z)` with ω.
    Sine(f32),
    /// `exp(k z²)` with `k = −1/(2a²)`.
    Gaussian(f32),
    /// `sin z / z`.
    Sinc,
    /// `cos(ω z)·exp(k z²)` with ω and `k = −1/s²`.
    Wavelet(f32, f32),
}

impl FastAct {
    /// Prepares `act` (`None`: the identity).
    pub fn new(act: Option<Act>) -> Self {
        match act {
            None => FastAct::Identity,
            Some(Act::Relu) => FastAct::Relu,
            Some(Act::Tanh) => FastAct::Tanh,
            Some(Act::Sigmoid) => FastAct::Sigmoid,
            Some(Act::Sine { omega }) => FastAct::Sine(omega as f32),
            Some(Act::Gaussian { a }) => FastAct::Gaussian((-0.5 / (a * a)) as f32),
            Some(Act::Sinc) => FastAct::Sinc,
            Some(Act::Wavelet { omega, s }) => {
                FastAct::Wavelet(omega as f32, (-1.0 / (s * s)) as f32)
            }
        }
    }

    /// `z ← f(z)` over a layer's pre-activations, equal to [`FastAct::eval`] of each. The
    /// sine checks the range of the whole layer first (one integer comparison per value,
    /// against a bound derived from ω), then runs a loop without the check (or, when any
    /// value may be out of range, [`FastAct::eval`] of each).
    pub fn eval_layer(self, z: &mut [f32]) {
        match self {
            // The largest magnitude's bits, without an early exit (fewer instructions per value).
            FastAct::Sine(w)
                if z.iter().fold(0, |m, z| m.max(z.to_bits() & 0x7FFF_FFFF)) < range_bits(w) =>
            {
                z.iter_mut().for_each(|z| *z = quadrant_unchecked(w * *z, 0));
            }
            _ => z.iter_mut().for_each(|z| *z = self.eval(*z)),
        }
    }

    /// `f(z)`.
    #[inline]
    pub fn eval(self, z: f32) -> f32 {
        match self {
            FastAct::Identity => z,
            FastAct::Relu => z.max(0.0),
            FastAct::Tanh => libm::tanhf(z),
            FastAct::Sigmoid => 1.0 / (1.0 + libm::expf(-z)),
            FastAct::Sine(w) => sin(w * z),
            FastAct::Gaussian(k) => libm::expf(k * z * z),
            FastAct::Sinc => {
                if z.abs() < 1e-2 {
                    1.0 - z * z / 6.0
                } else {
                    sin(z) / z
                }
            }
            FastAct::Wavelet(w, k) => cos(w * z) * libm::expf(k * z * z),
        }
    }
}

/// Branch-free `(sin x, cos x)`: the quadrant is selected by bit operations, so loops over
/// it vectorise. Valid for |x| < 6,400 (the callers' fallback covers the rest; the trainer's
/// slice loops use it unguarded, where pre-activations are far smaller).
#[inline(always)]
fn sin_cos_lanes(x: f32) -> (f32, f32) {
    let (r, q) = reduce(x);
    let r2 = r * r;
    let (s, c) = (sin_poly(r, r2), cos_poly(r2));
    let odd = q & 1 != 0;
    let (s, c) = (if odd { c } else { s }, if odd { s } else { c });
    (
        f32::from_bits(s.to_bits() ^ ((q & 2) << 30)),
        f32::from_bits(c.to_bits() ^ ((q.wrapping_add(1) & 2) << 30)),
    )
}

impl FastAct {
    /// `z ← f(z)` over a slice (vectorised for sine).
    pub fn apply(self, z: &mut [f32]) {
        match self {
            FastAct::Sine(w) => z.iter_mut().for_each(|z| *z = sin_cos_lanes(w * *z).0),
            _ => z.iter_mut().for_each(|z| *z = self.eval(*z)),
        }
    }

    /// `z ← f(z)`, `d ← f'(z)` over slices of equal length (vectorised for sine).
    pub fn apply_with_derivative(self, z: &mut [f32], d: &mut [f32]) {
        match self {
            FastAct::Sine(w) => z.iter_mut().zip(d).for_each(|(z, d)| {
                let (s, c) = sin_cos_lanes(w * *z);
                (*z, *d) = (s, w * c);
            }),
            _ => z.iter_mut().zip(d).for_each(|(z, d)| (*z, *d) = self.eval_with_derivative(*z)),
        }
    }

    /// `(f(z), f'(z))`.
    #[inline]
    pub fn eval_with_derivative(self, z: f32) -> (f32, f32) {
        match self {
            FastAct::Identity => (z, 1.0),
            FastAct::Relu => {
                if z > 0.0 {
                    (z, 1.0)
                } else {
                    (0.0, 0.0)
                }
            }
            FastAct::Tanh => {
                let t = libm::tanhf(z);
                (t, 1.0 - t * t)
            }
            FastAct::Sigmoid => {
                let s = 1.0 / (1.0 + libm::expf(-z));
                (s, s * (1.0 - s))
            }
            FastAct::Sine(w) => {
                let (s, c) = sin_cos(w * z);
                (s, w * c)
            }
            FastAct::Gaussian(k) => {
                let g = libm::expf(k * z * z);
                (g, 2.0 * k * z * g)
            }
            FastAct::Sinc => {
                if z.abs() < 1e-2 {
                    let z2 = z * z;
                    (1.0 - z2 / 6.0, z * (-1.0 / 3.0 + z2 / 30.0))
                } else {
                    let (s, c) = sin_cos(z);
                    (s / z, (z * c - s) / (z * z))
                }
            }
            FastAct::Wavelet(w, k) => {
                let (s, c) = sin_cos(w * z);
                let g = libm::expf(k * z * z);
                (c * g, (-w * s + 2.0 * k * z * c) * g)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FastAct;
    use crate::{Act, Activation};

    #[test]
    fn derivatives_match_the_f64_activations() {
        for act in Act::ALL {
            let fast = FastAct::new(Some(act));
            for k in -400..=400 {
                let z = act.scale() as f32 * (k as f32 * 0.0371 + 0.001);
                let (f, d) = fast.eval_with_derivative(z);
                let (ef, ed) = (act.f(f64::from(z)), act.df(f64::from(z)));
                let mag = 1.0 / act.scale();
                assert!(
                    (f64::from(f) - ef).abs() < 2e-6 * (1.0 + ef.abs()),
                    "{act} f({z}): {f} vs {ef}"
                );
                assert!(
                    (f64::from(d) - ed).abs() < 2e-5 * (mag + ed.abs()),
                    "{act} f'({z}): {d} vs {ed}"
                );
                assert_eq!(f, fast.eval(z), "{act}: eval and eval_with_derivative disagree at {z}");
            }
        }
    }

    #[test]
    fn sine_and_cosine_track_f64() {
        let mut worst = 0.0f64;
        for i in -200_000..=200_000 {
            let x = i as f32 * 0.031_7;
            let (s, c) = (f64::from(super::sin(x)), f64::from(super::cos(x)));
            worst = worst
                .max((s - libm::sin(f64::from(x))).abs())
                .max((c - libm::cos(f64::from(x))).abs());
        }
        assert!(worst < 3e-7, "max error {worst:e} over |x| ≤ 6,340");
    }

    #[test]
    fn a_layer_at_once_equals_each_value() {
        let edges = [0.0, -0.0, 1e-30, 213.3, -213.3, 213.34, 6_400.0, f32::INFINITY, f32::NAN];
        for omega in [30.0f32, 1.0, 0.0, 1e-3, -7.5, f32::INFINITY, f32::NAN] {
            let act = FastAct::Sine(omega);
            for scale in [1e-3f32, 0.1, 1.0, 30.0, 213.0, 6_400.0, 1e6] {
                let mut z = [0f32; 64];
                for (k, z) in z.iter_mut().enumerate() {
                    *z = scale * (k as f32 * 0.731 - 23.0).sin();
                }
                for edge in edges {
                    z[63] = edge;
                    let mut layer = z;
                    act.eval_layer(&mut layer);
                    for (&v, &y) in z.iter().zip(&layer) {
                        let want = act.eval(v);
                        assert!(
                            y.to_bits() == want.to_bits() || (y.is_nan() && want.is_nan()),
                            "ω {omega} z {v}: {y} vs {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_form_agrees() {
        for i in -200_000..=200_000 {
            let x = i as f32 * 0.031_7;
            let (s, c) = super::sin_cos(x);
            assert_eq!((s, c), (super::sin(x), super::cos(x)), "x = {x}");
        }
    }
}
