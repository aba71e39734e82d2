//! The declared schema: the files of `schema.files`, their statements
//! (with the file and line each starts at, for errors), and the rename
//! hints in their comments.
//!
//! A hint is a comment line of its own, right above the line it is about:
//!
//! ```sql
//! -- retort:renamed-from people
//! CREATE TABLE users (
//!     id integer PRIMARY KEY,
//!     -- retort:renamed-from mail
//!     email text NOT NULL
//! );
//! ```
//!
//! Above a `CREATE TABLE` line it names the table's old name; above any
//! other line inside a `CREATE TABLE` it names the old name of the column
//! that line defines. Once the rename has been generated the hint changes
//! nothing (the old name is gone), so it may stay in the file.

use std::path::{Path, PathBuf};

use super::error::SchemaError;
use crate::Dialect;
use crate::schema::{Name, Renames};
use crate::sql::{PieceKind, pieces, split};

/// One statement of the declared schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeclaredStatement {
    pub(crate) text: String,
    pub(crate) file: PathBuf,
    pub(crate) line: usize,
}

/// The declared schema's statements and rename hints.
#[derive(Debug, Default)]
pub(crate) struct Declared {
    pub(crate) statements: Vec<DeclaredStatement>,
    pub(crate) renames: Renames,
}

const HINT: &str = "-- retort:renamed-from";

/// Reads `files` (in order), then the output of `command` (run in `dir`),
/// as SQL of `dialect`.
pub(crate) fn read(
    files: &[PathBuf],
    command: Option<&[String]>,
    dir: &Path,
    dialect: Dialect,
) -> Result<Declared, SchemaError> {
    let mut declared = Declared::default();
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|source| SchemaError::ReadDeclared {
            path: file.clone(),
            source,
        })?;
        read_text(&text, file, dialect, &mut declared)?;
    }
    if let Some(command) = command {
        let text = run(command, dir)?;
        // Errors in the output name the command in the place of a file.
        let origin = PathBuf::from(format!("`{}` output", command.join(" ")));
        read_text(&text, &origin, dialect, &mut declared)?;
    }
    Ok(declared)
}

/// The standard output of `schema.command`.
fn run(command: &[String], dir: &Path) -> Result<String, SchemaError> {
    let failed = |message: String| SchemaError::Command {
        command: command.join(" "),
        message,
    };
    let (program, arguments) = command.split_first().expect("the configuration checked it");
    let output = std::process::Command::new(program)
        .args(arguments)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| failed(format!("cannot run `{program}`: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(failed(format!(
            "it failed ({}): {}",
            output.status,
            last.trim()
        )));
    }
    String::from_utf8(output.stdout).map_err(|_| failed("its output is not UTF-8".to_owned()))
}

fn read_text(
    text: &str,
    file: &Path,
    dialect: Dialect,
    declared: &mut Declared,
) -> Result<(), SchemaError> {
    let statements = split(text, dialect).map_err(|e| SchemaError::DeclaredSyntax {
        path: file.to_owned(),
        line: e.line,
        message: e.message,
    })?;
    for statement in &statements {
        declared.statements.push(DeclaredStatement {
            text: statement.text.to_owned(),
            file: file.to_owned(),
            line: statement.line,
        });
    }
    hints(text, file, dialect, &mut declared.renames)
}

