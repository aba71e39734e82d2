//! SQLite's admin ports, where a database is a file: creating and removing
//! the files beside the URL's, and what one database holds.

use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::driver::{Sqlite, check_parent, open_failure_kind};
use crate::config::{DatabaseUrl, SqliteLocation};
use crate::db::shared::{Catalog, Found, check_database_name, drop_statements, run_atomically};
use crate::db::{Admin, DbError, DbErrorKind};

impl Catalog for Sqlite {
    /// The main database's tables and views. `pragma_table_list` tells the
    /// shadow tables of a virtual (full-text) table, which go with it, from
    /// tables of their own.
    const QUERY: &'static str = r#"SELECT CASE type WHEN 'view' THEN 'view' ELSE 'table' END, name, '"' || replace(name, '"', '""') || '"' FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'view', 'virtual') AND name NOT LIKE 'sqlite\_%' ESCAPE '\'"#;

    fn version_table(&self) -> &str {
        &self.version_table
    }

    fn drop_found(&mut self, found: &[Found]) -> Result<(), DbError> {
        // `PRAGMA foreign_keys` cannot change inside a transaction; deferred
        // checks pass at the commit, when no table is left to break them.
        let mut statements = vec!["PRAGMA defer_foreign_keys = ON".to_owned()];
        statements.extend(drop_statements(found, ""));
        run_atomically(self, &statements)
    }
}

/// The database files of one directory (none, in memory).
#[derive(Debug)]
pub(crate) struct SqliteAdmin {
    url: DatabaseUrl,
}

impl SqliteAdmin {
    pub(crate) fn new(url: &DatabaseUrl) -> SqliteAdmin {
        SqliteAdmin { url: url.clone() }
    }

    /// The file of database `name`; `None` in memory.
    fn file(&self, name: &str) -> Result<Option<PathBuf>, DbError> {
        check_database_name(name, |name| {
            if name.contains(['/', '\\']) || name == "." || name == ".." {
                Some(
                    "a SQLite database is a file in the URL's directory: give a file name, without `/`",
                )
            } else if name.len() > 255 {
                Some("file names are at most 255 bytes long")
            } else {
                None
            }
        })?;
        Ok(match self.url.with_database(name).sqlite_location() {
            Some(SqliteLocation::File(path)) => Some(path.clone()),
            _ => None,
        })
    }
}

impl Admin for SqliteAdmin {
    fn create_database(&mut self, name: &str) -> Result<(), DbError> {
        let Some(path) = self.file(name)? else {
            return Ok(());
        };
        check_parent(&path)?;
        // An empty file is an empty SQLite database.
        File::create_new(&path).map(drop).map_err(|e| {
            let kind = match e.kind() {
                ErrorKind::AlreadyExists => DbErrorKind::AlreadyExists,
                _ => open_failure_kind(&path),
            };
            DbError::new(
                kind,
                format!("cannot create SQLite database `{}`: {e}", path.display()),
            )
        })
    }

    fn drop_database(&mut self, name: &str) -> Result<(), DbError> {
        let Some(path) = self.file(name)? else {
            return Ok(());
        };
        // The journals first: one left behind would be played back into a
        // new database of the same name.
        for suffix in ["-journal", "-wal", "-shm", ""] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            let file = Path::new(&file);
            match std::fs::remove_file(file) {
                Err(e) if e.kind() != ErrorKind::NotFound => {
                    let kind = match e.kind() {
                        ErrorKind::PermissionDenied => DbErrorKind::ReadOnly,
                        _ => DbErrorKind::Statement,
                    };
                    return Err(DbError::new(
                        kind,
                        format!("cannot remove `{}`: {e}", file.display()),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn database_exists(&mut self, name: &str) -> Result<bool, DbError> {
        Ok(self.file(name)?.is_some_and(|path| path.is_file()))
    }

    fn url_of(&self, name: &str) -> DatabaseUrl {
        self.url.with_database(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Access, connect_for};

    fn url(text: &str) -> DatabaseUrl {
        DatabaseUrl::parse(text).unwrap()
    }

    /// The admin of the files beside `file`.
    fn admin_beside(file: &Path) -> SqliteAdmin {
        SqliteAdmin::new(&url(&format!("sqlite:///{}", file.display())))
    }

    #[test]
    fn dropping_removes_the_journals_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut admin = admin_beside(&dir.path().join("app.db"));
        admin.create_database("scratch.db").unwrap();
        let scratch = admin.url_of("scratch.db");
        let mut conn = connect_for(&scratch, "retort_version", Access::Write).unwrap();
        conn.run("PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER)")
            .unwrap();
        std::fs::write(dir.path().join("scratch.db-journal"), "").unwrap();
        let files = || {
            let mut names: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        assert_eq!(
            files(),
            [
                "scratch.db",
                "scratch.db-journal",
                "scratch.db-shm",
                "scratch.db-wal"
            ]
        );
        admin.drop_database("scratch.db").unwrap();
        drop(conn);
        assert_eq!(files(), Vec::<String>::new());
    }

    #[test]
    fn in_memory_there_is_nothing_to_create_or_drop() {
        let memory = url("sqlite::memory:");
        let mut admin = SqliteAdmin::new(&memory);
        admin.create_database("x").unwrap();
        assert!(!admin.database_exists("x").unwrap());
        assert_eq!(admin.url_of("x"), memory);
        admin.drop_database("x").unwrap();
    }

    #[test]
    fn a_file_not_created_yet_stays_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("later.db");
        let later = url(&format!("sqlite:///{}", path.display()));
        let mut conn = connect_for(&later, "retort_version", Access::Write).unwrap();
        assert_eq!(conn.list_objects().unwrap(), []);
        conn.drop_all_objects().unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn a_missing_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut admin = admin_beside(&dir.path().join("gone/app.db"));
        let error = admin.create_database("x.db").unwrap_err();
        assert!(error.message.contains("does not exist"), "{error}");
    }
}
