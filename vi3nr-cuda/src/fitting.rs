//! `vi3nr fit`: load a signal, check the limits, initialise (or search, or resume), train,
//! export, render and report — the main job.
//!
//! Everything a run writes goes into the output directory through temporary files renamed
//! into place, so an interrupted or failed run leaves no half-written file. A diverging run
//! still writes the last good model and reports the divergence as an error; a stopped run
//! (SIGINT, SIGTERM: [`Stop`]) writes the last good model, metrics marked interrupted and a
//! [`checkpoint`] that `--resume` continues from exactly.

mod mesh;
mod outputs;

pub use mesh::{MeshFit, MeshOptions, extract_mesh, planned_input};

use std::path::PathBuf;
use std::time::Instant;

use serde_json::{Value, json};
use vi3nr_core::Act;
use vi3nr_core::init::InputStats;
use vi3nr_core::model::NumberFormat;

use crate::budget::{self, Budget};
use crate::checkpoint::{self, Checkpoint, signal_sha256};
use crate::cuda::{CudaBackend, Device as _, Driver};
use crate::limits;
use crate::mlp::{Mlp, fourier_encode, fourier_frequencies};
use crate::schemes::InitScheme;
use crate::search::{Family, Score, Search, TRIAL_BATCH_FRACTION, Trial, rungs, search};
use crate::signal::{Layout, Mesh, Signal, mesh::detect};
use crate::stop::Stop;
use crate::train::{
    Adam, Backend, Batch, CpuBackend, Evaluation, FitOptions, Loss, Progress, QatPlan, TrainError,
    Training, Watch, fit_from,
};
use outputs::{Exported, write, write_model_files};

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

/// Quantisation-aware training (`--qat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum QatMode {
    /// On for q15 and i8 exports trained on the CPU; off for f32, f16 and on the GPU.
    #[default]
    Auto,
    /// On (q15 and i8 exports, CPU backend).
    On,
    /// Off: the export quantises the float model after training.
    Off,
}

/// Wall seconds between checkpoints when no step interval is given.
pub const CHECKPOINT_SECONDS: f64 = 300.0;

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
    /// A checkpoint at the first evaluation at least this many steps after the previous one;
    /// `None`: every [`CHECKPOINT_SECONDS`] of wall time; `Some(0)`: none (but on a stop).
    pub checkpoint_every: Option<u64>,
    /// Continue from the checkpoint in `out` (the same signal and settings).
    pub resume: bool,
    /// Also write the network the fit starts from (after the search, if any) here, as
    /// model.safetensors is written (`--save-init`).
    pub save_init: Option<PathBuf>,
    /// Polled between steps; a request ends the run cleanly.
    pub stop: Stop,
    /// For a mesh input: its samples and the extracted surface's measurement.
    pub mesh: MeshOptions,
    /// Choose the hidden widths and the number format (overriding `training.hidden` and
    /// `precision`) so the model file fits this budget ([`crate::budget`]).
    pub budget: Option<Budget>,
    /// Quantisation-aware training for the last [`QAT_FRACTION`](crate::train::QAT_FRACTION) of
    /// the steps.
    pub qat: QatMode,
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
    /// `(code, step)` when a stop request ended the run (code: the signal number).
    pub stopped: Option<(usize, u64)>,
}

impl FitConfig {
    /// The settings a resumed run must repeat, as JSON (`t`: the training settings with the
    /// loss resolved).
    fn request(&self, t: &Training, widths: &[usize]) -> Value {
        json!({
            "input": self.input_name(),
            "activation": self.act.to_string(),
            "init": format!("{:?}", self.init),
            "search": self.search.then(|| format!("{:?}", self.search_score)),
            "widths": widths,
            "fourier": self.fourier.map(|(m, scale)| json!([m, scale])),
            "steps": t.steps,
            "lr": t.lr,
            "lr_schedule": format!("{:?}", t.schedule.kind).to_lowercase(),
            "warmup": t.schedule.warmup,
            "clip_grad": t.clip,
            "batch": t.batch,
            "seed": t.seed,
            "loss": t.loss.map(|l| l.to_string()),
            "precision": self.precision.name(),
            "qat": format!("{:?}", self.qat).to_lowercase(),
        })
    }

