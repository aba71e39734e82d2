//! Property tests of the SQL statement splitter: statements built from
//! strings, quoted identifiers, dollar quotes and comments full of `;` and
//! quote escapes, joined with `;` and random whitespace and comments, split
//! back into exactly the statements they were built from.

use proptest::prelude::*;
use proptest::sample::select;
use retort::Dialect;
use retort::sql::{Statement, split};

type Pieces = &'static [&'static str];

/// Words, numbers and operators that start no compound body.
const PLAIN: Pieces = &[
    "a", "b1", "tbl", "SELECT", "FROM", "x_y", "Col9", "42", "3.5", "=", ",", "+", "*", "-",
    "(a, b)", "t.c", "<>", "é",
];
/// The inside of a standard `'…'` string (PostgreSQL, SQLite).
const STANDARD: Pieces = &[
    "a", ";", "''", " ", "--", "/*", "*/", "\"", "#", "$$", "\n", "\\", "é", "`",
];
/// The inside of a MySQL `'…'` string.
const MYSQL_SINGLE: Pieces = &[
    "a", ";", "''", " ", "--", "/*", "\"", "#", "\\'", "\\\\", "\n", "é", "`", "\\n",
];
/// The inside of a MySQL `"…"` string.
const MYSQL_DOUBLE: Pieces = &["a", ";", "\"\"", "\\\"", "'", "\\\\", " ", "#", "--"];
/// The inside of a PostgreSQL `E'…'` string.
const ESCAPE: Pieces = &["a", ";", "''", "\\'", "\\\\", " ", "\"", "$$"];
/// The inside of a `"…"` quoted identifier.
const DOUBLE_QUOTED: Pieces = &["a", ";", "\"\"", "'", " ", "--", "/*"];
/// The inside of a `` `…` `` quoted identifier.
const BACKTICKED: Pieces = &["a", ";", "``", "'", "\"", " ", "#"];
/// The inside of an SQLite `[…]` quoted identifier.
const BRACKETED: Pieces = &["a", ";", "'", "\"", " ", "`", "["];
/// The inside of `$$…$$`.
const DOLLAR: Pieces = &["a", ";", "'", "\"", " ", "\n", "--", "/*", "\\"];
/// The inside of `$t$…$t$`.
const TAGGED: Pieces = &["a", ";", "'", "$$", "$x$", " ", "$", "\\", "END;"];
/// The inside of a MySQL `/*! … */`.
const EXECUTABLE: Pieces = &["a", ";", " ", "'", "\""];

fn wrapped(open: &'static str, inside: Pieces, close: &'static str) -> BoxedStrategy<String> {
    prop::collection::vec(select(inside), 0..6)
        .prop_map(move |units| format!("{open}{}{close}", units.concat()))
        .boxed()
}

fn fixed(options: Pieces) -> BoxedStrategy<String> {
    select(options).prop_map(str::to_owned).boxed()
}

/// One token-ish piece of a statement.
fn piece(dialect: Dialect) -> BoxedStrategy<String> {
    match dialect {
        Dialect::Postgres => prop_oneof![
            4 => fixed(PLAIN),
            1 => wrapped("'", STANDARD, "'"),
            1 => wrapped("E'", ESCAPE, "'"),
            1 => wrapped("\"", DOUBLE_QUOTED, "\""),
            1 => wrapped("$$", DOLLAR, "$$"),
            1 => wrapped("$t$", TAGGED, "$t$"),
            1 => fixed(&["$1", "U&'d\\0061t'", "a$b", "x::int"]),
        ]
        .boxed(),
        Dialect::Sqlite => prop_oneof![
            4 => fixed(PLAIN),
            1 => wrapped("'", STANDARD, "'"),
            1 => wrapped("\"", DOUBLE_QUOTED, "\""),
            1 => wrapped("`", BACKTICKED, "`"),
            1 => wrapped("[", BRACKETED, "]"),
        ]
        .boxed(),
        Dialect::Mysql => prop_oneof![
            4 => fixed(PLAIN),
            1 => wrapped("'", MYSQL_SINGLE, "'"),
            1 => wrapped("\"", MYSQL_DOUBLE, "\""),
            1 => wrapped("`", BACKTICKED, "`"),
            1 => wrapped("/*!40101 ", EXECUTABLE, " */"),
            1 => fixed(&["@v", "@@session.x", "--1", "1--2", "x'0A'"]),
        ]
        .boxed(),
    }
}

