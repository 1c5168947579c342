//! The interpreter: blocks one after another; inside a block, each thread runs until it reaches
//! a barrier or exits, then the next thread; when all wait at the same barrier a new phase
//! begins.

use std::cmp::Ordering;
use std::ops::{Add, Div, Mul, Neg, Sub};

use super::error::{Access, EmuError, Site};
use super::inst::{
    AtomOp, BoolOp, Cmp, FOp, FUn, IntOp, IntUn, Op, Rnd, Space, Src, Sreg, Test, Ty, mask, sext,
};
use super::memory::{Fault, Global, Shared, mark};
use super::parse::Module;

/// Nested calls allowed per thread.
const MAX_DEPTH: usize = 64;

/// What a launch did.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Counts {
    pub instructions: u64,
    pub blocks: u64,
    pub threads: u64,
    pub phases: u64,
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    func: u32,
    pc: u32,
    base: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Running,
    Waiting { func: u32, pc: u32, line: u32 },
    Exited { line: u32 },
}

struct Thread {
    regs: Vec<u64>,
    frames: Vec<Frame>,
    tid: [u32; 3],
    linear: u32,
    state: State,
}

/// One launch: the kernel, its memory and its shape.
pub(crate) struct Launch<'m> {
    pub module: &'m Module,
    pub entry: u32,
    pub kernel: &'m str,
    pub global: &'m mut Global,
    pub params: Vec<u8>,
    pub grid: [u32; 3],
    pub block: [u32; 3],
    pub shared_dyn: u32,
    pub limit: u64,
}

struct Runner<'m> {
    module: &'m Module,
    kernel: &'m str,
    global: &'m mut Global,
    params: Vec<u8>,
    grid: [u32; 3],
    block: [u32; 3],
    nthreads: u32,
    ctaid: [u32; 3],
    block_linear: u32,
    shared: Shared,
    count: u64,
    limit: u64,
}

impl Launch<'_> {
    /// Runs every block to completion.
    pub fn run(self) -> Result<Counts, EmuError> {
        let Launch { module, entry, kernel, global, params, grid, block, shared_dyn, limit } = self;
        let mut template = module.shared_template.clone();
        mark(&mut template, module.dyn_base as usize, shared_dyn as usize);
        global.epoch += 1;
        let nthreads = block.iter().product::<u32>();
        let mut r = Runner {
            module,
            kernel,
            global,
            params,
            grid,
            block,
            nthreads,
            ctaid: [0; 3],
            block_linear: 0,
            shared: Shared::new(&template),
            count: 0,
            limit,
        };
        let nregs = module.funcs[entry as usize].nregs as usize;
        let mut threads: Vec<Thread> = (0..nthreads)
            .map(|i| Thread {
                regs: Vec::with_capacity(nregs),
                frames: Vec::new(),
                tid: [i % block[0], i / block[0] % block[1], i / (block[0] * block[1])],
                linear: i,
                state: State::Running,
            })
            .collect();
        let mut counts = Counts { threads: u64::from(nthreads), ..Counts::default() };
        for bz in 0..grid[2] {
            for by in 0..grid[1] {
                for bx in 0..grid[0] {
                    r.ctaid = [bx, by, bz];
                    r.block_linear = bx + grid[0] * (by + grid[1] * bz);
                    if counts.blocks > 0 {
                        r.shared.reset(&template);
                    }
                    for t in &mut threads {
                        t.regs.clear();
                        t.regs.resize(nregs, 0);
                        t.frames.clear();
                        t.frames.push(Frame { func: entry, pc: 0, base: 0 });
                        t.state = State::Running;
                    }
                    counts.phases += r.block(&mut threads)?;
                    counts.blocks += 1;
                }
            }
        }
        counts.threads *= counts.blocks;
        counts.instructions = r.count;
        Ok(counts)
    }
}

