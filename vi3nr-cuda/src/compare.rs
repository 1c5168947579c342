//! `vi3nr compare`: the same signal fitted once per initialisation scheme and activation, with
//! equal steps, learning rate, schedule, widths and seed, and with the search given to every
//! scheme alike, to see whether VI3NR beats the baselines and which part of its gain is the
//! plan and which the search's procedure.
//!
//! On a mesh's SDF samples the rows are measured as `vi3nr fit` measures a mesh
//! ([`MeshFit::measure_mlp`]: the surface extracted at the fit's mesh resolution, Chamfer-L1,
//! Hausdorff and IoU against the mesh) and ranked by Chamfer-L1; VI3NR's first layer is
//! planned for the samples' own statistics ([`planned_input`]), and the loss is the mesh
//! default unless one is asked for.

use vi3nr_core::Act;
use vi3nr_core::init::{InputStats, SigmaP};

use crate::fitting::{MeshFit, planned_input};
use crate::mesh_metrics::MeshMetrics;
use crate::mlp::Mlp;
use crate::schemes::{InitScheme, Vi3nrOptions};
use crate::search::{Family, Score, Search, Trial, search};
use crate::signal::Signal;
use crate::stop::Stop;
use crate::train::{Adam, Batch, CpuBackend, Training, fit};

/// What every run of one comparison shares: the signal, the network's widths, the first
/// layer's planned input statistics and, for a mesh, what measures the surface.
#[derive(Clone, Copy)]
struct Job<'a> {
    signal: &'a Signal,
    widths: &'a [usize],
    input: InputStats,
    mesh: Option<&'a MeshFit>,
}

/// One run's result.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareRow {
    /// Activation.
    pub act: Act,
    /// Row label: the scheme's name, `vi3nr-plan`, `<scheme>-search` or `<scheme>+eq`.
    pub init: &'static str,
    /// Seed of the initialisation and the minibatches.
    pub seed: u64,
    /// PSNR on the whole signal after the last step (dB).
    pub psnr: f64,
    /// Best PSNR seen at any evaluation (dB).
    pub best_psnr: f64,
    /// Training seconds (for `vi3nr-search`, the search's wall seconds included).
    pub seconds: f64,
    /// Steps of the fit (for `vi3nr-search`, of the final fit after the search).
    pub steps: u64,
    /// For `vi3nr-search`: the chosen σ_p and σ_0, and the search's cost as a fraction of the
    /// fit; empty otherwise.
    pub detail: String,
    /// Divergence message, if any.
    pub diverged: Option<String>,
    /// For a mesh: the final network's surface measured against the mesh (mesh units).
    pub mesh: Option<MeshMetrics>,
}

impl CompareRow {
    /// What ranks the rows, higher better: −Chamfer-L1 for a mesh, the PSNR otherwise.
    pub fn score(&self) -> f64 {
        match self.mesh {
            Some(m) => -m.chamfer_l1,
            None => self.psnr,
        }
    }
}

/// The activations compared: the paper's INR activations.
pub const ACTIVATIONS: [Act; 4] = [
    Act::Sine { omega: 30.0 },
    Act::Gaussian { a: 0.05 },
    Act::Sinc,
    Act::Wavelet { omega: 1.0, s: 1.0 },
];

/// Every (activation, scheme) pair: VI3NR, Xavier, PyTorch, and SIREN for sine.
pub fn runs() -> Vec<(Act, InitScheme)> {
    let mut runs = Vec::new();
    for act in ACTIVATIONS {
        runs.push((act, InitScheme::vi3nr(SigmaP::Auto(None))));
        runs.push((act, InitScheme::Xavier));
        runs.push((act, InitScheme::PyTorch));
        if matches!(act, Act::Sine { .. }) {
            runs.push((act, InitScheme::Siren));
        }
    }
    runs
}

/// One fit for `steps` steps from `scheme`.
fn one(
    job: Job<'_>,
    act: Act,
    scheme: InitScheme,
    steps: u64,
    config: &Training,
    label: &'static str,
) -> Result<CompareRow, String> {
    let mlp = scheme.init_for(job.widths, act, config.seed, job.input)?;
    from(job, mlp, act, steps, config, label)
}

/// The search of `family` and the fit from its winner (the rest of the fit's steps).
fn searched(
    job: Job<'_>,
    act: Act,
    family: Family,
    config: &Training,
    label: &'static str,
) -> Result<(CompareRow, Search), String> {
    let trial = Trial::new(act, config, Score::Fit);
    let (signal, widths) = (job.signal, job.widths);
    let found =
        search(&signal.coords, &signal.values, widths, &trial, &family, job.input, &Stop::new())?;
    let steps = config.steps - found.reused_steps();
    let mut row = from(job, found.start.clone(), act, steps, config, label)?;
    row.seconds += found.seconds;
    let c = found.candidates[found.best];
    let what = if family.vi3nr().is_some() { "σ_p" } else { "gain" };
    row.detail = format!(
        "{what} {:.4} σ_0 {:.4}; search {:.1} % of the fit ({:.1} extra steps)",
        c.sigma_p,
        c.first_sigma,
        100.0 * found.cost_fraction(),
        found.extra_steps()
    );
    Ok((row, found))
}

