//! Changes written as SQLite SQL.
//!
//! SQLite's ALTER TABLE renames tables and columns, adds and drops
//! columns; every other change to a table is the rebuild from SQLite's
//! documentation ("Making Other Kinds Of Table Schema Changes"): create
//! the new shape under a temporary name, copy the rows, drop the old
//! table, rename the new one into place, recreate its indexes and
//! triggers. Views reading the table were dropped before it by the plan
//! and come back after. retort runs migrations with foreign-key
//! enforcement off, so dropping the old table does not fire the
//! children's `ON DELETE` actions.
//!
//! All the changes a plan makes to one table are folded into one step: a
//! table is rebuilt at most once, and a table created by the plan is
//! created in its final shape (SQLite does not check at `CREATE TABLE`
//! that a foreign key's parent exists).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::db::{Rendered, ddl_text};
use crate::schema::{
    Change, Column, ForeignKey, Identity, Index, IndexKey, Name, Table, TableChange,
};

/// The statements of `changes`, in order.
pub(crate) fn render(changes: &[Change]) -> Vec<Rendered> {
    let mut steps: Vec<Step> = Vec::new();
    // Where each table's step is, by its name after the change.
    let mut step_of: BTreeMap<Name, usize> = BTreeMap::new();
    for (at, change) in changes.iter().enumerate() {
        match change {
            Change::AlterTable { from, to, changes } => {
                if let Some(&step) = step_of.get(&to.name) {
                    let step = &mut steps[step];
                    step.changes.push(at);
                    match &mut step.kind {
                        StepKind::Create(table) => *table = to.clone(),
                        StepKind::Alter {
                            to: end,
                            changes: all,
                            ..
                        } => {
                            *end = to.clone();
                            all.extend(changes.iter().cloned());
                        }
                        StepKind::Other(_) => {}
                    }
                    continue;
                }
                step_of.insert(to.name.clone(), steps.len());
                steps.push(Step {
                    changes: vec![at],
                    kind: StepKind::Alter {
                        from: from.clone(),
                        to: to.clone(),
                        changes: changes.clone(),
                    },
                });
            }
            Change::CreateTable { table } => {
                step_of.insert(table.name.clone(), steps.len());
                steps.push(Step {
                    changes: vec![at],
                    kind: StepKind::Create(table.clone()),
                });
            }
            other => {
                if let Change::DropTable { table } = other {
                    step_of.remove(&table.name);
                }
                steps.push(Step {
                    changes: vec![at],
                    kind: StepKind::Other(other.clone()),
                });
            }
        }
    }
    steps
        .into_iter()
        .map(|step| Rendered {
            statements: step.kind.statements(),
            changes: step.changes,
        })
        .collect()
}

/// One rendered step and the changes it carries out.
struct Step {
    changes: Vec<usize>,
    kind: StepKind,
}

enum StepKind {
    Create(Table),
    Alter {
        from: Table,
        to: Table,
        changes: Vec<TableChange>,
    },
    Other(Change),
}

impl StepKind {
    fn statements(self) -> Vec<String> {
        match self {
            StepKind::Create(table) => create_table(&table, &table.name.name),
            StepKind::Alter { from, to, changes } => alter_table(&from, &to, &changes),
            StepKind::Other(change) => other(&change),
        }
    }
}

fn other(change: &Change) -> Vec<String> {
    match change {
        Change::DropTable { table } => vec![format!("DROP TABLE {}", ident(&table.name.name))],
        Change::RenameTable { from, to } => vec![format!(
            "ALTER TABLE {} RENAME TO {}",
            ident(&from.name),
            ident(&to.name)
        )],
        Change::CreateView { view } => vec![format!(
            "CREATE VIEW {} AS {}",
            ident(&view.name.name),
            view.definition
        )],
        Change::DropView { view } => vec![format!("DROP VIEW {}", ident(&view.name.name))],
        // Schemas, extensions, enum types and sequences do not exist in
        // SQLite: its inspector never reports them.
        _ => Vec::new(),
    }
}

