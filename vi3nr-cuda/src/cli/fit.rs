//! `vi3nr fit`: fit a signal, export the model, print a one-line summary.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use vi3nr_core::Act;
use vi3nr_core::init::{BiasScheme, FirstSigma, SigmaP};
use vi3nr_core::model::NumberFormat;
use vi3nr_cuda::budget::Budget;
use vi3nr_cuda::fitting::{self, Device, FitConfig, QatMode};
use vi3nr_cuda::init_report::SigmaChoice;
use vi3nr_cuda::schemes::{InitScheme, Scheme, Vi3nrOptions};
use vi3nr_cuda::search::Score;
use vi3nr_cuda::stop::Stop;
use vi3nr_cuda::train::Evaluation;

use super::{MeshArgs, TrainArgs, parse_bias, parse_first_sigma};

/// Steps without `--steps`.
const DEFAULT_STEPS: u64 = 500;

/// `vi3nr fit` flags.
#[derive(Args)]
pub struct FitArgs {
    /// Image (PNG, JPEG), audio (WAV) or mesh (OBJ, STL, PLY) file; the bundled photograph
    /// when absent.
    input: Option<PathBuf>,
    /// Hidden activation: relu, tanh, sigmoid, sine[:ω], gaussian[:a], sinc, wavelet[:ω[,s]].
    #[arg(long, short, default_value = "sine:30")]
    activation: Act,
    /// Initialisation scheme.
    #[arg(long, value_enum, default_value = "vi3nr")]
    init: Scheme,
    /// σ_p for --init vi3nr: search (the default: the first-layer spread, then σ_p, by
    /// successive halving of short trial fits; the fit continues from the winner; about a
    /// quarter of a 300-step fit, less for longer ones), auto (the backward condition's root:
    /// the textbook plan), grid or a value.
    #[arg(long)]
    sigma_p: Option<SigmaChoice>,
    /// The textbook plan without the search (`--sigma-p auto`): faster, usually worse.
    #[arg(long, conflicts_with = "sigma_p")]
    fast: bool,
    /// With --sigma-p search: score the trials on every 10th point, trained on (`fit`: the fit
    /// quality) or held out of the trials (`heldout`: interpolation between samples).
    #[arg(long, value_enum, default_value = "fit")]
    search_score: Score,
    /// For --init vi3nr: spread σ_0 of the first layer's pre-activations: `default` (the
    /// activation's recommendation: SIREN's spread for sine, 12a for the Gaussian) or a value
    /// (absent: σ_p).
    #[arg(long, value_parser = parse_first_sigma)]
    first_sigma: Option<FirstSigma>,
    /// For --init vi3nr: biases zero, pytorch, or a fraction ρ of the pre-activation variance.
    #[arg(long, default_value = "pytorch", value_parser = parse_bias)]
    bias: BiasScheme,
    #[command(flatten)]
    train: TrainArgs,
    /// Training device.
    #[arg(long, value_enum, default_value = "auto")]
    device: Device,
    /// Number format of the exported model: f32, f16, q15 or i8.
    #[arg(long, default_value = "f32")]
    precision: NumberFormat,
    /// Quantisation-aware training: the last half of the steps run the forward pass through
    /// the export's quantiser (q15, i8) with straight-through gradients. auto: on for q15 and
    /// i8 on the CPU backend.
    #[arg(long, value_enum, default_value = "auto")]
    qat: QatMode,
    /// Fit the whole model file (header and CRC included) into this many bytes (`K`: ×1024):
    /// short trials choose the depth, width and number format (i8 or q15).
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes,
          conflicts_with_all = ["precision", "hidden", "fourier", "resume", "bpp"])]
    budget: Option<usize>,
    /// As --budget, in bits per pixel of an image (bytes = ⌊bpp · pixels / 8⌋).
    #[arg(long, value_parser = parse_bpp, conflicts_with_all = ["precision", "hidden", "fourier", "resume"])]
    bpp: Option<f64>,
    /// Output directory.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Write a checkpoint (out/checkpoint.safetensors) at the first evaluation at least N
    /// steps after the previous one; 0: only when stopped (default: every 5 minutes).
    #[arg(long, value_name = "N")]
    checkpoint_every: Option<u64>,
    /// Continue the run whose checkpoint is in DIR (its output directory), with the same
    /// input and flags; ends exactly as the uninterrupted run would.
    #[arg(long, value_name = "DIR", conflicts_with = "out")]
    resume: Option<PathBuf>,
    /// Fourier-feature input encoding: M frequencies per coordinate drawn from N(0, SCALE²)
    /// (SCALE defaults to 10), e.g. --fourier 64:10.
    #[arg(long, value_parser = parse_fourier)]
    fourier: Option<(usize, f32)>,
    /// Also write the network the fit starts from (after the search, if any) as safetensors
    /// with model.safetensors' names, e.g. for `scripts/torch_crosscheck.py`.
    #[arg(long, value_name = "FILE")]
    save_init: Option<PathBuf>,
    #[command(flatten)]
    mesh: MeshArgs,
}

