//! Integer arithmetic and comparisons on register bit patterns, at the width and signedness of
//! the instruction's type; the atomic operations (integer, and `f32` add / min / max).

use std::cmp::Ordering;

use super::float::Fp;
use crate::inst::{AtomOp, Cmp, IntOp, IntUn, Ty, mask, sext};

/// Two-operand integer arithmetic at the width and signedness of `ty`.
pub(super) fn int(op: IntOp, ty: Ty, a: u64, b: u64) -> u64 {
    let bits = ty.bits();
    let m = mask(bits);
    let signed = ty.signed();
    let (sa, sb) = (sext(a, bits), sext(b, bits));
    let (ua, ub) = (a & m, b & m);
    let r = match op {
        IntOp::Add => a.wrapping_add(b),
        IntOp::Sub => a.wrapping_sub(b),
        IntOp::MulLo => a.wrapping_mul(b),
        IntOp::MulHi => {
            if signed {
                ((i128::from(sa) * i128::from(sb)) >> bits) as u64
            } else {
                ((u128::from(ua) * u128::from(ub)) >> bits) as u64
            }
        }
        IntOp::Div if ub == 0 => m,
        IntOp::Div if signed => sa.wrapping_div(sb) as u64,
        IntOp::Div => ua / ub,
        IntOp::Rem if ub == 0 => a,
        IntOp::Rem if signed => sa.wrapping_rem(sb) as u64,
        IntOp::Rem => ua % ub,
        IntOp::Min if signed => sa.min(sb) as u64,
        IntOp::Min => ua.min(ub),
        IntOp::Max if signed => sa.max(sb) as u64,
        IntOp::Max => ua.max(ub),
        IntOp::And => a & b,
        IntOp::Or => a | b,
        IntOp::Xor => a ^ b,
        IntOp::Shl => {
            let s = b as u32;
            if s >= bits { 0 } else { a << s }
        }
        IntOp::Shr => {
            let s = b as u32;
            if signed {
                (sa >> s.min(63)) as u64
            } else if s >= bits {
                0
            } else {
                ua >> s
            }
        }
    };
    r & m
}

pub(super) fn int_un(op: IntUn, ty: Ty, a: u64) -> u64 {
    let bits = ty.bits();
    let m = mask(bits);
    let r = match op {
        IntUn::Neg => a.wrapping_neg(),
        IntUn::Abs => sext(a, bits).wrapping_abs() as u64,
        IntUn::Not => !a,
        IntUn::Popc => return u64::from((a & m).count_ones()),
        IntUn::Clz => return u64::from((a & m).leading_zeros() - (64 - bits)),
        IntUn::Brev => (a & m).reverse_bits() >> (64 - bits),
    };
    r & m
}

pub(super) fn icmp(cmp: Cmp, ty: Ty, a: u64, b: u64) -> bool {
    let o = if ty.signed() {
        sext(a, ty.bits()).cmp(&sext(b, ty.bits()))
    } else {
        let m = mask(ty.bits());
        (a & m).cmp(&(b & m))
    };
    match cmp {
        Cmp::Eq | Cmp::Equ => o == Ordering::Equal,
        Cmp::Ne | Cmp::Neu => o != Ordering::Equal,
        Cmp::Lt | Cmp::Ltu => o == Ordering::Less,
        Cmp::Le | Cmp::Leu => o != Ordering::Greater,
        Cmp::Gt | Cmp::Gtu => o == Ordering::Greater,
        Cmp::Ge | Cmp::Geu => o != Ordering::Less,
        Cmp::Num => true,
        Cmp::Nan => false,
    }
}

pub(super) fn atomic(op: AtomOp, ty: Ty, old: u64, b: u64, c: u64) -> u64 {
    let m = mask(ty.bits());
    match (op, ty) {
        (AtomOp::Add, Ty::F32) => (f32::from_reg(old) + f32::from_reg(b)).to_reg(),
        (AtomOp::Add, Ty::F64) => (f64::from_bits(old) + f64::from_bits(b)).to_bits(),
        (AtomOp::Min, Ty::F32) => f32::from_reg(old).min(f32::from_reg(b)).to_reg(),
        (AtomOp::Max, Ty::F32) => f32::from_reg(old).max(f32::from_reg(b)).to_reg(),
        (AtomOp::Add, _) => old.wrapping_add(b) & m,
        (AtomOp::Min, _) => int(IntOp::Min, ty, old, b),
        (AtomOp::Max, _) => int(IntOp::Max, ty, old, b),
        (AtomOp::Exch, _) => b,
        (AtomOp::Cas, _) => {
            if old & m == b & m {
                c & m
            } else {
                old
            }
        }
        (AtomOp::And, _) => old & b,
        (AtomOp::Or, _) => old | b,
        (AtomOp::Xor, _) => old ^ b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_edges() {
        assert_eq!(int(IntOp::Shr, Ty::S32, 0x8000_0000, 4), 0xF800_0000);
        assert_eq!(int(IntOp::Shr, Ty::U32, 0x8000_0000, 40), 0);
        assert_eq!(int(IntOp::Div, Ty::S32, (-7i32) as u32 as u64, 2), (-3i32) as u32 as u64);
        assert_eq!(int(IntOp::MulHi, Ty::U32, 0xFFFF_FFFF, 2), 1);
        assert_eq!(int(IntOp::Min, Ty::S32, 0xFFFF_FFFF, 1), 0xFFFF_FFFF);
        assert_eq!(int_un(IntUn::Clz, Ty::B32, 1), 31);
        assert_eq!(int_un(IntUn::Brev, Ty::B32, 1), 0x8000_0000);
    }
}
