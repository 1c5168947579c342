//! PTX text to decoded functions: a tokenizer, a statement parser, then a decoder that resolves
//! names (registers, labels, functions, shared variables, parameters) to indices and addresses.
//!
//! Shared variables of a module (module scope and function scope) get one static layout with a
//! 128-byte guard gap before each variable, so an access that runs off one variable is out of
//! bounds rather than a silent read of its neighbour; `extern .shared` arrays all alias the
//! dynamic region after the static ones.

mod instructions;
mod lexer;
mod operands;
mod statements;

use std::collections::HashMap;

use instructions::decode;
use lexer::{perr, tokenize};
use operands::Ctx;
use statements::{Parser, RawFunc};

use crate::error::EmuError;
use crate::inst::{Instr, Op, Ty};

/// Guard gap before each shared variable, bytes.
const GUARD: u64 = 128;

/// An `.entry` parameter: name, type, size in bytes and offset in the parameter buffer.
#[derive(Clone, Debug)]
pub(crate) struct Param {
    pub name: String,
    pub ty: Ty,
    pub bytes: u32,
    pub off: u32,
}

/// A decoded `.entry` or `.func`.
#[derive(Debug)]
pub(crate) struct Func {
    pub name: String,
    pub entry: bool,
    pub nregs: u32,
    /// `.func` input parameters (register indices).
    pub params: Vec<u32>,
    /// `.func` return registers.
    pub rets: Vec<u32>,
    /// `.entry` parameters.
    pub entry_params: Vec<Param>,
    pub param_bytes: u32,
    pub reqntid: Option<[u32; 3]>,
    pub maxntid: Option<[u32; 3]>,
    pub code: Vec<Instr>,
}

/// A parsed and decoded PTX module: its functions and its shared-memory layout.
#[derive(Debug)]
pub(crate) struct Program {
    pub funcs: Vec<Func>,
    /// Shared-window byte states up to `dyn_base` (see [`crate::memory::Shared`]).
    pub shared_template: Vec<u8>,
    /// Start of the dynamic (`extern .shared`) region.
    pub dyn_base: u64,
}

