//! Fitting an MLP to a signal: the settings every fit shares, the [`Backend`] trait, the CPU
//! backend and the training loop, which knows nothing of the backend it drives.

mod cpu;
mod loss;
mod qat;
mod schedule;

pub use cpu::CpuBackend;
pub use loss::{DEFAULT_DELTA, Loss};
pub use qat::{COORDINATE_STEP, QAT_FRACTION, QatPlan, Quantiser, round_to_grid};
pub use schedule::{LrSchedule, Schedule};

use crate::mlp::Mlp;
use std::fmt;
use std::time::Instant;
use vi3nr_core::model::NumberFormat;

/// The settings every fit shares (the training flags of `vi3nr fit` and `vi3nr compare`).
#[derive(Debug, Clone, PartialEq)]
pub struct Training {
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// Optimisation steps.
    pub steps: u64,
    /// Adam learning rate.
    pub lr: f32,
    /// Minibatch size; `None` for [`Batch::for_signal`]'s default.
    pub batch: Option<usize>,
    /// Seed of the initialisation and the minibatches.
    pub seed: u64,
    /// How the learning rate moves over the steps.
    pub schedule: Schedule,
    /// Gradient-norm clipping: the largest L2 norm of the whole gradient (`None`: off).
    pub clip: Option<f32>,
    /// The loss; `None` for the signal's default ([`Training::loss_for`]).
    pub loss: Option<Loss>,
}

impl Training {
    /// Checks every value before any work starts: steps > 0, a finite positive learning rate,
    /// fewer warm-up steps than steps, a finite positive clipping norm, a batch > 0, at least
    /// one hidden width, all > 0, a loss with valid parameters.
    pub fn check(&self) -> Result<(), String> {
        if self.steps == 0 {
            return Err("--steps must be > 0".into());
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(format!("--lr must be finite and > 0, got {}", self.lr));
        }
        if self.schedule.warmup >= self.steps {
            return Err(format!(
                "--warmup must be fewer than --steps ({}), got {}",
                self.steps, self.schedule.warmup
            ));
        }
        if let Some(c) = self.clip.filter(|c| !(c.is_finite() && *c > 0.0)) {
            return Err(format!("--clip-grad must be finite and > 0, got {c}"));
        }
        if self.batch == Some(0) {
            return Err("--batch must be > 0".into());
        }
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            return Err("--hidden needs at least one width, all > 0".into());
        }
        if let Some(loss) = self.loss {
            loss.check()?;
        }
        Ok(())
    }

    /// The loss of a fit with these settings: the one asked for, else MSE for images and
    /// audio and [`Loss::MESH_DEFAULT`] for a mesh's signed distances.
    pub fn loss_for(&self, mesh: bool) -> Loss {
        self.loss.unwrap_or(if mesh { Loss::MESH_DEFAULT } else { Loss::Mse })
    }

    /// The network's widths for `in_dim` inputs and `out_dim` outputs.
    pub fn widths(&self, in_dim: usize, out_dim: usize) -> Vec<usize> {
        crate::mlp::net_widths(in_dim, &self.hidden, out_dim)
    }

    /// The loop's options for a fit of `steps` steps on `points` points with these settings.
    pub fn fit_options(&self, steps: u64, points: usize, eval_every: u64) -> FitOptions {
        FitOptions {
            steps,
            batch: Batch::for_signal(self.batch, points),
            eval_every,
            schedule: self.schedule,
            qat: None,
        }
    }
}

/// Which samples a step trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batch {
    /// Every sample of the signal.
    Full,
    /// This many samples drawn uniformly with replacement, anew each step.
    Random(usize),
}

/// Adam's hyper-parameters, and the gradient clipping before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adam {
    /// Learning rate (a [`Schedule`] scales it per step through [`Backend::set_lr_factor`]).
    pub lr: f32,
    /// First-moment decay.
    pub beta1: f32,
    /// Second-moment decay.
    pub beta2: f32,
    /// Denominator guard.
    pub eps: f32,
    /// The largest L2 norm of the whole gradient: a larger one is scaled down to it first
    /// (PyTorch's `clip_grad_norm_`); `None`: no clipping.
    pub clip: Option<f32>,
}

