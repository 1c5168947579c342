//! `vi3nr fit`: load a signal, initialise, train, export, render and report — the main job.
//!
//! Everything a run writes goes into the output directory through temporary files renamed
//! into place, so an interrupted or failed run leaves no half-written file. A diverging run
//! still writes the last good model and reports the divergence as an error.

use crate::export::{Mlp, Vi3nrOptions, fourier_encode};
use crate::report::{Curves, write_curves_png};
use crate::signal::{self, Layout, Signal, atomic_write};
use crate::train::{Adam, Backend, Batch, CpuBackend, Evaluation, FitOptions, InitScheme, fit};
use rayon::prelude::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Instant;
use vi3nr_core::Act;
use vi3nr_core::init::{InputStats, SigmaP};
use vi3nr_core::model::{Model, NumberFormat};

/// Where training runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// Steps.
    pub steps: u64,
    /// Adam learning rate.
    pub lr: f32,
    /// Minibatch size; `None` for the full signal each step.
    pub batch: Option<usize>,
    /// Seed of the initialisation and the minibatches.
    pub seed: u64,
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
    /// Use the activation's recommended first-layer spread
    /// ([`Activation::default_first_sigma`](vi3nr_core::Activation::default_first_sigma)) for
    /// VI3NR, resolved for the signal's input dimension.
    pub default_first_sigma: bool,
}

/// One candidate of the σ_p search and how far it got.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Hidden-layer σ_p.
    pub sigma_p: f64,
    /// First-layer spread σ_0.
    pub first_sigma: f64,
    /// PSNR on the scoring points at the last rung it reached (dB).
    pub psnr: f64,
    /// That PSNR extrapolated to the fit's step count ([`extrapolate`]), which ranks
    /// the candidates (dB).
    pub score: f64,
    /// Trial steps it trained before it was dropped (or, for the winner, in all).
    pub steps: u64,
}

/// What every trial of the search shares with the fit it serves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trial {
    /// Hidden activation.
    pub act: Act,
    /// Adam learning rate.
    pub lr: f32,
    /// Minibatch size (`None`: the default for the signal).
    pub batch: Option<usize>,
    /// Seed of initialisation and minibatches.
    pub seed: u64,
    /// Steps of the full fit the search serves; they set its budget ([`Schedule::stages`]).
    pub steps: u64,
    /// Which points score the trials.
    pub score: Score,
}

/// Which points score the search's trials (`--search-score`). Either way every
/// [`HOLDOUT`]-th point is a scoring point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Score {
    /// The trials train on every point and are scored on the scoring points: the fit quality
    /// a fit of the signal is judged by (`vi3nr compare` reports PSNR on the fitted points).
    /// The default: scoring on held-out points penalises wide first layers, whose
    /// interpolation between samples is worse early on, and on the bundled photograph and
    /// `camera` picked SIREN's first-layer spread (43.6 and 40.1 dB after 300 steps) where
    /// this score picks twice it (55.4 and 63.3 dB).
    #[default]
    Fit,
    /// The scoring points are held out of the trials: generalisation between samples, for
    /// signals that will be rendered at other resolutions.
    HeldOut,
}

/// Multiples of the base σ_p (the backward-condition root, or the activation's default where
/// there is none) tried by the search's second stage.
pub const SIGMA_MULTIPLES: [f64; 4] = [0.5, 1.0, 2.0, 4.0];
/// The multiple of the base σ_p the first stage holds the hidden layers at: the base itself
/// (held at twice it, sinc's trials diverged for every spread but the narrowest, and the
/// search ended 1.2 dB below the textbook plan on the bundled photograph).
pub const FIRST_STAGE_SIGMA: f64 = 1.0;
/// Multiples of the first-layer anchor (the activation's recommended spread,
/// [`Activation::default_first_sigma`](vi3nr_core::Activation::default_first_sigma), or the
/// base σ_p where it has none) tried by the search's first stage: from half the anchor to 64
/// times it, since the best spread grows with the signal's sampling density (a photograph of
/// 128 px wants about 2× SIREN's spread for sine, a second of 22 kHz speech 64×).
pub const FIRST_MULTIPLES: [f64; 8] = [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];
/// Share of a fit step's points a trial step trains on (a random minibatch).
pub const TRIAL_BATCH_FRACTION: f64 = 0.5;
/// Every `HOLDOUT`-th point scores the trials (and with [`Score::HeldOut`] is held out of them).
pub const HOLDOUT: usize = 10;

