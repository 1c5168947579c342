//! `vi3nr rd`: an image at several byte budgets, fitted and against JPEG and WebP.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use vi3nr_core::Act;
use vi3nr_core::init::{BiasScheme, FirstSigma, SigmaP};
use vi3nr_core::model::NumberFormat;
use vi3nr_cuda::budget::Budget;
use vi3nr_cuda::fitting::{Device, FitConfig, MeshOptions, QatMode};
use vi3nr_cuda::rd::{self, Point};
use vi3nr_cuda::schemes::{InitScheme, Vi3nrOptions};
use vi3nr_cuda::search::Score;
use vi3nr_cuda::stop::Stop;

use super::TrainArgs;
use super::fit::{parse_bpp, parse_bytes};

/// `vi3nr rd` flags.
#[derive(Args)]
pub struct RdArgs {
    /// The image (PNG or JPEG).
    input: PathBuf,
    /// Byte budgets of the whole file (`K`: ×1024), e.g. 2K,4K,8K,16K,32K.
    #[arg(long, value_delimiter = ',', value_parser = parse_bytes, conflicts_with = "bpp",
          default_value = "2K,4K,8K,16K,32K")]
    budgets: Vec<usize>,
    /// Budgets in bits per pixel instead, e.g. 0.05,0.1,0.2,0.3,0.5.
    #[arg(long, value_delimiter = ',', value_parser = parse_bpp)]
    bpp: Vec<f64>,
    /// Hidden activation.
    #[arg(long, short, default_value = "sine:30")]
    activation: Act,
    #[command(flatten)]
    train: TrainArgs,
    /// Output directory: rd.json, rd.png and one fit directory per budget.
    #[arg(long, default_value = "rd")]
    out: PathBuf,
}

/// Steps per fit without `--steps`.
const DEFAULT_STEPS: u64 = 2000;

/// Runs the sweep and prints one line per point.
pub fn run(args: &RdArgs) -> Result<ExitCode, String> {
    let stop = Stop::on_signals().map_err(|e| format!("cannot handle signals: {e}"))?;
    let budgets: Vec<Budget> = if args.bpp.is_empty() {
        args.budgets.iter().map(|&b| Budget::Bytes(b)).collect()
    } else {
        args.bpp.iter().map(|&b| Budget::Bpp(b)).collect()
    };
    let options = Vi3nrOptions {
        sigma_p: SigmaP::Auto(None),
        first_sigma: FirstSigma::default(),
        bias: BiasScheme::PyTorch,
    };
    let fit = FitConfig {
        input: None,
        act: args.activation,
        init: InitScheme::Vi3nr(options),
        training: args.train.training(DEFAULT_STEPS)?,
        device: Device::Cpu,
        precision: NumberFormat::I8,
        out: args.out.clone(),
        fourier: None,
        search: true,
        search_score: Score::Fit,
        checkpoint_every: Some(0),
        resume: false,
        save_init: None,
        stop,
        mesh: MeshOptions::default(),
        qat: QatMode::Auto,
        budget: None,
    };
    println!(
        "{:<10} {:>8} {:>8} {:>7} {:>8} {:>8}  setting",
        "codec", "budget", "bytes", "bpp", "PSNR", "seconds"
    );
    let mut print = |p: &Point| {
        println!(
            "{:<10} {:>8} {:>8} {:>7.4} {:>8.2} {:>8.1}  {}",
            p.codec, p.budget, p.bytes, p.bpp, p.psnr, p.seconds, p.setting
        );
    };
    rd::run(&args.input, &budgets, &fit, &args.out, &mut print)?;
    println!("wrote {}/rd.json and rd.png", args.out.display());
    Ok(ExitCode::SUCCESS)
}
