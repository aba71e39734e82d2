//! Changes written as PostgreSQL DDL, one [`Rendered`] per change.
//!
//! PostgreSQL alters nearly everything in place, so every change is its
//! own statements, written from the change alone: its `from` side is
//! enough for the inverse's, which is how the downgrade is written.
//! Constraints the server named are created without a name, so it names
//! them again; they are dropped by the name read from the database.

use std::fmt::Write as _;

use super::names::{ident, idents, literal, qualified};
use crate::db::{Rendered, ddl_text};
use crate::schema::{
    Change, Column, EnumType, ForeignKey, Identity, Index, IndexKey, Name, Sequence, Table,
    TableChange, View, only_adds_labels,
};

/// The statements of `changes`, in order.
pub(crate) fn render(changes: &[Change]) -> Vec<Rendered> {
    Rendered::each(changes, statements)
}

fn statements(change: &Change) -> Vec<String> {
    match change {
        Change::CreateSchema { name } => vec![format!("CREATE SCHEMA {}", ident(name))],
        Change::DropSchema { name } => vec![format!("DROP SCHEMA {}", ident(name))],
        Change::CreateExtension { extension } => {
            let mut text = format!("CREATE EXTENSION {}", ident(&extension.name));
            if let Some(schema) = &extension.schema {
                let _ = write!(text, " SCHEMA {}", ident(schema));
            }
            vec![text]
        }
        Change::DropExtension { extension } => {
            vec![format!("DROP EXTENSION {}", ident(&extension.name))]
        }
        Change::CreateEnum { enum_type } => vec![create_enum(&enum_type.name, enum_type)],
        Change::DropEnum { enum_type } => {
            vec![format!("DROP TYPE {}", qualified(&enum_type.name))]
        }
        Change::AlterEnum { from, to, columns } => alter_enum(from, to, columns),
        Change::CreateSequence { sequence } => vec![format!(
            "CREATE SEQUENCE {}{}",
            qualified(&sequence.name),
            sequence_options(sequence)
        )],
        Change::AlterSequence { to, .. } => vec![format!(
            "ALTER SEQUENCE {}{}",
            qualified(&to.name),
            sequence_options(to)
        )],
        Change::DropSequence { sequence } => {
            vec![format!("DROP SEQUENCE {}", qualified(&sequence.name))]
        }
        Change::CreateTable { table } => create_table(table),
        Change::DropTable { table } => vec![format!("DROP TABLE {}", qualified(&table.name))],
        Change::RenameTable { from, to } => rename_table(from, to),
        Change::AlterTable { to, changes, .. } => changes
            .iter()
            .flat_map(|change| alter_table(&to.name, change))
            .collect(),
        Change::CreateView { view } => create_view(view),
        Change::DropView { view } => vec![format!("DROP VIEW {}", qualified(&view.name))],
    }
}

fn create_enum(name: &Name, enum_type: &EnumType) -> String {
    let labels: Vec<String> = enum_type.values.iter().map(|v| literal(v)).collect();
    format!(
        "CREATE TYPE {} AS ENUM ({})",
        qualified(name),
        labels.join(", ")
    )
}

/// New labels in place when that is all; otherwise the type is rebuilt
/// under its name and the columns of the old one converted through text
/// (migra's enum swap).
fn alter_enum(from: &EnumType, to: &EnumType, columns: &[(Name, Column)]) -> Vec<String> {
    let name = qualified(&from.name);
    if only_adds_labels(from, to) {
        return to
            .values
            .iter()
            .enumerate()
            .filter(|(_, label)| !from.values.contains(label))
            .map(|(at, label)| {
                let mut text = format!("ALTER TYPE {name} ADD VALUE {}", literal(label));
                // The label before it exists by now: from `from`, or added
                // just before.
                if at > 0 {
                    let _ = write!(text, " AFTER {}", literal(&to.values[at - 1]));
                } else if let Some(next) = to.values.get(1) {
                    let _ = write!(text, " BEFORE {}", literal(next));
                }
                text
            })
            .collect();
    }
    let old = format!("{}__retort_old", from.name.name);
    let mut statements = vec![
        format!("ALTER TYPE {name} RENAME TO {}", ident(&old)),
        create_enum(&to.name, to),
    ];
    for (table, column) in columns {
        let table = qualified(table);
        let c = ident(&column.name);
        // The default is of the old type, and no cast leads from one enum
        // to another: it goes, and comes back once the column converted.
        if column.default.is_some() {
            statements.push(format!("ALTER TABLE {table} ALTER COLUMN {c} DROP DEFAULT"));
        }
        statements.push(format!(
            "ALTER TABLE {table} ALTER COLUMN {c} TYPE {ty} USING {}",
            via_text(&c, &column.ty),
            ty = column.ty
        ));
        if let Some(default) = &column.default {
            statements.push(format!(
                "ALTER TABLE {table} ALTER COLUMN {c} SET DEFAULT {default}"
            ));
        }
    }
    let old = Name {
        schema: from.name.schema.clone(),
        name: old,
    };
    statements.push(format!("DROP TYPE {}", qualified(&old)));
    statements
}