/// The first stage's candidates `(σ_p, σ_0)`: σ_p at [`FIRST_STAGE_SIGMA`] × `base`, σ_0 at
/// every [`FIRST_MULTIPLES`] × `anchor`.
pub fn first_stage_grid(base: f64, anchor: f64) -> Vec<(f64, f64)> {
    FIRST_MULTIPLES.iter().map(|&f| (FIRST_STAGE_SIGMA * base, f * anchor)).collect()
}

/// The second stage's candidates `(σ_p, σ_0)`: every [`SIGMA_MULTIPLES`] × `base` with the
/// first stage's σ_0.
pub fn second_stage_grid(base: f64, first_sigma: f64) -> Vec<(f64, f64)> {
    SIGMA_MULTIPLES.iter().map(|&m| (m * base, first_sigma)).collect()
}

/// The search's budget in full-fit step equivalents for a fit of `steps` steps, net of the
/// steps the final fit saves by starting from the winner ([`Search::extra_steps`]): a quarter
/// of the fit up to 300 steps, then growing as √steps (14 % at 1,000 steps, 4 % at 10,000).
pub fn search_budget(steps: u64) -> f64 {
    let s = steps as f64;
    if s <= 300.0 { 0.25 * s } else { 75.0 * (s / 300.0).sqrt() }
}

/// The first stage's rungs as (candidates, cumulative trial steps in units): all 8 σ_0
/// candidates for one unit, the best 3 to 4 units, the best 2 to 8 units.
pub const FIRST_STAGE_RUNGS: [(usize, u64); 3] = [(8, 1), (3, 4), (2, 8)];
/// The second stage's rungs: all 4 σ_p candidates for 2 units, the best 2 to 8 units.
pub const SECOND_STAGE_RUNGS: [(usize, u64); 2] = [(4, 2), (2, 8)];

/// One rung of successive halving: `candidates` networks trained on to `steps` trial steps in
/// all, then scored on the scoring points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rung {
    /// Networks still in the race.
    pub candidates: usize,
    /// Trial steps each has had at the end of the rung.
    pub steps: u64,
}

/// One stage's successive halving: every rung trains the survivors of the previous one on
/// and keeps the best. Trial steps train on random minibatches of [`TRIAL_BATCH_FRACTION`] of
/// a fit step's points, so one costs that fraction of a fit step.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// The rungs, first to last.
    pub rungs: Vec<Rung>,
    /// Cost of one trial step in fit steps (the trial batch over the fit's batch).
    pub step_cost: f64,
    /// Cost of scoring one network on the scoring points, in fit steps (a forward pass is
    /// counted as a third of a training step).
    pub eval_cost: f64,
}

impl Schedule {
    /// `shape`'s rungs with `unit` trial steps per unit, for a fit whose steps train on
    /// `fit_points` points, trials training on `trial_batch` points per step and scoring on
    /// `held` points.
    pub fn new(
        shape: &[(usize, u64)],
        unit: u64,
        fit_points: usize,
        trial_batch: usize,
        held: usize,
    ) -> Schedule {
        let fit_points = fit_points.max(1) as f64;
        Schedule {
            rungs: shape.iter().map(|&(n, u)| Rung { candidates: n, steps: u * unit }).collect(),
            step_cost: trial_batch as f64 / fit_points,
            eval_cost: held as f64 / (3.0 * fit_points),
        }
    }

    /// The two stages' schedules ([`FIRST_STAGE_RUNGS`], [`SECOND_STAGE_RUNGS`]) with the
    /// largest unit (at least one step) whose net cost — both stages' [`Schedule::cost`] less
    /// the second stage's [`Schedule::winner_cost`], which the final fit reuses — stays within
    /// [`search_budget`] of a fit of `steps` steps. A unit of one step costs about 19 fit
    /// steps, so fits shorter than about 80 steps pay more than a quarter (the cost fraction
    /// the search reports says how much).
    pub fn stages(steps: u64, fit_points: usize, trial_batch: usize, held: usize) -> [Schedule; 2] {
        let stages = |unit: u64| {
            [
                Schedule::new(&FIRST_STAGE_RUNGS, unit, fit_points, trial_batch, held),
                Schedule::new(&SECOND_STAGE_RUNGS, unit, fit_points, trial_batch, held),
            ]
        };
        let net = |s: &[Schedule; 2]| s[0].cost() + s[1].cost() - s[1].winner_cost() as f64;
        let budget = search_budget(steps);
        let mut unit = 1;
        while net(&stages(unit + 1)) <= budget {
            unit += 1;
        }
        stages(unit)
    }

