//! [`Emulator`]: loaded programs, device memory, and the launch checks (grid and block limits,
//! `.reqntid` / `.maxntid`, argument types) before a kernel runs.

use std::collections::HashMap;

use crate::error::EmuError;
use crate::exec::KernelRun;
use crate::inst::Ty;
use crate::memory::Global;
use crate::parse::Program;
use crate::{LaunchStats, ParamValue};

/// The interpreter: loaded PTX modules, decoded, and device memory.
pub struct Emulator {
    programs: Vec<Program>,
    kernels: HashMap<String, (usize, u32)>,
    global: Global,
    limit: u64,
}

impl Default for Emulator {
    fn default() -> Self {
        Self::new()
    }
}

/// The default per-launch instruction limit.
const DEFAULT_LIMIT: u64 = 1 << 36;

impl Emulator {
    /// An emulator with no modules and no memory.
    pub fn new() -> Self {
        Emulator {
            programs: Vec::new(),
            kernels: HashMap::new(),
            global: Global::default(),
            limit: DEFAULT_LIMIT,
        }
    }

    /// Parses a PTX module; its `.entry` kernels become launchable by name. Errors carry the
    /// line number and text.
    pub fn load(&mut self, ptx: &str) -> Result<(), EmuError> {
        let m = crate::parse::parse(ptx)?;
        let idx = self.programs.len();
        for (i, f) in m.funcs.iter().enumerate() {
            if f.entry && self.kernels.contains_key(&f.name) {
                return Err(EmuError::Launch {
                    kernel: f.name.clone(),
                    msg: "a loaded module already defines this kernel".into(),
                });
            }
            if f.entry {
                self.kernels.insert(f.name.clone(), (idx, i as u32));
            }
        }
        self.programs.push(m);
        Ok(())
    }

    /// Stops any later launch that runs more than `limit` instructions (default 2^36).
    pub fn set_instruction_limit(&mut self, limit: u64) {
        self.limit = limit;
    }

    /// A zeroed global allocation of `bytes` (under 4 GiB); returns its device address (never 0).
    pub fn alloc(&mut self, bytes: usize) -> u64 {
        self.global.alloc(bytes)
    }

    /// Frees the allocation starting at `addr`; an unknown address is ignored.
    pub fn free(&mut self, addr: u64) {
        self.global.free(addr);
    }