/// The `USING` expression that converts a column: a cast, through text
/// when either type is the user's (an enum has casts to and from text
/// only).
fn conversion(column: &str, from: &str, to: &str) -> String {
    if built_in(from) && built_in(to) {
        format!("{column}::{to}")
    } else {
        via_text(column, to)
    }
}

fn via_text(column: &str, to: &str) -> String {
    let array = "[]".repeat(to.matches("[]").count());
    format!("{column}::text{array}::{to}")
}

/// Whether a type (as `format_type` writes it) is one of PostgreSQL's own.
fn built_in(ty: &str) -> bool {
    let mut base = ty.trim_end_matches("[]").to_owned();
    // `numeric(10,2)`, `timestamp(3) with time zone`: the modifier goes.
    if let (Some(open), Some(close)) = (base.find('('), base.find(')')) {
        base.replace_range(open..=close, "");
    }
    BUILT_IN_TYPES.contains(&base.trim())
}

const BUILT_IN_TYPES: &[&str] = &[
    "\"char\"",
    "bigint",
    "bit",
    "bit varying",
    "boolean",
    "bytea",
    "character",
    "character varying",
    "cidr",
    "date",
    "double precision",
    "inet",
    "integer",
    "interval",
    "json",
    "jsonb",
    "macaddr",
    "money",
    "name",
    "numeric",
    "oid",
    "real",
    "smallint",
    "text",
    "time with time zone",
    "time without time zone",
    "timestamp with time zone",
    "timestamp without time zone",
    "tsvector",
    "uuid",
    "xml",
];

fn sequence_options(sequence: &Sequence) -> String {
    format!(
        " AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {}{}",
        sequence.ty,
        sequence.increment,
        sequence.min,
        sequence.max,
        sequence.start,
        sequence.cache,
        if sequence.cycle {
            " CYCLE"
        } else {
            " NO CYCLE"
        }
    )
}

/// `CREATE TABLE` with its keys and constraints, then its indexes,
/// triggers and comments.
fn create_table(table: &Table) -> Vec<String> {
    let mut lines: Vec<String> = table.columns.iter().map(column).collect();
    lines.extend(ddl_text::key_clauses(table, true, ident));
    lines.extend(table.foreign_keys.iter().map(foreign_key));
    let unlogged = if table.options.contains_key("unlogged") {
        "UNLOGGED "
    } else {
        ""
    };
    let mut create = if lines.is_empty() {
        format!("CREATE {unlogged}TABLE {} ()", qualified(&table.name))
    } else {
        format!(
            "CREATE {unlogged}TABLE {} (\n    {}\n)",
            qualified(&table.name),
            lines.join(",\n    ")
        )
    };
    if let Some(key) = table.options.get("partition_by") {
        let _ = write!(create, " PARTITION BY {key}");
    }
    let mut statements = vec![create];
    statements.extend(table.indexes.iter().map(|i| create_index(&table.name, i)));
    statements.extend(table.triggers.iter().map(|t| t.definition.clone()));
    if let Some(comment) = &table.comment {
        statements.push(comment_on("TABLE", &qualified(&table.name), Some(comment)));
    }
    for c in &table.columns {
        if let Some(comment) = &c.comment {
            statements.push(column_comment(&table.name, &c.name, Some(comment)));
        }
    }
    statements
}

