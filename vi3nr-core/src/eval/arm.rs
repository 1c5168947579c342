//! The Cortex-M inner loops in inline assembly: the crate's only `unsafe` code.
//!
//! **thumbv7em** (`vi3nr_dsp`). rustc emits one single multiply-accumulate (`smlabb`) per i16
//! product; the Armv7E-M DSP extension's `smlad` adds two signed 16 × 16 products to a 32-bit
//! accumulator in one instruction (Armv7-M Architecture Reference Manual, SMLAD:
//! `result = Ra + Rn[15:0]·Rm[15:0] + Rn[31:16]·Rm[31:16]`, the low 32 bits written to Rd, the
//! Q flag set when the exact sum does not fit, and nothing else changed). Its accumulation is
//! therefore modulo 2³², the same as
//! [`dot_portable`]'s `wrapping_add` of exact i32 products. Each loop takes eight weights and
//! eight inputs (packed i16 pairs) per iteration: two `ldrd` (two words each, post-increment)
//! from each array (q15; two `ldr` of four i8 weights for i8), four `smlad`, a count down and a
//! branch. The temporaries are left to the register allocator (fixed registers made the
//! caller's row loop spill). An i8 weight word `(w0, w1, w2, w3)` is split by `sxtb16` into
//! `(w0, w2)` and `(w1, w3)` and repacked by `pkhbt`/`pkhtb` into the pairs `(w0, w1)`,
//! `(w2, w3)` that match the inputs.
//!
//! **thumbv6m** (`vi3nr_v6m`). The Cortex-M0 has eight low registers for almost everything
//! (r6 and r7 are LLVM's; high registers only move, add and compare), and LLVM's unrolled loop
//! spills the accumulator. The loop here takes four weights per iteration with the inputs
//! widened to i32 (`Lane`): one `ldm` of a weight pair and one `ldm` of two inputs, `sxth` /
//! `asrs #16` for the two weights (`lsls`/`asrs #24` for i8), two `muls`, and the pair's sum
//! added to an accumulator kept in r8; the loop ends when the input pointer reaches an end
//! kept in r9. `muls` keeps the low 32 bits of the product, and the adds wrap: the same sum
//! as [`dot_portable`].
//!
//! **thumbv7em-none-eabihf** (`vi3nr_fpu`), the f32 evaluator: LLVM's loop loads each weight
//! and input with its own `vldr` and multiplies and adds in two instructions. `vmla.f32` is
//! *not* fused (Armv7-M Architecture Reference Manual, VMLA: the product is rounded before the
//! addition, unlike `vfma`), so `acc += w·x` in one instruction is the portable Rust, bit for bit; the loop
//! takes eight weights and eight inputs per iteration with one `vldmia` each into s8–s15 and
//! s0–s7 and keeps the eight partial sums of `eval::float`'s order in s16–s23 (two 32-wide rows
//! at a time: s16–s31). Stable Rust cannot name the s registers as `asm!` operands (their class
//! needs an unstable target feature), so these blocks save and restore the ones they use with
//! `vpush`/`vpop` and return the sums through core registers.
//!
//! 32-wide rows, the common case, have their own unrolled versions (no loop count; on the M4F
//! immediate offsets instead of post-increments).
//!
//! The integer loops need word-aligned addresses (`ldrd`, `ldm`): the pointers are checked, and an
//! unaligned slice (or the last `len mod BLOCK` products) goes through [`dot_portable`].

use super::fixed::{Lane, dot_portable};
use core::arch::asm;

/// Products taken per iteration of the assembly loops.
#[cfg(vi3nr_dsp)]
const BLOCK: usize = 8;
/// Products taken per iteration of the assembly loops.
#[cfg(vi3nr_v6m)]
const BLOCK: usize = 4;

/// Whether both pointers are 4-byte aligned (what `ldrd` requires).
#[inline(always)]
fn word_aligned<A, B>(a: *const A, b: *const B) -> bool {
    (a as usize | b as usize) & 3 == 0
}

