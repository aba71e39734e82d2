//! PostgreSQL through the `postgres` crate (synchronous rust-postgres).
//!
//! The run lock is a session advisory lock held on a second, dedicated
//! connection, so the work connection's transactions and errors never
//! release it; it is released by `unlock`, and by the server when the
//! process dies and its connections close.

use std::time::Duration;

use postgres::Client;
use postgres::error::SqlState;
use postgres::types::ToSql;
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
    /// The dedicated connection holding the advisory lock, while locked.
    lock: Option<Client>,
    /// The connection opened ahead for the lock (see `prepare_lock`).
    spare: Option<Client>,
    /// The work connection's backend pid, once asked for.
    pid: Option<i32>,
    config: postgres::Config,
    tls: Tls,
    describe: String,
    /// The version table the connection was opened for (a state table).
    pub(super) version_table: String,
    key: i64,
    nesting: Nesting,
    /// A `BEGIN` not sent yet: it goes out with the next statement, one
    /// round trip fewer per transaction.
    pending_begin: bool,
    /// What the server is (see `detect`).
    server: ServerFacts,
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
    } else if *code == SqlState::READ_ONLY_SQL_TRANSACTION
        || *code == SqlState::INSUFFICIENT_PRIVILEGE
    {
        DbErrorKind::ReadOnly
    } else {
        DbErrorKind::Statement
    };
    let mut message = db.message().to_owned();
    if let Some(detail) = db.detail() {
        message.push_str(&format!(" ({detail})"));
    }
    DbError::new(kind, message)
}

impl Postgres {
    pub(crate) fn open(url: &DatabaseUrl, version_table: &str) -> Result<Postgres, DbError> {
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
        let tls = Tls::from_url(url)?;
        let mut client = connect(&config, &tls)?;
        let server = super::detect::detect(&mut client)?;
        // One lock per database and version table: two projects sharing a
        // database through different version tables do not block each other.
        let digest = Sha256::digest(format!("retort:{database}:{version_table}").as_bytes());
        let mut key_bytes = [0u8; 8];
        key_bytes.copy_from_slice(&digest[..8]);
        Ok(Postgres {
            client,
            lock: None,
            spare: None,
            pid: None,
            config,
            tls,
            describe,
            version_table: version_table.to_owned(),
            key: i64::from_be_bytes(key_bytes),
            nesting: Nesting::default(),
            pending_begin: false,
            server,
        })
    }

    /// Who holds the advisory lock, from `pg_locks` and `pg_stat_activity`.
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
            if sql == keyword && std::mem::take(pending_begin) {
                return Ok(());
            }
            send(client, pending_begin, sql)
        })
    }

    fn holder(&mut self) -> String {
        let hi = i64::from(u32::try_from(self.key >> 32 & 0xffff_ffff).unwrap_or(0));
        let lo = i64::from(u32::try_from(self.key & 0xffff_ffff).unwrap_or(0));
        let row = self.client.query_opt(
            "SELECT a.pid, a.application_name, a.client_addr::text, to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ') \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = $1 AND l.objid::bigint = $2 LIMIT 1",
            &[&hi, &lo],
        );
        match row {
            Ok(Some(row)) => {
                let pid: i32 = row.get(0);
                let app: Option<String> = row.get(1);
                let addr: Option<String> = row.get(2);
                let since: Option<String> = row.get(3);
                format!(
                    "held by pid {pid} ({}{}), connected since {}",
                    app.filter(|a| !a.is_empty())
                        .unwrap_or_else(|| "unnamed".into()),
                    addr.map(|a| format!(" from {a}")).unwrap_or_default(),
                    since.unwrap_or_else(|| "an unknown time".into())
                )
            }
            _ => format!("another session holds retort's lock on {}", self.describe),
        }
    }
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
    messages.iter().find_map(|m| match m {
        postgres::SimpleQueryMessage::Row(row) => row.get(0),
        _ => None,
    })
}

/// Sends `sql` with the simple query protocol, a pending `BEGIN` first in
/// the same round trip.
fn send(client: &mut Client, pending_begin: &mut bool, sql: &str) -> Result<(), DbError> {
    if std::mem::take(pending_begin) {
        return client
            .batch_execute(&format!("BEGIN;\n{sql}"))
            .map_err(|e| error(&e));
    }
    client.batch_execute(sql).map_err(|e| error(&e))
}

/// Sends a pending `BEGIN` alone, before a statement of the extended
/// protocol (which cannot carry it).
fn flush_begin(client: &mut Client, pending_begin: &mut bool) -> Result<(), DbError> {
    if std::mem::take(pending_begin) {
        client.batch_execute("BEGIN").map_err(|e| error(&e))?;
    }
    Ok(())
}

