//! The σ_p search (`--sigma-p search`): its candidate grids, its halving schedules and their
//! budget, the extrapolation that ranks trials, and the cost a real (tiny) search reports.

use vi3nr_core::Act;
use vi3nr_core::init::{FirstSigma, InputStats, SigmaP};
use vi3nr_cuda::schemes::Vi3nrOptions;
use vi3nr_cuda::search::{
    FIRST_MULTIPLES, FIRST_STAGE_RUNGS, FIRST_STAGE_SIGMA, Family, SECOND_STAGE_RUNGS,
    SIGMA_MULTIPLES, Schedule, Score, Trial, extrapolate, first_stage_grid, search, search_budget,
    second_stage_grid,
};
use vi3nr_cuda::stop::Stop;

#[test]
fn grids_are_anchored_on_the_base_and_the_first_layer_spread() {
    let first = first_stage_grid(0.1, 0.25);
    assert_eq!(first.len(), FIRST_MULTIPLES.len());
    assert!(first.iter().all(|&(p, _)| (p - FIRST_STAGE_SIGMA * 0.1).abs() < 1e-12));
    let spreads: Vec<f64> = first.iter().map(|&(_, s)| s).collect();
    assert_eq!(spreads.first(), Some(&0.125));
    assert_eq!(spreads.last(), Some(&16.0));
    assert!(spreads.windows(2).all(|w| (w[1] / w[0] - 2.0).abs() < 1e-12));
    let second = second_stage_grid(0.1, 3.0);
    assert_eq!(second.len(), SIGMA_MULTIPLES.len());
    assert!(second.iter().all(|&(_, s)| s == 3.0));
    assert!(second.iter().zip(SIGMA_MULTIPLES).all(|(&(p, _), m)| (p - 0.1 * m).abs() < 1e-12));
    // The rung shapes start with every candidate of their stage.
    assert_eq!(FIRST_STAGE_RUNGS[0].0, FIRST_MULTIPLES.len());
    assert_eq!(SECOND_STAGE_RUNGS[0].0, SIGMA_MULTIPLES.len());
}

#[test]
fn budget_is_a_quarter_up_to_300_steps_and_shrinks_as_a_fraction_beyond() {
    assert_eq!(search_budget(100), 25.0);
    assert_eq!(search_budget(300), 75.0);
    let fraction = |s: u64| search_budget(s) / s as f64;
    assert!(fraction(1_000) < 0.15 && fraction(1_000) > 0.13);
    assert!(fraction(10_000) < 0.05);
    assert!(search_budget(1_000) > search_budget(300));
}

/// Net cost of two stages: everything less the steps the final fit reuses.
fn net(stages: &[Schedule; 2]) -> f64 {
    stages[0].cost() + stages[1].cost() - stages[1].winner_cost() as f64
}

#[test]
fn stages_use_the_largest_unit_within_the_budget() {
    // A 128×85 photograph, full-batch fit: trials on half of a fit step's points.
    let n = 128 * 85;
    for steps in [300, 1_000, 5_000] {
        let stages = Schedule::stages(steps, n, n / 2, n / 10);
        assert!(net(&stages) <= search_budget(steps), "{steps}");
        let unit = stages[0].rungs[0].steps;
        assert!(unit >= 1);
        let bigger = [
            Schedule::new(&FIRST_STAGE_RUNGS, unit + 1, n, n / 2, n / 10),
            Schedule::new(&SECOND_STAGE_RUNGS, unit + 1, n, n / 2, n / 10),
        ];
        assert!(net(&bigger) > search_budget(steps), "{steps}: unit {unit} is not the largest");
        // Rungs keep fewer candidates and train them longer.
        for s in &stages {
            assert!(s.rungs.windows(2).all(|w| w[1].candidates < w[0].candidates));
            assert!(s.rungs.windows(2).all(|w| w[1].steps > w[0].steps));
        }
    }
    // At 300 steps: a unit of 4 trial steps, 24.9 % of the fit net of the reused steps.
    let stages = Schedule::stages(300, n, n / 2, n / 10);
    assert_eq!(stages[0].rungs[0].steps, 4);
    assert_eq!(stages[1].winner_steps(), 32);
    assert_eq!(stages[1].winner_cost(), 16);
    // Trial steps: 8×4 + 3×12 + 2×16 and 4×8 + 2×24.
    assert_eq!(stages[0].trial_steps(), 100);
    assert_eq!(stages[1].trial_steps(), 80);
    let evals = (8 + 3 + 2 + 4 + 2) as f64 * (n / 10) as f64 / (3.0 * n as f64);
    assert!((stages[0].cost() + stages[1].cost() - (90.0 + evals)).abs() < 1e-9);
}

