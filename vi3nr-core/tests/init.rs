//! The condition, the σ_p solver, the plan and weight sampling.

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;
use vi3nr_core::init::{
    self, BiasInit, BiasScheme, FirstSigma, InputStats, Limit, Plan, PlanSpec, SigmaP, Solution,
    SolveOptions, Status,
};
use vi3nr_core::{Act, Activation, Error, stats};

fn solve(act: &Act, ratio: f64) -> Solution {
    init::solve_sigma_p(act, ratio, &SolveOptions::default()).unwrap()
}

#[test]
fn gaussian_root_is_its_closed_form() {
    for a in [0.01, 0.05, 0.1, 1.0, 3.0] {
        let Solution::Root { sigma_p, roots } = solve(&Act::Gaussian { a }, 1.0) else {
            panic!("gaussian:{a} has a root");
        };
        let exact = a * (1.0 + 2f64.sqrt()).sqrt();
        assert!((sigma_p - exact).abs() <= 1e-10 * exact, "a={a}: {sigma_p} vs {exact}");
        assert_eq!(roots, 1);
    }
}

#[test]
fn roots_satisfy_the_condition() {
    for act in
        [Act::Sigmoid, Act::Sinc, Act::Wavelet { omega: 1.0, s: 1.0 }, Act::Gaussian { a: 0.05 }]
    {
        for ratio in [0.5, 1.0, 2.0] {
            let Solution::Root { sigma_p, .. } = solve(&act, ratio) else {
                panic!("{act} ratio {ratio}")
            };
            let c = init::condition(&act, sigma_p, ratio).unwrap();
            assert!((c - 1.0).abs() < 1e-8, "{act} ratio {ratio}: cond({sigma_p}) = {c}");
            // And the reference grid lands within one grid step when the root is on its range.
            if (0.001..10.0).contains(&sigma_p) {
                let grid = init::solve_grid(&act, ratio).unwrap();
                assert!(
                    (grid.sigma_p - sigma_p).abs() <= 1e-3,
                    "{act}: grid {grid:?} vs {sigma_p}"
                );
            }
        }
    }
}

#[test]
fn sine_matches_x_coth_x_and_has_no_root() {
    for omega in [1.0, 30.0] {
        let act = Act::Sine { omega };
        for s in [0.001, 0.01, 0.1, 1.0] {
            let x: f64 = (omega * s) * (omega * s);
            let want = if x < 1e-8 { 1.0 + x * x / 3.0 } else { x / x.tanh() };
            let c = init::condition(&act, s, 1.0).unwrap();
            assert!((c - want).abs() < 1e-12 * want, "ω={omega} σ={s}: {c} vs {want}");
        }
        match solve(&act, 1.0) {
            Solution::NoRoot { limit, closest_condition, closest_sigma_p } => {
                assert_eq!(limit, Limit::Zero);
                assert!(closest_condition >= 1.0 && closest_sigma_p <= 1.0001e-4 / omega);
            }
            other => panic!("sine: {other:?}"),
        }
    }
}

#[test]
fn tanh_has_no_root_and_relu_takes_any() {
    match solve(&Act::Tanh, 1.0) {
        Solution::NoRoot { limit: Limit::Zero, closest_condition, .. } => {
            assert!(closest_condition >= 1.0)
        }
        other => panic!("tanh: {other:?}"),
    }
    // tanh's cond is above 1 wherever it is resolvable.
    for s in [0.01, 0.1, 0.5, 1.0, 3.0] {
        assert!(init::condition(&Act::Tanh, s, 1.0).unwrap() > 1.0, "σ={s}");
    }
    assert_eq!(solve(&Act::Relu, 1.0), Solution::Any);
    // relu with a width change: cond ≡ ratio, never 1.
    match solve(&Act::Relu, 2.0) {
        Solution::NoRoot { closest_condition, .. } => {
            assert!((closest_condition - 2.0).abs() < 1e-12)
        }
        other => panic!("relu ratio 2: {other:?}"),
    }
}

