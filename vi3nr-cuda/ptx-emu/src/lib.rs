//! A PTX interpreter: runs hand-written CUDA kernels (vi3nr's `vi3nr-cuda/kernels/*.ptx`) on
//! the CPU, so that a GPU backend can be parity-tested without a GPU, and so that kernel bugs a
//! GPU would hide or make intermittent become deterministic errors.
//!
//! # What it promises
//! - A kernel in the subset below runs with PTX's semantics for one thread at a time between
//!   barriers, and gives the same bits on every run (threads run in a fixed order).
//! - Every global or shared access outside live memory, every misaligned access, every read of
//!   shared memory no thread wrote, every data race (within a launch for global memory, within
//!   a barrier phase for shared memory) and every barrier that not all threads reach is an
//!   [`EmuError`] naming the kernel, block, thread and PTX line, never a silent wrong value.
//! - Anything outside the subset is refused when the module loads, not misinterpreted.
//!
//! It depends on nothing of vi3nr: a module is PTX text, memory is bytes at device addresses,
//! arguments are [`ParamValue`]s.
//!
//! ```
//! use ptx_emu::{Emulator, ParamValue};
//!
//! let mut emu = Emulator::new();
//! emu.load(
//!     ".version 7.0\n.target sm_80\n.address_size 64\n\
//!      .visible .entry twice(.param .u64 p)\n{\n\
//!      .reg .b64 %rd<2>;\n.reg .f32 %f;\n\
//!      ld.param.u64 %rd1, [p];\nld.global.f32 %f, [%rd1];\n\
//!      add.f32 %f, %f, %f;\nst.global.f32 [%rd1], %f;\nret;\n}",
//! )?;
//! let p = emu.alloc(4);
//! emu.write(p, &1.5f32.to_le_bytes())?;
//! let stats = emu.launch("twice", [1, 1, 1], [1, 1, 1], 0, &[ParamValue::U64(p)])?;
//! let mut out = [0u8; 4];
//! emu.read(p, &mut out)?;
//! assert_eq!((f32::from_le_bytes(out), stats.threads), (3.0, 1));
//! # Ok::<(), ptx_emu::EmuError>(())
//! ```
//!
//! # Execution model
//! [`Emulator::load`] parses a module and decodes every instruction into an enum with register
//! indices (registers hold `u64` bit patterns); [`Emulator::launch`] then runs the blocks one
//! after another. Inside a block each thread runs until it reaches `bar.sync` / `barrier.sync`
//! or exits, then the next thread; when every thread waits at the same barrier instruction the
//! next phase starts. `.func` calls get a fresh register frame each. Release builds interpret
//! about 200 million instructions per second on one core (measured on the 16×16-tiled layer
//! product vi3nr's CUDA backend used first).
//!
//! # What it checks
//! - **Bounds**: each allocation lives at `(id + 1) << 32`, so any global access outside a live
//!   allocation is [`EmuError::OutOfBounds`]; shared variables are separated by 128-byte guard
//!   gaps, so running off one shared array is out of bounds too. Accesses must be aligned to
//!   their width (vector width for `.v2`/`.v4`).
//! - **Uninitialised shared memory**: shared memory starts poisoned; reading a byte no thread of
//!   the block has written is [`EmuError::UninitializedShared`].
//! - **Races** ([`EmuError::Race`], naming both threads, the word and both PTX lines): in shared
//!   memory, a 4-byte word written by one thread and read or written by another within one
//!   barrier phase; in global memory, a word written by one thread and read or written by
//!   another anywhere in the same launch. Atomics (`atom`, `red`) are exempt.
//! - **Barriers**: threads waiting at different barrier instructions
//!   ([`EmuError::DivergentBarrier`]), and threads that exited while others wait at a barrier
//!   ([`EmuError::ExitedAtBarrier`]: our kernels must keep every thread to the last barrier).
//! - Runaway kernels stop at [`Emulator::set_instruction_limit`].
//!
//! # What it does not model
//! Timing, warps (threads run one at a time between barriers, so `shfl`/`vote` are rejected),
//! memory-ordering subtleties beyond the race rules, and the accuracy of approximate
//! instructions: `sin.approx`, `ex2.approx`, `rcp.approx`, `tanh.approx` ... are computed with
//! the correctly rounded (or libm) function, so a kernel that relies on a GPU approximation
//! being good enough is NOT validated here. Directed rounding modifiers (`.rz`, `.rm`, `.rp`)
//! on arithmetic compute as `.rn`; on `cvt` to integer they are honoured. Race tracking is per
//! aligned 4-byte word, so threads writing different bytes of one word are reported.
//!
//! # Supported subset
//! - Module: `.version`, `.target`, `.address_size`; `.entry` with `.param` scalars (and
//!   `.reqntid` / `.maxntid`, checked at launch); `.func` with `.reg` parameters and several
//!   return registers, `call` / `call.uni`, `ret`, `exit`; `.reg` declarations (`%r<32>`
//!   ranges), `.shared` arrays at module or function scope and `.extern .shared` (dynamic);
//!   `//` and `/* */` comments, labels, `{ }` scopes.
//! - Operands: registers, `%tid`/`%ntid`/`%ctaid`/`%nctaid` `.x/.y/.z`, `%laneid`, `%warpid`,
//!   integer (decimal, hex, octal, binary) and float (`0f`, `0d`, decimal) literals, shared
//!   variables as addresses; `[reg+off]`, `[var+off]`, `[param]`; `{a, b, c, d}` vectors;
//!   guards `@%p` / `@!%p` on any instruction.
//! - Instructions: `mov`, `cvta` (identity), `ld.param`, `ld`/`st` `.global`/`.shared` (scalar,
//!   `.v2`, `.v4`, every integer and float width, cache modifiers ignored); integer `add sub
//!   mul.{lo,hi,wide} mad.{lo,hi,wide} div rem min max neg abs and or xor not shl shr popc clz
//!   brev`; float (f32, f64) `add sub mul div fma mad min max neg abs rcp sqrt rsqrt ex2 lg2 sin
//!   cos tanh copysign` with `.ftz` and `.sat`; `setp` (all comparisons, `.and/.or/.xor`
//!   combining, `p|q` destinations), `selp`, `testp`, predicate logic; `cvt` between all
//!   integer and float types (f16 included) with `.rni/.rzi/.rmi/.rpi` and `.sat`;
//!   `atom`/`red` `.global`/`.shared` `add min max exch cas and or xor`; `bra`, `bar.sync`,
//!   `barrier.sync`, `membar`/`fence` (no-ops).
//!
//! Anything else is a load-time [`EmuError::Parse`] naming the line ("unsupported instruction
//! ...").

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod emulator;
mod error;
mod exec;
mod inst;
mod memory;
mod parse;

pub use emulator::Emulator;
pub use error::{Access, EmuError, Site};
pub use inst::Space;

/// A kernel argument, the value of one `.param`; pointers are [`ParamValue::U64`] device addresses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ParamValue {
    /// A `.u32` / `.s32` / `.b32` parameter.
    U32(u32),
    /// A `.u64` / `.s64` / `.b64` parameter (device pointers).
    U64(u64),
    /// A `.f32` parameter.
    F32(f32),
}

/// What a launch executed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LaunchStats {
    /// Interpreted instructions (predicated-off ones included).
    pub instructions: u64,
    /// Blocks run.
    pub blocks: u64,
    /// Threads run, over all blocks.
    pub threads: u64,
    /// Barrier phases completed, over all blocks.
    pub barriers: u64,
}
