//! Splitting a migration's SQL into statements.
//!
//! Drivers run one statement at a time, so a revision's `upgrade` or
//! `downgrade` section has to be cut at its terminators first. A `;` ends a
//! statement only outside strings, quoted identifiers and comments, and not
//! inside the compound bodies of functions, procedures and triggers; telling
//! those apart takes a tokenizer, not regular expressions. [`split`] runs one
//! left-to-right pass over the input (linear in its size) that knows each
//! dialect's lexical rules, and decides where a body ends from the keywords
//! it sees, matched case-insensitively on tokens (so comments between
//! keywords do not matter, and a keyword inside a string or a quoted
//! identifier is not one).
//!
//! # Rules common to all dialects
//!
//! `'…'` strings (with `''` for a quote), `-- …` line comments, `/* … */`
//! block comments; a `;` outside of them ends a statement. A statement's
//! text starts at its first token and ends at its last one: comments and
//! whitespace before it, after it and around its terminator are not part of
//! it (comments inside it are). Statements of only comments and whitespace
//! produce nothing, and the last statement needs no terminator.
//!
//! # PostgreSQL
//!
//! The rules are psql's: `"…"` quoted identifiers (`""` escape), `E'…'`
//! strings with backslash escapes, `U&'…'` and `U&"…"`, dollar-quoted
//! strings `$$…$$` and `$tag$…$tag$` (a tag is an identifier not starting
//! with a digit; `$1` is a parameter), nested block comments, and no split
//! at a `;` inside parentheses (`CREATE RULE … DO ALSO (…; …)`). Inside
//! `CREATE [OR REPLACE] FUNCTION|PROCEDURE`, a SQL-standard body `BEGIN
//! ATOMIC … END` keeps its semicolons: `BEGIN` opens a block, `CASE` inside
//! one opens another, `END` closes one (at parenthesis depth 0). Plain
//! strings follow `standard_conforming_strings = on`, the default since
//! PostgreSQL 9.1: a backslash in `'…'` is an ordinary character.
//!
//! On MySQL, [`Statement::no_transaction`] marks every statement but plain
//! data manipulation (`INSERT`, `UPDATE`, `DELETE`, `REPLACE`, `SELECT`,
//! `WITH`, `VALUES`, `TABLE`, `DO`, `CREATE TEMPORARY TABLE`): DDL commits
//! implicitly, and `CALL` may run some.
//!
//! On PostgreSQL, [`Statement::no_transaction`] marks the statements PostgreSQL refuses to
//! run inside a transaction block: `CREATE [UNIQUE] INDEX CONCURRENTLY`,
//! `DROP INDEX CONCURRENTLY`, `REINDEX … CONCURRENTLY` and `REINDEX
//! SCHEMA|DATABASE|SYSTEM`, `VACUUM`, `CLUSTER` without a table, `ALTER
//! SYSTEM`, `CREATE|DROP DATABASE`, `ALTER DATABASE … SET TABLESPACE`,
//! `CREATE|DROP TABLESPACE`, `CREATE|ALTER|DROP SUBSCRIPTION` (every form,
//! though only those that create, drop or refresh a replication slot are
//! refused), `ALTER TABLE … DETACH PARTITION … CONCURRENTLY` and `DISCARD
//! ALL`. Not marked: `REFRESH MATERIALIZED VIEW CONCURRENTLY`, which runs in
//! a transaction, and `ALTER TYPE … ADD VALUE`, refused only before
//! PostgreSQL 12 (since then the new value just cannot be used in the same
//! transaction).
//!
//! [`Statement::transaction_control`] marks, on every dialect, the
//! statements that begin or end a transaction: `BEGIN` (not a block's),
//! `COMMIT`, `END` (not a block's), `ROLLBACK` (not `ROLLBACK TO`),
//! `ABORT`, `START TRANSACTION`, PostgreSQL's `PREPARE TRANSACTION`,
//! MySQL's `XA`.
//!
//! # SQLite
//!
//! `"…"`, `` `…` `` and `[…]` quoted identifiers. In `CREATE [TEMP|TEMPORARY]
//! TRIGGER … BEGIN … END`, semicolons inside the body do not end the
//! statement: as in SQLite's own `sqlite3_complete`, only an `END` right
//! after a `;` closes the body, so a `CASE … END` inside never does.
//!
//! # MySQL and MariaDB
//!
//! `` `…` `` quoted identifiers (` `` ` escape); `"…"` is a string (the
//! default `sql_mode`) and both string forms take backslash escapes (the
//! default, without `NO_BACKSLASH_ESCAPES`); `#` line comments; `--` starts
//! a comment only before whitespace, a control character or the end of the
//! input (`1--1` is arithmetic); block comments do not nest; executable
//! comments `/*! … */` and `/*M! … */` are code and stay in the text (a `;`
//! inside one does not split).
//!
//! A `DELIMITER xx` line (the `mysql` client's command: any case, outside
//! strings and comments, at the start of a line or where a statement would
//! start) makes `xx` the terminator until the next `DELIMITER` line;
//! `DELIMITER ;` goes back. The line itself produces no statement, ends any
//! statement before it (as the client does) and only its first word counts:
//! the rest of the line is ignored. Between such lines `;` is ordinary text
//! and `xx` ends statements wherever it appears outside strings and
//! comments (`END$$`).
//!
//! Without `DELIMITER`, as tools like Flyway accept, `CREATE [OR REPLACE]
//! [DEFINER = …] [AGGREGATE] PROCEDURE|FUNCTION|TRIGGER|EVENT` and MariaDB's
//! compound statements (`BEGIN NOT ATOMIC`, and `IF`, `CASE`, `LOOP`,
//! `WHILE`, `REPEAT` outside stored programs) keep the semicolons inside
//! their `BEGIN … END`, `IF … END IF`, `LOOP … END LOOP`, `WHILE … END
//! WHILE`, `REPEAT … END REPEAT`, `CASE … END [CASE]` and MariaDB's `FOR …
//! END FOR` blocks. `IF` opens a block where a statement starts or when
//! neither `(` nor `[NOT] EXISTS` follows it (`IF(a, b, c)` is a function,
//! `DROP TABLE IF EXISTS` is not a block).
//!
//! # Positions
//!
//! Errors from the server name the failing statement, and the migration's
//! author needs to find it in the file: every [`Statement`] carries the
//! byte offset, 1-based line and 1-based column (in characters) of its
//! first token, and every [`SplitError`] the position of the construct that
//! is not closed. Lines are counted within the input and end at `\n` (so
//! `\r\n` files count right); a leading byte-order mark takes no column. A
//! caller that split a section of a file adds the section's line offset.
//!
//! # Limitations
//!
//! - The lexer assumes each server's default settings: PostgreSQL's
//!   `standard_conforming_strings = on`, MySQL without `ANSI_QUOTES` or
//!   `NO_BACKSLASH_ESCAPES`.
//! - Client-side commands other than MySQL's `DELIMITER` are plain text:
//!   psql's `\connect`, `\set`, `\gexec` and `COPY … FROM stdin` data rows
//!   are not understood.
//! - MySQL bodies without `DELIMITER` are delimited by keywords, not parsed.
//!   Rare forms need `DELIMITER`, which always works: an unquoted column
//!   named `end` inside such a body, `DO IF(…)` as a statement, a label
//!   before a MariaDB compound statement outside a stored program. A body
//!   that looks unclosed is an error at its opening keyword; one that looks
//!   closed too early leaves the rest to fail on the server, with its line.
//! - MySQL executable comments end at the first `*/`, even one inside a
//!   string within them.
//! - An unterminated `/* …` is an error, although SQLite itself lets it run
//!   to the end of the input.

