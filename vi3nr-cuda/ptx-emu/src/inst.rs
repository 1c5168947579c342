//! The decoded instruction set: what the parser produces and the interpreter executes.
//!
//! Operands are register indices into the current call frame, immediates (already converted to
//! the instruction's type, as a bit pattern) or special registers, so execution does no string
//! look-ups. Every register holds a `u64` bit pattern; a value of a narrower type is kept
//! zero-extended and sign-extended only when an instruction reads it as signed.

/// A PTX scalar type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    U8,
    U16,
    U32,
    U64,
    S8,
    S16,
    S32,
    S64,
    B8,
    B16,
    B32,
    B64,
    F16,
    F32,
    F64,
    Pred,
}

impl Ty {
    /// The type named by a modifier without its dot (`"f32"`).
    pub(crate) fn parse(s: &str) -> Option<Ty> {
        Some(match s {
            "u8" => Ty::U8,
            "u16" => Ty::U16,
            "u32" => Ty::U32,
            "u64" => Ty::U64,
            "s8" => Ty::S8,
            "s16" => Ty::S16,
            "s32" => Ty::S32,
            "s64" => Ty::S64,
            "b8" => Ty::B8,
            "b16" => Ty::B16,
            "b32" => Ty::B32,
            "b64" => Ty::B64,
            "f16" => Ty::F16,
            "f32" => Ty::F32,
            "f64" => Ty::F64,
            "pred" => Ty::Pred,
            _ => return None,
        })
    }

    /// Width in bits (1 for a predicate).
    pub(crate) fn bits(self) -> u32 {
        match self {
            Ty::Pred => 1,
            Ty::U8 | Ty::S8 | Ty::B8 => 8,
            Ty::U16 | Ty::S16 | Ty::B16 | Ty::F16 => 16,
            Ty::U32 | Ty::S32 | Ty::B32 | Ty::F32 => 32,
            Ty::U64 | Ty::S64 | Ty::B64 | Ty::F64 => 64,
        }
    }

    /// Size in memory, bytes.
    pub(crate) fn bytes(self) -> u32 {
        self.bits().div_ceil(8)
    }

    /// A signed integer type.
    pub(crate) fn signed(self) -> bool {
        matches!(self, Ty::S8 | Ty::S16 | Ty::S32 | Ty::S64)
    }

    /// A floating-point type.
    pub(crate) fn float(self) -> bool {
        matches!(self, Ty::F16 | Ty::F32 | Ty::F64)
    }
}

/// All ones in the low `bits` bits.
pub(crate) fn mask(bits: u32) -> u64 {
    if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 }
}

/// The low `bits` bits of `v`, sign-extended.
pub(crate) fn sext(v: u64, bits: u32) -> i64 {
    if bits >= 64 { v as i64 } else { ((v << (64 - bits)) as i64) >> (64 - bits) }
}

/// An `f32` as IEEE half bits (a register value), rounded to nearest even.
pub(crate) fn f16_bits(x: f32) -> u64 {
    u64::from(half::f16::from_f32(x).to_bits())
}

/// The IEEE half in the low 16 bits of a register, as `f32` (exact).
pub(crate) fn f16_value(v: u64) -> f32 {
    half::f16::from_bits(v as u16).to_f32()
}

/// A special register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sreg {
    Tid(u8),
    Ntid(u8),
    Ctaid(u8),
    Nctaid(u8),
    Laneid,
    Warpid,
}

/// A source operand.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Src {
    Reg(u32),
    Imm(u64),
    Sreg(Sreg),
}

/// A memory operand `[base+offset]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Addr {
    pub base: Src,
    pub off: i64,
}

/// Two-operand integer operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntOp {
    Add,
    Sub,
    MulLo,
    MulHi,
    Div,
    Rem,
    Min,
    Max,
    And,
    Or,
    Xor,
    Shl,
    Shr,
}

/// One-operand integer operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntUn {
    Neg,
    Abs,
    Not,
    Popc,
    Clz,
    Brev,
}

/// Two-operand float operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FOp {
    Add,
    Sub,
    Mul,
    Div,
    Min,
    Max,
    Copysign,
}