#[test]
fn user_activation_solves_like_a_builtin() {
    /// The Gaussian again, without a closed form: quadrature must find the same root.
    struct Bump;
    impl Activation for Bump {
        fn f(&self, z: f64) -> f64 {
            (-0.5 * (z / 0.05) * (z / 0.05)).exp()
        }
        fn df(&self, z: f64) -> f64 {
            -z / 0.0025 * self.f(z)
        }
        fn scale(&self) -> f64 {
            0.05
        }
    }
    let Solution::Root { sigma_p, .. } =
        init::solve_sigma_p(&Bump, 1.0, &SolveOptions::default()).unwrap()
    else {
        panic!()
    };
    let exact = 0.05 * (1.0 + 2f64.sqrt()).sqrt();
    assert!((sigma_p - exact).abs() < 1e-9 * exact, "{sigma_p}");
}

fn spec<'a>(widths: &'a [usize], acts: &'a [Act], input: &'a [InputStats]) -> PlanSpec<'a, Act> {
    PlanSpec {
        widths,
        activations: acts,
        input,
        sigma_p: SigmaP::Auto(None),
        first_sigma: FirstSigma::SigmaP,
        bias: BiasScheme::Zero,
        solve: SolveOptions::default(),
    }
}

#[test]
fn plan_follows_the_variance_equations() {
    let input = [InputStats::uniform(-1.0, 1.0)];
    let acts = [Act::Gaussian { a: 0.05 }];
    let plan = Plan::<8>::new(&spec(&[2, 256, 128, 3], &acts, &input)).unwrap();
    assert_eq!(plan.status, Status::Root);
    let s2 = plan.sigma_p * plan.sigma_p;
    let f2 = stats::moments(&acts[0], plan.sigma_p).unwrap().f2;
    let l = &plan.layers;
    assert_eq!(l.len(), 3);
    assert!((l[0].gain2 - s2 / (1.0 / 3.0)).abs() < 1e-12);
    for layer in &l[1..] {
        assert!((layer.gain2 - s2 / f2).abs() < 1e-12 * layer.gain2);
    }
    for layer in l {
        assert!((layer.std - (layer.gain2 / layer.fan_in as f64).sqrt()).abs() < 1e-15);
        assert!((layer.bound - 3f64.sqrt() * layer.std).abs() < 1e-15);
        assert_eq!(layer.bias, BiasInit::Zero);
    }
    assert_eq!((l[1].fan_in, l[1].fan_out), (256, 128));
    // The only hidden-to-hidden matrix halves the width: solved for ratio 1/2.
    assert!((plan.ratio - 0.5).abs() < 1e-15);
    assert!((plan.condition.unwrap() - 1.0).abs() < 1e-8);
}

#[test]
fn plan_fallbacks_and_given_values() {
    let input = [InputStats { mean: 0.0, var: 1.0 / 3.0 }];
    let sine = [Act::Sine { omega: 30.0 }];
    let p = Plan::<4>::new(&spec(&[2, 64, 64, 1], &sine, &input)).unwrap();
    assert_eq!((p.status, p.sigma_p), (Status::NoRoot, 1.0 / 30.0));
    let mut s = spec(&[2, 64, 64, 1], &sine, &input);
    s.sigma_p = SigmaP::Auto(Some(0.2));
    assert_eq!(Plan::<4>::new(&s).unwrap().sigma_p, 0.2);
    s.sigma_p = SigmaP::Value(0.5);
    let p = Plan::<4>::new(&s).unwrap();
    assert_eq!((p.status, p.sigma_p, p.solution), (Status::Given, 0.5, None));
    let relu = [Act::Relu];
    let p = Plan::<4>::new(&spec(&[3, 16, 16, 1], &relu, &input)).unwrap();
    assert_eq!((p.status, p.sigma_p), (Status::Any, 1.0));
    s.bias = BiasScheme::PyTorch;
    let p = Plan::<4>::new(&s).unwrap();
    assert_eq!(p.layers[1].bias, BiasInit::Uniform { bound: 1.0 / 8.0 });
}

