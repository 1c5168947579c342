//! Operands: integer and float literals as bit patterns, special registers, and the names of a
//! statement (registers, shared variables, parameters) resolved to register indices and
//! addresses.

use std::collections::HashMap;

use super::Param;
use super::statements::{Opnd, RawFunc, Sym};
use crate::inst::{Addr, Src, Sreg, Ty, f16_bits, mask};

/// Parses an integer or float literal as a bit pattern of type `ty`.
pub(super) fn literal(w: &str, ty: Ty) -> Option<u64> {
    let w = w.strip_suffix('U').unwrap_or(w);
    let conv = |x: f64| -> u64 {
        match ty {
            Ty::F64 => x.to_bits(),
            Ty::F16 => f16_bits(x as f32),
            _ => u64::from((x as f32).to_bits()),
        }
    };
    if let Some(h) = w.strip_prefix("0f").or_else(|| w.strip_prefix("0F"))
        && h.len() == 8
    {
        let bits = u32::from_str_radix(h, 16).ok()?;
        return Some(if ty.float() {
            conv(f64::from(f32::from_bits(bits)))
        } else {
            u64::from(bits)
        });
    }
    if let Some(h) = w.strip_prefix("0d").or_else(|| w.strip_prefix("0D"))
        && h.len() == 16
    {
        let bits = u64::from_str_radix(h, 16).ok()?;
        return Some(if ty.float() { conv(f64::from_bits(bits)) } else { bits });
    }
    let (neg, m) = match w.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, w),
    };
    let int = if let Some(h) = m.strip_prefix("0x").or_else(|| m.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else if let Some(h) = m.strip_prefix("0b").or_else(|| m.strip_prefix("0B")) {
        u64::from_str_radix(h, 2).ok()
    } else if m.len() > 1 && m.starts_with('0') && m.bytes().all(|c| c.is_ascii_digit()) {
        u64::from_str_radix(&m[1..], 8).ok()
    } else {
        m.parse::<u64>().ok()
    };
    if ty.float() {
        let x = match int {
            Some(i) => i as f64,
            None => m.parse::<f64>().ok()?,
        };
        return Some(conv(if neg { -x } else { x }));
    }
    let v = int?;
    Some(if neg { v.wrapping_neg() } else { v } & mask(ty.bits()))
}

pub(super) fn sreg(w: &str) -> Option<Sreg> {
    let (base, dim) = match w.rsplit_once('.') {
        Some((b, d)) => (b, d),
        None => (w, ""),
    };
    let d = match dim {
        "x" => 0,
        "y" => 1,
        "z" => 2,
        "" => 3,
        _ => return None,
    };
    Some(match (base, d) {
        ("%tid", 0..3) => Sreg::Tid(d),
        ("%ntid", 0..3) => Sreg::Ntid(d),
        ("%ctaid", 0..3) => Sreg::Ctaid(d),
        ("%nctaid", 0..3) => Sreg::Nctaid(d),
        ("%laneid", 3) => Sreg::Laneid,
        ("%warpid", 3) => Sreg::Warpid,
        _ => return None,
    })
}

pub(super) struct Ctx<'c, 'a> {
    pub(super) f: &'c RawFunc<'a>,
    pub(super) raw: &'c [RawFunc<'a>],
    pub(super) funcs: &'c HashMap<&'a str, u32>,
    pub(super) module_syms: &'c HashMap<&'a str, Sym>,
    pub(super) dyn_base: u64,
    pub(super) params: &'c [Param],
}

impl Ctx<'_, '_> {
    pub(super) fn sym(&self, w: &str) -> Option<u64> {
        let s = self.f.shared.get(w).or_else(|| self.module_syms.get(w))?;
        Some(match *s {
            Sym::Static(a) => a,
            Sym::Dyn => self.dyn_base,
        })
    }

    pub(super) fn reg(&self, w: &str) -> Result<u32, String> {
        self.f.regs.get(w).copied().ok_or_else(|| format!("`{w}` is not a declared register"))
    }

    pub(super) fn dst(&self, o: &Opnd) -> Result<u32, String> {
        match o {
            Opnd::Word(w) => self.reg(w),
            _ => Err(format!("expected a destination register, found {o:?}")),
        }
    }

    pub(super) fn word(&self, w: &str, ty: Ty) -> Result<Src, String> {
        if let Some(&r) = self.f.regs.get(w) {
            return Ok(Src::Reg(r));
        }
        if let Some(s) = sreg(w) {
            return Ok(Src::Sreg(s));
        }
        if let Some(a) = self.sym(w) {
            return Ok(Src::Imm(a));
        }
        if w.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            return literal(w, ty).map(Src::Imm).ok_or_else(|| format!("bad {ty:?} literal `{w}`"));
        }
        if self.params.iter().any(|p| p.name == w) {
            return Err(format!(
                "parameter `{w}` used as a value (only `ld.param [{w}]` is supported)"
            ));
        }
        Err(format!("unknown name `{w}`"))
    }

    pub(super) fn src(&self, o: &Opnd, ty: Ty) -> Result<Src, String> {
        match o {
            Opnd::Word(w) => self.word(w, ty),
            _ => Err(format!("expected a scalar operand, found {o:?}")),
        }
    }

    pub(super) fn addr(&self, o: &Opnd) -> Result<Addr, String> {
        match *o {
            Opnd::Addr(base, off) => Ok(Addr { base: self.word(base, Ty::U64)?, off }),
            _ => Err(format!("expected an address `[...]`, found {o:?}")),
        }
    }
}

pub(super) fn want(ops: &[Opnd], n: usize, opcode: &str) -> Result<(), String> {
    if ops.len() == n {
        Ok(())
    } else {
        Err(format!("`{opcode}` takes {n} operands, found {}", ops.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(literal("0f3F800000", Ty::F32), Some(0x3F80_0000));
        assert_eq!(literal("1.0", Ty::F32), Some(0x3F80_0000));
        assert_eq!(literal("-4", Ty::S32), Some(0xFFFF_FFFC));
        assert_eq!(literal("0x10", Ty::U64), Some(16));
        assert_eq!(literal("2", Ty::F64), Some(2f64.to_bits()));
        assert_eq!(literal("abc", Ty::U32), None);
    }
}