    /// Trial steps of every network summed over the rungs.
    pub fn trial_steps(&self) -> u64 {
        let mut done = 0;
        let mut total = 0;
        for r in &self.rungs {
            total += r.candidates as u64 * (r.steps - done);
            done = r.steps;
        }
        total
    }

    /// Everything the search costs, in fit steps: the trial steps and the scoring at
    /// the end of every rung.
    pub fn cost(&self) -> f64 {
        let evals: usize = self.rungs.iter().map(|r| r.candidates).sum();
        self.trial_steps() as f64 * self.step_cost + evals as f64 * self.eval_cost
    }

    /// Trial steps of the winner (the last rung's count).
    pub fn winner_steps(&self) -> u64 {
        self.rungs.last().map_or(0, |r| r.steps)
    }

    /// Fit steps the winner's trials stand for (rounded up).
    pub fn winner_cost(&self) -> u64 {
        (self.winner_steps() as f64 * self.step_cost).ceil() as u64
    }
}

/// The search's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// Every candidate of both stages with its PSNR on the scoring points at the last rung it reached.
    pub candidates: Vec<Candidate>,
    /// Index of the best candidate (of the second stage).
    pub best: usize,
    /// The VI3NR options of the best candidate.
    pub chosen: Vi3nrOptions,
    /// The best candidate's network after its trials: the final fit starts from it.
    pub start: Mlp,
    /// The halving schedules of the two stages.
    pub schedules: [Schedule; 2],
    /// Steps of the fit the search serves.
    pub fit_steps: u64,
    /// Wall seconds of the whole search.
    pub seconds: f64,
}

impl Search {
    /// Everything the trials of both stages cost, in steps of the final fit
    /// ([`Schedule::cost`]).
    pub fn cost_in_steps(&self) -> f64 {
        self.schedules.iter().map(Schedule::cost).sum()
    }

    /// Steps the final fit leaves out because it starts from the winner's trained weights: the
    /// winner's trial steps in fit steps, rounded up, leaving the fit at least one step.
    pub fn reused_steps(&self) -> u64 {
        self.schedules[1].winner_cost().min(self.fit_steps.saturating_sub(1))
    }

    /// What the search adds to a fit of the same total compute, in fit steps: its cost less
    /// the steps the winner's trials saved the final fit (never negative).
    pub fn extra_steps(&self) -> f64 {
        (self.cost_in_steps() - self.reused_steps() as f64).max(0.0)
    }

    /// [`Search::extra_steps`] as a fraction of the fit's steps.
    pub fn cost_fraction(&self) -> f64 {
        self.extra_steps() / self.fit_steps.max(1) as f64
    }
}

/// The points a search trains its trials on and scores them with.
struct Split {
    train_x: Vec<f32>,
    train_y: Vec<f32>,
    held_x: Vec<f32>,
    held_y: Vec<f32>,
}