mod lexer;
mod rules;
#[cfg(test)]
mod tests;

use thiserror::Error;

use self::lexer::{Kind, LexError, Lexer, Token};
use self::rules::{Body, HEAD_LEN, MysqlState, Opening, PgState, Sig, SqliteState};
use crate::Dialect;

/// One statement of a migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The statement as written, from its first token to its last: without
    /// the terminator, surrounding whitespace or comments before it.
    pub text: &'a str,
    /// The byte offset of `text` in the input.
    pub start: usize,
    /// The 1-based line of the first token, in the input.
    pub line: usize,
    /// The 1-based column of the first token, in characters.
    pub column: usize,
    /// The statement cannot share a transaction with others: PostgreSQL
    /// refuses it inside a transaction block (`CREATE INDEX CONCURRENTLY`,
    /// `VACUUM`…), MySQL commits implicitly around it (DDL). Always `false`
    /// for SQLite.
    pub no_transaction: bool,
    /// The statement does more than read and write rows (DDL, grants, a
    /// PostgreSQL `DO` block…). A server whose DDL commits implicitly
    /// (MySQL, MariaDB, CockroachDB, YugabyteDB without transactional DDL)
    /// commits around it, so it runs alone there. Always `false` for
    /// SQLite.
    pub changes_schema: bool,
    /// The statement begins, commits or rolls back a transaction (see
    /// the module notes): retort controls a migration's transactions.
    pub transaction_control: bool,
}

