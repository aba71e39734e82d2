//! PostgreSQL through the `postgres` crate (synchronous rust-postgres).
//!
//! The run lock is a transaction-scoped advisory lock
//! (`pg_try_advisory_xact_lock`) taken in a transaction held open on a
//! second, dedicated connection, so the work connection's transactions and
//! errors never release it; it is released by `unlock` (the transaction
//! ends), and by the server when the process dies and its connections
//! close. A session lock would not survive a pooler in transaction mode
//! (PgBouncer): each statement may reach another server connection, so the
//! lock could be taken on one and "released" on another, or taken by two
//! clients sharing one; a transaction keeps its server connection to
//! itself until it ends. Statements on that connection go with the simple
//! query protocol and literal values, in READ COMMITTED, so that the open
//! transaction holds no snapshot: a concurrent `CREATE INDEX CONCURRENTLY`
//! waits for every transaction with one, the migration's own included.
//!
//! The work connection is pooler-safe too: parameters are bound to unnamed
//! statements (`query_typed`), parsed, bound and run in one round trip,
//! never to named prepared statements, which a transaction pooler would
//! leave on a server connection another client then gets; and settings
//! are made per transaction (`SET LOCAL`), never for the session, which a
//! pooler would hand on to its other clients.

use std::time::Duration;

use postgres::Client;
use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use sha2::{Digest, Sha256};

use super::tls::Tls;
use crate::Dialect;
use crate::config::DatabaseUrl;
use crate::db::shared::{
    KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_RETRIES, Nesting, poll_lock,
};
use crate::db::{CONNECT_TIMEOUT, DbError, DbErrorKind, Driver, Replication, ServerFacts, Value};

pub(crate) struct Postgres {
    client: Client,
    /// The dedicated connection holding the advisory lock in its open
    /// transaction, while locked.
    lock: Option<Client>,
    /// The connection opened ahead for the lock (see `prepare_lock`).
    spare: Option<Client>,
    /// The work connection's backend pid, once asked for.
    pid: Option<i32>,
    /// Where the lock's connection goes: the database's own settings, or
    /// `lock_url`'s.
    lock_server: Server,
    /// The URL it was opened with (see `Driver::url`).
    url: DatabaseUrl,
    describe: String,
    /// The version table the connection was opened for (a state table).
    pub(super) version_table: String,
    key: i64,
    nesting: Nesting,
    /// What opens the transaction `begin` started, not sent yet: it goes
    /// out with the next statement, one round trip fewer per transaction.
    pending_begin: Option<String>,
    /// How long a statement of a transaction may wait for a lock
    /// (`set_lock_wait`), set at each `BEGIN`.
    lock_wait: Option<Duration>,
    /// What the server is (see `detect`).
    server: ServerFacts,
    /// How the work connection was opened, to open it again.
    work_config: postgres::Config,
    work_tls: Tls,
    /// The schema `put_schema_first` put first on the `search_path`.
    schema_first: Option<String>,
    /// What the driver decided that the user should know (see
    /// `Driver::notices`).
    notices: Vec<String>,
}

/// How to connect to a server.
#[derive(Clone)]
struct Server {
    config: postgres::Config,
    tls: Tls,
    /// `lock_url`, redacted, when the lock has its own connection.
    lock_url: Option<String>,
}

fn error(e: &postgres::Error) -> DbError {
    let Some(db) = e.as_db_error() else {
        let kind = if e.is_closed() {
            DbErrorKind::Connect
        } else {
            DbErrorKind::Statement
        };
        return DbError::new(kind, e.to_string());
    };
    let code = db.code();
    let kind = if *code == SqlState::DUPLICATE_TABLE
        || *code == SqlState::DUPLICATE_OBJECT
        || *code == SqlState::DUPLICATE_SCHEMA
        || *code == SqlState::DUPLICATE_FUNCTION
    {
        DbErrorKind::AlreadyExists
    } else if *code == SqlState::LOCK_NOT_AVAILABLE {
        DbErrorKind::LockTimeout
    } else if *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
    {
        DbErrorKind::Conflict
    } else if *code == SqlState::READ_ONLY_SQL_TRANSACTION
        || *code == SqlState::INSUFFICIENT_PRIVILEGE
    {
        DbErrorKind::ReadOnly
    } else if statement_pooling(e) {
        DbErrorKind::Pooler
    } else if *code == SqlState::PROTOCOL_VIOLATION {
        // PgBouncer's other refusals (`query_wait_timeout`: no server
        // connection free in time) close the connection too.
        DbErrorKind::Connect
    } else {
        DbErrorKind::Statement
    };
    let mut message = db.message().to_owned();
    if let Some(detail) = db.detail() {
        message.push_str(&format!(" ({detail})"));
    }
    DbError::new(kind, message)
}

