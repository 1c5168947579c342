//! The `vi3nr` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use vi3nr_core::Act;
use vi3nr_core::init::InputStats;
use vi3nr_core::model::Model;
use vi3nr_cuda::export::AlignedBytes;
use vi3nr_cuda::init_report::{self, SigmaChoice};
use vi3nr_cuda::toy::{self, ToySize};

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
    /// Biases U(±1/√fan_in) as PyTorch's nn.Linear (default: zero).
    #[arg(long)]
    pytorch_bias: bool,
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
    let input = parse_input(args)?;
    let report = init_report::build(
        args.activation,
        &args.layers,
        &[input],
        args.sigma_p,
        args.pytorch_bias,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Init(args) => init(args),
        Command::Toy(args) => toy(args),
        Command::Inspect(args) => inspect(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
