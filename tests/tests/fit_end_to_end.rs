//! Train → export → evaluate: a short fit of the bundled photograph, exported in every number
//! format and evaluated with vi3nr-core, must improve well above its start, and the f32 export
//! must reproduce the trainer's own outputs.

use vi3nr_core::Act;
use vi3nr_core::init::SigmaP;
use vi3nr_core::model::{Model, NumberFormat};
use vi3nr_cuda::render::{psnr, render};
use vi3nr_cuda::schemes::InitScheme;
use vi3nr_cuda::signal::Signal;
use vi3nr_cuda::train::{Adam, Backend, Batch, CpuBackend, FitOptions, Schedule, fit};

#[test]
fn fit_export_evaluate() {
    let signal = Signal::bundled();
    let widths = [2, 32, 32, 3];
    let mlp =
        InitScheme::vi3nr(SigmaP::Auto(None)).init(&widths, Act::Sine { omega: 30.0 }, 1).unwrap();
    let mut cpu =
        CpuBackend::new(mlp, &signal.coords, &signal.values, Adam::with_lr(1e-3), 2).unwrap();
    let mut trained = vec![0.0f32; signal.values.len()];
    cpu.predict(&signal.coords, &mut trained).unwrap();
    let start = psnr(&trained, &signal.values);
    let options = FitOptions {
        steps: 300,
        batch: Batch::Random(1024),
        eval_every: 100,
        schedule: Schedule::CONSTANT,
        qat: None,
    };
    let out = fit(&mut cpu, &signal.coords, &signal.values, &options, &mut |_| {}).unwrap();
    let end = out.evaluations.last().unwrap().psnr;
    assert!(end > 20.0 && end > start + 5.0, "PSNR {start:.2} → {end:.2} dB");

    cpu.predict(&signal.coords, &mut trained).unwrap();
    let mut f32_psnr = 0.0;
    for (format, slack) in [
        (NumberFormat::F32, 0.0),
        (NumberFormat::F16, 0.3),
        (NumberFormat::Q15, 0.3),
        (NumberFormat::I8, 3.0),
    ] {
        let bytes = out.mlp.to_vi3(format).unwrap();
        let model = Model::parse(bytes.bytes()).unwrap();
        let rendered = render(&model, &signal.coords).unwrap();
        let p = psnr(&rendered, &signal.values);
        if format == NumberFormat::F32 {
            let worst =
                rendered.iter().zip(&trained).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(worst < 1e-4, "f32 export vs trainer: max difference {worst:e}");
            f32_psnr = p;
        }
        assert!(p >= f32_psnr - slack, "{}: {p:.2} dB vs f32 {f32_psnr:.2} dB", format.name());
    }
}

#[test]
fn fourier_features_export_and_evaluate_like_the_trainer() {
    let signal = Signal::bundled();
    let mut mlp = InitScheme::PyTorch.init(&[16, 32, 3], Act::Relu, 4).unwrap();
    mlp.fourier = vi3nr_cuda::mlp::fourier_frequencies(8, 2, 3.0, 4);
    let inputs = mlp.encode(&signal.coords);
    let mut cpu = CpuBackend::new(mlp, &inputs, &signal.values, Adam::with_lr(1e-3), 2).unwrap();
    let options = FitOptions {
        steps: 100,
        batch: Batch::Random(1024),
        eval_every: 50,
        schedule: Schedule::CONSTANT,
        qat: None,
    };
    let out = fit(&mut cpu, &inputs, &signal.values, &options, &mut |_| {}).unwrap();
    let mut trained = vec![0.0f32; signal.values.len()];
    cpu.predict(&inputs, &mut trained).unwrap();
    let bytes = out.mlp.to_vi3(NumberFormat::F32).unwrap();
    let model = Model::parse(bytes.bytes()).unwrap();
    assert_eq!((model.in_dim, model.n_freq()), (2, 8));
    let rendered = render(&model, &signal.coords).unwrap();
    let worst = rendered.iter().zip(&trained).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-3, "f32 export with Fourier features vs trainer: {worst:e}");
}
