//! Database drivers behind small traits, one directory per dialect.
//!
//! A [`Driver`] runs statements, transactions and the run lock on one
//! database; it never decides what runs (its caller does). Its
//! [`Objects`] list and drop what the database holds. An [`Admin`] creates
//! and drops whole databases on a server. Each dialect sits behind a cargo
//! feature so an application compiles only the drivers it uses.

pub mod backup;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod ddl_text;
pub(crate) mod facts;
pub mod lease;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
mod replication;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod server;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod shared;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::fmt;
use std::time::Duration;

use crate::Dialect;
use crate::config::DatabaseUrl;
use crate::schema::{Change, DiffOptions, Schema};

pub use facts::{Galera, KindSource, ServerFacts, ServerKind};
pub use replication::{Replica, Replication};

/// How long connecting to a server may take, TCP, TLS and the handshake
/// together, when the URL's `connect_timeout` does not say.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A URL's `connect_timeout`, in whole seconds (0: no limit); the URL was
/// checked to hold a number.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn connect_timeout(value: &str) -> Duration {
    value
        .parse::<u64>()
        .map_or(CONNECT_TIMEOUT, Duration::from_secs)
}

/// A value bound to a statement or read from a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
}

impl Value {
    /// The text, if the value is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The integer, if the value is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}

/// Written first in retort's reads of its own history: Pgpool-II sends
/// a `SELECT` outside a transaction to any node, a lagging standby
/// included, unless it starts with this comment. Other servers read a
/// comment.
pub const NO_LOAD_BALANCE: &str = "/*NO LOAD BALANCE*/ ";

/// The tables retort keeps its state in besides the version table, whose
/// name the configuration chooses. They are named here, below the code
/// that writes them, so that [`Objects::list_objects`] can leave them out.
pub const APPLIED_TABLE: &str = "retort_applied";
/// The journal of migrations that commit in parts (see [`APPLIED_TABLE`]).
pub const JOURNAL_TABLE: &str = "retort_journal";
/// The record of checksums replaced by `rehash --accept` (see
/// [`APPLIED_TABLE`]).
pub const AUDIT_TABLE: &str = "retort_audit";

/// The lease-row run lock (see [`lease`]; see [`APPLIED_TABLE`]).
pub const LOCK_TABLE: &str = "retort_lock";

/// Every table retort keeps its state in, `version_table` first: never
/// the users' objects, never part of a schema.
pub fn state_tables(version_table: &str) -> [&str; 5] {
    [
        version_table,
        APPLIED_TABLE,
        JOURNAL_TABLE,
        AUDIT_TABLE,
        LOCK_TABLE,
    ]
}

/// What kind of database failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DbErrorKind {
    /// Could not open or connect.
    Connect,
    /// The database refuses writes (read-only file, permissions).
    ReadOnly,
    /// Waiting for another runner's lock took longer than the timeout.
    LockTimeout,
    /// An object a statement creates already exists.
    AlreadyExists,
    /// Any other error the server reported.
    Statement,
    /// A database name the server would refuse, or silently change.
    InvalidName,
    /// The server aborted the statement or transaction for a concurrent
    /// one (MySQL's deadlock 1213, which is also how a Galera cluster
    /// reports a write that lost certification to another node's;
    /// PostgreSQL's serialization failures and deadlocks): running it
    /// again may succeed.
    Conflict,
    /// The run's lease was taken over or released by hand while the run
    /// held it (see [`lease`]).
    LockLost,
    /// A connection pooler between retort and the server refused what
    /// retort needs: PgBouncer in statement pooling mode closes a
    /// connection that opens a transaction.
    Pooler,
    /// A program retort runs for the database (`pg_dump`, `mariadb-dump`)
    /// is not installed.
    MissingTool,
}

/// A failure reported by the database, with its message as the server wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbError {
    /// What kind of failure.
    pub kind: DbErrorKind,
    /// The server's message (never containing a password).
    pub message: String,
}