#[test]
fn plan_rejects_bad_input() {
    let input = [InputStats::uniform(-1.0, 1.0)];
    let acts = [Act::Tanh];
    let e = |widths: &[usize], acts: &[Act], input: &[InputStats], sigma_p| {
        let mut s = spec(widths, acts, input);
        s.sigma_p = sigma_p;
        Plan::<3>::new(&s).unwrap_err()
    };
    let auto = SigmaP::Auto(None);
    assert_eq!(e(&[2], &acts, &input, auto), Error::EmptyNetwork);
    assert_eq!(e(&[], &acts, &input, auto), Error::EmptyNetwork);
    assert_eq!(e(&[2, 0, 1], &acts, &input, auto), Error::ZeroWidth);
    assert_eq!(e(&[2, 4, 4, 4, 1], &acts, &input, auto), Error::TooManyLayers);
    assert_eq!(e(&[2, 4, 4, 1], &[], &input, auto), Error::ActivationCount);
    assert_eq!(e(&[2, 4, 4, 1], &[Act::Tanh; 3], &input, auto), Error::ActivationCount);
    assert_eq!(e(&[2, 4, 1], &acts, &[input[0]; 3], auto), Error::InputStatsCount);
    assert_eq!(
        e(&[2, 4, 1], &acts, &[InputStats { mean: f64::NAN, var: 1.0 }], auto),
        Error::NotFinite("input mean")
    );
    assert_eq!(
        e(&[2, 4, 1], &acts, &[InputStats { mean: 0.0, var: 0.0 }], auto),
        Error::Degenerate
    );
    for bad in [0.0, -1.0, f64::NAN] {
        assert_eq!(e(&[2, 4, 1], &acts, &input, SigmaP::Value(bad)), Error::NotPositive("σ_p"));
        assert!(init::condition(&Act::Tanh, bad, 1.0).is_err());
        assert!(init::condition(&Act::Tanh, 1.0, bad).is_err());
        assert!(init::solve_sigma_p(&Act::Tanh, bad, &SolveOptions::default()).is_err());
    }
}

#[test]
fn sampling_has_the_planned_variance() {
    let input = [InputStats::uniform(-1.0, 1.0)];
    let acts = [Act::Sinc];
    let plan = Plan::<4>::new(&spec(&[2, 300, 400, 1], &acts, &input)).unwrap();
    let layer = &plan.layers[1];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let mut w = vec![0.0f32; 300 * 400];
    let n = w.len() as f64;
    let var = |w: &[f32]| w.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>() / n;
    // Relative standard error of a sample variance: √(2/n) normal, √(0.8/n) uniform.
    init::fill_normal(layer, &mut w, &mut rng).unwrap();
    let want = layer.std * layer.std;
    assert!((var(&w) / want - 1.0).abs() < 5.0 * (2.0 / n).sqrt(), "normal {} vs {want}", var(&w));
    init::fill_uniform(layer, &mut w, &mut rng).unwrap();
    assert!((var(&w) / want - 1.0).abs() < 5.0 * (0.8 / n).sqrt(), "uniform {} vs {want}", var(&w));
    assert!(w.iter().all(|&x| f64::from(x).abs() <= layer.bound));
    assert_eq!(init::fill_normal(layer, &mut w[1..], &mut rng), Err(Error::SliceLength));
    let mut b = vec![1.0f32; 400];
    init::fill_bias(layer, &mut b, &mut rng).unwrap();
    assert!(b.iter().all(|&x| x == 0.0));
    assert_eq!(init::fill_bias(layer, &mut b[1..], &mut rng), Err(Error::SliceLength));
}

