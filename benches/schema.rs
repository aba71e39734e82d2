//! A generated application schema and a copy of it edited on a few percent
//! of its tables: the inputs of the schema benchmarks (`schema_diff`,
//! `autogenerate`).
//!
//! [`design`] describes `n` tables shaped like a real application's: an
//! integer primary key, 5 to 15 columns of several types (defaults and NOT
//! NULL on some), named unique and check constraints, one or two foreign
//! keys to earlier tables with an index on each, other indexes, and
//! optionally views joining a table to its parent. [`edit`] changes a copy
//! the way a few weeks of work would and lists each [`Edit`], so a
//! benchmark knows what a differ must find.
//!
//! A [`Design`] is written three ways: as retort's schema model
//! ([`Design::model`], the spelling the SQLite inspector reads back from
//! the DDL, which `schema_diff` checks), as SQLite DDL
//! ([`Design::sqlite_statements`]) and as SQLAlchemy tables
//! ([`Design::sqlalchemy`]). Everything is deterministic.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use retort::schema::{
    Action, Check, Column, Deferrable, ForeignKey, Index, IndexPart, Name, PrimaryKey, Schema,
    Table, Unique, View,
};

/// A column type, with its spelling in each output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// INTEGER.
    Integer,
    /// BIGINT.
    BigInt,
    /// VARCHAR(n).
    Varchar(u32),
    /// TEXT.
    Text,
    /// BOOLEAN.
    Boolean,
    /// NUMERIC(12, 2).
    Money,
    /// DATETIME.
    DateTime,
    /// DATE.
    Date,
    /// REAL.
    Real,
}

impl Type {
    /// As written in the DDL.
    pub fn sql(self) -> String {
        match self {
            Type::Integer => "INTEGER".into(),
            Type::BigInt => "BIGINT".into(),
            Type::Varchar(n) => format!("VARCHAR({n})"),
            Type::Text => "TEXT".into(),
            Type::Boolean => "BOOLEAN".into(),
            Type::Money => "NUMERIC(12, 2)".into(),
            Type::DateTime => "DATETIME".into(),
            Type::Date => "DATE".into(),
            Type::Real => "REAL".into(),
        }
    }

    /// As the SQLite inspector reports it: lower case, no spaces inside
    /// the parentheses.
    pub fn model(self) -> String {
        self.sql().to_ascii_lowercase().replace(", ", ",")
    }

    /// The SQLAlchemy type a model would declare.
    pub fn sqlalchemy(self) -> String {
        match self {
            Type::Integer => "sa.Integer()".into(),
            Type::BigInt => "sa.BigInteger()".into(),
            Type::Varchar(n) => format!("sa.String({n})"),
            Type::Text => "sa.Text()".into(),
            Type::Boolean => "sa.Boolean()".into(),
            Type::Money => "sa.Numeric(12, 2)".into(),
            Type::DateTime => "sa.DateTime()".into(),
            Type::Date => "sa.Date()".into(),
            Type::Real => "sa.REAL()".into(),
        }
    }
}

/// A column default: (as written, as the inspector reads it back).
pub type DefaultValue = (&'static str, &'static str);

/// One column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// NOT NULL.
    pub not_null: bool,
    /// DEFAULT.
    pub default: Option<DefaultValue>,
}

/// A foreign key on one column to a table's `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKeyDef {
    /// The constraint's name.
    pub name: String,
    /// The referencing column.
    pub column: String,
    /// The referenced table.
    pub parent: String,
    /// ON DELETE CASCADE (otherwise the default, NO ACTION).
    pub cascade: bool,
}

/// An index on columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDef {
    /// Its name.
    pub name: String,
    /// UNIQUE.
    pub unique: bool,
    /// Its columns, in order.
    pub columns: Vec<String>,
}

/// One table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    /// Its name.
    pub name: String,
    /// Columns; the first is `id`, the primary key.
    pub columns: Vec<ColumnDef>,
    /// Named unique constraints: (name, column).
    pub uniques: Vec<(String, String)>,
    /// Named check constraints: (name, expression).
    pub checks: Vec<(String, String)>,
    /// Foreign keys.
    pub foreign_keys: Vec<ForeignKeyDef>,
    /// Indexes.
    pub indexes: Vec<IndexDef>,
}

impl TableDef {
    fn has(&self, column: &str) -> bool {
        self.columns.iter().any(|c| c.name == column)
    }

