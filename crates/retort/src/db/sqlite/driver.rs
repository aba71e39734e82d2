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
//! A missing file is created only by the first write: a command that
//! only reads, or one refused before it changes anything (an unknown
//! target, a bad revision file), reads an empty in-memory database in its
//! place and leaves no file behind. Until the file exists, runners take
//! turns on a lock of its directory; the first to write creates the file
//! under a temporary name, locks it and renames it into place, so no
//! runner can find the file without its lock taken.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, types::ValueRef};

use crate::Dialect;
use crate::config::{DatabaseUrl, SqliteLocation, SqliteMode};
use crate::db::shared::{Nesting, poll_lock};
use crate::db::{Access, DbError, DbErrorKind, Driver, ServerFacts, Value};

/// Migrations run without foreign-key enforcement, as SQLite's own
/// default has it (and so Alembic's and Flyway's connections): rebuilding
/// a table drops the old one, which with enforcement on would fire its
/// children's `ON DELETE` actions. The bundled SQLite turns it on.
const WITHOUT_FOREIGN_KEYS: &str = "PRAGMA foreign_keys = OFF";

pub(crate) struct Sqlite {
    // Declared before `lock_file` so the connection closes first: closing a
    // descriptor of the database file would drop SQLite's POSIX locks if the
    // connection still held any.
    conn: Connection,
    /// The database file, opened for the run lock (none in memory).
    lock_file: Option<File>,
    /// A file that does not exist yet, created by the first write; until
    /// then `conn` is an empty in-memory database.
    pending: Option<Pending>,
    /// How long statements wait for other connections' transactions (set
    /// again on the file's connection once it is created).
    busy_timeout: Option<Duration>,
    describe: String,
    /// The version table the connection was opened for (a state table).
    pub(super) version_table: String,
    nesting: Nesting,
    locked: bool,
    /// The library linked in: SQLite has no server.
    server: ServerFacts,
}

/// How long opening a database waits for another connection's lock
/// before giving up (the run lock's own timeout applies once it is taken).
const OPEN_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A database file to create on the first write.
struct Pending {
    path: PathBuf,
    flags: OpenFlags,
    /// Its directory, locked while the file does not exist.
    dir_lock: Option<File>,
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
    pub(crate) fn open(
        url: &DatabaseUrl,
        version_table: &str,
        access: Access,
    ) -> Result<Sqlite, DbError> {
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
        let in_memory = || {
            let conn = Connection::open_in_memory().map_err(|e| error(&e))?;
            batch(&conn, WITHOUT_FOREIGN_KEYS)?;
            Ok::<_, DbError>(conn)
        };
        let (conn, lock_file, pending, describe) = match url.sqlite_location() {
            Some(SqliteLocation::File(path))
                if mode == SqliteMode::ReadWriteCreate && !path.exists() =>
            {
                // A reader sees what the file would hold once created (no
                // state tables); a writer creates it with its first write.
                let (pending, describe) = match access {
                    Access::Read => (None, format!("`{}` (no such file yet)", path.display())),
                    Access::Write => (
                        Some(Pending {
                            path: path.clone(),
                            flags,
                            dir_lock: None,
                        }),
                        format!("`{}`", path.display()),
                    ),
                };
                (in_memory()?, None, pending, describe)
            }
            Some(SqliteLocation::File(path)) => {
                let (conn, lock_file) = open_file(path, flags, mode)?;
                let describe = match mode {
                    SqliteMode::ReadOnly => format!("`{}` (read only: `mode=ro`)", path.display()),
                    _ => format!("`{}`", path.display()),
                };
                (conn, Some(lock_file), None, describe)
            }
            _ => (
                in_memory()?,
                None,
                None,
                "an in-memory SQLite database".to_owned(),
            ),
        };
        Ok(Sqlite {
            conn,
            lock_file,
            pending,
            busy_timeout: None,
            describe,
            version_table: version_table.to_owned(),
            nesting: Nesting::default(),
            locked: false,
            server: ServerFacts::plain(Dialect::Sqlite, "SQLite", rusqlite::version()),
        })
    }