impl DbError {
    pub(crate) fn new(kind: DbErrorKind, message: impl Into<String>) -> Self {
        DbError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DbError {}

/// A connection to one database.
///
/// Transactions nest: the first `begin` opens a transaction, later ones open
/// savepoints, so `--atomic` wraps per-migration transactions without
/// special cases. The run lock is separate from transactions.
pub trait Driver: Objects + Send {
    /// The dialect spoken.
    fn dialect(&self) -> Dialect;
    /// The URL, redacted, for messages.
    fn describe(&self) -> String;
    /// What the server is, found when the connection opened (or as a
    /// setting said): ask it rather than the dialect.
    fn server(&self) -> &ServerFacts;
    /// Replaces what the server is taken for (a setting's override).
    fn set_server(&mut self, facts: ServerFacts);
    /// Takes the run lock: one runner at a time per database. Calls
    /// `on_wait` once, with who holds it when known, before waiting.
    fn lock(&mut self, timeout: Duration, on_wait: &mut dyn FnMut(&str)) -> Result<(), DbError>;
    /// Releases the run lock, keeping committed work.
    fn unlock(&mut self) -> Result<(), DbError>;
    /// Takes the run lock through `url` from now on rather than through
    /// the database's own connection settings: a direct connection to the
    /// server, where the database is reached through a pooler that cannot
    /// hold the lock (`database.lock_url`). Only PostgreSQL has one.
    fn use_lock_url(&mut self, url: &DatabaseUrl) -> Result<(), DbError> {
        Err(DbError::new(
            DbErrorKind::Connect,
            format!(
                "`lock_url` is for PostgreSQL; {} takes its run lock on its own connection",
                url.dialect()
            ),
        ))
    }
    /// Opens a transaction or savepoint.
    fn begin(&mut self) -> Result<(), DbError>;
    /// Commits the innermost `begin`.
    fn commit(&mut self) -> Result<(), DbError>;
    /// Rolls back the innermost `begin`.
    fn rollback(&mut self) -> Result<(), DbError>;
    /// Runs one statement of a migration; rows it returns are discarded.
    fn run(&mut self, sql: &str) -> Result<(), DbError>;
    /// Runs a statement with parameters; returns the affected row count.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError>;
    /// Runs a query; returns its rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, DbError>;
    /// Runs a query without parameters whose columns are all text (or
    /// NULL), in one round trip where the driver can.
    fn query_text(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
        Ok(self
            .query(sql, &[])?
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|v| match v {
                        Value::Null => None,
                        Value::Int(i) => Some(i.to_string()),
                        Value::Text(t) => Some(t),
                    })
                    .collect()
            })
            .collect())
    }

    /// Whether a table exists.
    fn table_exists(&mut self, schema: Option<&str>, table: &str) -> Result<bool, DbError>;
    /// Whether each of `tables` exists, in one question where the driver
    /// can.
    fn tables_exist(
        &mut self,
        schema: Option<&str>,
        tables: &[&str],
    ) -> Result<Vec<bool>, DbError> {
        tables
            .iter()
            .map(|table| self.table_exists(schema, table))
            .collect()
    }
    /// Does ahead what [`Driver::lock`] needs, so that it can overlap with
    /// other work (PostgreSQL opens the lock's own connection); a failure
    /// is left for `lock` to report.
    fn prepare_lock(&mut self) {}

    /// What the driver decided on its own that the user should know
    /// (PostgreSQL: the migrations go over `lock_url`, past a pooler in
    /// statement mode), each said once.
    fn notices(&mut self) -> Vec<String> {
        Vec::new()
    }

    /// The URL the connection was opened with (a server's), so that a
    /// second connection can be opened beside it (the lease's renewals,
    /// see [`lease`]); `None` for SQLite.
    fn url(&self) -> Option<&DatabaseUrl> {
        None
    }

    /// The id the server knows this connection by (PostgreSQL's backend
    /// pid, MySQL's connection id); `None` without a server.
    fn session(&mut self) -> Option<String> {
        None
    }

    /// Whether the server still runs a statement in `session` — one a
    /// killed client left behind.
    fn session_busy(&mut self, session: &str) -> bool {
        let _ = session;
        false
    }

    /// Whether [`Driver::execute_batch`] sends its statements in one round
    /// trip (otherwise the caller runs them one by one, with parameters).
    fn batches(&self) -> bool {
        false
    }

    /// Runs statements (with literals, no parameters) one after the other,
    /// in one round trip where the driver [batches](Driver::batches),
    /// returning each one's row count. A failure does not say which
    /// statement failed: a caller that must know rolls back and runs them
    /// one by one.
    fn execute_batch(&mut self, statements: &[String]) -> Result<Vec<u64>, DbError> {
        let mut counts = Vec::with_capacity(statements.len());
        for statement in statements {
            counts.push(self.execute(statement, &[])?);
        }
        Ok(counts)
    }

    /// Whether a statement that runs outside a transaction may be run
    /// again after it timed out waiting for a lock (it then did nothing);
    /// `false` also runs it without the lock timeout. PostgreSQL's
    /// concurrent index builds commit catalog entries before they wait.
    fn retries_alone(&self, statement: &str) -> bool {
        let _ = statement;
        true
    }

    /// What a statement outside a transaction can leave half made when it
    /// fails or is cut off (PostgreSQL's INVALID indexes, for a
    /// `CONCURRENTLY` statement): the objects now in that state, or `None`
    /// when the statement leaves nothing of the kind.
    fn left_invalid(&mut self, statement: &str) -> Option<Vec<String>> {
        let _ = statement;
        None
    }

    /// How long a statement may wait for a lock held by another session
    /// before failing with [`DbErrorKind::LockTimeout`]. Databases without
    /// such a setting ignore it.
    fn set_lock_wait(&mut self, timeout: Duration) -> Result<(), DbError> {
        let _ = timeout;
        Ok(())
    }

    /// The database's size in bytes (data and indexes), where the server
    /// tells it; `None` elsewhere.
    fn database_size(&mut self) -> Result<Option<u64>, DbError> {
        Ok(None)
    }

    /// How far the server's replicas have applied what it wrote, for
    /// `--max-replica-lag`.
    fn replication(&mut self) -> Result<Replication, DbError> {
        Ok(Replication::Unknown("it has no replicas retort can see"))
    }
}