    /// The format quantisation-aware training emulates (`None`: no QAT), on the GPU or not;
    /// `Err` for `--qat on` where it cannot run.
    fn qat_format(&self, gpu: bool) -> Result<Option<NumberFormat>, String> {
        let fixed = QatPlan::applies_to(self.precision).then_some(self.precision);
        match self.qat {
            QatMode::Off => Ok(None),
            QatMode::On if fixed.is_none() => Err(format!(
                "--qat on: the {} export needs no quantisation-aware training (it applies to q15 and i8)",
                self.precision.name()
            )),
            QatMode::On if gpu => Err(
                "--qat on: quantisation-aware training runs on the CPU backend only (--device cpu)"
                    .into(),
            ),
            QatMode::Auto if gpu && fixed.is_some() => {
                eprintln!(
                    "note: quantisation-aware training runs on the CPU backend only; training on the GPU without it (--device cpu for it)"
                );
                Ok(None)
            }
            _ => Ok(fixed),
        }
    }

    fn input_name(&self) -> String {
        self.input
            .as_ref()
            .map_or("bundled:chelsea_128.png".to_string(), |p| p.display().to_string())
    }
}

/// The checkpoint in `config.out`, checked against this run's signal and settings.
fn resume_from(config: &FitConfig, sha: &str, request: &Value) -> Result<Checkpoint, String> {
    let path = config.out.join(checkpoint::FILE);
    let bytes = std::fs::read(&path)
        .map_err(|e| format!("--resume: cannot read {}: {e}", path.display()))?;
    let mut ckpt =
        Checkpoint::from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    // Checkpoints from before `--loss` trained with MSE.
    if let Value::Object(settings) = &mut ckpt.request {
        settings.entry("loss").or_insert_with(|| json!(Loss::Mse.to_string()));
    }
    if ckpt.signal_sha256 != sha {
        return Err(format!(
            "--resume: the input differs from the checkpoint's (signal SHA-256 {} there, {sha} now)",
            ckpt.signal_sha256
        ));
    }
    if let Some(what) = ckpt.differs(request) {
        return Err(format!("--resume: the settings differ from the checkpoint's: {what}"));
    }
    Ok(ckpt)
}

/// The σ_p search's record for metrics.json, and its summary on stderr.
fn search_record(found: &Search, score: Score) -> Value {
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
        match score {
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
    json!({
        "search": found.candidates.iter().map(|c| json!({"sigma_p": c.sigma_p, "first_sigma": c.first_sigma, "score_psnr": c.psnr, "extrapolated_psnr": c.score, "trial_steps": c.steps})).collect::<Vec<_>>(),
        "search_seconds": found.seconds,
        "search_cost": {
            "score": format!("{score:?}"),
            "rungs": found.schedules.iter().map(|x| x.rungs.iter().map(|r| json!({"candidates": r.candidates, "steps": r.steps})).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "trial_step_cost": found.schedules[0].step_cost,
            "cost_in_fit_steps": found.cost_in_steps(),
            "reused_steps": found.reused_steps(),
            "extra_steps": found.extra_steps(),
            "fraction_of_fit": found.cost_fraction(),
        },
    })
}

/// The GPU the configuration asks for, opened before any work: `Err(why)` for the CPU (asked
/// for, or `--device auto` without a GPU: `why` says so).
fn open_gpu(device: Device) -> Result<Result<Driver, Option<String>>, String> {
    if device == Device::Cpu {
        return Ok(Err(None));
    }
    match Driver::open(0) {
        Ok(gpu) => gpu.map(Ok).map_err(|e| format!("cannot set up the GPU: {e}")),
        Err(why) if device == Device::Cuda => Err(format!("--device cuda: {why}")),
        Err(why) => Ok(Err(Some(format!("{why}: training on the CPU")))),
    }
}

/// The backend on `gpu`, or the CPU's.
fn open_backend(
    training: &Training,
    gpu: Result<Driver, Option<String>>,
    mlp: Mlp,
    inputs: &[f32],
    values: &[f32],
) -> Result<Box<dyn Backend>, String> {
    let (adam, seed) = (Adam::for_training(training), training.seed);
    let loss = training.loss.unwrap_or_default();
    Ok(match gpu {
        Ok(dev) => {
            let gpu = CudaBackend::new(dev, mlp, inputs, values, adam, seed)
                .map_err(|e| e.to_string())?
                .with_loss(loss);
            eprintln!("training on {}", gpu.device().describe());
            Box::new(gpu)
        }
        Err(_) => {
            let cpu =
                CpuBackend::new(mlp, inputs, values, adam, seed).map_err(|e| e.to_string())?;
            Box::new(cpu.with_loss(loss))
        }
    })
}

/// What every checkpoint of one run shares.
struct Saver<'a> {
    out: &'a std::path::Path,
    backend: String,
    sha: String,
    request: Value,
    record: Value,
}

impl Saver<'_> {
    /// Writes a checkpoint of `backend` at `progress`, the last good model `good`.
    fn save(
        &self,
        backend: &mut dyn Backend,
        progress: &Progress,
        good: Vec<f32>,
    ) -> Result<(), TrainError> {
        let ckpt = Checkpoint {
            backend: self.backend.clone(),
            signal_sha256: self.sha.clone(),
            request: self.request.clone(),
            state: backend.state()?,
            progress: Progress { good: None, ..progress.clone() },
            good,
            record: self.record.clone(),
        };
        let bytes = ckpt.to_bytes().map_err(TrainError)?;
        write(&self.out.join(checkpoint::FILE), &bytes).map_err(TrainError)
    }
}

