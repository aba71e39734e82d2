//! Opening the project's database: which URL (`--url`, `DATABASE_URL`,
//! the environment's, `database.url`), and what to tell a user whose
//! database failed.
//!
//! It sits above [`crate::db`], whose drivers return their own
//! [`DbError`]s and know nothing of projects. The hints for those errors
//! live here because most of them are about reaching the database; the
//! migrator's database errors use them too.

use thiserror::Error;

use crate::config::{Config, ConfigError};
use crate::db::{self, Access, DbError, DbErrorKind, Driver, KindSource};
use crate::{Diagnostic, ErrorClass};

/// Opens the project's database: `--url` (when given), `DATABASE_URL`,
/// the environment's URL, or `database.url`.
pub fn open(
    config: &Config,
    cli_url: Option<&str>,
    access: Access,
) -> Result<Box<dyn Driver>, crate::Error> {
    let url = config.database_url(cli_url)?;
    let server = configured_server(config, &url)?;
    let lock_url = config.lock_url(&url)?;
    let migrations = &config.migrations;
    let mut driver = db::connect_scoped(
        &url,
        &migrations.version_table,
        migrations.version_table_schema.as_deref(),
        access,
    )
    .map_err(|error| {
        crate::Error::from(ConnectError {
            url: url.redacted(),
            error,
        })
    })?;
    if let Some(kind) = server {
        let facts = driver.server().clone().with_kind(kind, KindSource::Config);
        // Checked above.
        if let Ok(facts) = facts {
            driver.set_server(facts);
        }
    }
    if let Some(lock_url) = lock_url {
        driver
            .use_lock_url(&lock_url)
            .map_err(|error| ConnectError {
                url: lock_url.redacted(),
                error,
            })?;
    }
    Ok(driver)
}

/// The project's database could not be opened.
#[derive(Debug, Error)]
#[error("connecting to {url}: {error}")]
pub struct ConnectError {
    /// The database's URL, redacted.
    pub url: String,
    /// The driver's error.
    pub error: DbError,
}

impl Diagnostic for ConnectError {
    fn kind(&self) -> &'static str {
        kind_of(&self.error)
    }

    fn hint(&self) -> Option<String> {
        Some(hint_for(
            &format!("connecting to {}", self.url),
            &self.error,
        ))
    }

    fn class(&self) -> ErrorClass {
        ErrorClass::Runtime
    }
}

/// The stable name of a database failure (`error.kind` in JSON).
pub(crate) fn kind_of(error: &DbError) -> &'static str {
    match error.kind {
        DbErrorKind::Connect => "connect",
        DbErrorKind::ReadOnly => "read_only",
        DbErrorKind::LockTimeout => "lock_timeout",
        DbErrorKind::LockLost => "lock_lost",
        DbErrorKind::Pooler => "pooler",
        DbErrorKind::MissingTool => "missing_tool",
        _ => "database",
    }
}

