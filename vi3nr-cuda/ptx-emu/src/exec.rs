//! The interpreter: blocks one after another; inside a block, each thread runs until it reaches
//! a barrier or exits, then the next thread; when all wait at the same barrier a new phase
//! begins.

mod convert;
mod float;
mod integer;

use convert::cvt;
use float::{f32get, fbin, fcmp, ffma, ftest, fun};
use integer::{atomic, icmp, int, int_un};

use crate::error::{Access, EmuError, Site};
use crate::inst::{BoolOp, FMode, IntOp, Op, Space, Src, Sreg, Ty, f16_value, mask, sext};
use crate::memory::{Fault, Global, Shared, mark};
use crate::parse::Program;

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

/// One launch in progress: the kernel, its memory and its shape.
pub(crate) struct KernelRun<'m> {
    pub program: &'m Program,
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
    program: &'m Program,
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

impl KernelRun<'_> {
    /// Runs every block to completion.
    pub fn run(self) -> Result<Counts, EmuError> {
        let KernelRun { program, entry, kernel, global, params, grid, block, shared_dyn, limit } =
            self;
        let mut template = program.shared_template.clone();
        mark(&mut template, program.dyn_base as usize, shared_dyn as usize);
        global.epoch += 1;
        let nthreads = block.iter().product::<u32>();
        let mut r = Runner {
            program,
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
        let nregs = program.funcs[entry as usize].nregs as usize;
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
        let program = self.program;
        'frames: loop {
            let fr = *t.frames.last().unwrap();
            let code = &program.funcs[fr.func as usize].code[..];
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
                    Op::Float { op, mode: FMode { ty, ftz, sat }, d, a, b } => {
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
                    Op::FloatUn { op, mode: FMode { ty, ftz, sat }, d, a } => {
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
                    Op::Fma { mode: FMode { ty, ftz, sat }, d, a, b, c } => {
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
                            Ty::F16 => fcmp(cmp, f16_value(a), f16_value(b)),
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
                        let callee = &program.funcs[c.func as usize];
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
                            program.funcs[caller.func as usize].code[caller.pc as usize - 1].op
                        else {
                            unreachable!("a frame returns to a call");
                        };
                        let callee = &program.funcs[done.func as usize];
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