    /// Whether a constraint or index names `column`.
    fn uses(&self, column: &str) -> bool {
        self.uniques.iter().any(|(_, c)| c == column)
            || self.checks.iter().any(|(_, e)| e.starts_with(column))
            || self.foreign_keys.iter().any(|k| k.column == column)
            || self
                .indexes
                .iter()
                .any(|i| i.columns.iter().any(|c| c == column))
    }
}

/// A view of a table joined to its first parent, or of the table alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewDef {
    /// Its name.
    pub name: String,
    /// The table it lists.
    pub table: String,
    /// The parent whose name it shows: (table, foreign-key column).
    pub parent: Option<(String, String)>,
}

impl ViewDef {
    /// The query, in the SQLite inspector's canonical spelling.
    pub fn query(&self) -> String {
        match &self.parent {
            Some((parent, column)) => format!(
                "select c.id, c.name, p.name as parent_name from {} c join {parent} p on p.id = c.{column}",
                self.table
            ),
            None => format!("select id, name from {}", self.table),
        }
    }

    /// The tables it reads.
    pub fn reads(&self) -> BTreeSet<String> {
        let mut reads: BTreeSet<String> = self.parent.iter().map(|(p, _)| p.clone()).collect();
        reads.insert(self.table.clone());
        reads
    }
}

/// A whole schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Design {
    /// Tables; a foreign key always refers to an earlier one.
    pub tables: Vec<TableDef>,
    /// Views.
    pub views: Vec<ViewDef>,
}

/// One change [`edit`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// A nullable column added.
    AddColumn {
        /// The table.
        table: String,
        /// The new column.
        column: String,
    },
    /// A column no constraint or index uses, dropped.
    DropColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// `name` widened from VARCHAR(120) to VARCHAR(255).
    WidenColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// `name` made nullable.
    DropNotNull {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// An index added.
    AddIndex {
        /// The table.
        table: String,
        /// The index.
        index: String,
    },
    /// An index dropped.
    DropIndex {
        /// The table.
        table: String,
        /// The index.
        index: String,
    },
    /// A new column with a foreign key to one of the first tables.
    AddReference {
        /// The table.
        table: String,
        /// The new column.
        column: String,
    },
    /// A foreign key dropped, its column and index kept.
    DropForeignKey {
        /// The table.
        table: String,
        /// The key's column.
        column: String,
    },
    /// A new table.
    AddTable {
        /// The table.
        table: String,
    },
    /// A table dropped (one nothing refers to and no view reads).
    DropTable {
        /// The table.
        table: String,
    },
}

impl Edit {
    /// The table it changes.
    pub fn table(&self) -> &str {
        match self {
            Edit::AddColumn { table, .. }
            | Edit::DropColumn { table, .. }
            | Edit::WidenColumn { table, .. }
            | Edit::DropNotNull { table, .. }
            | Edit::AddIndex { table, .. }
            | Edit::DropIndex { table, .. }
            | Edit::AddReference { table, .. }
            | Edit::DropForeignKey { table, .. }
            | Edit::AddTable { table }
            | Edit::DropTable { table } => table,
        }
    }

    /// Whether it changes the table's columns (which a view reading the
    /// table may depend on) or drops it.
    pub fn reshapes(&self) -> bool {
        matches!(
            self,
            Edit::DropColumn { .. } | Edit::WidenColumn { .. } | Edit::DropTable { .. }
        )
    }
}

/// Tables no foreign key refers to and no view reads: the ones [`edit`]
/// may drop. One in this many.
const LEAF_EVERY: usize = 50;
/// Tables [`edit`] never changes, so that new tables and references can
/// point at them.
const STABLE_TABLES: usize = 5;
/// Views: one per this many tables, when asked for.
pub const VIEW_EVERY: usize = 20;

/// Columns besides the key, the name and the foreign keys; each table
/// takes a run of them, starting at a place of its own.
const POOL: [(&str, Type, bool, Option<DefaultValue>); 14] = [
    ("status", Type::Varchar(20), true, Some(("'new'", "'new'"))),
    ("email", Type::Varchar(255), false, None),
    ("amount", Type::Money, true, Some(("0", "0"))),
    ("quantity", Type::Integer, true, Some(("0", "0"))),
    ("note", Type::Text, false, None),
    (
        "created_at",
        Type::DateTime,
        true,
        Some(("CURRENT_TIMESTAMP", "current_timestamp")),
    ),
    ("updated_at", Type::DateTime, false, None),
    ("active", Type::Boolean, true, Some(("1", "1"))),
    ("code", Type::Varchar(32), false, None),
    ("title", Type::Varchar(200), false, None),
    ("description", Type::Text, false, None),
    ("score", Type::Real, false, None),
    ("due_on", Type::Date, false, None),
    ("external_id", Type::BigInt, false, None),
];

