//! Multiplication by a real constant in integer arithmetic.
//!
//! A [`Requant`] stores `k ≈ mult · 2^−shift` with a 31-bit `mult` (relative error below 2⁻³⁰),
//! derived once from a layer's weight scale (q15, at parse time) or from a row scale (i8, per
//! row and point, by bit operations on the f32). The evaluator applies it as a [`Rescale`]:
//! `k = int + frac · 2⁻³²` and a right shift, three or four 32-bit multiplies and no 64-bit
//! arithmetic (the Cortex-M0 has neither a long multiply nor 64-bit shifts); the result lies
//! within 3 below the exact `⌊acc · k⌋` and is the same on every target.

/// Multiplication by a positive real `k ≈ mult · 2^−shift` in integer arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requant {
    mult: i32,
    shift: u32,
}

impl Requant {
    /// The nearest representation of `k` (relative error below 2⁻³⁰); `None` when `k` is not
    /// finite and positive or lies outside `[2⁻³², 2³¹)`.
    pub(crate) fn new(k: f64) -> Option<Self> {
        if !(k.is_finite() && k > 0.0) {
            return None;
        }
        let (m, e) = libm::frexp(k); // k = m · 2^e, m ∈ [0.5, 1)
        let (mut mult, mut e) = (libm::round(m * 2_147_483_648.0), e);
        if mult >= 2_147_483_648.0 {
            mult = 1_073_741_824.0;
            e += 1;
        }
        let shift = 31 - e;
        if !(0..=62).contains(&shift) {
            return None;
        }
        Some(Requant { mult: mult as i32, shift: shift as u32 })
    }

    /// The exact representation of an f32 `k` by bit operations alone (no floating point:
    /// cheap on an FPU-less core), equal to `Requant::new(f64::from(k))`; `None` under the same
    /// conditions.
    #[inline]
    pub fn from_f32(k: f32) -> Option<Self> {
        let bits = k.to_bits();
        let exp = (bits >> 23) & 0xFF;
        if bits >> 31 != 0 || exp == 0 || exp == 0xFF {
            return None; // negative, zero, subnormal (far below 2⁻³²), infinite or NaN
        }
        // k = (2²³ + m) · 2^(exp − 150) = mult · 2^−(157 − exp) with mult ∈ [2³⁰, 2³¹).
        let mult = (((bits & 0x7F_FFFF) | 0x80_0000) << 7) as i32;
        let shift = 157u32.checked_sub(exp).filter(|s| *s <= 62)?;
        Some(Requant { mult, shift })
    }

    /// `acc · k`, rounded towards −∞.
    pub(crate) fn apply(self, acc: i32) -> i64 {
        (i64::from(acc) * i64::from(self.mult)) >> self.shift
    }

    /// The same `k` in the evaluator's 32-bit form ([`Rescale`]).
    pub fn rescale(self) -> Rescale {
        let (int, frac, right) = self.split();
        let limit = (i32::MAX as u32).checked_div(int).unwrap_or(u32::MAX);
        Rescale { int, frac, right, limit }
    }

    /// [`Requant::rescale`] without the saturation limit of [`Rescale::q16`] (a division,
    /// in software on a Cortex-M0): for [`Rescale::turns`] only, which wraps and needs none.
    #[inline]
    pub(crate) fn rescale_turns(self) -> Rescale {
        let (int, frac, right) = self.split();
        Rescale { int, frac, right, limit: 0 }
    }

    /// `k = int + frac · 2⁻³²` and a right shift.
    #[inline]
    fn split(self) -> (u32, u32, u32) {
        // k = mult · 2^−shift = f · 2^(e − 32) with f = 2·mult ∈ [2³¹, 2³²), e = 31 − shift.
        let f = (self.mult as u32) << 1;
        let e = 31 - self.shift as i32;
        if e >= 0 {
            let int = if e == 0 { 0 } else { f >> (32 - e) };
            (int, f.wrapping_shl(e as u32), 0)
        } else {
            (0, f, (-e) as u32)
        }
    }
}

