//! Instructions: an opcode's modifiers sorted into kinds, then each supported opcode decoded
//! into an [`Op`] with resolved operands; anything else is refused with the reason.

use super::operands::{Ctx, want};
use super::statements::{Opnd, Stmt};
use crate::inst::{
    AtomOp, BoolOp, Call, Cmp, FMode, FOp, FUn, IntOp, IntUn, Op, Rnd, Space, Src, Test, Ty,
};

/// The modifiers of an opcode, sorted into kinds.
pub(super) struct Mods<'a> {
    pub(super) base: &'a str,
    pub(super) types: Vec<Ty>,
    pub(super) rnd: Rnd,
    pub(super) ftz: bool,
    pub(super) sat: bool,
    pub(super) space: Option<&'a str>,
    pub(super) vec: u8,
    pub(super) rest: Vec<&'a str>,
}

/// Modifiers that do not change what the interpreter computes.
pub(super) const IGNORED: &[&str] = &[
    "nc", "ca", "cg", "cs", "lu", "cv", "wb", "wt", "uni", "sync", "aligned", "volatile",
    "relaxed", "weak", "acquire", "release", "acq_rel", "gpu", "sys", "cta", "approx", "full",
    "to",
];

impl<'a> Mods<'a> {
    pub(super) fn new(opcode: &'a str) -> Mods<'a> {
        let mut parts = opcode.split('.');
        let base = parts.next().unwrap_or("");
        let mut m = Mods {
            base,
            types: Vec::new(),
            rnd: Rnd::None,
            ftz: false,
            sat: false,
            space: None,
            vec: 1,
            rest: Vec::new(),
        };
        for p in parts {
            if let Some(t) = Ty::parse(p) {
                m.types.push(t);
                continue;
            }
            match p {
                "rn" => m.rnd = Rnd::Rn,
                "rz" => m.rnd = Rnd::Rz,
                "rm" => m.rnd = Rnd::Rm,
                "rp" => m.rnd = Rnd::Rp,
                "rni" => m.rnd = Rnd::Rni,
                "rzi" => m.rnd = Rnd::Rzi,
                "rmi" => m.rnd = Rnd::Rmi,
                "rpi" => m.rnd = Rnd::Rpi,
                "ftz" => m.ftz = true,
                "sat" => m.sat = true,
                "v2" => m.vec = 2,
                "v4" => m.vec = 4,
                "global" | "shared" | "param" | "local" | "const" => m.space = Some(p),
                _ => m.rest.push(p),
            }
        }
        m
    }

    pub(super) fn take(&mut self, s: &str) -> bool {
        match self.rest.iter().position(|&r| r == s) {
            Some(i) => {
                self.rest.remove(i);
                true
            }
            None => false,
        }
    }

    pub(super) fn take_any(&mut self, set: &[&str]) -> Option<&'a str> {
        let i = self.rest.iter().position(|r| set.contains(r))?;
        Some(self.rest.remove(i))
    }

    pub(super) fn ty(&self) -> Result<Ty, String> {
        match self.types[..] {
            [t] => Ok(t),
            _ => Err("expected exactly one type modifier".into()),
        }
    }

    /// The float mode of type `ty` with the `.ftz` and `.sat` seen.
    pub(super) fn fmode(&self, ty: Ty) -> FMode {
        FMode { ty, ftz: self.ftz, sat: self.sat }
    }

    pub(super) fn finish(&self) -> Result<(), String> {
        match self.rest.iter().find(|r| !IGNORED.contains(r)) {
            Some(r) => Err(format!("unsupported modifier `.{r}`")),
            None => Ok(()),
        }
    }
}

