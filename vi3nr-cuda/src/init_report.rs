//! The `vi3nr init` plan: built from command-line choices, printed as a table or JSON.

use serde_json::{Value, json};
use vi3nr_core::init::{
    BiasInit, BiasScheme, FirstSigma, InputStats, Plan, PlanSpec, SigmaP, Solution, SolveOptions,
    solve_grid, solve_sigma_p,
};
use vi3nr_core::model::MAX_LAYERS;
use vi3nr_core::{Act, Error};

/// How σ_p is picked on the command line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SigmaChoice {
    /// The backward-condition root, or the activation's default without one.
    Auto,
    /// The paper's grid method (0.001…10 step 0.001, argmin |cond − 1|).
    Grid,
    /// A given value.
    Value(f64),
    /// Short trial fits around the root (`vi3nr fit` only).
    Search,
}

impl std::str::FromStr for SigmaChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(SigmaChoice::Auto),
            "grid" => Ok(SigmaChoice::Grid),
            "search" => Ok(SigmaChoice::Search),
            v => match v.parse::<f64>() {
                Ok(x) if x.is_finite() && x > 0.0 => Ok(SigmaChoice::Value(x)),
                _ => Err(format!("expected auto, grid, search or a finite σ_p > 0, got {v:?}")),
            },
        }
    }
}

/// A plan with the solver's verdict, ready to print.
#[derive(Debug, Clone)]
pub struct Report {
    /// The activation.
    pub act: Act,
    /// Layer widths.
    pub widths: Vec<usize>,
    /// How σ_p was picked.
    pub method: &'static str,
    /// The solver's verdict for the activation (always computed).
    pub solution: Solution,
    /// The plan.
    pub plan: Plan<MAX_LAYERS>,
}

/// Builds the plan for `act` on `widths` with inputs `input` (one entry per dimension or one
/// for all).
pub fn build(
    act: Act,
    widths: &[usize],
    input: &[InputStats],
    sigma: SigmaChoice,
    bias: BiasScheme,
    first_sigma: FirstSigma,
) -> Result<Report, Error> {
    let solve = SolveOptions::default();
    let solution = solve_sigma_p(&act, 1.0, &solve)?;
    let (sigma_p, method) = match sigma {
        SigmaChoice::Auto => (SigmaP::Auto(None), "auto"),
        SigmaChoice::Grid => (SigmaP::Value(solve_grid(&act, 1.0)?.sigma_p), "grid"),
        // `vi3nr init` rejects `search` before building; a plan alone cannot search.
        SigmaChoice::Search => (SigmaP::Auto(None), "auto"),
        SigmaChoice::Value(v) => (SigmaP::Value(v), "given"),
    };
    let activations = [act];
    let spec =
        PlanSpec { widths, activations: &activations, input, sigma_p, first_sigma, bias, solve };
    let plan = Plan::new(&spec)?;
    // The plan's own solve uses the hidden widths' ratio; report that verdict when it ran.
    let solution = plan.solution.unwrap_or(solution);
    Ok(Report { act, widths: widths.to_vec(), method, solution, plan })
}

fn status(s: &Solution) -> &'static str {
    match s {
        Solution::Root { .. } => "root",
        Solution::NoRoot { .. } => "no_root",
        _ => "any",
    }
}

fn bias_json(b: BiasInit) -> Value {
    match b {
        BiasInit::Zero => json!({"kind": "zero"}),
        BiasInit::Uniform { bound } => json!({"kind": "uniform", "bound": bound}),
    }
}

impl Report {
    /// The plan as one JSON object.
    pub fn to_json(&self) -> Value {
        let p = &self.plan;
        let solver = match self.solution {
            Solution::Root { sigma_p, roots } => json!({"root": sigma_p, "sign_changes": roots}),
            Solution::NoRoot { closest_sigma_p, closest_condition, limit } => json!({
                "closest_sigma_p": closest_sigma_p,
                "closest_condition": closest_condition,
                "limit": format!("{limit:?}").to_lowercase(),
            }),
            _ => json!({}),
        };
        json!({
            "activation": self.act.to_string(),
            "widths": self.widths,
            "sigma_p": p.sigma_p,
            "first_sigma": p.first_sigma,
            "method": self.method,
            "status": status(&self.solution),
            "solver": solver,
            "ratio": p.ratio,
            "condition": p.condition,
            "gain2": p.gain2,
            "layers": p.layers.iter().map(|l| json!({
                "fan_in": l.fan_in,
                "fan_out": l.fan_out,
                "gain2": l.gain2,
                "std": l.std,
                "bound": l.bound,
                "bias": bias_json(l.bias),
                "condition": l.condition,
            })).collect::<Vec<_>>(),
        })
    }

    /// The plan as a human-readable table.
    pub fn to_table(&self) -> String {
        use std::fmt::Write;
        let p = &self.plan;
        let widths: Vec<String> = self.widths.iter().map(|w| w.to_string()).collect();
        let mut out = format!("VI3NR init plan: {} on {}\n", self.act, widths.join("-"));
        let verdict = match self.solution {
            Solution::Root { sigma_p, .. } => {
                format!("backward condition has a root at σ_p = {sigma_p:.10}")
            }
            Solution::NoRoot { closest_sigma_p, closest_condition, limit } => format!(
                "backward condition has no root: cond − 1 keeps one sign; closest cond = {closest_condition:.12} at σ_p = {closest_sigma_p:.3e} (limit: {limit:?})"
            ),
            _ => "cond ≡ 1: every σ_p satisfies both conditions".to_string(),
        };
        let _ = writeln!(out, "{verdict}");
        let cond = p.condition.map_or("-".into(), |c| format!("{c:.9}"));
        let _ = writeln!(
            out,
            "σ_p = {:.10} ({}), cond(σ_p) = {cond}, width ratio {:.4}",
            p.sigma_p, self.method, p.ratio
        );
        if p.first_sigma != p.sigma_p {
            let _ = writeln!(out, "first-layer spread σ_0 = {:.10}", p.first_sigma);
        }
        let _ = writeln!(
            out,
            "{:>5} {:>7} {:>7} {:>12} {:>12} {:>12} {:>14} {:>12}",
            "layer", "fan_in", "fan_out", "gain²", "std", "bound", "bias", "cond"
        );
        for (i, l) in p.layers.iter().enumerate() {
            let bias = match l.bias {
                BiasInit::Zero => "0".to_string(),
                BiasInit::Uniform { bound } => format!("U(±{bound:.4})"),
            };
            let cond = l.condition.map_or("(data)".into(), |c| format!("{c:.6}"));
            let _ = writeln!(
                out,
                "{i:>5} {:>7} {:>7} {:>12.6e} {:>12.6e} {:>12.6e} {bias:>14} {cond:>12}",
                l.fan_in, l.fan_out, l.gain2, l.std, l.bound
            );
        }
        out
    }
}
