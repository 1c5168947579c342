//! The CUDA backend against the CPU backend: forward outputs, gradients, one Adam step, a loss
//! curve, and the device batch sampler. One test body per check, run on two devices:
//!
//! - the PTX interpreter (`cuda::Emulated`), always: the real kernels and the real launch
//!   sequence executed on the CPU, with out-of-bounds, race and barrier checks; small shapes;
//! - a GPU (`cuda::Driver`) when one is present: larger and ragged shapes. Without a GPU these
//!   print `SKIP`; with `VI3NR_REQUIRE_GPU=1` a missing GPU fails them.

use vi3nr_core::Act;
use vi3nr_core::init::SigmaP;
use vi3nr_cuda::cuda::device::{Arg, Launch, download_f32, upload_f32};
use vi3nr_cuda::cuda::kernels::sample_index;
use vi3nr_cuda::cuda::{CudaBackend, Device, Driver, Emulated};
use vi3nr_cuda::mlp::Mlp;
use vi3nr_cuda::schemes::InitScheme;
use vi3nr_cuda::train::{Adam, Backend, Batch, CpuBackend};

const ACTS: [Act; 7] = [
    Act::Sine { omega: 30.0 },
    Act::Gaussian { a: 0.1 },
    Act::Relu,
    Act::Tanh,
    Act::Sigmoid,
    Act::Sinc,
    Act::Wavelet { omega: 5.0, s: 1.0 },
];

fn emulated() -> Emulated {
    Emulated::new().expect("the kernels load in the interpreter")
}

/// The GPU, or `None` after printing SKIP; panics under `VI3NR_REQUIRE_GPU=1` without one.
fn gpu(test: &str) -> Option<Driver> {
    match Driver::open(0) {
        Ok(dev) => Some(dev.expect("a GPU is present but the backend failed to set up")),
        Err(why) => {
            if std::env::var("VI3NR_REQUIRE_GPU").is_ok_and(|v| v == "1") {
                panic!("VI3NR_REQUIRE_GPU=1 but {why}");
            }
            eprintln!("SKIP {test}: {why} (set VI3NR_REQUIRE_GPU=1 to make this a failure)");
            None
        }
    }
}

/// `rows` samples of a smooth 2-D signal with `out` channels, plus a width-`in_dim` input
/// (extra input columns are functions of the first two).
fn data(rows: usize, in_dim: usize, out: usize) -> (Vec<f32>, Vec<f32>) {
    let mut coords = Vec::new();
    let mut values = Vec::new();
    for i in 0..rows {
        let t = (i as f32 + 0.5) / rows as f32;
        let (x, y) = (2.0 * t - 1.0, (13.0 * t).sin());
        for c in 0..in_dim {
            coords.push(match c {
                0 => x,
                1 => y,
                _ => (x * c as f32).cos(),
            });
        }
        for c in 0..out {
            values.push(((3.0 + c as f32) * x).sin() * 0.5 + 0.2 * y);
        }
    }
    (coords, values)
}

fn network(widths: &[usize], act: Act) -> Mlp {
    InitScheme::vi3nr(SigmaP::Auto(None)).init(widths, act, 5).unwrap()
}

/// The CUDA backend on `dev`, on the fused kernels or the layer-by-layer ones.
fn backend<D: Device>(
    dev: D,
    mlp: Mlp,
    coords: &[f32],
    values: &[f32],
    fused: bool,
) -> CudaBackend<D> {
    let mut cuda = CudaBackend::new(dev, mlp, coords, values, Adam::with_lr(1e-3), 0).unwrap();
    let narrow = cuda.fused();
    assert_eq!(cuda.set_fused(fused), fused && narrow);
    cuda
}

/// A signal of `rows` points and the same network on the CPU and on `dev`.
struct Pair<D: Device> {
    coords: Vec<f32>,
    values: Vec<f32>,
    cpu: CpuBackend,
    cuda: CudaBackend<D>,
}

fn pair<D: Device>(dev: D, widths: &[usize], rows: usize, act: Act, fused: bool) -> Pair<D> {
    let (coords, values) = data(rows, widths[0], widths[widths.len() - 1]);
    let mlp = network(widths, act);
    let cpu = CpuBackend::new(mlp.clone(), &coords, &values, Adam::with_lr(1e-3), 0).unwrap();
    let cuda = backend(dev, mlp, &coords, &values, fused);
    Pair { coords, values, cpu, cuda }
}

