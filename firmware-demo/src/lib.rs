//! vi3nr on a microcontroller: the global setup (defmt over semihosting, panic and HardFault
//! handlers that exit non-zero, [`exit`]), the embedded models with their host goldens, the
//! checks the demo and the on-target tests share, and an instruction counter on SysTick.
//!
//! Boards: QEMU's `mps2-an386` (Cortex-M4F, thumbv7em-none-eabihf) and the BBC micro:bit /
//! QEMU's `microbit` (Cortex-M0, thumbv6m-none-eabi); `build.rs` picks the memory map.
#![no_std]
#![deny(missing_docs)]

use core::sync::atomic::{AtomicBool, Ordering};

use cortex_m as _; // the critical-section implementation
use cortex_m_rt::{ExceptionFrame, exception};
use defmt_semihosting as _; // the global logger

pub mod check;
/// The embedded models and the host goldens (generated; see `models/regenerate.sh`).
#[rustfmt::skip]
pub mod goldens;
pub mod timer;

/// Bytes (or anything) at a 4-byte-aligned address, as `Model::parse` requires:
/// `static M: &Aligned<[u8]> = &Aligned(*include_bytes!("model.vi3"));`.
#[repr(C, align(4))]
pub struct Aligned<T: ?Sized>(pub T);

/// Points of the golden grid (16 × 16), and SDF query points.
pub const POINTS: usize = 256;
/// Pixels per side of the rendered image ([`goldens::RENDER_MODELS`]: 64 × 64 = 4,096 pixels).
pub const RENDER_SIDE: usize = 64;

/// One embedded model and its outputs on the grid, computed on the host.
pub struct GoldenModel {
    /// File stem, e.g. `sine-q15`.
    pub name: &'static str,
    /// The `.vi3` file, in flash.
    pub bytes: &'static Aligned<[u8]>,
    /// The CRC-32 the host read in the file.
    pub crc: u32,
    /// Host outputs (f32, little endian), point `k` at `(GRID[k % 16], GRID[k / 16])`, for an
    /// SDF model at `SDF_POINTS[k]` (the query points of [`check::sdf_point`]), for a rendered
    /// image at pixel `k` of [`check::render_point`].
    pub out: &'static [u8],
}

/// The [`GoldenModel`] of `models/NAME.vi3` and `models/NAME.out`, whose CRC the host read as
/// `crc` (the generated `goldens.rs` lists one per model).
#[macro_export]
macro_rules! golden {
    ($name:literal, $crc:literal) => {
        $crate::GoldenModel {
            name: $name,
            bytes: &$crate::Aligned(*include_bytes!(concat!("../models/", $name, ".vi3"))),
            crc: $crc,
            out: include_bytes!(concat!("../models/", $name, ".out")),
        }
    };
}

impl GoldenModel {
    /// The host outputs as f32 bit patterns, point by point.
    pub fn host_outputs(&self) -> impl Iterator<Item = u32> + '_ {
        self.out.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// How many host outputs there are.
    pub fn points(&self) -> usize {
        self.out.len() / 4
    }
}

/// The board this binary was built for.
pub const BOARD: &str = if cfg!(board = "microbit") {
    "microbit (Cortex-M0, QEMU or nRF51822)"
} else {
    "mps2-an386 (Cortex-M4F, QEMU)"
};

/// Ends the program with `code` as the exit status of QEMU (or of the semihosting host).
pub fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}

static PANICKED: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    // A panic while logging the panic must not recurse.
    // (load + store: thumbv6m has no atomic swap; interrupts are not used.)
    if !PANICKED.load(Ordering::Relaxed) {
        PANICKED.store(true, Ordering::Relaxed);
        defmt::error!("panic: {}", defmt::Display2Format(info));
    }
    exit(101)
}

#[defmt::panic_handler]
fn defmt_panic() -> ! {
    exit(101)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    defmt::error!("HardFault: pc={=u32:#010x} lr={=u32:#010x}", frame.pc(), frame.lr());
    exit(3)
}

#[exception]
unsafe fn DefaultHandler(irqn: i16) {
    defmt::error!("unexpected exception or interrupt {=i16}", irqn);
    exit(4)
}

/// Stack high-water mark: [`stack::paint`] at boot, [`stack::used`] at the end.
pub mod stack {
    const PAINT: u32 = 0x5ac5_5ac5;

    unsafe extern "C" {
        // cortex-m-rt's linker script: the stack grows down from `_stack_start` to `_stack_end`.
        static mut _stack_end: u32;
        static _stack_start: u32;
    }

    fn bounds() -> (usize, usize) {
        (&raw const _stack_end as usize, &raw const _stack_start as usize)
    }

    /// Fills the unused stack (below the current frame, with a margin) with a pattern.
    #[inline(never)]
    pub fn paint() {
        let (end, _) = bounds();
        let sp = cortex_m::register::msp::read() as usize - 256;
        let mut p = end as *mut u32;
        while (p as usize) < sp {
            // SAFETY: between the end of .bss/heap and the live stack: memory nobody uses yet.
            unsafe {
                p.write_volatile(PAINT);
                p = p.add(1);
            }
        }
    }

    /// Bytes of stack used since [`paint`] (the deepest word that lost the pattern).
    pub fn used() -> usize {
        let (end, start) = bounds();
        let mut p = end as *const u32;
        // SAFETY: reads within the stack region.
        while (p as usize) < start && unsafe { p.read_volatile() } == PAINT {
            p = unsafe { p.add(1) };
        }
        start - p as usize
    }
}
