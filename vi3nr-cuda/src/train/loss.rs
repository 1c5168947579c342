//! What a fit minimises, per output value: the squared error, or DeepSDF's clamped L1.
//!
//! - **MSE** `(p − t)²`, gradient `2(p − t)`: the default for images and audio.
//! - **Clamped L1** (Park et al., DeepSDF, CVPR 2019, eq. 4):
//!   `|clamp(p, −δ, δ) − clamp(t, −δ, δ)|`. Only the band |d| ≤ δ around the surface is fitted
//!   exactly; beyond it the network need only have the right sign and be at least δ away.
//!   Its (sub)gradient with respect to `p` is `sign(r) · [−δ ≤ p ≤ δ]` with
//!   `r = clamp(p) − clamp(t)` and `sign(0) = 0` (PyTorch's choice for `|·|` at 0, and its
//!   clamp passes the gradient on the closed interval): zero where the prediction is clamped,
//!   and so zero where prediction and target are both clamped on the same side.
//!
//! DeepSDF's δ = 0.1 is in the units of a shape scaled into the unit sphere; a mesh fitted
//! here is scaled so that its longest half-extent is 0.9 in the cube [−1, 1]³, a comparable
//! size, so δ is in those normalised units and defaults to the same 0.1 (5 % of the cube's
//! side).
//!
//! The batch loss is the mean of the per-value terms; [`Loss::term`] gives one term and its
//! gradient already divided by the number of values.

use std::fmt;
use std::str::FromStr;

/// DeepSDF's clamping distance, in the normalised cube's units.
pub const DEFAULT_DELTA: f32 = 0.1;

/// The per-value loss of a fit (`--loss`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Loss {
    /// Mean squared error.
    Mse,
    /// DeepSDF's clamped L1 with clamping distance `delta` (finite, > 0).
    ClampedL1 {
        /// Distances beyond ±`delta` are clamped to it.
        delta: f32,
    },
}

impl Default for Loss {
    /// MSE.
    fn default() -> Self {
        Loss::Mse
    }
}

impl Loss {
    /// The default for a mesh's signed distances: MSE. Measured against the clamped L1 at
    /// δ = 0.1 on two meshes, two activations and three seeds (README, "DeepSDF's clamped L1
    /// against MSE"), the clamped L1 was better on one pair and collapsed in 5 of 12 fits: the
    /// clamp gives no gradient to a prediction beyond δ with the wrong sign.
    pub const MESH_DEFAULT: Loss = Loss::Mse;

    /// One value's term of the batch loss and the gradient of the batch mean with respect to
    /// the prediction `p`, for target `t` in a batch of `1 / inv_total` values. MSE's
    /// gradient is `two_over_total · (p − t)` with `two_over_total = 2 · inv_total` rounded
    /// once, the CPU backend's arithmetic before losses were a choice.
    #[inline]
    pub fn term(self, p: f32, t: f32, inv_total: f32, two_over_total: f32) -> (f64, f32) {
        match self {
            Loss::Mse => {
                let r = p - t;
                (f64::from(r) * f64::from(r), two_over_total * r)
            }
            Loss::ClampedL1 { delta } => {
                let r = p.clamp(-delta, delta) - t.clamp(-delta, delta);
                let passes = (-delta..=delta).contains(&p);
                let sign = if r > 0.0 {
                    1.0
                } else if r < 0.0 {
                    -1.0
                } else {
                    0.0
                };
                (f64::from(r.abs()), if passes { sign * inv_total } else { 0.0 })
            }
        }
    }

    /// Checks the parameters: δ finite and > 0.
    pub fn check(self) -> Result<Loss, String> {
        match self {
            Loss::ClampedL1 { delta } if !(delta.is_finite() && delta > 0.0) => {
                Err(format!("clamped-l1: δ must be finite and > 0, got {delta}"))
            }
            other => Ok(other),
        }
    }
}

impl fmt::Display for Loss {
    /// `mse` or `clamped-l1:δ`, as `--loss` takes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loss::Mse => f.write_str("mse"),
            Loss::ClampedL1 { delta } => write!(f, "clamped-l1:{delta}"),
        }
    }
}

impl FromStr for Loss {
    type Err = String;

