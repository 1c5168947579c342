//! The tokenizer: PTX text to words and punctuation with their line numbers, comments dropped.

use crate::error::EmuError;

#[derive(Clone, Copy, Debug)]
pub(super) struct Tok<'a> {
    pub(super) s: &'a str,
    pub(super) line: u32,
}

pub(super) fn word_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'%' | b'$')
}

pub(super) fn tokenize<'a>(src: &'a str, lines: &[&str]) -> Result<Vec<Tok<'a>>, EmuError> {
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

pub(super) fn perr(lines: &[&str], line: u32, msg: &str) -> EmuError {
    let text = lines.get(line as usize - 1).copied().unwrap_or("").to_string();
    EmuError::Parse { line, text, msg: msg.to_string() }
}