/// Successive halving of `grid` by `schedule`: all candidates in parallel, each a VI3NR network
/// with `options`' bias scheme trained with random minibatches of `trial_batch` training
/// points; each rung scores them on the scoring points and keeps the better part. Records
/// every candidate in `candidates`; returns the index (into `candidates`) and network of the
/// winner.
#[allow(clippy::too_many_arguments)]
fn race(
    grid: &[(f64, f64)],
    schedule: &Schedule,
    split: &Split,
    widths: &[usize],
    trial: &Trial,
    options: &Vi3nrOptions,
    input: InputStats,
    trial_batch: usize,
    candidates: &mut Vec<Candidate>,
) -> Result<(usize, Mlp), String> {
    let offset = candidates.len();
    candidates.extend(grid.iter().map(|&(sigma_p, first_sigma)| Candidate {
        sigma_p,
        first_sigma,
        psnr: f64::NAN,
        score: f64::NAN,
        steps: 0,
    }));
    let mut racing = grid
        .par_iter()
        .enumerate()
        .map(|(k, &(sigma_p, first_sigma))| {
            let candidate = Vi3nrOptions {
                sigma_p: SigmaP::Value(sigma_p),
                first_sigma: Some(first_sigma),
                bias: options.bias,
            };
            let mlp = Mlp::vi3nr_for(widths, trial.act, &candidate, trial.seed, input)
                .map_err(|e| e.to_string())?;
            let adam = Adam::with_lr(trial.lr);
            CpuBackend::new(mlp, &split.train_x, &split.train_y, adam, trial.seed)
                .map(|cpu| (offset + k, cpu))
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, String>>()?;
    let score = |cpu: &mut CpuBackend| -> Result<f64, String> {
        let loss = cpu.take_loss().map_err(|e| e.to_string())?;
        let mut out = vec![0.0f32; split.held_y.len()];
        cpu.predict(&split.held_x, &mut out).map_err(|e| e.to_string())?;
        let psnr = signal::psnr(&out, &split.held_y);
        Ok(if loss.is_finite() && psnr.is_finite() { psnr } else { f64::NEG_INFINITY })
    };
    let train = |cpu: &mut CpuBackend, steps: u64| -> Result<(), String> {
        for _ in 0..steps {
            cpu.step(Batch::Random(trial_batch)).map_err(|e| e.to_string())?;
        }
        Ok(())
    };
    // (steps, scoring PSNR) of every candidate at its previous evaluation.
    let mut previous = vec![(0u64, f64::NAN); grid.len()];
    let mut done = 0;
    for (r, rung) in schedule.rungs.iter().enumerate() {
        racing.truncate(rung.candidates);
        let steps = rung.steps - done;
        let results = racing
            .par_iter_mut()
            .map(|(_, cpu)| {
                train(cpu, steps)?;
                score(cpu)
            })
            .collect::<Result<Vec<_>, String>>()?;
        done = rung.steps;
        for ((k, _), &psnr) in racing.iter().zip(&results) {
            let c = &mut candidates[*k];
            // The first rung ranks by PSNR: a slope over its first few steps is mostly noise.
            let before = previous[*k - offset];
            c.score = if r == 0 { psnr } else { extrapolate(before, (done, psnr), trial.steps) };
            c.psnr = psnr;
            c.steps = done;
            previous[*k - offset] = (done, psnr);
        }
        racing.sort_by(|a, b| candidates[b.0].score.total_cmp(&candidates[a.0].score));
    }
    let (best, winner) = racing.first().ok_or("the search produced no candidate")?;
    if !candidates[*best].score.is_finite() {
        return Err("every candidate of the σ_p search diverged".into());
    }
    Ok((*best, winner.parameters()))
}

/// The scoring PSNR `now = (steps, dB)` extrapolated to `target` steps along the line through
/// `before` in PSNR against log(steps): INR fits gain roughly the same dB per doubling of the
/// steps, and a candidate with a wide first layer starts lower but climbs faster, so ranking
/// short trials by their PSNR alone favours narrow first layers that lose at the fit's length.
/// Without a usable `before` (no earlier evaluation, not finite) it is `now`'s PSNR; a
/// non-finite `now` scores −∞.
pub fn extrapolate(before: (u64, f64), now: (u64, f64), target: u64) -> f64 {
    let ((s0, p0), (s1, p1)) = (before, now);
    if !p1.is_finite() {
        return f64::NEG_INFINITY;
    }
    if s0 == 0 || s1 <= s0 || !p0.is_finite() || target <= s1 {
        return p1;
    }
    let per_doubling = (p1 - p0) / (s1 as f64 / s0 as f64).log2();
    p1 + per_doubling * (target as f64 / s1 as f64).log2()
}

/// Searches the first-layer spread σ_0 and then σ_p by short trial fits, each stage a race of
/// successive halving ([`Schedule::stages`], within [`search_budget`]):
/// 1. σ_0 over [`first_stage_grid`] (σ_p at [`FIRST_STAGE_SIGMA`] × the base), since the
///    first layer's spread sets the network's frequency support and matters most;
/// 2. σ_p over [`second_stage_grid`] at the winning σ_0.
///
/// Trials train with random minibatches of [`TRIAL_BATCH_FRACTION`] of a fit step's points,
/// are evaluated by PSNR on every [`HOLDOUT`]-th point (trained on with [`Score::Fit`], held
/// out with [`Score::HeldOut`]), and ranked by that PSNR (first rung) or by it
/// [extrapolated](extrapolate) to the fit's step count from the candidate's last two
/// evaluations (later rungs). The second stage's winner becomes [`Search::chosen`], and its
/// trained network [`Search::start`].
pub fn search(
    inputs: &[f32],
    values: &[f32],
    widths: &[usize],
    trial: &Trial,
    options: &Vi3nrOptions,
    input: InputStats,
) -> Result<Search, String> {
    let started = Instant::now();
    let (i, o) = (widths[0], widths[widths.len() - 1]);
    let n = values.len() / o;
    let mut split =
        Split { train_x: Vec::new(), train_y: Vec::new(), held_x: Vec::new(), held_y: Vec::new() };
    for p in 0..n {
        let (x, y) = (&inputs[p * i..(p + 1) * i], &values[p * o..(p + 1) * o]);
        let scoring = p % HOLDOUT == HOLDOUT - 1;
        if scoring {
            split.held_x.extend_from_slice(x);
            split.held_y.extend_from_slice(y);
        }
        if !scoring || trial.score == Score::Fit {
            split.train_x.extend_from_slice(x);
            split.train_y.extend_from_slice(y);
        }
    }
    if split.held_y.is_empty() {
        return Err(format!("--sigma-p search needs at least {HOLDOUT} points"));
    }
    let base = vi3nr_core::init::Plan::<{ vi3nr_core::model::MAX_LAYERS }>::new(
        &vi3nr_core::init::PlanSpec {
            widths,
            activations: &[trial.act],
            input: &[input],
            sigma_p: options.sigma_p,
            first_sigma: None,
            bias: options.bias,
            solve: vi3nr_core::init::SolveOptions::default(),
        },
    )
    .map_err(|e| e.to_string())?
    .sigma_p;
    let x2 = input.mean * input.mean + input.var;
    let anchor = vi3nr_core::Activation::default_first_sigma(&trial.act, i, x2).unwrap_or(base);
    let fit_points = match Batch::for_signal(trial.batch, n) {
        Batch::Full => n,
        Batch::Random(k) => k,
    };
    let trial_batch = ((fit_points as f64 * TRIAL_BATCH_FRACTION).ceil() as usize).max(1);
    let held = n / HOLDOUT;
    let [first, second] = Schedule::stages(trial.steps, fit_points, trial_batch, held);
    let mut candidates = Vec::new();
    let grid = first_stage_grid(base, anchor);
    let race_on = |grid: &[(f64, f64)], schedule: &Schedule, c: &mut Vec<Candidate>| {
        race(grid, schedule, &split, widths, trial, options, input, trial_batch, c)
    };
    let (k, _) = race_on(&grid, &first, &mut candidates)?;
    let grid = second_stage_grid(base, candidates[k].first_sigma);
    let (best, start) = race_on(&grid, &second, &mut candidates)?;
    let c = candidates[best];
    let chosen = Vi3nrOptions {
        sigma_p: SigmaP::Value(c.sigma_p),
        first_sigma: Some(c.first_sigma),
        bias: options.bias,
    };
    let seconds = started.elapsed().as_secs_f64();
    Ok(Search {
        candidates,
        best,
        chosen,
        start,
        schedules: [first, second],
        fit_steps: trial.steps,
        seconds,
    })
}

/// `5×10 → 3×20`: a schedule's rungs as candidates × cumulative trial steps.
pub fn rungs(schedule: &Schedule) -> String {
    let rungs: Vec<String> =
        schedule.rungs.iter().map(|r| format!("{}×{}", r.candidates, r.steps)).collect();
    rungs.join(" → ")
}

/// `m` Gaussian random frequency rows of `dim` values with standard deviation `scale`.
pub fn fourier_frequencies(m: usize, dim: usize, scale: f32, seed: u64) -> Vec<f32> {
    use rand_xoshiro::Xoshiro256PlusPlus;
    use rand_xoshiro::rand_core::SeedableRng;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0xF0F0_F0F0);
    let mut freqs = vec![0.0f32; m * dim];
    vi3nr_core::init::sample_normal(f64::from(scale), &mut freqs, &mut rng);
    freqs
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

/// Evaluates `model` at every coordinate with the vi3nr-core evaluator, on all cores.
pub fn render(model: &Model<'_>, coords: &[f32]) -> Result<Vec<f32>, String> {
    let (i, o) = (model.in_dim, model.out_dim);
    let mut out = vec![0.0f32; coords.len() / i * o];
    out.par_chunks_mut(1024 * o).zip(coords.par_chunks(1024 * i)).try_for_each(|(y, x)| {
        crate::export::eval_points(model, x)
            .map(|v| y.copy_from_slice(&v))
            .map_err(|e| e.to_string())
    })?;
    Ok(out)
}

/// The network as PyTorch `nn.Sequential` weights: linear layers at even indices
/// (`0.weight`, `0.bias`, `2.weight`, …), activations between them; metadata `format`,
/// `activation`, `widths`, and for Fourier-encoded inputs `fourier_shape` (m,dim) and
/// `fourier_frequencies` (row-major, cycles per unit).
pub fn safetensors_bytes(mlp: &Mlp) -> Result<Vec<u8>, String> {
    use safetensors::tensor::{Dtype, TensorView};
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (i, (w, b)) in mlp.weights.iter().zip(&mlp.biases).enumerate() {
        let (fi, fo) = (mlp.widths[i], mlp.widths[i + 1]);
        tensors.push((format!("{}.weight", 2 * i), vec![fo, fi], bytemuck::cast_slice(w).to_vec()));
        tensors.push((format!("{}.bias", 2 * i), vec![fo], bytemuck::cast_slice(b).to_vec()));
    }
    let views = tensors
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let widths: Vec<String> = mlp.widths.iter().map(|w| w.to_string()).collect();
    let mut metadata: std::collections::HashMap<String, String> = [
        ("format".to_string(), "vi3nr".to_string()),
        ("activation".to_string(), mlp.act.to_string()),
        ("widths".to_string(), widths.join(",")),
    ]
    .into_iter()
    .collect();
    if !mlp.fourier.is_empty() {
        // The encoding is not a module of the Sequential: its frequencies travel as metadata.
        let freqs: Vec<String> = mlp.fourier.iter().map(|f| f.to_string()).collect();
        metadata
            .insert("fourier_shape".into(), format!("{},{}", mlp.widths[0] / 2, mlp.coord_dim()));
        metadata.insert("fourier_frequencies".into(), freqs.join(","));
    }
    safetensors::tensor::serialize(views, Some(metadata)).map_err(|e| e.to_string())
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
    let mut widths = vec![first];
    widths.extend(&config.hidden);
    widths.push(signal.out_dim());
    let mut init = config.init;
    if let (true, InitScheme::Vi3nr(options)) = (config.default_first_sigma, &mut init) {
        let x2 = input.mean * input.mean + input.var;
        options.first_sigma = vi3nr_core::Activation::default_first_sigma(&config.act, first, x2);
    }
    let mut frequencies = Vec::new();
    if let Some((m, scale)) = config.fourier {
        frequencies = fourier_frequencies(m, signal.in_dim(), scale, config.seed);
    }
    let inputs = fourier_encode(&frequencies, signal.in_dim(), &signal.coords);
    let mut searched = None;
    if config.search {
        let InitScheme::Vi3nr(options) = config.init else {
            return Err("--sigma-p search applies to --init vi3nr".into());
        };
        let trial = Trial {
            act: config.act,
            lr: config.lr,
            batch: config.batch,
            seed: config.seed,
            steps: config.steps,
            score: config.search_score,
        };
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
        None => init.init_for(&widths, config.act, config.seed, input)?,
    };
    mlp.fourier = frequencies;
    let steps = config.steps - searched.as_ref().map_or(0, Search::reused_steps);
    let adam = Adam::with_lr(config.lr);
    let cuda = match config.device {
        Device::Cpu => None,
        Device::Auto | Device::Cuda => {
            match crate::cuda::open(mlp.clone(), &inputs, &signal.values, adam, config.seed) {
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
            CpuBackend::new(mlp, &inputs, &signal.values, adam, config.seed)
                .map_err(|e| e.to_string())?,
        ),
    };
    let batch = Batch::for_signal(config.batch, signal.len());
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
        exported.push((format, signal::psnr(&rendered, &signal.values), bytes, rendered));
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
                    "first_sigma": o.first_sigma,
                    "bias": format!("{:?}", o.bias),
                }),
                _ => Value::Null,
            },
            "widths": widths,
            "fourier": config.fourier.map(|(m, scale)| json!({"frequencies": m, "scale": scale})),
            "steps": config.steps,
            "lr": config.lr,
            "batch": config.batch,
            "seed": config.seed,
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
