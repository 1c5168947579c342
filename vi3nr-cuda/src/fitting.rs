//! `vi3nr fit`: load a signal, initialise, train, export, render and report — the main job.
//!
//! Everything a run writes goes into the output directory through temporary files renamed
//! into place, so an interrupted or failed run leaves no half-written file. A diverging run
//! still writes the last good model and reports the divergence as an error.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Value, json};
use vi3nr_core::Act;
use vi3nr_core::init::InputStats;
use vi3nr_core::model::{Model, NumberFormat};

use crate::curves::{Curves, write_curves_png};
use crate::export::{atomic_write, safetensors_bytes};
use crate::mlp::{fourier_encode, fourier_frequencies};
use crate::render::{psnr, render};
use crate::schemes::InitScheme;
use crate::search::{Score, Search, TRIAL_BATCH_FRACTION, Trial, rungs, search};
use crate::signal::{self, Layout, Signal};
use crate::train::{Adam, Backend, Batch, CpuBackend, Evaluation, FitOptions, Training, fit};

/// Where training runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Device {
    /// CUDA when available, else the CPU.
    Auto,
    /// The CPU backend.
    Cpu,
    /// The CUDA backend.
    Cuda,
}

/// A fit's settings (the `vi3nr fit` flags).
#[derive(Debug, Clone)]
pub struct FitConfig {
    /// The signal; `None` for the bundled photograph.
    pub input: Option<PathBuf>,
    /// Hidden activation.
    pub act: Act,
    /// Initialisation.
    pub init: InitScheme,
    /// Widths, steps, learning rate, batch and seed.
    pub training: Training,
    /// Device.
    pub device: Device,
    /// Number format of the exported model.
    pub precision: NumberFormat,
    /// Output directory.
    pub out: PathBuf,
    /// Fourier-feature encoding: `(m, scale)` draws `m` frequencies from N(0, scale²) per
    /// coordinate (Tancik et al. 2020); `None` feeds raw coordinates.
    pub fourier: Option<(usize, f32)>,
    /// Search σ_p and the first-layer spread by short trial fits (VI3NR only).
    pub search: bool,
    /// Which points score the search's trials.
    pub search_score: Score,
}

