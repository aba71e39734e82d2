//! The schema model: what a database holds, in a form where equal
//! schemas compare equal whichever server or text produced them.
//!
//! Inspectors (`db/<dialect>/inspect`) fill it from the catalogs of a
//! database the server itself built, so types, defaults and expressions
//! are the server's rendering, never the user's text; what stays unstable
//! across runs (names the server generated) is marked rather than
//! compared. retort's own state tables are never part of it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// A name in a schema: PostgreSQL's namespace when it is not the
/// connection's default one, and the object's own name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Name {
    /// The schema (PostgreSQL) when not the default one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The object's name.
    pub name: String,
}

impl Name {
    /// A name in the default schema.
    pub fn new(name: impl Into<String>) -> Name {
        Name {
            schema: None,
            name: name.into(),
        }
    }

    /// A name in `schema`.
    pub fn in_schema(schema: impl Into<String>, name: impl Into<String>) -> Name {
        Name {
            schema: Some(schema.into()),
            name: name.into(),
        }
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A map keyed by [`Name`] as a JSON object keyed by `schema.name` (or
/// `name` in the default schema): JSON keys must be strings.
fn by_qualified_name<S, T>(map: &BTreeMap<Name, T>, serializer: S) -> Result<S::Ok, S::Error>
where
    S: serde::Serializer,
    T: Serialize,
{
    serializer.collect_map(map.iter().map(|(name, value)| (name.to_string(), value)))
}

/// Everything a database holds that a migration manages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Schema {
    /// PostgreSQL schemas besides the default one.
    pub schemas: BTreeSet<String>,
    /// PostgreSQL extensions, by name.
    pub extensions: BTreeMap<String, Extension>,
    /// PostgreSQL enum types.
    #[serde(serialize_with = "by_qualified_name")]
    pub enums: BTreeMap<Name, EnumType>,
    /// Sequences no column owns (a serial's or identity's is part of its
    /// column).
    #[serde(serialize_with = "by_qualified_name")]
    pub sequences: BTreeMap<Name, Sequence>,
    /// Tables.
    #[serde(serialize_with = "by_qualified_name")]
    pub tables: BTreeMap<Name, Table>,
    /// Views.
    #[serde(serialize_with = "by_qualified_name")]
    pub views: BTreeMap<Name, View>,
}

/// A table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    /// Its name.
    pub name: Name,
    /// Columns, in the table's order.
    pub columns: Vec<Column>,
    /// The primary key.
    pub primary_key: Option<PrimaryKey>,
    /// Unique constraints (an index a constraint owns is not listed
    /// again in `indexes`).
    pub uniques: Vec<Unique>,
    /// Indexes no constraint owns.
    pub indexes: Vec<Index>,
    /// Foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
    /// Check constraints.
    pub checks: Vec<Check>,
    /// Triggers on the table.
    pub triggers: Vec<Trigger>,
    /// The comment (PostgreSQL, MySQL).
    pub comment: Option<String>,
    /// Options of the dialect: SQLite `strict` and `without_rowid`;
    /// MySQL `engine`, `charset` and `collation`.
    pub options: BTreeMap<String, String>,
}

impl Table {
    /// Puts the unique, check and foreign-key constraints in name order
    /// (unnamed ones first, by their columns), as the server dialects read
    /// them: their order in a table's SQL carries no meaning, and tools
    /// that rebuild tables (Alembic's batch mode) do not keep it from one
    /// run to the next.
    pub fn sort_constraints(&mut self) {
        self.uniques
            .sort_by(|a, b| (&a.name, &a.columns).cmp(&(&b.name, &b.columns)));
        self.checks
            .sort_by(|a, b| (&a.name, &a.expression).cmp(&(&b.name, &b.expression)));
        self.foreign_keys.sort_by(|a, b| {
            (&a.name, &a.columns, &a.references).cmp(&(&b.name, &b.columns, &b.references))
        });
    }

    /// An empty table called `name`.
    pub fn new(name: Name) -> Table {
        Table {
            name,
            columns: Vec::new(),
            primary_key: None,
            uniques: Vec::new(),
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
            triggers: Vec::new(),
            comment: None,
            options: BTreeMap::new(),
        }
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// The type as the server writes it, aliases resolved
    /// (`integer`, `character varying(255)`, `int`, `varchar(255)`).
    #[serde(rename = "type")]
    pub ty: String,
    /// Whether it accepts NULL.
    pub nullable: bool,
    /// The default, as the server renders the expression.
    pub default: Option<String>,
    /// The value written on every update of the row (MySQL's
    /// `ON UPDATE current_timestamp()`): part of the column's definition
    /// there, so a `MODIFY COLUMN` that leaves it out removes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_update: Option<String>,
    /// How the server numbers it, if it does.
    pub identity: Option<Identity>,
    /// The expression that computes it, for a generated column.
    pub generated: Option<Generated>,
    /// The collation, when it is not the one the column would inherit.
    pub collation: Option<String>,
    /// The comment (PostgreSQL, MySQL).
    pub comment: Option<String>,
}

impl Column {
    /// A nullable column of type `ty`, nothing else set.
    pub fn new(name: impl Into<String>, ty: impl Into<String>) -> Column {
        Column {
            name: name.into(),
            ty: ty.into(),
            nullable: true,
            default: None,
            on_update: None,
            identity: None,
            generated: None,
            collation: None,
            comment: None,
        }
    }
}

/// How the server numbers a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Identity {
    /// PostgreSQL `GENERATED ALWAYS AS IDENTITY`.
    Always,
    /// PostgreSQL `GENERATED BY DEFAULT AS IDENTITY`.
    ByDefault,
    /// PostgreSQL `serial`: a default from a sequence the column owns.
    Serial,
    /// MySQL `AUTO_INCREMENT`, SQLite `AUTOINCREMENT`.
    AutoIncrement,
}

/// A generated column's expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Generated {
    /// The expression, as the server renders it.
    pub expression: String,
    /// Stored (computed on write) rather than virtual.
    pub stored: bool,
}

