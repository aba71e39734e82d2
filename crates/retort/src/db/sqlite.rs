//! SQLite through rusqlite (bundled, so every build has the same SQLite).
//!
//! The run lock is an exclusive `flock` on the database file, held by a
//! second handle for the whole run: a second runner waits for it, then reads
//! the version table and finds the work done. It is independent of SQLite's
//! own (`fcntl`) locks, so each migration still commits in its own
//! `BEGIN IMMEDIATE` transaction and `-- retort:transaction off` statements
//! run without giving the lock up. The operating system releases it when a
//! process dies. An in-memory database needs no lock.
//!
//! A command that only reads never creates a missing file: it reads an
//! empty in-memory database in its place.

use std::fs::File;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, types::ValueRef};

use super::shared::{Nesting, poll_lock};
use super::{Access, DbError, DbErrorKind, Driver, Value};
use crate::Dialect;
use crate::config::{DatabaseUrl, SqliteLocation, SqliteMode};

pub(super) struct Sqlite {
    // Declared before `lock_file` so the connection closes first: closing a
    // descriptor of the database file would drop SQLite's POSIX locks if the
    // connection still held any.
    conn: Connection,
    /// The database file, opened for the run lock (none in memory).
    lock_file: Option<File>,
    describe: String,
    nesting: Nesting,
    locked: bool,
}

fn error(e: &rusqlite::Error) -> DbError {
    let kind = match e.sqlite_error_code() {
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied) => DbErrorKind::ReadOnly,
        Some(ErrorCode::CannotOpen) => DbErrorKind::Connect,
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => DbErrorKind::LockTimeout,
        _ if e.to_string().contains("already exists") => DbErrorKind::AlreadyExists,
        _ => DbErrorKind::Statement,
    };
    let message = match e {
        // Its display appends the whole statement ("… in CREATE TABLE …
        // at offset 13"), lines and all; the statement is reported on
        // its own, shortened.
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string(),
    };
    DbError::new(kind, message)
}

impl Sqlite {
    pub(super) fn open(url: &DatabaseUrl, access: Access) -> Result<Sqlite, DbError> {
        let mode = url.sqlite_mode();
        let flags = OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI
            | match mode {
                SqliteMode::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
                SqliteMode::ReadWrite => OpenFlags::SQLITE_OPEN_READ_WRITE,
                SqliteMode::ReadWriteCreate => {
                    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
                }
            };
        if let Some(SqliteLocation::File(path)) = url.sqlite_location() {
            check_parent(path)?;
        }
        let (conn, lock_file, describe) = match url.sqlite_location() {
            Some(SqliteLocation::File(path))
                if access == Access::Read
                    && mode == SqliteMode::ReadWriteCreate
                    && !path.exists() =>
            {
                // A reader sees what the file would hold once created (no
                // state tables) without creating it.
                let conn = Connection::open_in_memory().map_err(|e| error(&e))?;
                (
                    conn,
                    None,
                    format!("`{}` (no such file yet)", path.display()),
                )
            }
            Some(SqliteLocation::File(path)) => {
                let cannot_open = |e: rusqlite::Error| {
                    let missing = mode != SqliteMode::ReadWriteCreate && !path.exists();
                    let why = if missing {
                        "no such file (`mode=ro` and `mode=rw` do not create it)".to_owned()
                    } else {
                        e.to_string()
                    };
                    DbError::new(
                        open_failure_kind(path),
                        format!("cannot open SQLite database `{}`: {why}", path.display()),
                    )
                };
                let conn = Connection::open_with_flags(path, flags).map_err(cannot_open)?;
                // SQLite creates the file lazily; make it exist to lock it.
                // Reading the schema table also makes SQLite parse the whole
                // schema now, which callers can overlap with other work.
                conn.execute_batch("SELECT 1 FROM sqlite_master LIMIT 1")
                    .map_err(cannot_open)?;
                let lock_file = File::open(path).map_err(|e| {
                    DbError::new(
                        DbErrorKind::Connect,
                        format!("cannot open `{}` to lock it: {e}", path.display()),
                    )
                })?;
                let describe = match mode {
                    SqliteMode::ReadOnly => format!("`{}` (read only: `mode=ro`)", path.display()),
                    _ => format!("`{}`", path.display()),
                };
                (conn, Some(lock_file), describe)
            }
            _ => {
                let conn = Connection::open_in_memory().map_err(|e| error(&e))?;
                (conn, None, "an in-memory SQLite database".to_owned())
            }
        };
        Ok(Sqlite {
            conn,
            lock_file,
            describe,
            nesting: Nesting::default(),
            locked: false,
        })
    }
}

