//! Solving `cond(σ_p) = 1`.
//!
//! `h(σ) = cond(σ) − 1` is sampled on a logarithmic grid (default 1e-4·s … 1e4·s, four
//! points per decade, `s` = [`Activation::scale`]). Values with `|h| ≤ 1e-12` carry no
//! sign (at that level `h` is rounding noise: tanh has `h = O(σ⁴)` near 0). The first sign
//! change brackets a root, which Brent's method then locates to `rel_tol` in σ. Without a
//! sign change the answer is [`Solution::NoRoot`], with where `|h|` is smallest and whether
//! that is a limit (σ → 0 or ∞) or an interior point; when `|h|` is noise everywhere the
//! answer is [`Solution::Any`] (relu with equal widths: `cond ≡ 1`).
//!
//! [`solve_grid`] is the paper's reference method (σ on 0.001…10 in steps of 0.001, argmin
//! `|cond − 1|`), kept to compare with its code.

use super::condition;
use crate::error::positive;
use crate::{Activation, Error};

/// `|cond − 1|` at or below this is treated as zero.
const NOISE: f64 = 1e-12;

/// Where the solver looks and how exactly it locates a root.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolveOptions {
    /// Smallest σ_p searched, as a multiple of the activation's scale.
    pub lo: f64,
    /// Largest σ_p searched, as a multiple of the activation's scale.
    pub hi: f64,
    /// Grid points per decade of σ_p.
    pub per_decade: u32,
    /// Relative accuracy of a root in σ_p.
    pub rel_tol: f64,
}

impl Default for SolveOptions {
    fn default() -> Self {
        SolveOptions { lo: 1e-4, hi: 1e4, per_decade: 4, rel_tol: 1e-10 }
    }
}

/// Where `cond` comes closest to 1 when it never crosses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// At the small end of the range: `cond → 1` only as σ_p → 0 (sine, tanh).
    Zero,
    /// At the large end of the range: `cond → 1` only as σ_p → ∞.
    Infinity,
    /// At an interior point of the range.
    Interior,
}

/// What is true of `cond(σ_p) = 1` for an activation and width ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Solution {
    /// A root: `cond(sigma_p) = 1`.
    Root {
        /// The smallest root in the range.
        sigma_p: f64,
        /// Number of sign changes of `cond − 1` seen on the grid (1 for a single root).
        roots: u32,
    },
    /// `cond − 1` has one sign over the whole range.
    NoRoot {
        /// The grid point where `|cond − 1|` is smallest.
        closest_sigma_p: f64,
        /// `cond` there (above 1 means `cond > 1` everywhere).
        closest_condition: f64,
        /// Whether the closest point is a limit of the range or interior.
        limit: Limit,
    },
    /// `cond ≡ 1` within rounding on the whole range: every σ_p satisfies both conditions.
    Any,
}

/// The result of the reference grid method.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridSolution {
    /// The grid σ_p with the smallest `|cond − 1|`.
    pub sigma_p: f64,
    /// `cond` at that σ_p.
    pub condition: f64,
}

