//! Backend state for checkpoints: a backend restored from another's [`Backend::state`]
//! continues exactly as the original would, on the CPU and on the CUDA backend (its kernels on
//! the PTX interpreter), with random batches so the sampler's state matters.

use vi3nr_core::Act;
use vi3nr_core::init::SigmaP;
use vi3nr_cuda::cuda::{CudaBackend, Emulated};
use vi3nr_cuda::mlp::Mlp;
use vi3nr_cuda::schemes::InitScheme;
use vi3nr_cuda::train::{Adam, Backend, Batch, CpuBackend};

/// A smooth 2-D signal of `n` points.
fn data(n: usize) -> (Vec<f32>, Vec<f32>) {
    let coords: Vec<f32> = (0..n).flat_map(|i| [i as f32 / n as f32 * 2.0 - 1.0, 0.3]).collect();
    let values = coords.chunks(2).map(|c| (3.0 * c[0]).sin() * 0.5 + 0.1 * c[1]).collect();
    (coords, values)
}

fn network() -> Mlp {
    InitScheme::vi3nr(SigmaP::Auto(None)).init(&[2, 8, 8, 1], Act::Sine { omega: 30.0 }, 5).unwrap()
}

/// Trains `a` for `before` steps, moves its state into `b`, then trains both `after` more
/// steps: `b` must end with `a`'s parameters, bit for bit.
fn continues_exactly(a: &mut dyn Backend, b: &mut dyn Backend, before: u64, after: u64) {
    let batch = Batch::Random(48);
    (0..before).for_each(|_| a.step(batch).unwrap());
    let state = a.state().unwrap();
    assert_eq!(state.step, before);
    b.restore(&state).unwrap();
    assert_eq!(b.state().unwrap(), state, "restore then state is the identity");
    for _ in 0..after {
        a.step(batch).unwrap();
        b.step(batch).unwrap();
    }
    let (pa, pb) = (a.parameters().flat_parameters(), b.parameters().flat_parameters());
    let bits = |p: &[f32]| p.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&pa), bits(&pb), "the restored backend diverged from the original");
    assert_ne!(bits(&pb), bits(&network().flat_parameters()), "nothing trained");
}

#[test]
fn the_cpu_backend_continues_from_its_state() {
    let (coords, values) = data(200);
    let new = || CpuBackend::new(network(), &coords, &values, Adam::with_lr(1e-3), 7).unwrap();
    continues_exactly(&mut new(), &mut new(), 5, 5);
    // Another backend's state does not fit: a clear error.
    let (small_c, small_v) = data(10);
    let other = InitScheme::vi3nr(SigmaP::Auto(None)).init(&[2, 4, 1], Act::Tanh, 1).unwrap();
    let mut other = CpuBackend::new(other, &small_c, &small_v, Adam::with_lr(1e-3), 7).unwrap();
    let state = new().state().unwrap();
    assert!(other.restore(&state).unwrap_err().0.contains("parameters"));
}

#[test]
fn the_cuda_backend_continues_from_its_state_on_the_interpreter() {
    let (coords, values) = data(96);
    let new = || {
        let dev = Emulated::new().unwrap();
        CudaBackend::new(dev, network(), &coords, &values, Adam::with_lr(1e-3), 7).unwrap()
    };
    continues_exactly(&mut new(), &mut new(), 3, 3);
    // A CPU state (its sampler) is refused by the CUDA backend.
    let cpu = CpuBackend::new(network(), &coords, &values, Adam::with_lr(1e-3), 7);
    let state = cpu.unwrap().state().unwrap();
    assert!(new().restore(&state).unwrap_err().0.contains("sampler"));
}