    /// Copies `data` to device memory at `addr` (which may be inside an allocation).
    pub fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), EmuError> {
        let dst = self
            .global
            .bytes_mut(addr, data.len())
            .ok_or(EmuError::HostAccess { addr, len: data.len() })?;
        dst.copy_from_slice(data);
        Ok(())
    }

    /// Copies device memory at `addr` into `out`.
    pub fn read(&self, addr: u64, out: &mut [u8]) -> Result<(), EmuError> {
        let src = self
            .global
            .bytes(addr, out.len())
            .ok_or(EmuError::HostAccess { addr, len: out.len() })?;
        out.copy_from_slice(src);
        Ok(())
    }

    /// Runs a kernel to completion: every block, every thread.
    pub fn launch(
        &mut self,
        kernel: &str,
        grid: [u32; 3],
        block: [u32; 3],
        shared_dyn_bytes: u32,
        args: &[ParamValue],
    ) -> Result<LaunchStats, EmuError> {
        let &(mi, fi) =
            self.kernels.get(kernel).ok_or_else(|| EmuError::UnknownKernel(kernel.into()))?;
        let program = &self.programs[mi];
        let f = &program.funcs[fi as usize];
        let bad = |msg: String| EmuError::Launch { kernel: kernel.into(), msg };
        let threads = u64::from(block[0]) * u64::from(block[1]) * u64::from(block[2]);
        if grid.contains(&0) || block.contains(&0) {
            return Err(bad(format!("empty grid {grid:?} or block {block:?}")));
        }
        let total = threads * grid.iter().map(|&g| u64::from(g)).product::<u64>();
        if threads > 1024 || block[2] > 64 || grid[1] > 65535 || grid[2] > 65535 {
            return Err(bad(format!("grid {grid:?} / block {block:?} exceed CUDA's limits")));
        }
        if total >= u64::from(u32::MAX) {
            return Err(bad(format!(
                "{total} threads: the interpreter numbers threads in 32 bits"
            )));
        }
        if f.reqntid.is_some_and(|r| r != block) {
            return Err(bad(format!("block {block:?} differs from .reqntid {:?}", f.reqntid)));
        }
        if f.maxntid.is_some_and(|m| threads > m.iter().map(|&x| u64::from(x)).product()) {
            return Err(bad(format!("block {block:?} exceeds .maxntid {:?}", f.maxntid)));
        }
        if shared_dyn_bytes > 227 * 1024 {
            return Err(bad(format!("{shared_dyn_bytes} bytes of dynamic shared memory")));
        }
        if args.len() != f.entry_params.len() {
            return Err(bad(format!(
                "{} arguments for {} parameters",
                args.len(),
                f.entry_params.len()
            )));
        }
        let mut params = vec![0u8; f.param_bytes as usize];
        for (a, p) in args.iter().zip(&f.entry_params) {
            let bytes: Vec<u8> = match (a, p.ty) {
                (ParamValue::U32(x), Ty::U32 | Ty::S32 | Ty::B32) => x.to_le_bytes().into(),
                (ParamValue::U64(x), Ty::U64 | Ty::S64 | Ty::B64) => x.to_le_bytes().into(),
                (ParamValue::F32(x), Ty::F32) => x.to_le_bytes().into(),
                _ => {
                    return Err(bad(format!(
                        "argument {a:?} for parameter `{}` ({:?})",
                        p.name, p.ty
                    )));
                }
            };
            if bytes.len() != p.bytes as usize {
                return Err(bad(format!("parameter `{}` is an array", p.name)));
            }
            params[p.off as usize..][..bytes.len()].copy_from_slice(&bytes);
        }
        let c = KernelRun {
            program,
            entry: fi,
            kernel,
            global: &mut self.global,
            params,
            grid,
            block,
            shared_dyn: shared_dyn_bytes,
            limit: self.limit,
        }
        .run()?;
        Ok(LaunchStats {
            instructions: c.instructions,
            blocks: c.blocks,
            threads: c.threads,
            barriers: c.phases,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Access, Space};

    const HEAD: &str = ".version 7.0\n.target sm_80\n.address_size 64\n";

    fn f32s(emu: &mut Emulator, v: &[f32]) -> u64 {
        let a = emu.alloc(4 * v.len());
        let b: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        emu.write(a, &b).unwrap();
        a
    }

    fn get(emu: &Emulator, a: u64, n: usize) -> Vec<f32> {
        let mut b = vec![0u8; 4 * n];
        emu.read(a, &mut b).unwrap();
        b.chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
    }

    fn emu(body: &str) -> Emulator {
        let mut e = Emulator::new();
        e.load(&format!("{HEAD}{body}")).unwrap_or_else(|e| panic!("{e}"));
        e
    }

    const VADD: &str = "
.visible .entry vadd(.param .u64 pa, .param .u64 pb, .param .u64 pc, .param .u32 pn)
{
    .reg .b32 %r<6>;
    .reg .b64 %rd<8>;
    .reg .f32 %f<4>;
    .reg .pred %p<2>;
    ld.param.u64 %rd1, [pa];
    ld.param.u64 %rd2, [pb];
    ld.param.u64 %rd3, [pc];
    ld.param.u32 %r1, [pn];
    mov.u32 %r2, %ctaid.x;
    mov.u32 %r3, %ntid.x;
    mov.u32 %r4, %tid.x;
    mad.lo.s32 %r5, %r2, %r3, %r4;
    setp.ge.u32 %p1, %r5, %r1;
    @%p1 bra DONE;
    mul.wide.u32 %rd4, %r5, 4;
    add.s64 %rd5, %rd1, %rd4;
    add.s64 %rd6, %rd2, %rd4;
    add.s64 %rd7, %rd3, %rd4;
    ld.global.nc.f32 %f1, [%rd5];
    ld.global.f32 %f2, [%rd6];
    add.rn.f32 %f3, %f1, %f2;
    st.global.f32 [%rd7], %f3;
DONE:
    ret;
}";

    #[test]
    fn vector_add() {
        let mut e = emu(VADD);
        let n = 300;
        let a: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let b: Vec<f32> = (0..n).map(|i| 0.5 * i as f32).collect();
        let (pa, pb, pc) = (f32s(&mut e, &a), f32s(&mut e, &b), e.alloc(4 * n));
        let args = [
            ParamValue::U64(pa),
            ParamValue::U64(pb),
            ParamValue::U64(pc),
            ParamValue::U32(n as u32),
        ];
        let s = e.launch("vadd", [3, 1, 1], [128, 1, 1], 0, &args).unwrap();
        assert_eq!(get(&e, pc, n), (0..n).map(|i| 1.5 * i as f32).collect::<Vec<_>>());
        assert_eq!(s.blocks, 3);
        assert!(s.instructions > 300 * 20, "{s:?}");
        // One element too many: the last thread reads past the allocation.
        let args = [
            ParamValue::U64(pa),
            ParamValue::U64(pb),
            ParamValue::U64(pc),
            ParamValue::U32(n as u32 + 1),
        ];
        let err = e.launch("vadd", [3, 1, 1], [128, 1, 1], 0, &args).unwrap_err();
        match &err {
            EmuError::OutOfBounds { site, space: Space::Global, addr, bytes: 4 } => {
                assert_eq!((site.block, site.thread), ([2, 0, 0], [44, 0, 0]));
                assert_eq!(*addr, pa + 4 * n as u64);
                assert_eq!(site.line, 25);
            }
            e => panic!("{e}"),
        }
        assert!(
            err.to_string().contains("kernel `vadd` block (2, 0, 0) thread (44, 0, 0)"),
            "{err}"
        );
        // Argument checking.
        let args =
            [ParamValue::U64(pa), ParamValue::U64(pb), ParamValue::U64(pc), ParamValue::F32(1.0)];
        assert!(matches!(e.launch("vadd", [1; 3], [1; 3], 0, &args), Err(EmuError::Launch { .. })));
        assert!(matches!(
            e.launch("nope", [1; 3], [1; 3], 0, &[]),
            Err(EmuError::UnknownKernel(_))
        ));
    }

    /// C = A * B (M x K times K x N), 16x16 tiles through shared memory.
    const MATMUL: &str = "
.visible .entry matmul(.param .u64 pA, .param .u64 pB, .param .u64 pC,
    .param .u32 pM, .param .u32 pN, .param .u32 pK)
.reqntid 16, 16, 1
{
    .shared .align 4 .f32 sA[256];
    .shared .align 4 .f32 sB[256];
    .reg .b64 %rdA, %rdB, %rdC, %ad;
    .reg .b32 %M, %N, %K, %tx, %ty, %row, %col, %k0, %kk, %i, %j, %sa, %sb, %o;
    .reg .f32 %acc, %a, %b;
    .reg .pred %p, %q, %loop;
    ld.param.u64 %rdA, [pA];
    ld.param.u64 %rdB, [pB];
    ld.param.u64 %rdC, [pC];
    ld.param.u32 %M, [pM];
    ld.param.u32 %N, [pN];
    ld.param.u32 %K, [pK];
    mov.u32 %tx, %tid.x;
    mov.u32 %ty, %tid.y;
    mov.u32 %row, %ctaid.y;
    mad.lo.u32 %row, %row, 16, %ty;
    mov.u32 %col, %ctaid.x;
    mad.lo.u32 %col, %col, 16, %tx;
    mov.f32 %acc, 0f00000000;
    mov.u32 %k0, 0;
    mad.lo.u32 %o, %ty, 16, %tx;
    shl.b32 %o, %o, 2;
TILE:
    // sA[ty][tx] = A[row, k0 + tx] (0 outside)
    add.u32 %i, %k0, %tx;
    setp.lt.u32 %p, %row, %M;
    setp.lt.and.u32 %p, %i, %K, %p;
    mov.f32 %a, 0f00000000;
    @!%p bra A_DONE;
    mad.lo.u32 %j, %row, %K, %i;
    mul.wide.u32 %ad, %j, 4;
    add.u64 %ad, %rdA, %ad;
    ld.global.f32 %a, [%ad];
A_DONE:
    mov.u32 %sa, sA;
    add.u32 %sa, %sa, %o;
    st.shared.f32 [%sa], %a;
    // sB[ty][tx] = B[k0 + ty, col]
    add.u32 %i, %k0, %ty;
    setp.lt.u32 %p, %col, %N;
    setp.lt.and.u32 %p, %i, %K, %p;
    mov.f32 %b, 0f00000000;
    @!%p bra B_DONE;
    mad.lo.u32 %j, %i, %N, %col;
    mul.wide.u32 %ad, %j, 4;
    add.u64 %ad, %rdB, %ad;
    ld.global.f32 %b, [%ad];
B_DONE:
    mov.u32 %sb, sB;
    add.u32 %sb, %sb, %o;
    st.shared.f32 [%sb], %b;
    bar.sync 0;
    mov.u32 %kk, 0;
INNER:
    shl.b32 %i, %ty, 4;
    add.u32 %i, %i, %kk;
    shl.b32 %i, %i, 2;
    ld.shared.f32 %a, [sA+0];
    mov.u32 %sa, sA;
    add.u32 %sa, %sa, %i;
    ld.shared.f32 %a, [%sa];
    shl.b32 %i, %kk, 4;
    add.u32 %i, %i, %tx;
    shl.b32 %i, %i, 2;
    mov.u32 %sb, sB;
    add.u32 %sb, %sb, %i;
    ld.shared.f32 %b, [%sb];
    fma.rn.f32 %acc, %a, %b, %acc;
    add.u32 %kk, %kk, 1;
    setp.lt.u32 %loop, %kk, 16;
    @%loop bra INNER;
    bar.sync 0;
    add.u32 %k0, %k0, 16;
    setp.lt.u32 %loop, %k0, %K;
    @%loop bra TILE;
    setp.lt.u32 %p, %row, %M;
    setp.lt.and.u32 %p, %col, %N, %p;
    @!%p bra DONE;
    mad.lo.u32 %j, %row, %N, %col;
    mul.wide.u32 %ad, %j, 4;
    add.u64 %ad, %rdC, %ad;
    st.global.f32 [%ad], %acc;
DONE:
    ret;
}";

    fn matmul(src: &str, m: usize, n: usize, k: usize) -> Result<(), EmuError> {
        let mut e = emu(src);
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32 - 6.0) * 0.25).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 11) as f32 - 5.0) * 0.5).collect();
        let (pa, pb, pc) = (f32s(&mut e, &a), f32s(&mut e, &b), e.alloc(4 * m * n));
        let args = [pa, pb, pc].map(ParamValue::U64);
        let args = [&args[..], &[m, n, k].map(|x| ParamValue::U32(x as u32))].concat();
        let grid = [n.div_ceil(16) as u32, m.div_ceil(16) as u32, 1];
        let s = e.launch("matmul", grid, [16, 16, 1], 0, &args)?;
        assert_eq!(s.barriers, 2 * k.div_ceil(16) as u64 * u64::from(grid[0] * grid[1]));
        let c = get(&e, pc, m * n);
        for i in 0..m {
            for j in 0..n {
                let mut acc = 0f32;
                for l in 0..k {
                    acc = a[i * k + l].mul_add(b[l * n + j], acc);
                }
                assert_eq!(c[i * n + j], acc, "C[{i}, {j}]");
            }
        }
        Ok(())
    }

    #[test]
    fn tiled_matmul_matches_naive_product() {
        for (m, n, k) in [(16, 16, 16), (5, 7, 3), (33, 17, 40)] {
            matmul(MATMUL, m, n, k).unwrap_or_else(|e| panic!("{m}x{n}x{k}: {e}"));
        }
    }

    #[test]
    fn missing_barrier_is_a_shared_race() {
        // Without the second bar.sync, the next tile's stores race with this tile's reads.
        let racy = MATMUL.replacen("    bar.sync 0;\n    add.u32 %k0", "    add.u32 %k0", 1);
        let err = matmul(&racy, 20, 20, 40).unwrap_err();
        match &err {
            EmuError::Race { space: Space::Shared, first, second, .. } => {
                assert!(first.1 == Access::Write || second.1 == Access::Write);
                assert_ne!(first.0.thread, second.0.thread);
            }
            e => panic!("{e}"),
        }
        assert!(err.to_string().contains("shared-memory race"), "{err}");
    }

    #[test]
    fn barrier_errors() {
        // Odd threads exit early.
        let src = "
.visible .entry k()
{
    .reg .b32 %r;
    .reg .pred %p;
    mov.u32 %r, %tid.x;
    and.b32 %r, %r, 1;
    setp.eq.u32 %p, %r, 1;
    @%p bra OUT;
    bar.sync 0;
OUT:
    ret;
}";
        let mut e = emu(src);
        let err = e.launch("k", [1; 3], [4, 1, 1], 0, &[]).unwrap_err();
        assert!(matches!(err, EmuError::ExitedAtBarrier { .. }), "{err}");
        // Divergent barriers.
        let src = src.replace("OUT:\n    ret;", "    ret;\nOUT:\n    bar.sync 0;\n    ret;");
        let mut e = emu(&src);
        let err = e.launch("k", [1; 3], [4, 1, 1], 0, &[]).unwrap_err();
        assert!(matches!(err, EmuError::DivergentBarrier { .. }), "{err}");
    }

    #[test]
    fn shared_memory_is_poisoned_and_bounded() {
        let src = "
.visible .entry k(.param .u32 pi)
{
    .shared .align 4 .f32 s[8];
    .reg .b32 %i;
    .reg .f32 %f;
    ld.param.u32 %i, [pi];
    st.shared.f32 [s+4], %f;
    shl.b32 %i, %i, 2;
    ld.shared.f32 %f, [s+%i];
    ret;
}";
        // `[s+%i]` is not PTX: the parser rejects it.
        let mut e = Emulator::new();
        assert!(matches!(e.load(&format!("{HEAD}{src}")), Err(EmuError::Parse { line: 13, .. })));
        let src = src.replace(
            "    ld.shared.f32 %f, [s+%i];",
            "    add.u32 %i, %i, s;\n    ld.shared.f32 %f, [%i];",
        );
        let mut e = emu(&src);
        e.launch("k", [1; 3], [1; 3], 0, &[ParamValue::U32(1)]).unwrap();
        let err = e.launch("k", [1; 3], [1; 3], 0, &[ParamValue::U32(2)]).unwrap_err();
        assert!(matches!(err, EmuError::UninitializedShared { .. }), "{err}");
        let err = e.launch("k", [1; 3], [1; 3], 0, &[ParamValue::U32(8)]).unwrap_err();
        assert!(matches!(err, EmuError::OutOfBounds { space: Space::Shared, .. }), "{err}");
    }

    #[test]
    fn global_races_and_atomics() {
        let src = "
.visible .entry k(.param .u64 p, .param .u32 mode)
{
    .reg .b64 %rd;
    .reg .b32 %m, %t;
    .reg .f32 %f;
    .reg .pred %atom, %rd_only;
    ld.param.u64 %rd, [p];
    ld.param.u32 %m, [mode];
    mov.u32 %t, %tid.x;
    cvt.rn.f32.u32 %f, %t;
    setp.eq.u32 %atom, %m, 1;
    setp.eq.u32 %rd_only, %m, 2;
    @%atom red.global.add.f32 [%rd], %f;
    @%atom bra DONE;
    @%rd_only bra READ;
    st.global.f32 [%rd], %f;
    bra DONE;
READ:
    ld.global.f32 %f, [%rd];
DONE:
    ret;
}";
        let mut e = emu(src);
        let p = e.alloc(4);
        let err = e
            .launch("k", [1; 3], [8, 1, 1], 0, &[ParamValue::U64(p), ParamValue::U32(0)])
            .unwrap_err();
        match &err {
            EmuError::Race { space: Space::Global, addr, first, second } => {
                assert_eq!(*addr, p);
                assert_eq!((first.0.thread[0], second.0.thread[0]), (0, 1));
            }
            e => panic!("{e}"),
        }
        e.launch("k", [1; 3], [8, 1, 1], 0, &[ParamValue::U64(p), ParamValue::U32(1)]).unwrap();
        assert_eq!(get(&e, p, 1), [28.0]);
        e.launch("k", [2, 1, 1], [8, 1, 1], 0, &[ParamValue::U64(p), ParamValue::U32(2)]).unwrap();
    }

    #[test]
    fn functions_vectors_and_conversions() {
        let src = "
.func (.reg .f32 s, .reg .f32 d) twice(.reg .f32 x, .reg .u32 k)
{
    .reg .f32 %t;
    cvt.rn.f32.u32 %t, k;
    add.f32 s, x, x;
    @%p_unused bra SKIP;
SKIP:
    mul.f32 d, x, %t;
    ret;
}
.visible .entry k(.param .u64 p)
{
    .reg .b64 %rd;
    .reg .f32 %a, %b, %c, %e;
    .reg .b32 %r, %n;
    .reg .s32 %i;
    ld.param.u64 %rd, [p];
    ld.global.v4.f32 {%a, %b, %c, %e}, [%rd];
    call.uni (%a, %b), twice, (%c, 3);
    cvt.rni.s32.f32 %i, %e;
    cvt.rn.f32.s32 %e, %i;
    sub.f32 %c, 0f00000000, 1.5;
    max.s32 %i, %i, -7;
    mov.u32 %n, 0;
LOOP:
    add.u32 %n, %n, 1;
    setp.lt.u32 %p_unused, %n, 10;
    @%p_unused bra LOOP;
    cvt.rn.f32.u32 %c, %n;
    st.global.v4.f32 [%rd+16], {%a, %b, %c, %e};
    ret;
}";
        let src = src.replace("    .reg .f32 %t;", "    .reg .f32 %t;\n    .reg .pred %p_unused;");
        let src = src.replace("    .reg .s32 %i;", "    .reg .s32 %i;\n    .reg .pred %p_unused;");
        let mut e = emu(&src);
        let p = f32s(&mut e, &[0.0, 0.0, 2.0, -2.5, 9.0, 9.0, 9.0, 9.0]);
        e.launch("k", [1; 3], [1; 3], 0, &[ParamValue::U64(p)]).unwrap();
        assert_eq!(get(&e, p + 16, 4), [4.0, 6.0, 10.0, -2.0]);
        // Vector access alignment.
        let err = e.launch("k", [1; 3], [1; 3], 0, &[ParamValue::U64(p + 4)]).unwrap_err();
        assert!(matches!(err, EmuError::Misaligned { bytes: 16, .. }), "{err}");
    }

    #[test]
    fn instruction_limit_stops_runaway_loops() {
        let mut e = emu(".visible .entry k()\n{\nL:\n    bra L;\n}");
        e.set_instruction_limit(1000);
        let err = e.launch("k", [1; 3], [1; 3], 0, &[]).unwrap_err();
        assert!(matches!(err, EmuError::InstructionLimit { .. }), "{err}");
    }
}