    /// Creates the pending file, if any, and switches to it: under a
    /// temporary name first, locked before it is renamed into place when
    /// this runner holds the run lock, so that a runner opening the path
    /// finds it locked.
    fn materialize(&mut self) -> Result<(), DbError> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        let path = &pending.path;
        let fail = |e: &dyn std::fmt::Display| {
            DbError::new(
                open_failure_kind(path),
                format!("cannot create SQLite database `{}`: {e}", path.display()),
            )
        };
        let lock_file = if self.locked {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let temporary = path.with_file_name(format!(".{name}.retort-{}", std::process::id()));
            let file = File::options()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&temporary)
                .map_err(|e| fail(&e))?;
            file.lock().map_err(|e| fail(&e))?;
            // A link, not a rename: a file some other program created
            // meanwhile is not replaced (the link fails instead).
            let placed = match std::fs::hard_link(&temporary, path) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                    // A file system without hard links.
                    std::fs::rename(&temporary, path)
                }
                linked => linked.and_then(|()| std::fs::remove_file(&temporary)),
            };
            if let Err(e) = placed {
                let _ = std::fs::remove_file(&temporary);
                return Err(fail(&e));
            }
            Some(file)
        } else {
            None
        };
        let (conn, opened) = open_file(path, pending.flags, SqliteMode::ReadWriteCreate)?;
        self.conn = conn;
        self.lock_file = Some(lock_file.unwrap_or(opened));
        if let Some(timeout) = self.busy_timeout {
            self.conn.busy_timeout(timeout).map_err(|e| error(&e))?;
        }
        // The file's own lock now keeps other runners out.
        drop(pending.dir_lock);
        Ok(())
    }

    /// While the file does not exist: waits for the lock of its
    /// directory, then opens the file if another runner created it
    /// meanwhile.
    fn lock_pending(
        &mut self,
        timeout: Duration,
        on_wait: &mut dyn FnMut(&str),
    ) -> Result<bool, DbError> {
        let Some(pending) = &mut self.pending else {
            return Ok(false);
        };
        let parent = pending
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let dir = File::open(parent).map_err(|e| {
            DbError::new(
                DbErrorKind::Connect,
                format!(
                    "cannot open directory `{}` to lock it: {e}",
                    parent.display()
                ),
            )
        })?;
        let describe = &self.describe;
        poll_lock(
            timeout,
            describe,
            || try_lock(&dir, describe),
            || on_wait(&format!("another retort run is creating {describe}")),
        )?;
        if !pending.path.exists() {
            pending.dir_lock = Some(dir);
            self.locked = true;
            return Ok(true);
        }
        // Created while this run waited: lock it as any existing file.
        let pending = self.pending.take().unwrap_or_else(|| unreachable!());
        let (conn, lock_file) = open_file(&pending.path, pending.flags, SqliteMode::ReadWrite)?;
        self.conn = conn;
        self.lock_file = Some(lock_file);
        Ok(false)
    }
}

/// Opens an existing (or, with `mode`'s leave, a new) database file and a
/// second handle of it for the run lock.
fn open_file(
    path: &Path,
    flags: OpenFlags,
    mode: SqliteMode,
) -> Result<(Connection, File), DbError> {
    let cannot_open = |e: rusqlite::Error| {
        let missing = mode != SqliteMode::ReadWriteCreate && !path.exists();
        if error(&e).kind == DbErrorKind::LockTimeout {
            return DbError::new(
                DbErrorKind::LockTimeout,
                format!(
                    "cannot open SQLite database `{}`: another connection has held a lock on it for more than {}s (a transaction left open, in a `sqlite3` shell say)",
                    path.display(),
                    OPEN_BUSY_TIMEOUT.as_secs()
                ),
            );
        }
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
    conn.busy_timeout(OPEN_BUSY_TIMEOUT).map_err(cannot_open)?;
    // SQLite creates the file lazily; make it exist to lock it.
    // Reading the schema table also makes SQLite parse the whole
    // schema now, which callers can overlap with other work.
    conn.execute_batch(&format!(
        "{WITHOUT_FOREIGN_KEYS}; SELECT 1 FROM sqlite_master LIMIT 1"
    ))
    .map_err(cannot_open)?;
    let lock_file = File::open(path).map_err(|e| {
        DbError::new(
            DbErrorKind::Connect,
            format!("cannot open `{}` to lock it: {e}", path.display()),
        )
    })?;
    Ok((conn, lock_file))
}

/// One attempt at an exclusive lock of `file`.
fn try_lock(file: &File, describe: &str) -> Result<bool, DbError> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(std::fs::TryLockError::WouldBlock) => Ok(false),
        Err(std::fs::TryLockError::Error(e)) => Err(DbError::new(
            DbErrorKind::Connect,
            format!("cannot lock {describe}: {e}"),
        )),
    }
}

fn batch(conn: &Connection, sql: &str) -> Result<(), DbError> {
    conn.execute_batch(sql).map_err(|e| error(&e))
}

/// A file that cannot be opened in a directory that exists is most often a
/// permission problem, which deserves its own hint.
pub(super) fn open_failure_kind(path: &Path) -> DbErrorKind {
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

pub(super) fn check_parent(path: &Path) -> Result<(), DbError> {
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
        self.busy_timeout = Some(timeout);
        self.conn.busy_timeout(timeout).map_err(|e| error(&e))?;
        if self.lock_pending(timeout, on_wait)? {
            return Ok(());
        }
        self.conn.busy_timeout(timeout).map_err(|e| error(&e))?;
        let Some(file) = &self.lock_file else {
            self.locked = true;
            return Ok(());
        };
        let describe = &self.describe;
        poll_lock(
            timeout,
            describe,
            || try_lock(file, describe),
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
        if let Some(pending) = &mut self.pending {
            // Nothing was written: the file was never created.
            pending.dir_lock = None;
            return Ok(());
        }
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
        self.materialize()?;
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
        self.materialize()?;
        batch(&self.conn, sql)
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        self.materialize()?;
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
                crate::db::quote_ident(Dialect::Sqlite, schema)
            ),
            None => "sqlite_master".to_owned(),
        };
        let rows = self.query(
            &format!("SELECT 1 FROM {master} WHERE type = 'table' AND name = ?1"),
            &[Value::Text(table.to_owned())],
        )?;
        Ok(!rows.is_empty())
    }

    fn database_size(&mut self) -> Result<Option<u64>, DbError> {
        crate::db::shared::size_of(self.query_text(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
        )?)
    }

    fn server(&self) -> &ServerFacts {
        &self.server
    }

    fn set_server(&mut self, facts: ServerFacts) {
        self.server = facts;
    }
}

fn to_sql(value: &Value) -> rusqlite::types::Value {
    match value {
        Value::Null => rusqlite::types::Value::Null,
        Value::Int(i) => rusqlite::types::Value::Integer(*i),
        Value::Text(t) => rusqlite::types::Value::Text(t.clone()),
    }
}
