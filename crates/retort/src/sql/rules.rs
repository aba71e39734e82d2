//! What a statement is, read off its leading tokens, and where its compound
//! body (if any) ends.
//!
//! Everything here works on significant tokens (comments and whitespace are
//! never seen) and on bare words only: a keyword inside a string, a quoted
//! identifier or after a `.` (`new.end`) is not a keyword.

use super::lexer::{Kind, Token};
use crate::Dialect;

/// How many leading significant tokens of a statement are kept for
/// classification; every rule below looks at fewer.
pub(super) const HEAD_LEN: usize = 24;

/// A significant token with its text.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sig<'a> {
    pub(super) kind: Kind,
    pub(super) text: &'a str,
    pub(super) start: usize,
    /// Follows a `.`: a name part, never a keyword.
    pub(super) qualified: bool,
}

impl<'a> Sig<'a> {
    pub(super) fn new(token: Token, src: &'a str, qualified: bool) -> Self {
        Sig {
            kind: token.kind,
            text: &src[token.start..token.end],
            start: token.start,
            qualified,
        }
    }

    /// A bare word, not a name part.
    fn is_keyword(&self) -> bool {
        self.kind == Kind::Word && !self.qualified
    }

    /// The keyword `kw` (given in uppercase), in any case.
    pub(super) fn is(&self, kw: &str) -> bool {
        self.is_keyword() && self.text.eq_ignore_ascii_case(kw)
    }

    fn is_any(&self, kws: &[&str]) -> bool {
        kws.iter().any(|kw| self.is(kw))
    }

    pub(super) fn is_punct(&self, c: u8) -> bool {
        self.kind == Kind::Punct(c)
    }

    fn is_semicolon(&self) -> bool {
        matches!(self.kind, Kind::Semicolon | Kind::Punct(b';'))
    }
}

/// Whether the keyword `kw` is at `i`; `None` when the head is shorter.
fn kw_at(head: &[Sig<'_>], i: usize, kw: &str) -> Option<bool> {
    head.get(i).map(|t| t.is(kw))
}

/// What kind of body the statement has, decided from its head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Body {
    /// An ordinary statement: the next terminator ends it.
    Plain,
    /// PostgreSQL `CREATE [OR REPLACE] FUNCTION|PROCEDURE`: may hold a
    /// `BEGIN ATOMIC … END` body.
    PgRoutine,
    /// SQLite `CREATE [TEMP|TEMPORARY] TRIGGER … BEGIN … END`.
    SqliteTrigger,
    /// A MySQL/MariaDB stored program or compound statement.
    MysqlCompound,
}