impl Batch {
    /// Rows per step for a signal of `points` points.
    pub fn rows(self, points: usize) -> usize {
        match self {
            Batch::Full => points,
            Batch::Random(n) => n,
        }
    }

    /// Largest signal trained with full batches when no batch size is given.
    pub const FULL_LIMIT: usize = 1 << 16;

    /// `Random(size)` when a size is given; otherwise the full signal up to
    /// [`Batch::FULL_LIMIT`] points, and random batches of that many beyond (a full batch of a
    /// large photograph or a long recording would not fit in memory).
    pub fn for_signal(size: Option<usize>, points: usize) -> Batch {
        match size {
            Some(n) => Batch::Random(n),
            None if points <= Self::FULL_LIMIT => Batch::Full,
            None => Batch::Random(Self::FULL_LIMIT),
        }
    }
}

impl Adam {
    /// PyTorch's defaults with the given learning rate.
    pub fn with_lr(lr: f32) -> Self {
        Adam { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, clip: None }
    }

    /// `training`'s learning rate and clipping with PyTorch's other defaults.
    pub fn for_training(training: &Training) -> Self {
        Adam { clip: training.clip, ..Adam::with_lr(training.lr) }
    }
}

/// A training failure that is not divergence (bad shapes, a backend fault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainError(pub String);

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TrainError {}

/// `(in_dim, out_dim)` of `mlp` after checking that `coords` (n × in_dim) and `values`
/// (n × out_dim) hold the same n ≥ 1 points: every backend's constructor starts here.
pub(crate) fn data_dims(
    mlp: &Mlp,
    coords: &[f32],
    values: &[f32],
) -> Result<(usize, usize), TrainError> {
    let in_dim = mlp.widths[0];
    let out_dim = mlp.widths[mlp.widths.len() - 1];
    if coords.is_empty()
        || !coords.len().is_multiple_of(in_dim)
        || coords.len() / in_dim * out_dim != values.len()
    {
        return Err(TrainError(format!(
            "data shape: {} coordinates and {} values do not fit a {in_dim}→{out_dim} network",
            coords.len(),
            values.len()
        )));
    }
    Ok((in_dim, out_dim))
}

/// What a training device must do. One implementation per device; the loop in [`fit`] is
/// shared.
pub trait Backend {
    /// A short name for logs (`cpu`, `cuda`).
    fn name(&self) -> &'static str;
    /// One Adam step of the backend's loss (MSE unless it was built with another) on a batch.
    /// A device backend may only queue the work.
    fn step(&mut self, batch: Batch) -> Result<(), TrainError>;
    /// The learning rate of the following steps: [`Adam::lr`] × `factor` (rounded to f32).
    fn set_lr_factor(&mut self, factor: f32) -> Result<(), TrainError>;
    /// Quantisation-aware training from the next step on: forward passes (steps and
    /// [`Backend::predict`]) through the export to `format` ([`Quantiser`]), gradients to the
    /// float parameters; `None` turns it off. A backend without it returns an error.
    fn set_qat(&mut self, format: Option<NumberFormat>) -> Result<(), TrainError>;
    /// The mean batch loss (before each update) over the steps since the previous call, NaN
    /// if any was not finite; waits for queued steps. Devices copy the loss back only here.
    fn take_loss(&mut self) -> Result<f64, TrainError>;
    /// The network's outputs at `coords` (n × in_dim) into `out` (n × out_dim).
    fn predict(&mut self, coords: &[f32], out: &mut [f32]) -> Result<(), TrainError>;
    /// A copy of the current parameters.
    fn parameters(&self) -> Mlp;
    /// Everything needed to continue exactly where the backend stands: parameters, Adam
    /// moments and counters, the minibatch sampler. Waits for queued steps.
    fn state(&mut self) -> Result<TrainState, TrainError>;
    /// Continues from `state` (taken from a backend of the same kind and network shape).
    fn restore(&mut self, state: &TrainState) -> Result<(), TrainError>;
}