/// `Σ w·x` over `blocks` blocks of eight i16 weights at `w` and eight i16 inputs at `x`,
/// wrapping i32.
///
/// # Safety
/// `w` and `x` are 4-byte aligned and each points to `8 · blocks` readable i16; `blocks ≥ 1`.
#[cfg(vi3nr_dsp)]
#[inline(always)]
unsafe fn blocks_q15(w: *const i16, x: *const i16, blocks: usize) -> i32 {
    let mut acc = 0i32;
    // SAFETY: by the function's contract, `blocks ≥ 1` iterations each read 16 bytes from `w`
    // and 16 from `x` inside their arrays, at word-aligned addresses (as `ldrd` requires). The
    // asm reads memory only (no stores, no stack) and writes the registers it names: the two
    // pointers and the count (inout, discarded), the accumulator (inout), four temporaries
    // (outputs, discarded) and the flags (`subs`; `preserves_flags` is not claimed).
    unsafe {
        asm!(
            "2:",
            "ldrd {w0}, {w1}, [{w}], #8",
            "ldrd {x0}, {x1}, [{x}], #8",
            "smlad {acc}, {w0}, {x0}, {acc}",
            "smlad {acc}, {w1}, {x1}, {acc}",
            "ldrd {w0}, {w1}, [{w}], #8",
            "ldrd {x0}, {x1}, [{x}], #8",
            "smlad {acc}, {w0}, {x0}, {acc}",
            "smlad {acc}, {w1}, {x1}, {acc}",
            "subs {k}, {k}, #1",
            "bne 2b",
            w = inout(reg) w => _,
            x = inout(reg) x => _,
            k = inout(reg) blocks => _,
            acc = inout(reg) acc,
            w0 = out(reg) _,
            w1 = out(reg) _,
            x0 = out(reg) _,
            x1 = out(reg) _,
            options(pure, readonly, nostack),
        );
    }
    acc
}

/// `Σ w·x` of 32 i16 weights at `w` and 32 i16 inputs at `x` (the common 32-wide layer),
/// wrapping i32: the loop of [`blocks_q15`] unrolled, with immediate offsets.
///
/// # Safety
/// `w` and `x` are 4-byte aligned and each points to 32 readable i16.
#[cfg(vi3nr_dsp)]
#[inline(always)]
unsafe fn dot32_q15(w: *const i16, x: *const i16) -> i32 {
    let mut acc = 0i32;
    // SAFETY: by the function's contract, the eight `ldrd` from each pointer read bytes 0 to 63,
    // inside the 32 i16 of each array, at word-aligned addresses (as `ldrd` requires). The asm
    // reads memory only (no stores, no stack), leaves the pointers unchanged and writes the
    // accumulator (inout) and four temporaries (outputs, discarded); `smlad` and `ldrd` leave
    // the N, Z, C, V flags alone (`smlad` may set the sticky Q flag, which nothing reads).
    unsafe {
        asm!(
            "ldrd {w0}, {w1}, [{w}]",
            "ldrd {x0}, {x1}, [{x}]",
            "smlad {acc}, {w0}, {x0}, {acc}",
            "smlad {acc}, {w1}, {x1}, {acc}",
            "ldrd {w0}, {w1}, [{w}, #8]",
            "ldrd {x0}, {x1}, [{x}, #8]",
            "smlad {acc}, {w0}, {x0}, {acc}",
            "smlad {acc}, {w1}, {x1}, {acc}",
            "ldrd {w0}, {w1}, [{w}, #16]",
            "ldrd {x0}, {x1}, [{x}, #16]",
            "smlad {acc}, {w0}, {x0}, {acc}",
            "smlad {acc}, {w1}, {x1}, {acc}",
            "ldrd {w0}, {w1}, [{w}, #24]",
            "ldrd {x0}, {x1}, [{x}, #24]",
            "smlad {acc}, {w0}, {x0}, {acc}",
            "smlad {acc}, {w1}, {x1}, {acc}",
            "ldrd {w0}, {w1}, [{w}, #32]",
            "ldrd {x0}, {x1}, [{x}, #32]",
            "smlad {acc}, {w0}, {x0}, {acc}",
            "smlad {acc}, {w1}, {x1}, {acc}",
            "ldrd {w0}, {w1}, [{w}, #40]",
            "ldrd {x0}, {x1}, [{x}, #40]",
            "smlad {acc}, {w0}, {x0}, {acc}",
            "smlad {acc}, {w1}, {x1}, {acc}",
            "ldrd {w0}, {w1}, [{w}, #48]",
            "ldrd {x0}, {x1}, [{x}, #48]",
            "smlad {acc}, {w0}, {x0}, {acc}",
            "smlad {acc}, {w1}, {x1}, {acc}",
            "ldrd {w0}, {w1}, [{w}, #56]",
            "ldrd {x0}, {x1}, [{x}, #56]",
            "smlad {acc}, {w0}, {x0}, {acc}",
            "smlad {acc}, {w1}, {x1}, {acc}",
            w = in(reg) w,
            x = in(reg) x,
            acc = inout(reg) acc,
            w0 = out(reg) _,
            w1 = out(reg) _,
            x0 = out(reg) _,
            x1 = out(reg) _,
            options(pure, readonly, nostack, preserves_flags),
        );
    }
    acc
}

