//! The CPU backend and the training loop: gradients against finite differences of the exact
//! f64 network, convergence, reproducibility, divergence handling.

use vi3nr_core::Act;
use vi3nr_core::init::SigmaP;
use vi3nr_cuda::mlp::Mlp;
use vi3nr_cuda::schemes::InitScheme;
use vi3nr_cuda::train::{Adam, Backend, Batch, CpuBackend, FitOptions, Loss, Schedule, fit};

fn data(n: usize) -> (Vec<f32>, Vec<f32>) {
    let coords: Vec<f32> = (0..n)
        .flat_map(|i| {
            let t = i as f32 / n as f32;
            [2.0 * t - 1.0, (7.0 * t).sin()]
        })
        .collect();
    let values: Vec<f32> =
        coords.chunks(2).map(|c| (3.0 * c[0]).sin() * 0.5 + 0.3 * c[1]).collect();
    (coords, values)
}

/// `mlp` with flat parameter `k` ([`Mlp::flat_parameters`]'s order: each layer's weights, then
/// its biases — the gradient's layout) moved by `h`.
fn nudged(mlp: &Mlp, k: usize, h: f32) -> Mlp {
    let mut params = mlp.flat_parameters();
    params[k] += h;
    let mut out = mlp.clone();
    out.set_flat_parameters(&params);
    out
}

/// DeepSDF's clamped L1 through the whole network: the loss against its definition on the
/// exact f64 network, and the gradient against finite differences wherever the loss is
/// differentiable (a parameter whose one-sided differences disagree moved some sample across
/// a kink of |·| or of the clamp, and is skipped; most are not). The gradient is not MSE's.
#[test]
fn clamped_l1_gradient_matches_finite_differences() {
    let (coords, values) = data(37);
    let delta = 0.3;
    for act in [Act::Tanh, Act::Sine { omega: 3.0 }, Act::Gaussian { a: 0.5 }] {
        let mlp = InitScheme::vi3nr(SigmaP::Value(0.7)).init(&[2, 6, 5, 1], act, 3).unwrap();
        let new = |loss| {
            CpuBackend::new(mlp.clone(), &coords, &values, Adam::with_lr(1e-3), 0)
                .unwrap()
                .with_loss(loss)
        };
        let (loss, grad) =
            new(Loss::ClampedL1 { delta }).loss_and_gradient(&coords, &values).unwrap();
        let (_, mse_grad) = new(Loss::Mse).loss_and_gradient(&coords, &values).unwrap();
        let d = f64::from(delta);
        let clamped = |m: &Mlp| -> f64 {
            coords
                .chunks(2)
                .zip(&values)
                .map(|(x, &y)| {
                    let p = m.forward_f64(&[f64::from(x[0]), f64::from(x[1])])[0];
                    (p.clamp(-d, d) - f64::from(y).clamp(-d, d)).abs()
                })
                .sum::<f64>()
                / values.len() as f64
        };
        let exact = clamped(&mlp);
        assert!((f64::from(loss) - exact).abs() < 1e-5, "{act}: loss {loss} vs {exact}");
        let mut checked = 0;
        let h = 1e-3f32;
        for (k, &g) in grad.iter().enumerate() {
            let (plus, minus) = (nudged(&mlp, k, h), nudged(&mlp, k, -h));
            let hh = f64::from(h);
            let (right, left) = ((clamped(&plus) - exact) / hh, (exact - clamped(&minus)) / hh);
            if (right - left).abs() > 1e-3 * (1.0 + right.abs()) {
                continue;
            }
            let (g, fd) = (f64::from(g), 0.5 * (right + left));
            assert!((g - fd).abs() < 2e-3 * (1.0 + fd.abs()), "{act} parameter {k}: {g} vs {fd}");
            checked += 1;
        }
        let k = grad.len();
        assert_eq!(k, mlp.flat_parameters().len());
        assert!(checked * 10 >= 7 * k, "{act}: only {checked} of {k} parameters checked");
        let same = grad.iter().zip(&mse_grad).filter(|(a, b)| a == b).count();
        assert!(same * 10 < grad.len(), "{act}: {same} of {} entries equal MSE's", grad.len());
    }
}

#[test]
fn gradient_matches_finite_differences() {
    let (coords, values) = data(37);
    for act in [
        Act::Tanh,
        Act::Sine { omega: 3.0 },
        Act::Gaussian { a: 0.5 },
        Act::Sinc,
        Act::Wavelet { omega: 2.0, s: 1.0 },
    ] {
        let mlp = InitScheme::vi3nr(SigmaP::Value(0.7)).init(&[2, 6, 5, 1], act, 3).unwrap();
        let mut cpu =
            CpuBackend::new(mlp.clone(), &coords, &values, Adam::with_lr(1e-3), 0).unwrap();
        let (loss, grad) = cpu.loss_and_gradient(&coords, &values).unwrap();
        let mse = |m: &Mlp| -> f64 {
            coords
                .chunks(2)
                .zip(&values)
                .map(|(x, &y)| {
                    let p = m.forward_f64(&[f64::from(x[0]), f64::from(x[1])])[0];
                    (p - f64::from(y)).powi(2)
                })
                .sum::<f64>()
                / values.len() as f64
        };
        assert!((f64::from(loss) - mse(&mlp)).abs() < 1e-5 * mse(&mlp).max(1e-3), "{act}: loss");
        let h = 1e-3f32;
        for (k, &g) in grad.iter().enumerate() {
            let (plus, minus) = (nudged(&mlp, k, h), nudged(&mlp, k, -h));
            let fd = (mse(&plus) - mse(&minus)) / (2.0 * f64::from(h));
            let g = f64::from(g);
            assert!((g - fd).abs() < 2e-3 * (1.0 + fd.abs()), "{act} parameter {k}: {g} vs {fd}");
        }
        assert_eq!(grad.len(), mlp.flat_parameters().len());
    }
}