/// A backend's optimiser state ([`Backend::state`]): what a checkpoint holds beyond the run's
/// progress.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainState {
    /// Steps the backend has taken.
    pub step: u64,
    /// Parameters, laid out as [`Mlp::flat_parameters`].
    pub params: Vec<f32>,
    /// Adam's first moments, same layout.
    pub m: Vec<f32>,
    /// Adam's second moments, same layout.
    pub v: Vec<f32>,
    /// β₁ᵗ and β₂ᵗ as the backend keeps them.
    pub beta_t: [f32; 2],
    /// The minibatch sampler's state, as the backend names it (the CPU's generator; nothing for
    /// samplers that are a function of the step).
    pub sampler: serde_json::Value,
}

impl TrainState {
    /// Checks that the state fits a network of `params` parameters.
    pub fn check(&self, params: usize) -> Result<(), TrainError> {
        if [self.params.len(), self.m.len(), self.v.len()] != [params; 3] {
            return Err(TrainError(format!(
                "the state holds {} parameters ({} and {} moments) but the network has {params}",
                self.params.len(),
                self.m.len(),
                self.v.len()
            )));
        }
        Ok(())
    }
}

/// Options of the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FitOptions {
    /// Optimisation steps.
    pub steps: u64,
    /// Batch per step.
    pub batch: Batch,
    /// Steps between evaluations on the whole signal (and snapshots of the model).
    pub eval_every: u64,
    /// The learning rate's schedule over the `steps`.
    pub schedule: Schedule,
    /// Quantisation-aware training for the steps after [`QatPlan::from`] (`None`: off).
    pub qat: Option<QatPlan>,
}

/// One evaluation on the whole signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Steps done.
    pub step: u64,
    /// Mean of the batch losses since the previous evaluation.
    pub loss: f64,
    /// PSNR of the network on the whole signal (values in [−1, 1]).
    pub psnr: f64,
    /// Training steps per second so far (evaluations excluded).
    pub steps_per_second: f64,
}

/// How far a run has come: where [`fit_from`] starts, and what a checkpoint records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// Steps done.
    pub step: u64,
    /// Every evaluation so far.
    pub evaluations: Vec<Evaluation>,
    /// Seconds spent in training steps so far.
    pub train_seconds: f64,
    /// `(mean loss, steps)` of the steps since the last evaluation, already taken from the
    /// backend (a checkpoint between evaluations); the next evaluation's loss includes them.
    pub pending_loss: Option<(f64, u64)>,
    /// The model of the last good evaluation (`None`: the network the run started from).
    pub good: Option<Mlp>,
}

/// What the caller does around the loop ([`fit`] takes a closure that only watches).
pub trait Watch {
    /// Called after every good evaluation, with the backend and the run so far (a checkpoint
    /// is written from here).
    fn evaluated(
        &mut self,
        evaluation: &Evaluation,
        backend: &mut dyn Backend,
        progress: &Progress,
    ) -> Result<(), TrainError>;

    /// Polled after every step: `Some(code)` ends the run there ([`Stop`](crate::stop::Stop)).
    fn stop(&self) -> Option<usize> {
        None
    }
}

/// A watcher that only shows each evaluation.
struct OnEval<'a>(&'a mut dyn FnMut(&Evaluation));

impl Watch for OnEval<'_> {
    fn evaluated(
        &mut self,
        evaluation: &Evaluation,
        _: &mut dyn Backend,
        _: &Progress,
    ) -> Result<(), TrainError> {
        (self.0)(evaluation);
        Ok(())
    }
}

/// What a fit produced.
#[derive(Debug, Clone)]
pub struct FitOutcome {
    /// The model of the last good evaluation.
    pub mlp: Mlp,
    /// Every evaluation.
    pub evaluations: Vec<Evaluation>,
    /// Steps of the last good evaluation (fewer than asked when the run diverged or stopped).
    pub steps: u64,
    /// Seconds spent in training steps.
    pub train_seconds: f64,
    /// Why the run stopped early, if it diverged.
    pub diverged: Option<String>,
    /// `(code, steps done)` when a stop request ended the run before its last step.
    pub stopped: Option<(usize, u64)>,
    /// The starting progress's [`Progress::pending_loss`] when no evaluation has used it yet.
    pub pending_loss: Option<(f64, u64)>,
}

