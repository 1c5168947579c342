//! The fixed-point activations as the statistics see them ([`stats::Fixed`]): their distance
//! from the float activations. (That the model matches the integer evaluator, and the
//! requantisation's accuracy, are unit tests beside the code: `stats/device.rs`,
//! `eval/fixed/requant.rs`.)

use vi3nr_core::stats::{self, Fixed};
use vi3nr_core::{Act, Activation};

const ACTS: [Act; 7] = Act::ALL;

#[test]
fn tables_are_within_a_few_steps_of_the_float_activation() {
    for act in ACTS {
        let s = act.scale();
        let mut worst = 0.0f64;
        for k in -20_000..=20_000 {
            let z = s * f64::from(k) * 0.001_37;
            if act == Act::Relu && z > 7.99 {
                continue; // Q3.12 saturates below 8 (checked against the device above)
            }
            worst = worst.max((Fixed(act).f(z) - act.f(z)).abs());
        }
        // Table rounding (half a step) plus interpolation error; relu is exact.
        assert!(worst < 2.5 / 16_384.0, "{act}: max |fixed − float| = {worst:e}");
    }
}

#[test]
fn fixed_statistics_are_close_to_the_float_ones() {
    // At the σ_p each activation is used with (root, or the fallback): relative differences of
    // E[f²] and E[f'²] stay below 1e-4.
    for (act, sigma) in [
        (Act::Sine { omega: 30.0 }, 1.0 / 30.0),
        (Act::Gaussian { a: 0.05 }, 0.0777),
        (Act::Sinc, 2.22),
        (Act::Tanh, 1.0),
        (Act::Sigmoid, 6.75),
        (Act::Relu, 1.0),
        (Act::Wavelet { omega: 1.0, s: 1.0 }, 0.87),
    ] {
        let exact = stats::moments(&act, sigma).unwrap();
        let device = stats::quadrature_with(&Fixed(act), sigma, 1e-9).unwrap().moments;
        for (name, d, e) in [("E[f²]", device.f2, exact.f2), ("E[f'²]", device.df2, exact.df2)] {
            assert!((d / e - 1.0).abs() < 1e-4, "{act} σ={sigma} {name}: fixed {d} vs float {e}");
        }
    }
}
