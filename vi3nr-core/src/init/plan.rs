//! The initialisation plan of a whole network.
//!
//! Weight matrix `i` maps `widths[i]` to `widths[i+1]`. Every matrix but the last feeds an
//! activation; the last is the linear output. All pre-activations, the output's included,
//! are given variance σ_p²:
//!
//! - matrix 0 sees the data: `gain² = σ_p² / mean_j(mean_j² + var_j)`;
//! - matrix `i ≥ 1` sees `f(z)` with `z ~ N(0, σ_p²)`: `gain² = σ_p² / E[f²]`;
//! - `std = gain / √fan_in`, uniform bound `√3 · std`.
//!
//! The first layer's spread may differ from σ_p ([`PlanSpec::first_sigma`]): the first layer
//! sets the network's frequency support (its inputs are 2–3 coordinates, not a wide layer),
//! and squeezing it to σ_p removes high frequencies. Matrix 1 then sees `f(z)` with
//! `z ~ N(0, σ_0²)`: `gain² = σ_p² / E[f²](σ_0)`, and its condition uses the moments at σ_0.
//!
//! Biases enter the variance budget, `Var(z) = fan_in·Var(W)·E[x²] + Var(b)`
//! ([`BiasScheme`]): zero, PyTorch's default (outside the budget), or a fraction ρ of the
//! pre-activation variance given to the bias (`U(±√(3ρ)·σ)`) with the weights' variance scaled
//! by `1 − ρ` to keep the total.
//!
//! σ_p is given, or solved from the backward condition of the hidden-to-hidden matrices
//! (their `fan_out / fan_in`, geometric mean if widths vary; 1 when there are none). When
//! there is no root, or any σ_p works, the plan uses the fallback: the caller's value or the
//! per-activation default ([`Activation::default_sigma_p`]; SIREN's scale 1/ω for sine).

use super::solver::{Solution, SolveOptions, solve_sigma_p};
use super::{condition, finite_ratio, hidden_gain2};
use crate::error::positive;
use crate::{Activation, Error};

/// Mean and variance of one input dimension.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputStats {
    /// Mean of the input values.
    pub mean: f64,
    /// Variance of the input values.
    pub var: f64,
}

impl InputStats {
    /// Coordinates uniform on `[lo, hi]`: mean `(lo+hi)/2`, variance `(hi−lo)²/12`.
    pub fn uniform(lo: f64, hi: f64) -> Self {
        InputStats { mean: 0.5 * (lo + hi), var: (hi - lo) * (hi - lo) / 12.0 }
    }

    /// `E[x²] = mean² + var`, checked (finite mean, finite non-negative variance).
    ///
    /// ```
    /// use vi3nr_core::init::InputStats;
    /// let x2 = InputStats::uniform(-1.0, 1.0).second_moment()?;
    /// assert!((x2 - 1.0 / 3.0).abs() < 1e-15);
    /// # Ok::<(), vi3nr_core::Error>(())
    /// ```
    pub fn second_moment(&self) -> Result<f64, Error> {
        if !self.mean.is_finite() {
            return Err(Error::NotFinite("input mean"));
        }
        if !(self.var.is_finite() && self.var >= 0.0) {
            return Err(Error::NotPositive("input variance"));
        }
        Ok(self.mean * self.mean + self.var)
    }
}

/// How σ_p is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SigmaP {
    /// Solve the backward condition; without a root use the given fallback, or the
    /// activation's [`default_sigma_p`](Activation::default_sigma_p) when `None`.
    Auto(Option<f64>),
    /// Use this value.
    Value(f64),
}

/// The spread σ_0 of the first layer's pre-activations.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum FirstSigma {
    /// σ_p, as every other layer (the textbook plan).
    #[default]
    SigmaP,
    /// The first hidden activation's recommendation for the network's inputs
    /// ([`Activation::default_first_sigma`] at the input's fan-in and mean square, e.g. SIREN's
    /// spread for sine); σ_p where it has none.
    Recommended,
    /// This value.
    Value(f64),
}

/// How biases start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BiasInit {
    /// All zero (the bias-free analysis of the paper).
    Zero,
    /// Uniform on `±bound`.
    Uniform {
        /// Half-width of the interval.
        bound: f64,
    },
}

/// Which case σ_p came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The backward condition's root.
    Root,
    /// No root: σ_p is the fallback.
    NoRoot,
    /// Any σ_p satisfies the condition: σ_p is the fallback.
    Any,
    /// σ_p was given by the caller.
    Given,
}

