//! Changes written as MySQL/MariaDB SQL.
//!
//! One change gives its own statements, in the plan's order. A column
//! change is a `MODIFY COLUMN` with the column's whole new definition,
//! which MySQL needs (what it leaves out, such as a default or a comment,
//! is removed): that is why changes carry whole columns.
//!
//! InnoDB needs an index leading with a foreign key's columns, and creates
//! one when there is none; the inspector leaves such an index out of the
//! model (see `implicit_index_name`). So the renderer follows, change by
//! change, which indexes can serve each foreign key: removing the last
//! index that serves one adds the index the server would have created, in
//! the same statement (alone, the server refuses it: error 1553);
//! dropping a foreign key that has such an index drops the index with it,
//! as the model does not have it; and adding an index that serves the key
//! drops it too.

use std::fmt::Write as _;

use super::inspect::implicit_index_name;
use crate::db::Rendered;
use crate::schema::{
    Action, Change, Column, ForeignKey, Index, IndexKey, IndexPart, Name, Table, TableChange,
};

/// The statements of `changes`, one [`Rendered`] per change.
pub(crate) fn render(changes: &[Change]) -> Vec<Rendered> {
    Rendered::each(changes, statements)
}

fn statements(change: &Change) -> Vec<String> {
    match change {
        Change::CreateTable { table } => create_table(table),
        Change::DropTable { table } => vec![format!("DROP TABLE {}", name(&table.name))],
        Change::RenameTable { from, to } => {
            vec![format!("RENAME TABLE {} TO {}", name(from), name(to))]
        }
        Change::AlterTable { from, to, changes } => alter_table(from, to, changes),
        Change::CreateView { view } => vec![format!(
            "CREATE VIEW {} AS {}",
            name(&view.name),
            view.definition
        )],
        Change::DropView { view } => vec![format!("DROP VIEW {}", name(&view.name))],
        // Schemas, extensions, enum types and sequences are PostgreSQL's:
        // the inspector never reports them.
        _ => Vec::new(),
    }
}

/// `CREATE TABLE` with its keys, indexes and constraints, then its
/// triggers.
fn create_table(table: &Table) -> Vec<String> {
    let mut lines: Vec<String> = table.columns.iter().map(column).collect();
    if let Some(key) = &table.primary_key {
        lines.push(format!("PRIMARY KEY ({})", idents(&key.columns)));
    }
    for unique in &table.uniques {
        lines.push(unique_key(&unique.name, &unique.columns));
    }
    for index in &table.indexes {
        lines.push(index_key(index));
    }
    for key in &table.foreign_keys {
        lines.push(foreign_key(key));
    }
    for check in &table.checks {
        lines.push(check_constraint(
            &check.name,
            check.generated_name,
            &check.expression,
        ));
    }
    let mut create = format!(
        "CREATE TABLE {} (\n  {}\n)",
        name(&table.name),
        lines.join(",\n  ")
    );
    create.push_str(&table_options(table));
    let mut statements = vec![create];
    statements.extend(table.triggers.iter().map(|t| t.definition.clone()));
    statements
}

fn table_options(table: &Table) -> String {
    let mut text = String::new();
    if let Some(engine) = table.options.get("engine") {
        let _ = write!(text, " ENGINE={engine}");
    }
    if let Some(charset) = table.options.get("charset") {
        let _ = write!(text, " DEFAULT CHARSET={charset}");
    }
    if let Some(collation) = table.options.get("collation") {
        let _ = write!(text, " COLLATE={collation}");
    }
    if let Some(comment) = &table.comment {
        let _ = write!(text, " COMMENT={}", literal(comment));
    }
    text
}

/// A column's whole definition, as `CREATE TABLE`, `ADD COLUMN` and
/// `MODIFY COLUMN` take it.
fn column(column: &Column) -> String {
    let mut text = format!("{} {}", ident(&column.name), column.ty);
    if let Some(collation) = &column.collation {
        let _ = write!(text, " COLLATE {collation}");
    }
    if let Some(generated) = &column.generated {
        let kind = if generated.stored {
            "STORED"
        } else {
            "VIRTUAL"
        };
        let _ = write!(
            text,
            " GENERATED ALWAYS AS ({}) {kind}",
            generated.expression
        );
    }
    if !column.nullable {
        text.push_str(" NOT NULL");
    } else if column.ty.starts_with("timestamp") && column.generated.is_none() {
        // Where `explicit_defaults_for_timestamp` is off (MySQL 5.7,
        // MariaDB before 10.10) a timestamp is NOT NULL unless it says.
        text.push_str(" NULL");
    }
    if let Some(default) = &column.default {
        let _ = write!(text, " DEFAULT {}", default_value(default));
    }
    if let Some(on_update) = &column.on_update {
        let _ = write!(text, " ON UPDATE {on_update}");
    }
    // MySQL numbers columns one way only.
    if column.identity.is_some() {
        text.push_str(" AUTO_INCREMENT");
    }
    if let Some(comment) = &column.comment {
        let _ = write!(text, " COMMENT {}", literal(comment));
    }
    text
}

