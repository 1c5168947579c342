//! Property tests: random parameters and σ, closed forms against quadrature, and the solver's
//! answer against the condition it solves.

use proptest::prelude::*;
use vi3nr_core::init::{self, Solution, SolveOptions};
use vi3nr_core::{Act, Activation, stats};

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        Just(Act::Relu),
        Just(Act::Sinc),
        (0.5f64..40.0).prop_map(|omega| Act::Sine { omega }),
        (0.01f64..3.0).prop_map(|a| Act::Gaussian { a }),
        (0.2f64..6.0, 0.2f64..3.0).prop_map(|(omega, s)| Act::Wavelet { omega, s }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn quadrature_matches_closed_form(act in act(), log_sigma in -3.0f64..1.0) {
        let sigma = 10f64.powf(log_sigma);
        let exact = act.closed_form(sigma).unwrap();
        let quad = stats::quadrature(&act, sigma).unwrap();
        let scale = [exact.f2.sqrt(), 0.0, exact.df2.sqrt(), 0.0];
        for (k, ((q, e), scale)) in quad.to_array().into_iter().zip(exact.to_array()).zip(scale).enumerate() {
            prop_assert!((q - e).abs() <= 1e-9 * (e.abs() + scale), "{act} σ={sigma} moment {k}: {q} vs {e}");
        }
    }

    #[test]
    fn solver_answer_is_consistent(act in act(), log_ratio in -1.0f64..1.0) {
        let ratio = 2f64.powf(log_ratio);
        match init::solve_sigma_p(&act, ratio, &SolveOptions::default()).unwrap() {
            Solution::Root { sigma_p, .. } => {
                let c = init::condition(&act, sigma_p, ratio).unwrap();
                prop_assert!((c - 1.0).abs() < 1e-7, "{act}: cond({sigma_p}) = {c}");
            }
            Solution::NoRoot { closest_condition, .. } => {
                // One sign everywhere: cond − 1 at a few points agrees with the closest one.
                for s in [1e-2, 1e-1, 1.0, 10.0] {
                    let c = init::condition(&act, s * act.scale(), ratio).unwrap();
                    prop_assert!((c - 1.0) * (closest_condition - 1.0) >= 0.0, "{act}: sign change at {s}");
                }
            }
            Solution::Any => prop_assert!(matches!(act, Act::Relu) && (ratio - 1.0).abs() < 1e-12),
            other => prop_assert!(false, "{other:?}"),
        }
    }
}