/// What a fit did, for the command line and `compare`.
#[derive(Debug, Clone)]
pub struct FitSummary {
    /// metrics.json's content.
    pub metrics: Value,
    /// PSNR of the exported model at the export precision.
    pub psnr: f64,
    /// Divergence message, if the run stopped early.
    pub diverged: Option<String>,
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    atomic_write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Runs a fit and writes model.vi3, model.safetensors, the reconstruction, curves.png and
/// metrics.json into `config.out`. `on_eval` sees every evaluation (progress display).
pub fn run(config: &FitConfig, on_eval: &mut dyn FnMut(&Evaluation)) -> Result<FitSummary, String> {
    let start = Instant::now();
    let signal = match &config.input {
        Some(path) => Signal::load(path).map_err(|e| e.to_string())?,
        None => Signal::bundled(),
    };
    std::fs::create_dir_all(&config.out)
        .map_err(|e| format!("cannot create the output directory {}: {e}", config.out.display()))?;
    let (first, input) = match config.fourier {
        Some((m, _)) => (2 * m, InputStats { mean: 0.0, var: 0.5 }),
        None => (signal.in_dim(), InputStats::uniform(-1.0, 1.0)),
    };
    let training = &config.training;
    let widths = training.widths(first, signal.out_dim());
    let mut init = config.init;
    let mut frequencies = Vec::new();
    if let Some((m, scale)) = config.fourier {
        frequencies = fourier_frequencies(m, signal.in_dim(), scale, training.seed);
    }
    let inputs = fourier_encode(&frequencies, signal.in_dim(), &signal.coords);
    let mut searched = None;
    if config.search {
        let InitScheme::Vi3nr(options) = config.init else {
            return Err("--sigma-p search applies to --init vi3nr".into());
        };
        let trial = Trial::new(config.act, training, config.search_score);
        let found = search(&inputs, &signal.values, &widths, &trial, &options, input)?;
        init = InitScheme::Vi3nr(found.chosen);
        eprintln!(
            "σ_p search: {} candidates, successive halving (candidates×steps) σ_0 {} then σ_p {} \
             (trial steps on {:.0} % of a fit step's points), {:.1} s; costs {:.1} fit steps, \
             the final fit starts from the winner and runs {} fewer: {:.1} % of the fit. \
             PSNR on the {} scoring points at the last rung reached:",
            found.candidates.len(),
            rungs(&found.schedules[0]),
            rungs(&found.schedules[1]),
            100.0 * TRIAL_BATCH_FRACTION,
            found.seconds,
            found.cost_in_steps(),
            found.reused_steps(),
            100.0 * found.cost_fraction(),
            match config.search_score {
                Score::Fit => "(trained)",
                Score::HeldOut => "held-out",
            }
        );
        for (k, c) in found.candidates.iter().enumerate() {
            let mark = if k == found.best { "  ← chosen" } else { "" };
            eprintln!(
                "  σ_p {:<10.5} σ_0 {:<10.5} {:>7.2} dB after {:>4} steps, {:>7.2} dB \
                 extrapolated{mark}",
                c.sigma_p, c.first_sigma, c.psnr, c.steps, c.score
            );
        }
        searched = Some(found);
    }
    let mut mlp = match &searched {
        Some(found) => found.start.clone(),
        None => init.init_for(&widths, config.act, training.seed, input)?,
    };
    mlp.fourier = frequencies;
    let steps = training.steps - searched.as_ref().map_or(0, Search::reused_steps);
    let adam = Adam::with_lr(training.lr);
    let cuda = match config.device {
        Device::Cpu => None,
        Device::Auto | Device::Cuda => {
            match crate::cuda::open(mlp.clone(), &inputs, &signal.values, adam, training.seed) {
                Ok(backend) => Some(backend.map_err(|e| e.to_string())?),
                Err(why) if config.device == Device::Cuda => {
                    return Err(format!("--device cuda: {why}"));
                }
                Err(why) => {
                    eprintln!("{why}: training on the CPU");
                    None
                }
            }
        }
    };
    let mut backend: Box<dyn Backend> = match cuda {
        Some(gpu) => {
            eprintln!("training on {}", crate::cuda::Device::describe(gpu.device()));
            Box::new(gpu)
        }
        None => Box::new(
            CpuBackend::new(mlp, &inputs, &signal.values, adam, training.seed)
                .map_err(|e| e.to_string())?,
        ),
    };
    let batch = Batch::for_signal(training.batch, signal.len());
    let options = FitOptions { steps, batch, eval_every: (steps / 50).max(1) };
    let outcome = fit(backend.as_mut(), &inputs, &signal.values, &options, on_eval)
        .map_err(|e| e.to_string())?;

    // Export at every precision (PSNR for the metrics), write the chosen one.
    let mut exported = Vec::new();
    for format in NumberFormat::ALL {
        let bytes =
            outcome.mlp.to_vi3(format).map_err(|e| format!("export to {}: {e}", format.name()))?;
        let rendered =
            render(&Model::parse(bytes.bytes()).map_err(|e| e.to_string())?, &signal.coords)?;
        exported.push((format, psnr(&rendered, &signal.values), bytes, rendered));
    }
    let (_, psnr, bytes, rendered) =
        exported.iter().find(|(f, ..)| *f == config.precision).ok_or("export precision missing")?;
    let out = &config.out;
    write(&out.join("model.vi3"), bytes.bytes())?;
    write(&out.join("model.safetensors"), &safetensors_bytes(&outcome.mlp)?)?;
    let recon = out.join(match signal.layout {
        Layout::Image { .. } => "recon.png",
        Layout::Audio { .. } => "recon.wav",
    });
    signal::write_rendered(&signal.layout, rendered, &recon).map_err(|e| e.to_string())?;
    let curves = Curves {
        steps: outcome.evaluations.iter().map(|e| e.step).collect(),
        loss: outcome.evaluations.iter().map(|e| e.loss).collect(),
        psnr: outcome.evaluations.iter().map(|e| e.psnr).collect(),
    };
    let title = format!("{} {} init, {}", config.act, config.init.name(), signal.layout.describe());
    write_curves_png(&curves, &title, &out.join("curves.png")).map_err(|e| e.to_string())?;

    let steps_per_second = outcome.steps as f64 / outcome.train_seconds.max(1e-12);
    let metrics = json!({
        "config": {
            "input": config.input.as_ref().map_or("bundled:chelsea_128.png".to_string(), |p| p.display().to_string()),
            "activation": config.act.to_string(),
            "init": config.init.name(),
            "vi3nr": match init {
                InitScheme::Vi3nr(o) => json!({
                    "sigma_p": format!("{:?}", o.sigma_p),
                    "first_sigma": o.plan(&widths, config.act, input).ok().map(|p| p.first_sigma),
                    "bias": format!("{:?}", o.bias),
                }),
                _ => Value::Null,
            },
            "widths": widths,
            "fourier": config.fourier.map(|(m, scale)| json!({"frequencies": m, "scale": scale})),
            "steps": training.steps,
            "lr": training.lr,
            "batch": training.batch,
            "seed": training.seed,
            "device": backend.name(),
            "precision": config.precision.name(),
        },
        "signal": signal.layout.describe(),
        "search": searched.iter().flat_map(|s| &s.candidates).map(|c| json!({"sigma_p": c.sigma_p, "first_sigma": c.first_sigma, "score_psnr": c.psnr, "extrapolated_psnr": c.score, "trial_steps": c.steps})).collect::<Vec<_>>(),
        "search_seconds": searched.as_ref().map_or(0.0, |s| s.seconds),
        "search_cost": searched.as_ref().map(|s| json!({
            "score": format!("{:?}", config.search_score),
            "rungs": s.schedules.iter().map(|x| x.rungs.iter().map(|r| json!({"candidates": r.candidates, "steps": r.steps})).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "trial_step_cost": s.schedules[0].step_cost,
            "cost_in_fit_steps": s.cost_in_steps(),
            "reused_steps": s.reused_steps(),
            "extra_steps": s.extra_steps(),
            "fraction_of_fit": s.cost_fraction(),
        })),
        "steps": outcome.steps,
        "wall_seconds": start.elapsed().as_secs_f64(),
        "train_seconds": outcome.train_seconds,
        "steps_per_second": steps_per_second,
        "evaluations": outcome.evaluations.iter().map(|e| json!({"step": e.step, "loss": e.loss, "psnr": e.psnr})).collect::<Vec<_>>(),
        "final_psnr": exported.iter().map(|(f, p, ..)| (f.name().to_string(), json!(p))).collect::<serde_json::Map<_, _>>(),
        "model_bytes": bytes.bytes().len(),
        "diverged": outcome.diverged,
    });
    let text = serde_json::to_string_pretty(&metrics).map_err(|e| e.to_string())?;
    write(&out.join("metrics.json"), text.as_bytes())?;
    Ok(FitSummary { metrics, psnr: *psnr, diverged: outcome.diverged })
}
