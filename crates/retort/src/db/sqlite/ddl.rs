//! What SQLite keeps only as the text of its `CREATE` statements:
//! constraint names, CHECK and generated expressions, collations,
//! AUTOINCREMENT, foreign-key deferral, index expressions and predicates,
//! view bodies. The text is one the database accepted, so the reader can
//! be forgiving: what it does not recognise it skips.

use crate::Dialect;
use crate::schema::{Action, Deferrable, IndexKey, IndexPart};
use crate::sql::{Piece, PieceKind, pieces, split_commas};

/// A `CREATE TABLE` statement, read.
#[derive(Debug, Default)]
pub(super) struct TableSql {
    pub(super) columns: Vec<ColumnSql>,
    /// Table constraints, column constraints included (as if written on
    /// the table, with the one column).
    pub(super) constraints: Vec<ConstraintSql>,
}

/// One column definition.
#[derive(Debug, Default)]
pub(super) struct ColumnSql {
    pub(super) name: String,
    pub(super) collation: Option<String>,
    pub(super) autoincrement: bool,
    /// The expression of a generated column, and whether it is stored.
    pub(super) generated: Option<(String, bool)>,
}

/// One constraint and its name, if it has one.
#[derive(Debug)]
pub(super) struct ConstraintSql {
    pub(super) name: Option<String>,
    pub(super) kind: ConstraintKind,
}

#[derive(Debug)]
pub(super) enum ConstraintKind {
    /// The columns come from the pragma, in key order.
    PrimaryKey,
    Unique(Vec<String>),
    Check(String),
    ForeignKey(ForeignKeySql),
}

#[derive(Debug)]
pub(super) struct ForeignKeySql {
    pub(super) columns: Vec<String>,
    pub(super) table: String,
    /// Empty when the statement leaves them out (the parent's key).
    pub(super) referenced: Vec<String>,
    pub(super) on_delete: Action,
    pub(super) on_update: Action,
    pub(super) deferrable: Deferrable,
    pub(super) match_full: bool,
}

/// A cursor over the pieces of one statement.
struct Reader<'a> {
    pieces: Vec<Piece<'a>>,
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(src: &'a str) -> Option<Reader<'a>> {
        let pieces = pieces(src, Dialect::Sqlite)
            .ok()?
            .into_iter()
            .filter(|p| p.kind != PieceKind::Comment)
            .collect();
        Some(Reader { pieces, at: 0 })
    }

    fn peek(&self) -> Option<&Piece<'a>> {
        self.pieces.get(self.at)
    }

    fn peek_is(&self, word: &str) -> bool {
        self.peek().is_some_and(|p| p.is(word))
    }

    fn peek_punct(&self, c: char) -> bool {
        self.peek().is_some_and(|p| p.kind == PieceKind::Punct(c))
    }

    fn next(&mut self) -> Option<Piece<'a>> {
        let piece = self.pieces.get(self.at).copied();
        self.at += 1;
        piece
    }

    fn eat(&mut self, word: &str) -> bool {
        let yes = self.peek_is(word);
        if yes {
            self.at += 1;
        }
        yes
    }

    fn eat_punct(&mut self, c: char) -> bool {
        let yes = self.peek_punct(c);
        if yes {
            self.at += 1;
        }
        yes
    }

    /// Skips to just after the next `word` at this depth.
    fn skip_past(&mut self, word: &str) -> bool {
        while let Some(piece) = self.next() {
            if piece.is(word) {
                return true;
            }
        }
        false
    }

    /// The pieces of a parenthesised group (the reader just after its
    /// `(`), up to its `)`, which is consumed.
    fn group(&mut self) -> &[Piece<'a>] {
        let start = self.at;
        let mut depth = 0;
        while let Some(piece) = self.pieces.get(self.at) {
            match piece.kind {
                PieceKind::Punct('(') => depth += 1,
                PieceKind::Punct(')') if depth == 0 => break,
                PieceKind::Punct(')') => depth -= 1,
                _ => {}
            }
            self.at += 1;
        }
        let end = self.at;
        self.at += 1;
        &self.pieces[start..end.min(self.pieces.len())]
    }

    /// A name (word or quoted), possibly `schema.name` (the last part).
    fn name(&mut self) -> Option<String> {
        let mut name = self.next()?.ident();
        while self.eat_punct('.') {
            name = self.next()?.ident();
        }
        Some(name)
    }

    /// `(a, b DESC, …)`: the column names.
    fn column_list(&mut self) -> Vec<String> {
        if !self.eat_punct('(') {
            return Vec::new();
        }
        split_commas(self.group())
            .iter()
            .filter_map(|part| part.first().map(Piece::ident))
            .collect()
    }
}