fn batch(conn: &Connection, sql: &str) -> Result<(), DbError> {
    conn.execute_batch(sql).map_err(|e| error(&e))
}

/// A file that cannot be opened in a directory that exists is most often a
/// permission problem, which deserves its own hint.
fn open_failure_kind(path: &Path) -> DbErrorKind {
    let readonly = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.permissions().readonly());
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if readonly(path) || (!path.exists() && readonly(parent)) {
        DbErrorKind::ReadOnly
    } else {
        DbErrorKind::Connect
    }
}

fn check_parent(path: &Path) -> Result<(), DbError> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent
        && !parent.is_dir()
    {
        return Err(DbError::new(
            DbErrorKind::Connect,
            format!(
                "cannot create SQLite database `{}`: directory `{}` does not exist",
                path.display(),
                parent.display()
            ),
        ));
    }
    Ok(())
}

impl Driver for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn lock(&mut self, timeout: Duration, on_wait: &mut dyn FnMut(&str)) -> Result<(), DbError> {
        // Statements wait this long for other connections' transactions.
        self.conn.busy_timeout(timeout).map_err(|e| error(&e))?;
        let Some(file) = &self.lock_file else {
            self.locked = true;
            return Ok(());
        };
        let describe = &self.describe;
        poll_lock(
            timeout,
            describe,
            || match file.try_lock() {
                Ok(()) => Ok(true),
                Err(std::fs::TryLockError::WouldBlock) => Ok(false),
                Err(std::fs::TryLockError::Error(e)) => Err(DbError::new(
                    DbErrorKind::Connect,
                    format!("cannot lock {describe}: {e}"),
                )),
            },
            || on_wait(&format!("another retort run is migrating {describe}")),
        )?;
        self.locked = true;
        Ok(())
    }

    fn unlock(&mut self) -> Result<(), DbError> {
        if !self.locked {
            return Ok(());
        }
        self.locked = false;
        match &self.lock_file {
            Some(file) => file.unlock().map_err(|e| {
                DbError::new(
                    DbErrorKind::Connect,
                    format!("cannot unlock {}: {e}", self.describe),
                )
            }),
            None => Ok(()),
        }
    }

    fn begin(&mut self) -> Result<(), DbError> {
        // IMMEDIATE takes SQLite's write lock up front, so a migration
        // never fails half way on a lock upgrade.
        let conn = &self.conn;
        self.nesting
            .begin("BEGIN IMMEDIATE", |sql| batch(conn, sql))
    }

    fn commit(&mut self) -> Result<(), DbError> {
        let conn = &self.conn;
        self.nesting.commit(|sql| batch(conn, sql))
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        let conn = &self.conn;
        self.nesting.rollback(|sql| {
            if conn.is_autocommit() {
                // SQLite already rolled the transaction back (e.g. on SQLITE_FULL).
                return Ok(());
            }
            batch(conn, sql)
        })
    }

    fn run(&mut self, sql: &str) -> Result<(), DbError> {
        batch(&self.conn, sql)
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        let mut statement = self.conn.prepare(sql).map_err(|e| error(&e))?;
        let changed = statement
            .execute(rusqlite::params_from_iter(params.iter().map(to_sql)))
            .map_err(|e| error(&e))?;
        Ok(u64::try_from(changed).unwrap_or(u64::MAX))
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, DbError> {
        let mut statement = self.conn.prepare(sql).map_err(|e| error(&e))?;
        let columns = statement.column_count();
        let mut rows = statement
            .query(rusqlite::params_from_iter(params.iter().map(to_sql)))
            .map_err(|e| error(&e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| error(&e))? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(match row.get_ref(i).map_err(|e| error(&e))? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::Int(n),
                    ValueRef::Real(r) => Value::Text(r.to_string()),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Value::Text(String::from_utf8_lossy(t).into_owned())
                    }
                });
            }
            out.push(values);
        }
        Ok(out)
    }

    fn table_exists(&mut self, schema: Option<&str>, table: &str) -> Result<bool, DbError> {
        let master = match schema {
            Some(schema) => format!(
                "{}.sqlite_master",
                super::quote_ident(Dialect::Sqlite, schema)
            ),
            None => "sqlite_master".to_owned(),
        };
        let rows = self.query(
            &format!("SELECT 1 FROM {master} WHERE type = 'table' AND name = ?1"),
            &[Value::Text(table.to_owned())],
        )?;
        Ok(!rows.is_empty())
    }
}

fn to_sql(value: &Value) -> rusqlite::types::Value {
    match value {
        Value::Null => rusqlite::types::Value::Null,
        Value::Int(i) => rusqlite::types::Value::Integer(*i),
        Value::Text(t) => rusqlite::types::Value::Text(t.clone()),
    }
}
