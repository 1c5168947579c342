//! `vi3nr compare`: every initialisation on one signal, as a table or JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use vi3nr_cuda::compare::{self, CompareRow};
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
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// One row of the table.
fn print_row(r: &CompareRow) {
    let mut note = r.diverged.as_deref().map_or(String::new(), |d| format!("  ({d})"));
    if !r.detail.is_empty() {
        note = format!("  {}{note}", r.detail);
    }
    println!(
        "{:<14} {:<12} {:>10.2} {:>10.2} {:>6} {:>9.1}{note}",
        r.act.to_string(),
        r.init,
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
    compare::check(&signal, &training)?;
    if !args.json {
        println!(
            "{}: hidden {:?}, {} steps, lr {}, seed {}",
            signal.layout.describe(),
            training.hidden,
            training.steps,
            training.lr,
            training.seed
        );
        println!(
            "{:<14} {:<12} {:>10} {:>10} {:>6} {:>9}",
            "activation", "init", "PSNR dB", "best dB", "steps", "seconds"
        );
    }
    let json = args.json;
    let rows = compare::run(&signal, &training, &mut |r| {
        if !json {
            print_row(r);
        }
    })?;
    if json {
        let rows: Vec<_> = rows
            .iter()
            .map(|r| serde_json::json!({"activation": r.act.to_string(), "init": r.init, "psnr": r.psnr, "best_psnr": r.best_psnr, "steps": r.steps, "seconds": r.seconds, "detail": r.detail, "diverged": r.diverged}))
            .collect();
        println!(
            "{}",
            serde_json::json!({"signal": signal.layout.describe(), "hidden": training.hidden, "steps": training.steps, "lr": training.lr, "seed": training.seed, "rows": rows})
        );
    }
    Ok(ExitCode::SUCCESS)
}