/// What may separate two pieces inside a statement.
fn inner_separator(dialect: Dialect) -> BoxedStrategy<String> {
    let common = [" ", "\n", "\t", "  ", " /* c; */ ", " -- c;\n", "\r\n"];
    let extra: &[&'static str] = match dialect {
        Dialect::Postgres => &[" /* a /* b; */ c; */ "],
        Dialect::Sqlite => &[],
        Dialect::Mysql => &[" # c;\n"],
    };
    select([&common[..], extra].concat())
        .prop_map(str::to_owned)
        .boxed()
}

/// What may stand around a terminator, before the first statement and
/// after the last.
fn outer_separator(dialect: Dialect) -> BoxedStrategy<String> {
    let common = [
        "",
        " ",
        "\n",
        "\n\n",
        " -- end;\n",
        "/* x; */",
        "\t",
        "\r\n",
        ";",
        " ;\n",
    ];
    let extra: &[&'static str] = match dialect {
        Dialect::Mysql => &["# h;\n"],
        _ => &[],
    };
    select([&common[..], extra].concat())
        .prop_map(str::to_owned)
        .boxed()
}

fn statement(dialect: Dialect) -> BoxedStrategy<String> {
    (
        piece(dialect),
        prop::collection::vec((inner_separator(dialect), piece(dialect)), 0..5),
    )
        .prop_map(|(first, rest)| {
            let mut text = first;
            for (separator, piece) in rest {
                text.push_str(&separator);
                text.push_str(&piece);
            }
            text
        })
        .boxed()
}

/// A script and the statements it was built from.
fn script(dialect: Dialect) -> BoxedStrategy<(String, Vec<String>)> {
    (
        outer_separator(dialect),
        prop::collection::vec(
            (
                statement(dialect),
                outer_separator(dialect),
                outer_separator(dialect),
            ),
            0..6,
        ),
        any::<bool>(),
    )
        .prop_map(|(leading, statements, terminate_last)| {
            let mut sql = leading;
            let count = statements.len();
            let mut texts = Vec::new();
            for (i, (text, before, after)) in statements.into_iter().enumerate() {
                sql.push_str(&text);
                sql.push_str(&before);
                if i + 1 < count || terminate_last {
                    sql.push(';');
                }
                sql.push_str(&after);
                texts.push(text);
            }
            (sql, texts)
        })
        .boxed()
}