/// A column as `CREATE TABLE` and `ADD COLUMN` take it.
fn column(column: &Column) -> String {
    let mut text = format!("{} {}", ident(&column.name), column_type(column));
    if let Some(collation) = &column.collation {
        let _ = write!(text, " COLLATE {collation}");
    }
    match column.identity {
        Some(Identity::Always) => text.push_str(" GENERATED ALWAYS AS IDENTITY"),
        Some(Identity::ByDefault) => text.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
        _ => {}
    }
    if let Some(generated) = &column.generated {
        text.push_str(&ddl_text::generated(generated));
    }
    if !column.nullable {
        text.push_str(" NOT NULL");
    }
    if let Some(default) = &column.default {
        let _ = write!(text, " DEFAULT {default}");
    }
    text
}

/// The type, or the serial pseudo-type that makes a serial's sequence.
fn column_type(column: &Column) -> &str {
    if column.identity == Some(Identity::Serial) {
        match column.ty.as_str() {
            "integer" => return "serial",
            "bigint" => return "bigserial",
            "smallint" => return "smallserial",
            _ => {}
        }
    }
    &column.ty
}

fn constraint_name(name: &str, generated: bool) -> String {
    ddl_text::constraint_name(name, generated, ident)
}

fn foreign_key(key: &ForeignKey) -> String {
    let mut text = format!(
        "{}FOREIGN KEY ({}) REFERENCES {} ({})",
        constraint_name(&key.name, key.generated_name),
        idents(&key.columns),
        qualified(&key.references),
        idents(&key.referenced_columns)
    );
    text.push_str(&ddl_text::reference_options(key));
    text
}

fn create_index(table: &Name, index: &Index) -> String {
    let parts: Vec<String> = index
        .parts
        .iter()
        .map(|part| {
            let mut text = match &part.key {
                IndexKey::Column(name) => ident(name),
                IndexKey::Expression(expression) => expression.clone(),
            };
            if let Some(opclass) = &part.opclass {
                let _ = write!(text, " {opclass}");
            }
            if part.descending {
                text.push_str(" DESC");
            }
            match part.nulls_first {
                Some(true) => text.push_str(" NULLS FIRST"),
                Some(false) => text.push_str(" NULLS LAST"),
                None => {}
            }
            text
        })
        .collect();
    let mut text = format!(
        "CREATE {}INDEX {} ON {}",
        if index.unique { "UNIQUE " } else { "" },
        ident(&index.name),
        qualified(table)
    );
    if let Some(method) = &index.method {
        let _ = write!(text, " USING {method}");
    }
    let _ = write!(text, " ({})", parts.join(", "));
    if !index.include.is_empty() {
        let _ = write!(text, " INCLUDE ({})", idents(&index.include));
    }
    if let Some(predicate) = &index.predicate {
        let _ = write!(text, " WHERE {predicate}");
    }
    text
}

fn comment_on(kind: &str, target: &str, comment: Option<&str>) -> String {
    format!(
        "COMMENT ON {kind} {target} IS {}",
        comment.map_or_else(|| "NULL".to_owned(), literal)
    )
}

fn column_comment(table: &Name, column: &str, comment: Option<&str>) -> String {
    comment_on(
        "COLUMN",
        &format!("{}.{}", qualified(table), ident(column)),
        comment,
    )
}

/// A table moved to another schema, then renamed there.
fn rename_table(from: &Name, to: &Name) -> Vec<String> {
    let mut statements = Vec::new();
    let mut now = from.clone();
    if from.schema != to.schema {
        // A name without a schema lives in the current one, which only
        // the server knows: `public` unless the URL says otherwise.
        let schema = to.schema.as_deref().unwrap_or("public");
        statements.push(format!(
            "ALTER TABLE {} SET SCHEMA {}",
            qualified(from),
            ident(schema)
        ));
        now.schema.clone_from(&to.schema);
    }
    if from.name != to.name {
        statements.push(format!(
            "ALTER TABLE {} RENAME TO {}",
            qualified(&now),
            ident(&to.name)
        ));
    }
    statements
}

