//! `vi3nr compare`: the same signal fitted once per initialisation scheme and activation, with
//! equal steps, learning rate, widths and seed, to see whether VI3NR beats the baselines.

use vi3nr_core::Act;
use vi3nr_core::init::{InputStats, SigmaP};

use crate::mlp::Mlp;
use crate::schemes::{InitScheme, Vi3nrOptions};
use crate::search::{Score, Trial, search};
use crate::signal::Signal;
use crate::stop::Stop;
use crate::train::{Adam, Batch, CpuBackend, FitOptions, Training, fit};

/// One run's result.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareRow {
    /// Activation.
    pub act: Act,
    /// Scheme name.
    pub init: &'static str,
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

/// One fit of `signal` for `steps` steps from `scheme`.
fn one(
    signal: &Signal,
    widths: &[usize],
    act: Act,
    scheme: InitScheme,
    steps: u64,
    config: &Training,
    label: &'static str,
) -> Result<CompareRow, String> {
    let mlp = scheme.init(widths, act, config.seed)?;
    from(signal, mlp, act, steps, config, label)
}

/// One fit of `signal` for `steps` steps from the network `mlp`.
fn from(
    signal: &Signal,
    mlp: Mlp,
    act: Act,
    steps: u64,
    config: &Training,
    label: &'static str,
) -> Result<CompareRow, String> {
    let mut cpu =
        CpuBackend::new(mlp, &signal.coords, &signal.values, Adam::with_lr(config.lr), config.seed)
            .map_err(|e| e.to_string())?;
    let options = FitOptions {
        steps,
        batch: Batch::for_signal(config.batch, signal.len()),
        eval_every: (steps / 10).max(1),
    };
    let out = fit(&mut cpu, &signal.coords, &signal.values, &options, &mut |_| {})
        .map_err(|e| e.to_string())?;
    Ok(CompareRow {
        act,
        init: label,
        psnr: out.evaluations.last().map_or(f64::NAN, |e| e.psnr),
        best_psnr: out.evaluations.iter().map(|e| e.psnr).fold(f64::NAN, f64::max),
        seconds: out.train_seconds,
        steps,
        detail: String::new(),
        diverged: out.diverged,
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

/// Fits `signal` once per run, calling `on_row` after each. Per activation, after the fixed
/// schemes: VI3NR with `--sigma-p search` (`vi3nr-search`: the final fit starts from the
/// search's winner and runs [`Search::reused_steps`](crate::search::Search::reused_steps)
/// fewer steps, so the model's own training equals a baseline's; the search's wall time is
/// counted in `seconds`), then the best baseline again with the search's extra cost
/// ([`Search::extra_steps`](crate::search::Search::extra_steps), rounded up) added to its
/// steps (`<scheme>+eq`, equal total compute).
pub fn run(
    signal: &Signal,
    config: &Training,
    on_row: &mut dyn FnMut(&CompareRow),
) -> Result<Vec<CompareRow>, String> {
    check(signal, config)?;
    let widths = config.widths(signal.in_dim(), signal.out_dim());
    let mut rows: Vec<CompareRow> = Vec::new();
    let mut emit = |row: CompareRow, rows: &mut Vec<CompareRow>| {
        on_row(&row);
        rows.push(row);
    };
    for act in ACTIVATIONS {
        let mut baselines = Vec::new();
        for (a, scheme) in runs().into_iter().filter(|(a, _)| *a == act) {
            let row = one(signal, &widths, a, scheme, config.steps, config, scheme.name())?;
            if !matches!(scheme, InitScheme::Vi3nr(_)) {
                baselines.push((scheme, row.psnr));
            }
            emit(row, &mut rows);
        }
        // VI3NR searched.
        let options = Vi3nrOptions::default();
        let trial = Trial::new(act, config, Score::Fit);
        let input = InputStats::uniform(-1.0, 1.0);
        let found =
            search(&signal.coords, &signal.values, &widths, &trial, &options, input, &Stop::new())?;
        let steps = config.steps - found.reused_steps();
        let mut row = from(signal, found.start.clone(), act, steps, config, "vi3nr-search")?;
        row.seconds += found.seconds;
        let c = found.candidates[found.best];
        row.detail = format!(
            "σ_p {:.4} σ_0 {:.4}; search {:.1} % of the fit ({:.1} extra steps)",
            c.sigma_p,
            c.first_sigma,
            100.0 * found.cost_fraction(),
            found.extra_steps()
        );
        emit(row, &mut rows);
        // The best baseline with the search's extra cost added.
        let extra = found.extra_steps().ceil() as u64;
        if let Some(&(scheme, _)) = baselines.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
            let label = match scheme {
                InitScheme::Xavier => "xavier+eq",
                InitScheme::PyTorch => "pytorch+eq",
                _ => "siren+eq",
            };
            emit(
                one(signal, &widths, act, scheme, config.steps + extra, config, label)?,
                &mut rows,
            );
        }
    }
    Ok(rows)
}