/// An expression in one canonical spelling, so that what two people
/// wrote differently but means the same compares equal: keywords and
/// unquoted names in lower case, one space between tokens, none inside
/// parentheses, before commas or around dots, operators of several
/// characters kept whole.
pub(super) fn canonical(pieces: &[Piece<'_>]) -> String {
    let mut out = String::new();
    let mut previous: Option<&Piece<'_>> = None;
    for piece in pieces {
        if let Some(before) = previous {
            let glued = matches!(before.kind, PieceKind::Punct('(' | '.'))
                || matches!(piece.kind, PieceKind::Punct(')' | ',' | '.'))
                || (operator(before) && operator(piece)
                    && before.start + before.text.len() == piece.start)
                // A function call: `name(`.
                || (matches!(piece.kind, PieceKind::Punct('('))
                    && matches!(before.kind, PieceKind::Word | PieceKind::Quoted)
                    && before.start + before.text.len() == piece.start);
            if !glued {
                out.push(' ');
            }
        }
        match piece.kind {
            PieceKind::Word => out.push_str(&piece.text.to_ascii_lowercase()),
            _ => out.push_str(piece.text),
        }
        previous = Some(piece);
    }
    out
}

/// One character of an operator (`<`, `=`, `|`…): several in a row are
/// one operator.
fn operator(piece: &Piece<'_>) -> bool {
    matches!(piece.kind, PieceKind::Punct(c) if !matches!(c, '(' | ')' | ',' | '.' | ';'))
}

/// Reads a `CREATE TABLE` statement.
pub(super) fn table(sql: &str) -> TableSql {
    let mut table = TableSql::default();
    let Some(mut r) = Reader::new(sql) else {
        return table;
    };
    // CREATE [TEMP] TABLE [IF NOT EXISTS] name (
    while let Some(piece) = r.next() {
        if piece.kind == PieceKind::Punct('(') {
            break;
        }
    }
    let body: Vec<Piece<'_>> = r.group().to_vec();
    for part in split_commas(&body) {
        let mut item = Reader {
            pieces: part.to_vec(),
            at: 0,
        };
        let first = item.peek().copied();
        let is_constraint = first.is_some_and(|p| {
            ["constraint", "primary", "unique", "check", "foreign"]
                .iter()
                .any(|w| p.is(w))
        });
        if is_constraint {
            if let Some(constraint) = table_constraint(&mut item) {
                table.constraints.push(constraint);
            }
        } else if let Some(column) = column(&mut item, &mut table.constraints) {
            table.columns.push(column);
        }
    }
    table
}

fn table_constraint(r: &mut Reader<'_>) -> Option<ConstraintSql> {
    let name = if r.eat("constraint") { r.name() } else { None };
    let kind = if r.eat("primary") {
        r.eat("key");
        {
            r.column_list();
            ConstraintKind::PrimaryKey
        }
    } else if r.eat("unique") {
        ConstraintKind::Unique(r.column_list())
    } else if r.eat("check") {
        r.eat_punct('(');
        ConstraintKind::Check(canonical(r.group()))
    } else if r.eat("foreign") {
        r.eat("key");
        let columns = r.column_list();
        if !r.eat("references") {
            return None;
        }
        ConstraintKind::ForeignKey(references(r, columns)?)
    } else {
        return None;
    };
    Some(ConstraintSql { name, kind })
}

/// `REFERENCES` already read: the rest of a foreign-key clause.
fn references(r: &mut Reader<'_>, columns: Vec<String>) -> Option<ForeignKeySql> {
    let table = r.name()?;
    let referenced = if r.peek_punct('(') {
        r.column_list()
    } else {
        Vec::new()
    };
    let mut key = ForeignKeySql {
        columns,
        table,
        referenced,
        on_delete: Action::NoAction,
        on_update: Action::NoAction,
        deferrable: Deferrable::No,
        match_full: false,
    };
    loop {
        if r.eat("on") {
            let delete = r.eat("delete");
            if !delete {
                r.eat("update");
            }
            let action = if r.eat("cascade") {
                Action::Cascade
            } else if r.eat("restrict") {
                Action::Restrict
            } else if r.eat("set") {
                if r.eat("null") {
                    Action::SetNull
                } else {
                    r.eat("default");
                    Action::SetDefault
                }
            } else {
                r.eat("no");
                r.eat("action");
                Action::NoAction
            };
            if delete {
                key.on_delete = action;
            } else {
                key.on_update = action;
            }
        } else if r.eat("match") {
            key.match_full = r.next().is_some_and(|p| p.is("full"));
        } else if r.peek_is("not") || r.peek_is("deferrable") {
            let not = r.eat("not");
            r.eat("deferrable");
            let deferred = if r.eat("initially") {
                r.next().is_some_and(|p| p.is("deferred"))
            } else {
                false
            };
            key.deferrable = match (not, deferred) {
                (true, _) => Deferrable::No,
                (false, true) => Deferrable::InitiallyDeferred,
                (false, false) => Deferrable::InitiallyImmediate,
            };
        } else {
            return Some(key);
        }
    }
}

/// A column definition; its constraints go to `constraints`.
fn column(r: &mut Reader<'_>, constraints: &mut Vec<ConstraintSql>) -> Option<ColumnSql> {
    let mut column = ColumnSql {
        name: r.next()?.ident(),
        ..ColumnSql::default()
    };
    let starts_constraint = |p: &Piece<'_>| {
        [
            "constraint",
            "primary",
            "not",
            "null",
            "unique",
            "check",
            "default",
            "collate",
            "references",
            "generated",
            "as",
        ]
        .iter()
        .any(|w| p.is(w))
    };
    // The type: words and a parenthesised size, up to the first
    // constraint.
    while let Some(piece) = r.peek() {
        if starts_constraint(piece) {
            break;
        }
        if r.eat_punct('(') {
            r.group();
        } else {
            r.next();
        }
    }
    let mut name = None;
    while let Some(piece) = r.next() {
        let one = || vec![column.name.clone()];
        if piece.is("constraint") {
            name = r.name();
            continue;
        }
        if piece.is("primary") {
            r.eat("key");
            let _ = r.eat("asc") || r.eat("desc");
            skip_conflict(r);
            column.autoincrement = r.eat("autoincrement");
            constraints.push(ConstraintSql {
                name: name.take(),
                kind: ConstraintKind::PrimaryKey,
            });
        } else if piece.is("unique") {
            skip_conflict(r);
            constraints.push(ConstraintSql {
                name: name.take(),
                kind: ConstraintKind::Unique(one()),
            });
        } else if piece.is("check") {
            r.eat_punct('(');
            let expression = canonical(r.group());
            constraints.push(ConstraintSql {
                name: name.take(),
                kind: ConstraintKind::Check(expression),
            });
        } else if piece.is("references") {
            if let Some(key) = references(r, one()) {
                constraints.push(ConstraintSql {
                    name: name.take(),
                    kind: ConstraintKind::ForeignKey(key),
                });
            }
        } else if piece.is("collate") {
            column.collation = r.next().map(|p| p.ident().to_ascii_lowercase());
        } else if piece.is("generated") || piece.is("as") {
            if piece.is("generated") {
                r.eat("always");
                r.eat("as");
            }
            r.eat_punct('(');
            let expression = canonical(r.group());
            let stored = r.eat("stored");
            r.eat("virtual");
            column.generated = Some((expression, stored));
        } else if piece.is("default") {
            // The value itself comes from `pragma_table_xinfo`.
            if r.eat_punct('(') {
                r.group();
            } else {
                let _ = r.eat_punct('-') || r.eat_punct('+');
                r.next();
            }
        } else if piece.is("not") || piece.is("null") {
            if piece.is("not") {
                r.eat("null");
            }
            skip_conflict(r);
        }
    }
    Some(column)
}