#[test]
fn first_layer_spread_and_bias_budget() {
    let input = [InputStats::uniform(-1.0, 1.0)];
    let acts = [Act::Gaussian { a: 0.05 }];
    let mut s = spec(&[2, 64, 64, 1], &acts, &input);
    s.first_sigma = FirstSigma::Value(0.3);
    let p = Plan::<4>::new(&s).unwrap();
    let (s0, sp) = (0.3, p.sigma_p);
    assert_eq!(p.first_sigma, 0.3);
    // Layer 0 spreads to σ_0; layer 1 sees f(z) with z ~ N(0, σ_0²) and brings it back to σ_p.
    assert!((p.layers[0].gain2 - s0 * s0 * 3.0).abs() < 1e-12);
    let m0 = stats::moments(&acts[0], s0).unwrap();
    assert!((p.layers[1].gain2 - sp * sp / m0.f2).abs() < 1e-12 * p.layers[1].gain2);
    assert!((p.layers[1].condition.unwrap() - sp * sp * m0.df2 / m0.f2).abs() < 1e-9);
    let m = stats::moments(&acts[0], sp).unwrap();
    assert!((p.layers[2].gain2 - sp * sp / m.f2).abs() < 1e-12 * p.layers[2].gain2);

    // A fraction ρ of the variance goes to the bias; weights keep 1 − ρ.
    s.bias = BiasScheme::Fraction(0.25);
    let q = Plan::<4>::new(&s).unwrap();
    for (a, b) in p.layers.iter().zip(&q.layers) {
        assert!((b.gain2 - 0.75 * a.gain2).abs() < 1e-12 * a.gain2);
    }
    assert_eq!(q.layers[0].bias, BiasInit::Uniform { bound: (3.0f64 * 0.25).sqrt() * s0 });
    assert_eq!(q.layers[2].bias, BiasInit::Uniform { bound: (3.0f64 * 0.25).sqrt() * sp });
    for bad in [1.0, -0.1, f64::NAN] {
        s.bias = BiasScheme::Fraction(bad);
        assert!(Plan::<4>::new(&s).is_err(), "{bad}");
    }
    s.bias = BiasScheme::Zero;
    s.first_sigma = FirstSigma::Value(-1.0);
    assert!(Plan::<4>::new(&s).is_err());
}

#[test]
fn recommended_first_layer_spreads() {
    // SIREN's first layer U(±1/fan_in) on coordinates with E[x²] = 1/3: σ_0 = √(1/18).
    let sine = Act::Sine { omega: 30.0 }.default_first_sigma(2, 1.0 / 3.0).unwrap();
    assert!((sine - (1.0f64 / 18.0).sqrt()).abs() < 1e-15);
    assert_eq!(Act::Gaussian { a: 0.05 }.default_first_sigma(2, 1.0 / 3.0), Some(12.0 * 0.05));
    assert_eq!(Act::Tanh.default_first_sigma(2, 1.0 / 3.0), None);
}

#[test]
fn the_plan_resolves_the_recommended_first_layer_spread() {
    let spec = |act: &'static [Act], first_sigma| PlanSpec {
        widths: &[2, 64, 64, 1],
        activations: act,
        input: UNIFORM,
        sigma_p: SigmaP::Auto(None),
        first_sigma,
        bias: BiasScheme::Zero,
        solve: SolveOptions::default(),
    };
    const UNIFORM: &[InputStats] = &[InputStats { mean: 0.0, var: 1.0 / 3.0 }];
    const SINE: &[Act] = &[Act::Sine { omega: 30.0 }];
    const TANH: &[Act] = &[Act::Tanh];
    let p = Plan::<4>::new(&spec(SINE, FirstSigma::Recommended)).unwrap();
    assert!((p.first_sigma - (1.0f64 / 18.0).sqrt()).abs() < 1e-15, "{}", p.first_sigma);
    // Without a recommendation the first layer keeps σ_p.
    let p = Plan::<4>::new(&spec(TANH, FirstSigma::Recommended)).unwrap();
    assert_eq!(p.first_sigma, p.sigma_p);
    let p = Plan::<4>::new(&spec(TANH, FirstSigma::SigmaP)).unwrap();
    assert_eq!(p.first_sigma, p.sigma_p);
}
