//! The tokenizer: one pass over the bytes, one token at a time.
//!
//! Every delimiter the rules care about is ASCII, and every byte of a
//! multi-byte UTF-8 character is `>= 0x80`, so the lexer works on bytes and
//! still only ever cuts the input at character boundaries: such bytes are
//! identifier characters (as PostgreSQL, MySQL and SQLite all treat them)
//! and are never compared with a delimiter.

use crate::Dialect;

/// The longest custom delimiter `DELIMITER` accepts, in bytes (the `mysql`
/// client keeps at most 15; the bound also keeps delimiter matching linear).
pub(super) const MAX_DELIMITER_LEN: usize = 15;

/// What a token is, as far as statement splitting is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Whitespace.
    Space,
    /// A line or block comment (not part of any statement's edges).
    Comment,
    /// An unquoted identifier or keyword; numbers are words too.
    Word,
    /// A quoted identifier: `"…"`, `` `…` ``, `[…]`, `U&"…"`.
    Quoted,
    /// A string literal in any form, dollar-quoted strings included.
    Str,
    /// A MySQL user or system variable (`@x`, `@@x`) or a PostgreSQL
    /// positional parameter (`$1`).
    Variable,
    /// MySQL's executable comments `/*! … */` and `/*M! … */`: code.
    Executable,
    /// Any other single ASCII character.
    Punct(u8),
    /// `;` where it is the statement terminator (everywhere but inside a
    /// MySQL `DELIMITER` section).
    Semicolon,
    /// The custom terminator of a MySQL `DELIMITER` section.
    CustomDelimiter,
    /// A MySQL client `DELIMITER xx` line; the lexer has already switched.
    DelimiterCommand,
}

/// One token: its kind and byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Token {
    pub(super) kind: Kind,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// A lexical error: where (byte offset) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LexError {
    pub(super) offset: usize,
    pub(super) message: String,
}

/// The tokenizer for one dialect.
#[derive(Debug)]
pub(super) struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    dialect: Dialect,
    /// MySQL's custom terminator; `None` while it is `;`.
    delimiter: Option<String>,
    /// Only spaces and tabs since the last newline (or the input's start).
    line_start: bool,
    /// No token of the current statement yet (the splitter says).
    statement_start: bool,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

fn is_tag_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_tag_char(b: u8) -> bool {
    is_tag_start(b) || b.is_ascii_digit()
}

impl<'a> Lexer<'a> {
    pub(super) fn new(src: &'a str, dialect: Dialect) -> Self {
        // A byte-order mark is not part of the SQL.
        let pos = if src.starts_with('\u{feff}') { 3 } else { 0 };
        Lexer {
            src,
            bytes: src.as_bytes(),
            pos,
            dialect,
            delimiter: None,
            line_start: true,
            statement_start: true,
        }
    }

    /// Whether a MySQL `DELIMITER` section with a terminator other than `;`
    /// is in effect.
    pub(super) fn custom_delimiter(&self) -> bool {
        self.delimiter.is_some()
    }