/// The objects of the database a connection is open on (PostgreSQL: of
/// its current schema), for chores that empty a database (`reset`, a
/// scratch database used again). Every [`Driver`] has them.
pub trait Objects {
    /// What users made: tables, views, sequences, types, routines and the
    /// like, sorted by kind, then name. Retort's own state tables (the
    /// version table the connection was opened for, [`APPLIED_TABLE`],
    /// [`JOURNAL_TABLE`], [`AUDIT_TABLE`], [`LOCK_TABLE`]) are left out;
    /// what belongs to
    /// another object (indexes, triggers, a column's sequence, an
    /// extension's functions) goes with it and is not listed.
    fn list_objects(&mut self) -> Result<Vec<Object>, DbError>;
    /// Drops every object [`Objects::list_objects`] lists, and retort's
    /// state tables with them: in one transaction where DDL is
    /// transactional (PostgreSQL, SQLite); one statement after the other
    /// on MySQL/MariaDB, with foreign key checks off meanwhile.
    fn drop_all_objects(&mut self) -> Result<(), DbError>;
}

/// One object of a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// What it is.
    pub kind: ObjectKind,
    /// Its name in the database (PostgreSQL: in its schema); a routine's
    /// with its argument types, as in `add(integer, integer)`.
    pub name: String,
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`", self.kind.name(), self.name)
    }
}

/// What an [`Object`] is; in the order [`Objects::drop_all_objects`]
/// drops them (views before the tables they read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ObjectKind {
    /// A view.
    View,
    /// A materialized view (PostgreSQL).
    MaterializedView,
    /// A table (SQLite: virtual tables too).
    Table,
    /// A foreign table (PostgreSQL).
    ForeignTable,
    /// A sequence no column owns (PostgreSQL, MariaDB).
    Sequence,
    /// A function.
    Function,
    /// A procedure.
    Procedure,
    /// An aggregate function (PostgreSQL).
    Aggregate,
    /// A type: enum, composite or range (PostgreSQL).
    Type,
    /// A domain (PostgreSQL).
    Domain,
    /// A scheduled event (MySQL/MariaDB).
    Event,
    /// An extension installed in the schema (PostgreSQL).
    Extension,
}

impl ObjectKind {
    /// Every kind, in drop order.
    pub const ALL: [ObjectKind; 12] = [
        ObjectKind::View,
        ObjectKind::MaterializedView,
        ObjectKind::Table,
        ObjectKind::ForeignTable,
        ObjectKind::Sequence,
        ObjectKind::Function,
        ObjectKind::Procedure,
        ObjectKind::Aggregate,
        ObjectKind::Type,
        ObjectKind::Domain,
        ObjectKind::Event,
        ObjectKind::Extension,
    ];

    /// The kind as SQL names it, in lower case (`materialized view`).
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized view",
            ObjectKind::Table => "table",
            ObjectKind::ForeignTable => "foreign table",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Function => "function",
            ObjectKind::Procedure => "procedure",
            ObjectKind::Aggregate => "aggregate",
            ObjectKind::Type => "type",
            ObjectKind::Domain => "domain",
            ObjectKind::Event => "event",
            ObjectKind::Extension => "extension",
        }
    }

    /// The kind a catalog query spelled with [`ObjectKind::name`].
    #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
    fn from_name(name: &str) -> Option<ObjectKind> {
        ObjectKind::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// Server-level chores on the databases of one server (for SQLite, on the
/// database files of one directory): creating a scratch database for a
/// test or for autogenerate, dropping it after. [`admin`] opens one.
pub trait Admin: Send {
    /// Creates database `name` (SQLite: an empty file);
    /// [`DbErrorKind::AlreadyExists`] when there is one.
    fn create_database(&mut self, name: &str) -> Result<(), DbError>;
    /// Drops database `name` if there is one, whatever it holds: PostgreSQL
    /// (from version 13) ends the sessions connected to it first; SQLite
    /// removes the file with its `-wal`, `-shm` and `-journal` files.
    fn drop_database(&mut self, name: &str) -> Result<(), DbError>;
    /// Whether database `name` exists (an in-memory SQLite URL: never).
    fn database_exists(&mut self, name: &str) -> Result<bool, DbError>;
    /// The URL of database `name` on this server, with the user, password
    /// and parameters of the URL [`admin`] was given (SQLite: the file
    /// `name` beside that URL's file).
    fn url_of(&self, name: &str) -> DatabaseUrl;
}

/// Connects to the server `url` names, for [`Admin`] chores: PostgreSQL
/// through its maintenance database (`postgres`, else `template1`),
/// MySQL/MariaDB without choosing a database. SQLite connects to nothing:
/// its databases are the files in the directory of `url`'s file (`url`'s
/// own file need not exist).
pub fn admin(url: &DatabaseUrl) -> Result<Box<dyn Admin>, DbError> {
    match url.dialect() {
        #[cfg(feature = "sqlite")]
        Dialect::Sqlite => Ok(Box::new(sqlite::SqliteAdmin::new(url))),
        #[cfg(feature = "postgres")]
        Dialect::Postgres => Ok(Box::new(postgres::connect_admin(url)?)),
        #[cfg(feature = "mysql")]
        Dialect::Mysql => Ok(Box::new(mysql::connect_admin(url)?)),
        #[allow(
            unreachable_patterns,
            reason = "reachable when a driver's feature is off"
        )]
        other => Err(no_driver(other)),
    }
}

/// What a command will do with the database it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Only reads (`current`, `status`, `verify`, `--dry-run`): a SQLite
    /// file that does not exist is read as an empty database and not
    /// created, so a mistyped path leaves no file behind.
    Read,
    /// May write: a missing SQLite file is created (unless the URL's
    /// `mode` says otherwise).
    Write,
}

/// Opens a connection for a URL (with the default version table).
pub fn connect(url: &DatabaseUrl) -> Result<Box<dyn Driver>, DbError> {
    connect_for(url, crate::config::DEFAULT_VERSION_TABLE, Access::Write)
}

/// Opens a connection whose run lock is scoped to `version_table`.
pub fn connect_for(
    url: &DatabaseUrl,
    version_table: &str,
    access: Access,
) -> Result<Box<dyn Driver>, DbError> {
    let _ = (version_table, access);
    let mut driver: Box<dyn Driver> = match url.dialect() {
        #[cfg(feature = "sqlite")]
        Dialect::Sqlite => Box::new(sqlite::Sqlite::open(url, version_table, access)?),
        #[cfg(feature = "postgres")]
        Dialect::Postgres => Box::new(postgres::Postgres::open(url, version_table)?),
        #[cfg(feature = "mysql")]
        Dialect::Mysql => Box::new(mysql::Mysql::open(url, version_table)?),
        #[allow(
            unreachable_patterns,
            reason = "reachable when a driver's feature is off"
        )]
        other => return Err(no_driver(other)),
    };
    take_url_server(driver.as_mut(), url)?;
    Ok(driver)
}

/// The URL's `server` over what the server said when `driver` connected
/// (parsing the URL checked that the kind fits its dialect): every way of
/// connecting ends here.
fn take_url_server(driver: &mut dyn Driver, url: &DatabaseUrl) -> Result<(), DbError> {
    if let Some(kind) = url.param("server").and_then(ServerKind::from_name) {
        let facts = driver
            .server()
            .clone()
            .with_kind(kind, KindSource::Url)
            .map_err(|message| DbError::new(DbErrorKind::Connect, message))?;
        driver.set_server(facts);
    }
    Ok(())
}

/// Opens a connection whose run lock is scoped to `version_table` in
/// `schema` (`migrations.version_table_schema`; `None`: the connection's
/// schema). On PostgreSQL the lock is then one per schema: version tables
/// in different schemas of one database do not block each other.
pub fn connect_scoped(
    url: &DatabaseUrl,
    version_table: &str,
    schema: Option<&str>,
    access: Access,
) -> Result<Box<dyn Driver>, DbError> {
    match (url.dialect(), schema) {
        #[cfg(feature = "postgres")]
        (Dialect::Postgres, Some(schema)) => {
            let mut driver = postgres::Postgres::open(url, version_table)?;
            driver.scope_lock_to(schema);
            take_url_server(&mut driver, url)?;
            Ok(Box::new(driver))
        }
        _ => connect_for(url, version_table, access),
    }
}

/// Opens a connection to one schema of a PostgreSQL database (a tenant's,
/// with its own version tables): `schema` comes first on the connection's
/// `search_path`, so that what a migration creates without naming a schema
/// lands there, and the run lock is scoped to the version table in it (see
/// [`connect_scoped`]). Other dialects have no such schemas.
pub fn connect_to_schema(
    url: &DatabaseUrl,
    version_table: &str,
    schema: &str,
) -> Result<Box<dyn Driver>, DbError> {
    let _ = (version_table, schema);
    match url.dialect() {
        #[cfg(feature = "postgres")]
        Dialect::Postgres => {
            let mut driver = postgres::Postgres::open(url, version_table)?;
            driver.scope_lock_to(schema);
            driver.put_schema_first(schema)?;
            take_url_server(&mut driver, url)?;
            Ok(Box::new(driver))
        }
        other => Err(DbError::new(
            DbErrorKind::Connect,
            format!("`{other}` has no schemas to migrate one by one; PostgreSQL does"),
        )),
    }
}

/// Quotes an identifier for a dialect.
pub fn quote_ident(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        Dialect::Sqlite | Dialect::Postgres => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// The bind placeholder for the `n`th parameter (1-based).
pub fn placeholder(dialect: Dialect, n: usize) -> String {
    match dialect {
        Dialect::Postgres => format!("${n}"),
        Dialect::Sqlite => format!("?{n}"),
        Dialect::Mysql => "?".to_owned(),
    }
}

/// A string literal, for offline SQL scripts.
pub fn quote_literal(dialect: Dialect, text: &str) -> String {
    let escaped = text.replace('\'', "''");
    match dialect {
        Dialect::Mysql => format!("'{}'", escaped.replace('\\', "\\\\")),
        Dialect::Sqlite | Dialect::Postgres => format!("'{escaped}'"),
    }
}

/// The SQL of one or more changes of a plan, as a dialect writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The indexes, in the plan, of the changes these statements carry
    /// out (SQLite folds every change to one table into one rebuild).
    pub changes: Vec<usize>,
    /// The statements, without terminators.
    pub statements: Vec<String>,
}

impl Rendered {
    /// One step per change, for dialects that carry out each change on
    /// its own.
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    pub(crate) fn each(
        changes: &[Change],
        statements: impl Fn(&Change) -> Vec<String>,
    ) -> Vec<Rendered> {
        changes
            .iter()
            .enumerate()
            .map(|(at, change)| Rendered {
                changes: vec![at],
                statements: statements(change),
            })
            .collect()
    }
}

/// Reads the schema of the database `driver` is connected to, leaving
/// out the tables named in `exclude` (retort's own).
pub fn inspect(driver: &mut dyn Driver, exclude: &[&str]) -> Result<Schema, DbError> {
    // Unused only when no driver is compiled in.
    let _ = exclude;
    match driver.dialect() {
        #[cfg(feature = "sqlite")]
        Dialect::Sqlite => sqlite::inspect(driver, exclude),
        #[cfg(feature = "postgres")]
        Dialect::Postgres => postgres::inspect(driver, exclude),
        #[cfg(feature = "mysql")]
        Dialect::Mysql => mysql::inspect(driver, exclude),
        #[allow(
            unreachable_patterns,
            reason = "reachable when a driver's feature is off"
        )]
        other => Err(no_driver(other)),
    }
}

/// The statements that carry out `changes` (from [`crate::schema::diff`])
/// in a dialect.
pub fn render(dialect: Dialect, changes: &[Change]) -> Result<Vec<Rendered>, DbError> {
    // Unused only when no driver is compiled in.
    let _ = changes;
    match dialect {
        #[cfg(feature = "sqlite")]
        Dialect::Sqlite => Ok(sqlite::render(changes)),
        #[cfg(feature = "postgres")]
        Dialect::Postgres => Ok(postgres::render(changes)),
        #[cfg(feature = "mysql")]
        Dialect::Mysql => Ok(mysql::render(changes)),
        #[allow(
            unreachable_patterns,
            reason = "reachable when a driver's feature is off"
        )]
        other => Err(no_driver(other)),
    }
}

fn no_driver(dialect: Dialect) -> DbError {
    DbError::new(
        DbErrorKind::Connect,
        format!(
            "this build of retort has no {dialect} driver (cargo feature `{}`)",
            dialect.name()
        ),
    )
}

/// Whether the dialect's server writes an expression it reads back from
/// its catalog differently again (PostgreSQL adds casts to `IN` lists):
/// schemas are then compared after one trip through a scratch database,
/// so that a revision written from the server's words compares equal to
/// the words it came from.
pub fn rewrites_expressions(dialect: Dialect) -> bool {
    dialect == Dialect::Postgres
}

/// How the differ must order changes for a dialect.
pub fn diff_options(dialect: Dialect) -> DiffOptions {
    DiffOptions {
        // SQLite's table rebuild re-parses every view: one reading the
        // table is dropped around it.
        views_around_every_table_change: dialect == Dialect::Sqlite,
    }
}