/// `Σ w·x` over `blocks` blocks of eight i8 weights at `w` and eight i16 inputs at `x`,
/// wrapping i32.
///
/// # Safety
/// `w` and `x` are 4-byte aligned, `w` points to `8 · blocks` readable i8 and `x` to
/// `8 · blocks` readable i16; `blocks ≥ 1`.
#[cfg(vi3nr_dsp)]
#[inline(always)]
unsafe fn blocks_i8(w: *const i8, x: *const i16, blocks: usize) -> i32 {
    let mut acc = 0i32;
    // SAFETY: by the function's contract, `blocks ≥ 1` iterations each read 8 bytes from `w`
    // and 16 from `x` inside their arrays, at word-aligned addresses (as `ldr` with
    // post-increment and `ldrd` require). The asm reads memory only (no stores, no stack) and
    // writes the registers it names: the two pointers and the count (inout, discarded), the
    // accumulator (inout), five temporaries (outputs, discarded) and the flags (`subs`;
    // `preserves_flags` is not claimed).
    unsafe {
        asm!(
            "2:",
            "ldr {q}, [{w}], #4",
            "ldrd {x0}, {x1}, [{x}], #8",
            "sxtb16 {e}, {q}",
            "sxtb16 {o}, {q}, ror #8",
            "pkhbt {q}, {e}, {o}, lsl #16",
            "pkhtb {e}, {o}, {e}, asr #16",
            "smlad {acc}, {q}, {x0}, {acc}",
            "smlad {acc}, {e}, {x1}, {acc}",
            "ldr {q}, [{w}], #4",
            "ldrd {x0}, {x1}, [{x}], #8",
            "sxtb16 {e}, {q}",
            "sxtb16 {o}, {q}, ror #8",
            "pkhbt {q}, {e}, {o}, lsl #16",
            "pkhtb {e}, {o}, {e}, asr #16",
            "smlad {acc}, {q}, {x0}, {acc}",
            "smlad {acc}, {e}, {x1}, {acc}",
            "subs {k}, {k}, #1",
            "bne 2b",
            w = inout(reg) w => _,
            x = inout(reg) x => _,
            k = inout(reg) blocks => _,
            acc = inout(reg) acc,
            q = out(reg) _,
            e = out(reg) _,
            o = out(reg) _,
            x0 = out(reg) _,
            x1 = out(reg) _,
            options(pure, readonly, nostack),
        );
    }
    acc
}

/// `Σ w·x` over `blocks` blocks of four i16 weights at `w` and four i32 inputs at `x`,
/// wrapping i32.
///
/// # Safety
/// `w` and `x` are 4-byte aligned, `w` points to `4 · blocks` readable i16 and `x` to
/// `4 · blocks` readable i32; `blocks ≥ 1`.
#[cfg(vi3nr_v6m)]
#[inline(always)]
unsafe fn blocks_q15(w: *const i16, x: *const i32, blocks: usize) -> i32 {
    let acc: i32;
    let end = x.wrapping_add(4 * blocks);
    // SAFETY: by the function's contract, `blocks ≥ 1` iterations each read 8 bytes from `w`
    // and 16 from `x` inside their arrays, at word-aligned addresses (as `ldm` requires); the
    // loop stops when `x` reaches `end`, after exactly `blocks` iterations. The asm reads
    // memory only (no stores, no stack) and writes only the registers it names: r0, r1 (the
    // pointers, discarded), r2 (the sum), r3–r5 (temporaries; r4 brings `end` in), r8 and r9
    // (the accumulator and the end, declared clobbered) and the flags.
    unsafe {
        asm!(
            "mov r8, r2",
            "mov r9, r4",
            "2:",
            "ldm r0!, {{r4}}",
            "ldm r1!, {{r2, r3}}",
            "sxth r5, r4",
            "muls r2, r5, r2",
            "asrs r4, r4, #16",
            "muls r3, r4, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "ldm r0!, {{r4}}",
            "ldm r1!, {{r2, r3}}",
            "sxth r5, r4",
            "muls r2, r5, r2",
            "asrs r4, r4, #16",
            "muls r3, r4, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "cmp r1, r9",
            "bne 2b",
            "mov r2, r8",
            inout("r0") w => _,
            inout("r1") x => _,
            inout("r2") 0i32 => acc,
            inout("r4") end => _,
            out("r3") _, out("r5") _, out("r8") _, out("r9") _,
            options(pure, readonly, nostack),
        );
    }
    acc
}