/// Parses a byte count: `6000`, `4K` (4,096), `1M` (1,048,576).
pub(crate) fn parse_bytes(spec: &str) -> Result<usize, String> {
    let bad = || format!("expected a byte count such as 6000 or 4K, got {spec:?}");
    let s = spec.trim();
    let (digits, unit) = match s.char_indices().last() {
        Some((i, 'K' | 'k')) => (&s[..i], 1024),
        Some((i, 'M' | 'm')) => (&s[..i], 1024 * 1024),
        _ => (s, 1),
    };
    let n: usize = digits.trim().parse().map_err(|_| bad())?;
    n.checked_mul(unit).filter(|&n| Budget::Bytes(n).check().is_ok()).ok_or_else(bad)
}

/// Parses bits per pixel: finite, > 0, at most [`Budget::MAX_BPP`].
pub(crate) fn parse_bpp(spec: &str) -> Result<f64, String> {
    match spec.trim().parse::<f64>() {
        Ok(v) if Budget::Bpp(v).check().is_ok() => Ok(v),
        _ => Err(format!("expected bits per pixel in (0, 64], got {spec:?}")),
    }
}

/// Parses `--fourier M[:SCALE]`.
fn parse_fourier(spec: &str) -> Result<(usize, f32), String> {
    let bad = || {
        format!("--fourier: expected M[:SCALE] with M ≥ 1 and SCALE finite and > 0, got {spec:?}")
    };
    let (m, scale) = spec.split_once(':').unwrap_or((spec, "10"));
    let m: usize = m.trim().parse().map_err(|_| bad())?;
    let scale: f32 = scale.trim().parse().map_err(|_| bad())?;
    if m == 0 || m > 2048 || !(scale.is_finite() && scale > 0.0) {
        return Err(bad());
    }
    Ok((m, scale))
}

/// How σ_p is chosen: `--sigma-p`, or the search for VI3NR (the textbook root with `--fast`
/// and for the baselines, which ignore it).
fn sigma_choice(args: &FitArgs) -> SigmaChoice {
    match args.sigma_p {
        Some(choice) => choice,
        None if args.fast || args.init != Scheme::Vi3nr => SigmaChoice::Auto,
        None => SigmaChoice::Search,
    }
}

/// The initialisation the flags ask for.
fn scheme(args: &FitArgs) -> Result<InitScheme, String> {
    if args.init != Scheme::Vi3nr {
        if args.first_sigma.is_some() {
            return Err("--first-sigma applies to --init vi3nr".into());
        }
        if args.sigma_p.is_some() {
            return Err("--sigma-p applies to --init vi3nr".into());
        }
    }
    let sigma_p = match sigma_choice(args) {
        SigmaChoice::Auto | SigmaChoice::Search => SigmaP::Auto(None),
        SigmaChoice::Value(v) => SigmaP::Value(v),
        SigmaChoice::Grid => SigmaP::Value(
            vi3nr_core::init::solve_grid(&args.activation, 1.0).map_err(|e| e.to_string())?.sigma_p,
        ),
    };
    let first_sigma = args.first_sigma.unwrap_or_default();
    Ok(InitScheme::new(args.init, Vi3nrOptions { sigma_p, first_sigma, bias: args.bias }))
}