fn is_leaf(index: usize) -> bool {
    index % LEAF_EVERY == LEAF_EVERY - 1
}

/// The name of table `index`.
pub fn table_name(index: usize) -> String {
    format!("{}_{index:04}", super::NOUNS[index % super::NOUNS.len()])
}

/// `tables` tables and, with `views`, one view per [`VIEW_EVERY`] tables.
pub fn design(tables: usize, views: bool) -> Design {
    let tables: Vec<TableDef> = (0..tables).map(|i| table(i, &parents(i))).collect();
    let views = if views {
        (0..tables.len() / VIEW_EVERY)
            .map(|k| view(&tables[k * VIEW_EVERY + 3]))
            .collect()
    } else {
        Vec::new()
    };
    Design { tables, views }
}

/// The tables table `index` refers to: none, one or two earlier ones, never
/// a leaf.
fn parents(index: usize) -> Vec<usize> {
    let count = [0, 1, 1, 2][index % 4].min(index);
    let mut parents: Vec<usize> = Vec::new();
    for k in 0..count {
        let mut parent = (index * 7 + 3 + k * 13) % index;
        while is_leaf(parent) || parents.contains(&parent) {
            parent = (parent + 1) % index;
        }
        parents.push(parent);
    }
    parents
}

fn table(index: usize, parents: &[usize]) -> TableDef {
    let name = table_name(index);
    let mut table = TableDef {
        name: name.clone(),
        columns: vec![
            ColumnDef {
                name: "id".into(),
                ty: Type::Integer,
                not_null: true,
                default: None,
            },
            ColumnDef {
                name: "name".into(),
                ty: Type::Varchar(120),
                not_null: true,
                default: None,
            },
        ],
        uniques: Vec::new(),
        checks: Vec::new(),
        foreign_keys: Vec::new(),
        indexes: Vec::new(),
    };
    for (k, &parent) in parents.iter().enumerate() {
        let parent = table_name(parent);
        let column = format!("{parent}_id");
        table.columns.push(ColumnDef {
            name: column.clone(),
            ty: Type::Integer,
            not_null: k == 0,
            default: None,
        });
        table.foreign_keys.push(ForeignKeyDef {
            name: format!("fk_{name}_{column}"),
            column: column.clone(),
            parent,
            cascade: k == 0 && index.is_multiple_of(3),
        });
        table.indexes.push(IndexDef {
            name: format!("ix_{name}_{column}"),
            unique: false,
            columns: vec![column],
        });
    }
    // 5 to 15 columns in all.
    let total = 5 + (index * 7) % 11;
    let extra = total.saturating_sub(table.columns.len()).max(2);
    let start = (index * 5) % POOL.len();
    for k in 0..extra {
        let (column, ty, not_null, default) = POOL[(start + k) % POOL.len()];
        table.columns.push(ColumnDef {
            name: column.into(),
            ty,
            not_null,
            default,
        });
    }
    if table.has("code") {
        table
            .uniques
            .push((format!("uq_{name}_code"), "code".into()));
    }
    if table.has("email") && index.is_multiple_of(2) {
        table
            .uniques
            .push((format!("uq_{name}_email"), "email".into()));
    }
    if table.has("quantity") {
        table
            .checks
            .push((format!("ck_{name}_quantity"), "quantity >= 0".into()));
    }
    if table.has("amount") && index.is_multiple_of(3) {
        table
            .checks
            .push((format!("ck_{name}_amount"), "amount >= 0".into()));
    }
    if table.has("status") && table.has("created_at") {
        table.indexes.push(IndexDef {
            name: format!("ix_{name}_status_created_at"),
            unique: false,
            columns: vec!["status".into(), "created_at".into()],
        });
    } else if table.has("status") {
        table.indexes.push(IndexDef {
            name: format!("ix_{name}_status"),
            unique: false,
            columns: vec!["status".into()],
        });
    }
    if table.has("external_id") {
        table.indexes.push(IndexDef {
            name: format!("ux_{name}_external_id"),
            unique: true,
            columns: vec!["external_id".into()],
        });
    }
    table
}

fn view(table: &TableDef) -> ViewDef {
    ViewDef {
        name: format!("v_{}", table.name),
        table: table.name.clone(),
        parent: table
            .foreign_keys
            .first()
            .map(|k| (k.parent.clone(), k.column.clone())),
    }
}