/// `Σ w·x` of 32 i16 weights at `w` and 32 i32 inputs at `x` (the common 32-wide layer),
/// wrapping i32: the loop of [`blocks_q15`] unrolled (no end pointer, no branch).
///
/// # Safety
/// `w` and `x` are 4-byte aligned, `w` points to 32 readable i16 and `x` to 32 readable i32.
#[cfg(vi3nr_v6m)]
#[inline(always)]
unsafe fn dot32_q15(w: *const i16, x: *const i32) -> i32 {
    let acc: i32;
    // SAFETY: by the function's contract, the sixteen `ldm` of one word from `w` and of two
    // words from `x` read 64 and 128 bytes, inside the arrays, at word-aligned addresses (as
    // `ldm` requires). The asm reads memory only (no stores, no stack) and writes only the
    // registers it names: r0, r1 (the pointers, discarded), r2 (the sum), r3–r5 (temporaries),
    // r8 (the accumulator, declared clobbered) and the flags.
    unsafe {
        asm!(
            "mov r8, r2",
            "ldm r0!, {{r4}}",
            "ldm r1!, {{r2, r3}}",
            "sxth r5, r4",
            "muls r2, r5, r2",
            "asrs r4, r4, #16",
            "muls r3, r4, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "ldm r0!, {{r4}}",
            "ldm r1!, {{r2, r3}}",
            "sxth r5, r4",
            "muls r2, r5, r2",
            "asrs r4, r4, #16",
            "muls r3, r4, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "ldm r0!, {{r4}}",
            "ldm r1!, {{r2, r3}}",
            "sxth r5, r4",
            "muls r2, r5, r2",
            "asrs r4, r4, #16",
            "muls r3, r4, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "ldm r0!, {{r4}}",
            "ldm r1!, {{r2, r3}}",
            "sxth r5, r4",
            "muls r2, r5, r2",
            "asrs r4, r4, #16",
            "muls r3, r4, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "ldm r0!, {{r4}}",
            "ldm r1!, {{r2, r3}}",
            "sxth r5, r4",
            "muls r2, r5, r2",
            "asrs r4, r4, #16",
            "muls r3, r4, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "ldm r0!, {{r4}}",
            "ldm r1!, {{r2, r3}}",
            "sxth r5, r4",
            "muls r2, r5, r2",
            "asrs r4, r4, #16",
            "muls r3, r4, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "ldm r0!, {{r4}}",
            "ldm r1!, {{r2, r3}}",
            "sxth r5, r4",
            "muls r2, r5, r2",
            "asrs r4, r4, #16",
            "muls r3, r4, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "ldm r0!, {{r4}}",
            "ldm r1!, {{r2, r3}}",
            "sxth r5, r4",
            "muls r2, r5, r2",
            "asrs r4, r4, #16",
            "muls r3, r4, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "ldm r0!, {{r4}}",
            "ldm r1!, {{r2, r3}}",
            "sxth r5, r4",
            "muls r2, r5, r2",
            "asrs r4, r4, #16",
            "muls r3, r4, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "ldm r0!, {{r4}}",
            "ldm r1!, {{r2, r3}}",
            "sxth r5, r4",
            "muls r2, r5, r2",
            "asrs r4, r4, #16",
            "muls r3, r4, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "ldm r0!, {{r4}}",
            "ldm r1!, {{r2, r3}}",
            "sxth r5, r4",
            "muls r2, r5, r2",
            "asrs r4, r4, #16",
            "muls r3, r4, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "ldm r0!, {{r4}}",
            "ldm r1!, {{r2, r3}}",
            "sxth r5, r4",
            "muls r2, r5, r2",
            "asrs r4, r4, #16",
            "muls r3, r4, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "ldm r0!, {{r4}}",
            "ldm r1!, {{r2, r3}}",
            "sxth r5, r4",
            "muls r2, r5, r2",
            "asrs r4, r4, #16",
            "muls r3, r4, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "ldm r0!, {{r4}}",
            "ldm r1!, {{r2, r3}}",
            "sxth r5, r4",
            "muls r2, r5, r2",
            "asrs r4, r4, #16",
            "muls r3, r4, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "ldm r0!, {{r4}}",
            "ldm r1!, {{r2, r3}}",
            "sxth r5, r4",
            "muls r2, r5, r2",
            "asrs r4, r4, #16",
            "muls r3, r4, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "ldm r0!, {{r4}}",
            "ldm r1!, {{r2, r3}}",
            "sxth r5, r4",
            "muls r2, r5, r2",
            "asrs r4, r4, #16",
            "muls r3, r4, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "mov r2, r8",
            inout("r0") w => _,
            inout("r1") x => _,
            inout("r2") 0i32 => acc,
            out("r3") _, out("r4") _, out("r5") _, out("r8") _,
            options(pure, readonly, nostack),
        );
    }
    acc
}

