//! `vi3nr toy`: the paper's toy experiment, as a table or JSON.

use std::process::ExitCode;

use clap::Args;
use vi3nr_cuda::seeds::mean_sd;
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
    /// Network draws per row (seeds seed, seed + 1, …): mean ± standard deviation.
    #[arg(long, default_value_t = 1)]
    draws: u64,
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
    if !(1..=1000).contains(&args.draws) {
        return Err(format!("--draws must be in 1..=1000, got {}", args.draws));
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
            "toy experiment: L = {}, n = {}, batch = {}, seeds {}..{} (SMAPE %, mean ± sd over {} draws)",
            size.layers,
            size.width,
            size.batch,
            size.seed,
            size.seed + args.draws,
            args.draws
        );
        println!(
            "{:<14} {:<20} {:>12} {:>16} {:>16}",
            "activation", "init", "σ_p", "forward SMAPE", "backward SMAPE"
        );
    }
    let start = std::time::Instant::now();
    let mut results = Vec::new();
    for row in &rows {
        let (mut forward, mut backward, mut overflow) = (Vec::new(), Vec::new(), [0, 0]);
        for k in 0..args.draws {
            let o = toy::run(row, &ToySize { seed: size.seed + k, ..size })
                .map_err(|e| e.to_string())?;
            forward.push(o.forward);
            backward.push(o.backward);
            overflow[0] += o.forward_overflow;
            overflow[1] += o.backward_overflow;
        }
        let ((f, fsd), (b, bsd)) = (mean_sd(&forward), mean_sd(&backward));
        let mark = |overflow: usize| if overflow > 0 { "*" } else { " " };
        if !args.json {
            println!(
                "{:<14} {:<20} {:>12.6} {:>7.2} ± {:>5.2}{} {:>7.2} ± {:>5.2}{}",
                row.act.to_string(),
                row.label,
                row.sigma_p,
                f,
                fsd,
                mark(overflow[0]),
                b,
                bsd,
                mark(overflow[1])
            );
        }
        results.push(serde_json::json!({
            "activation": row.act.to_string(), "init": row.label, "sigma_p": row.sigma_p,
            "forward_smape": f, "forward_sd": fsd, "backward_smape": b, "backward_sd": bsd,
            "forward_draws": forward, "backward_draws": backward,
            "forward_overflow": overflow[0], "backward_overflow": overflow[1],
        }));
    }
    let seconds = start.elapsed().as_secs_f64();
    if args.json {
        let out = serde_json::json!({
            "layers": size.layers, "width": size.width, "batch": size.batch, "seed": size.seed,
            "draws": args.draws,
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
