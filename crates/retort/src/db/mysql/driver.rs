//! MySQL and MariaDB through the `mysql` crate (synchronous).
//!
//! The run lock is a `GET_LOCK` held on a second, dedicated connection, so
//! nothing the work connection does releases it; the server releases it
//! when that connection closes, so a killed runner never leaves it behind.
//! DDL commits implicitly on these servers: the splitter marks such
//! statements, and each is journaled as it completes.

use std::time::Duration;

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder, SslOpts};
use sha2::{Digest, Sha256};

use crate::Dialect;
use crate::config::{DatabaseUrl, mysql_ssl_mode};
use crate::db::shared::{KEEPALIVE_IDLE, Nesting, poll_lock};
#[cfg(any(target_os = "linux", target_os = "macos"))]
use crate::db::shared::{KEEPALIVE_INTERVAL, KEEPALIVE_RETRIES};
use crate::db::{CONNECT_TIMEOUT, DbError, DbErrorKind, Driver, Replication, ServerFacts, Value};

pub(crate) struct Mysql {
    conn: Conn,
    /// The dedicated connection holding `GET_LOCK`, while locked.
    lock: Option<Conn>,
    /// The connection opened ahead for the lock (see `prepare_lock`).
    spare: Option<Conn>,
    opts: Opts,
    /// The URL it was opened with (see `Driver::url`).
    url: DatabaseUrl,
    describe: String,
    /// The version table the connection was opened for (a state table).
    pub(super) version_table: String,
    lock_name: String,
    nesting: Nesting,
    /// What the server is (see `detect`).
    server: ServerFacts,
}

fn error(e: &mysql::Error) -> DbError {
    let kind = match e {
        mysql::Error::MySqlError(server) => match server.code {
            // ER_TABLE_EXISTS_ERROR, ER_DUP_KEYNAME, ER_DUP_FIELDNAME,
            // ER_DB_CREATE_EXISTS, ER_SP_ALREADY_EXISTS
            1050 | 1061 | 1060 | 1007 | 1304 => DbErrorKind::AlreadyExists,
            // ER_LOCK_WAIT_TIMEOUT (rows and metadata locks alike)
            1205 => DbErrorKind::LockTimeout,
            // ER_LOCK_DEADLOCK, also a Galera certification failure
            1213 => DbErrorKind::Conflict,
            // Privilege errors (1142, 1044) and a read-only server (1290)
            // stay statement errors: the migration's file and line are
            // what the user needs then.
            // ER_ACCESS_DENIED_ERROR, ER_BAD_DB_ERROR
            1045 | 1049 => DbErrorKind::Connect,
            _ => DbErrorKind::Statement,
        },
        mysql::Error::IoError(_) | mysql::Error::DriverError(_) => DbErrorKind::Connect,
        _ => DbErrorKind::Statement,
    };
    let message = match e {
        mysql::Error::MySqlError(server) => server.message.clone(),
        other => other.to_string(),
    };
    DbError::new(kind, message)
}