/// `Σ w·x` over `blocks` blocks of four i8 weights at `w` and four i32 inputs at `x`,
/// wrapping i32.
///
/// # Safety
/// `w` and `x` are 4-byte aligned, `w` points to `4 · blocks` readable i8 and `x` to
/// `4 · blocks` readable i32; `blocks ≥ 1`.
#[cfg(vi3nr_v6m)]
#[inline(always)]
unsafe fn blocks_i8(w: *const i8, x: *const i32, blocks: usize) -> i32 {
    let acc: i32;
    let end = x.wrapping_add(4 * blocks);
    // SAFETY: by the function's contract, `blocks ≥ 1` iterations each read 4 bytes from `w`
    // and 16 from `x` inside their arrays, at word-aligned addresses (as `ldm` requires); the
    // loop stops when `x` reaches `end`, after exactly `blocks` iterations. The asm reads
    // memory only (no stores, no stack) and writes only the registers it names: r0, r1 (the
    // pointers, discarded), r2 (the sum), r3–r5 (temporaries; r4 brings `end` in), r8 and r9
    // (the accumulator and the end, declared clobbered) and the flags.
    unsafe {
        asm!(
            "mov r8, r2",
            "mov r9, r4",
            "2:",
            "ldm r0!, {{r4}}",
            "ldm r1!, {{r2, r3}}",
            "sxtb r5, r4",
            "muls r2, r5, r2",
            "lsls r5, r4, #16",
            "asrs r5, r5, #24",
            "muls r3, r5, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "ldm r1!, {{r2, r3}}",
            "lsls r5, r4, #8",
            "asrs r5, r5, #24",
            "muls r2, r5, r2",
            "asrs r4, r4, #24",
            "muls r3, r4, r3",
            "adds r2, r2, r3",
            "add r8, r2",
            "cmp r1, r9",
            "bne 2b",
            "mov r2, r8",
            inout("r0") w => _,
            inout("r1") x => _,
            inout("r2") 0i32 => acc,
            inout("r4") end => _,
            out("r3") _, out("r5") _, out("r8") _, out("r9") _,
            options(pure, readonly, nostack),
        );
    }
    acc
}

/// `Σ w·x` of i16 weights and i16 inputs (as [`Lane`]s) over the shorter slice, wrapping i32.
#[inline(always)]
pub(crate) fn dot_q15(w: &[i16], x: &[Lane]) -> i32 {
    let n = w.len().min(x.len());
    let blocks = n / BLOCK;
    if blocks == 0 || !word_aligned(w.as_ptr(), x.as_ptr()) {
        return dot_portable(w, x);
    }
    if n == 32 {
        // SAFETY: both pointers are 4-byte aligned (checked), both slices hold 32 elements.
        return unsafe { dot32_q15(w.as_ptr(), x.as_ptr()) };
    }
    // SAFETY: both pointers are 4-byte aligned (checked), `blocks ≥ 1` and `BLOCK · blocks ≤ n`
    // elements of each slice are read.
    let acc = unsafe { blocks_q15(w.as_ptr(), x.as_ptr(), blocks) };
    let done = blocks * BLOCK;
    acc.wrapping_add(dot_portable(&w[done..n], &x[done..n]))
}

/// `Σ w·x` of i8 weights and i16 inputs (as [`Lane`]s) over the shorter slice, wrapping i32.
#[inline(always)]
pub(crate) fn dot_i8(w: &[i8], x: &[Lane]) -> i32 {
    let n = w.len().min(x.len());
    let blocks = n / BLOCK;
    if blocks == 0 || !word_aligned(w.as_ptr(), x.as_ptr()) {
        return dot_portable(w, x);
    }
    // SAFETY: both pointers are 4-byte aligned (checked), `blocks ≥ 1` and `BLOCK · blocks ≤ n`
    // elements of each slice are read.
    let acc = unsafe { blocks_i8(w.as_ptr(), x.as_ptr(), blocks) };
    let done = blocks * BLOCK;
    acc.wrapping_add(dot_portable(&w[done..n], &x[done..n]))
}

/// Whether every row of `w` (rows of `x.len()` weights) and `x` can be taken in whole aligned
/// blocks: `x.len()` a non-zero multiple of `BLOCK` (8 or 4), `w` and `x` 4-byte aligned.
/// Every row then starts 4-byte aligned too (`BLOCK` weights of 1 or 2 bytes fill whole words).
#[inline(always)]
fn whole_blocks<T>(w: &[T], x: &[Lane]) -> bool {
    !x.is_empty() && x.len().is_multiple_of(BLOCK) && word_aligned(w.as_ptr(), x.as_ptr())
}

