//! A SQLite database read into the schema model: the pragmas for what
//! they report (columns, types, nullability, defaults, key order, table
//! options), the text of the `CREATE` statements for what only it holds
//! (see [`super::ddl`]).

use std::collections::BTreeMap;

use super::ddl::{self, ConstraintKind};
use crate::Dialect;
use crate::db::{DbError, Driver};
use crate::schema::{
    Check, Column, ForeignKey, Generated, Identity, Index, Name, PrimaryKey, Schema, Table,
    Trigger, Unique, View,
};
use crate::sql::pieces;

/// Reads the `main` database; tables named in `exclude` (any case) are
/// left out.
pub(crate) fn inspect(driver: &mut dyn Driver, exclude: &[&str]) -> Result<Schema, DbError> {
    let excluded = |name: &str| exclude.iter().any(|e| e.eq_ignore_ascii_case(name));
    let mut schema = Schema::default();
    let objects = driver.query_text(
        "SELECT type, name, tbl_name, sql FROM sqlite_schema \
         WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name",
    )?;
    let columns = driver.query_text(
        "SELECT m.name, c.name, c.type, c.\"notnull\", c.dflt_value, c.pk \
         FROM sqlite_schema m JOIN pragma_table_xinfo(m.name) c \
         WHERE m.type = 'table' ORDER BY m.name, c.cid",
    )?;
    let options = driver.query_text(
        "SELECT name, strict, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table'",
    )?;
    let text =
        |row: &[Option<String>], at: usize| row.get(at).cloned().flatten().unwrap_or_default();

    let mut keys: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for row in &columns {
        let table = text(row, 0);
        if excluded(&table) || table.starts_with("sqlite_") {
            continue;
        }
        let entry = tables
            .entry(table.clone())
            .or_insert_with(|| Table::new(Name::new(table.clone())));
        let mut column = Column::new(text(row, 1), ddl::type_name(&text(row, 2)));
        column.nullable = text(row, 3) == "0";
        column.default = row.get(4).cloned().flatten().map(|d| expression(&d));
        let position: i64 = text(row, 5).parse().unwrap_or(0);
        if position > 0 {
            keys.entry(table)
                .or_default()
                .push((position, column.name.clone()));
        }
        entry.columns.push(column);
    }
    for row in &options {
        if let Some(table) = tables.get_mut(&text(row, 0)) {
            if text(row, 1) == "1" {
                table.options.insert("strict".into(), "true".into());
            }
            if text(row, 2) == "1" {
                table.options.insert("without_rowid".into(), "true".into());
            }
        }
    }

    let mut views = Vec::new();
    for row in &objects {
        let (kind, name, table_name, sql) =
            (text(row, 0), text(row, 1), text(row, 2), text(row, 3));
        match kind.as_str() {
            "table" => {
                if let Some(table) = tables.get_mut(&name) {
                    read_table_sql(table, &sql, keys.remove(&name).unwrap_or_default());
                }
            }
            "index" if !sql.is_empty() => {
                if let Some(table) = tables.get_mut(&table_name) {
                    let read = ddl::index(&sql);
                    table.indexes.push(Index {
                        name,
                        unique: starts_with_words(&sql, &["create", "unique"]),
                        parts: read.parts,
                        predicate: read.predicate,
                        method: None,
                        include: Vec::new(),
                    });
                }
            }
            "trigger" => {
                if let Some(table) = tables.get_mut(&table_name) {
                    table.triggers.push(Trigger {
                        name,
                        definition: expression(&sql),
                    });
                }
            }
            "view" => views.push((name, sql)),
            _ => {}
        }
    }

    // A foreign key that leaves its columns out refers to the parent's
    // primary key.
    let primary_keys: BTreeMap<Name, Vec<String>> = tables
        .values()
        .filter_map(|t| Some((t.name.clone(), t.primary_key.as_ref()?.columns.clone())))
        .collect();
    for table in tables.values_mut() {
        for key in &mut table.foreign_keys {
            if key.referenced_columns.is_empty()
                && let Some(columns) = primary_keys.get(&key.references)
            {
                key.referenced_columns.clone_from(columns);
            }
        }
    }
    for table in tables.into_values() {
        schema.tables.insert(table.name.clone(), table);
    }

    let view_names: std::collections::BTreeSet<&str> =
        views.iter().map(|(name, _)| name.as_str()).collect();
    for (name, sql) in &views {
        let (definition, names) = ddl::view(sql);
        let reads = names
            .into_iter()
            .map(Name::new)
            .filter(|n| {
                n.name != *name
                    && (schema.tables.contains_key(n) || view_names.contains(n.name.as_str()))
            })
            .collect();
        let name = Name::new(name);
        schema.views.insert(
            name.clone(),
            View {
                name,
                definition,
                reads,
                comment: None,
            },
        );
    }
    Ok(schema)
}

/// What only the `CREATE TABLE` text holds; `key` is the primary key's
/// columns with their positions, from the pragma.
fn read_table_sql(table: &mut Table, sql: &str, mut key: Vec<(i64, String)>) {
    let read = ddl::table(sql);
    for column in &read.columns {
        let Some(model) = table
            .columns
            .iter_mut()
            .find(|c| c.name.eq_ignore_ascii_case(&column.name))
        else {
            continue;
        };
        model.collation.clone_from(&column.collation);
        if column.autoincrement {
            model.identity = Some(Identity::AutoIncrement);
        }
        if let Some((expression, stored)) = &column.generated {
            model.generated = Some(Generated {
                expression: expression.clone(),
                stored: *stored,
            });
        }
    }
    key.sort();
    let mut key_name = None;
    for constraint in read.constraints {
        let (name, generated_name) = match constraint.name {
            Some(name) => (name, false),
            None => (String::new(), true),
        };
        match constraint.kind {
            ConstraintKind::PrimaryKey => key_name = Some((name, generated_name)),
            ConstraintKind::Unique(columns) => table.uniques.push(Unique {
                name,
                generated_name,
                columns,
            }),
            ConstraintKind::Check(expression) => table.checks.push(Check {
                name,
                generated_name,
                expression,
            }),
            ConstraintKind::ForeignKey(key) => table.foreign_keys.push(ForeignKey {
                name,
                generated_name,
                columns: key.columns,
                references: Name::new(key.table),
                referenced_columns: key.referenced,
                on_delete: key.on_delete,
                on_update: key.on_update,
                deferrable: key.deferrable,
                match_full: key.match_full,
            }),
        }
    }
    table.sort_constraints();
    if !key.is_empty() {
        let (name, generated_name) = key_name.unwrap_or((String::new(), true));
        table.primary_key = Some(PrimaryKey {
            name,
            generated_name,
            columns: key.into_iter().map(|(_, c)| c).collect(),
        });
    }
}

/// An expression as SQLite keeps it (a default, a trigger), in one
/// spelling.
fn expression(text: &str) -> String {
    match pieces(text, Dialect::Sqlite) {
        Ok(pieces) => ddl::canonical(&pieces),
        Err(_) => text.trim().to_owned(),
    }
}

fn starts_with_words(sql: &str, words: &[&str]) -> bool {
    let mut actual = sql.split_whitespace();
    words
        .iter()
        .all(|w| actual.next().is_some_and(|a| a.eq_ignore_ascii_case(w)))
}
