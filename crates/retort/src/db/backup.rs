//! The backup port: a whole database written to a file and read back,
//! each dialect with its own tool (SQLite's online backup API, `pg_dump`
//! and `pg_restore`, `mariadb-dump` and `mariadb`). The caller creates the
//! file (with the permissions it wants) and hands it over open; the port
//! never writes anywhere else.

use std::fs::File;
use std::path::Path;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use std::path::PathBuf;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use std::process::{Command, Stdio};

use super::DbError;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use super::DbErrorKind;
use crate::config::DatabaseUrl;

/// Backs one database up and restores it.
pub trait Backup {
    /// The file name extension of its backups (`sqlite`, `dump`, `sql`).
    fn extension(&self) -> &'static str;
    /// Writes a consistent copy of the database into `out`, taken while
    /// other connections go on writing.
    fn dump(&self, out: File, path: &Path) -> Result<(), DbError>;
    /// Checks that `file` is a backup this port restores, and returns
    /// the rows of its version table `version_table` (in `schema`, if
    /// named); nothing is changed.
    fn inspect(
        &self,
        file: &Path,
        version_table: &str,
        schema: Option<&str>,
    ) -> Result<Vec<String>, DbError>;
    /// Replaces the database's contents with `file`'s. The caller has
    /// emptied the database where the port needs it (see
    /// [`Backup::needs_empty_database`]).
    fn restore(&self, file: &Path) -> Result<(), DbError>;
    /// Whether the caller must drop every object before [`Backup::restore`]
    /// (a dump recreates what it holds; objects made after it would stay).
    fn needs_empty_database(&self) -> bool;
}

/// The backup port of the database `url` names.
pub fn backup(url: &DatabaseUrl) -> Result<Box<dyn Backup>, DbError> {
    match url.dialect() {
        #[cfg(feature = "sqlite")]
        crate::Dialect::Sqlite => Ok(Box::new(super::sqlite::backup::SqliteBackup::new(url)?)),
        #[cfg(feature = "postgres")]
        crate::Dialect::Postgres => Ok(Box::new(super::postgres::backup::PgBackup::new(url)?)),
        #[cfg(feature = "mysql")]
        crate::Dialect::Mysql => Ok(Box::new(super::mysql::backup::MysqlBackup::new(url)?)),
        #[allow(
            unreachable_patterns,
            reason = "reachable when a driver's feature is off"
        )]
        other => Err(super::no_driver(other)),
    }
}

/// Creates `path` for writing, readable and writable by its owner only
/// (mode 0600), never over an existing file.
pub(crate) fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// The first of `programs` on `PATH`, or the error that names them and
/// the Debian package that provides them.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn find_program(programs: &[&str], package: &str) -> Result<PathBuf, DbError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for program in programs {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(program);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(DbError::new(
        DbErrorKind::MissingTool,
        format!(
            "`{}` is not on PATH: it makes and reads this database's backups (Debian package `{package}`)",
            programs.join("` or `")
        ),
    ))
}

/// Runs `command`, its standard input from `input` (or none), its
/// standard output to `out` (or returned), and fails with its standard
/// error when it exits non-zero.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn run_tool(
    mut command: Command,
    input: Option<File>,
    out: Option<File>,
    what: &str,
) -> Result<Vec<u8>, DbError> {
    let capture = out.is_none();
    command
        .stdin(input.map_or_else(Stdio::null, Stdio::from))
        .stdout(match out {
            Some(file) => Stdio::from(file),
            None => Stdio::piped(),
        })
        .stderr(Stdio::piped());
    let output = command
        .output()
        .map_err(|e| DbError::new(DbErrorKind::MissingTool, format!("cannot run {what}: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(DbError::new(
            DbErrorKind::Statement,
            format!(
                "{what} failed ({}): {}",
                output.status,
                crate::config::url_redact_in_text(stderr.trim())
            ),
        ));
    }
    Ok(if capture { output.stdout } else { Vec::new() })
}