/// `CREATE TABLE` under `name`, then its indexes and triggers.
fn create_table(table: &Table, name: &str) -> Vec<String> {
    let mut lines: Vec<String> = table.columns.iter().map(|c| column(table, c)).collect();
    lines.extend(ddl_text::key_clauses(table, !inline_key(table), ident));
    for key in &table.foreign_keys {
        lines.push(foreign_key(key));
    }
    let mut options = Vec::new();
    if table.options.contains_key("strict") {
        options.push("STRICT");
    }
    if table.options.contains_key("without_rowid") {
        options.push("WITHOUT ROWID");
    }
    let mut create = format!(
        "CREATE TABLE {} (\n    {}\n)",
        ident(name),
        lines.join(",\n    ")
    );
    if !options.is_empty() {
        let _ = write!(create, " {}", options.join(", "));
    }
    let mut statements = vec![create];
    statements.extend(
        table
            .indexes
            .iter()
            .map(|i| create_index(&table.name.name, i)),
    );
    statements.extend(table.triggers.iter().map(|t| t.definition.clone()));
    statements
}

/// A one-column key on an AUTOINCREMENT column must be written on the
/// column.
fn inline_key(table: &Table) -> bool {
    table.primary_key.as_ref().is_some_and(|key| {
        key.generated_name
            && key.columns.len() == 1
            && table
                .column(&key.columns[0])
                .is_some_and(|c| c.identity == Some(Identity::AutoIncrement))
    })
}

fn column(table: &Table, column: &Column) -> String {
    let mut text = ident(&column.name);
    if !column.ty.is_empty() {
        let _ = write!(text, " {}", column.ty);
    }
    if inline_key(table)
        && table
            .primary_key
            .as_ref()
            .is_some_and(|k| k.columns[0] == column.name)
    {
        text.push_str(" PRIMARY KEY AUTOINCREMENT");
    }
    if !column.nullable {
        text.push_str(" NOT NULL");
    }
    if let Some(default) = &column.default {
        let _ = write!(text, " DEFAULT {}", default_value(default));
    }
    if let Some(collation) = &column.collation {
        let _ = write!(text, " COLLATE {collation}");
    }
    if let Some(generated) = &column.generated {
        text.push_str(&ddl_text::generated(generated));
    }
    text
}

/// A default as `DEFAULT` takes it: literals and names bare, any other
/// expression in parentheses.
fn default_value(default: &str) -> String {
    // The canonical spelling separates a sign from its number.
    if let Some(number) = default.strip_prefix("- ")
        && number.parse::<f64>().is_ok()
    {
        return format!("-{number}");
    }
    let bare = default.starts_with('(')
        || default.starts_with('\'')
        || default.parse::<f64>().is_ok()
        || default
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if bare {
        default.to_owned()
    } else {
        format!("({default})")
    }
}

fn foreign_key(key: &ForeignKey) -> String {
    let mut text = format!(
        "{}FOREIGN KEY ({}) REFERENCES {}",
        constraint_name(&key.name, key.generated_name),
        idents(&key.columns),
        ident(&key.references.name)
    );
    if !key.referenced_columns.is_empty() {
        let _ = write!(text, " ({})", idents(&key.referenced_columns));
    }
    text.push_str(&ddl_text::reference_options(key));
    text
}

fn create_index(table: &str, index: &Index) -> String {
    let parts: Vec<String> = index
        .parts
        .iter()
        .map(|part| {
            let key = match &part.key {
                IndexKey::Column(name) => ident(name),
                IndexKey::Expression(expression) => expression.clone(),
            };
            if part.descending {
                format!("{key} DESC")
            } else {
                key
            }
        })
        .collect();
    let mut text = format!(
        "CREATE {}INDEX {} ON {} ({})",
        if index.unique { "UNIQUE " } else { "" },
        ident(&index.name),
        ident(table),
        parts.join(", ")
    );
    if let Some(predicate) = &index.predicate {
        let _ = write!(text, " WHERE {predicate}");
    }
    text
}