/// SQL that cannot be split: something opened and never closed, or a bad
/// `DELIMITER` line.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}, column {column}: {message}")]
pub struct SplitError {
    /// The 1-based line of the opening quote, comment or keyword.
    pub line: usize,
    /// Its 1-based column, in characters.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// Splits `sql` into its statements, in order.
///
/// ```
/// use retort::Dialect;
/// use retort::sql::split;
///
/// let sql = "CREATE TABLE t (a text); -- done\nINSERT INTO t VALUES ('x;y')";
/// let statements = split(sql, Dialect::Sqlite).unwrap();
/// assert_eq!(statements.len(), 2);
/// assert_eq!(statements[1].text, "INSERT INTO t VALUES ('x;y')");
/// assert_eq!((statements[1].line, statements[1].column), (2, 1));
/// ```
pub fn split(sql: &str, dialect: Dialect) -> Result<Vec<Statement<'_>>, SplitError> {
    Splitter::new(sql, dialect).run()
}

/// What a [`Piece`] of SQL is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceKind {
    /// An unquoted identifier, keyword or number.
    Word,
    /// A quoted identifier.
    Quoted,
    /// A string literal.
    Str,
    /// A comment.
    Comment,
    /// One punctuation character.
    Punct(char),
    /// Anything else (a variable, a terminator).
    Other,
}

/// One token of SQL, whitespace aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece<'a> {
    /// What it is.
    pub kind: PieceKind,
    /// Its text as written.
    pub text: &'a str,
    /// Its byte offset in the input.
    pub start: usize,
}

impl Piece<'_> {
    /// Whether it is the keyword `word` (case-insensitive).
    pub fn is(&self, word: &str) -> bool {
        self.kind == PieceKind::Word && self.text.eq_ignore_ascii_case(word)
    }

    /// The identifier it names: a quoted one unquoted, a word as written.
    pub fn ident(&self) -> String {
        match self.kind {
            PieceKind::Quoted => unquote(self.text),
            _ => self.text.to_owned(),
        }
    }
}

/// A quoted identifier's name: quotes removed, doubled quotes halved.
fn unquote(text: &str) -> String {
    let (open, close) = match text.as_bytes().first() {
        Some(b'[') => ('[', ']'),
        Some(b'`') => ('`', '`'),
        _ => ('"', '"'),
    };
    let inner = text
        .strip_prefix(open)
        .and_then(|t| t.strip_suffix(close))
        .unwrap_or(text);
    let doubled: String = [close, close].iter().collect();
    inner.replace(&doubled, &close.to_string())
}

/// The tokens of `sql` in a dialect, whitespace left out: for reading DDL
/// the database already accepted (SQLite keeps some of its schema only as
/// text) and the hints in a declared schema.
pub fn pieces(sql: &str, dialect: Dialect) -> Result<Vec<Piece<'_>>, SplitError> {
    let mut lexer = Lexer::new(sql, dialect);
    let mut pieces = Vec::new();
    loop {
        let token = match lexer.next_token() {
            Ok(Some(token)) => token,
            Ok(None) => return Ok(pieces),
            Err(LexError { offset, message }) => {
                let (line, column) = Lines::new(sql).at(offset);
                return Err(SplitError {
                    line,
                    column,
                    message,
                });
            }
        };
        let kind = match token.kind {
            Kind::Space => continue,
            Kind::Word => PieceKind::Word,
            Kind::Quoted => PieceKind::Quoted,
            Kind::Str => PieceKind::Str,
            Kind::Comment => PieceKind::Comment,
            Kind::Punct(b) => PieceKind::Punct(char::from(b)),
            _ => PieceKind::Other,
        };
        pieces.push(Piece {
            kind,
            text: &sql[token.start..token.end],
            start: token.start,
        });
    }
}