/// Trains `backend` on `(coords, values)` and evaluates on all of them every `eval_every`
/// steps, calling `on_eval` after each evaluation. A non-finite loss stops the run and
/// returns the model of the last good evaluation.
pub fn fit(
    backend: &mut dyn Backend,
    coords: &[f32],
    values: &[f32],
    options: &FitOptions,
    on_eval: &mut dyn FnMut(&Evaluation),
) -> Result<FitOutcome, TrainError> {
    fit_from(backend, coords, values, options, Progress::default(), &mut OnEval(on_eval))
}

/// [`fit`] continuing a run that has made `progress` (the backend restored to the same step),
/// with a [`Watch`] that may write checkpoints and stop the run (at the end of a step, with
/// the model of the last good evaluation). Evaluations fall on the same steps as in an
/// uninterrupted run, so the two end alike.
pub fn fit_from(
    backend: &mut dyn Backend,
    coords: &[f32],
    values: &[f32],
    options: &FitOptions,
    progress: Progress,
    watch: &mut dyn Watch,
) -> Result<FitOutcome, TrainError> {
    let every = options.eval_every.max(1);
    let mut prediction = vec![0.0f32; values.len()];
    let mut run = progress;
    let mut good = run.good.take().unwrap_or_else(|| backend.parameters());
    let mut done = run.evaluations.last().map_or(0, |e| e.step);
    let mut diverged = None;
    let mut stopped = None;
    if let Some(q) = options.qat.filter(|q| run.step > q.from) {
        // Resumed inside the quantisation-aware part.
        backend.set_qat(Some(q.format))?;
    }
    for step in run.step + 1..=options.steps {
        let start = Instant::now();
        if let Some(q) = options.qat.filter(|q| q.from + 1 == step) {
            backend.set_qat(Some(q.format))?;
        }
        backend.set_lr_factor(options.schedule.factor(step, options.steps))?;
        backend.step(options.batch)?;
        run.train_seconds += start.elapsed().as_secs_f64();
        run.step = step;
        if step % every == 0 || step == options.steps {
            // The loss comes back (and queued device work finishes) only at evaluations.
            let start = Instant::now();
            let mut loss = backend.take_loss()?;
            run.train_seconds += start.elapsed().as_secs_f64();
            if let Some((mean, steps)) = run.pending_loss.take() {
                let now = step - done - steps;
                loss = (mean * steps as f64 + loss * now as f64) / (steps + now).max(1) as f64;
            }
            if !loss.is_finite() {
                diverged = Some(format!(
                    "diverged: the mean loss of steps {}..={step} is {loss}; keeping the model of step {done}",
                    done + 1
                ));
                break;
            }
            backend.predict(coords, &mut prediction)?;
            let psnr = crate::render::psnr(&prediction, values);
            if !psnr.is_finite() && prediction.iter().any(|p| !p.is_finite()) {
                diverged = Some(format!(
                    "diverged: the output is not finite at step {step}; keeping the model of step {done}"
                ));
                break;
            }
            done = step;
            let e = Evaluation {
                step,
                loss,
                psnr,
                steps_per_second: step as f64 / run.train_seconds.max(1e-12),
            };
            good = backend.parameters();
            run.evaluations.push(e);
            watch.evaluated(&e, backend, &run)?;
        }
        if let Some(code) = watch.stop().filter(|_| step < options.steps) {
            stopped = Some((code, step));
            break;
        }
    }
    Ok(FitOutcome {
        mlp: good,
        evaluations: run.evaluations,
        steps: done,
        train_seconds: run.train_seconds,
        diverged,
        stopped,
        pending_loss: run.pending_loss,
    })
}