/// Solves `cond(σ_p) = 1` for `ratio = fan_out / fan_in`.
///
/// ```
/// use vi3nr_core::{Act, init::{solve_sigma_p, Limit, Solution, SolveOptions}};
/// let sine = solve_sigma_p(&Act::Sine { omega: 30.0 }, 1.0, &SolveOptions::default())?;
/// assert!(matches!(sine, Solution::NoRoot { limit: Limit::Zero, .. }));
/// let relu = solve_sigma_p(&Act::Relu, 1.0, &SolveOptions::default())?;
/// assert_eq!(relu, Solution::Any);
/// # Ok::<(), vi3nr_core::Error>(())
/// ```
pub fn solve_sigma_p<A: Activation + ?Sized>(
    act: &A,
    ratio: f64,
    opts: &SolveOptions,
) -> Result<Solution, Error> {
    positive(ratio, "fan_out/fan_in")?;
    let scale = positive(act.scale(), "activation scale")?;
    let lo = positive(opts.lo, "search range low")? * scale;
    let hi = positive(opts.hi, "search range high")? * scale;
    let rel_tol = positive(opts.rel_tol, "tolerance")?.max(1e-15);
    if hi <= lo || opts.per_decade == 0 {
        return Err(Error::NotPositive("search range"));
    }
    let decades = libm::log10(hi / lo);
    let steps = libm::ceil(decades * f64::from(opts.per_decade)).clamp(1.0, 10_000.0) as u32;
    let h = |s: f64| condition(act, s, ratio).map(|c| c - 1.0);
    let at = |i: u32| lo * libm::pow(hi / lo, f64::from(i) / f64::from(steps));

    let mut roots = 0u32;
    let mut bracket = None;
    let mut last_signed: Option<(f64, f64)> = None;
    let (mut best_i, mut best_h) = (0u32, f64::INFINITY);
    let (mut min_h, mut max_h) = (f64::INFINITY, f64::NEG_INFINITY);
    for i in 0..=steps {
        let s = at(i);
        let v = h(s)?;
        if v.abs() < best_h.abs() {
            (best_i, best_h) = (i, v);
        }
        min_h = min_h.min(v);
        max_h = max_h.max(v);
        if v.abs() <= NOISE {
            continue;
        }
        if let Some((ps, pv)) = last_signed
            && (pv > 0.0) != (v > 0.0)
        {
            roots += 1;
            bracket.get_or_insert((ps, pv, s, v));
        }
        last_signed = Some((s, v));
    }
    if let Some((a, fa, b, fb)) = bracket {
        let sigma_p = brent(h, a, fa, b, fb, rel_tol)?;
        return Ok(Solution::Root { sigma_p, roots });
    }
    if max_h.abs() <= NOISE && min_h.abs() <= NOISE {
        return Ok(Solution::Any);
    }
    let limit = if max_h - min_h <= NOISE {
        Limit::Interior
    } else if best_i == 0 {
        Limit::Zero
    } else if best_i == steps {
        Limit::Infinity
    } else {
        Limit::Interior
    };
    Ok(Solution::NoRoot { closest_sigma_p: at(best_i), closest_condition: best_h + 1.0, limit })
}

/// Brent's method on a bracket `[a, b]` with `h(a)·h(b) < 0`, to `rel_tol` in σ.
fn brent(
    h: impl Fn(f64) -> Result<f64, Error>,
    mut a: f64,
    mut fa: f64,
    mut b: f64,
    mut fb: f64,
    rel_tol: f64,
) -> Result<f64, Error> {
    if fa.abs() < fb.abs() {
        core::mem::swap(&mut a, &mut b);
        core::mem::swap(&mut fa, &mut fb);
    }
    let (mut c, mut fc) = (a, fa);
    let mut d = b - a;
    let mut e = d;
    for _ in 0..200 {
        if (fb > 0.0) == (fc > 0.0) {
            (c, fc) = (a, fa);
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            (a, fa) = (b, fb);
            (b, fb) = (c, fc);
            (c, fc) = (a, fa);
        }
        // Brent returns b with the root within 2·tol of it.
        let tol = 0.5 * rel_tol * b.abs();
        let m = 0.5 * (c - b);
        if m.abs() <= tol || fb == 0.0 {
            return Ok(b);
        }
        if e.abs() >= tol && fa.abs() > fb.abs() {
            // Inverse quadratic interpolation, or secant when only two points differ.
            let s = fb / fa;
            let (mut p, mut q) = if a == c {
                (2.0 * m * s, 1.0 - s)
            } else {
                let q = fa / fc;
                let r = fb / fc;
                (
                    s * (2.0 * m * q * (q - r) - (b - a) * (r - 1.0)),
                    (q - 1.0) * (r - 1.0) * (s - 1.0),
                )
            };
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * m * q - (tol * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = m;
                e = m;
            }
        } else {
            d = m;
            e = m;
        }
        (a, fa) = (b, fb);
        b += if d.abs() > tol { d } else { tol.copysign(m) };
        fb = h(b)?;
    }
    Err(Error::NotConverged)
}

/// The paper's reference method: σ_p on 0.001, 0.002, …, 10, argmin `|cond − 1|`.
pub fn solve_grid<A: Activation + ?Sized>(act: &A, ratio: f64) -> Result<GridSolution, Error> {
    let mut best = GridSolution { sigma_p: 1e-3, condition: condition(act, 1e-3, ratio)? };
    for k in 2..=10_000u32 {
        let s = f64::from(k) * 1e-3;
        let c = condition(act, s, ratio)?;
        if (c - 1.0).abs() < (best.condition - 1.0).abs() {
            best = GridSolution { sigma_p: s, condition: c };
        }
    }
    Ok(best)
}
