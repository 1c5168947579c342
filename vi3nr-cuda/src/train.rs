//! Fitting an MLP to a signal: the settings every fit shares, the [`Backend`] trait, the CPU
//! backend and the training loop, which knows nothing of the backend it drives.

mod cpu;

pub use cpu::CpuBackend;

use crate::mlp::Mlp;
use std::fmt;
use std::time::Instant;

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
}

impl Training {
    /// Checks every value before any work starts: steps > 0, a finite positive learning rate,
    /// a batch > 0, at least one hidden width, all > 0.
    pub fn check(&self) -> Result<(), String> {
        if self.steps == 0 {
            return Err("--steps must be > 0".into());
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(format!("--lr must be finite and > 0, got {}", self.lr));
        }
        if self.batch == Some(0) {
            return Err("--batch must be > 0".into());
        }
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            return Err("--hidden needs at least one width, all > 0".into());
        }
        Ok(())
    }

    /// The network's widths for `in_dim` inputs and `out_dim` outputs.
    pub fn widths(&self, in_dim: usize, out_dim: usize) -> Vec<usize> {
        let mut widths = vec![in_dim];
        widths.extend(&self.hidden);
        widths.push(out_dim);
        widths
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

/// Adam's hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adam {
    /// Learning rate.
    pub lr: f32,
    /// First-moment decay.
    pub beta1: f32,
    /// Second-moment decay.
    pub beta2: f32,
    /// Denominator guard.
    pub eps: f32,
}

impl Batch {
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
        Adam { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8 }
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
    /// One Adam step of MSE on a batch. A device backend may only queue the work.
    fn step(&mut self, batch: Batch) -> Result<(), TrainError>;
    /// The mean batch loss (before each update) over the steps since the previous call, NaN
    /// if any was not finite; waits for queued steps. Devices copy the loss back only here.
    fn take_loss(&mut self) -> Result<f64, TrainError>;
    /// The network's outputs at `coords` (n × in_dim) into `out` (n × out_dim).
    fn predict(&mut self, coords: &[f32], out: &mut [f32]) -> Result<(), TrainError>;
    /// A copy of the current parameters.
    fn parameters(&self) -> Mlp;
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

/// What a fit produced.
#[derive(Debug, Clone)]
pub struct FitOutcome {
    /// The model of the last good evaluation.
    pub mlp: Mlp,
    /// Every evaluation.
    pub evaluations: Vec<Evaluation>,
    /// Steps done (fewer than asked when the run diverged).
    pub steps: u64,
    /// Seconds spent in training steps.
    pub train_seconds: f64,
    /// Why the run stopped early, if it did.
    pub diverged: Option<String>,
}

/// Trains `backend` on `(coords, values)` and evaluates on all of them every `eval_every`
/// steps, calling `on_eval` after each evaluation. A non-finite loss stops the run and returns
/// the model of the last good evaluation.
pub fn fit(
    backend: &mut dyn Backend,
    coords: &[f32],
    values: &[f32],
    options: &FitOptions,
    on_eval: &mut dyn FnMut(&Evaluation),
) -> Result<FitOutcome, TrainError> {
    let every = options.eval_every.max(1);
    let mut prediction = vec![0.0f32; values.len()];
    let mut good = backend.parameters();
    let mut evaluations = Vec::new();
    let mut train_seconds = 0.0;
    let mut done = 0;
    let mut diverged = None;
    for step in 1..=options.steps {
        let start = Instant::now();
        backend.step(options.batch)?;
        train_seconds += start.elapsed().as_secs_f64();
        if step % every == 0 || step == options.steps {
            // The loss comes back (and queued device work finishes) only at evaluations.
            let start = Instant::now();
            let loss = backend.take_loss()?;
            train_seconds += start.elapsed().as_secs_f64();
            if !loss.is_finite() {
                let last = evaluations.last().map_or(0, |e: &Evaluation| e.step);
                diverged = Some(format!(
                    "diverged: the mean loss of steps {}..={step} is {loss}; keeping the model of step {last}",
                    last + 1
                ));
                break;
            }
            done = step;
            backend.predict(coords, &mut prediction)?;
            let psnr = crate::render::psnr(&prediction, values);
            if !psnr.is_finite() && prediction.iter().any(|p| !p.is_finite()) {
                let last = evaluations.last().map_or(0, |e: &Evaluation| e.step);
                diverged = Some(format!(
                    "diverged: the output is not finite at step {step}; keeping the model of step {last}"
                ));
                break;
            }
            let e = Evaluation {
                step,
                loss,
                psnr,
                steps_per_second: step as f64 / train_seconds.max(1e-12),
            };
            good = backend.parameters();
            evaluations.push(e);
            on_eval(&e);
        }
    }
    Ok(FitOutcome { mlp: good, evaluations, steps: done, train_seconds, diverged })
}
