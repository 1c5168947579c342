//! The `vi3nr` command line.

// The doc comments of the argument structs are clap's help text (`sine[:ω]` is syntax there,
// not a link).
#![allow(rustdoc::broken_intra_doc_links)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use vi3nr_core::Act;
use vi3nr_core::init::InputStats;
use vi3nr_core::init::{BiasScheme, SigmaP};
use vi3nr_core::model::{Model, NumberFormat};
use vi3nr_cuda::compare::{self, CompareConfig};
use vi3nr_cuda::export::{AlignedBytes, Vi3nrOptions};
use vi3nr_cuda::fitting::{self, Device, FitConfig};
use vi3nr_cuda::init_report::{self, SigmaChoice};
use vi3nr_cuda::signal::{self, Layout, Signal};
use vi3nr_cuda::toy::{self, ToySize};
use vi3nr_cuda::train::InitScheme;

/// Variance-informed initialisation, training and export of implicit neural representations.
#[derive(Parser)]
#[command(name = "vi3nr", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the VI3NR initialisation plan of a network.
    Init(InitArgs),
    /// Reproduce the paper's toy experiment (variance through a deep bias-free network).
    Toy(ToyArgs),
    /// Check a `.vi3` model file and print its header and layers.
    Inspect(InspectArgs),
    /// Fit an INR to an image or audio file (without INPUT: the bundled photograph) and export it.
    Fit(FitArgs),
    /// Render an image or audio file from a model with the vi3nr-core evaluator.
    Eval(EvalArgs),
    /// Fit one signal with every initialisation and activation; print a PSNR table.
    Compare(CompareArgs),
}

/// Initialisation schemes on the command line.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum InitName {
    /// VI3NR (this project): σ_p from the backward condition, or --sigma-p.
    Vi3nr,
    /// Glorot/Xavier uniform.
    Xavier,
    /// PyTorch's nn.Linear default.
    Pytorch,
    /// SIREN's scheme (sine only).
    Siren,
}

/// `--search-score` on the command line.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ScoreName {
    /// Score on points the trials train on.
    Fit,
    /// Score on points held out of the trials.
    Heldout,
}

/// Training devices on the command line.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DeviceName {
    /// CUDA when present, else the CPU.
    Auto,
    /// The CPU backend.
    Cpu,
    /// The CUDA backend.
    Cuda,
}

#[derive(Args)]
struct FitArgs {
    /// Image (PNG, JPEG) or audio (WAV) file; the bundled photograph when absent.
    input: Option<PathBuf>,
    /// Hidden activation: relu, tanh, sigmoid, sine[:ω], gaussian[:a], sinc, wavelet[:ω[,s]].
    #[arg(long, short, default_value = "sine:30")]
    activation: Act,
    /// Initialisation scheme.
    #[arg(long, value_enum, default_value = "vi3nr")]
    init: InitName,
    /// σ_p for --init vi3nr: auto, grid, search (the first-layer spread, then σ_p, by
    /// successive halving of short trial fits; the fit continues from the winner; about a
    /// quarter of a 300-step fit, less for longer ones) or a value.
    #[arg(long, default_value = "auto")]
    sigma_p: SigmaChoice,
    /// With --sigma-p search: score the trials on every 10th point, trained on (`fit`: the fit
    /// quality) or held out of the trials (`heldout`: interpolation between samples).
    #[arg(long, value_enum, default_value = "fit")]
    search_score: ScoreName,
    /// For --init vi3nr: spread σ_0 of the first layer's pre-activations: `default` (the
    /// activation's recommendation: SIREN's spread for sine, 12a for the Gaussian) or a value
    /// (absent: σ_p).
    #[arg(long, value_parser = parse_first)]
    first_sigma: Option<FirstChoice>,
    /// For --init vi3nr: biases zero, pytorch, or a fraction ρ of the pre-activation variance.
    #[arg(long, default_value = "pytorch", value_parser = parse_bias)]
    bias: BiasScheme,
    /// Hidden layer widths.
    #[arg(long, value_delimiter = ',', default_value = "128,128,128")]
    hidden: Vec<usize>,
    /// Optimisation steps.
    #[arg(long, default_value_t = 500)]
    steps: u64,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f32,
    /// Random minibatch size per step (default: the whole signal up to 65,536 points, random
    /// batches of 65,536 beyond).
    #[arg(long)]
    batch: Option<usize>,
    /// Seed of the initialisation and the minibatches.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Training device.
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceName,
    /// Number format of the exported model: f32, f16, q15 or i8.
    #[arg(long, default_value = "f32")]
    precision: NumberFormat,
    /// Output directory.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Fourier-feature input encoding: M frequencies per coordinate drawn from N(0, SCALE²)
    /// (SCALE defaults to 10), e.g. --fourier 64:10.
    #[arg(long)]
    fourier: Option<String>,
}