/// A default as `DEFAULT` takes it: literals bare, any other expression in
/// parentheses (MySQL 8.0.13 and MariaDB 10.2 take those).
fn default_value(default: &str) -> String {
    let lower = default.to_ascii_lowercase();
    let literal = default.starts_with('\'')
        || default.parse::<f64>().is_ok()
        || timestamp_function(&lower)
        || ["null", "true", "false"].contains(&lower.as_str())
        || ((lower.starts_with("b'") || lower.starts_with("x'")) && lower.ends_with('\''));
    if literal {
        default.to_owned()
    } else {
        format!("({default})")
    }
}

/// `current_timestamp()` or `current_timestamp(3)`, which `DEFAULT`
/// takes bare.
fn timestamp_function(lower: &str) -> bool {
    lower.strip_prefix("current_timestamp").is_some_and(|rest| {
        rest.is_empty()
            || rest
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// A unique key, under its name even when the server chose it (`col`,
/// `col_2`): the server would choose another where a name is taken, and
/// dropping the key again, by the name in the model, would miss it.
fn unique_key(name: &str, columns: &[String]) -> String {
    if name.is_empty() {
        format!("UNIQUE ({})", idents(columns))
    } else {
        format!("UNIQUE KEY {} ({})", ident(name), idents(columns))
    }
}

/// An index as `CREATE TABLE` lists it.
fn index_key(index: &Index) -> String {
    let (kind, using) = index_kind(index);
    format!(
        "{kind}KEY {} ({}){using}",
        ident(&index.name),
        parts(&index.parts)
    )
}

/// The word before `KEY`/`INDEX` (with its space) and the `USING` clause.
fn index_kind(index: &Index) -> (&'static str, String) {
    match index.method.as_deref() {
        Some("fulltext") => ("FULLTEXT ", String::new()),
        Some("spatial") => ("SPATIAL ", String::new()),
        Some(method) => (
            if index.unique { "UNIQUE " } else { "" },
            format!(" USING {}", method.to_ascii_uppercase()),
        ),
        None => (if index.unique { "UNIQUE " } else { "" }, String::new()),
    }
}

fn parts(parts: &[IndexPart]) -> String {
    parts
        .iter()
        .map(|part| {
            let mut text = match &part.key {
                IndexKey::Column(name) => ident(name),
                // Functional key parts (MySQL 8.0.13) are parenthesised.
                IndexKey::Expression(expression) => format!("({expression})"),
            };
            if let Some(prefix) = part.prefix {
                let _ = write!(text, "({prefix})");
            }
            if part.descending {
                text.push_str(" DESC");
            }
            text
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn foreign_key(key: &ForeignKey) -> String {
    let mut text = format!(
        "{}FOREIGN KEY ({}) REFERENCES {} ({})",
        constraint_name(&key.name, key.generated_name),
        idents(&key.columns),
        name(&key.references),
        idents(&key.referenced_columns)
    );
    for (event, action) in [("DELETE", key.on_delete), ("UPDATE", key.on_update)] {
        if action != Action::NoAction {
            let _ = write!(text, " ON {event} {}", action.sql());
        }
    }
    text
}

fn check_constraint(name: &str, generated: bool, expression: &str) -> String {
    format!("{}CHECK ({expression})", constraint_name(name, generated))
}

fn constraint_name(name: &str, generated: bool) -> String {
    if generated || name.is_empty() {
        String::new()
    } else {
        format!("CONSTRAINT {} ", ident(name))
    }
}

/// The statements of the changes to one table, each with the index
/// bookkeeping InnoDB's foreign keys need (see the module notes).
fn alter_table(from: &Table, to: &Table, changes: &[TableChange]) -> Vec<String> {
    let table = name(&to.name);
    let mut served = Served::new(from);
    // The columns as the changes go, to place added ones.
    let mut present: Vec<String> = from.columns.iter().map(|c| c.name.clone()).collect();
    let mut statements = Vec::new();
    for change in changes {
        let alter = |clause: String| format!("ALTER TABLE {table} {clause}");
        match change {
            TableChange::AddColumn { column: c } => {
                let place = position(to, &c.name, &mut present);
                statements.push(alter(format!("ADD COLUMN {}{place}", column(c))));
            }
            TableChange::DropColumn { column } => {
                present.retain(|c| *c != column.name);
                statements.push(alter(format!("DROP COLUMN {}", ident(&column.name))));
            }
            TableChange::AlterColumn { from: old, to: new } => {
                statements.extend(alter_column(&table, to, old, new, &mut present));
            }
            TableChange::RenameColumn { from, to } => {
                for name in &mut present {
                    if name == from {
                        name.clone_from(to);
                    }
                }
                statements.push(alter(format!(
                    "RENAME COLUMN {} TO {}",
                    ident(from),
                    ident(to)
                )));
            }
            TableChange::AddPrimaryKey { key } => {
                let clauses = served.add("PRIMARY", &key.columns);
                let add = format!("ADD PRIMARY KEY ({})", idents(&key.columns));
                statements.push(alter(after(clauses, add)));
            }
            TableChange::DropPrimaryKey { .. } => {
                let clauses = served.remove("PRIMARY");
                statements.push(alter(with(String::from("DROP PRIMARY KEY"), clauses)));
            }
            TableChange::AddUnique { unique } => {
                let clauses = served.add(&unique.name, &unique.columns);
                let add = format!("ADD {}", unique_key(&unique.name, &unique.columns));
                statements.push(alter(after(clauses, add)));
            }
            TableChange::DropUnique { unique } => {
                let clauses = served.remove(&unique.name);
                let drop = format!("DROP INDEX {}", ident(&unique.name));
                statements.push(alter(with(drop, clauses)));
            }
            TableChange::CreateIndex { index } => {
                let clauses = leading_columns(index)
                    .map(|columns| served.add(&index.name, &columns))
                    .unwrap_or_default();
                statements.push(if clauses.is_empty() {
                    create_index(&table, index)
                } else {
                    let (kind, using) = index_kind(index);
                    let add = format!(
                        "ADD {kind}INDEX {} ({}){using}",
                        ident(&index.name),
                        parts(&index.parts)
                    );
                    alter(after(clauses, add))
                });
            }
            TableChange::DropIndex { index } => {
                let clauses = served.remove(&index.name);
                let drop = format!("DROP INDEX {}", ident(&index.name));
                statements.push(alter(with(drop, clauses)));
            }
            TableChange::AddForeignKey { key } => {
                served.add_key(key);
                statements.push(alter(format!("ADD {}", foreign_key(key))));
            }
            TableChange::DropForeignKey { key } => {
                let drop = format!("DROP FOREIGN KEY {}", ident(&key.name));
                let clauses = served.remove_key(key);
                statements.push(alter(with(drop, clauses)));
            }
            TableChange::AddCheck { check } => statements.push(alter(format!(
                "ADD {}",
                check_constraint(&check.name, check.generated_name, &check.expression)
            ))),
            TableChange::DropCheck { check } => {
                // DROP CONSTRAINT: MariaDB 10.2 and MySQL 8.0.19 (MySQL's
                // own DROP CHECK is not MariaDB's).
                statements.push(alter(format!("DROP CONSTRAINT {}", ident(&check.name))));
            }
            TableChange::CreateTrigger { trigger } => statements.push(trigger.definition.clone()),
            TableChange::DropTrigger { trigger } => {
                statements.push(format!("DROP TRIGGER {}", ident(&trigger.name)));
            }
            TableChange::SetComment { to, .. } => statements.push(alter(format!(
                "COMMENT = {}",
                literal(to.as_deref().unwrap_or(""))
            ))),
            TableChange::SetOptions { from, to } => {
                // An option the model leaves out is the database's default.
                if from.get("engine") != to.get("engine") {
                    let engine = to.get("engine").map_or("InnoDB", String::as_str);
                    statements.push(alter(format!("ENGINE = {engine}")));
                }
                if from.get("collation") != to.get("collation") {
                    // The columns that inherit the table's collation follow it.
                    let convert = match (to.get("charset"), to.get("collation")) {
                        (_, None) => "CONVERT TO CHARACTER SET DEFAULT".to_owned(),
                        (Some(charset), Some(collation)) => {
                            format!("CONVERT TO CHARACTER SET {charset} COLLATE {collation}")
                        }
                        (None, Some(collation)) => format!(
                            "CONVERT TO CHARACTER SET {} COLLATE {collation}",
                            collation.split('_').next().unwrap_or(collation)
                        ),
                    };
                    statements.push(alter(convert));
                }
            }
        }
    }
    statements
}

/// `clauses`, then `last`, in one statement.
fn after(clauses: Vec<String>, last: String) -> String {
    clauses
        .into_iter()
        .chain(std::iter::once(last))
        .collect::<Vec<_>>()
        .join(", ")
}

fn with(first: String, clauses: Vec<String>) -> String {
    std::iter::once(first)
        .chain(clauses)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where an added column goes: after the nearest column before it in
/// `table` that is there by now (`present`, which gains it).
fn position(table: &Table, column: &str, present: &mut Vec<String>) -> String {
    let before = table
        .columns
        .iter()
        .take_while(|c| c.name != column)
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>();
    let after = before
        .iter()
        .rev()
        .find_map(|name| present.iter().position(|p| p == name));
    match after {
        Some(at) => {
            let text = format!(" AFTER {}", ident(&present[at]));
            present.insert(at + 1, column.to_owned());
            text
        }
        None => {
            present.insert(0, column.to_owned());
            " FIRST".to_owned()
        }
    }
}

/// A column's new definition; a column that becomes or stops being
/// generated, or changes how it is stored, is dropped and added again,
/// which MySQL's `MODIFY` refuses to do.
fn alter_column(
    table: &str,
    shape: &Table,
    from: &Column,
    to: &Column,
    present: &mut Vec<String>,
) -> Vec<String> {
    let stored = |c: &Column| c.generated.as_ref().map(|g| g.stored);
    if stored(from) != stored(to) {
        present.retain(|c| *c != from.name);
        let place = position(shape, &to.name, present);
        return vec![
            format!("ALTER TABLE {table} DROP COLUMN {}", ident(&from.name)),
            format!("ALTER TABLE {table} ADD COLUMN {}{place}", column(to)),
        ];
    }
    vec![format!("ALTER TABLE {table} MODIFY COLUMN {}", column(to))]
}

fn create_index(table: &str, index: &Index) -> String {
    let (kind, using) = index_kind(index);
    format!(
        "CREATE {kind}INDEX {} ON {table} ({}){using}",
        ident(&index.name),
        parts(&index.parts)
    )
}

/// The columns an index leads with, as far as they can serve a foreign
/// key (whole columns; a full-text or spatial index serves none).
fn leading_columns(index: &Index) -> Option<Vec<String>> {
    if matches!(index.method.as_deref(), Some("fulltext" | "spatial")) {
        return None;
    }
    let columns: Vec<String> = index
        .parts
        .iter()
        .map_while(|p| match &p.key {
            IndexKey::Column(c) if p.prefix.is_none() => Some(c.clone()),
            _ => None,
        })
        .collect();
    (!columns.is_empty()).then_some(columns)
}

/// Which indexes of a table can serve its foreign keys, as the changes go.
struct Served {
    /// Index name, leading columns, and whether the server created it for
    /// a foreign key (and the model does not have it).
    indexes: Vec<(String, Vec<String>, bool)>,
    keys: Vec<ForeignKey>,
}

impl Served {
    fn new(table: &Table) -> Served {
        let mut served = Served {
            indexes: Vec::new(),
            keys: Vec::new(),
        };
        // No foreign key yet: nothing to replace.
        if let Some(key) = &table.primary_key {
            served.add("PRIMARY", &key.columns);
        }
        for unique in &table.uniques {
            served.add(&unique.name, &unique.columns);
        }
        for index in &table.indexes {
            if let Some(columns) = leading_columns(index) {
                served.add(&index.name, &columns);
            }
        }
        for key in &table.foreign_keys {
            served.add_key(key);
        }
        served
    }

    fn serves(columns: &[String], key: &ForeignKey) -> bool {
        columns.starts_with(&key.columns)
    }

    /// An index the model has: the clauses that drop, in the statement
    /// adding it, the indexes made for foreign keys that it replaces. The
    /// server drops its own such index by itself, but not one a migration
    /// made in its place (which looks the same to the inspector), and
    /// either may hold the new index's name.
    fn add(&mut self, name: &str, columns: &[String]) -> Vec<String> {
        self.indexes
            .push((name.to_owned(), columns.to_vec(), false));
        let keys = &self.keys;
        let user: Vec<&Vec<String>> = self
            .indexes
            .iter()
            .filter(|(_, _, implicit)| !implicit)
            .map(|(_, c, _)| c)
            .collect();
        let needed = |columns: &Vec<String>| {
            keys.iter()
                .any(|k| Served::serves(columns, k) && !user.iter().any(|u| Served::serves(u, k)))
        };
        let replaced: Vec<String> = self
            .indexes
            .iter()
            .filter(|(_, columns, implicit)| *implicit && !needed(columns))
            .map(|(n, _, _)| n.clone())
            .collect();
        self.indexes
            .retain(|(n, _, implicit)| !(*implicit && replaced.contains(n)));
        replaced
            .iter()
            .map(|n| format!("DROP INDEX {}", ident(n)))
            .collect()
    }

    /// The clauses that keep every foreign key served once the index
    /// `name` goes.
    fn remove(&mut self, name: &str) -> Vec<String> {
        self.indexes.retain(|(n, _, _)| n != name);
        let mut clauses = Vec::new();
        for key in self.keys.clone() {
            if !self.indexes.iter().any(|(_, c, _)| Served::serves(c, &key)) {
                let index = implicit_index_name(&key).to_owned();
                clauses.push(format!(
                    "ADD INDEX {} ({})",
                    ident(&index),
                    idents(&key.columns)
                ));
                self.indexes.push((index, key.columns.clone(), true));
            }
        }
        clauses
    }

    /// A foreign key added: the server creates its index if none serves it.
    fn add_key(&mut self, key: &ForeignKey) {
        if !self.indexes.iter().any(|(_, c, _)| Served::serves(c, key)) {
            let index = implicit_index_name(key).to_owned();
            self.indexes.push((index, key.columns.clone(), true));
        }
        self.keys.push(key.clone());
    }

    /// The clauses that drop the index the server made for `key`, when no
    /// other foreign key needs it.
    fn remove_key(&mut self, key: &ForeignKey) -> Vec<String> {
        self.keys.retain(|k| k.name != key.name);
        let index = implicit_index_name(key);
        let still_needed = self.keys.iter().any(|k| {
            implicit_index_name(k) == index
                && !self
                    .indexes
                    .iter()
                    .any(|(_, c, implicit)| !implicit && Served::serves(c, k))
        });
        let made = self
            .indexes
            .iter()
            .position(|(n, _, implicit)| *implicit && n == index);
        match made {
            Some(at) if !still_needed => {
                self.indexes.remove(at);
                vec![format!("DROP INDEX {}", ident(index))]
            }
            _ => Vec::new(),
        }
    }
}

/// A name, with its database when it has one.
fn name(name: &Name) -> String {
    match &name.schema {
        Some(schema) => format!("{}.{}", ident(schema), ident(&name.name)),
        None => ident(&name.name),
    }
}

/// An identifier, in backticks when it must be.
pub(super) fn ident(name: &str) -> String {
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !name.is_empty()
        && !name.bytes().all(|b| b.is_ascii_digit())
        // `1e5` reads as a number.
        && !name.as_bytes()[0].is_ascii_digit()
        && RESERVED
            .binary_search(&name.to_ascii_lowercase().as_str())
            .is_err();
    if plain {
        name.to_owned()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

fn idents(names: &[String]) -> String {
    names
        .iter()
        .map(|n| ident(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A string literal; the backslash escapes on these servers unless
/// `NO_BACKSLASH_ESCAPES`, and a doubled one reads the same either way.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// MySQL 8.0's and MariaDB's reserved words, sorted: not bare names.
const RESERVED: &[&str] = &[
    "accessible",
    "add",
    "all",
    "alter",
    "analyze",
    "and",
    "as",
    "asc",
    "asensitive",
    "before",
    "between",
    "bigint",
    "binary",
    "blob",
    "both",
    "by",
    "call",
    "cascade",
    "case",
    "change",
    "char",
    "character",
    "check",
    "collate",
    "column",
    "condition",
    "constraint",
    "continue",
    "convert",
    "create",
    "cross",
    "cube",
    "cume_dist",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "cursor",
    "database",
    "databases",
    "day_hour",
    "day_microsecond",
    "day_minute",
    "day_second",
    "dec",
    "decimal",
    "declare",
    "default",
    "delayed",
    "delete",
    "dense_rank",
    "desc",
    "describe",
    "deterministic",
    "distinct",
    "distinctrow",
    "div",
    "do_domain_ids",
    "double",
    "drop",
    "dual",
    "each",
    "else",
    "elseif",
    "empty",
    "enclosed",
    "escaped",
    "except",
    "exists",
    "exit",
    "explain",
    "false",
    "fetch",
    "first_value",
    "float",
    "float4",
    "float8",
    "for",
    "force",
    "foreign",
    "from",
    "fulltext",
    "function",
    "general",
    "generated",
    "get",
    "grant",
    "group",
    "grouping",
    "groups",
    "having",
    "high_priority",
    "hour_microsecond",
    "hour_minute",
    "hour_second",
    "if",
    "ignore",
    "ignore_domain_ids",
    "ignore_server_ids",
    "in",
    "index",
    "infile",
    "inner",
    "inout",
    "insensitive",
    "insert",
    "int",
    "int1",
    "int2",
    "int3",
    "int4",
    "int8",
    "integer",
    "intersect",
    "interval",
    "into",
    "io_after_gtids",
    "io_before_gtids",
    "is",
    "iterate",
    "join",
    "json_table",
    "key",
    "keys",
    "kill",
    "lag",
    "last_value",
    "lateral",
    "lead",
    "leading",
    "leave",
    "left",
    "like",
    "limit",
    "linear",
    "lines",
    "load",
    "localtime",
    "localtimestamp",
    "lock",
    "long",
    "longblob",
    "longtext",
    "loop",
    "low_priority",
    "master_bind",
    "master_heartbeat_period",
    "master_ssl_verify_server_cert",
    "match",
    "maxvalue",
    "mediumblob",
    "mediumint",
    "mediumtext",
    "middleint",
    "minute_microsecond",
    "minute_second",
    "mod",
    "modifies",
    "natural",
    "no_write_to_binlog",
    "not",
    "nth_value",
    "ntile",
    "null",
    "numeric",
    "of",
    "offset",
    "on",
    "optimize",
    "optimizer_costs",
    "option",
    "optionally",
    "or",
    "order",
    "out",
    "outer",
    "outfile",
    "over",
    "page_checksum",
    "parse_vcol_expr",
    "partition",
    "percent_rank",
    "position",
    "precision",
    "primary",
    "procedure",
    "purge",
    "range",
    "rank",
    "read",
    "read_write",
    "reads",
    "real",
    "recursive",
    "ref_system_id",
    "references",
    "regexp",
    "release",
    "rename",
    "repeat",
    "replace",
    "require",
    "resignal",
    "restrict",
    "return",
    "returning",
    "revoke",
    "right",
    "rlike",
    "row",
    "row_number",
    "rows",
    "schema",
    "schemas",
    "second_microsecond",
    "select",
    "sensitive",
    "separator",
    "set",
    "show",
    "signal",
    "slow",
    "smallint",
    "spatial",
    "specific",
    "sql",
    "sql_big_result",
    "sql_calc_found_rows",
    "sql_small_result",
    "sqlexception",
    "sqlstate",
    "sqlwarning",
    "ssl",
    "starting",
    "stats_auto_recalc",
    "stats_persistent",
    "stats_sample_pages",
    "stored",
    "straight_join",
    "system",
    "table",
    "terminated",
    "then",
    "tinyblob",
    "tinyint",
    "tinytext",
    "to",
    "trailing",
    "trigger",
    "true",
    "undo",
    "union",
    "unique",
    "unlock",
    "unsigned",
    "update",
    "usage",
    "use",
    "using",
    "utc_date",
    "utc_time",
    "utc_timestamp",
    "values",
    "varbinary",
    "varchar",
    "varcharacter",
    "varying",
    "virtual",
    "when",
    "where",
    "while",
    "window",
    "with",
    "write",
    "xor",
    "year_month",
    "zerofill",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_words_are_sorted_for_the_search() {
        assert!(RESERVED.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn identifiers_are_quoted_only_when_needed() {
        assert_eq!(ident("users"), "users");
        assert_eq!(ident("Users_2"), "Users_2");
        assert_eq!(ident("order"), "`order`");
        assert_eq!(ident("Key"), "`Key`");
        assert_eq!(ident("a b"), "`a b`");
        assert_eq!(ident("a`b"), "`a``b`");
        assert_eq!(ident("1e5"), "`1e5`");
        assert_eq!(ident(""), "``");
    }
}
