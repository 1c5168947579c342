//! PTX text to decoded functions: a tokenizer, a statement parser, then a decoder that resolves
//! names (registers, labels, functions, shared variables, parameters) to indices and addresses.
//!
//! Shared variables of a module (module scope and function scope) get one static layout with a
//! 128-byte guard gap before each variable, so an access that runs off one variable is out of
//! bounds rather than a silent read of its neighbour; `extern .shared` arrays all alias the
//! dynamic region after the static ones.

use std::collections::HashMap;

use super::error::EmuError;
use super::inst::{
    Addr, AtomOp, BoolOp, Call, Cmp, FOp, FUn, Instr, IntOp, IntUn, Op, Rnd, Space, Src, Sreg,
    Test, Ty, mask,
};
use super::memory::mark;

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

/// A parsed module.
#[derive(Debug)]
pub(crate) struct Module {
    pub funcs: Vec<Func>,
    /// Shared-window byte states up to `dyn_base` (see [`super::memory::Shared`]).
    pub shared_template: Vec<u8>,
    /// Start of the dynamic (`extern .shared`) region.
    pub dyn_base: u64,
}

#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    s: &'a str,
    line: u32,
}

fn word_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'%' | b'$')
}

fn tokenize<'a>(src: &'a str, lines: &[&str]) -> Result<Vec<Tok<'a>>, EmuError> {
    let b = src.as_bytes();
    let mut toks = Vec::new();
    let (mut i, mut line) = (0, 1u32);
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
            i += 1;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let start = line;
            i += 2;
            while i < b.len() && !b[i..].starts_with(b"*/") {
                line += u32::from(b[i] == b'\n');
                i += 1;
            }
            if i >= b.len() {
                return Err(perr(lines, start, "unterminated comment"));
            }
            i += 2;
        } else if word_char(c) || (c == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let s = i;
            i += 1;
            while i < b.len() && word_char(b[i]) {
                i += 1;
            }
            toks.push(Tok { s: &src[s..i], line });
        } else if b",;()[]{}:@!+<>|=".contains(&c) {
            toks.push(Tok { s: &src[i..i + 1], line });
            i += 1;
        } else {
            return Err(perr(lines, line, &format!("unexpected character `{}`", c as char)));
        }
    }
    Ok(toks)
}

fn perr(lines: &[&str], line: u32, msg: &str) -> EmuError {
    let text = lines.get(line as usize - 1).copied().unwrap_or("").to_string();
    EmuError::Parse { line, text, msg: msg.to_string() }
}

/// An operand as written.
#[derive(Clone, Debug)]
enum Opnd<'a> {
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
struct Stmt<'a> {
    line: u32,
    pred: Option<(&'a str, bool)>,
    opcode: &'a str,
    ops: Vec<Opnd<'a>>,
}

#[derive(Clone, Copy, Debug)]
enum Sym {
    Static(u64),
    Dyn,
}

#[derive(Default)]
struct RawFunc<'a> {
    name: &'a str,
    entry: bool,
    line: u32,
    has_body: bool,
    params: Vec<(&'a str, Ty, u32)>,
    rets: Vec<(&'a str, Ty)>,
    regs: HashMap<String, u32>,
    shared: HashMap<&'a str, Sym>,
    stmts: Vec<Stmt<'a>>,
    labels: HashMap<&'a str, u32>,
    reqntid: Option<[u32; 3]>,
    maxntid: Option<[u32; 3]>,
    end_line: u32,
}

struct Parser<'a, 'l> {
    toks: Vec<Tok<'a>>,
    pos: usize,
    lines: &'l [&'l str],
    template: Vec<u8>,
    cursor: u64,
    dyn_align: u64,
}