#[test]
fn fitting_reduces_the_loss_and_is_reproducible() {
    let (coords, values) = data(512);
    let run = || {
        let mlp = InitScheme::Siren.init(&[2, 32, 32, 1], Act::Sine { omega: 30.0 }, 5).unwrap();
        let mut cpu = CpuBackend::new(mlp, &coords, &values, Adam::with_lr(1e-3), 9).unwrap();
        let options = FitOptions {
            steps: 150,
            batch: Batch::Random(128),
            eval_every: 50,
            schedule: Schedule::CONSTANT,
            qat: None,
        };
        fit(&mut cpu, &coords, &values, &options, &mut |_| {}).unwrap()
    };
    let (a, b) = (run(), run());
    assert_eq!(a.mlp, b.mlp, "same seed, same model");
    let first = a.evaluations.first().unwrap();
    let last = a.evaluations.last().unwrap();
    assert!(last.psnr > first.psnr && last.psnr > 25.0, "{:?}", a.evaluations);
    assert_eq!(a.steps, 150);
    assert!(a.diverged.is_none());
}

/// Clipping the gradient's norm to 1e-12 leaves Adam's steps at the size of that norm over ε
/// (far below the learning rate), where an unclipped step moves some parameter by about the
/// learning rate.
#[test]
fn clipping_bounds_the_gradient() {
    let (coords, values) = data(64);
    let mlp = InitScheme::Siren.init(&[2, 16, 1], Act::Sine { omega: 30.0 }, 3).unwrap();
    let moved = |clip: Option<f32>| {
        let adam = Adam { clip, ..Adam::with_lr(1e-3) };
        let mut cpu = CpuBackend::new(mlp.clone(), &coords, &values, adam, 0).unwrap();
        cpu.step(Batch::Full).unwrap();
        let after = cpu.parameters().flat_parameters();
        let before = mlp.flat_parameters();
        after.iter().zip(&before).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max)
    };
    let (free, clipped) = (moved(None), moved(Some(1e-12)));
    assert!(free > 5e-4, "an unclipped step moves by about lr: {free}");
    assert!(clipped < 1e-6, "a clipped step moves by |g|/ε·lr at most: {clipped}");
}

/// The schedule's factors: a linear warm-up, then cosine down to nearly zero, every factor in
/// (0, 1]; the step schedule's tenth and hundredth at half and three quarters.
#[test]
fn schedules_warm_up_and_decay() {
    use vi3nr_cuda::train::LrSchedule;
    let steps = 200;
    for kind in [LrSchedule::Constant, LrSchedule::Cosine, LrSchedule::Step] {
        let s = Schedule { kind, warmup: 20 };
        let f: Vec<f32> = (1..=steps).map(|k| s.factor(k, steps)).collect();
        assert!(f.iter().all(|&x| x > 0.0 && x <= 1.0), "{kind:?}");
        for (k, &x) in f.iter().enumerate().take(20) {
            assert!((x - (k + 1) as f32 / 20.0).abs() < 1e-6, "{kind:?} warm-up at {k}");
        }
        assert_eq!(f[20], 1.0, "{kind:?}: the first step after the warm-up");
        assert!(f[20..].windows(2).all(|w| w[1] <= w[0]), "{kind:?} never rises after it");
    }
    let cosine = Schedule { kind: LrSchedule::Cosine, warmup: 0 };
    assert!((cosine.factor(51, 100) - 0.5).abs() < 1e-6, "half-way");
    assert!(cosine.factor(101, 101) < 1e-3);
    let step = Schedule { kind: LrSchedule::Step, warmup: 0 };
    assert_eq!(
        [step.factor(50, 100), step.factor(51, 100), step.factor(76, 100)],
        [1.0, 0.1, 0.01]
    );
    assert_eq!(Schedule::CONSTANT.factor(99, 100), 1.0);
}

#[test]
fn divergence_stops_and_keeps_the_last_good_model() {
    let (coords, values) = data(64);
    let mlp = InitScheme::PyTorch.init(&[2, 16, 1], Act::Relu, 1).unwrap();
    let mut cpu = CpuBackend::new(mlp.clone(), &coords, &values, Adam::with_lr(1e30), 0).unwrap();
    let options = FitOptions {
        steps: 50,
        batch: Batch::Full,
        eval_every: 1,
        schedule: Schedule::CONSTANT,
        qat: None,
    };
    let out = fit(&mut cpu, &coords, &values, &options, &mut |_| {}).unwrap();
    let reason = out.diverged.expect("a learning rate of 1e30 diverges");
    assert!(reason.contains("diverged"), "{reason}");
    assert!(out.mlp.weights.iter().flatten().all(|w| w.is_finite()));
    assert!(out.steps < 50);
}

#[test]
fn default_batch_is_full_for_small_signals_only() {
    assert_eq!(Batch::for_signal(None, 10_880), Batch::Full);
    assert_eq!(Batch::for_signal(None, 1 << 20), Batch::Random(Batch::FULL_LIMIT));
    assert_eq!(Batch::for_signal(Some(512), 100), Batch::Random(512));
}
