//! Accuracy of the f16, q15 and i8 evaluators against f32 (and of f32 against exact f64) on
//! VI3NR-initialised networks, with the targets of the evaluator issue as assertions.

use vi3nr_core::Act;
use vi3nr_core::init::SigmaP;
use vi3nr_core::model::NumberFormat;
use vi3nr_cuda::render::{evaluator_psnr, grid};
use vi3nr_cuda::schemes::InitScheme;

fn check(widths: &[usize], act: Act, n: usize) {
    let mlp = InitScheme::vi3nr(SigmaP::Auto(None)).init(widths, act, 11).unwrap();
    let rows = evaluator_psnr(&mlp, &grid(n)).unwrap();
    for (format, db) in rows {
        let (name, target) = match format {
            None => ("f32 vs f64", 80.0),
            Some(NumberFormat::F16) => ("f16", 60.0),
            Some(NumberFormat::Q15) => ("q15", 45.0),
            Some(_) => ("i8", 20.0),
        };
        println!("{act} {widths:?} {name}: {db:.1} dB");
        assert!(db >= target, "{act} {widths:?} {name}: {db:.1} dB < {target} dB");
    }
}

#[test]
fn narrow_networks_meet_the_targets() {
    for act in [Act::Sine { omega: 30.0 }, Act::Gaussian { a: 0.05 }, Act::Sinc, Act::Relu] {
        check(&[2, 32, 32, 32, 1], act, 32);
    }
}

#[test]
fn wide_networks_meet_the_targets() {
    for act in [Act::Sine { omega: 30.0 }, Act::Gaussian { a: 0.05 }, Act::Sinc, Act::Relu] {
        check(&[2, 256, 256, 256, 3], act, 8);
    }
}