/// One-operand float operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FUn {
    Neg,
    Abs,
    Rcp,
    Sqrt,
    Rsqrt,
    Ex2,
    Lg2,
    Sin,
    Cos,
    Tanh,
}

/// `setp` comparisons (`lo`/`ls`/`hi`/`hs` decode to `Lt`/`Le`/`Gt`/`Ge`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Equ,
    Neu,
    Ltu,
    Leu,
    Gtu,
    Geu,
    Num,
    Nan,
}

/// The boolean combination in `setp.cmp.bop`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BoolOp {
    And,
    Or,
    Xor,
}

/// A rounding modifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rnd {
    None,
    Rn,
    Rz,
    Rm,
    Rp,
    Rni,
    Rzi,
    Rmi,
    Rpi,
}

/// `testp` properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Test {
    Finite,
    Infinite,
    Number,
    NotANumber,
    Normal,
    Subnormal,
}

/// Atomic operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AtomOp {
    Add,
    Min,
    Max,
    Exch,
    Cas,
    And,
    Or,
    Xor,
}

/// A memory state space the interpreter models.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    /// Device memory from [`super::Emulator::alloc`].
    Global,
    /// Per-block shared memory.
    Shared,
}

/// A call's operands.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Call {
    pub func: u32,
    pub rets: Vec<u32>,
    pub args: Vec<Src>,
}

/// The type and modifiers of a float arithmetic instruction (`.ftz`: subnormals flush to zero,
/// `.sat`: the result clamps to [0, 1]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FMode {
    pub ty: Ty,
    pub ftz: bool,
    pub sat: bool,
}

/// A decoded operation.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Op {
    Mov {
        d: u32,
        a: Src,
    },
    Int {
        op: IntOp,
        ty: Ty,
        d: u32,
        a: Src,
        b: Src,
    },
    IntUn {
        op: IntUn,
        ty: Ty,
        d: u32,
        a: Src,
    },
    /// `mul.wide` / `mad.wide` (`c` present): `bits` is the source width.
    Wide {
        signed: bool,
        bits: u32,
        d: u32,
        a: Src,
        b: Src,
        c: Option<Src>,
    },
    /// `mad.lo` / `mad.hi`.
    Mad {
        hi: bool,
        ty: Ty,
        d: u32,
        a: Src,
        b: Src,
        c: Src,
    },
    Float {
        op: FOp,
        mode: FMode,
        d: u32,
        a: Src,
        b: Src,
    },
    FloatUn {
        op: FUn,
        mode: FMode,
        d: u32,
        a: Src,
    },
    Fma {
        mode: FMode,
        d: u32,
        a: Src,
        b: Src,
        c: Src,
    },
    Setp {
        cmp: Cmp,
        ty: Ty,
        ftz: bool,
        d: u32,
        dn: Option<u32>,
        a: Src,
        b: Src,
        comb: Option<(BoolOp, Src, bool)>,
    },
    Selp {
        d: u32,
        a: Src,
        b: Src,
        p: Src,
    },
    Testp {
        test: Test,
        ty: Ty,
        d: u32,
        a: Src,
    },
    Cvt {
        dt: Ty,
        st: Ty,
        rnd: Rnd,
        ftz: bool,
        sat: bool,
        d: u32,
        a: Src,
    },
    Ld {
        space: Space,
        ty: Ty,
        n: u8,
        d: [u32; 4],
        addr: Addr,
    },
    St {
        space: Space,
        ty: Ty,
        n: u8,
        s: [Src; 4],
        addr: Addr,
    },
    LdParam {
        ty: Ty,
        d: u32,
        off: u32,
    },
    Atom {
        space: Space,
        op: AtomOp,
        ty: Ty,
        d: Option<u32>,
        addr: Addr,
        b: Src,
        c: Src,
    },
    Bra {
        target: u32,
    },
    Bar {
        count: Option<Src>,
    },
    Call(Box<Call>),
    Ret,
    Exit,
    Nop,
}

/// An instruction: its guard predicate (register, negated), PTX line and operation.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Instr {
    pub pred: Option<(u32, bool)>,
    pub line: u32,
    pub op: Op,
}
