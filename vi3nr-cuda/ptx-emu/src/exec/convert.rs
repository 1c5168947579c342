//! `cvt`: conversions between every integer and float type (f16 through the `half` crate), with
//! the integer rounding modifiers (`.rni .rzi .rmi .rpi`) and saturation.

use super::float::{f32get, fin};
use crate::inst::{Rnd, Ty, f16_bits, f16_value, mask, sext};

/// A float register of type `ty` as `f64`.
pub(super) fn as_f64(ty: Ty, v: u64, ftz: bool) -> f64 {
    match ty {
        Ty::F64 => f64::from_bits(v),
        Ty::F16 => f64::from(f16_value(v)),
        _ => f64::from(f32get(v, ftz)),
    }
}

/// The integer range of `ty`.
pub(super) fn range(ty: Ty) -> (i128, i128) {
    let bits = ty.bits();
    if ty.signed() {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, (1i128 << bits) - 1)
    }
}

pub(super) fn cvt(dt: Ty, st: Ty, rnd: Rnd, ftz: bool, sat: bool, a: u64) -> u64 {
    let round = |x: f64| match rnd {
        Rnd::Rni => x.round_ties_even(),
        Rnd::Rzi => x.trunc(),
        Rnd::Rmi => x.floor(),
        Rnd::Rpi => x.ceil(),
        _ => x,
    };
    match (dt.float(), st.float()) {
        (false, false) => {
            let v = if st.signed() {
                i128::from(sext(a, st.bits()))
            } else {
                i128::from(a & mask(st.bits()))
            };
            let v = if sat {
                let (lo, hi) = range(dt);
                v.clamp(lo, hi)
            } else {
                v
            };
            (v as u64) & mask(dt.bits())
        }
        (true, false) => {
            let (s, u) = (sext(a, st.bits()), a & mask(st.bits()));
            match dt {
                Ty::F64 => (if st.signed() { s as f64 } else { u as f64 }).to_bits(),
                Ty::F32 => fin(if st.signed() { s as f32 } else { u as f32 }, ftz, sat),
                _ => f16_bits(if st.signed() { s as f32 } else { u as f32 }),
            }
        }
        (false, true) => {
            let x = as_f64(st, a, ftz);
            // PTX rounds float-to-integer conversions toward zero unless told otherwise.
            let x = match rnd {
                Rnd::Rni | Rnd::Rmi | Rnd::Rpi => round(x),
                _ => x.trunc(),
            };
            if x.is_nan() {
                return 0;
            }
            let (lo, hi) = range(dt);
            let v = if x <= lo as f64 {
                lo
            } else if x >= hi as f64 {
                hi
            } else {
                x as i128
            };
            (v as u64) & mask(dt.bits())
        }
        (true, true) => {
            let x = round(as_f64(st, a, ftz));
            match dt {
                Ty::F64 => x.to_bits(),
                Ty::F32 => fin(x as f32, ftz, sat),
                _ => f16_bits(x as f32),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        let f = |x: f32| u64::from(x.to_bits());
        assert_eq!(cvt(Ty::S32, Ty::F32, Rnd::Rni, false, false, f(2.5)), 2);
        assert_eq!(cvt(Ty::S32, Ty::F32, Rnd::Rmi, false, false, f(-2.5)), (-3i32) as u32 as u64);
        assert_eq!(cvt(Ty::U32, Ty::F32, Rnd::Rzi, false, false, f(-5.0)), 0);
        assert_eq!(cvt(Ty::S32, Ty::F32, Rnd::Rzi, false, false, f(f32::NAN)), 0);
        assert_eq!(cvt(Ty::S32, Ty::F32, Rnd::Rzi, false, false, f(1e20)), 0x7FFF_FFFF);
        assert_eq!(cvt(Ty::S64, Ty::S32, Rnd::None, false, false, 0xFFFF_FFFF), u64::MAX);
        assert_eq!(cvt(Ty::U8, Ty::S32, Rnd::None, false, true, 300), 255);
        assert_eq!(cvt(Ty::F32, Ty::F32, Rnd::Rni, false, false, f(2.5)), f(2.0));
        assert_eq!(cvt(Ty::F32, Ty::U32, Rnd::Rn, false, false, 7), f(7.0));
        for x in [0.0f32, 1.0, -2.5, 65504.0, 6.1e-5, 5.96e-8, 1e-3] {
            let h = cvt(Ty::F16, Ty::F32, Rnd::Rn, false, false, f(x));
            let back = f32::from_bits(cvt(Ty::F32, Ty::F16, Rnd::None, false, false, h) as u32);
            assert!((back - x).abs() <= x.abs() * 1e-3 + 6e-8, "{x} -> {h:#x}");
        }
        assert_eq!(cvt(Ty::F16, Ty::F32, Rnd::Rn, false, false, f(1.0)), 0x3c00);
        assert_eq!(cvt(Ty::F16, Ty::F32, Rnd::Rn, false, false, f(1e6)), 0x7c00);
    }
}
