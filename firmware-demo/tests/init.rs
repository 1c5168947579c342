//! On-target tests of vi3nr-core's statistics, σ_p solver and init plan (defmt-test), in f64 on
//! cores without a double-precision FPU: `cargo test --release` (M4F), `cargo test-m0` (M0).
#![no_std]
#![no_main]

use vi3nr_firmware as _; // logger, panic and fault handlers

#[defmt_test::tests]
mod tests {
    use defmt::{assert, assert_eq};
    use vi3nr_core::Act;
    use vi3nr_core::init::{Limit, Solution, SolveOptions, Status, solve_sigma_p};
    use vi3nr_core::stats::{closed_form, quadrature};
    use vi3nr_firmware::check::{PLAN_TOLERANCE, plan, rel_diff};
    use vi3nr_firmware::goldens::{PLAN_GLOBAL, PLAN_LAYERS};

    #[test]
    fn gaussian_root_has_its_closed_form() {
        let a = 0.05;
        let Solution::Root { sigma_p, roots } =
            solve_sigma_p(&Act::gaussian(a).unwrap(), 1.0, &SolveOptions::default()).unwrap()
        else {
            defmt::panic!("the Gaussian has a root")
        };
        let exact = a * libm::sqrt(1.0 + libm::sqrt(2.0));
        assert!(rel_diff(sigma_p, exact) < 1e-9);
        assert_eq!(roots, 1);
    }

    #[test]
    fn sine_has_no_root_and_relu_any() {
        let sine =
            solve_sigma_p(&Act::Sine { omega: 30.0 }, 1.0, &SolveOptions::default()).unwrap();
        assert!(matches!(sine, Solution::NoRoot { limit: Limit::Zero, .. }));
        let relu = solve_sigma_p(&Act::Relu, 1.0, &SolveOptions::default()).unwrap();
        assert!(relu == Solution::Any);
    }

    #[test]
    fn quadrature_agrees_with_the_closed_form() {
        for (act, sigma) in
            [(Act::gaussian(0.05).unwrap(), 0.08), (Act::Sine { omega: 30.0 }, 0.03)]
        {
            let q = quadrature(&act, sigma).unwrap();
            let c = closed_form(&act, sigma).unwrap();
            for (a, b) in [(q.f2, c.f2), (q.df2, c.df2)] {
                assert!(rel_diff(a, b) < 1e-8, "{} {=f64} vs {=f64}", act.name(), a, b);
            }
        }
    }

    #[test]
    fn plan_matches_the_host() {
        let plan = plan().unwrap();
        assert!(plan.status == Status::Root);
        assert_eq!(plan.layers.len(), PLAN_LAYERS.len());
        assert!(rel_diff(plan.sigma_p, f64::from_bits(PLAN_GLOBAL[0])) <= PLAN_TOLERANCE);
        for (l, host) in plan.layers.iter().zip(&PLAN_LAYERS) {
            assert!(rel_diff(l.gain2, f64::from_bits(host[0])) <= PLAN_TOLERANCE);
            assert!(rel_diff(l.std, f64::from_bits(host[1])) <= PLAN_TOLERANCE);
            assert!(rel_diff(l.bound, f64::from_bits(host[2])) <= PLAN_TOLERANCE);
        }
    }

    #[test]
    fn hidden_matrices_satisfy_the_backward_condition() {
        let plan = plan().unwrap();
        for l in &plan.layers[1..plan.layers.len() - 1] {
            assert!((l.condition.unwrap() - 1.0).abs() < 1e-9);
        }
    }
}
