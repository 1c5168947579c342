//! `vi3nr compare`: every initialisation on one signal, as a table or JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use vi3nr_cuda::compare::{self, CompareRow};
use vi3nr_cuda::seeds::mean_sd;
use vi3nr_cuda::signal::Signal;

use super::TrainArgs;

/// Steps per run without `--steps`.
const DEFAULT_STEPS: u64 = 300;

/// `vi3nr compare` flags.
#[derive(Args)]
pub struct CompareArgs {
    /// Image or audio file; the bundled photograph when absent.
    input: Option<PathBuf>,
    #[command(flatten)]
    train: TrainArgs,
    /// Seeds per row (seed, seed + 1, …): the summary gives mean ± standard deviation.
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// Only the rows of these activations (comma-separated names: sine, gaussian, sinc,
    /// wavelet).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Per activation and row label in order of appearance: the PSNR of every seed.
fn summary(rows: &[CompareRow]) -> Vec<(String, &'static str, Vec<f64>)> {
    let mut out: Vec<(String, &'static str, Vec<f64>)> = Vec::new();
    for r in rows {
        let act = r.act.to_string();
        match out.iter_mut().find(|(a, l, _)| *a == act && *l == r.init) {
            Some((_, _, v)) => v.push(r.psnr),
            None => out.push((act, r.init, vec![r.psnr])),
        }
    }
    out
}

/// One row of the table.
fn print_row(r: &CompareRow) {
    let mut note = r.diverged.as_deref().map_or(String::new(), |d| format!("  ({d})"));
    if !r.detail.is_empty() {
        note = format!("  {}{note}", r.detail);
    }
    println!(
        "{:<14} {:<15} {:>4} {:>10.2} {:>10.2} {:>6} {:>9.1}{note}",
        r.act.to_string(),
        r.init,
        r.seed,
        r.psnr,
        r.best_psnr,
        r.steps,
        r.seconds
    );
}

/// Runs the comparison, printing each row as it finishes (or JSON at the end).
pub fn run(args: &CompareArgs) -> Result<ExitCode, String> {
    let training = args.train.training(DEFAULT_STEPS)?;
    let signal = match &args.input {
        Some(path) => Signal::load(path).map_err(|e| e.to_string())?,
        None => Signal::bundled(),
    };
    if !(1..=100).contains(&args.seeds) {
        return Err(format!("--seeds must be in 1..=100, got {}", args.seeds));
    }
    for name in &args.only {
        if !compare::ACTIVATIONS.iter().any(|a| a.name() == name) {
            return Err(format!(
                "--only: unknown activation {name:?} (sine, gaussian, sinc, wavelet)"
            ));
        }
    }
    let acts: Vec<_> = compare::ACTIVATIONS
        .into_iter()
        .filter(|a| args.only.is_empty() || args.only.iter().any(|n| n == a.name()))
        .collect();
    compare::check(&signal, &training)?;
    if !args.json {
        println!(
            "{}: hidden {:?}, {} steps, lr {} ({:?}, warm-up {}), seeds {}..{}",
            signal.layout.describe(),
            training.hidden,
            training.steps,
            training.lr,
            training.schedule.kind,
            training.schedule.warmup,
            training.seed,
            training.seed + args.seeds
        );
        println!(
            "{:<14} {:<15} {:>4} {:>10} {:>10} {:>6} {:>9}",
            "activation", "init", "seed", "PSNR dB", "best dB", "steps", "seconds"
        );
    }
    let json = args.json;
    let rows = compare::run(&signal, &training, args.seeds, &acts, &mut |r| {
        if !json {
            print_row(r);
        }
    })?;
    let summary = summary(&rows);
    if json {
        let rows: Vec<_> = rows
            .iter()
            .map(|r| serde_json::json!({"activation": r.act.to_string(), "init": r.init, "seed": r.seed, "psnr": r.psnr, "best_psnr": r.best_psnr, "steps": r.steps, "seconds": r.seconds, "detail": r.detail, "diverged": r.diverged}))
            .collect();
        let summary: Vec<_> = summary
            .iter()
            .map(|(act, init, v)| {
                let (mean, sd) = mean_sd(v);
                serde_json::json!({"activation": act, "init": init, "mean": mean, "sd": sd, "psnr": v})
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({"signal": signal.layout.describe(), "hidden": training.hidden, "steps": training.steps, "lr": training.lr, "lr_schedule": format!("{:?}", training.schedule.kind).to_lowercase(), "warmup": training.schedule.warmup, "seed": training.seed, "seeds": args.seeds, "rows": rows, "summary": summary})
        );
    } else {
        println!("\nmean ± sd over {} seeds (PSNR dB)", args.seeds);
        for (act, init, v) in &summary {
            let (mean, sd) = mean_sd(v);
            println!("{act:<14} {init:<15} {mean:>7.2} ± {sd:.2}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