/// The changes to one table: ALTER TABLE where SQLite has it, otherwise
/// the rebuild.
fn alter_table(from: &Table, to: &Table, changes: &[TableChange]) -> Vec<String> {
    if changes.iter().all(|c| alterable(from, c)) {
        let table = ident(&to.name.name);
        return changes
            .iter()
            .map(|change| match change {
                TableChange::AddColumn { column: c } => {
                    format!("ALTER TABLE {table} ADD COLUMN {}", column(to, c))
                }
                TableChange::DropColumn { column } => {
                    format!("ALTER TABLE {table} DROP COLUMN {}", ident(&column.name))
                }
                TableChange::RenameColumn { from, to } => format!(
                    "ALTER TABLE {table} RENAME COLUMN {} TO {}",
                    ident(from),
                    ident(to)
                ),
                TableChange::CreateIndex { index } => create_index(&to.name.name, index),
                TableChange::DropIndex { index } => format!("DROP INDEX {}", ident(&index.name)),
                TableChange::CreateTrigger { trigger } => trigger.definition.clone(),
                TableChange::DropTrigger { trigger } => {
                    format!("DROP TRIGGER {}", ident(&trigger.name))
                }
                _ => unreachable!("only alterable changes reach here"),
            })
            .collect();
    }
    rebuild(from, to, changes)
}

/// Whether ALTER TABLE (or CREATE/DROP INDEX, TRIGGER) does it.
fn alterable(from: &Table, change: &TableChange) -> bool {
    match change {
        TableChange::AddColumn { column } => {
            // ADD COLUMN refuses a NOT NULL column without a default and a
            // stored generated column, and a default that is not constant.
            (column.nullable || column.default.is_some())
                && column.generated.as_ref().is_none_or(|g| !g.stored)
                && column.default.as_deref().is_none_or(constant)
                && column.identity.is_none()
        }
        TableChange::DropColumn { column } => {
            // DROP COLUMN refuses a column a key, constraint, index,
            // trigger or generated column names.
            let named = |text: &str| {
                text.to_ascii_lowercase()
                    .contains(&column.name.to_ascii_lowercase())
            };
            !from
                .primary_key
                .as_ref()
                .is_some_and(|k| k.columns.contains(&column.name))
                && !from
                    .uniques
                    .iter()
                    .any(|u| u.columns.contains(&column.name))
                && !from
                    .foreign_keys
                    .iter()
                    .any(|k| k.columns.contains(&column.name))
                && !from.checks.iter().any(|c| named(&c.expression))
                && !from
                    .columns
                    .iter()
                    .any(|c| c.generated.as_ref().is_some_and(|g| named(&g.expression)))
        }
        TableChange::RenameColumn { .. }
        | TableChange::CreateIndex { .. }
        | TableChange::DropIndex { .. }
        | TableChange::CreateTrigger { .. }
        | TableChange::DropTrigger { .. } => true,
        _ => false,
    }
}

/// Whether ADD COLUMN takes a default: not the time of the insert, not an
/// expression in parentheses.
fn constant(default: &str) -> bool {
    !default.starts_with('(')
        && !["current_time", "current_date", "current_timestamp"].contains(&default)
}

