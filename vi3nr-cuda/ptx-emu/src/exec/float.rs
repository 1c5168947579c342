//! Float arithmetic for `f32` and `f64` through one trait, with PTX's `.ftz` (flush subnormals
//! to zero) and `.sat` (clamp to [0, 1], NaN to 0) modifiers; comparisons and `testp`.

use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::inst::{Cmp, FOp, FUn, Test};

/// The float operations the interpreter needs, for `f32` and `f64`.
pub(super) trait Fp:
    Copy
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    const ZERO: Self;
    const ONE: Self;
    fn from_reg(v: u64) -> Self;
    fn to_reg(self) -> u64;
    fn is_subnormal(self) -> bool;
    fn is_nan(self) -> bool;
    fn is_finite(self) -> bool;
    fn is_infinite(self) -> bool;
    fn is_normal(self) -> bool;
    fn copysign(self, s: Self) -> Self;
    fn abs(self) -> Self;
    fn sqrt(self) -> Self;
    fn exp2(self) -> Self;
    fn log2(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn tanh(self) -> Self;
    fn mul_add(self, b: Self, c: Self) -> Self;
    fn min(self, b: Self) -> Self;
    fn max(self, b: Self) -> Self;
}

/// The [`Fp`] items that forward to the inherent method of the same name.
macro_rules! fp_methods {
    ($t:ty) => {
        const ZERO: $t = 0.0;
        const ONE: $t = 1.0;
        fp_methods!(@unary $t, bool: is_subnormal, is_nan, is_finite, is_infinite, is_normal);
        fp_methods!(@unary $t, $t: abs, sqrt, exp2, log2, sin, cos, tanh);
        fp_methods!(@binary $t: copysign, min, max);
        fn mul_add(self, b: $t, c: $t) -> $t {
            <$t>::mul_add(self, b, c)
        }
    };
    (@unary $t:ty, $out:ty: $($name:ident),*) => {
        $(fn $name(self) -> $out {
            <$t>::$name(self)
        })*
    };
    (@binary $t:ty: $($name:ident),*) => {
        $(fn $name(self, b: $t) -> $t {
            <$t>::$name(self, b)
        })*
    };
}

impl Fp for f32 {
    fp_methods!(f32);
    fn from_reg(v: u64) -> f32 {
        f32::from_bits(v as u32)
    }
    fn to_reg(self) -> u64 {
        u64::from(self.to_bits())
    }
}

impl Fp for f64 {
    fp_methods!(f64);
    fn from_reg(v: u64) -> f64 {
        f64::from_bits(v)
    }
    fn to_reg(self) -> u64 {
        self.to_bits()
    }
}

#[inline]
pub(super) fn flush<F: Fp>(x: F, ftz: bool) -> F {
    if ftz && x.is_subnormal() { F::ZERO.copysign(x) } else { x }
}

#[inline]
pub(super) fn get<F: Fp>(v: u64, ftz: bool) -> F {
    flush(F::from_reg(v), ftz)
}

pub(super) fn f32get(v: u64, ftz: bool) -> f32 {
    get(v, ftz)
}

#[inline]
pub(super) fn fin<F: Fp>(x: F, ftz: bool, sat: bool) -> u64 {
    let x = flush(x, ftz);
    let x = if !sat {
        x
    } else if x.is_nan() || x < F::ZERO {
        F::ZERO
    } else if x > F::ONE {
        F::ONE
    } else {
        x
    };
    x.to_reg()
}

#[inline]
pub(super) fn fbin<F: Fp>(op: FOp, a: u64, b: u64, ftz: bool, sat: bool) -> u64 {
    let (a, b) = (get::<F>(a, ftz), get::<F>(b, ftz));
    let r = match op {
        FOp::Add => a + b,
        FOp::Sub => a - b,
        FOp::Mul => a * b,
        FOp::Div => a / b,
        FOp::Min => a.min(b),
        FOp::Max => a.max(b),
        FOp::Copysign => b.copysign(a),
    };
    fin(r, ftz, sat)
}

#[inline]
pub(super) fn fun<F: Fp>(op: FUn, a: u64, ftz: bool, sat: bool) -> u64 {
    let a = get::<F>(a, ftz);
    let r = match op {
        FUn::Neg => -a,
        FUn::Abs => a.abs(),
        FUn::Rcp => F::ONE / a,
        FUn::Sqrt => a.sqrt(),
        FUn::Rsqrt => F::ONE / a.sqrt(),
        FUn::Ex2 => a.exp2(),
        FUn::Lg2 => a.log2(),
        FUn::Sin => a.sin(),
        FUn::Cos => a.cos(),
        FUn::Tanh => a.tanh(),
    };
    fin(r, ftz, sat)
}

#[inline]
pub(super) fn ffma<F: Fp>(a: u64, b: u64, c: u64, ftz: bool, sat: bool) -> u64 {
    let r = get::<F>(a, ftz).mul_add(get(b, ftz), get(c, ftz));
    fin(r, ftz, sat)
}

pub(super) fn fcmp<F: Fp>(cmp: Cmp, a: F, b: F) -> bool {
    let nan = a.is_nan() || b.is_nan();
    match cmp {
        Cmp::Eq => a == b,
        Cmp::Ne => !nan && a != b,
        Cmp::Lt => a < b,
        Cmp::Le => a <= b,
        Cmp::Gt => a > b,
        Cmp::Ge => a >= b,
        Cmp::Equ => nan || a == b,
        Cmp::Neu => a != b,
        Cmp::Ltu => nan || a < b,
        Cmp::Leu => nan || a <= b,
        Cmp::Gtu => nan || a > b,
        Cmp::Geu => nan || a >= b,
        Cmp::Num => !nan,
        Cmp::Nan => nan,
    }
}

pub(super) fn ftest<F: Fp>(test: Test, x: F) -> bool {
    match test {
        Test::Finite => x.is_finite(),
        Test::Infinite => x.is_infinite(),
        Test::Number => !x.is_nan(),
        Test::NotANumber => x.is_nan(),
        Test::Normal => x.is_normal(),
        Test::Subnormal => x.is_subnormal(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_modifiers() {
        let f = |x: f32| u64::from(x.to_bits());
        let tiny = f(f32::MIN_POSITIVE / 4.0);
        assert_eq!(fbin::<f32>(FOp::Add, tiny, f(0.0), true, false), f(0.0));
        assert_eq!(fbin::<f32>(FOp::Add, tiny, f(0.0), false, false), tiny);
        assert_eq!(fbin::<f32>(FOp::Mul, f(3.0), f(2.0), false, true), f(1.0));
        assert_eq!(fun::<f32>(FUn::Neg, f(f32::NAN), false, true), f(0.0));
        assert_eq!(fbin::<f32>(FOp::Copysign, f(-1.0), f(2.0), false, false), f(-2.0));
        assert!(fcmp(Cmp::Neu, f32::NAN, 1.0) && !fcmp(Cmp::Ne, f32::NAN, 1.0));
    }
}