/// Whether `e` is PgBouncer refusing a transaction in statement pooling
/// mode (SQLSTATE 08P01, "transaction blocks not allowed in statement
/// pooling mode"). PgBouncer closes the connection right after, and the
/// message reaches retort or not as the timing falls: a connection closed
/// as soon as a transaction opened is taken for the same (see
/// [`opened_transaction_error`]).
fn statement_pooling(e: &postgres::Error) -> bool {
    e.as_db_error().is_some_and(|db| {
        *db.code() == SqlState::PROTOCOL_VIOLATION && db.message().contains("pooling mode")
    })
}

/// The connection settings, description and database name of `url`.
fn settings(url: &DatabaseUrl) -> (postgres::Config, String, String) {
    let mut config = postgres::Config::new();
    config.host(url.host().unwrap_or("localhost"));
    if let Some(port) = url.port() {
        config.port(port);
    }
    config.user(url.user().unwrap_or("postgres"));
    if let Some(password) = url.password() {
        config.password(password);
    }
    let database = url.database().unwrap_or("postgres").to_owned();
    config.dbname(&database);
    config.application_name("retort");
    let mut timeout = CONNECT_TIMEOUT;
    for (key, value) in url.params() {
        match key.as_str() {
            "options" => {
                config.options(value);
            }
            "connect_timeout" => timeout = crate::db::connect_timeout(value),
            "application_name" => {
                config.application_name(value);
            }
            _ => {}
        }
    }
    config.connect_timeout(timeout);
    // A server that stops answering (a dead host, a dropped network)
    // is noticed in about two minutes rather than the system's hours.
    config.keepalives_idle(KEEPALIVE_IDLE);
    config.keepalives_interval(KEEPALIVE_INTERVAL);
    config.keepalives_retries(KEEPALIVE_RETRIES);
    let describe = format!(
        "PostgreSQL database `{database}` at {}:{}",
        url.host().unwrap_or("localhost"),
        url.port().unwrap_or(5432)
    );
    (config, describe, database)
}

impl Postgres {
    pub(crate) fn open(url: &DatabaseUrl, version_table: &str) -> Result<Postgres, DbError> {
        let (config, describe, database) = settings(url);
        let tls = Tls::from_url(url)?;
        let mut client = connect(&config, &tls)?;
        let server = super::detect::detect(&mut client)?;
        Ok(Postgres {
            client,
            lock: None,
            spare: None,
            pid: None,
            lock_server: Server {
                config: config.clone(),
                tls: tls.clone(),
                lock_url: None,
            },
            work_config: config,
            work_tls: tls,
            schema_first: None,
            notices: Vec::new(),
            url: url.clone(),
            describe,
            version_table: version_table.to_owned(),
            key: advisory_key(&database, None, version_table),
            nesting: Nesting::default(),
            pending_begin: None,
            lock_wait: None,
            server,
        })
    }

    /// Keys the run lock to the version table in `schema` (its
    /// `version_table_schema`), so that runs on the version tables of
    /// different schemas of one database (one per tenant) do not wait for
    /// each other.
    pub(crate) fn scope_lock_to(&mut self, schema: &str) {
        let database = self.url.database().unwrap_or("postgres").to_owned();
        self.key = advisory_key(&database, Some(schema), &self.version_table);
    }