/// The twelve steps, keeping the rows.
fn rebuild(from: &Table, to: &Table, changes: &[TableChange]) -> Vec<String> {
    let name = &to.name.name;
    let temporary = format!("_retort_new_{name}");
    // Each new column's source: itself, or the column it was renamed from.
    let mut source: BTreeMap<&str, &str> = BTreeMap::new();
    for change in changes {
        if let TableChange::RenameColumn { from, to } = change {
            source.insert(to, from);
        }
    }
    let copied: Vec<(&str, &str)> = to
        .columns
        .iter()
        .filter(|c| c.generated.is_none())
        .filter_map(|c| {
            let old = source.get(c.name.as_str()).copied().unwrap_or(&c.name);
            from.column(old)
                .filter(|o| o.generated.is_none())
                .map(|_| (c.name.as_str(), old))
        })
        .collect();
    let mut statements = Vec::new();
    let mut created = create_table(to, &temporary);
    // Indexes and triggers are created once the table has its name.
    let after: Vec<String> = created.split_off(1);
    statements.extend(created);
    if !copied.is_empty() {
        statements.push(format!(
            "INSERT INTO {} ({}) SELECT {} FROM {}",
            ident(&temporary),
            copied
                .iter()
                .map(|(c, _)| ident(c))
                .collect::<Vec<_>>()
                .join(", "),
            copied
                .iter()
                .map(|(_, o)| ident(o))
                .collect::<Vec<_>>()
                .join(", "),
            ident(name)
        ));
    }
    let counted = |t: &Table| {
        t.columns
            .iter()
            .any(|c| c.identity == Some(Identity::AutoIncrement))
    };
    if counted(from) && counted(to) {
        // The AUTOINCREMENT counter survives, so ids of deleted rows are
        // not handed out again.
        statements.push(format!(
            "INSERT INTO sqlite_sequence (name, seq) SELECT {}, seq FROM sqlite_sequence WHERE name = {}",
            ddl_text::literal(&temporary),
            ddl_text::literal(name)
        ));
    }
    statements.push(format!("DROP TABLE {}", ident(name)));
    statements.push(format!(
        "ALTER TABLE {} RENAME TO {}",
        ident(&temporary),
        ident(name)
    ));
    statements.extend(after);
    statements
}

/// An identifier, quoted when it must be.
fn ident(name: &str) -> String {
    ddl_text::quote_unless_plain(name, RESERVED)
}

fn idents(names: &[String]) -> String {
    ddl_text::list(names, ident)
}

fn constraint_name(name: &str, generated: bool) -> String {
    ddl_text::constraint_name(name, generated, ident)
}

/// Words SQLite does not take as a bare name.
const RESERVED: &[&str] = &[
    "abort",
    "action",
    "add",
    "after",
    "all",
    "alter",
    "always",
    "analyze",
    "and",
    "as",
    "asc",
    "attach",
    "autoincrement",
    "before",
    "begin",
    "between",
    "by",
    "cascade",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "commit",
    "conflict",
    "constraint",
    "create",
    "cross",
    "current",
    "current_date",
    "current_time",
    "current_timestamp",
    "database",
    "default",
    "deferrable",
    "deferred",
    "delete",
    "desc",
    "detach",
    "distinct",
    "do",
    "drop",
    "each",
    "else",
    "end",
    "escape",
    "except",
    "exclude",
    "exclusive",
    "exists",
    "explain",
    "fail",
    "filter",
    "first",
    "following",
    "for",
    "foreign",
    "from",
    "full",
    "generated",
    "glob",
    "group",
    "groups",
    "having",
    "if",
    "ignore",
    "immediate",
    "in",
    "index",
    "indexed",
    "initially",
    "inner",
    "insert",
    "instead",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "key",
    "last",
    "left",
    "like",
    "limit",
    "match",
    "materialized",
    "natural",
    "no",
    "not",
    "nothing",
    "notnull",
    "null",
    "nulls",
    "of",
    "offset",
    "on",
    "or",
    "order",
    "others",
    "outer",
    "over",
    "partition",
    "plan",
    "pragma",
    "preceding",
    "primary",
    "query",
    "raise",
    "range",
    "recursive",
    "references",
    "regexp",
    "reindex",
    "release",
    "rename",
    "replace",
    "restrict",
    "returning",
    "right",
    "rollback",
    "row",
    "rows",
    "savepoint",
    "select",
    "set",
    "table",
    "temp",
    "temporary",
    "then",
    "ties",
    "to",
    "transaction",
    "trigger",
    "unbounded",
    "union",
    "unique",
    "update",
    "using",
    "vacuum",
    "values",
    "view",
    "virtual",
    "when",
    "where",
    "window",
    "with",
    "without",
];
