//! Where the evaluator's instructions go: the cost of each activation (the f32 ones applied to
//! a 32-value layer, as the evaluator does), of the inner loops (32 products, the target's
//! assembly and the portable Rust) and of the i8 path's per-row requantisation set-up, timed
//! alone, and what remains for each model (per row: bias, rescale, stores, loop; per point:
//! input, output, layer set-up). `cargo run --release --bin profile` (add
//! `--target thumbv6m-none-eabi` for the M0). Instruction counts under QEMU `-icount shift=0`,
//! not cycles.
#![no_std]
#![no_main]

use core::hint::black_box;

use defmt::info;
use vi3nr_core::Act;
use vi3nr_core::eval::fast::FastAct;
use vi3nr_core::eval::parts::{self, FixedAct, Lane, Requant};
use vi3nr_core::model::NumberFormat;
use vi3nr_firmware::check;
use vi3nr_firmware::goldens::MODELS;
use vi3nr_firmware::timer::{Timer, instructions};
use vi3nr_firmware::{Aligned, BOARD, POINTS, exit};

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
    // A layer of 32 pre-activations through `eval_layer`, per value.
    let layer = |act: FastAct| {
        let mut zs = [0f32; 32];
        per_call(&timer, |i| {
            for (k, v) in zs.iter_mut().enumerate() {
                *v = z(i.wrapping_add(k as u32 * 8) & 255);
            }
            act.eval_layer(black_box(&mut zs));
            black_box(&zs);
        })
    };
    let fill = {
        let mut zs = [0f32; 32];
        per_call(&timer, |i| {
            for (k, v) in zs.iter_mut().enumerate() {
                *v = z(i.wrapping_add(k as u32 * 8) & 255);
            }
            black_box(&mut zs);
        })
    };
    let act_f32 = [layer(fs).saturating_sub(fill) / 32, layer(fg).saturating_sub(fill) / 32];
    let xs = FixedAct::new(Some(sine)).unwrap();
    let xg = FixedAct::new(Some(gauss)).unwrap();
    // The table sine as the rows call it (inlined there), and the generic entry point.
    let sine_table = per_call(&timer, |i| {
        black_box(parts::sine_q14(black_box(i.wrapping_mul(16_777_259))));
    });
    let act_fixed = [
        per_call(&timer, |i| {
            black_box(xs.eval(i64::from(i) * 16_777_259));
        }),
        per_call(&timer, |i| {
            black_box(xg.eval(i64::from(i) * 1_024));
        }),
    ];
    // The inner loops over 32 products (a 32-wide row, 4-byte aligned as the evaluator's rows
    // are), per call.
    let mut w16 = Aligned([0i16; 32]);
    let mut w8 = Aligned([0i8; 32]);
    let mut x = Aligned([0 as Lane; 32]);
    let mut x16 = Aligned([0i16; 32]);
    #[allow(clippy::useless_conversion)] // i16 → Lane, the same type on the M4F
    for k in 0..32 {
        w16.0[k] = (k as i16 * 1_237) ^ 0x5A5A;
        w8.0[k] = (k as i8).wrapping_mul(37);
        x16.0[k] = (k as i16 * 911) - 14_000;
        x.0[k] = x16.0[k].into();
    }
    let dots = [
        per_call(&timer, |_| {
            black_box(parts::dot_q15(black_box(&w16.0), black_box(&x.0)));
        }),
        per_call(&timer, |_| {
            black_box(parts::dot_i8(black_box(&w8.0), black_box(&x.0)));
        }),
        per_call(&timer, |_| {
            black_box(parts::dot_portable(black_box(&w16.0), black_box(&x16.0)));
        }),
    ];
    // The i8 path sets up one Requant per output row and point: an f32 product of the row
    // scale and the layer's unit (`parts::row_unit`, computed at parse time), bit operations,
    // and the split into a `Rescale`.
    let unit = black_box(parts::row_unit(Some(sine), 5, 14));
    let requant_setup = per_call(&timer, |i| {
        let k = 1e-3 * (i + 1) as f32 * unit;
        black_box(Requant::from_f32(k).map(Requant::rescale));
    });
    info!(
        "per call: f32 sine {=u64}, f32 gaussian {=u64} (per value of a 32-value layer), fixed sine {=u64} (table alone {=u64}), fixed gaussian {=u64}, i8 row requant set-up {=u64} instructions",
        act_f32[0], act_f32[1], act_fixed[0], sine_table, act_fixed[1], requant_setup
    );
    info!(
        "32 products: q15 loop {=u64}, i8 loop {=u64}, portable Rust (i16 × i16) {=u64} instructions",
        dots[0], dots[1], dots[2]
    );
    // 2-32-32-32-1: 2208 weights, 96 activations, 97 output rows.
    const MACS: u64 = 2 * 32 + 32 * 32 * 2 + 32;
    for golden in &MODELS {
        let report = check::check_model(golden, &timer).unwrap();
        let total = instructions(report.ticks) / POINTS as u64;
        let is_sine = golden.name.starts_with("sine");
        let act = match report.format {
            NumberFormat::F32 | NumberFormat::F16 => act_f32[usize::from(!is_sine)],
            _ if is_sine => sine_table, // the rows inline the table
            _ => act_fixed[1],
        };
        let acts = 96 * act;
        let setup = if report.format == NumberFormat::I8 { 97 * requant_setup } else { 0 };
        // The fixed-point products at the inner loops' cost alone (the 2-wide first layer's
        // 64 included at the same rate).
        let products = match report.format {
            NumberFormat::Q15 => dots[0] * MACS / 32,
            NumberFormat::I8 => dots[1] * MACS / 32,
            _ => 0,
        };
        let rest = total.saturating_sub(acts + setup + products);
        info!(
            "{=str}: {=u64}/point = activations {=u64} + i8 row set-up {=u64} + fixed-point products {=u64} + the rest {=u64} ({=u64}.{=u64} per weight)",
            golden.name,
            total,
            acts,
            setup,
            products,
            rest,
            rest / MACS,
            rest * 10 / MACS % 10
        );
    }
    exit(0)
}