/// The kinds of table edits, in the order [`edit`] deals them out.
const KINDS: usize = 8;

/// A copy of `design` edited on about 3% of its tables (at least 8):
/// columns added, dropped, widened and made nullable; indexes and foreign
/// keys added and dropped, in equal shares, one edit per table; plus a new
/// table per 200 tables and a dropped one per 300 (at least 2 of each).
/// Views are kept (none reads a dropped table).
pub fn edit(design: &Design) -> (Design, Vec<Edit>) {
    let mut out = design.clone();
    let mut edits = Vec::new();
    let n = design.tables.len();
    let viewed: BTreeSet<String> = design.views.iter().flat_map(ViewDef::reads).collect();
    let leaves: Vec<usize> = (0..n).filter(|&i| is_leaf(i)).collect();
    let dropped: Vec<usize> = {
        let count = (n / 300).max(2).min(leaves.len());
        (0..count)
            .map(|m| leaves[m * leaves.len() / count])
            .collect()
    };
    let slots = (n * 3 / 100).max(KINDS);
    // The tables a dropped table refers to stay as they are: retort's
    // differ drops the foreign keys of a dropped table first, as a change
    // of their own, when the table they refer to changes too, which
    // Alembic does not report (BENCHMARKS.md, "Autogenerate: 1,000 tables
    // against Alembic").
    let mut taken: BTreeSet<usize> = dropped
        .iter()
        .flat_map(|&d| &design.tables[d].foreign_keys)
        .filter_map(|k| design.tables.iter().position(|t| t.name == k.parent))
        .collect();
    for slot in 0..slots {
        let kind = slot % KINDS;
        // Spread evenly over the tables after the stable ones, each slot
        // taking the first table from its place on that suits its kind.
        let span = n.saturating_sub(STABLE_TABLES).max(1);
        let first = slot * span / slots;
        let candidate = (0..span)
            .map(|k| STABLE_TABLES + (first + k) % span)
            .filter(|&i| i < n && !is_leaf(i) && !taken.contains(&i))
            .find(|&i| applies(kind, &out.tables[i]));
        let Some(at) = candidate else { continue };
        taken.insert(at);
        edits.push(apply(kind, &mut out.tables[at], at));
    }
    for (k, &at) in dropped.iter().enumerate() {
        debug_assert!(!viewed.contains(&design.tables[at].name));
        // Removing from the back keeps the earlier indexes valid.
        let at = at - k;
        let table = out.tables.remove(at);
        edits.push(Edit::DropTable { table: table.name });
    }
    let new = (n / 200).max(2);
    for k in 0..new {
        let index = n + k;
        let parents: Vec<usize> = (0..(k % 3).min(STABLE_TABLES))
            .map(|p| p % n.max(1))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let table = table(index, &parents);
        edits.push(Edit::AddTable {
            table: table.name.clone(),
        });
        out.tables.push(table);
    }
    (out, edits)
}

/// Whether edit `kind` can be made to `table`.
fn applies(kind: usize, table: &TableDef) -> bool {
    match kind {
        1 => droppable(table).is_some(),
        5 => table.indexes.iter().any(|i| i.columns[0] == "status"),
        7 => !table.foreign_keys.is_empty(),
        _ => true,
    }
}

/// The last column besides `id` and `name` that no constraint or index
/// uses.
fn droppable(table: &TableDef) -> Option<String> {
    table
        .columns
        .iter()
        .skip(2)
        .rev()
        .find(|c| !table.uses(&c.name))
        .map(|c| c.name.clone())
}

