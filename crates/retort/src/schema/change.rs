//! Changes between two schemas, as data.
//!
//! Every change holds the whole object on both sides it touches, so its
//! inverse is the same change read the other way, and a downgrade is the
//! upgrade's inverses in reverse order: never written twice, never
//! guessed.

use serde::Serialize;

use super::model::{
    Check, Column, EnumType, Extension, ForeignKey, Index, Name, PrimaryKey, Sequence, Table,
    Trigger, Unique, View,
};

/// One change to a schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
#[allow(
    clippy::large_enum_variant,
    reason = "a plan holds a few changes, built once; boxing the tables would burden every match"
)]
pub enum Change {
    /// CREATE SCHEMA.
    CreateSchema {
        /// The schema.
        name: String,
    },
    /// DROP SCHEMA.
    DropSchema {
        /// The schema.
        name: String,
    },
    /// CREATE EXTENSION.
    CreateExtension {
        /// The extension.
        extension: Extension,
    },
    /// DROP EXTENSION.
    DropExtension {
        /// The extension.
        extension: Extension,
    },
    /// CREATE TYPE … AS ENUM.
    CreateEnum {
        /// The type.
        enum_type: EnumType,
    },
    /// DROP TYPE.
    DropEnum {
        /// The type.
        enum_type: EnumType,
    },
    /// An enum's labels change: added in place when `to` keeps `from`'s
    /// labels in order, otherwise the type is rebuilt.
    AlterEnum {
        /// Before.
        from: EnumType,
        /// After.
        to: EnumType,
        /// The columns of type `from` (or arrays of it), by table, which a
        /// rebuild converts: the same in both directions, as the change
        /// runs before the tables change and its inverse after they are
        /// back.
        columns: Vec<(Name, Column)>,
    },
    /// CREATE SEQUENCE.
    CreateSequence {
        /// The sequence.
        sequence: Sequence,
    },
    /// DROP SEQUENCE.
    DropSequence {
        /// The sequence.
        sequence: Sequence,
    },
    /// ALTER SEQUENCE.
    AlterSequence {
        /// Before.
        from: Sequence,
        /// After.
        to: Sequence,
    },
    /// CREATE TABLE, with its keys, constraints and indexes.
    CreateTable {
        /// The table.
        table: Table,
    },
    /// DROP TABLE.
    DropTable {
        /// The table.
        table: Table,
    },
    /// A table renamed (from a hint in the declared schema).
    RenameTable {
        /// The old name.
        from: Name,
        /// The new name.
        to: Name,
    },
    /// Changes inside one table. `from` and `to` are the whole table
    /// before and after, for dialects that rebuild it (SQLite).
    AlterTable {
        /// The table before.
        from: Table,
        /// The table after.
        to: Table,
        /// What changes, in order.
        changes: Vec<TableChange>,
    },
    /// CREATE VIEW.
    CreateView {
        /// The view.
        view: View,
    },
    /// DROP VIEW.
    DropView {
        /// The view.
        view: View,
    },
}

/// One change inside a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum TableChange {
    /// ADD COLUMN.
    AddColumn {
        /// The column.
        column: Column,
    },
    /// DROP COLUMN.
    DropColumn {
        /// The column.
        column: Column,
    },
    /// A column's type, nullability, default, on-update value, identity,
    /// generation, collation or comment changes.
    AlterColumn {
        /// Before.
        from: Column,
        /// After.
        to: Column,
    },
    /// RENAME COLUMN (from a hint in the declared schema).
    RenameColumn {
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// ADD PRIMARY KEY.
    AddPrimaryKey {
        /// The key.
        key: PrimaryKey,
    },
    /// DROP the primary key.
    DropPrimaryKey {
        /// The key.
        key: PrimaryKey,
    },
    /// ADD a unique constraint.
    AddUnique {
        /// The constraint.
        unique: Unique,
    },
    /// DROP a unique constraint.
    DropUnique {
        /// The constraint.
        unique: Unique,
    },
    /// CREATE INDEX.
    CreateIndex {
        /// The index.
        index: Index,
    },
    /// DROP INDEX.
    DropIndex {
        /// The index.
        index: Index,
    },
    /// ADD a foreign key.
    AddForeignKey {
        /// The key.
        key: ForeignKey,
    },
    /// DROP a foreign key.
    DropForeignKey {
        /// The key.
        key: ForeignKey,
    },
    /// ADD a check constraint.
    AddCheck {
        /// The constraint.
        check: Check,
    },
    /// DROP a check constraint.
    DropCheck {
        /// The constraint.
        check: Check,
    },
    /// CREATE TRIGGER.
    CreateTrigger {
        /// The trigger.
        trigger: Trigger,
    },
    /// DROP TRIGGER.
    DropTrigger {
        /// The trigger.
        trigger: Trigger,
    },
    /// The table's options change (SQLite `STRICT`, `WITHOUT ROWID`;
    /// MySQL engine, charset, collation; PostgreSQL `UNLOGGED`).
    SetOptions {
        /// Before.
        from: std::collections::BTreeMap<String, String>,
        /// After.
        to: std::collections::BTreeMap<String, String>,
    },
    /// The table's comment changes.
    SetComment {
        /// Before.
        from: Option<String>,
        /// After.
        to: Option<String>,
    },
}