/// What to do about a database failure outside a migration's own SQL,
/// which happened while `context` (`connecting to …`, `taking the run
/// lock`, …).
pub(crate) fn hint_for(context: &str, error: &DbError) -> String {
    match error.kind {
        DbErrorKind::ReadOnly => "the database file or its directory is not writable by this user (check permissions), or the URL opens it read only (`?mode=ro`)".into(),
        DbErrorKind::LockTimeout if context.contains("run lock") => "another `retort` run is still migrating; wait for it, or raise the timeout with `--lock-timeout SECONDS` (`retort lock status` shows who holds the lock; a lease a dead run left expires on its own, or `retort lock release --yes` frees it)".into(),
        DbErrorKind::LockTimeout if error.message.contains("SQLite") => "another program holds a lock on the database file (a transaction left open, in a `sqlite3` shell or the application): end it, then run the command again".into(),
        DbErrorKind::LockTimeout => "another session holds a lock retort needs (a long or forgotten transaction: `pg_stat_activity` on PostgreSQL and `SHOW PROCESSLIST` on MySQL/MariaDB list them); run the command again once it ends".into(),
        // Not while connecting: the connection worked, then closed.
        DbErrorKind::Connect
            if !context.starts_with("connecting")
                && (error.message.ends_with("connection closed")
                    || error.message.contains("query_wait_timeout")) =>
        {
            format!(
                "the connection closed during the run: the server restarted or ended the session, or a pooler in between closed it (PgBouncer does when no server connection frees up within its `query_wait_timeout`: retort's run lock holds one for the whole run, so a pool needs at least two, or the lock a direct connection of its own through `database.lock_url` or `{}`); `retort status` shows where the database was left",
                crate::config::LOCK_URL_VAR
            )
        }
        DbErrorKind::Connect => connect_hint(&error.message),
        DbErrorKind::LockLost => "what this run did is recorded as far as it got; run `retort status` to see where the database is, and raise `lock_ttl` (`database.lock_ttl`, `?retort_lock_ttl=`) if renewals are slow to reach the server".into(),
        DbErrorKind::Pooler => pooler_hint(&error.message),
        DbErrorKind::MissingTool => "install the package the message names (`apt-get install …` on Debian and Ubuntu), or put the program on PATH; nothing was written".into(),
        _ if context.contains("backup") || context.contains("restor") => format!(
            "{context} failed: the message above is the tool's own; check that the database user may read (to back up) or create and drop (to restore) every object"
        ),
        _ => format!("{context} failed: check that the database user may create, read and write retort's own tables there (the version, applied and journal tables)"),
    }
}

/// `database.server`, unless the URL's own `server` parameter (which
/// wins) is set: it must fit the dialect of the URL in use, which only now
/// is known.
fn configured_server(
    config: &Config,
    url: &crate::config::DatabaseUrl,
) -> Result<Option<db::ServerKind>, crate::Error> {
    let server = config
        .database_server
        .filter(|_| url.param("server").is_none());
    if let Some(kind) = server
        && !kind.fits(url.dialect())
    {
        return Err(ConfigError::Invalid {
            path: config.path.clone(),
            key: "database.server".to_owned(),
            line: None,
            column: None,
            message: crate::db::facts::mismatch(kind, url.dialect()),
        }
        .into());
    }
    Ok(server)
}

/// What the server of the project's database is taken for without
/// connecting (offline SQL): the kind the URL's `server` parameter or
/// `database.server` names, else the dialect's own server.
pub fn offline_server(
    config: &Config,
    cli_url: Option<&str>,
) -> Result<db::ServerFacts, crate::Error> {
    let url = config.database_url(cli_url)?;
    let plain = db::ServerFacts::plain(url.dialect(), url.dialect().name(), "");
    let kind = match url.param("server").and_then(db::ServerKind::from_name) {
        Some(kind) => Some((kind, KindSource::Url)),
        None => configured_server(config, &url)?.map(|kind| (kind, KindSource::Config)),
    };
    Ok(match kind {
        // Parsing the URL and the configuration checked that it fits.
        Some((kind, source)) => plain.clone().with_kind(kind, source).unwrap_or(plain),
        None => plain,
    })
}

/// What to do when a connection pooler refused what retort needs.
fn pooler_hint(message: &str) -> String {
    let lock_url = format!(
        "`database.lock_url` in retort.toml (or `{}`)",
        crate::config::LOCK_URL_VAR
    );
    if message.contains("holds its lock") {
        format!(
            "retort holds its run lock in a transaction, and runs each migration in one: set {lock_url} to a direct connection to the server (the lock and, past a pooler in statement mode, the migrations go there), or point the database URL at a pool in transaction or session mode (PgBouncer's `pool_mode`), or at the server"
        )
    } else {
        format!(
            "retort runs each migration in a transaction, which a pooler in statement mode refuses: set {lock_url} to a direct connection to the server (the migrations then go there), or point the database URL at a pool in transaction or session mode (PgBouncer's `pool_mode`), or at the server"
        )
    }
}