pub(super) fn decode(c: &Ctx, st: &Stmt) -> Result<Op, String> {
    let mut m = Mods::new(st.opcode);
    let ops = &st.ops[..];
    let n = |k: usize| want(ops, k, st.opcode);
    let op = match m.base {
        "mov" => {
            n(2)?;
            let ty = m.ty()?;
            Op::Mov { d: c.dst(&ops[0])?, a: c.src(&ops[1], ty)? }
        }
        "cvta" => {
            n(2)?;
            m.take("to");
            match m.space {
                Some("global" | "shared") => {}
                _ => return Err("only cvta{.to}.global/.shared are supported".into()),
            }
            let ty = m.ty()?;
            Op::Mov { d: c.dst(&ops[0])?, a: c.src(&ops[1], ty)? }
        }
        "add" | "sub" | "mul" | "div" | "rem" | "min" | "max" | "and" | "or" | "xor" | "shl"
        | "shr" | "copysign" => {
            n(3)?;
            let ty = m.ty()?;
            let d = c.dst(&ops[0])?;
            let a = c.src(&ops[1], ty)?;
            if ty.float() {
                let op = match m.base {
                    "add" => FOp::Add,
                    "sub" => FOp::Sub,
                    "mul" => FOp::Mul,
                    "div" => FOp::Div,
                    "min" => FOp::Min,
                    "max" => FOp::Max,
                    "copysign" => FOp::Copysign,
                    b => return Err(format!("`{b}` has no float form")),
                };
                if ty == Ty::F16 {
                    return Err("f16 arithmetic is not supported".into());
                }
                let b = c.src(&ops[2], ty)?;
                Op::Float { op, mode: m.fmode(ty), d, a, b }
            } else {
                if m.sat {
                    return Err("integer .sat is not supported".into());
                }
                let shift = matches!(m.base, "shl" | "shr");
                let b = c.src(&ops[2], if shift { Ty::U32 } else { ty })?;
                let base = m.base;
                let op = match base {
                    "add" => IntOp::Add,
                    "sub" => IntOp::Sub,
                    "mul" if m.take("lo") => IntOp::MulLo,
                    "mul" if m.take("hi") => IntOp::MulHi,
                    "mul" if m.take("wide") => {
                        m.finish()?;
                        return wide(ty, d, a, b, None);
                    }
                    "mul" => return Err("integer mul needs .lo, .hi or .wide".into()),
                    "div" => IntOp::Div,
                    "rem" => IntOp::Rem,
                    "min" => IntOp::Min,
                    "max" => IntOp::Max,
                    "and" => IntOp::And,
                    "or" => IntOp::Or,
                    "xor" => IntOp::Xor,
                    "shl" => IntOp::Shl,
                    "shr" => IntOp::Shr,
                    b => return Err(format!("`{b}` has no integer form")),
                };
                Op::Int { op, ty, d, a, b }
            }
        }
        "mad" | "fma" => {
            n(4)?;
            let ty = m.ty()?;
            let d = c.dst(&ops[0])?;
            let (a, b) = (c.src(&ops[1], ty)?, c.src(&ops[2], ty)?);
            if ty.float() {
                Op::Fma { mode: m.fmode(ty), d, a, b, c: c.src(&ops[3], ty)? }
            } else if m.base == "fma" {
                return Err("fma needs a float type".into());
            } else if m.take("wide") {
                let wt = if ty.bits() == 16 { Ty::U32 } else { Ty::U64 };
                m.finish()?;
                return wide(ty, d, a, b, Some(c.src(&ops[3], wt)?));
            } else {
                let hi = if m.take("lo") {
                    false
                } else if m.take("hi") {
                    true
                } else {
                    return Err("integer mad needs .lo, .hi or .wide".into());
                };
                Op::Mad { hi, ty, d, a, b, c: c.src(&ops[3], ty)? }
            }
        }
        "neg" | "abs" | "not" | "popc" | "clz" | "brev" | "rcp" | "sqrt" | "rsqrt" | "ex2"
        | "lg2" | "sin" | "cos" | "tanh" => {
            n(2)?;
            let ty = m.ty()?;
            let d = c.dst(&ops[0])?;
            let a = c.src(&ops[1], ty)?;
            if ty.float() {
                if ty == Ty::F16 {
                    return Err("f16 arithmetic is not supported".into());
                }
                let op = match m.base {
                    "neg" => FUn::Neg,
                    "abs" => FUn::Abs,
                    "rcp" => FUn::Rcp,
                    "sqrt" => FUn::Sqrt,
                    "rsqrt" => FUn::Rsqrt,
                    "ex2" => FUn::Ex2,
                    "lg2" => FUn::Lg2,
                    "sin" => FUn::Sin,
                    "cos" => FUn::Cos,
                    "tanh" => FUn::Tanh,
                    b => return Err(format!("`{b}` has no float form")),
                };
                Op::FloatUn { op, mode: m.fmode(ty), d, a }
            } else {
                let op = match m.base {
                    "neg" => IntUn::Neg,
                    "abs" => IntUn::Abs,
                    "not" => IntUn::Not,
                    "popc" => IntUn::Popc,
                    "clz" => IntUn::Clz,
                    "brev" => IntUn::Brev,
                    b => return Err(format!("`{b}` has no integer form")),
                };
                Op::IntUn { op, ty, d, a }
            }
        }
        "setp" => {
            const CMPS: &[&str] = &[
                "eq", "ne", "lt", "le", "gt", "ge", "lo", "ls", "hi", "hs", "equ", "neu", "ltu",
                "leu", "gtu", "geu", "num", "nan",
            ];
            let cmp = match m.take_any(CMPS).ok_or("setp needs a comparison")? {
                "eq" => Cmp::Eq,
                "ne" => Cmp::Ne,
                "lt" | "lo" => Cmp::Lt,
                "le" | "ls" => Cmp::Le,
                "gt" | "hi" => Cmp::Gt,
                "ge" | "hs" => Cmp::Ge,
                "equ" => Cmp::Equ,
                "neu" => Cmp::Neu,
                "ltu" => Cmp::Ltu,
                "leu" => Cmp::Leu,
                "gtu" => Cmp::Gtu,
                "geu" => Cmp::Geu,
                "num" => Cmp::Num,
                _ => Cmp::Nan,
            };
            let bop = m.take_any(&["and", "or", "xor"]).map(|b| match b {
                "and" => BoolOp::And,
                "or" => BoolOp::Or,
                _ => BoolOp::Xor,
            });
            let ty = m.ty()?;
            n(if bop.is_some() { 4 } else { 3 })?;
            let (d, dn) = match ops[0] {
                Opnd::Pair(p, q) => (c.reg(p)?, Some(c.reg(q)?)),
                ref o => (c.dst(o)?, None),
            };
            let comb = match (bop, ops.get(3)) {
                (Some(b), Some(Opnd::Not(p))) => Some((b, c.word(p, Ty::Pred)?, true)),
                (Some(b), Some(o)) => Some((b, c.src(o, Ty::Pred)?, false)),
                _ => None,
            };
            let (a, b) = (c.src(&ops[1], ty)?, c.src(&ops[2], ty)?);
            Op::Setp { cmp, ty, ftz: m.ftz, d, dn, a, b, comb }
        }
        "selp" => {
            n(4)?;
            let ty = m.ty()?;
            Op::Selp {
                d: c.dst(&ops[0])?,
                a: c.src(&ops[1], ty)?,
                b: c.src(&ops[2], ty)?,
                p: c.src(&ops[3], Ty::Pred)?,
            }
        }
        "testp" => {
            n(2)?;
            let test = match m.take_any(&[
                "finite",
                "infinite",
                "number",
                "notanumber",
                "normal",
                "subnormal",
            ]) {
                Some("finite") => Test::Finite,
                Some("infinite") => Test::Infinite,
                Some("number") => Test::Number,
                Some("notanumber") => Test::NotANumber,
                Some("normal") => Test::Normal,
                Some(_) => Test::Subnormal,
                None => return Err("testp needs a property".into()),
            };
            let ty = m.ty()?;
            Op::Testp { test, ty, d: c.dst(&ops[0])?, a: c.src(&ops[1], ty)? }
        }
        "cvt" => {
            n(2)?;
            let [dt, st] = m.types[..] else {
                return Err("cvt needs a destination and a source type".into());
            };
            Op::Cvt {
                dt,
                st,
                rnd: m.rnd,
                ftz: m.ftz,
                sat: m.sat,
                d: c.dst(&ops[0])?,
                a: c.src(&ops[1], st)?,
            }
        }
        "ld" | "st" => {
            n(2)?;
            let ty = m.ty()?;
            let load = m.base == "ld";
            let space = match m.space {
                Some("global") => Space::Global,
                Some("shared") => Space::Shared,
                Some("param") if load && m.vec == 1 => {
                    let Opnd::Addr(name, off) = ops[1] else {
                        return Err("ld.param needs `[name]`".into());
                    };
                    let p = c
                        .params
                        .iter()
                        .find(|p| p.name == name)
                        .ok_or_else(|| format!("`{name}` is not a parameter of this kernel"))?;
                    if off < 0 || off as u64 + u64::from(ty.bytes()) > u64::from(p.bytes) {
                        return Err(format!("ld.param outside parameter `{name}`"));
                    }
                    m.finish()?;
                    return Ok(Op::LdParam { ty, d: c.dst(&ops[0])?, off: p.off + off as u32 });
                }
                Some(s) => return Err(format!("{}.{s} is not supported", m.base)),
                None => {
                    return Err(format!(
                        "generic-address {} is not supported: name the state space",
                        m.base
                    ));
                }
            };
            let (vals, addr) = if load { (&ops[0], &ops[1]) } else { (&ops[1], &ops[0]) };
            let addr = c.addr(addr)?;
            let names: Vec<&str> = match vals {
                Opnd::Word(w) if m.vec == 1 => vec![w],
                Opnd::Vector(v) if v.len() == m.vec as usize && m.vec > 1 => v.clone(),
                o => return Err(format!("operand {o:?} does not match .v{}", m.vec)),
            };
            if load {
                let mut d = [0; 4];
                for (i, w) in names.iter().enumerate() {
                    d[i] = c.reg(w)?;
                }
                Op::Ld { space, ty, n: m.vec, d, addr }
            } else {
                let mut s = [Src::Imm(0); 4];
                for (i, w) in names.iter().enumerate() {
                    s[i] = c.word(w, ty)?;
                }
                Op::St { space, ty, n: m.vec, s, addr }
            }
        }
        "atom" | "red" => {
            let space = match m.space {
                Some("global") => Space::Global,
                Some("shared") => Space::Shared,
                _ => return Err(format!("{} needs .global or .shared", m.base)),
            };
            let op = match m.take_any(&["add", "min", "max", "exch", "cas", "and", "or", "xor"]) {
                Some("add") => AtomOp::Add,
                Some("min") => AtomOp::Min,
                Some("max") => AtomOp::Max,
                Some("exch") => AtomOp::Exch,
                Some("cas") => AtomOp::Cas,
                Some("and") => AtomOp::And,
                Some("or") => AtomOp::Or,
                Some("xor") => AtomOp::Xor,
                _ => return Err(format!("unsupported {} operation", m.base)),
            };
            let ty = m.ty()?;
            if ty.bits() < 32 {
                return Err("atomics on types narrower than 32 bits are not supported".into());
            }
            let red = m.base == "red";
            let k = usize::from(!red);
            n(k + 2 + usize::from(op == AtomOp::Cas))?;
            let d = if red { None } else { Some(c.dst(&ops[0])?) };
            let cv = if op == AtomOp::Cas { c.src(&ops[k + 2], ty)? } else { Src::Imm(0) };
            Op::Atom { space, op, ty, d, addr: c.addr(&ops[k])?, b: c.src(&ops[k + 1], ty)?, c: cv }
        }
        "bra" => {
            n(1)?;
            let Opnd::Word(l) = ops[0] else { return Err("bra needs a label".into()) };
            let target = *c.f.labels.get(l).ok_or_else(|| format!("unknown label `{l}`"))?;
            Op::Bra { target }
        }
        "bar" | "barrier" => {
            m.take("sync");
            if ops.len() > 2 {
                return Err("bar.sync takes at most 2 operands".into());
            }
            if let Some(o) = ops.first() {
                c.src(o, Ty::U32)?;
            }
            Op::Bar { count: ops.get(1).map(|o| c.src(o, Ty::U32)).transpose()? }
        }
        "call" => {
            let mut i = 0;
            let rets: &[&str] = match ops.first() {
                Some(Opnd::List(l)) => {
                    i = 1;
                    l
                }
                _ => &[],
            };
            let Some(Opnd::Word(name)) = ops.get(i) else {
                return Err("call needs a function name".into());
            };
            let func = *c.funcs.get(name).ok_or_else(|| format!("unknown function `{name}`"))?;
            let callee = &c.raw[func as usize];
            if callee.entry {
                return Err(format!("cannot call the kernel `{name}`"));
            }
            let args: &[&str] = match ops.get(i + 1) {
                Some(Opnd::List(l)) if ops.len() == i + 2 => l,
                None => &[],
                _ => return Err("call arguments must be one `(...)` list".into()),
            };
            if rets.len() != callee.rets.len() || args.len() != callee.params.len() {
                return Err(format!(
                    "`{name}` returns {} and takes {} values; the call has {} and {}",
                    callee.rets.len(),
                    callee.params.len(),
                    rets.len(),
                    args.len()
                ));
            }
            let rets = rets.iter().map(|w| c.reg(w)).collect::<Result<_, _>>()?;
            let args = args
                .iter()
                .zip(&callee.params)
                .map(|(w, p)| c.word(w, p.1))
                .collect::<Result<_, _>>()?;
            Op::Call(Box::new(Call { func, rets, args }))
        }
        "ret" => Op::Ret,
        "exit" => Op::Exit,
        "membar" | "fence" => {
            m.rest.clear();
            Op::Nop
        }
        "shfl" | "vote" | "match" | "activemask" | "redux" | "bar.warp" => {
            return Err(format!(
                "warp-level instruction `{}` is not supported (the interpreter models barriers, not warps)",
                st.opcode
            ));
        }
        _ => return Err(format!("unsupported instruction `{}`", st.opcode)),
    };
    m.finish()?;
    Ok(op)
}

pub(super) fn wide(ty: Ty, d: u32, a: Src, b: Src, c: Option<Src>) -> Result<Op, String> {
    match ty {
        Ty::U16 | Ty::S16 | Ty::U32 | Ty::S32 => {
            Ok(Op::Wide { signed: ty.signed(), bits: ty.bits(), d, a, b, c })
        }
        _ => Err(format!("mul/mad.wide on {ty:?} is not supported")),
    }
}