fn apply(kind: usize, table: &mut TableDef, index: usize) -> Edit {
    let name = table.name.clone();
    match kind {
        0 => {
            table.columns.push(ColumnDef {
                name: "phone".into(),
                ty: Type::Varchar(40),
                not_null: false,
                default: None,
            });
            Edit::AddColumn {
                table: name,
                column: "phone".into(),
            }
        }
        1 => {
            let column = droppable(table).unwrap_or_default();
            table.columns.retain(|c| c.name != column);
            Edit::DropColumn {
                table: name,
                column,
            }
        }
        2 => {
            table.columns[1].ty = Type::Varchar(255);
            Edit::WidenColumn {
                table: name,
                column: "name".into(),
            }
        }
        3 => {
            table.columns[1].not_null = false;
            Edit::DropNotNull {
                table: name,
                column: "name".into(),
            }
        }
        4 => {
            let index = format!("ix_{name}_name");
            table.indexes.push(IndexDef {
                name: index.clone(),
                unique: false,
                columns: vec!["name".into()],
            });
            Edit::AddIndex { table: name, index }
        }
        5 => {
            let at = table
                .indexes
                .iter()
                .position(|i| i.columns[0] == "status")
                .unwrap_or(0);
            let index = table.indexes.remove(at).name;
            Edit::DropIndex { table: name, index }
        }
        6 => {
            let parent = table_name(index % STABLE_TABLES);
            let column = format!("{parent}_ref_id");
            table.columns.push(ColumnDef {
                name: column.clone(),
                ty: Type::Integer,
                not_null: false,
                default: None,
            });
            table.foreign_keys.push(ForeignKeyDef {
                name: format!("fk_{name}_{column}"),
                column: column.clone(),
                parent,
                cascade: false,
            });
            Edit::AddReference {
                table: name,
                column,
            }
        }
        _ => {
            let key = table.foreign_keys.pop().map(|k| k.column);
            Edit::DropForeignKey {
                table: name,
                column: key.unwrap_or_default(),
            }
        }
    }
}

impl Design {
    /// The table called `name`.
    pub fn table(&self, name: &str) -> Option<&TableDef> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// As retort's model, spelled as the SQLite inspector reads
    /// [`Design::sqlite_statements`] back.
    pub fn model(&self) -> Schema {
        let mut schema = Schema::default();
        for table in &self.tables {
            let model = table_model(table);
            schema.tables.insert(model.name.clone(), model);
        }
        for view in &self.views {
            let name = Name::new(&view.name);
            schema.views.insert(
                name.clone(),
                View {
                    name,
                    definition: view.query(),
                    reads: view.reads().into_iter().map(Name::new).collect(),
                    comment: None,
                },
            );
        }
        schema
    }

    /// SQLite statements that build it: each table's `CREATE TABLE` and
    /// `CREATE INDEX`es, then the views.
    pub fn sqlite_statements(&self) -> Vec<String> {
        let mut statements = Vec::new();
        for table in &self.tables {
            statements.extend(table_sql(table));
        }
        for view in &self.views {
            statements.push(format!("CREATE VIEW {} AS {}", view.name, view_sql(view)));
        }
        statements
    }

    /// A Python module defining `metadata`, a SQLAlchemy `MetaData` with
    /// every table (views are not SQLAlchemy tables: left out).
    pub fn sqlalchemy(&self) -> String {
        let mut out = String::from(
            "\"\"\"The application's tables, as SQLAlchemy Core declares them.\"\"\"\n\n\
             import sqlalchemy as sa\n\n\
             metadata = sa.MetaData()\n",
        );
        for table in &self.tables {
            table_python(&mut out, table);
        }
        out
    }
}

fn table_model(table: &TableDef) -> Table {
    let mut model = Table::new(Name::new(&table.name));
    for column in &table.columns {
        let mut c = Column::new(&column.name, column.ty.model());
        c.nullable = !column.not_null;
        c.default = column.default.map(|(_, read)| read.to_owned());
        model.columns.push(c);
    }
    model.primary_key = Some(PrimaryKey {
        name: String::new(),
        generated_name: true,
        columns: vec!["id".into()],
    });
    model.uniques = table
        .uniques
        .iter()
        .map(|(name, column)| Unique {
            name: name.clone(),
            generated_name: false,
            columns: vec![column.clone()],
        })
        .collect();
    model.checks = table
        .checks
        .iter()
        .map(|(name, expression)| Check {
            name: name.clone(),
            generated_name: false,
            expression: expression.clone(),
        })
        .collect();
    model.foreign_keys = table
        .foreign_keys
        .iter()
        .map(|key| ForeignKey {
            name: key.name.clone(),
            generated_name: false,
            columns: vec![key.column.clone()],
            references: Name::new(&key.parent),
            referenced_columns: vec!["id".into()],
            on_delete: if key.cascade {
                Action::Cascade
            } else {
                Action::NoAction
            },
            on_update: Action::NoAction,
            deferrable: Deferrable::No,
            match_full: false,
        })
        .collect();
    // The inspector lists indexes by name.
    let mut indexes: Vec<&IndexDef> = table.indexes.iter().collect();
    indexes.sort_by(|a, b| a.name.cmp(&b.name));
    model.indexes = indexes
        .into_iter()
        .map(|index| Index {
            name: index.name.clone(),
            unique: index.unique,
            parts: index.columns.iter().map(IndexPart::column).collect(),
            predicate: None,
            method: None,
            include: Vec::new(),
        })
        .collect();
    model
}

