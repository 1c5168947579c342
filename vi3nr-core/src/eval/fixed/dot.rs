//! The fixed-point inner loop: `Σ w·x` of one chunk of a row, exact in i32 (FORMAT.md).
//!
//! Layer inputs sit in the scratch as [`Lane`]s: packed i16 pairs on thumbv7em, where the
//! dual multiply-accumulate `smlad` takes two weights and two inputs per instruction, and
//! widened to i32 everywhere else, so that a Cortex-M0 loads two inputs with one `ldm` and
//! needs no sign extension for them. On both Cortex-M targets the loop is inline assembly
//! (module `eval::arm`, selected at compile time by the `vi3nr_dsp` / `vi3nr_v6m` cfgs that
//! `build.rs` sets for thumbv7em / thumbv6m targets); elsewhere it is [`dot_portable`]. All
//! forms compute the same wrapping i32 sum as [`dot_portable`]: the products of i16 (or i8) by i16 values are exact in i32, and `smlad`'s
//! accumulation is modulo 2³² like `wrapping_add` (it only sets the sticky Q flag on
//! overflow, which nothing reads). The evaluator's inputs keep each chunk's sum below 2³¹
//! anyway (`qformat::input_shift`).

#[cfg(any(vi3nr_dsp, vi3nr_v6m))]
use crate::eval::arm;

/// How a layer input is stored in the scratch: `i16` on thumbv7em (packed pairs for `smlad`),
/// `i32` elsewhere (immediate-offset loads on a Cortex-M0). The value is always an i16.
#[cfg(vi3nr_dsp)]
pub type Lane = i16;
/// How a layer input is stored in the scratch: `i16` on thumbv7em (packed pairs for `smlad`),
/// `i32` elsewhere (immediate-offset loads on a Cortex-M0). The value is always an i16.
#[cfg(not(vi3nr_dsp))]
pub type Lane = i32;

/// An activation value as a [`Lane`].
#[inline(always)]
#[allow(clippy::useless_conversion)] // i16 → i16 on thumbv7em
pub(crate) fn lane(v: i16) -> Lane {
    v.into()
}

/// A [`Lane`]'s value.
#[inline(always)]
#[allow(clippy::useless_conversion)] // i32 → i32 off thumbv7em
pub(crate) fn value(v: Lane) -> i32 {
    v.into()
}

/// Views an i32 scratch buffer as [`Lane`]s (on thumbv7em twice as many i16, 4-byte aligned).
#[inline(always)]
pub(crate) fn lanes(buf: &mut [i32]) -> &mut [Lane] {
    #[cfg(vi3nr_dsp)]
    {
        bytemuck::cast_slice_mut(buf) // i32 → i16: same alignment or less, never fails
    }
    #[cfg(not(vi3nr_dsp))]
    {
        buf
    }
}

/// `Σ w·x` over the shorter of the two slices in wrapping i32 arithmetic: the reference every
/// target-specific loop equals.
#[inline(always)]
pub fn dot_portable<W: Copy + Into<i32>, X: Copy + Into<i32>>(w: &[W], x: &[X]) -> i32 {
    let mut acc = 0i32;
    for (&w, &x) in w.iter().zip(x) {
        acc = acc.wrapping_add(w.into().wrapping_mul(x.into()));
    }
    acc
}

/// A weight type of the fixed-point evaluator with its inner loops.
pub(crate) trait Weight: Copy + Into<i32> {
    /// `Σ w·x` over the shorter slice, equal to [`dot_portable`].
    fn dot(w: &[Self], x: &[Lane]) -> i32;

    /// Calls `f(j, Σ w_j·x)` for each row `j` of `w` (rows of `x.len()` weights) and returns
    /// `true`, where the target has a whole-row loop for this shape (thumbv7em: `x.len()` a
    /// multiple of eight, thumbv6m: of four; both arrays 4-byte aligned); else calls nothing and
    /// returns `false`.
    fn rows(w: &[Self], x: &[Lane], f: impl FnMut(usize, i32)) -> bool;
}

impl Weight for i16 {
    #[inline(always)]
    fn dot(w: &[i16], x: &[Lane]) -> i32 {
        dot_q15(w, x)
    }

    #[inline(always)]
    fn rows(w: &[i16], x: &[Lane], f: impl FnMut(usize, i32)) -> bool {
        #[cfg(any(vi3nr_dsp, vi3nr_v6m))]
        {
            arm::rows_q15(w, x, f)
        }
        #[cfg(not(any(vi3nr_dsp, vi3nr_v6m)))]
        {
            let _ = (w, x, f);
            false
        }
    }
}

impl Weight for i8 {
    #[inline(always)]
    fn dot(w: &[i8], x: &[Lane]) -> i32 {
        dot_i8(w, x)
    }

    #[inline(always)]
    fn rows(w: &[i8], x: &[Lane], f: impl FnMut(usize, i32)) -> bool {
        #[cfg(any(vi3nr_dsp, vi3nr_v6m))]
        {
            arm::rows_i8(w, x, f)
        }
        #[cfg(not(any(vi3nr_dsp, vi3nr_v6m)))]
        {
            let _ = (w, x, f);
            false
        }
    }
}

/// The evaluator's q15 inner loop, `Σ w·x` over the shorter slice (wrapping i32): `smlad` on
/// thumbv7em, an `ldm`/`muls` loop on thumbv6m, [`dot_portable`] elsewhere, the same result
/// everywhere.
#[inline(always)]
pub fn dot_q15(w: &[i16], x: &[Lane]) -> i32 {
    #[cfg(any(vi3nr_dsp, vi3nr_v6m))]
    {
        arm::dot_q15(w, x)
    }
    #[cfg(not(any(vi3nr_dsp, vi3nr_v6m)))]
    {
        dot_portable(w, x)
    }
}

/// The evaluator's i8 inner loop, `Σ w·x` over the shorter slice (wrapping i32): `sxtb16`,
/// `pkhbt`/`pkhtb` and `smlad` on thumbv7em, [`dot_portable`] elsewhere, the same result
/// everywhere.
#[inline(always)]
pub fn dot_i8(w: &[i8], x: &[Lane]) -> i32 {
    #[cfg(any(vi3nr_dsp, vi3nr_v6m))]
    {
        arm::dot_i8(w, x)
    }
    #[cfg(not(any(vi3nr_dsp, vi3nr_v6m)))]
    {
        dot_portable(w, x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_evaluators_loops_equal_the_portable_sum_at_the_extremes() {
        let w16 = [i16::MIN, i16::MAX, -1, 0, 1, i16::MIN, 12_345, -23_456, 7, i16::MAX];
        let w8 = [i8::MIN, i8::MAX, -1, 0, 1, i8::MIN, 45, -56, 7, i8::MAX];
        let x = [i16::MIN, i16::MIN, 5, 9, -3, i16::MIN, 32_000, -31_000, 1, i16::MAX];
        let lanes: [Lane; 10] = x.map(Lane::from);
        for n in 0..=x.len() {
            assert_eq!(dot_q15(&w16[..n], &lanes), dot_portable(&w16[..n], &x), "q15 n={n}");
            assert_eq!(dot_i8(&w8[..n], &lanes), dot_portable(&w8[..n], &x), "i8 n={n}");
        }
        // Two products of −2¹⁵ · −2¹⁵ make 2³¹: the sum wraps, as `smlad`'s does.
        let min = [i16::MIN; 8];
        assert_eq!(dot_portable(&min[..2], &min[..2]), i32::MIN);
        assert_eq!(dot_q15(&min, &min.map(Lane::from)), 0);
    }
}