fn params(values: &[Value]) -> Vec<Box<dyn ToSql + Sync>> {
    values
        .iter()
        .map(|v| -> Box<dyn ToSql + Sync> {
            match v {
                Value::Null => Box::new(None::<String>),
                Value::Int(i) => Box::new(*i),
                Value::Text(t) => Box::new(t.clone()),
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
            None => connect(&self.config, &self.tls)?,
        };
        let key = self.key;
        let describe = self.describe.clone();
        poll_lock(
            timeout,
            &describe,
            || {
                // The simple protocol with the key written out: one round
                // trip, and no prepared statement left on the connection.
                let rows = lock
                    .simple_query(&format!("SELECT pg_try_advisory_lock({key})"))
                    .map_err(|e| error(&e))?;
                Ok(first_value(&rows) == Some("t"))
            },
            || {
                let holder = self.holder();
                on_wait(&holder);
            },
        )?;
        self.lock = Some(lock);
        Ok(())
    }

    fn session(&mut self) -> Option<String> {
        if self.pid.is_none() {
            let row = self.client.query_one("SELECT pg_backend_pid()", &[]).ok()?;
            self.pid = Some(row.get(0));
        }
        self.pid.map(|pid| pid.to_string())
    }

    fn session_busy(&mut self, session: &str) -> bool {
        let Ok(pid) = session.parse::<i32>() else {
            return false;
        };
        self.client
            .query_opt(
                "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state <> 'idle'",
                &[&pid],
            )
            .is_ok_and(|row| row.is_some())
    }

    fn prepare_lock(&mut self) {
        // If this fails, `lock` tries again and reports why.
        if self.lock.is_none() && self.spare.is_none() {
            self.spare = connect(&self.config, &self.tls).ok();
        }
    }

    fn unlock(&mut self) -> Result<(), DbError> {
        if let Some(mut lock) = self.lock.take() {
            lock.simple_query(&format!("SELECT pg_advisory_unlock({})", self.key))
                .map_err(|e| error(&e))?;
        }
        Ok(())
    }

    fn begin(&mut self) -> Result<(), DbError> {
        let Postgres {
            client,
            nesting,
            pending_begin,
            ..
        } = self;
        nesting.begin("BEGIN", |sql| {
            if sql == "BEGIN" {
                *pending_begin = true;
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
        let begin = std::mem::take(&mut self.pending_begin);
        let mut text = if begin {
            "BEGIN;\n".to_owned()
        } else {
            String::new()
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
        if begin && !counts.is_empty() {
            counts.remove(0);
        }
        Ok(counts)
    }

    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, DbError> {
        flush_begin(&mut self.client, &mut self.pending_begin)?;
        let owned = params(values);
        let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|b| b.as_ref()).collect();
        self.client.execute(sql, &refs).map_err(|e| error(&e))
    }

    fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Vec<Value>>, DbError> {
        flush_begin(&mut self.client, &mut self.pending_begin)?;
        let owned = params(values);
        let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|b| b.as_ref()).collect();
        let rows = self.client.query(sql, &refs).map_err(|e| error(&e))?;
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
        let rows = self
            .client
            .query(
                "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_index i \
                 JOIN pg_class c ON c.oid = i.indexrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE NOT i.indisvalid ORDER BY 1",
                &[],
            )
            .unwrap_or_default();
        Some(rows.iter().map(|row| row.get(0)).collect())
    }

    fn set_lock_wait(&mut self, timeout: Duration) -> Result<(), DbError> {
        send(
            &mut self.client,
            &mut self.pending_begin,
            &format!("SET lock_timeout = '{}ms'", timeout.as_millis()),
        )
    }

    fn query_text(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
        flush_begin(&mut self.client, &mut self.pending_begin)?;
        let messages = self.client.simple_query(sql).map_err(|e| error(&e))?;
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
                format!(
                    "to_regclass(quote_ident({schema}) || '.' || quote_ident({})) IS NOT NULL",
                    crate::db::quote_literal(Dialect::Postgres, table)
                )
            })
            .collect();
        let rows = self
            .client
            .simple_query(&format!(
                "{}SELECT {}",
                crate::db::NO_LOAD_BALANCE,
                columns.join(", ")
            ))
            .map_err(|e| error(&e))?;
        let row = rows.iter().find_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        });
        Ok((0..tables.len())
            .map(|i| row.and_then(|r| r.get(i)) == Some("t"))
            .collect())
    }

    fn table_exists(&mut self, schema: Option<&str>, table: &str) -> Result<bool, DbError> {
        flush_begin(&mut self.client, &mut self.pending_begin)?;
        let schema = schema.map(str::to_owned);
        let row = self
            .client
            .query_one(
                // `to_regclass` reads the catalog directly;
                // `information_schema.tables` checks privileges on every
                // relation of the database first, milliseconds on a large one.
                "SELECT to_regclass(quote_ident(COALESCE($1, current_schema())) || '.' || quote_ident($2)) IS NOT NULL",
                &[&schema, &table],
            )
            .map_err(|e| error(&e))?;
        Ok(row.get(0))
    }

    fn server(&self) -> &ServerFacts {
        &self.server
    }

    fn set_server(&mut self, facts: ServerFacts) {
        self.server = facts;
    }

    fn replication(&mut self) -> Result<Replication, DbError> {
        flush_begin(&mut self.client, &mut self.pending_begin)?;
        super::replicas::replication(&mut self.client).map_err(|e| error(&e))
    }
}
