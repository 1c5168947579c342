//! The paper's toy experiment: variance propagation through a deep bias-free network.
//!
//! `L` linear layers of `n` units, `z_l = W_l f(z_{l−1})`, inputs `z_0 ~ N(0, σ_p²)`, an
//! upstream gradient `∂/∂z_L ~ N(0, 1)` propagated back with `g_{l−1} = f'(z_{l−1}) ⊙ W_lᵀ g_l`.
//! The forward error is the SMAPE of each sample's variance of `z_L` (over units) against σ_p²,
//! the backward error the SMAPE of each sample's variance of `g_0` against 1, with
//! `SMAPE = mean(|p − t| / (|p| + |t|)) · 100`.
//!
//! Weights are uniform with the scheme's variance (the reference code uses `xavier_uniform_`
//! with a gain); variances are unbiased, as `torch.var`. Samples are independent, so the batch
//! is split into chunks that run on all cores, each keeping its own `z_l` for the backward
//! pass; products are f32 (as in the reference code).

use crate::gemm::matmul;
use crate::schemes::{siren_bound, xavier_bound};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;
use rayon::prelude::*;
use vi3nr_core::init::{self, Solution, SolveOptions};
use vi3nr_core::{Act, Activation, Error};

/// Samples drawn from one RNG stream: inputs do not depend on how work is split.
const BLOCK: usize = 64;
/// Most samples one task pushes through all layers (its `z_l` are kept for the backward pass).
const MAX_CHUNK: usize = 1024;

/// Size of the experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToySize {
    /// Number of layers `L`.
    pub layers: usize,
    /// Units per layer `n`.
    pub width: usize,
    /// Number of samples.
    pub batch: usize,
    /// Seed of inputs, gradients and weights.
    pub seed: u64,
}

impl Default for ToySize {
    /// The paper's size: L = 100, n = 1000, batch 10000.
    fn default() -> Self {
        ToySize { layers: 100, width: 1000, batch: 10_000, seed: 0 }
    }
}

/// How the weights of one row are drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scheme {
    /// VI3NR: variance `gain²/n` with `gain² = σ_p²/E[f²]`.
    Vi3nr,
    /// Xavier with a gain: variance `gain²·2/(n+n)`.
    Xavier(f64),
    /// SIREN's hidden layers: `U(±√(6/n)/ω)`.
    Siren,
}

/// One row of the table: an activation, an init scheme and the σ_p of the inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    /// The activation.
    pub act: Act,
    /// A label for the init ("vi3nr σ_p=1", "xavier", …).
    pub label: &'static str,
    /// How weights are drawn.
    pub scheme: Scheme,
    /// Standard deviation of the input pre-activations, and the forward target's root.
    pub sigma_p: f64,
}

/// The result of one row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// The row.
    pub row: Row,
    /// Forward SMAPE in percent.
    pub forward: f64,
    /// Backward SMAPE in percent.
    pub backward: f64,
    /// Samples whose last pre-activations overflowed f32 (counted as 100 %).
    pub forward_overflow: usize,
    /// Samples whose input gradients overflowed f32 (counted as 100 %).
    pub backward_overflow: usize,
}

/// The paper's rows: every activation with σ_p = 1 and with the backward-optimal σ_p (the
/// solver's closest point where there is no root), then Xavier (gain 1) for every activation,
/// PyTorch's gains for tanh, sigmoid and relu, and SIREN's init for sine.
pub fn paper_rows() -> Result<Vec<Row>, Error> {
    let mut rows = Vec::new();
    for act in Act::ALL {
        rows.push(Row { act, label: "vi3nr σ_p=1", scheme: Scheme::Vi3nr, sigma_p: 1.0 });
        let (label, sigma_p) = match init::solve_sigma_p(&act, 1.0, &SolveOptions::default())? {
            Solution::Root { sigma_p, .. } => ("vi3nr σ_p=root", sigma_p),
            Solution::NoRoot { closest_sigma_p, .. } => ("vi3nr σ_p=limit", closest_sigma_p),
            _ => ("vi3nr any σ_p (=1)", 1.0),
        };
        rows.push(Row { act, label, scheme: Scheme::Vi3nr, sigma_p });
    }
    for act in Act::ALL {
        rows.push(Row { act, label: "xavier", scheme: Scheme::Xavier(1.0), sigma_p: 1.0 });
    }
    for (act, gain) in [(Act::Tanh, 5.0 / 3.0), (Act::Sigmoid, 1.0), (Act::Relu, 2f64.sqrt())] {
        rows.push(Row { act, label: "pytorch gain", scheme: Scheme::Xavier(gain), sigma_p: 1.0 });
    }
    let sine = Act::Sine { omega: 30.0 };
    rows.push(Row { act: sine, label: "siren", scheme: Scheme::Siren, sigma_p: 1.0 / 30.0 });
    Ok(rows)
}

/// Symmetric mean absolute percentage error of `predictions` against `target`. A prediction
/// that overflowed (infinite or NaN) counts as its limit, 100 %.
pub fn smape(predictions: &[f64], target: f64) -> f64 {
    let term = |p: f64| {
        if p.is_finite() { (p - target).abs() / (p.abs() + target.abs()) } else { 1.0 }
    };
    let sum: f64 = predictions.iter().map(|&p| term(p)).sum();
    100.0 * sum / predictions.len() as f64
}

