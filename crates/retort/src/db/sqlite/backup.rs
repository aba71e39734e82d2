//! SQLite backups through the online backup API: a consistent copy of the
//! database taken page by page while other connections keep writing (the
//! copy restarts if one writes meanwhile), and a restore that replaces the
//! database the same way, under its write lock.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::Backup as Copy;
use rusqlite::{Connection, OpenFlags};

use crate::config::{DatabaseUrl, SqliteLocation};
use crate::db::backup::Backup;
use crate::db::{DbError, DbErrorKind};

/// How long a backup or restore waits for other connections' locks.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The pause before trying again when another connection holds a lock.
const RETRY_PAUSE: Duration = Duration::from_millis(20);

/// Copies every page of `from` into `to` in one step, under one read lock
/// of `from`: the copy is the database at one moment, whatever other
/// connections write meanwhile (they wait for the lock, or the step waits
/// for theirs and runs again).
fn copy(from: &Connection, to: &mut Connection) -> rusqlite::Result<()> {
    Copy::new(from, to)?.run_to_completion(i32::MAX, RETRY_PAUSE, None)
}

pub(crate) struct SqliteBackup {
    path: PathBuf,
}

impl SqliteBackup {
    pub(crate) fn new(url: &DatabaseUrl) -> Result<SqliteBackup, DbError> {
        match url.sqlite_location() {
            Some(SqliteLocation::File(path)) => Ok(SqliteBackup { path: path.clone() }),
            _ => Err(DbError::new(
                DbErrorKind::Connect,
                "an in-memory SQLite database has nothing to back up or restore: it lives as long as its connection",
            )),
        }
    }
}

fn failed(what: &str, path: &Path) -> impl Fn(rusqlite::Error) -> DbError {
    let context = format!("{what} `{}`", path.display());
    move |e| DbError::new(DbErrorKind::Statement, format!("{context}: {e}"))
}

fn open(path: &Path, flags: OpenFlags) -> Result<Connection, DbError> {
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(failed("cannot open", path))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(failed("cannot open", path))?;
    Ok(conn)
}

impl Backup for SqliteBackup {
    fn extension(&self) -> &'static str {
        "sqlite"
    }

    fn dump(&self, out: File, path: &Path) -> Result<(), DbError> {
        // SQLite writes the copy through its own handle of the file the
        // caller created (and chose the permissions of).
        drop(out);
        if !self.path.exists() {
            return Err(DbError::new(
                DbErrorKind::Connect,
                format!(
                    "`{}` does not exist: there is nothing to back up",
                    self.path.display()
                ),
            ));
        }
        let source = open(&self.path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let mut copy_to = open(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        copy(&source, &mut copy_to).map_err(failed("cannot back up", &self.path))
    }

    fn inspect(
        &self,
        file: &Path,
        version_table: &str,
        _schema: Option<&str>,
    ) -> Result<Vec<String>, DbError> {
        let conn = open(file, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |row| row.get(0))
            .map_err(failed("not a SQLite database:", file))?;
        if check != "ok" {
            return Err(DbError::new(
                DbErrorKind::Statement,
                format!("`{}` is damaged: {check}", file.display()),
            ));
        }
        let exists: bool = conn
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [version_table],
                |row| row.get(0),
            )
            .map_err(failed("cannot read", file))?;
        if !exists {
            return Ok(Vec::new());
        }
        let mut statement = conn
            .prepare(&format!(
                "SELECT version_num FROM \"{}\" ORDER BY version_num",
                version_table.replace('"', "\"\"")
            ))
            .map_err(failed("cannot read", file))?;
        let rows = statement
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(failed("cannot read", file))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(failed("cannot read", file))
    }

    fn restore(&self, file: &Path) -> Result<(), DbError> {
        let source = open(file, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let mut target = open(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        )?;
        copy(&source, &mut target).map_err(failed("cannot restore into", &self.path))
    }

    fn needs_empty_database(&self) -> bool {
        // The copy replaces every page.
        false
    }
}