impl<'a> Parser<'a, '_> {
    fn peek(&self) -> Option<&'a str> {
        self.toks.get(self.pos).map(|t| t.s)
    }

    fn line(&self) -> u32 {
        self.toks.get(self.pos).or(self.toks.last()).map_or(1, |t| t.line)
    }

    fn err(&self, msg: &str) -> EmuError {
        perr(self.lines, self.line(), msg)
    }

    fn next(&mut self) -> Result<&'a str, EmuError> {
        let t = self.toks.get(self.pos).ok_or_else(|| self.err("unexpected end of input"))?;
        self.pos += 1;
        Ok(t.s)
    }

    fn eat(&mut self, s: &str) -> bool {
        let hit = self.peek() == Some(s);
        self.pos += usize::from(hit);
        hit
    }

    fn expect(&mut self, s: &str) -> Result<(), EmuError> {
        if self.eat(s) {
            Ok(())
        } else {
            Err(self.err(&format!("expected `{s}`, found `{}`", self.peek().unwrap_or("end"))))
        }
    }

    fn number(&mut self) -> Result<u64, EmuError> {
        let w = self.next()?;
        literal(w, Ty::U64).ok_or_else(|| self.err(&format!("expected a number, found `{w}`")))
    }

    fn name(&mut self) -> Result<&'a str, EmuError> {
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
    fn skip_line(&mut self) {
        let line = self.toks[self.pos].line;
        while self.toks.get(self.pos).is_some_and(|t| t.line == line) {
            self.pos += 1;
        }
    }

    /// `.align N .type name[dims]` after `.shared`; lays the variable out.
    fn shared_decl(&mut self, extern_: bool) -> Result<(&'a str, Sym), EmuError> {
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
    fn sig_param(&mut self, space: &str) -> Result<(&'a str, Ty, u32), EmuError> {
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

    fn sig_list(&mut self, space: &str) -> Result<Vec<(&'a str, Ty, u32)>, EmuError> {
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

    fn dims(&mut self) -> Result<[u32; 3], EmuError> {
        let mut d = [1; 3];
        for (i, v) in d.iter_mut().enumerate() {
            if i > 0 && !self.eat(",") {
                break;
            }
            *v = self.number()? as u32;
        }
        Ok(d)
    }

    fn func(&mut self, entry: bool) -> Result<RawFunc<'a>, EmuError> {
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

    fn body(&mut self, f: &mut RawFunc<'a>) -> Result<(), EmuError> {
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

    fn reg_decl(&mut self, f: &mut RawFunc<'a>) -> Result<(), EmuError> {
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

    fn list(&mut self, close: &str) -> Result<Vec<&'a str>, EmuError> {
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

    fn operands(&mut self) -> Result<Vec<Opnd<'a>>, EmuError> {
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

/// Parses an integer or float literal as a bit pattern of type `ty`.
pub(crate) fn literal(w: &str, ty: Ty) -> Option<u64> {
    let w = w.strip_suffix('U').unwrap_or(w);
    let conv = |x: f64| -> u64 {
        match ty {
            Ty::F64 => x.to_bits(),
            Ty::F16 => u64::from(super::exec::f32_to_f16(x as f32)),
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

fn sreg(w: &str) -> Option<Sreg> {
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

/// The modifiers of an opcode, sorted into kinds.
struct Mods<'a> {
    base: &'a str,
    types: Vec<Ty>,
    rnd: Rnd,
    ftz: bool,
    sat: bool,
    space: Option<&'a str>,
    vec: u8,
    rest: Vec<&'a str>,
}

/// Modifiers that do not change what the interpreter computes.
const IGNORED: &[&str] = &[
    "nc", "ca", "cg", "cs", "lu", "cv", "wb", "wt", "uni", "sync", "aligned", "volatile",
    "relaxed", "weak", "acquire", "release", "acq_rel", "gpu", "sys", "cta", "approx", "full",
    "to",
];

impl<'a> Mods<'a> {
    fn new(opcode: &'a str) -> Mods<'a> {
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

    fn take(&mut self, s: &str) -> bool {
        match self.rest.iter().position(|&r| r == s) {
            Some(i) => {
                self.rest.remove(i);
                true
            }
            None => false,
        }
    }

    fn take_any(&mut self, set: &[&str]) -> Option<&'a str> {
        let i = self.rest.iter().position(|r| set.contains(r))?;
        Some(self.rest.remove(i))
    }

    fn ty(&self) -> Result<Ty, String> {
        match self.types[..] {
            [t] => Ok(t),
            _ => Err("expected exactly one type modifier".into()),
        }
    }

    fn finish(&self) -> Result<(), String> {
        match self.rest.iter().find(|r| !IGNORED.contains(r)) {
            Some(r) => Err(format!("unsupported modifier `.{r}`")),
            None => Ok(()),
        }
    }
}

struct Ctx<'c, 'a> {
    f: &'c RawFunc<'a>,
    raw: &'c [RawFunc<'a>],
    funcs: &'c HashMap<&'a str, u32>,
    module_syms: &'c HashMap<&'a str, Sym>,
    dyn_base: u64,
    params: &'c [Param],
}

impl Ctx<'_, '_> {
    fn sym(&self, w: &str) -> Option<u64> {
        let s = self.f.shared.get(w).or_else(|| self.module_syms.get(w))?;
        Some(match *s {
            Sym::Static(a) => a,
            Sym::Dyn => self.dyn_base,
        })
    }

    fn reg(&self, w: &str) -> Result<u32, String> {
        self.f.regs.get(w).copied().ok_or_else(|| format!("`{w}` is not a declared register"))
    }

    fn dst(&self, o: &Opnd) -> Result<u32, String> {
        match o {
            Opnd::Word(w) => self.reg(w),
            _ => Err(format!("expected a destination register, found {o:?}")),
        }
    }

    fn word(&self, w: &str, ty: Ty) -> Result<Src, String> {
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

    fn src(&self, o: &Opnd, ty: Ty) -> Result<Src, String> {
        match o {
            Opnd::Word(w) => self.word(w, ty),
            _ => Err(format!("expected a scalar operand, found {o:?}")),
        }
    }

    fn addr(&self, o: &Opnd) -> Result<Addr, String> {
        match *o {
            Opnd::Addr(base, off) => Ok(Addr { base: self.word(base, Ty::U64)?, off }),
            _ => Err(format!("expected an address `[...]`, found {o:?}")),
        }
    }
}

fn want(ops: &[Opnd], n: usize, opcode: &str) -> Result<(), String> {
    if ops.len() == n {
        Ok(())
    } else {
        Err(format!("`{opcode}` takes {n} operands, found {}", ops.len()))
    }
}

fn decode(c: &Ctx, st: &Stmt) -> Result<Op, String> {
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
                Op::Float { op, ty, ftz: m.ftz, sat: m.sat, d, a, b }
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
                Op::Fma { ty, ftz: m.ftz, sat: m.sat, d, a, b, c: c.src(&ops[3], ty)? }
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
                Op::FloatUn { op, ty, ftz: m.ftz, sat: m.sat, d, a }
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

fn wide(ty: Ty, d: u32, a: Src, b: Src, c: Option<Src>) -> Result<Op, String> {
    match ty {
        Ty::U16 | Ty::S16 | Ty::U32 | Ty::S32 => {
            Ok(Op::Wide { signed: ty.signed(), bits: ty.bits(), d, a, b, c })
        }
        _ => Err(format!("mul/mad.wide on {ty:?} is not supported")),
    }
}

/// Parses and decodes a module.
pub(crate) fn parse(src: &str) -> Result<Module, EmuError> {
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
    Ok(Module { funcs: out, shared_template: template, dyn_base })
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