fn alter_table(table: &Name, change: &TableChange) -> Vec<String> {
    let t = qualified(table);
    match change {
        TableChange::AddColumn { column: c } => {
            let mut statements = vec![format!("ALTER TABLE {t} ADD COLUMN {}", column(c))];
            if let Some(comment) = &c.comment {
                statements.push(column_comment(table, &c.name, Some(comment)));
            }
            statements
        }
        TableChange::DropColumn { column } => {
            vec![format!(
                "ALTER TABLE {t} DROP COLUMN {}",
                ident(&column.name)
            )]
        }
        TableChange::AlterColumn { from, to } => alter_column(table, from, to),
        TableChange::RenameColumn { from, to } => vec![format!(
            "ALTER TABLE {t} RENAME COLUMN {} TO {}",
            ident(from),
            ident(to)
        )],
        TableChange::AddPrimaryKey { key } => vec![format!(
            "ALTER TABLE {t} ADD {}PRIMARY KEY ({})",
            constraint_name(&key.name, key.generated_name),
            idents(&key.columns)
        )],
        TableChange::AddUnique { unique } => vec![format!(
            "ALTER TABLE {t} ADD {}UNIQUE ({})",
            constraint_name(&unique.name, unique.generated_name),
            idents(&unique.columns)
        )],
        TableChange::AddCheck { check } => vec![format!(
            "ALTER TABLE {t} ADD {}CHECK ({})",
            constraint_name(&check.name, check.generated_name),
            check.expression
        )],
        TableChange::AddForeignKey { key } => {
            vec![format!("ALTER TABLE {t} ADD {}", foreign_key(key))]
        }
        TableChange::DropPrimaryKey { key } => drop_constraint(&t, &key.name),
        TableChange::DropUnique { unique } => drop_constraint(&t, &unique.name),
        TableChange::DropCheck { check } => drop_constraint(&t, &check.name),
        TableChange::DropForeignKey { key } => drop_constraint(&t, &key.name),
        TableChange::CreateIndex { index } => vec![create_index(table, index)],
        TableChange::DropIndex { index } => {
            let name = Name {
                schema: table.schema.clone(),
                name: index.name.clone(),
            };
            vec![format!("DROP INDEX {}", qualified(&name))]
        }
        TableChange::CreateTrigger { trigger } => vec![trigger.definition.clone()],
        TableChange::DropTrigger { trigger } => {
            vec![format!("DROP TRIGGER {} ON {t}", ident(&trigger.name))]
        }
        TableChange::SetComment { to, .. } => vec![comment_on("TABLE", &t, to.as_deref())],
        // Partitioning never changes in place (the differ recreates the
        // table); logging does.
        TableChange::SetOptions { from, to } => {
            if from.contains_key("unlogged") == to.contains_key("unlogged") {
                Vec::new()
            } else if to.contains_key("unlogged") {
                vec![format!("ALTER TABLE {t} SET UNLOGGED")]
            } else {
                vec![format!("ALTER TABLE {t} SET LOGGED")]
            }
        }
    }
}

fn drop_constraint(table: &str, name: &str) -> Vec<String> {
    vec![format!(
        "ALTER TABLE {table} DROP CONSTRAINT {}",
        ident(name)
    )]
}

