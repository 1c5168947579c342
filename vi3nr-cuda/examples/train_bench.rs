//! Training steps per second of a SIREN-initialised sine network (ω = 30, Adam, MSE) on a
//! 512×512 synthetic image, random batches drawn on the device each step; one JSON line out.
//! `scripts/gpu-check.sh` runs it next to PyTorch (`scripts/bench_gpu_torch.py`), which trains
//! the same networks on the same data shape.
//!
//! ```text
//! cargo run --release -p vi3nr-cuda --example train_bench -- \
//!     [--device cuda|cpu|emu] [--hidden 64,64,64] [--out 3] [--batch 262144] [--steps 100]
//!     [--warmup 10] [--kernels fused|layered]
//! ```
//!
//! `--kernels layered` runs the layer-by-layer kernels on a network the fused ones could take.

use std::time::Instant;
use vi3nr_core::Act;
use vi3nr_cuda::cuda::{self, CudaBackend, Emulated};
use vi3nr_cuda::schemes::InitScheme;
use vi3nr_cuda::train::{Adam, Backend, Batch, CpuBackend};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let (mut device, mut hidden, mut out) = ("cuda".to_string(), "64,64,64".to_string(), 3);
    let (mut batch, mut steps, mut warmup) = (1usize << 18, 100u32, 10u32);
    let mut fused = true;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let num = || value.parse::<usize>().map_err(|e| format!("{flag} {value}: {e}"));
        match flag.as_str() {
            "--device" => device = value.clone(),
            "--hidden" => hidden = value.clone(),
            "--out" => out = num()?,
            "--batch" => batch = num()?,
            "--steps" => steps = num()? as u32,
            "--warmup" => warmup = num()? as u32,
            "--kernels" => fused = value == "fused",
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    let mut widths = vec![2];
    for w in hidden.split(',') {
        widths.push(w.parse::<usize>().map_err(|e| format!("--hidden {hidden}: {e}"))?);
    }
    widths.push(out);
    let side = 512;
    let mut coords = Vec::with_capacity(side * side * 2);
    let mut values = Vec::with_capacity(side * side * out);
    for i in 0..side * side {
        let (x, y) = ((i % side) as f32 / 255.5 - 1.0, (i / side) as f32 / 255.5 - 1.0);
        coords.extend([x, y]);
        values.extend((0..out).map(|c| (5.0 * x + c as f32).sin() * (4.0 * y).cos() * 0.8));
    }
    let act = Act::Sine { omega: 30.0 };
    let mlp = InitScheme::Siren.init(&widths, act, 0)?;
    let adam = Adam::with_lr(1e-4);
    let (mut backend, name): (Box<dyn Backend>, String) = match device.as_str() {
        "cuda" => {
            let mut b = cuda::open(mlp, &coords, &values, adam, 0)
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            let kernels = if b.set_fused(fused) { "fused" } else { "layered" };
            let name = format!("{}, {kernels} kernels", cuda::Device::describe(b.device()));
            (Box::new(b), name)
        }
        "emu" => {
            let dev = Emulated::new().map_err(|e| e.to_string())?;
            let mut b = CudaBackend::new(dev, mlp, &coords, &values, adam, 0).map_err(|e| e.0)?;
            let kernels = if b.set_fused(fused) { "fused" } else { "layered" };
            (Box::new(b), format!("PTX interpreter, {kernels} kernels"))
        }
        "cpu" => {
            let b = CpuBackend::new(mlp, &coords, &values, adam, 0).map_err(|e| e.0)?;
            (Box::new(b), format!("CPU, {} threads", rayon::current_num_threads()))
        }
        _ => return Err(format!("--device {device}: cuda, cpu or emu")),
    };
    for _ in 0..warmup {
        backend.step(Batch::Random(batch)).map_err(|e| e.0)?;
    }
    backend.take_loss().map_err(|e| e.0)?;
    let start = Instant::now();
    for _ in 0..steps {
        backend.step(Batch::Random(batch)).map_err(|e| e.0)?;
    }
    let loss = backend.take_loss().map_err(|e| e.0)?;
    let secs = start.elapsed().as_secs_f64();
    let shape: Vec<String> = widths.iter().map(|w| w.to_string()).collect();
    println!(
        "{{\"impl\": \"vi3nr\", \"device\": \"{name}\", \"widths\": \"{}\", \"batch\": {batch}, \"steps\": {steps}, \"steps_per_second\": {:.3}, \"ms_per_step\": {:.4}, \"loss\": {loss:.6}}}",
        shape.join("-"),
        f64::from(steps) / secs,
        1e3 * secs / f64::from(steps)
    );
    Ok(())
}
