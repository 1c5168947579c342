//! The statement parser: module-level declarations, function signatures (`.param` and `.reg`
//! parameter lists, `.reqntid` / `.maxntid`), bodies (`.reg` and `.shared` declarations,
//! labels, scopes) and each instruction statement as its opcode, guard and operands as written.

use std::collections::HashMap;

use super::GUARD;
use super::lexer::{Tok, perr, word_char};
use super::operands::literal;
use crate::error::EmuError;
use crate::inst::Ty;
use crate::memory::mark;

/// An operand as written.
#[derive(Clone, Debug)]
pub(super) enum Opnd<'a> {
    Word(&'a str),
    /// `!%p`
    Not(&'a str),
    /// `[base+off]`
    Addr(&'a str, i64),
    /// `{a, b, ...}`
    Vector(Vec<&'a str>),
    /// `(a, b, ...)`
    List(Vec<&'a str>),
    /// `%p|%q`
    Pair(&'a str, &'a str),
}

#[derive(Debug)]
pub(super) struct Stmt<'a> {
    pub(super) line: u32,
    pub(super) pred: Option<(&'a str, bool)>,
    pub(super) opcode: &'a str,
    pub(super) ops: Vec<Opnd<'a>>,
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Sym {
    Static(u64),
    Dyn,
}

#[derive(Default)]
pub(super) struct RawFunc<'a> {
    pub(super) name: &'a str,
    pub(super) entry: bool,
    pub(super) line: u32,
    pub(super) has_body: bool,
    pub(super) params: Vec<(&'a str, Ty, u32)>,
    pub(super) rets: Vec<(&'a str, Ty)>,
    pub(super) regs: HashMap<String, u32>,
    pub(super) shared: HashMap<&'a str, Sym>,
    pub(super) stmts: Vec<Stmt<'a>>,
    pub(super) labels: HashMap<&'a str, u32>,
    pub(super) reqntid: Option<[u32; 3]>,
    pub(super) maxntid: Option<[u32; 3]>,
    pub(super) end_line: u32,
}

pub(super) struct Parser<'a, 'l> {
    pub(super) toks: Vec<Tok<'a>>,
    pub(super) pos: usize,
    pub(super) lines: &'l [&'l str],
    pub(super) template: Vec<u8>,
    pub(super) cursor: u64,
    pub(super) dyn_align: u64,
}

impl<'a> Parser<'a, '_> {
    pub(super) fn peek(&self) -> Option<&'a str> {
        self.toks.get(self.pos).map(|t| t.s)
    }

    pub(super) fn line(&self) -> u32 {
        self.toks.get(self.pos).or(self.toks.last()).map_or(1, |t| t.line)
    }

    pub(super) fn err(&self, msg: &str) -> EmuError {
        perr(self.lines, self.line(), msg)
    }

    pub(super) fn next(&mut self) -> Result<&'a str, EmuError> {
        let t = self.toks.get(self.pos).ok_or_else(|| self.err("unexpected end of input"))?;
        self.pos += 1;
        Ok(t.s)
    }

    pub(super) fn eat(&mut self, s: &str) -> bool {
        let hit = self.peek() == Some(s);
        self.pos += usize::from(hit);
        hit
    }

    pub(super) fn expect(&mut self, s: &str) -> Result<(), EmuError> {
        if self.eat(s) {
            Ok(())
        } else {
            Err(self.err(&format!("expected `{s}`, found `{}`", self.peek().unwrap_or("end"))))
        }
    }

    pub(super) fn number(&mut self) -> Result<u64, EmuError> {
        let w = self.next()?;
        literal(w, Ty::U64).ok_or_else(|| self.err(&format!("expected a number, found `{w}`")))
    }

    pub(super) fn name(&mut self) -> Result<&'a str, EmuError> {
        let w = self.next()?;
        if w.starts_with('.')
            || w.starts_with(|c: char| c.is_ascii_digit())
            || !w.bytes().all(word_char)
        {
            return Err(self.err(&format!("expected a name, found `{w}`")));
        }
        Ok(w)
    }

    /// Skips the rest of the current token's line (line-based directives).
    pub(super) fn skip_line(&mut self) {
        let line = self.toks[self.pos].line;
        while self.toks.get(self.pos).is_some_and(|t| t.line == line) {
            self.pos += 1;
        }
    }

    /// `.align N .type name[dims]` after `.shared`; lays the variable out.
    pub(super) fn shared_decl(&mut self, extern_: bool) -> Result<(&'a str, Sym), EmuError> {
        let mut align = 1;
        let mut ty = None;
        while let Some(w) = self.peek().filter(|w| w.starts_with('.')) {
            self.pos += 1;
            if w == ".align" {
                align = self.number()?;
            } else if let Some(t) = Ty::parse(&w[1..]) {
                ty = Some(t);
            } else {
                return Err(self.err(&format!("unsupported shared-variable modifier `{w}`")));
            }
        }
        let ty = ty.ok_or_else(|| self.err("shared variable without a type"))?;
        let name = self.name()?;
        let mut elems = 1u64;
        let mut unsized_ = false;
        while self.eat("[") {
            if self.eat("]") {
                unsized_ = true;
                continue;
            }
            elems *= self.number()?;
            self.expect("]")?;
        }
        if self.peek() == Some("=") {
            return Err(self.err("initialised shared variables are not supported"));
        }
        self.expect(";")?;
        let align = align.max(u64::from(ty.bytes()));
        if extern_ {
            self.dyn_align = self.dyn_align.max(align);
            return Ok((name, Sym::Dyn));
        }
        if unsized_ {
            return Err(self.err("an unsized shared array must be `.extern`"));
        }
        let size = elems * u64::from(ty.bytes());
        let addr = (self.cursor + GUARD).next_multiple_of(align);
        mark(&mut self.template, addr as usize, size as usize);
        self.cursor = addr + size;
        Ok((name, Sym::Static(addr)))
    }

    /// `.param .u64 name` / `.reg .f32 name` in a signature.
    pub(super) fn sig_param(&mut self, space: &str) -> Result<(&'a str, Ty, u32), EmuError> {
        let w = self.next()?;
        if w != space {
            return Err(self.err(&format!("expected `{space}` parameter, found `{w}` (only {space} parameters are supported here)")));
        }
        let mut ty = None;
        while let Some(w) = self.peek().filter(|w| w.starts_with('.')) {
            self.pos += 1;
            if w == ".align" {
                self.number()?;
            } else if let Some(t) = Ty::parse(&w[1..]) {
                ty = Some(t);
            } else if !matches!(w, ".ptr" | ".global" | ".shared" | ".const" | ".local") {
                return Err(self.err(&format!("unsupported parameter modifier `{w}`")));
            }
        }
        let ty = ty.ok_or_else(|| self.err("parameter without a type"))?;
        let name = self.name()?;
        let mut bytes = ty.bytes();
        if self.eat("[") {
            bytes *= self.number()? as u32;
            self.expect("]")?;
        }
        Ok((name, ty, bytes))
    }

    pub(super) fn sig_list(&mut self, space: &str) -> Result<Vec<(&'a str, Ty, u32)>, EmuError> {
        self.expect("(")?;
        let mut v = Vec::new();
        if !self.eat(")") {
            loop {
                v.push(self.sig_param(space)?);
                if self.eat(")") {
                    break;
                }
                self.expect(",")?;
            }
        }
        Ok(v)
    }

    pub(super) fn dims(&mut self) -> Result<[u32; 3], EmuError> {
        let mut d = [1; 3];
        for (i, v) in d.iter_mut().enumerate() {
            if i > 0 && !self.eat(",") {
                break;
            }
            *v = self.number()? as u32;
        }
        Ok(d)
    }

    pub(super) fn func(&mut self, entry: bool) -> Result<RawFunc<'a>, EmuError> {
        let mut f = RawFunc { entry, line: self.line(), ..RawFunc::default() };
        if entry {
            f.name = self.name()?;
            f.params = self.sig_list(".param")?;
        } else {
            if self.peek() == Some("(") {
                f.rets = self.sig_list(".reg")?.into_iter().map(|(n, t, _)| (n, t)).collect();
            }
            f.name = self.name()?;
            if self.peek() == Some("(") {
                f.params = self.sig_list(".reg")?;
            }
            let regs: Vec<&str> =
                f.rets.iter().map(|r| r.0).chain(f.params.iter().map(|p| p.0)).collect();
            for r in regs {
                let n = f.regs.len() as u32;
                f.regs.insert(r.to_string(), n);
            }
        }
        loop {
            match self.peek() {
                Some(".reqntid") => {
                    self.pos += 1;
                    f.reqntid = Some(self.dims()?);
                }
                Some(".maxntid") => {
                    self.pos += 1;
                    f.maxntid = Some(self.dims()?);
                }
                Some(".minnctapersm" | ".maxnreg" | ".maxnctapersm") => {
                    self.pos += 1;
                    self.number()?;
                }
                Some(".noreturn") => self.pos += 1,
                _ => break,
            }
        }
        if self.eat(";") {
            return Ok(f);
        }
        f.has_body = true;
        self.expect("{")?;
        self.body(&mut f)?;
        Ok(f)
    }

    pub(super) fn body(&mut self, f: &mut RawFunc<'a>) -> Result<(), EmuError> {
        let mut depth = 1;
        loop {
            let line = self.line();
            let w = self.next()?;
            match w {
                "{" => depth += 1,
                "}" => {
                    depth -= 1;
                    if depth == 0 {
                        f.end_line = line;
                        return Ok(());
                    }
                }
                ".reg" => self.reg_decl(f)?,
                ".shared" => {
                    let (n, s) = self.shared_decl(false)?;
                    f.shared.insert(n, s);
                }
                ".extern" => {
                    self.expect(".shared")?;
                    let (n, s) = self.shared_decl(true)?;
                    f.shared.insert(n, s);
                }
                ".pragma" => while self.next()? != ";" {},
                ".loc" | ".file" => {
                    self.pos -= 1;
                    self.skip_line();
                }
                "@" => {
                    let neg = self.eat("!");
                    let p = self.name()?;
                    let opcode = self.next()?;
                    let ops = self.operands()?;
                    f.stmts.push(Stmt { line, pred: Some((p, neg)), opcode, ops });
                }
                w if w.starts_with('.') => {
                    return Err(perr(self.lines, line, &format!("unsupported directive `{w}`")));
                }
                w if self.peek() == Some(":") => {
                    self.pos += 1;
                    if f.labels.insert(w, f.stmts.len() as u32).is_some() {
                        return Err(perr(self.lines, line, &format!("label `{w}` defined twice")));
                    }
                }
                opcode => {
                    let ops = self.operands()?;
                    f.stmts.push(Stmt { line, pred: None, opcode, ops });
                }
            }
        }
    }

    pub(super) fn reg_decl(&mut self, f: &mut RawFunc<'a>) -> Result<(), EmuError> {
        let mut typed = false;
        while let Some(w) = self.peek().filter(|w| w.starts_with('.')) {
            self.pos += 1;
            if Ty::parse(&w[1..]).is_none() {
                return Err(self.err(&format!("unsupported register modifier `{w}`")));
            }
            typed = true;
        }
        if !typed {
            return Err(self.err("register declaration without a type"));
        }
        loop {
            let name = self.name()?;
            if self.eat("<") {
                let n = self.number()?;
                self.expect(">")?;
                for i in 0..n {
                    let idx = f.regs.len() as u32;
                    f.regs.entry(format!("{name}{i}")).or_insert(idx);
                }
            } else {
                let idx = f.regs.len() as u32;
                f.regs.entry(name.to_string()).or_insert(idx);
            }
            if self.eat(";") {
                return Ok(());
            }
            self.expect(",")?;
        }
    }

    pub(super) fn list(&mut self, close: &str) -> Result<Vec<&'a str>, EmuError> {
        let mut v = Vec::new();
        if self.eat(close) {
            return Ok(v);
        }
        loop {
            v.push(self.next()?);
            if self.eat(close) {
                return Ok(v);
            }
            self.expect(",")?;
        }
    }

    pub(super) fn operands(&mut self) -> Result<Vec<Opnd<'a>>, EmuError> {
        let mut ops = Vec::new();
        if self.eat(";") {
            return Ok(ops);
        }
        loop {
            let w = self.next()?;
            let op = match w {
                "[" => {
                    let base = self.next()?;
                    let mut off = 0i64;
                    if self.eat("+") || self.peek().is_some_and(|w| w.starts_with('-')) {
                        let w = self.next()?;
                        off = literal(w, Ty::S64)
                            .ok_or_else(|| self.err(&format!("bad address offset `{w}`")))?
                            as i64;
                    }
                    self.expect("]")?;
                    Opnd::Addr(base, off)
                }
                "{" => Opnd::Vector(self.list("}")?),
                "(" => Opnd::List(self.list(")")?),
                "!" => Opnd::Not(self.next()?),
                w if self.eat("|") => Opnd::Pair(w, self.next()?),
                w => Opnd::Word(w),
            };
            ops.push(op);
            if self.eat(";") {
                return Ok(ops);
            }
            self.expect(",")?;
        }
    }
}