/// Parses and decodes a module.
pub(crate) fn parse(src: &str) -> Result<Program, EmuError> {
    let lines: Vec<&str> = src.lines().collect();
    let toks = tokenize(src, &lines)?;
    let mut p =
        Parser { toks, pos: 0, lines: &lines, template: Vec::new(), cursor: 0, dyn_align: 16 };
    let mut raw: Vec<RawFunc> = Vec::new();
    let mut module_syms = HashMap::new();
    let mut external = false;
    while let Some(w) = p.peek() {
        match w {
            ".version" | ".target" | ".address_size" | ".file" | ".loc" => p.skip_line(),
            ".visible" | ".weak" => p.pos += 1,
            ".extern" => {
                p.pos += 1;
                external = true;
                continue;
            }
            ".entry" | ".func" => {
                p.pos += 1;
                let f = p.func(w == ".entry")?;
                match raw.iter_mut().find(|g| g.name == f.name) {
                    Some(g) if !g.has_body => *g = f,
                    Some(_) if !f.has_body => {}
                    Some(_) => {
                        return Err(perr(&lines, f.line, &format!("`{}` defined twice", f.name)));
                    }
                    None => raw.push(f),
                }
            }
            ".shared" => {
                p.pos += 1;
                let (n, s) = p.shared_decl(external)?;
                module_syms.insert(n, s);
            }
            ";" => p.pos += 1,
            _ => return Err(p.err(&format!("unsupported module-level statement `{w}`"))),
        }
        external = false;
    }
    let dyn_base = (p.cursor + GUARD).next_multiple_of(p.dyn_align);
    let mut template = std::mem::take(&mut p.template);
    template.resize(dyn_base as usize, 0);
    let funcs: HashMap<&str, u32> =
        raw.iter().enumerate().map(|(i, f)| (f.name, i as u32)).collect();
    let mut out = Vec::new();
    for f in &raw {
        if !f.has_body {
            return Err(perr(&lines, f.line, &format!("`{}` is declared but not defined", f.name)));
        }
        let mut params = Vec::new();
        let mut off = 0;
        if f.entry {
            for &(name, ty, bytes) in &f.params {
                off = u32::next_multiple_of(off, ty.bytes());
                params.push(Param { name: name.to_string(), ty, bytes, off });
                off += bytes;
            }
        }
        let ctx = Ctx {
            f,
            raw: &raw,
            funcs: &funcs,
            module_syms: &module_syms,
            dyn_base,
            params: &params,
        };
        let mut code = Vec::with_capacity(f.stmts.len() + 1);
        for st in &f.stmts {
            let e = |msg: String| perr(&lines, st.line, &msg);
            let op = decode(&ctx, st).map_err(e)?;
            let pred = match st.pred {
                Some((p, neg)) => Some((ctx.reg(p).map_err(e)?, neg)),
                None => None,
            };
            code.push(Instr { pred, line: st.line, op });
        }
        code.push(Instr { pred: None, line: f.end_line, op: Op::Ret });
        let reg_of = |n: &str| f.regs[n];
        out.push(Func {
            name: f.name.to_string(),
            entry: f.entry,
            nregs: f.regs.len() as u32,
            params: if f.entry {
                Vec::new()
            } else {
                f.params.iter().map(|p| reg_of(p.0)).collect()
            },
            rets: f.rets.iter().map(|r| reg_of(r.0)).collect(),
            entry_params: params,
            param_bytes: off,
            reqntid: f.reqntid,
            maxntid: f.maxntid,
            code,
        });
    }
    Ok(Program { funcs: out, shared_template: template, dyn_base })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inst::{Addr, Src};

    #[test]
    fn errors_name_the_line() {
        let src = ".version 7.0\n.target sm_80\n.address_size 64\n.visible .entry k()\n{\n\tfoo.u32 %r1;\n}\n";
        let e = parse(src).unwrap_err();
        assert!(matches!(e, EmuError::Parse { line: 6, .. }), "{e}");
        assert!(e.to_string().contains("unsupported instruction `foo.u32`"), "{e}");
        let e = parse(".entry k()\n{\n.reg .b32 %r;\nshfl.sync.bfly.b32 %r, %r, 1, 31, -1;\n}")
            .unwrap_err();
        assert!(e.to_string().contains("warp-level"), "{e}");
        let e = parse(".entry k()\n{\n.reg .b32 %r;\nld.u32 %r, [%r];\n}").unwrap_err();
        assert!(e.to_string().contains("generic-address"), "{e}");
    }

    #[test]
    fn declarations_and_shared_layout() {
        let src = "
.shared .align 16 .f32 tileA[16];
.visible .entry k(.param .u32 n, .param .u64 p) .maxntid 256, 1, 1
{
    .reg .b32 %r<4>;
    .reg .b64 %rd<2>;
    .shared .align 4 .b8 buf[5];
    .extern .shared .align 16 .b8 dyn[];
    { .reg .pred %q; }
    mov.u32 %r0, tileA;
    mov.u32 %r1, buf;
    mov.u32 %r2, dyn;
    ld.param.u64 %rd1, [p];
    ld.shared.v2.f32 {%r1, %r2}, [tileA+-8];
    st.shared.u32 [%r0-4], 0x10;
L: ret;
}";
        let m = parse(src).unwrap();
        let f = &m.funcs[0];
        assert_eq!(f.nregs, 7);
        assert_eq!(f.maxntid, Some([256, 1, 1]));
        assert_eq!(f.entry_params[1].off, 8);
        assert_eq!(f.param_bytes, 16);
        let imm = |i: usize| match f.code[i].op {
            Op::Mov { a: Src::Imm(a), .. } => a,
            ref o => panic!("{o:?}"),
        };
        assert_eq!(imm(0), 128);
        assert_eq!(imm(1), 128 + 64 + 128);
        assert_eq!(imm(2), m.dyn_base);
        assert!(m.dyn_base >= 128 + 64 + 128 + 5 + 128);
        assert_eq!(f.code[3].op, Op::LdParam { ty: Ty::U64, d: 5, off: 8 });
        let Op::Ld { n: 2, d: [1, 2, _, _], addr, .. } = f.code[4].op else { panic!() };
        assert_eq!(addr, Addr { base: Src::Imm(128), off: -8 });
        let Op::St { s: [Src::Imm(16), ..], addr, .. } = f.code[5].op else { panic!() };
        assert_eq!(addr, Addr { base: Src::Reg(0), off: -4 });
    }
}
