//! SQL text the dialects' renderers write alike: identifiers quoted only
//! when they must be, string literals, and the key and constraint clauses
//! of `CREATE TABLE`.

use std::fmt::Write as _;

use crate::schema::{Action, Deferrable, ForeignKey, Generated, Table};

/// An identifier in double quotes, unless it is a lowercase plain name
/// that is none of `keywords`.
pub(super) fn quote_unless_plain(name: &str, keywords: &[&str]) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !keywords.contains(&name);
    if plain {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// Identifiers, comma-separated.
pub(super) fn list(names: &[String], ident: fn(&str) -> String) -> String {
    names
        .iter()
        .map(|n| ident(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A string literal.
pub(super) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `CONSTRAINT name ` before a constraint, unless the server chose the
/// name (it chooses it again) or there is none.
pub(super) fn constraint_name(name: &str, generated: bool, ident: fn(&str) -> String) -> String {
    let mut text = String::new();
    if !generated && !name.is_empty() {
        let _ = write!(text, "CONSTRAINT {} ", ident(name));
    }
    text
}

/// The table's primary key (unless the dialect writes it on its column),
/// unique constraints and checks, as `CREATE TABLE` lists them.
pub(super) fn key_clauses(
    table: &Table,
    with_primary_key: bool,
    ident: fn(&str) -> String,
) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(key) = table.primary_key.as_ref().filter(|_| with_primary_key) {
        lines.push(format!(
            "{}PRIMARY KEY ({})",
            constraint_name(&key.name, key.generated_name, ident),
            list(&key.columns, ident)
        ));
    }
    for unique in &table.uniques {
        lines.push(format!(
            "{}UNIQUE ({})",
            constraint_name(&unique.name, unique.generated_name, ident),
            list(&unique.columns, ident)
        ));
    }
    for check in &table.checks {
        lines.push(format!(
            "{}CHECK ({})",
            constraint_name(&check.name, check.generated_name, ident),
            check.expression
        ));
    }
    lines
}

/// What follows a foreign key's `REFERENCES t (columns)`: MATCH, the
/// actions and DEFERRABLE, in the order PostgreSQL requires (SQLite takes
/// any).
pub(super) fn reference_options(key: &ForeignKey) -> String {
    let mut text = String::new();
    if key.match_full {
        text.push_str(" MATCH FULL");
    }
    for (event, action) in [("DELETE", key.on_delete), ("UPDATE", key.on_update)] {
        if action != Action::NoAction {
            let _ = write!(text, " ON {event} {}", action.sql());
        }
    }
    match key.deferrable {
        Deferrable::No => {}
        Deferrable::InitiallyImmediate => text.push_str(" DEFERRABLE INITIALLY IMMEDIATE"),
        Deferrable::InitiallyDeferred => text.push_str(" DEFERRABLE INITIALLY DEFERRED"),
    }
    text
}

/// A generated column's clause, after its type.
pub(super) fn generated(generated: &Generated) -> String {
    format!(
        " GENERATED ALWAYS AS ({}) {}",
        generated.expression,
        if generated.stored {
            "STORED"
        } else {
            "VIRTUAL"
        }
    )
}