/// `CREATE TABLE` with its constraints, then its indexes.
pub fn table_sql(table: &TableDef) -> Vec<String> {
    let mut lines: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            let mut line = format!("{} {}", c.name, c.ty.sql());
            if c.not_null {
                line.push_str(" NOT NULL");
            }
            if c.name == "id" {
                line.push_str(" PRIMARY KEY");
            }
            if let Some((sql, _)) = c.default {
                let _ = write!(line, " DEFAULT {sql}");
            }
            line
        })
        .collect();
    for (name, column) in &table.uniques {
        lines.push(format!("CONSTRAINT {name} UNIQUE ({column})"));
    }
    for (name, expression) in &table.checks {
        lines.push(format!("CONSTRAINT {name} CHECK ({expression})"));
    }
    for key in &table.foreign_keys {
        let mut line = format!(
            "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} (id)",
            key.name, key.column, key.parent
        );
        if key.cascade {
            line.push_str(" ON DELETE CASCADE");
        }
        lines.push(line);
    }
    let mut statements = vec![format!(
        "CREATE TABLE {} (\n    {}\n)",
        table.name,
        lines.join(",\n    ")
    )];
    for index in &table.indexes {
        statements.push(format!(
            "CREATE {}INDEX {} ON {} ({})",
            if index.unique { "UNIQUE " } else { "" },
            index.name,
            table.name,
            index.columns.join(", ")
        ));
    }
    statements
}

fn view_sql(view: &ViewDef) -> String {
    match &view.parent {
        Some((parent, column)) => format!(
            "SELECT c.id, c.name, p.name AS parent_name FROM {} c JOIN {parent} p ON p.id = c.{column}",
            view.table
        ),
        None => format!("SELECT id, name FROM {}", view.table),
    }
}

fn table_python(out: &mut String, table: &TableDef) {
    let _ = write!(out, "\nsa.Table(\n    {:?},\n    metadata,\n", table.name);
    for column in &table.columns {
        let _ = write!(
            out,
            "    sa.Column({:?}, {}",
            column.name,
            column.ty.sqlalchemy()
        );
        if column.name == "id" {
            out.push_str(", primary_key=True");
        } else {
            let _ = write!(
                out,
                ", nullable={}",
                if column.not_null { "False" } else { "True" }
            );
        }
        if let Some((sql, _)) = column.default {
            let _ = write!(out, ", server_default=sa.text({sql:?})");
        }
        out.push_str("),\n");
    }
    for (name, column) in &table.uniques {
        let _ = writeln!(out, "    sa.UniqueConstraint({column:?}, name={name:?}),");
    }
    for (name, expression) in &table.checks {
        let _ = writeln!(
            out,
            "    sa.CheckConstraint({expression:?}, name={name:?}),"
        );
    }
    for key in &table.foreign_keys {
        let _ = write!(
            out,
            "    sa.ForeignKeyConstraint([{:?}], [\"{}.id\"], name={:?}",
            key.column, key.parent, key.name
        );
        if key.cascade {
            out.push_str(", ondelete=\"CASCADE\"");
        }
        out.push_str("),\n");
    }
    for index in &table.indexes {
        let columns: Vec<String> = index.columns.iter().map(|c| format!("{c:?}")).collect();
        let _ = writeln!(
            out,
            "    sa.Index({:?}, {}{}),",
            index.name,
            columns.join(", "),
            if index.unique { ", unique=True" } else { "" }
        );
    }
    out.push_str(")\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let design = design(1_000, true);
        assert_eq!(design.tables.len(), 1_000);
        assert_eq!(design.views.len(), 50);
        for (i, table) in design.tables.iter().enumerate() {
            assert!((5..=15).contains(&table.columns.len()), "{}", table.name);
            for key in &table.foreign_keys {
                let parent = design.tables.iter().position(|t| t.name == key.parent);
                assert!(parent.is_some_and(|p| p < i && !is_leaf(p)));
            }
        }
        let (edited, edits) = edit(&design);
        assert_eq!(edits.len(), 30 + 3 + 5);
        let tables: BTreeSet<&str> = edits.iter().map(Edit::table).collect();
        assert_eq!(tables.len(), edits.len(), "one edit per table");
        assert_eq!(edited.tables.len(), 1_000 - 3 + 5);
        assert_eq!(edit(&design), (edited, edits));
    }
}
