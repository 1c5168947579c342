//! `vi3nr init`: the VI3NR plan of a network, as a table or JSON.

use std::process::ExitCode;

use clap::Args;
use vi3nr_core::Act;
use vi3nr_core::init::{BiasScheme, FirstSigma, InputStats};
use vi3nr_cuda::init_report::{self, SigmaChoice};

use super::{parse_bias, parse_first_sigma};

/// `vi3nr init` flags.
#[derive(Args)]
pub struct InitArgs {
    /// Activation: relu, tanh, sigmoid, sine[:ω], gaussian[:a], sinc, wavelet[:ω[,s]].
    #[arg(long, short)]
    activation: Act,
    /// Layer widths, input first and output last, e.g. 2,256,256,256,3.
    #[arg(long, value_delimiter = ',', required = true)]
    layers: Vec<usize>,
    /// σ_p: `auto` (backward-condition root, or the activation's default without one),
    /// `grid` (the paper's grid search) or a value.
    #[arg(long, default_value = "auto")]
    sigma_p: SigmaChoice,
    /// Input distribution per dimension: uniform:LO,HI.
    #[arg(long, conflicts_with_all = ["input_mean", "input_std"])]
    input: Option<String>,
    /// Mean of every input dimension (with --input-std).
    #[arg(long, requires = "input_std", allow_hyphen_values = true)]
    input_mean: Option<f64>,
    /// Standard deviation of every input dimension (with --input-mean).
    #[arg(long, requires = "input_mean")]
    input_std: Option<f64>,
    /// Biases: zero, pytorch (U(±1/√fan_in)), or a fraction ρ of each layer's pre-activation
    /// variance given to the bias (weights keep 1 − ρ).
    #[arg(long, default_value = "zero", value_parser = parse_bias)]
    bias: BiasScheme,
    /// Spread σ_0 of the first layer's pre-activations: `default` (the activation's
    /// recommendation: SIREN's spread for sine, 12a for the Gaussian) or a value (absent: σ_p).
    #[arg(long, value_parser = parse_first_sigma)]
    first_sigma: Option<FirstSigma>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// The input statistics of `--input` or `--input-mean/--input-std` (default: uniform on
/// [−1, 1]).
fn input_stats(args: &InitArgs) -> Result<InputStats, String> {
    if let (Some(mean), Some(std)) = (args.input_mean, args.input_std) {
        if !mean.is_finite() || !std.is_finite() || std < 0.0 {
            return Err(format!(
                "--input-mean/--input-std must be finite with std ≥ 0, got {mean}, {std}"
            ));
        }
        return Ok(InputStats { mean, var: std * std });
    }
    let Some(spec) = &args.input else {
        return Ok(InputStats::uniform(-1.0, 1.0));
    };
    let bad = || format!("--input: expected uniform:LO,HI with LO < HI, got {spec:?}");
    let range = spec.strip_prefix("uniform:").ok_or_else(bad)?;
    let (lo, hi) = range.split_once(',').ok_or_else(bad)?;
    let (lo, hi): (f64, f64) =
        (lo.trim().parse().map_err(|_| bad())?, hi.trim().parse().map_err(|_| bad())?);
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(bad());
    }
    Ok(InputStats::uniform(lo, hi))
}

/// Prints the plan.
pub fn run(args: &InitArgs) -> Result<ExitCode, String> {
    if args.sigma_p == SigmaChoice::Search {
        return Err("--sigma-p search trains trial networks: use it with vi3nr fit".into());
    }
    vi3nr_cuda::limits::check_network(&args.layers)?;
    let input = input_stats(args)?;
    let report = init_report::build(
        args.activation,
        &args.layers,
        &[input],
        args.sigma_p,
        args.bias,
        args.first_sigma.unwrap_or_default(),
    )
    .map_err(|e| e.to_string())?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    Ok(ExitCode::SUCCESS)
}