impl Status {
    /// `"root"`, `"no_root"`, `"any"` or `"given"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Root => "root",
            Status::NoRoot => "no_root",
            Status::Any => "any",
            Status::Given => "given",
        }
    }
}

/// How biases start, and whether they take part of the variance budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BiasScheme {
    /// All zero (the bias-free analysis of the paper).
    Zero,
    /// PyTorch's `nn.Linear` default `U(±1/√fan_in)`, not counted in the budget.
    PyTorch,
    /// A fraction ρ ∈ [0, 1) of each layer's pre-activation variance given to the bias.
    Fraction(f64),
}

/// What a plan is built from.
#[derive(Debug, Clone, Copy)]
pub struct PlanSpec<'a, A> {
    /// Layer widths, input first, output last (at least two).
    pub widths: &'a [usize],
    /// One activation for every hidden layer, or one per hidden layer.
    pub activations: &'a [A],
    /// Input statistics: one entry for all input dimensions, or one per dimension.
    pub input: &'a [InputStats],
    /// How σ_p is chosen.
    pub sigma_p: SigmaP,
    /// Spread σ_0 of the first layer's pre-activations.
    pub first_sigma: FirstSigma,
    /// Bias initialisation.
    pub bias: BiasScheme,
    /// Options of the σ_p solve.
    pub solve: SolveOptions,
}

/// The initialisation of one weight matrix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerPlan {
    /// Inputs of the matrix.
    pub fan_in: usize,
    /// Outputs of the matrix.
    pub fan_out: usize,
    /// `gain²`: the weight variance times `fan_in`.
    pub gain2: f64,
    /// Weight standard deviation `gain / √fan_in`.
    pub std: f64,
    /// Uniform bound `√3 · std` (same variance as the normal with `std`).
    pub bound: f64,
    /// How the biases start.
    pub bias: BiasInit,
    /// The backward condition of this matrix (its `fan_out/fan_in`, the moments of its input
    /// activation at that activation's spread); `None` for the first matrix, whose input is data.
    pub condition: Option<f64>,
}

/// The plan for a network with at most `L` weight matrices.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan<const L: usize> {
    /// The σ_p the plan uses.
    pub sigma_p: f64,
    /// The first layer's pre-activation spread σ_0, resolved ([`PlanSpec::first_sigma`]).
    pub first_sigma: f64,
    /// Where σ_p came from.
    pub status: Status,
    /// The solver's answer, when it ran.
    pub solution: Option<Solution>,
    /// The width ratio the condition was solved for.
    pub ratio: f64,
    /// `cond(σ_p)` at that ratio for the first hidden activation (`None` without hidden layers).
    pub condition: Option<f64>,
    /// Hidden-layer `gain² = σ_p²/E[f²]` of the first hidden activation.
    pub gain2: Option<f64>,
    /// One entry per weight matrix.
    pub layers: heapless::Vec<LayerPlan, L>,
}