/// What to check after a failed connection, from the server's or the
/// system's words (the drivers do not classify them further).
fn connect_hint(message: &str) -> String {
    let lower = message.to_ascii_lowercase();
    let url = if lower.contains("`lock_url`") {
        "(`database.lock_url` in retort.toml or `RETORT_LOCK_URL`)"
    } else {
        "(`--url`, `DATABASE_URL` or `database.url` in retort.toml)"
    };
    if lower.contains("an advisory lock only excludes") {
        format!(
            "point the lock URL {url} straight at the server and database the database URL reaches through the pooler"
        )
    } else if lower.contains("run lock's connection was lost") {
        "the migrations that completed are recorded (`retort status` shows where the database is); look for what ends idle transactions or connections: PgBouncer's `idle_transaction_timeout`, the server's `idle_session_timeout`, a firewall".into()
    } else if lower.contains("refused") {
        format!(
            "nothing accepts connections at that host and port: is the server running, and is the port in the URL {url} right?"
        )
    } else if lower.contains("not the mysql protocol") {
        format!(
            "what answers at that host and port is not a MySQL or MariaDB server: check the port in the URL {url} (PostgreSQL listens on 5432, MySQL/MariaDB on 3306)"
        )
    } else if lower.contains("reset by peer") || lower.contains("closed the connection") {
        format!(
            "the server closed the connection: check that the port in the URL {url} is the database's (PostgreSQL listens on 5432, MySQL/MariaDB on 3306), and that the server accepts this client (TLS settings, host access rules)"
        )
    } else if lower.contains("no answer from") || lower.contains("timed out") {
        format!(
            "the host may be unreachable (a firewall dropping packets), or what listens on that port does not speak the database's protocol: check the host and port in the URL {url}; `?connect_timeout=SECONDS` waits longer"
        )
    } else if lower.contains("tls") || lower.contains("certificate") {
        format!(
            "check the TLS settings in the URL {url}: `ssl-mode` and `ssl-ca` for MySQL/MariaDB, `sslmode` and `sslrootcert` for PostgreSQL"
        )
    } else if lower.contains("lookup address") || lower.contains("name or service not known") {
        format!("the host name does not resolve: check the host in the URL {url}")
    } else if lower.contains("directory") && lower.contains("does not exist") {
        format!(
            "create the directory (retort creates the SQLite file, not the directories above it), or fix the path in the URL {url}"
        )
    } else if lower.contains("unknown database")
        || (lower.contains("database") && lower.contains("does not exist"))
    {
        format!(
            "create the database first (e.g. `CREATE DATABASE name`), or fix its name in the URL {url}"
        )
    } else if lower.contains("access denied")
        || lower.contains("password authentication failed")
        || (lower.contains("role") && lower.contains("does not exist"))
    {
        format!(
            "the server refused these credentials: check the user and password in the URL {url}"
        )
    } else {
        format!("check the database URL {url}")
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Env;

    #[test]
    fn a_failed_connection_names_the_url_and_what_to_check() {
        let config = Config::parse(
            Path::new("/project/retort.toml"),
            "[database]\nurl = \"sqlite:////nowhere/at/all/app.db\"\n",
            Env::from_pairs([("DATABASE_URL", "sqlite:////nowhere/else/app.db")]),
        )
        .unwrap();
        // `DATABASE_URL` over `database.url`, `--url` over both.
        for (cli_url, directory) in [
            (None, "/nowhere/else"),
            (Some("sqlite:////gone/app.db"), "/gone"),
        ] {
            let Err(crate::Error::Connect(error)) = open(&config, cli_url, Access::Read) else {
                panic!("opened a database in a directory that does not exist");
            };
            assert_eq!(error.kind(), "connect");
            assert_eq!(error.class(), ErrorClass::Runtime);
            assert_eq!(
                error.to_string(),
                format!(
                    "connecting to sqlite:///{directory}/app.db: cannot create SQLite database `{directory}/app.db`: directory `{directory}` does not exist"
                )
            );
            assert!(error.hint().unwrap().starts_with("create the directory"));
        }
    }
}
