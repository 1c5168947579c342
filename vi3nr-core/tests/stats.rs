//! Statistics: closed forms against quadrature, quadrature against Stein's identity and
//! Monte Carlo, derivatives against finite differences, and the hard cases of the issue.

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;
use vi3nr_core::{Act, Activation, Error, Moments, stats};

const SIGMAS: [f64; 10] = [1e-3, 0.01, 0.05, 0.1, 0.3, 1.0, 2.0, 3.0, 5.0, 10.0];

fn closed_form_acts() -> Vec<Act> {
    vec![
        Act::Relu,
        Act::Sine { omega: 1.0 },
        Act::Sine { omega: 30.0 },
        Act::Gaussian { a: 0.05 },
        Act::Gaussian { a: 1.0 },
        Act::Sinc,
        Act::Wavelet { omega: 1.0, s: 1.0 },
        Act::Wavelet { omega: 5.0, s: 0.3 },
    ]
}

/// `|got − want| ≤ rel · (|want| + scale)`, where `scale` is the RMS of the integrand's
/// function (`√E[f²]` for `E[f]`), which bounds `E[|f|]`: a relative error for positive
/// integrands and an honest one for moments that vanish by symmetry.
fn assert_moments_close(got: Moments, want: Moments, rel: f64, what: &str) {
    let scales = [want.f2.sqrt(), 0.0, want.df2.sqrt(), 0.0];
    let names = ["E[f]", "E[f²]", "E[f']", "E[f'²]"];
    for k in 0..4 {
        let (g, w) = (got.to_array()[k], want.to_array()[k]);
        let tol = rel * (w.abs() + scales[k]);
        assert!(
            (g - w).abs() <= tol,
            "{what} {}: got {g:e}, want {w:e}, error {:e} > {tol:e}",
            names[k],
            (g - w).abs()
        );
    }
}

#[test]
fn closed_forms_agree_with_quadrature_to_1e_9() {
    for act in closed_form_acts() {
        for sigma in SIGMAS {
            let exact = act.closed_form(sigma).unwrap();
            let quad = stats::quadrature(&act, sigma).unwrap();
            assert_moments_close(quad, exact, 1e-9, &format!("{act} σ={sigma}"));
        }
    }
}

#[test]
fn closed_forms_at_known_points() {
    // sinc at σ → 0 is 1 and its slope variance σ²/9; relu's moments are textbook values.
    let m = Act::Sinc.closed_form(1e-4).unwrap();
    assert!((m.f2 - 1.0).abs() < 1e-8 && (m.df2 / 1e-8 - 1.0 / 9.0).abs() < 1e-6, "{m:?}");
    let m = Act::Relu.closed_form(3.0).unwrap();
    assert_eq!((m.f2, m.df, m.df2), (4.5, 0.5, 0.5));
    // Gaussian: E[f²] = a/√(a² + 2σ²).
    let m = Act::Gaussian { a: 0.05 }.closed_form(10.0).unwrap();
    assert!((m.f2 - 0.05 / (0.05f64.powi(2) + 200.0).sqrt()).abs() < 1e-17);
    // sinc series and direct formula meet continuously at σ = 0.6.
    let below = Act::Sinc.closed_form(0.6 - 1e-12).unwrap().df2;
    let above = Act::Sinc.closed_form(0.6 + 1e-12).unwrap().df2;
    assert!((below - above).abs() < 1e-11 * above, "{below} {above}");
}

/// `z·f(z)` as an activation, for Stein's identity `E[z f(z)] = σ² E[f'(z)]`.
struct TimesZ(Act);
impl Activation for TimesZ {
    fn f(&self, z: f64) -> f64 {
        z * self.0.f(z)
    }
    fn df(&self, z: f64) -> f64 {
        z * self.0.f(z) * self.0.f(z) // E[z f²] = 2σ² E[f f'] — checked below too
    }
    fn scale(&self) -> f64 {
        self.0.scale()
    }
}

/// `f·f'`, integrated to compare with `E[z f²] / (2σ²)`.
struct FTimesDf(Act);
impl Activation for FTimesDf {
    fn f(&self, z: f64) -> f64 {
        self.0.f(z) * self.0.df(z)
    }
    fn df(&self, _: f64) -> f64 {
        0.0
    }
    fn scale(&self) -> f64 {
        self.0.scale()
    }
}