impl<const L: usize> Plan<L> {
    /// Builds and checks the plan.
    ///
    /// ```
    /// use vi3nr_core::{Act, init::{BiasScheme, FirstSigma, InputStats, Plan, PlanSpec, SigmaP, SolveOptions, Status}};
    /// let plan = Plan::<8>::new(&PlanSpec {
    ///     widths: &[2, 256, 256, 256, 3],
    ///     activations: &[Act::gaussian(0.05)?],
    ///     input: &[InputStats::uniform(-1.0, 1.0)],
    ///     sigma_p: SigmaP::Auto(None),
    ///     first_sigma: FirstSigma::SigmaP,
    ///     bias: BiasScheme::Zero,
    ///     solve: SolveOptions::default(),
    /// })?;
    /// assert_eq!(plan.status, Status::Root);
    /// assert_eq!(plan.layers.len(), 4);
    /// assert!((plan.layers[0].gain2 - 3.0 * plan.sigma_p * plan.sigma_p).abs() < 1e-12);
    /// # Ok::<(), vi3nr_core::Error>(())
    /// ```
    pub fn new<A: Activation>(spec: &PlanSpec<'_, A>) -> Result<Self, Error> {
        let widths = spec.widths;
        if widths.len() < 2 {
            return Err(Error::EmptyNetwork);
        }
        if widths.contains(&0) {
            return Err(Error::ZeroWidth);
        }
        let matrices = widths.len() - 1;
        if matrices > L {
            return Err(Error::TooManyLayers);
        }
        let hidden = widths.len() - 2;
        let acts = spec.activations;
        if hidden > 0 && !(acts.len() == 1 || acts.len() == hidden) {
            return Err(Error::ActivationCount);
        }
        let act = |layer: usize| acts.get(layer).or(acts.first());
        let input = spec.input;
        if !(input.len() == 1 || input.len() == widths[0]) {
            return Err(Error::InputStatsCount);
        }
        let mut x2 = 0.0;
        for i in 0..widths[0] {
            x2 += input.get(i).or(input.first()).ok_or(Error::InputStatsCount)?.second_moment()?;
        }
        let x2 = x2 / widths[0] as f64;

        // Width ratio of hidden-to-hidden matrices (1..matrices-1), geometric mean.
        let mut log_ratio = 0.0;
        for i in 1..matrices.saturating_sub(1) {
            log_ratio += libm::log(widths[i + 1] as f64 / widths[i] as f64);
        }
        let inner = matrices.saturating_sub(2);
        let ratio = if inner > 0 { libm::exp(log_ratio / inner as f64) } else { 1.0 };

        let first = act(0);
        let (sigma_p, status, solution) = match (spec.sigma_p, first) {
            (SigmaP::Value(v), _) => (positive(v, "σ_p")?, Status::Given, None),
            (SigmaP::Auto(fallback), None) => {
                (positive(fallback.unwrap_or(1.0), "σ_p")?, Status::Given, None)
            }
            (SigmaP::Auto(fallback), Some(a)) => {
                let sol = solve_sigma_p(a, ratio, &spec.solve)?;
                let fallback = positive(fallback.unwrap_or_else(|| a.default_sigma_p()), "σ_p")?;
                match sol {
                    Solution::Root { sigma_p, .. } => (sigma_p, Status::Root, Some(sol)),
                    Solution::NoRoot { .. } => (fallback, Status::NoRoot, Some(sol)),
                    _ => (fallback, Status::Any, Some(sol)),
                }
            }
        };
        let sigma_0 = match spec.first_sigma {
            FirstSigma::SigmaP => sigma_p,
            FirstSigma::Recommended => {
                first.and_then(|a| a.default_first_sigma(widths[0], x2)).unwrap_or(sigma_p)
            }
            FirstSigma::Value(v) => v,
        };
        let sigma_0 = positive(sigma_0, "first-layer σ")?;
        let rho = match spec.bias {
            BiasScheme::Fraction(r) if (0.0..1.0).contains(&r) => r,
            BiasScheme::Fraction(_) => return Err(Error::NotPositive("bias fraction in [0, 1)")),
            _ => 0.0,
        };
        let mut layers = heapless::Vec::new();
        for i in 0..matrices {
            let (fan_in, fan_out) = (widths[i], widths[i + 1]);
            // Spread of this layer's outputs, and of its inputs' pre-activations.
            let sigma_out = if i == 0 { sigma_0 } else { sigma_p };
            let sigma_in = if i == 1 { sigma_0 } else { sigma_p };
            let target = sigma_out * sigma_out * (1.0 - rho);
            let (gain2, cond) = match i.checked_sub(1).and_then(act) {
                None => (finite_ratio(target, x2)?, None),
                Some(a) => {
                    let m = crate::stats::moments(a, sigma_in)?;
                    let ratio = fan_out as f64 / fan_in as f64;
                    (
                        finite_ratio(target, m.f2)?,
                        Some(finite_ratio(sigma_p * sigma_p * ratio * m.df2, m.f2)?),
                    )
                }
            };
            let std = libm::sqrt(gain2 / fan_in as f64);
            let bias = match spec.bias {
                BiasScheme::Zero => BiasInit::Zero,
                BiasScheme::PyTorch => BiasInit::Uniform { bound: 1.0 / libm::sqrt(fan_in as f64) },
                BiasScheme::Fraction(_) if rho == 0.0 => BiasInit::Zero,
                BiasScheme::Fraction(_) => {
                    BiasInit::Uniform { bound: libm::sqrt(3.0 * rho) * sigma_out }
                }
            };
            let layer = LayerPlan {
                fan_in,
                fan_out,
                gain2,
                std,
                bound: libm::sqrt(3.0) * std,
                bias,
                condition: cond,
            };
            layers.push(layer).map_err(|_| Error::TooManyLayers)?;
        }
        let (condition, gain2) = match first {
            Some(a) if hidden > 0 => {
                (Some(condition(a, sigma_p, ratio)?), Some(hidden_gain2(a, sigma_p)?))
            }
            _ => (None, None),
        };
        Ok(Plan {
            sigma_p,
            first_sigma: sigma_0,
            status,
            solution,
            ratio,
            condition,
            gain2,
            layers,
        })
    }
}