/// Calls `f(j, Σ w_j·x)` for each row `j` of `w` (rows of `x.len()` weights) and returns
/// `true` when every row goes in whole aligned blocks ([`whole_blocks`]); else calls nothing
/// and returns `false`.
#[inline(always)]
pub(crate) fn rows_q15(w: &[i16], x: &[Lane], mut f: impl FnMut(usize, i32)) -> bool {
    if !whole_blocks(w, x) {
        return false;
    }
    if x.len() == 32 {
        for (j, row) in w.chunks_exact(32).enumerate() {
            // SAFETY: `row` and `x` hold 32 i16 each (`chunks_exact`, `x.len()`); `x` and `w`
            // are 4-byte aligned and `row` starts `64 · j` bytes into `w`.
            f(j, unsafe { dot32_q15(row.as_ptr(), x.as_ptr()) });
        }
        return true;
    }
    let blocks = x.len() / BLOCK;
    for (j, row) in w.chunks_exact(x.len()).enumerate() {
        // SAFETY: `row` holds `BLOCK · blocks` weights and `x` as many inputs (`chunks_exact`),
        // `blocks ≥ 1`; `x` and `w` are 4-byte aligned and `row` starts `2 · BLOCK · blocks · j`
        // bytes into `w`.
        f(j, unsafe { blocks_q15(row.as_ptr(), x.as_ptr(), blocks) });
    }
    true
}

/// [`rows_q15`] for i8 weights.
#[inline(always)]
pub(crate) fn rows_i8(w: &[i8], x: &[Lane], mut f: impl FnMut(usize, i32)) -> bool {
    if !whole_blocks(w, x) {
        return false;
    }
    let blocks = x.len() / BLOCK;
    for (j, row) in w.chunks_exact(x.len()).enumerate() {
        // SAFETY: `row` holds `BLOCK · blocks` weights and `x` as many inputs (`chunks_exact`),
        // `blocks ≥ 1`; `x` and `w` are 4-byte aligned and `row` starts `BLOCK · blocks · j`
        // bytes into `w`.
        f(j, unsafe { blocks_i8(row.as_ptr(), x.as_ptr(), blocks) });
    }
    true
}