impl Change {
    /// The change that undoes this one.
    pub fn inverse(&self) -> Change {
        match self.clone() {
            Change::CreateSchema { name } => Change::DropSchema { name },
            Change::DropSchema { name } => Change::CreateSchema { name },
            Change::CreateExtension { extension } => Change::DropExtension { extension },
            Change::DropExtension { extension } => Change::CreateExtension { extension },
            Change::CreateEnum { enum_type } => Change::DropEnum { enum_type },
            Change::DropEnum { enum_type } => Change::CreateEnum { enum_type },
            Change::AlterEnum { from, to, columns } => Change::AlterEnum {
                from: to,
                to: from,
                columns,
            },
            Change::CreateSequence { sequence } => Change::DropSequence { sequence },
            Change::DropSequence { sequence } => Change::CreateSequence { sequence },
            Change::AlterSequence { from, to } => Change::AlterSequence { from: to, to: from },
            Change::CreateTable { table } => Change::DropTable { table },
            Change::DropTable { table } => Change::CreateTable { table },
            Change::RenameTable { from, to } => Change::RenameTable { from: to, to: from },
            Change::AlterTable { from, to, changes } => Change::AlterTable {
                from: to,
                to: from,
                changes: changes.iter().rev().map(TableChange::inverse).collect(),
            },
            Change::CreateView { view } => Change::DropView { view },
            Change::DropView { view } => Change::CreateView { view },
        }
    }

    /// Whether applying it loses data or may fail on the data there:
    /// dropping a table, column or sequence, narrowing a type, removing
    /// enum labels.
    pub fn destructive(&self) -> Option<String> {
        match self {
            Change::DropTable { table } => Some(format!("drops table {} and its rows", table.name)),
            Change::DropSequence { sequence } => Some(format!("drops sequence {}", sequence.name)),
            Change::DropEnum { enum_type } => Some(format!("drops type {}", enum_type.name)),
            Change::AlterEnum { from, to, .. } => {
                let lost: Vec<&str> = from
                    .values
                    .iter()
                    .filter(|v| !to.values.contains(v))
                    .map(String::as_str)
                    .collect();
                (!lost.is_empty()).then(|| {
                    format!(
                        "removes {} from type {}: rows holding them make it fail",
                        lost.join(", "),
                        from.name
                    )
                })
            }
            Change::AlterTable { from, changes, .. } => {
                let reasons: Vec<String> = changes
                    .iter()
                    .filter_map(|c| c.destructive(&from.name))
                    .collect();
                (!reasons.is_empty()).then(|| reasons.join("; "))
            }
            _ => None,
        }
    }

    /// One line in words, as `revision --autogenerate` prints what it
    /// detected ("added table users").
    pub fn describe(&self) -> Vec<String> {
        match self {
            Change::CreateSchema { name } => vec![format!("added schema {name}")],
            Change::DropSchema { name } => vec![format!("removed schema {name}")],
            Change::CreateExtension { extension } => {
                vec![format!("added extension {}", extension.name)]
            }
            Change::DropExtension { extension } => {
                vec![format!("removed extension {}", extension.name)]
            }
            Change::CreateEnum { enum_type } => vec![format!("added type {}", enum_type.name)],
            Change::DropEnum { enum_type } => vec![format!("removed type {}", enum_type.name)],
            Change::AlterEnum { from, .. } => {
                vec![format!("changed the values of type {}", from.name)]
            }
            Change::CreateSequence { sequence } => {
                vec![format!("added sequence {}", sequence.name)]
            }
            Change::DropSequence { sequence } => {
                vec![format!("removed sequence {}", sequence.name)]
            }
            Change::AlterSequence { from, .. } => vec![format!("changed sequence {}", from.name)],
            Change::CreateTable { table } => vec![format!("added table {}", table.name)],
            Change::DropTable { table } => vec![format!("removed table {}", table.name)],
            Change::RenameTable { from, to } => vec![format!("renamed table {from} to {to}")],
            Change::AlterTable { to, changes, .. } => {
                changes.iter().map(|c| c.describe(&to.name)).collect()
            }
            Change::CreateView { view } => vec![format!("added view {}", view.name)],
            Change::DropView { view } => vec![format!("removed view {}", view.name)],
        }
    }
}

