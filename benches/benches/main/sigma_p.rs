//! The σ_p solve of every activation against the paper's grid method (on exact moments), and
//! one Monte Carlo grid point as the paper's code computes it.

use criterion::Criterion;
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;
use std::hint::black_box;
use vi3nr_core::Act;
use vi3nr_core::init::{SolveOptions, solve_grid, solve_sigma_p};
use vi3nr_core::stats::monte_carlo;

/// Registers the σ_p benchmarks.
pub fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("sigma_p_solve");
    for act in Act::ALL {
        group.bench_function(act.to_string(), |b| {
            b.iter(|| solve_sigma_p(black_box(&act), 1.0, &SolveOptions::default()))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("sigma_p_grid_reference");
    group.sample_size(10);
    for act in Act::ALL {
        group.bench_function(act.to_string(), |b| b.iter(|| solve_grid(black_box(&act), 1.0)));
    }
    group.finish();
    // One grid point of the paper's code: a 10⁶-sample Monte Carlo estimate of the moments.
    // Its full method repeats this at 10⁴ grid points.
    let mut group = c.benchmark_group("monte_carlo_1e6_one_grid_point");
    group.sample_size(10);
    for act in [Act::Tanh, Act::Gaussian { a: 0.05 }, Act::Sine { omega: 30.0 }] {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        group.bench_function(act.to_string(), |b| {
            b.iter(|| monte_carlo(black_box(&act), 0.5, 1_000_000, &mut rng))
        });
    }
    group.finish();
}