    /// Puts `schema` first on the work connection's `search_path`, before
    /// the path it had (so that extensions in `public` still resolve):
    /// unqualified names a migration creates land in `schema`.
    pub(crate) fn put_schema_first(&mut self, schema: &str) -> Result<(), DbError> {
        send(
            &mut self.client,
            &mut self.pending_begin,
            &schema_first_statement(schema),
        )?;
        self.schema_first = Some(schema.to_owned());
        Ok(())
    }

    /// Ends the innermost level with `nesting`'s statement; a transaction
    /// in which nothing ran since `BEGIN` (still pending) needs no
    /// `keyword`.
    fn end(
        &mut self,
        keyword: &str,
        close: impl FnOnce(
            &mut Nesting,
            &mut dyn FnMut(&str) -> Result<(), DbError>,
        ) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        let Postgres {
            client,
            nesting,
            pending_begin,
            ..
        } = self;
        close(nesting, &mut |sql: &str| {
            if sql == keyword && pending_begin.take().is_some() {
                return Ok(());
            }
            send(client, pending_begin, sql)
        })
    }

    /// What opens a transaction: `BEGIN`, and the lock timeout for its
    /// statements (per transaction: a session setting would outlive the
    /// transaction on a pooled server connection, for its next client).
    fn opening(&self) -> String {
        match self.lock_wait {
            Some(wait) => format!("BEGIN;\nSET LOCAL lock_timeout = '{}ms'", wait.as_millis()),
            None => "BEGIN".to_owned(),
        }
    }

    /// The two halves of the lock's key, as `pg_locks` shows an advisory
    /// lock taken with one `bigint` (`classid`, `objid`, `objsubid` 1).
    fn key_halves(&self) -> (u32, u32) {
        let bits = u64::from_be_bytes(self.key.to_be_bytes());
        let hi = u32::try_from(bits >> 32).unwrap_or(0);
        let lo = u32::try_from(bits & 0xffff_ffff).unwrap_or(0);
        (hi, lo)
    }

    /// Checks, in a second round trip on the lock's connection, that the
    /// lock just taken is held there. A pooler that ends the transaction
    /// (PgBouncer in statement mode closes the connection once a statement
    /// leaves one open) or hands the statements of one transaction to
    /// different server connections would otherwise go unnoticed, and two
    /// runners would both go ahead. With `lock_url`, it also checks that
    /// the lock's connection reaches the migrated database's server and
    /// database: an advisory lock locks nothing elsewhere.
    fn confirm(&mut self, lock: &mut Client) -> Result<(), DbError> {
        let (hi, lo) = self.key_halves();
        // The server's start time tells two servers apart, a primary and
        // its standby too.
        let place = "current_database(), extract(epoch FROM pg_postmaster_start_time())::text";
        let rows = lock
            .simple_query(&format!(
                "SELECT count(*), {place} FROM pg_locks \
                 WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid() \
                 AND classid::bigint = {hi} AND objid::bigint = {lo} AND objsubid = 1"
            ))
            .map_err(|e| lock_error(&e))?;
        let row = first_row(&rows, 3);
        if row.first() != Some(&Some("1")) {
            return Err(DbError::new(
                DbErrorKind::Pooler,
                "the run lock was taken but its connection no longer holds it: a pooler between \
                 retort and the server passed the statements of its transaction to different \
                 server connections",
            ));
        }
        let Some(lock_url) = self.lock_server.lock_url.clone() else {
            return Ok(());
        };
        // The database's connection goes through a pooler, whose mode the
        // lock's connection no longer tells: a transaction opened on it
        // and ended in a second round trip shows statement pooling now,
        // rather than half way through the first migration.
        let here = match self
            .client
            .simple_query(&format!("BEGIN;\nSELECT {place}"))
            .and_then(|here| self.client.batch_execute("ROLLBACK").map(|()| here))
        {
            Ok(here) => first_row(&here, 2)
                .into_iter()
                .map(|v| v.map(str::to_owned))
                .collect(),
            Err(e) if opened_transaction_error(&e, "", "").kind == DbErrorKind::Pooler => {
                self.bypass_statement_pooler(&lock_url, place)?
            }
            Err(e) => {
                return Err(opened_transaction_error(
                    &e,
                    "the database's connection",
                    "runs each migration",
                ));
            }
        };
        let here: Vec<Option<&str>> = here.iter().map(Option::as_deref).collect();
        if here.as_slice() != &row[1..] {
            let name = |r: &[Option<&str>]| r.first().copied().flatten().unwrap_or("?").to_owned();
            return Err(DbError::new(
                DbErrorKind::Connect,
                format!(
                    "`lock_url` {lock_url} reaches database `{}` {}, not the database migrated (`{}`): \
                     an advisory lock only excludes runners on the same server and database",
                    name(&row[1..]),
                    if here.get(1) == row.get(2) {
                        "on the same server"
                    } else {
                        "on another server"
                    },
                    name(&here),
                ),
            ));
        }
        Ok(())
    }