/// A primary key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrimaryKey {
    /// The constraint's name as the database has it (empty when SQLite
    /// keeps none).
    pub name: String,
    /// Whether the server chose the name.
    pub generated_name: bool,
    /// Its columns, in key order.
    pub columns: Vec<String>,
}

/// A unique constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unique {
    /// The constraint's name as the database has it.
    pub name: String,
    /// Whether the server chose the name: such constraints are matched by
    /// their columns, and created without a name.
    pub generated_name: bool,
    /// Its columns, in order.
    pub columns: Vec<String>,
}

/// An index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Index {
    /// Its name.
    pub name: String,
    /// Whether it is unique.
    pub unique: bool,
    /// What it indexes, in order.
    pub parts: Vec<IndexPart>,
    /// The predicate of a partial index.
    pub predicate: Option<String>,
    /// The access method when not the default (`gin`, `hash`).
    pub method: Option<String>,
    /// Columns carried in the index but not part of its key (INCLUDE).
    pub include: Vec<String>,
}

/// One key of an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexPart {
    /// A column or an expression.
    pub key: IndexKey,
    /// Descending order.
    pub descending: bool,
    /// Where NULLs sort, when not the order's default (PostgreSQL).
    pub nulls_first: Option<bool>,
    /// The operator class, when not the type's default (PostgreSQL).
    pub opclass: Option<String>,
    /// The length of a prefix index (MySQL).
    pub prefix: Option<u32>,
}

impl IndexPart {
    /// An ascending key on a column.
    pub fn column(name: impl Into<String>) -> IndexPart {
        IndexPart {
            key: IndexKey::Column(name.into()),
            descending: false,
            nulls_first: None,
            opclass: None,
            prefix: None,
        }
    }
}

/// What an index key is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexKey {
    /// A column.
    Column(String),
    /// An expression, as the server renders it.
    Expression(String),
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignKey {
    /// The constraint's name as the database has it (empty on SQLite,
    /// which keeps none unless given).
    pub name: String,
    /// Whether the server chose the name.
    pub generated_name: bool,
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub references: Name,
    /// The referenced columns.
    pub referenced_columns: Vec<String>,
    /// ON DELETE.
    pub on_delete: Action,
    /// ON UPDATE.
    pub on_update: Action,
    /// DEFERRABLE and its initial mode.
    pub deferrable: Deferrable,
    /// MATCH FULL (otherwise MATCH SIMPLE, the default).
    pub match_full: bool,
}

/// A referential action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// NO ACTION, the default.
    NoAction,
    /// RESTRICT.
    Restrict,
    /// CASCADE.
    Cascade,
    /// SET NULL.
    SetNull,
    /// SET DEFAULT.
    SetDefault,
}

impl Action {
    /// The SQL words.
    pub fn sql(self) -> &'static str {
        match self {
            Action::NoAction => "NO ACTION",
            Action::Restrict => "RESTRICT",
            Action::Cascade => "CASCADE",
            Action::SetNull => "SET NULL",
            Action::SetDefault => "SET DEFAULT",
        }
    }
}

/// Whether a constraint's check may wait for the end of the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Deferrable {
    /// NOT DEFERRABLE, the default.
    No,
    /// DEFERRABLE INITIALLY IMMEDIATE.
    InitiallyImmediate,
    /// DEFERRABLE INITIALLY DEFERRED.
    InitiallyDeferred,
}

/// A check constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// The constraint's name as the database has it (empty when SQLite
    /// keeps none).
    pub name: String,
    /// Whether the server chose the name.
    pub generated_name: bool,
    /// The condition, as the server renders it.
    pub expression: String,
}

/// A trigger, kept as the server renders its whole definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trigger {
    /// Its name.
    pub name: String,
    /// The statement that creates it, as the server renders it.
    pub definition: String,
}

/// A view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct View {
    /// Its name.
    pub name: Name,
    /// The query, as the server renders it.
    pub definition: String,
    /// Tables and views it reads, when the server says (so that a change
    /// to one of them recreates the view around it).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub reads: BTreeSet<Name>,
    /// The comment (PostgreSQL).
    pub comment: Option<String>,
}

/// A PostgreSQL enum type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnumType {
    /// Its name.
    pub name: Name,
    /// Its labels, in sort order.
    pub values: Vec<String>,
}

/// A sequence no column owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sequence {
    /// Its name.
    pub name: Name,
    /// The type of its values (`bigint`).
    #[serde(rename = "type")]
    pub ty: String,
    /// START WITH.
    pub start: i64,
    /// INCREMENT BY.
    pub increment: i64,
    /// MINVALUE.
    pub min: i64,
    /// MAXVALUE.
    pub max: i64,
    /// CACHE.
    pub cache: i64,
    /// CYCLE.
    pub cycle: bool,
}

/// A PostgreSQL extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extension {
    /// Its name.
    pub name: String,
    /// The schema its objects live in, when not the default one.
    pub schema: Option<String>,
}