/// Prints and checks that `got` is within `tol` of `want` ([`rel_err`]).
fn agree(case: &str, what: &str, got: &[f32], want: &[f32], tol: f64) {
    let e = rel_err(got, want);
    eprintln!("{case}: {what} {e:.1e}");
    assert!(e < tol, "{case}: {what} is {e:.2e}, above {tol:.0e}");
}

/// Largest |a − b| over max |b| (or 1e-30).
fn rel_err(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().map(|x| f64::from(x.abs())).fold(1e-30, f64::max);
    a.iter().zip(b).map(|(x, y)| f64::from((x - y).abs())).fold(0.0, f64::max) / scale
}

fn check_forward<D: Device>(dev: D, widths: &[usize], rows: usize, act: Act, fused: bool) {
    let Pair { coords, values, mut cpu, mut cuda } = pair(dev, widths, rows, act, fused);
    let (mut a, mut b) = (vec![0.0; values.len()], vec![0.0; values.len()]);
    cpu.predict(&coords, &mut a).unwrap();
    cuda.predict(&coords, &mut b).unwrap();
    let case = format!("{act} {widths:?} rows {rows} fused {fused}");
    agree(&case, "forward (largest difference / largest output)", &b, &a, 2e-5);
}

fn check_gradient<D: Device>(dev: D, widths: &[usize], rows: usize, act: Act, fused: bool) {
    let Pair { coords, values, mut cpu, mut cuda } = pair(dev, widths, rows, act, fused);
    let (la, ga) = cpu.loss_and_gradient(&coords, &values).unwrap();
    let (lb, gb) = cuda.loss_and_gradient(&coords, &values).unwrap();
    assert!((la - lb).abs() <= 1e-5 * la.abs(), "{act} {widths:?}: loss {lb} vs {la}");
    let case = format!("{act} {widths:?} rows {rows} fused {fused}");
    agree(&case, "gradient (largest difference / largest entry)", &gb, &ga, 1e-4);
}

/// One full-batch Adam step: parameters agree, except where a gradient is so small that its
/// sign is rounding noise (Adam's first step moves every parameter by ±lr).
fn check_adam_step<D: Device>(dev: D, widths: &[usize], rows: usize, act: Act, fused: bool) {
    let Pair { coords, values, mut cpu, mut cuda } = pair(dev, widths, rows, act, fused);
    let (_, grad) = cpu.loss_and_gradient(&coords, &values).unwrap();
    let gmax = grad.iter().fold(0.0f32, |m, g| m.max(g.abs()));
    cpu.step(Batch::Full).unwrap();
    cuda.step(Batch::Full).unwrap();
    let (lc, lg) = (cpu.take_loss().unwrap(), cuda.take_loss().unwrap());
    assert!((lc - lg).abs() <= 1e-5 * lc.abs(), "{act}: step loss {lg} vs {lc}");
    let (pc, pg) = (cpu.parameters().flat_parameters(), cuda.parameters().flat_parameters());
    for (i, ((a, b), g)) in pc.iter().zip(&pg).zip(&grad).enumerate() {
        let noisy = g.abs() < 1e-4 * gmax;
        assert!(
            noisy || (a - b).abs() <= 2e-6 * a.abs().max(1.0),
            "{act}: parameter {i}: {b} vs {a}"
        );
    }
}

/// DeepSDF's clamped L1 (`--loss clamped-l1:δ`): the loss and its gradient agree with the
/// CPU's, with δ the median |prediction| so that half the predictions are clamped (zero
/// gradient) and targets fall on both sides of the band.
fn check_clamped_l1<D: Device>(dev: D, widths: &[usize], rows: usize, fused: bool) {
    use vi3nr_cuda::train::Loss;
    let Pair { coords, values, cpu, cuda } =
        pair(dev, widths, rows, Act::Sine { omega: 30.0 }, fused);
    let mut mse = cpu;
    let mut out = vec![0.0f32; values.len()];
    mse.predict(&coords, &mut out).unwrap();
    let mut size: Vec<f32> = out.iter().map(|p| p.abs()).collect();
    size.sort_by(f32::total_cmp);
    let delta = size[size.len() / 2];
    let outside = |v: &[f32]| v.iter().filter(|x| x.abs() > delta).count();
    assert!(outside(&out) > 0 && outside(&values) > 0 && outside(&values) < values.len());
    let (_, gm) = mse.loss_and_gradient(&coords, &values).unwrap();
    let loss = Loss::ClampedL1 { delta };
    let (mut cpu, mut cuda) = (mse.with_loss(loss), cuda.with_loss(loss));
    let (la, ga) = cpu.loss_and_gradient(&coords, &values).unwrap();
    let (lb, gb) = cuda.loss_and_gradient(&coords, &values).unwrap();
    let case = format!("clamped L1 δ {delta:.3} {widths:?} rows {rows} fused {fused}");
    assert!((la - lb).abs() <= 1e-5 * la.abs(), "{case}: loss {lb} vs {la}");
    agree(&case, "gradient (largest difference / largest entry)", &gb, &ga, 1e-4);
    assert!(rel_err(&gb, &gm) > 0.1, "{case}: the gradient is MSE's");
}