    /// The database URL reaches a pooler in statement mode, which closed
    /// the connection when a transaction opened on it: a migration, which
    /// is a transaction, cannot go through it. The migrations go over
    /// `lock_url`'s direct connection to the same server and database
    /// instead, as Prisma's `directUrl` does. Where the pooled connection
    /// leads is read with statements of their own (which such a pooler
    /// allows), for the caller to check against the lock's connection.
    fn bypass_statement_pooler(
        &mut self,
        lock_url: &str,
        place: &str,
    ) -> Result<Vec<Option<String>>, DbError> {
        let mut pooled = connect(&self.work_config, &self.work_tls)?;
        let here = text_rows(&mut pooled, &format!("SELECT {place}"))?
            .into_iter()
            .next()
            .unwrap_or_default();
        let mut direct = self.lock_server.connect()?;
        if let Some(schema) = &self.schema_first {
            direct
                .batch_execute(&schema_first_statement(schema))
                .map_err(|e| error(&e))?;
        }
        self.client = direct;
        self.pid = None;
        self.notices.push(format!(
            "the database URL reaches a pooler in statement mode (PgBouncer's `pool_mode = statement`), \
             which cannot carry a migration's transaction: the migrations run over `lock_url` {lock_url} instead"
        ));
        Ok(here)
    }

    /// Who holds the advisory lock, from `pg_locks` and `pg_stat_activity`.
    fn holder(&mut self) -> String {
        let (hi, lo) = self.key_halves();
        let rows = self.client.simple_query(&format!(
            "SELECT a.pid::text, a.application_name, a.client_addr::text, \
             to_char(a.xact_start, 'YYYY-MM-DD HH24:MI:SS TZ') \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = {hi} AND l.objid::bigint = {lo} \
             AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             LIMIT 1"
        ));
        let Ok(rows) = rows else {
            return format!("another session holds retort's lock on {}", self.describe);
        };
        match first_row(&rows, 4).as_slice() {
            [Some(pid), app, addr, since] => format!(
                "held by pid {pid} ({}{}), holding it since {}",
                app.filter(|a| !a.is_empty()).unwrap_or("unnamed"),
                addr.map(|a| format!(" from {a}")).unwrap_or_default(),
                since.unwrap_or("an unknown time")
            ),
            _ => format!("another session holds retort's lock on {}", self.describe),
        }
    }
}

impl Server {
    fn connect(&self) -> Result<Client, DbError> {
        connect(&self.config, &self.tls).map_err(|e| match &self.lock_url {
            Some(url) => DbError::new(e.kind, format!("`lock_url` {url}: {}", e.message)),
            None => e,
        })
    }
}

/// Puts `schema` first on the session's `search_path`, before the path it
/// had.
fn schema_first_statement(schema: &str) -> String {
    format!(
        "SELECT set_config('search_path', quote_ident({}) || ', ' || current_setting('search_path'), false)",
        crate::db::quote_literal(Dialect::Postgres, schema)
    )
}