/// `ON CONFLICT …`, which the model does not keep.
fn skip_conflict(r: &mut Reader<'_>) {
    if r.peek_is("on") {
        r.eat("on");
        r.eat("conflict");
        r.next();
    }
}

/// A `CREATE INDEX` statement, read: its keys and predicate.
#[derive(Debug, Default)]
pub(super) struct IndexSql {
    pub(super) parts: Vec<IndexPart>,
    pub(super) predicate: Option<String>,
}

pub(super) fn index(sql: &str) -> IndexSql {
    let mut index = IndexSql::default();
    let Some(mut r) = Reader::new(sql) else {
        return index;
    };
    if !r.skip_past("on") {
        return index;
    }
    r.name();
    if !r.eat_punct('(') {
        return index;
    }
    let keys: Vec<Piece<'_>> = r.group().to_vec();
    for part in split_commas(&keys) {
        let mut end = part.len();
        let mut descending = false;
        if end > 0 && (part[end - 1].is("desc") || part[end - 1].is("asc")) {
            descending = part[end - 1].is("desc");
            end -= 1;
        }
        if end >= 2 && part[end - 2].is("collate") {
            end -= 2;
        }
        let part = &part[..end];
        let key = match part {
            [one] if matches!(one.kind, PieceKind::Word | PieceKind::Quoted) => {
                IndexKey::Column(one.ident())
            }
            _ => IndexKey::Expression(canonical(part)),
        };
        index.parts.push(IndexPart {
            key,
            descending,
            nulls_first: None,
            opclass: None,
            prefix: None,
        });
    }
    if r.eat("where") {
        let rest = &r.pieces[r.at..];
        index.predicate = Some(canonical(rest));
    }
    index
}