impl Runner<'_> {
    /// Runs one block; returns the number of barrier phases it completed.
    fn block(&mut self, threads: &mut [Thread]) -> Result<u64, EmuError> {
        let mut phases = 0;
        loop {
            for t in threads.iter_mut() {
                if t.state == State::Running {
                    t.state = self.thread(t)?;
                }
            }
            let mut waiting: Option<&Thread> = None;
            let mut exited: Option<&Thread> = None;
            for t in threads.iter() {
                match t.state {
                    State::Waiting { func, pc, .. } => match waiting {
                        Some(w) => {
                            if let State::Waiting { func: f, pc: p, .. } = w.state
                                && (f, p) != (func, pc)
                            {
                                return Err(EmuError::DivergentBarrier {
                                    first: self.site_at(w),
                                    second: self.site_at(t),
                                });
                            }
                        }
                        None => waiting = Some(t),
                    },
                    State::Exited { .. } => {
                        exited.get_or_insert(t);
                    }
                    State::Running => unreachable!("every thread ran to a stop"),
                }
            }
            match (waiting, exited) {
                (None, _) => return Ok(phases),
                (Some(w), Some(e)) => {
                    return Err(EmuError::ExitedAtBarrier {
                        exited: self.site_at(e),
                        waiting: self.site_at(w),
                    });
                }
                (Some(_), None) => {
                    phases += 1;
                    self.shared.phase += 1;
                    for t in threads.iter_mut() {
                        t.state = State::Running;
                    }
                }
            }
        }
    }

    fn site(&self, tid: [u32; 3], line: u32) -> Site {
        Site { kernel: self.kernel.to_string(), block: self.ctaid, thread: tid, line }
    }

    /// The site of a stopped thread (the line it stopped at).
    fn site_at(&self, t: &Thread) -> Site {
        let line = match t.state {
            State::Waiting { line, .. } | State::Exited { line } => line,
            State::Running => 0,
        };
        self.site(t.tid, line)
    }

    /// The site of a launch-wide linear thread id.
    fn site_of(&self, gid: u32, line: u32) -> Site {
        let (b, t) = (gid / self.nthreads, gid % self.nthreads);
        let [gx, gy, _] = self.grid;
        let [bx, by, _] = self.block;
        Site {
            kernel: self.kernel.to_string(),
            block: [b % gx, b / gx % gy, b / (gx * gy)],
            thread: [t % bx, t / bx % by, t / (bx * by)],
            line,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn fault(
        &self,
        t: &Thread,
        line: u32,
        space: Space,
        addr: u64,
        bytes: u32,
        write: bool,
        f: Fault,
    ) -> EmuError {
        let site = self.site(t.tid, line);
        match f {
            Fault::OutOfBounds => EmuError::OutOfBounds { site, space, addr, bytes },
            Fault::Uninitialized => EmuError::UninitializedShared { site, addr },
            Fault::Race(c) => {
                let kind = |w| if w { Access::Write } else { Access::Read };
                EmuError::Race {
                    space,
                    addr: c.addr,
                    first: Box::new((self.site_of(c.thread, c.line), kind(c.wrote))),
                    second: Box::new((site, kind(write))),
                }
            }
        }
    }

    #[inline]
    fn sreg(&self, t: &Thread, s: Sreg) -> u64 {
        u64::from(match s {
            Sreg::Tid(i) => t.tid[i as usize],
            Sreg::Ntid(i) => self.block[i as usize],
            Sreg::Ctaid(i) => self.ctaid[i as usize],
            Sreg::Nctaid(i) => self.grid[i as usize],
            Sreg::Laneid => t.linear % 32,
            Sreg::Warpid => t.linear / 32,
        })
    }

    fn gid(&self, t: &Thread) -> u32 {
        self.block_linear * self.nthreads + t.linear
    }

    #[inline]
    fn load(
        &mut self,
        t: &Thread,
        space: Space,
        addr: u64,
        bytes: u32,
        line: u32,
    ) -> Result<u64, EmuError> {
        let gid = self.gid(t);
        let r = match space {
            Space::Global => self.global.load(addr, bytes as usize, gid, line),
            Space::Shared => self.shared.load(addr, bytes as usize, gid, line),
        };
        r.map_err(|f| self.fault(t, line, space, addr, bytes, false, f))
    }

    #[inline]
    #[allow(clippy::too_many_arguments)]
    fn store(
        &mut self,
        t: &Thread,
        space: Space,
        addr: u64,
        bytes: u32,
        v: u64,
        line: u32,
    ) -> Result<(), EmuError> {
        let gid = self.gid(t);
        let r = match space {
            Space::Global => self.global.store(addr, bytes as usize, v, gid, line),
            Space::Shared => self.shared.store(addr, bytes as usize, v, gid, line),
        };
        r.map_err(|f| self.fault(t, line, space, addr, bytes, true, f))
    }

    fn aligned(
        &self,
        t: &Thread,
        space: Space,
        addr: u64,
        bytes: u32,
        line: u32,
    ) -> Result<(), EmuError> {
        if addr.is_multiple_of(u64::from(bytes)) {
            Ok(())
        } else {
            Err(EmuError::Misaligned { site: self.site(t.tid, line), space, addr, bytes })
        }
    }

    /// Runs thread `t` until it waits at a barrier or exits.
    fn thread(&mut self, t: &mut Thread) -> Result<State, EmuError> {
        let module = self.module;
        'frames: loop {
            let fr = *t.frames.last().unwrap();
            let code = &module.funcs[fr.func as usize].code[..];
            let base = fr.base as usize;
            let mut pc = fr.pc as usize;
            loop {
                let ins = &code[pc];
                pc += 1;
                self.count += 1;
                if let Some((p, neg)) = ins.pred
                    && (t.regs[base + p as usize] != 0) == neg
                {
                    continue;
                }
                macro_rules! v {
                    ($s:expr) => {
                        match $s {
                            Src::Reg(r) => t.regs[base + r as usize],
                            Src::Imm(x) => x,
                            Src::Sreg(s) => self.sreg(t, s),
                        }
                    };
                }
                macro_rules! set {
                    ($d:expr, $v:expr) => {{
                        let v = $v;
                        t.regs[base + $d as usize] = v;
                    }};
                }
                match ins.op {
                    Op::Mov { d, a } => set!(d, v!(a)),
                    Op::Int { op, ty, d, a, b } => set!(d, int(op, ty, v!(a), v!(b))),
                    Op::IntUn { op, ty, d, a } => set!(d, int_un(op, ty, v!(a))),
                    Op::Wide { signed, bits, d, a, b, c } => {
                        let (a, b) = (v!(a), v!(b));
                        let p = if signed {
                            sext(a, bits).wrapping_mul(sext(b, bits)) as u64
                        } else {
                            (a & mask(bits)).wrapping_mul(b & mask(bits))
                        };
                        let c = match c {
                            Some(c) => v!(c),
                            None => 0,
                        };
                        set!(d, p.wrapping_add(c) & mask(2 * bits))
                    }
                    Op::Mad { hi, ty, d, a, b, c } => {
                        let p = int(if hi { IntOp::MulHi } else { IntOp::MulLo }, ty, v!(a), v!(b));
                        set!(d, p.wrapping_add(v!(c)) & mask(ty.bits()))
                    }
                    Op::Float { op, ty, ftz, sat, d, a, b } => {
                        let (a, b) = (v!(a), v!(b));
                        set!(
                            d,
                            if ty == Ty::F64 {
                                fbin::<f64>(op, a, b, ftz, sat)
                            } else {
                                fbin::<f32>(op, a, b, ftz, sat)
                            }
                        )
                    }
                    Op::FloatUn { op, ty, ftz, sat, d, a } => {
                        let a = v!(a);
                        set!(
                            d,
                            if ty == Ty::F64 {
                                fun::<f64>(op, a, ftz, sat)
                            } else {
                                fun::<f32>(op, a, ftz, sat)
                            }
                        )
                    }
                    Op::Fma { ty, ftz, sat, d, a, b, c } => {
                        let (a, b, c) = (v!(a), v!(b), v!(c));
                        set!(
                            d,
                            if ty == Ty::F64 {
                                ffma::<f64>(a, b, c, ftz, sat)
                            } else {
                                ffma::<f32>(a, b, c, ftz, sat)
                            }
                        )
                    }
                    Op::Setp { cmp, ty, ftz, d, dn, a, b, comb } => {
                        let (a, b) = (v!(a), v!(b));
                        let r = match ty {
                            Ty::F32 => fcmp(cmp, f32get(a, ftz), f32get(b, ftz)),
                            Ty::F64 => fcmp(cmp, f64::from_bits(a), f64::from_bits(b)),
                            Ty::F16 => fcmp(cmp, f16_to_f32(a as u16), f16_to_f32(b as u16)),
                            _ => icmp(cmp, ty, a, b),
                        };
                        let (mut p, mut q) = (r, !r);
                        if let Some((bop, c, neg)) = comb {
                            let c = (v!(c) != 0) != neg;
                            let f = |x: bool| match bop {
                                BoolOp::And => x && c,
                                BoolOp::Or => x || c,
                                BoolOp::Xor => x != c,
                            };
                            (p, q) = (f(p), f(q));
                        }
                        set!(d, u64::from(p));
                        if let Some(dn) = dn {
                            set!(dn, u64::from(q));
                        }
                    }
                    Op::Selp { d, a, b, p } => {
                        let r = if v!(p) != 0 { v!(a) } else { v!(b) };
                        set!(d, r)
                    }
                    Op::Testp { test, ty, d, a } => {
                        let a = v!(a);
                        let r = if ty == Ty::F64 {
                            ftest(test, f64::from_bits(a))
                        } else {
                            ftest(test, f32::from_bits(a as u32))
                        };
                        set!(d, u64::from(r))
                    }
                    Op::Cvt { dt, st, rnd, ftz, sat, d, a } => {
                        set!(d, cvt(dt, st, rnd, ftz, sat, v!(a)))
                    }
                    Op::LdParam { ty, d, off } => {
                        let mut b = [0u8; 8];
                        let n = ty.bytes() as usize;
                        b[..n].copy_from_slice(&self.params[off as usize..off as usize + n]);
                        set!(d, u64::from_le_bytes(b))
                    }
                    Op::Ld { space, ty, n, d, addr } => {
                        let a = v!(addr.base).wrapping_add(addr.off as u64);
                        let bytes = ty.bytes();
                        self.aligned(t, space, a, bytes * u32::from(n), ins.line)?;
                        for (i, &d) in d.iter().enumerate().take(n as usize) {
                            let x = self.load(
                                t,
                                space,
                                a + (i as u64) * u64::from(bytes),
                                bytes,
                                ins.line,
                            )?;
                            let x = if ty.signed() { sext(x, ty.bits()) as u64 } else { x };
                            set!(d, x);
                        }
                    }
                    Op::St { space, ty, n, s, addr } => {
                        let a = v!(addr.base).wrapping_add(addr.off as u64);
                        let bytes = ty.bytes();
                        self.aligned(t, space, a, bytes * u32::from(n), ins.line)?;
                        for (i, &s) in s.iter().enumerate().take(n as usize) {
                            let x = v!(s);
                            self.store(
                                t,
                                space,
                                a + (i as u64) * u64::from(bytes),
                                bytes,
                                x,
                                ins.line,
                            )?;
                        }
                    }
                    Op::Atom { space, op, ty, d, addr, b, c } => {
                        let a = v!(addr.base).wrapping_add(addr.off as u64);
                        let bytes = ty.bytes();
                        self.aligned(t, space, a, bytes, ins.line)?;
                        let (b, c) = (v!(b), v!(c));
                        let f = |old| atomic(op, ty, old, b, c);
                        let r = match space {
                            Space::Global => self.global.atomic(a, bytes as usize, f),
                            Space::Shared => self.shared.atomic(a, bytes as usize, f),
                        };
                        let old =
                            r.map_err(|f| self.fault(t, ins.line, space, a, bytes, true, f))?;
                        if let Some(d) = d {
                            set!(d, old);
                        }
                    }
                    Op::Bra { target } => {
                        pc = target as usize;
                        if self.count > self.limit {
                            return Err(EmuError::InstructionLimit {
                                kernel: self.kernel.to_string(),
                                limit: self.limit,
                            });
                        }
                    }
                    Op::Bar { count } => {
                        if let Some(c) = count
                            && v!(c) != u64::from(self.nthreads)
                        {
                            return Err(EmuError::Unsupported {
                                site: self.site(t.tid, ins.line),
                                msg: "bar.sync with a thread count other than the block's".into(),
                            });
                        }
                        t.frames.last_mut().unwrap().pc = pc as u32;
                        return Ok(State::Waiting {
                            func: fr.func,
                            pc: pc as u32 - 1,
                            line: ins.line,
                        });
                    }
                    Op::Call(ref c) => {
                        if t.frames.len() >= MAX_DEPTH {
                            return Err(EmuError::CallDepth(self.site(t.tid, ins.line)));
                        }
                        let callee = &module.funcs[c.func as usize];
                        let nb = t.regs.len();
                        t.regs.resize(nb + callee.nregs as usize, 0);
                        for (&a, &p) in c.args.iter().zip(&callee.params) {
                            let x = v!(a);
                            t.regs[nb + p as usize] = x;
                        }
                        t.frames.last_mut().unwrap().pc = pc as u32;
                        t.frames.push(Frame { func: c.func, pc: 0, base: nb as u32 });
                        continue 'frames;
                    }
                    Op::Ret => {
                        if t.frames.len() == 1 {
                            return Ok(State::Exited { line: ins.line });
                        }
                        let done = t.frames.pop().unwrap();
                        let caller = *t.frames.last().unwrap();
                        let Op::Call(ref c) =
                            module.funcs[caller.func as usize].code[caller.pc as usize - 1].op
                        else {
                            unreachable!("a frame returns to a call");
                        };
                        let callee = &module.funcs[done.func as usize];
                        for (&d, &r) in c.rets.iter().zip(&callee.rets) {
                            t.regs[caller.base as usize + d as usize] =
                                t.regs[done.base as usize + r as usize];
                        }
                        t.regs.truncate(done.base as usize);
                        continue 'frames;
                    }
                    Op::Exit => return Ok(State::Exited { line: ins.line }),
                    Op::Nop => {}
                }
            }
        }
    }
}