/// Opens the lock's transaction on `lock` and tries to take the lock in
/// it, in one round trip; a lock not taken ends the transaction, so that a
/// waiting runner holds no server connection of a pool between tries. The
/// lock is never waited for inside the server (`pg_advisory_xact_lock`):
/// a session blocked there holds a snapshot, which would stall a
/// concurrent `CREATE INDEX CONCURRENTLY` until the lock came.
fn try_lock(lock: &mut Client, key: i64) -> Result<bool, DbError> {
    // READ COMMITTED whatever the server's default, so that no snapshot
    // outlives a statement; not READ ONLY, which some proxies send to a
    // replica, where an advisory lock would lock nothing on the primary.
    // The transaction idles for the whole run: the server's
    // `idle_in_transaction_session_timeout` must not end it.
    let rows = lock
        .simple_query(&format!(
            "BEGIN ISOLATION LEVEL READ COMMITTED;\n\
             SET LOCAL idle_in_transaction_session_timeout = 0;\n\
             SELECT pg_try_advisory_xact_lock({key})"
        ))
        .map_err(|e| lock_error(&e))?;
    if first_value(&rows) == Some("t") {
        return Ok(true);
    }
    lock.batch_execute("ROLLBACK").map_err(|e| lock_error(&e))?;
    Ok(false)
}

/// A failure of the first statements on a connection that open a
/// transaction on it (`whose` names the connection). PgBouncer in
/// statement pooling mode closes such a connection as soon as a statement
/// leaves a transaction open; its reason may reach the client or not
/// before the connection closes.
fn opened_transaction_error(e: &postgres::Error, whose: &str, needs: &str) -> DbError {
    let error = error(e);
    if error.kind != DbErrorKind::Pooler && !e.is_closed() {
        return error;
    }
    DbError::new(
        DbErrorKind::Pooler,
        format!(
            "{whose} was closed as soon as retort opened a transaction on it ({}): a pooler in \
             statement mode (PgBouncer's `pool_mode = statement`) does so, and retort {needs} in \
             a transaction",
            error.message
        ),
    )
}

/// [`opened_transaction_error`] on the lock's connection.
fn lock_error(e: &postgres::Error) -> DbError {
    opened_transaction_error(e, "the connection for the run lock", "holds its lock")
}

/// The advisory lock's key: one lock per database and version table, so
/// that projects sharing a database through different version tables do
/// not block each other; with `schema` (the version table's schema, when
/// one is named), one per schema too.
fn advisory_key(database: &str, schema: Option<&str>, version_table: &str) -> i64 {
    let scope = match schema {
        Some(schema) => format!("retort:{database}:{schema}.{version_table}"),
        None => format!("retort:{database}:{version_table}"),
    };
    let digest = Sha256::digest(scope.as_bytes());
    let mut key_bytes = [0u8; 8];
    key_bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(key_bytes)
}

/// Connects within the configuration's `connect_timeout`, handshake and
/// authentication included.
fn connect(config: &postgres::Config, tls: &Tls) -> Result<Client, DbError> {
    let timeout = config
        .get_connect_timeout()
        .copied()
        .unwrap_or(CONNECT_TIMEOUT);
    let server = format!(
        "the server at {}",
        config.get_hosts().first().map_or_else(
            || "localhost".to_owned(),
            |host| match host {
                postgres::config::Host::Tcp(name) => name.clone(),
                postgres::config::Host::Unix(path) => path.display().to_string(),
            }
        )
    );
    if timeout.is_zero() {
        return connect_now(config, tls);
    }
    let (config, tls) = (config.clone(), tls.clone());
    crate::db::shared::within(timeout, &server, move || connect_now(&config, &tls))
}