/// The query of a `CREATE VIEW`, canonical, and every name it mentions.
pub(super) fn view(sql: &str) -> (String, Vec<String>) {
    let Some(mut r) = Reader::new(sql) else {
        return (sql.to_owned(), Vec::new());
    };
    // CREATE VIEW name [(columns)] AS
    r.skip_past("view");
    r.eat("if");
    r.eat("not");
    r.eat("exists");
    r.name();
    if r.eat_punct('(') {
        r.group();
    }
    r.eat("as");
    let body = &r.pieces[r.at..];
    let names = body
        .iter()
        .filter(|p| matches!(p.kind, PieceKind::Word | PieceKind::Quoted))
        .map(Piece::ident)
        .collect();
    (canonical(body), names)
}

/// A declared type in one spelling: lower case, no space inside its
/// parentheses, single spaces between words.
pub(super) fn type_name(declared: &str) -> String {
    let words: Vec<&str> = declared.split_whitespace().collect();
    let mut out = words.join(" ").to_ascii_lowercase();
    for (spaced, tight) in [
        (" (", "("),
        ("( ", "("),
        (" )", ")"),
        (" ,", ","),
        (", ", ","),
    ] {
        out = out.replace(spaced, tight);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_of_a_table() {
        let sql = r#"CREATE TABLE "t" (
            id INTEGER CONSTRAINT pk PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL COLLATE NOCASE CHECK (length(name)>0),
            parent INT REFERENCES t(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
            total AS (id * 2) STORED,
            CONSTRAINT uq UNIQUE (name, parent),
            FOREIGN KEY (parent) REFERENCES other ON UPDATE SET NULL
        )"#;
        let table = table(sql);
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "name", "parent", "total"]);
        assert!(table.columns[0].autoincrement);
        assert_eq!(table.columns[1].collation.as_deref(), Some("nocase"));
        assert_eq!(
            table.columns[3].generated,
            Some(("id * 2".to_owned(), true))
        );
        let kinds: Vec<String> = table
            .constraints
            .iter()
            .map(|c| format!("{:?} {:?}", c.name, c.kind))
            .collect();
        assert_eq!(kinds.len(), 5, "{kinds:#?}");
        assert!(kinds[0].starts_with("Some(\"pk\") PrimaryKey"));
        assert!(
            kinds[1].starts_with("None Check(\"length(name) > 0\")"),
            "{kinds:#?}"
        );
        assert!(kinds[2].contains("on_delete: Cascade") && kinds[2].contains("InitiallyDeferred"));
        assert!(kinds[3].starts_with("Some(\"uq\") Unique([\"name\", \"parent\"])"));
        assert!(kinds[4].contains("table: \"other\"") && kinds[4].contains("on_update: SetNull"));
    }

    #[test]
    fn spellings_of_one_expression_compare_equal() {
        let read = |sql: &str| {
            let pieces = pieces(sql, Dialect::Sqlite).unwrap();
            canonical(&pieces)
        };
        assert_eq!(read("a>=0 AND  b <> 'X y'"), read("A >= 0 and b<>'X y'"));
        assert_eq!(read("lower( name )"), "lower(name)");
        assert_eq!(read("a || 'b'"), "a || 'b'");
        assert_eq!(read("t.a IN (1,2)"), "t.a in (1, 2)");
    }

    #[test]
    fn keys_and_predicate_of_an_index() {
        let index =
            index("CREATE UNIQUE INDEX i ON t (a DESC, lower(b), c COLLATE nocase) WHERE a > 0");
        assert_eq!(index.parts.len(), 3);
        assert!(index.parts[0].descending);
        assert_eq!(index.parts[1].key, IndexKey::Expression("lower(b)".into()));
        assert_eq!(index.parts[2].key, IndexKey::Column("c".into()));
        assert_eq!(index.predicate.as_deref(), Some("a > 0"));
    }

    #[test]
    fn types_in_one_spelling() {
        assert_eq!(type_name("VARCHAR( 255 )"), "varchar(255)");
        assert_eq!(type_name("DOUBLE  PRECISION"), "double precision");
        assert_eq!(type_name("NUMERIC(10, 2)"), "numeric(10,2)");
    }
}
