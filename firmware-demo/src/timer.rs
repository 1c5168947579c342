//! Instruction counting with SysTick.
//!
//! DWT's cycle counter is not emulated by QEMU. With `-icount shift=0` QEMU retires one
//! instruction per nanosecond of virtual time, so SysTick on the core clock counts instructions
//! deterministically: one tick is 40 instructions on mps2-an386 (25 MHz) and 62.5 on the
//! micro:bit (16 MHz). These are instruction counts, not cycles. On a real board the same code
//! counts core cycles (1 tick = 1 cycle); the scale below assumes QEMU.

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;

/// Twice the instructions per SysTick tick under `qemu -icount shift=0`.
pub const INSTRUCTIONS_PER_TICK_X2: u64 = if cfg!(board = "microbit") { 125 } else { 80 };

const MASK: u32 = 0x00ff_ffff;

/// A free-running 24-bit down-counter on the core clock.
pub struct Timer {
    _syst: SYST,
}

impl Timer {
    /// Starts SysTick: core clock, full 24-bit reload, no interrupt.
    pub fn new(mut syst: SYST) -> Self {
        syst.disable_interrupt();
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(MASK);
        syst.clear_current();
        syst.enable_counter();
        Timer { _syst: syst }
    }

    /// The counter now (it counts down).
    #[inline(always)]
    pub fn now(&self) -> u32 {
        SYST::get_current()
    }

    /// Ticks from `start` to `end`, correct across one wrap (intervals under 2²⁴ ticks: 671 M
    /// instructions on mps2-an386, 1 G on the micro:bit).
    #[inline(always)]
    pub fn ticks(start: u32, end: u32) -> u32 {
        start.wrapping_sub(end) & MASK
    }

    /// Ticks taken by `f` (keep `f` well under 2²⁴ ticks; sum several calls for longer work).
    #[inline(always)]
    pub fn time<R>(&self, f: impl FnOnce() -> R) -> (R, u32) {
        let start = self.now();
        let r = f();
        let end = self.now();
        (r, Self::ticks(start, end))
    }
}

/// Instructions for `ticks` (under QEMU's `-icount shift=0`).
pub fn instructions(ticks: u64) -> u64 {
    ticks * INSTRUCTIONS_PER_TICK_X2 / 2
}