fn connect_now(config: &postgres::Config, tls: &Tls) -> Result<Client, DbError> {
    tls.connect(config).map_err(|e| {
        let reason = match (tls.explain(&e), e.as_db_error()) {
            (Some(tls_reason), _) => tls_reason,
            (None, Some(db)) => db.message().to_owned(),
            (None, None) => {
                let text = e.to_string();
                // The source error (refused, unknown host, timeout) is the useful part.
                let cause = std::error::Error::source(&e);
                let hung_up = cause
                    .and_then(|c| c.downcast_ref::<std::io::Error>())
                    .is_some_and(|io| {
                        matches!(
                            io.kind(),
                            std::io::ErrorKind::BrokenPipe
                                | std::io::ErrorKind::ConnectionReset
                                | std::io::ErrorKind::UnexpectedEof
                        )
                    });
                let source = cause.map_or(text, |s| s.to_string());
                if hung_up || source.contains("bytes remaining on stream") || e.is_closed() {
                    // Reset, broken pipe or end of stream, as the timing
                    // fell: the same event, so the same words.
                    "the server closed the connection before the handshake completed: is it a PostgreSQL server?"
                        .to_owned()
                } else {
                    source
                }
            }
        };
        DbError::new(DbErrorKind::Connect, reason)
    })
}

/// The first column of the first row of a simple query's answer.
fn first_value(messages: &[postgres::SimpleQueryMessage]) -> Option<&str> {
    first_row(messages, 1).into_iter().next().flatten()
}

/// The first `columns` values of the first row of a simple query's
/// answer; none without a row.
fn first_row(messages: &[postgres::SimpleQueryMessage], columns: usize) -> Vec<Option<&str>> {
    messages
        .iter()
        .find_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => {
                Some((0..columns).map(|i| row.get(i)).collect())
            }
            _ => None,
        })
        .unwrap_or_default()
}

/// The rows of a query sent with the simple query protocol (no
/// parameters, every value as text).
fn text_rows(client: &mut Client, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
    let messages = client.simple_query(sql).map_err(|e| error(&e))?;
    Ok(messages
        .iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_owned))
                    .collect(),
            ),
            _ => None,
        })
        .collect())
}

/// Sends `sql` with the simple query protocol, a pending `BEGIN` first in
/// the same round trip.
fn send(client: &mut Client, pending_begin: &mut Option<String>, sql: &str) -> Result<(), DbError> {
    if let Some(opening) = pending_begin.take() {
        return client
            .batch_execute(&format!("{opening};\n{sql}"))
            .map_err(|e| error(&e));
    }
    client.batch_execute(sql).map_err(|e| error(&e))
}

/// Sends a pending `BEGIN` alone, before a statement of the extended
/// protocol (which cannot carry it).
fn flush_begin(client: &mut Client, pending_begin: &mut Option<String>) -> Result<(), DbError> {
    if let Some(opening) = pending_begin.take() {
        client.batch_execute(&opening).map_err(|e| error(&e))?;
    }
    Ok(())
}

/// The values with the types they are sent as. NULL's type is left to
/// the server (`unknown`), as for a literal `NULL`; an integer goes as a
/// `bigint`, which PostgreSQL assigns and compares to any integer column.
fn params(values: &[Value]) -> Vec<(Box<dyn ToSql + Sync>, Type)> {
    values
        .iter()
        .map(|v| -> (Box<dyn ToSql + Sync>, Type) {
            match v {
                Value::Null => (Box::new(None::<String>), Type::UNKNOWN),
                Value::Int(i) => (Box::new(*i), Type::INT8),
                Value::Text(t) => (Box::new(t.clone()), Type::TEXT),
            }
        })
        .collect()
}

impl Driver for Postgres {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn lock(&mut self, timeout: Duration, on_wait: &mut dyn FnMut(&str)) -> Result<(), DbError> {
        if self.lock.is_some() {
            return Ok(());
        }
        let mut lock = match self.spare.take() {
            Some(spare) => spare,
            None => self.lock_server.connect()?,
        };
        let key = self.key;
        let describe = self.describe.clone();
        poll_lock(
            timeout,
            &describe,
            || try_lock(&mut lock, key),
            || {
                let holder = self.holder();
                on_wait(&holder);
            },
        )?;
        self.confirm(&mut lock)?;
        self.lock = Some(lock);
        Ok(())
    }

    fn url(&self) -> Option<&DatabaseUrl> {
        Some(&self.url)
    }