/// `--clip-grad`: a few full-batch steps with the norm clipped to a tenth of the first
/// gradient's; Adam's first moments (which carry the scaled gradient) and the parameters agree
/// with the CPU's clipped run, and the first moments differ from an unclipped run's by the
/// clipping factor.
fn check_clipped_steps<D: Device>(dev: D, widths: &[usize], rows: usize, fused: bool) {
    let (coords, values) = data(rows, widths[0], widths[widths.len() - 1]);
    let mlp = network(widths, Act::Sine { omega: 30.0 });
    let mut probe = CpuBackend::new(mlp.clone(), &coords, &values, Adam::with_lr(1e-3), 0).unwrap();
    let (_, grad) = probe.loss_and_gradient(&coords, &values).unwrap();
    let norm = grad.iter().map(|&g| f64::from(g) * f64::from(g)).sum::<f64>().sqrt();
    let adam = Adam { clip: Some((0.1 * norm) as f32), ..Adam::with_lr(1e-3) };
    let mut cpu = CpuBackend::new(mlp.clone(), &coords, &values, adam, 0).unwrap();
    let mut cuda = CudaBackend::new(dev, mlp, &coords, &values, adam, 0).unwrap();
    cuda.set_fused(fused);
    probe.step(Batch::Full).unwrap();
    for step in 1..=4 {
        cpu.step(Batch::Full).unwrap();
        cuda.step(Batch::Full).unwrap();
        let (a, b) = (cpu.state().unwrap(), cuda.state().unwrap());
        let case = format!("clipped {widths:?} fused {fused} step {step}");
        agree(&case, "first moments", &b.m, &a.m, 1e-4);
        agree(&case, "parameters", &b.params, &a.params, 1e-5);
        if step == 1 {
            let free = probe.state().unwrap();
            let ratio = rel_err(&b.m, &free.m);
            assert!((ratio - 0.9).abs() < 1e-3, "{case}: the moments moved by {ratio}, not 0.9");
        }
    }
}

/// Mean losses over `blocks` blocks of `every` full-batch steps agree within 2 %.
fn check_loss_curve<D: Device>(
    dev: D,
    widths: &[usize],
    rows: usize,
    act: Act,
    steps: u64,
    fused: bool,
) {
    let Pair { mut cpu, mut cuda, .. } = pair(dev, widths, rows, act, fused);
    let every = steps / 10;
    let (mut first, mut last) = (0.0, 0.0);
    for block in 0..10 {
        for _ in 0..every {
            cpu.step(Batch::Full).unwrap();
            cuda.step(Batch::Full).unwrap();
        }
        let (a, b) = (cpu.take_loss().unwrap(), cuda.take_loss().unwrap());
        eprintln!(
            "{act} {widths:?} fused {fused}: steps to {}: loss cpu {a:.6e} device {b:.6e}",
            (block + 1) * every
        );
        assert!((a - b).abs() <= 0.02 * a, "{act} {widths:?}: block {block}: loss {b} vs {a}");
        if block == 0 {
            first = a;
        }
        last = a;
    }
    assert!(last < 0.5 * first, "{act}: the loss did not fall ({first} → {last})");
}