/// The 1-based line and column of a byte offset, counted naively.
/// A leading byte-order mark takes no column.
fn line_column(sql: &str, offset: usize) -> (usize, usize) {
    let bom = if sql.starts_with('\u{feff}') { 3 } else { 0 };
    let before = &sql[bom.min(offset)..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// What every successful split promises, whatever the input.
fn check_invariants(sql: &str, statements: &[Statement<'_>]) -> Result<(), TestCaseError> {
    let mut previous_end = 0;
    for s in statements {
        prop_assert!(!s.text.is_empty());
        prop_assert!(s.start >= previous_end);
        prop_assert_eq!(&sql[s.start..s.start + s.text.len()], s.text);
        // Only ASCII whitespace separates tokens; U+00A0 is part of a word.
        prop_assert_eq!(s.text.trim_ascii(), s.text);
        prop_assert_eq!((s.line, s.column), line_column(sql, s.start));
        previous_end = s.start + s.text.len();
    }
    Ok(())
}

fn texts(statements: &[Statement<'_>]) -> Vec<String> {
    statements.iter().map(|s| s.text.to_owned()).collect()
}

fn round_trip(dialect: Dialect, sql: &str, expected: &[String]) -> Result<(), TestCaseError> {
    let statements = split(sql, dialect).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(texts(&statements), expected);
    check_invariants(sql, &statements)?;
    // Splitting, joining and splitting again changes nothing.
    let joined = expected.join(";\n");
    let again = split(&joined, dialect).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(texts(&again), expected);
    check_invariants(&joined, &again)
}

/// `cases` cases; a failure prints its minimal input and writes no
/// regression file into the source tree.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn postgres_scripts_split_back((sql, expected) in script(Dialect::Postgres)) {
        round_trip(Dialect::Postgres, &sql, &expected)?;
    }

    #[test]
    fn sqlite_scripts_split_back((sql, expected) in script(Dialect::Sqlite)) {
        round_trip(Dialect::Sqlite, &sql, &expected)?;
    }

    #[test]
    fn mysql_scripts_split_back((sql, expected) in script(Dialect::Mysql)) {
        round_trip(Dialect::Mysql, &sql, &expected)?;
    }

    /// MySQL `DELIMITER` sections: the custom delimiter ends statements and
    /// `;` is ordinary text.
    #[test]
    fn mysql_delimiter_sections_split_back(
        sections in prop::collection::vec(
            (
                select(&["//", "$$", ";;", "!!"][..]),
                prop::collection::vec(
                    (
                        prop::collection::vec(statement(Dialect::Mysql), 1..3),
                        select(&["", " ", "\n", " -- end;\n", "/* x; */", "# h;\n"][..]),
                    ),
                    0..4,
                ),
            ),
            0..3,
        ),
        tail in prop::collection::vec(statement(Dialect::Mysql), 0..3),
    ) {
        let mut sql = String::new();
        let mut expected = Vec::new();
        for (delimiter, statements) in sections {
            sql.push_str(&format!("DELIMITER {delimiter}\n"));
            for (parts, separator) in statements {
                // `;` inside a section is text.
                let text = parts.join("; ");
                sql.push_str(&format!("{text}{separator}{delimiter} "));
                expected.push(text);
            }
            sql.push_str("\ndelimiter ;\n");
        }
        for text in tail {
            sql.push_str(&format!("{text};\n"));
            expected.push(text);
        }
        let statements = split(&sql, Dialect::Mysql)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(texts(&statements), expected);
        check_invariants(&sql, &statements)?;
    }
}

/// Fragments that open and close everything the lexer knows about.
const SOUP: Pieces = &[
    "'",
    "\"",
    "`",
    "[",
    "]",
    "$",
    "$$",
    "$a$",
    "$1",
    "--",
    "-",
    "#",
    "/*",
    "*/",
    "/*!",
    ";",
    "\n",
    " ",
    "\\",
    "E'",
    "U&'",
    "U&\"",
    "BEGIN",
    "END",
    "CASE",
    "IF",
    "CREATE",
    "TRIGGER",
    "FUNCTION",
    "PROCEDURE",
    "DELIMITER ",
    "//",
    "(",
    ")",
    "@",
    "@@",
    "é",
    "a",
    "1",
    ".",
    "ATOMIC",
    "LOOP",
    "REPEAT",
    "NOT",
    "EXISTS",
    "THEN",
    "ELSE",
    ":",
    "\r",
    "\u{feff}",
];

proptest! {
    #![proptest_config(config(1500))]

    /// Random bytes never make the splitter panic.
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let sql = String::from_utf8_lossy(&bytes);
        for dialect in Dialect::ALL {
            if let Ok(statements) = split(&sql, dialect) {
                check_invariants(&sql, &statements)?;
            }
        }
    }

    /// Nor do random mixes of quotes, comments and keywords.
    #[test]
    fn random_sql_soup_never_panics(parts in prop::collection::vec(select(SOUP), 0..60)) {
        let sql = parts.concat();
        for dialect in Dialect::ALL {
            if let Ok(statements) = split(&sql, dialect) {
                check_invariants(&sql, &statements)?;
            }
        }
    }
}