/// The body kind, or `None` while the head is too short to tell.
pub(super) fn classify(dialect: Dialect, head: &[Sig<'_>]) -> Option<Body> {
    let yes = match dialect {
        Dialect::Postgres => pg_routine(head)?,
        Dialect::Sqlite => sqlite_trigger(head)?,
        Dialect::Mysql => mysql_compound(head)?,
    };
    Some(if !yes {
        Body::Plain
    } else {
        match dialect {
            Dialect::Postgres => Body::PgRoutine,
            Dialect::Sqlite => Body::SqliteTrigger,
            Dialect::Mysql => Body::MysqlCompound,
        }
    })
}

/// `CREATE [OR REPLACE] {FUNCTION | PROCEDURE}` (psql's own test).
fn pg_routine(head: &[Sig<'_>]) -> Option<bool> {
    if !kw_at(head, 0, "CREATE")? {
        return Some(false);
    }
    let mut i = 1;
    if kw_at(head, 1, "OR")? {
        if !kw_at(head, 2, "REPLACE")? {
            return Some(false);
        }
        i = 3;
    }
    Some(head.get(i)?.is_any(&["FUNCTION", "PROCEDURE"]))
}

/// `[EXPLAIN [QUERY PLAN]] CREATE [TEMP | TEMPORARY] TRIGGER` (the test of
/// SQLite's own `sqlite3_complete`).
fn sqlite_trigger(head: &[Sig<'_>]) -> Option<bool> {
    let mut i = 0;
    if kw_at(head, 0, "EXPLAIN")? {
        i = 1;
        if kw_at(head, 1, "QUERY")? {
            if !kw_at(head, 2, "PLAN")? {
                return Some(false);
            }
            i = 3;
        }
    }
    if !kw_at(head, i, "CREATE")? {
        return Some(false);
    }
    i += 1;
    if head.get(i)?.is_any(&["TEMP", "TEMPORARY"]) {
        i += 1;
    }
    kw_at(head, i, "TRIGGER")
}

/// `CREATE [OR REPLACE] [DEFINER = user] [AGGREGATE] {PROCEDURE | FUNCTION |
/// TRIGGER | EVENT}`, and MariaDB's compound statements outside stored
/// programs: `BEGIN NOT ATOMIC`, `IF`, `CASE`, `LOOP`, `WHILE`, `REPEAT`.
fn mysql_compound(head: &[Sig<'_>]) -> Option<bool> {
    let first = head.first()?;
    if first.is("BEGIN") {
        return Some(kw_at(head, 1, "NOT")? && kw_at(head, 2, "ATOMIC")?);
    }
    if first.is_any(&["IF", "CASE", "LOOP", "WHILE", "REPEAT"]) {
        return Some(true);
    }
    if !first.is("CREATE") {
        return Some(false);
    }
    let mut i = 1;
    if kw_at(head, i, "OR")? {
        if !kw_at(head, i + 1, "REPLACE")? {
            return Some(false);
        }
        i += 2;
    }
    if kw_at(head, i, "DEFINER")? {
        if !head.get(i + 1)?.is_punct(b'=') {
            return Some(false);
        }
        let user = head.get(i + 2)?;
        i += 3;
        if user.is("CURRENT_USER") {
            if head.get(i)?.is_punct(b'(') {
                i += 2;
            }
        } else {
            let next = head.get(i)?;
            if next.kind == Kind::Variable {
                // user@host
                i += 1;
            } else if next.is_punct(b'@') {
                // 'user'@'host'
                i += 2;
            }
        }
    }
    if kw_at(head, i, "AGGREGATE")? {
        i += 1;
    }
    Some(
        head.get(i)?
            .is_any(&["PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"]),
    )
}

/// The statement does more than read and write rows (DDL, grants, a code
/// block…): MySQL and MariaDB commit implicitly around it, and so do
/// CockroachDB and YugabyteDB without transactional DDL, so it cannot
/// share a transaction with others there. Anything that is not plain data
/// manipulation counts: treating a statement as committing costs only a
/// journal row, the other mistake a statement applied twice. Always
/// `false` for SQLite.
pub(super) fn changes_schema(dialect: Dialect, head: &[Sig<'_>]) -> bool {
    let Some(first) = head.first() else {
        return false;
    };
    let rows_only: &[&str] = match dialect {
        Dialect::Mysql => {
            if first.is("CREATE") && kw_at(head, 1, "TEMPORARY") == Some(true) {
                return false;
            }
            &[
                "INSERT", "UPDATE", "DELETE", "REPLACE", "SELECT", "WITH", "VALUES", "TABLE", "DO",
            ]
        }
        // PostgreSQL's `DO` runs a code block, which may change the schema.
        Dialect::Postgres => &[
            "INSERT",
            "UPDATE",
            "DELETE",
            "MERGE",
            "UPSERT",
            "SELECT",
            "WITH",
            "VALUES",
            "TABLE",
            "SET",
            "RESET",
            "SHOW",
            "LOCK",
            "SAVEPOINT",
            "RELEASE",
            "ROLLBACK",
            "NOTIFY",
        ],
        Dialect::Sqlite => return false,
    };
    !first.is_any(rows_only)
}

/// The statement starts, ends or abandons a transaction (`BEGIN`, `START
/// TRANSACTION`, `COMMIT`, `END`, `ROLLBACK` but `ROLLBACK TO`, `ABORT`,
/// PostgreSQL's `PREPARE TRANSACTION` and `COMMIT|ROLLBACK PREPARED`,
/// MySQL's `XA`): run inside the transaction retort opened for a migration,
/// it would end that transaction early. Savepoints nest and are not marked.
/// `body` is the statement's compound kind: a MySQL `BEGIN … END` block or
/// a SQLite trigger body starts with or contains `BEGIN` but controls no
/// transaction.
pub(super) fn transaction_control(dialect: Dialect, head: &[Sig<'_>], body: Option<Body>) -> bool {
    let kw = |i: usize, k: &str| kw_at(head, i, k) == Some(true);
    let Some(first) = head.first() else {
        return false;
    };
    if body.is_some_and(|b| b != Body::Plain) {
        return false;
    }
    if first.is_any(&["BEGIN", "COMMIT", "END", "ABORT"]) {
        return true;
    }
    if first.is("ROLLBACK") {
        // ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name
        let to = if kw(1, "WORK") || kw(1, "TRANSACTION") {
            2
        } else {
            1
        };
        return !kw(to, "TO");
    }
    match dialect {
        Dialect::Postgres => {
            (first.is("START") && kw(1, "TRANSACTION"))
                || (first.is("PREPARE") && kw(1, "TRANSACTION"))
        }
        Dialect::Mysql => (first.is("START") && kw(1, "TRANSACTION")) || first.is("XA"),
        Dialect::Sqlite => false,
    }
}

/// PostgreSQL: the statement cannot run inside a transaction block.
///
/// `complete` says that `head` holds every token of the statement.
pub(super) fn pg_no_transaction(head: &[Sig<'_>], complete: bool) -> bool {
    let kw = |i: usize, k: &str| kw_at(head, i, k) == Some(true);
    let Some(first) = head.first() else {
        return false;
    };
    if first.is("VACUUM") {
        return true;
    }
    if first.is("CREATE") || first.is("DROP") {
        if kw(1, "DATABASE") || kw(1, "TABLESPACE") || kw(1, "SUBSCRIPTION") {
            return true;
        }
        let i = if first.is("CREATE") && kw(1, "UNIQUE") {
            2
        } else {
            1
        };
        return kw(i, "INDEX") && kw(i + 1, "CONCURRENTLY");
    }
    if first.is("ALTER") {
        if kw(1, "SYSTEM") || kw(1, "SUBSCRIPTION") {
            return true;
        }
        // ALTER DATABASE name SET TABLESPACE
        if kw(1, "DATABASE") {
            return kw(3, "SET") && kw(4, "TABLESPACE");
        }
        // ALTER TABLE … DETACH PARTITION … CONCURRENTLY
        if kw(1, "TABLE") {
            let detach = head
                .windows(2)
                .position(|w| w[0].is("DETACH") && w[1].is("PARTITION"));
            return detach.is_some_and(|d| head[d + 2..].iter().any(|t| t.is("CONCURRENTLY")));
        }
        return false;
    }
    if first.is("DISCARD") {
        return kw(1, "ALL");
    }
    if first.is("REINDEX") {
        return reindex_no_transaction(head);
    }
    if first.is("CLUSTER") {
        // Only CLUSTER without a table: `CLUSTER`, `CLUSTER VERBOSE`,
        // `CLUSTER (VERBOSE)`.
        let mut i = 1;
        if kw(1, "VERBOSE") {
            i = 2;
        } else if head.get(1).is_some_and(|t| t.is_punct(b'(')) {
            match head.iter().position(|t| t.is_punct(b')')) {
                Some(close) => i = close + 1,
                None => return false,
            }
        }
        return complete && i == head.len();
    }
    false
}

/// `REINDEX [(options)] {INDEX | TABLE | SCHEMA | DATABASE | SYSTEM}
/// [CONCURRENTLY] name`: the concurrent form, and the forms that reindex
/// many tables one transaction each.
fn reindex_no_transaction(head: &[Sig<'_>]) -> bool {
    let mut i = 1;
    if head.get(1).is_some_and(|t| t.is_punct(b'(')) {
        let Some(close) = head.iter().position(|t| t.is_punct(b')')) else {
            return false;
        };
        // (CONCURRENTLY [boolean], …)
        let options = &head[2..close];
        for (j, option) in options.iter().enumerate() {
            if option.is("CONCURRENTLY") {
                let off = options
                    .get(j + 1)
                    .is_some_and(|v| v.is_any(&["FALSE", "OFF"]) || v.text == "0");
                if !off {
                    return true;
                }
            }
        }
        i = close + 1;
    }
    let Some(kind) = head.get(i) else {
        return false;
    };
    kind.is_any(&["SCHEMA", "DATABASE", "SYSTEM"])
        || head.get(i + 1).is_some_and(|t| t.is("CONCURRENTLY"))
}

/// A position and the keyword that opened a block, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Opening {
    /// Byte offset of the opening keyword.
    pub(super) offset: usize,
    /// How the block is written, e.g. "`BEGIN … END`".
    pub(super) what: &'static str,
}

/// psql's rule for SQL-standard function bodies: inside `CREATE FUNCTION`
/// or `CREATE PROCEDURE`, at parenthesis depth 0, `BEGIN` opens a block,
/// `CASE` opens one inside a block, `END` closes one. Parentheses are
/// tracked for every PostgreSQL statement: psql does not end a statement at
/// a `;` inside them (`CREATE RULE … DO ALSO (…; …)`).
#[derive(Debug, Default)]
pub(super) struct PgState {
    parens: usize,
    first_paren: usize,
    depth: usize,
    first_begin: usize,
}

impl PgState {
    pub(super) fn feed(&mut self, t: &Sig<'_>, routine: bool) {
        if t.is_punct(b'(') {
            if self.parens == 0 {
                self.first_paren = t.start;
            }
            self.parens += 1;
        } else if t.is_punct(b')') {
            self.parens = self.parens.saturating_sub(1);
        } else if routine && self.parens == 0 {
            if t.is("BEGIN") {
                if self.depth == 0 {
                    self.first_begin = t.start;
                }
                self.depth += 1;
            } else if t.is("CASE") && self.depth > 0 {
                self.depth += 1;
            } else if t.is("END") {
                self.depth = self.depth.saturating_sub(1);
            }
        }
    }

    /// The outermost construct still open.
    pub(super) fn open(&self) -> Option<Opening> {
        if self.parens > 0 {
            Some(Opening {
                offset: self.first_paren,
                what: "`(`",
            })
        } else if self.depth > 0 {
            Some(Opening {
                offset: self.first_begin,
                what: "`BEGIN … END`",
            })
        } else {
            None
        }
    }
}

/// SQLite's own rule (`sqlite3_complete`): once a trigger's `BEGIN` has been
/// seen, only `END` right after a `;` ends the body, so `CASE … END` inside
/// never does.
#[derive(Debug, Default)]
pub(super) struct SqliteState {
    begin: Option<usize>,
    last: Last,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Last {
    #[default]
    Other,
    Semicolon,
    EndAfterSemicolon,
}

impl SqliteState {
    pub(super) fn feed(&mut self, t: &Sig<'_>) {
        if self.begin.is_none() {
            if t.is("BEGIN") {
                self.begin = Some(t.start);
            }
            return;
        }
        self.last = if t.is_semicolon() {
            Last::Semicolon
        } else if t.is("END") && self.last == Last::Semicolon {
            Last::EndAfterSemicolon
        } else {
            Last::Other
        };
    }

    pub(super) fn open(&self) -> Option<Opening> {
        match self.begin {
            Some(offset) if self.last != Last::EndAfterSemicolon => Some(Opening {
                offset,
                what: "trigger body `BEGIN … END`",
            }),
            _ => None,
        }
    }
}

/// A MySQL block opener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Begin,
    If,
    Loop,
    While,
    Repeat,
    For,
    /// A `CASE` statement (`END CASE`).
    CaseStatement,
    /// A `CASE` expression (`END`): its `THEN`/`ELSE` start expressions.
    CaseExpression,
}

impl Block {
    fn what(self) -> &'static str {
        match self {
            Block::Begin => "`BEGIN … END`",
            Block::If => "`IF … END IF`",
            Block::Loop => "`LOOP … END LOOP`",
            Block::While => "`WHILE … END WHILE`",
            Block::Repeat => "`REPEAT … END REPEAT`",
            Block::For => "`FOR … END FOR`",
            Block::CaseStatement => "`CASE … END CASE`",
            Block::CaseExpression => "`CASE … END`",
        }
    }
}

/// The words the MySQL block rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MysqlKeyword {
    End,
    Begin,
    Loop,
    While,
    For,
    Case,
    If,
    Repeat,
    Then,
    Else,
    Do,
    Row,
    Atomic,
}

impl MysqlKeyword {
    fn of(word: &str) -> Option<Self> {
        use MysqlKeyword as K;
        const WORDS: [(&str, MysqlKeyword); 13] = [
            ("END", K::End),
            ("BEGIN", K::Begin),
            ("LOOP", K::Loop),
            ("WHILE", K::While),
            ("FOR", K::For),
            ("CASE", K::Case),
            ("IF", K::If),
            ("REPEAT", K::Repeat),
            ("THEN", K::Then),
            ("ELSE", K::Else),
            ("DO", K::Do),
            ("ROW", K::Row),
            ("ATOMIC", K::Atomic),
        ];
        WORDS
            .iter()
            .find(|(w, _)| word.eq_ignore_ascii_case(w))
            .map(|&(_, k)| k)
    }
}

/// MySQL/MariaDB compound statements: a stack of open blocks, closed by any
/// `END` (`END IF`, `END LOOP`… skip their second word).
///
/// `IF` and `REPEAT` are also functions and `IF` also starts `IF [NOT]
/// EXISTS`; they open a block when they start a statement (after `;`,
/// `BEGIN`, `THEN`, `ELSE`, `DO`, `LOOP`, `REPEAT`, `FOR EACH ROW`, a label's
/// `:` or the routine's parameter list) or, elsewhere, unless `(` (or, for
/// `IF`, `NOT`/`EXISTS`) follows. `FOR` opens a block only where a statement
/// starts; `CASE` always does (both forms end with `END`).
#[derive(Debug)]
pub(super) struct MysqlState {
    stack: Vec<(Block, usize)>,
    /// The previous token leaves the parser where a statement starts.
    statement_start: bool,
    /// The previous token was `END`.
    after_end: bool,
    /// `IF` or `REPEAT` awaiting the next token: (block, offset, started a
    /// statement).
    pending: Option<(Block, usize, bool)>,
}

impl Default for MysqlState {
    fn default() -> Self {
        MysqlState {
            stack: Vec::new(),
            statement_start: true,
            after_end: false,
            pending: None,
        }
    }
}

impl MysqlState {
    pub(super) fn reset(&mut self) {
        self.stack.clear();
        self.statement_start = true;
        self.after_end = false;
        self.pending = None;
    }

    /// Decides a pending `IF`/`REPEAT` now that `next` follows it.
    pub(super) fn resolve(&mut self, next: &Sig<'_>) {
        let Some((block, offset, started)) = self.pending.take() else {
            return;
        };
        let opens = started
            || !(next.is_punct(b'(')
                || next.is_semicolon()
                || (block == Block::If && next.is_any(&["NOT", "EXISTS"])));
        if opens {
            self.stack.push((block, offset));
        }
    }

    pub(super) fn feed(&mut self, t: &Sig<'_>) {
        self.resolve(t);
        let after_end = std::mem::take(&mut self.after_end);
        let keyword = if t.is_keyword() {
            MysqlKeyword::of(t.text)
        } else {
            None
        };
        let mut open = |block| self.stack.push((block, t.start));
        use MysqlKeyword as K;
        let start = match keyword {
            // The second word of END IF, END LOOP…
            Some(K::If | K::Loop | K::While | K::Repeat | K::Case | K::For) if after_end => false,
            Some(K::End) => {
                self.stack.pop();
                self.after_end = true;
                false
            }
            Some(K::Begin) => {
                open(Block::Begin);
                true
            }
            Some(K::Loop) => {
                open(Block::Loop);
                true
            }
            Some(K::While) => {
                open(Block::While);
                false
            }
            Some(K::For) => {
                if self.statement_start {
                    open(Block::For);
                }
                false
            }
            Some(K::Case) => {
                open(if self.statement_start {
                    Block::CaseStatement
                } else {
                    Block::CaseExpression
                });
                false
            }
            Some(K::If) => {
                self.pending = Some((Block::If, t.start, self.statement_start));
                false
            }
            Some(K::Repeat) => {
                self.pending = Some((Block::Repeat, t.start, self.statement_start));
                true
            }
            Some(K::Then | K::Else) => {
                !matches!(self.stack.last(), Some((Block::CaseExpression, _)))
            }
            Some(K::Do | K::Row | K::Atomic) => true,
            // After a routine's parameter list.
            None if t.is_punct(b')') => self.stack.is_empty(),
            None => t.is_semicolon() || t.is_punct(b':'),
        };
        self.statement_start = start;
    }

    /// The outermost block still open.
    pub(super) fn open(&self) -> Option<Opening> {
        self.stack.first().map(|&(block, offset)| Opening {
            offset,
            what: block.what(),
        })
    }
}