/// Unbiased variance of one sample's values over the units (as `torch.var`).
fn row_variance(row: &[f32]) -> f64 {
    let n = row.len() as f64;
    let mean = row.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    row.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / (n - 1.0)
}

/// Runs one row at the given size.
pub fn run(row: &Row, size: &ToySize) -> Result<Outcome, Error> {
    let n = size.width;
    if size.layers == 0 || n < 2 || size.batch == 0 {
        return Err(Error::ZeroWidth);
    }
    // Every scheme draws uniform weights, as the reference code does (xavier_uniform_ with a
    // gain): bound = √3 · std.
    let bound = match row.scheme {
        Scheme::Vi3nr => (3.0 * init::hidden_gain2(&row.act, row.sigma_p)? / n as f64).sqrt(),
        Scheme::Xavier(gain) => xavier_bound(n, n, gain),
        Scheme::Siren => {
            let Act::Sine { omega } = row.act else {
                return Err(Error::UnknownActivation);
            };
            siren_bound(n, omega, false)
        }
    };
    let weights: Vec<Vec<f32>> = (0..size.layers)
        .into_par_iter()
        .map(|l| {
            let mut rng =
                Xoshiro256PlusPlus::seed_from_u64(size.seed ^ (0x9e37_79b9 * (l as u64 + 1)));
            let mut w = vec![0.0f32; n * n];
            init::sample_uniform(bound, &mut w, &mut rng);
            w
        })
        .collect();
    // Large chunks amortise packing the weights in each product; one chunk per thread.
    let per_thread = size.batch.div_ceil(rayon::current_num_threads()).next_multiple_of(BLOCK);
    let chunk_rows = per_thread.clamp(BLOCK, MAX_CHUNK);
    let per_sample: Vec<(f64, f64)> = (0..size.batch.div_ceil(chunk_rows))
        .into_par_iter()
        .flat_map_iter(|c| {
            let start = c * chunk_rows;
            let rows = chunk_rows.min(size.batch - start);
            chunk(&row.act, row.sigma_p, size, &weights, start, rows)
        })
        .collect();
    let (fwd, bwd): (Vec<f64>, Vec<f64>) = per_sample.into_iter().unzip();
    let overflowed = |v: &[f64]| v.iter().filter(|x| !x.is_finite()).count();
    Ok(Outcome {
        row: *row,
        forward: smape(&fwd, row.sigma_p * row.sigma_p),
        backward: smape(&bwd, 1.0),
        forward_overflow: overflowed(&fwd),
        backward_overflow: overflowed(&bwd),
    })
}

/// Fills `rows` samples starting at sample `start` with `N(0, std²)` rows of width `n`, one
/// RNG stream per [`BLOCK`] of samples.
fn draw_rows(out: &mut [f32], std: f64, seed: u64, start: usize, n: usize) {
    for (i, block) in out.chunks_mut(BLOCK * n).enumerate() {
        let index = (start / BLOCK + i) as u64;
        let mut rng =
            Xoshiro256PlusPlus::seed_from_u64(seed.wrapping_mul(0x5851_f42d_4c95_7f2d) ^ index);
        init::sample_normal(std, block, &mut rng);
    }
}

/// Forward and backward through all layers for `rows` samples; per-sample variances of
/// `z_L` and of `g_0`.
fn chunk(
    act: &Act,
    sigma_p: f64,
    size: &ToySize,
    weights: &[Vec<f32>],
    start: usize,
    rows: usize,
) -> Vec<(f64, f64)> {
    let n = size.width;
    let mut z = vec![0.0f32; rows * n];
    draw_rows(&mut z, sigma_p, size.seed, start, n);
    // zs[l] = z_l for l < L (kept for f'), then z_L.
    let mut zs = Vec::with_capacity(weights.len());
    let mut x = vec![0.0f32; rows * n];
    for w in weights {
        for (xi, &zi) in x.iter_mut().zip(&z) {
            *xi = act.f_f32(zi);
        }
        let mut next = vec![0.0f32; rows * n];
        matmul(&x, w, &mut next, rows, n, n, true);
        zs.push(std::mem::replace(&mut z, next));
    }
    let forward: Vec<f64> = z.chunks(n).map(row_variance).collect();
    let mut g = z; // reuse the buffer: g_L ~ N(0, 1)
    draw_rows(&mut g, 1.0, !size.seed, start, n);
    let mut back = vec![0.0f32; rows * n];
    for (w, z_prev) in weights.iter().zip(&zs).rev() {
        // g_{l−1} = f'(z_{l−1}) ⊙ (g_l · W_l), W_l stored n_out×n_in row-major.
        matmul(&g, w, &mut back, rows, n, n, false);
        for (gi, (&bi, &zi)) in g.iter_mut().zip(back.iter().zip(z_prev)) {
            *gi = bi * act.df_f32(zi);
        }
    }
    forward.into_iter().zip(g.chunks(n).map(row_variance)).collect()
}