/// Parses `--bias zero|pytorch|ρ`.
fn parse_bias(s: &str) -> Result<BiasScheme, String> {
    match s {
        "zero" => Ok(BiasScheme::Zero),
        "pytorch" => Ok(BiasScheme::PyTorch),
        v => match v.parse::<f64>() {
            Ok(r) if (0.0..1.0).contains(&r) => Ok(BiasScheme::Fraction(r)),
            _ => Err(format!("expected zero, pytorch or a fraction in [0, 1), got {v:?}")),
        },
    }
}

/// `--first-sigma`: the activation's recommended spread, or a value.
#[derive(Clone, Copy, PartialEq)]
enum FirstChoice {
    /// `Activation::default_first_sigma` (σ_p where it has none).
    Default,
    /// A given σ_0.
    Value(f64),
}

/// Parses `--first-sigma default|VALUE`.
fn parse_first(s: &str) -> Result<FirstChoice, String> {
    if s == "default" { Ok(FirstChoice::Default) } else { positive_f64(s).map(FirstChoice::Value) }
}

/// σ_0 for the plan: `None` keeps σ_p.
fn first_sigma(
    choice: Option<FirstChoice>,
    act: &Act,
    fan_in: usize,
    input: InputStats,
) -> Option<f64> {
    match choice? {
        FirstChoice::Value(v) => Some(v),
        FirstChoice::Default => vi3nr_core::Activation::default_first_sigma(
            act,
            fan_in,
            input.mean * input.mean + input.var,
        ),
    }
}

/// Parses a finite positive number.
fn positive_f64(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("expected a finite number > 0, got {s:?}")),
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

