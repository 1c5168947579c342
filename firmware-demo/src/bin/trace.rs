//! A short run for QEMU's execution log: one model (`VI3NR_TRACE_MODEL` at build time, an
//! index into the goldens' `MODELS`, default 2: sine-q15) evaluated at four grid points, each
//! evaluation between two calls of `marker`, so that `qemu-trace.py` counts the instructions
//! of each function and translation block per point. Run it with `qemu-trace.sh`.
#![no_std]
#![no_main]

use core::hint::black_box;

use vi3nr_core::eval::Scratch;
use vi3nr_firmware::check::{WIDTH, parse, point};
use vi3nr_firmware::exit;
use vi3nr_firmware::goldens::MODELS;

/// Which model, from `VI3NR_TRACE_MODEL`.
const MODEL: usize = match option_env!("VI3NR_TRACE_MODEL") {
    Some(s) => s.as_bytes()[0] as usize - b'0' as usize,
    None => 2,
};

#[cortex_m_rt::entry]
fn main() -> ! {
    let model = parse(&MODELS[MODEL % MODELS.len()]).unwrap();
    let mut scratch = Scratch::<WIDTH>::new();
    let mut y = [0f32];
    for k in 0..4 {
        marker();
        model.eval(&point(37 * k + 5), &mut y, &mut scratch).unwrap();
        marker();
        black_box(y);
    }
    exit(0)
}

/// Brackets each evaluation in the execution log.
#[inline(never)]
fn marker() {
    black_box(());
}
