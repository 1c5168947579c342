//! The commands, one module each (its clap `Args`, its run function, its printing), and what
//! they share: the training flags and the parsers of values the library types do not parse.
//!
//! Every command returns `Err(message)` for bad input, printed by `main` as one `error:` line
//! with exit code 2; a fit that diverges exits with 1.

pub mod compare;
pub mod eval;
pub mod fit;
pub mod fit_many;
pub mod init;
pub mod inspect;
pub mod rd;
pub mod toy;

use clap::{Args, Parser, Subcommand};
use vi3nr_core::init::{BiasScheme, FirstSigma};
use vi3nr_cuda::fitting::MeshOptions;
use vi3nr_cuda::train::{Loss, LrSchedule, Schedule, Training};

/// Variance-informed initialisation, training and export of implicit neural representations.
#[derive(Parser)]
#[command(name = "vi3nr", version)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand)]
pub enum Command {
    /// Print the VI3NR initialisation plan of a network.
    Init(init::InitArgs),
    /// Reproduce the paper's toy experiment (variance through a deep bias-free network).
    Toy(toy::ToyArgs),
    /// Check a `.vi3` model file and print its header and layers.
    Inspect(inspect::InspectArgs),
    /// Fit an INR to an image or audio file (without INPUT: the bundled photograph) and export it.
    Fit(fit::FitArgs),
    /// Fit every input of a manifest (or one shard of it) into OUT/NAME/, skipping those done.
    FitMany(fit_many::FitManyArgs),
    /// Render an image or audio file from a model with the vi3nr-core evaluator.
    Eval(eval::EvalArgs),
    /// Fit one signal with every initialisation and activation; print a PSNR table (on a mesh:
    /// ranked by Chamfer-L1, with IoU).
    Compare(compare::CompareArgs),
    /// Quality per byte: an image fitted at several byte budgets against JPEG and WebP.
    Rd(rd::RdArgs),
}

/// The training flags `fit` and `compare` share.
#[derive(Args)]
pub struct TrainArgs {
    /// Hidden layer widths.
    #[arg(long, value_delimiter = ',', default_value = "128,128,128")]
    pub hidden: Vec<usize>,
    /// Optimisation steps per fit (default: 500 for fit, 300 per run of compare).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f32,
    /// Random minibatch size per step (default: the whole signal up to 65,536 points, random
    /// batches of 65,536 beyond).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Seed of the initialisation and the minibatches.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Learning-rate schedule after the warm-up: constant, cosine (down to zero at the last
    /// step) or step (×0.1 at half the steps, ×0.01 at three quarters).
    #[arg(long, value_enum, default_value = "cosine")]
    pub lr_schedule: LrSchedule,
    /// Steps of linear learning-rate warm-up (default: 5 % of the steps).
    #[arg(long)]
    pub warmup: Option<u64>,
    /// Clip the whole gradient's L2 norm to this value before each update (PyTorch's
    /// `clip_grad_norm_`; off by default).
    #[arg(long, value_name = "NORM")]
    pub clip_grad: Option<f32>,
    /// Loss: mse, or DeepSDF's clamped-l1[:DELTA] (|clamp(p, −δ, δ) − clamp(t, −δ, δ)|, δ in
    /// the normalised cube's units, default 0.1). Default: mse for images and
    /// audio, the mesh default for meshes (see README).
    #[arg(long, value_name = "LOSS")]
    pub loss: Option<String>,
}

impl TrainArgs {
    /// The checked settings, with `default_steps` when `--steps` is absent.
    pub fn training(&self, default_steps: u64) -> Result<Training, String> {
        let steps = self.steps.unwrap_or(default_steps);
        let training = Training {
            hidden: self.hidden.clone(),
            steps,
            lr: self.lr,
            batch: self.batch,
            seed: self.seed,
            schedule: Schedule {
                kind: self.lr_schedule,
                warmup: self.warmup.unwrap_or(Schedule::default_warmup(steps)),
            },
            clip: self.clip_grad,
            loss: match &self.loss {
                Some(text) => Some(text.parse::<Loss>().map_err(|e| format!("--loss: {e}"))?),
                None => None,
            },
        };
        training.check()?;
        Ok(training)
    }
}

/// The mesh flags `fit` and `compare` share.
#[derive(Args)]
pub struct MeshArgs {
    /// For a mesh input: signed-distance samples to train on (on, near and around the surface).
    #[arg(long, default_value_t = 500_000)]
    pub samples: usize,
    /// For a mesh input: marching-cubes cells per axis of the extracted surface that the
    /// Chamfer, Hausdorff and IoU figures measure (fit writes it as recon.obj).
    #[arg(long, default_value_t = 64)]
    pub mesh_resolution: usize,
}

impl MeshArgs {
    /// The sampling and measuring options, the others at their defaults.
    pub fn options(&self) -> MeshOptions {
        MeshOptions {
            samples: self.samples,
            resolution: self.mesh_resolution,
            ..MeshOptions::default()
        }
    }
}

/// Parses `--bias zero|pytorch|ρ`.
pub fn parse_bias(s: &str) -> Result<BiasScheme, String> {
    match s {
        "zero" => Ok(BiasScheme::Zero),
        "pytorch" => Ok(BiasScheme::PyTorch),
        v => match v.parse::<f64>() {
            Ok(r) if (0.0..1.0).contains(&r) => Ok(BiasScheme::Fraction(r)),
            _ => Err(format!("expected zero, pytorch or a fraction in [0, 1), got {v:?}")),
        },
    }
}

/// Parses `--first-sigma default|VALUE` (`default`: the activation's recommendation).
pub fn parse_first_sigma(s: &str) -> Result<FirstSigma, String> {
    if s == "default" {
        return Ok(FirstSigma::Recommended);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(FirstSigma::Value(v)),
        _ => Err(format!("expected default or a finite number > 0, got {s:?}")),
    }
}
