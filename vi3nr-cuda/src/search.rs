//! `--sigma-p search`: short trial fits of candidate initialisations, raced by successive
//! halving; the winner starts the final fit (see README, "The first layer's spread matters
//! most", for the design and its measured cost).

use std::time::Instant;

use rayon::prelude::*;
use vi3nr_core::Act;
use vi3nr_core::init::{FirstSigma, InputStats, SigmaP};

use crate::mlp::Mlp;
use crate::render::psnr;
use crate::schemes::{InitScheme, Vi3nrOptions};
use crate::stop::Stop;
use crate::train::{Adam, Backend, Batch, CpuBackend, Loss, Training};

/// What a search varies, and the network a candidate starts as.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Family {
    /// VI3NR with these options: candidates vary σ_0 and σ_p around the plan's anchor and root.
    Vi3nr(Vi3nrOptions),
    /// A baseline given the same search: its first layer's weights rescaled so that its
    /// pre-activations spread `first_sigma` (the same σ_0 grid as VI3NR's, SIREN's ω_0 in
    /// effect), and its hidden layers' weights multiplied by `gain` (the same multiples as
    /// VI3NR's σ_p, around 1: the scheme's own).
    Scaled {
        /// The baseline (Xavier, PyTorch or SIREN).
        scheme: InitScheme,
        /// Factor on the weights of the layers between hidden layers.
        gain: f64,
        /// Spread of the first layer's pre-activations (bias excluded).
        first_sigma: f64,
    },
}

impl Family {
    /// The candidate of this family at `(sigma_p, first_sigma)` (for a baseline, σ_p is the
    /// hidden gain).
    pub fn at(&self, sigma_p: f64, first_sigma: f64) -> Family {
        match *self {
            Family::Vi3nr(o) => Family::Vi3nr(Vi3nrOptions {
                sigma_p: SigmaP::Value(sigma_p),
                first_sigma: FirstSigma::Value(first_sigma),
                bias: o.bias,
            }),
            Family::Scaled { scheme, .. } => Family::Scaled { scheme, gain: sigma_p, first_sigma },
        }
    }

    /// The VI3NR options, for the VI3NR family.
    pub fn vi3nr(&self) -> Option<Vi3nrOptions> {
        match self {
            Family::Vi3nr(o) => Some(*o),
            Family::Scaled { .. } => None,
        }
    }

    /// A network of this family (for a baseline, its scheme's network rescaled).
    pub fn init(
        &self,
        widths: &[usize],
        act: Act,
        seed: u64,
        input: InputStats,
    ) -> Result<Mlp, String> {
        match *self {
            Family::Vi3nr(o) => o.init(widths, act, seed, input).map_err(|e| e.to_string()),
            Family::Scaled { scheme, gain, first_sigma } => {
                let mut mlp = scheme.init_for(widths, act, seed, input)?;
                crate::schemes::rescale(&mut mlp, input, gain, first_sigma)
                    .map_err(|e| e.to_string())?;
                Ok(mlp)
            }
        }
    }
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
    /// Adam's learning rate and clipping (trials keep the rate constant).
    pub adam: Adam,
    /// Minibatch size (`None`: the default for the signal).
    pub batch: Option<usize>,
    /// Seed of initialisation and minibatches.
    pub seed: u64,
    /// Steps of the full fit the search serves; they set its budget ([`Schedule::stages`]).
    pub steps: u64,
    /// Which points score the trials.
    pub score: Score,
    /// The loss the trials minimise (the fit's).
    pub loss: Loss,
}

impl Trial {
    /// The trials of a fit of `act` networks with `training`'s settings, scored by `score`;
    /// they minimise `training`'s loss (MSE when it names none).
    pub fn new(act: Act, training: &Training, score: Score) -> Self {
        Trial {
            act,
            adam: Adam::for_training(training),
            batch: training.batch,
            seed: training.seed,
            steps: training.steps,
            score,
            loss: training.loss.unwrap_or_default(),
        }
    }
}

/// Which points score the search's trials (`--search-score`). Either way every
/// [`HOLDOUT`]-th point is a scoring point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Score {
    /// The trials train on every point, scoring points included: the fit quality.
    //
    // The default, and what `vi3nr compare` reports (PSNR on the fitted points): scoring on
    // held-out points penalises wide first layers, whose interpolation between samples is
    // worse early on, and on the bundled photograph and `camera` picked SIREN's first-layer
    // spread (43.6 and 40.1 dB after 300 steps) where this score picks twice it (55.4 and
    // 63.3 dB).
    #[default]
    Fit,
    /// The scoring points are held out of the trials: interpolation between samples.
    #[value(name = "heldout")]
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
    /// The best candidate's initialisation.
    pub chosen: Family,
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
    family: &Family,
    input: InputStats,
    trial_batch: usize,
    candidates: &mut Vec<Candidate>,
    stop: &Stop,
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
            let mlp = family.at(sigma_p, first_sigma).init(widths, trial.act, trial.seed, input)?;
            let adam = trial.adam;
            CpuBackend::new(mlp, &split.train_x, &split.train_y, adam, trial.seed)
                .map(|cpu| (offset + k, cpu.with_loss(trial.loss)))
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, String>>()?;
    let score = |cpu: &mut CpuBackend| -> Result<f64, String> {
        let loss = cpu.take_loss().map_err(|e| e.to_string())?;
        let mut out = vec![0.0f32; split.held_y.len()];
        cpu.predict(&split.held_x, &mut out).map_err(|e| e.to_string())?;
        let psnr = psnr(&out, &split.held_y);
        Ok(if loss.is_finite() && psnr.is_finite() { psnr } else { f64::NEG_INFINITY })
    };
    let train = |cpu: &mut CpuBackend, steps: u64| -> Result<(), String> {
        for _ in 0..steps {
            if stop.requested().is_some() {
                return Err("stopped during the σ_p search, before the fit: nothing written".into());
            }
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
/// trained network [`Search::start`]. A `stop` request ends it with an error between steps.
pub fn search(
    inputs: &[f32],
    values: &[f32],
    widths: &[usize],
    trial: &Trial,
    family: &Family,
    input: InputStats,
    stop: &Stop,
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
    // The base σ_p and the first-layer anchor: the activation's recommended spread, or the
    // base σ_p where it has none. A baseline's search has the same anchor and a gain of 1 as
    // its base.
    let options = family.vi3nr().unwrap_or_default();
    let plan = Vi3nrOptions { first_sigma: FirstSigma::Recommended, ..options }
        .plan(widths, trial.act, input)
        .map_err(|e| e.to_string())?;
    let base = if family.vi3nr().is_some() { plan.sigma_p } else { 1.0 };
    let anchor = plan.first_sigma;
    let fit_points = Batch::for_signal(trial.batch, n).rows(n);
    let trial_batch = ((fit_points as f64 * TRIAL_BATCH_FRACTION).ceil() as usize).max(1);
    let held = n / HOLDOUT;
    let [first, second] = Schedule::stages(trial.steps, fit_points, trial_batch, held);
    let mut candidates = Vec::new();
    let grid = first_stage_grid(base, anchor);
    let race_on = |grid: &[(f64, f64)], schedule: &Schedule, c: &mut Vec<Candidate>| {
        race(grid, schedule, &split, widths, trial, family, input, trial_batch, c, stop)
    };
    let (k, _) = race_on(&grid, &first, &mut candidates)?;
    let grid = second_stage_grid(base, candidates[k].first_sigma);
    let (best, start) = race_on(&grid, &second, &mut candidates)?;
    let c = candidates[best];
    let chosen = family.at(c.sigma_p, c.first_sigma);
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