/// `((a₀ + a₄) + (a₁ + a₅)) + ((a₂ + a₆) + (a₃ + a₇))` of the eight partial sums
/// `a_k = Σ_b w[8b + k] · x[8b + k]` over `min(w.len(), x.len())` blocks of eight, each
/// product rounded before it is added (`vmla.f32`, not fused), in block order: bit for bit
/// the portable loop and reduction of `eval::float`.
#[cfg(vi3nr_fpu)]
#[inline(always)]
pub(crate) fn blocks_f32(w: &[[f32; 8]], x: &[[f32; 8]]) -> f32 {
    let blocks = w.len().min(x.len());
    // The partial sums start at +0.0, as in the portable loop (loaded from `ZEROS`).
    let zeros = ZEROS.as_ptr();
    let sum: u32;
    if blocks == 0 {
        return 0.0; // the portable reduction of eight +0.0
    }
    if blocks == 4 {
        // A 32-wide row, unrolled.
        // SAFETY: as for the loop below, with its four iterations written out: 128 bytes read
        // from each of `w` and `x` (`blocks = 4 ≤ len`), and no count.
        unsafe {
            asm!(
                "vpush {{s0-s23}}",
                "vldmia {zeros}, {{s16-s23}}",
                "vldmia {x}!, {{s0-s7}}",
                "vldmia {w}!, {{s8-s15}}",
                "vmla.f32 s16, s8, s0",
                "vmla.f32 s17, s9, s1",
                "vmla.f32 s18, s10, s2",
                "vmla.f32 s19, s11, s3",
                "vmla.f32 s20, s12, s4",
                "vmla.f32 s21, s13, s5",
                "vmla.f32 s22, s14, s6",
                "vmla.f32 s23, s15, s7",
                "vldmia {x}!, {{s0-s7}}",
                "vldmia {w}!, {{s8-s15}}",
                "vmla.f32 s16, s8, s0",
                "vmla.f32 s17, s9, s1",
                "vmla.f32 s18, s10, s2",
                "vmla.f32 s19, s11, s3",
                "vmla.f32 s20, s12, s4",
                "vmla.f32 s21, s13, s5",
                "vmla.f32 s22, s14, s6",
                "vmla.f32 s23, s15, s7",
                "vldmia {x}!, {{s0-s7}}",
                "vldmia {w}!, {{s8-s15}}",
                "vmla.f32 s16, s8, s0",
                "vmla.f32 s17, s9, s1",
                "vmla.f32 s18, s10, s2",
                "vmla.f32 s19, s11, s3",
                "vmla.f32 s20, s12, s4",
                "vmla.f32 s21, s13, s5",
                "vmla.f32 s22, s14, s6",
                "vmla.f32 s23, s15, s7",
                "vldmia {x}!, {{s0-s7}}",
                "vldmia {w}!, {{s8-s15}}",
                "vmla.f32 s16, s8, s0",
                "vmla.f32 s17, s9, s1",
                "vmla.f32 s18, s10, s2",
                "vmla.f32 s19, s11, s3",
                "vmla.f32 s20, s12, s4",
                "vmla.f32 s21, s13, s5",
                "vmla.f32 s22, s14, s6",
                "vmla.f32 s23, s15, s7",
                "vadd.f32 s16, s16, s20",
                "vadd.f32 s17, s17, s21",
                "vadd.f32 s18, s18, s22",
                "vadd.f32 s19, s19, s23",
                "vadd.f32 s16, s16, s17",
                "vadd.f32 s18, s18, s19",
                "vadd.f32 s16, s16, s18",
                "vmov {sum}, s16",
                "vpop {{s0-s23}}",
                w = inout(reg) w.as_ptr() => _,
                x = inout(reg) x.as_ptr() => _,
                zeros = in(reg) zeros,
                sum = lateout(reg) sum,
                options(readonly),
            );
        }
        return f32::from_bits(sum);
    }
    // SAFETY: `blocks ≥ 1` iterations each read 32 bytes from each of `w` and `x`, in total
    // `blocks ≤ len` arrays of eight f32 of each slice, and `vldmia` reads the eight f32 of
    // `ZEROS`; f32 arrays are 4-byte aligned, as `vldmia` requires. Stable Rust cannot name
    // the single-precision registers as operands or clobbers (the register class needs an
    // unstable target feature), so the asm saves s0–s23 with `vpush` and restores them with
    // `vpop` (its only stack use, hence no `nostack`): the registers the compiler sees are
    // unchanged. It reads memory only and writes `sum` (the result's bits, `vmov`), the two
    // pointers and the count (inout, discarded) and the integer flags (`subs`), and leaves the
    // FPSCR's modes alone (`vmla` and `vadd` may set its cumulative exception bits, as the
    // portable `*` and `+` do).
    unsafe {
        asm!(
            "vpush {{s0-s23}}",
            "vldmia {zeros}, {{s16-s23}}",
            "2:",
            "vldmia {x}!, {{s0-s7}}",
            "vldmia {w}!, {{s8-s15}}",
            "vmla.f32 s16, s8, s0",
            "vmla.f32 s17, s9, s1",
            "vmla.f32 s18, s10, s2",
            "vmla.f32 s19, s11, s3",
            "vmla.f32 s20, s12, s4",
            "vmla.f32 s21, s13, s5",
            "vmla.f32 s22, s14, s6",
            "vmla.f32 s23, s15, s7",
            "subs {k}, {k}, #1",
            "bne 2b",
            "vadd.f32 s16, s16, s20",
            "vadd.f32 s17, s17, s21",
            "vadd.f32 s18, s18, s22",
            "vadd.f32 s19, s19, s23",
            "vadd.f32 s16, s16, s17",
            "vadd.f32 s18, s18, s19",
            "vadd.f32 s16, s16, s18",
            "vmov {sum}, s16",
            "vpop {{s0-s23}}",
            w = inout(reg) w.as_ptr() => _,
            x = inout(reg) x.as_ptr() => _,
            k = inout(reg) blocks => _,
            zeros = in(reg) zeros,
            sum = lateout(reg) sum,
            options(readonly),
        );
    }
    f32::from_bits(sum)
}