#[derive(Args)]
struct EvalArgs {
    /// The model file.
    model: PathBuf,
    /// The original signal: sets the output's shape and prints the PSNR against it.
    #[arg(long)]
    reference: Option<PathBuf>,
    /// Image size WxH (2-D models), without --reference.
    #[arg(long, conflicts_with = "reference")]
    size: Option<String>,
    /// Audio samples (1-D models), without --reference.
    #[arg(long, conflicts_with_all = ["reference", "size"])]
    samples: Option<u32>,
    /// Sample rate of the rendered audio with --samples.
    #[arg(long, default_value_t = 44_100)]
    sample_rate: u32,
    /// Re-quantise to this number format before evaluating (f32, f16, q15, i8).
    #[arg(long)]
    precision: Option<NumberFormat>,
    /// Output file (.png or .wav).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct CompareArgs {
    /// Image or audio file; the bundled photograph when absent.
    input: Option<PathBuf>,
    /// Hidden layer widths.
    #[arg(long, value_delimiter = ',', default_value = "128,128,128")]
    hidden: Vec<usize>,
    /// Steps per run.
    #[arg(long, default_value_t = 300)]
    steps: u64,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f32,
    /// Random minibatch size per step (default: the whole signal up to 65,536 points, random
    /// batches of 65,536 beyond).
    #[arg(long)]
    batch: Option<usize>,
    /// Seed of every run.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct InitArgs {
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
    #[arg(long, value_parser = parse_first)]
    first_sigma: Option<FirstChoice>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ToyArgs {
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

#[derive(Args)]
struct InspectArgs {
    /// The model file.
    #[arg(value_name = "MODEL")]
    model: PathBuf,
}

fn parse_input(args: &InitArgs) -> Result<InputStats, String> {
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

fn init(args: &InitArgs) -> Result<(), String> {
    if args.sigma_p == SigmaChoice::Search {
        return Err("--sigma-p search trains trial networks: use it with vi3nr fit".into());
    }
    let input = parse_input(args)?;
    let report = init_report::build(
        args.activation,
        &args.layers,
        &[input],
        args.sigma_p,
        args.bias,
        first_sigma(
            args.first_sigma,
            &args.activation,
            args.layers.first().copied().unwrap_or(0),
            input,
        ),
    )
    .map_err(|e| e.to_string())?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    Ok(())
}

fn toy(args: &ToyArgs) -> Result<(), String> {
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
    Ok(())
}

/// Reads, checks and describes a model file; every failure is `<path>: <message>`.
fn inspect(args: &InspectArgs) -> Result<(), String> {
    let path = args.model.display();
    let data = std::fs::read(&args.model).map_err(|e| format!("{path}: {e}"))?;
    let bytes = AlignedBytes::copy_from(&data);
    let model = Model::parse(bytes.bytes()).map_err(|e| format!("{path}: {e}"))?;
    let n_freq = model.n_freq();
    println!("{path}");
    println!("format      {}", model.format.name());
    println!("in_dim      {}", model.in_dim);
    if n_freq == 0 {
        println!("encoding    raw");
    } else {
        println!("encoding    Fourier, {n_freq} frequencies ({} features)", 2 * n_freq);
    }
    println!("out_dim     {}", model.out_dim);
    println!("layers      {}", model.layers.len());
    println!("  {:>5} {:>7} {:>7}  activation", "layer", "fan_in", "fan_out");
    for (i, layer) in model.layers.iter().enumerate() {
        let act = layer.act.map_or_else(|| "identity".to_string(), |a| a.to_string());
        println!("  {i:>5} {:>7} {:>7}  {act}", layer.fan_in, layer.fan_out);
    }
    println!("parameters  {}", model.parameter_count());
    println!("file bytes  {}", model.file_bytes);
    println!("CRC         {:#010x} (CRC ok)", model.crc);
    Ok(())
}

fn check_hyper(steps: u64, lr: f32, batch: Option<usize>, hidden: &[usize]) -> Result<(), String> {
    if steps == 0 {
        return Err("--steps must be > 0".into());
    }
    if !(lr.is_finite() && lr > 0.0) {
        return Err(format!("--lr must be finite and > 0, got {lr}"));
    }
    if batch == Some(0) {
        return Err("--batch must be > 0".into());
    }
    if hidden.is_empty() || hidden.contains(&0) {
        return Err("--hidden needs at least one width, all > 0".into());
    }
    Ok(())
}

fn scheme(args: &FitArgs) -> Result<InitScheme, String> {
    let sigma_p = match args.sigma_p {
        SigmaChoice::Auto | SigmaChoice::Search => SigmaP::Auto(None),
        SigmaChoice::Value(v) => SigmaP::Value(v),
        SigmaChoice::Grid => SigmaP::Value(
            vi3nr_core::init::solve_grid(&args.activation, 1.0).map_err(|e| e.to_string())?.sigma_p,
        ),
    };
    Ok(match args.init {
        InitName::Vi3nr => {
            // `default` is resolved by the fit, which knows the input's dimension.
            let first_sigma = match args.first_sigma {
                Some(FirstChoice::Value(v)) => Some(v),
                _ => None,
            };
            InitScheme::Vi3nr(Vi3nrOptions { sigma_p, first_sigma, bias: args.bias })
        }
        _ if args.first_sigma.is_some() => {
            return Err("--first-sigma applies to --init vi3nr".into());
        }
        InitName::Xavier => InitScheme::Xavier,
        InitName::Pytorch => InitScheme::PyTorch,
        InitName::Siren => InitScheme::Siren,
    })
}

/// Progress: a bar on a terminal, plain lines otherwise.
fn progress(
    steps: u64,
) -> (Option<indicatif::ProgressBar>, impl FnMut(&vi3nr_cuda::train::Evaluation)) {
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
    let report = move |e: &vi3nr_cuda::train::Evaluation| {
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

fn fit(args: &FitArgs) -> ExitCode {
    let run = || -> Result<fitting::FitSummary, String> {
        check_hyper(args.steps, args.lr, args.batch, &args.hidden)?;
        let device = match args.device {
            DeviceName::Auto => Device::Auto,
            DeviceName::Cpu => Device::Cpu,
            DeviceName::Cuda => Device::Cuda,
        };
        let config = FitConfig {
            input: args.input.clone(),
            act: args.activation,
            init: scheme(args)?,
            hidden: args.hidden.clone(),
            steps: args.steps,
            lr: args.lr,
            batch: args.batch,
            seed: args.seed,
            device,
            precision: args.precision,
            out: args.out.clone(),
            fourier: args.fourier.as_deref().map(parse_fourier).transpose()?,
            search: args.sigma_p == SigmaChoice::Search,
            search_score: match args.search_score {
                ScoreName::Fit => vi3nr_cuda::search::Score::Fit,
                ScoreName::Heldout => vi3nr_cuda::search::Score::HeldOut,
            },
            default_first_sigma: args.first_sigma == Some(FirstChoice::Default),
        };
        if config.search && args.init != InitName::Vi3nr {
            return Err("--sigma-p search applies to --init vi3nr".into());
        }
        let (bar, mut report) = progress(args.steps);
        let summary = fitting::run(&config, &mut report);
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        summary
    };
    match run() {
        Ok(summary) => {
            let m = &summary.metrics;
            let per_format: Vec<String> = ["f32", "f16", "q15", "i8"]
                .iter()
                .map(|f| format!("{f} {:.2}", m["final_psnr"][f].as_f64().unwrap_or(f64::NAN)))
                .collect();
            println!(
                "{} steps in {:.1} s ({:.1} steps/s); PSNR {:.2} dB at {} (dB per format: {}); wrote {}",
                m["steps"],
                m["train_seconds"].as_f64().unwrap_or(0.0),
                m["steps_per_second"].as_f64().unwrap_or(0.0),
                summary.psnr,
                args.precision.name(),
                per_format.join(", "),
                args.out.display()
            );
            match summary.diverged {
                Some(reason) => {
                    eprintln!("error: {reason} (written to {})", args.out.display());
                    ExitCode::from(1)
                }
                None => ExitCode::SUCCESS,
            }
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn eval(args: &EvalArgs) -> Result<(), String> {
    let bytes = std::fs::read(&args.model).map_err(|e| format!("{}: {e}", args.model.display()))?;
    let requantised;
    let bytes = AlignedBytes::copy_from(&bytes);
    let mut model =
        Model::parse(bytes.bytes()).map_err(|e| format!("{}: {e}", args.model.display()))?;
    if let Some(format) = args.precision.filter(|f| *f != model.format) {
        let mlp =
            vi3nr_cuda::export::Mlp::from_model(&model).map_err(|e| format!("--precision: {e}"))?;
        requantised =
            mlp.to_vi3(format).map_err(|e| format!("--precision {}: {e}", format.name()))?;
        model = Model::parse(requantised.bytes()).map_err(|e| e.to_string())?;
    }
    let reference = match &args.reference {
        Some(path) => Some(Signal::load(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let layout = match (&reference, &args.size, args.samples) {
        (Some(r), _, _) => r.layout,
        (None, Some(size), _) => {
            let bad = || format!("--size: expected WxH with W, H > 0, got {size:?}");
            let (w, h) = size.split_once(['x', 'X']).ok_or_else(bad)?;
            let (w, h): (u32, u32) = (w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?);
            if w == 0 || h == 0 {
                return Err(bad());
            }
            Layout::Image { width: w, height: h, channels: model.out_dim as u8 }
        }
        (None, None, Some(frames)) if frames > 0 => {
            Layout::Audio { sample_rate: args.sample_rate, channels: model.out_dim as u16, frames }
        }
        _ => return Err("give --reference, --size WxH (images) or --samples N > 0 (audio)".into()),
    };
    if layout.in_dim() != model.in_dim || layout.out_dim() != model.out_dim {
        return Err(format!(
            "the model maps {} → {} values but {} needs {} → {}",
            model.in_dim,
            model.out_dim,
            layout.describe(),
            layout.in_dim(),
            layout.out_dim()
        ));
    }
    let rendered = fitting::render(&model, &layout.coords())?;
    signal::write_rendered(&layout, &rendered, &args.out).map_err(|e| e.to_string())?;
    match reference {
        Some(r) => println!(
            "{}: {} at {}, PSNR {:.2} dB against {}",
            args.out.display(),
            layout.describe(),
            model.format.name(),
            signal::psnr(&rendered, &r.values),
            args.reference.as_ref().map_or(String::new(), |p| p.display().to_string())
        ),
        None => {
            println!("{}: {} at {}", args.out.display(), layout.describe(), model.format.name())
        }
    }
    Ok(())
}

fn compare_cmd(args: &CompareArgs) -> Result<(), String> {
    check_hyper(args.steps, args.lr, args.batch, &args.hidden)?;
    let signal = match &args.input {
        Some(path) => Signal::load(path).map_err(|e| e.to_string())?,
        None => Signal::bundled(),
    };
    let config = CompareConfig {
        hidden: args.hidden.clone(),
        steps: args.steps,
        lr: args.lr,
        batch: args.batch,
        seed: args.seed,
    };
    if !args.json {
        println!(
            "{}: hidden {:?}, {} steps, lr {}, seed {}",
            signal.layout.describe(),
            args.hidden,
            args.steps,
            args.lr,
            args.seed
        );
        println!(
            "{:<14} {:<12} {:>10} {:>10} {:>6} {:>9}",
            "activation", "init", "PSNR dB", "best dB", "steps", "seconds"
        );
    }
    let json = args.json;
    let rows = compare::run(&signal, &config, &mut |r| {
        if !json {
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
    })?;
    if json {
        let rows: Vec<_> = rows
            .iter()
            .map(|r| serde_json::json!({"activation": r.act.to_string(), "init": r.init, "psnr": r.psnr, "best_psnr": r.best_psnr, "steps": r.steps, "seconds": r.seconds, "detail": r.detail, "diverged": r.diverged}))
            .collect();
        println!(
            "{}",
            serde_json::json!({"signal": signal.layout.describe(), "hidden": args.hidden, "steps": args.steps, "lr": args.lr, "seed": args.seed, "rows": rows})
        );
    }
    Ok(())
}

/// Restores the default SIGPIPE disposition, so `vi3nr inspect m.vi3 | head` ends quietly
/// like other Unix tools instead of panicking on a closed pipe.
#[cfg(unix)]
fn default_sigpipe() {
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE and no handler code runs.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    #[cfg(unix)]
    default_sigpipe();
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Init(args) => init(args),
        Command::Toy(args) => toy(args),
        Command::Inspect(args) => inspect(args),
        Command::Fit(args) => return fit(args),
        Command::Eval(args) => eval(args),
        Command::Compare(args) => compare_cmd(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