#[test]
fn extrapolation_follows_the_psnr_per_doubling() {
    // 4 dB per doubling from 16 to 32 steps, extrapolated to 256 steps: 3 more doublings.
    assert!((extrapolate((16, 20.0), (32, 24.0), 256) - 36.0).abs() < 1e-12);
    // A slower climber that leads now loses to a faster one further out.
    assert!(extrapolate((16, 21.0), (32, 24.5), 300) < extrapolate((16, 19.0), (32, 24.0), 300));
    // No usable earlier point, or no steps left: the PSNR itself.
    assert_eq!(extrapolate((0, f64::NAN), (4, 20.0), 300), 20.0);
    assert_eq!(extrapolate((16, f64::NEG_INFINITY), (32, 20.0), 300), 20.0);
    assert_eq!(extrapolate((16, 18.0), (32, 20.0), 32), 20.0);
    assert_eq!(extrapolate((16, 18.0), (32, f64::NAN), 300), f64::NEG_INFINITY);
}

#[test]
fn a_search_reports_what_it_cost() {
    // A 24×24 grey "image": coordinates on [−1, 1]², a few sinusoids.
    let side = 24;
    let mut coords = Vec::new();
    let mut values = Vec::new();
    for y in 0..side {
        for x in 0..side {
            let (u, v) = (2.0 * x as f32 / 23.0 - 1.0, 2.0 * y as f32 / 23.0 - 1.0);
            coords.extend([u, v]);
            values.push(0.5 * (3.0 * u).sin() * (2.0 * v).cos());
        }
    }
    let widths = [2, 12, 12, 1];
    let steps = 100;
    let trial = Trial {
        act: Act::Sine { omega: 30.0 },
        adam: vi3nr_cuda::train::Adam::with_lr(1e-3),
        batch: None,
        seed: 1,
        steps,
        score: Score::Fit,
        loss: vi3nr_cuda::train::Loss::Mse,
    };
    let options = Vi3nrOptions::default();
    let input = InputStats::uniform(-1.0, 1.0);
    let found =
        search(&coords, &values, &widths, &trial, &Family::Vi3nr(options), input, &Stop::new())
            .unwrap();
    assert_eq!(found.candidates.len(), FIRST_MULTIPLES.len() + SIGMA_MULTIPLES.len());
    // The second stage keeps the first stage's best spread and searches σ_p.
    let stage2 = &found.candidates[FIRST_MULTIPLES.len()..];
    assert!(stage2.iter().all(|c| c.first_sigma == stage2[0].first_sigma));
    assert!(found.best >= FIRST_MULTIPLES.len());
    let best = found.candidates[found.best];
    assert_eq!(found.chosen.vi3nr().unwrap().first_sigma, FirstSigma::Value(best.first_sigma));
    assert_eq!(found.chosen.vi3nr().unwrap().sigma_p, SigmaP::Value(best.sigma_p));
    assert!(best.score.is_finite());
    assert_eq!(best.steps, found.schedules[1].winner_steps());
    // The accounting: cost within budget net of the reused steps, and the fraction it reports.
    let extra = found.cost_in_steps() - found.reused_steps() as f64;
    assert!((found.extra_steps() - extra.max(0.0)).abs() < 1e-12);
    assert!(found.extra_steps() <= search_budget(steps) + 1e-9);
    assert!((found.cost_fraction() - found.extra_steps() / steps as f64).abs() < 1e-12);
    assert!(found.reused_steps() < steps);
    // The final fit starts from the winner's trained network, not a fresh one.
    let fresh = found.chosen.init(&widths, trial.act, 1, input).unwrap();
    assert_eq!(found.start.widths, fresh.widths);
    assert_ne!(found.start.weights, fresh.weights);
}