/// The rename hints of one file.
fn hints(
    text: &str,
    file: &Path,
    dialect: Dialect,
    renames: &mut Renames,
) -> Result<(), SchemaError> {
    let lines: Vec<&str> = text.lines().collect();
    // The table of the `CREATE TABLE` the current line is in.
    let mut table: Option<Name> = None;
    for (at, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if let Some(name) = created_table(trimmed, dialect) {
            table = Some(name);
        }
        let Some(directive) = trimmed.strip_prefix("-- retort:") else {
            continue;
        };
        let bad = |message: String| SchemaError::BadHint {
            path: file.to_owned(),
            line: at + 1,
            message,
        };
        let Some(old) = directive.strip_prefix("renamed-from") else {
            let word = directive.split_whitespace().next().unwrap_or("");
            return Err(bad(format!(
                "unknown directive `-- retort:{word}`: the declared schema knows only `{HINT} OLD_NAME`"
            )));
        };
        let old = old.trim();
        if old.is_empty() || old.contains(char::is_whitespace) {
            return Err(bad(format!("`{HINT}` takes one name, the old one")));
        }
        let old = unquoted(old);
        let next = lines[at + 1..]
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.is_empty() && !l.starts_with("--"));
        let Some(next) = next else {
            return Err(bad(format!("`{HINT} {old}` is above nothing")));
        };
        if let Some(new) = created_table(next, dialect) {
            let old = match &new.schema {
                Some(schema) if !old.contains('.') => Name::in_schema(schema.clone(), old),
                _ => qualified(&old),
            };
            renames.tables.insert(new, old);
        } else if let Some(table) = &table {
            let column = first_name(next, dialect)
                .ok_or_else(|| bad(format!("`{HINT} {old}` is not above a table or a column")))?;
            renames.columns.insert((table.clone(), column), old);
        } else {
            return Err(bad(format!(
                "`{HINT} {old}` is not above a `CREATE TABLE` line or a column inside one"
            )));
        }
    }
    Ok(())
}

/// The table a `CREATE TABLE` line creates.
fn created_table(line: &str, dialect: Dialect) -> Option<Name> {
    let pieces = pieces(line, dialect).ok()?;
    let mut words = pieces
        .iter()
        .filter(|p| p.kind != PieceKind::Comment)
        .peekable();
    if !words.next()?.is("create") {
        return None;
    }
    // CREATE [TEMP|TEMPORARY|UNLOGGED] TABLE [IF NOT EXISTS] name
    let mut piece = words.next()?;
    while ["temp", "temporary", "unlogged", "global", "local"]
        .iter()
        .any(|w| piece.is(w))
    {
        piece = words.next()?;
    }
    if !piece.is("table") {
        return None;
    }
    let mut piece = words.next()?;
    if piece.is("if") {
        words.next();
        words.next();
        piece = words.next()?;
    }
    let first = piece.ident();
    if words
        .peek()
        .is_some_and(|p| p.kind == PieceKind::Punct('.'))
    {
        words.next();
        return Some(Name::in_schema(first, words.next()?.ident()));
    }
    Some(Name::new(first))
}

/// The name a column definition line starts with.
fn first_name(line: &str, dialect: Dialect) -> Option<String> {
    let pieces = pieces(line, dialect).ok()?;
    let first = pieces.first()?;
    matches!(first.kind, PieceKind::Word | PieceKind::Quoted).then(|| first.ident())
}

fn unquoted(name: &str) -> String {
    name.trim_matches(|c| c == '"' || c == '`').to_owned()
}

fn qualified(name: &str) -> Name {
    match name.split_once('.') {
        Some((schema, name)) => Name::in_schema(schema, name),
        None => Name::new(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renames(text: &str) -> Result<Renames, SchemaError> {
        let mut declared = Declared::default();
        read_text(
            text,
            Path::new("schema.sql"),
            Dialect::Sqlite,
            &mut declared,
        )?;
        Ok(declared.renames)
    }

    #[test]
    fn hints_name_tables_and_columns() {
        let renames = renames(
            "-- retort:renamed-from people\nCREATE TABLE users (\n  id integer,\n  -- retort:renamed-from mail\n  \"email\" text\n);\n",
        )
        .unwrap();
        assert_eq!(renames.tables[&Name::new("users")], Name::new("people"));
        assert_eq!(
            renames.columns[&(Name::new("users"), "email".to_owned())],
            "mail"
        );
    }

    #[test]
    fn a_mistyped_hint_is_refused_with_its_line() {
        let error = renames("CREATE TABLE t (a int);\n-- retort:renamed_from x\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "schema.sql:2: unknown directive `-- retort:renamed_from`: the declared schema knows only `-- retort:renamed-from OLD_NAME`"
        );
        let error = renames("-- retort:renamed-from x\n").unwrap_err();
        assert!(error.to_string().contains("is above nothing"), "{error}");
    }
}
