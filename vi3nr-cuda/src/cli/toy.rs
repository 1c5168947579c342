//! `vi3nr toy`: the paper's toy experiment, as a table or JSON.

use std::process::ExitCode;

use clap::Args;
use vi3nr_cuda::toy::{self, ToySize};

/// `vi3nr toy` flags.
#[derive(Args)]
pub struct ToyArgs {
    /// Number of layers L.
    #[arg(long, default_value_t = 100)]
    layers: usize,
    /// Units per layer n.
    #[arg(long, default_value_t = 1000)]
    width: usize,
    /// Number of samples.
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    /// Seed of inputs, gradients and weights.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Only the rows of these activations (comma-separated names, e.g. sine,gaussian).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs the rows and prints each as it finishes.
pub fn run(args: &ToyArgs) -> Result<ExitCode, String> {
    if args.layers == 0 || args.width < 2 || args.batch == 0 {
        return Err("toy needs --layers ≥ 1, --width ≥ 2 and --batch ≥ 1".into());
    }
    let size =
        ToySize { layers: args.layers, width: args.width, batch: args.batch, seed: args.seed };
    let mut rows = toy::paper_rows().map_err(|e| e.to_string())?;
    for name in &args.only {
        if !rows.iter().any(|r| r.act.name() == name) {
            return Err(format!("--only: unknown activation {name:?}"));
        }
    }
    if !args.only.is_empty() {
        rows.retain(|r| args.only.iter().any(|n| n == r.act.name()));
    }
    if !args.json {
        println!(
            "toy experiment: L = {}, n = {}, batch = {}, seed = {}",
            size.layers, size.width, size.batch, size.seed
        );
        println!(
            "{:<14} {:<20} {:>12} {:>14} {:>14}",
            "activation", "init", "σ_p", "forward SMAPE", "backward SMAPE"
        );
    }
    let start = std::time::Instant::now();
    let mut results = Vec::new();
    for row in &rows {
        let o = toy::run(row, &size).map_err(|e| e.to_string())?;
        let mark = |overflow: usize| if overflow > 0 { "*" } else { " " };
        if !args.json {
            println!(
                "{:<14} {:<20} {:>12.6} {:>13.2}{} {:>13.2}{}",
                o.row.act.to_string(),
                o.row.label,
                o.row.sigma_p,
                o.forward,
                mark(o.forward_overflow),
                o.backward,
                mark(o.backward_overflow)
            );
        }
        results.push(serde_json::json!({
            "activation": o.row.act.to_string(), "init": o.row.label, "sigma_p": o.row.sigma_p,
            "forward_smape": o.forward, "backward_smape": o.backward,
            "forward_overflow": o.forward_overflow, "backward_overflow": o.backward_overflow,
        }));
    }
    let seconds = start.elapsed().as_secs_f64();
    if args.json {
        let out = serde_json::json!({
            "layers": size.layers, "width": size.width, "batch": size.batch, "seed": size.seed,
            "threads": rayon::current_num_threads(), "seconds": seconds, "rows": results,
        });
        println!("{out}");
    } else {
        let overflowed =
            results.iter().any(|r| r["forward_overflow"] != 0 || r["backward_overflow"] != 0);
        if overflowed {
            println!("* some samples overflowed f32 (variance → ∞): counted as 100 %");
        }
        println!(
            "{} rows in {seconds:.1} s on {} threads",
            rows.len(),
            rayon::current_num_threads()
        );
    }
    Ok(ExitCode::SUCCESS)
}