/// [`blocks_f32`] of two 32-wide rows `a` and `b` against the same `x`, each block of inputs
/// loaded once for both rows (the eight partial sums of `a` in s16–s23, of `b` in s24–s31).
#[cfg(vi3nr_fpu)]
#[inline(always)]
pub(crate) fn rows2_f32(a: &[f32; 32], b: &[f32; 32], x: &[f32; 32]) -> (f32, f32) {
    let zeros = ZEROS.as_ptr();
    let (sa, sb): (u32, u32);
    // SAFETY: the twelve `vldmia` read the 128 bytes of each of `a`, `b` and `x` (32 f32 each)
    // and twice the 32 bytes of `ZEROS`, 4-byte aligned as `vldmia`
    // requires. As in `blocks_f32`, the asm saves the single-precision registers it uses
    // (s0–s31) with `vpush` and restores them with `vpop` (its only stack use), reads memory
    // only, writes `sa` and `sb` (the sums' bits) and the three pointers (inout, discarded), and
    // leaves the FPSCR's modes alone.
    unsafe {
        asm!(
            "vpush {{s0-s31}}",
            "vldmia {zeros}, {{s16-s23}}",
            "vldmia {zeros}, {{s24-s31}}",
            "vldmia {x}!, {{s0-s7}}",
            "vldmia {a}!, {{s8-s15}}",
            "vmla.f32 s16, s8, s0",
            "vmla.f32 s17, s9, s1",
            "vmla.f32 s18, s10, s2",
            "vmla.f32 s19, s11, s3",
            "vmla.f32 s20, s12, s4",
            "vmla.f32 s21, s13, s5",
            "vmla.f32 s22, s14, s6",
            "vmla.f32 s23, s15, s7",
            "vldmia {b}!, {{s8-s15}}",
            "vmla.f32 s24, s8, s0",
            "vmla.f32 s25, s9, s1",
            "vmla.f32 s26, s10, s2",
            "vmla.f32 s27, s11, s3",
            "vmla.f32 s28, s12, s4",
            "vmla.f32 s29, s13, s5",
            "vmla.f32 s30, s14, s6",
            "vmla.f32 s31, s15, s7",
            "vldmia {x}!, {{s0-s7}}",
            "vldmia {a}!, {{s8-s15}}",
            "vmla.f32 s16, s8, s0",
            "vmla.f32 s17, s9, s1",
            "vmla.f32 s18, s10, s2",
            "vmla.f32 s19, s11, s3",
            "vmla.f32 s20, s12, s4",
            "vmla.f32 s21, s13, s5",
            "vmla.f32 s22, s14, s6",
            "vmla.f32 s23, s15, s7",
            "vldmia {b}!, {{s8-s15}}",
            "vmla.f32 s24, s8, s0",
            "vmla.f32 s25, s9, s1",
            "vmla.f32 s26, s10, s2",
            "vmla.f32 s27, s11, s3",
            "vmla.f32 s28, s12, s4",
            "vmla.f32 s29, s13, s5",
            "vmla.f32 s30, s14, s6",
            "vmla.f32 s31, s15, s7",
            "vldmia {x}!, {{s0-s7}}",
            "vldmia {a}!, {{s8-s15}}",
            "vmla.f32 s16, s8, s0",
            "vmla.f32 s17, s9, s1",
            "vmla.f32 s18, s10, s2",
            "vmla.f32 s19, s11, s3",
            "vmla.f32 s20, s12, s4",
            "vmla.f32 s21, s13, s5",
            "vmla.f32 s22, s14, s6",
            "vmla.f32 s23, s15, s7",
            "vldmia {b}!, {{s8-s15}}",
            "vmla.f32 s24, s8, s0",
            "vmla.f32 s25, s9, s1",
            "vmla.f32 s26, s10, s2",
            "vmla.f32 s27, s11, s3",
            "vmla.f32 s28, s12, s4",
            "vmla.f32 s29, s13, s5",
            "vmla.f32 s30, s14, s6",
            "vmla.f32 s31, s15, s7",
            "vldmia {x}!, {{s0-s7}}",
            "vldmia {a}!, {{s8-s15}}",
            "vmla.f32 s16, s8, s0",
            "vmla.f32 s17, s9, s1",
            "vmla.f32 s18, s10, s2",
            "vmla.f32 s19, s11, s3",
            "vmla.f32 s20, s12, s4",
            "vmla.f32 s21, s13, s5",
            "vmla.f32 s22, s14, s6",
            "vmla.f32 s23, s15, s7",
            "vldmia {b}!, {{s8-s15}}",
            "vmla.f32 s24, s8, s0",
            "vmla.f32 s25, s9, s1",
            "vmla.f32 s26, s10, s2",
            "vmla.f32 s27, s11, s3",
            "vmla.f32 s28, s12, s4",
            "vmla.f32 s29, s13, s5",
            "vmla.f32 s30, s14, s6",
            "vmla.f32 s31, s15, s7",
            "vadd.f32 s16, s16, s20",
            "vadd.f32 s17, s17, s21",
            "vadd.f32 s18, s18, s22",
            "vadd.f32 s19, s19, s23",
            "vadd.f32 s16, s16, s17",
            "vadd.f32 s18, s18, s19",
            "vadd.f32 s16, s16, s18",
            "vadd.f32 s24, s24, s28",
            "vadd.f32 s25, s25, s29",
            "vadd.f32 s26, s26, s30",
            "vadd.f32 s27, s27, s31",
            "vadd.f32 s24, s24, s25",
            "vadd.f32 s26, s26, s27",
            "vadd.f32 s24, s24, s26",
            "vmov {sa}, s16",
            "vmov {sb}, s24",
            "vpop {{s0-s31}}",
            a = inout(reg) a.as_ptr() => _,
            b = inout(reg) b.as_ptr() => _,
            x = inout(reg) x.as_ptr() => _,
            zeros = in(reg) zeros,
            sa = lateout(reg) sa,
            sb = lateout(reg) sb,
            options(readonly),
        );
    }
    (f32::from_bits(sa), f32::from_bits(sb))
}

/// The start of the f32 partial sums, read by [`blocks_f32`].
#[cfg(vi3nr_fpu)]
static ZEROS: [f32; 8] = [0.0; 8];