impl TableChange {
    /// The change that undoes this one.
    pub fn inverse(&self) -> TableChange {
        match self.clone() {
            TableChange::AddColumn { column } => TableChange::DropColumn { column },
            TableChange::DropColumn { column } => TableChange::AddColumn { column },
            TableChange::AlterColumn { from, to } => {
                TableChange::AlterColumn { from: to, to: from }
            }
            TableChange::RenameColumn { from, to } => {
                TableChange::RenameColumn { from: to, to: from }
            }
            TableChange::AddPrimaryKey { key } => TableChange::DropPrimaryKey { key },
            TableChange::DropPrimaryKey { key } => TableChange::AddPrimaryKey { key },
            TableChange::AddUnique { unique } => TableChange::DropUnique { unique },
            TableChange::DropUnique { unique } => TableChange::AddUnique { unique },
            TableChange::CreateIndex { index } => TableChange::DropIndex { index },
            TableChange::DropIndex { index } => TableChange::CreateIndex { index },
            TableChange::AddForeignKey { key } => TableChange::DropForeignKey { key },
            TableChange::DropForeignKey { key } => TableChange::AddForeignKey { key },
            TableChange::AddCheck { check } => TableChange::DropCheck { check },
            TableChange::DropCheck { check } => TableChange::AddCheck { check },
            TableChange::CreateTrigger { trigger } => TableChange::DropTrigger { trigger },
            TableChange::DropTrigger { trigger } => TableChange::CreateTrigger { trigger },
            TableChange::SetComment { from, to } => TableChange::SetComment { from: to, to: from },
            TableChange::SetOptions { from, to } => TableChange::SetOptions { from: to, to: from },
        }
    }

    fn destructive(&self, table: &Name) -> Option<String> {
        match self {
            TableChange::DropColumn { column } => Some(format!(
                "drops column {table}.{} and its values",
                column.name
            )),
            TableChange::AlterColumn { from, to } if from.ty != to.ty => Some(format!(
                "changes the type of {table}.{} from {} to {}: values that do not fit make it fail or are cut",
                from.name, from.ty, to.ty
            )),
            TableChange::AlterColumn { from, to } if from.nullable && !to.nullable => {
                Some(format!(
                    "makes {table}.{} NOT NULL: rows holding NULL make it fail",
                    to.name
                ))
            }
            _ => None,
        }
    }

    fn describe(&self, table: &Name) -> String {
        match self {
            TableChange::AddColumn { column } => format!("added column {table}.{}", column.name),
            TableChange::DropColumn { column } => {
                format!("removed column {table}.{}", column.name)
            }
            TableChange::AlterColumn { from, to } => {
                let mut what = Vec::new();
                if from.ty != to.ty {
                    what.push(format!("type {} to {}", from.ty, to.ty));
                }
                if from.nullable != to.nullable {
                    what.push(if to.nullable { "nullable" } else { "NOT NULL" }.to_owned());
                }
                if from.default != to.default {
                    what.push("default".to_owned());
                }
                if from.on_update != to.on_update {
                    what.push("on update".to_owned());
                }
                if from.identity != to.identity {
                    what.push("identity".to_owned());
                }
                if from.generated != to.generated {
                    what.push("generation".to_owned());
                }
                if from.collation != to.collation {
                    what.push("collation".to_owned());
                }
                if from.comment != to.comment {
                    what.push("comment".to_owned());
                }
                format!("changed column {table}.{} ({})", to.name, what.join(", "))
            }
            TableChange::RenameColumn { from, to } => {
                format!("renamed column {table}.{from} to {to}")
            }
            TableChange::AddPrimaryKey { .. } => format!("added primary key on {table}"),
            TableChange::DropPrimaryKey { .. } => format!("removed primary key on {table}"),
            TableChange::AddUnique { unique } => format!(
                "added unique constraint on {table}({})",
                unique.columns.join(", ")
            ),
            TableChange::DropUnique { unique } => format!(
                "removed unique constraint on {table}({})",
                unique.columns.join(", ")
            ),
            TableChange::CreateIndex { index } => format!("added index {} on {table}", index.name),
            TableChange::DropIndex { index } => {
                format!("removed index {} on {table}", index.name)
            }
            TableChange::AddForeignKey { key } => format!(
                "added foreign key {table}({}) -> {}",
                key.columns.join(", "),
                key.references
            ),
            TableChange::DropForeignKey { key } => format!(
                "removed foreign key {table}({}) -> {}",
                key.columns.join(", "),
                key.references
            ),
            TableChange::AddCheck { check } => {
                format!("added check on {table}: {}", check.expression)
            }
            TableChange::DropCheck { check } => {
                format!("removed check on {table}: {}", check.expression)
            }
            TableChange::CreateTrigger { trigger } => {
                format!("added trigger {} on {table}", trigger.name)
            }
            TableChange::DropTrigger { trigger } => {
                format!("removed trigger {} on {table}", trigger.name)
            }
            TableChange::SetComment { .. } => format!("changed the comment of table {table}"),
            TableChange::SetOptions { from, to } => {
                let show = |options: &std::collections::BTreeMap<String, String>| {
                    let words: Vec<String> =
                        options.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    if words.is_empty() {
                        "defaults".to_owned()
                    } else {
                        words.join(" ")
                    }
                };
                format!(
                    "changed the options of table {table} ({} to {})",
                    show(from),
                    show(to)
                )
            }
        }
    }
}