impl Mysql {
    pub(crate) fn open(url: &DatabaseUrl, version_table: &str) -> Result<Mysql, DbError> {
        let host = url.host().unwrap_or("localhost").to_owned();
        let port = url.port().unwrap_or(3306);
        let database = url.database().map(str::to_owned);
        let mut timeout = CONNECT_TIMEOUT;
        let mut mode = "preferred".to_owned();
        let mut ca: Option<std::path::PathBuf> = None;
        for (key, value) in url.params() {
            match key.as_str() {
                "connect_timeout" => timeout = crate::db::connect_timeout(value),
                "ssl-mode" | "ssl_mode" | "sslmode" => mode = mysql_ssl_mode(value),
                "ssl-ca" | "ssl_ca" | "sslca" => ca = Some(value.into()),
                _ => {}
            }
        }
        let base = OptsBuilder::new()
            .ip_or_hostname(Some(host.clone()))
            .tcp_port(port)
            .user(Some(url.user().unwrap_or("root")))
            .pass(url.password())
            .db_name(database.clone())
            .tcp_connect_timeout(Some(timeout))
            // A server that stops answering (a dead host, a dropped
            // network) is noticed in about two minutes.
            .tcp_keepalive_time_ms(u32::try_from(KEEPALIVE_IDLE.as_millis()).ok())
            // An UPDATE reports the rows it matched, not only those it
            // changed, as the version-table checks expect.
            .additional_capabilities(mysql::consts::CapabilityFlags::CLIENT_FOUND_ROWS)
            .prefer_socket(false);
        #[cfg(any(target_os = "linux", target_os = "macos"))]
        let base = base
            .tcp_keepalive_probe_interval_secs(u32::try_from(KEEPALIVE_INTERVAL.as_secs()).ok())
            .tcp_keepalive_probe_count(Some(KEEPALIVE_RETRIES));
        let tls = tls_options(&mode, ca)?;
        let with_tls: Opts = base.clone().ssl_opts(tls.clone()).into();
        let (mut conn, opts) = match connect(&with_tls, &mode) {
            // `preferred` falls back to a plain connection when the server
            // has no TLS, as the mysql client does.
            Err(e) if mode == "preferred" && e.message.contains(NO_TLS) => {
                let plain: Opts = base.into();
                (connect(&plain, &mode)?, plain)
            }
            result => (result?, with_tls),
        };
        let (version, server) = super::detect::detect(&mut conn).map_err(|e| error(&e))?;
        let flavour = if version.contains("MariaDB") {
            "MariaDB"
        } else {
            "MySQL"
        };
        let release = version.split('-').next().unwrap_or(&version);
        let describe = format!(
            "{flavour} {release} database `{}` at {host}:{port}",
            database.as_deref().unwrap_or("")
        );
        // GET_LOCK names are global to the server and at most 64
        // characters: one per database and version table, hashed.
        let digest = Sha256::digest(
            format!("{}:{version_table}", database.as_deref().unwrap_or("")).as_bytes(),
        );
        let lock_name = format!(
            "retort:{}",
            digest[..12]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        Ok(Mysql {
            conn,
            lock: None,
            spare: None,
            opts,
            url: url.clone(),
            describe,
            version_table: version_table.to_owned(),
            lock_name,
            nesting: Nesting::default(),
            server,
        })
    }

    /// A connection for the lock. It idles for the whole run; the server
    /// must not close it (and so release the lock) after `wait_timeout`.
    fn lock_connection(&self) -> Result<Conn, DbError> {
        let mut lock = connect(&self.opts, "")?;
        lock.query_drop("SET SESSION wait_timeout = 31536000")
            .map_err(|e| error(&e))?;
        Ok(lock)
    }

    /// Who holds the lock, from the server's process list.
    fn holder(&mut self) -> String {
        let row: Option<ProcessRow> = self
            .conn
            .exec_first(
                "SELECT p.ID, p.USER, p.HOST, p.TIME FROM information_schema.PROCESSLIST p \
                 WHERE p.ID = IS_USED_LOCK(?)",
                (self.lock_name.as_str(),),
            )
            .ok()
            .flatten();
        match row {
            Some((Some(id), user, host, time)) => format!(
                "held by connection {id} ({}@{}), in its current state for {}s",
                user.unwrap_or_else(|| "?".into()),
                host.unwrap_or_else(|| "?".into()),
                time.unwrap_or(0)
            ),
            _ => format!("another session holds retort's lock on {}", self.describe),
        }
    }
}

/// A `PROCESSLIST` row: id, user, host, seconds in its current state.
type ProcessRow = (Option<u64>, Option<String>, Option<String>, Option<i64>);

/// What the driver says when the server does not offer TLS.
const NO_TLS: &str = "does not support TLS";

/// The TLS settings of an `ssl-mode` (see MySQL's `--ssl-mode`):
/// `required` encrypts without checking the certificate, `verify_ca`
/// checks it against `ssl-ca` (or the public roots built in), and
/// `verify_identity` also checks the host name.
fn tls_options(mode: &str, ca: Option<std::path::PathBuf>) -> Result<Option<SslOpts>, DbError> {
    if let Some(path) = &ca
        && !path.is_file()
    {
        return Err(DbError::new(
            DbErrorKind::Connect,
            format!("cannot read `ssl-ca` file `{}`", path.display()),
        ));
    }
    let verified = || match &ca {
        Some(path) => SslOpts::default().with_root_cert_path(Some(path.clone())),
        None => SslOpts::default(),
    };
    Ok(match mode {
        "disabled" => None,
        "verify_identity" => Some(verified()),
        "verify_ca" => Some(verified().with_danger_skip_domain_validation(true)),
        // `preferred` and `required` encrypt without verifying, as the
        // mysql client does.
        _ => Some(
            SslOpts::default()
                .with_danger_accept_invalid_certs(true)
                .with_danger_skip_domain_validation(true),
        ),
    })
}

/// Connects within the options' `connect_timeout`, handshake and
/// authentication included.
fn connect(opts: &Opts, mode: &str) -> Result<Conn, DbError> {
    let timeout = opts.get_tcp_connect_timeout().unwrap_or(CONNECT_TIMEOUT);
    let server = format!("the server at {}", opts.get_ip_or_hostname());
    if timeout.is_zero() {
        return connect_now(opts, mode);
    }
    let (opts, mode) = (opts.clone(), mode.to_owned());
    crate::db::shared::within(timeout, &server, move || connect_now(&opts, &mode))
}

/// A decoder error means the peer is not a MySQL server: the driver's own
/// words (`CodecError { … }`) describe its decoder, not the server.
const NOT_MYSQL: &str =
    "the server's answer is not the MySQL protocol: is it a MySQL or MariaDB server?";

fn connect_now(opts: &Opts, mode: &str) -> Result<Conn, DbError> {
    Conn::new(opts.clone()).map_err(|e| {
        let reason = match &e {
            mysql::Error::MySqlError(server) => server.message.clone(),
            mysql::Error::IoError(io) => io.to_string(),
            mysql::Error::DriverError(mysql::DriverError::TlsNotSupported) => format!(
                "the server {NO_TLS} (`ssl-mode={mode}`); use `ssl-mode=preferred` or `disabled`, or enable TLS on the server"
            ),
            mysql::Error::DriverError(driver) => driver.to_string(),
            // TLS and socket failures reach us inside the codec's error.
            mysql::Error::CodecError(codec) => std::error::Error::source(codec)
                .map_or_else(|| NOT_MYSQL.to_owned(), ToString::to_string),
            other => other.to_string(),
        };
        DbError::new(DbErrorKind::Connect, tls_reason(&reason).unwrap_or(reason))
    })
}

/// rustls's certificate errors, in the words of the URL's settings.
fn tls_reason(reason: &str) -> Option<String> {
    // The driver wraps rustls's words: keep those.
    let reason = match reason.find("invalid peer certificate") {
        Some(at) => reason[at..].split(['`', '\'']).next().unwrap_or(reason),
        None => reason,
    };
    if reason.contains("UnknownIssuer") || reason.contains("BadSignature") {
        Some(format!(
            "the server's TLS certificate is not trusted ({reason}); give its CA with `ssl-ca=PATH`"
        ))
    } else if reason.contains("NotValidForName") || reason.contains("not valid for name") {
        Some(format!(
            "the server's TLS certificate does not name this host ({reason}); connect by a name it lists, or use `ssl-mode=verify_ca`"
        ))
    } else {
        None
    }
}

fn param(value: &Value) -> mysql::Value {
    match value {
        Value::Null => mysql::Value::NULL,
        Value::Int(i) => mysql::Value::Int(*i),
        Value::Text(t) => mysql::Value::Bytes(t.clone().into_bytes()),
    }
}

fn value(value: mysql::Value) -> Value {
    match value {
        mysql::Value::NULL => Value::Null,
        mysql::Value::Int(i) => Value::Int(i),
        mysql::Value::UInt(u) => {
            i64::try_from(u).map_or_else(|_| Value::Text(u.to_string()), Value::Int)
        }
        mysql::Value::Bytes(b) => Value::Text(String::from_utf8_lossy(&b).into_owned()),
        other => Value::Text(other.as_sql(true).trim_matches('\'').to_owned()),
    }
}

fn is_integer(column: mysql::consts::ColumnType) -> bool {
    use mysql::consts::ColumnType as T;
    matches!(
        column,
        T::MYSQL_TYPE_TINY
            | T::MYSQL_TYPE_SHORT
            | T::MYSQL_TYPE_INT24
            | T::MYSQL_TYPE_LONG
            | T::MYSQL_TYPE_LONGLONG
    )
}

impl Driver for Mysql {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
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
            None => self.lock_connection()?,
        };
        let name = self.lock_name.clone();
        let describe = self.describe.clone();
        poll_lock(
            timeout,
            &describe,
            || {
                lock.exec_first::<Option<i64>, _, _>("SELECT GET_LOCK(?, 0)", (name.as_str(),))
                    .map(|got| got.flatten() == Some(1))
                    .map_err(|e| error(&e))
            },
            || {
                let holder = self.holder();
                on_wait(&holder);
            },
        )?;
        self.lock = Some(lock);
        Ok(())
    }

    fn url(&self) -> Option<&DatabaseUrl> {
        Some(&self.url)
    }

    fn session(&mut self) -> Option<String> {
        Some(self.conn.connection_id().to_string())
    }

    fn session_busy(&mut self, session: &str) -> bool {
        let Ok(id) = session.parse::<u64>() else {
            return false;
        };
        self.conn
            .exec_first::<i64, _, _>(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ? AND COMMAND <> 'Sleep'",
                (id,),
            )
            .is_ok_and(|n| n.unwrap_or(0) > 0)
    }

    fn prepare_lock(&mut self) {
        // If this fails, `lock` tries again and reports why.
        if self.lock.is_none() && self.spare.is_none() {
            self.spare = self.lock_connection().ok();
        }
    }

    fn unlock(&mut self) -> Result<(), DbError> {
        if let Some(mut lock) = self.lock.take() {
            let released: Option<Option<i64>> = lock
                .exec_first("SELECT RELEASE_LOCK(?)", (self.lock_name.as_str(),))
                .map_err(|e| error(&e))?;
            if released.flatten() != Some(1) {
                return Err(DbError::new(
                    DbErrorKind::Statement,
                    format!(
                        "retort's lock on {} was no longer held at the end of the run (the lock connection was closed by the server?)",
                        self.describe
                    ),
                ));
            }
        }
        Ok(())
    }

    fn begin(&mut self) -> Result<(), DbError> {
        let conn = &mut self.conn;
        self.nesting.begin("START TRANSACTION", |sql| {
            conn.query_drop(sql).map_err(|e| error(&e))
        })
    }

    fn commit(&mut self) -> Result<(), DbError> {
        let conn = &mut self.conn;
        self.nesting
            .commit(|sql| conn.query_drop(sql).map_err(|e| error(&e)))
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        let conn = &mut self.conn;
        self.nesting
            .rollback(|sql| conn.query_drop(sql).map_err(|e| error(&e)))
    }

    fn run(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn.query_drop(sql).map_err(|e| error(&e))
    }

    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, DbError> {
        let params: Vec<mysql::Value> = values.iter().map(param).collect();
        self.conn
            .exec_drop(sql, mysql::Params::Positional(params))
            .map_err(|e| error(&e))?;
        Ok(self.conn.affected_rows())
    }

    fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Vec<Value>>, DbError> {
        let rows: Vec<mysql::Row> = if values.is_empty() {
            self.conn.query(sql)
        } else {
            let params: Vec<mysql::Value> = values.iter().map(param).collect();
            self.conn.exec(sql, mysql::Params::Positional(params))
        }
        .map_err(|e| error(&e))?;
        Ok(rows
            .into_iter()
            .map(|row| {
                // The text protocol sends every value as bytes; integer
                // columns are read back as integers.
                let integer: Vec<bool> = row
                    .columns_ref()
                    .iter()
                    .map(|c| is_integer(c.column_type()))
                    .collect();
                row.unwrap()
                    .into_iter()
                    .zip(integer)
                    .map(|(v, integer)| match (value(v), integer) {
                        (Value::Text(t), true) => t.parse().map_or(Value::Text(t), Value::Int),
                        (other, _) => other,
                    })
                    .collect()
            })
            .collect())
    }

    fn set_lock_wait(&mut self, timeout: Duration) -> Result<(), DbError> {
        // Both waits: metadata locks (DDL behind a long transaction) and
        // row locks. The servers count whole seconds.
        let seconds = timeout.as_secs().max(1);
        self.conn
            .query_drop(format!(
                "SET SESSION lock_wait_timeout = {seconds}, SESSION innodb_lock_wait_timeout = {seconds}"
            ))
            .map_err(|e| error(&e))
    }

    fn table_exists(&mut self, schema: Option<&str>, table: &str) -> Result<bool, DbError> {
        let found: Option<i64> = self
            .conn
            .exec_first(
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ?",
                (schema, table),
            )
            .map_err(|e| error(&e))?;
        Ok(found.unwrap_or(0) > 0)
    }

    fn database_size(&mut self) -> Result<Option<u64>, DbError> {
        crate::db::shared::size_of(self.query_text(
            "SELECT CAST(COALESCE(SUM(data_length + index_length), 0) AS CHAR) \
             FROM information_schema.tables WHERE table_schema = DATABASE()",
        )?)
    }

    fn server(&self) -> &ServerFacts {
        &self.server
    }

    fn set_server(&mut self, facts: ServerFacts) {
        self.server = facts;
    }

    fn replication(&mut self) -> Result<Replication, DbError> {
        super::detect::replication(&mut self.conn, &self.server).map_err(|e| error(&e))
    }
}