/// The device sampler draws the documented indices and copies the right rows.
fn check_gather<D: Device>(mut dev: D) {
    let (points, rows, in_dim, out_dim) = (1000usize, 300usize, 2usize, 3usize);
    let (coords, values) = data(points, in_dim, out_dim);
    let c = dev.alloc(coords.len()).unwrap();
    let v = dev.alloc(values.len()).unwrap();
    let (bx, by) = (dev.alloc(rows * in_dim).unwrap(), dev.alloc(rows * out_dim).unwrap());
    let state = dev.alloc(3).unwrap();
    upload_f32(&mut dev, c, 0, &coords).unwrap();
    upload_f32(&mut dev, v, 0, &values).unwrap();
    let t = 42u32;
    dev.upload(state, 0, &[t, 0, 0]).unwrap();
    let seed = 0x1234_5678_9abc_def0;
    let args = vec![
        c.arg(),
        v.arg(),
        bx.arg(),
        by.arg(),
        state.arg(),
        Arg::U64(seed),
        Arg::U32(points as u32),
        Arg::U32(rows as u32),
        Arg::U32(in_dim as u32),
        Arg::U32(out_dim as u32),
    ];
    let launch = Launch { kernel: "gather", grid: [2, 1, 1], block: [256, 1, 1], args };
    dev.launch(&launch).unwrap();
    let (mut gx, mut gy) = (vec![0.0; rows * in_dim], vec![0.0; rows * out_dim]);
    download_f32(&dev, bx, 0, &mut gx).unwrap();
    download_f32(&dev, by, 0, &mut gy).unwrap();
    for i in 0..rows {
        let j = sample_index(seed, t, i as u32, points as u32) as usize;
        assert_eq!(&gx[i * in_dim..][..in_dim], &coords[j * in_dim..][..in_dim], "row {i}");
        assert_eq!(&gy[i * out_dim..][..out_dim], &values[j * out_dim..][..out_dim], "row {i}");
    }
}

// --- On the PTX interpreter (always) -------------------------------------------------------

#[test]
fn emulated_forward_matches_cpu_for_every_activation() {
    for fused in [true, false] {
        for act in ACTS {
            check_forward(emulated(), &[2, 16, 16, 3], 37, act, fused);
        }
        check_forward(emulated(), &[3, 20, 5, 1], 19, Act::Sine { omega: 30.0 }, fused);
    }
    // Wider than the fused kernels take: the layer-by-layer path either way.
    check_forward(emulated(), &[2, 80, 3], 21, Act::Sine { omega: 30.0 }, true);
}

#[test]
fn emulated_gradient_matches_cpu_for_every_activation() {
    for fused in [true, false] {
        for act in ACTS {
            check_gradient(emulated(), &[2, 16, 16, 3], 37, act, fused);
        }
        check_gradient(emulated(), &[3, 20, 5, 1], 19, Act::Gaussian { a: 0.1 }, fused);
        // Several 16-wide tiles along K and N, several batch chunks in weight_grad_partial,
        // several 32-row tiles in the fused kernels.
        check_gradient(emulated(), &[2, 64, 48, 3], 50, Act::Sine { omega: 30.0 }, fused);
        check_gradient(emulated(), &[2, 16, 3], 601, Act::Sine { omega: 30.0 }, fused);
    }
    check_gradient(emulated(), &[2, 80, 3], 21, Act::Gaussian { a: 0.1 }, true);
}

#[test]
fn emulated_adam_step_matches_cpu() {
    for fused in [true, false] {
        check_adam_step(emulated(), &[2, 16, 16, 3], 37, Act::Sine { omega: 30.0 }, fused);
    }
}

#[test]
fn emulated_clamped_l1_matches_cpu() {
    for fused in [true, false] {
        check_clamped_l1(emulated(), &[2, 16, 16, 3], 37, fused);
    }
}

#[test]
fn emulated_clipped_steps_match_cpu() {
    for fused in [true, false] {
        check_clipped_steps(emulated(), &[2, 16, 16, 3], 37, fused);
    }
}

#[test]
fn emulated_loss_curve_matches_cpu() {
    for fused in [true, false] {
        check_loss_curve(emulated(), &[2, 16, 16, 3], 37, Act::Sine { omega: 30.0 }, 200, fused);
    }
}

#[test]
fn emulated_gather_draws_the_documented_rows() {
    check_gather(emulated());
}

#[test]
fn emulated_random_batches_train() {
    let (coords, values) = data(200, 2, 1);
    let mlp = network(&[2, 16, 1], Act::Sine { omega: 30.0 });
    for (fused, launches) in [(true, 11), (false, 12)] {
        let mut cuda = backend(emulated(), mlp.clone(), &coords, &values, fused);
        for _ in 0..5 {
            cuda.step(Batch::Random(40)).unwrap();
        }
        let loss = cuda.take_loss().unwrap();
        assert!(loss.is_finite() && loss > 0.0, "{loss}");
        assert_eq!(cuda.device().launches, 5 * launches, "{launches} launches per step");
    }
}