    /// `mse`, `clamped-l1` (δ = [`DEFAULT_DELTA`]) or `clamped-l1:δ`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, delta) = match s.split_once(':') {
            Some((name, delta)) => (name, Some(delta)),
            None => (s, None),
        };
        match (name, delta) {
            ("mse", None) => Ok(Loss::Mse),
            ("clamped-l1", None) => Ok(Loss::ClampedL1 { delta: DEFAULT_DELTA }),
            ("clamped-l1", Some(d)) => match d.trim().parse::<f32>() {
                Ok(delta) => Loss::ClampedL1 { delta }.check(),
                Err(_) => Err(format!("clamped-l1: δ must be a number, got {d:?}")),
            },
            _ => Err(format!("expected mse, clamped-l1 or clamped-l1:DELTA, got {s:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let cases = [
            ("mse", Loss::Mse),
            ("clamped-l1", Loss::ClampedL1 { delta: 0.1 }),
            ("clamped-l1:0.05", Loss::ClampedL1 { delta: 0.05 }),
        ];
        for (text, loss) in cases {
            assert_eq!(text.parse::<Loss>(), Ok(loss), "{text}");
            assert_eq!(loss.to_string().parse::<Loss>(), Ok(loss), "{loss}");
        }
        for bad in [
            "foo",
            "",
            "mse:1",
            "clamped-l1:",
            "clamped-l1:-1",
            "clamped-l1:0",
            "clamped-l1:nan",
            "clamped-l1:inf",
            "l1",
        ] {
            assert!(bad.parse::<Loss>().is_err(), "{bad:?} parsed");
        }
    }

    /// The clamped L1's term against its definition, and its gradient against central
    /// differences of that definition wherever the term is differentiable.
    #[test]
    fn clamped_l1_gradient_matches_finite_differences() {
        let delta = 0.1f32;
        let loss = Loss::ClampedL1 { delta };
        let value = |p: f64, t: f64| {
            let d = f64::from(delta);
            (p.clamp(-d, d) - t.clamp(-d, d)).abs()
        };
        let grid: Vec<f32> = (-30..=30).map(|k| k as f32 * 0.0071).collect();
        let mut checked = 0;
        for &p in &grid {
            for &t in &grid {
                let (l, g) = loss.term(p, t, 1.0, 2.0);
                assert!((l - value(f64::from(p), f64::from(t))).abs() < 1e-6, "value at {p}, {t}");
                let (p64, t64, h) = (f64::from(p), f64::from(t), 1e-4);
                // Skip the kinks: |·| at r = 0 and the clamp's corners.
                let near_kink = (p64 - t64).abs() < 2.0 * h && p64.abs() <= f64::from(delta)
                    || (p64.abs() - f64::from(delta)).abs() < 2.0 * h;
                if near_kink {
                    continue;
                }
                let fd = (value(p64 + h, t64) - value(p64 - h, t64)) / (2.0 * h);
                assert!((f64::from(g) - fd).abs() < 1e-6, "gradient at p {p}, t {t}: {g} vs {fd}");
                checked += 1;
            }
        }
        assert!(checked > 3000, "only {checked} points checked");
    }

    /// Where both are clamped on the same side, nothing is learnt; where the prediction is
    /// clamped but the target is not, neither (the clamp's derivative is 0 there); at r = 0,
    /// the subgradient 0.
    #[test]
    fn clamped_l1_gradient_vanishes_where_clamped() {
        let loss = Loss::ClampedL1 { delta: 0.1 };
        for (p, t) in [(0.5, 0.3), (-0.2, -0.9), (0.5, 0.05), (-0.3, 0.0), (0.04, 0.04)] {
            assert_eq!(loss.term(p, t, 0.25, 0.5).1, 0.0, "p {p}, t {t}");
        }
        let (l, g) = loss.term(0.05, -0.5, 0.25, 0.5);
        assert!((l - 0.15).abs() < 1e-7 && g == 0.25, "p 0.05, t -0.5: {l}, {g}");
        assert_eq!(loss.term(0.1, 0.5, 0.25, 0.5).1, 0.0, "r = 0 at the clamp");
        assert_eq!(loss.term(0.1, -0.5, 0.25, 0.5).1, 0.25, "the closed interval passes");
    }

    /// MSE keeps its arithmetic: the term is r², the gradient `two_over_total · r`, and the
    /// clamped L1 is never that (beyond a sign-and-scale coincidence) on a grid of pairs.
    #[test]
    fn mse_term_is_unchanged_and_differs_from_clamped() {
        let clamped = Loss::ClampedL1 { delta: 0.1 };
        let mut differ = 0;
        for k in -20..=20 {
            for j in -20..=20 {
                let (p, t) = (k as f32 * 0.037, j as f32 * 0.041);
                let r = p - t;
                let (l, g) = Loss::Mse.term(p, t, 1.0 / 64.0, 2.0 / 64.0);
                assert_eq!(l, f64::from(r) * f64::from(r));
                assert_eq!(g.to_bits(), ((2.0f32 / 64.0) * r).to_bits());
                if clamped.term(p, t, 1.0 / 64.0, 2.0 / 64.0) != (l, g) {
                    differ += 1;
                }
            }
        }
        // Only at p = t = 0 do the two agree (both zero).
        assert_eq!(differ, 41 * 41 - 1, "clamped L1 equals MSE on {} pairs", 41 * 41 - differ);
    }
}