/// `k = int + frac · 2⁻³²`, then a right shift: the multiplier of a [`Requant`] split so that
/// the evaluator applies it with three or four 32-bit multiplies and no 64-bit arithmetic (the
/// Cortex-M0 has neither a long multiply nor 64-bit shifts). The fractional product
/// `acc · frac · 2⁻³²` is taken from 16-bit halves, dropping the low×low term and flooring each
/// of the other two: it lies between the exact value and 3 below it, and the result is the
/// same on every target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rescale {
    int: u32,
    frac: u32,
    right: u32,
    /// Largest `|acc|` whose product with `int` fits an i32 (saturation of [`Rescale::q16`]).
    limit: u32,
}

impl Rescale {
    /// Multiplication by zero (the placeholder of layers that have no single rescale).
    pub(crate) const ZERO: Rescale = Rescale { int: 0, frac: 0, right: 0, limit: u32::MAX };

    /// `⌊acc · frac · 2⁻³²⌋`, within 3 below (see the type's docs).
    #[inline(always)]
    fn frac_product(self, acc: i32) -> i32 {
        let (ah, al) = (acc >> 16, acc as u32 & 0xFFFF);
        let (fh, fl) = (self.frac >> 16, self.frac & 0xFFFF);
        // |ah| ≤ 2¹⁵ and fh, fl < 2¹⁶: every product fits its type.
        let high = ah.wrapping_mul(fh as i32);
        let mid = (ah.wrapping_mul(fl as i32) >> 16).wrapping_add(((al * fh) >> 16) as i32);
        high.wrapping_add(mid)
    }

    /// `acc · k` as a wrapping u32 (the sine's turns).
    #[inline(always)]
    pub(crate) fn turns(self, acc: i32) -> u32 {
        let v = acc.wrapping_mul(self.int as i32).wrapping_add(self.frac_product(acc));
        (v >> self.right) as u32
    }

    /// `acc · k` saturated to i32 (a Q16.16 argument).
    #[inline(always)]
    pub(crate) fn q16(self, acc: i32) -> i32 {
        if acc.unsigned_abs() > self.limit {
            return if acc < 0 { i32::MIN } else { i32::MAX };
        }
        // |acc · int| ≤ i32::MAX; the fractional part adds less than |acc|, so only the sum
        // can leave the range: saturate it.
        let v = (acc * self.int as i32).saturating_add(self.frac_product(acc));
        v >> self.right
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_evaluators_rescale_is_within_three_units_below_the_exact_requant() {
        for k in [3e-10, 1.7e-6, 0.013, 0.5, 0.999_999, 1.0, 17.6, 1_234.5, 6.1e6, 1.9e9] {
            let exact = Requant::new(k).unwrap();
            let r = exact.rescale();
            let mut acc = i32::MIN;
            loop {
                let e = exact.apply(acc);
                let turns = (e as u32).wrapping_sub(r.turns(acc)) as i32;
                assert!((0..=3).contains(&turns), "k={k} acc={acc}: turns {e} vs {}", r.turns(acc));
                let clamped = e.clamp(i64::from(i32::MIN), i64::from(i32::MAX));
                let q16 = clamped - i64::from(r.q16(acc));
                assert!((0..=3).contains(&q16), "k={k} acc={acc}: q16 {e} vs {}", r.q16(acc));
                match acc.checked_add(9_973_331) {
                    Some(next) => acc = next,
                    None => break,
                }
            }
        }
    }

    #[test]
    fn an_f32_requant_by_bit_operations_equals_the_f64_one() {
        let mut k = 1.0e-12f32;
        while k < 1.0e12 {
            for v in [k, f32::from_bits(k.to_bits() + 1), f32::from_bits(k.to_bits() + 0x3F_FFFF)] {
                assert_eq!(Requant::from_f32(v), Requant::new(f64::from(v)), "k = {v:e}");
            }
            k *= 1.37;
        }
        for bad in [0.0, -1.0, f32::INFINITY, f32::NAN, f32::MIN_POSITIVE / 4.0, 3e9, 1e-11] {
            assert_eq!(Requant::from_f32(bad), Requant::new(f64::from(bad)), "k = {bad:e}");
        }
    }
}