/// One column's changes, each undone or made in the order the server
/// accepts: what the new shape forbids goes first (an identity, a default
/// of the old type), then the type, nullability, default, numbering and
/// comment.
fn alter_column(table: &Name, from: &Column, to: &Column) -> Vec<String> {
    let t = qualified(table);
    let c = ident(&to.name);
    let alter = |what: &str| format!("ALTER TABLE {t} ALTER COLUMN {c} {what}");
    if to.generated.is_some() && from.generated != to.generated {
        // No ALTER makes a column generated or changes its expression
        // (before PostgreSQL 17): the column is made anew.
        let mut statements = vec![
            format!("ALTER TABLE {t} DROP COLUMN {c}"),
            format!("ALTER TABLE {t} ADD COLUMN {}", column(to)),
        ];
        if let Some(comment) = &to.comment {
            statements.push(column_comment(table, &to.name, Some(comment)));
        }
        return statements;
    }
    let mut statements = Vec::new();
    let numbered = |i: Option<Identity>| matches!(i, Some(Identity::Always | Identity::ByDefault));
    if from.identity != to.identity {
        match from.identity {
            Some(Identity::Always | Identity::ByDefault) if !numbered(to.identity) => {
                statements.push(alter("DROP IDENTITY"));
            }
            Some(Identity::Serial) => statements.extend(drop_serial(table, &to.name)),
            _ => {}
        }
    }
    if from.generated.is_some() && to.generated.is_none() {
        statements.push(alter("DROP EXPRESSION"));
    }
    let retyped = from.ty != to.ty || from.collation != to.collation;
    let mut default_dropped = false;
    if retyped && from.default.is_some() {
        // The old default may not convert to the new type.
        statements.push(alter("DROP DEFAULT"));
        default_dropped = true;
    }
    if retyped {
        let mut text = format!("TYPE {}", to.ty);
        if let Some(collation) = &to.collation {
            let _ = write!(text, " COLLATE {collation}");
        }
        if to.generated.is_none() {
            let _ = write!(text, " USING {}", conversion(&c, &from.ty, &to.ty));
        }
        statements.push(alter(&text));
    }
    if from.nullable != to.nullable {
        statements.push(alter(if to.nullable {
            "DROP NOT NULL"
        } else {
            "SET NOT NULL"
        }));
    }
    if from.default != to.default || default_dropped {
        match &to.default {
            Some(default) => statements.push(alter(&format!("SET DEFAULT {default}"))),
            None if !default_dropped => statements.push(alter("DROP DEFAULT")),
            None => {}
        }
    }
    if from.identity != to.identity {
        statements.extend(add_numbering(table, from, to));
    }
    if from.comment != to.comment {
        statements.push(column_comment(table, &to.name, to.comment.as_deref()));
    }
    statements
}

/// A serial's default and the sequence it owns go; only the server knows
/// the sequence's name (a renamed table keeps the old one).
fn drop_serial(table: &Name, column: &str) -> Vec<String> {
    vec![
        format!(
            "ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT",
            qualified(table),
            ident(column)
        ),
        format!(
            "DO $retort$BEGIN EXECUTE 'DROP SEQUENCE ' || pg_get_serial_sequence({}, {}); END$retort$",
            literal(&qualified(table)),
            literal(column)
        ),
    ]
}

/// An identity or serial given to an existing column, its sequence moved
/// past the values the rows hold.
fn add_numbering(table: &Name, from: &Column, to: &Column) -> Vec<String> {
    let t = qualified(table);
    let c = ident(&to.name);
    let mut statements = match to.identity {
        Some(Identity::Always) | Some(Identity::ByDefault) => {
            let kind = if to.identity == Some(Identity::Always) {
                "ALWAYS"
            } else {
                "BY DEFAULT"
            };
            if matches!(
                from.identity,
                Some(Identity::Always) | Some(Identity::ByDefault)
            ) {
                return vec![format!(
                    "ALTER TABLE {t} ALTER COLUMN {c} SET GENERATED {kind}"
                )];
            }
            vec![format!(
                "ALTER TABLE {t} ALTER COLUMN {c} ADD GENERATED {kind} AS IDENTITY"
            )]
        }
        Some(Identity::Serial) => {
            let sequence = Name {
                schema: table.schema.clone(),
                name: format!("{}_{}_seq", table.name, to.name),
            };
            let as_type = match to.ty.as_str() {
                ty @ ("smallint" | "integer" | "bigint") => format!(" AS {ty}"),
                _ => String::new(),
            };
            vec![
                format!(
                    "CREATE SEQUENCE {}{as_type} OWNED BY {t}.{c}",
                    qualified(&sequence)
                ),
                format!(
                    "ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT nextval({}::regclass)",
                    literal(&qualified(&sequence))
                ),
            ]
        }
        _ => return Vec::new(),
    };
    statements.push(format!(
        "SELECT setval(pg_get_serial_sequence({}, {}), COALESCE(max({c}), 0) + 1, false) FROM {t}",
        literal(&t),
        literal(&to.name)
    ));
    statements
}

fn create_view(view: &View) -> Vec<String> {
    let name = qualified(&view.name);
    let mut statements = vec![format!("CREATE VIEW {name} AS {}", view.definition)];
    if let Some(comment) = &view.comment {
        statements.push(comment_on("VIEW", &name, Some(comment)));
    }
    statements
}
