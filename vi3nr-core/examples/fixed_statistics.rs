//! How far the fixed-point activations' statistics are from the float ones:
//! `cargo run --release -p vi3nr-core --example fixed_statistics`.

use vi3nr_core::init::{Solution, SolveOptions, solve_sigma_p};
use vi3nr_core::stats::{self, Fixed};
use vi3nr_core::{Act, Activation};

fn main() -> Result<(), vi3nr_core::Error> {
    println!(
        "| activation | σ | E[f²] fixed/float − 1 | E[f'²] fixed/float − 1 | σ_p root float | σ_p root fixed |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for act in Act::ALL {
        let root = |s: Solution| match s {
            Solution::Root { sigma_p, .. } => format!("{sigma_p:.8}"),
            Solution::Any => "any σ_p".into(),
            _ => "no root".into(),
        };
        let float_root = solve_sigma_p(&act, 1.0, &SolveOptions::default())?;
        let sigma = match float_root {
            Solution::Root { sigma_p, .. } => sigma_p,
            _ => act.default_sigma_p(),
        };
        let exact = stats::moments(&act, sigma)?;
        let fixed = stats::quadrature_with(&Fixed(act), sigma, 1e-9)?.moments;
        let fixed_root = match solve_sigma_p(&Fixed(act), 1.0, &SolveOptions::default()) {
            Ok(s) => root(s),
            Err(e) => format!("({e})"),
        };
        println!(
            "| {act} | {sigma:.6} | {:+.2e} | {:+.2e} | {} | {fixed_root} |",
            fixed.f2 / exact.f2 - 1.0,
            fixed.df2 / exact.df2 - 1.0,
            root(float_root),
        );
    }
    Ok(())
}