/// The GPU tests' shapes on the interpreter (minutes in release; not run by default):
/// `cargo test --release -p vi3nr-cuda --test cuda_parity -- --ignored`.
#[test]
#[ignore = "minutes of interpretation; run by hand in release"]
fn emulated_gpu_shapes() {
    for (widths, rows) in GPU_SHAPES {
        for fused in [true, false] {
            for act in [Act::Sine { omega: 30.0 }, Act::Gaussian { a: 0.1 }, Act::Sinc] {
                check_forward(emulated(), widths, rows, act, fused);
                check_gradient(emulated(), widths, rows, act, fused);
            }
            check_adam_step(emulated(), widths, rows, Act::Sine { omega: 30.0 }, fused);
        }
    }
}

// --- On a GPU (when present) -----------------------------------------------------------------

const GPU_SHAPES: [(&[usize], usize); 4] = [
    (&[2, 16, 16, 3], 1000),
    (&[2, 64, 64, 64, 3], 4099),
    (&[2, 256, 256, 3], 2053),
    (&[3, 20, 5, 1], 77),
];

/// Runs `check` on the GPU for every shape of [`GPU_SHAPES`], activation of `acts` and path
/// (fused and layer by layer); skips (loudly) without a GPU.
fn gpu_sweep(test: &str, acts: &[Act], check: fn(Driver, &[usize], usize, Act, bool)) {
    for (widths, rows) in GPU_SHAPES {
        for (act, fused) in acts.iter().flat_map(|&a| [(a, true), (a, false)]) {
            let Some(dev) = gpu(test) else { return };
            check(dev, widths, rows, act, fused);
        }
    }
}

#[test]
fn gpu_forward_matches_cpu() {
    gpu_sweep("gpu_forward_matches_cpu", &ACTS, check_forward::<Driver>);
}

#[test]
fn gpu_gradient_matches_cpu() {
    gpu_sweep("gpu_gradient_matches_cpu", &ACTS, check_gradient::<Driver>);
}

#[test]
fn gpu_adam_step_matches_cpu() {
    gpu_sweep("gpu_adam_step_matches_cpu", &[Act::Sine { omega: 30.0 }], check_adam_step::<Driver>);
}

#[test]
fn gpu_clamped_l1_matches_cpu() {
    for fused in [true, false] {
        let Some(dev) = gpu("gpu_clamped_l1_matches_cpu") else { return };
        check_clamped_l1(dev, &[2, 64, 64, 64, 3], 4099, fused);
    }
}

#[test]
fn gpu_clipped_steps_match_cpu() {
    for fused in [true, false] {
        let Some(dev) = gpu("gpu_clipped_steps_match_cpu") else { return };
        check_clipped_steps(dev, &[2, 64, 64, 64, 3], 4099, fused);
    }
}

#[test]
fn gpu_loss_curve_matches_cpu() {
    for act in [Act::Sine { omega: 30.0 }, Act::Gaussian { a: 0.1 }] {
        for fused in [true, false] {
            let Some(dev) = gpu("gpu_loss_curve_matches_cpu") else { return };
            check_loss_curve(dev, &[2, 64, 64, 64, 3], 4099, act, 200, fused);
        }
    }
}

#[test]
fn gpu_gather_draws_the_documented_rows() {
    if let Some(dev) = gpu("gpu_gather_draws_the_documented_rows") {
        check_gather(dev);
    }
}

#[test]
fn gpu_runs_are_reproducible() {
    let Some(dev) = gpu("gpu_runs_are_reproducible") else { return };
    let Some(dev2) = gpu("gpu_runs_are_reproducible") else { return };
    let (coords, values) = data(5000, 2, 3);
    let mlp = network(&[2, 64, 64, 3], Act::Sine { omega: 30.0 });
    let adam = Adam::with_lr(1e-3);
    let mut a = CudaBackend::new(dev, mlp.clone(), &coords, &values, adam, 1).unwrap();
    let mut b = CudaBackend::new(dev2, mlp, &coords, &values, adam, 1).unwrap();
    for _ in 0..20 {
        a.step(Batch::Random(1000)).unwrap();
        b.step(Batch::Random(1000)).unwrap();
    }
    assert_eq!(a.take_loss().unwrap().to_bits(), b.take_loss().unwrap().to_bits());
    assert_eq!(a.parameters(), b.parameters(), "same seed, same bits: no races");
}

