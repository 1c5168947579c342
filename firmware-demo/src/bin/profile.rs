//! Where the evaluator's instructions go: the cost of each activation and of the i8 path's
//! per-row requantisation set-up, timed alone, and what remains per multiply-accumulate for
//! each model. `cargo run --release --bin profile` (add `--target thumbv6m-none-eabi` for the
//! M0). Instruction counts under QEMU `-icount shift=0`, not cycles.
#![no_std]
#![no_main]

use core::hint::black_box;

use defmt::info;
use vi3nr_core::Act;
use vi3nr_core::eval::fast::FastAct;
use vi3nr_core::eval::parts::{self, FixedAct, Requant};
use vi3nr_core::model::NumberFormat;
use vi3nr_firmware::check;
use vi3nr_firmware::goldens::MODELS;
use vi3nr_firmware::timer::{Timer, instructions};
use vi3nr_firmware::{BOARD, POINTS, exit};

/// Calls timed per measurement.
const N: u32 = 256;

/// Instructions per call of `f(i)` for i in 0..N, the timing overhead removed.
fn per_call(timer: &Timer, mut f: impl FnMut(u32)) -> u64 {
    let mut ticks = 0u64;
    let mut empty = 0u64;
    for i in 0..N {
        ticks += u64::from(timer.time(|| f(black_box(i))).1);
        empty += u64::from(timer.time(|| black_box(i)).1);
    }
    instructions(ticks.saturating_sub(empty)) / u64::from(N)
}

#[cortex_m_rt::entry]
fn main() -> ! {
    let timer = Timer::new(cortex_m::Peripherals::take().unwrap().SYST);
    info!("vi3nr evaluator profile on {=str}", BOARD);
    let sine = Act::Sine { omega: 30.0 };
    let gauss = Act::Gaussian { a: 0.05 };
    // Pre-activations spread like a trained network's: |z| up to ~0.2.
    let z = |i: u32| (i as f32 - 128.0) * (0.2 / 128.0);
    let fs = FastAct::new(Some(sine));
    let fg = FastAct::new(Some(gauss));
    let act_f32 = [
        per_call(&timer, |i| {
            black_box(fs.eval(z(i)));
        }),
        per_call(&timer, |i| {
            black_box(fg.eval(z(i)));
        }),
    ];
    let xs = FixedAct::new(Some(sine)).unwrap();
    let xg = FixedAct::new(Some(gauss)).unwrap();
    let act_fixed = [
        per_call(&timer, |i| {
            black_box(xs.eval(i64::from(i) * 16_777_259));
        }),
        per_call(&timer, |i| {
            black_box(xg.eval(i64::from(i) * 1_024));
        }),
    ];
    let z_only = per_call(&timer, |i| {
        black_box(z(i));
    });
    // The i8 path sets up one Requant per output row and point: an f32 product of the row
    // scale and the layer's unit (`parts::row_unit`, computed at parse time), bit operations,
    // and the split into a `Rescale`.
    let unit = black_box(parts::row_unit(Some(sine), 5, 14));
    let requant_setup = per_call(&timer, |i| {
        let k = 1e-3 * (i + 1) as f32 * unit;
        black_box(Requant::from_f32(k).map(Requant::rescale));
    });
    info!(
        "per call: f32 sine {=u64}, f32 gaussian {=u64} (incl. ~{=u64} to make z), fixed sine {=u64}, fixed gaussian {=u64}, i8 row requant set-up {=u64} instructions",
        act_f32[0], act_f32[1], z_only, act_fixed[0], act_fixed[1], requant_setup
    );

    // 2-32-32-32-1: 2208 weights, 96 activations, 97 output rows.
    const MACS: u64 = 2 * 32 + 32 * 32 * 2 + 32;
    for golden in &MODELS {
        let report = check::check_model(golden, &timer).unwrap();
        let total = instructions(report.ticks) / POINTS as u64;
        let is_sine = golden.name.starts_with("sine");
        let act = match report.format {
            NumberFormat::F32 | NumberFormat::F16 => act_f32[usize::from(!is_sine)],
            _ => act_fixed[usize::from(!is_sine)],
        };
        let acts = 96 * act;
        let setup = if report.format == NumberFormat::I8 { 97 * requant_setup } else { 0 };
        let rest = total.saturating_sub(acts + setup);
        info!(
            "{=str}: {=u64}/point = activations {=u64} + i8 row set-up {=u64} + the rest {=u64} ({=u64}.{=u64} per weight)",
            golden.name,
            total,
            acts,
            setup,
            rest,
            rest / MACS,
            rest * 10 / MACS % 10
        );
    }
    exit(0)
}
