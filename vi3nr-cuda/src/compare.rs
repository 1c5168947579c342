//! `vi3nr compare`: the same signal fitted once per initialisation scheme and activation, with
//! equal steps, learning rate, widths and seed, to see whether VI3NR beats the baselines.

use crate::signal::Signal;
use crate::train::{Adam, Batch, CpuBackend, FitOptions, InitScheme, fit};
use vi3nr_core::Act;
use vi3nr_core::init::SigmaP;

/// Settings shared by every run of a comparison.
#[derive(Debug, Clone)]
pub struct CompareConfig {
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// Steps per run.
    pub steps: u64,
    /// Adam learning rate.
    pub lr: f32,
    /// Minibatch size (`None`: full signal).
    pub batch: Option<usize>,
    /// Seed of every run.
    pub seed: u64,
}

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
    /// Training seconds.
    pub seconds: f64,
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

/// Fits `signal` once per run, calling `on_row` after each.
pub fn run(
    signal: &Signal,
    config: &CompareConfig,
    on_row: &mut dyn FnMut(&CompareRow),
) -> Result<Vec<CompareRow>, String> {
    let mut widths = vec![signal.in_dim()];
    widths.extend(&config.hidden);
    widths.push(signal.out_dim());
    let mut rows = Vec::new();
    for (act, scheme) in runs() {
        let mlp = scheme.init(&widths, act, config.seed)?;
        let mut cpu = CpuBackend::new(
            mlp,
            &signal.coords,
            &signal.values,
            Adam::with_lr(config.lr),
            config.seed,
        )
        .map_err(|e| e.to_string())?;
        let options = FitOptions {
            steps: config.steps,
            batch: Batch::for_signal(config.batch, signal.len()),
            eval_every: (config.steps / 10).max(1),
        };
        let out = fit(&mut cpu, &signal.coords, &signal.values, &options, &mut |_| {})
            .map_err(|e| e.to_string())?;
        let row = CompareRow {
            act,
            init: scheme.name(),
            psnr: out.evaluations.last().map_or(f64::NAN, |e| e.psnr),
            best_psnr: out.evaluations.iter().map(|e| e.psnr).fold(f64::NAN, f64::max),
            seconds: out.train_seconds,
            diverged: out.diverged,
        };
        on_row(&row);
        rows.push(row);
    }
    Ok(rows)
}