    /// Tells whether the next token would be the first of a statement,
    /// where a MySQL `DELIMITER` command is recognized even mid-line.
    pub(super) fn set_statement_start(&mut self, yes: bool) {
        self.statement_start = yes;
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn error(offset: usize, message: impl Into<String>) -> LexError {
        LexError {
            offset,
            message: message.into(),
        }
    }

    /// The next token, `None` at the end of the input.
    pub(super) fn next_token(&mut self) -> Result<Option<Token>, LexError> {
        let Some(&b) = self.bytes.get(self.pos) else {
            return Ok(None);
        };
        let start = self.pos;
        let mysql = self.dialect == Dialect::Mysql;
        let kind =
            if mysql && (self.line_start || self.statement_start) && self.at_delimiter_command() {
                self.delimiter_command()?
            } else if self.at_custom_delimiter() {
                self.pos += self.delimiter.as_deref().map_or(1, str::len);
                Kind::CustomDelimiter
            } else if is_space(b) {
                while self.pos < self.bytes.len() && is_space(self.bytes[self.pos]) {
                    if self.bytes[self.pos] == b'\n' {
                        self.line_start = true;
                    }
                    self.pos += 1;
                }
                return Ok(Some(Token {
                    kind: Kind::Space,
                    start,
                    end: self.pos,
                }));
            } else if (b == b'-' && self.peek(1) == Some(b'-') && self.dash_comment())
                || (b == b'#' && mysql)
            {
                self.line_comment()
            } else if b == b'/' && self.peek(1) == Some(b'*') {
                self.block_comment()?
            } else if b == b'\'' {
                self.pos += 1;
                self.quoted(b'\'', mysql, start, "unterminated string literal")?;
                Kind::Str
            } else if b == b'"' {
                self.pos += 1;
                if mysql {
                    self.quoted(b'"', true, start, "unterminated string literal")?;
                    Kind::Str
                } else {
                    self.quoted(b'"', false, start, "unterminated quoted identifier")?;
                    Kind::Quoted
                }
            } else if b == b'`' && self.dialect != Dialect::Postgres {
                self.pos += 1;
                self.quoted(b'`', false, start, "unterminated quoted identifier")?;
                Kind::Quoted
            } else if b == b'[' && self.dialect == Dialect::Sqlite {
                match self.src[start + 1..].find(']') {
                    Some(i) => self.pos = start + 1 + i + 1,
                    None => return Err(Self::error(start, "unterminated quoted identifier")),
                }
                Kind::Quoted
            } else if b == b'$' && self.dialect == Dialect::Postgres {
                self.dollar()?
            } else if b == b'@' && mysql && self.peek(1).is_some_and(|c| c == b'@' || self.ident(c))
            {
                self.pos += 1;
                if self.peek(0) == Some(b'@') {
                    self.pos += 1;
                }
                self.word_chars();
                Kind::Variable
            } else if self.ident_start(b) {
                self.word()?
            } else if b == b';' && self.delimiter.is_none() {
                self.pos += 1;
                Kind::Semicolon
            } else {
                self.pos += 1;
                Kind::Punct(b)
            };
        self.line_start = false;
        Ok(Some(Token {
            kind,
            start,
            end: self.pos,
        }))
    }

    /// The custom delimiter starts at `pos`. Compared as bytes: `pos` may
    /// be inside a multi-byte character in a word, where no delimiter can
    /// match (a continuation byte never equals a leading one).
    fn at_custom_delimiter(&self) -> bool {
        self.delimiter
            .as_deref()
            .is_some_and(|d| self.bytes[self.pos..].starts_with(d.as_bytes()))
    }

    fn ident_start(&self, b: u8) -> bool {
        b.is_ascii_alphanumeric()
            || b == b'_'
            || b >= 0x80
            || (b == b'$' && self.dialect != Dialect::Postgres)
    }

    fn ident(&self, b: u8) -> bool {
        b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80 || b == b'$'
    }

    /// Identifier characters from `pos`; inside a MySQL `DELIMITER` section
    /// a word stops where the delimiter starts (`END$$`).
    fn word_chars(&mut self) {
        while let Some(&c) = self.bytes.get(self.pos) {
            if !self.ident(c) || self.at_custom_delimiter() {
                break;
            }
            self.pos += 1;
        }
    }

    fn word(&mut self) -> Result<Kind, LexError> {
        let start = self.pos;
        self.word_chars();
        if self.dialect == Dialect::Postgres && self.pos == start + 1 {
            let prefix = self.bytes[start].to_ascii_uppercase();
            if prefix == b'E' && self.peek(0) == Some(b'\'') {
                // E'…': backslash escapes.
                self.pos += 1;
                self.quoted(b'\'', true, start, "unterminated string literal")?;
                return Ok(Kind::Str);
            }
            if prefix == b'U' && self.peek(0) == Some(b'&') {
                match self.peek(1) {
                    Some(b'\'') => {
                        self.pos += 2;
                        self.quoted(b'\'', false, start, "unterminated string literal")?;
                        return Ok(Kind::Str);
                    }
                    Some(b'"') => {
                        self.pos += 2;
                        self.quoted(b'"', false, start, "unterminated quoted identifier")?;
                        return Ok(Kind::Quoted);
                    }
                    _ => {}
                }
            }
        }
        Ok(Kind::Word)
    }

    /// The body of a quoted token whose opening `quote` has been consumed:
    /// a doubled quote stands for itself, and with `backslash` a backslash
    /// escapes the next character.
    fn quoted(
        &mut self,
        quote: u8,
        backslash: bool,
        start: usize,
        message: &str,
    ) -> Result<(), LexError> {
        while let Some(&c) = self.bytes.get(self.pos) {
            if c == quote {
                if self.peek(1) == Some(quote) {
                    self.pos += 2;
                    continue;
                }
                self.pos += 1;
                return Ok(());
            }
            // Skipping one byte after a backslash may land inside a
            // multi-byte character; its remaining bytes are >= 0x80 and
            // match nothing.
            self.pos += if backslash && c == b'\\' { 2 } else { 1 };
        }
        self.pos = self.bytes.len();
        Err(Self::error(start, message))
    }

    /// `--` starts a comment everywhere but in MySQL, where it needs a
    /// space, a control character or the end of the input after it.
    fn dash_comment(&self) -> bool {
        self.dialect != Dialect::Mysql
            || self
                .peek(2)
                .is_none_or(|c| c.is_ascii_whitespace() || c.is_ascii_control())
    }

    fn line_comment(&mut self) -> Kind {
        self.pos = match self.src[self.pos..].find('\n') {
            Some(i) => self.pos + i,
            None => self.bytes.len(),
        };
        Kind::Comment
    }

    fn block_comment(&mut self) -> Result<Kind, LexError> {
        let start = self.pos;
        self.pos += 2;
        if self.dialect == Dialect::Mysql {
            let rest = &self.src[self.pos..];
            let executable = rest.starts_with('!') || rest.starts_with("M!");
            return match rest.find("*/") {
                Some(i) => {
                    self.pos += i + 2;
                    Ok(if executable {
                        Kind::Executable
                    } else {
                        Kind::Comment
                    })
                }
                None if executable => Err(Self::error(
                    start,
                    "unterminated executable comment `/*! … */`",
                )),
                None => Err(Self::error(start, "unterminated block comment")),
            };
        }
        // PostgreSQL nests block comments; SQLite does not.
        let nested = self.dialect == Dialect::Postgres;
        let mut depth = 1usize;
        while self.pos < self.bytes.len() {
            match (self.bytes[self.pos], self.peek(1)) {
                (b'*', Some(b'/')) => {
                    self.pos += 2;
                    depth -= 1;
                    if depth == 0 {
                        return Ok(Kind::Comment);
                    }
                }
                (b'/', Some(b'*')) if nested => {
                    self.pos += 2;
                    depth += 1;
                }
                _ => self.pos += 1,
            }
        }
        Err(Self::error(start, "unterminated block comment"))
    }

    /// PostgreSQL `$`: a positional parameter, a dollar-quoted string or a
    /// lone `$`.
    fn dollar(&mut self) -> Result<Kind, LexError> {
        let start = self.pos;
        let rest = &self.bytes[start + 1..];
        if rest.first().is_some_and(u8::is_ascii_digit) {
            let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            self.pos += 1 + digits;
            return Ok(Kind::Variable);
        }
        let tag_len = if rest.first().is_some_and(|&c| is_tag_start(c)) {
            rest.iter().take_while(|&&c| is_tag_char(c)).count()
        } else {
            0
        };
        if rest.get(tag_len) != Some(&b'$') {
            self.pos += 1;
            return Ok(Kind::Punct(b'$'));
        }
        let open_end = start + tag_len + 2;
        let delimiter = &self.src[start..open_end];
        match self.src[open_end..].find(delimiter) {
            Some(i) => {
                self.pos = open_end + i + delimiter.len();
                Ok(Kind::Str)
            }
            None => Err(Self::error(
                start,
                format!("unterminated dollar-quoted string: no closing `{delimiter}`"),
            )),
        }
    }

    /// `DELIMITER ` (any case, then a space or tab) at `pos`.
    fn at_delimiter_command(&self) -> bool {
        let rest = &self.bytes[self.pos..];
        rest.len() > 9
            && rest[..9].eq_ignore_ascii_case(b"delimiter")
            && matches!(rest[9], b' ' | b'\t')
    }

    /// The MySQL client's `DELIMITER xx` command: the first word of the
    /// rest of the line is the new terminator; the rest of the line is
    /// ignored, as the client does.
    fn delimiter_command(&mut self) -> Result<Kind, LexError> {
        let start = self.pos;
        let line_end = self.src[start..]
            .find('\n')
            .map_or(self.bytes.len(), |i| start + i);
        let argument = self.src[start + 9..line_end]
            .split_ascii_whitespace()
            .next();
        let Some(delimiter) = argument else {
            return Err(Self::error(
                start,
                "`DELIMITER` needs the new terminator, e.g. `DELIMITER //`",
            ));
        };
        if delimiter.contains('\\') {
            return Err(Self::error(
                start,
                format!("`DELIMITER {delimiter}`: the terminator cannot contain a backslash"),
            ));
        }
        if delimiter.len() > MAX_DELIMITER_LEN {
            return Err(Self::error(
                start,
                format!(
                    "`DELIMITER {delimiter}`: the terminator is longer than {MAX_DELIMITER_LEN} bytes"
                ),
            ));
        }
        self.delimiter = (delimiter != ";").then(|| delimiter.to_owned());
        self.pos = line_end;
        Ok(Kind::DelimiterCommand)
    }
}