/// The loop's watcher: progress display, periodic checkpoints, stop requests.
struct Watcher<'a> {
    on_eval: &'a mut dyn FnMut(&Evaluation),
    saver: &'a Saver<'a>,
    stop: &'a Stop,
    every: Option<u64>,
    last: (u64, Instant),
}

impl Watch for Watcher<'_> {
    fn evaluated(
        &mut self,
        e: &Evaluation,
        backend: &mut dyn Backend,
        progress: &Progress,
    ) -> Result<(), TrainError> {
        (self.on_eval)(e);
        let due = match self.every {
            Some(0) => false,
            Some(n) => e.step >= self.last.0 + n,
            None => self.last.1.elapsed().as_secs_f64() >= CHECKPOINT_SECONDS,
        };
        if due {
            // At an evaluation the current parameters are the last good model.
            let good = backend.parameters().flat_parameters();
            self.saver.save(backend, progress, good)?;
            self.last = (e.step, Instant::now());
        }
        Ok(())
    }

    fn stop(&self) -> Option<usize> {
        self.stop.requested()
    }
}

/// Runs a fit and writes model.vi3, model.safetensors, the reconstruction, curves.png and
/// metrics.json into `config.out`. `on_eval` sees every evaluation (progress display).
pub fn run(config: &FitConfig, on_eval: &mut dyn FnMut(&Evaluation)) -> Result<FitSummary, String> {
    let start = Instant::now();
    let signal = match &config.input {
        Some(path) => {
            let bytes =
                std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
            if ::image::guess_format(&bytes).is_err() && detect(&bytes, path).is_some() {
                config.mesh.check()?;
                let mesh = Mesh::from_bytes(&bytes, path).map_err(|e| e.to_string())?;
                let (signal, fit) = MeshFit::prepare(mesh, config.mesh, config.training.seed);
                return run_from(config, &signal, start, on_eval, Some(&fit));
            }
            Signal::from_bytes(&bytes, path).map_err(|e| e.to_string())?
        }
        None => Signal::bundled(),
    };
    run_from(config, &signal, start, on_eval, None)
}

/// [`run`] on a signal already in memory (`config.input` only names it in metrics.json).
pub fn run_signal(
    config: &FitConfig,
    signal: &Signal,
    on_eval: &mut dyn FnMut(&Evaluation),
) -> Result<FitSummary, String> {
    run_from(config, signal, Instant::now(), on_eval, None)
}