/// The kernels' sine (`activation.ptx`: Cody–Waite reduction and polynomials, IEEE `.rn`
/// operations only, so the interpreter computes exactly what a GPU computes) against f64 `sin`
/// for arguments up to ±6,000 (ω = 30 times pre-activations up to ±200).
#[test]
fn emulated_sine_is_accurate_for_large_arguments() {
    let mut dev = emulated();
    let n = 20_000;
    let x: Vec<f32> = (0..n).map(|i| -200.0 + 400.0 * (i as f32 + 0.37) / n as f32).collect();
    let (a, w, b) = (dev.alloc(n).unwrap(), dev.alloc(1).unwrap(), dev.alloc(1).unwrap());
    let (y, d) = (dev.alloc(n).unwrap(), dev.alloc(n).unwrap());
    upload_f32(&mut dev, a, 0, &x).unwrap();
    upload_f32(&mut dev, w, 0, &[1.0]).unwrap();
    // gemm_tiled with K = 1, W = 1, bias 0, training epilogue: y = sin(30x), d = 30 cos(30x).
    let u = |v: usize| Arg::U32(v as u32);
    let args = vec![
        a.arg(),
        u(1),
        u(1),
        w.arg(),
        u(1),
        u(1),
        u(n),
        u(1),
        u(1),
        u(1),
        u(0),
        u(1),
        y.arg(),
        u(1),
        u(0),
        b.arg(),
        d.arg(),
        u(2),
        u(4),
        Arg::F32(30.0),
        Arg::F32(0.0),
    ];
    let grid = [n.div_ceil(64) as u32, 1, 1];
    dev.launch(&Launch { kernel: "gemm_tiled", grid, block: [256, 1, 1], args }).unwrap();
    let (mut s, mut c) = (vec![0.0f32; n], vec![0.0f32; n]);
    download_f32(&dev, y, 0, &mut s).unwrap();
    download_f32(&dev, d, 0, &mut c).unwrap();
    let (mut es, mut ec) = (0.0f64, 0.0f64);
    for ((&x, &s), &c) in x.iter().zip(&s).zip(&c) {
        // The argument the kernel sees is the f32 product 30·x, as on the CPU.
        let arg = f64::from(30.0f32 * x);
        es = es.max((f64::from(s) - arg.sin()).abs());
        ec = ec.max((f64::from(c) / 30.0 - arg.cos()).abs());
    }
    eprintln!("sine over |30x| ≤ 6,000: max |error| sin {es:.2e}, cos {ec:.2e}");
    assert!(es < 2e-7 && ec < 2e-7, "sin error {es:.2e}, cos error {ec:.2e}");
}

/// The trainer's loop (`train::fit`: steps, a learning-rate schedule with warm-up, loss at
/// evaluations only, predictions, parameter snapshots) on the CUDA backend ends where the CPU
/// backend ends; the schedule changes the run.
#[test]
fn emulated_fit_loop_matches_cpu() {
    use vi3nr_cuda::train::{FitOptions, LrSchedule, Schedule, fit};
    let (coords, values) = data(48, 2, 3);
    let mlp = network(&[2, 16, 16, 3], Act::Sine { omega: 30.0 });
    let schedule = Schedule { kind: LrSchedule::Step, warmup: 5 };
    let options = FitOptions { steps: 30, batch: Batch::Full, eval_every: 10, schedule, qat: None };
    let adam = Adam::with_lr(1e-3);
    let mut cpu = CpuBackend::new(mlp.clone(), &coords, &values, adam, 0).unwrap();
    let a = fit(&mut cpu, &coords, &values, &options, &mut |_| {}).unwrap();
    let constant = FitOptions { schedule: Schedule::CONSTANT, ..options };
    let mut other = CpuBackend::new(mlp.clone(), &coords, &values, adam, 0).unwrap();
    let c = fit(&mut other, &coords, &values, &constant, &mut |_| {}).unwrap();
    assert_ne!(a.evaluations[2].loss, c.evaluations[2].loss, "the schedule has an effect");
    let mut cuda = backend(emulated(), mlp, &coords, &values, true);
    let b = fit(&mut cuda, &coords, &values, &options, &mut |_| {}).unwrap();
    assert_eq!(b.evaluations.len(), 3);
    assert!(b.diverged.is_none() && b.steps == 30);
    for (x, y) in a.evaluations.iter().zip(&b.evaluations) {
        assert!((x.psnr - y.psnr).abs() < 0.01, "step {}: PSNR {} vs {}", x.step, y.psnr, x.psnr);
        assert!((x.loss - y.loss).abs() <= 1e-5 * x.loss, "step {}: loss", x.step);
    }
    assert!(b.evaluations[2].psnr > b.evaluations[0].psnr, "the fit improves");
}