/// One fit for `steps` steps from the network `mlp` with `config`'s loss, measured.
fn from(
    job: Job<'_>,
    mlp: Mlp,
    act: Act,
    steps: u64,
    config: &Training,
    label: &'static str,
) -> Result<CompareRow, String> {
    let signal = job.signal;
    let adam = Adam::for_training(config);
    let mut cpu = CpuBackend::new(mlp, &signal.coords, &signal.values, adam, config.seed)
        .map_err(|e| e.to_string())?
        .with_loss(config.loss.unwrap_or_default());
    let options = config.fit_options(steps, signal.len(), (steps / 10).max(1));
    let out = fit(&mut cpu, &signal.coords, &signal.values, &options, &mut |_| {})
        .map_err(|e| e.to_string())?;
    let mesh = match job.mesh {
        Some(m) => Some(m.measure_mlp(&out.mlp)?.0),
        None => None,
    };
    Ok(CompareRow {
        act,
        init: label,
        psnr: out.evaluations.last().map_or(f64::NAN, |e| e.psnr),
        best_psnr: out.evaluations.iter().map(|e| e.psnr).fold(f64::NAN, f64::max),
        seconds: out.train_seconds,
        seed: config.seed,
        steps,
        detail: String::new(),
        diverged: out.diverged,
        mesh,
    })
}

/// Checks the format's limits and the memory of the comparison's largest stage (the search's
/// trials) before any run.
pub fn check(signal: &Signal, config: &Training) -> Result<(), String> {
    let widths = config.widths(signal.in_dim(), signal.out_dim());
    let rows = Batch::for_signal(config.batch, signal.len()).rows(signal.len());
    let trials = crate::search::FIRST_MULTIPLES.len();
    crate::limits::check_fit(&widths, signal.in_dim(), signal.len(), rows, trials)
}

/// The `<scheme>-search` and `<scheme>+eq` labels of a baseline.
fn labels(scheme: InitScheme) -> (&'static str, &'static str) {
    match scheme {
        InitScheme::Xavier => ("xavier-search", "xavier+eq"),
        InitScheme::PyTorch => ("pytorch-search", "pytorch+eq"),
        _ => ("siren-search", "siren+eq"),
    }
}

/// Fits `signal` with every row for each activation of `acts` and each of `seeds` (seed,
/// seed + 1, …), calling `on_row` after each; `mesh` measures the rows of a mesh's SDF
/// samples (and then their [`CompareRow::score`] is −Chamfer-L1). Per activation and seed:
/// - every scheme with `config.steps` steps (`vi3nr` is the textbook plan);
/// - `vi3nr-search`: VI3NR with `--sigma-p search` (the final fit starts from the search's
///   winner and runs [`Search::reused_steps`] fewer steps; the search's wall time is in
///   `seconds`);
/// - `vi3nr-plan`: the plan that search chose, trained from scratch without the warm start,
///   for the steps plus the search's [`Search::extra_steps`] (equal total compute);
/// - `<scheme>-search` for every baseline: the same search and warm start over the
///   baseline's own weights ([`Family::Scaled`]: its first layer rescaled over VI3NR's σ_0
///   grid, its hidden layers over the same gains);
/// - `<best baseline>+eq`: the best plain baseline (by [`CompareRow::score`]) again with the
///   search's extra steps.
pub fn run(
    signal: &Signal,
    mesh: Option<&MeshFit>,
    config: &Training,
    seeds: u64,
    acts: &[Act],
    on_row: &mut dyn FnMut(&CompareRow),
) -> Result<Vec<CompareRow>, String> {
    check(signal, config)?;
    let widths = config.widths(signal.in_dim(), signal.out_dim());
    let job = Job { signal, widths: &widths, input: planned_input(signal), mesh };
    let config = &Training { loss: Some(config.loss_for(mesh.is_some())), ..config.clone() };
    let mut rows: Vec<CompareRow> = Vec::new();
    let mut emit = |row: CompareRow, rows: &mut Vec<CompareRow>| {
        on_row(&row);
        rows.push(row);
    };
    for &act in acts {
        for k in 0..seeds.max(1) {
            let config = &Training { seed: config.seed + k, ..config.clone() };
            let mut baselines = Vec::new();
            for (a, scheme) in runs().into_iter().filter(|(a, _)| *a == act) {
                let row = one(job, a, scheme, config.steps, config, scheme.name())?;
                if !matches!(scheme, InitScheme::Vi3nr(_)) {
                    baselines.push((scheme, row.score()));
                }
                emit(row, &mut rows);
            }
            let family = Family::Vi3nr(Vi3nrOptions::default());
            let (row, found) = searched(job, act, family, config, "vi3nr-search")?;
            emit(row, &mut rows);
            let extra = found.extra_steps().ceil() as u64;
            let plan = found.chosen.init(&widths, act, config.seed, job.input)?;
            let mut row = from(job, plan, act, config.steps + extra, config, "vi3nr-plan")?;
            row.detail = format!("the search's plan from scratch, {} steps", config.steps + extra);
            emit(row, &mut rows);
            for &(scheme, _) in &baselines {
                let family = Family::Scaled { scheme, gain: 1.0, first_sigma: 1.0 };
                let label = labels(scheme).0;
                emit(searched(job, act, family, config, label)?.0, &mut rows);
            }
            if let Some(&(scheme, _)) = baselines.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
                let steps = config.steps + extra;
                let row = one(job, act, scheme, steps, config, labels(scheme).1)?;
                emit(row, &mut rows);
            }
        }
    }
    Ok(rows)
}