fn run_from(
    config: &FitConfig,
    signal: &Signal,
    start: Instant,
    on_eval: &mut dyn FnMut(&Evaluation),
    mesh: Option<&MeshFit>,
) -> Result<FitSummary, String> {
    let (first, input) = match config.fourier {
        Some((m, _)) => (2 * m, InputStats { mean: 0.0, var: 0.5 }),
        None => (signal.in_dim(), planned_input(signal)),
    };
    let Some(wanted) = config.budget else {
        return run_planned(config, signal, start, on_eval, mesh, (first, input), None);
    };
    if config.fourier.is_some() || config.resume {
        return Err(
            "--budget chooses the network: it cannot be combined with --fourier or --resume".into(),
        );
    }
    config.training.check()?;
    let image = matches!(signal.layout, Layout::Image { .. });
    let bytes = wanted.bytes(signal.len(), image)?;
    let choice = budget::choose(bytes, signal, config.act, &config.training, input, &config.stop)?;
    let arch = choice.arch();
    eprintln!(
        "budget {bytes} bytes: {} candidates, {} trial steps each, {:.1} s; chosen {:?} in {} ({} bytes):",
        choice.trials.len(),
        choice.steps,
        choice.seconds,
        arch.hidden,
        arch.format.name(),
        arch.bytes
    );
    for (k, t) in choice.trials.iter().enumerate() {
        let mark = if k == choice.best { "  ← chosen" } else { "" };
        eprintln!(
            "  {:>4} {:<18} {:>6} bytes {:>7.2} dB{mark}",
            t.arch.format.name(),
            format!("{:?}", t.arch.hidden),
            t.arch.bytes,
            t.psnr
        );
    }
    let planned = FitConfig {
        training: Training { hidden: arch.hidden.clone(), ..config.training.clone() },
        precision: arch.format,
        budget: None,
        ..config.clone()
    };
    let summary =
        run_planned(&planned, signal, start, on_eval, mesh, (first, input), Some(choice.record()))?;
    let written = summary.metrics["model_bytes"].as_u64().unwrap_or(u64::MAX);
    if written > bytes as u64 {
        return Err(format!(
            "internal error: the model file has {written} bytes, over the budget of {bytes}"
        ));
    }
    Ok(summary)
}