#[test]
fn stein_identity_ties_f_prime_to_f() {
    // Independent of any closed form: valid for tanh and sigmoid too.
    for act in Act::ALL.into_iter().chain(closed_form_acts()) {
        for sigma in [0.05, 0.5, 1.0, 4.0] {
            let m = stats::quadrature(&act, sigma).unwrap();
            let zf = stats::quadrature(&TimesZ(act), sigma).unwrap();
            let scale = sigma * m.df2.sqrt();
            assert!(
                (zf.f / (sigma * sigma) - m.df).abs() <= 1e-9 * (m.df.abs() + scale),
                "{act} σ={sigma}: E[z f]/σ² = {} vs E[f'] = {}",
                zf.f / (sigma * sigma),
                m.df
            );
            let ffd = stats::quadrature(&FTimesDf(act), sigma).unwrap().f;
            let want = zf.df / (2.0 * sigma * sigma);
            assert!(
                (ffd - want).abs() <= 1e-9 * (want.abs() + (m.f2 * m.df2).sqrt()),
                "{act} σ={sigma}: E[f f'] {ffd} vs E[z f²]/2σ² {want}"
            );
        }
    }
}

#[test]
fn tanh_and_sigmoid_symmetries() {
    for sigma in SIGMAS {
        let t = stats::quadrature(&Act::Tanh, sigma).unwrap();
        let s = stats::quadrature(&Act::Sigmoid, sigma).unwrap();
        // sigmoid = (1 + tanh(z/2))/2: E[s] = 1/2, E[s²] = (1 + E[tanh²(z/2)])/4.
        let half = stats::quadrature(&Act::Tanh, sigma / 2.0).unwrap();
        assert!(t.f.abs() < 1e-15 && (s.f - 0.5).abs() < 1e-14, "σ={sigma}");
        assert!(((1.0 + half.f2) / 4.0 - s.f2).abs() < 1e-12 * s.f2, "σ={sigma}");
        assert!((half.df2 / 16.0 - s.df2).abs() < 1e-12 * s.df2, "σ={sigma}");
    }
}

#[test]
fn hard_cases_converge() {
    // Narrow Gaussian, fast sine and sinc at σ up to 10: within 1e-9 of the closed form and
    // within the evaluation bound.
    for act in [Act::Gaussian { a: 0.05 }, Act::Sine { omega: 30.0 }, Act::Sinc] {
        for sigma in [1.0, 3.0, 10.0] {
            let q = stats::quadrature_with(&act, sigma, 1e-12).unwrap();
            let exact = act.closed_form(sigma).unwrap();
            assert_moments_close(q.moments, exact, 1e-9, &format!("{act} σ={sigma}"));
            assert!(q.evaluations > 0);
        }
    }
}

#[test]
fn derivatives_match_finite_differences() {
    let mut acts = Act::ALL.to_vec();
    acts.extend(closed_form_acts());
    for act in acts {
        let s = act.scale();
        for k in -40..=40 {
            let z = s * f64::from(k) * 0.173 + 1e-3 * s;
            let h = 1e-5 * s;
            let fd = (act.f(z + h) - act.f(z - h)) / (2.0 * h);
            let d = act.df(z);
            let mag = act.df(z).abs().max(1.0 / s);
            assert!((fd - d).abs() < 1e-6 * mag, "{act} z={z}: f' {d} vs fd {fd}");
            // Single precision tracks double.
            let (f32v, d32) = (act.f_f32(z as f32), act.df_f32(z as f32));
            let rel = 2e-4 * (1.0 + (s * z).abs().min(1e3));
            assert!((f64::from(f32v) - act.f(z)).abs() < rel.max(1e-5), "{act} f32 f({z})");
            assert!((f64::from(d32) - d).abs() < rel * mag, "{act} f32 f'({z}): {d32} vs {d}");
        }
    }
    // sinc is exact at 0 and its derivative continuous through the series switch.
    assert_eq!(Act::Sinc.f(0.0), 1.0);
    assert_eq!(Act::Sinc.df(0.0), 0.0);
    assert!((Act::Sinc.df(0.5 - 1e-12) - Act::Sinc.df(0.5 + 1e-12)).abs() < 1e-12);
    assert!((Act::Sinc.df_f32(0.5 - 1e-6) - Act::Sinc.df_f32(0.5 + 1e-6)).abs() < 1e-6);
}

