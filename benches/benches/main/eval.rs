//! Points per second of each evaluator path (f32, f16, q15, i8) on VI3NR-initialised sine
//! networks, 2-32-32-32-1 and 2-256-256-256-3, on the host.

use criterion::{Criterion, Throughput};
use std::hint::black_box;
use vi3nr_core::Act;
use vi3nr_core::eval::Scratch;
use vi3nr_core::init::SigmaP;
use vi3nr_core::model::{Model, NumberFormat};
use vi3nr_cuda::render::grid;
use vi3nr_cuda::schemes::InitScheme;

/// Registers the evaluator benchmarks.
pub fn benches(c: &mut Criterion) {
    for (widths, points) in [(&[2, 32, 32, 32, 1][..], 4096), (&[2, 256, 256, 256, 3], 256)] {
        let name: Vec<String> = widths.iter().map(|w| w.to_string()).collect();
        let mut group = c.benchmark_group(format!("eval_sine_{}", name.join("-")));
        group.throughput(Throughput::Elements(points as u64));
        let mut mlp = InitScheme::vi3nr(SigmaP::Auto(None))
            .init(widths, Act::Sine { omega: 30.0 }, 1)
            .unwrap();
        let side = (points as f64).sqrt() as usize;
        mlp.normalise_outputs(&grid(side));
        let xs: Vec<f32> = grid(side).iter().map(|&v| v as f32).collect();
        let mut out = vec![0.0f32; points * widths[widths.len() - 1]];
        for format in NumberFormat::ALL {
            let bytes = mlp.to_vi3(format).unwrap();
            let model = Model::parse(bytes.bytes()).unwrap();
            let mut scratch = Box::new(Scratch::<256>::new());
            group.bench_function(format.name(), |b| {
                b.iter(|| model.eval_batch(black_box(&xs), &mut out, &mut scratch).unwrap())
            });
        }
        group.finish();
    }
}