/// Two-operand integer arithmetic at the width and signedness of `ty`.
fn int(op: IntOp, ty: Ty, a: u64, b: u64) -> u64 {
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

fn int_un(op: IntUn, ty: Ty, a: u64) -> u64 {
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

fn icmp(cmp: Cmp, ty: Ty, a: u64, b: u64) -> bool {
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

/// The float operations the interpreter needs, for `f32` and `f64`.
trait Fp:
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

macro_rules! fp_methods {
    ($t:ty) => {
        const ZERO: $t = 0.0;
        const ONE: $t = 1.0;
        fn is_subnormal(self) -> bool {
            <$t>::is_subnormal(self)
        }
        fn is_nan(self) -> bool {
            <$t>::is_nan(self)
        }
        fn is_finite(self) -> bool {
            <$t>::is_finite(self)
        }
        fn is_infinite(self) -> bool {
            <$t>::is_infinite(self)
        }
        fn is_normal(self) -> bool {
            <$t>::is_normal(self)
        }
        fn copysign(self, s: $t) -> $t {
            <$t>::copysign(self, s)
        }
        fn abs(self) -> $t {
            <$t>::abs(self)
        }
        fn sqrt(self) -> $t {
            <$t>::sqrt(self)
        }
        fn exp2(self) -> $t {
            <$t>::exp2(self)
        }
        fn log2(self) -> $t {
            <$t>::log2(self)
        }
        fn sin(self) -> $t {
            <$t>::sin(self)
        }
        fn cos(self) -> $t {
            <$t>::cos(self)
        }
        fn tanh(self) -> $t {
            <$t>::tanh(self)
        }
        fn mul_add(self, b: $t, c: $t) -> $t {
            <$t>::mul_add(self, b, c)
        }
        fn min(self, b: $t) -> $t {
            <$t>::min(self, b)
        }
        fn max(self, b: $t) -> $t {
            <$t>::max(self, b)
        }
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
fn flush<F: Fp>(x: F, ftz: bool) -> F {
    if ftz && x.is_subnormal() { F::ZERO.copysign(x) } else { x }
}

#[inline]
fn get<F: Fp>(v: u64, ftz: bool) -> F {
    flush(F::from_reg(v), ftz)
}

fn f32get(v: u64, ftz: bool) -> f32 {
    get(v, ftz)
}

#[inline]
fn fin<F: Fp>(x: F, ftz: bool, sat: bool) -> u64 {
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
fn fbin<F: Fp>(op: FOp, a: u64, b: u64, ftz: bool, sat: bool) -> u64 {
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
fn fun<F: Fp>(op: FUn, a: u64, ftz: bool, sat: bool) -> u64 {
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
fn ffma<F: Fp>(a: u64, b: u64, c: u64, ftz: bool, sat: bool) -> u64 {
    let r = get::<F>(a, ftz).mul_add(get(b, ftz), get(c, ftz));
    fin(r, ftz, sat)
}

fn fcmp<F: Fp>(cmp: Cmp, a: F, b: F) -> bool {
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

fn ftest<F: Fp>(test: Test, x: F) -> bool {
    match test {
        Test::Finite => x.is_finite(),
        Test::Infinite => x.is_infinite(),
        Test::Number => !x.is_nan(),
        Test::NotANumber => x.is_nan(),
        Test::Normal => x.is_normal(),
        Test::Subnormal => x.is_subnormal(),
    }
}

/// A float register of type `ty` as `f64`.
fn as_f64(ty: Ty, v: u64, ftz: bool) -> f64 {
    match ty {
        Ty::F64 => f64::from_bits(v),
        Ty::F16 => f64::from(f16_to_f32(v as u16)),
        _ => f64::from(f32get(v, ftz)),
    }
}

/// The integer range of `ty`.
fn range(ty: Ty) -> (i128, i128) {
    let bits = ty.bits();
    if ty.signed() {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, (1i128 << bits) - 1)
    }
}

fn cvt(dt: Ty, st: Ty, rnd: Rnd, ftz: bool, sat: bool, a: u64) -> u64 {
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
                _ => u64::from(f32_to_f16(if st.signed() { s as f32 } else { u as f32 })),
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
                _ => u64::from(f32_to_f16(x as f32)),
            }
        }
    }
}

fn atomic(op: AtomOp, ty: Ty, old: u64, b: u64, c: u64) -> u64 {
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

/// `f32` to IEEE half bits, rounding to nearest even.
pub(crate) fn f32_to_f16(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xff) as i32;
    let man = b & 0x7f_ffff;
    if exp == 0xff {
        return sign | 0x7c00 | if man != 0 { 0x200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    let (half, rem, mid) = if e <= 0 {
        if e < -10 {
            return sign;
        }
        let m = man | 0x80_0000;
        let shift = (14 - e) as u32;
        (m >> shift, m & ((1 << shift) - 1), 1 << (shift - 1))
    } else {
        (((e as u32) << 10) | (man >> 13), man & 0x1fff, 0x1000)
    };
    let r = if rem > mid || (rem == mid && half & 1 == 1) { half + 1 } else { half };
    sign | r as u16
}

/// IEEE half bits to `f32` (exact).
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let neg = h & 0x8000 != 0;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    let v = match exp {
        0 => man as f32 * (-24f32).exp2(),
        0x1f => f32::from_bits(0x7f80_0000 | (man << 13)),
        _ => f32::from_bits(((exp + 112) << 23) | (man << 13)),
    };
    if neg { -v } else { v }
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
            let h = f32_to_f16(x);
            assert!((f16_to_f32(h) - x).abs() <= x.abs() * 1e-3 + 6e-8, "{x} -> {h:#x}");
        }
        assert_eq!(f32_to_f16(1.0), 0x3c00);
        assert_eq!(f32_to_f16(1e6), 0x7c00);
    }

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