#[test]
fn monte_carlo_agrees_within_five_standard_errors() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2025);
    for act in Act::ALL {
        for sigma in [0.05, 0.5, 2.0] {
            let exact = stats::moments(&act, sigma).unwrap();
            let mc = stats::monte_carlo(&act, sigma, 200_001, &mut rng).unwrap();
            for k in 0..4 {
                let (e, m, se) =
                    (exact.to_array()[k], mc.mean.to_array()[k], mc.std_error.to_array()[k]);
                assert!(
                    (e - m).abs() <= 5.0 * se + 1e-15,
                    "{act} σ={sigma} moment {k}: exact {e}, MC {m} ± {se}"
                );
            }
        }
    }
}

/// A user activation that returns NaN: every entry point must return an error, not loop.
struct Broken;
impl Activation for Broken {
    fn f(&self, z: f64) -> f64 {
        if z > 0.3 { f64::NAN } else { z }
    }
    fn df(&self, _: f64) -> f64 {
        1.0
    }
}

#[test]
fn bad_input_is_an_error() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    for sigma in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert_eq!(stats::moments(&Act::Tanh, sigma), Err(Error::NotPositive("σ")));
        assert!(stats::quadrature(&Act::Relu, sigma).is_err());
        assert!(stats::monte_carlo(&Act::Relu, sigma, 10, &mut rng).is_err());
    }
    assert_eq!(stats::monte_carlo(&Act::Relu, 1.0, 1, &mut rng).unwrap_err(), Error::NoSamples);
    assert_eq!(stats::quadrature(&Broken, 1.0), Err(Error::NotFinite("activation value")));
    assert!(stats::monte_carlo(&Broken, 1.0, 1000, &mut rng).is_err());
    for bad in [
        "gaussian:0",
        "gaussian:-1",
        "gaussian:nan",
        "sine:inf",
        "wavelet:1,0",
        "swish",
        "sine:1,2,3",
        "sine:x",
        "",
    ] {
        assert!(bad.parse::<Act>().is_err(), "{bad:?} parsed");
    }
    assert!(Act::Gaussian { a: f64::NAN }.validate().is_err());
}

#[test]
fn parse_round_trips_display() {
    for act in Act::ALL {
        assert_eq!(act.to_string().parse::<Act>().unwrap(), act);
    }
    assert_eq!("Wavelet:2".parse::<Act>().unwrap(), Act::Wavelet { omega: 2.0, s: 1.0 });
}

#[test]
fn tails_and_origin_are_accurate() {
    // tanh' and sigmoid' keep relative accuracy deep in the tails (no 1 − t² cancellation),
    // tanh keeps it near the origin.
    for z in [20.0f64, 40.0, 300.0] {
        let sech2 = 4.0 * (-2.0 * z).exp() / (1.0 + (-2.0 * z).exp()).powi(2);
        assert!((Act::Tanh.df(z) / sech2 - 1.0).abs() < 1e-14, "tanh'({z})");
        assert!((Act::Tanh.f_df(-z).1 / sech2 - 1.0).abs() < 1e-14);
        let s = (-z).exp() / (1.0 + (-z).exp());
        assert!((Act::Sigmoid.f(-z) / s - 1.0).abs() < 1e-14, "σ(−{z})");
        assert!((Act::Sigmoid.df(z) / (s * (1.0 - s)) - 1.0).abs() < 1e-14);
    }
    for z in [1e-10f64, 1e-5, 0.3] {
        assert!((Act::Tanh.f_df(z).0 / z.tanh() - 1.0).abs() < 1e-15, "tanh({z})");
        assert!((Act::Tanh.f_df(-z).0 / (-z).tanh() - 1.0).abs() < 1e-15);
    }
}