/// [`run_from`] once the network is fixed; `budget` is the budget's record for metrics.json.
fn run_planned(
    config: &FitConfig,
    signal: &Signal,
    start: Instant,
    on_eval: &mut dyn FnMut(&Evaluation),
    mesh: Option<&MeshFit>,
    (first, input): (usize, InputStats),
    budget: Option<Value>,
) -> Result<FitSummary, String> {
    // The loss resolved: what the fit minimises, records and a resumed run must repeat.
    let loss = config.training.loss_for(matches!(signal.layout, Layout::Mesh { .. }));
    let training = &Training { loss: Some(loss), ..config.training.clone() };
    let widths = training.widths(first, signal.out_dim());
    // Limits before any work: the model format, then memory.
    let batch = Batch::for_signal(training.batch, signal.len());
    let rows = batch.rows(signal.len());
    let trials = if config.search { crate::search::FIRST_MULTIPLES.len() } else { 1 };
    limits::check_fit(&widths, signal.in_dim(), signal.len(), rows, trials)?;
    let sha = signal_sha256(signal);
    let request = config.request(training, &widths);
    let resumed = if config.resume { Some(resume_from(config, &sha, &request)?) } else { None };
    // A network the scheme cannot build (SIREN's for another activation) fails here, too.
    let fresh = match config.search && resumed.is_none() {
        true => None,
        false => Some(config.init.init_for(&widths, config.act, training.seed, input)?),
    };
    let gpu = open_gpu(config.device)?;
    // Checked before any work; the plan itself needs the final fit's steps (below).
    let qat_format = config.qat_format(gpu.is_ok())?;
    std::fs::create_dir_all(&config.out)
        .map_err(|e| format!("cannot create the output directory {}: {e}", config.out.display()))?;
    if let Err(Some(why)) = &gpu {
        eprintln!("{why}");
    }

    let mut frequencies = Vec::new();
    if let Some((m, scale)) = config.fourier {
        frequencies = fourier_frequencies(m, signal.in_dim(), scale, training.seed);
    }
    let mut inputs = fourier_encode(&frequencies, signal.in_dim(), &signal.coords);
    if qat_format.is_some() && frequencies.is_empty() {
        // The fixed-point evaluator reads coordinates in Q1.14: with quantisation-aware
        // training the whole fit (search included) sees them there, so the network is fitted
        // at the positions the device will evaluate (a second of 22 kHz audio has samples
        // 9.1e-5 apart on a grid of 6.1e-5: at float positions the q15/i8 exports of a 67 dB
        // fit lost 16 dB to the rounding alone).
        crate::train::round_to_grid(&mut inputs, crate::train::COORDINATE_STEP);
    }
    let mut init = config.init;
    let mut searched = None;
    if config.search && resumed.is_none() {
        let InitScheme::Vi3nr(options) = config.init else {
            return Err("--sigma-p search applies to --init vi3nr".into());
        };
        let trial = Trial::new(config.act, training, config.search_score);
        let family = Family::Vi3nr(options);
        let found = search(&inputs, &signal.values, &widths, &trial, &family, input, &config.stop)?;
        init = InitScheme::Vi3nr(found.chosen.vi3nr().unwrap_or(options));
        searched = Some(found);
    }
    let mut mlp = match (&searched, fresh) {
        (Some(found), _) => found.start.clone(),
        (None, Some(mlp)) => mlp,
        (None, None) => return Err("no initial network".into()),
    };
    mlp.fourier = frequencies;
    if let (Some(path), None) = (&config.save_init, &resumed) {
        let bytes = crate::export::safetensors_bytes(&mlp)?;
        write(path, &bytes).map_err(|e| format!("--save-init: {e}"))?;
    }
    let record = match &resumed {
        Some(c) => c.record.clone(),
        None => {
            let mut record = json!({
                "vi3nr": match init {
                    InitScheme::Vi3nr(o) => json!({
                        "sigma_p": format!("{:?}", o.sigma_p),
                        "first_sigma": o.plan(&widths, config.act, input).ok().map(|p| p.first_sigma),
                        "bias": format!("{:?}", o.bias),
                    }),
                    _ => Value::Null,
                },
                "search": [], "search_seconds": 0.0, "search_cost": null,
            });
            if let Some(found) = &searched {
                let s = search_record(found, config.search_score);
                for key in ["search", "search_seconds", "search_cost"] {
                    record[key] = s[key].clone();
                }
            }
            record
        }
    };
    let reused = match (&searched, &record["search_cost"]["reused_steps"]) {
        (Some(found), _) => found.reused_steps(),
        (None, Value::Number(n)) => n.as_u64().unwrap_or(0),
        _ => 0,
    };
    let steps = training.steps - reused;
    let qat = qat_format.and_then(|format| QatPlan::for_fit(format, steps));
    let template = mlp.clone();
    let mut backend = open_backend(training, gpu, mlp, &inputs, &signal.values)?;
    let mut progress = Progress::default();
    if let Some(c) = &resumed {
        if c.backend != backend.name() {
            return Err(format!(
                "--resume: the checkpoint was trained on the {} backend, this run is on the {}",
                c.backend,
                backend.name()
            ));
        }
        backend.restore(&c.state).map_err(|e| format!("--resume: {e}"))?;
        let mut good = template.clone();
        good.set_flat_parameters(&c.good);
        progress = Progress { good: Some(good), ..c.progress.clone() };
        eprintln!("resuming at step {} of {steps}", progress.step);
    }
    let saver =
        Saver { out: &config.out, backend: backend.name().to_string(), sha, request, record };
    let options = FitOptions {
        steps,
        batch,
        eval_every: (steps / 50).max(1),
        schedule: training.schedule,
        qat,
    };
    let mut watcher = Watcher {
        on_eval,
        saver: &saver,
        stop: &config.stop,
        every: config.checkpoint_every,
        last: (progress.step, Instant::now()),
    };
    let outcome =
        fit_from(backend.as_mut(), &inputs, &signal.values, &options, progress, &mut watcher)
            .map_err(|e| e.to_string())?;
    let checkpoint_path = config.out.join(checkpoint::FILE);
    if let Some((_, step)) = outcome.stopped {
        // The steps since the last evaluation: their loss goes into the checkpoint.
        let since = step - outcome.steps;
        let mean = backend.take_loss().map_err(|e| e.to_string())?;
        let pending_loss = match outcome.pending_loss {
            Some((m, k)) => {
                Some(((m * k as f64 + mean * (since - k) as f64) / since.max(1) as f64, since))
            }
            None => (since > 0).then_some((mean, since)),
        };
        let at = Progress {
            step,
            evaluations: outcome.evaluations.clone(),
            train_seconds: outcome.train_seconds,
            pending_loss,
            good: None,
        };
        saver
            .save(backend.as_mut(), &at, outcome.mlp.flat_parameters())
            .map_err(|e| e.to_string())?;
    } else if checkpoint_path.exists() {
        std::fs::remove_file(&checkpoint_path)
            .map_err(|e| format!("cannot remove {}: {e}", checkpoint_path.display()))?;
    }

    // A mesh's model answers distances in the mesh's units.
    let units = mesh.map_or(1.0, MeshFit::scale);
    let mut outcome = outcome;
    if mesh.is_some() {
        outcome.mlp.affine = vec![[units, 0.0]];
    }
    let exported = Exported::new(&outcome, signal, units)?;
    let title = format!("{} {} init, {}", config.act, config.init.name(), signal.layout.describe());
    write_model_files(&config.out, &outcome, &exported, config.precision, signal, &title)?;
    let (psnr, bytes, _) = exported.get(config.precision)?;
    let steps_per_second = outcome.steps as f64 / outcome.train_seconds.max(1e-12);
    let mut metrics = json!({
        "config": {
            "input": config.input_name(),
            "activation": config.act.to_string(),
            "init": config.init.name(),
            "vi3nr": saver.record["vi3nr"],
            "widths": widths,
            "fourier": config.fourier.map(|(m, scale)| json!({"frequencies": m, "scale": scale})),
            "steps": training.steps,
            "lr": training.lr,
            "lr_schedule": format!("{:?}", training.schedule.kind).to_lowercase(),
            "warmup": training.schedule.warmup,
            "clip_grad": training.clip,
            "batch": training.batch,
            "seed": training.seed,
            "loss": loss.to_string(),
            "device": backend.name(),
            "precision": config.precision.name(),
            "qat": qat.map(|q| json!({"format": q.format.name(), "from_step": q.from, "steps": steps - q.from})),
        },
        "signal": signal.layout.describe(),
        "steps": outcome.steps,
        "wall_seconds": start.elapsed().as_secs_f64(),
        "train_seconds": outcome.train_seconds,
        "steps_per_second": steps_per_second,
        "evaluations": outcome.evaluations.iter().map(|e| json!({"step": e.step, "loss": e.loss, "psnr": e.psnr})).collect::<Vec<_>>(),
        "final_psnr": exported.psnr_json(),
        "model_bytes": bytes.bytes().len(),
        "diverged": outcome.diverged,
        "interrupted": outcome.stopped.is_some(),
        "interrupted_at_step": outcome.stopped.map(|(_, step)| step),
        "resumed_from_step": resumed.as_ref().map(|c| c.progress.step),
    });
    for key in ["search", "search_seconds", "search_cost"] {
        metrics[key] = saver.record[key].clone();
    }
    metrics["budget"] = budget.unwrap_or(Value::Null);
    if let Some(fit) = mesh {
        let (_, bytes, _) = exported.get(config.precision)?;
        let model = vi3nr_core::model::Model::parse(bytes.bytes()).map_err(|e| e.to_string())?;
        metrics["mesh"] = fit.report(&model, &config.out.join("recon.obj"))?;
    }
    let text = serde_json::to_string_pretty(&metrics).map_err(|e| e.to_string())?;
    write(&config.out.join("metrics.json"), text.as_bytes())?;
    Ok(FitSummary { metrics, psnr, diverged: outcome.diverged, stopped: outcome.stopped })
}