/// The pieces split at commas outside parentheses: the items of a list
/// (columns and constraints of a `CREATE TABLE`, a key's columns).
#[cfg(any(feature = "sqlite", feature = "mysql"))]
pub(crate) fn split_commas<'p, 'a>(pieces: &'p [Piece<'a>]) -> Vec<&'p [Piece<'a>]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (at, piece) in pieces.iter().enumerate() {
        match piece.kind {
            PieceKind::Punct('(') => depth += 1,
            PieceKind::Punct(')') => depth = depth.saturating_sub(1),
            PieceKind::Punct(',') if depth == 0 => {
                parts.push(&pieces[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    if start < pieces.len() {
        parts.push(&pieces[start..]);
    }
    parts
}

/// A short, one-line form of a statement for messages: whitespace runs
/// (newlines included) collapse to one space, and a statement longer than
/// `max_chars` characters is cut, ending with `…` (the result has at most
/// `max_chars` characters).
///
/// ```
/// use retort::sql::excerpt;
///
/// assert_eq!(excerpt("CREATE TABLE t (\n    a int\n)", 100), "CREATE TABLE t ( a int )");
/// assert_eq!(excerpt("SELECT a, b, c FROM t", 10), "SELECT a,…");
/// ```
pub fn excerpt(statement: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    let mut space = false;
    for c in statement.trim().chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        for c in space.then_some(' ').into_iter().chain([c]) {
            if count == max_chars {
                // One character too many: make room for the ellipsis.
                while count >= max_chars && out.pop().is_some() {
                    count -= 1;
                }
                out.truncate(out.trim_end().len());
                if max_chars > 0 {
                    out.push('…');
                }
                return out;
            }
            out.push(c);
            count += 1;
        }
        space = false;
    }
    out
}

/// 1-based line and column of byte offsets, moving forward only.
#[derive(Debug)]
struct Lines<'a> {
    src: &'a str,
    offset: usize,
    line: usize,
    column: usize,
}

impl<'a> Lines<'a> {
    fn new(src: &'a str) -> Self {
        // A byte-order mark takes no column.
        let offset = if src.starts_with('\u{feff}') { 3 } else { 0 };
        Lines {
            src,
            offset,
            line: 1,
            column: 1,
        }
    }

    fn at(&mut self, offset: usize) -> (usize, usize) {
        if offset > self.offset {
            for c in self.src[self.offset..offset].chars() {
                if c == '\n' {
                    self.line += 1;
                    self.column = 1;
                } else {
                    self.column += 1;
                }
            }
            self.offset = offset;
        }
        (self.line, self.column)
    }
}

/// The statement being read.
#[derive(Debug)]
struct Splitter<'a> {
    src: &'a str,
    dialect: Dialect,
    lexer: Lexer<'a>,
    lines: Lines<'a>,
    out: Vec<Statement<'a>>,
    /// Inside a MySQL `DELIMITER` section: only the delimiter ends a
    /// statement.
    custom: bool,
    /// Byte range from the first significant token to the last.
    start: Option<usize>,
    end: usize,
    head: Vec<Sig<'a>>,
    count: usize,
    previous_dot: bool,
    /// Parentheses open in the current statement, and where the first
    /// was: on every dialect one still open where the statement ends is
    /// an error, caught before anything runs (the server would see half
    /// a statement, and MySQL may have committed the ones before).
    parens: usize,
    first_paren: usize,
    /// A `)` that closed nothing.
    stray_paren: Option<usize>,
    body: Option<Body>,
    pg: PgState,
    sqlite: SqliteState,
    mysql: MysqlState,
}

impl<'a> Splitter<'a> {
    fn new(src: &'a str, dialect: Dialect) -> Self {
        Splitter {
            src,
            dialect,
            lexer: Lexer::new(src, dialect),
            lines: Lines::new(src),
            out: Vec::new(),
            custom: false,
            start: None,
            end: 0,
            head: Vec::with_capacity(HEAD_LEN),
            count: 0,
            previous_dot: false,
            parens: 0,
            first_paren: 0,
            stray_paren: None,
            body: None,
            pg: PgState::default(),
            sqlite: SqliteState::default(),
            mysql: MysqlState::default(),
        }
    }

    fn run(mut self) -> Result<Vec<Statement<'a>>, SplitError> {
        loop {
            self.lexer.set_statement_start(self.start.is_none());
            let token = match self.lexer.next_token() {
                Ok(Some(token)) => token,
                Ok(None) => break,
                Err(LexError { offset, message }) => return Err(self.error(offset, message)),
            };
            match token.kind {
                Kind::Space | Kind::Comment => {}
                Kind::CustomDelimiter => {
                    self.check_parens(token.start)?;
                    self.finish();
                }
                Kind::DelimiterCommand => {
                    self.check_closed(|| {
                        let (line, _) = Lines::new(self.src).at(token.start);
                        format!("before the `DELIMITER` line {line}")
                    })?;
                    self.check_parens(token.start)?;
                    self.finish();
                    self.custom = self.lexer.custom_delimiter();
                }
                Kind::Semicolon => {
                    let sig = Sig::new(token, self.src, self.previous_dot);
                    if self.dialect == Dialect::Mysql {
                        self.mysql.resolve(&sig);
                    }
                    if self.open().is_some() {
                        self.push(token);
                    } else {
                        self.check_parens(token.start)?;
                        self.finish();
                    }
                }
                _ => {
                    self.push(token);
                    if let Some(offset) = self.stray_paren {
                        return Err(self.error(
                            offset,
                            "`)` without a matching `(` before it in the statement".to_owned(),
                        ));
                    }
                }
            }
        }
        self.check_closed(|| "before the end of the input".to_owned())?;
        self.check_parens(self.src.len())?;
        self.finish();
        Ok(self.out)
    }

    /// A statement ending (at `end`) with a parenthesis still open.
    fn check_parens(&self, end: usize) -> Result<(), SplitError> {
        if self.parens == 0 || self.start.is_none() {
            return Ok(());
        }
        let where_ = if end >= self.src.len() {
            "before the end of the input"
        } else {
            "before the `;` that ends the statement"
        };
        Err(self.error(
            self.first_paren,
            format!("unterminated `(`: not closed {where_}"),
        ))
    }

    /// The outermost block of the current statement still open.
    fn open(&self) -> Option<Opening> {
        self.start?;
        match (self.dialect, self.body) {
            (Dialect::Postgres, _) => self.pg.open(),
            (Dialect::Sqlite, Some(Body::SqliteTrigger)) => self.sqlite.open(),
            (Dialect::Mysql, Some(Body::MysqlCompound)) if !self.custom => self.mysql.open(),
            _ => None,
        }
    }

    fn check_closed(&self, when: impl FnOnce() -> String) -> Result<(), SplitError> {
        match self.open() {
            None => Ok(()),
            Some(Opening { offset, what }) => Err(self.error(
                offset,
                format!("unterminated {what}: not closed {}", when()),
            )),
        }
    }

    fn error(&self, offset: usize, message: String) -> SplitError {
        let (line, column) = Lines::new(self.src).at(offset);
        SplitError {
            line,
            column,
            message,
        }
    }

    /// Adds a significant token to the current statement.
    fn push(&mut self, token: Token) {
        let sig = Sig::new(token, self.src, self.previous_dot);
        self.previous_dot = sig.is_punct(b'.');
        if sig.is_punct(b'(') {
            if self.parens == 0 {
                self.first_paren = token.start;
            }
            self.parens += 1;
        } else if sig.is_punct(b')') {
            match self.parens.checked_sub(1) {
                Some(left) => self.parens = left,
                None => self.stray_paren = Some(token.start),
            }
        }
        if self.start.is_none() {
            self.start = Some(token.start);
        }
        self.end = token.end;
        self.count += 1;
        if self.head.len() < HEAD_LEN {
            self.head.push(sig);
        }
        if self.body.is_none() {
            self.body = rules::classify(self.dialect, &self.head);
            if self.body.is_none() && self.head.len() == HEAD_LEN {
                self.body = Some(Body::Plain);
            }
        }
        match self.dialect {
            Dialect::Postgres => self.pg.feed(&sig, self.body == Some(Body::PgRoutine)),
            Dialect::Sqlite => {
                if self.body == Some(Body::SqliteTrigger) {
                    self.sqlite.feed(&sig);
                }
            }
            Dialect::Mysql => self.mysql.feed(&sig),
        }
    }

    /// Ends the current statement, if it has any token.
    fn finish(&mut self) {
        if let Some(start) = self.start.take() {
            let (line, column) = self.lines.at(start);
            let changes_schema = rules::changes_schema(self.dialect, &self.head);
            let no_transaction = match self.dialect {
                Dialect::Postgres => {
                    rules::pg_no_transaction(&self.head, self.count == self.head.len())
                }
                Dialect::Mysql => changes_schema,
                Dialect::Sqlite => false,
            };
            let transaction_control =
                rules::transaction_control(self.dialect, &self.head, self.body);
            self.out.push(Statement {
                text: &self.src[start..self.end],
                start,
                line,
                column,
                no_transaction,
                changes_schema,
                transaction_control,
            });
        }
        self.head.clear();
        self.count = 0;
        self.previous_dot = false;
        self.parens = 0;
        self.body = None;
        self.pg = PgState::default();
        self.sqlite = SqliteState::default();
        self.mysql.reset();
    }
}