/// Progress: a bar on a terminal, plain lines otherwise.
fn progress(steps: u64) -> (Option<indicatif::ProgressBar>, impl FnMut(&Evaluation)) {
    use std::io::IsTerminal;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(steps);
        let style = indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} {msg} [{elapsed_precise}]",
        );
        if let Ok(style) = style {
            bar.set_style(style);
        }
        bar
    });
    let shown = bar.clone();
    let report = move |e: &Evaluation| {
        let msg = format!(
            "loss {:.3e}  PSNR {:.2} dB  {:.1} steps/s",
            e.loss, e.psnr, e.steps_per_second
        );
        match &shown {
            Some(bar) => {
                bar.set_position(e.step);
                bar.set_message(msg);
            }
            None => eprintln!("step {}/{steps}  {msg}", e.step),
        }
    };
    (bar, report)
}

/// Fits, writes the outputs and prints a summary. Exit codes: 1 when the run diverged (the
/// last good model is still written), 128 + the signal number when SIGINT or SIGTERM stopped
/// it (the last good model, metrics and a checkpoint written), 2 for bad input.
pub fn run(args: &FitArgs) -> Result<ExitCode, String> {
    let stop = Stop::on_signals().map_err(|e| format!("cannot handle signals: {e}"))?;
    let config = FitConfig {
        input: args.input.clone(),
        act: args.activation,
        init: scheme(args)?,
        training: args.train.training(DEFAULT_STEPS)?,
        device: args.device,
        precision: args.precision,
        out: args.resume.clone().unwrap_or_else(|| args.out.clone()),
        fourier: args.fourier,
        search: sigma_choice(args) == SigmaChoice::Search,
        search_score: args.search_score,
        checkpoint_every: args.checkpoint_every,
        resume: args.resume.is_some(),
        save_init: args.save_init.clone(),
        stop: stop.clone(),
        mesh: args.mesh.options(),
        qat: args.qat,
        budget: match (args.budget, args.bpp) {
            (Some(bytes), _) => Some(Budget::Bytes(bytes)),
            (None, Some(bpp)) => Some(Budget::Bpp(bpp)),
            (None, None) => None,
        },
    };
    let (bar, mut report) = progress(config.training.steps);
    let summary = fitting::run(&config, &mut report);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let summary = match (summary, stop.requested()) {
        (Ok(summary), _) => summary,
        (Err(message), Some(code)) => {
            eprintln!("error: {message}");
            return Ok(ExitCode::from(Stop::exit_code(code)));
        }
        (Err(message), None) => return Err(message),
    };
    let m = &summary.metrics;
    let out = config.out.display();
    let per_format: Vec<String> = NumberFormat::ALL
        .iter()
        .map(|f| {
            let psnr = m["final_psnr"][f.name()].as_f64().unwrap_or(f64::NAN);
            format!("{} {psnr:.2}", f.name())
        })
        .collect();
    println!(
        "{} steps in {:.1} s ({:.1} steps/s); PSNR {:.2} dB at {} (dB per format: {}); wrote {out}",
        m["steps"],
        m["train_seconds"].as_f64().unwrap_or(0.0),
        m["steps_per_second"].as_f64().unwrap_or(0.0),
        summary.psnr,
        m["config"]["precision"].as_str().unwrap_or("?"),
        per_format.join(", "),
    );
    if let Some(mesh) = m.get("mesh") {
        let num = |k: &str| mesh[k].as_f64().unwrap_or(f64::NAN);
        println!(
            "mesh: Chamfer-L1 {:.5}, Hausdorff {:.5}, IoU {:.4}, RMS SDF error {:.5} (mesh units) \
             at {}³; surface in {out}/recon.obj",
            num("chamfer_l1"),
            num("hausdorff"),
            num("iou"),
            num("rms_sdf_error"),
            mesh["resolution"],
        );
    }
    if let Some((code, step)) = summary.stopped {
        let name = match code {
            2 => "SIGINT".to_string(),
            15 => "SIGTERM".to_string(),
            n => format!("signal {n}"),
        };
        eprintln!(
            "interrupted by {name} at step {step}: wrote the model of step {} and a checkpoint \
             to {out}; continue with `vi3nr fit … --resume {out}`",
            m["steps"]
        );
        return Ok(ExitCode::from(Stop::exit_code(code)));
    }
    Ok(match &summary.diverged {
        Some(reason) => {
            eprintln!("error: {reason} (written to {out})");
            ExitCode::from(1)
        }
        None => ExitCode::SUCCESS,
    })
}
