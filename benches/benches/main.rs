//! Criterion benchmarks: the σ_p solve of every activation against the paper's grid method.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vi3nr_core::Act;
use vi3nr_core::init::{SolveOptions, solve_grid, solve_sigma_p};

fn sigma_p(c: &mut Criterion) {
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
}

criterion_group!(benches, sigma_p);
criterion_main!(benches);