    fn use_lock_url(&mut self, url: &DatabaseUrl) -> Result<(), DbError> {
        let (config, _, _) = settings(url);
        self.lock_server = Server {
            config,
            tls: Tls::from_url(url)?,
            lock_url: Some(url.redacted()),
        };
        // A connection opened ahead went to the old place.
        self.spare = None;
        Ok(())
    }

    fn session(&mut self) -> Option<String> {
        if self.pid.is_none() {
            let rows = self.client.simple_query("SELECT pg_backend_pid()").ok()?;
            self.pid = Some(first_value(&rows)?.parse().ok()?);
        }
        self.pid.map(|pid| pid.to_string())
    }

    fn session_busy(&mut self, session: &str) -> bool {
        let Ok(pid) = session.parse::<i32>() else {
            return false;
        };
        text_rows(
            &mut self.client,
            &format!("SELECT 1 FROM pg_stat_activity WHERE pid = {pid} AND state <> 'idle'"),
        )
        .is_ok_and(|rows| !rows.is_empty())
    }

    fn prepare_lock(&mut self) {
        // If this fails, `lock` tries again and reports why.
        if self.lock.is_none() && self.spare.is_none() {
            self.spare = self.lock_server.connect().ok();
        }
    }

    fn unlock(&mut self) -> Result<(), DbError> {
        let Some(mut lock) = self.lock.take() else {
            return Ok(());
        };
        // Ending the transaction releases the lock; the connection closes.
        lock.batch_execute("COMMIT").map_err(|e| {
            DbError::new(
                DbErrorKind::Connect,
                format!(
                    "the run lock's connection was lost during the run ({}): another runner may have taken the lock meanwhile",
                    error(&e).message
                ),
            )
        })
    }

    fn begin(&mut self) -> Result<(), DbError> {
        let opening = self.opening();
        let Postgres {
            client,
            nesting,
            pending_begin,
            ..
        } = self;
        nesting.begin("BEGIN", |sql| {
            if sql == "BEGIN" {
                *pending_begin = Some(opening);
                return Ok(());
            }
            send(client, pending_begin, sql)
        })
    }

    fn commit(&mut self) -> Result<(), DbError> {
        self.end("COMMIT", |nesting, run| nesting.commit(run))
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        self.end("ROLLBACK", |nesting, run| nesting.rollback(run))
    }

    fn run(&mut self, sql: &str) -> Result<(), DbError> {
        send(&mut self.client, &mut self.pending_begin, sql)
    }

    fn batches(&self) -> bool {
        true
    }

    /// The simple query protocol runs them one after the other, in the
    /// transaction open, in one round trip.
    fn execute_batch(&mut self, statements: &[String]) -> Result<Vec<u64>, DbError> {
        let mut text = match self.pending_begin.take() {
            Some(opening) => format!("{opening};\n"),
            None => String::new(),
        };
        text.push_str(&statements.join(";\n"));
        let messages = self.client.simple_query(&text).map_err(|e| error(&e))?;
        let mut counts: Vec<u64> = messages
            .iter()
            .filter_map(|m| match m {
                postgres::SimpleQueryMessage::CommandComplete(n) => Some(*n),
                _ => None,
            })
            .collect();
        // The statements' counts are the last ones; those before are the
        // opening's (`BEGIN`, `SET LOCAL`).
        counts.drain(..counts.len().saturating_sub(statements.len()));
        Ok(counts)
    }

    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, DbError> {
        flush_begin(&mut self.client, &mut self.pending_begin)?;
        let owned = params(values);
        let typed: Vec<(&(dyn ToSql + Sync), Type)> =
            owned.iter().map(|(v, t)| (v.as_ref(), t.clone())).collect();
        self.client
            .execute_typed(sql, &typed)
            .map_err(|e| error(&e))
    }

    fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Vec<Value>>, DbError> {
        flush_begin(&mut self.client, &mut self.pending_begin)?;
        let owned = params(values);
        let typed: Vec<(&(dyn ToSql + Sync), Type)> =
            owned.iter().map(|(v, t)| (v.as_ref(), t.clone())).collect();
        let rows = self
            .client
            .query_typed(sql, &typed)
            .map_err(|e| error(&e))?;
        Ok(rows
            .iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| {
                        if let Ok(v) = row.try_get::<_, Option<String>>(i) {
                            return v.map_or(Value::Null, Value::Text);
                        }
                        if let Ok(v) = row.try_get::<_, Option<i64>>(i) {
                            return v.map_or(Value::Null, Value::Int);
                        }
                        if let Ok(v) = row.try_get::<_, Option<i32>>(i) {
                            return v.map_or(Value::Null, |n| Value::Int(i64::from(n)));
                        }
                        if let Ok(v) = row.try_get::<_, Option<bool>>(i) {
                            return v.map_or(Value::Null, |b| Value::Int(i64::from(b)));
                        }
                        Value::Null
                    })
                    .collect()
            })
            .collect())
    }

    fn retries_alone(&self, _statement: &str) -> bool {
        false
    }

    fn left_invalid(&mut self, statement: &str) -> Option<Vec<String>> {
        if !statement.to_ascii_uppercase().contains("CONCURRENTLY") {
            return None;
        }
        let rows = text_rows(
            &mut self.client,
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_index i \
                 JOIN pg_class c ON c.oid = i.indexrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE NOT i.indisvalid ORDER BY 1",
        )
        .unwrap_or_default();
        Some(
            rows.into_iter()
                .filter_map(|row| row.into_iter().next().flatten())
                .collect(),
        )
    }

    /// Applies to the transactions begun from now on (`SET LOCAL` at each
    /// `BEGIN`); a statement outside a transaction runs with the session's
    /// own setting, which retort never changes: behind a pooler, the
    /// session is shared with other clients.
    fn set_lock_wait(&mut self, timeout: Duration) -> Result<(), DbError> {
        self.lock_wait = Some(timeout);
        Ok(())
    }

    fn query_text(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
        flush_begin(&mut self.client, &mut self.pending_begin)?;
        text_rows(&mut self.client, sql)
    }

    fn tables_exist(
        &mut self,
        schema: Option<&str>,
        tables: &[&str],
    ) -> Result<Vec<bool>, DbError> {
        flush_begin(&mut self.client, &mut self.pending_begin)?;
        let schema = schema.map_or_else(
            || "current_schema()".to_owned(),
            |s| crate::db::quote_literal(Dialect::Postgres, s),
        );
        let columns: Vec<String> = tables
            .iter()
            .map(|table| {
                // `to_regclass` reads the catalog directly;
                // `information_schema.tables` checks privileges on every
                // relation of the database first, milliseconds on a large one.
                format!(
                    "to_regclass(quote_ident({schema}) || '.' || quote_ident({})) IS NOT NULL",
                    crate::db::quote_literal(Dialect::Postgres, table)
                )
            })
            .collect();
        let rows = text_rows(
            &mut self.client,
            &format!(
                "{}SELECT {}",
                crate::db::NO_LOAD_BALANCE,
                columns.join(", ")
            ),
        )?;
        let row = rows.first();
        Ok((0..tables.len())
            .map(|i| row.and_then(|r| r.get(i)).and_then(Option::as_deref) == Some("t"))
            .collect())
    }

    fn table_exists(&mut self, schema: Option<&str>, table: &str) -> Result<bool, DbError> {
        Ok(self.tables_exist(schema, &[table])?.first() == Some(&true))
    }

    fn database_size(&mut self) -> Result<Option<u64>, DbError> {
        crate::db::shared::size_of(
            self.query_text("SELECT pg_database_size(current_database())::text")?,
        )
    }

    fn server(&self) -> &ServerFacts {
        &self.server
    }

    fn set_server(&mut self, facts: ServerFacts) {
        self.server = facts;
    }

    fn notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notices)
    }

    fn replication(&mut self) -> Result<Replication, DbError> {
        flush_begin(&mut self.client, &mut self.pending_begin)?;
        super::replicas::replication(&mut self.client).map_err(|e| error(&e))
    }
}
