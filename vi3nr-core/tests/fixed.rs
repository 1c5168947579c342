//! The fixed-point activations: the integer evaluator, the real-valued model of it used by the
//! statistics, and the distance of both from the float activations.

use vi3nr_core::fixed::{Fixed, FixedAct, arg_units, out_frac};
use vi3nr_core::{Act, Activation, stats};

const ACTS: [Act; 7] = Act::ALL;

/// The device's integer result at a real pre-activation `z`.
fn device(act: Act, z: f64) -> f64 {
    let raw = (z * arg_units(Some(act))).floor();
    let arg = match act {
        Act::Sine { .. } => (raw.rem_euclid(4_294_967_296.0)) as i64,
        _ => raw as i64,
    };
    let v = FixedAct::new(Some(act)).unwrap().eval(arg);
    f64::from(v) / f64::from(1u32 << out_frac(Some(act)))
}

#[test]
fn statistics_model_matches_the_integer_evaluator() {
    // Within the roundings the model leaves out (argument and output) and one table step's
    // worth of interpolation rounding.
    for act in ACTS {
        let s = act.scale();
        for k in -3000..=3000 {
            let z = s * f64::from(k) * 0.0137 + 1e-7;
            let (d, m) = (device(act, z), Fixed(act).f(z));
            let tol = 3.0 / 16_384.0
                + Fixed(act).df(z).abs() / arg_units(Some(act))
                + if act == Act::Relu { 1.0 / 4096.0 } else { 0.0 };
            assert!((d - m).abs() <= tol, "{act} z={z}: device {d}, model {m}");
        }
    }
}

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

#[test]
fn the_evaluators_rescale_is_within_three_units_below_the_exact_requant() {
    use vi3nr_core::fixed::Requant;
    for k in [3e-10, 1.7e-6, 0.013, 0.5, 0.999_999, 1.0, 17.6, 1_234.5, 6.1e6, 1.9e9] {
        let exact = Requant::new(k).unwrap();
        let r = exact.rescale();
        let mut acc = i32::MIN;
        loop {
            let e = exact.apply(acc);
            let turns = (e as u32).wrapping_sub(r.turns(acc)) as i32;
            assert!((0..=3).contains(&turns), "k={k} acc={acc}: turns {e} vs {}", r.turns(acc));
            let clamped = e.clamp(i64::from(i32::MIN), i64::from(i32::MAX));
            let q16 = clamped - i64::from(r.q16(acc));
            assert!((0..=3).contains(&q16), "k={k} acc={acc}: q16 {e} vs {}", r.q16(acc));
            match acc.checked_add(9_973_331) {
                Some(next) => acc = next,
                None => break,
            }
        }
    }
}

#[test]
fn an_f32_requant_by_bit_operations_equals_the_f64_one() {
    use vi3nr_core::fixed::Requant;
    let mut k = 1.0e-12f32;
    while k < 1.0e12 {
        for v in [k, f32::from_bits(k.to_bits() + 1), f32::from_bits(k.to_bits() + 0x3F_FFFF)] {
            assert_eq!(Requant::from_f32(v), Requant::new(f64::from(v)), "k = {v:e}");
        }
        k *= 1.37;
    }
    for bad in [0.0, -1.0, f32::INFINITY, f32::NAN, f32::MIN_POSITIVE / 4.0, 3e9, 1e-11] {
        assert_eq!(Requant::from_f32(bad), Requant::new(f64::from(bad)), "k = {bad:e}");
    }
}
