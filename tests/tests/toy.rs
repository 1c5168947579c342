//! The toy experiment at a size CI affords: the paper's qualitative claims must hold.

use vi3nr_core::Act;
use vi3nr_cuda::toy::{self, Row, Scheme, ToySize, smape};

const SIZE: ToySize = ToySize { layers: 16, width: 256, batch: 512, seed: 7 };

fn run(act: Act, scheme: Scheme, sigma_p: f64) -> toy::Outcome {
    toy::run(&Row { act, label: "test", scheme, sigma_p }, &SIZE).unwrap()
}

#[test]
fn smape_definition() {
    assert_eq!(smape(&[1.0, 1.0], 1.0), 0.0);
    assert!((smape(&[3.0], 1.0) - 50.0).abs() < 1e-12);
    assert!((smape(&[0.0, 1.0], 1.0) - 50.0).abs() < 1e-12);
    // Overflowed samples count as the limit, 100 %.
    assert!((smape(&[f64::INFINITY, f64::NAN, 1.0], 1.0) - 200.0 / 3.0).abs() < 1e-12);
}

#[test]
fn result_does_not_depend_on_the_thread_count() {
    let size = ToySize { layers: 3, width: 64, batch: 300, seed: 1 };
    let row = Row { act: Act::Tanh, label: "t", scheme: Scheme::Vi3nr, sigma_p: 0.5 };
    let on = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| toy::run(&row, &size).unwrap())
    };
    assert_eq!(on(1), on(3));
}

#[test]
fn exploding_gradients_are_reported_as_overflow() {
    // Sine ω = 30 at σ_p = 1: the gradient grows ~30× per layer and overflows f32.
    let o = toy::run(
        &Row { act: Act::Sine { omega: 30.0 }, label: "t", scheme: Scheme::Vi3nr, sigma_p: 1.0 },
        &ToySize { layers: 40, width: 64, batch: 64, seed: 0 },
    )
    .unwrap();
    assert!(o.backward_overflow > 0 && (o.backward - 100.0).abs() < 1e-9, "{o:?}");
}

#[test]
fn vi3nr_root_keeps_both_variances_and_sigma_one_does_not() {
    // Gaussian a = 0.05: σ_p = 1 kills the backward signal; the root keeps both directions.
    let root = 0.05 * (1.0 + 2f64.sqrt()).sqrt();
    let good = run(Act::Gaussian { a: 0.05 }, Scheme::Vi3nr, root);
    let bad = run(Act::Gaussian { a: 0.05 }, Scheme::Vi3nr, 1.0);
    assert!(good.forward < 10.0 && good.backward < 30.0, "{good:?}");
    assert!(bad.backward > 90.0, "{bad:?}");
    // Xavier on the same activation loses the forward signal.
    let xavier = run(Act::Gaussian { a: 0.05 }, Scheme::Xavier(1.0), 1.0);
    assert!(xavier.forward > 50.0, "{xavier:?}");
}

#[test]
fn paper_rows_cover_activations_and_baselines() {
    let rows = toy::paper_rows().unwrap();
    assert_eq!(rows.len(), 7 * 3 + 3 + 1);
    assert!(rows.iter().any(|r| r.scheme == Scheme::Siren));
    // The Gaussian's second row uses its closed-form root.
    let g = rows.iter().filter(|r| matches!(r.act, Act::Gaussian { .. })).nth(1).unwrap();
    assert!((g.sigma_p - 0.05 * (1.0 + 2f64.sqrt()).sqrt()).abs() < 1e-10);
}

#[test]
fn same_seed_same_result() {
    let a = run(Act::Sinc, Scheme::Vi3nr, 1.0);
    let b = run(Act::Sinc, Scheme::Vi3nr, 1.0);
    assert_eq!(a, b);
}
